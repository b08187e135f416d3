"""Receipts and read markers: POST .../receipt/{type}/{eventId}, POST .../read_markers,
their errors, the "receipts" stream, and the fully read marker as room account data
(spec: "Receipts", "Read and unread markers")."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer
from ranvier.services.account_data import ACCOUNT_DATA_STREAM
from ranvier.services.events import NewEvent
from ranvier.services.receipts import RECEIPTS_STREAM

from .room_helpers import User, call, create_room, make_user, ok, q, send_message, shared_room
from .stream_helpers import expect_wakeup


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    # Receipts count as presence activity, which would wake the room's syncs too.
    return {"presence": {"enabled": False}}


@pytest.fixture
async def room_id(client: Any, alice: User, bob: User) -> str:
    return await shared_room(client, alice, bob)


@pytest.fixture
async def messages(server: HomeServer, alice: User, room_id: str) -> list[str]:
    # Sent past the client API, which would also give alice implicit receipts for them
    # (test_sender_activity.py): these tests are about explicit receipts only.
    sent = [
        await server.event_creator.send(
            room_id, NewEvent("m.room.message", alice.user_id, {"msgtype": "m.text",
                                                                "body": f"m{i}"})
        )
        for i in range(3)
    ]
    return [s.event.event_id for s in sent]


def receipt_path(room_id: str, receipt_type: str, event_id: str) -> str:
    return f"/rooms/{q(room_id)}/receipt/{receipt_type}/{q(event_id)}"


async def receipts_seen_by(
    server: HomeServer, user: User, room_id: str, from_pos: int | None = None
) -> dict[str, Any]:
    contents = await server.receipts.changes_for_sync(
        user.user_id, [room_id], from_pos, server.receipts.position
    )
    return contents.get(room_id, {})


async def test_read_receipt_wakes_the_room_and_reaches_sync(
    client: Any, server: HomeServer, alice: User, bob: User, room_id: str, messages: list[str]
) -> None:
    start = server.receipts.position
    async with expect_wakeup(server, alice.user_id, [room_id], RECEIPTS_STREAM):
        await ok(client, "POST", receipt_path(room_id, "m.read", messages[1]), bob, {})
    content = await receipts_seen_by(server, alice, room_id, start)
    assert list(content) == [messages[1]]
    info = content[messages[1]]["m.read"][bob.user_id]
    assert set(info) == {"ts"} and isinstance(info["ts"], int)
    # nothing new since
    assert await receipts_seen_by(server, alice, room_id, server.receipts.position) == {}


async def test_a_newer_receipt_replaces_the_older_one(
    client: Any, server: HomeServer, bob: User, alice: User, room_id: str, messages: list[str]
) -> None:
    await ok(client, "POST", receipt_path(room_id, "m.read", messages[0]), bob, {})
    await ok(client, "POST", receipt_path(room_id, "m.read", messages[2]), bob, {})
    content = await receipts_seen_by(server, alice, room_id)
    assert list(content) == [messages[2]]


async def test_a_receipt_for_an_earlier_event_is_ignored(
    client: Any, server: HomeServer, alice: User, bob: User, room_id: str, messages: list[str]
) -> None:
    await ok(client, "POST", receipt_path(room_id, "m.read", messages[2]), bob, {})
    position = server.receipts.position
    async with expect_wakeup(server, alice.user_id, [room_id], RECEIPTS_STREAM, woken=False):
        await ok(client, "POST", receipt_path(room_id, "m.read", messages[0]), bob, {})
    assert await receipts_seen_by(server, alice, room_id, position) == {}
    assert list(await receipts_seen_by(server, alice, room_id)) == [messages[2]]


async def test_private_receipts_are_seen_only_by_their_user(
    client: Any, server: HomeServer, alice: User, bob: User, room_id: str, messages: list[str]
) -> None:
    start = server.receipts.position
    async with expect_wakeup(server, alice.user_id, [room_id], RECEIPTS_STREAM, woken=False):
        await ok(client, "POST", receipt_path(room_id, "m.read.private", messages[1]), bob, {})
    assert await receipts_seen_by(server, alice, room_id, start) == {}
    assert await receipts_seen_by(server, alice, room_id) == {}
    own = await receipts_seen_by(server, bob, room_id, start)
    assert list(own[messages[1]]) == ["m.read.private"]
    assert bob.user_id in own[messages[1]]["m.read.private"]


async def test_private_receipts_wake_their_users_own_sync(
    client: Any, server: HomeServer, bob: User, room_id: str, messages: list[str]
) -> None:
    async with expect_wakeup(server, bob.user_id, [], RECEIPTS_STREAM):
        await ok(client, "POST", receipt_path(room_id, "m.read.private", messages[1]), bob, {})


async def test_threaded_and_unthreaded_receipts_are_kept_apart(
    client: Any, server: HomeServer, alice: User, bob: User, room_id: str, messages: list[str]
) -> None:
    await ok(client, "POST", receipt_path(room_id, "m.read", messages[2]), bob, {})
    await ok(client, "POST", receipt_path(room_id, "m.read", messages[1]), bob,
             {"thread_id": "main"})
    await ok(client, "POST", receipt_path(room_id, "m.read", messages[0]), bob,
             {"thread_id": messages[0]})
    content = await receipts_seen_by(server, alice, room_id)
    assert content[messages[2]]["m.read"][bob.user_id].get("thread_id") is None
    assert content[messages[1]]["m.read"][bob.user_id]["thread_id"] == "main"
    assert content[messages[0]]["m.read"][bob.user_id]["thread_id"] == messages[0]


async def test_latest_read_stream_ordering_takes_the_furthest_applicable_receipt(
    client: Any, server: HomeServer, bob: User, room_id: str, messages: list[str]
) -> None:
    orderings = {
        e: (await server.stores.events.get_event(e)).stream_ordering for e in messages
    }
    latest = server.receipts.latest_read_stream_ordering
    assert await latest(bob.user_id, room_id) is None
    await ok(client, "POST", receipt_path(room_id, "m.read", messages[0]), bob, {})
    await ok(client, "POST", receipt_path(room_id, "m.read.private", messages[1]), bob, {})
    await ok(client, "POST", receipt_path(room_id, "m.read", messages[2]), bob,
             {"thread_id": "main"})
    assert await latest(bob.user_id, room_id) == orderings[messages[1]]
    assert await latest(bob.user_id, room_id, "main") == orderings[messages[2]]
    assert await latest(bob.user_id, room_id, "$other-thread") == orderings[messages[1]]


async def test_fully_read_receipt_sets_the_marker_in_room_account_data(
    client: Any, server: HomeServer, bob: User, room_id: str, messages: list[str]
) -> None:
    start = server.account_data.position
    async with expect_wakeup(server, bob.user_id, [], ACCOUNT_DATA_STREAM):
        await ok(client, "POST", receipt_path(room_id, "m.fully_read", messages[1]), bob, {})
    marker = f"/user/{q(bob.user_id)}/rooms/{q(room_id)}/account_data/m.fully_read"
    assert await ok(client, "GET", marker, bob) == {"event_id": messages[1]}
    assert await server.account_data.changes_for_sync(
        bob.user_id, start, server.account_data.position
    ) == ([], {room_id: [{"type": "m.fully_read", "content": {"event_id": messages[1]}}]})
    # not a receipt
    assert await receipts_seen_by(server, bob, room_id) == {}
    # and it never moves back
    position = server.account_data.position
    await ok(client, "POST", receipt_path(room_id, "m.fully_read", messages[0]), bob, {})
    assert server.account_data.position == position
    assert await ok(client, "GET", marker, bob) == {"event_id": messages[1]}


async def test_read_markers_set_the_marker_and_both_receipts(
    client: Any, server: HomeServer, alice: User, bob: User, room_id: str, messages: list[str]
) -> None:
    await ok(client, "POST", f"/rooms/{q(room_id)}/read_markers", bob, {
        "m.fully_read": messages[0], "m.read": messages[1], "m.read.private": messages[2],
    })
    marker = f"/user/{q(bob.user_id)}/rooms/{q(room_id)}/account_data/m.fully_read"
    assert await ok(client, "GET", marker, bob) == {"event_id": messages[0]}
    own = await receipts_seen_by(server, bob, room_id)
    assert bob.user_id in own[messages[1]]["m.read"]
    assert bob.user_id in own[messages[2]]["m.read.private"]
    assert list(await receipts_seen_by(server, alice, room_id)) == [messages[1]]


async def test_read_markers_with_one_bad_event_change_nothing(
    client: Any, server: HomeServer, bob: User, room_id: str, messages: list[str]
) -> None:
    positions = (server.receipts.position, server.account_data.position)
    status, data = await call(client, "POST", f"/rooms/{q(room_id)}/read_markers", bob, {
        "m.fully_read": messages[0], "m.read": "$unknown",
    })
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")
    assert "$unknown" in data["error"]
    status, data = await call(client, "POST", f"/rooms/{q(room_id)}/read_markers", bob, {
        "m.fully_read": 42,
    })
    assert (status, data["errcode"]) == (400, "M_BAD_JSON")
    assert "m.fully_read" in data["error"]
    assert (server.receipts.position, server.account_data.position) == positions


@pytest.mark.parametrize(
    ("receipt_type", "body", "errcode", "named"),
    [
        ("m.unknown", {}, "M_INVALID_PARAM", "Receipt type"),
        ("m.read", {"thread_id": ""}, "M_INVALID_PARAM", "thread_id"),
        ("m.read", {"thread_id": "not-an-event"}, "M_INVALID_PARAM", "thread_id"),
        ("m.read", {"thread_id": 7}, "M_BAD_JSON", "thread_id"),
        ("m.fully_read", {"thread_id": "main"}, "M_INVALID_PARAM", "thread_id"),
    ],
)
async def test_bad_receipts_are_refused_and_change_nothing(
    client: Any, server: HomeServer, bob: User, room_id: str, messages: list[str],
    receipt_type: str, body: dict[str, Any], errcode: str, named: str,
) -> None:
    positions = (server.receipts.position, server.account_data.position)
    status, data = await call(
        client, "POST", receipt_path(room_id, receipt_type, messages[0]), bob, body
    )
    assert (status, data["errcode"]) == (400, errcode)
    assert named in data["error"]
    assert (server.receipts.position, server.account_data.position) == positions


async def test_receipts_need_an_event_of_the_room_and_membership(
    client: Any, server: HomeServer, alice: User, bob: User, room_id: str, messages: list[str]
) -> None:
    other_room = await create_room(client, alice)
    elsewhere = await send_message(client, alice, other_room, "elsewhere", "tx")
    position = server.receipts.position
    status, data = await call(client, "POST", receipt_path(room_id, "m.read", "$nope"), bob, {})
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")
    status, data = await call(client, "POST", receipt_path(room_id, "m.read", elsewhere), bob, {})
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")
    carol = await make_user(server, "carol")
    status, data = await call(
        client, "POST", receipt_path(room_id, "m.read", messages[0]), carol, {}
    )
    assert (status, data["errcode"]) == (403, "M_FORBIDDEN")
    assert server.receipts.position == position


async def test_a_receipt_may_come_without_a_body(
    client: Any, server: HomeServer, bob: User, room_id: str, messages: list[str]
) -> None:
    response = await client.post(
        "/_matrix/client/v3" + receipt_path(room_id, "m.read", messages[0]),
        headers={"Authorization": f"Bearer {bob.token}"},
    )
    assert response.status == 200, await response.text()
    assert messages[0] in await receipts_seen_by(server, bob, room_id)
