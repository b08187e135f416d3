"""How the driver runs a scenario's repetitions (bench/runner.py)."""

import gc

from bench.runner import quiet_heap


def test_a_repetition_runs_with_the_drivers_heap_frozen() -> None:
    # The driver's garbage collector must not pause inside a timed request over the
    # objects earlier repetitions left behind.
    leftover = [[] for _ in range(100)]
    with quiet_heap():
        assert gc.get_freeze_count() >= len(leftover)
    assert gc.get_freeze_count() == 0
