"""A matrix-nio user for the interop scenario: an AsyncClient that records what its
syncs bring, and waits (by syncing) until it sees what a step expects."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, TypeVar

from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    RegisterResponse,
    Response,
    SyncResponse,
)

from tests.interop.interop_user import InteropUser

R = TypeVar("R", bound=Response)


def ok(response: Response, kind: type[R]) -> R:
    """`response` if nio parsed it as `kind`, else fail with the server's answer."""
    if not isinstance(response, kind):
        detail = (
            f"{response.status_code} {response.message}"
            if isinstance(response, ErrorResponse) else repr(response)
        )
        raise AssertionError(f"expected {kind.__name__}, got {type(response).__name__}: {detail}")
    return response


class NioUser(InteropUser):
    def __init__(self, base_url: str, localpart: str) -> None:
        config = AsyncClientConfig(encryption_enabled=False, store_sync_tokens=False)
        self.client = AsyncClient(base_url, localpart, config=config)
        self.localpart = localpart
        #: room_id -> raw timeline events, in the order the syncs delivered them.
        self.timeline: dict[str, list[dict[str, Any]]] = defaultdict(list)
        #: room_id -> the last membership section the room appeared in.
        self.section: dict[str, str] = {}
        self.last_sync: SyncResponse | None = None

    @property
    def user_id(self) -> str:
        return self.client.user_id

    async def register(self, password: str) -> None:
        ok(await self.client.register(self.localpart, password, "nio"), RegisterResponse)
        assert self.client.access_token, "register did not log the client in"
        await self.sync_once(timeout_ms=0)

    async def sync_once(self, timeout_ms: int = 500) -> SyncResponse:
        response = ok(await self.client.sync(timeout=timeout_ms), SyncResponse)
        for section in ("invite", "join", "leave"):
            for room_id in getattr(response.rooms, section):
                self.section[room_id] = section
        for rooms in (response.rooms.join, response.rooms.leave):
            for room_id, info in rooms.items():
                self.timeline[room_id].extend(event.source for event in info.timeline.events)
        self.last_sync = response
        return response

    def events(self, room_id: str, event_type: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.timeline[room_id]
                if event_type is None or e.get("type") == event_type]

    def find(self, room_id: str, **fields: Any) -> dict[str, Any] | None:
        """The first timeline event whose top-level fields equal `fields`."""
        for event in self.timeline[room_id]:
            if all(event.get(k) == v for k, v in fields.items()):
                return event
        return None

    def membership(self, room_id: str, user_id: str) -> str | None:
        """The membership of `user_id` in the latest member event seen in the timeline."""
        for event in reversed(self.timeline[room_id]):
            if event.get("type") == "m.room.member" and event.get("state_key") == user_id:
                return event["content"].get("membership")
        return None

    async def close(self) -> None:
        await self.client.close()
