from __future__ import annotations

from typing import Any

import pytest

from ranvier.protocol.canonical_json import encode_canonical_json
from ranvier.protocol.errors import InvalidEvent, InvalidJson
from ranvier.protocol.event_validation import MAX_PDU_BYTES, validate_pdu
from ranvier.protocol.room_versions import KNOWN_ROOM_VERSIONS

V1, V4, V5, V6, V10, V11, V12 = (
    KNOWN_ROOM_VERSIONS[v] for v in ("1", "4", "5", "6", "10", "11", "12")
)
HASH = "Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg"


def _pdu(room_version: Any = V4, **changes: Any) -> dict[str, Any]:
    pdu: dict[str, Any] = {
        "type": "m.room.message",
        "room_id": "!" + HASH if room_version.room_id_from_create_event else "!r:example.org",
        "sender": "@a:example.org",
        "content": {"body": "hi"},
        "depth": 3,
        "origin_server_ts": 1,
        "prev_events": ["$" + HASH],
        "auth_events": ["$" + HASH],
        "hashes": {"sha256": "x"},
        "signatures": {"example.org": {"ed25519:1": "s"}},
    }
    if room_version.event_format.name == "V1":
        pdu["event_id"] = "$e:example.org"
        pdu["prev_events"] = [["$p:example.org", {"sha256": "h"}]]
        pdu["auth_events"] = [["$a:example.org", {"sha256": "h"}]]
    pdu.update(changes)
    return {k: v for k, v in pdu.items() if v is not _DROP}


_DROP = object()


@pytest.mark.parametrize("room_version", [V1, V4, V6, V11, V12])
def test_well_formed_pdu_is_valid(room_version: Any) -> None:
    validate_pdu(_pdu(room_version), room_version)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"type": _DROP}, "no 'type'"),
        ({"type": 5}, "'type' must be a string, not int"),
        ({"type": "t" * 256}, "'type' is 256 bytes"),
        ({"state_key": "k" * 256}, "'state_key' is 256 bytes"),
        ({"state_key": None}, "'state_key' must be a string"),
        ({"sender": _DROP}, "no 'sender'"),
        ({"sender": "alice"}, "'sender': user ID"),
        ({"sender": "@" + "a" * 243 + ":example.org"}, "'sender': user ID is 256 bytes"),
        ({"room_id": _DROP}, "no 'room_id'"),
        ({"room_id": "!" + HASH}, "'room_id'"),
        ({"content": []}, "'content' must be an object, not list"),
        ({"content": _DROP}, "no 'content'"),
        ({"origin_server_ts": "1"}, "'origin_server_ts' must be an integer"),
        ({"origin_server_ts": True}, "'origin_server_ts' must be an integer, not bool"),
        ({"origin_server_ts": -1}, "must not be negative"),
        ({"depth": -1}, "depth -1 is outside"),
        ({"depth": 2**53}, "outside 0..9007199254740991"),
        ({"hashes": {}}, "hashes.sha256 must be a string"),
        ({"hashes": _DROP}, "no 'hashes'"),
        ({"signatures": []}, "'signatures' must be an object"),
        ({"signatures": {"x": "y"}}, "signatures.x must map key IDs to strings"),
        ({"signatures": {"x": {"k": 1}}}, "signatures.x must map"),
        ({"unsigned": 1}, "'unsigned' must be an object"),
        ({"prev_events": _DROP}, "no 'prev_events'"),
        ({"prev_events": ["$" + HASH] * 21}, "prev_events has 21 entries, over the limit of 20"),
        ({"auth_events": ["$" + HASH] * 11}, "auth_events has 11 entries, over the limit of 10"),
        ({"auth_events": [5]}, r"auth_events\[0\]: event ID must be a string"),
        ({"prev_events": ["$bad:example.org"]}, r"'prev_events\[0\]'"),
        ({"redacts": 5}, "'redacts' must be a string"),
        ({"redacts": "$nope:example.org"}, "'redacts'"),
        ({"content": {"n": 1.5}}, None),
    ],
)
def test_malformed_v6_pdu_is_refused(changes: dict, problem: str | None) -> None:
    if problem is None:
        with pytest.raises(InvalidJson, match=r"content\.n: float"):
            validate_pdu(_pdu(V6, **changes), V6)
        return
    with pytest.raises(InvalidEvent, match=problem):
        validate_pdu(_pdu(V6, **changes), V6)


def test_hash_id_versions_refuse_an_event_id_field() -> None:
    with pytest.raises(InvalidEvent, match="'event_id' is not part of an event in room version 4"):
        validate_pdu(_pdu(V4, event_id="$" + HASH), V4)


def test_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="must be a JSON object, not list"):
        validate_pdu([], V4)


def test_v1_needs_an_event_id_and_reference_pairs() -> None:
    with pytest.raises(InvalidEvent, match="no 'event_id'"):
        validate_pdu(_pdu(V1, event_id=_DROP), V1)
    with pytest.raises(InvalidEvent, match="'event_id'"):
        validate_pdu(_pdu(V1, event_id="$" + HASH), V1)
    with pytest.raises(InvalidEvent, match=r"prev_events\[0\] must be \[event_id"):
        validate_pdu(_pdu(V1, prev_events=["$p:example.org"]), V1)
    with pytest.raises(InvalidEvent, match=r"auth_events\[0\] must be"):
        validate_pdu(_pdu(V1, auth_events=[["$a:example.org", {"sha256": 1}]]), V1)


def test_versions_before_6_tolerate_floats_big_integers_and_deep_depth() -> None:
    validate_pdu(_pdu(V5, content={"n": 1.5, "big": 2**60}, depth=2**60), V5)
    with pytest.raises(InvalidEvent, match=r"outside 0\.\.9223372036854775807"):
        validate_pdu(_pdu(V5, depth=2**63), V5)


def test_v12_create_event_must_not_have_a_room_id() -> None:
    create = _pdu(V12, type="m.room.create", state_key="", prev_events=[], auth_events=[])
    with pytest.raises(InvalidEvent, match="must not have a room_id"):
        validate_pdu(create, V12)
    del create["room_id"]
    validate_pdu(create, V12)


def test_v12_events_need_a_hash_room_id() -> None:
    with pytest.raises(InvalidEvent, match="'room_id'"):
        validate_pdu(_pdu(V12, room_id="!r:example.org"), V12)


def test_v11_redacts_lives_in_content_and_is_not_checked_at_top_level() -> None:
    validate_pdu(_pdu(V11, redacts=5), V11)


def test_size_limit_counts_the_whole_canonical_event() -> None:
    pdu = _pdu(V10)
    pdu["content"] = {"body": ""}
    room = MAX_PDU_BYTES - len(encode_canonical_json(pdu))
    pdu["content"]["body"] = "x" * room
    validate_pdu(pdu, V10)
    pdu["content"]["body"] += "x"
    with pytest.raises(InvalidEvent, match=f"65537 bytes as canonical JSON, over {MAX_PDU_BYTES}"):
        validate_pdu(pdu, V10)


def test_type_size_is_counted_in_bytes() -> None:
    validate_pdu(_pdu(V4, type="é" * 127), V4)
    with pytest.raises(InvalidEvent, match="'type' is 256 bytes"):
        validate_pdu(_pdu(V4, type="é" * 128), V4)
