"""Turning the fields of a new event into a complete, hashed and signed PDU in its room
version's format (rooms/v1.md ... v12.md "Event format")."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from signedjson.types import SigningKey
from unpaddedbase64 import encode_base64

from .canonical_json import check_strict_json, encode_canonical_json
from .errors import InvalidEvent, InvalidIdentifier
from .event_validation import validate_pdu
from .events import Event
from .hashing import compute_content_hash, event_id_from_reference_hash, reference_part
from .identifiers import parse_user_id
from .room_versions import EventFormat, RoomVersion
from .signing import add_signature

_REQUIRED_FIELDS = frozenset(
    {"type", "sender", "content", "prev_events", "auth_events", "depth", "origin_server_ts"}
)
_OPTIONAL_FIELDS = frozenset({"room_id", "state_key", "redacts"})


def build_event(
    room_version: RoomVersion,
    fields: Mapping[str, Any],
    *,
    server_name: str,
    signing_key: SigningKey,
    reference_hashes: Mapping[str, str] | None = None,
) -> Event:
    """Build, hash and sign a new event.

    `fields` holds `type`, `sender`, `content`, `prev_events` and `auth_events` (lists
    of event IDs), `depth`, `origin_server_ts`, and as needed `room_id`, `state_key`
    and `redacts`. The builder writes them in the version's format:

    - v1, v2: references become `[event_id, {"sha256": hash}]` pairs, the hashes taken
      from `reference_hashes` (event ID -> unpadded base64 reference hash, see
      `hashing.compute_reference_hash`); the event gets an `event_id` on `server_name`.
    - v11+: `redacts` goes into `content`.
    - v12: an `m.room.create` event has no `room_id`.

    The result is checked with `validate_pdu`; bad fields raise `InvalidEvent`.
    """
    unknown = set(fields) - _REQUIRED_FIELDS - _OPTIONAL_FIELDS
    if unknown:
        raise InvalidEvent(f"unknown event fields: {', '.join(sorted(unknown))}")
    missing = _REQUIRED_FIELDS - set(fields)
    if missing:
        raise InvalidEvent(f"missing event fields: {', '.join(sorted(missing))}")
    if not isinstance(fields["content"], Mapping):
        raise InvalidEvent("'content' must be an object")
    try:
        _, sender_server = parse_user_id(fields["sender"])
    except InvalidIdentifier as e:
        raise InvalidEvent(f"'sender': {e}") from None
    if sender_server != server_name:
        raise InvalidEvent(f"sender {fields['sender']} is not a user of {server_name}")

    pdu: dict[str, Any] = {
        key: fields[key]
        for key in ("type", "sender", "depth", "origin_server_ts", "state_key")
        if key in fields
    }
    pdu["content"] = dict(fields["content"])
    _place_room_id(pdu, fields, room_version)
    if "redacts" in fields:
        if room_version.updated_redaction_rules:
            pdu["content"]["redacts"] = fields["redacts"]
        else:
            pdu["redacts"] = fields["redacts"]
    for field in ("prev_events", "auth_events"):
        pdu[field] = _references(fields[field], room_version, reference_hashes or {})
    if room_version.event_format is EventFormat.V1:
        pdu["event_id"] = _v1_event_id(pdu, server_name)

    # From v6 numbers must be safe integers: checked once here, the hashes, signature
    # and size below may skip looking for floats (`encode_canonical_json`).
    strict = room_version.strict_canonicaljson
    if strict:
        check_strict_json(pdu)
    pdu["hashes"] = {"sha256": encode_base64(compute_content_hash(pdu, float_free=strict))}
    pdu["signatures"] = {}
    # The signature and the event ID (the reference hash) cover the same bytes.
    covered = encode_canonical_json(reference_part(pdu, room_version), float_free=strict)
    signed = add_signature(pdu, covered, server_name, signing_key)
    validate_pdu(signed, room_version, strict_checked=strict)
    event_id = (
        None if room_version.event_format is EventFormat.V1
        else event_id_from_reference_hash(hashlib.sha256(covered).digest(), room_version)
    )
    return Event(signed, room_version, event_id)


def _place_room_id(
    pdu: dict[str, Any], fields: Mapping[str, Any], room_version: RoomVersion
) -> None:
    if room_version.room_id_from_create_event and fields["type"] == "m.room.create":
        if "room_id" in fields:
            raise InvalidEvent("a v12 m.room.create event takes its room ID from its own ID")
        return
    if "room_id" not in fields:
        raise InvalidEvent("missing event fields: room_id")
    pdu["room_id"] = fields["room_id"]


def _references(
    event_ids: Any, room_version: RoomVersion, reference_hashes: Mapping[str, str]
) -> list[Any]:
    if not isinstance(event_ids, list | tuple):
        raise InvalidEvent("prev_events and auth_events must be lists of event IDs")
    if room_version.event_format is not EventFormat.V1:
        return list(event_ids)
    pairs = []
    for event_id in event_ids:
        if event_id not in reference_hashes:
            raise InvalidEvent(f"no reference hash given for {event_id}")
        pairs.append([event_id, {"sha256": reference_hashes[event_id]}])
    return pairs


def _v1_event_id(pdu: Mapping[str, Any], server_name: str) -> str:
    # The opaque part only has to be unique on this server. Deriving it from the event
    # (rather than from a random source) keeps building a pure function; two events
    # alike in every field, timestamp and parents included, are the same event anyway,
    # as they would be under the hash-based IDs of v3+.
    digest = hashlib.sha256(encode_canonical_json(pdu)).digest()
    return f"${encode_base64(digest[:18], urlsafe=True)}:{server_name}"
