"""Pushers: GET /pushers and POST /pushers/set (client-server API "Push notifications",
pusher.yaml)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, read_json_body, require_auth
from ranvier.api.models import parse_body
from ranvier.api.routing import route
from ranvier.services.pushers import SetPusherRequest

if TYPE_CHECKING:
    from ranvier.server import HomeServer


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "GET", "/pushers", get_pushers),
        *route(hs, "POST", "/pushers/set", set_pusher),
    ]


async def get_pushers(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /pushers"""
    requester = await require_auth(request)
    return json_response({"pushers": await hs.pushers.get_pushers(requester.user_id)})


async def set_pusher(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /pushers/set"""
    requester = await require_auth(request)
    # `kind` is required but may be null (delete): the model has no default for it.
    req = parse_body(SetPusherRequest, await read_json_body(request))
    await hs.pushers.set_pusher(requester.user_id, requester.device_id, req)
    return json_response({})
