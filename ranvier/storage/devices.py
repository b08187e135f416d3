"""Devices of local users (schema 0002)."""

from __future__ import annotations

from dataclasses import dataclass

from ranvier.storage.database import Database


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    user_id: str
    device_id: str
    display_name: str | None
    last_seen_ts: int | None
    last_seen_ip: str | None
    last_seen_user_agent: str | None

    def to_json(self) -> dict[str, object]:
        """The spec's Device object (GET /devices): fields without a value are left
        out, as the schema types them string/integer, not nullable."""
        fields = {
            "display_name": self.display_name,
            "last_seen_ip": self.last_seen_ip,
            "last_seen_ts": self.last_seen_ts,
        }
        return {"device_id": self.device_id} | {k: v for k, v in fields.items() if v is not None}


_COLUMNS = "user_id, device_id, display_name, last_seen_ts, last_seen_ip, last_seen_user_agent"


class DevicesStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure_device(
        self, user_id: str, device_id: str, display_name: str | None
    ) -> bool:
        """Create the device if it does not exist (keeping an existing one's name);
        True if it was created."""
        created = await self._db.fetchval(
            "INSERT INTO devices (user_id, device_id, display_name) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id, device_id) DO NOTHING RETURNING device_id",
            user_id, device_id, display_name,
        )
        return created is not None

    async def get_device(self, user_id: str, device_id: str) -> DeviceRecord | None:
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM devices WHERE user_id = ? AND device_id = ?",
            user_id, device_id,
        )
        return None if row is None else DeviceRecord(*row)

    async def get_devices(self, user_id: str) -> list[DeviceRecord]:
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM devices WHERE user_id = ? ORDER BY device_id", user_id
        )
        return [DeviceRecord(*r) for r in rows]

    async def set_display_name(self, user_id: str, device_id: str, name: str | None) -> bool:
        updated = await self._db.fetchval(
            "UPDATE devices SET display_name = ? WHERE user_id = ? AND device_id = ?"
            " RETURNING device_id",
            name, user_id, device_id,
        )
        return updated is not None

    async def record_last_seen(
        self, user_id: str, device_id: str, ts: int, ip: str, user_agent: str | None
    ) -> None:
        await self._db.execute(
            "UPDATE devices SET last_seen_ts = ?, last_seen_ip = ?, last_seen_user_agent = ?"
            " WHERE user_id = ? AND device_id = ?",
            ts, ip, user_agent, user_id, device_id,
        )

    async def delete_devices(self, user_id: str, device_ids: list[str] | None = None) -> None:
        """Delete these devices of the user (all of them when None)."""
        if device_ids is None:
            await self._db.execute("DELETE FROM devices WHERE user_id = ?", user_id)
        elif device_ids:
            await self._db.execute(
                "DELETE FROM devices WHERE user_id = ?"
                f" AND device_id IN ({', '.join('?' * len(device_ids))})",
                user_id, *device_ids,
            )
