"""Account data, global and per room: the endpoints, their errors, and the
"account_data" stream (spec: "Client Config")."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer
from ranvier.services.account_data import ACCOUNT_DATA_STREAM

from .room_helpers import User, call, create_room, ok, q
from .stream_helpers import expect_wakeup


def global_path(user: User, type_: str) -> str:
    return f"/user/{q(user.user_id)}/account_data/{type_}"


def room_path(user: User, room_id: str, type_: str) -> str:
    return f"/user/{q(user.user_id)}/rooms/{q(room_id)}/account_data/{type_}"


async def test_global_account_data_round_trips_and_is_replaced_whole(
    client: Any, alice: User
) -> None:
    path = global_path(alice, "org.example.config")
    await ok(client, "PUT", path, alice, {"theme": "dark", "size": 3})
    assert await ok(client, "GET", path, alice) == {"theme": "dark", "size": 3}
    await ok(client, "PUT", path, alice, {"theme": "light"})
    assert await ok(client, "GET", path, alice) == {"theme": "light"}


async def test_room_account_data_is_separate_from_global(client: Any, alice: User) -> None:
    room_id = await create_room(client, alice)
    await ok(client, "PUT", room_path(alice, room_id, "org.example.x"), alice, {"in": "room"})
    assert await ok(client, "GET", room_path(alice, room_id, "org.example.x"), alice) == {
        "in": "room"
    }
    # no fallback between room and global data of the same type
    status, data = await call(client, "GET", global_path(alice, "org.example.x"), alice)
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")


async def test_unknown_account_data_is_not_found(client: Any, alice: User) -> None:
    status, data = await call(client, "GET", global_path(alice, "org.example.none"), alice)
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")
    status, data = await call(
        client, "GET", room_path(alice, "!nowhere:test.local", "org.example.none"), alice
    )
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")


async def test_other_users_account_data_is_forbidden(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    await ok(client, "PUT", global_path(alice, "org.example.secret"), alice, {"a": 1})
    for method, path in [
        ("GET", global_path(alice, "org.example.secret")),
        ("PUT", global_path(alice, "org.example.secret")),
        ("GET", room_path(alice, "!r:test.local", "org.example.secret")),
        ("PUT", room_path(alice, "!r:test.local", "org.example.secret")),
    ]:
        status, data = await call(client, method, path, bob, {"b": 2})
        assert (status, data["errcode"]) == (403, "M_FORBIDDEN"), (method, path)
    assert await ok(client, "GET", global_path(alice, "org.example.secret"), alice) == {"a": 1}
    assert await server.account_data.get(alice.user_id, "!r:test.local", "org.example.secret") \
        is None


@pytest.mark.parametrize("type_", ["m.fully_read", "m.push_rules"])
async def test_server_managed_types_are_refused_with_405(
    client: Any, server: HomeServer, alice: User, type_: str
) -> None:
    room_id = await create_room(client, alice)
    before = server.account_data.position
    for path in (global_path(alice, type_), room_path(alice, room_id, type_)):
        status, data = await call(client, "PUT", path, alice, {"event_id": "$x"})
        assert (status, data["errcode"]) == (405, "M_BAD_JSON")
        assert type_ in data["error"]
    assert server.account_data.position == before
    assert await server.account_data.get(alice.user_id, room_id, type_) is None


async def test_invalid_room_id_is_an_invalid_param(client: Any, alice: User) -> None:
    for method in ("PUT", "GET"):
        status, data = await call(
            client, method, room_path(alice, "not-a-room", "org.example.x"), alice, {}
        )
        assert (status, data["errcode"]) == (400, "M_INVALID_PARAM")
        assert "not-a-room" in data["error"]


async def test_bad_bodies_are_refused_and_change_nothing(
    client: Any, server: HomeServer, alice: User
) -> None:
    path = global_path(alice, "org.example.x")
    await ok(client, "PUT", path, alice, {"kept": True})
    status, data = await call(client, "PUT", path, alice, raw=b"{not json")
    assert (status, data["errcode"]) == (400, "M_NOT_JSON")
    status, data = await call(client, "PUT", path, alice, [1, 2])
    assert (status, data["errcode"]) == (400, "M_BAD_JSON")
    assert await ok(client, "GET", path, alice) == {"kept": True}


async def test_account_data_needs_an_access_token(client: Any, alice: User) -> None:
    status, data = await call(client, "GET", global_path(alice, "org.example.x"))
    assert (status, data["errcode"]) == (401, "M_MISSING_TOKEN")


async def test_a_write_wakes_the_users_sync_and_shows_in_changes_for_sync(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    room_id = await create_room(client, alice)
    start = server.account_data.position
    async with expect_wakeup(server, alice.user_id, [], ACCOUNT_DATA_STREAM):
        await ok(client, "PUT", global_path(alice, "org.example.a"), alice, {"n": 1})
    middle = server.account_data.position
    async with expect_wakeup(server, alice.user_id, [], ACCOUNT_DATA_STREAM):
        await ok(client, "PUT", room_path(alice, room_id, "org.example.b"), alice, {"n": 2})
    # another user's write does not wake alice
    async with expect_wakeup(server, alice.user_id, [room_id], ACCOUNT_DATA_STREAM, woken=False):
        await ok(client, "PUT", global_path(bob, "org.example.a"), bob, {"n": 3})
    end = server.account_data.position

    changes = server.account_data.changes_for_sync
    assert await changes(alice.user_id, start, middle) == (
        [{"type": "org.example.a", "content": {"n": 1}}], {}
    )
    assert await changes(alice.user_id, middle, end) == (
        [], {room_id: [{"type": "org.example.b", "content": {"n": 2}}]}
    )
    assert await changes(alice.user_id, end, end) == ([], {})
    # an initial sync gets the current content of everything
    await ok(client, "PUT", global_path(alice, "org.example.a"), alice, {"n": 4})
    everything = await changes(alice.user_id, None, server.account_data.position)
    assert everything == (
        [{"type": "org.example.a", "content": {"n": 4}}],
        {room_id: [{"type": "org.example.b", "content": {"n": 2}}]},
    )
