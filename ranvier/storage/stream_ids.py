"""Positions of a numbered stream (DESIGN principle 4) when writers commit out of order.

Writers take IDs before they commit; on PostgreSQL two transactions may commit in
either order. Readers must never see position N while an ID below N is still
uncommitted, or a /sync that read up to N would skip it for ever. So `current` is the
highest ID below which every allocated ID has finished (committed or failed).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ranvier.storage.database import Connection


class StreamIdGenerator:
    def __init__(self, current: int) -> None:
        self._current = current
        self._next = current + 1
        self._in_flight: set[int] = set()

    @classmethod
    async def load(cls, db: Connection, table: str, column: str) -> StreamIdGenerator:
        """Start after the highest ID already in `table.column` (names are ours, not input)."""
        highest = await db.fetchval(f"SELECT MAX({column}) FROM {table}")
        return cls(int(highest or 0))

    @property
    def current(self) -> int:
        """The position up to which every ID is finished."""
        return self._current

    @contextlib.contextmanager
    def allocate(self, count: int) -> Iterator[list[int]]:
        """`count` new IDs, in flight until the block exits (however it exits)."""
        ids = list(range(self._next, self._next + count))
        self._next += count
        self._in_flight.update(ids)
        try:
            yield ids
        finally:
            self._in_flight.difference_update(ids)
            self._current = (min(self._in_flight) - 1) if self._in_flight else self._next - 1
