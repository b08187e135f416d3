"""Room creation, sending events, state, redaction, upgrades, reading single events.

Spec: client-server API "Creation", "Sending events to a room", "Getting events for a
room", "Redactions", "Room upgrades" (create_room.yaml, room_send.yaml,
room_state.yaml, rooms.yaml, redaction.yaml, room_upgrades.yaml).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, read_json_body, require_auth
from ranvier.api.models import parse_body
from ranvier.api.routing import route
from ranvier.errors import MatrixError
from ranvier.services.auth import Requester
from ranvier.services.events import NewEvent
from ranvier.services.rooms import CreateRoomRequest
from ranvier.storage.events import StoredEvent
from ranvier.storage.txn_ids import TxnKey

if TYPE_CHECKING:
    from ranvier.server import HomeServer


def routes(hs: HomeServer) -> list[web.RouteDef]:
    state_path = "/rooms/{room_id}/state/{event_type}"
    return [
        *route(hs, "POST", "/createRoom", create_room),
        *route(hs, "PUT", "/rooms/{room_id}/send/{event_type}/{txn_id}", send_event),
        # Sending without a transaction ID (so without retry safety) left the spec with
        # r0; Synapse still serves it under v3 too, and SyTest sends there.
        *route(hs, "POST", "/rooms/{room_id}/send/{event_type}", send_event),
        *route(hs, "PUT", state_path, put_state),
        *route(hs, "PUT", state_path + "/", put_state),
        *route(hs, "PUT", state_path + "/{state_key:.+}", put_state),
        *route(hs, "GET", "/rooms/{room_id}/state", get_state),
        *route(hs, "GET", state_path, get_state_event),
        *route(hs, "GET", state_path + "/", get_state_event),
        *route(hs, "GET", state_path + "/{state_key:.+}", get_state_event),
        *route(hs, "PUT", "/rooms/{room_id}/redact/{event_id}/{txn_id}", redact),
        *route(hs, "GET", "/rooms/{room_id}/event/{event_id}", get_event),
        *route(hs, "POST", "/rooms/{room_id}/upgrade", upgrade),
    ]


async def create_room(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /createRoom"""
    requester = await require_auth(request)
    req = parse_body(CreateRoomRequest, await read_json_body(request))
    room_id = await hs.rooms.create_room(requester.user_id, req)
    return json_response({"room_id": room_id})


async def send_event(hs: HomeServer, request: web.Request) -> web.Response:
    """PUT /rooms/{roomId}/send/{eventType}/{txnId}, and POST without {txnId} (r0)"""
    requester = await require_auth(request, allow_guest=True)
    content = await read_json_body(request)
    await _ratelimit_send(hs, requester)
    m = request.match_info
    await hs.relations.check_new_relation(m["room_id"], content)
    stored = await hs.event_creator.send(
        m["room_id"],
        NewEvent(
            m["event_type"], requester.user_id, content,
            txn=_txn(requester, m["txn_id"]) if "txn_id" in m else None,
            read_by_sender=True,
        ),
    )
    await hs.presence.bump_active(requester.user_id)  # sending is activity
    return json_response({"event_id": stored.event.event_id})


async def put_state(hs: HomeServer, request: web.Request) -> web.Response:
    """PUT /rooms/{roomId}/state/{eventType}/{stateKey} (state key may be empty)"""
    requester = await require_auth(request, allow_guest=True)
    content = await read_json_body(request)
    await _ratelimit_send(hs, requester)
    m = request.match_info
    if m["event_type"] == "m.room.canonical_alias":
        await hs.directory.check_canonical_alias(m["room_id"], content)
    stored = await hs.event_creator.send_state(
        m["room_id"],
        NewEvent(
            m["event_type"], requester.user_id, content, state_key=m.get("state_key", ""),
            read_by_sender=True,
        ),
    )
    await hs.presence.bump_active(requester.user_id)  # sending is activity
    return json_response({"event_id": stored.event.event_id})


async def get_state(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /rooms/{roomId}/state"""
    requester = await require_auth(request, allow_guest=True)
    state = await hs.rooms.visible_state(requester.user_id, request.match_info["room_id"])
    events = await hs.stores.events.get_events(state.values())
    return json_response(
        await hs.client_events.serialize(
            [events[e] for e in sorted(state.values()) if e in events],
            user_id=requester.user_id,
            device_id=requester.device_id,
        )
    )


async def get_state_event(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /rooms/{roomId}/state/{eventType}/{stateKey}[?format=content|event]"""
    requester = await require_auth(request, allow_guest=True)
    m = request.match_info
    fmt = request.query.get("format", "content")
    if fmt not in ("content", "event"):
        raise MatrixError(400, "M_INVALID_PARAM", "format must be 'content' or 'event'")
    state = await hs.rooms.visible_state(requester.user_id, m["room_id"])
    key = (m["event_type"], m.get("state_key", ""))
    stored = await hs.stores.events.get_event(state[key]) if key in state else None
    if stored is None:
        raise MatrixError(404, "M_NOT_FOUND", f"no {key[0]} state with key {key[1]!r}")
    if fmt == "event":
        return json_response(await _one(hs, stored, requester))
    return json_response(dict(stored.served_event().content))


async def redact(hs: HomeServer, request: web.Request) -> web.Response:
    """PUT /rooms/{roomId}/redact/{eventId}/{txnId}"""
    requester = await require_auth(request)
    body = await read_json_body(request)
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise MatrixError(400, "M_BAD_JSON", "reason must be a string")
    await _ratelimit_send(hs, requester)
    m = request.match_info
    stored = await hs.redactor.redact(
        m["room_id"], requester.user_id, m["event_id"], reason, _txn(requester, m["txn_id"])
    )
    await hs.presence.bump_active(requester.user_id)  # sending is activity
    return json_response({"event_id": stored.event.event_id})


async def get_event(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /rooms/{roomId}/event/{eventId}"""
    requester = await require_auth(request, allow_guest=True)
    m = request.match_info
    stored = await hs.rooms.get_visible_event(requester.user_id, m["room_id"], m["event_id"])
    return json_response(await _one(hs, stored, requester))


async def upgrade(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /rooms/{roomId}/upgrade"""
    requester = await require_auth(request)
    body = await read_json_body(request)
    new_version = body.get("new_version")
    if not isinstance(new_version, str):
        raise MatrixError(400, "M_BAD_JSON", "new_version must be a string")
    new_room_id = await hs.room_upgrader.upgrade(
        requester.user_id, request.match_info["room_id"], new_version
    )
    return json_response({"replacement_room": new_room_id})


async def _ratelimit_send(hs: HomeServer, requester: Requester) -> None:
    """`rc_message`, per sender (M_LIMIT_EXCEEDED with retry_after_ms). Application
    services and server admins are exempt, as in Synapse; admin status is looked up only
    once the limit is reached, so a send within it costs no query."""
    if requester.app_service_id is not None:
        return
    try:
        hs.ratelimiter.check("message", requester.user_id, hs.config.rc_message)
    except MatrixError:
        if not await hs.accounts.is_admin(requester.user_id):
            raise


async def _one(hs: HomeServer, stored: StoredEvent, requester: Requester) -> dict:
    (client_event,) = await hs.client_events.serialize(
        [stored], user_id=requester.user_id, device_id=requester.device_id
    )
    return client_event


def _txn(requester: Requester, txn_id: str) -> TxnKey:
    # Transaction IDs are scoped to the device (spec v1.7+); tokens without a device
    # (appservices) share the empty device.
    return TxnKey(requester.user_id, requester.device_id or "", txn_id)
