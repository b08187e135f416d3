"""/sync details that clients rely on: a profile change is no new join, a room joined
since the last sync, sparse timeline filters, current state hidden by history
visibility."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer

from .room_helpers import User, create_room, ok, q, send_message
from .sync_helpers import bodies, sync


async def test_displayname_change_syncs_only_the_member_event(
    client: Any, alice
) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    since = (await sync(client, alice))["next_batch"]
    await ok(client, "PUT", f"/profile/{q(alice.user_id)}/displayname", alice,
             {"displayname": "Alicia"})
    room = (await sync(client, alice, since=since))["rooms"]["join"][room_id]
    assert [(e["type"], e["content"].get("displayname")) for e in room["timeline"]["events"]] \
        == [("m.room.member", "Alicia")]
    assert room["state"]["events"] == []
    assert room["timeline"]["limited"] is False


async def test_room_joined_since_last_sync_is_limited_when_older_events_exist(
    client: Any, alice, bob
) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    for i in range(3):
        await send_message(client, alice, room_id, f"before{i}", f"b{i}")
    since = (await sync(client, bob))["next_batch"]
    await send_message(client, alice, room_id, "gap", "g")
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    messages_only = {"room": {"timeline": {"types": ["m.room.message"], "limit": 10}}}
    room = (await sync(client, bob, since=since, filter=messages_only))["rooms"]["join"][room_id]
    # The room's history, as in an initial sync; the filtered-out creation events
    # before it make it limited.
    assert bodies(room["timeline"]["events"]) == ["before0", "before1", "before2", "gap"]
    assert room["timeline"]["limited"] is True
    whole = {"room": {"timeline": {"limit": 50}}}
    room = (await sync(client, bob, since=since, filter=whole))["rooms"]["join"][room_id]
    assert room["timeline"]["events"][0]["type"] == "m.room.create"
    assert room["timeline"]["limited"] is False
    assert room["state"]["events"] == []


async def test_room_created_since_last_sync_is_not_limited(client: Any, alice) -> None:
    since = (await sync(client, alice))["next_batch"]
    room_id = await create_room(client, alice)
    room = (await sync(client, alice, since=since))["rooms"]["join"][room_id]
    assert room["timeline"]["limited"] is False
    assert room["timeline"]["events"][0]["type"] == "m.room.create"


async def test_sparse_type_filter_still_fills_its_limit(client: Any, alice) -> None:
    room_id = await create_room(client, alice)
    wanted = await send_message(client, alice, room_id, "the one", "m")
    for i in range(30):
        await ok(client, "PUT", f"/rooms/{q(room_id)}/send/a.filler/f{i}", alice, {})
    body = await sync(client, alice, filter={
        "room": {"timeline": {"limit": 1, "types": ["m.room.message"]}},
    })
    timeline = body["rooms"]["join"][room_id]["timeline"]
    assert [e["event_id"] for e in timeline["events"]] == [wanted]
    assert timeline["limited"] is False


async def test_current_state_shows_in_timeline_despite_joined_history(
    client: Any, alice, bob, carol
) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.history_visibility", alice,
             {"history_visibility": "joined"})
    since = (await sync(client, bob))["next_batch"]
    await ok(client, "POST", f"/rooms/{q(room_id)}/leave", bob, {})
    await send_message(client, alice, room_id, "while away", "w")
    await ok(client, "POST", f"/join/{q(room_id)}", carol, {})
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    events = (await sync(client, bob, since=since))["rooms"]["join"][room_id]["timeline"][
        "events"]
    assert any(e["type"] == "m.room.member" and e["state_key"] == carol.user_id
               for e in events)
    # What is not current state stays hidden.
    assert "while away" not in bodies(events)


async def test_room_named_within_the_timeline_gets_no_heroes(
    client: Any, alice, bob, carol
) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.name", alice, {"name": "Named"})
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    await ok(client, "POST", f"/join/{q(room_id)}", carol, {})
    body = await sync(client, alice, filter={"room": {"state": {"lazy_load_members": True}}})
    room = body["rooms"]["join"][room_id]
    assert any(e["type"] == "m.room.name" for e in room["timeline"]["events"])
    assert room["summary"] == {"m.joined_member_count": 3, "m.invited_member_count": 0}


def _members(room: dict[str, Any]) -> list[str]:
    return [e["state_key"] for e in room.get("state", {}).get("events", [])
            if e["type"] == "m.room.member"]


@pytest.mark.parametrize("redundant", [False, True])
async def test_lazy_loading_sends_a_member_event_once_per_device_unless_redundant_asked(
    client: Any, server: HomeServer, alice, bob, redundant: bool
) -> None:
    lazy = {"room": {"timeline": {"limit": 1},
                     "state": {"lazy_load_members": True,
                               "include_redundant_members": redundant}}}
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    await send_message(client, bob, room_id, "one", "b1")
    first = await sync(client, alice, filter=lazy)
    assert bob.user_id in _members(first["rooms"]["join"][room_id])
    await send_message(client, bob, room_id, "two", "b2")
    again = (await sync(client, alice, filter=lazy, since=first["next_batch"]))["rooms"]["join"]
    assert (bob.user_id in _members(again[room_id])) is redundant
    # Another device of alice's has been sent nothing yet.
    session = await server.accounts.create_session(alice.user_id, None, None)
    other = User(alice.user_id, session.device_id, session.access_token)
    fresh = await sync(client, other, filter=lazy, since=first["next_batch"])
    assert bob.user_id in _members(fresh["rooms"]["join"][room_id])


LAZY = {"room": {"state": {"lazy_load_members": True}}}


async def test_lazy_loading_repeats_a_timeline_opening_member_event_in_state(
    client: Any, alice, bob
) -> None:
    """As Synapse does (matrix-js-sdk then draws a profile change with the new
    profile): an incremental, unbroken timeline that opens with a member event gets it in
    `state` too under lazy loading; not without lazy loading, nor when it is not first."""
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    since = (await sync(client, bob, filter=LAZY))["next_batch"]
    await ok(client, "PUT", f"/profile/{q(alice.user_id)}/avatar_url", alice,
             {"avatar_url": "mxc://test.local/new"})
    room = (await sync(client, bob, filter=LAZY, since=since))["rooms"]["join"][room_id]
    (change,) = room["timeline"]["events"]
    assert change["content"]["avatar_url"] == "mxc://test.local/new"
    assert [e["event_id"] for e in room["state"]["events"]] == [change["event_id"]]
    plain = (await sync(client, bob, since=since))["rooms"]["join"][room_id]
    assert plain["state"]["events"] == []

    since = (await sync(client, bob, filter=LAZY))["next_batch"]
    await send_message(client, bob, room_id, "before the change", "m1")
    await ok(client, "PUT", f"/profile/{q(alice.user_id)}/displayname", alice,
             {"displayname": "Alicia"})
    room = (await sync(client, bob, filter=LAZY, since=since))["rooms"]["join"][room_id]
    timeline_ids = {e["event_id"] for e in room["timeline"]["events"]}
    assert not timeline_ids & {e["event_id"] for e in room["state"]["events"]}


def _presence_senders(body: dict[str, Any]) -> list[str]:
    return [e["sender"] for e in body["presence"]["events"]]


async def _online(client: Any, user) -> None:
    await ok(client, "PUT", f"/presence/{q(user.user_id)}/status", user, {"presence": "online"})


async def test_incremental_sync_brings_presence_of_members_met_by_joining(
    client: Any, alice, bob, carol
) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    await _online(client, carol)
    since = (await sync(client, bob))["next_batch"]
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    body = await sync(client, bob, since=since)
    assert alice.user_id in _presence_senders(body)
    assert carol.user_id not in _presence_senders(body)  # shares no room with bob
    # Met once: the next sync has nothing new.
    assert alice.user_id not in _presence_senders(
        await sync(client, bob, since=body["next_batch"]))


async def test_incremental_sync_brings_presence_of_a_member_who_joined(
    client: Any, alice, bob
) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    since = (await sync(client, alice))["next_batch"]
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    body = await sync(client, alice, since=since)
    # bob never synced: his presence is offline, and still sent once
    assert [(e["sender"], e["content"]["presence"]) for e in body["presence"]["events"]
            if e["sender"] == bob.user_id] == [(bob.user_id, "offline")]
