"""State resolution v2 (room versions 2 to 11) and v2.1 (room version 12).

Spec: rooms/fragments/v2-state-res.md, and rooms/v12.md "State resolution" for v2.1,
which (1) adds the conflicted state subgraph to the full conflicted set and (2) runs
the first iterative auth checks from an empty state instead of the unconflicted one.

Cost follows the conflict: the state sets are split with C-level set operations, and
only the conflicted events and their auth chains are read from `event_map`; the
unconflicted state is touched event by event only when the auth difference cannot be
settled otherwise (see `auth_difference`).

Choices where the spec leaves room, made to agree with the deployed servers:
- the auth chain of a state set includes the set's own events (so an unconflicted
  event is never in the auth difference);
- the auth DAG that orders the power events only follows `auth_events` edges that stay
  inside the full conflicted set.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import ChainMap
from collections.abc import (
    Callable,
    Collection,
    Container,
    Iterable,
    Mapping,
    MutableMapping,
    Sequence,
    Set,
)

from .auth_chains import AuthChains
from .events import Event, StateKey
from .power_levels import POWER_LEVELS_KEY
from .room_versions import RoomVersion, StateResAlgorithm
from .state_res_auth import is_allowed, sender_power_level


def resolve_v2(
    room_version: RoomVersion,
    state_sets: Sequence[Mapping[StateKey, str]],
    event_map: Mapping[str, Event],
    chains: AuthChains,
    rejected: Container[str],
) -> dict[StateKey, str]:
    """The resolution of `state_sets` (spec "Algorithm", steps 1 to 5)."""
    unconflicted, conflicted_per_set = separate(state_sets)
    if not any(conflicted_per_set):
        return unconflicted
    full_set = full_conflicted_set(
        room_version, set(unconflicted.values()), conflicted_per_set, chains
    )
    # Events the caller could not supply are left out, as are non-state events (which
    # only a malformed auth chain could bring in).
    events = {
        event_id: event
        for event_id in full_set
        if (event := event_map.get(event_id)) is not None and event.is_state()
    }

    # Step 1: the power events and their auth chains inside the full conflicted set.
    power_order = reverse_topological_power_order(
        (event_id for event_id, event in events.items() if is_power_event(event)),
        events.keys(),
        event_map,
    )
    # Step 2: v2.1 starts from nothing, so that only conflicted events are re-authed
    # against each other; v2 starts from the unconflicted state.
    base = {} if room_version.state_res is StateResAlgorithm.V2_1 else unconflicted
    state: ChainMap[StateKey, str] = ChainMap({}, base)
    iterative_auth_checks(power_order, state, event_map, rejected)

    # Steps 3 and 4: everything else, in mainline order of the power levels so far.
    picked = set(power_order)
    others = mainline_order(
        (event_id for event_id in events if event_id not in picked),
        state.get(POWER_LEVELS_KEY),
        event_map,
    )
    iterative_auth_checks(others, state, event_map, rejected)

    # Step 5: the unconflicted state wins over whatever the checks put in its keys.
    for key, event_id in state.maps[0].items():
        unconflicted.setdefault(key, event_id)
    return unconflicted


# --- definitions ------------------------------------------------------------------


def separate(
    state_sets: Sequence[Mapping[StateKey, str]],
) -> tuple[dict[StateKey, str], list[set[str]]]:
    """The unconflicted state map, and for each state set the IDs of its conflicted
    events. A key missing from any one set is conflicted."""
    common = set(state_sets[0].items())
    for state_set in state_sets[1:]:
        common.intersection_update(state_set.items())
    conflicted_per_set = [
        {event_id for _key, event_id in state_set.items() - common} for state_set in state_sets
    ]
    return dict(common), conflicted_per_set


def is_power_event(event: Event) -> bool:
    """Power levels and join rules events, and kicks and bans: the events that may take
    an ability away from someone."""
    if not event.is_state():
        return False
    if event.type in ("m.room.power_levels", "m.room.join_rules"):
        return True
    return (
        event.type == "m.room.member"
        and event.membership in ("leave", "ban")
        and event.sender != event.state_key
    )


def full_conflicted_set(
    room_version: RoomVersion,
    unconflicted_ids: Set[str],
    conflicted_per_set: Sequence[Set[str]],
    chains: AuthChains,
) -> set[str]:
    """The conflicted events, the auth difference and (v2.1) the conflicted subgraph."""
    conflicted: set[str] = set().union(*conflicted_per_set)
    full = conflicted | auth_difference(
        unconflicted_ids, conflicted_per_set, chains, known=conflicted
    )
    if room_version.state_res is StateResAlgorithm.V2_1:
        full |= conflicted_subgraph(conflicted, chains)
    return full


def auth_difference(
    unconflicted_ids: Set[str],
    conflicted_per_set: Sequence[Set[str]],
    chains: AuthChains,
    *,
    known: Set[str] = frozenset(),
) -> set[str]:
    """union(C_i) - intersection(C_i), where C_i is state set i's events and their auth
    chains, given as the unconflicted events (in every set) and each set's conflicted
    events. Events in `known` are left out of the answer: the caller has them anyway,
    and that spares proving whether they are in every C_i.

    Everything reachable from an unconflicted event is in every C_i, so the candidates
    are the events reachable from some set's conflicted events but not from every
    set's; each must then be shown not to be reachable from the unconflicted state.
    The unconflicted events met while walking the conflicted chains (create, power
    levels, join rules, ...) usually cover all the candidates; only if they do not are
    the other unconflicted events' chains consulted.
    """
    reach = [ids.union(*(chains.of(event_id) for event_id in ids)) for ids in conflicted_per_set]
    everywhere = reach[0].intersection(*reach[1:])
    anywhere: set[str] = set().union(*reach)
    candidates = anywhere - everywhere - known - unconflicted_ids
    met = unconflicted_ids & anywhere
    rest = (event_id for event_id in unconflicted_ids if event_id not in met)
    for event_id in itertools.chain(met, rest):
        if not candidates:
            break
        candidates -= chains.of(event_id)
    return candidates


def conflicted_subgraph(conflicted: Set[str], chains: AuthChains) -> set[str]:
    """v2.1: the events on some `auth_events` path from one conflicted event to another,
    endpoints included: those below a conflicted event with a conflicted event below
    them."""
    below: set[str] = set().union(*(chains.of(event_id) for event_id in conflicted))
    return set(conflicted) | {
        event_id for event_id in below if not conflicted.isdisjoint(chains.of(event_id))
    }


# --- orderings ----------------------------------------------------------------------


def reverse_topological_power_order(
    event_ids: Iterable[str], full_set: Collection[str], event_map: Mapping[str, Event]
) -> list[str]:
    """`event_ids` and the events of their auth chains within `full_set`, earliest
    first: Kahn's algorithm over the auth DAG, taking among the ready events the one
    whose sender has the highest power level, then the earliest `origin_server_ts`,
    then the smallest event ID."""
    graph: dict[str, set[str]] = {}
    stack = list(event_ids)
    while stack:
        event_id = stack.pop()
        if event_id in graph:
            continue
        edges = {a for a in event_map[event_id].auth_event_ids() if a in full_set}
        graph[event_id] = edges
        stack.extend(edges - graph.keys())

    def power_key(event_id: str) -> tuple[float, int, str]:
        event = event_map[event_id]
        return (-sender_power_level(event, event_map), event.origin_server_ts, event_id)

    return _kahn(graph, power_key)


def _kahn(graph: Mapping[str, Set[str]], key: Callable[[str], tuple[float, int, str]]) -> list[str]:
    """Topological order of `graph` (event → the events it depends on), dependencies
    first, the smallest `key` first among the ready ones. Events on a cycle, which
    only malformed events can make, are left out."""
    waiting_on = {event_id: len(edges) for event_id, edges in graph.items()}
    dependents: dict[str, list[str]] = {}
    for event_id, edges in graph.items():
        for auth_id in edges:
            dependents.setdefault(auth_id, []).append(event_id)
    ready = [(key(event_id), event_id) for event_id, n in waiting_on.items() if n == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, event_id = heapq.heappop(ready)
        order.append(event_id)
        for dependent in dependents.get(event_id, ()):
            waiting_on[dependent] -= 1
            if waiting_on[dependent] == 0:
                heapq.heappush(ready, (key(dependent), dependent))
    return order


def mainline_order(
    event_ids: Iterable[str], power_levels_id: str | None, event_map: Mapping[str, Event]
) -> list[str]:
    """`event_ids` in mainline order based on the power levels event `power_levels_id`:
    events whose power levels chain meets the mainline further back (or never) first,
    then by `origin_server_ts`, then by event ID."""
    mainline: dict[str, float] = {}
    current = power_levels_id
    while current is not None and current not in mainline:
        mainline[current] = len(mainline)
        current = _power_levels_auth_event(current, event_map)
    # Positions already found for power levels events off the mainline, so that each
    # power levels chain is walked once however many events hang from it.
    known: dict[str, float] = dict(mainline)

    def position(event_id: str) -> float:
        walked: list[str] = []
        current = _power_levels_auth_event(event_id, event_map)
        while current is not None and current not in known and current not in walked:
            walked.append(current)
            current = _power_levels_auth_event(current, event_map)
        found = known.get(current, math.inf) if current is not None else math.inf
        known.update(dict.fromkeys(walked, found))
        return found

    def mainline_key(event_id: str) -> tuple[float, int, str]:
        return (-position(event_id), event_map[event_id].origin_server_ts, event_id)

    return sorted(event_ids, key=mainline_key)


def _power_levels_auth_event(event_id: str, event_map: Mapping[str, Event]) -> str | None:
    """The `m.room.power_levels` event among the event's auth events, if any."""
    event = event_map.get(event_id)
    if event is None:
        return None
    for auth_id in event.auth_event_ids():
        auth_event = event_map.get(auth_id)
        if (
            auth_event is not None
            and auth_event.is_state()
            and auth_event.state_pair == POWER_LEVELS_KEY
        ):
            return auth_id
    return None


# --- iterative auth checks ------------------------------------------------------------


def iterative_auth_checks(
    event_ids: Iterable[str],
    state: MutableMapping[StateKey, str],
    event_map: Mapping[str, Event],
    rejected: Container[str],
) -> None:
    """Apply each event in turn to `state` if the auth rules allow it there; a key the
    rules need but `state` lacks comes from the event's own (unrejected) auth events."""
    for event_id in event_ids:
        event = event_map[event_id]
        if is_allowed(event, state, event_map, rejected, fall_back_to_own_auth_events=True):
            state[event.state_pair] = event_id
