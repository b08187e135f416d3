"""Round trips per hot request on PostgreSQL, counted with the layer's statement counter
(BEGIN and COMMIT included; docs/PERFORMANCE.md): each statement is a trip to the
server, so a send and a sync keep to a budget. A send's writes go as one statement
there, without BEGIN or COMMIT: the rows SQLite writes with a statement per table.
Reads that do not depend on each other run side by side on pooled connections, so the
round trips a request waits for one after another are held to a budget too."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Iterator
from typing import Any, TypeVar

import pytest

from ranvier.config import Config
from ranvier.protocol.filters import RoomEventFilter
from ranvier.server import HomeServer, build_homeserver
from ranvier.storage import database
from ranvier.storage.database import PostgresDatabase

from .room_helpers import User, call, create_room, make_user, ok, q, send_message
from .sync_helpers import sync

T = TypeVar("T")

#: Element's filter, as the benchmark's sync scenario sends it
ELEMENT_FILTER = {"room": {"state": {"lazy_load_members": True}, "timeline": {"limit": 20}}}

postgres_only = pytest.mark.parametrize("database_config", ["postgres"], indirect=True)


async def _statements(server: HomeServer, request: Awaitable[T]) -> tuple[int, T]:
    db = server.db
    assert isinstance(db, PostgresDatabase)
    before = db.counter.statements
    result = await request
    return db.counter.statements - before, result


@contextlib.contextmanager
def _waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts the round trips a request waits for one after another: a statement sent
    while none is in flight starts a new wait; one sent beside another (asyncio.gather
    over pooled connections) does not. The count is yielded as a one-item list."""
    waits, in_flight = [0], [0]

    def tracked(method: Any) -> Any:
        async def run(self: Any, *args: Any) -> Any:
            waits[0] += in_flight[0] == 0
            in_flight[0] += 1
            try:
                return await method(self, *args)
            finally:
                in_flight[0] -= 1

        return run

    for name in ("execute", "executemany", "fetchone", "fetchall"):
        method = getattr(database._PostgresConnection, name)
        monkeypatch.setattr(database._PostgresConnection, name, tracked(method))
    yield waits


@pytest.fixture
async def room_id(client: Any, alice: User, bob: User) -> str:
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    # Both have sent, so the next send writes push actions and a read receipt too.
    await send_message(client, bob, room_id, "first", "warm-1")
    await send_message(client, alice, room_id, "hello", "warm-2")
    return room_id


