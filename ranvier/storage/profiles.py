"""Our users' global profiles (display name, avatar), copied into membership events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from ranvier.storage.database import Database


@dataclass(frozen=True)
class Profile:
    displayname: str | None
    avatar_url: str | None
    #: extended profile fields (m.tz, custom keys)
    fields: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The profile as GET /profile/{userId} returns it (unset fields left out)."""
        out = dict(self.fields)
        if self.displayname is not None:
            out["displayname"] = self.displayname
        if self.avatar_url is not None:
            out["avatar_url"] = self.avatar_url
        return out


class ProfileStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_profile(self, user_id: str) -> Profile | None:
        row = await self._db.fetchone(
            "SELECT displayname, avatar_url, fields FROM profiles WHERE user_id = ?", user_id
        )
        if row is None:
            return None
        return Profile(row[0], row[1], orjson.loads(row[2]) if row[2] else {})

    async def set_profile(self, user_id: str, profile: Profile) -> None:
        """Replace an existing profile (services/profiles.py validates it first)."""
        await self._db.execute(
            "UPDATE profiles SET displayname = ?, avatar_url = ?, fields = ? WHERE user_id = ?",
            profile.displayname,
            profile.avatar_url,
            orjson.dumps(profile.fields).decode() if profile.fields else None,
            user_id,
        )

    async def create_profile(self, user_id: str, displayname: str | None) -> None:
        """The profile a new account starts with (registration)."""
        await self._db.execute(
            "INSERT INTO profiles (user_id, displayname, avatar_url) VALUES (?, ?, NULL)"
            " ON CONFLICT (user_id) DO NOTHING",
            user_id,
            displayname,
        )
