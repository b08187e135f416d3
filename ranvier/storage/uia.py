"""User-interactive authentication sessions (schema 0003)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from ranvier.storage.database import Database


@dataclass(frozen=True, slots=True)
class UIASession:
    session_id: str
    created_ts: int
    method: str
    uri: str
    user_id: str | None
    #: stage type -> what completing it established (e.g. the user ID of a password).
    completed: dict[str, Any]
    data: dict[str, Any]


class UIAStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_session(
        self, session_id: str, now_ms: int, method: str, uri: str, user_id: str | None
    ) -> None:
        await self._db.execute(
            "INSERT INTO ui_auth_sessions (session_id, created_ts, method, uri, user_id)"
            " VALUES (?, ?, ?, ?, ?)",
            session_id, now_ms, method, uri, user_id,
        )

    async def get_session(self, session_id: str) -> UIASession | None:
        row = await self._db.fetchone(
            "SELECT session_id, created_ts, method, uri, user_id, completed, data"
            " FROM ui_auth_sessions WHERE session_id = ?",
            session_id,
        )
        if row is None:
            return None
        return UIASession(*row[:5], orjson.loads(row[5]), orjson.loads(row[6]))

    async def mark_completed(self, session_id: str, stage: str, result: Any) -> dict[str, Any]:
        """Record a completed stage; returns all completed stages of the session."""
        async with self._db.transaction() as txn:
            raw = await txn.fetchval(
                "SELECT completed FROM ui_auth_sessions WHERE session_id = ?", session_id
            )
            completed = {**orjson.loads(raw), stage: result}
            await txn.execute(
                "UPDATE ui_auth_sessions SET completed = ? WHERE session_id = ?",
                orjson.dumps(completed).decode(), session_id,
            )
        return completed

    async def set_data(self, session_id: str, data: dict[str, Any]) -> None:
        await self._db.execute(
            "UPDATE ui_auth_sessions SET data = ? WHERE session_id = ?",
            orjson.dumps(data).decode(), session_id,
        )

    async def delete_session(self, session_id: str) -> None:
        await self._db.execute("DELETE FROM ui_auth_sessions WHERE session_id = ?", session_id)

    async def delete_sessions_before(self, ts: int) -> None:
        await self._db.execute("DELETE FROM ui_auth_sessions WHERE created_ts < ?", ts)
