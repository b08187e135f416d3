"""The client-server API's one administration endpoint: GET /admin/whois/{userId}.

Spec: client-server API "Server Administration" (admin.yaml).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, require_auth
from ranvier.api.routing import route

if TYPE_CHECKING:
    from ranvier.server import HomeServer


async def whois(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/v3/admin/whois/{userId}"""
    requester = await require_auth(request)
    return json_response(await hs.devices.whois(requester.user_id, request.match_info["userId"]))


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [*route(hs, "GET", "/admin/whois/{userId}", whois)]
