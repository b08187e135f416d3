"""Two createRoom calls by one user at the same moment (room version 12, where the
create event's ID names the room) make two rooms, not one event ID twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ranvier.clock import Clock
from ranvier.config import Config
from ranvier.server import HomeServer, build_homeserver
from ranvier.storage.database import Database

from .room_helpers import call, make_user


class StoppedClock(Clock):
    """Every request happens in the same millisecond."""

    def __init__(self) -> None:
        self.now = Clock().time_ms()

    def time_ms(self) -> int:
        return self.now


@pytest.fixture
async def server(homeserver_config: Config, database: Database) -> AsyncIterator[HomeServer]:
    hs = await build_homeserver(homeserver_config, database, StoppedClock())
    yield hs
    await hs.close()


async def test_concurrent_identical_create_rooms_in_one_millisecond_make_two_rooms(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    body = {"room_version": "12", "preset": "private_chat"}
    responses = await asyncio.gather(
        *(call(client, "POST", "/createRoom", alice, body) for _ in range(2))
    )
    assert [status for status, _ in responses] == [200, 200]
    room_ids = {reply["room_id"] for _, reply in responses}
    assert len(room_ids) == 2
