"""Relations and threads: GET /rooms/{roomId}/relations/{eventId}[/{relType}
[/{eventType}]] and GET /rooms/{roomId}/threads.

Spec: client-server API "Relationships API" and "Threading" (relations.yaml,
threads_list.yaml). Both live under /v1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, query_bool, query_int, query_str, require_auth
from ranvier.api.routing import CLIENT_V1, route
from ranvier.errors import MatrixError
from ranvier.services.auth import Requester
from ranvier.storage.events import StoredEvent

if TYPE_CHECKING:
    from ranvier.server import HomeServer


def routes(hs: HomeServer) -> list[web.RouteDef]:
    base = "/rooms/{room_id}/relations/{event_id}"
    return [
        *route(hs, "GET", base, get_relations, CLIENT_V1),
        *route(hs, "GET", base + "/{rel_type}", get_relations, CLIENT_V1),
        *route(hs, "GET", base + "/{rel_type}/{event_type}", get_relations, CLIENT_V1),
        *route(hs, "GET", "/rooms/{room_id}/threads", get_threads, CLIENT_V1),
    ]


async def get_relations(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]]"""
    requester = await require_auth(request, allow_guest=True)
    m = request.match_info
    direction = query_str(request, "dir", "b")
    if direction not in ("b", "f"):
        raise MatrixError(400, "M_INVALID_PARAM", "dir must be 'b' or 'f'")
    recurse = "recurse" in request.query
    page, depth = await hs.relations.get_relations(
        requester.user_id, m["room_id"], m["event_id"], m.get("rel_type"), m.get("event_type"),
        from_token=query_str(request, "from"),
        to_token=query_str(request, "to"),
        limit=query_int(request, "limit", minimum=0),
        forwards=direction == "f",
        recurse=query_bool(request, "recurse"),
    )
    body = await _page(hs, requester, page.chunk, page.next_batch, page.prev_batch)
    if recurse:
        body["recursion_depth"] = depth
    return json_response(body)


async def get_threads(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /rooms/{roomId}/threads[?include=all|participated&from=&limit=]"""
    requester = await require_auth(request, allow_guest=True)
    include = query_str(request, "include", "all")
    if include not in ("all", "participated"):
        raise MatrixError(400, "M_INVALID_PARAM", "include must be 'all' or 'participated'")
    page = await hs.relations.get_threads(
        requester.user_id, request.match_info["room_id"],
        participated_only=include == "participated",
        from_token=query_str(request, "from"),
        limit=query_int(request, "limit", minimum=1),
    )
    return json_response(await _page(hs, requester, page.chunk, page.next_batch, None))


async def _page(
    hs: HomeServer,
    requester: Requester,
    events: list[StoredEvent],
    next_batch: str | None,
    prev_batch: str | None,
) -> dict:
    body: dict = {
        "chunk": await hs.client_events.serialize(
            events, user_id=requester.user_id, device_id=requester.device_id
        )
    }
    if next_batch is not None:
        body["next_batch"] = next_batch
    if prev_batch is not None:
        body["prev_batch"] = prev_batch
    return body
