"""Content hashes, reference hashes and hash-based event IDs
(server-server-api.md "Calculating the content hash / reference hash for an event";
rooms/v3.md and fragments/v4-event-ids.md for event IDs)."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import Any

from unpaddedbase64 import encode_base64

from .canonical_json import encode_canonical_json
from .errors import HashError
from .redaction import redact
from .room_versions import EventFormat, RoomVersion


def compute_content_hash(pdu: Mapping[str, Any], *, float_free: bool = False) -> bytes:
    """SHA-256 over the whole unredacted event minus `unsigned`, `signatures` and
    `hashes`: the parts other servers may legitimately add or change. (`float_free`:
    see `encode_canonical_json`.)"""
    covered = {
        key: value for key, value in pdu.items() if key not in ("unsigned", "signatures", "hashes")
    }
    return hashlib.sha256(encode_canonical_json(covered, float_free=float_free)).digest()


def check_content_hash(pdu: Mapping[str, Any]) -> None:
    """Raise `HashError` unless `hashes.sha256` matches the event's content hash.

    On failure the spec has the receiver keep only the redacted event, assuming it was
    given a redacted copy.
    """
    hashes = pdu.get("hashes")
    if not isinstance(hashes, Mapping):
        raise HashError("event has no 'hashes' object")
    claimed = hashes.get("sha256")
    if not isinstance(claimed, str):
        raise HashError("event has no 'hashes.sha256' string")
    try:
        # Strict decoding: unpaddedbase64 silently skips characters outside the alphabet.
        claimed_bytes = base64.b64decode(claimed + "=" * (-len(claimed) % 4), validate=True)
    except binascii.Error:
        raise HashError(f"'hashes.sha256' is not base64: {claimed!r}") from None
    if claimed_bytes != compute_content_hash(pdu):
        raise HashError("'hashes.sha256' does not match the event's content")


def reference_part(pdu: Mapping[str, Any], room_version: RoomVersion) -> dict[str, Any]:
    """The redacted event minus `signatures` and `unsigned`: what the reference hash
    covers, and what a server's signature covers too (appendices.md "Signing JSON")."""
    redacted = redact(pdu, room_version)
    redacted.pop("signatures", None)
    redacted.pop("unsigned", None)
    return redacted


def compute_reference_hash(
    pdu: Mapping[str, Any], room_version: RoomVersion, *, float_free: bool = False
) -> bytes:
    """SHA-256 over the redacted event minus `signatures` and `unsigned`. It names the
    event: v1/v2 references carry it beside the ID; from v3 it is the ID."""
    covered = reference_part(pdu, room_version)
    return hashlib.sha256(encode_canonical_json(covered, float_free=float_free)).digest()


def compute_event_id(
    pdu: Mapping[str, Any], room_version: RoomVersion, *, float_free: bool = False
) -> str:
    """The event ID of a v3+ event: `$` and its reference hash in unpadded base64,
    standard (v3) or URL-safe (v4+)."""
    return event_id_from_reference_hash(
        compute_reference_hash(pdu, room_version, float_free=float_free), room_version
    )


def event_id_from_reference_hash(reference_hash: bytes, room_version: RoomVersion) -> str:
    """The v3+ event ID of an event with this reference hash."""
    if room_version.event_format is EventFormat.V1:
        raise ValueError(
            f"room version {room_version.identifier} events carry their ID in 'event_id'"
        )
    encoded = encode_base64(reference_hash, urlsafe=room_version.event_format is EventFormat.V3)
    return "$" + encoded
