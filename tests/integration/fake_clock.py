"""A clock for tests that move the server's time themselves (override the `clock`
fixture of conftest.py with one)."""

from __future__ import annotations

from ranvier.clock import Clock


class FakeClock(Clock):
    """Wall-clock time that only moves when a test says so."""

    def __init__(self) -> None:
        self.now = Clock().time_ms()

    def time_ms(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms
