"""Read receipts and read markers.

Spec: client-server API "Receipts" (receipts.yaml) and "Read and unread markers"
(read_markers.yaml). Both count as activity for presence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, read_json_body, read_optional_json_body, require_auth
from ranvier.api.models import parse_body
from ranvier.api.routing import route

if TYPE_CHECKING:
    from ranvier.server import HomeServer


@dataclass(frozen=True)
class ReceiptBody:
    thread_id: str | None = None


@dataclass(frozen=True)
class ReadMarkersBody:
    fully_read: str | None = field(default=None, metadata={"json": "m.fully_read"})
    read: str | None = field(default=None, metadata={"json": "m.read"})
    read_private: str | None = field(default=None, metadata={"json": "m.read.private"})


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "POST", "/rooms/{roomId}/receipt/{receiptType}/{eventId}", send_receipt),
        *route(hs, "POST", "/rooms/{roomId}/read_markers", set_read_markers),
    ]


async def send_receipt(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /rooms/{roomId}/receipt/{receiptType}/{eventId}"""
    requester = await require_auth(request)
    # The spec requires a body, but older clients send none: it is only extras.
    body = parse_body(ReceiptBody, await read_optional_json_body(request))
    await hs.receipts.send_receipt(
        requester.user_id, request.match_info["roomId"], request.match_info["receiptType"],
        request.match_info["eventId"], body.thread_id,
    )
    await hs.presence.bump_active(requester.user_id)
    return json_response({})


async def set_read_markers(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /rooms/{roomId}/read_markers"""
    requester = await require_auth(request)
    body = parse_body(ReadMarkersBody, await read_json_body(request))
    markers = {
        kind: event_id
        for kind, event_id in (
            ("m.fully_read", body.fully_read),
            ("m.read", body.read),
            ("m.read.private", body.read_private),
        )
        if event_id is not None
    }
    await hs.receipts.set_read_markers(requester.user_id, request.match_info["roomId"], markers)
    await hs.presence.bump_active(requester.user_id)
    return json_response({})
