"""A send is one commit: the event, its push actions and the sender's implicit read
receipt are written in one transaction (docs/PERFORMANCE.md), and a batch whose
transaction fails leaves none of them behind, in the database or in memory."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import pytest

from ranvier.server import HomeServer
from ranvier.services.events import NewEvent
from ranvier.storage.database import Connection
from ranvier.storage.events import StoredEvent

from .room_helpers import User, create_room, ok, q, send_message
from .sync_helpers import sync

_READS = re.compile(r"\s*(SELECT|WITH\s+[^()]*\(\s*SELECT)\b", re.I)


@contextlib.contextmanager
def counting_commits(server: HomeServer) -> Iterator[list[str]]:
    """Each write the database commits on its own (a transaction, or a statement
    outside one), by the SQL or 'transaction'."""
    db = server.db
    commits: list[str] = []
    originals = {
        name: getattr(db, name)
        for name in ("transaction", "execute", "executemany", "fetchone", "fetchall")
    }

    @contextlib.asynccontextmanager
    async def transaction(**options: Any) -> AsyncIterator[Connection]:
        commits.append("transaction")
        async with originals["transaction"](**options) as conn:
            yield conn

    def counted(name: str) -> Any:
        async def call(sql: str, *args: Any) -> Any:
            if name.startswith("execute") or not _READS.match(sql):
                commits.append(sql)
            return await originals[name](sql, *args)

        return call

    db.transaction = transaction  # type: ignore[method-assign]
    for name in ("execute", "executemany", "fetchone", "fetchall"):
        setattr(db, name, counted(name))
    try:
        yield commits
    finally:
        for name, method in originals.items():
            setattr(db, name, method)


@pytest.fixture
async def room_id(client: Any, alice: User, bob: User, carol: User) -> str:
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    return room_id


@pytest.fixture
def failing(server: HomeServer) -> dict[str, bool]:
    """A switch: while `failing["on"]`, every batch's transaction fails half-way."""
    switch = {"on": False}

    async def fail_when_asked(conn: Connection, stored: Sequence[StoredEvent]) -> None:
        if switch["on"]:
            raise RuntimeError("disk full")

    server.stores.events.add_batch_writer(fail_when_asked)
    return switch


async def test_a_send_with_push_actions_and_a_receipt_commits_once(
    client: Any, server: HomeServer, alice: User, bob: User, room_id: str
) -> None:
    await send_message(client, bob, room_id, "first", "1")  # bob is active from now on
    await send_message(client, alice, room_id, "hello", "2")
    with counting_commits(server) as commits:
        event_id = await send_message(client, bob, room_id, "hi", "3")
    assert commits == ["transaction"]
    # ...and that one transaction holds all three.
    actions = await server.db.fetchall(
        "SELECT user_id FROM event_push_actions WHERE event_id = ?", event_id
    )
    assert actions == [(alice.user_id,)]
    receipts = (await sync(client, bob))["rooms"]["join"][room_id]["ephemeral"]["events"]
    private = [
        r for r in receipts
        if r["type"] == "m.receipt" and event_id in r["content"]
        and bob.user_id in r["content"][event_id].get("m.read.private", {})
    ]
    assert private


async def test_a_failed_batch_leaves_no_push_state_receipt_or_stuck_stream(
    client: Any, server: HomeServer, alice: User, bob: User, carol: User, room_id: str,
    failing: dict[str, bool],
) -> None:
    await send_message(client, alice, room_id, "warm the push state", "1")
    receipts_before = server.receipts.position

    failing["on"] = True
    join = NewEvent("m.room.member", carol.user_id, {"membership": "join"},
                    state_key=carol.user_id)
    message = NewEvent("m.room.message", bob.user_id, {"msgtype": "m.text", "body": "lost"},
                       read_by_sender=True)
    for new in (join, message):
        with pytest.raises(RuntimeError, match="disk full"):
            await server.event_creator.send(room_id, new)
    failing["on"] = False

    assert await server.db.fetchall("SELECT event_id FROM event_push_actions WHERE user_id = ?",
                                     carol.user_id) == []
    assert server.receipts.position == receipts_before
    # Carol's join never happened: the room's push state in memory must not count her.
    event_id = await send_message(client, alice, room_id, "after", "2")
    notified = await server.db.fetchall(
        "SELECT user_id FROM event_push_actions WHERE event_id = ?", event_id
    )
    assert notified == [(bob.user_id,)]
    # The receipts stream did not stay behind the failed batch's position.
    await send_message(client, bob, room_id, "reply", "3")
    assert server.receipts.position > receipts_before
    assert await server.notifications.unread_counts(bob.user_id, room_id) == (0, 0)


async def test_a_failed_batch_leaves_the_rooms_head_where_it_was(
    client: Any, server: HomeServer, alice: User, bob: User, room_id: str,
    failing: dict[str, bool],
) -> None:
    # The room's extremities and its events' state groups are cached in memory: only a
    # committed batch may change them.
    last = await send_message(client, alice, room_id, "committed", "1")
    failing["on"] = True
    lost = NewEvent("m.room.message", bob.user_id, {"msgtype": "m.text", "body": "lost"})
    with pytest.raises(RuntimeError, match="disk full"):
        await server.event_creator.send(room_id, lost)
    failing["on"] = False

    assert await server.stores.events.get_forward_extremities(room_id) == [last]
    after = await send_message(client, bob, room_id, "next", "2")
    stored = await server.stores.events.get_event(after)
    assert stored is not None
    assert stored.event.prev_event_ids() == [last]


async def test_a_caller_that_goes_away_still_has_its_event_written(
    client: Any, server: HomeServer, alice: User, bob: User, room_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A client that disconnects mid-send cancels its handler: the event it asked for is
    # written anyway (later events build on it), and the batch goes on without an answer
    # for it, and without an error.
    gate = asyncio.Event()
    written: list[str] = []

    async def held_at_the_gate(conn: Connection, stored: Sequence[StoredEvent]) -> None:
        written.extend(s.event.event_id for s in stored)
        await gate.wait()

    server.stores.events.add_batch_writer(held_at_the_gate)
    gone = NewEvent("m.room.message", alice.user_id, {"msgtype": "m.text", "body": "gone"})
    caller = asyncio.create_task(server.event_creator.send(room_id, gone))
    while not written:
        await asyncio.sleep(0)
    gone_ids = list(written)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    gate.set()

    after = await send_message(client, bob, room_id, "still here", "1")
    stored = await server.stores.events.get_event(after)
    assert stored is not None
    assert stored.event.prev_event_ids() == gone_ids
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
