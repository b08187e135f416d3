"""Filters (client-server API "Filtering", filter.yaml): validation and event matching.

A filter arrives as JSON from POST /user/{userId}/filter, inline in /sync's `filter`
parameter, or in /messages' and /context's `filter`. `parse_filter` checks it field by
field and raises `InvalidFilter` naming the first bad field; the result is immutable and
matches events as plain data (type, sender, room, content), so it serves clients' events
and federation PDUs alike.

Wildcards: in `types`/`not_types` a `*` matches any sequence of characters (the spec
allows it there only). `not_*` lists win over their positive counterparts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ranvier.protocol.errors import ProtocolError

#: the default number of timeline events per room in /sync (Synapse's default too)
DEFAULT_TIMELINE_LIMIT = 10


class InvalidFilter(ProtocolError):
    """A filter breaks the schema of filter.yaml; the message names the field."""


@lru_cache(maxsize=1024)
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def _type_matches(patterns: tuple[str, ...], event_type: str) -> bool:
    return any(
        p == event_type if "*" not in p else _glob(p).fullmatch(event_type) is not None
        for p in patterns
    )


@dataclass(frozen=True)
class EventFilter:
    """filter.yaml `EventFilter` (presence, global account data)."""

    limit: int | None = None
    types: tuple[str, ...] | None = None
    not_types: tuple[str, ...] = ()
    senders: tuple[str, ...] | None = None
    not_senders: tuple[str, ...] = ()

    def matches(self, event_type: str, sender: str | None = None) -> bool:
        if _type_matches(self.not_types, event_type):
            return False
        if self.types is not None and not _type_matches(self.types, event_type):
            return False
        if sender is not None:
            if sender in self.not_senders:
                return False
            if self.senders is not None and sender not in self.senders:
                return False
        return True

    def apply_limit(self, items: Sequence[Any]) -> list[Any]:
        return list(items if self.limit is None else items[: self.limit])


@dataclass(frozen=True)
class RoomEventFilter(EventFilter):
    """filter.yaml `RoomEventFilter` (timeline, state, ephemeral, room account data)."""

    rooms: tuple[str, ...] | None = None
    not_rooms: tuple[str, ...] = ()
    #: True: only events with a `url` in their content; False: only without one
    contains_url: bool | None = None
    lazy_load_members: bool = False
    include_redundant_members: bool = False
    unread_thread_notifications: bool = False

    def allows_room(self, room_id: str) -> bool:
        if room_id in self.not_rooms:
            return False
        return self.rooms is None or room_id in self.rooms

    @property
    def matches_every_event(self) -> bool:
        """Whether `matches_event` is true of every event (a page needs no check)."""
        return (
            self.types is None and not self.not_types and self.senders is None
            and not self.not_senders and self.rooms is None and not self.not_rooms
            and self.contains_url is None
        )

    def matches_event(self, event: Mapping[str, Any]) -> bool:
        """Whether an event (client or PDU form) passes the filter."""
        if not self.matches(event.get("type", ""), event.get("sender")):
            return False
        room_id = event.get("room_id")
        if room_id is not None and not self.allows_room(room_id):
            return False
        if self.contains_url is not None:
            content = event.get("content")
            has_url = isinstance(content, Mapping) and isinstance(content.get("url"), str)
            if has_url != self.contains_url:
                return False
        return True


@dataclass(frozen=True)
class RoomFilter:
    """filter.yaml `RoomFilter`: which rooms, and a filter per part of a room."""

    rooms: tuple[str, ...] | None = None
    not_rooms: tuple[str, ...] = ()
    include_leave: bool = False
    timeline: RoomEventFilter = field(default_factory=RoomEventFilter)
    state: RoomEventFilter = field(default_factory=RoomEventFilter)
    ephemeral: RoomEventFilter = field(default_factory=RoomEventFilter)
    account_data: RoomEventFilter = field(default_factory=RoomEventFilter)

    def allows_room(self, room_id: str) -> bool:
        if room_id in self.not_rooms:
            return False
        return self.rooms is None or room_id in self.rooms

    @property
    def timeline_limit(self) -> int:
        limit = self.timeline.limit
        return DEFAULT_TIMELINE_LIMIT if limit is None else limit


@dataclass(frozen=True)
class Filter:
    """A whole filter (filter.yaml `Filter`)."""

    event_fields: tuple[str, ...] | None = None
    event_format: str = "client"
    presence: EventFilter = field(default_factory=EventFilter)
    account_data: EventFilter = field(default_factory=EventFilter)
    room: RoomFilter = field(default_factory=RoomFilter)


# --- parsing -------------------------------------------------------------------------------


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidFilter(f"{where} must be an object")
    return value


def _strings(body: Mapping[str, Any], key: str, where: str) -> tuple[str, ...] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidFilter(f"{where}{key} must be an array of strings")
    return tuple(value)


def _ids(body: Mapping[str, Any], key: str, where: str, sigil: str) -> tuple[str, ...] | None:
    """A list of user IDs (sigil '@') or room IDs ('!'): the filter schemas' `pattern`."""
    value = _strings(body, key, where)
    if value is not None and not all(v.startswith(sigil) for v in value):
        kind = "user" if sigil == "@" else "room"
        raise InvalidFilter(f"{where}{key} must be {kind} IDs (starting with '{sigil}')")
    return value


