"""Push actions per (user, event), for notification counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ranvier.storage.database import Connection, Database


@dataclass(frozen=True)
class PushAction:
    user_id: str
    event_id: str
    room_id: str
    stream_ordering: int
    thread_id: str
    notify: bool
    highlight: bool
    actions: tuple[Any, ...]


class NotificationsStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    async def write(conn: Connection, actions: Sequence[PushAction]) -> None:
        """Insert `actions` in the caller's transaction (the events' own)."""
        # The members who share one evaluation share its actions tuple: one encoding.
        encoded: dict[int, str] = {}
        for a in actions:
            if id(a.actions) not in encoded:
                encoded[id(a.actions)] = orjson.dumps(list(a.actions)).decode()
        await conn.executemany(
            "INSERT INTO event_push_actions (user_id, event_id, room_id, stream_ordering,"
            " thread_id, notify, highlight, actions) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            [
                (a.user_id, a.event_id, a.room_id, a.stream_ordering, a.thread_id,
                 int(a.notify), int(a.highlight), encoded[id(a.actions)])
                for a in actions
            ],
        )

    async def unread_by_thread(
        self, user_id: str, room_id: str, receipt_types: Sequence[str], unthreaded: str
    ) -> dict[str, tuple[int, int]]:
        """thread ID -> (notifications, highlights) among the user's push actions in the
        room that their receipts of `receipt_types` leave unread: those after both the
        unthreaded receipts (thread ID `unthreaded`) and their thread's own. One
        statement, receipts and all (a round trip each on PostgreSQL)."""
        types = ",".join("?" * len(receipt_types))
        rows = await self._db.fetchall(
            "SELECT a.thread_id, SUM(a.notify), SUM(a.highlight) FROM event_push_actions a"
            " WHERE a.user_id = ? AND a.room_id = ?"
            " AND a.stream_ordering > COALESCE((SELECT MAX(r.event_stream_ordering)"
            " FROM receipts r WHERE r.user_id = ? AND r.room_id = ?"
            f" AND r.receipt_type IN ({types}) AND r.thread_id = ?), 0)"
            " AND a.stream_ordering > COALESCE((SELECT MAX(r.event_stream_ordering)"
            " FROM receipts r WHERE r.user_id = a.user_id AND r.room_id = a.room_id"
            f" AND r.receipt_type IN ({types}) AND r.thread_id = a.thread_id), 0)"
            " GROUP BY a.thread_id",
            user_id, room_id, user_id, room_id, *receipt_types, unthreaded, *receipt_types,
        )
        return {thread_id: (int(n), int(h)) for thread_id, n, h in rows}

    async def get_for_user(
        self, user_id: str, *, before: int | None, limit: int, highlight_only: bool
    ) -> list[PushAction]:
        """The user's push actions, newest first, below stream position `before`
        (GET /notifications)."""
        sql = (
            "SELECT user_id, event_id, room_id, stream_ordering, thread_id, notify,"
            " highlight, actions FROM event_push_actions WHERE user_id = ?"
        )
        args: list[object] = [user_id]
        if before is not None:
            sql += " AND stream_ordering < ?"
            args.append(before)
        if highlight_only:
            sql += " AND highlight = 1"
        rows = await self._db.fetchall(sql + " ORDER BY stream_ordering DESC LIMIT ?", *args, limit)
        return [
            PushAction(r[0], r[1], r[2], int(r[3]), r[4], bool(r[5]), bool(r[6]),
                       tuple(orjson.loads(r[7])))
            for r in rows
        ]
