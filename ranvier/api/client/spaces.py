"""Spaces and room previews: GET /rooms/{roomId}/hierarchy (space_hierarchy.yaml) and
GET /room_summary/{roomIdOrAlias} (room_summary.yaml, v1.15), also under MSC3266's
unstable paths that clients released before v1.15 call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ranvier.api.http import (
    json_response,
    optional_auth,
    query_bool,
    query_int,
    query_str,
    require_auth,
)
from ranvier.api.routing import CLIENT_V1, NO_PREFIX, route

if TYPE_CHECKING:
    from ranvier.server import HomeServer

#: MSC3266's prefix; its two path shapes both reached Synapse and clients.
_MSC3266 = "/_matrix/client/unstable/im.nheko.summary"


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "GET", "/rooms/{room_id}/hierarchy", hierarchy, CLIENT_V1),
        *route(hs, "GET", "/room_summary/{room}", room_summary, CLIENT_V1),
        *route(hs, "GET", f"{_MSC3266}/summary/{{room}}", room_summary_unstable, NO_PREFIX),
        *route(
            hs, "GET", f"{_MSC3266}/rooms/{{room}}/summary", room_summary_unstable, NO_PREFIX
        ),
    ]


async def hierarchy(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/v1/rooms/{roomId}/hierarchy"""
    requester = await require_auth(request, allow_guest=True)
    return json_response(
        await hs.hierarchy.hierarchy(
            requester.user_id,
            request.match_info["room_id"],
            suggested_only=query_bool(request, "suggested_only"),
            max_depth=query_int(request, "max_depth"),
            limit=query_int(request, "limit"),
            from_token=query_str(request, "from"),
        )
    )


async def room_summary(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/v1/room_summary/{roomIdOrAlias} (authentication optional)"""
    return json_response(await _summary(hs, request))


async def room_summary_unstable(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/unstable/im.nheko.summary/summary/{roomIdOrAlias}: the
    summary with MSC3266's names for the fields v1.15 renamed, too."""
    summary = await _summary(hs, request)
    for field in ("room_version", "encryption"):
        if field in summary:
            summary[f"im.nheko.summary.{field}"] = summary[field]
    return json_response(summary)


async def _summary(hs: HomeServer, request: web.Request) -> dict[str, Any]:
    requester = await optional_auth(request)
    user_id = requester.user_id if requester is not None else None
    return await hs.room_summaries.summary(user_id, request.match_info["room"])
