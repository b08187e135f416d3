"""Third-party lookups (client-server API "Third-party networks",
third_party_lookup.yaml). Protocols come from application services (bridges); until
they are supported, this server knows no protocol, no portal room and no remote user:
the protocol list is empty, a named protocol is not found, and reverse lookups find
nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, require_auth, require_query_str
from ranvier.api.routing import route
from ranvier.errors import MatrixError

if TYPE_CHECKING:
    from ranvier.server import HomeServer


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "GET", "/thirdparty/protocols", protocols),
        *route(hs, "GET", "/thirdparty/protocol/{protocol}", by_protocol),
        *route(hs, "GET", "/thirdparty/location/{protocol}", by_protocol),
        *route(hs, "GET", "/thirdparty/user/{protocol}", by_protocol),
        *route(hs, "GET", "/thirdparty/location", location_by_alias),
        *route(hs, "GET", "/thirdparty/user", user_by_id),
    ]


async def protocols(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /thirdparty/protocols"""
    await require_auth(request)
    return json_response({})


async def by_protocol(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /thirdparty/protocol/{protocol}, /thirdparty/location/{protocol},
    /thirdparty/user/{protocol}"""
    await require_auth(request)
    protocol = request.match_info["protocol"]
    raise MatrixError(404, "M_NOT_FOUND", f"Unknown third-party protocol {protocol!r}")


async def location_by_alias(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /thirdparty/location?alias="""
    await require_auth(request)
    require_query_str(request, "alias")
    return json_response([])


async def user_by_id(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /thirdparty/user?userid="""
    await require_auth(request)
    require_query_str(request, "userid")
    return json_response([])
