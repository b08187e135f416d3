"""OpenID (client-server API "OpenID", server-server API "OpenID"): a user asks for a
token, gives it to a third party (an integration manager, a widget), and the third
party learns who the user is from /_matrix/federation/v1/openid/userinfo.

The token proves nothing else: it is not an access token and opens no other API.
"""

from __future__ import annotations

import secrets
from typing import Any

from ranvier.clock import Clock
from ranvier.errors import MatrixError
from ranvier.storage.openid import OpenIdStore

#: how long a token is valid (Synapse issues them for an hour too)
TOKEN_LIFETIME_MS = 3_600_000


class OpenIdService:
    def __init__(self, store: OpenIdStore, clock: Clock, server_name: str) -> None:
        self._store = store
        self._clock = clock
        self._server_name = server_name

    async def request_token(self, requester: str, user_id: str) -> dict[str, Any]:
        if requester != user_id:
            raise MatrixError(
                403, "M_FORBIDDEN", f"Cannot request an OpenID token for {user_id}"
            )
        token = secrets.token_urlsafe(32)
        now = self._clock.time_ms()
        await self._store.add_token(token, user_id, now + TOKEN_LIFETIME_MS, now)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "matrix_server_name": self._server_name,
            "expires_in": TOKEN_LIFETIME_MS // 1000,
        }

    async def userinfo(self, token: str) -> dict[str, str]:
        user_id = await self._store.get_user(token, self._clock.time_ms())
        if user_id is None:
            raise MatrixError(401, "M_UNKNOWN_TOKEN", "Unknown or expired OpenID token")
        return {"sub": user_id}
