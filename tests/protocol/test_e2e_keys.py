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
    MalformedKey,
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


def test_valid_device_keys_pass() -> None:
    keys, _ = device_keys()
    check_device_keys(keys, USER, "DEV")


@pytest.mark.parametrize(
    "change",
    [
        {"user_id": None},
        {"device_id": 5},
        {"algorithms": "m.olm"},
        {"algorithms": [1]},
        {"keys": ["ed25519:DEV"]},
        {"keys": {"ed25519:DEV": 5}},
        {"signatures": {USER: {"ed25519:DEV": 5}}},
        {"signatures": [USER]},
    ],
)
def test_malformed_device_keys_are_refused_as_malformed(change: dict[str, Any]) -> None:
    keys, _ = device_keys()
    with pytest.raises(MalformedKey):
        check_device_keys({**keys, **change}, USER, "DEV")


@pytest.mark.parametrize("missing", ["user_id", "device_id", "algorithms", "keys", "signatures"])
def test_device_keys_without_a_required_field_are_malformed(missing: str) -> None:
    keys, _ = device_keys()
    del keys[missing]
    with pytest.raises(MalformedKey):
        check_device_keys(keys, USER, "DEV")


@pytest.mark.parametrize("change", [{"user_id": "@mallory:example.org"}, {"device_id": "OTHER"}])
def test_device_keys_of_another_user_or_device_are_invalid_not_malformed(
    change: dict[str, Any],
) -> None:
    keys, _ = device_keys()
    with pytest.raises(InvalidKey) as refused:
        check_device_keys({**keys, **change}, USER, "DEV")
    assert not isinstance(refused.value, MalformedKey)


@pytest.mark.parametrize(
    "change",
    [
        {"signatures": {}},  # unsigned
        {"algorithms": ["m.changed.after.signing"]},  # the signature no longer verifies
        {"keys": {"ed25519:test": "not the device's key"}},  # no ed25519:<device_id>
    ],
)
def test_device_keys_are_not_checked_for_a_valid_self_signature(change: dict[str, Any]) -> None:
    # The spec does not ask the server to verify it; clients do (docs/E2EE.md).
    keys, _ = device_keys()
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


def test_missing_signature_does_not_verify() -> None:
    keys, public = device_keys()
    with pytest.raises(SignatureError):
        verify_key_signature({**keys, "signatures": {}}, USER, "ed25519:DEV", public)


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
    ],
)
def test_cross_signing_keys_with_wrong_values_are_invalid(key: dict[str, Any]) -> None:
    with pytest.raises(InvalidKey) as refused:
        check_cross_signing_key(key, USER, "master")
    assert not isinstance(refused.value, MalformedKey)


@pytest.mark.parametrize(
    "key",
    [
        {**cross_signing_key("master"), "user_id": 5},
        {**cross_signing_key("master"), "usage": "master"},
        {**cross_signing_key("master"), "keys": "pub"},
        {**cross_signing_key("master"), "keys": {"ed25519:pub": 5}},
        {**cross_signing_key("master"), "signatures": []},
        {"user_id": USER, "usage": ["master"]},
    ],
)
def test_malformed_cross_signing_keys_are_refused_as_malformed(key: dict[str, Any]) -> None:
    with pytest.raises(MalformedKey):
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
