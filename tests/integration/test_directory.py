"""Room aliases, canonical alias checks, room directory visibility and /publicRooms."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer
from tests.integration.room_helpers import User, call, create_room, make_user, ok, q


def alias_path(alias: str) -> str:
    return f"/directory/room/{q(alias)}"


async def test_alias_create_resolve_list_delete(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    room_id = await create_room(client, alice)
    alias = "#hideout:test.local"
    await ok(client, "PUT", alias_path(alias), alice, {"room_id": room_id})
    assert await ok(client, "GET", alias_path(alias)) == {
        "room_id": room_id, "servers": ["test.local"]
    }
    assert await ok(client, "GET", f"/rooms/{q(room_id)}/aliases", alice) == {"aliases": [alias]}
    await ok(client, "DELETE", alias_path(alias), alice)
    status, body = await call(client, "GET", alias_path(alias))
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")


async def test_taken_alias_is_a_conflict_and_keeps_the_first_room(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    first = await create_room(client, alice)
    second = await create_room(client, alice)
    await ok(client, "PUT", alias_path("#a:test.local"), alice, {"room_id": first})
    status, body = await call(
        client, "PUT", alias_path("#a:test.local"), alice, {"room_id": second}
    )
    assert (status, body["errcode"]) == (409, "M_UNKNOWN")
    assert (await ok(client, "GET", alias_path("#a:test.local")))["room_id"] == first


@pytest.mark.parametrize(
    ("alias", "body", "status", "errcode"),
    [
        ("#x:other.server", None, 400, "M_INVALID_PARAM"),
        ("not-an-alias", None, 400, "M_INVALID_PARAM"),
        ("#x:test.local", {"room_id": "!nope:test.local"}, 404, "M_NOT_FOUND"),
        ("#x:test.local", {"room_id": 5}, 400, "M_BAD_JSON"),
        ("#x:test.local", {}, 400, "M_MISSING_PARAM"),
    ],
)
async def test_bad_alias_creation_is_refused(
    server: HomeServer, client: Any, alias: str, body: Any, status: int, errcode: str
) -> None:
    alice = await make_user(server, "alice")
    room_id = await create_room(client, alice)
    got_status, got = await call(
        client, "PUT", alias_path(alias), alice, body if body is not None else {"room_id": room_id}
    )
    assert (got_status, got["errcode"]) == (status, errcode)
    assert await ok(client, "GET", f"/rooms/{q(room_id)}/aliases", alice) == {"aliases": []}


async def test_only_creator_admins_or_room_moderators_may_delete_alias(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/rooms/{q(room_id)}/join", bob, {})
    await ok(client, "PUT", alias_path("#mine:test.local"), bob, {"room_id": room_id})
    await ok(client, "PUT", alias_path("#theirs:test.local"), alice, {"room_id": room_id})
    status, body = await call(client, "DELETE", alias_path("#theirs:test.local"), bob)
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
    await ok(client, "DELETE", alias_path("#mine:test.local"), bob)
    # alice has the power to change the canonical alias, so she may delete bob's aliases
    await ok(client, "PUT", alias_path("#mine:test.local"), bob, {"room_id": room_id})
    await ok(client, "DELETE", alias_path("#mine:test.local"), alice)
    status, body = await call(client, "DELETE", alias_path("#gone:test.local"), alice)
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")


async def test_deleting_an_advertised_alias_takes_it_out_of_the_canonical_alias(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    room_id = await create_room(client, alice)
    for name in ("main", "alt", "kept"):
        await ok(client, "PUT", alias_path(f"#{name}:test.local"), alice, {"room_id": room_id})
    path = f"/rooms/{q(room_id)}/state/m.room.canonical_alias"
    await ok(client, "PUT", path, alice, {
        "alias": "#main:test.local", "alt_aliases": ["#alt:test.local", "#kept:test.local"],
    })
    await ok(client, "DELETE", alias_path("#main:test.local"), alice)
    assert await ok(client, "GET", path, alice) == {
        "alt_aliases": ["#alt:test.local", "#kept:test.local"]
    }
    await ok(client, "DELETE", alias_path("#alt:test.local"), alice)
    assert await ok(client, "GET", path, alice) == {"alt_aliases": ["#kept:test.local"]}


async def test_alias_creator_without_power_still_deletes_an_advertised_alias(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/rooms/{q(room_id)}/join", bob, {})
    await ok(client, "PUT", alias_path("#bobs:test.local"), bob, {"room_id": room_id})
    path = f"/rooms/{q(room_id)}/state/m.room.canonical_alias"
    await ok(client, "PUT", path, alice, {"alias": "#bobs:test.local"})
    await ok(client, "DELETE", alias_path("#bobs:test.local"), bob)
    status, _ = await call(client, "GET", alias_path("#bobs:test.local"))
    assert status == 404
    assert await ok(client, "GET", path, alice) == {"alias": "#bobs:test.local"}


async def test_room_aliases_forbidden_to_non_members(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    eve = await make_user(server, "eve")
    room_id = await create_room(client, alice)
    status, body = await call(client, "GET", f"/rooms/{q(room_id)}/aliases", eve)
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")


async def test_canonical_alias_must_point_at_the_room(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    room_id = await create_room(client, alice)
    other = await create_room(client, alice)
    await ok(client, "PUT", alias_path("#here:test.local"), alice, {"room_id": room_id})
    await ok(client, "PUT", alias_path("#there:test.local"), alice, {"room_id": other})
    path = f"/rooms/{q(room_id)}/state/m.room.canonical_alias"
    await ok(client, "PUT", path, alice, {"alias": "#here:test.local"})
    cases = [
        ({"alias": "#there:test.local"}, "M_BAD_ALIAS"),
        ({"alias": "#here:test.local", "alt_aliases": ["#nowhere:test.local"]}, "M_BAD_ALIAS"),
        ({"alias": "no-sigil"}, "M_INVALID_PARAM"),
        ({"alt_aliases": "#here:test.local"}, "M_INVALID_PARAM"),
    ]
    for content, errcode in cases:
        status, body = await call(client, "PUT", path, alice, content)
        assert (status, body["errcode"]) == (400, errcode), content
    current = await ok(client, "GET", path, alice)
    assert current == {"alias": "#here:test.local"}


async def test_create_room_with_alias_name_registers_it(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    room_id = await create_room(client, alice, room_alias_name="lounge")
    assert (await ok(client, "GET", alias_path("#lounge:test.local")))["room_id"] == room_id


# --- visibility and /publicRooms -----------------------------------------------------------


async def publish(client: Any, user: User, room_id: str, visibility: str = "public") -> None:
    await ok(client, "PUT", f"/directory/list/room/{q(room_id)}", user, {"visibility": visibility})


async def test_visibility_round_trip_and_errors(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    room_id = await create_room(client, alice)
    path = f"/directory/list/room/{q(room_id)}"
    assert await ok(client, "GET", path) == {"visibility": "private"}
    status, body = await call(client, "PUT", path, bob, {"visibility": "public"})
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
    status, body = await call(client, "PUT", path, alice, {"visibility": "open"})
    assert (status, body["errcode"]) == (400, "M_INVALID_PARAM")
    assert await ok(client, "GET", path) == {"visibility": "private"}
    await publish(client, alice, room_id)
    assert await ok(client, "GET", path) == {"visibility": "public"}
    status, body = await call(client, "GET", "/directory/list/room/%21nope%3Atest.local")
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")


async def test_public_rooms_lists_published_rooms_with_their_details(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    big = await create_room(
        client, alice, preset="public_chat", name="Big room", topic="lots of people",
        room_alias_name="big", visibility="public",
    )
    await ok(client, "PUT", f"/rooms/{q(big)}/state/m.room.canonical_alias", alice,
             {"alias": "#big:test.local"})
    await ok(client, "POST", f"/rooms/{q(big)}/join", bob, {})
    small = await create_room(client, alice, name="Small")
    await publish(client, alice, small)
    await create_room(client, alice, name="Hidden")
    data = await ok(client, "GET", "/publicRooms")
    assert data["total_room_count_estimate"] == 2
    first, second = data["chunk"]
    assert first == {
        "room_id": big, "num_joined_members": 2, "name": "Big room",
        "topic": "lots of people", "canonical_alias": "#big:test.local",
        "join_rule": "public", "world_readable": False, "guest_can_join": False,
    }
    assert second["room_id"] == small and second["join_rule"] == "invite"
    assert second["guest_can_join"] is True


async def test_public_rooms_pagination_and_search(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    rooms = [
        await create_room(client, alice, name=f"room {i}", visibility="public")
        for i in range(3)
    ]
    page1 = await ok(client, "GET", "/publicRooms?limit=2")
    assert len(page1["chunk"]) == 2 and "prev_batch" not in page1
    page2 = await ok(client, "GET", f"/publicRooms?limit=2&since={page1['next_batch']}")
    assert len(page2["chunk"]) == 1 and "next_batch" not in page2
    seen = {r["room_id"] for r in page1["chunk"] + page2["chunk"]}
    assert seen == set(rooms)
    back = await ok(client, "GET", f"/publicRooms?limit=2&since={page2['prev_batch']}")
    assert back["chunk"] == page1["chunk"]
    found = await ok(client, "POST", "/publicRooms", alice,
                     {"filter": {"generic_search_term": "ROOM 1"}})
    assert [r["name"] for r in found["chunk"]] == ["room 1"]


async def test_public_rooms_room_types_filter(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    space = await create_room(client, alice, visibility="public",
                              creation_content={"type": "m.space"})
    plain = await create_room(client, alice, visibility="public")
    spaces = await ok(client, "POST", "/publicRooms", alice,
                      {"filter": {"room_types": ["m.space"]}})
    assert [r["room_id"] for r in spaces["chunk"]] == [space]
    assert spaces["chunk"][0]["room_type"] == "m.space"
    untyped = await ok(client, "POST", "/publicRooms", alice, {"filter": {"room_types": [None]}})
    assert [r["room_id"] for r in untyped["chunk"]] == [plain]


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"limit": "ten"}, "M_BAD_JSON"),
        ({"limit": -1}, "M_INVALID_PARAM"),
        ({"filter": {"room_types": [5]}}, "M_BAD_JSON"),
        ({"since": "garbage"}, "M_INVALID_PARAM"),
        ({"include_all_networks": True, "third_party_instance_id": "x"}, "M_INVALID_PARAM"),
    ],
)
async def test_bad_public_rooms_requests(
    server: HomeServer, client: Any, body: dict, errcode: str
) -> None:
    alice = await make_user(server, "alice")
    status, got = await call(client, "POST", "/publicRooms", alice, body)
    assert (status, got["errcode"]) == (400, errcode)


class TestPublicationRules:
    @pytest.fixture
    def config_overrides(self) -> dict:
        return {"room_list_publication_rules": [
            {"user_id": "@alice:*", "alias": "*", "room_id": "*", "action": "allow"},
        ]}

    async def test_rules_decide_who_may_publish(self, server: HomeServer, client: Any) -> None:
        alice = await make_user(server, "alice")
        bob = await make_user(server, "bob")
        room_a = await create_room(client, alice)
        room_b = await create_room(client, bob)
        await publish(client, alice, room_a)
        status, body = await call(
            client, "PUT", f"/directory/list/room/{q(room_b)}", bob, {"visibility": "public"}
        )
        assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
        rooms = (await ok(client, "GET", "/publicRooms"))["chunk"]
        assert [r["room_id"] for r in rooms] == [room_a]

    async def test_create_room_public_obeys_the_rules_and_leaves_nothing_behind(
        self, server: HomeServer, client: Any
    ) -> None:
        bob = await make_user(server, "bob")
        status, body = await call(
            client, "POST", "/createRoom", bob,
            {"visibility": "public", "room_alias_name": "bobs"},
        )
        assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
        status, _ = await call(client, "GET", alias_path("#bobs:test.local"))
        assert status == 404
        assert (await ok(client, "GET", "/publicRooms"))["chunk"] == []
