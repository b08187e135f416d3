"""Synapse-compatible shared-secret registration (/_synapse/admin/v1/register), which
`register_new_matrix_user` and many deployment tools use.

The client fetches a nonce, then sends HMAC-SHA1(secret, nonce NUL user NUL password
NUL "admin"|"notadmin") with the account it wants. Nonces are single-use and live
for a minute, in memory: a restart only forces clients to fetch a new one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from ranvier.clock import Clock
from ranvier.errors import MatrixError

NONCE_LIFETIME_MS = 60_000


class SharedSecretRegistration:
    def __init__(self, secret: str | None, clock: Clock) -> None:
        self._secret = secret
        self._clock = clock
        self._nonces: dict[str, int] = {}

    def _require_secret(self) -> str:
        if not self._secret:
            raise MatrixError(400, "M_UNKNOWN", "Shared secret registration is not enabled")
        return self._secret

    def new_nonce(self) -> str:
        self._require_secret()
        now = self._clock.time_ms()
        self._nonces = {n: t for n, t in self._nonces.items() if t + NONCE_LIFETIME_MS > now}
        nonce = secrets.token_hex(32)
        self._nonces[nonce] = now
        return nonce

    def check(self, nonce: str, user: str, password: str, admin: bool, mac: str) -> None:
        """Consume the nonce and check the MAC (M_UNKNOWN / M_FORBIDDEN)."""
        secret = self._require_secret()
        issued = self._nonces.pop(nonce, None)
        if issued is None or issued + NONCE_LIFETIME_MS <= self._clock.time_ms():
            raise MatrixError(400, "M_UNKNOWN", "Unrecognised nonce")
        message = b"\x00".join(
            [nonce.encode(), user.encode(), password.encode(),
             b"admin" if admin else b"notadmin"]
        )
        expected = hmac.new(secret.encode(), message, hashlib.sha1).hexdigest()
        if not hmac.compare_digest(expected, mac):
            raise MatrixError(403, "M_FORBIDDEN", "HMAC incorrect")
