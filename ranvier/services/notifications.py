"""Notifications (client-server API "Push Notifications", "Receiving notifications"):
each new event is evaluated against the push rules of the local users it may notify,
and the results give the unread counts /sync reports per room and per thread.

Evaluation runs just before the event's batch commits (an EventPersister preparer), and
its rows are written in the batch's transaction: a send costs one commit. Its cost per
member is kept to a dictionary look-up: the room's members and display names are kept in
memory (updated from each batch's current-state delta), rulesets are cached by the push
rules service, and users on the server-default rules whom an event does not name share
one evaluation.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ranvier.protocol.events import Event, StateKey
from ranvier.protocol.power_levels import CREATE_KEY, POWER_LEVELS_KEY, get_user_power_level
from ranvier.protocol.push_rules import (
    DEFAULT_NOTIFICATION_LEVELS,
    Evaluation,
    PushContext,
    evaluate,
    globless,
    named_by,
)
from ranvier.services.current_state import current_state_events
from ranvier.services.event_persister import BatchPart
from ranvier.services.push_rules import PushRulesService
from ranvier.services.receipts import RECEIPT_TYPES, thread_of
from ranvier.storage.database import Connection
from ranvier.storage.events import EventsStore, RoomBatch, StoredEvent
from ranvier.storage.lru import LruCache
from ranvier.storage.notifications import NotificationsStore, PushAction
from ranvier.storage.receipts import UNTHREADED
from ranvier.storage.state import StateStore

logger = logging.getLogger(__name__)

#: Rooms whose push-relevant state is kept in memory (members and display names).
ROOM_CACHE_SIZE = 256


class NotificationsService:
    def __init__(
        self,
        store: NotificationsStore,
        push_rules: PushRulesService,
        state: StateStore,
        events: EventsStore,
        server_name: str,
    ) -> None:
        self._store = store
        self._push_rules = push_rules
        self._state = state
        self._events = events
        self._local_suffix = ":" + server_name
        self._rooms: LruCache[str, _RoomPushState] = LruCache(ROOM_CACHE_SIZE)

    # --- at persist time ---------------------------------------------------------------

    async def prepare_batch(self, batch: RoomBatch) -> BatchPart | None:
        """Evaluate each accepted event of the batch for its room's local members (and a
        local invitee), before the batch commits; the rows are written in its
        transaction. The user's own events never notify. Runs on the room's persister
        queue, so batches of one room come here one at a time and in order."""
        room = await self._room_state(batch)
        indexed = [
            (i, item.event) for i, item in enumerate(batch.events)
            if not (item.outlier or item.rejected_reason or item.soft_failed)
        ]
        if not indexed:
            return None
        await room.check_rules(self._push_rules)
        results: list[tuple[int, str, Evaluation]] = []
        for index, event in indexed:
            results.extend(
                (index, user_id, result) for user_id, result in await self._evaluate(room, event)
            )
        # A redaction may prune a current state event without a delta, and a batch
        # that does not commit leaves the copy ahead of the store: both drop the copy.
        forget = any(event.type == "m.room.redaction" for _, event in indexed)
        return _PushActionsPart(self, batch.room_id, results, forget)

    async def _evaluate(
        self, room: _RoomPushState, event: Event
    ) -> list[tuple[str, Evaluation]]:
        """The local users `event` notifies, with each one's evaluation."""
        evaluated = _evaluated(event)
        state_key, mentioned = named_by(evaluated)
        # Users evaluated one by one: their own rules, an ID that no shared result may
        # stand for, or named by the event. Every other local member shares one
        # evaluation, so a member costs nearly nothing.
        individual = set(room.alone)
        individual.update(u for u in mentioned if u in room.local)
        individual.update(room.by_lower.get(state_key or "", ()))
        invitee = event.state_key or ""
        if (
            event.type == "m.room.member"
            and event.membership == "invite"
            and invitee.endswith(self._local_suffix)
            and invitee not in room.local
        ):
            individual.add(invitee)
        individual.discard(event.sender)
        anyone = next(
            (u for u in room.local if u not in individual and u != event.sender), None
        )
        rulesets = await self._push_rules.rulesets_for_users(
            [*individual, anyone] if anyone is not None else individual
        )
        ctx = PushContext(
            user_id="",
            room_member_count=len(room.members),
            sender_power_level=get_user_power_level(event.sender, room.auth),
            notification_levels=room.levels,
        )
        results: list[tuple[str, Evaluation]] = []
        for user_id in individual:
            result = evaluate(
                rulesets[user_id].rules, evaluated,
                replace(ctx, user_id=user_id, display_name=room.members.get(user_id)),
            )
            if result.notify or result.highlight:
                results.append((user_id, result))
        if anyone is not None:
            shared = evaluate(rulesets[anyone].rules, evaluated, replace(ctx, user_id=anyone))
            if shared.notify or shared.highlight:
                results.extend(
                    (u, shared) for u in room.local if u not in individual and u != event.sender
                )
        return results

    def forget_room(self, room_id: str) -> None:
        """Drop the in-memory copy of the room's push state (read again when needed)."""
        self._rooms.pop(room_id)

    async def _room_state(self, batch: RoomBatch) -> _RoomPushState:
        """The room's push-relevant current state after the batch: the cached copy with
        the batch's delta applied, else the stored current state (from before the
        batch) with it applied."""
        room = self._rooms.get(batch.room_id)
        if room is None:
            room = _RoomPushState(self._local_suffix)
            room.apply(await current_state_events(self._state, self._events, batch.room_id))
            self._rooms.set(batch.room_id, room)
        room.apply(batch.current_state_delta)
        return room

    # --- counts ----------------------------------------------------------------------

    async def unread_counts(self, user_id: str, room_id: str) -> tuple[int, int]:
        """(notification_count, highlight_count) of the room, after the user's read
        receipts (each thread's own receipt counts for its events)."""
        total_notify = total_highlight = 0
        for notify, highlight in (await self.unread_thread_counts(user_id, room_id)).values():
            total_notify += notify
            total_highlight += highlight
        return total_notify, total_highlight

    async def unread_thread_counts(
        self, user_id: str, room_id: str
    ) -> dict[str, tuple[int, int]]:
        """thread ID ('main' or a root's event ID) -> (notification_count,
        highlight_count), for the threads with unread notifications."""
        return await self._store.unread_by_thread(user_id, room_id, RECEIPT_TYPES, UNTHREADED)


