"""GET /_matrix/federation/v1/openid/userinfo (server-server API "OpenID"): a third
party exchanges a user's OpenID token for their user ID. Unauthenticated: the token is
the credential."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, require_query_str
from ranvier.api.routing import FEDERATION_V1, route

if TYPE_CHECKING:
    from ranvier.server import HomeServer

def routes(hs: HomeServer) -> list[web.RouteDef]:
    return route(hs, "GET", "/openid/userinfo", userinfo, FEDERATION_V1)


async def userinfo(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/federation/v1/openid/userinfo?access_token="""
    return json_response(await hs.openid.userinfo(require_query_str(request, "access_token")))
