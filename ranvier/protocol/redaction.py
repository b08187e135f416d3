"""The redaction algorithm: what remains of an event once it is redacted.

The same algorithm defines what signatures and reference hashes cover, so every room
version's rules must be exact. Spec: rooms/fragments/v1-redactions.md (v1-v5),
v6-redactions.md (v6, v7), rooms/v8.md (v8), v9-redactions.md (v9, v10),
v11-redactions.md (v11, v12).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .room_versions import RoomVersion

_KEPT_TOP_LEVEL = frozenset(
    {
        "event_id",
        "type",
        "room_id",
        "sender",
        "state_key",
        "content",
        "hashes",
        "signatures",
        "depth",
        "prev_events",
        "auth_events",
        "origin_server_ts",
    }
)
# Dropped from the list by v11 (MSC2176).
_KEPT_TOP_LEVEL_BEFORE_V11 = _KEPT_TOP_LEVEL | {"prev_state", "origin", "membership"}

_POWER_LEVEL_KEYS = frozenset(
    {"ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"}
)


def redact(pdu: Mapping[str, Any], room_version: RoomVersion) -> dict[str, Any]:
    """The redacted form of `pdu` under `room_version`'s rules.

    A new dict is returned, but values kept from the input (lists, nested objects) are
    shared with it, not copied: treat both as read-only.
    """
    kept = _KEPT_TOP_LEVEL if room_version.updated_redaction_rules else _KEPT_TOP_LEVEL_BEFORE_V11
    redacted = {key: value for key, value in pdu.items() if key in kept}
    content = pdu.get("content")
    redacted["content"] = (
        _redact_content(pdu.get("type"), content, room_version)
        if isinstance(content, Mapping)
        else {}
    )
    return redacted


def _redact_content(
    event_type: object, content: Mapping[str, Any], room_version: RoomVersion
) -> dict[str, Any]:
    v11 = room_version.updated_redaction_rules
    if event_type == "m.room.create" and v11:
        # v11: the whole create content is protected (room_version, m.federate,
        # additional_creators in v12, ...).
        return dict(content)
    allowed = _allowed_content_keys(event_type, room_version)
    result = {key: value for key, value in content.items() if key in allowed}
    if event_type == "m.room.member" and v11:
        # v11 keeps only the `signed` part of a third-party invite, which auth needs.
        invite = content.get("third_party_invite")
        if isinstance(invite, Mapping) and "signed" in invite:
            result["third_party_invite"] = {"signed": invite["signed"]}
    return result


def _allowed_content_keys(event_type: object, room_version: RoomVersion) -> frozenset[str]:
    v11 = room_version.updated_redaction_rules
    match event_type:
        case "m.room.member":
            if room_version.restricted_join_rule_fix:
                return frozenset({"membership", "join_authorised_via_users_server"})
            return frozenset({"membership"})
        case "m.room.create":
            return frozenset({"creator"})
        case "m.room.join_rules":
            if room_version.restricted_join_rule:
                return frozenset({"join_rule", "allow"})
            return frozenset({"join_rule"})
        case "m.room.power_levels":
            return _POWER_LEVEL_KEYS | {"invite"} if v11 else _POWER_LEVEL_KEYS
        case "m.room.aliases" if room_version.special_case_aliases_auth:
            # v6 removed all significance of m.room.aliases from redaction (MSC2432).
            return frozenset({"aliases"})
        case "m.room.history_visibility":
            return frozenset({"history_visibility"})
        case "m.room.redaction" if v11:
            return frozenset({"redacts"})
        case _:
            return frozenset()
