"""The timeline, state and summary of the joined and left rooms of one /sync.

Everything is read by stream position, batched over the rooms of the sync:
- the timeline is the newest `limit` events of (lower, upper] that pass the timeline
  filter and history visibility, read a page per round for all rooms at once;
- `state` is the difference between the state at the start of the timeline (or, with
  `use_state_after`, at its end) and the state at `since` — the whole state when the
  client has none for the room (initial sync, `full_state`, newly joined);
- with `lazy_load_members`, member events only for the timeline's senders, the heroes
  and (when the client has no state) the user, plus every member change in the gap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ranvier.protocol.events import Event, StateKey
from ranvier.protocol.filters import Filter, RoomEventFilter, project_fields
from ranvier.services.client_events import ClientEventSerializer
from ranvier.services.lazy_members import SentMembers
from ranvier.services.tokens import room_token
from ranvier.services.visibility import VisibilityChecker
from ranvier.storage.events import EventsStore, StoredEvent
from ranvier.storage.room_stream import EventPosition, RoomKey, RoomRange, RoomStreamStore
from ranvier.storage.state import StateMap, StateStore

#: how many pages of a room's timeline one sync reads at most while filters and
#: visibility drop events; past that the timeline is returned `limited`
MAX_TIMELINE_PAGES = 5
HEROES = 5


@dataclass(frozen=True)
class RoomSyncSpec:
    """One joined or left room to render."""

    room_id: str
    #: timeline range (lower, upper] in stream positions
    lower: int
    upper: int
    #: the position the client's state stands at; None: it has no state for the room
    since: int | None
    with_summary: bool = True
    #: the timeline is `limited` whenever the room has events before it, even ones the
    #: filter dropped (a room joined since the last sync: the client has none of its
    #: history)
    older_limited: bool = False


@dataclass
class Timeline:
    #: oldest first
    events: list[StoredEvent] = field(default_factory=list)
    limited: bool = False
    prev_batch: RoomKey | None = None


class SyncRoomBuilder:
    def __init__(
        self,
        events: EventsStore,
        state: StateStore,
        stream: RoomStreamStore,
        visibility: VisibilityChecker,
        serializer: ClientEventSerializer,
    ) -> None:
        self._events = events
        self._state = state
        self._stream = stream
        self._visibility = visibility
        self._serializer = serializer
        self._sent_members = SentMembers()

    async def build(
        self,
        user_id: str,
        device_id: str | None,
        specs: Sequence[RoomSyncSpec],
        sync_filter: Filter,
        use_state_after: bool,
    ) -> dict[str, dict[str, Any]]:
        """room -> {timeline, state|state_after, summary?} for each spec."""
        room_filter = sync_filter.room
        # The points whose state we need: start (or end) of each timeline, and `since`
        # (read beside the timelines: on PostgreSQL, on another pooled connection).
        timelines, since_events = await asyncio.gather(
            self.timelines(user_id, specs, room_filter.timeline, room_filter.timeline_limit),
            self._stream.last_events_at_each(
                {s.room_id: s.since for s in specs if s.since is not None}
            ),
        )
        anchors = await self._anchor_events(specs, timelines, use_state_after)
        groups = await self._state.get_groups_for_events(
            [*(a.event_id for a, _ in anchors.values()),
             *(e.event_id for e in since_events.values())]
        )
        # First pass: what changed in each room's state.
        changes: dict[str, tuple[StateMap, dict[StateKey, str]]] = {}
        needs_summary: list[str] = []
        for spec in specs:
            timeline = timelines[spec.room_id]
            target = await self._state_at(anchors.get(spec.room_id), groups)
            previous: StateMap = {}
            since_event = since_events.get(spec.room_id)
            if spec.since is not None and since_event is not None:
                previous = await self._state_at((since_event, True), groups)
            changed = {k: v for k, v in target.items() if previous.get(k) != v}
            changes[spec.room_id] = (target, changed)
            # The summary may be left out while membership stays the same.
            if spec.with_summary and (
                spec.since is None
                or any(k[0] == "m.room.member" for k in changed)
                or any(s.event.type == "m.room.member" for s in timeline.events)
            ):
                needs_summary.append(spec.room_id)
        counts = await self._stream.member_counts(needs_summary)

        out: dict[str, dict[str, Any]] = {}
        for spec in specs:
            timeline = timelines[spec.room_id]
            target, changed = changes[spec.room_id]
            summary = None
            if spec.room_id in counts:
                summary = await self._summary(
                    user_id, spec.room_id, _state_at_end(target, timeline, use_state_after),
                    counts[spec.room_id],
                )
            skip_redundant = (
                room_filter.state.lazy_load_members
                and not room_filter.state.include_redundant_members
            )
            already = (
                self._sent_members.sent(user_id, device_id, spec.room_id)
                if skip_redundant and spec.since is not None else {}
            )
            state_ids = self._state_ids(
                user_id, spec, timeline, target, changed, room_filter.state,
                summary.get("m.heroes", []) if summary else [], use_state_after, already,
            )
            state_events = await self._events.get_events(state_ids)
            state = [
                state_events[e] for e in state_ids
                if e in state_events and room_filter.state.matches_event(state_events[e].event.pdu)
            ]
            if skip_redundant:
                self._sent_members.record(
                    user_id, device_id, spec.room_id,
                    {
                        s.event.state_key: s.event.event_id
                        for s in [*state, *timeline.events]
                        if s.event.type == "m.room.member" and s.event.state_key is not None
                    },
                    reset=spec.since is None,
                )
            section: dict[str, Any] = {
                "timeline": {
                    "events": await self.render(user_id, device_id, timeline.events, sync_filter),
                    "limited": timeline.limited,
                },
                "state_after" if use_state_after else "state": {
                    "events": await self.render(user_id, device_id, state, sync_filter)
                },
            }
            if timeline.prev_batch is not None:
                section["timeline"]["prev_batch"] = room_token(timeline.prev_batch)
            if summary is not None:
                section["summary"] = summary
            out[spec.room_id] = section
        return out

    # --- timelines ----------------------------------------------------------------------

    async def timelines(
        self,
        user_id: str,
        specs: Sequence[RoomSyncSpec],
        timeline_filter: RoomEventFilter,
        limit: int,
    ) -> dict[str, Timeline]:
        result = {s.room_id: Timeline() for s in specs}
        newest_keys: dict[str, RoomKey] = {}
        pending = {s.room_id: (s.lower, s.upper) for s in specs}
        page_size = limit + 1
        joins: Mapping[str, int] | None = None
        for round_ in range(MAX_TIMELINE_PAGES):
            if round_:
                # Pages grow while the filter drops events, so a sparse filter (one
                # type among many) still fills its limit within the rounds.
                page_size *= 2
            if not pending:
                break
            pages, joins = await self._visibility.beside_join_positions(
                user_id,
                pending,
                self._stream.newest_events(
                    [RoomRange(r, lo, up, page_size) for r, (lo, up) in pending.items()]
                ),
                joins,
            )
            stored = await self._events.get_events(
                e.event_id for page in pages.values() for e in page
            )
            candidates = [
                s
                for page in pages.values()
                for e in page
                if (s := stored.get(e.event_id)) is not None
                and timeline_filter.matches_event(s.event.pdu)
            ]
            visible = {
                s.event.event_id
                for s in await self._visibility.filter_visible(user_id, candidates, joins)
            }
            visible |= await self._current_state_among(
                [s for s in candidates if s.event.event_id not in visible]
            )
            next_pending: dict[str, tuple[int, int]] = {}
            for room_id, page in pages.items():
                timeline = result[room_id]
                if page:
                    newest_keys.setdefault(room_id, page[0].key)
                full = self._take(timeline, page, visible, stored, limit)
                if full or len(page) < page_size:
                    timeline.limited = full
                else:  # a whole page and still room for more: read the next, older one
                    next_pending[room_id] = (pending[room_id][0], page[-1].stream - 1)
            pending = next_pending
        for room_id in pending:  # gave up reading: the client can paginate the rest
            result[room_id].limited = True
        older = await self._stream.last_events_at_each({
            s.room_id: _before_timeline(result[s.room_id], s.upper)
            for s in specs if s.older_limited and not result[s.room_id].limited
        })
        for room_id in older:
            result[room_id].limited = True
        for room_id, timeline in result.items():
            timeline.events.reverse()
            if timeline.events:
                first = timeline.events[0]
                timeline.prev_batch = RoomKey(first.event.depth, first.stream_ordering - 1)
            else:
                timeline.prev_batch = newest_keys.get(room_id)
        await self._fill_empty_prev_batches(specs, result)
        return result

    async def _current_state_among(self, hidden: Sequence[StoredEvent]) -> set[str]:
        """The hidden events that are their room's current state: a member sees the
        current state anyway (/state), so a timeline shows such an event even when
        history visibility hid it (e.g. a join while the user was away from a
        `joined` room), as Synapse does."""
        rooms = {s.event.room_id for s in hidden if s.event.state_key is not None}
        current: set[str] = set()
        for room_id in sorted(rooms):
            current.update((await self._state.get_current_state(room_id)).values())
        return {s.event.event_id for s in hidden if s.event.event_id in current}

    @staticmethod
    def _take(
        timeline: Timeline,
        page: Sequence[EventPosition],
        visible: set[str],
        stored: Mapping[str, StoredEvent],
        limit: int,
    ) -> bool:
        """Add the page's visible events (newest first); True once the timeline is full
        and an event remains before it."""
        for position in page:
            if position.event_id not in visible:
                continue
            if len(timeline.events) >= limit:
                return True
            timeline.events.append(stored[position.event_id])
        return False

    async def _fill_empty_prev_batches(
        self, specs: Sequence[RoomSyncSpec], result: dict[str, Timeline]
    ) -> None:
        """A timeline with no event in its range still gets a prev_batch: the room's
        newest event at the range's upper end."""
        missing = {s.room_id: s.upper for s in specs if result[s.room_id].prev_batch is None}
        for room_id, position in (await self._stream.last_events_at_each(missing)).items():
            result[room_id].prev_batch = position.key

    # --- state --------------------------------------------------------------------------

    async def _anchor_events(
        self,
        specs: Sequence[RoomSyncSpec],
        timelines: Mapping[str, Timeline],
        use_state_after: bool,
    ) -> dict[str, tuple[EventPosition, bool]]:
        """room -> (event, whether the state wanted is *after* it rather than before)."""
        anchors: dict[str, tuple[EventPosition, bool]] = {}
        empty: dict[str, int] = {}
        for spec in specs:
            events = timelines[spec.room_id].events
            if not events:
                empty[spec.room_id] = spec.upper
                continue
            chosen = events[-1] if use_state_after else events[0]
            position = EventPosition(
                chosen.event.event_id, spec.room_id, chosen.stream_ordering, chosen.event.depth
            )
            anchors[spec.room_id] = (position, use_state_after)
        for room_id, position in (await self._stream.last_events_at_each(empty)).items():
            anchors[room_id] = (position, True)
        return anchors

    async def _state_at(
        self,
        anchor: tuple[EventPosition, bool] | None,
        groups: Mapping[str, tuple[int, int]],
    ) -> StateMap:
        if anchor is None or anchor[0].event_id not in groups:
            return {}
        before, after = groups[anchor[0].event_id]
        return await self._state.get_state(after if anchor[1] else before)

    @staticmethod
    def _state_ids(
        user_id: str,
        spec: RoomSyncSpec,
        timeline: Timeline,
        target: StateMap,
        changed: dict[StateKey, str],
        state_filter: RoomEventFilter,
        heroes: Sequence[str],
        use_state_after: bool,
        already_sent: Mapping[str, str],
    ) -> list[str]:
        """The state event IDs to send: what changed since the client's state, less
        what the timeline carries, and lazy loading's choice of members (less those
        `already_sent` to this device, member -> event ID)."""
        in_timeline = {s.event.event_id for s in timeline.events}
        if not use_state_after:
            # the timeline carries these itself
            changed = {k: v for k, v in changed.items() if v not in in_timeline}
        if state_filter.lazy_load_members:
            wanted = {s.event.sender for s in timeline.events} | set(heroes)
            if spec.since is None:
                wanted.add(user_id)
            keep = {
                k: v for k, v in changed.items()
                # a member change in the gap is always sent; with no state, only wanted
                if k[0] != "m.room.member" or k[1] in wanted or spec.since is not None
            }
            leading = _leading_member_event(spec, timeline, use_state_after)
            for member in wanted:
                event_id = target.get(("m.room.member", member))
                repeated = leading is not None and leading.state_key == member
                if repeated:
                    event_id = leading.event_id
                if event_id is None or already_sent.get(member) == event_id:
                    continue
                if use_state_after or repeated or event_id not in in_timeline:
                    keep[("m.room.member", member)] = event_id
            changed = keep
        return [changed[k] for k in sorted(changed)]

    # --- summary ------------------------------------------------------------------------

    async def _summary(
        self, user_id: str, room_id: str, state: StateMap, counts: Mapping[str, int]
    ) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "m.joined_member_count": counts.get("join", 0),
            "m.invited_member_count": counts.get("invite", 0),
        }
        if not await self._has_name(state):
            heroes = await self._stream.members_in_stream_order(
                room_id, ("join", "invite"), user_id, HEROES
            ) or await self._stream.members_in_stream_order(
                room_id, ("leave", "ban"), user_id, HEROES
            )
            summary["m.heroes"] = heroes
        return summary

    async def _has_name(self, state: StateMap) -> bool:
        keys = {("m.room.name", ""): "name", ("m.room.canonical_alias", ""): "alias"}
        ids = {k: state[k] for k in keys if k in state}
        found = await self._events.get_events(ids.values())
        return any(
            isinstance(value := found[event_id].served_event().content.get(keys[k]), str)
            and value
            for k, event_id in ids.items()
            if event_id in found
        )

    # --- rendering ----------------------------------------------------------------------

    async def render(
        self,
        user_id: str,
        device_id: str | None,
        events: Sequence[StoredEvent],
        sync_filter: Filter,
    ) -> list[dict[str, Any]]:
        """Events as /sync shows them: client format without `room_id` (the room is the
        key), or federation format; then `event_fields`."""
        if sync_filter.event_format == "federation":
            rendered = [dict(s.served_event().pdu) for s in events]
        else:
            rendered = await self._serializer.serialize(
                events, user_id=user_id, device_id=device_id
            )
            for event in rendered:
                event.pop("room_id", None)
        if sync_filter.event_fields is not None:
            rendered = [project_fields(e, sync_filter.event_fields) for e in rendered]
        return rendered


