"""What an incremental /sync takes from memory rather than the database (docs/SYNC.md).
It must follow every change the server commits, including one that lands while a read
that fills the memory is in flight."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ranvier.server import HomeServer
from ranvier.storage.events import StoredEvent

from .room_helpers import User, create_room, send_message


async def test_a_batch_is_remembered_before_its_positions_can_reach_a_sync_token(
    client: Any, server: HomeServer, alice: User
) -> None:
    room_id = await create_room(client, alice, preset="private_chat")
    events = server.stores.events
    seen: list[tuple[int, int]] = []

    def listener(stored: Sequence[StoredEvent]) -> None:
        seen.append((events.stream.current, min(s.stream_ordering for s in stored)))

    events.add_commit_listener(listener)
    await send_message(client, alice, room_id, "hi", "t1")
    ((current, position),) = seen
    # The notifier hears of `stream.current`: it stops short of the batch until then.
    assert current < position
    assert events.stream.current >= position
