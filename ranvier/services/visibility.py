"""History visibility applied to stored events (/sync, /messages, /context).

The rule itself is pure (ranvier/protocol/visibility.py); this module gathers what it
needs for a batch of events at once: the state before each event (state groups, cached)
and, per room, the position of the user's latest join (for "joined at any point after
the event").
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from ranvier.protocol.filters import RoomEventFilter
from ranvier.protocol.visibility import StateAtEvent, effective_visibility, is_event_visible
from ranvier.services.account_data import AccountDataService
from ranvier.storage.events import EventsStore, StoredEvent
from ranvier.storage.room_stream import RoomStreamStore
from ranvier.storage.state import StateStore

_VISIBILITY_KEY = ("m.room.history_visibility", "")

T = TypeVar("T")


class VisibilityChecker:
    def __init__(
        self,
        events: EventsStore,
        state: StateStore,
        stream: RoomStreamStore,
        account_data: AccountDataService,
    ) -> None:
        self._account_data = account_data
        self._events = events
        self._state = state
        self._stream = stream

    async def fetch_visible(
        self, user_id: str, event_ids: Iterable[str], event_filter: RoomEventFilter
    ) -> tuple[dict[str, StoredEvent], set[str]]:
        """The stored events of `event_ids` (event ID -> event), and the IDs of those
        that pass `event_filter` and that the user may see: one page of a paginated read
        (/messages, /search), judged as a batch."""
        stored = await self._events.get_events(event_ids)
        candidates = [s for s in stored.values() if event_filter.matches_event(s.event.pdu)]
        visible = await self.filter_visible(user_id, candidates)
        return stored, {s.event.event_id for s in visible}

    async def join_positions(
        self, user_id: str, room_ids: Iterable[str]
    ) -> dict[str, int]:
        """room -> position of the user's latest join there (for `filter_visible`)."""
        return await self._stream.latest_join_positions(user_id, room_ids)

    async def beside_join_positions(
        self,
        user_id: str,
        room_ids: Iterable[str],
        read: Awaitable[T],
        joins: Mapping[str, int] | None,
    ) -> tuple[T, Mapping[str, int]]:
        """`read`'s result, and `joins` or else the user's join positions in `room_ids`
        read beside it: a paged read of events learns them with its first page, not a
        round trip after it (on PostgreSQL, on another pooled connection)."""
        if joins is not None:
            return await read, joins
        return await asyncio.gather(read, self.join_positions(user_id, room_ids))

    async def filter_visible(
        self,
        user_id: str,
        events: Sequence[StoredEvent],
        joins: Mapping[str, int] | None = None,
    ) -> list[StoredEvent]:
        """Those of `events` the user may see, in the same order: not the non-state
        events of users they ignore (state is kept, so the room looks the same).
        `joins`, if given, is `join_positions` of at least the events' rooms; if not,
        they are read only when the state before some event leaves its visibility to
        them (a reader who was a member at every event needs none)."""
        if not events:
            return []
        ignored = await self._account_data.ignored_users(user_id)
        if ignored:
            events = [
                s for s in events if s.event.state_key is not None or s.event.sender not in ignored
            ]
        groups = await self._state.get_groups_for_events(s.event.event_id for s in events)
        facts = await self._facts(user_id, {g[0] for g in groups.values()})
        # (event, whether only a later join of the user's makes it visible)
        judged: list[tuple[StoredEvent, bool]] = []
        for stored in events:
            group = groups.get(stored.event.event_id)
            if group is None:  # no state known: nothing to judge it by
                continue
            before = facts[group[0]]
            if is_event_visible(user_id, stored.event.pdu, before, False):
                judged.append((stored, False))
            elif is_event_visible(user_id, stored.event.pdu, before, True):
                judged.append((stored, True))
        if not any(later for _, later in judged):
            return [s for s, _ in judged]
        if joins is None:
            joins = await self.join_positions(
                user_id, {s.event.room_id for s, later in judged if later}
            )
        return [
            s for s, later in judged
            if not later or joins.get(s.event.room_id, -1) > s.stream_ordering
        ]

    async def _facts(self, user_id: str, group_ids: Iterable[int]) -> dict[int, StateAtEvent]:
        """The history visibility and the user's membership in each state group, with
        one event fetch for all of them."""
        member_key = ("m.room.member", user_id)
        ids: dict[int, tuple[str | None, str | None]] = {}
        for gid in group_ids:
            state = await self._state.get_state_entries(gid, [_VISIBILITY_KEY, member_key])
            ids[gid] = (state.get(_VISIBILITY_KEY), state.get(member_key))
        found = await self._events.get_events(
            {e for pair in ids.values() for e in pair if e is not None}
        )

        def content_of(event_id: str | None) -> Mapping[str, Any] | None:
            stored = found.get(event_id) if event_id else None
            return stored.served_event().content if stored else None

        facts = {}
        for gid, (visibility_id, member_id) in ids.items():
            member = content_of(member_id)
            membership = member.get("membership") if member else None
            facts[gid] = StateAtEvent(
                effective_visibility(content_of(visibility_id)),
                membership if isinstance(membership, str) else None,
            )
        return facts
