from __future__ import annotations

import re
from typing import Any

import pytest
from unpaddedbase64 import encode_base64

from ranvier.protocol import canonical_json, event_builder
from ranvier.protocol.canonical_json import check_strict_json
from ranvier.protocol.errors import InvalidEvent, InvalidJson
from ranvier.protocol.event_builder import build_event
from ranvier.protocol.event_validation import validate_pdu
from ranvier.protocol.hashing import check_content_hash, compute_event_id, compute_reference_hash
from ranvier.protocol.identifiers import is_valid_event_id
from ranvier.protocol.room_versions import KNOWN_ROOM_VERSIONS
from ranvier.protocol.signing import verify_event_signature

from .spec_vectors import SIGNING_KEY, VERIFY_KEY

SERVER = "domain"
V1, V3, V4, V10, V11, V12 = (KNOWN_ROOM_VERSIONS[v] for v in ("1", "3", "4", "10", "11", "12"))
ALL_VERSIONS = [KNOWN_ROOM_VERSIONS[str(n)] for n in range(1, 13)]


def _create(room_version: Any) -> Any:
    fields: dict[str, Any] = {
        "type": "m.room.create",
        "sender": "@alice:domain",
        "state_key": "",
        "content": {"room_version": room_version.identifier},
        "prev_events": [],
        "auth_events": [],
        "depth": 1,
        "origin_server_ts": 1000,
    }
    if not room_version.room_id_from_create_event:
        fields["room_id"] = "!room:domain"
    return build_event(room_version, fields, server_name=SERVER, signing_key=SIGNING_KEY)


def _message_fields(create: Any, **changes: Any) -> dict[str, Any]:
    return {
        "type": "m.room.message",
        "sender": "@alice:domain",
        "room_id": create.room_id,
        "content": {"body": "hi"},
        "prev_events": [create.event_id],
        "auth_events": [create.event_id],
        "depth": 2,
        "origin_server_ts": 2000,
        **changes,
    }


def _build(room_version: Any, fields: dict[str, Any], **kwargs: Any) -> Any:
    return build_event(room_version, fields, server_name=SERVER, signing_key=SIGNING_KEY, **kwargs)


def _reference_hashes(*events: Any) -> dict[str, str]:
    return {
        e.event_id: encode_base64(compute_reference_hash(e.pdu, e.room_version)) for e in events
    }


@pytest.mark.parametrize("room_version", ALL_VERSIONS, ids=lambda v: f"v{v.identifier}")
def test_built_events_are_valid_hashed_signed_and_well_named(room_version: Any) -> None:
    create = _create(room_version)
    message = _build(
        room_version, _message_fields(create), reference_hashes=_reference_hashes(create)
    )
    for event in (create, message):
        validate_pdu(event.pdu, room_version)
        check_content_hash(event.pdu)
        verify_event_signature(event.pdu, room_version, SERVER, VERIFY_KEY)
        assert is_valid_event_id(event.event_id, room_version)
    assert message.prev_event_ids() == [create.event_id]
    assert message.auth_event_ids() == [create.event_id]


def test_v1_events_carry_an_event_id_and_reference_pairs() -> None:
    create = _create(V1)
    assert create.pdu["event_id"].endswith(":domain")
    hashes = _reference_hashes(create)
    message = _build(V1, _message_fields(create), reference_hashes=hashes)
    assert message.pdu["prev_events"] == [[create.event_id, {"sha256": hashes[create.event_id]}]]


def test_v1_event_ids_are_deterministic_and_differ_between_events() -> None:
    create = _create(V1)
    hashes = _reference_hashes(create)
    first = _build(V1, _message_fields(create), reference_hashes=hashes)
    again = _build(V1, _message_fields(create), reference_hashes=hashes)
    other = _build(V1, _message_fields(create, depth=3), reference_hashes=hashes)
    assert first.event_id == again.event_id != other.event_id


def test_v1_reference_without_a_hash_is_refused() -> None:
    create = _create(V1)
    with pytest.raises(
        InvalidEvent, match=re.escape(f"no reference hash given for {create.event_id}")
    ):
        _build(V1, _message_fields(create))


def test_v3_ids_are_standard_base64_and_v4_url_safe() -> None:
    assert is_valid_event_id(_create(V3).event_id, V3)
    assert is_valid_event_id(_create(V4).event_id, V4)


