"""GET /devices shows when and from where each device was last seen; authenticated
requests update it, at most once per device per LAST_SEEN_INTERVAL_MS."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer
from ranvier.services.device_activity import LAST_SEEN_INTERVAL_MS

from .fake_clock import FakeClock
from .room_helpers import User, make_user, ok


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def alice(server: HomeServer) -> User:
    return await make_user(server, "alice", "PHONE")


async def _device(server: HomeServer, user: User) -> Any:
    return await server.stores.devices.get_device(user.user_id, user.device_id)


async def test_a_request_records_the_devices_last_seen_time_and_ip(
    client: Any, server: HomeServer, clock: FakeClock, alice: User
) -> None:
    assert (await _device(server, alice)).last_seen_ts is None
    await ok(client, "GET", "/account/whoami", alice)
    listed = await ok(client, "GET", "/devices", alice)
    assert listed["devices"] == [
        {"device_id": "PHONE", "last_seen_ts": clock.now, "last_seen_ip": "127.0.0.1"}
    ]


async def test_requests_within_the_interval_write_nothing(
    client: Any, server: HomeServer, clock: FakeClock, alice: User
) -> None:
    await ok(client, "GET", "/account/whoami", alice)
    first = clock.now
    clock.advance(LAST_SEEN_INTERVAL_MS - 1)
    await ok(client, "GET", "/account/whoami", alice)
    assert (await _device(server, alice)).last_seen_ts == first
    clock.advance(1)
    await ok(client, "GET", "/account/whoami", alice)
    assert (await _device(server, alice)).last_seen_ts == first + LAST_SEEN_INTERVAL_MS


async def test_a_device_id_used_again_after_deletion_is_recorded_at_once(
    client: Any, server: HomeServer, clock: FakeClock, alice: User
) -> None:
    await ok(client, "GET", "/account/whoami", alice)
    await server.devices.delete_devices(alice.user_id, ["PHONE"])
    clock.advance(1000)
    again = await make_user_session(server, alice.user_id, "PHONE")
    await ok(client, "GET", "/account/whoami", again)
    assert (await _device(server, again)).last_seen_ts == clock.now


async def make_user_session(server: HomeServer, user_id: str, device_id: str) -> User:
    session = await server.accounts.create_session(user_id, device_id, None)
    return User(user_id, session.device_id, session.access_token)
