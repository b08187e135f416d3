"""/sync and filters (client-server API "Syncing", "Filtering": sync.yaml, filter.yaml)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import (
    json_response,
    query_bool,
    query_int,
    query_str,
    read_json_body,
    require_auth,
)
from ranvier.api.routing import route
from ranvier.errors import MatrixError
from ranvier.services.sync import SyncRequest
from ranvier.services.tokens import SyncToken

if TYPE_CHECKING:
    from ranvier.server import HomeServer

#: a long-poll never holds a request longer than this, whatever the client asks
MAX_TIMEOUT_MS = 5 * 60 * 1000
_PRESENCE_STATES = ("online", "offline", "unavailable")


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "GET", "/sync", sync),
        *route(hs, "POST", "/user/{user_id}/filter", upload_filter),
        *route(hs, "GET", "/user/{user_id}/filter/{filter_id}", get_filter),
    ]


async def sync(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /sync"""
    requester = await require_auth(request, allow_guest=True)
    since = query_str(request, "since")
    set_presence = query_str(request, "set_presence", "online")
    if set_presence not in _PRESENCE_STATES:
        raise MatrixError(
            400, "M_INVALID_PARAM", "set_presence must be online, offline or unavailable"
        )
    timeout = query_int(request, "timeout", 0, minimum=0, maximum=2**53 - 1)
    req = SyncRequest(
        user_id=requester.user_id,
        device_id=requester.device_id,
        filter=await hs.filters.sync_filter(requester.user_id, query_str(request, "filter")),
        since=SyncToken.parse(since) if since else None,
        full_state=query_bool(request, "full_state"),
        timeout_ms=min(timeout or 0, MAX_TIMEOUT_MS),
        use_state_after=query_bool(request, "use_state_after"),
        set_presence=set_presence or "online",
    )
    return json_response(await hs.sync.sync(req))


async def upload_filter(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /user/{userId}/filter"""
    requester = await require_auth(request)
    body = await read_json_body(request)
    filter_id = await hs.filters.upload(requester.user_id, request.match_info["user_id"], body)
    return json_response({"filter_id": filter_id})


async def get_filter(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /user/{userId}/filter/{filterId}"""
    requester = await require_auth(request)
    m = request.match_info
    return json_response(await hs.filters.get(requester.user_id, m["user_id"], m["filter_id"]))
