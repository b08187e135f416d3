"""State resolution with the events it needs loaded from storage.

The protocol core resolves over plain data; this collaborator gathers that data: every
event of the state sets and of their auth chains (the auth difference needs the chains
of whole sets, and the iterative auth checks read unconflicted state too), and which of
them were rejected. Forks are rare and the event cache holds the room's state events,
so this stays cheap in practice; an auth-chain index would make it proportional to the
conflict alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ranvier.protocol.events import Event
from ranvier.protocol.room_versions import RoomVersion
from ranvier.protocol.state_res import resolve_state
from ranvier.storage.events import EventsStore
from ranvier.storage.state import StateMap


class StateResolver:
    def __init__(self, events: EventsStore) -> None:
        self._events = events

    async def resolve(
        self,
        room_version: RoomVersion,
        state_sets: Sequence[StateMap],
        pending: Mapping[str, Event],
    ) -> StateMap:
        """Resolve `state_sets`; `pending` holds events not committed yet (the event
        persister's current batch), which storage cannot supply."""
        seeds = {event_id for s in state_sets for event_id in s.values()} - pending.keys()
        seeds.update(a for event in pending.values() for a in event.auth_event_ids())
        needed = seeds | await self._events.get_auth_chain_ids(seeds)
        stored = await self._events.get_events(needed - pending.keys())
        event_map = {eid: s.event for eid, s in stored.items()}
        event_map.update(pending)
        return resolve_state(
            room_version,
            state_sets,
            event_map,
            rejected={eid for eid, s in stored.items() if s.rejected_reason is not None},
        )
