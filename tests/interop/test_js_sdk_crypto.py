"""End-to-end encryption with matrix-js-sdk and its Rust crypto (matrix-sdk-crypto-wasm)
against a running Ranvier, driven by tests/interop/js/crypto_scenario.mjs: Megolm
messages between two users, cross-signing with password UIA, secret storage and key
backup, and a second device verified by emoji SAS that gets the backup key by secret
gossip and reads a message sent before it existed."""

from __future__ import annotations

import pytest

from tests.interop.conftest import RanvierProcess
from tests.interop.js_runner import run_js_scenario

pytestmark = pytest.mark.interop

ALL_STEPS = [
    "register alice and bob; Rust crypto uploads their device keys",
    "encrypted room: created with m.room.encryption, bob invited and joined",
    "megolm messages both ways, each decrypted by the other",
    "alice bootstraps cross-signing; bob sees her master key",
    "alice bootstraps secret storage with a recovery key and a new key backup",
    "alice's room keys are uploaded to the backup, encrypted",
    "alice's second device logs in and cannot read the earlier message",
    "the two devices verify each other with emoji SAS",
    "the second device receives the backup key by secret gossip",
    "the second device restores the backup and reads the earlier message",
    "bob decrypts a message from alice's second device",
    "replacing alice's cross-signing keys demands her password (UIA)",
]


def test_js_sdk_rust_crypto_devices_share_keys_backup_and_verification(
    ranvier_server: RanvierProcess,
) -> None:
    report = run_js_scenario(ranvier_server, "crypto_scenario.mjs")
    assert report["steps"] == ALL_STEPS
    summary = report["summary"]
    # Both of alice's sessions (hers, and bob's she received) reached the backup.
    assert summary["backed_up_sessions"] >= 2
    # Before the restore the new device had no key: the client blamed the missing backup.
    assert summary["before_restore"] == "HISTORICAL_MESSAGE_BACKUP_UNCONFIGURED"
    # Seven emojis, equal on both devices (the scenario compares them before confirming).
    assert len(summary["emojis"]) == 7
    assert summary["backup_key_source"] == "secret gossip"
    assert summary["restored"]["imported"] >= 2
    assert summary["uia_stages"] == ["m.login.password"]
