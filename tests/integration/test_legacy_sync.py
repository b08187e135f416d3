"""The deprecated read APIs: GET /events, /initialSync, /rooms/{roomId}/initialSync,
/events/{eventId} (old_sync.yaml, peeking_events.yaml, room_initial_sync.yaml), and
POST /rooms/{roomId}/send/{eventType} without a transaction ID."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ranvier.server import HomeServer, create_app
from tests.integration.room_helpers import User, call, create_room, ok, q, send_message


@pytest.fixture
async def unchecked(server: HomeServer, aiohttp_client: Any) -> Any:
    """A client without the OpenAPI check, for GET /events: v1.19 types its `chunk`
    as room events only, but /events has always carried the user's typing, receipts,
    presence and account data too (r0, Synapse, SyTest), and we keep that
    (docs/COMPATIBILITY.md)."""
    return await aiohttp_client(create_app(server, resources=None))


async def events(client: Any, user: User, **params: Any) -> Any:
    query = "&".join(f"{k}={q(str(v))}" for k, v in params.items())
    return await ok(client, "GET", f"/events?{query}", user)


async def test_events_without_from_starts_now(
    client: Any, unchecked: Any, alice: User
) -> None:
    room_id = await create_room(client, alice)
    await send_message(client, alice, room_id, "before", "t1")
    body = await events(unchecked, alice, timeout=0)
    assert body["chunk"] == [] and body["start"] == body["end"]


async def test_events_returns_new_room_events_with_their_room(
    client: Any, unchecked: Any, alice: User
) -> None:
    room_id = await create_room(client, alice)
    start = (await events(unchecked, alice, timeout=0))["end"]
    event_id = await send_message(client, alice, room_id, "hello", "t1")
    body = await events(unchecked, alice, **{"from": start, "timeout": 0})
    messages = [e for e in body["chunk"] if e["type"] == "m.room.message"]
    assert [(e["event_id"], e["room_id"]) for e in messages] == [(event_id, room_id)]
    again = await events(unchecked, alice, **{"from": body["end"], "timeout": 0})
    assert [e for e in again["chunk"] if e["type"] == "m.room.message"] == []


async def test_events_pages_by_limit_without_skipping(
    client: Any, unchecked: Any, alice: User
) -> None:
    room_id = await create_room(client, alice)
    token = (await events(unchecked, alice, timeout=0))["end"]
    sent = [await send_message(client, alice, room_id, f"m{i}", f"t{i}") for i in range(7)]
    seen: list[str] = []
    for _ in range(5):
        body = await events(unchecked, alice, **{"from": token, "timeout": 0, "limit": 3})
        assert len([e for e in body["chunk"] if "event_id" in e]) <= 3
        seen += [e["event_id"] for e in body["chunk"] if e["type"] == "m.room.message"]
        token = body["end"]
    assert seen == sent


async def test_events_long_polls_until_something_happens(
    client: Any, unchecked: Any, alice: User
) -> None:
    room_id = await create_room(client, alice)
    token = (await events(unchecked, alice, timeout=0))["end"]
    waiting = asyncio.ensure_future(events(unchecked, alice, **{"from": token, "timeout": 10000}))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    event_id = await send_message(client, alice, room_id, "wake", "t1")
    body = await asyncio.wait_for(waiting, 5)
    assert event_id in [e.get("event_id") for e in body["chunk"]]


async def test_events_carries_typing_and_account_data(
    client: Any, unchecked: Any, alice: User
) -> None:
    room_id = await create_room(client, alice)
    token = (await events(unchecked, alice, timeout=0))["end"]
    user = q(alice.user_id)
    await ok(client, "PUT", f"/rooms/{q(room_id)}/typing/{user}", alice,
             {"typing": True, "timeout": 30000})
    await ok(client, "PUT", f"/user/{user}/account_data/my.type", alice, {"a": 1})
    await ok(client, "PUT", f"/user/{user}/rooms/{q(room_id)}/tags/work", alice, {})
    body = await events(unchecked, alice, **{"from": token, "timeout": 0})
    by_type = {e["type"]: e for e in body["chunk"]}
    assert by_type["m.typing"]["room_id"] == room_id
    assert by_type["m.typing"]["content"]["user_ids"] == [alice.user_id]
    assert by_type["my.type"]["content"] == {"a": 1} and "room_id" not in by_type["my.type"]
    assert by_type["m.tag"]["room_id"] == room_id
    assert "work" in by_type["m.tag"]["content"]["tags"]


async def test_events_with_a_bad_from_token_is_invalid_param(
    client: Any, alice: User
) -> None:
    status, body = await call(client, "GET", "/events?from=nonsense", alice)
    assert (status, body["errcode"]) == (400, "M_INVALID_PARAM")


async def test_events_of_a_room_the_user_cannot_read_is_forbidden(
    client: Any, alice: User, bob: User
) -> None:
    room_id = await create_room(client, alice)
    status, body = await call(client, "GET", f"/events?room_id={q(room_id)}", bob)
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")


async def test_initial_sync_lists_rooms_with_messages_and_state(
    client: Any, unchecked: Any, alice: User, bob: User
) -> None:
    joined = await create_room(client, alice, name="Joined")
    event_id = await send_message(client, alice, joined, "hi", "t1")
    left = await create_room(client, alice)
    await ok(client, "POST", f"/rooms/{q(left)}/leave", alice, {})
    invited = await create_room(client, bob)
    await ok(client, "POST", f"/rooms/{q(invited)}/invite", bob, {"user_id": alice.user_id})

    body = await ok(client, "GET", "/initialSync?limit=5", alice)
    rooms = {r["room_id"]: r for r in body["rooms"]}
    assert set(rooms) == {joined, invited}
    room = rooms[joined]
    assert room["membership"] == "join"
    assert room["messages"]["chunk"][-1]["event_id"] == event_id
    assert len(room["messages"]["chunk"]) <= 5
    names = [e for e in room["state"] if e["type"] == "m.room.name"]
    assert names[0]["content"]["name"] == "Joined"
    assert rooms[invited]["membership"] == "invite"
    assert rooms[invited]["invite"]["content"]["membership"] == "invite"
    # `end` is where /events continues.
    after = await events(unchecked, alice, **{"from": body["end"], "timeout": 0})
    assert [e for e in after["chunk"] if e["type"] == "m.room.message"] == []

    archived = await ok(client, "GET", "/initialSync?archived=true", alice)
    assert {r["room_id"]: r["membership"] for r in archived["rooms"]}[left] == "leave"


async def test_room_initial_sync_gives_messages_in_order_and_state(
    client: Any, unchecked: Any, alice: User
) -> None:
    room_id = await create_room(client, alice)
    sent = [await send_message(client, alice, room_id, f"m{i}", f"t{i}") for i in range(3)]
    body = await ok(client, "GET", f"/rooms/{q(room_id)}/initialSync", alice)
    assert body["room_id"] == room_id and body["membership"] == "join"
    chunk_ids = [e["event_id"] for e in body["messages"]["chunk"]]
    assert chunk_ids[-3:] == sent
    assert any(e["type"] == "m.room.create" for e in body["state"])
    later = await send_message(client, alice, room_id, "later", "t9")
    after = await events(unchecked, alice, **{"from": body["messages"]["end"], "timeout": 0})
    assert [e["event_id"] for e in after["chunk"] if "event_id" in e] == [later]


async def test_room_initial_sync_of_a_private_room_is_forbidden_to_others(
    client: Any, alice: User, bob: User
) -> None:
    room_id = await create_room(client, alice)
    status, body = await call(client, "GET", f"/rooms/{q(room_id)}/initialSync", bob)
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")


async def test_get_event_by_id_alone(client: Any, alice: User, bob: User) -> None:
    room_id = await create_room(client, alice)
    event_id = await send_message(client, alice, room_id, "hi", "t1")
    event = await ok(client, "GET", f"/events/{q(event_id)}", alice)
    assert event["event_id"] == event_id and event["room_id"] == room_id
    status, _ = await call(client, "GET", f"/events/{q(event_id)}", bob)
    assert status in (403, 404)
    status, body = await call(client, "GET", f"/events/{q('$nope')}", alice)
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")


async def test_post_send_without_txn_id_sends_each_time(client: Any, alice: User) -> None:
    room_id = await create_room(client, alice)
    content = {"msgtype": "m.text", "body": "again"}
    first = await ok(client, "POST", f"/rooms/{q(room_id)}/send/m.room.message", alice, content)
    second = await ok(client, "POST", f"/rooms/{q(room_id)}/send/m.room.message", alice, content)
    assert first["event_id"] != second["event_id"]


@pytest.mark.parametrize("config_overrides", [{"allow_guest_access": True}])
async def test_guest_peeks_a_world_readable_room_through_events(
    client: Any, unchecked: Any, server: HomeServer, alice: User
) -> None:
    guest_body = await ok(client, "POST", "/register?kind=guest", None, {})
    guest = User(guest_body["user_id"], guest_body["device_id"], guest_body["access_token"])
    status, body = await call(client, "GET", "/events?timeout=0", guest)
    assert (status, body["errcode"]) == (400, "M_MISSING_PARAM")

    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.history_visibility/", alice,
             {"history_visibility": "world_readable"})
    synced = await ok(client, "GET", f"/rooms/{q(room_id)}/initialSync", guest)
    assert "membership" not in synced
    token = synced["messages"]["end"]
    event_id = await send_message(client, alice, room_id, "look", "t1")
    body = await events(unchecked, guest, room_id=room_id, timeout=0, **{"from": token})
    assert [e["event_id"] for e in body["chunk"] if "event_id" in e] == [event_id]
    # Nothing new: an empty chunk, not the same events again (no client tight loop).
    again = await events(unchecked, guest, room_id=room_id, timeout=0, **{"from": body["end"]})
    assert again["chunk"] == []


async def test_initial_sync_shows_own_presence_and_account_data(
    client: Any, alice: User
) -> None:
    user = q(alice.user_id)
    await ok(client, "PUT", f"/presence/{user}/status", alice, {"presence": "online"})
    await ok(client, "PUT", f"/user/{user}/account_data/my.type", alice, {"a": 1})
    body = await ok(client, "GET", "/initialSync", alice)
    (own,) = [p for p in body["presence"] if p["content"].get("user_id") == alice.user_id]
    assert own["type"] == "m.presence" and own["content"]["presence"] == "online"
    # The account data the user stored: push rules have their own API here.
    assert body["account_data"] == [{"type": "my.type", "content": {"a": 1}}]


async def test_initial_syncs_carry_the_joined_rooms_read_receipts(
    client: Any, alice: User
) -> None:
    # Not in the v1.19 schemas, but Synapse sends them and SyTest (21receipts.pl,
    # 11leaving.pl) reads them.
    room_id = await create_room(client, alice)
    event_id = await send_message(client, alice, room_id, "hi", "t1")
    await ok(client, "POST", f"/rooms/{q(room_id)}/receipt/m.read/{q(event_id)}", alice, {})
    body = await ok(client, "GET", "/initialSync", alice)
    (receipt,) = [r for r in body["receipts"] if r["room_id"] == room_id]
    assert receipt["type"] == "m.receipt"
    assert isinstance(receipt["content"][event_id]["m.read"][alice.user_id]["ts"], int)
    room = await ok(client, "GET", f"/rooms/{q(room_id)}/initialSync", alice)
    assert [r["content"] for r in room["receipts"]] == [receipt["content"]]
    await ok(client, "POST", f"/rooms/{q(room_id)}/leave", alice, {})
    left = await ok(client, "GET", f"/rooms/{q(room_id)}/initialSync", alice)
    assert (left["membership"], left["receipts"]) == ("leave", [])


async def test_room_initial_sync_has_a_start_even_with_the_whole_history(
    client: Any, alice: User
) -> None:
    room_id = await create_room(client, alice)
    body = await ok(client, "GET", f"/rooms/{q(room_id)}/initialSync?limit=50", alice)
    start = body["messages"]["start"]
    assert body["messages"]["chunk"][0]["type"] == "m.room.create"
    older = await ok(client, "GET", f"/rooms/{q(room_id)}/messages?dir=b&from={start}", alice)
    assert older["chunk"] == []
    # with more history than the limit, `start` continues where the chunk stops
    body = await ok(client, "GET", f"/rooms/{q(room_id)}/initialSync?limit=2", alice)
    older = await ok(
        client, "GET",
        f"/rooms/{q(room_id)}/messages?dir=b&limit=1&from={body['messages']['start']}", alice,
    )
    assert older["chunk"][0]["event_id"] != body["messages"]["chunk"][0]["event_id"]


async def test_initial_sync_gives_visibility_and_own_presence_of_a_new_user(
    client: Any, alice: User, bob: User
) -> None:
    body = await ok(client, "GET", "/initialSync", bob)
    # Bob has no room and was never online: his own presence is there all the same.
    (own,) = body["presence"]
    assert own["content"] == {"presence": "offline", "user_id": bob.user_id}
    public = await create_room(client, alice, visibility="public")
    private = await create_room(client, alice)
    body = await ok(client, "GET", "/initialSync", alice)
    visibility = {r["room_id"]: r["visibility"] for r in body["rooms"]}
    assert visibility == {public: "public", private: "private"}


async def test_legacy_events_carry_user_id_and_room_initial_sync_the_members_presence(
    client: Any, alice: User, bob: User
) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/rooms/{q(room_id)}/join", bob, {})
    user = q(alice.user_id)
    await ok(client, "PUT", f"/presence/{user}/status", alice,
             {"presence": "online", "status_msg": "Online"})
    body = await ok(client, "GET", f"/rooms/{q(room_id)}/initialSync", alice)
    members = {e["user_id"]: e for e in body["state"] if e["type"] == "m.room.member"}
    assert set(members) == {alice.user_id, bob.user_id}
    assert all(e["user_id"] == e["sender"] for e in body["messages"]["chunk"])
    presence = {p["content"]["user_id"]: p["content"] for p in body["presence"]}
    assert set(presence) == {alice.user_id, bob.user_id}
    assert (presence[alice.user_id]["presence"], presence[alice.user_id]["status_msg"]) == (
        "online", "Online"
    )
    rooms = (await ok(client, "GET", "/initialSync", alice))["rooms"]
    (room,) = [r for r in rooms if r["room_id"] == room_id]
    assert all(e["user_id"] == e["sender"] for e in room["state"] + room["messages"]["chunk"])


async def test_events_of_one_room_carry_its_members_presence_to_a_peeker(
    client: Any, unchecked: Any, alice: User, bob: User
) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.history_visibility/", alice,
             {"history_visibility": "world_readable"})
    token = (await events(unchecked, bob, room_id=room_id, timeout=0))["end"]
    for user in (alice, bob):  # Bob is not in the room: his presence is not its news
        await ok(client, "PUT", f"/presence/{q(user.user_id)}/status", user,
                 {"presence": "online", "status_msg": "lemurs"})
    body = await events(unchecked, bob, room_id=room_id, timeout=0, **{"from": token})
    presence = [e for e in body["chunk"] if e["type"] == "m.presence"]
    assert [(p["content"]["user_id"], p["content"]["status_msg"]) for p in presence] == [
        (alice.user_id, "lemurs")
    ]
