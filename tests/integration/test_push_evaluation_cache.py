"""Push evaluation from memory: cached rulesets follow rule changes, the room's members,
display names and power levels follow state changes, and users on the default rules
share one evaluation only when the event does not name them."""

from __future__ import annotations

from typing import Any

import orjson

from ranvier.server import HomeServer
from tests.integration.room_helpers import create_room, make_user, ok, q, send_message
from tests.integration.test_notifications import send, setup


async def test_a_rule_change_applies_to_the_next_event_after_a_cached_one(
    server: HomeServer, client: Any
) -> None:
    alice, bob, room_id = await setup(server, client)
    await send_message(client, bob, room_id, "cached now", "1")
    await ok(client, "PUT", "/pushrules/global/underride/.m.rule.message/enabled", alice,
             {"enabled": False})
    await send_message(client, bob, room_id, "not counted", "2")
    assert await server.notifications.unread_counts(alice.user_id, room_id) == (1, 0)
    await ok(client, "PUT", "/pushrules/global/underride/.m.rule.message/enabled", alice,
             {"enabled": True})
    await send_message(client, bob, room_id, "counted again", "3")
    assert await server.notifications.unread_counts(alice.user_id, room_id) == (2, 0)


async def test_a_display_name_set_after_the_room_was_cached_is_matched(
    server: HomeServer, client: Any
) -> None:
    alice, bob, room_id = await setup(server, client)
    await ok(client, "PUT", "/pushrules/global/override/name", alice, {
        "conditions": [{"kind": "contains_display_name"}],
        "actions": ["notify", {"set_tweak": "highlight"}],
    })
    await send_message(client, bob, room_id, "warm the cache", "1")
    await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.member/{q(alice.user_id)}",
             alice, {"membership": "join", "displayname": "Zebedee"})
    await send_message(client, bob, room_id, "hello Zebedee", "2")
    # (alice's own member event read the first message: an implicit receipt)
    assert await server.notifications.unread_counts(alice.user_id, room_id) == (1, 1)


async def test_member_count_follows_joins_after_the_room_was_cached(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    carol = await make_user(server, "carol")
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/rooms/{q(room_id)}/join", bob, {})
    await send(client, bob, room_id, {"msgtype": "m.text", "body": "one to one"})
    await ok(client, "POST", f"/rooms/{q(room_id)}/join", carol, {})
    await send(client, bob, room_id, {"msgtype": "m.text", "body": "three now"})
    # .m.rule.room_one_to_one sounds for two members only; .m.rule.message does not.
    sound = {"set_tweak": "sound", "value": "default"}
    assert await _actions(server, alice.user_id, room_id) == [["notify", sound], ["notify"]]


async def test_a_mention_highlights_only_the_named_user_among_many(
    server: HomeServer, client: Any
) -> None:
    alice, bob, room_id = await setup(server, client)
    others = [await make_user(server, f"u{i}") for i in range(4)]
    for user in others:
        await ok(client, "POST", f"/rooms/{q(room_id)}/join", user, {})
    await send(client, bob, room_id, {"msgtype": "m.text", "body": "hey",
                                      "m.mentions": {"user_ids": [others[2].user_id]}})
    counts = [await server.notifications.unread_counts(u.user_id, room_id) for u in others]
    assert counts == [(1, 0), (1, 0), (1, 1), (1, 0)]
    assert await server.notifications.unread_counts(alice.user_id, room_id) == (1, 0)


async def test_power_level_change_after_caching_decides_room_mentions(
    server: HomeServer, client: Any
) -> None:
    alice, bob, room_id = await setup(server, client)
    room_mention = {"msgtype": "m.text", "body": "@room", "m.mentions": {"room": True}}
    await send(client, bob, room_id, room_mention)  # power 0: no highlight
    levels = await ok(client, "GET", f"/rooms/{q(room_id)}/state/m.room.power_levels/", alice)
    levels["users"][bob.user_id] = 50
    await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.power_levels/", alice, levels)
    await send(client, bob, room_id, room_mention)
    # (alice's power levels event read the first mention: an implicit receipt)
    assert await server.notifications.unread_counts(alice.user_id, room_id) == (1, 1)


async def _actions(server: HomeServer, user_id: str, room_id: str) -> list[list[Any]]:
    rows = await server.db.fetchall(
        "SELECT actions FROM event_push_actions WHERE user_id = ? AND room_id = ?"
        " ORDER BY stream_ordering", user_id, room_id,
    )
    return [orjson.loads(r[0]) for r in rows]


async def test_a_member_with_own_rules_joining_a_cached_room_is_evaluated_alone(
    server: HomeServer, client: Any
) -> None:
    alice, bob, room_id = await setup(server, client)
    dave = await make_user(server, "dave")
    await ok(client, "PUT", "/pushrules/global/underride/.m.rule.message/enabled", dave,
             {"enabled": False})
    # The room's members are cached (with their rules looked at) before dave joins.
    await send_message(client, bob, room_id, "warm the cache", "1")
    await ok(client, "POST", f"/rooms/{q(room_id)}/join", dave, {})
    await send(client, bob, room_id, {"msgtype": "m.text", "body": "four of us"})
    assert await _actions(server, dave.user_id, room_id) == []
    assert await server.notifications.unread_counts(alice.user_id, room_id) == (2, 0)


async def test_a_member_who_left_a_cached_room_is_no_longer_notified(
    server: HomeServer, client: Any
) -> None:
    _alice, bob, room_id = await setup(server, client)
    dave = await make_user(server, "dave")
    await ok(client, "POST", f"/rooms/{q(room_id)}/join", dave, {})
    await send(client, bob, room_id, {"msgtype": "m.text", "body": "all four"})
    await ok(client, "POST", f"/rooms/{q(room_id)}/leave", dave, {})
    await send(client, bob, room_id, {"msgtype": "m.text", "body": "dave gone"})
    assert await _actions(server, dave.user_id, room_id) == [["notify"]]
