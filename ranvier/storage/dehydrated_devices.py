"""Dehydrated devices (MSC3814, schema 0094): each user's one offline device and the
encrypted data a client rehydrates it from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from ranvier.storage.database import Database


class DehydratedDeviceStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: str) -> tuple[str, dict[str, Any]] | None:
        """(device_id, device_data) of the user's dehydrated device, if any."""
        row = await self._db.fetchone(
            "SELECT device_id, device_data FROM dehydrated_devices WHERE user_id = ?", user_id
        )
        return None if row is None else (row[0], orjson.loads(row[1]))

    async def set(self, user_id: str, device_id: str, device_data: dict[str, Any]) -> None:
        await self._db.execute(
            "INSERT INTO dehydrated_devices (user_id, device_id, device_data) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET device_id = excluded.device_id,"
            " device_data = excluded.device_data",
            user_id, device_id, orjson.dumps(device_data).decode(),
        )

    async def forget(self, user_id: str, device_ids: Sequence[str] | None) -> None:
        """The user's dehydrated device is gone if it is one of these (None: any)."""
        if device_ids is None:
            await self._db.execute("DELETE FROM dehydrated_devices WHERE user_id = ?", user_id)
        elif device_ids:
            await self._db.execute(
                "DELETE FROM dehydrated_devices WHERE user_id = ?"
                f" AND device_id IN ({','.join('?' * len(device_ids))})",
                user_id, *device_ids,
            )
