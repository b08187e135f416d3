"""Account data, global and per room: the latest content per (user, room, type), each
row stamped with the position of its latest change on the "account_data" stream."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from ranvier.storage.database import Database
from ranvier.storage.lru import LruCache
from ranvier.storage.stream_ids import StreamIdGenerator

#: The room_id column of global account data.
GLOBAL = ""

#: Bytes of entries' JSON kept in memory: the ignored-users list every sync reads.
CACHE_BYTES = 1024 * 1024
#: What the cache holds for an entry that does not exist (no JSON is empty).
_ABSENT = ""


@dataclass(frozen=True)
class AccountDataEntry:
    room_id: str | None  # None: global
    type: str
    content: dict[str, Any]


class AccountDataStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self.stream = StreamIdGenerator(0)
        # (user, room or GLOBAL, type) -> the entry's JSON, or _ABSENT
        self._cache: LruCache[tuple[str, str, str], str] = LruCache(CACHE_BYTES)
        # Puts finished so far: a read that a put overtook may hold the older entry.
        self._puts = 0

    async def start(self) -> None:
        self.stream = await StreamIdGenerator.load(self._db, "account_data", "stream_id")

    async def put(
        self, user_id: str, room_id: str | None, type_: str, content: dict[str, Any]
    ) -> int:
        """Replace one entry; returns its new stream position."""
        try:
            with self.stream.allocate(1) as (stream_id,):
                await self._db.execute(
                    "INSERT INTO account_data (user_id, room_id, type, content, stream_id)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, room_id, type)"
                    " DO UPDATE SET content = excluded.content, stream_id = excluded.stream_id",
                    user_id,
                    room_id or GLOBAL,
                    type_,
                    orjson.dumps(content).decode(),
                    stream_id,
                )
        finally:
            # Dropped rather than replaced: concurrent puts may return out of commit
            # order, and the next get reads whichever committed last.
            self._puts += 1
            self._cache.pop((user_id, room_id or GLOBAL, type_))
        # Only the position below which every change has committed (see StreamIdGenerator).
        return self.stream.current

    async def get(self, user_id: str, room_id: str | None, type_: str) -> dict[str, Any] | None:
        key = (user_id, room_id or GLOBAL, type_)
        content = self._cache.get(key)
        if content is None:
            puts = self._puts
            content = await self._db.fetchval(
                "SELECT content FROM account_data WHERE user_id = ? AND room_id = ? AND type = ?",
                *key,
            ) or _ABSENT
            if puts == self._puts:  # no put finished meanwhile: this is the latest entry
                self._cache.set(key, content, len(content))
        return None if content == _ABSENT else orjson.loads(content)

    async def changes(
        self, user_id: str, from_pos: int | None, to_pos: int
    ) -> list[AccountDataEntry]:
        """The entries whose latest change is in (from_pos, to_pos]; all entries up to
        `to_pos` when `from_pos` is None."""
        if from_pos is not None and from_pos >= to_pos:  # the stream has not moved
            return []
        rows = await self._db.fetchall(
            "SELECT room_id, type, content FROM account_data"
            " WHERE user_id = ? AND stream_id > ? AND stream_id <= ? ORDER BY stream_id",
            user_id,
            from_pos or 0,
            to_pos,
        )
        return [AccountDataEntry(r[0] or None, r[1], orjson.loads(r[2])) for r in rows]
