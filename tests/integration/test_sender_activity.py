"""Sending an event makes its sender active (presence) and counts as their reading the
room up to it, in its thread (push.md "Marking notifications as read"), through a
private receipt that only they see."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer

from .room_helpers import User, create_room, make_user, ok, q, send_message
from .sync_helpers import sync


@pytest.fixture
async def room_id(client: Any, server: HomeServer, alice: User, bob: User) -> str:
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    # A third member, so the room is not a one-to-one room for the push rules.
    await ok(client, "POST", f"/join/{q(room_id)}", await make_user(server, "carol"), {})
    return room_id


async def test_sending_a_message_makes_the_sender_active(
    client: Any, alice: User, bob: User, room_id: str
) -> None:
    path = f"/presence/{q(alice.user_id)}/status"
    assert (await ok(client, "GET", path, bob))["presence"] == "offline"
    await send_message(client, alice, room_id, "hi", "1")
    presence = await ok(client, "GET", path, bob)
    assert presence["presence"] == "online" and presence["currently_active"] is True


async def test_sending_clears_the_senders_unread_notifications(
    client: Any, server: HomeServer, alice: User, bob: User, room_id: str
) -> None:
    await send_message(client, bob, room_id, "one", "1")
    await send_message(client, bob, room_id, "two", "2")
    assert await server.notifications.unread_counts(alice.user_id, room_id) == (2, 0)
    await send_message(client, alice, room_id, "answer", "3")
    assert await server.notifications.unread_counts(alice.user_id, room_id) == (0, 0)
    joined = (await sync(client, alice))["rooms"]["join"][room_id]
    assert joined["unread_notifications"] == {"notification_count": 0, "highlight_count": 0}


@pytest.mark.parametrize("kind", ["state", "redaction"])
async def test_state_events_and_redactions_also_mark_read(
    client: Any, server: HomeServer, alice: User, bob: User, room_id: str, kind: str
) -> None:
    mine = await send_message(client, alice, room_id, "mine", "0")
    await send_message(client, bob, room_id, "one", "1")
    if kind == "state":
        await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.topic", alice, {"topic": "t"})
    else:
        await ok(client, "PUT", f"/rooms/{q(room_id)}/redact/{q(mine)}/r", alice, {})
    assert await server.notifications.unread_counts(alice.user_id, room_id) == (0, 0)


async def test_a_reply_in_a_thread_reads_only_that_thread(
    client: Any, server: HomeServer, alice: User, bob: User, room_id: str
) -> None:
    root = await send_message(client, bob, room_id, "root", "1")
    in_thread = {"msgtype": "m.text", "body": "in thread",
                 "m.relates_to": {"rel_type": "m.thread", "event_id": root}}
    await ok(client, "PUT", f"/rooms/{q(room_id)}/send/m.room.message/2", bob, in_thread)
    assert await server.notifications.unread_thread_counts(alice.user_id, room_id) == {
        "main": (1, 0), root: (1, 0)
    }
    await ok(client, "PUT", f"/rooms/{q(room_id)}/send/m.room.message/3", alice,
             {**in_thread, "body": "my reply"})
    assert await server.notifications.unread_thread_counts(alice.user_id, room_id) == {
        "main": (1, 0)
    }


async def test_the_implicit_receipt_is_private_to_the_sender(
    client: Any, alice: User, bob: User, room_id: str
) -> None:
    since = (await sync(client, bob))["next_batch"]
    mine = await send_message(client, alice, room_id, "hi", "1")

    def receipts(body: dict) -> dict:
        room = body["rooms"]["join"].get(room_id, {})
        events = room.get("ephemeral", {}).get("events", [])
        return next((e["content"] for e in events if e["type"] == "m.receipt"), {})

    assert alice.user_id in receipts(await sync(client, alice))[mine]["m.read.private"]
    assert receipts(await sync(client, bob, since=since)) == {}
