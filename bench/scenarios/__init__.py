"""The named scenarios run against each server, in this order, each with its default
and `--quick` sizes. (Scenario 7, memory, samples each server over the whole run, and
scenario 8, state resolution, runs in the driver without a server: see bench/runner.py.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import ModuleType

from bench.scenarios import fanout, initial_sync, large_room, pagination, register, send
from bench.scenarios.common import Context, Figures


@dataclass(frozen=True)
class Scenario:
    name: str
    run: Callable[[Context], Awaitable[Figures]]
    defaults: Mapping[str, int]
    quick: Mapping[str, int]


def _scenario(name: str, module: ModuleType) -> Scenario:
    return Scenario(name, module.run, module.DEFAULTS, module.QUICK)


SERVER_SCENARIOS = (
    _scenario("register", register),
    _scenario("send", send),
    _scenario("fanout", fanout),
    _scenario("initial_sync", initial_sync),
    _scenario("pagination", pagination),
    _scenario("large_room", large_room),
)
