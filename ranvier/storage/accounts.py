"""Accounts: users, access/refresh/login tokens, registration tokens (schema 0001)."""

from __future__ import annotations

from dataclasses import dataclass

from ranvier.storage.database import Database


@dataclass(frozen=True, slots=True)
class UserRecord:
    user_id: str
    password_hash: str | None
    created_ts: int
    is_admin: bool
    is_guest: bool
    deactivated: bool
    appservice_id: str | None


@dataclass(frozen=True, slots=True)
class AccessTokenRecord:
    token: str
    user_id: str
    device_id: str | None
    valid_until_ms: int | None
    is_guest: bool
    deactivated: bool


@dataclass(frozen=True, slots=True)
class RefreshTokenRecord:
    token: str
    user_id: str
    device_id: str
    expiry_ts: int | None


@dataclass(frozen=True, slots=True)
class RegistrationToken:
    token: str
    uses_allowed: int | None
    pending: int
    completed: int
    expiry_time: int | None

    def is_valid(self, now_ms: int) -> bool:
        if self.expiry_time is not None and self.expiry_time <= now_ms:
            return False
        return self.uses_allowed is None or self.pending + self.completed < self.uses_allowed

    def to_json(self) -> dict[str, object]:
        return {
            "token": self.token,
            "uses_allowed": self.uses_allowed,
            "pending": self.pending,
            "completed": self.completed,
            "expiry_time": self.expiry_time,
        }


_USER_COLUMNS = (
    "user_id, password_hash, created_ts, is_admin, is_guest, deactivated, appservice_id"
)


def _user(row: tuple) -> UserRecord:
    return UserRecord(row[0], row[1], row[2], bool(row[3]), bool(row[4]), bool(row[5]), row[6])


class AccountsStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- users ---

    async def create_user(
        self,
        user_id: str,
        password_hash: str | None,
        now_ms: int,
        *,
        is_admin: bool = False,
        is_guest: bool = False,
        appservice_id: str | None = None,
    ) -> bool:
        """Create the user; False if the user ID is taken."""
        created = await self._db.fetchval(
            f"INSERT INTO users ({_USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, 0, ?)"
            " ON CONFLICT (user_id) DO NOTHING RETURNING user_id",
            user_id, password_hash, now_ms, int(is_admin), int(is_guest), appservice_id,
        )
        return created is not None

    async def get_user(self, user_id: str) -> UserRecord | None:
        row = await self._db.fetchone(
            f"SELECT {_USER_COLUMNS} FROM users WHERE user_id = ?", user_id
        )
        return None if row is None else _user(row)

    async def find_user_ids_case_insensitive(self, user_id: str) -> list[str]:
        rows = await self._db.fetchall(
            "SELECT user_id FROM users WHERE lower(user_id) = lower(?)", user_id
        )
        return [r[0] for r in rows]

    async def set_password_hash(self, user_id: str, password_hash: str | None) -> None:
        await self._db.execute(
            "UPDATE users SET password_hash = ? WHERE user_id = ?", password_hash, user_id
        )

    async def set_admin(self, user_id: str, is_admin: bool) -> None:
        await self._db.execute(
            "UPDATE users SET is_admin = ? WHERE user_id = ?", int(is_admin), user_id
        )

    async def upgrade_guest(self, user_id: str, password_hash: str | None) -> None:
        await self._db.execute(
            "UPDATE users SET is_guest = 0, password_hash = ? WHERE user_id = ?",
            password_hash, user_id,
        )

    async def deactivate(self, user_id: str) -> None:
        await self._db.execute(
            "UPDATE users SET deactivated = 1, password_hash = NULL WHERE user_id = ?", user_id
        )

    # --- access tokens ---

    async def add_access_token(
        self,
        token: str,
        user_id: str,
        device_id: str | None,
        now_ms: int,
        *,
        valid_until_ms: int | None = None,
        refresh_token: str | None = None,
    ) -> None:
        await self._db.execute(
            "INSERT INTO access_tokens"
            " (token, user_id, device_id, created_ts, valid_until_ms, refresh_token)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            token, user_id, device_id, now_ms, valid_until_ms, refresh_token,
        )

    async def get_access_token(self, token: str) -> AccessTokenRecord | None:
        row = await self._db.fetchone(
            "SELECT t.token, t.user_id, t.device_id, t.valid_until_ms, u.is_guest,"
            " u.deactivated FROM access_tokens t JOIN users u ON u.user_id = t.user_id"
            " WHERE t.token = ?",
            token,
        )
        if row is None:
            return None
        return AccessTokenRecord(row[0], row[1], row[2], row[3], bool(row[4]), bool(row[5]))

    async def delete_access_tokens(
        self,
        user_id: str,
        device_ids: list[str] | None = None,
        *,
        except_token: str | None = None,
    ) -> list[str]:
        """Delete the user's access tokens (of these devices, if given); returns them."""
        sql = "DELETE FROM access_tokens WHERE user_id = ?"
        args: list[object] = [user_id]
        if device_ids is not None:
            if not device_ids:
                return []
            sql += f" AND device_id IN ({', '.join('?' * len(device_ids))})"
            args += device_ids
        if except_token is not None:
            sql += " AND token <> ?"
            args.append(except_token)
        rows = await self._db.fetchall(sql + " RETURNING token", *args)
        return [r[0] for r in rows]

    async def delete_access_token(self, token: str) -> None:
        await self._db.execute("DELETE FROM access_tokens WHERE token = ?", token)

    # --- refresh tokens ---

    async def add_refresh_token(
        self,
        token: str,
        user_id: str,
        device_id: str,
        now_ms: int,
        expiry_ts: int | None,
    ) -> None:
        await self._db.execute(
            "INSERT INTO refresh_tokens (token, user_id, device_id, created_ts, expiry_ts)"
            " VALUES (?, ?, ?, ?, ?)",
            token, user_id, device_id, now_ms, expiry_ts,
        )

    async def take_refresh_token(
        self, token: str
    ) -> tuple[RefreshTokenRecord, list[str]] | None:
        """Consume a refresh token: delete it and the access tokens issued with it.
        Returns the token and those access tokens, or None if unknown."""
        async with self._db.transaction() as txn:
            row = await txn.fetchone(
                "DELETE FROM refresh_tokens WHERE token = ?"
                " RETURNING token, user_id, device_id, expiry_ts",
                token,
            )
            if row is None:
                return None
            retired = await txn.fetchall(
                "DELETE FROM access_tokens WHERE refresh_token = ? RETURNING token", token
            )
        return RefreshTokenRecord(*row), [r[0] for r in retired]

    async def delete_refresh_tokens(
        self, user_id: str, device_ids: list[str] | None = None
    ) -> None:
        if device_ids is None:
            await self._db.execute("DELETE FROM refresh_tokens WHERE user_id = ?", user_id)
        elif device_ids:
            await self._db.execute(
                "DELETE FROM refresh_tokens WHERE user_id = ?"
                f" AND device_id IN ({', '.join('?' * len(device_ids))})",
                user_id, *device_ids,
            )

    # --- login tokens ---

    async def add_login_token(self, token: str, user_id: str, expiry_ts: int) -> None:
        await self._db.execute(
            "INSERT INTO login_tokens (token, user_id, expiry_ts) VALUES (?, ?, ?)",
            token, user_id, expiry_ts,
        )

    async def take_login_token(self, token: str, now_ms: int) -> str | None:
        """Consume a login token: its user ID if it exists and has not expired."""
        row = await self._db.fetchone(
            "DELETE FROM login_tokens WHERE token = ? RETURNING user_id, expiry_ts", token
        )
        if row is None or row[1] <= now_ms:
            return None
        return row[0]

    # --- registration tokens ---

    async def create_registration_token(
        self, token: str, uses_allowed: int | None, expiry_time: int | None
    ) -> bool:
        """False if the token already exists."""
        created = await self._db.fetchval(
            "INSERT INTO registration_tokens (token, uses_allowed, expiry_time)"
            " VALUES (?, ?, ?) ON CONFLICT (token) DO NOTHING RETURNING token",
            token, uses_allowed, expiry_time,
        )
        return created is not None

    async def get_registration_token(self, token: str) -> RegistrationToken | None:
        row = await self._db.fetchone(
            "SELECT token, uses_allowed, pending, completed, expiry_time"
            " FROM registration_tokens WHERE token = ?",
            token,
        )
        return None if row is None else RegistrationToken(*row)

    async def list_registration_tokens(self) -> list[RegistrationToken]:
        rows = await self._db.fetchall(
            "SELECT token, uses_allowed, pending, completed, expiry_time"
            " FROM registration_tokens ORDER BY token"
        )
        return [RegistrationToken(*r) for r in rows]

    async def update_registration_token(
        self, token: str, changes: dict[str, int | None]
    ) -> RegistrationToken | None:
        """Set `uses_allowed` and/or `expiry_time`; None if the token does not exist."""
        assert set(changes) <= {"uses_allowed", "expiry_time"}
        if changes:
            sets = ", ".join(f"{column} = ?" for column in changes)
            await self._db.execute(
                f"UPDATE registration_tokens SET {sets} WHERE token = ?",
                *changes.values(), token,
            )
        return await self.get_registration_token(token)

    async def delete_registration_token(self, token: str) -> bool:
        deleted = await self._db.fetchval(
            "DELETE FROM registration_tokens WHERE token = ? RETURNING token", token
        )
        return deleted is not None

    async def reserve_registration_token(self, token: str, now_ms: int) -> bool:
        """Count a pending use if the token is still valid (atomically)."""
        reserved = await self._db.fetchval(
            "UPDATE registration_tokens SET pending = pending + 1 WHERE token = ?"
            " AND (expiry_time IS NULL OR expiry_time > ?)"
            " AND (uses_allowed IS NULL OR pending + completed < uses_allowed)"
            " RETURNING token",
            token, now_ms,
        )
        return reserved is not None

    async def complete_registration_token(self, token: str) -> None:
        """Turn a pending use into a completed one."""
        await self._db.execute(
            "UPDATE registration_tokens SET pending = pending - 1, completed = completed + 1"
            " WHERE token = ?",
            token,
        )
