"""User directory search: who may be found, matching, limits, and staying current."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer
from tests.integration.room_helpers import User, call, create_room, make_user, ok, q


async def search(client: Any, user: User, term: str, limit: int | None = None) -> dict:
    body: dict[str, Any] = {"search_term": term}
    if limit is not None:
        body["limit"] = limit
    return await ok(client, "POST", "/user_directory/search", user, body)


def user_ids(data: dict) -> list[str]:
    return [r["user_id"] for r in data["results"]]


async def test_users_sharing_a_private_room_find_each_other(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    eve = await make_user(server, "eve")
    room_id = await create_room(client, alice, invite=[bob.user_id])
    assert user_ids(await search(client, alice, "bob")) == []  # only invited so far
    await ok(client, "POST", f"/rooms/{q(room_id)}/join", bob, {})
    assert user_ids(await search(client, alice, "bob")) == [bob.user_id]
    assert user_ids(await search(client, bob, "ali")) == [alice.user_id]
    assert user_ids(await search(client, eve, "bob")) == []


async def test_users_in_public_rooms_are_found_by_everyone(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    eve = await make_user(server, "eve")
    await create_room(client, alice, preset="public_chat")
    assert user_ids(await search(client, eve, "alice")) == [alice.user_id]


async def test_leaving_makes_a_user_unfindable_again(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    eve = await make_user(server, "eve")
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/rooms/{q(room_id)}/leave", alice, {})
    assert user_ids(await search(client, eve, "alice")) == []


async def test_room_becoming_private_hides_its_members(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    eve = await make_user(server, "eve")
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.join_rules", alice,
             {"join_rule": "invite"})
    assert user_ids(await search(client, eve, "alice")) == []
    await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.history_visibility", alice,
             {"history_visibility": "world_readable"})
    assert user_ids(await search(client, eve, "alice")) == [alice.user_id]


async def test_search_matches_display_names_case_insensitively_and_follows_changes(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    eve = await make_user(server, "eve")
    await create_room(client, alice, preset="public_chat")
    await ok(client, "PUT", f"/profile/{q(alice.user_id)}/displayname", alice,
             {"displayname": "Wonderland Queen"})
    await ok(client, "PUT", f"/profile/{q(alice.user_id)}/avatar_url", alice,
             {"avatar_url": "mxc://test.local/a"})
    data = await search(client, eve, "WONDER")
    assert data == {"results": [{"user_id": alice.user_id, "display_name": "Wonderland Queen",
                                 "avatar_url": "mxc://test.local/a"}], "limited": False}
    assert user_ids(await search(client, eve, "queen")) == [alice.user_id]


async def test_wildcards_in_the_term_are_literal(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    await create_room(client, alice, preset="public_chat")
    assert user_ids(await search(client, alice, "%")) == []
    assert user_ids(await search(client, alice, "a_ice")) == []


async def test_limit_and_limited(server: HomeServer, client: Any) -> None:
    users = [await make_user(server, f"member{i}") for i in range(3)]
    room_id = await create_room(client, users[0], preset="public_chat")
    for user in users[1:]:
        await ok(client, "POST", f"/rooms/{q(room_id)}/join", user, {})
    data = await search(client, users[0], "member", limit=2)
    assert len(data["results"]) == 2 and data["limited"] is True
    data = await search(client, users[0], "member", limit=3)
    assert len(data["results"]) == 3 and data["limited"] is False


@pytest.mark.parametrize(
    ("body", "errcode"),
    [({}, "M_MISSING_PARAM"), ({"search_term": 5}, "M_BAD_JSON"),
     ({"search_term": "a", "limit": "x"}, "M_BAD_JSON"),
     ({"search_term": "a", "limit": -1}, "M_INVALID_PARAM")],
)
async def test_bad_search_requests(
    server: HomeServer, client: Any, body: dict, errcode: str
) -> None:
    alice = await make_user(server, "alice")
    status, got = await call(client, "POST", "/user_directory/search", alice, body)
    assert (status, got["errcode"]) == (400, errcode)


class TestSearchAllUsers:
    @pytest.fixture
    def config_overrides(self) -> dict:
        return {"user_directory": {"search_all_users": True}}

    async def test_every_local_user_is_found(self, server: HomeServer, client: Any) -> None:
        alice = await make_user(server, "alice")
        bob = await make_user(server, "bob")
        assert user_ids(await search(client, alice, "bob")) == [bob.user_id]


class TestDisabled:
    @pytest.fixture
    def config_overrides(self) -> dict:
        return {"user_directory": {"enabled": False}}

    async def test_disabled_directory_finds_nobody(self, server: HomeServer, client: Any) -> None:
        alice = await make_user(server, "alice")
        await create_room(client, alice, preset="public_chat")
        assert await search(client, alice, "alice") == {"results": [], "limited": False}
