"""One writer per room, batched (DESIGN principle 5).

Every new event of a room passes through that room's queue. A worker task per room takes
everything waiting, computes each event's state in order (the state after one event is
the state before the next), writes the whole batch in one transaction, and only then
resolves the callers' futures and wakes the notifier: nothing is acknowledged before it
is durable.

Two kinds of requests enter a queue:
- local events, given as a `Builder` that is called with the room's head (forward
  extremities, depth, state) at the moment its turn comes, so concurrent sends never
  fork the room;
- events built elsewhere (federation), whose state before is computed from their
  prev_events (resolving state when they disagree) or supplied by the caller.
A request holds a group of events that succeed or fail together (createRoom's events).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ranvier.notifier import Notifier
from ranvier.protocol.events import Event, StateKey
from ranvier.protocol.room_versions import RoomVersion
from ranvier.services.state_resolver import StateResolver
from ranvier.storage.database import Connection
from ranvier.storage.events import EventsStore, EventToPersist, RoomBatch, StoredEvent
from ranvier.storage.rooms import MembershipChange
from ranvier.storage.state import NewStateGroup, StateMap, StateStore
from ranvier.storage.state_map import with_entries
from ranvier.storage.txn_ids import TxnKey

logger = logging.getLogger(__name__)

#: how many prev_events a local event names at most (Synapse uses 10 too; the spec's
#: PDU schema allows 20)
MAX_PREV_EVENTS = 10
#: how many queued requests one transaction takes at most
MAX_BATCH = 100


@dataclass(frozen=True)
class RoomHead:
    """What a local event is built on: the room as the events before it left it."""

    room_id: str
    prev_event_ids: list[str]
    depth: int
    #: the state the new event will be checked against (state after prev_events)
    state: StateMap
    #: events of the same batch, not yet committed (so not in the store yet)
    pending: Mapping[str, Event]


@dataclass(frozen=True)
class BuiltEvent:
    event: Event
    txn: TxnKey | None = None
    #: the sender has read the room up to this event by sending it
    read_by_sender: bool = False


Builder = Callable[[RoomHead], Awaitable[BuiltEvent]]

#: Sees each committed batch (room ID, events, the batch's current-state delta: key ->
#: new event, None for a removed key) before its senders are answered: what other
#: domains derive from new events (notification counts).
PersistedListener = Callable[
    [str, list[StoredEvent], Mapping[StateKey, Event | None]], Awaitable[None]
]


class BatchPart(Protocol):
    """Rows another domain derives from a batch (push actions, the sender's read
    receipt), worked out before the batch's transaction and written inside it, so a
    send costs one commit."""

    async def write(self, conn: Connection, stored: Sequence[StoredEvent]) -> None:
        """Write the rows; `stored` is the batch's events, in order, with positions."""

    def finish(self, committed: bool) -> None:
        """The transaction has ended: announce what committed, or forget what was
        kept in memory for rows that did not."""


#: Sees each batch before its transaction (its events and current-state delta are
#: final, its positions not yet taken): the part to write with it, if any.
BatchPreparer = Callable[[RoomBatch], Awaitable[BatchPart | None]]


@dataclass(frozen=True)
class IncomingEvent:
    """An event built elsewhere, already checked by the caller."""

    event: Event
    outlier: bool = False
    rejected_reason: str | None = None
    soft_failed: bool = False
    #: the state before the event when its prev_events are not all known to us
    state_before: StateMap | None = None


@dataclass
class _Request:
    room_version: RoomVersion
    items: Sequence[Builder | IncomingEvent]
    future: asyncio.Future[list[StoredEvent]]


@dataclass
class _Timeline:
    """The room as the batch has left it so far, in memory."""

    #: event ID -> (state group after, state after), for events of this batch and the
    #: extremities loaded at its start
    room_version: RoomVersion
    after: dict[str, tuple[int, StateMap]]
    extremities: set[str]
    depths: dict[str, int]
    start_extremities: frozenset[str]
    #: current state when the batch began, when known without resolving (one extremity)
    start_state: StateMap | None
    new_groups: list[NewStateGroup] = field(default_factory=list)
    items: list[EventToPersist] = field(default_factory=list)
    #: event ID -> the state keys its state after differs from `start_state` in, when
    #: known without comparing whole maps (the batch built it from `start_state` one
    #: event at a time); None when not known (resolution, state given, or fetched)
    changed_keys: dict[str, frozenset[StateKey] | None] = field(default_factory=dict)

    def pending(self) -> dict[str, Event]:
        """The batch's events so far (not in the store until the batch commits)."""
        return {item.event.event_id: item.event for item in self.items}

    def snapshot(self) -> tuple[int, set[str], int, int]:
        return (len(self.after), set(self.extremities), len(self.new_groups), len(self.items))


