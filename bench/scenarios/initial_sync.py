"""4. Initial /sync of a user in many rooms full of messages, with the filter Element
uses (lazy-loaded members, 20 timeline events per room), from a new device each time;
then incremental syncs, each picking up one new message."""

from __future__ import annotations

import time

from bench.client import User
from bench.markers import Marker, joined_rooms, markers_in_sync, next_batch
from bench.scenarios.common import Context, Figures, bounded, fill_room, new_tag, timed
from bench.stats import latency_summary

DEFAULTS = {"rooms": 50, "messages": 100, "incremental": 20}
QUICK = {"rooms": 5, "messages": 20, "incremental": 5}

ELEMENT_FILTER = {"room": {"state": {"lazy_load_members": True}, "timeline": {"limit": 20}}}
_POLL_MS = 10_000
_MAX_POLLS = 10  # per incremental sync: the message is there after one or two


async def _setup(ctx: Context) -> tuple[str, User, list[str]]:
    if "rooms" not in ctx.cache:
        prefix = f"isync{new_tag()}_"
        reader, writer = await ctx.api.register(prefix + "reader"), await ctx.api.register(
            prefix + "writer")

        # One room at a time: a user's concurrent createRoom calls are not what this
        # measures (and may collide on identical create events in v12).
        rooms = []
        for n in range(ctx.size("rooms")):
            rooms.append(await reader.create_room(f"sync {n}"))
            await writer.join(rooms[-1])
        await bounded(lambda r: fill_room([reader, writer], r, ctx.size("messages")), rooms, 4)
        ctx.cache.update(reader=reader.localpart, writer=writer, rooms=rooms)
    return ctx.cache["reader"], ctx.cache["writer"], ctx.cache["rooms"]


async def run(ctx: Context) -> Figures:
    reader_name, writer, rooms = await _setup(ctx)
    reader = await ctx.api.login(reader_name)  # a new device: nothing cached for it
    reply, initial = await timed(reader.sync(filter=ELEMENT_FILTER))
    if len(joined_rooms(reply)) != len(rooms):
        raise RuntimeError(f"initial sync has {len(joined_rooms(reply))} rooms, "
                           f"expected {len(rooms)}")
    since = next_batch(reply)

    tag, latencies = new_tag(), []
    for n in range(ctx.size("incremental")):
        room_id = rooms[n % len(rooms)]
        marker = Marker(tag, 0, n)
        await writer.send_text(room_id, marker.body())
        start = time.perf_counter()
        for _ in range(_MAX_POLLS):
            reply = await reader.sync(filter=ELEMENT_FILTER, since=since, timeout_ms=_POLL_MS)
            since = next_batch(reply)
            if marker in set(markers_in_sync(reply, room_id, tag)):
                break
        else:
            raise RuntimeError(f"message {n} did not reach the incremental sync")
        latencies.append(time.perf_counter() - start)
    return {"initial_sync_ms": initial * 1000, **latency_summary(latencies, "incremental_")}
