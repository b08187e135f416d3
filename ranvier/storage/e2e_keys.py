"""End-to-end encryption keys of local users (schema 0090): device identity keys,
one-time and fallback keys, cross-signing keys and the signatures uploaded for them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ranvier.storage.database import Connection, Database
from ranvier.storage.lru import LruCache

JsonDict = dict[str, Any]

#: how often a claim retries when a concurrent claim took the key it picked
_CLAIM_ATTEMPTS = 5
#: users whose devices' key counts (read by every /sync) stay known without a read
KEY_COUNTS_CACHE_USERS = 10_000

#: one device's one-time key counts by algorithm, and its unused fallback algorithms
KeyCounts = tuple[dict[str, int], list[str]]


@dataclass(frozen=True)
class DeviceKeysRow:
    user_id: str
    device_id: str
    keys: JsonDict
    display_name: str | None


@dataclass(frozen=True)
class OneTimeKey:
    algorithm: str
    key_id: str
    key: Any  # a string, or a signed key object

    @property
    def full_id(self) -> str:
        return f"{self.algorithm}:{self.key_id}"


@dataclass(frozen=True)
class Signature:
    signer_user_id: str
    signer_key_id: str
    target_user_id: str
    target_key_id: str
    signature: str


def _marks(items: Sequence[Any]) -> str:
    return ",".join("?" * len(items))


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


class E2EKeysStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        # user -> device -> its key counts
        self._counts: LruCache[str, dict[str, KeyCounts]] = LruCache(KEY_COUNTS_CACHE_USERS)
        # Writes of one-time or fallback keys finished so far: a count read that one
        # overtook may hold the counts from before it.
        self._key_writes = 0

    @contextlib.contextmanager
    def _changing_keys(self, user_id: str) -> Iterator[None]:
        """Around a write of the user's one-time or fallback keys: their counts are
        dropped once it ends, however it ends (it may have committed)."""
        try:
            yield
        finally:
            self._key_writes += 1
            self._counts.pop(user_id)

    # --- device keys ------------------------------------------------------------------

    async def get_device_keys(self, user_id: str, device_id: str) -> JsonDict | None:
        raw = await self._db.fetchval(
            "SELECT key_json FROM e2e_device_keys WHERE user_id = ? AND device_id = ?",
            user_id, device_id,
        )
        return None if raw is None else orjson.loads(raw)

    async def set_device_keys(self, user_id: str, device_id: str, keys: JsonDict) -> None:
        await self._db.execute(
            "INSERT INTO e2e_device_keys (user_id, device_id, key_json) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id, device_id) DO UPDATE SET key_json = excluded.key_json",
            user_id, device_id, _dumps(keys),
        )

    async def query_device_keys(
        self, user_id: str, device_ids: Sequence[str] | None
    ) -> list[DeviceKeysRow]:
        """The keys of these devices of the user (all when None), with the devices'
        display names."""
        sql = (
            "SELECT k.user_id, k.device_id, k.key_json, d.display_name FROM e2e_device_keys k"
            " LEFT JOIN devices d ON d.user_id = k.user_id AND d.device_id = k.device_id"
            " WHERE k.user_id = ?"
        )
        args: list[Any] = [user_id]
        if device_ids is not None:
            if not device_ids:
                return []
            sql += f" AND k.device_id IN ({_marks(device_ids)})"
            args.extend(device_ids)
        rows = await self._db.fetchall(sql + " ORDER BY k.device_id", *args)
        return [DeviceKeysRow(r[0], r[1], orjson.loads(r[2]), r[3]) for r in rows]

    async def delete_device_keys(self, user_id: str, device_ids: Sequence[str] | None) -> bool:
        """Delete every key of these devices (all of the user's when None), and the
        signatures made on them; True if any of them had identity keys."""
        where, args = _device_filter(user_id, device_ids)
        with self._changing_keys(user_id):
            async with self._db.transaction() as conn:
                had_keys = await conn.fetchval(
                    f"SELECT COUNT(*) FROM e2e_device_keys WHERE {where}", *args
                )
                for table in ("e2e_device_keys", "e2e_one_time_keys", "e2e_fallback_keys"):
                    await conn.execute(f"DELETE FROM {table} WHERE {where}", *args)
                targets, _ = _device_filter(
                    user_id, device_ids, "target_user_id", "target_key_id"
                )
                await conn.execute(
                    f"DELETE FROM e2e_cross_signing_signatures WHERE {targets}", *args
                )
        return bool(had_keys)

    # --- one-time and fallback keys ---------------------------------------------------

    async def add_one_time_keys(
        self, user_id: str, device_id: str, keys: Iterable[OneTimeKey]
    ) -> None:
        with self._changing_keys(user_id):
            await self._db.executemany(
                "INSERT INTO e2e_one_time_keys (user_id, device_id, algorithm, key_id, key_json)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(user_id, device_id, k.algorithm, k.key_id, _dumps(k.key)) for k in keys],
            )

    async def get_one_time_keys(
        self, user_id: str, device_id: str, full_ids: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], Any]:
        """(algorithm, key_id) -> key, for those of `full_ids` already stored."""
        if not full_ids:
            return {}
        key_ids = sorted({key_id for _, key_id in full_ids})
        rows = await self._db.fetchall(
            "SELECT algorithm, key_id, key_json FROM e2e_one_time_keys"
            f" WHERE user_id = ? AND device_id = ? AND key_id IN ({_marks(key_ids)})",
            user_id, device_id, *key_ids,
        )
        wanted = set(full_ids)
        return {(r[0], r[1]): orjson.loads(r[2]) for r in rows if (r[0], r[1]) in wanted}

    async def count_one_time_keys(self, user_id: str, device_id: str) -> dict[str, int]:
        rows = await self._db.fetchall(
            "SELECT algorithm, COUNT(*) FROM e2e_one_time_keys"
            " WHERE user_id = ? AND device_id = ? GROUP BY algorithm",
            user_id, device_id,
        )
        return {r[0]: int(r[1]) for r in rows}

    async def claim_one_time_key(
        self, user_id: str, device_id: str, algorithm: str
    ) -> OneTimeKey | None:
        """Take (delete and return) one key of `algorithm`, the oldest ID first."""
        for _ in range(_CLAIM_ATTEMPTS):
            key_id = await self._db.fetchval(
                "SELECT key_id FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ?"
                " AND algorithm = ? ORDER BY key_id LIMIT 1",
                user_id, device_id, algorithm,
            )
            if key_id is None:
                return None
            # A concurrent claim may delete it first: then pick another.
            with self._changing_keys(user_id):
                raw = await self._db.fetchval(
                    "DELETE FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ?"
                    " AND algorithm = ? AND key_id = ? RETURNING key_json",
                    user_id, device_id, algorithm, key_id,
                )
            if raw is not None:
                return OneTimeKey(algorithm, key_id, orjson.loads(raw))
        return None

    async def set_fallback_key(self, user_id: str, device_id: str, key: OneTimeKey) -> None:
        """Replace the device's fallback key of this algorithm; the same key uploaded
        again keeps its `used` mark."""
        with self._changing_keys(user_id):
            await self._db.execute(
                "INSERT INTO e2e_fallback_keys"
                " (user_id, device_id, algorithm, key_id, key_json, used)"
                " VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (user_id, device_id, algorithm) DO UPDATE"
                " SET key_id = excluded.key_id, key_json = excluded.key_json, used = CASE"
                " WHEN e2e_fallback_keys.key_id = excluded.key_id"
                " AND e2e_fallback_keys.key_json = excluded.key_json"
                " THEN e2e_fallback_keys.used ELSE 0 END",
                user_id, device_id, key.algorithm, key.key_id, _dumps(key.key),
            )

    async def claim_fallback_key(
        self, user_id: str, device_id: str, algorithm: str
    ) -> OneTimeKey | None:
        """The device's fallback key of `algorithm`, now marked used (but kept)."""
        with self._changing_keys(user_id):
            row = await self._db.fetchone(
                "UPDATE e2e_fallback_keys SET used = 1 WHERE user_id = ? AND device_id = ?"
                " AND algorithm = ? RETURNING key_id, key_json",
                user_id, device_id, algorithm,
            )
        return None if row is None else OneTimeKey(algorithm, row[0], orjson.loads(row[1]))

    async def key_counts(self, user_id: str, device_id: str) -> KeyCounts:
        """`count_one_time_keys`, and the algorithms with an unused fallback key, in one
        statement (each /sync asks for both: one round trip on PostgreSQL, not two), or
        from memory until the user's keys change."""
        devices = self._counts.get(user_id)
        if devices is not None and device_id in devices:
            counts, fallbacks = devices[device_id]
            return dict(counts), list(fallbacks)
        writes = self._key_writes
        rows = await self._db.fetchall(
            "SELECT 0, algorithm, COUNT(*) FROM e2e_one_time_keys"
            " WHERE user_id = ? AND device_id = ? GROUP BY algorithm"
            " UNION ALL SELECT 1, algorithm, 0 FROM e2e_fallback_keys"
            " WHERE user_id = ? AND device_id = ? AND used = 0",
            user_id, device_id, user_id, device_id,
        )
        counts = {algorithm: int(n) for kind, algorithm, n in rows if kind == 0}
        fallbacks = sorted(algorithm for kind, algorithm, _ in rows if kind == 1)
        if writes == self._key_writes:  # no write finished meanwhile: these are current
            devices = self._counts.get(user_id) or {}
            devices[device_id] = (counts, fallbacks)
            self._counts.set(user_id, devices)
        return dict(counts), list(fallbacks)

    # --- cross-signing keys -----------------------------------------------------------

    async def get_cross_signing_keys(self, user_id: str) -> dict[str, JsonDict]:
        """usage (master, self_signing, user_signing) -> key, for the keys the user has."""
        rows = await self._db.fetchall(
            "SELECT usage, key_json FROM e2e_cross_signing_keys WHERE user_id = ?", user_id
        )
        return {r[0]: orjson.loads(r[1]) for r in rows}

    async def set_cross_signing_keys(
        self, user_id: str, keys: dict[str, tuple[str, JsonDict]]
    ) -> None:
        """Store these keys (usage -> (public key, key)), replacing older keys of the
        same usages and dropping the signatures those older keys made or received."""
        async with self._db.transaction() as conn:
            for usage, (public_key, key) in keys.items():
                old = await conn.fetchval(
                    "SELECT public_key FROM e2e_cross_signing_keys"
                    " WHERE user_id = ? AND usage = ?",
                    user_id, usage,
                )
                if old is not None and old != public_key:
                    await _delete_signatures_of_key(conn, user_id, old)
                await conn.execute(
                    "INSERT INTO e2e_cross_signing_keys (user_id, usage, public_key, key_json)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (user_id, usage) DO UPDATE"
                    " SET public_key = excluded.public_key, key_json = excluded.key_json",
                    user_id, usage, public_key, _dumps(key),
                )

    # --- signatures -------------------------------------------------------------------

    async def add_signatures(self, signatures: Sequence[Signature]) -> None:
        await self._db.executemany(
            "INSERT INTO e2e_cross_signing_signatures"
            " (signer_user_id, signer_key_id, target_user_id, target_key_id, signature)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (target_user_id, target_key_id,"
            " signer_user_id, signer_key_id) DO UPDATE SET signature = excluded.signature",
            [
                (s.signer_user_id, s.signer_key_id, s.target_user_id, s.target_key_id,
                 s.signature)
                for s in signatures
            ],
        )

    async def get_signatures(
        self, target_user_id: str, target_key_ids: Sequence[str]
    ) -> list[Signature]:
        if not target_key_ids:
            return []
        rows = await self._db.fetchall(
            "SELECT signer_user_id, signer_key_id, target_user_id, target_key_id, signature"
            " FROM e2e_cross_signing_signatures"
            f" WHERE target_user_id = ? AND target_key_id IN ({_marks(target_key_ids)})"
            " ORDER BY signer_user_id, signer_key_id",
            target_user_id, *target_key_ids,
        )
        return [Signature(*r) for r in rows]


def _device_filter(
    user_id: str,
    device_ids: Sequence[str] | None,
    user_column: str = "user_id",
    device_column: str = "device_id",
) -> tuple[str, list[Any]]:
    """A WHERE clause for these devices of the user (all when None)."""
    if device_ids is None:
        return f"{user_column} = ?", [user_id]
    if not device_ids:
        return "1 = 0", []
    return (
        f"{user_column} = ? AND {device_column} IN ({_marks(device_ids)})",
        [user_id, *device_ids],
    )


async def _delete_signatures_of_key(conn: Connection, user_id: str, public_key: str) -> None:
    """Signatures made with a replaced cross-signing key, or made on it (a master key)."""
    await conn.execute(
        "DELETE FROM e2e_cross_signing_signatures"
        " WHERE (signer_user_id = ? AND signer_key_id = ?)"
        " OR (target_user_id = ? AND target_key_id = ?)",
        user_id, f"ed25519:{public_key}", user_id, public_key,
    )
