"""8. State resolution by the protocol core alone (no server): milliseconds per
resolution of a forked room, as the room's state grows with a fixed small conflict, and
as the conflict grows in a room of fixed size. Each case is timed twice: walking auth
chains through the events (`chains walked`), and with the chains handed in as storage's
auth chain index would (`chain index`). Ranvier only: Synapse's resolver needs its
storage and reactor around it (docs/PERFORMANCE.md)."""

from __future__ import annotations

import time

from bench.scenarios.common import Figures
from bench.state_res_input import ForkedRoom, forked_room
from bench.stats import median
from ranvier.protocol.auth_chains import AuthChains
from ranvier.protocol.state_res import resolve_state

DEFAULTS = {"state_small": 1000, "state_mid": 5000, "state_large": 10_000,
            "conflict_small": 10, "conflict_mid": 100, "conflict_large": 1000, "reps": 5}
QUICK = {"state_small": 200, "state_mid": 500, "state_large": 1000,
         "conflict_small": 5, "conflict_mid": 20, "conflict_large": 50, "reps": 3}


def _time_ms(room: ForkedRoom, reps: int, indexed: bool) -> float:
    index = AuthChains(room.events, None)  # built untimed, as storage would hold it
    if indexed:
        for event_id in room.events:
            index.of(event_id)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        resolve_state(room.version, room.state_sets, room.events,
                      auth_chain_of=index.of if indexed else None)
        times.append(time.perf_counter() - start)
    return median(times) * 1000


def run(sizes: dict[str, int]) -> Figures:
    cases = [(sizes[s], sizes["conflict_small"]) for s in
             ("state_small", "state_mid", "state_large")]
    cases += [(sizes["state_mid"], sizes[c]) for c in ("conflict_mid", "conflict_large")]
    figures: Figures = {}
    for members, conflicts in cases:
        room = forked_room(members, conflicts)
        for indexed, how in ((False, "walked"), (True, "indexed")):
            name = f"state_{members}_conflict_{conflicts}_{how}_ms"
            figures[name] = _time_ms(room, sizes["reps"], indexed)
    return figures
