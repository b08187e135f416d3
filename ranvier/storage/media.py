"""Media metadata: local media rows, their thumbnails, and the URL preview cache.

The bytes themselves live behind `MediaStorage` (services/media_storage.py); these
tables say what exists and what it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from ranvier.storage.database import Database


@dataclass(frozen=True)
class LocalMedia:
    media_id: str
    user_id: str
    created_ts: int
    #: For a created-but-empty media ID: when it lapses (None once uploaded).
    unused_expires_at: int | None
    #: None until the content arrives.
    uploaded_ts: int | None
    content_type: str | None
    upload_name: str | None
    length: int | None
    sha256: str | None
    authenticated: bool

    @property
    def uploaded(self) -> bool:
        return self.uploaded_ts is not None


@dataclass(frozen=True)
class ThumbnailInfo:
    width: int
    height: int
    method: str
    animated: bool
    content_type: str
    length: int


_MEDIA_COLUMNS = (
    "media_id, user_id, created_ts, unused_expires_at, uploaded_ts, content_type,"
    " upload_name, media_length, sha256, authenticated"
)


def _media(row: tuple) -> LocalMedia:
    return LocalMedia(*row[:9], authenticated=bool(row[9]))


class MediaStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_local_media(self, media_id: str) -> LocalMedia | None:
        row = await self._db.fetchone(
            f"SELECT {_MEDIA_COLUMNS} FROM local_media WHERE media_id = ?", media_id
        )
        return None if row is None else _media(row)

    async def store_uploaded_media(self, media: LocalMedia) -> None:
        """A new media row whose content is already in storage (POST /upload)."""
        await self._db.execute(
            f"INSERT INTO local_media ({_MEDIA_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            media.media_id, media.user_id, media.created_ts, media.unused_expires_at,
            media.uploaded_ts, media.content_type, media.upload_name, media.length,
            media.sha256, int(media.authenticated),
        )

    async def create_pending_media(
        self, media_id: str, user_id: str, now: int, expires_at: int, authenticated: bool
    ) -> None:
        """An empty media ID for POST /create."""
        await self._db.execute(
            "INSERT INTO local_media (media_id, user_id, created_ts, unused_expires_at,"
            " authenticated) VALUES (?, ?, ?, ?, ?)",
            media_id, user_id, now, expires_at, int(authenticated),
        )

    async def count_pending_media(self, user_id: str, now: int) -> tuple[int, int | None]:
        """(how many unexpired empty media IDs the user holds, when the first lapses)."""
        row = await self._db.fetchone(
            "SELECT COUNT(*), MIN(unused_expires_at) FROM local_media"
            " WHERE user_id = ? AND uploaded_ts IS NULL AND unused_expires_at > ?",
            user_id, now,
        )
        assert row is not None
        return int(row[0]), row[1]

    async def delete_expired_pending_media(self, user_id: str, now: int) -> None:
        await self._db.execute(
            "DELETE FROM local_media WHERE user_id = ? AND uploaded_ts IS NULL"
            " AND unused_expires_at <= ?",
            user_id, now,
        )

    async def fill_pending_media(
        self, media_id: str, now: int, content_type: str, upload_name: str | None,
        length: int, sha256: str,
    ) -> bool:
        """Record the content of an empty, unexpired media ID; False if it was filled
        (or lapsed) in the meantime, so exactly one upload wins."""
        row = await self._db.fetchone(
            "UPDATE local_media SET uploaded_ts = ?, unused_expires_at = NULL,"
            " content_type = ?, upload_name = ?, media_length = ?, sha256 = ?"
            " WHERE media_id = ? AND uploaded_ts IS NULL AND unused_expires_at > ?"
            " RETURNING media_id",
            now, content_type, upload_name, length, sha256, media_id, now,
        )
        return row is not None

    # --- thumbnails ---------------------------------------------------------------------

    async def get_thumbnail(
        self, media_id: str, width: int, height: int, method: str, animated: bool
    ) -> ThumbnailInfo | None:
        row = await self._db.fetchone(
            "SELECT content_type, media_length FROM local_media_thumbnails"
            " WHERE media_id = ? AND width = ? AND height = ? AND method = ? AND animated = ?",
            media_id, width, height, method, int(animated),
        )
        if row is None:
            return None
        return ThumbnailInfo(width, height, method, animated, row[0], row[1])

    async def store_thumbnail(self, media_id: str, thumbnail: ThumbnailInfo) -> None:
        """Idempotent: two requests racing to generate the same thumbnail both succeed."""
        await self._db.execute(
            "INSERT INTO local_media_thumbnails (media_id, width, height, method, animated,"
            " content_type, media_length) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (media_id, width, height, method, animated) DO NOTHING",
            media_id, thumbnail.width, thumbnail.height, thumbnail.method,
            int(thumbnail.animated), thumbnail.content_type, thumbnail.length,
        )

    # --- URL previews -----------------------------------------------------------------------

    async def get_url_preview(self, url: str, now: int) -> dict[str, Any] | None:
        og = await self._db.fetchval(
            "SELECT og FROM url_previews WHERE url = ? AND expires_ts > ?", url, now
        )
        return None if og is None else orjson.loads(og)

    async def store_url_preview(
        self, url: str, now: int, expires_ts: int, og: dict[str, Any]
    ) -> None:
        await self._db.execute(
            "INSERT INTO url_previews (url, fetched_ts, expires_ts, og) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (url) DO UPDATE SET fetched_ts = excluded.fetched_ts,"
            " expires_ts = excluded.expires_ts, og = excluded.og",
            url, now, expires_ts, orjson.dumps(og).decode(),
        )
