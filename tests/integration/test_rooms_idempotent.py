"""Joins with custom content, and state that repeats the current state making no event."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer

from .room_helpers import create_room, ok, q, room_state


async def _event_count(server: HomeServer) -> int:
    return await server.db.fetchval("SELECT COUNT(*) FROM events")  # type: ignore[no-any-return]


@pytest.mark.parametrize("by_alias", [False, True])
async def test_join_keeps_custom_keys_of_the_body_in_the_member_event(
    client: Any, alice, bob, by_alias: bool
) -> None:
    room_id = await create_room(client, alice, preset="public_chat", room_alias_name="custom")
    target = "#custom:test.local" if by_alias else room_id
    await ok(client, "POST", f"/join/{q(target)}", bob,
             {"foo": "bar", "reason": "hi", "membership": "leave"})
    member = (await room_state(client, alice, room_id))[("m.room.member", bob.user_id)]
    assert member["content"] == {
        "foo": "bar", "reason": "hi", "membership": "join", "displayname": "bob"
    }


async def test_join_body_displayname_overrides_the_profile(client: Any, alice, bob) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/rooms/{q(room_id)}/join", bob, {"displayname": "Bobby"})
    member = (await room_state(client, alice, room_id))[("m.room.member", bob.user_id)]
    assert member["content"]["displayname"] == "Bobby"


async def test_setting_the_same_state_twice_makes_one_event(
    client: Any, server: HomeServer, alice
) -> None:
    room_id = await create_room(client, alice)
    path = f"/rooms/{q(room_id)}/state/m.room.topic"
    first = await ok(client, "PUT", path, alice, {"topic": "t"})
    count = await _event_count(server)
    second = await ok(client, "PUT", path, alice, {"topic": "t"})
    assert second == first
    assert await _event_count(server) == count
    third = await ok(client, "PUT", path, alice, {"topic": "other"})
    assert third != first
    assert await _event_count(server) == count + 1


async def test_same_state_from_another_sender_is_a_new_event(
    client: Any, server: HomeServer, alice, bob
) -> None:
    room_id = await create_room(client, alice, preset="public_chat",
                                power_level_content_override={"state_default": 0})
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    path = f"/rooms/{q(room_id)}/state/m.room.topic"
    first = await ok(client, "PUT", path, alice, {"topic": "t"})
    second = await ok(client, "PUT", path, bob, {"topic": "t"})
    assert second != first


async def test_joining_twice_makes_no_second_member_event(
    client: Any, server: HomeServer, alice, bob
) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    first = (await room_state(client, alice, room_id))[("m.room.member", bob.user_id)]
    count = await _event_count(server)
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    again = (await room_state(client, alice, room_id))[("m.room.member", bob.user_id)]
    assert again["event_id"] == first["event_id"]
    assert await _event_count(server) == count
