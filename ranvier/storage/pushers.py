"""Pushers: where each user's notifications are sent (pusher.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from ranvier.storage.database import Database

_COLUMNS = (
    "user_id, app_id, pushkey, kind, app_display_name, device_display_name, profile_tag,"
    " lang, data, device_id, created_ts"
)


@dataclass(frozen=True)
class Pusher:
    user_id: str
    app_id: str
    pushkey: str
    kind: str
    app_display_name: str
    device_display_name: str
    profile_tag: str | None
    lang: str
    data: dict[str, Any]
    #: the device whose access token set the pusher
    device_id: str | None
    created_ts: int


class PushersStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def set_pusher(self, pusher: Pusher, *, keep_other_users: bool) -> None:
        """Create or replace the user's pusher for (app_id, pushkey); unless
        `keep_other_users`, other users' pushers for the same pair are removed."""
        async with self._db.transaction() as conn:
            if not keep_other_users:
                await conn.execute(
                    "DELETE FROM pushers WHERE app_id = ? AND pushkey = ? AND user_id <> ?",
                    pusher.app_id, pusher.pushkey, pusher.user_id,
                )
            await conn.execute(
                f"INSERT INTO pushers ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (user_id, app_id, pushkey) DO UPDATE SET kind = excluded.kind,"
                " app_display_name = excluded.app_display_name,"
                " device_display_name = excluded.device_display_name,"
                " profile_tag = excluded.profile_tag, lang = excluded.lang,"
                " data = excluded.data, device_id = excluded.device_id",
                pusher.user_id, pusher.app_id, pusher.pushkey, pusher.kind,
                pusher.app_display_name, pusher.device_display_name, pusher.profile_tag,
                pusher.lang, orjson.dumps(pusher.data).decode(), pusher.device_id,
                pusher.created_ts,
            )

    async def delete_pusher(self, user_id: str, app_id: str, pushkey: str) -> None:
        await self._db.execute(
            "DELETE FROM pushers WHERE user_id = ? AND app_id = ? AND pushkey = ?",
            user_id, app_id, pushkey,
        )

    async def delete_for_devices(self, user_id: str, device_ids: list[str] | None) -> None:
        """Remove the pushers set from these devices (None: all of the user's)."""
        if device_ids is None:
            await self._db.execute("DELETE FROM pushers WHERE user_id = ?", user_id)
            return
        await self._db.executemany(
            "DELETE FROM pushers WHERE user_id = ? AND device_id = ?",
            [(user_id, d) for d in device_ids],
        )

    async def get_pushers(self, user_id: str) -> list[Pusher]:
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM pushers WHERE user_id = ? ORDER BY created_ts, app_id,"
            " pushkey",
            user_id,
        )
        return [
            Pusher(*r[:8], orjson.loads(r[8]), r[9], int(r[10]))  # type: ignore[misc]
            for r in rows
        ]
