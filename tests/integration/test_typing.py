"""Typing notifications: PUT /rooms/{roomId}/typing/{userId}, its errors, expiry, and
the "typing" stream (spec: "Typing Notifications")."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ranvier.server import HomeServer
from ranvier.services.typing import TYPING_STREAM

from .room_helpers import User, call, create_room, make_user, ok, q, shared_room
from .stream_helpers import expect_wakeup


@pytest.fixture
async def room_id(client: Any, alice: User, bob: User) -> str:
    return await shared_room(client, alice, bob)


def typing_path(room_id: str, user: User) -> str:
    return f"/rooms/{q(room_id)}/typing/{q(user.user_id)}"


def typists(server: HomeServer, room_id: str, from_pos: int | None = None) -> list[str] | None:
    event = server.typing.for_sync([room_id], from_pos).get(room_id)
    return None if event is None else event["content"]["user_ids"]


async def test_typing_wakes_the_rooms_syncs_and_shows_in_sync(
    client: Any, server: HomeServer, alice: User, bob: User, room_id: str
) -> None:
    start = server.typing.position
    async with expect_wakeup(server, bob.user_id, [room_id], TYPING_STREAM):
        await ok(client, "PUT", typing_path(room_id, alice), alice,
                 {"typing": True, "timeout": 30000})
    async with expect_wakeup(server, alice.user_id, [room_id], TYPING_STREAM):
        await ok(client, "PUT", typing_path(room_id, bob), bob, {"typing": True})
    assert typists(server, room_id, start) == sorted([alice.user_id, bob.user_id])
    assert server.typing.for_sync([room_id], start)[room_id]["type"] == "m.typing"


async def test_stopping_sends_the_shorter_list(
    client: Any, server: HomeServer, alice: User, bob: User, room_id: str
) -> None:
    await ok(client, "PUT", typing_path(room_id, alice), alice, {"typing": True})
    await ok(client, "PUT", typing_path(room_id, bob), bob, {"typing": True})
    before_stop = server.typing.position
    async with expect_wakeup(server, bob.user_id, [room_id], TYPING_STREAM):
        await ok(client, "PUT", typing_path(room_id, alice), alice, {"typing": False})
    assert typists(server, room_id, before_stop) == [bob.user_id]
    await ok(client, "PUT", typing_path(room_id, bob), bob, {"typing": False})
    # the room changed, so an incremental sync says nobody types; an initial one is silent
    assert typists(server, room_id, before_stop) == []
    assert typists(server, room_id, None) is None


async def test_unchanged_lists_do_not_advance_the_stream(
    client: Any, server: HomeServer, alice: User, room_id: str
) -> None:
    await ok(client, "PUT", typing_path(room_id, alice), alice, {"typing": True})
    position = server.typing.position
    await ok(client, "PUT", typing_path(room_id, alice), alice, {"typing": True})  # renewal
    await ok(client, "PUT", typing_path(room_id, alice), alice, {"typing": False})
    await ok(client, "PUT", typing_path(room_id, alice), alice, {"typing": False})
    assert server.typing.position == position + 1
    assert server.typing.for_sync([room_id], server.typing.position) == {}


async def test_typing_expires_after_its_timeout_and_wakes_the_room(
    client: Any, server: HomeServer, alice: User, bob: User, room_id: str
) -> None:
    await ok(client, "PUT", typing_path(room_id, alice), alice, {"typing": True, "timeout": 50})
    position = server.typing.position
    assert typists(server, room_id) == [alice.user_id]
    async with expect_wakeup(server, bob.user_id, [room_id], TYPING_STREAM):
        await asyncio.sleep(0.1)
    assert typists(server, room_id, position) == []


async def test_sync_only_reports_rooms_that_changed(
    client: Any, server: HomeServer, alice: User, bob: User, room_id: str
) -> None:
    other_room = await create_room(client, alice)
    await ok(client, "PUT", typing_path(other_room, alice), alice, {"typing": True})
    position = server.typing.position
    await ok(client, "PUT", typing_path(room_id, alice), alice, {"typing": True})
    assert set(server.typing.for_sync([room_id, other_room], position)) == {room_id}
    assert set(server.typing.for_sync([room_id, other_room], None)) == {room_id, other_room}
    # only the rooms asked about
    assert set(server.typing.for_sync([room_id], None)) == {room_id}


async def test_typing_needs_membership_and_ones_own_user_id(
    client: Any, server: HomeServer, alice: User, bob: User, room_id: str
) -> None:
    carol = await make_user(server, "carol")
    position = server.typing.position
    status, data = await call(client, "PUT", typing_path(room_id, carol), carol, {"typing": True})
    assert (status, data["errcode"]) == (403, "M_FORBIDDEN")
    assert "not in room" in data["error"]
    status, data = await call(client, "PUT", typing_path(room_id, alice), bob, {"typing": True})
    assert (status, data["errcode"]) == (403, "M_FORBIDDEN")
    await ok(client, "POST", f"/rooms/{q(room_id)}/leave", bob, {})
    status, data = await call(client, "PUT", typing_path(room_id, bob), bob, {"typing": True})
    assert (status, data["errcode"]) == (403, "M_FORBIDDEN")
    assert server.typing.position == position
    assert typists(server, room_id) is None


@pytest.mark.parametrize(
    ("body", "errcode", "named"),
    [
        ({}, "M_MISSING_PARAM", "typing"),
        ({"typing": "yes"}, "M_BAD_JSON", "typing"),
        ({"typing": True, "timeout": "soon"}, "M_BAD_JSON", "timeout"),
        ({"typing": True, "timeout": -1}, "M_INVALID_PARAM", "timeout"),
    ],
)
async def test_bad_typing_bodies_are_refused_and_change_nothing(
    client: Any, server: HomeServer, alice: User, room_id: str,
    body: dict[str, Any], errcode: str, named: str,
) -> None:
    position = server.typing.position
    status, data = await call(client, "PUT", typing_path(room_id, alice), alice, body)
    assert (status, data["errcode"]) == (400, errcode)
    assert named in data["error"]
    assert server.typing.position == position
    assert typists(server, room_id) is None
