"""State resolution: the room state before an event, from the states after its
`prev_events`. One entry point for the three algorithms (v1 for room version 1, v2 for
versions 2 to 11, v2.1 for version 12; `RoomVersion.state_res` says which).

The interface keeps I/O out while letting the caller decide how events are found:

- `state_sets` map `(type, state_key)` to event IDs; they are not modified.
- `event_map` is any `Mapping[str, Event]` and is only ever read with `[]` and `.get()`
  for the events the resolution needs, so it may be a view over a cache that storage
  has filled. It must hold the conflicted events and their auth chains, and the
  unconflicted events the auth rules consult for them (create, power levels, join
  rules, third-party invites and the members involved). An event that is absent is
  treated as unknown: an auth event that cannot be found is skipped, and (v2, v2.1)
  an event of the full conflicted set that cannot be found is left out of the
  resolution. v1 needs every conflicting event: a missing one raises `KeyError`.
- `auth_chain_of(event_id)` (v2, v2.1) returns the event's auth chain, without the
  event itself. Storage with an auth chain index should pass it: then no unconflicted
  event is read at all, only their chains, and only when the auth difference needs
  them. Without it, chains are built by walking `event_map`.
- `rejected` holds the IDs of events this server rejected; the iterative auth checks
  never use them as auth events (spec "Rejected events"), though they may still be
  accepted into the resolved state if they pass.

The result is a new dict; resolving a single state set returns a copy of it.
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence

from .auth_chains import AuthChainOf, AuthChains
from .events import Event, StateKey
from .room_versions import RoomVersion, StateResAlgorithm
from .state_res_v1 import resolve_v1
from .state_res_v2 import resolve_v2


def resolve_state(
    room_version: RoomVersion,
    state_sets: Sequence[Mapping[StateKey, str]],
    event_map: Mapping[str, Event],
    *,
    auth_chain_of: AuthChainOf | None = None,
    rejected: Container[str] = frozenset(),
) -> dict[StateKey, str]:
    """The resolution of `state_sets` under `room_version`'s algorithm."""
    if len(state_sets) <= 1:
        return dict(state_sets[0]) if state_sets else {}
    if room_version.state_res is StateResAlgorithm.V1:
        return resolve_v1(state_sets, event_map, rejected)
    chains = AuthChains(event_map, auth_chain_of)
    return resolve_v2(room_version, state_sets, event_map, chains, rejected)
