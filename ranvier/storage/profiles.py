"""Our users' global profiles (display name, avatar), copied into membership events."""

from __future__ import annotations

from dataclasses import dataclass

from ranvier.storage.database import Database


@dataclass(frozen=True)
class Profile:
    displayname: str | None
    avatar_url: str | None


class ProfileStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_profile(self, user_id: str) -> Profile | None:
        row = await self._db.fetchone(
            "SELECT displayname, avatar_url FROM profiles WHERE user_id = ?", user_id
        )
        return None if row is None else Profile(row[0], row[1])

    async def create_profile(self, user_id: str, displayname: str | None) -> None:
        """The profile a new account starts with (registration)."""
        await self._db.execute(
            "INSERT INTO profiles (user_id, displayname, avatar_url) VALUES (?, ?, NULL)"
            " ON CONFLICT (user_id) DO NOTHING",
            user_id,
            displayname,
        )
