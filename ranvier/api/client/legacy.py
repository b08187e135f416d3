"""The deprecated read APIs from before /sync, still in the spec and still used (by
SyTest's fixtures among others): GET /events, GET /initialSync,
GET /rooms/{roomId}/initialSync, GET /events/{eventId} (old_sync.yaml,
peeking_events.yaml, room_initial_sync.yaml). services/legacy_sync.py does the work."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.client.sync import MAX_TIMEOUT_MS
from ranvier.api.http import json_response, query_bool, query_int, query_str, require_auth
from ranvier.api.routing import route
from ranvier.errors import MatrixError
from ranvier.services.tokens import SyncToken

if TYPE_CHECKING:
    from ranvier.server import HomeServer

_MAX_LIMIT = 1000


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "GET", "/events", events),
        *route(hs, "GET", "/events/{event_id}", get_event),
        *route(hs, "GET", "/initialSync", initial_sync),
        *route(hs, "GET", "/rooms/{room_id}/initialSync", room_initial_sync),
    ]


async def events(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /events[?from=&timeout=&limit=&room_id=]"""
    requester = await require_auth(request, allow_guest=True)
    since = query_str(request, "from")
    timeout = query_int(request, "timeout", 0, minimum=0, maximum=2**53 - 1) or 0
    return json_response(await hs.legacy_sync.events(
        requester.user_id, requester.device_id,
        since=SyncToken.parse(since, "from") if since else None,
        timeout_ms=min(timeout, MAX_TIMEOUT_MS),
        limit=query_int(request, "limit", None, minimum=1, maximum=_MAX_LIMIT),
        room_id=query_str(request, "room_id"),
        is_guest=requester.is_guest,
    ))


async def get_event(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /events/{eventId}"""
    requester = await require_auth(request)
    event_id = request.match_info["event_id"]
    stored = await hs.stores.events.get_event(event_id)
    if stored is None:
        raise MatrixError(404, "M_NOT_FOUND", f"event {event_id} not found")
    visible = await hs.rooms.get_visible_event(
        requester.user_id, stored.event.room_id, event_id
    )
    (client_event,) = await hs.client_events.serialize(
        [visible], user_id=requester.user_id, device_id=requester.device_id
    )
    return json_response(client_event)


async def initial_sync(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /initialSync[?limit=&archived=]"""
    requester = await require_auth(request)
    return json_response(await hs.legacy_sync.initial_sync(
        requester.user_id, requester.device_id,
        limit=query_int(request, "limit", None, minimum=0, maximum=_MAX_LIMIT),
        archived=query_bool(request, "archived"),
    ))


async def room_initial_sync(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /rooms/{roomId}/initialSync[?limit=]"""
    requester = await require_auth(request, allow_guest=True)
    return json_response(await hs.legacy_sync.room_initial_sync(
        requester.user_id, requester.device_id, request.match_info["room_id"],
        limit=query_int(request, "limit", None, minimum=0, maximum=_MAX_LIMIT),
    ))
