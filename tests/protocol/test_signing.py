from __future__ import annotations

import copy
from typing import Any

import pytest
from signedjson.key import generate_signing_key, get_verify_key
from signedjson.sign import sign_json
from unpaddedbase64 import encode_base64

from ranvier.protocol.errors import SignatureError
from ranvier.protocol.events import Event
from ranvier.protocol.hashing import compute_content_hash
from ranvier.protocol.room_versions import KNOWN_ROOM_VERSIONS
from ranvier.protocol.signing import (
    MAX_KEY_VALIDITY_MS,
    effective_key_expiry,
    key_valid_for_event,
    required_signature_servers,
    sign_event,
    verify_event_signature,
)

from .spec_vectors import (
    MINIMAL_EVENT,
    MINIMAL_EVENT_HASH,
    MINIMAL_EVENT_SIGNATURE,
    REDACTABLE_EVENT,
    REDACTABLE_EVENT_HASH,
    REDACTABLE_EVENT_SIGNATURE,
    SERVER_NAME,
    SIGNING_KEY,
    VERIFY_KEY,
)

V1, V4, V5, V8, V12 = (KNOWN_ROOM_VERSIONS[v] for v in ("1", "4", "5", "8", "12"))


@pytest.mark.parametrize(
    ("obj", "signature"),
    [  # appendices.md "JSON Signing": checks our copy of the spec's test key.
        (
            {},
            "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ",
        ),
        (
            {"one": 1, "two": "Two"},
            "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw",
        ),
    ],
)
def test_spec_test_key_reproduces_the_json_signing_examples(obj: dict, signature: str) -> None:
    signed = sign_json(dict(obj), SERVER_NAME, SIGNING_KEY)
    assert signed["signatures"] == {SERVER_NAME: {"ed25519:1": signature}}


@pytest.mark.parametrize(
    ("event", "content_hash", "signature"),
    [  # appendices.md "Event Signing"; the examples keep `origin`, so v1 redaction rules.
        (MINIMAL_EVENT, MINIMAL_EVENT_HASH, MINIMAL_EVENT_SIGNATURE),
        (REDACTABLE_EVENT, REDACTABLE_EVENT_HASH, REDACTABLE_EVENT_SIGNATURE),
    ],
)
def test_sign_event_reproduces_the_spec_event_signing_examples(
    event: dict, content_hash: str, signature: str
) -> None:
    hashed = dict(event, hashes={"sha256": encode_base64(compute_content_hash(event))})
    signed = sign_event(hashed, V1, SERVER_NAME, SIGNING_KEY)
    assert signed["hashes"] == {"sha256": content_hash}
    assert signed["signatures"] == {SERVER_NAME: {"ed25519:1": signature}}
    assert signed["unsigned"] == event["unsigned"]
    verify_event_signature(signed, V1, SERVER_NAME, VERIFY_KEY)


def _signed_event(room_version: Any = V4, **changes: Any) -> dict[str, Any]:
    event = {
        "type": "m.room.message",
        "room_id": "!r:domain",
        "sender": "@u:domain",
        "content": {"body": "hello"},
        "depth": 2,
        "origin_server_ts": 1000,
        "prev_events": [],
        "auth_events": [],
        "signatures": {},
        **changes,
    }
    event["hashes"] = {"sha256": encode_base64(compute_content_hash(event))}
    return sign_event(event, room_version, SERVER_NAME, SIGNING_KEY)


def test_sign_event_keeps_other_servers_signatures_and_leaves_input_alone() -> None:
    event = _signed_event()
    event["signatures"]["other.org"] = {"ed25519:x": "sig"}
    before = copy.deepcopy(event)
    other_key = generate_signing_key("2")
    resigned = sign_event(event, V4, SERVER_NAME, other_key)
    assert event == before
    assert resigned["signatures"]["other.org"] == {"ed25519:x": "sig"}
    assert set(resigned["signatures"][SERVER_NAME]) == {"ed25519:1", "ed25519:2"}
    verify_event_signature(resigned, V4, SERVER_NAME, get_verify_key(other_key))


