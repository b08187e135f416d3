"""Content reports (events, rooms, users), kept for the server's admins."""

from __future__ import annotations

from dataclasses import dataclass

from ranvier.storage.database import Database


@dataclass(frozen=True)
class Report:
    report_id: str
    #: "event", "room" or "user"
    kind: str
    reporter: str
    received_ts: int
    room_id: str | None = None
    event_id: str | None = None
    target_user_id: str | None = None
    reason: str | None = None
    score: int | None = None


class ReportsStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, report: Report) -> None:
        await self._db.execute(
            "INSERT INTO reports (report_id, kind, reporter, room_id, event_id,"
            " target_user_id, reason, score, received_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            report.report_id, report.kind, report.reporter, report.room_id, report.event_id,
            report.target_user_id, report.reason, report.score, report.received_ts,
        )