@pytest.mark.parametrize(("room_version", "in_content"), [(V10, False), (V11, True)])
def test_redacts_moves_into_content_from_v11(room_version: Any, in_content: bool) -> None:
    create = _create(room_version)
    target = "$" + "A" * 43
    fields = _message_fields(create, type="m.room.redaction", redacts=target, content={})
    event = _build(room_version, fields)
    assert ("redacts" in event.pdu["content"]) is in_content
    assert ("redacts" in event.pdu) is not in_content
    assert event.redacts == target


def test_v12_create_event_has_no_room_id_and_names_the_room() -> None:
    create = _create(V12)
    assert "room_id" not in create.pdu
    assert create.room_id == "!" + create.event_id[1:]
    message = _build(V12, _message_fields(create, auth_events=[]))
    assert message.room_id == create.room_id


def test_v12_create_event_with_a_room_id_is_refused() -> None:
    fields = dict(_create(V11).pdu)
    fields = {
        k: fields[k]
        for k in ("type", "sender", "state_key", "content", "depth", "origin_server_ts", "room_id")
    }
    with pytest.raises(InvalidEvent, match="takes its room ID from its own ID"):
        _build(V12, dict(fields, prev_events=[], auth_events=[]))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"colour": "red"}, "unknown event fields: colour"),
        ({"depth": None}, "'depth' must be an integer"),
        ({"content": "text"}, "'content' must be an object"),
        ({"room_id": None}, "'room_id' must be a string"),
        ({"sender": "@bob:elsewhere.org"}, "is not a user of domain"),
        ({"prev_events": "$x"}, "must be lists of event IDs"),
        ({"content": {"body": "x" * 70000}}, "over 65536"),
    ],
)
def test_bad_fields_are_refused(change: dict, problem: str) -> None:
    fields = _message_fields(_create(V10), **change)
    with pytest.raises(InvalidEvent, match=problem):
        _build(V10, fields)


def test_missing_fields_are_named() -> None:
    fields = _message_fields(_create(V10))
    del fields["depth"], fields["type"]
    with pytest.raises(InvalidEvent, match="missing event fields: depth, type"):
        _build(V10, fields)
    fields = _message_fields(_create(V10))
    del fields["room_id"]
    with pytest.raises(InvalidEvent, match="missing event fields: room_id"):
        _build(V10, fields)


def test_malformed_sender_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="'sender': user ID 'alice' must start with '@'"):
        _build(V10, _message_fields(_create(V10), sender="alice"))


def test_builder_does_not_share_content_with_the_caller() -> None:
    content = {"body": "hi"}
    event = _build(V10, _message_fields(_create(V10), content=content))
    event.pdu["content"]["body"] = "changed"
    assert content == {"body": "hi"}


def test_a_v6_plus_event_is_searched_for_floats_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Its strict-JSON check proves it float-free, so hashing, signing, the size check
    # and the event ID encode it without walking it again.
    create = _create(V12)
    walks: list[Any] = []
    original = canonical_json._has_float
    monkeypatch.setattr(
        canonical_json, "_has_float", lambda obj: walks.append(obj) or original(obj)
    )
    monkeypatch.setattr(
        canonical_json, "check_strict_json",
        lambda obj: walks.append(obj) or check_strict_json(obj),
    )
    monkeypatch.setattr(event_builder, "check_strict_json", canonical_json.check_strict_json)
    event = _build(V12, _message_fields(create, content={"body": "hi", "n": 7}))
    assert len(walks) == 1
    # ...and the event is the one the generic encoder's path gives.
    check_content_hash(event.pdu)
    verify_event_signature(event.pdu, V12, SERVER, VERIFY_KEY)
    assert event.event_id == compute_event_id(event.pdu, V12)


@pytest.mark.parametrize(("room_version", "accepted"), [(V4, True), (V10, False)])
def test_floats_are_hashed_canonically_before_v6_and_refused_after(
    room_version: Any, accepted: bool
) -> None:
    create = _create(room_version)
    fields = _message_fields(create, content={"body": "hi", "ratio": 0.5})
    if not accepted:
        with pytest.raises(InvalidJson, match="float"):
            _build(room_version, fields)
        return
    event = _build(room_version, fields)
    check_content_hash(event.pdu)
    verify_event_signature(event.pdu, room_version, SERVER, VERIFY_KEY)
    assert event.event_id == compute_event_id(event.pdu, room_version)
