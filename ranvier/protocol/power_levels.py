"""Reading power levels as the authorization rules see them.

Room versions disagree on what a power level value may look like:
- v1-v5 accept integers, numeric strings and floats (truncated)
  (rooms/fragments/v1-stringy-power-levels.md, v1-floaty-power-levels.md);
- v6-v9 accept integers and numeric strings (floats are already invalid JSON there);
- v10+ accept integers only.

Who the room's creators are also changes: `content.creator` of the create event in
v1-v10, its `sender` from v11, and in v12 the sender plus `content.additional_creators`,
who all have infinite power (rooms/v12.md "Authorisation rules").

Every function here reads already-stored events. A value that cannot be read under the
version's rules falls back to the property's default: such values can only sit in old
v1-v9 rooms (the auth rules reject new events carrying them), and treating them as absent
lets those rooms stay usable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from .events import Event, StateKey
from .room_versions import RoomVersion

CREATE_KEY: StateKey = ("m.room.create", "")
POWER_LEVELS_KEY: StateKey = ("m.room.power_levels", "")

#: v12 room creators outrank every level a power levels event can hold. `math.inf`
#: compares correctly with any int, so callers can sort and compare without a special case.
CREATOR_POWER_LEVEL = math.inf

#: v1-v11: with no power levels event in the room, the creator has this level.
NO_POWER_LEVELS_CREATOR_LEVEL = 100

#: The integer-valued top-level properties and their defaults (client-server API,
#: `m.room.power_levels`; server-server API "Definitions").
LEVEL_DEFAULTS: Mapping[str, int] = {
    "users_default": 0,
    "events_default": 0,
    "state_default": 50,
    "ban": 50,
    "kick": 50,
    "redact": 50,
    "invite": 0,
}

# One optional sign, ASCII digits (leading zeroes allowed), optional surrounding ASCII
# whitespace. re.ASCII keeps `\d` from matching other scripts' digits, which `int()` would
# otherwise accept.
_STRINGY_INT = re.compile(r"\s*[+-]?\d+\s*", re.ASCII)

PowerLevel = int | float  # float only for CREATOR_POWER_LEVEL


def parse_power_level(value: Any, room_version: RoomVersion) -> int | None:
    """The integer a power level value stands for in this room version, or None if the
    version does not accept it as a power level."""
    if isinstance(value, bool):  # JSON true/false are not numbers
        return None
    if isinstance(value, int):
        return value
    if room_version.enforce_int_power_levels:
        return None
    if isinstance(value, str):
        return int(value) if _STRINGY_INT.fullmatch(value) else None
    # Floats are truncated only where the version does not enforce canonical JSON.
    if isinstance(value, float) and not room_version.strict_canonicaljson and math.isfinite(value):
        return int(value)
    return None


def level_or_default(content: Mapping[str, Any], key: str, room_version: RoomVersion) -> int:
    """A top-level property of power levels content (`ban`, `state_default`, ...)."""
    parsed = parse_power_level(content.get(key), room_version)
    return LEVEL_DEFAULTS[key] if parsed is None else parsed


def get_room_creators(create_event: Event) -> set[str]:
    """The users the room version treats as the room's creators."""
    version = create_event.room_version
    if not version.implicit_room_creator:
        creator = create_event.content.get("creator")
        return {creator} if isinstance(creator, str) else set()
    creators = {create_event.sender}
    if version.room_id_from_create_event:
        additional = create_event.content.get("additional_creators")
        if isinstance(additional, list):
            creators.update(user for user in additional if isinstance(user, str))
    return creators


def get_user_power_level(user_id: str, auth_events: Mapping[StateKey, Event]) -> PowerLevel:
    """`user_id`'s power level given the room's create and power levels events."""
    create = auth_events.get(CREATE_KEY)
    power_levels = auth_events.get(POWER_LEVELS_KEY)
    if create is not None:
        creators = get_room_creators(create)
        if create.room_version.room_id_from_create_event and user_id in creators:
            return CREATOR_POWER_LEVEL
    else:
        creators = set()
    if power_levels is None:
        return NO_POWER_LEVELS_CREATOR_LEVEL if user_id in creators else 0
    content = power_levels.content
    users = content.get("users")
    if isinstance(users, dict) and user_id in users:
        parsed = parse_power_level(users[user_id], power_levels.room_version)
        if parsed is not None:
            return parsed
    return level_or_default(content, "users_default", power_levels.room_version)


def get_named_level(name: str, power_levels: Event | None) -> int:
    """The *invite*, *kick*, *ban* or *redact* level (or another top-level property)."""
    if power_levels is None:
        return LEVEL_DEFAULTS[name]
    return level_or_default(power_levels.content, name, power_levels.room_version)


def event_power_required(event_type: str, is_state: bool, power_levels: Event | None) -> int:
    """The event type's *required power level*: `events[type]`, else `state_default`
    for state events or `events_default` for the others."""
    default_key = "state_default" if is_state else "events_default"
    if power_levels is None:
        return LEVEL_DEFAULTS[default_key]
    events = power_levels.content.get("events")
    if isinstance(events, dict) and event_type in events:
        parsed = parse_power_level(events[event_type], power_levels.room_version)
        if parsed is not None:
            return parsed
    return level_or_default(power_levels.content, default_key, power_levels.room_version)
