"""Signing events and checking their signatures (server-server-api.md "Signing Events",
appendices.md "Signing JSON").

A signature covers the *redacted* event, so it stays checkable after a redaction; the
content hash inside the redacted event is what ties the signature to the full content.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from signedjson.sign import SignatureVerifyException, verify_signed_json
from signedjson.types import SigningKey, VerifyKey
from unpaddedbase64 import encode_base64

from .canonical_json import encode_canonical_json
from .errors import SignatureError
from .events import Event
from .hashing import reference_part
from .identifiers import server_name_of
from .room_versions import EventFormat, RoomVersion

#: rooms/v5 "Signing key validity period": a key is never trusted for more than seven
#: days past the moment we learned it, whatever its `valid_until_ts` says.
MAX_KEY_VALIDITY_MS = 7 * 24 * 60 * 60 * 1000


def sign_event(
    pdu: Mapping[str, Any], room_version: RoomVersion, server_name: str,
    signing_key: SigningKey, *, float_free: bool = False,
) -> dict[str, Any]:
    """A copy of `pdu` with `server_name`'s signature added beside any others
    (`float_free`: see `encode_canonical_json`).

    The event must already carry its content hash: the signature covers the redacted
    event, and `hashes` is what binds it to the parts redaction removes.
    """
    covered = encode_canonical_json(reference_part(pdu, room_version), float_free=float_free)
    return add_signature(pdu, covered, server_name, signing_key)


def add_signature(
    pdu: Mapping[str, Any], covered: bytes, server_name: str, signing_key: SigningKey
) -> dict[str, Any]:
    """`sign_event` for a caller that already holds `covered`, the canonical JSON of
    the event's reference part (`hashing.reference_part`): the bytes the event ID is
    hashed from, so a new event's are encoded once."""
    # appendices.md "Signing JSON": ed25519 over the canonical JSON of the object
    # without `signatures` and `unsigned`, in unpadded base64 under `alg:version`.
    signature = encode_base64(signing_key.sign(covered).signature)
    result = dict(pdu)
    signatures = {name: dict(sigs) for name, sigs in pdu.get("signatures", {}).items()}
    signatures.setdefault(server_name, {})[f"{signing_key.alg}:{signing_key.version}"] = signature
    result["signatures"] = signatures
    return result


def verify_event_signature(
    pdu: Mapping[str, Any], room_version: RoomVersion, server_name: str, verify_key: VerifyKey
) -> None:
    """Raise `SignatureError` unless `server_name` signed the redacted form of `pdu` with
    `verify_key` (whose `alg:version` names the signature to check)."""
    redacted = reference_part(pdu, room_version)
    signatures = pdu.get("signatures")
    if not isinstance(signatures, Mapping) or not isinstance(signatures.get(server_name), Mapping):
        raise SignatureError(f"event has no signatures from {server_name}")
    redacted["signatures"] = signatures
    try:
        verify_signed_json(redacted, server_name, verify_key)
    except SignatureVerifyException as e:
        raise SignatureError(f"bad signature from {server_name}: {e}") from None


def required_signature_servers(event: Event) -> set[str]:
    """The servers whose signatures an event must carry
    (server-server-api.md "Validating hashes and signatures on received events").

    - The sender's server, except for an invite made from a third-party invite: its
      sender must match the `m.room.third_party_invite` sender, but another server may
      have built the event; the auth rules check the `signed` block instead.
    - v1, v2: also the server named in the event ID.
    - v8+: a member event with `join_authorised_via_users_server` must also be signed
      by that user's server (auth rule 4.2 of v8 and later).
    """
    servers: set[str] = set()
    is_third_party_invite = (
        event.type == "m.room.member"
        and event.membership == "invite"
        and "third_party_invite" in event.content
    )
    if not is_third_party_invite:
        servers.add(server_name_of(event.sender))
    if event.room_version.event_format is EventFormat.V1:
        servers.add(server_name_of(event.event_id))
    authoriser = event.content.get("join_authorised_via_users_server")
    if (
        event.room_version.restricted_join_rule
        and event.type == "m.room.member"
        and isinstance(authoriser, str)
    ):
        servers.add(server_name_of(authoriser))
    return servers


def effective_key_expiry(valid_until_ts: int, fetched_at_ts: int) -> int:
    """When a fetched key stops being usable: its `valid_until_ts`, capped at seven days
    after it was fetched (rooms/v5 "Signing key validity period")."""
    return min(valid_until_ts, fetched_at_ts + MAX_KEY_VALIDITY_MS)


def key_valid_for_event(key_expiry_ts: int, event: Event) -> bool:
    """Whether a key expiring at `key_expiry_ts` may verify `event`: from v5, only if it
    was still valid at the event's `origin_server_ts`; before v5, always."""
    if not event.room_version.enforce_key_validity:
        return True
    return key_expiry_ts >= event.origin_server_ts
