"""OpenID tokens: short-lived proofs of a user's identity for third parties."""

from __future__ import annotations

from ranvier.storage.database import Database


class OpenIdStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_token(self, token: str, user_id: str, expires_ts: int, now: int) -> None:
        """Store a new token, dropping the expired ones while at it."""
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM openid_tokens WHERE expires_ts <= ?", now)
            await conn.execute(
                "INSERT INTO openid_tokens (token, user_id, expires_ts) VALUES (?, ?, ?)",
                token, user_id, expires_ts,
            )

    async def get_user(self, token: str, now: int) -> str | None:
        """The user a token was issued to, while it is valid."""
        return await self._db.fetchval(  # type: ignore[no-any-return]
            "SELECT user_id FROM openid_tokens WHERE token = ? AND expires_ts > ?", token, now
        )
