"""Accounts: registration, login and sessions, passwords, deactivation."""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from typing import Any

from ranvier.clock import Clock
from ranvier.config import Config
from ranvier.errors import MatrixError
from ranvier.services.auth import AuthService
from ranvier.services.devices import DevicesService
from ranvier.services.identifiers import find_account, user_id_from_identifier
from ranvier.services.passwords import PasswordHasher
from ranvier.storage.accounts import AccountsStore
from ranvier.storage.profiles import ProfileStore

# appendices.md "User Identifiers": the characters a new localpart may use.
_LOCALPART_RE = re.compile(r"[a-z0-9._=\-/+]+")
_MAX_USER_ID_BYTES = 255
LOGIN_TOKEN_LIFETIME_MS = 120_000


@dataclass(frozen=True)
class Session:
    """What login, registration and refresh hand back to the client."""

    user_id: str
    device_id: str
    access_token: str
    refresh_token: str | None
    expires_in_ms: int | None

    def to_json(self, server_name: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "user_id": self.user_id,
            "access_token": self.access_token,
            "device_id": self.device_id,
            "home_server": server_name,  # deprecated, still read by older clients
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        if self.expires_in_ms is not None:
            body["expires_in_ms"] = self.expires_in_ms
        return body


def _random_device_id() -> str:
    return "".join(secrets.choice(string.ascii_uppercase) for _ in range(10))


class AccountsService:
    def __init__(
        self,
        config: Config,
        clock: Clock,
        accounts: AccountsStore,
        devices: DevicesService,
        auth: AuthService,
        passwords: PasswordHasher,
        profiles: ProfileStore,
    ) -> None:
        self._config = config
        self._clock = clock
        self._accounts = accounts
        self._devices = devices
        self._auth = auth
        self._passwords = passwords
        self._profiles = profiles

    # --- registration ---

    def user_id_for(self, localpart: str) -> str:
        return f"@{localpart}:{self._config.server_name}"

    async def check_username(self, localpart: str) -> str:
        """The user ID for a wanted localpart, if valid and free (M_INVALID_USERNAME,
        M_USER_IN_USE)."""
        if not _LOCALPART_RE.fullmatch(localpart):
            raise MatrixError(
                400, "M_INVALID_USERNAME",
                "User ID can only contain characters a-z, 0-9, or '=_-./+'",
            )
        if localpart.startswith("_"):
            raise MatrixError(400, "M_INVALID_USERNAME", "User ID may not begin with '_'")
        if localpart.isdigit():
            raise MatrixError(
                400, "M_INVALID_USERNAME", "Numeric user IDs are reserved for guest users"
            )
        user_id = self.user_id_for(localpart)
        if len(user_id.encode()) > _MAX_USER_ID_BYTES:
            raise MatrixError(400, "M_INVALID_USERNAME", "User ID is longer than 255 bytes")
        if await self._accounts.find_user_ids_case_insensitive(user_id):
            raise MatrixError(400, "M_USER_IN_USE", "User ID already taken")
        return user_id

    async def register(
        self,
        localpart: str | None,
        password: str | None,
        *,
        is_guest: bool = False,
        is_admin: bool = False,
        password_hash: str | None = None,
    ) -> str:
        """Create an account; returns its user ID. Without a localpart one is chosen
        (numeric for guests, which is why numeric names are reserved). The password
        may come already hashed (`hash_password`), e.g. remembered by a UIA session."""
        if password:
            password_hash = await self.hash_password(password)
        now = self._clock.time_ms()
        for _ in range(10):
            if localpart is not None:
                user_id = await self.check_username(localpart)
            elif is_guest:
                user_id = self.user_id_for(str(secrets.randbelow(10**12)))
            else:
                user_id = self.user_id_for(
                    "u" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(11))
                )
            if await self._accounts.create_user(
                user_id, password_hash, now, is_admin=is_admin, is_guest=is_guest
            ):
                # A new account's display name is its localpart (what member events
                # carry until the user sets one), as Synapse does.
                await self._profiles.create_profile(user_id, user_id[1:].split(":", 1)[0])
                return user_id
            if localpart is not None:  # lost a race for the same name
                raise MatrixError(400, "M_USER_IN_USE", "User ID already taken")
        raise MatrixError(500, "M_UNKNOWN", "Could not allocate a user ID")

    async def guest_to_upgrade(self, guest_access_token: str, localpart: str | None) -> str:
        """The guest a registration upgrades (modules/guest_access.md): the request
        carries the guest's access token and the guest's own localpart as `username`."""
        requester = await self._auth.get_requester(guest_access_token)
        if not requester.is_guest:
            raise MatrixError(403, "M_FORBIDDEN", "guest_access_token is not a guest's")
        if localpart is None or self.user_id_for(localpart) != requester.user_id:
            raise MatrixError(
                403, "M_FORBIDDEN", "username must be the localpart of the guest upgraded"
            )
        return requester.user_id

    async def upgrade_guest(
        self, guest_access_token: str, localpart: str | None, password_hash: str | None
    ) -> str:
        """Make a guest a full user, keeping its ID, rooms and devices."""
        user_id = await self.guest_to_upgrade(guest_access_token, localpart)
        await self._accounts.upgrade_guest(user_id, password_hash)
        # The cached requester of the guest's token still says "guest".
        self._auth.forget_tokens([guest_access_token])
        return user_id

    async def hash_password(self, password: str) -> str:
        if len(password) > 512:
            raise MatrixError(400, "M_BAD_JSON", "Password too long")
        return await self._passwords.hash(password)

    async def is_admin(self, user_id: str) -> bool:
        user = await self._accounts.get_user(user_id)
        return user is not None and user.is_admin

    async def complete_registration_token(self, token: str) -> None:
        await self._accounts.complete_registration_token(token)

    # --- sessions ---

    async def create_session(
        self,
        user_id: str,
        device_id: str | None,
        display_name: str | None,
        *,
        refreshable: bool = False,
    ) -> Session:
        """Log a device in: create it if new, issue an access (and refresh) token."""
        device_id = device_id or _random_device_id()
        await self._devices.ensure_device(user_id, device_id, display_name)
        return await self._issue_tokens(user_id, device_id, refreshable)

    async def _issue_tokens(self, user_id: str, device_id: str, refreshable: bool) -> Session:
        now = self._clock.time_ms()
        access_token = "rvt_" + secrets.token_urlsafe(32)
        lifetime = self._config.refreshable_access_token_lifetime_ms if refreshable else None
        refresh_token = "rvr_" + secrets.token_urlsafe(32) if refreshable else None
        if refresh_token is not None:
            refresh_lifetime = self._config.refresh_token_lifetime_ms
            await self._accounts.add_refresh_token(
                refresh_token, user_id, device_id, now,
                None if refresh_lifetime is None else now + refresh_lifetime,
            )
        await self._accounts.add_access_token(
            access_token, user_id, device_id, now,
            valid_until_ms=None if lifetime is None else now + lifetime,
            refresh_token=refresh_token,
        )
        return Session(user_id, device_id, access_token, refresh_token, lifetime)

    async def refresh(self, refresh_token: str) -> Session:
        """Trade a refresh token for a new access and refresh token; the old pair stops
        working."""
        taken = await self._accounts.take_refresh_token(refresh_token)
        if taken is None:
            raise MatrixError(401, "M_UNKNOWN_TOKEN", "Unknown refresh token", soft_logout=False)
        record, retired = taken
        self._auth.forget_tokens(retired)
        if record.expiry_ts is not None and record.expiry_ts <= self._clock.time_ms():
            raise MatrixError(401, "M_UNKNOWN_TOKEN", "Refresh token has expired",
                              soft_logout=False)
        return await self._issue_tokens(record.user_id, record.device_id, refreshable=True)

    async def login_with_password(self, body: dict[str, Any]) -> str:
        """The user ID a password login proves (M_FORBIDDEN otherwise)."""
        password = body.get("password")
        if not isinstance(password, str):
            raise MatrixError(400, "M_MISSING_PARAM", "Missing 'password'")
        wanted = user_id_from_identifier(body, self._config.server_name)
        user_id = await find_account(self._accounts, wanted)
        user = await self._accounts.get_user(user_id) if user_id else None
        ok = await self._passwords.verify(user.password_hash if user else None, password)
        if not ok or user is None:
            raise MatrixError(403, "M_FORBIDDEN", "Invalid username or password")
        if user.deactivated:
            raise MatrixError(403, "M_USER_DEACTIVATED", "This account has been deactivated")
        return user.user_id

    async def login_with_token(self, token: Any) -> str:
        if not isinstance(token, str):
            raise MatrixError(400, "M_MISSING_PARAM", "Missing 'token'")
        user_id = await self._accounts.take_login_token(token, self._clock.time_ms())
        if user_id is None:
            raise MatrixError(403, "M_FORBIDDEN", "Invalid or expired login token")
        return user_id

    async def create_login_token(self, user_id: str) -> tuple[str, int]:
        token = "rvl_" + secrets.token_urlsafe(32)
        await self._accounts.add_login_token(
            token, user_id, self._clock.time_ms() + LOGIN_TOKEN_LIFETIME_MS
        )
        return token, LOGIN_TOKEN_LIFETIME_MS

    async def logout(self, user_id: str, device_id: str | None, token: str) -> None:
        """End this session: its device goes too (spec: POST /logout)."""
        if device_id is None:
            await self._accounts.delete_access_token(token)
            self._auth.forget_tokens([token])
        else:
            await self._devices.delete_devices(user_id, [device_id])

    async def logout_all(self, user_id: str) -> None:
        await self._devices.delete_devices(user_id)

    # --- passwords and deactivation ---

    async def change_password(
        self, user_id: str, new_password: str, *, logout_devices: bool, keep_device: str | None
    ) -> None:
        if len(new_password) > 512:
            raise MatrixError(400, "M_BAD_JSON", "Password too long")
        await self._accounts.set_password_hash(user_id, await self._passwords.hash(new_password))
        if logout_devices:
            devices = await self._devices.get_devices(user_id)
            others = [d.device_id for d in devices if d.device_id != keep_device]
            await self._devices.delete_devices(user_id, others)

    async def deactivate(self, user_id: str) -> None:
        await self._accounts.deactivate(user_id)
        await self._devices.delete_devices(user_id)
