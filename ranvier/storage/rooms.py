"""Rooms, local aliases and memberships (history and our users' current membership)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ranvier.storage.database import Connection, Database, IntegrityError

if TYPE_CHECKING:
    from ranvier.protocol.events import Event
    from ranvier.storage.events import StoredEvent


@dataclass(frozen=True)
class RoomRecord:
    room_id: str
    room_version: str
    creator: str
    is_public: bool


@dataclass(frozen=True)
class MembershipChange:
    """A local user's membership as current state now says."""

    user_id: str
    room_id: str
    event_id: str
    membership: str


class RoomStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- rooms -------------------------------------------------------------------------

    @staticmethod
    async def write_new_rooms(conn: Connection, create_events: Sequence[Event]) -> None:
        """A room row for each room whose create event joins our graph (persister's
        transaction). The creator is the create event's sender, whatever the version."""
        await conn.executemany(
            "INSERT INTO rooms (room_id, room_version, creator, is_public, created_ts)"
            " VALUES (?, ?, ?, 0, ?) ON CONFLICT (room_id) DO NOTHING",
            [
                (e.room_id, e.room_version.identifier, e.sender, e.origin_server_ts)
                for e in create_events
            ],
        )

    async def set_public(self, room_id: str, is_public: bool) -> None:
        await self._db.execute(
            "UPDATE rooms SET is_public = ? WHERE room_id = ?", int(is_public), room_id
        )

    async def get_room(self, room_id: str) -> RoomRecord | None:
        row = await self._db.fetchone(
            "SELECT room_id, room_version, creator, is_public FROM rooms WHERE room_id = ?",
            room_id,
        )
        return None if row is None else RoomRecord(row[0], row[1], row[2], bool(row[3]))

    # --- aliases -----------------------------------------------------------------------

    async def create_alias(self, alias: str, room_id: str, creator: str) -> bool:
        """False when the alias is taken."""
        try:
            await self._db.execute(
                "INSERT INTO room_aliases (room_alias, room_id, creator) VALUES (?, ?, ?)",
                alias,
                room_id,
                creator,
            )
        except IntegrityError:
            return False
        return True

    async def delete_alias(self, alias: str) -> None:
        await self._db.execute("DELETE FROM room_aliases WHERE room_alias = ?", alias)

    async def move_aliases(self, from_room: str, to_room: str) -> None:
        await self._db.execute(
            "UPDATE room_aliases SET room_id = ? WHERE room_id = ?", to_room, from_room
        )

    async def get_alias_room(self, alias: str) -> str | None:
        return await self._db.fetchval(  # type: ignore[no-any-return]
            "SELECT room_id FROM room_aliases WHERE room_alias = ?", alias
        )

    # --- memberships -------------------------------------------------------------------

    @staticmethod
    async def write_memberships(
        conn: Connection,
        member_events: Sequence[StoredEvent],
        local_changes: Sequence[MembershipChange],
    ) -> None:
        """Part of the event persister's transaction."""
        await conn.executemany(
            "INSERT INTO room_memberships"
            " (event_id, stream_ordering, room_id, user_id, sender, membership)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    s.event.event_id,
                    s.stream_ordering,
                    s.event.room_id,
                    s.event.state_key,
                    s.event.sender,
                    s.event.membership or "",
                )
                for s in member_events
            ],
        )
        # A new membership event un-forgets the room (the user is back in it).
        await conn.executemany(
            "INSERT INTO local_current_membership"
            " (user_id, room_id, event_id, membership, forgotten) VALUES (?, ?, ?, ?, 0)"
            " ON CONFLICT (user_id, room_id) DO UPDATE SET event_id = excluded.event_id,"
            " membership = excluded.membership, forgotten = 0",
            [(c.user_id, c.room_id, c.event_id, c.membership) for c in local_changes],
        )

    async def get_local_membership(self, user_id: str, room_id: str) -> tuple[str, str] | None:
        """(membership, event_id) of one of our users in a room, if any."""
        row = await self._db.fetchone(
            "SELECT membership, event_id FROM local_current_membership"
            " WHERE user_id = ? AND room_id = ?",
            user_id,
            room_id,
        )
        return None if row is None else (row[0], row[1])

    async def get_rooms_for_user(self, user_id: str, membership: str = "join") -> list[str]:
        rows = await self._db.fetchall(
            "SELECT room_id FROM local_current_membership"
            " WHERE user_id = ? AND membership = ? ORDER BY room_id",
            user_id,
            membership,
        )
        return [r[0] for r in rows]

    async def forget(self, user_id: str, room_id: str) -> None:
        await self._db.execute(
            "UPDATE local_current_membership SET forgotten = 1 WHERE user_id = ? AND room_id = ?",
            user_id,
            room_id,
        )

    async def is_forgotten(self, user_id: str, room_id: str) -> bool:
        value = await self._db.fetchval(
            "SELECT forgotten FROM local_current_membership WHERE user_id = ? AND room_id = ?",
            user_id,
            room_id,
        )
        return bool(value)

    async def get_joined_members(self, room_id: str) -> list[str]:
        rows = await self._db.fetchall(
            "SELECT state_key FROM current_state"
            " WHERE room_id = ? AND type = 'm.room.member' AND membership = 'join'",
            room_id,
        )
        return [r[0] for r in rows]
