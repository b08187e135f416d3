"""Helpers for the stream tests: prove that a write wakes (or does not wake) a /sync
waiting on the notifier."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable

from ranvier.server import HomeServer


@contextlib.asynccontextmanager
async def expect_wakeup(
    server: HomeServer, user_id: str, room_ids: Iterable[str], stream: str, *, woken: bool = True
) -> AsyncIterator[None]:
    """Around a write: a waiter for `user_id` in `room_ids` registered before it must
    wake (with `stream` advanced) within a second; or, with `woken=False`, must not."""
    since = server.notifier.current_positions()
    waiter = asyncio.create_task(server.notifier.wait_for(user_id, room_ids, since, 10))
    await asyncio.sleep(0)  # let the waiter register
    yield
    if woken:
        positions = await asyncio.wait_for(waiter, 1)
        assert positions[stream] > since.get(stream, 0)
    else:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(waiter), 0.2)
        assert not waiter.done(), "the waiter woke"
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiter
