"""6. A large room: users join one public room one after the other (the cost of the
10th join next to the last), then /state, /members, and sending into it."""

from __future__ import annotations

import time

from bench.client import User
from bench.scenarios.common import Context, Figures, new_tag, register_users, timed
from bench.stats import latency_summary, median

DEFAULTS = {"users": 1000, "reads": 5, "sends": 100}
QUICK = {"users": 50, "reads": 3, "sends": 20}


async def _users(ctx: Context) -> list[User]:
    if "users" not in ctx.cache:
        ctx.cache["users"] = await register_users(ctx.api, f"big{new_tag()}_",
                                                  ctx.size("users"))
    return ctx.cache["users"]  # type: ignore[no-any-return]


async def run(ctx: Context) -> Figures:
    users = await _users(ctx)
    owner = users[0]
    room_id = await owner.create_room(f"large {new_tag()}")
    joins: list[float] = []
    start = time.perf_counter()
    for user in users[1:]:
        joins.append((await timed(user.join(room_id)))[1])
    joined = time.perf_counter() - start

    state_times = [(await timed(owner.state(room_id)))[1] for _ in range(ctx.size("reads"))]
    members_times = [(await timed(owner.members(room_id)))[1]
                     for _ in range(ctx.size("reads"))]
    sends = []
    for n in range(ctx.size("sends")):
        sends.append((await timed(users[n % len(users)].send_text(room_id, f"hi {n}")))[1])
    return {
        "joins_per_s": len(joins) / joined,
        "join_10th_ms": joins[min(9, len(joins) - 1)] * 1000,
        "join_last_ms": joins[-1] * 1000,
        "join_first_10_median_ms": median(joins[:10]) * 1000,
        "join_last_10_median_ms": median(joins[-10:]) * 1000,
        "state_ms": median(state_times) * 1000,
        "members_ms": median(members_times) * 1000,
        "send_events_per_s": len(sends) / sum(sends),
        **latency_summary(sends, "send_"),
    }
