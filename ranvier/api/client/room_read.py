"""Reading rooms: /messages, /context, /members, /joined_members (client-server API
"Getting events for a room": message_pagination.yaml, event_context.yaml, rooms.yaml)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, query_int, query_str, require_auth, require_query_str
from ranvier.api.routing import route
from ranvier.errors import MatrixError
from ranvier.services.room_reader import MAX_LIMIT

if TYPE_CHECKING:
    from ranvier.server import HomeServer

_MEMBERSHIPS = ("join", "invite", "knock", "leave", "ban")


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "GET", "/rooms/{room_id}/messages", messages),
        *route(hs, "GET", "/rooms/{room_id}/context/{event_id}", context),
        *route(hs, "GET", "/rooms/{room_id}/members", members),
        *route(hs, "GET", "/rooms/{room_id}/joined_members", joined_members),
    ]


async def messages(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /rooms/{roomId}/messages"""
    requester = await require_auth(request, allow_guest=True)
    direction = require_query_str(request, "dir")
    if direction not in ("b", "f"):
        raise MatrixError(400, "M_INVALID_PARAM", "dir must be 'b' or 'f'")
    limit = query_int(request, "limit", 10, minimum=0, maximum=2**53 - 1) or 0
    return json_response(
        await hs.room_reader.messages(
            requester.user_id,
            requester.device_id,
            request.match_info["room_id"],
            from_token=query_str(request, "from"),
            to_token=query_str(request, "to"),
            backwards=direction == "b",
            limit=min(limit, MAX_LIMIT),
            event_filter=hs.filters.room_event_filter(query_str(request, "filter")),
        )
    )


async def context(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /rooms/{roomId}/context/{eventId}"""
    requester = await require_auth(request, allow_guest=True)
    limit = query_int(request, "limit", 10, minimum=0, maximum=2**53 - 1) or 0
    m = request.match_info
    return json_response(
        await hs.room_reader.context(
            requester.user_id,
            requester.device_id,
            m["room_id"],
            m["event_id"],
            min(limit, MAX_LIMIT),
            hs.filters.room_event_filter(query_str(request, "filter")),
        )
    )


async def members(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /rooms/{roomId}/members"""
    requester = await require_auth(request, allow_guest=True)
    membership = query_str(request, "membership")
    not_membership = query_str(request, "not_membership")
    for name, value in (("membership", membership), ("not_membership", not_membership)):
        if value is not None and value not in _MEMBERSHIPS:
            raise MatrixError(
                400, "M_INVALID_PARAM", f"{name} must be one of {', '.join(_MEMBERSHIPS)}"
            )
    chunk = await hs.room_reader.members(
        requester.user_id,
        requester.device_id,
        request.match_info["room_id"],
        at_token=query_str(request, "at"),
        membership=membership,
        not_membership=not_membership,
    )
    return json_response({"chunk": chunk})


async def joined_members(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /rooms/{roomId}/joined_members"""
    requester = await require_auth(request)
    joined = await hs.room_reader.joined_members(
        requester.user_id, request.match_info["room_id"]
    )
    return json_response({"joined": joined})
