"""A mautrix-python user for the interop tests: a `mautrix.client.Client` whose syncs go
through mautrix's own `Syncer.handle_sync`, so every event the server sends is parsed
into mautrix's typed classes and dispatched to a handler that records it."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

from mautrix.api import Method, Path
from mautrix.client import Client
from mautrix.client.syncer import SyncStream
from mautrix.types import (
    Event,
    EventID,
    EventType,
    Membership,
    RoomID,
    StateEvent,
    UserID,
)

from tests.interop.interop_user import InteropUser


class _ParseFailures(logging.Handler):
    """Collects the warnings mautrix logs when an event does not fit its typed class (it
    then falls back to a GenericEvent, as it also does, silently, for unknown types)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Failed to deserialize"):
            self.messages.append(message)


class MautrixUser(InteropUser):
    def __init__(self, base_url: str, localpart: str) -> None:
        log = logging.getLogger(f"interop.mautrix.{localpart}")
        self._parse_failures = _ParseFailures()
        log.addHandler(self._parse_failures)
        # No retries: a failing request must fail the step that made it.
        self.client = Client(base_url=base_url, default_retry_count=0, log=log)
        self.localpart = localpart
        #: room_id -> typed timeline events (joined and left rooms), in sync order.
        self.timeline: dict[RoomID, list[Event]] = defaultdict(list)
        #: room_id -> (type, state_key) -> the latest typed state event, from the state
        #: and timeline sections alike.
        self.state: dict[RoomID, dict[tuple[str, str], StateEvent]] = defaultdict(dict)
        #: room_id -> typed ephemeral events (typing, receipts), in sync order.
        self.ephemeral: dict[RoomID, list[Event]] = defaultdict(list)
        #: room_id -> the invite member event mautrix built from the invite section.
        self.invites: dict[RoomID, StateEvent] = {}
        #: room_id -> the last membership section ("join", "invite", "leave") it was in.
        self.section: dict[RoomID, str] = {}
        self.next_batch: str | None = None
        self.client.add_event_handler(EventType.ALL, self._record, wait_sync=True)

    @property
    def user_id(self) -> UserID:
        return self.client.mxid

    async def register(self, password: str) -> None:
        """Register without logging in (mautrix's client API has no typed register), then
        log in with mautrix's `login`, which stores the token and device."""
        await self.client.api.request(Method.POST, Path.v3.register, {
            "username": self.localpart, "password": password, "inhibit_login": True,
            "auth": {"type": "m.login.dummy"},
        })
        login = await self.client.login(identifier=self.localpart, password=password,
                                        device_name="mautrix interop")
        assert login.access_token and login.device_id, f"login gave no token: {login}"
        await self.sync_once(timeout_ms=0)  # initial sync: later ones are incremental

    async def _record(self, event: Event) -> None:
        source: SyncStream = event.source  # type: ignore[attr-defined]
        room_id = getattr(event, "room_id", None)
        if source & SyncStream.INVITED_ROOM:
            self.invites[room_id] = event  # type: ignore[assignment]
            return
        if isinstance(event, StateEvent):
            self.state[room_id][(event.type.t, event.state_key)] = event
        if source & SyncStream.TIMELINE:
            self.timeline[room_id].append(event)
        elif source & SyncStream.EPHEMERAL and room_id:
            self.ephemeral[room_id].append(event)

    async def sync_once(self, timeout_ms: int = 500) -> dict[str, Any]:
        data = await self.client.sync(since=self.next_batch, timeout=timeout_ms)
        for section in ("invite", "join", "leave"):
            for room_id in data.get("rooms", {}).get(section, {}):
                self.section[room_id] = section
        await asyncio.gather(*self.client.handle_sync(data))
        failures = self._parse_failures.messages
        assert not failures, f"mautrix could not parse what /sync sent: {failures}"
        self.next_batch = data["next_batch"]
        return data

    def find(self, room_id: RoomID, event_id: EventID) -> Event | None:
        return next((e for e in self.timeline[room_id] if e.event_id == event_id), None)

    def of_type(self, room_id: RoomID, event_type: str) -> list[Event]:
        # By name: mautrix gives each event type a class (state, message, ...) too.
        return [e for e in self.timeline[room_id] if e.type.t == event_type]

    def membership(self, room_id: RoomID, user_id: UserID) -> Membership | None:
        """The membership in the latest member event of `user_id` seen in the timeline."""
        for event in reversed(self.of_type(room_id, "m.room.member")):
            if event.state_key == user_id:
                return event.content.membership
        return None

    async def close(self) -> None:
        await self.client.api.session.close()
