"""Presence of our users: set by clients, kept up by /sync and activity, timed out by
the rules in `ranvier.protocol.presence`, and the "presence" stream /sync reads.

The state of every user who is not offline is also held in memory, with the time
until which each counts as connected, so a /sync costs no read. A state is published
(written to the `presence` table, notified) only when it changes, and activity within
a minute of the last published activity changes nothing (`currently_active` covers
it), so a chatty user costs no write per message. Presence is visible to the user and to those
who share a joined room with them. With `presence: {enabled: false}` nothing is
tracked: writes are accepted and ignored, and everyone reads as offline.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any

from ranvier.clock import Clock
from ranvier.errors import MatrixError
from ranvier.notifier import Notifier
from ranvier.protocol import presence as rules
from ranvier.protocol.presence import Presence
from ranvier.services.keyed_lock import KeyedLock
from ranvier.storage.presence import PresenceStore
from ranvier.storage.rooms import RoomStore

logger = logging.getLogger(__name__)

PRESENCE_STREAM = "presence"
#: How often the idle and sync timeouts are checked.
TIMEOUT_CHECK_INTERVAL_S = 5.0
#: Longest accepted status message (characters); Synapse's limit.
MAX_STATUS_MSG_LENGTH = 512


class PresenceService:
    def __init__(
        self,
        store: PresenceStore,
        rooms: RoomStore,
        notifier: Notifier,
        clock: Clock,
        *,
        enabled: bool,
    ) -> None:
        self._store = store
        self._rooms = rooms
        self._notifier = notifier
        self._clock = clock
        self.enabled = enabled
        #: user ID -> live state, for users who are not offline
        self._live: dict[str, Presence] = {}
        #: user ID -> until when they count as connected (ms)
        self._connected_until: dict[str, int] = {}
        self._locks = KeyedLock()
        self._task: asyncio.Task[None] | None = None
        notifier.set_position(PRESENCE_STREAM, store.stream.current)

    @property
    def position(self) -> int:
        return self._store.stream.current

    async def start(self) -> None:
        """Resume the timers of users left online by the last run: they count as
        connected for one grace period, in which their clients will sync again."""
        if not self.enabled:
            return
        until = self._clock.time_ms() + rules.SYNC_GRACE_MS
        for p in await self._store.get_not_offline():
            self._live[p.user_id] = p
            self._connected_until[p.user_id] = until
        self._task = asyncio.create_task(self._run_timeouts())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # --- writes --------------------------------------------------------------------

    async def set_presence(self, user_id: str, state: str, status_msg: str | None) -> None:
        """PUT /presence/{userId}/status"""
        if state not in rules.STATES:
            raise MatrixError(
                400, "M_INVALID_PARAM", f"presence must be one of {', '.join(rules.STATES)}"
            )
        if status_msg is not None and len(status_msg) > MAX_STATUS_MSG_LENGTH:
            raise MatrixError(
                400, "M_INVALID_PARAM",
                f"status_msg is longer than {MAX_STATUS_MSG_LENGTH} characters",
            )
        if not self.enabled:
            return
        now = self._clock.time_ms()
        self._connect(user_id, now)
        await self._change(user_id, lambda p: rules.after_set(p, state, status_msg, now))

    async def set_state_from_sync(
        self, user_id: str, set_presence: str = rules.ONLINE, timeout_ms: int = 0
    ) -> None:
        """/sync's `set_presence` (call at the start of each /sync; `timeout_ms` is its
        long-poll timeout, during which the user counts as connected). "offline"
        means the client does not want to be marked online: nothing changes."""
        if not self.enabled or set_presence == rules.OFFLINE:
            return
        now = self._clock.time_ms()
        self._connect(user_id, now + timeout_ms)
        await self._change(user_id, lambda p: rules.after_sync(p, set_presence, now))

    async def bump_active(self, user_id: str) -> None:
        """The user did something pro-active (sent an event, a receipt): they are
        online and their last active time is now."""
        if not self.enabled:
            return
        now = self._clock.time_ms()
        self._connect(user_id, now)
        live = self._live.get(user_id)
        if live is not None and rules.after_activity(live, now) is live:
            # Active within the window already (every send of a chatty user): nothing
            # to publish, so no lock. A change in flight has set `_live` already; this
            # activity then simply came first.
            return
        await self._change(user_id, lambda p: rules.after_activity(p, now))

    async def check_timeouts(self) -> None:
        """Apply the idle and connection timeouts to every live user."""
        now = self._clock.time_ms()
        for user_id in list(self._live):
            connected = self._connected_until.get(user_id, 0) > now
            await self._change(
                user_id, functools.partial(rules.after_timeouts, now=now, connected=connected)
            )

    # --- reads ---------------------------------------------------------------------

    async def get_presence(self, requester_id: str, user_id: str) -> dict[str, Any]:
        """GET /presence/{userId}/status"""
        if not await self._store.shares_room(requester_id, user_id):
            raise MatrixError(
                403, "M_FORBIDDEN", f"You are not allowed to see {user_id}'s presence"
            )
        if not self.enabled:
            return {"presence": rules.OFFLINE}
        return rules.presence_content(await self._current(user_id), self._clock.time_ms())

    async def changes_for_sync(
        self, user_id: str, from_pos: int | None, to_pos: int
    ) -> list[dict[str, Any]]:
        """The `m.presence` events /sync renders: presence changed in (from_pos, to_pos]
        of the user and of those sharing a joined room with them; with `from_pos` None,
        the current presence of those who are not offline."""
        if not self.enabled:
            return []
        return self._events(await self._store.changes_visible_to(user_id, from_pos, to_pos))

    async def changes_in_room(
        self, room_id: str, from_pos: int, to_pos: int
    ) -> list[dict[str, Any]]:
        """The `m.presence` events of the room's members whose presence changed in
        (from_pos, to_pos]: GET /events?room_id= tells them to whoever reads the room,
        peeking included (Synapse does; SyTest's world-readable peeking tests read it)."""
        if not self.enabled:
            return []
        return self._events(await self._store.changes_in_room(room_id, from_pos, to_pos))

    def _events(self, presences: Iterable[Presence]) -> list[dict[str, Any]]:
        now = self._clock.time_ms()
        return [
            {"type": "m.presence", "sender": p.user_id, "content": rules.presence_content(p, now)}
            for p in presences
        ]

    async def current_for_sync(self, user_ids: Iterable[str]) -> list[dict[str, Any]]:
        """The `m.presence` events of the users' current presence, whether or not it
        changed, offline included (/sync sends them for members newly met in a room: the
        client knows nothing of them yet)."""
        if not self.enabled:
            return []
        now = self._clock.time_ms()
        return [
            {"type": "m.presence", "sender": u,
             "content": rules.presence_content(await self._current(u), now)}
            for u in sorted(set(user_ids))
        ]

    # --- internals -----------------------------------------------------------------

    def _connect(self, user_id: str, until: int) -> None:
        until += rules.SYNC_GRACE_MS
        self._connected_until[user_id] = max(until, self._connected_until.get(user_id, 0))

    async def _current(self, user_id: str) -> Presence:
        live = self._live.get(user_id)
        if live is not None:
            return live
        return await self._store.get(user_id) or Presence(user_id)

    async def _change(self, user_id: str, step: Callable[[Presence], Presence]) -> None:
        """Apply `step` to the user's state; publish and notify when it changes."""
        async with self._locks.hold(user_id):
            before = await self._current(user_id)
            after = step(before)
            if after.state == rules.OFFLINE:
                self._live.pop(user_id, None)
                self._connected_until.pop(user_id, None)
            else:
                self._live[user_id] = after
            if after == before:
                return
            position = await self._store.put(after)
        rooms = await self._rooms.get_rooms_for_user(user_id)
        self._notifier.notify(PRESENCE_STREAM, position, rooms=rooms, users=(user_id,))

    async def _run_timeouts(self) -> None:
        while True:
            await asyncio.sleep(TIMEOUT_CHECK_INTERVAL_S)
            try:
                await self.check_timeouts()
            except Exception:
                logger.exception("Presence timeout check failed")
