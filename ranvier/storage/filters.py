"""Filters uploaded by users (POST/GET /user/{userId}/filter). A filter never changes
once stored, so reads are cached."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from ranvier.storage.database import Database, IntegrityError
from ranvier.storage.lru import LruCache


class FilterStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._cache: LruCache[tuple[str, int], dict[str, Any]] = LruCache(10_000)

    async def add_filter(self, user_id: str, filter_json: dict[str, Any]) -> int:
        """The ID of this filter for the user: the existing one if they uploaded the
        same filter before, else a new one."""
        # Sorted keys make equal filters hash equally (floats allowed: this is no
        # signature, just a lookup key).
        digest = hashlib.sha256(orjson.dumps(filter_json, option=orjson.OPT_SORT_KEYS)).hexdigest()
        while True:
            try:
                return await self._insert(user_id, digest, filter_json)
            except IntegrityError:
                # A concurrent upload took the ID (or stored the same filter): again.
                continue

    async def _insert(self, user_id: str, digest: str, filter_json: dict[str, Any]) -> int:
        async with self._db.transaction() as conn:
            existing = await conn.fetchval(
                "SELECT filter_id FROM user_filters WHERE user_id = ? AND filter_hash = ?",
                user_id,
                digest,
            )
            if existing is not None:
                return int(existing)
            next_id = int(
                await conn.fetchval(
                    "SELECT COALESCE(MAX(filter_id), -1) + 1 FROM user_filters WHERE user_id = ?",
                    user_id,
                )
            )
            await conn.execute(
                "INSERT INTO user_filters (user_id, filter_id, filter_hash, filter_json)"
                " VALUES (?, ?, ?, ?)",
                user_id,
                next_id,
                digest,
                orjson.dumps(filter_json).decode(),
            )
            return next_id

    async def get_filter(self, user_id: str, filter_id: int) -> dict[str, Any] | None:
        cached = self._cache.get((user_id, filter_id))
        if cached is not None:
            return cached
        raw = await self._db.fetchval(
            "SELECT filter_json FROM user_filters WHERE user_id = ? AND filter_id = ?",
            user_id,
            filter_id,
        )
        if raw is None:
            return None
        value: dict[str, Any] = orjson.loads(raw)
        self._cache.set((user_id, filter_id), value)
        return value
