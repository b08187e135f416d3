"""Ranvier agrees with a real Synapse on event IDs, hashes, redactions and signatures.

The vectors come from tests/vectors/make_synapse_vectors.py, run against Synapse.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from signedjson.key import decode_verify_key_base64
from unpaddedbase64 import encode_base64

from ranvier.protocol.canonical_json import parse_json
from ranvier.protocol.event_validation import validate_pdu
from ranvier.protocol.events import Event
from ranvier.protocol.hashing import (
    check_content_hash,
    compute_content_hash,
    compute_reference_hash,
)
from ranvier.protocol.redaction import redact
from ranvier.protocol.room_versions import KNOWN_ROOM_VERSIONS
from ranvier.protocol.signing import verify_event_signature

VECTORS = parse_json((Path(__file__).parents[1] / "vectors" / "synapse_events.json").read_bytes())
CASES = [
    pytest.param(version, case, id=f"v{version}-{case['name']}")
    for version, cases in VECTORS["room_versions"].items()
    for case in cases
]


def test_vectors_cover_every_room_version() -> None:
    assert set(VECTORS["room_versions"]) == set(KNOWN_ROOM_VERSIONS)


@pytest.mark.parametrize(("version", "case"), CASES)
def test_event_id_matches_synapse(version: str, case: dict[str, Any]) -> None:
    assert Event(case["pdu"], KNOWN_ROOM_VERSIONS[version]).event_id == case["event_id"]


@pytest.mark.parametrize(("version", "case"), CASES)
def test_content_hash_matches_synapse(version: str, case: dict[str, Any]) -> None:
    assert encode_base64(compute_content_hash(case["pdu"])) == case["content_hash"]
    check_content_hash(case["pdu"])


@pytest.mark.parametrize(("version", "case"), CASES)
def test_reference_hash_matches_synapse(version: str, case: dict[str, Any]) -> None:
    reference_hash = compute_reference_hash(case["pdu"], KNOWN_ROOM_VERSIONS[version])
    assert encode_base64(reference_hash) == case["reference_hash"]


@pytest.mark.parametrize(("version", "case"), CASES)
def test_redaction_matches_synapse(version: str, case: dict[str, Any]) -> None:
    assert redact(case["pdu"], KNOWN_ROOM_VERSIONS[version]) == case["redacted"]


@pytest.mark.parametrize(("version", "case"), CASES)
def test_synapse_signature_verifies(version: str, case: dict[str, Any]) -> None:
    key_id = VECTORS["key_id"]
    verify_key = decode_verify_key_base64(
        key_id.split(":")[0], key_id.split(":")[1], VECTORS["verify_key"]
    )
    room_version = KNOWN_ROOM_VERSIONS[version]
    verify_event_signature(case["pdu"], room_version, VECTORS["server_name"], verify_key)
    # The signature covers the redacted form, so it survives redaction.
    verify_event_signature(case["redacted"], room_version, VECTORS["server_name"], verify_key)


@pytest.mark.parametrize(("version", "case"), CASES)
def test_synapse_event_passes_format_validation(version: str, case: dict[str, Any]) -> None:
    validate_pdu(case["pdu"], KNOWN_ROOM_VERSIONS[version])
