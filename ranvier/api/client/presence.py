"""Presence. Spec: client-server API "Presence" (presence.yaml)."""

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
class SetPresenceBody:
    presence: str
    status_msg: str | None = None


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "PUT", "/presence/{userId}/status", set_presence),
        *route(hs, "GET", "/presence/{userId}/status", get_presence),
    ]


async def set_presence(hs: HomeServer, request: web.Request) -> web.Response:
    """PUT /presence/{userId}/status"""
    requester = await require_auth(request)
    user_id = request.match_info["userId"]
    require_self(requester, user_id)
    body = parse_body(SetPresenceBody, await read_json_body(request))
    await hs.presence.set_presence(user_id, body.presence, body.status_msg)
    return json_response({})


async def get_presence(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /presence/{userId}/status"""
    requester = await require_auth(request)
    return json_response(
        await hs.presence.get_presence(requester.user_id, request.match_info["userId"])
    )
