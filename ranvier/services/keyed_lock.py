"""One asyncio lock per key, for read-modify-write sequences on one user's data.

The lock only serializes within this process, which is where every writer runs today;
a multi-process deployment will need the writes routed to one process per user.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class KeyedLock:
    def __init__(self) -> None:
        # key -> (lock, number of holders and waiters): dropped when nobody needs it.
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
