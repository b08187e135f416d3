"""Every response of a client's day, checked against the spec's OpenAPI schemas.

The client here passes each response through `schema_check_middleware`
(tests/schemas/openapi_check.py): a body that breaks the spec's schema for its
endpoint and status fails the test with the field named. The tests walk what a
client does - register, log in, create and use rooms, sync, profile, account data,
receipts, typing, directory, push rules - one area per test, so one missing feature
does not hide the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from ranvier.server import HomeServer, create_app
from tests.integration.room_helpers import V3, User, call, q
from tests.schemas.openapi_check import schema_check_middleware

PASSWORD = "a long enough password"
V1 = "/_matrix/client/v1"


@pytest.fixture
async def checked(server: HomeServer, aiohttp_client: Any) -> Any:
    """A test client whose every response is validated against the spec."""
    return await aiohttp_client(
        create_app(server, resources=None), middlewares=(schema_check_middleware,)
    )


async def ok(client: Any, method: str, path: str, user: User | None = None,
             body: Any = None) -> Any:
    status, data = await call(client, method, path, user, body)
    assert status == 200, f"{method} {path}: {status} {data}"
    return data


async def ok_v1(client: Any, path: str, user: User) -> Any:
    """GET a /_matrix/client/v1 endpoint (relations, threads)."""
    response = await client.get(V1 + path, headers={"Authorization": f"Bearer {user.token}"})
    body = await response.json()
    assert response.status == 200, f"GET {V1}{path}: {response.status} {body}"
    return body


async def register(client: Any, localpart: str) -> User:
    data = await ok(client, "POST", "/register", body={
        "username": localpart, "password": PASSWORD, "auth": {"type": "m.login.dummy"},
    })
    return User(data["user_id"], data["device_id"], data["access_token"])


@dataclass
class World:
    alice: User
    bob: User
    room_id: str
    alias: str
    messages: list[str]


@pytest.fixture
async def world(checked: Any, server: HomeServer) -> World:
    """Alice's public room with an alias, Bob in it, three messages and a topic."""
    alice = await register(checked, "alice")
    bob = await register(checked, "bob")
    alias = f"#square:{server.server_name}"
    room = await ok(checked, "POST", "/createRoom", alice, {
        "preset": "public_chat", "visibility": "public", "room_alias_name": "square",
        "name": "Square", "topic": "Anything",
    })
    room_id = room["room_id"]
    await ok(checked, "POST", f"/join/{q(alias)}", bob, {})
    messages = [
        (await ok(checked, "PUT", f"/rooms/{q(room_id)}/send/m.room.message/t{i}", alice,
                  {"msgtype": "m.text", "body": f"message {i}"}))["event_id"]
        for i in range(3)
    ]
    return World(alice, bob, room_id, alias, messages)


async def test_discovery_and_login_responses_match_the_spec(checked: Any) -> None:
    for path in ("/_matrix/client/versions", "/.well-known/matrix/client"):
        response = await checked.get(path)
        assert response.status in (200, 404), path
    user = await register(checked, "carol")
    await ok(checked, "GET", "/capabilities", user)
    flows = await ok(checked, "GET", "/login")
    assert {"type": "m.login.password"} in [{"type": f["type"]} for f in flows["flows"]]
    login = await ok(checked, "POST", "/login", body={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "carol"},
        "password": PASSWORD,
    })
    session = User(login["user_id"], login["device_id"], login["access_token"])
    assert (await ok(checked, "GET", "/account/whoami", session))["user_id"] == user.user_id
    await ok(checked, "GET", "/devices", session)
    await ok(checked, "GET", f"/devices/{q(session.device_id)}", session)
    await ok(checked, "GET", "/register/available?username=dave")
    await ok(checked, "POST", "/logout", session, {})


