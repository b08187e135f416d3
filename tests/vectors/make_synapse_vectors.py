"""Generate tests/vectors/synapse_events.json with a real Synapse.

For every room version 1-12 this builds a handful of events, has Synapse's own code
add the content hash and signature (synapse.crypto.event_signing), compute the event ID
(synapse.events.make_event_from_dict), the reference hash and the redacted form
(synapse.synapse_rust.events.redact_event_dict, the successor of prune_event_dict),
and records all of it. tests/protocol/test_synapse_vectors.py checks Ranvier agrees.

Run with the Synapse virtualenv, not the project's (Synapse is never a dependency):

    /work/synapse-venv/bin/python tests/vectors/make_synapse_vectors.py
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import synapse
from signedjson.key import decode_signing_key_base64, encode_verify_key_base64, get_verify_key
from synapse.api.room_versions import KNOWN_ROOM_VERSIONS, EventFormatVersions, RoomVersion
from synapse.crypto.event_signing import (
    add_hashes_and_signatures,
    compute_content_hash,
    compute_event_reference_hash,
)
from synapse.events import make_event_from_dict
from synapse.synapse_rust.events import redact_event_dict
from unpaddedbase64 import encode_base64

SERVER = "example.org"
OTHER_SERVER = "other.example"
# The spec's cryptographic test vector seed (appendices.md "Signing Key").
SEED = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1"
KEY_VERSION = "1"
ALICE = f"@alice:{SERVER}"
BOB = f"@bob:{OTHER_SERVER}"
OUTPUT = Path(__file__).with_name("synapse_events.json")


class RoomBuilder:
    """Builds a linear chain of events in one room, the way a server would."""

    def __init__(self, room_version: RoomVersion) -> None:
        self.room_version = room_version
        self.key = decode_signing_key_base64("ed25519", KEY_VERSION, SEED)
        self.room_id: str | None = None if self._hashed_room_id else f"!room:{SERVER}"
        self.events: list[dict[str, Any]] = []
        self.reference_hashes: dict[str, str] = {}
        self.latest: str | None = None
        self.auth: dict[str, str] = {}
        self.depth = 0

    @property
    def _hashed_room_id(self) -> bool:
        return self.room_version.event_format == EventFormatVersions.ROOM_V11_HYDRA_PLUS

    def _refs(self, event_ids: list[str]) -> list[Any]:
        if self.room_version.event_format == EventFormatVersions.ROOM_V1_V2:
            return [[e, {"sha256": self.reference_hashes[e]}] for e in event_ids]
        return list(event_ids)

    def add(
        self,
        name: str,
        event_type: str,
        content: dict[str, Any],
        *,
        sender: str = ALICE,
        state_key: str | None = None,
        auth_keys: tuple[str, ...] = ("create", "power", "alice"),
        redacts: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        self.depth += 1
        event: dict[str, Any] = {
            "type": event_type,
            "sender": sender,
            "content": content,
            "depth": self.depth,
            "origin_server_ts": 1_700_000_000_000 + self.depth,
            "prev_events": self._refs([self.latest] if self.latest else []),
            "auth_events": self._refs(
                [
                    self.auth[k]
                    for k in auth_keys
                    if k in self.auth and not (k == "create" and self._hashed_room_id)
                ]
            ),
        }
        if self.room_id is not None:
            event["room_id"] = self.room_id
        if state_key is not None:
            event["state_key"] = state_key
        if redacts is not None:
            if self.room_version.updated_redaction_rules:
                content["redacts"] = redacts
            else:
                event["redacts"] = redacts
        if self.room_version.event_format == EventFormatVersions.ROOM_V1_V2:
            event["event_id"] = f"${name}-{self.depth}:{SERVER}"
        event.update(extra or {})
        add_hashes_and_signatures(self.room_version, event, SERVER, self.key)

        frozen = make_event_from_dict(event, self.room_version)
        _, content_hash = compute_content_hash(event, hashlib.sha256)
        _, reference_hash = compute_event_reference_hash(frozen)
        event_id = frozen.event_id
        if self.room_id is None:  # v12: the create event names the room
            self.room_id = "!" + event_id[1:]
        self.reference_hashes[event_id] = encode_base64(reference_hash)
        self.latest = event_id
        self.events.append(
            {
                "name": name,
                "pdu": event,
                "event_id": event_id,
                "content_hash": encode_base64(content_hash),
                "reference_hash": encode_base64(reference_hash),
                "redacted": redact_event_dict(self.room_version, event),
            }
        )
        return event_id


def build_room(room_version: RoomVersion) -> list[dict[str, Any]]:
    room = RoomBuilder(room_version)
    create_content: dict[str, Any] = {"room_version": room_version.identifier, "m.federate": True}
    if not room_version.implicit_room_creator:
        create_content["creator"] = ALICE
    if room_version.identifier == "12":
        create_content["additional_creators"] = [f"@carol:{SERVER}"]
    room.auth["create"] = room.add(
        "create", "m.room.create", create_content, state_key="", auth_keys=()
    )
    room.auth["alice"] = room.add(
        "alice-join",
        "m.room.member",
        {"membership": "join", "displayname": "Alice"},
        state_key=ALICE,
        auth_keys=("create",),
    )
    room.auth["power"] = room.add(
        "power-levels",
        "m.room.power_levels",
        {
            "users": {ALICE: 100},
            "users_default": 0,
            "events": {"m.room.name": 50},
            "events_default": 0,
            "state_default": 50,
            "ban": 50,
            "kick": 50,
            "redact": 50,
            "invite": 0,
            "notifications": {"room": 50},
        },
        state_key="",
    )
    room.auth["join_rules"] = room.add(
        "join-rules-restricted",
        "m.room.join_rules",
        {
            "join_rule": "restricted",
            "allow": [{"type": "m.room_membership", "room_id": f"!space:{SERVER}"}],
        },
        state_key="",
    )
    room.add(
        "history-visibility",
        "m.room.history_visibility",
        {"history_visibility": "shared", "extra": "dropped on redaction"},
        state_key="",
    )
    room.add("aliases", "m.room.aliases", {"aliases": [f"#room:{SERVER}"]}, state_key=SERVER)
    room.add(
        "bob-restricted-join",
        "m.room.member",
        {"membership": "join", "join_authorised_via_users_server": ALICE},
        sender=BOB,
        state_key=BOB,
        auth_keys=("create", "power", "join_rules", "alice"),
    )
    room.add(
        "third-party-invite",
        "m.room.member",
        {
            "membership": "invite",
            "third_party_invite": {
                "display_name": "carol",
                "signed": {
                    "mxid": f"@carol:{SERVER}",
                    "token": "abc",
                    "signatures": {"magic.forest": {"ed25519:3": "fQpGIW1Snz+pwLZu6sTy2aHy"}},
                },
            },
        },
        state_key=f"@carol:{SERVER}",
    )
    message_content: dict[str, Any] = {"msgtype": "m.text", "body": "hello, wörld"}
    if not room_version.strict_canonicaljson:
        # v1-v5 tolerate numbers canonical JSON forbids; hashes must still agree.
        message_content["big"] = 2**60
        message_content["ratio"] = 1.5
    message_id = room.add("message", "m.room.message", message_content)
    room.add("redaction", "m.room.redaction", {"reason": "spam"}, redacts=message_id)
    room.add(
        "legacy-top-level-keys",
        "org.example.custom",
        {"keep": False},
        extra={"origin": SERVER, "membership": "join", "prev_state": [], "unknown": 1},
    )
    return room.events


def main() -> None:
    key = decode_signing_key_base64("ed25519", KEY_VERSION, SEED)
    vectors = {
        "generator": "tests/vectors/make_synapse_vectors.py",
        "synapse_version": synapse.__version__,
        "server_name": SERVER,
        "signing_key_seed": SEED,
        "key_id": f"ed25519:{KEY_VERSION}",
        "verify_key": encode_verify_key_base64(get_verify_key(key)),
        "room_versions": {str(n): build_room(KNOWN_ROOM_VERSIONS[str(n)]) for n in range(1, 13)},
    }
    OUTPUT.write_text(json.dumps(vectors, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
