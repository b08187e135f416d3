"""Real end-to-end encryption key material for the E2EE tests, made with vodozemac
(the Olm/Megolm implementation clients use), signed as "Signing JSON" says."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import vodozemac
from canonicaljson import encode_canonical_json

from .room_helpers import User, ok

ALGORITHMS = ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"]


def sign(obj: dict[str, Any], signer: vodozemac.Account, user_id: str, key_id: str) -> dict:
    """A copy of `obj` with `user_id`'s signature by `signer` under `key_id` added."""
    unsigned_part = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
    signature = signer.sign(encode_canonical_json(unsigned_part)).to_base64()
    signed = copy.deepcopy(obj)
    signed.setdefault("signatures", {}).setdefault(user_id, {})[key_id] = signature
    return signed


@dataclass
class Device:
    """A client device: an Olm account whose keys it uploads."""

    user: User
    account: vodozemac.Account = field(default_factory=vodozemac.Account)

    @property
    def ed25519(self) -> str:
        return str(self.account.ed25519_key.to_base64())

    @property
    def curve25519(self) -> str:
        return str(self.account.curve25519_key.to_base64())

    def device_keys(self) -> dict[str, Any]:
        device_id = self.user.device_id
        keys = {
            "user_id": self.user.user_id,
            "device_id": device_id,
            "algorithms": ALGORITHMS,
            "keys": {
                f"curve25519:{device_id}": self.curve25519,
                f"ed25519:{device_id}": self.ed25519,
            },
        }
        return sign(keys, self.account, self.user.user_id, f"ed25519:{device_id}")

    def one_time_keys(self, count: int) -> dict[str, Any]:
        self.account.generate_one_time_keys(count)
        keys = self._signed(self.account.one_time_keys)
        self.account.mark_keys_as_published()
        return keys

    def fallback_key(self) -> dict[str, Any]:
        self.account.generate_fallback_key()
        keys = self._signed(self.account.fallback_key, fallback=True)
        self.account.mark_keys_as_published()
        return keys

    def _signed(self, keys: dict[str, Any], **extra: Any) -> dict[str, Any]:
        key_id = f"ed25519:{self.user.device_id}"
        return {
            f"signed_curve25519:{kid}": sign(
                {"key": key.to_base64(), **extra}, self.account, self.user.user_id, key_id
            )
            for kid, key in keys.items()
        }

    async def upload(self, client: Any, **body: Any) -> dict[str, Any]:
        return await ok(client, "POST", "/keys/upload", self.user, body)  # type: ignore[no-any-return]


@dataclass
class CrossSigning:
    """A user's master, self-signing and user-signing keys (ed25519 pairs)."""

    user: User
    master: vodozemac.Account = field(default_factory=vodozemac.Account)
    self_signing: vodozemac.Account = field(default_factory=vodozemac.Account)
    user_signing: vodozemac.Account = field(default_factory=vodozemac.Account)

    @staticmethod
    def public(account: vodozemac.Account) -> str:
        return str(account.ed25519_key.to_base64())

    def key_id(self, account: vodozemac.Account) -> str:
        return f"ed25519:{self.public(account)}"

    def _key(self, account: vodozemac.Account, usage: str) -> dict[str, Any]:
        key = {
            "user_id": self.user.user_id,
            "usage": [usage],
            "keys": {self.key_id(account): self.public(account)},
        }
        if usage == "master":
            return key
        return sign(key, self.master, self.user.user_id, self.key_id(self.master))

    def master_key(self) -> dict[str, Any]:
        return self._key(self.master, "master")

    def self_signing_key(self) -> dict[str, Any]:
        return self._key(self.self_signing, "self_signing")

    def user_signing_key(self) -> dict[str, Any]:
        return self._key(self.user_signing, "user_signing")

    def upload_body(self) -> dict[str, Any]:
        return {
            "master_key": self.master_key(),
            "self_signing_key": self.self_signing_key(),
            "user_signing_key": self.user_signing_key(),
        }

    def sign_device(self, device_keys: dict[str, Any]) -> dict[str, Any]:
        return sign(
            device_keys, self.self_signing, self.user.user_id, self.key_id(self.self_signing)
        )

    def sign_user(self, master_key: dict[str, Any]) -> dict[str, Any]:
        return sign(
            master_key, self.user_signing, self.user.user_id, self.key_id(self.user_signing)
        )


def password_auth(user: User, session: str | None = None) -> dict[str, Any]:
    auth = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user.user_id},
        "password": "password",
    }
    if session is not None:
        auth["session"] = session
    return auth