async def test_room_reads_match_the_spec(checked: Any, world: World) -> None:
    room, alice = q(world.room_id), world.alice
    await ok(checked, "GET", f"/rooms/{room}/state", alice)
    await ok(checked, "GET", f"/rooms/{room}/state/m.room.topic/", alice)
    await ok(checked, "GET", f"/rooms/{room}/state/m.room.member/{q(alice.user_id)}", alice)
    await ok(checked, "GET", f"/rooms/{room}/event/{q(world.messages[0])}", alice)
    page = await ok(checked, "GET", f"/rooms/{room}/messages?dir=b&limit=2", alice)
    assert len(page["chunk"]) == 2
    await ok(checked, "GET", f"/rooms/{room}/messages?dir=b&from={q(page['end'])}", alice)
    await ok(checked, "GET", f"/rooms/{room}/context/{q(world.messages[1])}?limit=2", alice)
    members = await ok(checked, "GET", f"/rooms/{room}/members", alice)
    assert {m["state_key"] for m in members["chunk"]} == {alice.user_id, world.bob.user_id}
    joined = await ok(checked, "GET", f"/rooms/{room}/joined_members", alice)
    assert set(joined["joined"]) == {alice.user_id, world.bob.user_id}
    assert world.room_id in (await ok(checked, "GET", "/joined_rooms", alice))["joined_rooms"]
    await ok(checked, "GET", f"/rooms/{room}/aliases", alice)


async def test_room_writes_match_the_spec(checked: Any, world: World) -> None:
    room, alice, bob = q(world.room_id), world.alice, world.bob
    await ok(checked, "PUT", f"/rooms/{room}/state/m.room.topic/", alice, {"topic": "New"})
    await ok(checked, "PUT", f"/rooms/{room}/redact/{q(world.messages[0])}/r1", alice,
             {"reason": "oops"})
    await ok(checked, "POST", f"/rooms/{room}/kick", alice, {"user_id": bob.user_id})
    await ok(checked, "POST", f"/rooms/{room}/invite", alice, {"user_id": bob.user_id})
    await ok(checked, "POST", f"/rooms/{room}/join", bob, {})
    await ok(checked, "POST", f"/rooms/{room}/leave", bob, {})
    await ok(checked, "POST", f"/rooms/{room}/forget", bob, {})


async def test_relations_and_threads_match_the_spec(checked: Any, world: World) -> None:
    room, alice, root = q(world.room_id), world.alice, world.messages[0]
    await ok(checked, "PUT", f"/rooms/{room}/send/m.room.message/th1", world.bob, {
        "msgtype": "m.text", "body": "in thread",
        "m.relates_to": {"rel_type": "m.thread", "event_id": root},
    })
    await ok(checked, "PUT", f"/rooms/{room}/send/m.reaction/re1", world.bob, {
        "m.relates_to": {"rel_type": "m.annotation", "event_id": root, "key": "👍"},
    })
    found = await ok_v1(checked, f"/rooms/{room}/relations/{q(root)}", alice)
    assert len(found["chunk"]) == 2
    await ok_v1(checked, f"/rooms/{room}/relations/{q(root)}/m.thread", alice)
    threads = await ok_v1(checked, f"/rooms/{room}/threads", alice)
    assert [t["event_id"] for t in threads["chunk"]] == [root]


async def test_sync_initial_and_incremental_match_the_spec(checked: Any, world: World) -> None:
    alice, bob = world.alice, world.bob
    first = await ok(checked, "GET", "/sync?timeout=0", alice)
    assert world.room_id in first["rooms"]["join"]
    await ok(checked, "PUT", f"/rooms/{q(world.room_id)}/typing/{q(bob.user_id)}", bob,
             {"typing": True, "timeout": 10000})
    await ok(checked, "POST",
             f"/rooms/{q(world.room_id)}/receipt/m.read/{q(world.messages[-1])}", bob, {})
    await ok(checked, "PUT", f"/rooms/{q(world.room_id)}/send/m.room.message/s1", bob,
             {"msgtype": "m.text", "body": "later"})
    since = q(first["next_batch"])
    later = await ok(checked, "GET", f"/sync?timeout=0&since={since}", alice)
    joined = later["rooms"]["join"][world.room_id]
    assert [e["content"].get("body") for e in joined["timeline"]["events"]] == ["later"]
    ephemeral = {e["type"] for e in joined["ephemeral"]["events"]}
    assert ephemeral == {"m.typing", "m.receipt"}
    filter_id = (await ok(checked, "POST", f"/user/{q(alice.user_id)}/filter", alice,
                          {"room": {"timeline": {"limit": 1}}}))["filter_id"]
    await ok(checked, "GET", f"/user/{q(alice.user_id)}/filter/{q(filter_id)}", alice)
    filtered = await ok(checked, "GET", f"/sync?timeout=0&filter={q(filter_id)}", alice)
    assert len(filtered["rooms"]["join"][world.room_id]["timeline"]["events"]) == 1


