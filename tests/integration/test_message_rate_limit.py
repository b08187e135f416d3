"""rc_message: sending events (messages, state, redactions) is rate limited per user,
with M_LIMIT_EXCEEDED and retry_after_ms; server admins are exempt."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer

from .room_helpers import User, call, create_room, make_user, ok, q, room_state

BURST = 3


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    # A bucket that does not refill within a test.
    return {"rc_message": {"per_second": 0.001, "burst_count": BURST}}


def _message(room_id: str, txn: str) -> str:
    return f"/rooms/{q(room_id)}/send/m.room.message/{txn}"


async def test_sends_over_the_burst_are_refused_with_retry_after(
    client: Any, alice: User
) -> None:
    room_id = await create_room(client, alice)  # createRoom is not a send
    for i in range(BURST):
        await ok(client, "PUT", _message(room_id, f"t{i}"), alice, {"body": str(i)})
    status, body = await call(client, "PUT", _message(room_id, "over"), alice, {"body": "x"})
    assert (status, body["errcode"]) == (429, "M_LIMIT_EXCEEDED")
    assert body["retry_after_ms"] > 0
    history = await ok(client, "GET", f"/rooms/{q(room_id)}/messages?dir=b&limit=50", alice)
    bodies = [e["content"].get("body") for e in history["chunk"]
              if e["type"] == "m.room.message"]
    assert bodies == ["2", "1", "0"]  # the refused one was not sent


async def test_state_and_redactions_share_the_message_bucket(
    client: Any, alice: User
) -> None:
    room_id = await create_room(client, alice)
    event_id = (await ok(client, "PUT", _message(room_id, "m"), alice, {"body": "m"}))["event_id"]
    await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.topic", alice, {"topic": "a"})
    await ok(client, "PUT", f"/rooms/{q(room_id)}/redact/{q(event_id)}/r1", alice, {})
    status, body = await call(
        client, "PUT", f"/rooms/{q(room_id)}/state/m.room.topic", alice, {"topic": "b"}
    )
    assert (status, body["errcode"]) == (429, "M_LIMIT_EXCEEDED")
    assert (await room_state(client, alice, room_id))[("m.room.topic", "")]["content"] == {
        "topic": "a"
    }
    status, body = await call(client, "PUT", f"/rooms/{q(room_id)}/redact/{q(event_id)}/r2",
                              alice, {})
    assert (status, body["errcode"]) == (429, "M_LIMIT_EXCEEDED")


async def test_each_user_has_their_own_bucket(
    client: Any, server: HomeServer, alice: User
) -> None:
    bob = await make_user(server, "bob")
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    for i in range(BURST):
        await ok(client, "PUT", _message(room_id, f"a{i}"), alice, {"body": "a"})
    assert (await call(client, "PUT", _message(room_id, "a-over"), alice, {"body": "a"}))[0] == 429
    await ok(client, "PUT", _message(room_id, "b0"), bob, {"body": "b"})


async def test_server_admins_are_not_rate_limited(client: Any, server: HomeServer) -> None:
    user_id = await server.accounts.register("admin", "password", is_admin=True)
    session = await server.accounts.create_session(user_id, None, None)
    admin = User(user_id, session.device_id, session.access_token)
    room_id = await create_room(client, admin)
    for i in range(BURST * 2):
        await ok(client, "PUT", _message(room_id, f"t{i}"), admin, {"body": str(i)})
