"""5. /messages back-pagination through a room of many events, from the newest to the
room's creation, one page after the other."""

from __future__ import annotations

import time

from bench.client import User
from bench.markers import pagination_end
from bench.scenarios.common import Context, Figures, fill_room, new_tag, register_users
from bench.stats import latency_summary

DEFAULTS = {"events": 10_000, "page": 100}
QUICK = {"events": 500, "page": 100}


async def _setup(ctx: Context) -> tuple[User, str]:
    if "room" not in ctx.cache:
        senders = await register_users(ctx.api, f"page{new_tag()}_", 4)
        room_id = await senders[0].create_room("pagination")
        for user in senders[1:]:
            await user.join(room_id)
        await fill_room(senders, room_id, ctx.size("events"))
        ctx.cache.update(reader=senders[0], room=room_id)
    return ctx.cache["reader"], ctx.cache["room"]


async def run(ctx: Context) -> Figures:
    reader, room_id = await _setup(ctx)
    # The room's creation events come on top of the messages; allow for them.
    max_pages = ctx.size("events") // ctx.size("page") + 10
    token: str | None = None
    received, page_times = 0, []
    start = time.perf_counter()
    for _ in range(max_pages):
        page_start = time.perf_counter()
        page = await reader.messages(room_id, since=token, limit=ctx.size("page"))
        page_times.append(time.perf_counter() - page_start)
        received += len(page.get("chunk") or [])
        token = pagination_end(page)
        if token is None:
            break
    elapsed = time.perf_counter() - start
    if received < ctx.size("events"):
        raise RuntimeError(f"paginated {received} events, expected {ctx.size('events')}+")
    return {"events_per_s": received / elapsed, **latency_summary(page_times, "page_")}
