"""Stream positions and wake-ups for the requests waiting on them (DESIGN principle 4).

Each stream ("events", later receipts, typing, ...) has a current position. A writer
calls `notify` after its commit, naming the rooms and users the change concerns; a
long-polling request calls `wait_for` with the positions it has seen and wakes as soon as
one of its rooms or its user has something newer, or when its timeout ends.

This is the in-process implementation; a Redis one can implement the same methods so
several processes share the streams.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping

EVENTS_STREAM = "events"


class _Waiter:
    __slots__ = ("room_ids", "user_id", "woken")

    def __init__(self, user_id: str, room_ids: frozenset[str]) -> None:
        self.user_id = user_id
        self.room_ids = room_ids
        self.woken = asyncio.Event()


class Notifier:
    def __init__(self) -> None:
        self._positions: dict[str, int] = {}
        # The last position at which each room / user saw a change, per stream: lets a
        # waiter that arrives late return at once instead of missing the change.
        self._room_changes: dict[str, dict[str, int]] = {}
        self._user_changes: dict[str, dict[str, int]] = {}
        self._by_room: dict[str, set[_Waiter]] = {}
        self._by_user: dict[str, set[_Waiter]] = {}

    def set_position(self, stream: str, position: int) -> None:
        """Where a stream stands at start-up (from the database)."""
        self._positions[stream] = max(position, self._positions.get(stream, 0))

    def current_positions(self) -> dict[str, int]:
        return dict(self._positions)

    def on_new_event(self, position: int, room_id: str, user_ids: Iterable[str] = ()) -> None:
        """Events up to `position` are committed; the newest concern `room_id` (and the
        users whose membership they changed, who may not be in the room yet)."""
        self.notify(EVENTS_STREAM, position, rooms=(room_id,), users=user_ids)

    def notify(
        self, stream: str, position: int, *, rooms: Iterable[str] = (), users: Iterable[str] = ()
    ) -> None:
        self.set_position(stream, position)
        room_changes = self._room_changes.setdefault(stream, {})
        user_changes = self._user_changes.setdefault(stream, {})
        for room_id in rooms:
            room_changes[room_id] = position
            for waiter in self._by_room.get(room_id, ()):
                waiter.woken.set()
        for user_id in users:
            user_changes[user_id] = position
            for waiter in self._by_user.get(user_id, ()):
                waiter.woken.set()

    def _changed_since(
        self, user_id: str, room_ids: Iterable[str], since: Mapping[str, int]
    ) -> bool:
        for stream, changes in self._user_changes.items():
            if changes.get(user_id, 0) > since.get(stream, 0):
                return True
        for stream, changes in self._room_changes.items():
            seen = since.get(stream, 0)
            if any(changes.get(room_id, 0) > seen for room_id in room_ids):
                return True
        return False

    async def wait_for(
        self,
        user_id: str,
        room_ids: Iterable[str],
        since: Mapping[str, int],
        timeout: float,
    ) -> dict[str, int]:
        """Wait until the user or one of `room_ids` has a change past `since` (stream ->
        position), or `timeout` seconds pass; returns the current positions."""
        rooms = frozenset(room_ids)
        if self._changed_since(user_id, rooms, since) or timeout <= 0:
            return self.current_positions()
        waiter = _Waiter(user_id, rooms)
        self._by_user.setdefault(user_id, set()).add(waiter)
        for room_id in rooms:
            self._by_room.setdefault(room_id, set()).add(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.woken.wait(), timeout)
        finally:
            self._discard(self._by_user, user_id, waiter)
            for room_id in rooms:
                self._discard(self._by_room, room_id, waiter)
        return self.current_positions()

    @staticmethod
    def _discard(index: dict[str, set[_Waiter]], key: str, waiter: _Waiter) -> None:
        waiters = index.get(key)
        if waiters is not None:
            waiters.discard(waiter)
            if not waiters:
                del index[key]
