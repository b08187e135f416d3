"""rc_registration counts the accounts an address creates, not the requests of the
user-interactive authentication that leads to each."""

from __future__ import annotations

from typing import Any

import pytest

from .room_helpers import V3


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"rc_registration": {"per_second": 0.001, "burst_count": 2}}


async def _register_in_two_steps(client: Any, username: str) -> int:
    """The usual client flow: ask for the flows, then complete the dummy stage."""
    body = {"username": username, "password": "a password"}
    first = await client.post(f"{V3}/register", json=body)
    if first.status != 401:
        return first.status
    session = (await first.json())["session"]
    done = await client.post(f"{V3}/register", json={
        **body, "auth": {"type": "m.login.dummy", "session": session}})
    return done.status


async def test_the_uia_round_trips_of_a_registration_are_not_charged(client: Any) -> None:
    assert await _register_in_two_steps(client, "alice") == 200
    assert await _register_in_two_steps(client, "bob") == 200
    resp = await client.post(f"{V3}/register", json={"username": "carol", "password": "pw"})
    assert resp.status == 429
    body = await resp.json()
    assert body["errcode"] == "M_LIMIT_EXCEEDED" and body["retry_after_ms"] > 0
