"""The latest published presence of our users, each row stamped with the position of
its latest change on the "presence" stream, and who may see whose presence."""

from __future__ import annotations

from ranvier.protocol.presence import OFFLINE, Presence
from ranvier.storage.database import Database
from ranvier.storage.stream_ids import StreamIdGenerator

_COLUMNS = "user_id, state, status_msg, last_active_ts, currently_active"

# Users who share a joined room with the user bound to both `?` (themselves included).
_VISIBLE_TO = (
    "(p.user_id = ? OR EXISTS (SELECT 1 FROM local_current_membership m"
    " JOIN current_state c ON c.room_id = m.room_id AND c.type = 'm.room.member'"
    " AND c.state_key = p.user_id AND c.membership = 'join'"
    " WHERE m.user_id = ? AND m.membership = 'join'))"
)


def _presence(row: tuple) -> Presence:
    return Presence(row[0], row[1], row[2], int(row[3]), bool(row[4]))


class PresenceStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self.stream = StreamIdGenerator(0)

    async def start(self) -> None:
        self.stream = await StreamIdGenerator.load(self._db, "presence", "stream_id")

    async def put(self, p: Presence) -> int:
        """Publish a user's new presence; returns its stream position."""
        with self.stream.allocate(1) as (stream_id,):
            await self._db.execute(
                f"INSERT INTO presence ({_COLUMNS}, stream_id) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET state = excluded.state,"
                " status_msg = excluded.status_msg, last_active_ts = excluded.last_active_ts,"
                " currently_active = excluded.currently_active, stream_id = excluded.stream_id",
                p.user_id,
                p.state,
                p.status_msg,
                p.last_active_ts,
                int(p.currently_active),
                stream_id,
            )
        # Only the position below which every change has committed (see StreamIdGenerator).
        return self.stream.current

    async def get(self, user_id: str) -> Presence | None:
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM presence WHERE user_id = ?", user_id
        )
        return None if row is None else _presence(row)

    async def get_not_offline(self) -> list[Presence]:
        """Everyone whose timers are running (loaded at start-up)."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM presence WHERE state <> ?", OFFLINE
        )
        return [_presence(r) for r in rows]

    async def changes_visible_to(
        self, user_id: str, from_pos: int | None, to_pos: int
    ) -> list[Presence]:
        """Presence changed in (from_pos, to_pos] of users who share a joined room with
        `user_id` (and their own). With `from_pos` None: everyone's current presence
        up to `to_pos`, leaving out offline users, who say nothing new."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM presence p"
            f" WHERE p.stream_id > ? AND p.stream_id <= ? AND {_VISIBLE_TO}"
            " AND (? = 0 OR p.state <> ?) ORDER BY p.stream_id",
            from_pos or 0,
            to_pos,
            user_id,
            user_id,
            int(from_pos is None),
            OFFLINE,
        )
        return [_presence(r) for r in rows]

    async def changes_in_room(self, room_id: str, from_pos: int, to_pos: int) -> list[Presence]:
        """Presence changed in (from_pos, to_pos] of the room's joined members (what a
        reader of that one room, a member or not, is told: GET /events?room_id=)."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM presence p JOIN current_state c"
            " ON c.room_id = ? AND c.type = 'm.room.member' AND c.state_key = p.user_id"
            " AND c.membership = 'join'"
            " WHERE p.stream_id > ? AND p.stream_id <= ? ORDER BY p.stream_id",
            room_id, from_pos, to_pos,
        )
        return [_presence(r) for r in rows]

    async def shares_room(self, user_id: str, other_user_id: str) -> bool:
        """Whether `other_user_id` is `user_id` or shares a joined room with them."""
        value = await self._db.fetchval(
            f"SELECT 1 FROM (SELECT CAST(? AS TEXT) AS user_id) p WHERE {_VISIBLE_TO}",
            other_user_id,
            user_id,
            user_id,
        )
        return value is not None
