"""Reporting events, rooms and users (report_content.yaml): who may report what, the
errors for unknown or invisible targets, and what is stored for admins."""

from __future__ import annotations

from typing import Any

from ranvier.server import HomeServer
from tests.integration.room_helpers import call, create_room, make_user, ok, q, send_message


async def stored_reports(server: HomeServer) -> list[tuple]:
    return await server.db.fetchall(
        "SELECT kind, reporter, room_id, event_id, target_user_id, reason, score"
        " FROM reports ORDER BY received_ts, kind"
    )


async def test_member_reports_an_event(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/rooms/{q(room_id)}/join", bob, {})
    event_id = await send_message(client, alice, room_id, "rude", "1")
    await ok(client, "POST", f"/rooms/{q(room_id)}/report/{q(event_id)}", bob,
             {"reason": "rude", "score": -80})
    await ok(client, "POST", f"/rooms/{q(room_id)}/report/{q(event_id)}", bob, {})
    assert await stored_reports(server) == [
        ("event", bob.user_id, room_id, event_id, None, "rude", -80),
        ("event", bob.user_id, room_id, event_id, None, None, None),
    ]


async def test_event_reports_need_a_joined_reporter_who_can_see_it(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    room_id = await create_room(client, alice, preset="public_chat", initial_state=[
        {"type": "m.room.history_visibility", "content": {"history_visibility": "joined"}}])
    before_bob = await send_message(client, alice, room_id, "early", "1")
    other_room = await create_room(client, alice, preset="public_chat")
    elsewhere = await send_message(client, alice, other_room, "elsewhere", "2")
    path = f"/rooms/{q(room_id)}/report/"
    status, data = await call(client, "POST", path + q(before_bob), bob, {})  # not joined
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")
    await ok(client, "POST", f"/rooms/{q(room_id)}/join", bob, {})
    for event_id in (before_bob, elsewhere, "$missing"):
        status, data = await call(client, "POST", path + q(event_id), bob, {"reason": "x"})
        assert (status, data["errcode"]) == (404, "M_NOT_FOUND"), event_id
    for body, errcode in (({"score": -101}, "M_INVALID_PARAM"), ({"score": "bad"}, "M_BAD_JSON"),
                          ({"reason": 3}, "M_BAD_JSON")):
        status, data = await call(client, "POST", path + q(before_bob), alice, body)
        assert (status, data["errcode"]) == (400, errcode)
    assert await stored_reports(server) == []


async def test_anyone_reports_a_room(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    room_id = await create_room(client, alice, preset="private_chat")
    await ok(client, "POST", f"/rooms/{q(room_id)}/report", bob, {"reason": ""})
    status, data = await call(client, "POST", "/rooms/!nope:test.local/report", bob,
                              {"reason": "x"})
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")
    status, data = await call(client, "POST", f"/rooms/{q(room_id)}/report", bob, {})
    assert (status, data["errcode"]) == (400, "M_MISSING_PARAM")
    assert await stored_reports(server) == [("room", bob.user_id, room_id, None, None, "", None)]


async def test_anyone_reports_a_user(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    await ok(client, "POST", f"/users/{q(alice.user_id)}/report", bob, {"reason": "spam"})
    await ok(client, "POST", f"/users/{q('@someone:elsewhere.example')}/report", bob,
             {"reason": "remote"})
    status, data = await call(client, "POST", f"/users/{q('@ghost:test.local')}/report", bob,
                              {"reason": "x"})
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")
    status, data = await call(client, "POST", "/users/not-a-user/report", bob, {"reason": "x"})
    assert (status, data["errcode"]) == (400, "M_INVALID_PARAM")
    status, data = await call(client, "POST", f"/users/{q(alice.user_id)}/report", bob,
                              {"reason": None})
    assert (status, data["errcode"]) == (400, "M_BAD_JSON")
    assert [r[4] for r in await stored_reports(server)] == [
        alice.user_id, "@someone:elsewhere.example"]
    status, data = await call(client, "POST", f"/users/{q(alice.user_id)}/report", None,
                              {"reason": "x"})
    assert status == 401
