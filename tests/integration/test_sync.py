"""/sync: initial and incremental syncs, long-polling, limited timelines, state."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from ranvier.server import HomeServer

from .room_helpers import call, create_room, make_user, ok, q, send_message
from .sync_helpers import bodies, sync, sync_raw, timeline


@pytest.fixture
async def alice(server: HomeServer):
    return await make_user(server, "alice", device_id="ALICEDEV")


@pytest.fixture
async def room_id(client: Any, alice, bob) -> str:
    room = await create_room(client, alice, preset="public_chat", name="Chat")
    await ok(client, "POST", f"/join/{q(room)}", bob, {})
    return room


async def test_initial_sync_shows_joined_room_with_state_and_timeline(
    client: Any, alice, room_id
) -> None:
    await send_message(client, alice, room_id, "hello", "t1")
    body = await sync(client, alice)
    assert body["next_batch"].startswith("s")
    room = body["rooms"]["join"][room_id]
    state_types = {e["type"] for e in room["state"]["events"]}
    timeline_types = {e["type"] for e in room["timeline"]["events"]}
    # every state type is either in state or in the timeline
    assert {"m.room.create", "m.room.power_levels", "m.room.name"} <= state_types | timeline_types
    assert bodies(room["timeline"]["events"])[-1] == "hello"
    assert room["summary"]["m.joined_member_count"] == 2
    assert "room_id" not in room["timeline"]["events"][0]
    # the sender's device sees its transaction ID
    mine = room["timeline"]["events"][-1]
    assert mine["unsigned"]["transaction_id"] == "t1"


async def test_initial_sync_limits_timeline_and_gives_prev_batch(
    client: Any, alice, room_id
) -> None:
    for i in range(15):
        await send_message(client, alice, room_id, f"m{i}", f"t{i}")
    body = await sync(client, alice)
    room = body["rooms"]["join"][room_id]
    assert room["timeline"]["limited"] is True
    assert bodies(room["timeline"]["events"]) == [f"m{i}" for i in range(5, 15)]
    assert room["timeline"]["prev_batch"]


async def test_incremental_sync_returns_only_new_events(
    client: Any, alice, bob, room_id
) -> None:
    await send_message(client, alice, room_id, "old", "t1")
    first = await sync(client, bob)
    await send_message(client, alice, room_id, "new", "t2")
    second = await sync(client, bob, since=first["next_batch"])
    room = second["rooms"]["join"][room_id]
    assert bodies(room["timeline"]["events"]) == ["new"]
    assert room["timeline"]["limited"] is False
    assert room["state"]["events"] == []
    # and nothing again after that
    third = await sync(client, bob, since=second["next_batch"])
    assert third["rooms"]["join"] == {}


async def test_long_poll_wakes_on_send(client: Any, alice, bob, room_id) -> None:
    first = await sync(client, bob)
    waiting = asyncio.create_task(sync(client, bob, since=first["next_batch"], timeout=10000))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    started = time.monotonic()
    await send_message(client, alice, room_id, "wake up", "t1")
    body = await asyncio.wait_for(waiting, 5)
    assert time.monotonic() - started < 1
    assert bodies(timeline(body, room_id)) == ["wake up"]


async def test_long_poll_times_out_empty(client: Any, bob, room_id) -> None:
    first = await sync(client, bob)
    started = time.monotonic()
    body = await sync(client, bob, since=first["next_batch"], timeout=300)
    assert time.monotonic() - started >= 0.29
    assert body["rooms"]["join"] == {}
    assert body["next_batch"] == first["next_batch"]


async def test_incremental_limited_sync_sends_state_changed_in_gap(
    client: Any, alice, bob, room_id
) -> None:
    first = await sync(client, bob)
    await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.topic", alice, {"topic": "gap"})
    for i in range(12):
        await send_message(client, alice, room_id, f"m{i}", f"t{i}")
    body = await sync(client, bob, since=first["next_batch"])
    room = body["rooms"]["join"][room_id]
    assert room["timeline"]["limited"] is True
    assert [e["content"] for e in room["state"]["events"] if e["type"] == "m.room.topic"] == [
        {"topic": "gap"}
    ]


async def test_full_state_returns_all_state_in_incremental_sync(
    client: Any, bob, room_id
) -> None:
    first = await sync(client, bob)
    body = await sync(client, bob, since=first["next_batch"], full_state=True)
    room = body["rooms"]["join"][room_id]
    assert {"m.room.create", "m.room.name"} <= {e["type"] for e in room["state"]["events"]}


async def test_invite_appears_with_stripped_state_then_join_moves_room(
    client: Any, alice, bob
) -> None:
    room = await create_room(client, alice, name="Secret")
    first = await sync(client, bob)
    await ok(client, "POST", f"/rooms/{q(room)}/invite", alice, {"user_id": bob.user_id})
    body = await sync(client, bob, since=first["next_batch"])
    invite = body["rooms"]["invite"][room]["invite_state"]["events"]
    types = {e["type"] for e in invite}
    assert {"m.room.create", "m.room.name", "m.room.member", "m.room.join_rules"} <= types
    assert all(set(e) == {"type", "state_key", "content", "sender"} for e in invite)
    await ok(client, "POST", f"/join/{q(room)}", bob, {})
    body2 = await sync(client, bob, since=body["next_batch"])
    assert room in body2["rooms"]["join"]
    assert room not in body2["rooms"]["invite"]
    # newly joined: the whole state, as in an initial sync
    joined = body2["rooms"]["join"][room]
    all_types = {e["type"] for e in joined["state"]["events"] + joined["timeline"]["events"]}
    assert "m.room.create" in all_types


async def test_invite_state_carries_the_inviters_membership(
    client: Any, alice, bob
) -> None:
    # Element's invite preview names the inviter from this event (Synapse sends it).
    room = await create_room(client, alice, name="Secret")
    await ok(client, "POST", f"/rooms/{q(room)}/invite", alice, {"user_id": bob.user_id})
    body = await sync(client, bob)
    invite = body["rooms"]["invite"][room]["invite_state"]["events"]
    members = {e["state_key"]: e["content"]["membership"] for e in invite
               if e["type"] == "m.room.member"}
    assert members == {alice.user_id: "join", bob.user_id: "invite"}


async def test_leave_appears_in_leave_section(client: Any, alice, bob, room_id) -> None:
    first = await sync(client, bob)
    await send_message(client, alice, room_id, "before leaving", "t1")
    await ok(client, "POST", f"/rooms/{q(room_id)}/leave", bob, {})
    await send_message(client, alice, room_id, "after leaving", "t2")
    body = await sync(client, bob, since=first["next_batch"])
    assert room_id not in body["rooms"]["join"]
    left = body["rooms"]["leave"][room_id]["timeline"]["events"]
    assert bodies(left) == ["before leaving"]
    assert left[-1]["type"] == "m.room.member"
    assert left[-1]["content"]["membership"] == "leave"
    # left rooms only come back in an initial sync with include_leave
    assert room_id not in (await sync(client, bob))["rooms"]["leave"]
    with_leave = await sync(client, bob, filter={"room": {"include_leave": True}})
    assert room_id in with_leave["rooms"]["leave"]


async def test_knock_appears_in_knock_section(client: Any, alice, bob) -> None:
    room = await create_room(client, alice, room_version="10",
                             initial_state=[{"type": "m.room.join_rules",
                                             "content": {"join_rule": "knock"}}])
    await ok(client, "POST", f"/knock/{q(room)}", bob, {})
    body = await sync(client, bob)
    events = body["rooms"]["knock"][room]["knock_state"]["events"]
    assert any(e["type"] == "m.room.member" and e["content"]["membership"] == "knock"
               for e in events)


async def test_lazy_loading_sends_only_timeline_senders_and_self(
    client: Any, server: HomeServer, alice, bob, room_id
) -> None:
    carol = await make_user(server, "carol")
    await ok(client, "POST", f"/join/{q(room_id)}", carol, {})
    for i in range(12):
        await send_message(client, alice, room_id, f"m{i}", f"t{i}")
    lazy = {"room": {"state": {"lazy_load_members": True}}}
    body = await sync(client, bob, filter=lazy)
    room = body["rooms"]["join"][room_id]
    members = {e["state_key"] for e in room["state"]["events"] if e["type"] == "m.room.member"}
    assert members == {alice.user_id, bob.user_id}
    full = await sync(client, bob)
    members = {e["state_key"] for e in full["rooms"]["join"][room_id]["state"]["events"]
               if e["type"] == "m.room.member"}
    assert carol.user_id in members


async def test_heroes_for_unnamed_room(client: Any, alice, bob) -> None:
    room = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/join/{q(room)}", bob, {})
    body = await sync(client, alice)
    assert body["rooms"]["join"][room]["summary"]["m.heroes"] == [bob.user_id]


async def test_timeline_filter_applies(client: Any, alice, room_id) -> None:
    await send_message(client, alice, room_id, "hi", "t1")
    body = await sync(client, alice, filter={"room": {"timeline": {"types": ["m.room.message"]}}})
    assert {e["type"] for e in timeline(body, room_id)} == {"m.room.message"}


async def test_room_filter_hides_other_rooms(client: Any, alice, room_id) -> None:
    other = await create_room(client, alice)
    body = await sync(client, alice, filter={"room": {"rooms": [other]}})
    assert set(body["rooms"]["join"]) == {other}


@pytest.mark.parametrize("since", ["garbage", "s", "s1_x", "t1-2", "s" + "1_" * 20 + "1"])
async def test_bad_since_token_is_invalid_param(client: Any, alice, since: str) -> None:
    status, body = await sync_raw(client, alice, since=since)
    assert (status, body["errcode"]) == (400, "M_INVALID_PARAM")


async def test_bad_timeout_and_presence_are_invalid_param(client: Any, alice) -> None:
    for params in ({"timeout": "soon"}, {"timeout": -1}, {"set_presence": "away"},
                   {"full_state": "yes"}):
        status, body = await sync_raw(client, alice, **params)
        assert (status, body["errcode"]) == (400, "M_INVALID_PARAM"), params


async def test_sync_requires_auth(client: Any) -> None:
    response = await client.get("/_matrix/client/v3/sync")
    assert response.status == 401


async def test_state_after_replaces_state(client: Any, alice, bob, room_id) -> None:
    first = await sync(client, bob)
    await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.topic", alice, {"topic": "x"})
    body = await sync(client, bob, since=first["next_batch"], use_state_after=True)
    room = body["rooms"]["join"][room_id]
    assert "state" not in room
    assert [e["type"] for e in room["state_after"]["events"]] == ["m.room.topic"]


async def test_sync_after_account_data_change_wakes(client: Any, alice, room_id) -> None:
    first = await sync(client, alice)
    waiting = asyncio.create_task(sync(client, alice, since=first["next_batch"], timeout=10000))
    await asyncio.sleep(0.1)
    status, _ = await call(client, "PUT", f"/user/{q(alice.user_id)}/account_data/org.x",
                           alice, {"a": 1})
    assert status == 200
    body = await asyncio.wait_for(waiting, 5)
    assert {"type": "org.x", "content": {"a": 1}} in body["account_data"]["events"]


async def test_a_room_with_nothing_new_but_ephemeral_or_account_data_is_shown(
    client: Any, alice, bob, room_id
) -> None:
    event_id = await send_message(client, bob, room_id, "read me", "t1")
    since = (await sync(client, alice))["next_batch"]
    await ok(client, "POST", f"/rooms/{q(room_id)}/receipt/m.read/{q(event_id)}", bob, {})
    body = await sync(client, alice, since=since)
    room = body["rooms"]["join"][room_id]
    assert room["timeline"]["events"] == []
    assert [e["type"] for e in room["ephemeral"]["events"]] == ["m.receipt"]
    assert "unread_notifications" in room
    path = f"/user/{q(alice.user_id)}/rooms/{q(room_id)}/account_data/org.x"
    await ok(client, "PUT", path, alice, {"a": 1})
    body = await sync(client, alice, since=body["next_batch"])
    room = body["rooms"]["join"][room_id]
    assert room["account_data"]["events"] == [{"type": "org.x", "content": {"a": 1}}]


class _Counts:
    async def unread_counts(self, user_id: str, room_id: str) -> tuple[int, int]:
        return (5, 1)

    async def unread_thread_counts(self, user_id: str, room_id: str) -> dict:
        return {"main": (2, 0), "$root": (3, 1)}


async def test_unread_counts_split_by_thread_only_when_the_filter_asks() -> None:
    from ranvier.protocol.filters import parse_filter
    from ranvier.services.sync import SyncRequest, SyncService

    plain = SyncRequest("@a:x", "D", parse_filter({}))
    assert await SyncService._unread(plain, "!r:x", _Counts()) == {
        "unread_notifications": {"notification_count": 5, "highlight_count": 1}
    }
    threaded = SyncRequest(
        "@a:x", "D", parse_filter({"room": {"timeline": {"unread_thread_notifications": True}}})
    )
    assert await SyncService._unread(threaded, "!r:x", _Counts()) == {
        "unread_notifications": {"notification_count": 2, "highlight_count": 0},
        "unread_thread_notifications": {
            "$root": {"notification_count": 3, "highlight_count": 1}
        },
    }