def _leading_member_event(
    spec: RoomSyncSpec, timeline: Timeline, use_state_after: bool
) -> Event | None:
    """The member event that opens an incremental, unbroken timeline, which lazy
    loading repeats in `state` as Synapse does.

    The spec puts `state` before the timeline, so that event belongs to the timeline
    alone; but Synapse takes lazy-loaded members from the state *after* the timeline's
    first event. Element's matrix-js-sdk gives a timeline event the sender it finds in
    the state before it and keeps that sender, so only the repeat draws a profile
    change with the new avatar and name (docs/ELEMENT_WEB.md). A client that follows
    the spec sees the same member event twice, which changes nothing for it.
    """
    if use_state_after or spec.since is None or timeline.limited or not timeline.events:
        return None
    first = timeline.events[0].event
    return first if first.type == "m.room.member" else None


def _state_at_end(target: StateMap, timeline: Timeline, use_state_after: bool) -> StateMap:
    """The state after the timeline, from the state at its start (the summary
    describes the room as it is now, e.g. named by an m.room.name in the timeline)."""
    if use_state_after:
        return target
    end = dict(target)
    for stored in timeline.events:
        if stored.event.state_key is not None:
            end[(stored.event.type, stored.event.state_key)] = stored.event.event_id
    return end


def _before_timeline(timeline: Timeline, upper: int) -> int:
    """The stream position just before the timeline's oldest event (newest first while
    reading), or `upper` for an empty timeline."""
    return timeline.events[-1].stream_ordering - 1 if timeline.events else upper