async def test_profile_and_presence_match_the_spec(checked: Any, world: World) -> None:
    alice = world.alice
    me = q(alice.user_id)
    await ok(checked, "PUT", f"/profile/{me}/displayname", alice, {"displayname": "Alice"})
    await ok(checked, "GET", f"/profile/{me}", alice)
    assert (await ok(checked, "GET", f"/profile/{me}/displayname", alice)) == {
        "displayname": "Alice"
    }
    await ok(checked, "PUT", f"/presence/{me}/status", alice,
             {"presence": "online", "status_msg": "here"})
    await ok(checked, "GET", f"/presence/{me}/status", alice)


async def test_account_data_tags_and_read_markers_match_the_spec(
    checked: Any, world: World
) -> None:
    alice = world.alice
    me, room = q(alice.user_id), q(world.room_id)
    await ok(checked, "PUT", f"/user/{me}/account_data/org.example.settings", alice, {"a": 1})
    assert (await ok(checked, "GET", f"/user/{me}/account_data/org.example.settings",
                     alice)) == {"a": 1}
    await ok(checked, "PUT", f"/user/{me}/rooms/{room}/account_data/org.example.r", alice,
             {"b": 2})
    await ok(checked, "GET", f"/user/{me}/rooms/{room}/account_data/org.example.r", alice)
    await ok(checked, "PUT", f"/user/{me}/rooms/{room}/tags/m.favourite", alice,
             {"order": 0.5})
    tags = await ok(checked, "GET", f"/user/{me}/rooms/{room}/tags", alice)
    assert tags == {"tags": {"m.favourite": {"order": 0.5}}}
    await ok(checked, "DELETE", f"/user/{me}/rooms/{room}/tags/m.favourite", alice)
    await ok(checked, "POST", f"/rooms/{room}/read_markers", alice, {
        "m.fully_read": world.messages[-1], "m.read": world.messages[-1],
    })


async def test_directory_and_push_rules_match_the_spec(checked: Any, world: World) -> None:
    alice = world.alice
    resolved = await ok(checked, "GET", f"/directory/room/{q(world.alias)}", alice)
    assert resolved["room_id"] == world.room_id
    await ok(checked, "GET", f"/directory/list/room/{q(world.room_id)}")
    public = await ok(checked, "GET", "/publicRooms")
    assert world.room_id in [r["room_id"] for r in public["chunk"]]
    await ok(checked, "POST", "/publicRooms", alice, {"filter": {"generic_search_term": "squ"}})
    await ok(checked, "POST", "/user_directory/search", alice, {"search_term": "bob"})
    await ok(checked, "GET", "/pushrules/", alice)


async def test_errors_match_the_spec(checked: Any, world: World) -> None:
    alice = world.alice
    status, body = await call(checked, "GET", f"/rooms/{q(world.room_id)}/event/$nope", alice)
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")
    status, body = await call(checked, "PUT",
                              f"/rooms/{q(world.room_id)}/send/m.room.message/bad", alice,
                              raw=b"{not json")
    assert (status, body["errcode"]) == (400, "M_NOT_JSON")
    response = await checked.get(V3 + "/account/whoami")
    assert response.status == 401
    assert (await response.json())["errcode"] == "M_MISSING_TOKEN"
