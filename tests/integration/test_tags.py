"""Room tags: GET .../tags, PUT/DELETE .../tags/{tag}, their errors, and tags reaching
/sync as the room account data event `m.tag` (spec: "Room Tagging")."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer
from ranvier.services.account_data import ACCOUNT_DATA_STREAM

from .room_helpers import User, call, create_room, make_user, ok, q
from .stream_helpers import expect_wakeup


@pytest.fixture
async def room_id(client: Any, alice: User) -> str:
    return await create_room(client, alice)


def tags_path(user: User, room_id: str, tag: str | None = None) -> str:
    path = f"/user/{q(user.user_id)}/rooms/{q(room_id)}/tags"
    return path if tag is None else f"{path}/{q(tag)}"


async def get_tags(client: Any, user: User, room_id: str) -> dict[str, Any]:
    return (await ok(client, "GET", tags_path(user, room_id), user))["tags"]


async def test_tags_are_added_listed_and_removed(client: Any, alice: User, room_id: str) -> None:
    assert await get_tags(client, alice, room_id) == {}
    await ok(client, "PUT", tags_path(alice, room_id, "m.favourite"), alice, {"order": 0.25})
    await ok(client, "PUT", tags_path(alice, room_id, "u.work"), alice, {})
    assert await get_tags(client, alice, room_id) == {"m.favourite": {"order": 0.25}, "u.work": {}}
    # setting a tag again replaces its content
    await ok(client, "PUT", tags_path(alice, room_id, "u.work"), alice, {"order": 1})
    await ok(client, "DELETE", tags_path(alice, room_id, "m.favourite"), alice)
    assert await get_tags(client, alice, room_id) == {"u.work": {"order": 1}}


async def test_tags_are_the_m_tag_room_account_data(client: Any, alice: User, room_id: str) -> None:
    await ok(client, "PUT", tags_path(alice, room_id, "m.lowpriority"), alice, {"order": 0.5})
    path = f"/user/{q(alice.user_id)}/rooms/{q(room_id)}/account_data/m.tag"
    assert await ok(client, "GET", path, alice) == {"tags": {"m.lowpriority": {"order": 0.5}}}


async def test_tag_changes_wake_sync_and_show_as_m_tag(
    client: Any, server: HomeServer, alice: User, room_id: str
) -> None:
    start = server.account_data.position
    async with expect_wakeup(server, alice.user_id, [], ACCOUNT_DATA_STREAM):
        await ok(client, "PUT", tags_path(alice, room_id, "u.a"), alice, {"order": 0.1})
    assert await server.account_data.changes_for_sync(
        alice.user_id, start, server.account_data.position
    ) == ([], {room_id: [{"type": "m.tag", "content": {"tags": {"u.a": {"order": 0.1}}}}]})
    before_delete = server.account_data.position
    async with expect_wakeup(server, alice.user_id, [], ACCOUNT_DATA_STREAM):
        await ok(client, "DELETE", tags_path(alice, room_id, "u.a"), alice)
    assert await server.account_data.changes_for_sync(
        alice.user_id, before_delete, server.account_data.position
    ) == ([], {room_id: [{"type": "m.tag", "content": {"tags": {}}}]})


async def test_removing_an_absent_tag_succeeds_and_changes_nothing(
    client: Any, server: HomeServer, alice: User, room_id: str
) -> None:
    position = server.account_data.position
    await ok(client, "DELETE", tags_path(alice, room_id, "u.never"), alice)
    assert server.account_data.position == position


async def test_tags_written_as_odd_account_data_read_as_empty(
    client: Any, alice: User, room_id: str
) -> None:
    path = f"/user/{q(alice.user_id)}/rooms/{q(room_id)}/account_data/m.tag"
    await ok(client, "PUT", path, alice, {"tags": ["not", "an", "object"]})
    assert await get_tags(client, alice, room_id) == {}
    await ok(client, "PUT", tags_path(alice, room_id, "u.x"), alice, {})
    assert await get_tags(client, alice, room_id) == {"u.x": {}}


@pytest.mark.parametrize(
    ("tag", "body", "errcode", "named"),
    [
        ("u.x", {"order": 1.5}, "M_INVALID_PARAM", "order"),
        ("u.x", {"order": -0.1}, "M_INVALID_PARAM", "order"),
        ("u.x", {"order": "first"}, "M_BAD_JSON", "order"),
        ("u.x", {"order": True}, "M_BAD_JSON", "order"),
        ("u." + "x" * 254, {}, "M_INVALID_PARAM", "255 bytes"),
    ],
)
async def test_bad_tags_are_refused_and_change_nothing(
    client: Any, server: HomeServer, alice: User, room_id: str,
    tag: str, body: dict[str, Any], errcode: str, named: str,
) -> None:
    await ok(client, "PUT", tags_path(alice, room_id, "u.kept"), alice, {"order": 0.5})
    position = server.account_data.position
    status, data = await call(client, "PUT", tags_path(alice, room_id, tag), alice, body)
    assert (status, data["errcode"]) == (400, errcode)
    assert named in data["error"]
    assert server.account_data.position == position
    assert await get_tags(client, alice, room_id) == {"u.kept": {"order": 0.5}}


async def test_non_object_tag_body_is_bad_json(client: Any, alice: User, room_id: str) -> None:
    status, data = await call(client, "PUT", tags_path(alice, room_id, "u.x"), alice, [0.5])
    assert (status, data["errcode"]) == (400, "M_BAD_JSON")
    assert await get_tags(client, alice, room_id) == {}


async def test_tags_of_other_users_are_forbidden(
    client: Any, server: HomeServer, alice: User, room_id: str
) -> None:
    bob = await make_user(server, "bob")
    await ok(client, "PUT", tags_path(alice, room_id, "u.mine"), alice, {})
    for method in ("GET", "PUT", "DELETE"):
        status, data = await call(client, method, tags_path(alice, room_id, "u.mine")
                                  if method != "GET" else tags_path(alice, room_id), bob, {})
        assert (status, data["errcode"]) == (403, "M_FORBIDDEN"), method
    assert await get_tags(client, alice, room_id) == {"u.mine": {}}


async def test_invalid_room_id_is_an_invalid_param(client: Any, alice: User) -> None:
    status, data = await call(client, "GET", tags_path(alice, "nope"), alice)
    assert (status, data["errcode"]) == (400, "M_INVALID_PARAM")
    status, data = await call(client, "PUT", tags_path(alice, "nope", "u.x"), alice, {})
    assert (status, data["errcode"]) == (400, "M_INVALID_PARAM")
