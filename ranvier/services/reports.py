"""Reporting content (client-server API "Reporting content", report_content.yaml):
events, rooms and users are reported to the server's admins, who find the reports in
the `reports` table.

Event reports need the reporter to be joined to the room and able to see the event
(spec v1.8); room and user reports need no shared room (v1.13, v1.14). Unknown targets
get M_NOT_FOUND, as the spec's main text describes (concealing them is optional).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from ranvier.clock import Clock
from ranvier.errors import MatrixError
from ranvier.protocol.identifiers import is_valid_user_id, server_name_of
from ranvier.services.visibility import VisibilityChecker
from ranvier.storage.accounts import AccountsStore
from ranvier.storage.events import EventsStore
from ranvier.storage.reports import Report, ReportsStore
from ranvier.storage.rooms import RoomStore

#: the range of an event report's (since v1.18 removed) `score`: -100 is most offensive
SCORE_RANGE = range(-100, 1)


@dataclass
class EventReportRequest:
    reason: str | None = None
    score: int | None = None


@dataclass
class ReportRequest:
    """A room or user report: the reason is required, and may be blank."""

    reason: str


class ReportsService:
    def __init__(
        self,
        store: ReportsStore,
        events: EventsStore,
        rooms: RoomStore,
        accounts: AccountsStore,
        visibility: VisibilityChecker,
        clock: Clock,
        server_name: str,
    ) -> None:
        self._store = store
        self._events = events
        self._rooms = rooms
        self._accounts = accounts
        self._visibility = visibility
        self._clock = clock
        self._server_name = server_name

    async def report_event(
        self, reporter: str, room_id: str, event_id: str, req: EventReportRequest
    ) -> None:
        if req.score is not None and req.score not in SCORE_RANGE:
            raise MatrixError(400, "M_INVALID_PARAM", "score must be between -100 and 0")
        membership = await self._rooms.get_local_membership(reporter, room_id)
        stored = await self._events.get_event(event_id)
        visible = (
            membership is not None and membership[0] == "join"
            and stored is not None and stored.event.room_id == room_id and not stored.outlier
            and await self._visibility.filter_visible(reporter, [stored])
        )
        if not visible:
            raise MatrixError(
                404, "M_NOT_FOUND",
                f"Event {event_id} was not found or you are not joined to {room_id}",
            )
        await self._store.add(Report(
            _new_id(), "event", reporter, self._clock.time_ms(), room_id=room_id,
            event_id=event_id, reason=req.reason, score=req.score,
        ))

    async def report_room(self, reporter: str, room_id: str, req: ReportRequest) -> None:
        if await self._rooms.get_room(room_id) is None:
            raise MatrixError(404, "M_NOT_FOUND", f"Room {room_id} was not found")
        await self._store.add(Report(
            _new_id(), "room", reporter, self._clock.time_ms(), room_id=room_id,
            reason=req.reason,
        ))

    async def report_user(self, reporter: str, user_id: str, req: ReportRequest) -> None:
        if not is_valid_user_id(user_id, allow_historical=True):
            raise MatrixError(400, "M_INVALID_PARAM", f"{user_id!r} is not a user ID")
        # Users of other servers cannot be looked up without federation: accepted.
        if server_name_of(user_id) == self._server_name and (
            await self._accounts.get_user(user_id) is None
        ):
            raise MatrixError(404, "M_NOT_FOUND", f"User {user_id} was not found")
        await self._store.add(Report(
            _new_id(), "user", reporter, self._clock.time_ms(), target_user_id=user_id,
            reason=req.reason,
        ))



def _new_id() -> str:
    return secrets.token_urlsafe(12)
