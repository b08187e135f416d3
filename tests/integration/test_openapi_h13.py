"""The responses of search, spaces, room summaries, reports, notifications, pushers,
VoIP, third-party lookups and OpenID, checked against the spec's OpenAPI schemas
(tests/schemas/openapi_check.py), errors included."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer, create_app
from ranvier.storage.notifications import NotificationsStore, PushAction
from tests.integration.room_helpers import User, call, make_user, q
from tests.schemas.openapi_check import schema_check_middleware

V1 = "/_matrix/client/v1"


@pytest.fixture
async def checked(server: HomeServer, aiohttp_client: Any) -> Any:
    return await aiohttp_client(
        create_app(server, resources=None), middlewares=(schema_check_middleware,)
    )


async def ok(client: Any, method: str, path: str, user: User, body: Any = None) -> Any:
    status, data = await call(client, method, path, user, body)
    assert status == 200, (method, path, status, data)
    return data


async def get_v1(client: Any, path: str, user: User) -> tuple[int, Any]:
    response = await client.get(V1 + path, headers={"Authorization": f"Bearer {user.token}"})
    return response.status, await response.json()


async def test_search_and_spaces_match_the_spec(server: HomeServer, checked: Any) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    space = (await ok(checked, "POST", "/createRoom", alice, {
        "preset": "public_chat", "name": "Space", "creation_content": {"type": "m.space"},
    }))["room_id"]
    room = (await ok(checked, "POST", "/createRoom", alice, {
        "preset": "public_chat", "topic": "pies", "room_alias_name": "pies",
    }))["room_id"]
    await ok(checked, "PUT", f"/rooms/{q(space)}/state/m.space.child/{q(room)}", alice,
             {"via": ["test.local"]})
    for i in range(3):
        await ok(checked, "PUT", f"/rooms/{q(room)}/send/m.room.message/{i}", alice,
                 {"msgtype": "m.text", "body": f"apple pie {i}"})
    result = await ok(checked, "POST", "/search", alice, {"search_categories": {"room_events": {
        "search_term": "pie", "filter": {"limit": 2}, "include_state": True,
        "event_context": {"before_limit": 1, "after_limit": 1, "include_profile": True},
        "groupings": {"group_by": [{"key": "room_id"}, {"key": "sender"}]},
    }}})
    assert result["search_categories"]["room_events"]["next_batch"]
    status, _ = await call(checked, "POST", "/search", alice, {"search_categories": {
        "room_events": {"search_term": "pie", "order_by": "sideways"}}})
    assert status == 400
    status, data = await get_v1(checked, f"/rooms/{q(space)}/hierarchy?limit=1", alice)
    assert status == 200 and data["next_batch"]
    status, _ = await get_v1(checked, f"/rooms/{q(space)}/hierarchy?limit=0", alice)
    assert status == 400
    status, _ = await get_v1(checked, f"/room_summary/{q('#pies:test.local')}", bob)
    assert status == 200
    status, _ = await get_v1(checked, f"/room_summary/{q('!missing:test.local')}", bob)
    assert status == 404


@pytest.mark.parametrize("config_overrides", [
    {"turn_uris": ["turn:turn.example.org"], "turn_shared_secret": "s"},
])
async def test_the_other_endpoints_match_the_spec(server: HomeServer, checked: Any) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    room = (await ok(checked, "POST", "/createRoom", alice, {"preset": "public_chat"}))[
        "room_id"]
    await ok(checked, "POST", f"/rooms/{q(room)}/join", bob, {})
    event_id = (await ok(checked, "PUT", f"/rooms/{q(room)}/send/m.room.message/1", bob,
                         {"msgtype": "m.text", "body": "hi"}))["event_id"]
    stored = await server.stores.events.get_event(event_id)
    assert stored is not None
    async with server.db.transaction() as conn:
        await NotificationsStore.write(conn, [PushAction(
            alice.user_id, event_id, room, stored.stream_ordering, "main", True, False,
            ("notify",),
        )])
    assert (await ok(checked, "GET", "/notifications", alice))["notifications"]
    await ok(checked, "POST", f"/rooms/{q(room)}/report/{q(event_id)}", alice, {"reason": "x"})
    await ok(checked, "POST", f"/rooms/{q(room)}/report", alice, {"reason": "x"})
    await ok(checked, "POST", f"/users/{q(bob.user_id)}/report", alice, {"reason": "x"})
    status, _ = await call(checked, "POST", f"/rooms/{q(room)}/report/$nope", alice, {})
    assert status == 404
    await ok(checked, "POST", "/pushers/set", alice, {
        "kind": "http", "app_id": "a.b", "pushkey": "k", "app_display_name": "A",
        "device_display_name": "D", "lang": "en",
        "data": {"url": "https://p.example/_matrix/push/v1/notify"},
    })
    assert (await ok(checked, "GET", "/pushers", alice))["pushers"]
    status, _ = await call(checked, "POST", "/pushers/set", alice, {"app_id": "a.b"})
    assert status == 400
    # Without TURN configured the answer is {} (as Synapse's), which the schema's
    # required fields do not allow; with TURN, it must match.
    turn = await ok(checked, "GET", "/voip/turnServer", alice)
    assert set(turn) == {"username", "password", "uris", "ttl"}
    await ok(checked, "GET", "/thirdparty/protocols", alice)
    status, _ = await call(checked, "GET", "/thirdparty/protocol/irc", alice)
    assert status == 404
    await ok(checked, "GET", "/thirdparty/location?alias=%23a:test.local", alice)
    await ok(checked, "GET", "/thirdparty/user?userid=%40a:test.local", alice)
    await ok(checked, "POST", f"/user/{q(alice.user_id)}/openid/request_token", alice, {})
