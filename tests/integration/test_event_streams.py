"""Stream positions when batches commit out of order, and what the notifier is told."""

from __future__ import annotations

import asyncio

from ranvier.notifier import EVENTS_STREAM, Notifier
from ranvier.storage.stream_ids import StreamIdGenerator


def test_current_position_waits_for_earlier_ids_still_in_flight() -> None:
    gen = StreamIdGenerator(10)
    with gen.allocate(2) as first:
        assert first == [11, 12]
        with gen.allocate(1) as second:
            assert second == [13]
        # 13 is done but 11 and 12 are not: readers must not see past 10
        assert gen.current == 10
    assert gen.current == 13


def test_a_failed_writer_does_not_hold_the_stream_back() -> None:
    gen = StreamIdGenerator(0)
    try:
        with gen.allocate(1):
            raise RuntimeError("transaction failed")
    except RuntimeError:
        pass
    with gen.allocate(1) as ids:
        assert ids == [2]
    assert gen.current == 2


async def test_a_late_waiter_returns_at_once_for_a_change_it_has_not_seen() -> None:
    notifier = Notifier()
    notifier.on_new_event(5, "!room:x", ["@u:x"])
    positions = await asyncio.wait_for(
        notifier.wait_for("@other:x", ["!room:x"], {EVENTS_STREAM: 4}, timeout=30), 1
    )
    assert positions[EVENTS_STREAM] == 5


async def test_changes_elsewhere_do_not_wake_a_waiter() -> None:
    notifier = Notifier()
    waiter = asyncio.create_task(
        notifier.wait_for("@me:x", ["!mine:x"], notifier.current_positions(), timeout=0.2)
    )
    await asyncio.sleep(0.01)
    notifier.on_new_event(1, "!elsewhere:x", ["@someone:x"])
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await waiter
