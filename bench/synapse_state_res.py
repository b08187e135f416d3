"""Times Synapse's own state resolution on the input `bench/state_res_input.py` makes.

Run with Synapse's interpreter (it imports nothing of ours):
    <synapse-venv>/bin/python bench/synapse_state_res.py INPUT.json REPS
and prints, as JSON, the median milliseconds per resolution and the resolved state
(so the caller can check both servers agree).

Synapse's resolver reads events and auth chain differences from its database; here an
in-memory store answers from auth chains computed before timing, the same footing as
Ranvier's `chain index` figure. So this times the algorithm, not Synapse's SQL.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from typing import Any

import synapse.event_auth  # noqa: F401 - first, or synapse.state's imports go in a circle
from synapse.api.room_versions import KNOWN_ROOM_VERSIONS
from synapse.events import EventBase, make_event_from_dict
from synapse.state.v2 import resolve_events_with_store
from synapse.storage.databases.main.event_federation import StateDifference


class _NoWait:
    async def sleep(self, duration: Any) -> None:
        return None


class _MemoryStore:
    def __init__(self, events: dict[str, EventBase]) -> None:
        self._events = events
        self._chains: dict[str, frozenset[str]] = {}
        for event_id in events:  # events are in topological order
            self._chains[event_id] = self._chain(event_id)

    def _chain(self, event_id: str) -> frozenset[str]:
        chain: set[str] = set()
        for auth_id in self._events[event_id].auth_event_ids():
            chain.add(auth_id)
            chain |= self._chains[auth_id]
        return frozenset(chain)

    async def get_events(self, event_ids: Any, allow_rejected: bool = False) -> dict:
        return {e: self._events[e] for e in event_ids if e in self._events}

    async def get_auth_chain_difference(
        self, room_id: str, state_sets: list[set[str]], conflicted_state: set[str] | None,
        additional_backwards_reachable_conflicted_events: set[str] | None,
    ) -> StateDifference:
        # A state set's auth chain includes its own events, as in Synapse's database.
        chains = [set().union(*(self._chains[e] | {e} for e in s)) for s in state_sets]
        difference = set.union(*chains) - set.intersection(*chains)
        subgraph = None
        if conflicted_state is not None:
            # v2.1: events on an auth path from one conflicted event to another.
            below = set().union(*(self._chains[c] for c in conflicted_state))
            subgraph = {e for e in below if self._chains[e] & conflicted_state}
            subgraph |= conflicted_state
        return StateDifference(auth_difference=difference, conflicted_subgraph=subgraph)


async def _time(data: dict[str, Any], reps: int) -> dict[str, Any]:
    version = KNOWN_ROOM_VERSIONS[data["room_version"]]
    events = {}
    for pdu in data["pdus"]:
        event = make_event_from_dict(pdu, version)
        events[event.event_id] = event
    store = _MemoryStore(events)
    state_sets = [{(t, k): e for t, k, e in s} for s in data["state_sets"]]
    times, resolved = [], {}
    for _ in range(reps):
        start = time.perf_counter()
        resolved = await resolve_events_with_store(_NoWait(), data["room_id"], version,
                                                   state_sets, {}, store)
        times.append(time.perf_counter() - start)
    return {"ms": statistics.median(times) * 1000,
            "resolved": sorted([t, k, e] for (t, k), e in resolved.items())}


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        print(json.dumps(asyncio.run(_time(json.load(f), int(sys.argv[2])))))
