"""Helpers for the /sync and room-reading tests."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson

from .room_helpers import V3, User


async def sync(client: Any, user: User, **params: Any) -> dict[str, Any]:
    status, body = await sync_raw(client, user, **params)
    assert status == 200, (status, body)
    return body


async def sync_raw(client: Any, user: User, **params: Any) -> tuple[int, Any]:
    query = {
        k: (orjson.dumps(v).decode() if isinstance(v, dict)
            else str(v).lower() if isinstance(v, bool) else v)
        for k, v in params.items()
    }
    response = await client.get(
        f"{V3}/sync?{urlencode(query)}", headers={"Authorization": f"Bearer {user.token}"}
    )
    return response.status, await response.json()


def timeline(body: dict[str, Any], room_id: str, section: str = "join") -> list[dict[str, Any]]:
    return body["rooms"][section][room_id]["timeline"]["events"]


def bodies(events: list[dict[str, Any]]) -> list[str]:
    return [e["content"]["body"] for e in events if e["type"] == "m.room.message"]
