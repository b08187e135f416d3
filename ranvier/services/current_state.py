"""Reading a room's current state as events (directory, push, user directory)."""

from __future__ import annotations

from collections.abc import Iterable

from ranvier.protocol.events import Event, StateKey
from ranvier.storage.events import EventsStore
from ranvier.storage.state import StateStore


async def current_state_events(
    state: StateStore,
    events: EventsStore,
    room_id: str,
    keys: Iterable[StateKey] | None = None,
) -> dict[StateKey, Event]:
    """The room's current state events (only `keys`, when given), as others see them:
    a redacted state event is served pruned."""
    ids = await state.get_current_state(room_id)
    if keys is not None:
        wanted = set(keys)
        ids = {k: v for k, v in ids.items() if k in wanted}
    found = await events.get_events(ids.values())
    return {k: found[eid].served_event() for k, eid in ids.items() if eid in found}
