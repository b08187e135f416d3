"""The pure E2EE key rules: JSON signatures by ed25519 keys, device and cross-signing
key shapes, and which backed-up room key wins (spec: "End-to-End Encryption")."""

from __future__ import annotations

from typing import Any

import pytest
from signedjson.key import generate_signing_key, get_verify_key
from signedjson.sign import sign_json
from unpaddedbase64 import encode_base64

from ranvier.protocol.e2e_keys import (
    InvalidKey,
    backup_key_replaces,
    check_cross_signing_key,
    check_device_keys,
    signed_content,
    verify_key_signature,
)
from ranvier.protocol.errors import SignatureError

USER = "@alice:example.org"


def key_pair(version: str) -> tuple[Any, str]:
    signing_key = generate_signing_key(version)
    return signing_key, encode_base64(get_verify_key(signing_key).encode())


def device_keys(device_id: str = "DEV") -> tuple[dict[str, Any], str]:
    signing_key, public = key_pair(device_id)
    keys = {
        "user_id": USER, "device_id": device_id,
        "algorithms": ["m.olm.v1.curve25519-aes-sha2"],
        "keys": {f"ed25519:{device_id}": public, f"curve25519:{device_id}": "curve"},
        "unsigned": {"device_display_name": "not covered"},
    }
    return sign_json(keys, USER, signing_key), public


def test_valid_device_keys_pass_and_return_the_ed25519_key() -> None:
    keys, public = device_keys()
    assert check_device_keys(keys, USER, "DEV") == public


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"user_id": "@mallory:example.org"}, InvalidKey),
        ({"device_id": "OTHER"}, InvalidKey),
        ({"algorithms": "m.olm"}, InvalidKey),
        ({"keys": {"curve25519:DEV": "c"}}, InvalidKey),
        ({"signatures": {USER: {"ed25519:DEV": 5}}}, InvalidKey),
        ({"signatures": {}}, SignatureError),
        ({"algorithms": ["m.changed.after.signing"]}, SignatureError),
    ],
)
def test_broken_device_keys_are_refused(change: dict[str, Any], error: type) -> None:
    keys, _ = device_keys()
    with pytest.raises(error):
        check_device_keys({**keys, **change}, USER, "DEV")


def test_unsigned_section_is_not_covered_by_the_signature() -> None:
    keys, public = device_keys()
    keys["unsigned"] = {"device_display_name": "renamed"}
    verify_key_signature(keys, USER, "ed25519:DEV", public)


@pytest.mark.parametrize(
    ("key_id", "public_key"),
    [("curve25519:DEV", None), ("ed25519:", None), ("ed25519:DEV", "AAAA"),
     ("ed25519:DEV", "not base64!")],
)
def test_signature_check_refuses_unusable_keys(key_id: str, public_key: str | None) -> None:
    keys, public = device_keys()
    with pytest.raises(SignatureError):
        verify_key_signature(keys, USER, key_id, public_key or public)


def test_signature_by_another_key_does_not_verify() -> None:
    keys, _ = device_keys()
    _, other_public = key_pair("DEV")
    with pytest.raises(SignatureError):
        verify_key_signature(keys, USER, "ed25519:DEV", other_public)


def cross_signing_key(usage: str, public: str = "pub") -> dict[str, Any]:
    return {"user_id": USER, "usage": [usage], "keys": {f"ed25519:{public}": public}}


def test_cross_signing_key_returns_its_public_key() -> None:
    assert check_cross_signing_key(cross_signing_key("master"), USER, "master") == "pub"


@pytest.mark.parametrize(
    "key",
    [
        {**cross_signing_key("master"), "user_id": "@bob:example.org"},
        cross_signing_key("self_signing"),
        {**cross_signing_key("master"), "keys": {}},
        {**cross_signing_key("master"), "keys": {"ed25519:a": "a", "ed25519:b": "b"}},
        {**cross_signing_key("master"), "keys": {"ed25519:other": "pub"}},
        {**cross_signing_key("master"), "signatures": []},
    ],
)
def test_malformed_cross_signing_keys_are_refused(key: dict[str, Any]) -> None:
    with pytest.raises(InvalidKey):
        check_cross_signing_key(key, USER, "master")


def test_signed_content_ignores_signatures_and_unsigned() -> None:
    assert signed_content({"a": 1, "signatures": {}, "unsigned": {}}) == {"a": 1}


def backup(verified: bool = False, index: int = 0, forwarded: int = 0) -> dict[str, Any]:
    return {"is_verified": verified, "first_message_index": index, "forwarded_count": forwarded}


@pytest.mark.parametrize(
    ("new", "old", "replaces"),
    [
        (backup(verified=True, index=9, forwarded=9), backup(), True),
        (backup(), backup(verified=True), False),
        (backup(index=1, forwarded=9), backup(index=2), True),
        (backup(index=2), backup(index=1, forwarded=9), False),
        (backup(forwarded=1), backup(forwarded=2), True),
        (backup(forwarded=2), backup(forwarded=1), False),
        (backup(), backup(), False),
    ],
)
def test_backup_replacement_prefers_verified_then_index_then_forwards(
    new: dict[str, Any], old: dict[str, Any], replaces: bool
) -> None:
    assert backup_key_replaces(new, old) is replaces
