"""2. Message send into one room by 1 and by 8 concurrent senders: throughput, latency
of each PUT, and the server's CPU time per event."""

from __future__ import annotations

import asyncio
import time

from bench.client import User
from bench.procstat import cpu_ms
from bench.scenarios.common import Context, Figures, new_tag, register_users
from bench.stats import latency_summary

DEFAULTS = {"events": 1000, "max_senders": 8}
QUICK = {"events": 100, "max_senders": 8}


async def _senders(ctx: Context) -> list[User]:
    if "senders" not in ctx.cache:
        ctx.cache["senders"] = await register_users(
            ctx.api, f"send{new_tag()}_", ctx.size("max_senders")
        )
    return ctx.cache["senders"]  # type: ignore[no-any-return]


async def _send_phase(ctx: Context, senders: list[User], room_id: str) -> Figures:
    per_sender = ctx.size("events") // len(senders)
    latencies: list[float] = []

    async def one_sender(user: User) -> None:
        for n in range(per_sender):
            start = time.perf_counter()
            await user.send_text(room_id, f"message {n}")
            latencies.append(time.perf_counter() - start)

    cpu_before = cpu_ms(ctx.server.pid)
    start = time.perf_counter()
    await asyncio.gather(*(one_sender(u) for u in senders))
    elapsed = time.perf_counter() - start
    events = per_sender * len(senders)
    return {
        "events_per_s": events / elapsed,
        **latency_summary(latencies),
        "cpu_ms_per_event": (cpu_ms(ctx.server.pid) - cpu_before) / events,
    }


async def run(ctx: Context) -> Figures:
    everyone = await _senders(ctx)
    figures: Figures = {}
    for count in sorted({1, ctx.size("max_senders")}):
        senders = everyone[:count]
        room_id = await senders[0].create_room(f"send {new_tag()}")
        for user in senders[1:]:
            await user.join(room_id)
        phase = await _send_phase(ctx, senders, room_id)
        figures.update({f"{count}_senders_{name}": value for name, value in phase.items()})
    return figures