class EventPersister:
    def __init__(
        self,
        events: EventsStore,
        state: StateStore,
        resolver: StateResolver,
        notifier: Notifier,
        server_name: str,
    ) -> None:
        self._events = events
        self._state = state
        self._resolver = resolver
        self._notifier = notifier
        self._local_suffix = ":" + server_name
        self._queues: dict[str, list[_Request]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        # (position, room, users) committed but not yet announced: the events stream
        # only advances over positions with no uncommitted one below them.
        self._unannounced: list[tuple[int, str, set[str]]] = []
        self._listeners: list[PersistedListener] = []
        self._preparers: list[BatchPreparer] = []

    def add_listener(self, listener: PersistedListener) -> None:
        """Have `listener` see every committed batch (composition root)."""
        self._listeners.append(listener)

    def add_preparer(self, preparer: BatchPreparer) -> None:
        """Have `preparer` add its rows to every batch's transaction (composition root)."""
        self._preparers.append(preparer)

    async def persist_local(
        self, room_version: RoomVersion, room_id: str, builders: Sequence[Builder]
    ) -> list[StoredEvent]:
        """Build and persist local events in order, all or none."""
        return await self._submit(room_version, room_id, builders)

    async def persist_incoming(
        self, room_version: RoomVersion, room_id: str, events: Sequence[IncomingEvent]
    ) -> list[StoredEvent]:
        return await self._submit(room_version, room_id, events)

    async def _submit(
        self, room_version: RoomVersion, room_id: str, items: Sequence[Builder | IncomingEvent]
    ) -> list[StoredEvent]:
        future: asyncio.Future[list[StoredEvent]] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(room_id, []).append(_Request(room_version, items, future))
        if room_id not in self._workers:
            self._workers[room_id] = asyncio.create_task(self._drain(room_id))
        # A caller that goes away (client disconnect) cancels only this future: the
        # worker still writes its events, which other requests' may build on, and
        # skips answering it. (Not asyncio.shield, which costs each send a loop turn.)
        return await future

    async def close(self) -> None:
        """Wait for the queued writes to finish."""
        while self._workers:
            await asyncio.gather(*self._workers.values(), return_exceptions=True)

    # --- the room worker -----------------------------------------------------------

    async def _drain(self, room_id: str) -> None:
        try:
            while True:
                # Statements run on the loop's thread without yielding, so requests
                # only join a batch while the loop runs: let the handlers whose requests
                # have arrived reach this queue first (one iteration starts a handler,
                # the next runs it to its submit), so concurrent senders share commits.
                # Only when there is something to send: a worker that finds its queue
                # empty ends at once, and the next request's new worker waits instead.
                if not self._queues.get(room_id):
                    break
                await asyncio.sleep(0)
                await asyncio.sleep(0)
                queue = self._queues[room_id]
                requests = queue[:MAX_BATCH]
                del queue[:MAX_BATCH]
                try:
                    await self._persist_requests(room_id, requests)
                except Exception as e:
                    logger.exception("persisting a batch for %s failed", room_id)
                    # Its positions are finished too: batches waiting behind them may go.
                    self._flush_announcements()
                    for r in requests:
                        if not r.future.done():
                            r.future.set_exception(e)
        finally:
            self._queues.pop(room_id, None)
            self._workers.pop(room_id, None)

    async def _persist_requests(self, room_id: str, requests: list[_Request]) -> None:
        timeline = await self._load_timeline(requests[0].room_version, room_id)
        accepted: list[tuple[_Request, int, int]] = []  # request, first and end item index
        for request in requests:
            mark = timeline.snapshot()
            try:
                for item in request.items:
                    await self._add(room_id, timeline, item)
            except Exception as e:  # a builder refused (auth) or an input was bad
                self._rollback(timeline, mark)
                if not request.future.done():
                    request.future.set_exception(e)
                continue
            accepted.append((request, mark[3], len(timeline.items)))
        if not timeline.items:
            return
        batch = RoomBatch(room_id, timeline.items, timeline.new_groups)
        if timeline.extremities != timeline.start_extremities:
            batch.forward_extremities = timeline.extremities
        await self._current_state_delta(room_id, timeline, batch)
        stored = await self._persist_with_parts(batch)
        for listener in self._listeners:
            try:
                await listener(room_id, stored, batch.current_state_delta)
            except Exception:  # the events are durable; a listener's failure is its own
                logger.exception("a persisted-events listener failed for %s", room_id)
        for request, start, end in accepted:
            if not request.future.done():
                request.future.set_result(stored[start:end])
        self._announce(room_id, stored)

    async def _persist_with_parts(self, batch: RoomBatch) -> list[StoredEvent]:
        parts: list[BatchPart] = []
        committed = False
        try:
            for preparer in self._preparers:
                try:
                    part = await preparer(batch)
                except Exception:  # its rows are lost, not the events
                    logger.exception("preparing a batch's rows failed for %s", batch.room_id)
                    continue
                if part is not None:
                    parts.append(part)
            stored = await self._events.persist_batch(batch, [p.write for p in parts])
            committed = True
        finally:
            for part in parts:
                part.finish(committed)
        return stored

    def _announce(self, room_id: str, stored: list[StoredEvent]) -> None:
        users = {
            s.event.state_key
            for s in stored
            if s.event.type == "m.room.member" and s.event.state_key is not None
        }
        self._unannounced.append((max(s.stream_ordering for s in stored), room_id, users))
        self._flush_announcements()

    def _flush_announcements(self) -> None:
        """Tell the notifier about every committed batch the stream has now reached."""
        current = self._events.stream.current
        ready = [u for u in self._unannounced if u[0] <= current]
        self._unannounced = [u for u in self._unannounced if u[0] > current]
        for _, rid, user_ids in ready:
            self._notifier.on_new_event(current, rid, user_ids)

    @staticmethod
    def _rollback(timeline: _Timeline, mark: tuple[int, set[str], int, int]) -> None:
        n_after, extremities, n_groups, n_items = mark
        for event_id in list(timeline.after)[n_after:]:
            del timeline.after[event_id]
            timeline.changed_keys.pop(event_id, None)
        timeline.extremities = extremities
        del timeline.new_groups[n_groups:]
        del timeline.items[n_items:]

    async def _load_timeline(self, room_version: RoomVersion, room_id: str) -> _Timeline:
        extremities = await self._events.get_forward_extremities(room_id)
        groups = await self._state.get_groups_for_events(extremities)
        events = await self._events.get_events(extremities)
        after = {
            event_id: (groups[event_id][1], await self._state.get_state(groups[event_id][1]))
            for event_id in extremities
        }
        depths = {event_id: events[event_id].event.depth for event_id in extremities}
        start_state = after[extremities[0]][1] if len(extremities) == 1 else None
        timeline = _Timeline(
            room_version, after, set(extremities), depths, frozenset(extremities), start_state
        )
        if start_state is not None:
            timeline.changed_keys[extremities[0]] = frozenset()
        return timeline

    async def _add(
        self, room_id: str, timeline: _Timeline, item: Builder | IncomingEvent
    ) -> None:
        read_by_sender = False
        if isinstance(item, IncomingEvent):
            incoming, txn, prevs = item, None, item.event.prev_event_ids()
            if incoming.outlier:
                timeline.items.append(EventToPersist(incoming.event, outlier=True))
                return
            before_group, before = await self._state_after(
                room_id, timeline, prevs, incoming.state_before
            )
        else:
            prevs = sorted(
                timeline.extremities, key=lambda e: timeline.depths.get(e, 0), reverse=True
            )[:MAX_PREV_EVENTS]
            before_group, before = await self._state_after(room_id, timeline, prevs, None)
            depth = max((timeline.depths.get(p, 0) for p in prevs), default=0) + 1
            built = await item(RoomHead(room_id, prevs, depth, before, timeline.pending()))
            incoming, txn = IncomingEvent(built.event), built.txn
            read_by_sender = built.read_by_sender
        event = incoming.event
        if event.room_id != room_id:
            raise ValueError(f"event {event.event_id} is not in room {room_id}")
        changed = _changed_keys_before(timeline, prevs, before_group, incoming.state_before)
        after_group, after = before_group, before
        if event.is_state() and incoming.rejected_reason is None:
            if changed is not None:
                changed = changed | {event.state_pair}
            change = {event.state_pair: event.event_id}
            # O(√members), not a copy of the room's state (storage/state_map.py)
            after = with_entries(before, change)
            group = await self._state.new_group(room_id, before_group, after, changes=change)
            timeline.new_groups.append(group)
            after_group = group.id
        timeline.items.append(
            EventToPersist(
                event,
                rejected_reason=incoming.rejected_reason,
                soft_failed=incoming.soft_failed,
                state_groups=(before_group, after_group),
                txn=txn,
                read_by_sender=read_by_sender,
                built_here=not isinstance(item, IncomingEvent),
            )
        )
        timeline.after[event.event_id] = (after_group, after)
        timeline.changed_keys[event.event_id] = changed
        timeline.depths[event.event_id] = event.depth
        # Rejected and soft-failed events stay out of the graph's tips: nothing new
        # should build on them.
        if incoming.rejected_reason is None and not incoming.soft_failed:
            timeline.extremities.difference_update(prevs)
            # A new local event has no children; an incoming one may (backfill).
            if not isinstance(item, IncomingEvent) or not (
                await self._events.have_children([event.event_id])
            ):
                timeline.extremities.add(event.event_id)

    async def _state_after(
        self,
        room_id: str,
        timeline: _Timeline,
        prevs: Sequence[str],
        given: StateMap | None,
    ) -> tuple[int, StateMap]:
        """The group and state after `prevs` (resolved if they disagree), creating a
        group when the state is new."""
        known: dict[str, tuple[int, StateMap]] = {}
        missing = [p for p in prevs if p not in timeline.after]
        groups = await self._state.get_groups_for_events(missing)
        for p in prevs:
            if p in timeline.after:
                known[p] = timeline.after[p]
            elif p in groups:
                known[p] = (groups[p][1], await self._state.get_state(groups[p][1]))
        parents = {g for g, _ in known.values()}
        if given is None:
            if not known:
                if prevs:
                    raise ValueError(f"no state is known for prev_events {list(prevs)}")
                return await self._group_for(room_id, timeline, None, {})
            if len(parents) == 1:
                return next(iter(known.values()))
            given = await self._resolver.resolve(
                timeline.room_version, [s for _, s in known.values()], timeline.pending()
            )
        parent = min(parents) if parents else None
        return await self._group_for(room_id, timeline, parent, given)

    async def _group_for(
        self, room_id: str, timeline: _Timeline, parent: int | None, state: StateMap
    ) -> tuple[int, StateMap]:
        group = await self._state.new_group(room_id, parent, state)
        timeline.new_groups.append(group)
        return group.id, group.state

    async def _current_state_delta(
        self, room_id: str, timeline: _Timeline, batch: RoomBatch
    ) -> None:
        """Current state after the batch = the state after the forward extremities,
        resolved when there are several."""
        states = [timeline.after[e][1] for e in timeline.extremities if e in timeline.after]
        missing = [e for e in timeline.extremities if e not in timeline.after]
        groups = await self._state.get_groups_for_events(missing)
        for e in missing:
            states.append(await self._state.get_state(groups[e][1]))
        if not states:
            return
        new_state = (
            states[0]
            if len(states) == 1
            else await self._resolver.resolve(timeline.room_version, states, timeline.pending())
        )
        old_state = timeline.start_state
        keys = _known_changed_keys(timeline)
        if old_state is None:
            old_state = await self._state.get_current_state(room_id)
        if keys is not None:
            # Built from the batch's start one event at a time: only the keys those
            # events set can differ, so a large room costs no walk over its state.
            changed = {k: new_state[k] for k in keys if old_state.get(k) != new_state.get(k)}
            removed = []
        else:
            changed = {k: v for k, v in new_state.items() if old_state.get(k) != v}
            removed = [k for k in old_state if k not in new_state]
        in_batch = {item.event.event_id: item.event for item in timeline.items}
        fetched = await self._events.get_events(e for e in changed.values() if e not in in_batch)
        delta: dict[StateKey, Event | None] = {k: None for k in removed}
        for k, event_id in changed.items():
            delta[k] = in_batch.get(event_id) or fetched[event_id].event
        batch.current_state_delta = delta
        batch.local_memberships = [
            MembershipChange(state_key, room_id, ev.event_id, ev.membership or "leave")
            for (etype, state_key), ev in delta.items()
            if ev is not None
            and etype == "m.room.member"
            and state_key.endswith(self._local_suffix)
        ]


def _changed_keys_before(
    timeline: _Timeline, prevs: Sequence[str], before_group: int, given: StateMap | None
) -> frozenset[StateKey] | None:
    """What the state before an event differs from the batch's start state in, when the
    event builds on one state of this batch without resolution (else None)."""
    if given is not None:
        return None
    for p in prevs:
        known = timeline.after.get(p)
        if known is not None and known[0] == before_group:
            return timeline.changed_keys.get(p)
    return None


def _known_changed_keys(timeline: _Timeline) -> frozenset[StateKey] | None:
    """The keys current state may have changed in, when the batch ends on one
    extremity whose state was built from the start state event by event."""
    if timeline.start_state is None or len(timeline.extremities) != 1:
        return None
    (extremity,) = timeline.extremities
    return timeline.changed_keys.get(extremity)
