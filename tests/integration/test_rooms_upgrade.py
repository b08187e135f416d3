"""POST /rooms/{roomId}/upgrade: tombstone, replacement room, predecessor, copied state,
power levels, moved aliases, and who may upgrade."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer

from .room_helpers import call, create_room, ok, q, room_state


@pytest.mark.parametrize(("old", "new"), [("10", "11"), ("11", "12"), ("12", "12"), ("1", "10")])
async def test_upgrade_replaces_the_room_and_carries_its_state(
    client: Any, server: HomeServer, alice, bob, old, new
) -> None:
    old_room = await create_room(
        client, alice, room_version=old, preset="public_chat", name="Old name", topic="Topic",
        room_alias_name=f"up{old}{new}",
    )
    await ok(client, "POST", f"/join/{q(old_room)}", bob, {})
    await ok(client, "POST", f"/rooms/{q(old_room)}/ban", alice, {"user_id": "@troll:test.local"})
    result = await ok(client, "POST", f"/rooms/{q(old_room)}/upgrade", alice,
                      {"new_version": new})
    new_room = result["replacement_room"]
    assert new_room != old_room

    old_state = await room_state(client, alice, old_room)
    tombstone = old_state[("m.room.tombstone", "")]["content"]
    assert tombstone["replacement_room"] == new_room
    assert tombstone["body"]
    # the old room is closed to ordinary members
    old_levels = old_state[("m.room.power_levels", "")]["content"]
    assert old_levels["events_default"] >= 50 and old_levels["invite"] >= 50
    status, _ = await call(client, "PUT", f"/rooms/{q(old_room)}/send/m.room.message/x", bob,
                           {"body": "still here?"})
    assert status == 403

    new_state = await room_state(client, alice, new_room)
    create = new_state[("m.room.create", "")]["content"]
    assert create["room_version"] == new
    assert create["predecessor"]["room_id"] == old_room
    # the old room's last event: its tombstone (v12 may leave the event ID out)
    if new == "12":
        assert "event_id" not in create["predecessor"]
    else:
        assert create["predecessor"]["event_id"] == old_state[("m.room.tombstone", "")][
            "event_id"]
    assert new_state[("m.room.name", "")]["content"] == {"name": "Old name"}
    assert new_state[("m.room.topic", "")]["content"]["topic"] == "Topic"
    assert new_state[("m.room.join_rules", "")]["content"] == {"join_rule": "public"}
    assert new_state[("m.room.member", "@troll:test.local")]["content"]["membership"] == "ban"
    users = new_state[("m.room.power_levels", "")]["content"]["users"]
    assert (alice.user_id in users) is (new != "12")
    # the old room no longer advertises the moved alias
    assert old_state[("m.room.canonical_alias", "")]["content"] == {}
    # the alias now leads to the new room, and bob can follow
    alias = f"#up{old}{new}:test.local"
    assert await ok(client, "POST", f"/join/{q(alias)}", bob, {}) == {"room_id": new_room}


async def test_upgrade_needs_the_tombstone_level(client: Any, server: HomeServer, alice, bob):
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    rooms_before = await server.db.fetchval("SELECT COUNT(*) FROM rooms")
    status, data = await call(client, "POST", f"/rooms/{q(room_id)}/upgrade", bob,
                              {"new_version": "12"})
    assert (status, data["errcode"]) == (403, "M_FORBIDDEN")
    assert await server.db.fetchval("SELECT COUNT(*) FROM rooms") == rooms_before


async def test_upgrade_of_a_room_one_is_not_in_is_forbidden(client: Any, alice, bob) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    status, data = await call(client, "POST", f"/rooms/{q(room_id)}/upgrade", bob,
                              {"new_version": "12"})
    assert (status, data["errcode"]) == (403, "M_FORBIDDEN")


async def test_upgrade_of_an_unknown_room_is_not_found(client: Any, alice) -> None:
    status, data = await call(client, "POST", f"/rooms/{q('!nope:test.local')}/upgrade", alice,
                              {"new_version": "12"})
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")


async def test_joining_the_upgraded_room_carries_the_users_tags(
    client: Any, alice, bob
) -> None:
    old_room = await create_room(client, alice, preset="public_chat", room_version="10")
    await ok(client, "POST", f"/join/{q(old_room)}", bob, {})
    tags = f"/user/{q(bob.user_id)}/rooms/{{}}/tags"
    await ok(client, "PUT", tags.format(q(old_room)) + "/u.work", bob, {"order": 0.5})
    new_room = (await ok(client, "POST", f"/rooms/{q(old_room)}/upgrade", alice,
                         {"new_version": "11"}))["replacement_room"]
    await ok(client, "POST", f"/join/{q(new_room)}", bob, {})
    assert await ok(client, "GET", tags.format(q(new_room)), bob) == {
        "tags": {"u.work": {"order": 0.5}}
    }
    # alice had none: nothing is invented for her
    assert await ok(client, "GET", f"/user/{q(alice.user_id)}/rooms/{q(new_room)}/tags",
                    alice) == {"tags": {}}
