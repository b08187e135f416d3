"""Presence: GET/PUT /presence/{userId}/status, who may see whom, /sync's
set_presence, the timeouts, and the "presence" stream (spec: "Presence")."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.config import Config
from ranvier.protocol.presence import ACTIVE_GRANULARITY_MS, IDLE_TIMEOUT_MS, SYNC_GRACE_MS
from ranvier.server import HomeServer, build_homeserver
from ranvier.services.presence import PRESENCE_STREAM
from ranvier.storage.database import Database

from .fake_clock import FakeClock
from .room_helpers import User, call, ok, q, send_message, shared_room
from .stream_helpers import expect_wakeup


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def room_id(client: Any, alice: User, bob: User) -> str:
    """A room alice and bob share (carol is in none)."""
    return await shared_room(client, alice, bob)


def status_path(user: User) -> str:
    return f"/presence/{q(user.user_id)}/status"


async def presence_of(client: Any, user: User, viewer: User) -> dict[str, Any]:
    return await ok(client, "GET", status_path(user), viewer)


async def test_setting_presence_is_read_back(client: Any, alice: User, room_id: str) -> None:
    await ok(client, "PUT", status_path(alice), alice,
             {"presence": "online", "status_msg": "Making cupcakes"})
    assert await presence_of(client, alice, alice) == {
        "presence": "online", "last_active_ago": 0, "currently_active": True,
        "status_msg": "Making cupcakes",
    }
    await ok(client, "PUT", status_path(alice), alice, {"presence": "unavailable"})
    assert await presence_of(client, alice, alice) == {
        "presence": "unavailable", "last_active_ago": 0,
    }


async def test_a_user_who_never_set_presence_is_offline(
    client: Any, alice: User, bob: User, room_id: str
) -> None:
    assert await presence_of(client, bob, alice) == {"presence": "offline"}


async def test_presence_is_visible_only_to_those_sharing_a_room(
    client: Any, alice: User, bob: User, carol: User, room_id: str
) -> None:
    await ok(client, "PUT", status_path(alice), alice, {"presence": "online"})
    assert (await presence_of(client, alice, bob))["presence"] == "online"
    status, data = await call(client, "GET", status_path(alice), carol)
    assert (status, data["errcode"]) == (403, "M_FORBIDDEN")
    await ok(client, "POST", f"/rooms/{q(room_id)}/leave", bob, {})
    status, data = await call(client, "GET", status_path(alice), bob)
    assert (status, data["errcode"]) == (403, "M_FORBIDDEN")


async def test_a_change_wakes_room_mates_and_reaches_their_sync(
    client: Any, server: HomeServer, alice: User, bob: User, carol: User, room_id: str
) -> None:
    start = server.presence.position
    async with expect_wakeup(server, bob.user_id, [room_id], PRESENCE_STREAM):
        await ok(client, "PUT", status_path(alice), alice, {"presence": "online",
                                                            "status_msg": "hi"})
    async with expect_wakeup(server, alice.user_id, [], PRESENCE_STREAM):
        await ok(client, "PUT", status_path(alice), alice, {"presence": "unavailable"})
    end = server.presence.position
    # the latest state of each user who changed, not every step
    assert await server.presence.changes_for_sync(bob.user_id, start, end) == [{
        "type": "m.presence", "sender": alice.user_id,
        "content": {"presence": "unavailable", "last_active_ago": 0},
    }]
    assert await server.presence.changes_for_sync(carol.user_id, start, end) == []
    assert await server.presence.changes_for_sync(bob.user_id, end, end) == []
    own = await server.presence.changes_for_sync(alice.user_id, start, end)
    assert [e["sender"] for e in own] == [alice.user_id]


async def test_initial_sync_shows_current_presence_but_not_offline_users(
    client: Any, server: HomeServer, alice: User, bob: User, room_id: str
) -> None:
    await ok(client, "PUT", status_path(alice), alice, {"presence": "online"})
    await ok(client, "PUT", status_path(bob), bob, {"presence": "offline"})
    events = await server.presence.changes_for_sync(bob.user_id, None, server.presence.position)
    assert [(e["sender"], e["content"]["presence"]) for e in events] == [
        (alice.user_id, "online")
    ]


async def test_sync_marks_an_offline_user_online_unless_asked_not_to(
    server: HomeServer, client: Any, alice: User, room_id: str
) -> None:
    await server.presence.set_state_from_sync(alice.user_id, "offline")
    assert (await presence_of(client, alice, alice))["presence"] == "offline"
    async with expect_wakeup(server, alice.user_id, [], PRESENCE_STREAM):
        await server.presence.set_state_from_sync(alice.user_id, "online", 30000)
    assert (await presence_of(client, alice, alice))["presence"] == "online"
    await server.presence.set_state_from_sync(alice.user_id, "unavailable")
    assert (await presence_of(client, alice, alice))["presence"] == "unavailable"


async def test_idle_then_disconnected_users_time_out(
    server: HomeServer, client: Any, clock: FakeClock, alice: User, room_id: str
) -> None:
    await server.presence.set_state_from_sync(alice.user_id, "online")
    clock.advance(ACTIVE_GRANULARITY_MS + 1)
    await server.presence.set_state_from_sync(alice.user_id, "online")
    await server.presence.check_timeouts()
    assert await presence_of(client, alice, alice) == {
        "presence": "online", "last_active_ago": ACTIVE_GRANULARITY_MS + 1,
        "currently_active": False,
    }
    clock.advance(IDLE_TIMEOUT_MS)
    await server.presence.set_state_from_sync(alice.user_id, "online")
    position = server.presence.position
    await server.presence.check_timeouts()
    assert (await presence_of(client, alice, alice))["presence"] == "unavailable"
    assert server.presence.position > position
    # the client stops syncing: offline once the grace period is over
    clock.advance(SYNC_GRACE_MS - 1)
    await server.presence.check_timeouts()
    assert (await presence_of(client, alice, alice))["presence"] == "unavailable"
    clock.advance(2)
    await server.presence.check_timeouts()
    assert (await presence_of(client, alice, alice))["presence"] == "offline"


async def test_a_long_poll_keeps_the_user_connected(
    server: HomeServer, client: Any, clock: FakeClock, alice: User, room_id: str
) -> None:
    await server.presence.set_state_from_sync(alice.user_id, "online", timeout_ms=60_000)
    clock.advance(60_000 + SYNC_GRACE_MS - 1)
    await server.presence.check_timeouts()
    assert (await presence_of(client, alice, alice))["presence"] == "online"


async def test_a_receipt_brings_an_idle_user_back_online_without_flooding(
    server: HomeServer, client: Any, clock: FakeClock, alice: User, bob: User, room_id: str
) -> None:
    await ok(client, "PUT", status_path(bob), bob, {"presence": "unavailable"})
    message = await send_message(client, alice, room_id, "hello", "t1")
    position = server.presence.position
    await ok(client, "POST", f"/rooms/{q(room_id)}/receipt/m.read/{q(message)}", bob, {})
    assert (await presence_of(client, bob, alice))["presence"] == "online"
    assert server.presence.position > position
    position = server.presence.position
    clock.advance(1000)
    await server.presence.bump_active(bob.user_id)  # within the window: nothing new
    assert server.presence.position == position


async def test_timeouts_resume_after_a_restart(
    homeserver_config: Config, database: Database, clock: FakeClock,
    server: HomeServer, client: Any, alice: User, room_id: str,
) -> None:
    await ok(client, "PUT", status_path(alice), alice, {"presence": "online"})
    restarted = await build_homeserver(homeserver_config, database, clock)
    try:
        clock.advance(SYNC_GRACE_MS + 1)
        await restarted.presence.check_timeouts()
        assert (await restarted.presence.get_presence(alice.user_id, alice.user_id)) == {
            "presence": "offline", "last_active_ago": SYNC_GRACE_MS + 1,
        }
    finally:
        await restarted.close()


@pytest.mark.parametrize(
    ("body", "errcode", "named"),
    [
        ({}, "M_MISSING_PARAM", "presence"),
        ({"presence": "busy"}, "M_INVALID_PARAM", "presence"),
        ({"presence": 1}, "M_BAD_JSON", "presence"),
        ({"presence": "online", "status_msg": 5}, "M_BAD_JSON", "status_msg"),
        ({"presence": "online", "status_msg": "x" * 513}, "M_INVALID_PARAM", "status_msg"),
    ],
)
async def test_bad_presence_is_refused_and_changes_nothing(
    client: Any, server: HomeServer, alice: User, body: dict[str, Any], errcode: str, named: str
) -> None:
    await ok(client, "PUT", status_path(alice), alice, {"presence": "unavailable"})
    position = server.presence.position
    status, data = await call(client, "PUT", status_path(alice), alice, body)
    assert (status, data["errcode"]) == (400, errcode)
    assert named in data["error"]
    assert server.presence.position == position
    assert (await presence_of(client, alice, alice))["presence"] == "unavailable"


async def test_setting_someone_elses_presence_is_forbidden(
    client: Any, server: HomeServer, alice: User, bob: User, room_id: str
) -> None:
    status, data = await call(client, "PUT", status_path(alice), bob, {"presence": "online"})
    assert (status, data["errcode"]) == (403, "M_FORBIDDEN")
    assert await presence_of(client, alice, alice) == {"presence": "offline"}


@pytest.mark.parametrize("config_overrides", [{"presence": {"enabled": False}}])
async def test_disabled_presence_accepts_writes_and_reports_offline(
    client: Any, server: HomeServer, alice: User, bob: User, room_id: str
) -> None:
    position = server.presence.position
    await ok(client, "PUT", status_path(alice), alice, {"presence": "online"})
    await server.presence.set_state_from_sync(alice.user_id, "online")
    assert await presence_of(client, alice, bob) == {"presence": "offline"}
    assert server.presence.position == position
    assert await server.presence.changes_for_sync(bob.user_id, None, position) == []