@postgres_only
async def test_a_send_takes_one_round_trip(
    client: Any, server: HomeServer, alice: User, room_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The batch's writes in one statement without BEGIN or COMMIT: the event graph's
    # rows, search, push actions, the sender's receipt. The room's extremities and
    # their state groups come from memory, and so does whether the txn ID is new (the
    # device's IDs were read on its first send, in the fixture).
    with _waits(monkeypatch) as waits:
        count, event_id = await _statements(
            server, send_message(client, alice, room_id, "hi", "t1")
        )
    assert (count, waits[0]) == (1, 1)
    db = server.db
    assert await db.fetchval(
        "SELECT user_id FROM receipts WHERE event_id = ? AND receipt_type = ?",
        event_id, "m.read.private",
    ) == alice.user_id
    assert await db.fetchval(
        "SELECT COUNT(*) FROM event_push_actions WHERE event_id = ?", event_id
    ) == 1
    assert await db.fetchval(
        "SELECT COUNT(*) FROM event_search s JOIN events e"
        " ON e.stream_ordering = s.stream_ordering WHERE e.event_id = ?", event_id
    ) == 1


@postgres_only
async def test_a_state_event_takes_two_round_trips(
    client: Any, server: HomeServer, alice: User, room_id: str
) -> None:
    # The current topic's read (the same content again would make no event), then
    # one statement: its state group and current state join the graph's rows.
    count, _ = await _statements(server, ok(
        client, "PUT", f"/rooms/{q(room_id)}/state/m.room.topic/", alice, {"topic": "t"}
    ))
    assert count == 2
    topic = await ok(client, "GET", f"/rooms/{q(room_id)}/state/m.room.topic/", alice)
    assert topic == {"topic": "t"}


@postgres_only
async def test_a_redaction_goes_as_an_ordinary_transaction(
    client: Any, server: HomeServer, alice: User, room_id: str
) -> None:
    # Marking the target updates `events`, which the graph's statement inserts into:
    # the two cannot share a snapshot, so they go one after another inside BEGIN ...
    # COMMIT, and the target is marked.
    target = await send_message(client, alice, room_id, "oops", "t2")
    count, _ = await _statements(server, ok(
        client, "PUT", f"/rooms/{q(room_id)}/redact/{q(target)}/r1", alice, {}
    ))
    assert count > 2
    stored = await server.stores.events.get_event(target)
    assert stored is not None and stored.redacted_by is not None


@postgres_only
async def test_an_incremental_sync_after_a_message_stays_within_its_budgets(
    client: Any,
    server: HomeServer,
    alice: User,
    bob: User,
    room_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    since = (await sync(client, alice, filter=ELEMENT_FILTER))["next_batch"]
    await send_message(client, bob, room_id, "news", "t1")
    with _waits(monkeypatch) as waits:
        count, body = await _statements(
            server, sync(client, alice, since=since, filter=ELEMENT_FILTER)
        )
    assert body["rooms"]["join"][room_id]["timeline"]["events"]
    # From memory: the user's memberships and join positions, the rooms with new
    # events, the device's key counts, and that the new message has no relations. No
    # forgotten-rooms read without a left room to show, no membership changes for the
    # device lists when no membership event came; the unread counts in one statement.
    # All side by side: the receipts, the unread counts, the timelines' page and the
    # events at `since`.
    assert count <= 4
    assert waits[0] <= 1


@postgres_only
async def test_an_incremental_sync_with_nothing_new_reads_nothing(
    client: Any, server: HomeServer, alice: User, room_id: str
) -> None:
    # Every stream's position is where `since` left it, and memory says so.
    since = (await sync(client, alice, filter=ELEMENT_FILTER))["next_batch"]
    count, body = await _statements(
        server, sync(client, alice, since=since, filter=ELEMENT_FILTER)
    )
    assert body["rooms"]["join"] == {}
    assert count == 0


@postgres_only
async def test_an_initial_sync_stays_within_its_budget(
    client: Any, server: HomeServer, alice: User, room_id: str
) -> None:
    count, body = await _statements(server, sync(client, alice))
    assert room_id in body["rooms"]["join"]
    # As the incremental sync: no forgotten-rooms read, the unread counts in one, no
    # relations read for events built here. The user's first sync reads their
    # memberships (then kept in memory) and takes the join positions from them.
    assert count <= 10


async def test_a_send_writes_its_graph_rows_on_either_engine(
    client: Any, server: HomeServer, alice: User, room_id: str
) -> None:
    before = await server.stores.events.get_forward_extremities(room_id)
    event_id = await send_message(client, alice, room_id, "rows", "t-rows")
    db = server.db
    stored = await server.stores.events.get_event(event_id)
    assert stored is not None
    assert await db.fetchall(
        "SELECT prev_event_id FROM event_edges WHERE event_id = ?", event_id
    ) == [(p,) for p in before]
    auth = await db.fetchall("SELECT auth_id FROM event_auth WHERE event_id = ?", event_id)
    assert sorted(a for (a,) in auth) == sorted(stored.event.auth_event_ids())
    assert await db.fetchval(
        "SELECT COUNT(*) FROM event_to_state_groups WHERE event_id = ?", event_id
    ) == 1
    assert await db.fetchall(
        "SELECT user_id, device_id, txn_id FROM event_txn_ids WHERE event_id = ?", event_id
    ) == [(alice.user_id, alice.device_id, "t-rows")]
    assert await db.fetchval(
        "SELECT event_ids FROM room_forward_extremities WHERE room_id = ?", room_id
    ) == f'["{event_id}"]'
    assert await server.stores.events.get_forward_extremities(room_id) == [event_id]


@postgres_only
async def test_a_messages_page_is_one_round_trip_beside_the_membership_check(
    client: Any,
    server: HomeServer,
    alice: User,
    room_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The page's positions, events and whether anything relates to them in one
    # statement, beside the membership check. No join positions (alice was a member at
    # every event), no relations read (nothing relates to the page's events).
    first = await ok(client, "GET", f"/rooms/{q(room_id)}/messages?dir=b&limit=2", alice)
    path = f"/rooms/{q(room_id)}/messages?dir=b&limit=2&from={first['end']}"
    with _waits(monkeypatch) as waits:
        count, body = await _statements(server, ok(client, "GET", path, alice))
    assert body["chunk"]
    assert count == 2
    assert waits[0] == 1
    # The first page too: its `start` is the newest event the page read, not a read of
    # its own.
    count, body = await _statements(
        server, ok(client, "GET", f"/rooms/{q(room_id)}/messages?dir=b&limit=2", alice)
    )
    assert body["start"] == first["start"]
    assert count == 2


@postgres_only
async def test_a_messages_page_reads_relations_and_join_positions_only_when_needed(
    client: Any, server: HomeServer, alice: User, room_id: str
) -> None:
    # Relations only for an event something relates to; the reader's join position only
    # for events from before they joined (history visibility "shared").
    original = await send_message(client, alice, room_id, "helo", "t-orig")
    await ok(client, "PUT", f"/rooms/{q(room_id)}/send/m.room.message/t-edit", alice, {
        "msgtype": "m.text", "body": "* hello",
        "m.new_content": {"msgtype": "m.text", "body": "hello"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": original},
    })
    path = f"/rooms/{q(room_id)}/messages?dir=b&limit=2"
    await ok(client, "GET", path, alice)  # reads (and caches) alice's ignored users
    count, body = await _statements(server, ok(client, "GET", path, alice))
    assert "m.relations" in body["chunk"][1]["unsigned"]
    assert count == 3
    carol = await make_user(server, "carol")
    await ok(client, "POST", f"/join/{q(room_id)}", carol, {})
    await ok(client, "GET", f"/rooms/{q(room_id)}/messages?dir=b&limit=1", carol)
    count, body = await _statements(
        server, ok(client, "GET", f"/rooms/{q(room_id)}/messages?dir=b&limit=1", carol)
    )
    assert body["chunk"][0]["state_key"] == carol.user_id
    assert count == 2
    path = f"/rooms/{q(room_id)}/messages?dir=b&limit=1&from={body['end']}"
    count, body = await _statements(server, ok(client, "GET", path, carol))
    assert body["chunk"]  # from before carol joined: shown, as she joined later
    assert count == 3


@postgres_only
async def test_a_messages_page_of_uncached_history_waits_for_two_round_trips(
    client: Any,
    server: HomeServer,
    alice: User,
    room_id: str,
    homeserver_config: Config,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A server whose caches never saw the room's events (a restart; history older
    # than the caches): the page's state groups and the reader's transaction IDs are
    # read too, side by side, after the page.
    for n in range(4):
        await send_message(client, alice, room_id, f"m{n}", f"t-old-{n}")
    cold = await build_homeserver(homeserver_config, server.db)
    try:
        async def page(from_token: str | None) -> dict[str, Any]:
            return await cold.room_reader.messages(
                alice.user_id, alice.device_id, room_id, from_token=from_token,
                to_token=None, backwards=True, limit=2, event_filter=RoomEventFilter(),
            )

        first = await page(None)  # reads what every page shares: ignored users, state
        with _waits(monkeypatch) as waits:
            count, body = await _statements(cold, page(first["end"]))
    finally:
        await cold.close()
    assert [e["unsigned"].get("transaction_id") for e in body["chunk"]] == ["t-old-1", "t-old-0"]
    assert count == 4
    assert waits[0] == 2


@postgres_only
async def test_a_refused_messages_request_reads_one_page_at_most(
    client: Any, server: HomeServer, room_id: str
) -> None:
    # The page's first read runs beside the membership check; what a filter that drops
    # every event would read next waits for the check, so an outsider costs no more.
    eve = await make_user(server, "eve")
    path = (f"/rooms/{q(room_id)}/messages?dir=b&limit=1&filter="
            + q('{"types": ["m.nothing"]}'))
    await call(client, "GET", path, eve)  # eve's token and the like, read once
    count, (status, body) = await _statements(server, call(client, "GET", path, eve))
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
    # Eve's membership, the room's history visibility, the first read.
    assert count <= 3
