"""8. State resolution without a server: milliseconds per resolution of a forked room
(bench/state_res_input.py), as the room's state grows with a fixed small conflict, and
as the conflict grows in a room of fixed size.

Ranvier's resolver is timed twice: walking auth chains through the events (`walked`),
and with the chains handed in as storage's auth chain index would (`indexed`). Synapse's
resolver is timed on the very same events with an in-memory store answering from
precomputed chains (bench/synapse_state_res.py), comparable to `indexed`; a case where
the two resolved states differ is an error."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

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


_SYNAPSE_SCRIPT = Path(__file__).resolve().parent.parent / "synapse_state_res.py"


def _synapse(room: ForkedRoom, reps: int, synapse_python: str) -> tuple[float, list]:
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(room.to_json(), f)
        f.flush()
        out = subprocess.run([synapse_python, str(_SYNAPSE_SCRIPT), f.name, str(reps)],
                             check=True, capture_output=True, text=True, timeout=600)
    reply = json.loads(out.stdout)
    return reply["ms"], reply["resolved"]


def run(sizes: dict[str, int], synapse_python: str) -> dict[str, Figures]:
    """{"ranvier": figures, "synapse": figures}."""
    cases = [(sizes[s], sizes["conflict_small"]) for s in
             ("state_small", "state_mid", "state_large")]
    cases += [(sizes["state_mid"], sizes[c]) for c in ("conflict_mid", "conflict_large")]
    ranvier: Figures = {}
    synapse: Figures = {}
    for members, conflicts in cases:
        room = forked_room(members, conflicts)
        name = f"state_{members}_conflict_{conflicts}"
        ranvier[f"{name}_walked_ms"] = _time_ms(room, sizes["reps"], indexed=False)
        ranvier[f"{name}_indexed_ms"] = _time_ms(room, sizes["reps"], indexed=True)
        synapse[f"{name}_indexed_ms"], theirs = _synapse(room, sizes["reps"], synapse_python)
        ours = resolve_state(room.version, room.state_sets, room.events)
        if sorted([t, k, e] for (t, k), e in ours.items()) != theirs:
            raise RuntimeError(f"{name}: Ranvier and Synapse resolve the fork differently")
    return {"ranvier": ranvier, "synapse": synapse}
