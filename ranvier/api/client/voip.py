"""TURN credentials: GET /voip/turnServer (client-server API "Voice over IP",
voip.yaml)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, require_auth
from ranvier.api.routing import route

if TYPE_CHECKING:
    from ranvier.server import HomeServer


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return route(hs, "GET", "/voip/turnServer", turn_server)


async def turn_server(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /voip/turnServer"""
    requester = await require_auth(request, allow_guest=True)
    return json_response(hs.voip.turn_server(requester.user_id, requester.is_guest))
