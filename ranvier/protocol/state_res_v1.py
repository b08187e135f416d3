"""State resolution v1 (room version 1 only).

Spec: rooms/v1.md "State resolution". The algorithm is known to reset state (which is
why v2 replaced it); it is implemented as written, for v1 rooms.

Where the spec is silent we do what the deployed servers do, so that our resolution
agrees with theirs:
- conflicts of one phase (power levels, join rules, members) are each resolved against
  the state *R* as it stood when the phase began, so the order of keys cannot matter;
- if no candidate of an ordinary conflict passes the auth rules, the one with the lowest
  depth (highest `sha1(event_id)`) is kept rather than leaving the key empty.
"""

from __future__ import annotations

import hashlib
from collections import ChainMap
from collections.abc import Container, Mapping, Sequence

from .events import Event, StateKey
from .state_res_auth import is_allowed

#: The event types whose conflicts are resolved first, in this order, because they
#: decide what the other events are allowed to do.
_AUTH_PHASES = ("m.room.power_levels", "m.room.join_rules", "m.room.member")


def resolve_v1(
    state_sets: Sequence[Mapping[StateKey, str]],
    event_map: Mapping[str, Event],
    rejected: Container[str],
) -> dict[StateKey, str]:
    """The resolution of `state_sets`."""
    resolved, conflicts = separate_v1(state_sets)
    candidates = {
        key: [event_map[event_id] for event_id in event_ids] for key, event_ids in conflicts.items()
    }
    for event_type in _AUTH_PHASES:
        resolved.update(
            {
                key: _resolve_auth_conflict(key, events, resolved, event_map, rejected)
                for key, events in candidates.items()
                if key[0] == event_type
            }
        )
    resolved.update(
        {
            key: _resolve_other_conflict(events, resolved, event_map, rejected)
            for key, events in candidates.items()
            if key[0] not in _AUTH_PHASES
        }
    )
    return resolved


def separate_v1(
    state_sets: Sequence[Mapping[StateKey, str]],
) -> tuple[dict[StateKey, str], dict[StateKey, set[str]]]:
    """The union of the states without the conflicting keys, and the conflicting events by
    key. Unlike v2, a key that only some states hold, all with the same event, is not a
    conflict ("different event_ids for the same (event_type, state_key)")."""
    unconflicted: dict[StateKey, str] = {}
    conflicts: dict[StateKey, set[str]] = {}
    for key, event_id in set().union(*(state_set.items() for state_set in state_sets)):
        if key in conflicts:
            conflicts[key].add(event_id)
        elif key in unconflicted:
            conflicts[key] = {unconflicted.pop(key), event_id}
        else:
            unconflicted[key] = event_id
    return unconflicted, conflicts


def _sha1(event: Event) -> str:
    return hashlib.sha1(event.event_id.encode("utf-8")).hexdigest()


def _by_depth_then_sha1_descending(events: list[Event]) -> list[Event]:
    """Ascending `depth`, then descending `sha1(event_id)` (two stable sorts)."""
    return sorted(sorted(events, key=_sha1, reverse=True), key=lambda event: event.depth)


def _resolve_auth_conflict(
    key: StateKey,
    events: list[Event],
    state: Mapping[StateKey, str],
    event_map: Mapping[str, Event],
    rejected: Container[str],
) -> str:
    """Take the earliest event, then each later one while the auth rules allow it in
    the state so far; stop at the first that is not allowed."""
    first, *later = _by_depth_then_sha1_descending(events)
    trial: ChainMap[StateKey, str] = ChainMap({key: first.event_id}, state)
    for event in later:
        if not is_allowed(event, trial, event_map, rejected, fall_back_to_own_auth_events=False):
            break
        trial[key] = event.event_id
    return trial[key]


def _resolve_other_conflict(
    events: list[Event],
    state: Mapping[StateKey, str],
    event_map: Mapping[str, Event],
    rejected: Container[str],
) -> str:
    """The event with the highest depth, then lowest `sha1(event_id)`, that the auth
    rules allow in `state`."""
    ordered = _by_depth_then_sha1_descending(events)[::-1]
    for event in ordered:
        if is_allowed(event, state, event_map, rejected, fall_back_to_own_auth_events=False):
            return event.event_id
    return ordered[-1].event_id
