"""Notification counts: push rules evaluated when events are persisted, counted after
the user's read receipts, per room and per thread."""

from __future__ import annotations

from typing import Any

from ranvier.server import HomeServer

from .room_helpers import User, create_room, make_user, ok, q, send_message, shared_room

_txn = iter(range(10**6))


async def send(client: Any, user: User, room_id: str, content: dict) -> str:
    path = f"/rooms/{q(room_id)}/send/m.room.message/n{next(_txn)}"
    return (await ok(client, "PUT", path, user, content))["event_id"]


async def read_up_to(client: Any, user: User, room_id: str, event_id: str,
                     thread_id: str | None = None) -> None:
    body = {} if thread_id is None else {"thread_id": thread_id}
    await ok(client, "POST", f"/rooms/{q(room_id)}/receipt/m.read/{q(event_id)}", user, body)


async def setup(server: HomeServer, client: Any) -> tuple[User, User, str]:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    carol = await make_user(server, "carol")
    room_id = await shared_room(client, alice, bob, carol)  # three: not a one-to-one room
    return alice, bob, room_id


async def test_messages_from_others_count_and_own_do_not(
    server: HomeServer, client: Any
) -> None:
    alice, bob, room_id = await setup(server, client)
    await send_message(client, alice, room_id, "hello", "3")
    await send_message(client, bob, room_id, "hi", "1")
    await send_message(client, bob, room_id, "there", "2")
    assert await server.notifications.unread_counts(alice.user_id, room_id) == (2, 0)
    # (bob's sends also count as his reading alice's message: test_sender_activity.py)
    assert await server.notifications.unread_counts(bob.user_id, room_id) == (0, 0)


async def test_mentions_highlight(server: HomeServer, client: Any) -> None:
    alice, bob, room_id = await setup(server, client)
    await send(client, bob, room_id, {"msgtype": "m.text", "body": "alice!",
                                      "m.mentions": {"user_ids": [alice.user_id]}})
    await send(client, bob, room_id, {"msgtype": "m.notice", "body": "a bot speaks"})
    assert await server.notifications.unread_counts(alice.user_id, room_id) == (1, 1)


async def test_room_mention_needs_power(server: HomeServer, client: Any) -> None:
    alice, bob, room_id = await setup(server, client)
    room_mention = {"msgtype": "m.text", "body": "@room", "m.mentions": {"room": True}}
    await send(client, bob, room_id, room_mention)  # bob has power 0 < 50
    assert await server.notifications.unread_counts(alice.user_id, room_id) == (1, 0)
    await send(client, alice, room_id, room_mention)  # alice created the room
    assert await server.notifications.unread_counts(bob.user_id, room_id) == (1, 1)


async def test_read_receipt_clears_counts_up_to_its_event(
    server: HomeServer, client: Any
) -> None:
    alice, bob, room_id = await setup(server, client)
    first = await send_message(client, bob, room_id, "one", "1")
    await send_message(client, bob, room_id, "two", "2")
    await read_up_to(client, alice, room_id, first)
    assert await server.notifications.unread_counts(alice.user_id, room_id) == (1, 0)


async def test_user_rules_change_what_counts(server: HomeServer, client: Any) -> None:
    alice, bob, room_id = await setup(server, client)
    await ok(client, "PUT", f"/pushrules/global/room/{q(room_id)}", alice, {"actions": []})
    await send_message(client, bob, room_id, "quiet", "1")
    assert await server.notifications.unread_counts(alice.user_id, room_id) == (0, 0)
    await ok(client, "PUT", "/pushrules/global/content/cake", alice,
             {"pattern": "cake", "actions": ["notify", {"set_tweak": "highlight"}]})
    await send_message(client, bob, room_id, "cake time", "2")  # content beats room
    assert await server.notifications.unread_counts(alice.user_id, room_id) == (1, 1)


async def test_threads_are_counted_and_read_separately(
    server: HomeServer, client: Any
) -> None:
    alice, bob, room_id = await setup(server, client)
    root = await send_message(client, bob, room_id, "root", "1")
    reply = await send(client, bob, room_id, {
        "msgtype": "m.text", "body": "in thread",
        "m.relates_to": {"rel_type": "m.thread", "event_id": root},
    })
    counts = await server.notifications.unread_thread_counts(alice.user_id, room_id)
    assert counts == {"main": (1, 0), root: (1, 0)}
    await read_up_to(client, alice, room_id, reply, thread_id=root)
    counts = await server.notifications.unread_thread_counts(alice.user_id, room_id)
    assert counts == {"main": (1, 0)}
    assert await server.notifications.unread_counts(alice.user_id, room_id) == (1, 0)


async def test_invite_notifies_the_invitee(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    dave = await make_user(server, "dave")
    room_id = await create_room(client, alice)
    await ok(client, "POST", f"/rooms/{q(room_id)}/invite", alice, {"user_id": dave.user_id})
    assert await server.notifications.unread_counts(dave.user_id, room_id) == (1, 0)


async def test_sync_reports_unread_notifications(server: HomeServer, client: Any) -> None:
    alice, bob, room_id = await setup(server, client)
    await send(client, bob, room_id, {"msgtype": "m.text", "body": "hey",
                                      "m.mentions": {"user_ids": [alice.user_id]}})
    data = await ok(client, "GET", "/sync", alice)
    assert data["rooms"]["join"][room_id]["unread_notifications"] == {
        "notification_count": 1, "highlight_count": 1
    }
