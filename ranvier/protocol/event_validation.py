"""The shape and size of a PDU: the first of the "Checks performed on receipt of a PDU"
(server-server-api.md) — an event that breaks its room version's event format is
dropped — and the size limits of client-server-api "Size limits".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .canonical_json import check_strict_json, encode_canonical_json
from .errors import InvalidEvent, InvalidIdentifier
from .identifiers import check_event_id, check_room_id, parse_user_id
from .room_versions import EventFormat, RoomVersion

#: The whole event as canonical JSON, signatures included.
MAX_PDU_BYTES = 65536
#: `type` and `state_key`; IDs have their own 255-byte limit in `identifiers`.
MAX_KEY_BYTES = 255
MAX_PREV_EVENTS = 20
MAX_AUTH_EVENTS = 10
#: `depth` must stay below the largest integer: 2^63-1 before v6, the canonical JSON
#: limit 2^53-1 from v6 (pdu_v1.yaml, depth_v6.yaml).
MAX_DEPTH = 2**63 - 1
MAX_DEPTH_STRICT = 2**53 - 1


def validate_pdu(pdu: Any, room_version: RoomVersion, *, strict_checked: bool = False) -> None:
    """Raise `InvalidEvent` (or `InvalidJson` for v6+ number rules) if `pdu` does not
    have the fields, types and sizes its room version's event format requires.
    `strict_checked`: the caller has already run `check_strict_json` on it."""
    if not isinstance(pdu, Mapping):
        raise InvalidEvent(f"event must be a JSON object, not {type(pdu).__name__}")
    _check_fields(pdu, room_version)
    _check_references(pdu, "prev_events", MAX_PREV_EVENTS, room_version)
    _check_references(pdu, "auth_events", MAX_AUTH_EVENTS, room_version)
    strict = room_version.strict_canonicaljson
    if strict and not strict_checked:
        check_strict_json(pdu)
    size = len(encode_canonical_json(pdu, float_free=strict))
    if size > MAX_PDU_BYTES:
        raise InvalidEvent(f"event is {size} bytes as canonical JSON, over {MAX_PDU_BYTES}")


def _check_fields(pdu: Mapping[str, Any], room_version: RoomVersion) -> None:
    event_type = _require(pdu, "type", str)
    _check_key_size(event_type, "type")
    if "state_key" in pdu:
        _check_key_size(_require(pdu, "state_key", str), "state_key")
    _check_identifier("sender", parse_user_id, _require(pdu, "sender", str))
    _check_room_id(pdu, event_type, room_version)
    if room_version.event_format is EventFormat.V1:
        _check_identifier("event_id", check_event_id, _require(pdu, "event_id", str), room_version)
    elif "event_id" in pdu:
        # The ID is the reference hash, which would cover this field: a claimed ID could
        # only ever be wrong. Synapse refuses such events too.
        raise InvalidEvent(
            f"'event_id' is not part of an event in room version {room_version.identifier}"
        )
    _require(pdu, "content", dict)
    origin_server_ts = _require(pdu, "origin_server_ts", int)
    if origin_server_ts < 0:
        raise InvalidEvent("origin_server_ts must not be negative")
    depth = _require(pdu, "depth", int)
    max_depth = MAX_DEPTH_STRICT if room_version.strict_canonicaljson else MAX_DEPTH
    if not 0 <= depth <= max_depth:
        raise InvalidEvent(f"depth {depth} is outside 0..{max_depth}")
    hashes = _require(pdu, "hashes", dict)
    if not isinstance(hashes.get("sha256"), str):
        raise InvalidEvent("hashes.sha256 must be a string")
    signatures = _require(pdu, "signatures", dict)
    for server, server_signatures in signatures.items():
        if not isinstance(server_signatures, dict) or not all(
            isinstance(sig, str) for sig in server_signatures.values()
        ):
            raise InvalidEvent(f"signatures.{server} must map key IDs to strings")
    if "unsigned" in pdu:
        _require(pdu, "unsigned", dict)
    if "redacts" in pdu and not room_version.updated_redaction_rules:
        _check_identifier("redacts", check_event_id, _require(pdu, "redacts", str), room_version)


def _check_room_id(pdu: Mapping[str, Any], event_type: str, room_version: RoomVersion) -> None:
    if room_version.room_id_from_create_event and event_type == "m.room.create":
        # v12: the room ID *is* the create event's ID, so the event cannot hold it.
        if "room_id" in pdu:
            raise InvalidEvent("an m.room.create event must not have a room_id in this version")
        return
    _check_identifier("room_id", check_room_id, _require(pdu, "room_id", str), room_version)


def _check_references(
    pdu: Mapping[str, Any], field: str, limit: int, room_version: RoomVersion
) -> None:
    references = _require(pdu, field, list)
    if len(references) > limit:
        raise InvalidEvent(f"{field} has {len(references)} entries, over the limit of {limit}")
    for index, reference in enumerate(references):
        where = f"{field}[{index}]"
        if room_version.event_format is EventFormat.V1:
            # v1, v2: [event_id, {"sha256": reference hash}]
            if not (
                isinstance(reference, list)
                and len(reference) == 2
                and isinstance(reference[1], dict)
                and isinstance(reference[1].get("sha256"), str)
            ):
                raise InvalidEvent(f"{where} must be [event_id, {{'sha256': hash}}]")
            event_id = reference[0]
        else:
            event_id = reference
        if not isinstance(event_id, str):
            raise InvalidEvent(f"{where}: event ID must be a string")
        _check_identifier(where, check_event_id, event_id, room_version)


def _require(pdu: Mapping[str, Any], field: str, kind: type) -> Any:
    if field not in pdu:
        raise InvalidEvent(f"event has no '{field}'")
    value = pdu[field]
    # bool is an int subclass, but `true` is not an integer in JSON.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidEvent(f"'{field}' must be {_JSON_NAMES[kind]}, not {type(value).__name__}")
    return value


_JSON_NAMES = {str: "a string", int: "an integer", dict: "an object", list: "an array"}


def _check_key_size(value: str, field: str) -> None:
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        raise InvalidEvent(f"'{field}' is {size} bytes, over the {MAX_KEY_BYTES} limit")


def _check_identifier(field: str, check: Callable[..., object], *args: Any) -> None:
    try:
        check(*args)
    except InvalidIdentifier as e:
        raise InvalidEvent(f"'{field}': {e}") from None
