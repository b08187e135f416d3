"""What an incremental /sync takes from memory rather than the database (docs/SYNC.md):
the user's membership events and join positions, the rooms with new events, the
device's key counts, the events known to have no relations. Each must follow every
change the server commits, including one that lands while a read that fills the memory
is in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from ranvier.server import HomeServer
from ranvier.storage.events import RoomBatch, StoredEvent
from ranvier.storage.newest_positions import NewestPositions

from .e2e_helpers import Device
from .paused_reads import pause_read
from .room_helpers import User, create_room, ok, q, send_message
from .sync_helpers import bodies, sync, timeline

#: beyond every stream position the tests reach
LATER = 2**62


async def _next(client: Any, user: User, since: str) -> tuple[dict[str, Any], str]:
    body = await sync(client, user, since=since)
    return body, body["next_batch"]


async def test_every_membership_change_reaches_the_next_sync(
    client: Any, alice: User, bob: User
) -> None:
    room_id = await create_room(client, alice, preset="private_chat")
    since = (await sync(client, bob))["next_batch"]
    steps: list[tuple[User, str, dict[str, Any], str, str]] = [
        (alice, "invite", {"user_id": bob.user_id}, "invite", ""),
        (bob, "join", {}, "join", "join"),
        (alice, "kick", {"user_id": bob.user_id}, "leave", "leave"),
        (alice, "invite", {"user_id": bob.user_id}, "invite", ""),
        (bob, "leave", {}, "leave", "leave"),  # the invite rejected
        (alice, "ban", {"user_id": bob.user_id}, "leave", "ban"),
        (alice, "unban", {"user_id": bob.user_id}, "leave", "leave"),
        (alice, "invite", {"user_id": bob.user_id}, "invite", ""),
        (bob, "join", {}, "join", "join"),
        (bob, "leave", {}, "leave", "leave"),
    ]
    for actor, action, body, section, membership in steps:
        await ok(client, "POST", f"/rooms/{q(room_id)}/{action}", actor, body)
        body, since = await _next(client, bob, since)
        shown = [name for name, found in body["rooms"].items() if room_id in found]
        assert shown == [section], (action, body["rooms"])
        if membership:
            members = [
                e["content"]["membership"] for e in timeline(body, room_id, section)
                if e["type"] == "m.room.member" and e["state_key"] == bob.user_id
            ]
            assert members[-1:] == [membership], (action, members)


async def test_a_room_created_after_the_first_sync_shows_joined(
    client: Any, alice: User
) -> None:
    since = (await sync(client, alice))["next_batch"]
    room_id = await create_room(client, alice, preset="private_chat")
    body, since = await _next(client, alice, since)
    assert room_id in body["rooms"]["join"]
    await send_message(client, alice, room_id, "later", "t1")
    body, _ = await _next(client, alice, since)
    assert bodies(timeline(body, room_id)) == ["later"]


async def test_a_join_after_the_users_memberships_were_read_opens_shared_history(
    client: Any, alice: User, bob: User
) -> None:
    # `shared` history: the events before bob's join are his once he has joined.
    room_id = await create_room(client, alice, preset="public_chat")
    await send_message(client, alice, room_id, "before bob", "t1")
    since = (await sync(client, bob))["next_batch"]  # bob's memberships now in memory
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    body, _ = await _next(client, bob, since)
    assert "before bob" in bodies(timeline(body, room_id))
    page = await ok(client, "GET", f"/rooms/{q(room_id)}/messages?dir=b&limit=10", bob)
    assert "before bob" in bodies(page["chunk"])


async def test_a_membership_committed_while_its_read_is_in_flight_is_kept(
    client: Any, server: HomeServer, alice: User, bob: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    stream = server.stores.room_stream
    paused = pause_read(server.db, monkeypatch, "FROM room_memberships")
    reading = asyncio.create_task(stream.user_memberships(bob.user_id, LATER))
    await paused.read_done.wait()
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    paused.release.set()
    assert [(r.room_id, r.membership) for r in await reading] == [(room_id, "join")]
    # and what the read left in memory has it too
    rooms = (await sync(client, bob))["rooms"]
    assert room_id in rooms["join"]


async def test_rooms_with_new_events_come_from_the_database_past_what_memory_holds(
    client: Any, server: HomeServer, alice: User
) -> None:
    first = await create_room(client, alice, preset="private_chat")
    second = await create_room(client, alice, preset="private_chat")
    since = (await sync(client, alice))["next_batch"]
    # Memory for one room only: the second room's send drops the first's entry.
    stream = server.stores.room_stream
    stream._newest_events = NewestPositions(server.stores.events.stream.current, 1)
    await send_message(client, alice, first, "one", "t1")
    await send_message(client, alice, second, "two", "t2")
    body, _ = await _next(client, alice, since)
    assert bodies(timeline(body, first)) == ["one"]
    assert bodies(timeline(body, second)) == ["two"]


async def test_a_batch_is_remembered_before_its_positions_can_reach_a_sync_token(
    client: Any, server: HomeServer, alice: User
) -> None:
    room_id = await create_room(client, alice, preset="private_chat")
    events = server.stores.events
    seen: list[tuple[int, int]] = []

    def listener(batch: RoomBatch, stored: Sequence[StoredEvent]) -> None:
        seen.append((events.stream.current, min(s.stream_ordering for s in stored)))

    events.add_commit_listener(listener)
    await send_message(client, alice, room_id, "hi", "t1")
    ((current, position),) = seen
    # The notifier hears of `stream.current`: it stops short of the batch until then.
    assert current < position
    assert events.stream.current >= position


async def test_key_counts_follow_uploads_and_claims(
    client: Any, alice: User, bob: User
) -> None:
    device = Device(alice)
    await device.upload(client, one_time_keys=device.one_time_keys(2))
    body = await sync(client, alice)
    assert body["device_one_time_keys_count"] == {"signed_curve25519": 2}
    assert body["device_unused_fallback_key_types"] == []
    since = body["next_batch"]
    wanted = {"one_time_keys": {alice.user_id: {alice.device_id: "signed_curve25519"}}}
    await ok(client, "POST", "/keys/claim", bob, wanted)
    body = await sync(client, alice, since=since)
    assert body["device_one_time_keys_count"] == {"signed_curve25519": 1}
    await device.upload(
        client, one_time_keys=device.one_time_keys(3), fallback_keys=device.fallback_key()
    )
    body = await sync(client, alice, since=body["next_batch"])
    assert body["device_one_time_keys_count"] == {"signed_curve25519": 4}
    assert body["device_unused_fallback_key_types"] == ["signed_curve25519"]


async def test_key_counts_read_while_a_claim_commits_are_not_kept(
    client: Any, server: HomeServer, alice: User, bob: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    device = Device(alice)
    await device.upload(client, one_time_keys=device.one_time_keys(2))
    store = server.stores.e2e_keys
    paused = pause_read(server.db, monkeypatch, "COUNT(*) FROM e2e_one_time_keys")
    reading = asyncio.create_task(store.key_counts(alice.user_id, alice.device_id))
    await paused.read_done.wait()
    wanted = {"one_time_keys": {alice.user_id: {alice.device_id: "signed_curve25519"}}}
    await ok(client, "POST", "/keys/claim", bob, wanted)
    paused.release.set()
    assert (await reading)[0] == {"signed_curve25519": 2}  # read before the claim
    assert (await store.key_counts(alice.user_id, alice.device_id))[0] == {
        "signed_curve25519": 1
    }


async def _react(client: Any, user: User, room_id: str, target: str, txn: str) -> str:
    content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": "+1"}}
    path = f"/rooms/{q(room_id)}/send/m.reaction/{txn}"
    return (await ok(client, "PUT", path, user, content))["event_id"]  # type: ignore[no-any-return]


async def test_a_new_relation_reaches_the_bundle_of_an_event_known_childless(
    client: Any, alice: User, bob: User
) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    target = await send_message(client, alice, room_id, "react to me", "t1")
    body = await sync(client, bob)  # known to have no relations since its commit
    assert "m.relations" not in timeline(body, room_id)[-1]["unsigned"]
    edit = {
        "msgtype": "m.text", "body": "* edited",
        "m.new_content": {"msgtype": "m.text", "body": "edited"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": target},
    }
    await ok(client, "PUT", f"/rooms/{q(room_id)}/send/m.room.message/t3", alice, edit)
    event = await ok(client, "GET", f"/rooms/{q(room_id)}/event/{q(target)}", alice)
    assert event["unsigned"]["m.relations"]["m.replace"]["content"]["body"] == "* edited"


async def test_relations_read_while_a_relation_commits_are_not_kept_as_none(
    client: Any, server: HomeServer, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    room_id = await create_room(client, alice, preset="private_chat")
    target = await send_message(client, alice, room_id, "react to me", "t1")
    relations = server.stores.relations
    relations._childless.pop(target)  # as if dropped from memory: the next read fills it
    paused = pause_read(server.db, monkeypatch, "FROM event_relations")
    reading = asyncio.create_task(relations.get_relations_for([target]))
    await paused.read_done.wait()
    reaction = await _react(client, alice, room_id, target, "t2")
    paused.release.set()
    assert await reading == []  # read before the reaction committed
    assert [r.event_id for r in await relations.get_relations_for([target])] == [reaction]
