"""Profiles: reading and setting fields, errors, and propagation to member events."""

from __future__ import annotations

from typing import Any

from ranvier.server import HomeServer
from tests.integration.room_helpers import call, create_room, make_user, ok, q, room_state


async def test_new_user_profile_has_registration_displayname(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    profile = await ok(client, "GET", f"/profile/{q(alice.user_id)}")
    assert profile == {"displayname": "alice"}


async def test_set_displayname_and_avatar_then_read_them_back(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    path = f"/profile/{q(alice.user_id)}"
    await ok(client, "PUT", path + "/displayname", alice, {"displayname": "Alice W"})
    await ok(client, "PUT", path + "/avatar_url", alice, {"avatar_url": "mxc://x/abc"})
    assert await ok(client, "GET", path) == {"displayname": "Alice W", "avatar_url": "mxc://x/abc"}
    assert await ok(client, "GET", path + "/displayname") == {"displayname": "Alice W"}
    assert await ok(client, "GET", path + "/avatar_url") == {"avatar_url": "mxc://x/abc"}


async def test_custom_and_timezone_fields_can_be_set_and_deleted(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    path = f"/profile/{q(alice.user_id)}"
    await ok(client, "PUT", path + "/m.tz", alice, {"m.tz": "Europe/Paris"})
    await ok(client, "PUT", path + "/org.example.pets", alice, {"org.example.pets": ["cat"]})
    profile = await ok(client, "GET", path)
    assert profile["m.tz"] == "Europe/Paris" and profile["org.example.pets"] == ["cat"]
    await ok(client, "DELETE", path + "/m.tz", alice)
    status, body = await call(client, "GET", path + "/m.tz")
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")


async def test_changing_another_users_profile_is_forbidden_and_changes_nothing(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    status, body = await call(
        client, "PUT", f"/profile/{q(alice.user_id)}/displayname", bob, {"displayname": "x"}
    )
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
    assert (await ok(client, "GET", f"/profile/{q(alice.user_id)}"))["displayname"] == "alice"


async def test_unknown_user_profile_is_not_found(server: HomeServer, client: Any) -> None:
    status, body = await call(client, "GET", "/profile/%40nobody%3Atest.local")
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")


async def test_bad_values_are_refused_and_change_nothing(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    path = f"/profile/{q(alice.user_id)}"
    cases = [
        ("/displayname", {"displayname": 5}, 400, "M_BAD_JSON"),
        ("/avatar_url", {"avatar_url": "https://not-mxc"}, 400, "M_BAD_JSON"),
        ("/displayname", {}, 400, "M_MISSING_PARAM"),
        ("/displayname", {"displayname": "a", "other": 1}, 400, "M_BAD_JSON"),
        ("/Bad-Key", {"Bad-Key": 1}, 400, "M_INVALID_PARAM"),
        ("/org.example.big", {"org.example.big": "x" * 70_000}, 400, "M_PROFILE_TOO_LARGE"),
    ]
    for suffix, body, status, errcode in cases:
        got_status, got = await call(client, "PUT", path + suffix, alice, body)
        assert (got_status, got["errcode"]) == (status, errcode), suffix
        assert suffix.lstrip("/") in got["error"] or errcode != "M_BAD_JSON"
    assert await ok(client, "GET", path) == {"displayname": "alice"}


async def test_profile_change_updates_member_event_in_joined_rooms(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    room_a = await create_room(client, alice)
    room_b = await create_room(client, alice)
    path = f"/profile/{q(alice.user_id)}"
    await ok(client, "PUT", path + "/displayname", alice, {"displayname": "Alice W"})
    await ok(client, "PUT", path + "/avatar_url", alice, {"avatar_url": "mxc://x/a"})
    for room_id in (room_a, room_b):
        member = (await room_state(client, alice, room_id))[("m.room.member", alice.user_id)]
        assert member["content"] == {
            "membership": "join", "displayname": "Alice W", "avatar_url": "mxc://x/a"
        }
        assert member["unsigned"]["prev_content"]["membership"] == "join"


async def test_clearing_displayname_removes_it_from_member_events(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    room_id = await create_room(client, alice)
    await ok(client, "DELETE", f"/profile/{q(alice.user_id)}/displayname", alice)
    member = (await room_state(client, alice, room_id))[("m.room.member", alice.user_id)]
    assert member["content"] == {"membership": "join"}
    assert await ok(client, "GET", f"/profile/{q(alice.user_id)}") == {}


async def test_profile_change_does_not_touch_rooms_the_user_left(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    room_id = await create_room(client, alice)
    await ok(client, "POST", f"/rooms/{q(room_id)}/leave", alice, {})
    await ok(client, "PUT", f"/profile/{q(alice.user_id)}/displayname", alice,
             {"displayname": "New"})
    member = (await room_state(client, alice, room_id))[("m.room.member", alice.user_id)]
    assert member["content"]["membership"] == "leave"
