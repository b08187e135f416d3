"""OpenID: POST /user/{userId}/openid/request_token (client-server API "OpenID",
openid.yaml)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, read_json_body, require_auth
from ranvier.api.routing import route

if TYPE_CHECKING:
    from ranvier.server import HomeServer


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return route(hs, "POST", "/user/{user_id}/openid/request_token", request_token)


async def request_token(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /user/{userId}/openid/request_token"""
    requester = await require_auth(request)
    await read_json_body(request)  # an empty object, reserved for future use
    return json_response(
        await hs.openid.request_token(requester.user_id, request.match_info["user_id"])
    )
