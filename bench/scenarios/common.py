"""What every scenario gets: the server under test, its sizes, a place to keep set-up
work between repetitions, and helpers to make users and fill rooms in bounded
parallel batches."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bench.client import Api, User
from bench.servers import Server

T = TypeVar("T")

# How many requests a set-up step keeps in flight (not measured).
SETUP_CONCURRENCY = 8

Figures = dict[str, float]


@dataclass
class Context:
    api: Api
    server: Server
    sizes: Mapping[str, int]
    #: Set-up shared by the repetitions of a scenario on one server (rooms, users).
    cache: dict[str, Any] = field(default_factory=dict)

    def size(self, name: str) -> int:
        return self.sizes[name]


def new_tag() -> str:
    """A short random tag, so repetitions never reuse a name."""
    return secrets.token_hex(3)


async def bounded(
    make: Callable[[T], Awaitable[Any]], items: Iterable[T], concurrency: int
) -> list[Any]:
    """`make(item)` for every item, at most `concurrency` at a time, results in order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(item: T) -> Any:
        async with gate:
            return await make(item)

    return list(await asyncio.gather(*(one(item) for item in items)))


async def register_users(api: Api, prefix: str, count: int) -> list[User]:
    return await bounded(lambda n: api.register(f"{prefix}{n}"), range(count),
                         SETUP_CONCURRENCY)


async def fill_room(senders: list[User], room_id: str, count: int) -> None:
    """Send `count` messages into the room, spread over the senders."""
    await bounded(
        lambda n: senders[n % len(senders)].send_text(room_id, f"filler {n}"),
        range(count), SETUP_CONCURRENCY,
    )


async def timed(call: Awaitable[T]) -> tuple[T, float]:
    """The result and the wall-clock seconds it took."""
    start = time.perf_counter()
    result = await call
    return result, time.perf_counter() - start
