"""Typing notifications. Spec: client-server API "Typing Notifications" (typing.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, read_json_body, require_auth, require_self
from ranvier.api.models import parse_body
from ranvier.api.routing import route

if TYPE_CHECKING:
    from ranvier.server import HomeServer


@dataclass(frozen=True)
class SetTypingBody:
    typing: bool
    #: milliseconds; the server's default when absent
    timeout: int | None = None


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [*route(hs, "PUT", "/rooms/{roomId}/typing/{userId}", set_typing)]


async def set_typing(hs: HomeServer, request: web.Request) -> web.Response:
    """PUT /rooms/{roomId}/typing/{userId}"""
    requester = await require_auth(request)
    user_id = request.match_info["userId"]
    require_self(requester, user_id)
    body = parse_body(SetTypingBody, await read_json_body(request))
    await hs.typing.set_typing(user_id, request.match_info["roomId"], body.typing, body.timeout)
    return json_response({})
