"""The table of room versions 1 to 12 and the properties that tell them apart.

Every rule elsewhere in the protocol core asks a `RoomVersion` for a property
instead of comparing version strings, so adding a version means adding a row here.
Spec: content/rooms/v1.md … v12.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class EventFormat(Enum):
    """How an event is identified and how it refers to other events."""

    #: v1, v2: `event_id` is a field of the event (`$opaque:server`); `prev_events` and
    #: `auth_events` are `[event_id, {"sha256": hash}]` pairs.
    V1 = 1
    #: v3: the event ID is `$` + standard unpadded base64 of the reference hash;
    #: references are plain event ID strings.
    V2 = 2
    #: v4 and later: as V2 but URL-safe unpadded base64.
    V3 = 3


class StateResAlgorithm(Enum):
    V1 = "v1"
    V2 = "v2"
    #: v12: v2 with an empty initial state for conflicted resolution and the
    #: conflicted state subgraph included.
    V2_1 = "v2.1"


@dataclass(frozen=True, slots=True)
class RoomVersion:
    identifier: str
    event_format: EventFormat
    state_res: StateResAlgorithm
    #: v5+: a signing key's `valid_until_ts` is enforced when verifying events.
    enforce_key_validity: bool
    #: v1–v5: `m.room.aliases` has its own auth rule (sender domain == state_key).
    special_case_aliases_auth: bool
    #: v6+: integers outside ±(2^53-1) and floats make an event invalid.
    strict_canonicaljson: bool
    #: v6+: `notifications` in power levels is checked when changing power levels.
    limit_notifications_power_levels: bool
    #: v7+: the `knock` join rule and membership.
    knock_join_rule: bool
    #: v8+: the `restricted` join rule.
    restricted_join_rule: bool
    #: v9+: redaction keeps `join_authorised_via_users_server` in member content.
    restricted_join_rule_fix: bool
    #: v10+: the `knock_restricted` join rule.
    knock_restricted_join_rule: bool
    #: v10+: power level values must be integers (no numeric strings).
    enforce_int_power_levels: bool
    #: v11+: the redaction algorithm of MSC2176/MSC3821/MSC3989, `redacts` moves into
    #: content, the create event loses `creator`.
    updated_redaction_rules: bool
    #: v11+: the room creator is the create event's `sender`, not `content.creator`.
    implicit_room_creator: bool
    #: v12: room ID is the create event's reference hash; creators (sender plus
    #: `additional_creators`) have unlimited power; the create event is not an auth event.
    room_id_from_create_event: bool

    @property
    def uses_event_id_field(self) -> bool:
        return self.event_format is EventFormat.V1


def _version(identifier: str, number: int) -> RoomVersion:
    return RoomVersion(
        identifier=identifier,
        event_format=(
            EventFormat.V1 if number <= 2 else EventFormat.V2 if number == 3 else EventFormat.V3
        ),
        state_res=(
            StateResAlgorithm.V1
            if number == 1
            else StateResAlgorithm.V2_1
            if number >= 12
            else StateResAlgorithm.V2
        ),
        enforce_key_validity=number >= 5,
        special_case_aliases_auth=number <= 5,
        strict_canonicaljson=number >= 6,
        limit_notifications_power_levels=number >= 6,
        knock_join_rule=number >= 7,
        restricted_join_rule=number >= 8,
        restricted_join_rule_fix=number >= 9,
        knock_restricted_join_rule=number >= 10,
        enforce_int_power_levels=number >= 10,
        updated_redaction_rules=number >= 11,
        implicit_room_creator=number >= 11,
        room_id_from_create_event=number >= 12,
    )


KNOWN_ROOM_VERSIONS: dict[str, RoomVersion] = {
    str(n): _version(str(n), n) for n in range(1, 13)
}

DEFAULT_ROOM_VERSION = "12"


def get_room_version(identifier: str) -> RoomVersion | None:
    """The room version with this identifier, or None if we do not implement it."""
    return KNOWN_ROOM_VERSIONS.get(identifier)
