"""Server-side key backups (client-server API, "Server-side key backups"): versions
with their auth data, and the encrypted room keys stored in the current version.

Writes to one user's backups are serialized (in-process), so the replacement rules
and the etag see a consistent backup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ranvier.errors import MatrixError
from ranvier.protocol.e2e_keys import backup_key_replaces
from ranvier.services.keyed_lock import KeyedLock
from ranvier.storage.key_backup import BackupVersion, KeyBackupStore, RoomKey

JsonDict = dict[str, Any]
#: The backup algorithm the spec defines. Its `auth_data` and `session_data` are JSON
#: objects; the spec calls both fields "algorithm-dependent data", so for an algorithm
#: it does not define the server stores whatever JSON the client sent, as Synapse does
#: (SyTest's backup tests use such an algorithm, with strings). docs/E2EE.md.
CURVE25519_AES_SHA2 = "m.megolm_backup.v1.curve25519-aes-sha2"


def _check_algorithm_data(algorithm: str, value: Any, field: str) -> None:
    if algorithm == CURVE25519_AES_SHA2 and not isinstance(value, dict):
        raise MatrixError(400, "M_BAD_JSON", f"{field} must be an object for {algorithm}")


def _unknown_version(raw: str) -> MatrixError:
    return MatrixError(404, "M_NOT_FOUND", f"Unknown backup version {raw!r}")


def _version_number(raw: str) -> int:
    """Versions are the decimal numbers we hand out; anything else names no backup."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise _unknown_version(raw)
    return int(raw)


class KeyBackupService:
    def __init__(self, store: KeyBackupStore) -> None:
        self._store = store
        self._locks = KeyedLock()

    # --- versions -----------------------------------------------------------------------

    async def create_version(self, user_id: str, algorithm: str, auth_data: Any) -> str:
        """POST /room_keys/version: the new version becomes the current one."""
        _check_algorithm_data(algorithm, auth_data, "auth_data")
        async with self._locks.hold(user_id):
            return str(await self._store.create_version(user_id, algorithm, auth_data))

    async def get_version(self, user_id: str, raw_version: str | None) -> JsonDict:
        """GET /room_keys/version[/{version}] (None: the current version)."""
        backup = await self._existing(user_id, raw_version)
        return {
            "algorithm": backup.algorithm,
            "auth_data": backup.auth_data,
            "count": await self._store.count_keys(user_id, backup.version),
            "etag": str(backup.etag),
            "version": str(backup.version),
        }

    async def update_version(
        self, user_id: str, raw_version: str, algorithm: str, auth_data: Any,
        body_version: str | None,
    ) -> None:
        """PUT /room_keys/version/{version}: only auth_data may change."""
        if body_version is not None and body_version != raw_version:
            raise MatrixError(
                400, "M_INVALID_PARAM",
                f"version {body_version!r} in the body does not match {raw_version!r}",
            )
        async with self._locks.hold(user_id):
            backup = await self._existing(user_id, raw_version)
            if algorithm != backup.algorithm:
                raise MatrixError(
                    400, "M_INVALID_PARAM",
                    f"algorithm does not match the backup's ({backup.algorithm})",
                )
            _check_algorithm_data(algorithm, auth_data, "auth_data")
            await self._store.update_auth_data(user_id, backup.version, auth_data)

    async def delete_version(self, user_id: str, raw_version: str) -> None:
        """DELETE /room_keys/version/{version}: deleting a deleted version succeeds."""
        version = _version_number(raw_version)
        async with self._locks.hold(user_id):
            if not await self._store.version_exists(user_id, version):
                raise _unknown_version(raw_version)
            await self._store.delete_version(user_id, version)

    async def _existing(self, user_id: str, raw_version: str | None) -> BackupVersion:
        version = None if raw_version is None else _version_number(raw_version)
        backup = await self._store.get_version(user_id, version)
        if backup is None:
            if raw_version is None:
                raise MatrixError(404, "M_NOT_FOUND", "No current backup version")
            raise _unknown_version(raw_version)
        return backup

    # --- keys ---------------------------------------------------------------------------

    async def put_keys(self, user_id: str, raw_version: str, keys: Sequence[RoomKey]) -> JsonDict:
        """PUT /room_keys/keys[/{roomId}[/{sessionId}]]: only into the current version;
        a key replaces a stored one only if the spec's rules prefer it."""
        async with self._locks.hold(user_id):
            current = await self._store.get_version(user_id, None)
            if current is None:
                raise MatrixError(404, "M_NOT_FOUND", "No current backup version")
            if raw_version != str(current.version):
                raise MatrixError(
                    403, "M_WRONG_ROOM_KEYS_VERSION", "Wrong backup version",
                    current_version=str(current.version),
                )
            for key in keys:
                _check_algorithm_data(
                    current.algorithm, key.data["session_data"],
                    f"{key.room_id}/{key.session_id}: session_data",
                )
            stored: dict[tuple[str, str], JsonDict] = {}
            for room_id in sorted({k.room_id for k in keys}):
                for key in await self._store.get_keys(user_id, current.version, room_id):
                    stored[(key.room_id, key.session_id)] = key.data
            winners = {}
            for key in keys:
                # Later entries for one session compete with earlier ones too.
                where = (key.room_id, key.session_id)
                old = winners.get(where, stored.get(where))
                if old is None or backup_key_replaces(key.data, old):
                    winners[where] = key.data
            changed = [
                RoomKey(room_id, session_id, data)
                for (room_id, session_id), data in winners.items()
                if stored.get((room_id, session_id)) != data
            ]
            if changed:
                await self._store.put_keys(user_id, current.version, changed)
            return await self._update_response(user_id, current.version)

    async def get_keys(
        self, user_id: str, raw_version: str, room_id: str | None = None,
        session_id: str | None = None,
    ) -> JsonDict:
        """GET /room_keys/keys[/{roomId}[/{sessionId}]], shaped for that level."""
        backup = await self._existing(user_id, raw_version)
        keys = await self._store.get_keys(user_id, backup.version, room_id, session_id)
        if session_id is not None:
            if not keys:
                raise MatrixError(404, "M_NOT_FOUND", "No key for that session")
            return keys[0].data
        rooms: dict[str, JsonDict] = {}
        for key in keys:
            rooms.setdefault(key.room_id, {"sessions": {}})["sessions"][key.session_id] = key.data
        if room_id is not None:
            return rooms.get(room_id, {"sessions": {}})
        return {"rooms": rooms}

    async def delete_keys(
        self, user_id: str, raw_version: str, room_id: str | None = None,
        session_id: str | None = None,
    ) -> JsonDict:
        """DELETE /room_keys/keys[/{roomId}[/{sessionId}]]"""
        async with self._locks.hold(user_id):
            backup = await self._existing(user_id, raw_version)
            await self._store.delete_keys(user_id, backup.version, room_id, session_id)
            return await self._update_response(user_id, backup.version)

    async def _update_response(self, user_id: str, version: int) -> JsonDict:
        backup = await self._store.get_version(user_id, version)
        assert backup is not None  # we hold the user's lock: nobody deleted it
        return {"etag": str(backup.etag), "count": await self._store.count_keys(user_id, version)}
