"""The media repository: uploads (direct and asynchronous), downloads, thumbnails.

Spec: client-server API, "Content repository". Only local media is served; media of
other servers needs federation and is M_NOT_FOUND until then (docs/MEDIA.md).

Content is stored under a key that includes its SHA-256, so two racing uploads to one
created media ID never overwrite each other's file: the database decides which one
won, and the loser's file is removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import secrets
import string
from dataclasses import dataclass

from ranvier.clock import Clock
from ranvier.config import Config, ThumbnailSize
from ranvier.errors import MatrixError
from ranvier.services.media_storage import MediaStorage
from ranvier.services.media_thumbnails import can_thumbnail, choose_size, make_thumbnail
from ranvier.storage.media import LocalMedia, MediaStore, ThumbnailInfo

#: The spec's media ID alphabet; anything else is refused before touching storage.
_MEDIA_ID_RE = re.compile(r"[A-Za-z0-9_-]+")
#: A media type as an HTTP header carries it: type "/" subtype, optional parameters.
_CONTENT_TYPE_RE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(\s*;[ -~]*)?")
_MEDIA_ID_ALPHABET = string.ascii_letters
DEFAULT_CONTENT_TYPE = "application/octet-stream"
#: The spec's default wait for not-yet-uploaded content, and our ceiling on it.
DEFAULT_TIMEOUT_MS = 20_000
MAX_TIMEOUT_MS = 60_000
#: How often a waiting download re-reads the database, in case another process (which
#: cannot wake our in-process waiters) received the upload.
_RECHECK_SECONDS = 1.0
#: Content types whose thumbnails may be animated.
_ANIMATABLE_TYPES = frozenset({"image/gif", "image/webp", "image/png", "image/apng"})


@dataclass(frozen=True)
class MediaContent:
    data: bytes
    content_type: str
    upload_name: str | None


def _new_media_id() -> str:
    # 24 random letters, as Synapse: about 137 bits, so IDs never clash in practice.
    return "".join(secrets.choice(_MEDIA_ID_ALPHABET) for _ in range(24))


def _content_key(media_id: str, sha256: str) -> str:
    return f"local_content/{media_id[:2]}/{media_id[2:4]}/{media_id[4:]}/{sha256}"


def _thumbnail_key(media_id: str, size: ThumbnailSize, animated: bool) -> str:
    suffix = "-animated" if animated else ""
    return (f"local_thumbnails/{media_id[:2]}/{media_id[2:4]}/{media_id[4:]}/"
            f"{size.width}-{size.height}-{size.method}{suffix}")


def check_media_id(media_id: str) -> None:
    if not _MEDIA_ID_RE.fullmatch(media_id):
        raise MatrixError(
            400, "M_INVALID_PARAM", "mediaId may only contain A-Z, a-z, 0-9, _ and -"
        )


def normalize_content_type(value: str | None) -> str:
    """The upload's Content-Type (application/octet-stream when absent)."""
    if value is None or not value.strip():
        return DEFAULT_CONTENT_TYPE
    value = value.strip()
    if not _CONTENT_TYPE_RE.fullmatch(value):
        raise MatrixError(400, "M_INVALID_PARAM", "Content-Type header is not a media type")
    return value


def check_upload_name(filename: str | None) -> None:
    if filename is not None and (
        not filename or len(filename) > 255 or any(ord(c) < 0x20 or c == "\x7f" for c in filename)
    ):
        raise MatrixError(
            400, "M_INVALID_PARAM",
            "filename must be 1 to 255 characters without control characters",
        )


