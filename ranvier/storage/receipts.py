"""Read receipts: the latest receipt per (room, type, user, thread), each row stamped
with the position of its latest change on the "receipts" stream."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ranvier.storage.database import Connection, Database
from ranvier.storage.stream_ids import StreamIdGenerator

#: The thread_id column of an unthreaded receipt.
UNTHREADED = ""
PRIVATE_READ = "m.read.private"
_CHUNK = 500


@dataclass(frozen=True)
class Receipt:
    room_id: str
    receipt_type: str
    user_id: str
    thread_id: str | None  # None: unthreaded
    event_id: str
    ts: int


# A receipt never moves back: the row changes only for a later event.
_ADVANCE = (
    "INSERT INTO receipts (room_id, receipt_type, user_id, thread_id, event_id,"
    " event_stream_ordering, ts, stream_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (room_id, receipt_type, user_id, thread_id) DO UPDATE SET"
    " event_id = excluded.event_id,"
    " event_stream_ordering = excluded.event_stream_ordering,"
    " ts = excluded.ts, stream_id = excluded.stream_id"
    " WHERE receipts.event_stream_ordering < excluded.event_stream_ordering"
)


def _row(receipt: Receipt, event_stream_ordering: int, stream_id: int) -> tuple:
    return (
        receipt.room_id, receipt.receipt_type, receipt.user_id,
        receipt.thread_id or UNTHREADED, receipt.event_id, event_stream_ordering,
        receipt.ts, stream_id,
    )


class ReceiptsStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self.stream = StreamIdGenerator(0)

    async def start(self) -> None:
        self.stream = await StreamIdGenerator.load(self._db, "receipts", "stream_id")

    async def advance(
        self, receipt: Receipt, event_stream_ordering: int
    ) -> int | None:
        """Store `receipt` unless the user's receipt of that type and thread already
        points at this event or a later one; returns the new stream position, or None
        when nothing changed. (Receipts mark "read up to", so they never move back.)"""
        with self.stream.allocate(1) as (stream_id,):
            changed = await self.write(self._db, receipt, event_stream_ordering, stream_id)
        # Only the position below which every change has committed (see StreamIdGenerator).
        return self.stream.current if changed else None

    @staticmethod
    async def write(
        conn: Connection, receipt: Receipt, event_stream_ordering: int, stream_id: int
    ) -> bool:
        """`advance` at a position the caller allocated, on the caller's connection
        (inside its transaction); whether the receipt moved."""
        row = await conn.fetchone(
            f"{_ADVANCE} RETURNING stream_id", *_row(receipt, event_stream_ordering, stream_id)
        )
        return row is not None

    @staticmethod
    async def write_all(
        conn: Connection, receipts: Sequence[tuple[Receipt, int, int]]
    ) -> None:
        """`write` for each (receipt, event's position, stream ID), in one statement
        that returns nothing (so a batch's transaction can hold it back and combine it
        with the others); no two may share a user, type and thread."""
        await conn.executemany(_ADVANCE, [_row(*r) for r in receipts])

    async def changes(
        self, user_id: str, room_ids: Sequence[str], from_pos: int | None, to_pos: int
    ) -> list[Receipt]:
        """Receipts in `room_ids` whose latest change is in (from_pos, to_pos] (all up
        to `to_pos` when `from_pos` is None), without other users' private receipts."""
        found: list[Receipt] = []
        if from_pos is not None and from_pos >= to_pos:  # the stream has not moved
            return found
        for start in range(0, len(room_ids), _CHUNK):
            chunk = room_ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = await self._db.fetchall(
                "SELECT room_id, receipt_type, user_id, thread_id, event_id, ts FROM receipts"
                f" WHERE room_id IN ({marks}) AND stream_id > ? AND stream_id <= ?"
                " AND (receipt_type <> ? OR user_id = ?) ORDER BY stream_id",
                *chunk,
                from_pos or 0,
                to_pos,
                PRIVATE_READ,
                user_id,
            )
            found.extend(Receipt(r[0], r[1], r[2], r[3] or None, r[4], r[5]) for r in rows)
        return found

    async def read_positions(
        self, user_id: str, room_id: str, receipt_types: Sequence[str]
    ) -> dict[str, int]:
        """thread ID (UNTHREADED for unthreaded receipts) -> the furthest events-stream
        position the user's receipts of `receipt_types` mark in the room."""
        marks = ",".join("?" * len(receipt_types))
        rows = await self._db.fetchall(
            "SELECT thread_id, MAX(event_stream_ordering) FROM receipts"
            f" WHERE user_id = ? AND room_id = ? AND receipt_type IN ({marks})"
            " GROUP BY thread_id",
            user_id,
            room_id,
            *receipt_types,
        )
        return {thread_id: int(position) for thread_id, position in rows}
