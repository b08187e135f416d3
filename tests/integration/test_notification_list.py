"""GET /notifications: the user's notified events newest first, `read` from their
receipts, `only=highlight`, and pagination with next_token.

The push actions are recorded here through the notifications store, as push rule
evaluation records them (the messages are ones the default rules notify about, the
mention one highlighting), so that the listing is tested on its own."""

from __future__ import annotations

from typing import Any

from ranvier.server import HomeServer
from ranvier.storage.notifications import NotificationsStore, PushAction
from tests.integration.room_helpers import User, call, make_user, ok, q, shared_room

HIGHLIGHT = ("notify", {"set_tweak": "highlight"})


async def notify(server: HomeServer, user: User, room_id: str, event_id: str,
                 highlight: bool = False) -> None:
    stored = await server.stores.events.get_event(event_id)
    assert stored is not None
    actions = HIGHLIGHT if highlight else ("notify",)
    async with server.db.transaction() as conn:
        await NotificationsStore.write(conn, [PushAction(
            user.user_id, event_id, room_id, stored.stream_ordering, "main", True, highlight,
            actions,
        )])


async def setup(server: HomeServer, client: Any) -> tuple[User, User, str, list[str]]:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    room_id = await shared_room(client, alice, bob)
    sent = []
    for i in range(3):
        content: dict[str, Any] = {"msgtype": "m.text", "body": f"hello {i}"}
        if i == 1:
            content["m.mentions"] = {"user_ids": [alice.user_id]}
        path = f"/rooms/{q(room_id)}/send/m.room.message/t{i}"
        sent.append((await ok(client, "PUT", path, bob, content))["event_id"])
    for i, event_id in enumerate(sent):
        await notify(server, alice, room_id, event_id, highlight=i == 1)
    return alice, bob, room_id, sent


async def test_lists_notifications_newest_first_with_read_flags(
    server: HomeServer, client: Any
) -> None:
    alice, _, room_id, sent = await setup(server, client)
    await ok(client, "POST", f"/rooms/{q(room_id)}/receipt/m.read/{q(sent[1])}", alice, {})
    data = await ok(client, "GET", "/notifications", alice)
    got = data["notifications"]
    assert [n["event"]["event_id"] for n in got] == sent[::-1]
    assert [n["read"] for n in got] == [False, True, True]
    assert {"set_tweak": "highlight"} in got[1]["actions"]
    assert "notify" in got[0]["actions"] and {"set_tweak": "highlight"} not in got[0]["actions"]
    assert got[0]["room_id"] == room_id and got[0]["event"]["content"]["body"] == "hello 2"
    assert got[0]["ts"] == got[0]["event"]["origin_server_ts"]
    assert "next_token" not in data


async def test_only_highlight(server: HomeServer, client: Any) -> None:
    alice, _, _, sent = await setup(server, client)
    data = await ok(client, "GET", "/notifications?only=highlight", alice)
    assert [n["event"]["event_id"] for n in data["notifications"]] == [sent[1]]


async def test_pagination_with_next_token(server: HomeServer, client: Any) -> None:
    alice, bob, _, sent = await setup(server, client)
    first = await ok(client, "GET", "/notifications?limit=2", alice)
    assert [n["event"]["event_id"] for n in first["notifications"]] == [sent[2], sent[1]]
    rest = await ok(client, "GET", f"/notifications?limit=2&from={first['next_token']}", alice)
    assert [n["event"]["event_id"] for n in rest["notifications"]] == [sent[0]]
    assert "next_token" not in rest
    assert (await ok(client, "GET", "/notifications", bob))["notifications"] == []


async def test_bad_parameters(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    for query in ("from=abc", "limit=-1", "limit=x", "only=everything"):
        status, data = await call(client, "GET", f"/notifications?{query}", alice)
        assert (status, data["errcode"]) == (400, "M_INVALID_PARAM"), query
