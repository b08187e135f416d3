"""Membership transitions over the client API, and the errors each refuses with."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer
from ranvier.storage.profiles import Profile

from .room_helpers import call, create_room, ok, q, room_state


async def _membership(client: Any, viewer, room_id: str, user_id: str) -> str | None:
    state = await room_state(client, viewer, room_id)
    member = state.get(("m.room.member", user_id))
    return member["content"]["membership"] if member else None


async def _forbidden(client: Any, method: str, path: str, user, body: Any = None) -> str:
    status, data = await call(client, method, path, user, body)
    assert (status, data["errcode"]) == (403, "M_FORBIDDEN"), data
    assert data["error"]
    return data["error"]


async def test_join_public_room_then_leave(client: Any, alice, bob) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    assert await ok(client, "POST", f"/rooms/{q(room_id)}/join", bob, {}) == {"room_id": room_id}
    assert await ok(client, "GET", "/joined_rooms", bob) == {"joined_rooms": [room_id]}
    await ok(client, "POST", f"/rooms/{q(room_id)}/leave", bob, {"reason": "bye"})
    assert await ok(client, "GET", "/joined_rooms", bob) == {"joined_rooms": []}
    state = await room_state(client, alice, room_id)
    assert state[("m.room.member", bob.user_id)]["content"] == {
        "membership": "leave", "reason": "bye"
    }


async def test_joining_an_invite_only_room_needs_an_invite(
    client: Any, server: HomeServer, alice, bob
) -> None:
    room_id = await create_room(client, alice, preset="private_chat")
    events_before = await server.db.fetchval("SELECT COUNT(*) FROM events")
    await _forbidden(client, "POST", f"/join/{q(room_id)}", bob, {})
    assert await server.db.fetchval("SELECT COUNT(*) FROM events") == events_before
    await ok(client, "POST", f"/rooms/{q(room_id)}/invite", alice,
             {"user_id": bob.user_id, "reason": "come"})
    invite = (await room_state(client, alice, room_id))[("m.room.member", bob.user_id)]
    assert invite["content"] == {"membership": "invite", "reason": "come", "displayname": "bob"}
    assert invite["sender"] == alice.user_id
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    assert await _membership(client, alice, room_id, bob.user_id) == "join"


async def test_member_events_carry_the_users_profile(
    client: Any, server: HomeServer, alice, bob
) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    state = await room_state(client, alice, room_id)
    # registration gave alice her localpart as display name
    assert state[("m.room.member", alice.user_id)]["content"] == {
        "membership": "join", "displayname": "alice"
    }
    await server.stores.profiles.set_profile(bob.user_id, Profile("Bobby", "mxc://x/bob"))
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    member = (await room_state(client, alice, room_id))[("m.room.member", bob.user_id)]
    assert member["content"] == {
        "membership": "join", "displayname": "Bobby", "avatar_url": "mxc://x/bob"
    }


async def test_invite_needs_the_invite_level_and_a_joined_sender(
    client: Any, alice, bob, carol
) -> None:
    room_id = await create_room(client, alice, preset="public_chat")  # invite level 50
    await _forbidden(client, "POST", f"/rooms/{q(room_id)}/invite", bob,
                     {"user_id": carol.user_id})
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    await _forbidden(client, "POST", f"/rooms/{q(room_id)}/invite", bob,
                     {"user_id": carol.user_id})
    await ok(client, "POST", f"/rooms/{q(room_id)}/invite", alice, {"user_id": carol.user_id})
    # an invite to someone already joined is refused too
    await _forbidden(client, "POST", f"/rooms/{q(room_id)}/invite", alice,
                     {"user_id": bob.user_id})


async def test_kick_needs_power_and_a_target_in_the_room(client: Any, alice, bob, carol) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    await ok(client, "POST", f"/join/{q(room_id)}", carol, {})
    await _forbidden(client, "POST", f"/rooms/{q(room_id)}/kick", bob,
                     {"user_id": carol.user_id})
    await ok(client, "POST", f"/rooms/{q(room_id)}/kick", alice,
             {"user_id": carol.user_id, "reason": "spam"})
    kicked = (await room_state(client, alice, room_id))[("m.room.member", carol.user_id)]
    assert kicked["content"] == {"membership": "leave", "reason": "spam"}
    assert kicked["sender"] == alice.user_id
    error = await _forbidden(client, "POST", f"/rooms/{q(room_id)}/kick", alice,
                             {"user_id": carol.user_id})
    assert "not in the room" in error


async def test_ban_blocks_joining_until_unban(client: Any, alice, bob, carol) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    await _forbidden(client, "POST", f"/rooms/{q(room_id)}/ban", bob, {"user_id": carol.user_id})
    await ok(client, "POST", f"/rooms/{q(room_id)}/ban", alice, {"user_id": bob.user_id})
    assert await _membership(client, alice, room_id, bob.user_id) == "ban"
    await _forbidden(client, "POST", f"/join/{q(room_id)}", bob, {})
    # unban of someone not banned is refused
    error = await _forbidden(client, "POST", f"/rooms/{q(room_id)}/unban", alice,
                             {"user_id": carol.user_id})
    assert "not banned" in error
    await ok(client, "POST", f"/rooms/{q(room_id)}/unban", alice, {"user_id": bob.user_id})
    assert await _membership(client, alice, room_id, bob.user_id) == "leave"
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})


async def test_a_banned_user_cannot_read_current_state_but_sees_it_as_of_the_ban(
    client: Any, alice, bob
) -> None:
    room_id = await create_room(client, alice, preset="public_chat", name="Before")
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    await ok(client, "POST", f"/rooms/{q(room_id)}/ban", alice, {"user_id": bob.user_id})
    await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.name/", alice, {"name": "After"})
    state = await room_state(client, bob, room_id)
    assert state[("m.room.name", "")]["content"] == {"name": "Before"}


@pytest.mark.parametrize("version", ["7", "10", "12"])
async def test_knock_then_invite_lets_the_knocker_in(client: Any, alice, bob, version) -> None:
    room_id = await create_room(
        client, alice, room_version=version,
        initial_state=[{"type": "m.room.join_rules", "content": {"join_rule": "knock"}}],
    )
    await ok(client, "POST", f"/knock/{q(room_id)}", bob, {"reason": "let me in"})
    assert await _membership(client, alice, room_id, bob.user_id) == "knock"
    await ok(client, "POST", f"/rooms/{q(room_id)}/invite", alice, {"user_id": bob.user_id})
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    assert await _membership(client, alice, room_id, bob.user_id) == "join"


async def test_knock_is_refused_before_v7_and_where_join_rule_is_not_knock(
    client: Any, alice, bob
) -> None:
    old = await create_room(client, alice, room_version="6")
    error = await _forbidden(client, "POST", f"/knock/{q(old)}", bob, {})
    assert "does not allow knocking" in error
    invite_only = await create_room(client, alice, room_version="10")
    await _forbidden(client, "POST", f"/knock/{q(invite_only)}", bob, {})


async def test_forget_requires_leaving_first(client: Any, server: HomeServer, alice, bob) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    status, data = await call(client, "POST", f"/rooms/{q(room_id)}/forget", bob, {})
    assert (status, data["errcode"]) == (400, "M_UNKNOWN")
    assert not await server.stores.rooms.is_forgotten(bob.user_id, room_id)
    await ok(client, "POST", f"/rooms/{q(room_id)}/leave", bob, {})
    await ok(client, "POST", f"/rooms/{q(room_id)}/forget", bob, {})
    assert await server.stores.rooms.is_forgotten(bob.user_id, room_id)
    # joining again un-forgets
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    assert not await server.stores.rooms.is_forgotten(bob.user_id, room_id)


async def test_leaving_a_room_one_is_not_in_is_forbidden(client: Any, alice, bob) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    await _forbidden(client, "POST", f"/rooms/{q(room_id)}/leave", bob, {})


@pytest.mark.parametrize(
    ("path", "body", "status", "errcode"),
    [
        ("/join/{room}", None, 200, None),  # body is optional
        ("/join/%21nowhere%3Atest.local", {}, 404, "M_NOT_FOUND"),
        ("/join/%23nowhere%3Atest.local", {}, 404, "M_NOT_FOUND"),
        ("/join/garbage", {}, 400, "M_INVALID_PARAM"),
        ("/rooms/{room}/invite", {}, 400, "M_MISSING_PARAM"),
        ("/rooms/{room}/invite", {"user_id": 5}, 400, "M_BAD_JSON"),
        ("/rooms/{room}/invite", {"user_id": "bob"}, 400, "M_INVALID_PARAM"),
        ("/rooms/{room}/ban", {"user_id": "@x:test.local", "reason": 3}, 400, "M_BAD_JSON"),
        ("/rooms/{room}/leave", {"reason": []}, 400, "M_BAD_JSON"),
    ],
)
async def test_bad_membership_requests(
    client: Any, server: HomeServer, alice, bob, path, body, status, errcode
) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    events_before = await server.db.fetchval("SELECT COUNT(*) FROM events")
    got, data = await call(client, "POST", path.format(room=q(room_id)), bob, body)
    assert got == status, data
    if errcode is not None:
        assert data["errcode"] == errcode
        assert data["error"]
        assert await server.db.fetchval("SELECT COUNT(*) FROM events") == events_before