def _flag(body: Mapping[str, Any], key: str, where: str) -> bool | None:
    value = body.get(key)
    if value is not None and not isinstance(value, bool):
        raise InvalidFilter(f"{where}{key} must be a boolean")
    return value


def _event_filter_fields(body: Mapping[str, Any], where: str) -> dict[str, Any]:
    limit = body.get("limit")
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise InvalidFilter(f"{where}limit must be an integer")
        if limit < 0:
            raise InvalidFilter(f"{where}limit must not be negative")
    return {
        "limit": limit,
        "types": _strings(body, "types", where),
        "not_types": _strings(body, "not_types", where) or (),
        "senders": _ids(body, "senders", where, "@"),
        "not_senders": _ids(body, "not_senders", where, "@") or (),
    }


def parse_event_filter(value: Any, where: str = "") -> EventFilter:
    body = _obj(value, where.rstrip(".") or "filter")
    return EventFilter(**_event_filter_fields(body, where))


def parse_room_event_filter(value: Any, where: str = "") -> RoomEventFilter:
    body = _obj(value, where.rstrip(".") or "filter")
    return RoomEventFilter(
        **_event_filter_fields(body, where),
        rooms=_ids(body, "rooms", where, "!"),
        not_rooms=_ids(body, "not_rooms", where, "!") or (),
        contains_url=_flag(body, "contains_url", where),
        lazy_load_members=bool(_flag(body, "lazy_load_members", where)),
        include_redundant_members=bool(_flag(body, "include_redundant_members", where)),
        unread_thread_notifications=bool(_flag(body, "unread_thread_notifications", where)),
    )


def parse_filter(value: Any) -> Filter:
    """A `Filter` from its JSON form, or `InvalidFilter` naming the bad field."""
    body = _obj(value, "filter")
    event_format = body.get("event_format", "client")
    if event_format not in ("client", "federation"):
        raise InvalidFilter("event_format must be 'client' or 'federation'")
    room = _obj(body.get("room"), "room")
    return Filter(
        event_fields=_strings(body, "event_fields", ""),
        event_format=event_format,
        presence=parse_event_filter(body.get("presence"), "presence."),
        account_data=parse_event_filter(body.get("account_data"), "account_data."),
        room=RoomFilter(
            rooms=_ids(room, "rooms", "room.", "!"),
            not_rooms=_ids(room, "not_rooms", "room.", "!") or (),
            include_leave=bool(_flag(room, "include_leave", "room.")),
            timeline=parse_room_event_filter(room.get("timeline"), "room.timeline."),
            state=parse_room_event_filter(room.get("state"), "room.state."),
            ephemeral=parse_room_event_filter(room.get("ephemeral"), "room.ephemeral."),
            account_data=parse_room_event_filter(
                room.get("account_data"), "room.account_data."
            ),
        ),
    )


# --- event_fields ---------------------------------------------------------------------------


def _field_path(spec: str) -> list[str]:
    """`content.body` -> ["content", "body"]; `\\.` is a literal dot, `\\\\` a backslash."""
    parts, current, escaped = [], [], False
    for ch in spec:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def project_fields(event: Mapping[str, Any], event_fields: Sequence[str]) -> dict[str, Any]:
    """Only the listed fields of an event (filter.yaml `event_fields`); fields that
    are missing or not reachable through objects are left out."""
    out: dict[str, Any] = {}
    for spec in event_fields:
        path = _field_path(spec)
        value: Any = event
        for key in path:
            if not isinstance(value, Mapping) or key not in value:
                break
            value = value[key]
        else:
            target = out
            for key in path[:-1]:
                # copy on the way down: never write into the event itself
                parent = target.get(key)
                target[key] = dict(parent) if isinstance(parent, Mapping) else {}
                target = target[key]
            target[path[-1]] = value
    return out
