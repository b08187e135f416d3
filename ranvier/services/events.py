"""Creating local events: build on the room's head, pick auth events, sign, authorize,
persist (through the room's queue, so the head is always the latest one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from signedjson.types import SigningKey
from unpaddedbase64 import encode_base64

from ranvier.clock import Clock
from ranvier.errors import MatrixError
from ranvier.protocol.auth_rules import auth_types_for_event, check_auth_rules
from ranvier.protocol.canonical_json import encode_canonical_json
from ranvier.protocol.errors import AuthError, InvalidEvent, InvalidJson
from ranvier.protocol.event_builder import build_event
from ranvier.protocol.event_validation import MAX_PDU_BYTES
from ranvier.protocol.events import Event, StateKey
from ranvier.protocol.hashing import compute_reference_hash
from ranvier.protocol.power_levels import CREATE_KEY
from ranvier.protocol.room_versions import EventFormat, RoomVersion, get_room_version
from ranvier.services.event_persister import Builder, BuiltEvent, EventPersister, RoomHead
from ranvier.storage.events import EventsStore, StoredEvent
from ranvier.storage.lru import LruCache
from ranvier.storage.rooms import RoomStore
from ranvier.storage.state import StateStore
from ranvier.storage.txn_ids import TxnKey

#: An extra rule a caller applies to the event before it is persisted (beyond the
#: auth rules), given the room state it is built on; raises MatrixError.
ExtraCheck = Callable[[Event, Mapping[StateKey, Event]], None]


@dataclass(frozen=True)
class NewEvent:
    """What a local user asks to send."""

    type: str
    sender: str
    content: Mapping[str, Any]
    state_key: str | None = None
    redacts: str | None = None
    txn: TxnKey | None = None
    check: ExtraCheck | None = None
    #: the sender reads the room up to it by sending it (PUT send, state and redact:
    #: an implicit private read receipt, push.md "Marking notifications as read")
    read_by_sender: bool = False


# Rooms whose version stays known without a read (a version is a few bytes).
ROOM_VERSION_CACHE_ROOMS = 10_000


class EventCreator:
    def __init__(
        self,
        events: EventsStore,
        rooms: RoomStore,
        state: StateStore,
        persister: EventPersister,
        server_name: str,
        signing_key: SigningKey,
        clock: Clock,
    ) -> None:
        self._clock = clock
        self._state = state
        self._last_create_ts = 0
        self._events = events
        self._rooms = rooms
        self._persister = persister
        self._server_name = server_name
        self._signing_key = signing_key
        # Sends with the same transaction ID that are still in flight: a retry waits for
        # the first instead of racing it.
        self._txns_in_flight: dict[TxnKey, asyncio.Future[StoredEvent]] = {}
        # A room's version never changes (an upgrade makes a new room), so every send
        # after the first skips the rooms-table read.
        self._versions: LruCache[str, RoomVersion] = LruCache(ROOM_VERSION_CACHE_ROOMS)

    async def room_version(self, room_id: str) -> RoomVersion:
        version = self._versions.get(room_id)
        if version is not None:
            return version
        room = await self._rooms.get_room(room_id)
        version = get_room_version(room.room_version) if room else None
        if version is None:
            raise MatrixError(404, "M_NOT_FOUND", f"unknown room {room_id}")
        self._versions.set(room_id, version)
        return version

    async def send(self, room_id: str, new: NewEvent) -> StoredEvent:
        """Create and persist one event; with a transaction ID, a repeat returns the
        event the first request created."""
        if new.txn is None:
            return (await self.send_many(room_id, [new]))[0]
        in_flight = self._txns_in_flight.get(new.txn)
        if in_flight is not None:
            return await asyncio.shield(in_flight)
        # Registered before the first await, so a concurrent retry finds it.
        future: asyncio.Future[StoredEvent] = asyncio.get_running_loop().create_future()
        self._txns_in_flight[new.txn] = future
        try:
            stored = await self._send_once(room_id, new, new.txn)
        except BaseException as e:
            future.set_exception(e)
            future.exception()  # retrieved: a retry may never come to read it
            raise
        else:
            future.set_result(stored)
        finally:
            del self._txns_in_flight[new.txn]
        return stored

    async def send_state(self, room_id: str, new: NewEvent) -> StoredEvent:
        """Send a state event, unless the same sender already set the same content under
        the same key: then the current event is the answer and no event is made (clients
        rely on repeating a PUT or a join being free; Synapse behaves so)."""
        assert new.state_key is not None
        current_id = await self._state.get_current_state_event_id(
            room_id, new.type, new.state_key
        )
        current = await self._events.get_event(current_id) if current_id else None
        if (
            current is not None
            and current.redacted_by is None
            and current.event.sender == new.sender
            and current.event.content == new.content
        ):
            return current
        return await self.send(room_id, new)

    async def _send_once(self, room_id: str, new: NewEvent, txn: TxnKey) -> StoredEvent:
        existing = await self._events.get_txn_event_id(txn)
        if existing is not None:
            stored = await self._events.get_event(existing)
            assert stored is not None
            return stored
        return (await self.send_many(room_id, [new]))[0]

    async def send_many(
        self, room_id: str, events: list[NewEvent], prebuilt: Event | None = None
    ) -> list[StoredEvent]:
        """Create and persist events in order, all or none; `prebuilt` (a create event
        built by `build_create`) goes first."""
        version = prebuilt.room_version if prebuilt else await self.room_version(room_id)
        builders = [self._builder(version, room_id, new) for new in events]
        if prebuilt is not None:
            builders.insert(0, _given(prebuilt))
        return await self._persister.persist_local(version, room_id, builders)

    def build_create(
        self, version: RoomVersion, room_id: str | None, sender: str, content: Mapping[str, Any]
    ) -> Event:
        """The m.room.create event of a new room (no prev or auth events). `room_id` is
        None in v12, where the event's ID names the room."""
        fields: dict[str, Any] = {
            "type": "m.room.create",
            "state_key": "",
            "sender": sender,
            "content": dict(content),
            "prev_events": [],
            "auth_events": [],
            "depth": 1,
            "origin_server_ts": self._create_ts(),
        }
        if room_id is not None:
            fields["room_id"] = room_id
        event = self._build(version, fields, {})
        try:
            check_auth_rules(event, {})
        except AuthError as e:
            # Only the request's creation_content can make a create event invalid.
            raise MatrixError(400, "M_BAD_JSON", f"creation_content: {e}") from e
        return event

    def _create_ts(self) -> int:
        """A timestamp no earlier create event of ours had: in v12 the create event's
        hash is the room ID, so two identical createRooms by one user in one
        millisecond would otherwise be the same event."""
        self._last_create_ts = max(self._clock.time_ms(), self._last_create_ts + 1)
        return self._last_create_ts

    def _builder(self, version: RoomVersion, room_id: str, new: NewEvent) -> Builder:
        async def build(head: RoomHead) -> BuiltEvent:
            wanted = auth_types_for_event(
                version, new.type, new.state_key, new.sender, new.content
            )
            state_ids = {key: head.state[key] for key in wanted if key in head.state}
            create_id = head.state.get(CREATE_KEY)
            wanted_ids = [*state_ids.values(), *head.prev_event_ids]
            if create_id is not None:
                wanted_ids.append(create_id)
            loaded = dict(head.pending)
            stored = await self._events.get_events(i for i in wanted_ids if i not in loaded)
            loaded.update({eid: s.event for eid, s in stored.items()})
            fields: dict[str, Any] = {
                "type": new.type,
                "room_id": room_id,
                "sender": new.sender,
                "content": dict(new.content),
                "prev_events": head.prev_event_ids,
                "auth_events": sorted(state_ids.values()),
                "depth": head.depth,
                "origin_server_ts": self._clock.time_ms(),
            }
            if new.state_key is not None:
                fields["state_key"] = new.state_key
            if new.redacts is not None:
                fields["redacts"] = new.redacts
            event = self._build(version, fields, loaded)
            auth_events = {key: loaded[eid] for key, eid in state_ids.items()}
            if create_id is not None:
                # v12 names no create event among auth_events, but the rules read it.
                auth_events[CREATE_KEY] = loaded[create_id]
            try:
                check_auth_rules(event, auth_events)
            except AuthError as e:
                raise MatrixError(403, "M_FORBIDDEN", str(e)) from e
            if new.check is not None:
                new.check(event, auth_events)
            return BuiltEvent(event, new.txn, new.read_by_sender)

        return build

    def _build(
        self, version: RoomVersion, fields: Mapping[str, Any], refs: Mapping[str, Event]
    ) -> Event:
        reference_hashes = None
        if version.event_format is EventFormat.V1:
            reference_hashes = {
                eid: encode_base64(compute_reference_hash(e.pdu, version))
                for eid, e in refs.items()
            }
        try:
            return build_event(
                version,
                fields,
                server_name=self._server_name,
                signing_key=self._signing_key,
                reference_hashes=reference_hashes,
            )
        except (InvalidEvent, InvalidJson) as e:
            if len(encode_canonical_json(dict(fields))) > MAX_PDU_BYTES:
                raise MatrixError(413, "M_TOO_LARGE", f"the event is too large: {e}") from e
            raise MatrixError(400, "M_BAD_JSON", f"the event is not valid: {e}") from e


def _given(event: Event) -> Builder:
    async def build(head: RoomHead) -> BuiltEvent:
        return BuiltEvent(event)

    return build
