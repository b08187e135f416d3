"""Time as the server sees it: one object, so tests can move it forward."""

from __future__ import annotations

import time


class Clock:
    def time_ms(self) -> int:
        """Milliseconds since the Unix epoch (the spec's timestamps)."""
        return int(time.time() * 1000)

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards, for intervals."""
        return time.monotonic()
