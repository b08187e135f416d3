"""TURN credentials for VoIP calls (client-server API "Voice over IP", voip.yaml).

With a shared secret, credentials follow the TURN REST API convention that coturn and
others implement: the username is `<expiry unix seconds>:<user ID>` and the password
is base64(HMAC-SHA1(secret, username)), so the TURN server can check them without
asking us. Otherwise the configured fixed username and password are handed out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from ranvier.clock import Clock
from ranvier.config import VoipConfig
from ranvier.errors import MatrixError


class VoipService:
    def __init__(self, config: VoipConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock

    def turn_server(self, user_id: str, is_guest: bool) -> dict[str, Any]:
        """The credentials for `user_id`; `{}` when no TURN server is configured."""
        config = self._config
        if is_guest and not config.turn_allow_guests:
            raise MatrixError(403, "M_GUEST_ACCESS_FORBIDDEN", "Guests may not use TURN")
        if not config.turn_uris:
            return {}
        if config.turn_shared_secret:
            expiry = (self._clock.time_ms() + config.turn_user_lifetime_ms) // 1000
            username = f"{expiry}:{user_id}"
            mac = hmac.new(config.turn_shared_secret.encode(), username.encode(), hashlib.sha1)
            password = base64.b64encode(mac.digest()).decode()
        elif config.turn_username and config.turn_password:
            username, password = config.turn_username, config.turn_password
        else:
            return {}
        return {
            "username": username,
            "password": password,
            "uris": list(config.turn_uris),
            "ttl": config.turn_user_lifetime_ms // 1000,
        }
