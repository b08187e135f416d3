"""Registration tokens (spec: m.login.registration_token), managed through Synapse's
admin API shape."""

from __future__ import annotations

import re
import secrets
import string

from ranvier.clock import Clock
from ranvier.errors import MatrixError
from ranvier.storage.accounts import AccountsStore, RegistrationToken

# registration_tokens.yaml / Synapse: up to 64 characters of [A-Za-z0-9._~-].
_TOKEN_RE = re.compile(r"[A-Za-z0-9._~-]{1,64}")
_ALPHABET = string.ascii_letters + string.digits + "._~-"


class RegistrationTokensService:
    def __init__(self, accounts: AccountsStore, clock: Clock) -> None:
        self._accounts = accounts
        self._clock = clock

    async def is_valid(self, token: str) -> bool:
        record = await self._accounts.get_registration_token(token)
        return record is not None and record.is_valid(self._clock.time_ms())

    async def list(self, valid: bool | None = None) -> list[RegistrationToken]:
        now = self._clock.time_ms()
        tokens = await self._accounts.list_registration_tokens()
        return [t for t in tokens if valid is None or t.is_valid(now) == valid]

    async def get(self, token: str) -> RegistrationToken:
        record = await self._accounts.get_registration_token(token)
        if record is None:
            raise MatrixError(404, "M_NOT_FOUND", f"No such registration token: {token}")
        return record

    async def create(
        self,
        token: str | None,
        length: int,
        uses_allowed: int | None,
        expiry_time: int | None,
    ) -> RegistrationToken:
        if token is not None and not _TOKEN_RE.fullmatch(token):
            raise MatrixError(
                400, "M_INVALID_PARAM",
                "token must be 1-64 characters from A-Z, a-z, 0-9, '.', '_', '~', '-'",
            )
        if not 0 < length <= 64:
            raise MatrixError(400, "M_INVALID_PARAM", "length must be between 1 and 64")
        self._check_limits(uses_allowed, expiry_time)
        for _ in range(3 if token is None else 1):
            chosen = token or "".join(secrets.choice(_ALPHABET) for _ in range(length))
            if await self._accounts.create_registration_token(chosen, uses_allowed, expiry_time):
                return await self.get(chosen)
        raise MatrixError(400, "M_INVALID_PARAM", "Token already exists")

    async def update(self, token: str, changes: dict[str, int | None]) -> RegistrationToken:
        self._check_limits(changes.get("uses_allowed"), changes.get("expiry_time"))
        record = await self._accounts.update_registration_token(token, changes)
        if record is None:
            raise MatrixError(404, "M_NOT_FOUND", f"No such registration token: {token}")
        return record

    async def delete(self, token: str) -> None:
        if not await self._accounts.delete_registration_token(token):
            raise MatrixError(404, "M_NOT_FOUND", f"No such registration token: {token}")

    def _check_limits(self, uses_allowed: int | None, expiry_time: int | None) -> None:
        if uses_allowed is not None and uses_allowed < 0:
            raise MatrixError(400, "M_INVALID_PARAM", "uses_allowed must be a non-negative integer")
        if expiry_time is not None and expiry_time < self._clock.time_ms():
            raise MatrixError(400, "M_INVALID_PARAM", "expiry_time must not be in the past")