class MediaService:
    def __init__(
        self, config: Config, clock: Clock, store: MediaStore, storage: MediaStorage
    ) -> None:
        self._config = config
        self._media_config = config.media
        self._clock = clock
        self._store = store
        self._storage = storage
        # media ID -> set when its asynchronous upload arrives (wakes waiting downloads)
        self._uploaded: dict[str, asyncio.Event] = {}

    @property
    def max_upload_size(self) -> int:
        return self._config.max_upload_size

    def _mxc(self, media_id: str) -> str:
        return f"mxc://{self._config.server_name}/{media_id}"

    # --- uploads --------------------------------------------------------------------------

    async def upload(
        self, user_id: str, data: bytes, content_type: str | None, filename: str | None
    ) -> str:
        """POST /upload: store new content; its mxc:// URI."""
        content_type = normalize_content_type(content_type)
        check_upload_name(filename)
        sha256 = hashlib.sha256(data).hexdigest()
        now = self._clock.time_ms()
        media_id = _new_media_id()
        # Bytes first, row second: a row never points at content that is not on disk.
        await self._storage.put(_content_key(media_id, sha256), data)
        await self._store.store_uploaded_media(LocalMedia(
            media_id, user_id, now, None, now, content_type, filename, len(data), sha256,
            self._media_config.enable_authenticated_media,
        ))
        return self._mxc(media_id)

    async def create(self, user_id: str) -> tuple[str, int]:
        """POST /create: an empty media ID; (mxc:// URI, when it lapses unused)."""
        now = self._clock.time_ms()
        await self._store.delete_expired_pending_media(user_id, now)
        pending, first_expiry = await self._store.count_pending_media(user_id, now)
        if pending >= self._media_config.max_pending_media_uploads:
            raise MatrixError(
                429, "M_LIMIT_EXCEEDED",
                f"You have {pending} pending uploads; finish or let one expire first",
                retry_after_ms=max(0, (first_expiry or now) - now),
            )
        media_id = _new_media_id()
        expires_at = now + self._media_config.unused_expiration_time_ms
        await self._store.create_pending_media(
            media_id, user_id, now, expires_at, self._media_config.enable_authenticated_media
        )
        return self._mxc(media_id), expires_at

    async def upload_to(
        self, user_id: str, server_name: str, media_id: str, data: bytes,
        content_type: str | None, filename: str | None,
    ) -> None:
        """PUT /upload/{serverName}/{mediaId}: fill a created media ID, once, as its
        creator."""
        check_media_id(media_id)
        content_type = normalize_content_type(content_type)
        check_upload_name(filename)
        await self._pending_media_for(user_id, server_name, media_id)
        sha256 = hashlib.sha256(data).hexdigest()
        key = _content_key(media_id, sha256)
        await self._storage.put(key, data)
        now = self._clock.time_ms()
        if not await self._store.fill_pending_media(
            media_id, now, content_type, filename, len(data), sha256
        ):
            # Another upload won the race (or the ID lapsed while we wrote).
            winner = await self._store.get_local_media(media_id)
            if winner is None or winner.sha256 != sha256:
                await self._storage.delete(key)
            await self._pending_media_for(user_id, server_name, media_id)
            raise MatrixError(409, "M_CANNOT_OVERWRITE_MEDIA", "Media already uploaded")
        event = self._uploaded.pop(media_id, None)
        if event is not None:
            event.set()

    async def _pending_media_for(self, user_id: str, server_name: str, media_id: str
                                 ) -> LocalMedia:
        """The created, still empty media row `user_id` may upload to (or the error)."""
        media = (
            await self._store.get_local_media(media_id)
            if server_name == self._config.server_name else None
        )
        if media is None or (
            not media.uploaded and (media.unused_expires_at or 0) <= self._clock.time_ms()
        ):
            raise MatrixError(404, "M_NOT_FOUND", "Unknown or expired media ID")
        if media.user_id != user_id:
            raise MatrixError(403, "M_FORBIDDEN", "This media ID was created by another user")
        if media.uploaded:
            raise MatrixError(409, "M_CANNOT_OVERWRITE_MEDIA", "Media already uploaded")
        return media

    # --- downloads ------------------------------------------------------------------------

    async def _uploaded_media(
        self, server_name: str, media_id: str, *, legacy: bool, timeout_ms: int
    ) -> LocalMedia:
        """The media row with content, waiting up to `timeout_ms` for an asynchronous
        upload (M_NOT_YET_UPLOADED after that)."""
        check_media_id(media_id)
        if server_name != self._config.server_name:
            raise MatrixError(
                404, "M_NOT_FOUND", "Media from other servers is not available on this server"
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(timeout_ms, 0), MAX_TIMEOUT_MS) / 1000
        while True:
            media = await self._store.get_local_media(media_id)
            if media is None or (legacy and media.authenticated) or (
                not media.uploaded
                and (media.unused_expires_at or 0) <= self._clock.time_ms()
            ):
                # Media uploaded under enable_authenticated_media is frozen out of the
                # legacy endpoints, and to them it does not exist.
                raise MatrixError(404, "M_NOT_FOUND", "Media not found")
            if media.uploaded:
                return media
            remaining = deadline - loop.time()
            if remaining <= 0:
                self._uploaded.pop(media_id, None)
                raise MatrixError(504, "M_NOT_YET_UPLOADED", "Content has not yet been uploaded")
            event = self._uploaded.setdefault(media_id, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, _RECHECK_SECONDS))

    async def _content(self, media: LocalMedia) -> bytes:
        assert media.sha256 is not None
        data = await self._storage.get(_content_key(media.media_id, media.sha256))
        if data is None:
            raise MatrixError(404, "M_NOT_FOUND", "Media content is missing from the store")
        return data

    async def download(
        self, server_name: str, media_id: str, *, legacy: bool = False,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
    ) -> MediaContent:
        media = await self._uploaded_media(
            server_name, media_id, legacy=legacy, timeout_ms=timeout_ms
        )
        return MediaContent(
            await self._content(media), media.content_type or DEFAULT_CONTENT_TYPE,
            media.upload_name,
        )

    async def thumbnail(
        self, server_name: str, media_id: str, width: int, height: int, method: str, *,
        animated: bool = False, legacy: bool = False, timeout_ms: int = DEFAULT_TIMEOUT_MS,
    ) -> MediaContent:
        """A thumbnail, generated on first request for its size and kept."""
        if method not in ("crop", "scale"):
            raise MatrixError(400, "M_INVALID_PARAM", "method must be crop or scale")
        media = await self._uploaded_media(
            server_name, media_id, legacy=legacy, timeout_ms=timeout_ms
        )
        content_type = (media.content_type or "").split(";")[0].strip().lower()
        if not can_thumbnail(content_type):
            raise MatrixError(
                400, "M_UNKNOWN", "Cannot generate thumbnails for the requested content"
            )
        size = (
            ThumbnailSize(width, height, method) if self._media_config.dynamic_thumbnails
            else choose_size(self._media_config.thumbnail_sizes, width, height, method)
        )
        animated = animated and content_type in _ANIMATABLE_TYPES
        key = _thumbnail_key(media.media_id, size, animated)
        known = await self._store.get_thumbnail(
            media.media_id, size.width, size.height, size.method, animated
        )
        if known is not None:
            data = await self._storage.get(key)
            if data is not None:
                return MediaContent(data, known.content_type, None)
        thumb = await asyncio.to_thread(
            make_thumbnail, await self._content(media), content_type, size,
            animated=animated, max_image_pixels=self._media_config.max_image_pixels,
        )
        await self._storage.put(key, thumb.data)
        await self._store.store_thumbnail(
            media.media_id,
            ThumbnailInfo(size.width, size.height, size.method, animated, thumb.content_type,
                          len(thumb.data)),
        )
        return MediaContent(thumb.data, thumb.content_type, None)
