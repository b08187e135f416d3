"""Reads for the room directory and aliases (the alias and `is_public` writes live in
storage/rooms.py, beside the rooms they belong to)."""

from __future__ import annotations

from collections.abc import Sequence

from ranvier.storage.database import Database


class DirectoryStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_alias(self, alias: str) -> tuple[str, str] | None:
        """(room_id, creator) of one of our aliases."""
        row = await self._db.fetchone(
            "SELECT room_id, creator FROM room_aliases WHERE room_alias = ?", alias
        )
        return None if row is None else (row[0], row[1])

    async def get_aliases_for_room(self, room_id: str) -> list[str]:
        rows = await self._db.fetchall(
            "SELECT room_alias FROM room_aliases WHERE room_id = ? ORDER BY room_alias", room_id
        )
        return [r[0] for r in rows]

    async def get_public_room_ids(self) -> list[str]:
        rows = await self._db.fetchall("SELECT room_id FROM rooms WHERE is_public = 1")
        return [r[0] for r in rows]

    async def count_joined_members(self, room_ids: Sequence[str]) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(room_ids, 0)
        for start in range(0, len(room_ids), 500):
            chunk = room_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = await self._db.fetchall(
                "SELECT room_id, COUNT(*) FROM current_state WHERE type = 'm.room.member'"
                f" AND membership = 'join' AND room_id IN ({marks}) GROUP BY room_id",
                *chunk,
            )
            counts.update({r[0]: int(r[1]) for r in rows})
        return counts
