"""3. Fan-out: receivers long-poll /sync in one room while senders send into it; the
latency from the start of each send to its arrival in each receiver's sync, and a
count of messages that never arrived (must be 0)."""

from __future__ import annotations

import asyncio
import time

from bench.client import User
from bench.markers import Marker, markers_in_sync, next_batch
from bench.scenarios.common import Context, Figures, new_tag, register_users
from bench.stats import latency_summary

DEFAULTS = {"receivers": 20, "senders": 4, "messages": 50, "deadline_s": 120}
QUICK = {"receivers": 5, "senders": 2, "messages": 10, "deadline_s": 60}

# A timeline long enough that no sync in this scenario comes back `limited`.
_FILTER = {"room": {"timeline": {"limit": 1000}}}
_LONG_POLL_MS = 10_000


async def _users(ctx: Context) -> list[User]:
    if "users" not in ctx.cache:
        ctx.cache["users"] = await register_users(
            ctx.api, f"fan{new_tag()}_", ctx.size("receivers") + ctx.size("senders")
        )
    return ctx.cache["users"]  # type: ignore[no-any-return]


async def run(ctx: Context) -> Figures:
    users = await _users(ctx)
    receivers, senders = users[: ctx.size("receivers")], users[ctx.size("receivers"):]
    room_id = await senders[0].create_room(f"fanout {new_tag()}")
    for user in [*receivers, *senders[1:]]:
        await user.join(room_id)

    tag = new_tag()
    expected = {Marker(tag, s, n) for s in range(len(senders))
                for n in range(ctx.size("messages"))}
    sent_at: dict[Marker, float] = {}
    latencies: list[float] = []
    last_arrival = 0.0
    deadline = time.monotonic() + ctx.size("deadline_s")

    async def receive(user: User, since: str) -> int:
        nonlocal last_arrival
        seen: set[Marker] = set()
        while seen != expected and time.monotonic() < deadline:
            reply = await user.sync(filter=_FILTER, since=since, timeout_ms=_LONG_POLL_MS)
            arrived = time.perf_counter()
            since = next_batch(reply)
            for marker in markers_in_sync(reply, room_id, tag):
                if marker in expected and marker not in seen:
                    seen.add(marker)
                    latencies.append(arrived - sent_at[marker])
                    last_arrival = max(last_arrival, arrived)
        return len(expected - seen)

    async def send(index: int, user: User) -> None:
        for n in range(ctx.size("messages")):
            marker = Marker(tag, index, n)
            sent_at[marker] = time.perf_counter()
            await user.send_text(room_id, marker.body())

    tokens = [next_batch(await u.sync(filter=_FILTER)) for u in receivers]
    receiving = [asyncio.create_task(receive(u, t)) for u, t in zip(receivers, tokens,
                                                                     strict=True)]
    await asyncio.sleep(0.5)  # let every receiver's long poll reach the server
    start = time.perf_counter()
    await asyncio.gather(*(send(i, u) for i, u in enumerate(senders)))
    missing = await asyncio.gather(*receiving)
    if not latencies:
        raise RuntimeError("no message reached any receiver")
    return {
        **latency_summary(latencies),
        "deliveries_per_s": len(latencies) / (last_arrival - start),
        "missing_messages": float(sum(missing)),
    }
