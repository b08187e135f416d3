from __future__ import annotations

import copy

import pytest
from unpaddedbase64 import encode_base64

from ranvier.protocol.errors import HashError
from ranvier.protocol.hashing import (
    check_content_hash,
    compute_content_hash,
    compute_event_id,
    compute_reference_hash,
)
from ranvier.protocol.room_versions import KNOWN_ROOM_VERSIONS

from .spec_vectors import (
    MINIMAL_EVENT,
    MINIMAL_EVENT_HASH,
    REDACTABLE_EVENT,
    REDACTABLE_EVENT_HASH,
)

V1, V3, V4, V11 = (KNOWN_ROOM_VERSIONS[v] for v in ("1", "3", "4", "11"))


@pytest.mark.parametrize(
    ("event", "expected"),
    [(MINIMAL_EVENT, MINIMAL_EVENT_HASH), (REDACTABLE_EVENT, REDACTABLE_EVENT_HASH)],
)
def test_content_hash_matches_the_spec_examples(event: dict, expected: str) -> None:
    assert encode_base64(compute_content_hash(event)) == expected


def test_content_hash_ignores_unsigned_signatures_and_hashes() -> None:
    changed = dict(MINIMAL_EVENT, unsigned={"age": 5}, signatures={"x": {}}, hashes={"a": "b"})
    assert compute_content_hash(changed) == compute_content_hash(MINIMAL_EVENT)


def test_content_hash_covers_content() -> None:
    changed = dict(MINIMAL_EVENT, content={"body": "changed"})
    assert compute_content_hash(changed) != compute_content_hash(MINIMAL_EVENT)


def _hashed(event: dict) -> dict:
    return dict(event, hashes={"sha256": encode_base64(compute_content_hash(event))})


def test_check_content_hash_accepts_a_matching_hash_padded_or_not() -> None:
    event = _hashed(REDACTABLE_EVENT)
    check_content_hash(event)
    check_content_hash(dict(event, hashes={"sha256": event["hashes"]["sha256"] + "="}))


@pytest.mark.parametrize(
    ("hashes", "problem"),
    [
        (None, "no 'hashes' object"),
        ([], "no 'hashes' object"),
        ({}, "no 'hashes.sha256' string"),
        ({"sha256": 5}, "no 'hashes.sha256' string"),
        ({"sha256": "!!not base64!!"}, "not base64"),
        ({"sha256": MINIMAL_EVENT_HASH}, "does not match"),
    ],
)
def test_check_content_hash_refuses_missing_malformed_or_wrong_hashes(hashes, problem) -> None:
    event = dict(REDACTABLE_EVENT)
    if hashes is not None:
        event["hashes"] = hashes
    with pytest.raises(HashError, match=problem):
        check_content_hash(event)


def test_reference_hash_survives_redaction_and_ignores_signatures() -> None:
    event = _hashed(REDACTABLE_EVENT)
    redacted = dict(event, content={}, signatures={"domain": {"ed25519:1": "x"}})
    assert compute_reference_hash(redacted, V1) == compute_reference_hash(event, V1)


def test_reference_hash_covers_the_content_hash() -> None:
    event = _hashed(REDACTABLE_EVENT)
    other = _hashed(dict(REDACTABLE_EVENT, content={"body": "other"}))
    assert compute_reference_hash(event, V1) != compute_reference_hash(other, V1)


def test_reference_hash_follows_the_room_versions_redaction() -> None:
    # `origin` is kept by redaction before v11 and dropped from v11.
    event = _hashed(REDACTABLE_EVENT)
    without_origin = {k: v for k, v in event.items() if k != "origin"}
    assert compute_reference_hash(event, V11) == compute_reference_hash(without_origin, V11)
    assert compute_reference_hash(event, V4) != compute_reference_hash(without_origin, V4)


def test_event_id_uses_standard_base64_in_v3_and_url_safe_from_v4() -> None:
    # Find an event whose reference hash has both alphabets' distinct characters.
    event = _hashed(dict(MINIMAL_EVENT))
    for n in range(1000):
        event["depth"] = n
        digest = compute_reference_hash(event, V3)
        standard = encode_base64(digest)
        if "+" in standard or "/" in standard:
            break
    assert compute_event_id(event, V3) == "$" + standard
    url_safe = compute_event_id(event, V4)
    assert url_safe == "$" + encode_base64(digest, urlsafe=True)
    assert url_safe != "$" + standard
    assert len(url_safe) == 44


def test_event_id_is_not_computed_for_v1_events() -> None:
    with pytest.raises(ValueError, match="carry their ID in 'event_id'"):
        compute_event_id(copy.deepcopy(REDACTABLE_EVENT), V1)
