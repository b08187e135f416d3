"""The user directory: who can be found, and by whom.

Kept up to date by a batch writer of EventsStore (member events give names and
avatars; join rules and history visibility say which rooms are public); local users'
own profiles come straight from `profiles`. Searches are case-insensitive substring
matches on user IDs and display names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ranvier.storage.database import Connection, Database
from ranvier.storage.events import StoredEvent


@dataclass(frozen=True)
class DirectoryUser:
    user_id: str
    display_name: str | None
    avatar_url: str | None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _like_pattern(term: str) -> str:
    escaped = term.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# Every user we know of: local profiles, local accounts without one yet, then others'
# latest join events.
_CANDIDATES = (
    "SELECT user_id, displayname AS display_name, avatar_url FROM profiles"
    " UNION ALL SELECT a.user_id, j.display_name, j.avatar_url FROM users a"
    " LEFT JOIN user_directory j ON j.user_id = a.user_id"
    " WHERE NOT EXISTS (SELECT 1 FROM profiles p WHERE p.user_id = a.user_id)"
    " UNION ALL SELECT u.user_id, u.display_name, u.avatar_url FROM user_directory u"
    " WHERE NOT EXISTS (SELECT 1 FROM profiles p WHERE p.user_id = u.user_id)"
    " AND NOT EXISTS (SELECT 1 FROM users a WHERE a.user_id = u.user_id)"
)

# A user the searcher may see: themselves, or joined to a public room or to a room
# the searcher is joined to.
_VISIBLE = (
    " AND (d.user_id = ? OR EXISTS (SELECT 1 FROM current_state m"
    " WHERE m.type = 'm.room.member' AND m.membership = 'join' AND m.state_key = d.user_id"
    " AND (m.room_id IN (SELECT room_id FROM user_directory_rooms"
    "  WHERE join_rule_public = 1 OR world_readable = 1)"
    " OR m.room_id IN (SELECT room_id FROM local_current_membership"
    "  WHERE user_id = ? AND membership = 'join'))))"
)


class UserDirectoryStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    async def write_from_events(conn: Connection, stored: Sequence[StoredEvent]) -> None:
        """Part of the event persister's transaction (an EventsStore batch writer)."""
        users, join_rules, visibility = [], [], []
        for s in stored:
            e = s.event
            if s.outlier or s.rejected_reason or s.soft_failed or e.state_key is None:
                continue
            if e.type == "m.room.member" and e.membership == "join":
                users.append((
                    e.state_key, _str_or_none(e.content.get("displayname")),
                    _str_or_none(e.content.get("avatar_url")),
                ))
            elif e.type == "m.room.join_rules" and e.state_key == "":
                join_rules.append((e.room_id, int(e.content.get("join_rule") == "public")))
            elif e.type == "m.room.history_visibility" and e.state_key == "":
                world = e.content.get("history_visibility") == "world_readable"
                visibility.append((e.room_id, int(world)))
        await conn.executemany(
            "INSERT INTO user_directory (user_id, display_name, avatar_url) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name,"
            " avatar_url = excluded.avatar_url",
            users,
        )
        await conn.executemany(
            "INSERT INTO user_directory_rooms (room_id, join_rule_public) VALUES (?, ?)"
            " ON CONFLICT (room_id) DO UPDATE SET join_rule_public = excluded.join_rule_public",
            join_rules,
        )
        await conn.executemany(
            "INSERT INTO user_directory_rooms (room_id, world_readable) VALUES (?, ?)"
            " ON CONFLICT (room_id) DO UPDATE SET world_readable = excluded.world_readable",
            visibility,
        )

    async def search(
        self, searcher: str, term: str, limit: int, *, everyone: bool
    ) -> list[DirectoryUser]:
        """Up to `limit` users matching `term`, display-name prefix matches first; with
        `everyone`, every known user, else only those the searcher may see."""
        pattern = _like_pattern(term)
        prefix = _like_pattern(term)[1:]
        sql = (
            f"SELECT d.user_id, d.display_name, d.avatar_url FROM ({_CANDIDATES}) d"
            " WHERE (LOWER(d.user_id) LIKE ? ESCAPE '\\'"
            " OR LOWER(COALESCE(d.display_name, '')) LIKE ? ESCAPE '\\')"
            " AND NOT EXISTS (SELECT 1 FROM users x WHERE x.user_id = d.user_id"
            "  AND x.deactivated = 1)"
        )
        args: list[object] = [pattern, pattern]
        if not everyone:
            sql += _VISIBLE
            args += [searcher, searcher]
        sql += (
            " ORDER BY CASE WHEN LOWER(COALESCE(d.display_name, '')) LIKE ? ESCAPE '\\'"
            " THEN 0 ELSE 1 END, d.user_id LIMIT ?"
        )
        args += [prefix, limit]
        rows = await self._db.fetchall(sql, *args)
        return [DirectoryUser(*row) for row in rows]
