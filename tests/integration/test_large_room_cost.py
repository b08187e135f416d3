"""A join's work does not grow with the room (issue 5: flat per-join cost). Counted, not
timed: the entries each new state map holds of its own, and the rows each state event
writes to state groups."""

from __future__ import annotations

from math import isqrt
from typing import Any

from ranvier.protocol.events import StateKey
from ranvier.server import HomeServer
from ranvier.storage.state import NewStateGroup, StateStore
from ranvier.storage.state_map import MIN_LAYER, weight, with_entries

from .room_helpers import create_room, make_user, ok, q

MEMBERS = 120


def _member(i: int) -> StateKey:
    return ("m.room.member", f"@u{i}:test.local")


async def test_the_state_after_a_join_shares_the_state_before_it(
    client: Any, server: HomeServer
) -> None:
    owner = await make_user(server, "owner")
    room_id = await create_room(client, owner, preset="public_chat")
    for i in range(MEMBERS):
        user = await make_user(server, f"u{i}")
        await ok(client, "POST", f"/rooms/{q(room_id)}/join", user, {})
    state = server.stores.state
    join_id = await state.get_current_state_event_id(room_id, "m.room.member", user.user_id)
    assert join_id is not None
    groups = await state.get_groups_for_events([join_id])
    after = await state.get_state(groups[join_id][1])
    assert len(after) > MEMBERS
    # a copy would hold every member; a new version holds O(√members) of its own
    assert weight(after) <= MIN_LAYER + isqrt(len(after))


async def _grow(store: StateStore, room_id: str, members: int) -> list[NewStateGroup]:
    """One group per member joining, as the persister makes them."""
    first = await store.new_group(room_id, None, {("m.room.create", ""): "$create"})
    groups, parent, state = [first], first.id, first.state
    for i in range(members):
        change = {_member(i): f"$join{i}"}
        state = with_entries(state, change)
        group = await store.new_group(room_id, parent, state, changes=change)
        groups.append(group)
        parent = group.id
    return groups


async def test_rows_written_per_state_event_stay_flat_as_the_state_grows(
    server: HomeServer,
) -> None:
    store = StateStore(server.db)
    await store.start()
    groups = await _grow(store, "!big:test.local", 2_000)
    for first, last in ((100, 300), (1_800, 2_000)):
        rows = sum(len(g.entries) for g in groups[first:last])
        # snapshots come once per quarter of the state's size: at most 4 rows an event
        # on average, plus the event's own
        assert rows / (last - first) <= 5, (first, rows)


async def test_long_chains_of_a_large_room_read_back_cold(server: HomeServer) -> None:
    store = StateStore(server.db)
    await store.start()
    groups = await _grow(store, "!big:test.local", 600)
    # a key removed mid-chain (resolution may drop one) stays removed after it
    removed = await store.new_group("!big:test.local", groups[-1].id,
                                    {k: v for k, v in groups[-1].state.items()
                                     if k != _member(7)})
    later = await store.new_group("!big:test.local", removed.id,
                                  with_entries(removed.state, {_member(9): "$again"}),
                                  changes={_member(9): "$again"})
    groups += [removed, later]
    assert max(g.chain_length for g in groups) > 100
    async with server.db.transaction() as conn:
        await StateStore.write_groups(conn, groups)
    for group in groups[::37] + groups[-3:]:
        cold = StateStore(server.db)
        assert dict(await cold.get_state(group.id)) == dict(group.state)
        keys = [_member(7), _member(9), _member(599), ("m.room.create", "")]
        assert await StateStore(server.db).get_state_entries(group.id, keys) == {
            k: group.state[k] for k in keys if k in group.state}