def test_signature_survives_redaction_of_content() -> None:
    event = _signed_event()
    verify_event_signature(dict(event, content={}), V4, SERVER_NAME, VERIFY_KEY)


@pytest.mark.parametrize(
    "change",
    [{"sender": "@evil:domain"}, {"depth": 3}, {"hashes": {"sha256": "AAAA"}}, {"type": "x"}],
)
def test_tampering_with_a_protected_field_breaks_the_signature(change: dict) -> None:
    event = dict(_signed_event(), **change)
    with pytest.raises(SignatureError, match="bad signature from domain"):
        verify_event_signature(event, V4, SERVER_NAME, VERIFY_KEY)


def test_signature_from_an_unknown_key_is_refused() -> None:
    stranger = get_verify_key(generate_signing_key("1"))
    with pytest.raises(SignatureError, match="bad signature"):
        verify_event_signature(_signed_event(), V4, SERVER_NAME, stranger)


def test_missing_key_id_is_refused() -> None:
    other_version = get_verify_key(generate_signing_key("9"))
    with pytest.raises(SignatureError, match="Missing signature"):
        verify_event_signature(_signed_event(), V4, SERVER_NAME, other_version)


@pytest.mark.parametrize("signatures", [{}, {"domain": "nope"}, None])
def test_missing_or_malformed_signatures_are_refused(signatures: Any) -> None:
    event = dict(_signed_event(), signatures=signatures)
    with pytest.raises(SignatureError, match="no signatures from domain"):
        verify_event_signature(event, V4, SERVER_NAME, VERIFY_KEY)


# --- which servers must sign ------------------------------------------------------------


def _event(room_version: Any, event_type: str = "m.room.message", **fields: Any) -> Event:
    pdu = {"type": event_type, "sender": "@u:a.org", "content": {}, **fields}
    return Event(pdu, room_version, event_id=pdu.get("event_id", "$hash"))


@pytest.mark.parametrize(
    ("event", "servers"),
    [
        (_event(V4), {"a.org"}),
        (_event(V1, event_id="$e:b.org"), {"a.org", "b.org"}),
        (_event(V1, event_id="$e:a.org"), {"a.org"}),
        (
            _event(
                V8,
                "m.room.member",
                state_key="@u:a.org",
                content={"membership": "join", "join_authorised_via_users_server": "@x:c.org"},
            ),
            {"a.org", "c.org"},
        ),
        (
            _event(
                KNOWN_ROOM_VERSIONS["7"],
                "m.room.member",
                state_key="@u:a.org",
                content={"membership": "join", "join_authorised_via_users_server": "@x:c.org"},
            ),
            {"a.org"},
        ),
        (
            _event(V8, "m.room.message", content={"join_authorised_via_users_server": "@x:c.org"}),
            {"a.org"},
        ),
        (
            _event(
                V12,
                "m.room.member",
                state_key="@t:d.org",
                content={"membership": "invite", "third_party_invite": {"signed": {}}},
            ),
            set(),
        ),
        (
            _event(
                V1,
                "m.room.member",
                event_id="$e:b.org",
                state_key="@t:d.org",
                content={"membership": "invite", "third_party_invite": {"signed": {}}},
            ),
            {"b.org"},
        ),
        (
            _event(V4, "m.room.member", state_key="@t:d.org", content={"membership": "invite"}),
            {"a.org"},
        ),
    ],
)
def test_required_signature_servers(event: Event, servers: set[str]) -> None:
    assert required_signature_servers(event) == servers


# --- key validity -----------------------------------------------------------------------


def test_effective_key_expiry_is_capped_at_seven_days_after_fetching() -> None:
    assert effective_key_expiry(5_000, 1_000) == 5_000
    assert effective_key_expiry(10**15, 1_000) == 1_000 + MAX_KEY_VALIDITY_MS


@pytest.mark.parametrize(
    ("room_version", "expiry", "valid"),
    [(V4, 0, True), (V5, 999, False), (V5, 1000, True), (V12, 1001, True)],
)
def test_key_validity_is_enforced_from_v5(room_version: Any, expiry: int, valid: bool) -> None:
    event = _event(room_version, origin_server_ts=1000)
    assert key_valid_for_event(expiry, event) is valid
