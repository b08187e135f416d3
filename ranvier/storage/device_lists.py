"""The "device_lists" stream (schema 0091) and the membership reads that decide who
hears of a change: users who share a room with the syncing user.

The membership queries read the rooms engineer's tables (`local_current_membership`,
`current_state`, `room_memberships`) because the device-list rules need them batched
over many users at once, which the room stores do not offer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ranvier.storage.database import Database
from ranvier.storage.stream_ids import StreamIdGenerator

#: the observer of a change every user sharing a room should hear of
EVERYONE = ""
#: users per statement in IN (...) lists
_CHUNK = 500


@dataclass(frozen=True)
class MembershipChange:
    room_id: str
    user_id: str
    membership: str


class DeviceListsStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self.stream = StreamIdGenerator(0)

    async def start(self) -> None:
        self.stream = await StreamIdGenerator.load(self._db, "device_lists_stream", "stream_id")

    async def append(self, user_ids: Iterable[str], observer: str = EVERYONE) -> int:
        """Record that these users' device lists changed (for `observer` only, when
        given); returns the new stream position."""
        users = sorted(set(user_ids))
        with self.stream.allocate(1) as (stream_id,):
            await self._db.executemany(
                "INSERT INTO device_lists_stream (stream_id, user_id, observer) VALUES (?, ?, ?)",
                [(stream_id, user_id, observer) for user_id in users],
            )
        # Only the position below which every change has committed (see StreamIdGenerator).
        return self.stream.current

    async def changed_between(self, observer: str, from_pos: int, to_pos: int) -> set[str]:
        """Users whose device lists changed in (from_pos, to_pos] as `observer` sees it."""
        if from_pos >= to_pos:  # most syncs: the stream has not moved
            return set()
        rows = await self._db.fetchall(
            "SELECT DISTINCT user_id FROM device_lists_stream"
            " WHERE stream_id > ? AND stream_id <= ? AND observer IN (?, ?)",
            from_pos, to_pos, EVERYONE, observer,
        )
        return {r[0] for r in rows}

    async def users_sharing_a_room(self, user_id: str, candidates: Iterable[str]) -> set[str]:
        """Those of `candidates` joined to a room the user is joined to now."""
        wanted = sorted(set(candidates))
        found: set[str] = set()
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            rows = await self._db.fetchall(
                "SELECT DISTINCT c.state_key FROM local_current_membership m"
                " JOIN current_state c ON c.room_id = m.room_id"
                " AND c.type = 'm.room.member' AND c.membership = 'join'"
                " WHERE m.user_id = ? AND m.membership = 'join'"
                f" AND c.state_key IN ({','.join('?' * len(chunk))})",
                user_id, *chunk,
            )
            found.update(r[0] for r in rows)
        return found

    async def membership_changes(
        self, user_id: str, from_pos: int, to_pos: int
    ) -> list[MembershipChange]:
        """Membership events in (from_pos, to_pos] of the events stream, in every room
        the user has a membership in, oldest first."""
        rows = await self._db.fetchall(
            "SELECT r.room_id, r.user_id, r.membership FROM room_memberships r"
            " JOIN local_current_membership m ON m.room_id = r.room_id AND m.user_id = ?"
            " WHERE r.stream_ordering > ? AND r.stream_ordering <= ?"
            " ORDER BY r.stream_ordering",
            user_id, from_pos, to_pos,
        )
        return [MembershipChange(*r) for r in rows]

    async def joined_members(self, room_ids: Sequence[str]) -> set[str]:
        """Users joined to any of these rooms now."""
        members: set[str] = set()
        for start in range(0, len(room_ids), _CHUNK):
            chunk = room_ids[start : start + _CHUNK]
            rows = await self._db.fetchall(
                "SELECT DISTINCT state_key FROM current_state"
                " WHERE type = 'm.room.member' AND membership = 'join'"
                f" AND room_id IN ({','.join('?' * len(chunk))})",
                *chunk,
            )
            members.update(r[0] for r in rows)
        return members
