"""Sending messages and state, reading them back, redactions, and bad input."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ranvier.server import HomeServer

from .room_helpers import call, create_room, make_user, ok, q, room_state, send_message


@pytest.fixture
async def alice(server: HomeServer):
    return await make_user(server, "alice", device_id="ALICEDEV")


@pytest.fixture
async def room_id(client: Any, alice, bob) -> str:
    room = await create_room(client, alice, preset="public_chat", room_version="10")
    await ok(client, "POST", f"/join/{q(room)}", bob, {})
    return room


async def _count(server: HomeServer, table: str) -> int:
    return await server.db.fetchval(f"SELECT COUNT(*) FROM {table}")


async def test_send_is_idempotent_per_device_and_transaction_id(
    client: Any, server: HomeServer, alice, room_id
) -> None:
    first = await send_message(client, alice, room_id, "hello", "txn1")
    again = await send_message(client, alice, room_id, "hello again", "txn1")
    assert again == first
    # the same transaction ID from another device is another message
    other_device = await server.accounts.create_session(alice.user_id, "OTHERDEV", None)
    from .room_helpers import User

    other = User(alice.user_id, "OTHERDEV", other_device.access_token)
    assert await send_message(client, other, room_id, "hello", "txn1") != first


async def test_concurrent_retries_of_one_transaction_create_one_event(
    client: Any, server: HomeServer, alice, room_id
) -> None:
    before = await _count(server, "events")
    ids = await asyncio.gather(
        *[send_message(client, alice, room_id, "once", "same-txn") for _ in range(5)]
    )
    assert len(set(ids)) == 1
    assert await _count(server, "events") == before + 1


async def test_get_event_shows_transaction_id_only_to_the_sending_device(
    client: Any, server: HomeServer, alice, bob, room_id
) -> None:
    event_id = await send_message(client, alice, room_id, "hi", "t-42")
    mine = await ok(client, "GET", f"/rooms/{q(room_id)}/event/{q(event_id)}", alice)
    assert mine["unsigned"]["transaction_id"] == "t-42"
    assert mine["content"] == {"msgtype": "m.text", "body": "hi"}
    for server_only in ("hashes", "signatures", "auth_events", "prev_events", "depth"):
        assert server_only not in mine
    assert mine["unsigned"]["age"] >= 0
    theirs = await ok(client, "GET", f"/rooms/{q(room_id)}/event/{q(event_id)}", bob)
    assert "transaction_id" not in theirs["unsigned"]


async def test_messages_need_the_events_default_level(client: Any, alice, bob, room_id) -> None:
    await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.power_levels/", alice, {
        "users": {alice.user_id: 100}, "events_default": 10,
    })
    status, data = await call(client, "PUT", f"/rooms/{q(room_id)}/send/m.room.message/x", bob,
                              {"body": "x"})
    assert (status, data["errcode"]) == (403, "M_FORBIDDEN")


@pytest.mark.parametrize("suffix", ["", "/"])
async def test_state_with_empty_key_with_and_without_trailing_slash(
    client: Any, alice, room_id, suffix
) -> None:
    put = await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.topic{suffix}", alice,
                   {"topic": "new"})
    got = await ok(client, "GET", f"/rooms/{q(room_id)}/state/m.room.topic{suffix}", alice)
    assert got == {"topic": "new"}
    full = await ok(client, "GET",
                    f"/rooms/{q(room_id)}/state/m.room.topic{suffix}?format=event", alice)
    assert full["event_id"] == put["event_id"]
    assert full["state_key"] == ""


async def test_state_with_a_key_and_prev_content(client: Any, alice, room_id) -> None:
    path = f"/rooms/{q(room_id)}/state/org.example.widget/{q('w/1')}"
    first = await ok(client, "PUT", path, alice, {"v": 1})
    second = await ok(client, "PUT", path, alice, {"v": 2})
    assert await ok(client, "GET", path, alice) == {"v": 2}
    event = await ok(client, "GET", f"/rooms/{q(room_id)}/event/{q(second['event_id'])}", alice)
    assert event["unsigned"]["prev_content"] == {"v": 1}
    assert event["unsigned"]["replaces_state"] == first["event_id"]
    assert event["state_key"] == "w/1"


async def test_state_keys_starting_with_at_must_be_the_sender(
    client: Any, alice, bob, room_id
) -> None:
    status, data = await call(
        client, "PUT", f"/rooms/{q(room_id)}/state/org.example.x/{q(bob.user_id)}", alice, {}
    )
    assert (status, data["errcode"]) == (403, "M_FORBIDDEN")


async def test_state_needs_state_default_level(client: Any, bob, room_id) -> None:
    status, data = await call(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.topic", bob,
                              {"topic": "mine"})
    assert (status, data["errcode"]) == (403, "M_FORBIDDEN")
    assert "power level" in data["error"]


async def test_reading_state_of_a_room_one_never_joined_is_forbidden(
    client: Any, server: HomeServer, room_id
) -> None:
    stranger = await make_user(server, "stranger")
    status, data = await call(client, "GET", f"/rooms/{q(room_id)}/state", stranger)
    assert (status, data["errcode"]) == (403, "M_FORBIDDEN")
    status, data = await call(client, "GET", f"/rooms/{q(room_id)}/state/m.room.name", stranger)
    assert (status, data["errcode"]) == (403, "M_FORBIDDEN")


async def test_missing_state_is_not_found(client: Any, alice, room_id) -> None:
    status, data = await call(client, "GET", f"/rooms/{q(room_id)}/state/m.room.avatar", alice)
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")


@pytest.mark.parametrize("version", ["1", "10", "11", "12"])
async def test_redaction_strips_message_content_and_says_why(
    client: Any, alice, bob, version
) -> None:
    room = await create_room(client, alice, preset="public_chat", room_version=version)
    await ok(client, "POST", f"/join/{q(room)}", bob, {})
    event_id = await send_message(client, bob, room, "secret", "m1")
    redaction = await ok(client, "PUT", f"/rooms/{q(room)}/redact/{q(event_id)}/r1", bob,
                         {"reason": "oops"})
    event = await ok(client, "GET", f"/rooms/{q(room)}/event/{q(event_id)}", alice)
    assert event["content"] == {}
    because = event["unsigned"]["redacted_because"]
    assert because["event_id"] == redaction["event_id"]
    assert because["content"]["reason"] == "oops"
    if int(version) >= 11:
        assert because["content"]["redacts"] == event_id
    else:
        assert because["redacts"] == event_id


@pytest.mark.parametrize("version", ["1", "10", "11", "12"])
async def test_redactions_are_served_with_redacts_on_top_and_in_content(
    client: Any, alice, version
) -> None:
    # rooms/v11.md: servers should add both for clients old (mautrix, matrix-js-sdk
    # read the top level) and new, whatever the room version.
    room = await create_room(client, alice, preset="public_chat", room_version=version)
    event_id = await send_message(client, alice, room, "oops", "m1")
    redaction = await ok(client, "PUT", f"/rooms/{q(room)}/redact/{q(event_id)}/r1", alice, {})
    served = await ok(client, "GET", f"/rooms/{q(room)}/event/{q(redaction['event_id'])}", alice)
    assert served["redacts"] == event_id
    assert served["content"]["redacts"] == event_id
    original = await ok(client, "GET", f"/rooms/{q(room)}/event/{q(event_id)}", alice)
    because = original["unsigned"]["redacted_because"]
    assert (because["redacts"], because["content"]["redacts"]) == (event_id, event_id)


async def test_redacted_join_rules_keep_their_allow_list_from_v8(client: Any, alice) -> None:
    for version, keeps_allow in (("7", False), ("8", True)):
        room = await create_room(client, alice, room_version=version)
        content = {"join_rule": "invite", "allow": [{"type": "m.room_membership",
                                                     "room_id": "!x:test.local"}]}
        put = await ok(client, "PUT", f"/rooms/{q(room)}/state/m.room.join_rules", alice, content)
        await ok(client, "PUT", f"/rooms/{q(room)}/redact/{q(put['event_id'])}/r", alice, {})
        event = await ok(client, "GET", f"/rooms/{q(room)}/event/{q(put['event_id'])}", alice)
        assert ("allow" in event["content"]) is keeps_allow
        assert event["content"]["join_rule"] == "invite"


async def test_redacting_someone_elses_event_needs_the_redact_level(
    client: Any, server: HomeServer, alice, bob, room_id
) -> None:
    event_id = await send_message(client, alice, room_id, "mine", "a1")
    before = await _count(server, "events")
    status, data = await call(client, "PUT", f"/rooms/{q(room_id)}/redact/{q(event_id)}/r", bob,
                              {})
    assert (status, data["errcode"]) == (403, "M_FORBIDDEN")
    assert await _count(server, "events") == before
    await ok(client, "PUT", f"/rooms/{q(room_id)}/redact/{q(event_id)}/r", alice, {})


async def test_redacting_an_event_of_another_room_is_a_bad_request(
    client: Any, server: HomeServer, alice, bob, room_id
) -> None:
    event_id = await send_message(client, alice, room_id, "elsewhere", "o1")
    own_room = await create_room(client, bob)
    before = await _count(server, "events")
    status, data = await call(client, "PUT", f"/rooms/{q(own_room)}/redact/{q(event_id)}/r",
                              bob, {})
    assert (status, data["errcode"]) == (400, "M_INVALID_PARAM")
    assert event_id in data["error"]
    assert await _count(server, "events") == before


async def test_redaction_is_idempotent_per_transaction(client: Any, alice, room_id) -> None:
    event_id = await send_message(client, alice, room_id, "x", "m")
    path = f"/rooms/{q(room_id)}/redact/{q(event_id)}/same"
    assert (await ok(client, "PUT", path, alice, {})) == (await ok(client, "PUT", path, alice, {}))


async def test_events_are_stored_unredacted_and_served_redacted(
    client: Any, server: HomeServer, alice, room_id
) -> None:
    event_id = await send_message(client, alice, room_id, "keep me", "k")
    redaction = await ok(client, "PUT", f"/rooms/{q(room_id)}/redact/{q(event_id)}/r", alice, {})
    row = await server.db.fetchone(
        "SELECT json, redacted_by FROM events WHERE event_id = ?", event_id
    )
    assert "keep me" in row[0]
    assert row[1] == redaction["event_id"]


@pytest.mark.parametrize(
    ("method", "path", "raw", "status", "errcode"),
    [
        ("PUT", "/rooms/{room}/send/m.room.message/b1", b"not json", 400, "M_NOT_JSON"),
        ("PUT", "/rooms/{room}/send/m.room.message/b2", b"[1, 2]", 400, "M_BAD_JSON"),
        ("PUT", "/rooms/{room}/send/m.room.message/b3", b'{"n": 1.5}', 400, "M_BAD_JSON"),
        ("PUT", "/rooms/{room}/state/m.room.name", b'"x"', 400, "M_BAD_JSON"),
        ("PUT", "/rooms/%21unknown%3Atest.local/send/m.room.message/b4", b"{}", 404,
         "M_NOT_FOUND"),
        ("PUT", "/rooms/{room}/redact/%24e/b5", b'{"reason": 5}', 400, "M_BAD_JSON"),
        ("GET", "/rooms/{room}/event/%24missing", None, 404, "M_NOT_FOUND"),
        ("GET", "/rooms/{room}/state/m.room.name?format=xml", None, 400, "M_INVALID_PARAM"),
        ("POST", "/rooms/{room}/upgrade", b"{}", 400, "M_BAD_JSON"),
        ("POST", "/rooms/{room}/upgrade", b'{"new_version": "99"}', 400,
         "M_UNSUPPORTED_ROOM_VERSION"),
    ],
)
async def test_bad_input_gets_the_spec_error_and_changes_nothing(
    client: Any, server: HomeServer, alice, room_id, method, path, raw, status, errcode
) -> None:
    before = await _count(server, "events"), await _count(server, "rooms")
    got, data = await call(client, method, path.format(room=q(room_id)), alice, raw=raw)
    assert (got, data["errcode"]) == (status, errcode), data
    assert data["error"]
    assert (await _count(server, "events"), await _count(server, "rooms")) == before


async def test_oversized_events_are_refused(client: Any, server: HomeServer, alice, room_id):
    before = await _count(server, "events")
    status, data = await call(client, "PUT", f"/rooms/{q(room_id)}/send/m.room.message/big",
                              alice, {"body": "x" * 70_000})
    assert (status, data["errcode"]) == (413, "M_TOO_LARGE")
    assert await _count(server, "events") == before


async def test_the_room_state_lists_every_current_state_event(
    client: Any, alice, bob, room_id
) -> None:
    state = await room_state(client, bob, room_id)
    assert {k[0] for k in state} >= {
        "m.room.create", "m.room.member", "m.room.power_levels", "m.room.join_rules",
        "m.room.history_visibility", "m.room.guest_access",
    }
    assert state[("m.room.member", bob.user_id)]["content"]["membership"] == "join"


async def test_non_members_read_state_only_of_world_readable_rooms(
    client: Any, server: HomeServer, alice
) -> None:
    eve = await make_user(server, "eve")
    room = await create_room(client, alice, preset="public_chat", name="Open")
    status, data = await call(client, "GET", f"/rooms/{q(room)}/state", eve)
    assert (status, data["errcode"]) == (403, "M_FORBIDDEN")
    await ok(client, "PUT", f"/rooms/{q(room)}/state/m.room.history_visibility", alice,
             {"history_visibility": "world_readable"})
    state = {(e["type"], e["state_key"]) for e in await ok(
        client, "GET", f"/rooms/{q(room)}/state", eve)}
    assert ("m.room.name", "") in state
    name = await ok(client, "GET", f"/rooms/{q(room)}/state/m.room.name", eve)
    assert name == {"name": "Open"}


async def test_sends_after_the_first_read_no_room_version(
    client: Any, server: HomeServer, alice, room_id, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A room's version never changes, so a send reads it once and then remembers it."""
    rooms = server.event_creator._rooms
    reads: list[str] = []
    read_room = rooms.get_room

    async def counting_get_room(rid: str) -> Any:
        reads.append(rid)
        return await read_room(rid)

    monkeypatch.setattr(rooms, "get_room", counting_get_room)
    for i in range(3):
        await send_message(client, alice, room_id, f"m{i}", f"txn-v{i}")
    assert reads.count(room_id) <= 1
    # an unknown room is still refused, and not remembered
    status, body = await call(client, "PUT", f"/rooms/{q('!nope:test')}/send/m.room.message/t",
                              alice, {"msgtype": "m.text", "body": "x"})
    assert status in (403, 404), body
