"""The event graph as stored: prev/auth edges, forward extremities, state groups stored
as deltas, state at an event, forks resolved by state resolution, and wake-ups."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ranvier.notifier import EVENTS_STREAM
from ranvier.protocol.event_builder import build_event
from ranvier.protocol.events import Event
from ranvier.protocol.room_versions import get_room_version
from ranvier.server import HomeServer
from ranvier.services.event_persister import IncomingEvent
from ranvier.storage.state import MAX_CHAIN_LENGTH, StateStore

from .room_helpers import create_room, make_user, ok, q, send_message


async def _last_event_id(server: HomeServer, room_id: str) -> str:
    return await server.db.fetchval(
        "SELECT event_id FROM events WHERE room_id = ? ORDER BY stream_ordering DESC LIMIT 1",
        room_id,
    )


@pytest.mark.parametrize("version", ["1", "10", "12"])
async def test_events_are_linked_by_prev_and_auth_edges(
    client: Any, server: HomeServer, alice, version
) -> None:
    room_id = await create_room(client, alice, room_version=version)
    head = await _last_event_id(server, room_id)
    event_id = await send_message(client, alice, room_id, "hi", "t")
    prevs = await server.db.fetchall(
        "SELECT prev_event_id FROM event_edges WHERE event_id = ?", event_id
    )
    assert prevs == [(head,)]
    auth = {r[0] for r in await server.db.fetchall(
        "SELECT auth_id FROM event_auth WHERE event_id = ?", event_id)}
    state = await server.stores.state.get_current_state(room_id)
    expected = {state[("m.room.power_levels", "")], state[("m.room.member", alice.user_id)]}
    if version != "12":  # v12 does not list the create event
        expected.add(state[("m.room.create", "")])
    assert auth == expected
    assert await server.stores.events.get_forward_extremities(room_id) == [event_id]
    chain = await server.stores.events.get_auth_chain_ids([event_id])
    assert expected <= chain
    depth = await server.db.fetchval(
        "SELECT topological_ordering FROM events WHERE event_id = ?", event_id
    )
    head_depth = await server.db.fetchval(
        "SELECT topological_ordering FROM events WHERE event_id = ?", head
    )
    assert depth == head_depth + 1


async def test_state_groups_are_deltas_not_copies(
    client: Any, server: HomeServer, alice
) -> None:
    room_id = await create_room(client, alice, room_version="10")
    for i in range(10):
        await ok(client, "PUT", f"/rooms/{q(room_id)}/state/org.example.s/{i}", alice, {"i": i})
    for i in range(5):
        await send_message(client, alice, room_id, "m", f"m{i}")
    state_events = await server.db.fetchval(
        "SELECT COUNT(*) FROM events WHERE room_id = ? AND state_key IS NOT NULL", room_id
    )
    entries = await server.db.fetchval("SELECT COUNT(*) FROM state_group_entries")
    # one entry per state event (each group adds one key to its parent), not the
    # whole state again for every event
    assert entries == state_events
    assert await server.db.fetchval(
        "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM state_group_entries"
        " GROUP BY state_group) AS per_group"
    ) == 1
    # messages share the group of the state before them
    groups = await server.db.fetchval("SELECT COUNT(*) FROM state_groups")
    assert groups == state_events + 1  # +1: the empty state before the create event


async def test_delta_chains_are_capped_by_snapshots(
    client: Any, server: HomeServer, alice
) -> None:
    room_id = await create_room(client, alice, room_version="10")
    for i in range(MAX_CHAIN_LENGTH + 5):
        await ok(client, "PUT", f"/rooms/{q(room_id)}/state/org.example.s/{i}", alice, {})
    assert await server.db.fetchval(
        "SELECT MAX(chain_length) FROM state_groups"
    ) == MAX_CHAIN_LENGTH
    snapshots = await server.db.fetchall(
        "SELECT id FROM state_groups WHERE prev_group IS NULL ORDER BY id"
    )
    assert len(snapshots) == 2
    # the second snapshot repeats every key of the state at that point
    full = await server.db.fetchval(
        "SELECT COUNT(*) FROM state_group_entries WHERE state_group = ?", snapshots[1][0]
    )
    assert full > MAX_CHAIN_LENGTH
    # reading through the snapshot (with a cold cache) gives the current state
    last = await _last_event_id(server, room_id)
    groups = await server.stores.state.get_groups_for_events([last])
    cold = StateStore(server.db)
    current = await server.stores.state.get_current_state(room_id)
    assert dict(await cold.get_state(groups[last][1])) == current


async def test_state_at_an_earlier_event_is_the_state_then(
    client: Any, server: HomeServer, alice
) -> None:
    room_id = await create_room(client, alice, name="First")
    early = await send_message(client, alice, room_id, "early", "e")
    await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.name", alice, {"name": "Second"})
    groups = await server.stores.state.get_groups_for_events([early])
    before_early = await server.stores.state.get_state(groups[early][0])
    name_id = before_early[("m.room.name", "")]
    name = await server.stores.events.get_event(name_id)
    assert name.event.content == {"name": "First"}


def _fork_event(server: HomeServer, room_id: str, version: str, prev: Event,
                auth_ids: list[str], depth: int, topic: str, ts: int) -> Event:
    return build_event(
        get_room_version(version),
        {
            "type": "m.room.topic", "state_key": "", "room_id": room_id,
            "sender": "@alice:test.local", "content": {"topic": topic},
            "prev_events": [prev.event_id], "auth_events": auth_ids, "depth": depth,
            "origin_server_ts": ts,
        },
        server_name="test.local",
        signing_key=server.signing_key,
    )


async def test_a_fork_is_resolved_and_merged_by_the_next_event(
    client: Any, server: HomeServer, alice
) -> None:
    room_id = await create_room(client, alice, room_version="10", topic="base")
    head_id = await _last_event_id(server, room_id)
    head = (await server.stores.events.get_event(head_id)).event
    state = await server.stores.state.get_current_state(room_id)
    auth_ids = [state[("m.room.create", "")], state[("m.room.power_levels", "")],
                state[("m.room.member", alice.user_id)]]
    left = _fork_event(server, room_id, "10", head, auth_ids, head.depth + 1, "left", 1000)
    right = _fork_event(server, room_id, "10", head, auth_ids, head.depth + 1, "right", 2000)
    version = get_room_version("10")
    await server.persister.persist_incoming(version, room_id, [IncomingEvent(left)])
    await server.persister.persist_incoming(version, room_id, [IncomingEvent(right)])
    extremities = set(await server.stores.events.get_forward_extremities(room_id))
    assert extremities == {left.event_id, right.event_id}
    # v2 resolution: same power, so the later origin_server_ts wins the topic
    current = await server.stores.state.get_current_state(room_id)
    assert current[("m.room.topic", "")] == right.event_id

    merge = await send_message(client, alice, room_id, "merge", "merge")
    prevs = {r[0] for r in await server.db.fetchall(
        "SELECT prev_event_id FROM event_edges WHERE event_id = ?", merge)}
    assert prevs == extremities
    assert await server.stores.events.get_forward_extremities(room_id) == [merge]


async def test_rejected_and_soft_failed_events_do_not_change_the_room(
    client: Any, server: HomeServer, alice
) -> None:
    room_id = await create_room(client, alice, room_version="10", topic="base")
    head_id = await _last_event_id(server, room_id)
    head = (await server.stores.events.get_event(head_id)).event
    state = await server.stores.state.get_current_state(room_id)
    auth_ids = [state[("m.room.create", "")], state[("m.room.power_levels", "")],
                state[("m.room.member", alice.user_id)]]
    rejected = _fork_event(server, room_id, "10", head, auth_ids, head.depth + 1, "rej", 1)
    soft = _fork_event(server, room_id, "10", head, auth_ids, head.depth + 1, "soft", 2)
    version = get_room_version("10")
    stored = await server.persister.persist_incoming(version, room_id, [
        IncomingEvent(rejected, rejected_reason="auth"),
        IncomingEvent(soft, soft_failed=True),
    ])
    assert stored[0].rejected_reason == "auth"
    assert stored[1].soft_failed
    assert await server.stores.events.get_forward_extremities(room_id) == [head_id]
    assert await server.stores.state.get_current_state(room_id) == state


async def test_outliers_are_stored_without_state(client: Any, server: HomeServer, alice) -> None:
    room_id = await create_room(client, alice, room_version="10")
    head = (await server.stores.events.get_event(await _last_event_id(server, room_id))).event
    state = await server.stores.state.get_current_state(room_id)
    event = _fork_event(server, room_id, "10", head, [state[("m.room.create", "")]],
                        head.depth + 1, "outlier", 5)
    (stored,) = await server.persister.persist_incoming(
        get_room_version("10"), room_id, [IncomingEvent(event, outlier=True)]
    )
    assert stored.outlier
    assert await server.stores.state.get_groups_for_events([event.event_id]) == {}
    assert await server.stores.events.get_forward_extremities(room_id) == [head.event_id]


async def test_concurrent_sends_are_batched_without_forking(
    client: Any, server: HomeServer, alice
) -> None:
    room_id = await create_room(client, alice)
    batches = []
    persist_batch = server.stores.events.persist_batch

    async def counted(batch: Any, *args: Any) -> Any:
        batches.append(len(batch.events))
        return await persist_batch(batch, *args)

    server.stores.events.persist_batch = counted  # type: ignore[method-assign]
    ids = await asyncio.gather(
        *[send_message(client, alice, room_id, f"m{i}", f"c{i}") for i in range(30)]
    )
    assert len(set(ids)) == 30
    # Sends that arrive together share a batch (one transaction).
    assert sum(batches) == 30 and len(batches) < 30, batches
    assert len(await server.stores.events.get_forward_extremities(room_id)) == 1
    # a linear chain: every message has exactly one prev event
    assert await server.db.fetchval(
        "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM event_edges GROUP BY event_id) AS p"
    ) == 1


async def test_notifier_wakes_a_waiter_on_a_new_event_in_its_room(
    client: Any, server: HomeServer, alice
) -> None:
    room_id = await create_room(client, alice)
    since = server.notifier.current_positions()
    waiter = asyncio.create_task(
        server.notifier.wait_for(alice.user_id, [room_id], since, timeout=10)
    )
    await asyncio.sleep(0.01)
    assert not waiter.done()
    await send_message(client, alice, room_id, "wake", "w")
    positions = await asyncio.wait_for(waiter, 5)
    position = await server.db.fetchval("SELECT MAX(stream_ordering) FROM events")
    assert positions[EVENTS_STREAM] == position


async def test_notifier_wakes_a_user_invited_to_a_room_they_do_not_watch(
    client: Any, server: HomeServer, alice
) -> None:
    bob = await make_user(server, "bob")
    room_id = await create_room(client, alice)
    since = server.notifier.current_positions()
    waiter = asyncio.create_task(server.notifier.wait_for(bob.user_id, [], since, timeout=10))
    await ok(client, "POST", f"/rooms/{q(room_id)}/invite", alice, {"user_id": bob.user_id})
    await asyncio.wait_for(waiter, 5)


async def test_notifier_times_out_without_news(server: HomeServer) -> None:
    since = server.notifier.current_positions()
    positions = await server.notifier.wait_for("@x:test.local", ["!r:test.local"], since, 0.05)
    assert positions == since
