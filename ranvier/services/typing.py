"""Typing notifications: who is typing in each room, in memory, with expiry, and the
"typing" stream /sync reads (spec: "Typing Notifications").

Typing is ephemeral, so nothing is stored. Each change to a room's list of typists
(a start, a stop, an expiry) takes the next position of the stream; /sync sends the
whole current list of each room that changed since its token, as clients replace
their list with each `m.typing` they receive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from ranvier.clock import Clock
from ranvier.errors import MatrixError
from ranvier.notifier import Notifier
from ranvier.services.room_checks import require_joined
from ranvier.storage.rooms import RoomStore

TYPING_STREAM = "typing"
DEFAULT_TIMEOUT_MS = 30_000
#: Longer requests are cut to this, so a client that dies mid-sentence does not show
#: as typing for ever.
MAX_TIMEOUT_MS = 120_000


class TypingService:
    def __init__(self, rooms: RoomStore, notifier: Notifier, clock: Clock) -> None:
        self._rooms = rooms
        self._notifier = notifier
        self._clock = clock
        # Positions are not stored, so they restart with the process: starting at the
        # start-up time (ms) puts them past any token handed out before a restart
        # (that would take more than 1,000 typing changes a second, sustained).
        self._position = clock.time_ms()
        notifier.set_position(TYPING_STREAM, self._position)
        #: room ID -> user ID -> when their typing expires (ms)
        self._typing: dict[str, dict[str, int]] = {}
        #: room ID -> the position of the last change to its list
        self._changed_at: dict[str, int] = {}
        self._timer: asyncio.TimerHandle | None = None

    @property
    def position(self) -> int:
        return self._position

    async def set_typing(
        self, user_id: str, room_id: str, typing: bool, timeout_ms: int | None
    ) -> None:
        """PUT /rooms/{roomId}/typing/{userId}"""
        if timeout_ms is not None and timeout_ms < 0:
            raise MatrixError(400, "M_INVALID_PARAM", "'timeout' must not be negative")
        await require_joined(self._rooms, user_id, room_id)
        if typing:
            typists = self._typing.setdefault(room_id, {})
            timeout = min(DEFAULT_TIMEOUT_MS if timeout_ms is None else timeout_ms,
                          MAX_TIMEOUT_MS)
            was_typing = user_id in typists
            typists[user_id] = self._clock.time_ms() + timeout
            self._schedule_expiry()
            if was_typing:
                return  # a renewal: the list others see is unchanged
        elif self._typing.get(room_id, {}).pop(user_id, None) is None:
            return
        self._changed((room_id,))

    def for_sync(self, room_ids: Iterable[str], from_pos: int | None) -> dict[str, Any]:
        """Room ID -> the `m.typing` event of each room in `room_ids` whose list changed
        after `from_pos`; with `from_pos` None, of each room where someone types. A
        position from the future (a token from before a clock change) counts as None."""
        self.expire()
        initial = from_pos is None or from_pos > self._position
        events: dict[str, Any] = {}
        for room_id in room_ids:
            typists = self._typing.get(room_id, {})
            changed = self._changed_at.get(room_id, 0) > (from_pos or 0)
            if (typists if initial else changed):
                events[room_id] = {
                    "type": "m.typing",
                    "content": {"user_ids": sorted(typists)},
                }
        return events

    def expire(self) -> None:
        """Drop the typing users whose timeout has passed, and notify their rooms."""
        now = self._clock.time_ms()
        changed = []
        for room_id, typists in self._typing.items():
            expired = [u for u, until in typists.items() if until <= now]
            for user_id in expired:
                del typists[user_id]
            if expired:
                changed.append(room_id)
        if changed:
            self._changed(changed)
        self._schedule_expiry()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _changed(self, room_ids: Iterable[str]) -> None:
        self._position += 1
        rooms = list(room_ids)
        for room_id in rooms:
            self._changed_at[room_id] = self._position
            if not self._typing.get(room_id):
                self._typing.pop(room_id, None)
        self._notifier.notify(TYPING_STREAM, self._position, rooms=rooms)

    def _schedule_expiry(self) -> None:
        """Wake at the earliest expiry, so waiting /syncs learn of it in time."""
        self.close()
        earliest = min((t for typists in self._typing.values() for t in typists.values()),
                       default=None)
        if earliest is not None:
            delay = max(0.0, (earliest - self._clock.time_ms()) / 1000)
            self._timer = asyncio.get_running_loop().call_later(delay, self.expire)
