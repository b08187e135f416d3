"""Where media bytes live: a small interface, and its local file system implementation.

Keys are relative paths built by services/media.py from validated media IDs (only
`A-Za-z0-9_-`), never from raw client input, so they cannot escape the store. Another
back end (S3, ...) implements the same four methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from pathlib import Path
from typing import Protocol


class MediaStorage(Protocol):
    async def put(self, key: str, data: bytes) -> None:
        """Store `data` durably under `key` (replacing any previous bytes) before
        returning."""

    async def get(self, key: str) -> bytes | None:
        """The bytes under `key`, or None."""

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None:
        """Forget `key`; a missing key is not an error."""


class FileMediaStorage:
    """Files under `root` (`media_store_path`). A write goes to a temporary file in the
    target folder, is fsynced, then renamed over the target and the folder fsynced:
    once `put` returns, a crash cannot lose or truncate the file."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, key: str) -> Path:
        path = (self._root / key).resolve()
        if not path.is_relative_to(self._root.resolve()):
            raise ValueError(f"media storage key {key!r} escapes the store")
        return path

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._put, self._path(key), data)

    async def get(self, key: str) -> bytes | None:
        return await asyncio.to_thread(self._get, self._path(key))

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self._path(key).unlink)

    @staticmethod
    def _put(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            with open(temp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
            raise
        # The rename itself is only durable once the folder's entry is on disk.
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    @staticmethod
    def _get(path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
