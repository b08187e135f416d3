"""Server-side key backups (schema 0093): versions per user, and the room keys of each
version. `etag` counts the changes to a version's keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ranvier.storage.database import Connection, Database

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class BackupVersion:
    version: int
    algorithm: str
    auth_data: Any  # JSON: an object, except for algorithms the spec does not define
    etag: int


@dataclass(frozen=True)
class RoomKey:
    room_id: str
    session_id: str
    data: JsonDict  # KeyBackupData: first_message_index, forwarded_count, ...


class KeyBackupStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- versions -----------------------------------------------------------------------

    async def create_version(self, user_id: str, algorithm: str, auth_data: Any) -> int:
        """A new version, numbered after every earlier one (deleted ones included)."""
        async with self._db.transaction() as conn:
            highest = await conn.fetchval(
                "SELECT MAX(version) FROM e2e_room_keys_versions WHERE user_id = ?", user_id
            )
            version = int(highest or 0) + 1
            await conn.execute(
                "INSERT INTO e2e_room_keys_versions (user_id, version, algorithm, auth_data)"
                " VALUES (?, ?, ?, ?)",
                user_id, version, algorithm, orjson.dumps(auth_data).decode(),
            )
        return version

    async def get_version(self, user_id: str, version: int | None) -> BackupVersion | None:
        """This version (the latest when None), unless deleted."""
        sql = (
            "SELECT version, algorithm, auth_data, etag FROM e2e_room_keys_versions"
            " WHERE user_id = ? AND deleted = 0"
        )
        if version is None:
            row = await self._db.fetchone(sql + " ORDER BY version DESC LIMIT 1", user_id)
        else:
            row = await self._db.fetchone(sql + " AND version = ?", user_id, version)
        return None if row is None else BackupVersion(row[0], row[1], orjson.loads(row[2]), row[3])

    async def version_exists(self, user_id: str, version: int) -> bool:
        """Whether this version was ever created (deleted or not)."""
        found = await self._db.fetchval(
            "SELECT 1 FROM e2e_room_keys_versions WHERE user_id = ? AND version = ?",
            user_id, version,
        )
        return found is not None

    async def update_auth_data(self, user_id: str, version: int, auth_data: Any) -> None:
        await self._db.execute(
            "UPDATE e2e_room_keys_versions SET auth_data = ? WHERE user_id = ? AND version = ?",
            orjson.dumps(auth_data).decode(), user_id, version,
        )

    async def delete_version(self, user_id: str, version: int) -> None:
        """Mark the version deleted and drop its keys."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE e2e_room_keys_versions SET deleted = 1 WHERE user_id = ? AND version = ?",
                user_id, version,
            )
            await conn.execute(
                "DELETE FROM e2e_room_keys WHERE user_id = ? AND version = ?", user_id, version
            )

    # --- keys ---------------------------------------------------------------------------

    async def count_keys(self, user_id: str, version: int) -> int:
        count = await self._db.fetchval(
            "SELECT COUNT(*) FROM e2e_room_keys WHERE user_id = ? AND version = ?",
            user_id, version,
        )
        return int(count)

    async def get_keys(
        self, user_id: str, version: int, room_id: str | None = None,
        session_id: str | None = None,
    ) -> list[RoomKey]:
        """The version's keys, of one room or one session when given."""
        where, args = _key_filter(user_id, version, room_id, session_id)
        rows = await self._db.fetchall(
            "SELECT room_id, session_id, first_message_index, forwarded_count, is_verified,"
            f" session_data FROM e2e_room_keys WHERE {where} ORDER BY room_id, session_id",
            *args,
        )
        return [
            RoomKey(r[0], r[1], {
                "first_message_index": int(r[2]),
                "forwarded_count": int(r[3]),
                "is_verified": bool(r[4]),
                "session_data": orjson.loads(r[5]),
            })
            for r in rows
        ]

    async def put_keys(self, user_id: str, version: int, keys: Sequence[RoomKey]) -> None:
        """Insert or replace these keys and move the version's etag on."""
        async with self._db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO e2e_room_keys (user_id, version, room_id, session_id,"
                " first_message_index, forwarded_count, is_verified, session_data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (user_id, version, room_id, session_id) DO UPDATE SET"
                " first_message_index = excluded.first_message_index,"
                " forwarded_count = excluded.forwarded_count,"
                " is_verified = excluded.is_verified, session_data = excluded.session_data",
                [
                    (
                        user_id, version, k.room_id, k.session_id,
                        k.data["first_message_index"], k.data["forwarded_count"],
                        int(k.data["is_verified"]), orjson.dumps(k.data["session_data"]).decode(),
                    )
                    for k in keys
                ],
            )
            await _bump_etag(conn, user_id, version)

    async def delete_keys(
        self, user_id: str, version: int, room_id: str | None = None,
        session_id: str | None = None,
    ) -> None:
        where, args = _key_filter(user_id, version, room_id, session_id)
        async with self._db.transaction() as conn:
            await conn.execute(f"DELETE FROM e2e_room_keys WHERE {where}", *args)
            await _bump_etag(conn, user_id, version)


def _key_filter(
    user_id: str, version: int, room_id: str | None, session_id: str | None
) -> tuple[str, list[Any]]:
    where = "user_id = ? AND version = ?"
    args: list[Any] = [user_id, version]
    if room_id is not None:
        where += " AND room_id = ?"
        args.append(room_id)
        if session_id is not None:
            where += " AND session_id = ?"
            args.append(session_id)
    return where, args


async def _bump_etag(conn: Connection, user_id: str, version: int) -> None:
    await conn.execute(
        "UPDATE e2e_room_keys_versions SET etag = etag + 1 WHERE user_id = ? AND version = ?",
        user_id, version,
    )
