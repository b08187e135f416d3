"""Notifications (client-server API "Push Notifications", "Receiving notifications"):
each new event is evaluated against the push rules of the local users it may notify,
and the results give the unread counts /sync reports per room and per thread.

Evaluation runs after the event's batch commits (an EventPersister listener), before
the sender's request returns.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from ranvier.protocol.events import Event, StateKey
from ranvier.protocol.power_levels import POWER_LEVELS_KEY, get_user_power_level
from ranvier.protocol.push_rules import (
    DEFAULT_NOTIFICATION_LEVELS,
    PushContext,
    PushRule,
    evaluate,
)
from ranvier.services.current_state import current_state_events
from ranvier.services.push_rules import PushRulesService
from ranvier.services.receipts import ReceiptsService
from ranvier.storage.events import EventsStore, StoredEvent
from ranvier.storage.notifications import NotificationsStore, PushAction
from ranvier.storage.state import StateStore

logger = logging.getLogger(__name__)

MAIN_THREAD = "main"


class NotificationsService:
    def __init__(
        self,
        store: NotificationsStore,
        push_rules: PushRulesService,
        receipts: ReceiptsService,
        state: StateStore,
        events: EventsStore,
        server_name: str,
    ) -> None:
        self._store = store
        self._push_rules = push_rules
        self._receipts = receipts
        self._state = state
        self._events = events
        self._local_suffix = ":" + server_name

    # --- at persist time ---------------------------------------------------------------

    async def on_persisted(self, room_id: str, stored: Sequence[StoredEvent]) -> None:
        """Evaluate each accepted event for its room's local members (and a local
        invitee); the user's own events never notify."""
        events = [
            s for s in stored if not (s.outlier or s.rejected_reason or s.soft_failed)
        ]
        if not events:
            return
        state = await current_state_events(self._state, self._events, room_id)
        members = [
            key[1] for key, e in state.items()
            if key[0] == "m.room.member" and e.membership == "join"
        ]
        power_levels = state.get(POWER_LEVELS_KEY)
        levels = _notification_levels(power_levels.content if power_levels else {})
        rules_cache: dict[str, list[PushRule]] = {}
        actions: list[PushAction] = []
        for s in events:
            event = s.event
            recipients = set(members)
            if event.type == "m.room.member" and event.membership == "invite":
                recipients.add(event.state_key or "")
            for user_id in sorted(u for u in recipients if u.endswith(self._local_suffix)):
                if user_id == event.sender:
                    continue
                if user_id not in rules_cache:
                    rules_cache[user_id] = await self._push_rules.rules_for_user(user_id)
                ctx = PushContext(
                    user_id=user_id,
                    room_member_count=len(members),
                    sender_power_level=get_user_power_level(event.sender, state),
                    notification_levels=levels,
                    display_name=_display_name(state, user_id),
                )
                result = evaluate(rules_cache[user_id], _evaluated(event), ctx)
                if result.notify or result.highlight:
                    actions.append(PushAction(
                        user_id, event.event_id, room_id, s.stream_ordering, thread_of(event),
                        result.notify, result.highlight, result.actions,
                    ))
        await self._store.add(actions)

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
        base = await self._receipts.latest_read_stream_ordering(user_id, room_id) or 0
        rows = await self._store.unread_after(user_id, room_id, base)
        read_up_to: dict[str, int] = {}
        counts: dict[str, tuple[int, int]] = {}
        for thread_id, position, notify, highlight in rows:
            if thread_id not in read_up_to:
                read_up_to[thread_id] = await self._receipts.latest_read_stream_ordering(
                    user_id, room_id, thread_id
                ) or 0
            if position <= read_up_to[thread_id]:
                continue
            n, h = counts.get(thread_id, (0, 0))
            counts[thread_id] = (n + int(notify), h + int(highlight))
        return counts


def thread_of(event: Event) -> str:
    """The thread an event belongs to: its root for an m.thread relation, else main."""
    relates_to = event.content.get("m.relates_to")
    if isinstance(relates_to, Mapping) and relates_to.get("rel_type") == "m.thread":
        root = relates_to.get("event_id")
        if isinstance(root, str):
            return root
    return MAIN_THREAD


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


def _display_name(state: Mapping[StateKey, Event], user_id: str) -> str | None:
    member = state.get(("m.room.member", user_id))
    name = member.content.get("displayname") if member is not None else None
    return name if isinstance(name, str) else None

