"""Rules for the end-to-end encryption keys a homeserver stores but never uses itself
(client-server API, "End-to-End Encryption"): the shape of device and cross-signing
keys, their signatures ("Signing JSON"), and which of two backed-up room keys to keep
("Server-side key backups").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from signedjson.key import decode_verify_key_bytes
from signedjson.sign import SignatureVerifyException, verify_signed_json
from unpaddedbase64 import decode_base64

from .errors import ProtocolError, SignatureError

ED25519 = "ed25519"
MASTER = "master"
SELF_SIGNING = "self_signing"
USER_SIGNING = "user_signing"
CROSS_SIGNING_USAGES = (MASTER, SELF_SIGNING, USER_SIGNING)


class InvalidKey(ProtocolError):
    """A device or cross-signing key object is malformed or names the wrong owner."""


def verify_key_signature(
    signed: Mapping[str, Any], signer: str, key_id: str, public_key: str
) -> None:
    """Raise `SignatureError` unless `signer` signed `signed` with the ed25519 key
    `key_id` (`ed25519:<id>`) whose public half is `public_key` (unpadded base64).
    `signatures` and `unsigned` are not covered, as "Signing JSON" says."""
    algorithm, _, version = key_id.partition(":")
    if algorithm != ED25519 or not version:
        raise SignatureError(f"{key_id} is not an ed25519 key ID")
    try:
        verify_key = decode_verify_key_bytes(key_id, decode_base64(public_key))
    except ValueError as e:  # bad base64 or a key of the wrong length
        raise SignatureError(f"{key_id} is not a valid ed25519 public key") from e
    if key_id not in signed.get("signatures", {}).get(signer, {}):
        raise SignatureError(f"missing signature by {signer} with {key_id}")
    try:
        verify_signed_json(dict(signed), signer, verify_key)
    except (SignatureVerifyException, ValueError, TypeError) as e:
        raise SignatureError(f"invalid signature by {signer} with {key_id}") from e


class MalformedKey(InvalidKey):
    """A key object lacks a required field, or has one of the wrong type (as opposed
    to a well-formed key with a wrong value, such as another user's ID)."""


def _require(condition: bool, message: str, error: type[InvalidKey] = InvalidKey) -> None:
    if not condition:
        raise error(message)


def check_device_keys(keys: Mapping[str, Any], user_id: str, device_id: str) -> None:
    """Check a device's identity keys (`DeviceKeys`) as its owner uploads them: every
    required field is there with its type (`MalformedKey`), and they name this user
    and device (`InvalidKey`), which the spec requires ("Must match the user ID used
    when logging in"). The self-signature is not verified: the spec does not ask the
    server to, and every client verifies it before trusting the keys (docs/E2EE.md)."""
    for field in ("user_id", "device_id"):
        _require(
            isinstance(keys.get(field), str), f"device_keys.{field} must be a string",
            MalformedKey,
        )
    algorithms = keys.get("algorithms")
    _require(
        isinstance(algorithms, list) and all(isinstance(a, str) for a in algorithms),
        "device_keys.algorithms must be a list of strings", MalformedKey,
    )
    key_map = keys.get("keys")
    _require(
        isinstance(key_map, dict) and all(isinstance(v, str) for v in key_map.values()),
        "device_keys.keys must map key IDs to strings", MalformedKey,
    )
    _require("signatures" in keys, "device_keys.signatures is required", MalformedKey)
    _check_signatures_shape(keys, "device_keys")
    _require(keys["user_id"] == user_id, f"device_keys.user_id must be {user_id}")
    _require(keys["device_id"] == device_id, f"device_keys.device_id must be {device_id}")


def check_cross_signing_key(key: Mapping[str, Any], user_id: str, usage: str) -> str:
    """Check a cross-signing key (`CrossSigningKey`) of `user_id` meant for `usage`:
    exactly one ed25519 key, named by its own public key. Returns the public key.
    (Signatures by the master key are checked by the caller, who knows that key.)"""
    where = f"{usage}_key"
    usages = key.get("usage")
    key_map = key.get("keys")
    _require(
        isinstance(key.get("user_id"), str), f"{where}.user_id must be a string", MalformedKey
    )
    _require(
        isinstance(usages, list) and all(isinstance(u, str) for u in usages),
        f"{where}.usage must be a list of strings", MalformedKey,
    )
    _require(
        isinstance(key_map, dict) and all(isinstance(v, str) for v in key_map.values()),
        f"{where}.keys must map a key ID to a string", MalformedKey,
    )
    _require(key["user_id"] == user_id, f"{where}.user_id must be {user_id}")
    _require(usage in usages, f"{where}.usage must include {usage!r}")
    _require(len(key_map) == 1, f"{where}.keys must hold one key")
    ((key_id, public_key),) = key_map.items()
    _require(
        key_id == f"{ED25519}:{public_key}",
        f"{where}.keys must be {{'ed25519:<public key>': '<public key>'}}",
    )
    _check_signatures_shape(key, where)
    return public_key


def _check_signatures_shape(obj: Mapping[str, Any], where: str) -> None:
    signatures = obj.get("signatures", {})
    _require(
        isinstance(signatures, dict)
        and all(
            isinstance(by_key, dict) and all(isinstance(s, str) for s in by_key.values())
            for by_key in signatures.values()
        ),
        f"{where}.signatures must map user IDs to key IDs to signatures",
        MalformedKey,
    )


def signed_content(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What a signature covers: the object without `signatures` and `unsigned`. Two
    uploads of the same key compare equal on this."""
    return {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}


def backup_key_replaces(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """Whether a room key uploaded to a backup replaces the one already there: a
    verified key beats an unverified one, then the lower `first_message_index` wins,
    then the lower `forwarded_count` ("Server-side key backups")."""
    if new["is_verified"] != old["is_verified"]:
        return bool(new["is_verified"])
    if new["first_message_index"] != old["first_message_index"]:
        return bool(new["first_message_index"] < old["first_message_index"])
    return bool(new["forwarded_count"] < old["forwarded_count"])