class _PushActionsPart:
    """A batch's push actions: evaluated before its transaction, written inside it
    once the events have their stream positions."""

    def __init__(
        self, service: NotificationsService, room_id: str,
        results: list[tuple[int, str, Evaluation]], forget_room: bool,
    ) -> None:
        self._service = service
        self._room_id = room_id
        self._results = results
        self._forget_room = forget_room

    async def write(self, conn: Connection, stored: Sequence[StoredEvent]) -> None:
        # Per event, not per member: a message into a big room has a row per member.
        indexes = {index for index, _, _ in self._results}
        threads = {index: thread_of(stored[index].event) for index in indexes}
        await NotificationsStore.write(conn, [
            PushAction(
                user_id, stored[index].event.event_id, self._room_id,
                stored[index].stream_ordering, threads[index],
                result.notify, result.highlight, result.actions,
            )
            for index, user_id, result in self._results
        ])

    def finish(self, committed: bool) -> None:
        if self._forget_room or not committed:
            self._service.forget_room(self._room_id)


def _evaluated(event: Event) -> dict[str, Any]:
    """The event as push rules see it (the client form's top-level fields)."""
    return {**event.pdu, "event_id": event.event_id, "room_id": event.room_id}


def _notification_levels(content: Mapping[str, Any]) -> dict[str, int]:
    levels = dict(DEFAULT_NOTIFICATION_LEVELS)
    given = content.get("notifications")
    if isinstance(given, Mapping):
        levels.update({
            k: v for k, v in given.items() if isinstance(v, int) and not isinstance(v, bool)
        })
    return levels


def _display_name(member: Event) -> str | None:
    name = member.content.get("displayname")
    return name if isinstance(name, str) else None


class _RoomPushState:
    """What push conditions read from a room's current state: joined members with
    their display names, the create and power levels events (the sender's power
    level) and the notification levels; and, kept up to date member by member so that
    an event costs no walk over the whole room, the local members, who among them is
    evaluated on their own, and their IDs by lower case (state keys name them so)."""

    def __init__(self, local_suffix: str) -> None:
        self._local_suffix = local_suffix
        self.members: dict[str, str | None] = {}
        self.auth: dict[StateKey, Event] = {}
        self.levels: dict[str, int] = _notification_levels({})
        #: local joined members, in join order
        self.local: dict[str, None] = {}
        self.by_lower: dict[str, list[str]] = {}
        #: local members with rules of their own, or an ID with glob characters
        self.alone: set[str] = set()
        #: local members whose rules `check_rules` has not looked at yet
        self._unchecked: set[str] = set()
        #: the push rules generation `alone` was computed at
        self._rules_generation = -1

    def apply(self, changes: Mapping[StateKey, Event | None]) -> None:
        for key, event in changes.items():
            if key[0] == "m.room.member":
                if event is not None and event.membership == "join":
                    self.members[key[1]] = _display_name(event)
                    self._add_local(key[1])
                else:
                    self.members.pop(key[1], None)
                    self._remove_local(key[1])
            elif key in (CREATE_KEY, POWER_LEVELS_KEY):
                if event is None:
                    self.auth.pop(key, None)
                else:
                    self.auth[key] = event
                if key == POWER_LEVELS_KEY:
                    self.levels = _notification_levels(event.content if event else {})

    def _add_local(self, user_id: str) -> None:
        if not user_id.endswith(self._local_suffix) or user_id in self.local:
            return
        self.local[user_id] = None
        self.by_lower.setdefault(user_id.lower(), []).append(user_id)
        self._unchecked.add(user_id)

    def _remove_local(self, user_id: str) -> None:
        if user_id not in self.local:
            return
        del self.local[user_id]
        same = self.by_lower[user_id.lower()]
        same.remove(user_id)
        if not same:
            del self.by_lower[user_id.lower()]
        self.alone.discard(user_id)
        self._unchecked.discard(user_id)

    async def check_rules(self, push_rules: PushRulesService) -> None:
        """Bring `alone` up to date: the members who joined since, or everyone when
        anyone's push rules changed."""
        generation = push_rules.generation
        if generation != self._rules_generation:
            self._rules_generation = generation
            self.alone.clear()
            self._unchecked = set(self.local)
        if not self._unchecked:
            return
        checking, self._unchecked = self._unchecked, set()
        rulesets = await push_rules.rulesets_for_users(checking)
        self.alone.update(
            u for u in checking
            if u in self.local and (not rulesets[u].defaults_only or not globless(u))
        )
