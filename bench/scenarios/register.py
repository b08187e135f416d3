"""1. Register, then log in, N new users, a few requests in flight at a time."""

from __future__ import annotations

import time

from bench.scenarios.common import Context, Figures, bounded, new_tag

DEFAULTS = {"users": 200, "concurrency": 4}
QUICK = {"users": 20, "concurrency": 4}


async def run(ctx: Context) -> Figures:
    users, concurrency = ctx.size("users"), ctx.size("concurrency")
    prefix = f"reg{new_tag()}_"
    start = time.perf_counter()
    await bounded(lambda n: ctx.api.register(f"{prefix}{n}"), range(users), concurrency)
    registered = time.perf_counter()
    await bounded(lambda n: ctx.api.login(f"{prefix}{n}"), range(users), concurrency)
    done = time.perf_counter()
    return {
        "register_users_per_s": users / (registered - start),
        "login_users_per_s": users / (done - registered),
        "register_and_login_users_per_s": users / (done - start),
    }
