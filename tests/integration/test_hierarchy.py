"""Space hierarchies (GET /_matrix/client/v1/rooms/{roomId}/hierarchy) and room
summaries (GET /_matrix/client/v1/room_summary/{roomIdOrAlias} and MSC3266's unstable
paths): which rooms a user may preview, child order, depth, suggested-only and
pagination, on both engines."""

from __future__ import annotations

from typing import Any

from ranvier.server import HomeServer
from tests.integration.room_helpers import User, create_room, make_user, ok, q

V1 = "/_matrix/client/v1"


async def get(client: Any, path: str, user: User | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {user.token}"} if user else {}
    response = await client.get(path, headers=headers)
    return response.status, await response.json()


async def hierarchy(client: Any, user: User, room_id: str, query: str = "") -> dict:
    status, data = await get(client, f"{V1}/rooms/{q(room_id)}/hierarchy{query}", user)
    assert status == 200, data
    return data


def room_ids(data: dict) -> list[str]:
    return [r["room_id"] for r in data["rooms"]]


async def space(client: Any, user: User, **body: Any) -> str:
    return await create_room(
        client, user, preset="public_chat", creation_content={"type": "m.space"}, **body
    )


async def add_child(client: Any, user: User, parent: str, child: str, **content: Any) -> None:
    await ok(client, "PUT", f"/rooms/{q(parent)}/state/m.space.child/{q(child)}", user,
             {"via": ["test.local"], **content})


async def test_hierarchy_walks_depth_first_in_child_order(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    root = await space(client, alice, name="Root")
    sub = await space(client, alice, name="Sub")
    first = await create_room(client, alice, preset="public_chat", name="First")
    last = await create_room(client, alice, preset="public_chat")
    deep = await create_room(client, alice, preset="public_chat")
    await add_child(client, alice, root, last)
    await add_child(client, alice, root, sub, order="b")
    await add_child(client, alice, root, first, order="a")
    await add_child(client, alice, sub, deep)
    data = await hierarchy(client, alice, root)
    # ordered children first (by order), then the rest by timestamp
    assert room_ids(data) == [root, first, sub, deep, last]
    assert "next_batch" not in data
    top = data["rooms"][0]
    assert top["room_type"] == "m.space" and top["name"] == "Root"
    assert top["num_joined_members"] == 1 and top["join_rule"] == "public"
    assert top["room_version"] == "12" and top["world_readable"] is False
    assert [c["state_key"] for c in top["children_state"]] == [first, sub, last]
    child = top["children_state"][0]
    assert child["type"] == "m.space.child" and child["content"]["order"] == "a"
    assert child["sender"] == alice.user_id and isinstance(child["origin_server_ts"], int)
    assert data["rooms"][1]["children_state"] == []


async def test_max_depth_and_suggested_only(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    root = await space(client, alice)
    sub = await space(client, alice)
    deep = await create_room(client, alice, preset="public_chat")
    other = await create_room(client, alice, preset="public_chat")
    await add_child(client, alice, root, sub, suggested=True)
    await add_child(client, alice, root, other)
    await add_child(client, alice, sub, deep, suggested=True)
    assert room_ids(await hierarchy(client, alice, root, "?max_depth=0")) == [root]
    assert set(room_ids(await hierarchy(client, alice, root, "?max_depth=1"))) == {
        root, sub, other}
    suggested = await hierarchy(client, alice, root, "?suggested_only=true")
    assert room_ids(suggested) == [root, sub, deep]
    assert [c["state_key"] for c in suggested["rooms"][0]["children_state"]] == [sub]


async def test_children_without_via_and_cycles_are_handled(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    root = await space(client, alice)
    sub = await space(client, alice)
    removed = await create_room(client, alice, preset="public_chat")
    await add_child(client, alice, root, sub)
    await add_child(client, alice, sub, root)  # a cycle
    await ok(client, "PUT", f"/rooms/{q(root)}/state/m.space.child/{q(removed)}", alice, {})
    data = await hierarchy(client, alice, root)
    assert room_ids(data) == [root, sub]
    assert [c["state_key"] for c in data["rooms"][0]["children_state"]] == [sub]


async def test_rooms_the_user_may_not_preview_are_left_out(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    root = await space(client, alice)
    private = await create_room(client, alice, preset="private_chat")
    invited = await create_room(client, alice, preset="private_chat")
    readable = await create_room(client, alice, preset="private_chat", initial_state=[
        {"type": "m.room.history_visibility", "content": {"history_visibility":
                                                          "world_readable"}}])
    restricted = await create_room(client, alice, preset="private_chat", initial_state=[
        {"type": "m.room.join_rules", "content": {"join_rule": "restricted", "allow": [
            {"type": "m.room_membership", "room_id": root}]}}])
    knock = await create_room(client, alice, preset="private_chat", initial_state=[
        {"type": "m.room.join_rules", "content": {"join_rule": "knock"}}])
    for child in (private, invited, readable, restricted, knock):
        await add_child(client, alice, root, child)
    await ok(client, "POST", f"/rooms/{q(invited)}/invite", alice, {"user_id": bob.user_id})
    seen_by_outsider = set(room_ids(await hierarchy(client, bob, root)))
    assert seen_by_outsider == {root, invited, readable, knock}
    await ok(client, "POST", f"/rooms/{q(root)}/join", bob, {})
    seen_by_member = await hierarchy(client, bob, root)
    assert set(room_ids(seen_by_member)) == {root, invited, readable, knock, restricted}
    entry = next(r for r in seen_by_member["rooms"] if r["room_id"] == restricted)
    assert entry["allowed_room_ids"] == [root] and entry["join_rule"] == "restricted"
    assert set(room_ids(await hierarchy(client, alice, root))) == {
        root, private, invited, readable, restricted, knock}


async def test_hierarchy_of_a_room_the_user_may_not_see_is_forbidden(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    private = await create_room(client, alice, preset="private_chat")
    for room_id in (private, "!unknown:test.local"):
        status, data = await get(client, f"{V1}/rooms/{q(room_id)}/hierarchy", bob)
        assert (status, data["errcode"]) == (403, "M_FORBIDDEN")


async def test_hierarchy_pages_with_next_batch(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    root = await space(client, alice)
    children = [await create_room(client, alice, preset="public_chat") for _ in range(4)]
    for i, child in enumerate(children):
        await add_child(client, alice, root, child, order=str(i))
    walked: list[str] = []
    token = None
    pages = 0
    while True:
        query = "?limit=2" + (f"&from={q(token)}" if token else "")
        data = await hierarchy(client, alice, root, query)
        walked += room_ids(data)
        pages += 1
        token = data.get("next_batch")
        if token is None:
            break
    assert walked == [root, *children] and pages == 3


async def test_hierarchy_bad_parameters(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    root = await space(client, alice)
    for _ in range(2):
        child = await create_room(client, alice, preset="public_chat")
        await add_child(client, alice, root, child)
    first = await hierarchy(client, alice, root, "?limit=1")
    token = q(first["next_batch"])
    other = await space(client, alice)
    bad = [
        f"{root}/hierarchy?limit=0",
        f"{root}/hierarchy?limit=x",
        f"{root}/hierarchy?max_depth=-1",
        f"{root}/hierarchy?suggested_only=maybe",
        f"{root}/hierarchy?from=garbage",
        f"{root}/hierarchy?limit=1&from={token}&suggested_only=true",
        f"{root}/hierarchy?limit=1&from={token}&max_depth=1",
        f"{other}/hierarchy?from={token}",
    ]
    for path in bad:
        status, data = await get(client, f"{V1}/rooms/{path}", alice)
        assert (status, data["errcode"]) == (400, "M_INVALID_PARAM"), (path, data)
    status, data = await get(client, f"{V1}/rooms/{q(root)}/hierarchy")
    assert (status, data["errcode"]) == (401, "M_MISSING_TOKEN")


async def test_room_summary_by_id_and_alias(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    room_id = await create_room(
        client, alice, preset="public_chat", name="Cheese", topic="Tasty",
        room_alias_name="cheese",
    )
    await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.encryption", alice,
             {"algorithm": "m.megolm.v1.aes-sha2"})
    for path in (
        f"{V1}/room_summary/{q(room_id)}",
        f"{V1}/room_summary/{q('#cheese:test.local')}",
        f"/_matrix/client/unstable/im.nheko.summary/summary/{q(room_id)}",
        f"/_matrix/client/unstable/im.nheko.summary/rooms/{q(room_id)}/summary",
    ):
        status, data = await get(client, path, alice)
        assert status == 200, (path, data)
        assert data["room_id"] == room_id and data["name"] == "Cheese"
        assert data["topic"] == "Tasty" and data["canonical_alias"] == "#cheese:test.local"
        assert data["membership"] == "join" and data["num_joined_members"] == 1
        assert data["encryption"] == "m.megolm.v1.aes-sha2" and data["room_version"] == "12"
        assert data["guest_can_join"] is False and data["join_rule"] == "public"
        if "unstable" in path:
            assert data["im.nheko.summary.room_version"] == "12"
    status, data = await get(client, f"{V1}/room_summary/{q(room_id)}", bob)
    assert (status, data["membership"]) == (200, "leave")
    status, data = await get(client, f"{V1}/room_summary/{q(room_id)}")
    assert status == 200 and "membership" not in data


async def test_room_summary_hides_rooms_the_caller_may_not_preview(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    private = await create_room(client, alice, preset="private_chat")
    knock = await create_room(client, alice, preset="private_chat", initial_state=[
        {"type": "m.room.join_rules", "content": {"join_rule": "knock"}}])
    for user in (bob, None):
        status, data = await get(client, f"{V1}/room_summary/{q(private)}", user)
        assert (status, data["errcode"]) == (404, "M_NOT_FOUND")
        status, data = await get(client, f"{V1}/room_summary/{q(knock)}", user)
        assert status == 200 and data["join_rule"] == "knock"
    for missing, code in (("!nope:test.local", 404), ("#nope:test.local", 404),
                          ("not-a-room", 400)):
        status, data = await get(client, f"{V1}/room_summary/{q(missing)}", bob)
        assert status == code, (missing, data)
