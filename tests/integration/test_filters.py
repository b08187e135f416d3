"""POST/GET /user/{userId}/filter, and stored and inline filters in /sync."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer

from .room_helpers import call, create_room, q, send_message
from .sync_helpers import sync, sync_raw

FILTER = {"room": {"timeline": {"limit": 1, "types": ["m.room.message"]}}}


async def test_upload_and_get_filter(client: Any, alice) -> None:
    status, body = await call(client, "POST", f"/user/{q(alice.user_id)}/filter", alice, FILTER)
    assert status == 200 and isinstance(body["filter_id"], str)
    assert not body["filter_id"].startswith("{")
    status, got = await call(
        client, "GET", f"/user/{q(alice.user_id)}/filter/{body['filter_id']}", alice
    )
    assert (status, got) == (200, FILTER)


async def test_same_filter_gets_same_id_and_different_filter_another(client: Any, alice) -> None:
    path = f"/user/{q(alice.user_id)}/filter"
    _, a = await call(client, "POST", path, alice, FILTER)
    _, b = await call(client, "POST", path, alice, FILTER)
    _, c = await call(client, "POST", path, alice, {"presence": {"not_types": ["*"]}})
    assert a == b and a != c


async def test_filters_of_others_are_forbidden(client: Any, alice, bob) -> None:
    _, created = await call(client, "POST", f"/user/{q(alice.user_id)}/filter", alice, FILTER)
    status, body = await call(client, "POST", f"/user/{q(alice.user_id)}/filter", bob, FILTER)
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
    status, body = await call(
        client, "GET", f"/user/{q(alice.user_id)}/filter/{created['filter_id']}", bob
    )
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")


async def test_unknown_filter_is_not_found(client: Any, alice) -> None:
    for filter_id in ("999", "abc"):
        status, body = await call(client, "GET", f"/user/{q(alice.user_id)}/filter/{filter_id}",
                                  alice)
        assert (status, body["errcode"]) == (404, "M_NOT_FOUND")


@pytest.mark.parametrize(
    "bad",
    [{"room": {"timeline": {"limit": "ten"}}}, {"event_format": "xml"},
     {"room": {"rooms": "!a:b"}}, {"presence": []}],
)
async def test_bad_filter_is_refused_and_not_stored(
    client: Any, server: HomeServer, alice, bad: Any
) -> None:
    status, body = await call(client, "POST", f"/user/{q(alice.user_id)}/filter", alice, bad)
    assert (status, body["errcode"]) == (400, "M_BAD_JSON")
    assert await server.db.fetchval("SELECT COUNT(*) FROM user_filters") == 0


async def test_stored_filter_applies_in_sync(client: Any, alice) -> None:
    room = await create_room(client, alice)
    await send_message(client, alice, room, "one", "t1")
    await send_message(client, alice, room, "two", "t2")
    _, created = await call(client, "POST", f"/user/{q(alice.user_id)}/filter", alice, FILTER)
    body = await sync(client, alice, filter=created["filter_id"])
    timeline = body["rooms"]["join"][room]["timeline"]
    assert [e["content"]["body"] for e in timeline["events"]] == ["two"]
    assert timeline["limited"] is True


async def test_inline_filter_event_fields(client: Any, alice) -> None:
    room = await create_room(client, alice)
    await send_message(client, alice, room, "one", "t1")
    body = await sync(client, alice, filter={"event_fields": ["type", "content.body"],
                                             "room": {"timeline": {"limit": 1}}})
    assert body["rooms"]["join"][room]["timeline"]["events"] == [
        {"type": "m.room.message", "content": {"body": "one"}}
    ]


@pytest.mark.parametrize(
    ("param", "code"),
    [("{bad json", "M_NOT_JSON"), ('{"room": {"include_leave": "yes"}}', "M_BAD_JSON"),
     ("12345", "M_INVALID_PARAM"), ("not-an-id", "M_INVALID_PARAM")],
)
async def test_bad_sync_filter_param(client: Any, alice, param: str, code: str) -> None:
    status, body = await sync_raw(client, alice, filter=param)
    assert (status, body["errcode"]) == (400, code)
