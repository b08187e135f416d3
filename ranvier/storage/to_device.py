"""The "to_device" stream (schema 0092): each device's inbox in stream order, and the
transaction IDs that make /sendToDevice idempotent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ranvier.storage.database import Database
from ranvier.storage.stream_ids import StreamIdGenerator


@dataclass(frozen=True)
class Delivery:
    """One message for one device."""

    user_id: str
    device_id: str
    message: dict[str, Any]


class ToDeviceStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self.stream = StreamIdGenerator(0)

    async def start(self) -> None:
        self.stream = await StreamIdGenerator.load(self._db, "to_device_inbox", "stream_id")

    async def deliver(
        self,
        sender: str,
        sender_device: str,
        txn_id: str,
        now_ms: int,
        deliveries: Sequence[Delivery],
        forget_txns_before_ms: int,
    ) -> int | None:
        """Put the messages in their inboxes, unless this transaction was already
        delivered; returns the new stream position, or None for a repeat."""
        with self.stream.allocate(len(deliveries)) as stream_ids:
            async with self._db.transaction() as conn:
                await conn.execute(
                    "DELETE FROM to_device_txns WHERE user_id = ? AND inserted_ts < ?",
                    sender, forget_txns_before_ms,
                )
                fresh = await conn.fetchval(
                    "INSERT INTO to_device_txns (user_id, sender_device, txn_id, inserted_ts)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING txn_id",
                    sender, sender_device, txn_id, now_ms,
                )
                if fresh is None:
                    return None
                await conn.executemany(
                    "INSERT INTO to_device_inbox (user_id, device_id, stream_id, message_json)"
                    " VALUES (?, ?, ?, ?)",
                    [
                        (d.user_id, d.device_id, stream_id, orjson.dumps(d.message).decode())
                        for stream_id, d in zip(stream_ids, deliveries, strict=True)
                    ],
                )
        # Announce only the position below which every allocated ID has committed:
        # a sync told about a later one would skip (and then delete) a message that
        # commits after it.
        return self.stream.current

    async def inbox(
        self, user_id: str, device_id: str, after: int, upto: int, limit: int
    ) -> list[tuple[int, dict[str, Any]]]:
        """The device's messages in (after, upto], oldest first, at most `limit`."""
        if after >= upto:  # most syncs: the stream has not moved
            return []
        rows = await self._db.fetchall(
            "SELECT stream_id, message_json FROM to_device_inbox"
            " WHERE user_id = ? AND device_id = ? AND stream_id > ? AND stream_id <= ?"
            " ORDER BY stream_id LIMIT ?",
            user_id, device_id, after, upto, limit,
        )
        return [(int(r[0]), orjson.loads(r[1])) for r in rows]

    async def delete_upto(self, user_id: str, device_id: str, upto: int) -> None:
        """The device has received everything up to `upto`."""
        await self._db.execute(
            "DELETE FROM to_device_inbox WHERE user_id = ? AND device_id = ? AND stream_id <= ?",
            user_id, device_id, upto,
        )

    async def delete_inboxes(self, user_id: str, device_ids: Sequence[str] | None) -> None:
        """Drop the inboxes of deleted devices (all of the user's when None)."""
        if device_ids is None:
            await self._db.execute("DELETE FROM to_device_inbox WHERE user_id = ?", user_id)
        elif device_ids:
            await self._db.execute(
                "DELETE FROM to_device_inbox WHERE user_id = ?"
                f" AND device_id IN ({','.join('?' * len(device_ids))})",
                user_id, *device_ids,
            )
