"""The event and state-group caches under tight bounds (`caches` in
docs/CONFIGURATION.md): what they hand back equals what the database holds, whether it
comes from the cache, from the compact form of a group, or from a cold read, and the
event cache never holds more than its bound in bytes of JSON."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import orjson
import pytest

from ranvier.protocol.events import StateKey
from ranvier.server import HomeServer
from ranvier.storage.database import Database
from ranvier.storage.state import MAX_CHAIN_LENGTH, StateStore

from .room_helpers import create_room, make_user, ok, q, send_message

EVENT_CACHE_BYTES = 3000


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    # A few events and a few state entries: nearly every read evicts something.
    return {"caches": {"event_cache_size": EVENT_CACHE_BYTES, "state_cache_entries": 5}}


async def _state_from_rows(db: Database, group: int) -> dict[StateKey, str]:
    """A group's state computed straight from the stored rows, oldest delta last."""
    chain: list[int] = []
    gid: int | None = group
    while gid is not None:
        chain.append(gid)
        gid = await db.fetchval("SELECT prev_group FROM state_groups WHERE id = ?", gid)
    state: dict[StateKey, str] = {}
    for gid in reversed(chain):
        for etype, skey, event_id in await db.fetchall(
            "SELECT type, state_key, event_id FROM state_group_entries WHERE state_group = ?",
            gid,
        ):
            if event_id is None:
                state.pop((etype, skey), None)
            else:
                state[(etype, skey)] = event_id
    return state


async def test_state_groups_read_back_equal_to_their_rows(
    client: Any, server: HomeServer
) -> None:
    alice = await make_user(server, "alice")
    room_id = await create_room(client, alice, room_version="10")
    # Past one snapshot, with keys set more than once so later deltas override.
    for i in range(MAX_CHAIN_LENGTH + 10):
        await ok(client, "PUT", f"/rooms/{q(room_id)}/state/org.example.s/{i % 7}", alice,
                 {"i": i})
    # A delta that removes a key (state resolution can drop one), written as the
    # persister writes groups.
    state = server.stores.state
    last = int(await server.db.fetchval("SELECT MAX(id) FROM state_groups"))
    without = dict(await state.get_state(last))
    del without[("org.example.s", "3")]
    removal = await state.new_group(room_id, last, without)
    async with server.db.transaction() as conn:
        await StateStore.write_groups(conn, [removal])
    assert removal.entries == {("org.example.s", "3"): None}

    groups = [r[0] for r in await server.db.fetchall("SELECT id FROM state_groups")]
    keys = [("org.example.s", str(i)) for i in range(8)] + [("m.room.create", "")]
    for store in (state, StateStore(server.db, 1), StateStore(server.db)):
        for group in groups:
            expected = await _state_from_rows(server.db, group)
            assert dict(await store.get_state(group)) == expected
            # One key at a time, from the compact form: evict the full maps first.
            cold = StateStore(server.db)
            assert await cold.get_state_entries(group, keys) == {
                k: expected[k] for k in keys if k in expected
            }
    assert ("org.example.s", "3") not in await state.get_state(removal.id)


async def test_new_groups_are_merged_deltas_of_their_snapshot(server: HomeServer) -> None:
    state = StateStore(server.db)
    first = await state.new_group("!r:x", None, {("a", ""): "$1"})
    second = await state.new_group("!r:x", first.id, {("a", ""): "$1", ("b", ""): "$2"})
    third = await state.new_group("!r:x", second.id, {("b", ""): "$3"})
    assert (third.prev_group, third.entries) == (second.id, {("b", ""): "$3", ("a", ""): None})
    async with server.db.transaction() as conn:
        await StateStore.write_groups(conn, [first, second, third])
    # The compact form of the third group answers both keys without its parent's map.
    compact = state._groups.get(third.id)
    assert compact is not None and compact.root == first.id
    assert compact.entries == {("b", ""): "$3", ("a", ""): None}
    assert await state.get_state_entries(third.id, [("a", ""), ("b", "")]) == {("b", ""): "$3"}
    assert await state.get_state(third.id) == MappingProxyType({("b", ""): "$3"})


async def test_event_cache_holds_its_bound_in_bytes_and_equal_events(
    client: Any, server: HomeServer
) -> None:
    alice = await make_user(server, "alice")
    room_id = await create_room(client, alice)
    sent = [await send_message(client, alice, room_id, "x" * (i * 40), f"t{i}")
            for i in range(30)]
    events = server.stores.events
    assert 0 < events._cache.weight <= EVENT_CACHE_BYTES
    rows = dict(await server.db.fetchall(
        f"SELECT event_id, json FROM events WHERE event_id IN ({','.join('?' * len(sent))})",
        *sent,
    ))
    # Twice: the first read fills the cache from the database, the second hits it.
    for _ in range(2):
        found = await events.get_events(sent)
        assert {eid: s.event.pdu for eid, s in found.items()} == {
            eid: orjson.loads(js) for eid, js in rows.items()
        }
        assert events._cache.weight <= EVENT_CACHE_BYTES
