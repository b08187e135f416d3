"""A read-only view of a PDU (a room event as servers exchange it).

`Event` wraps the PDU's JSON dict together with the room version that says how to read
it (where the event ID comes from, how references are written, where `redacts` lives).
It holds no I/O and no server-side metadata: storage keeps rejection and
soft-failure flags beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .room_versions import EventFormat, RoomVersion

StateKey = tuple[str, str]


class Event:
    __slots__ = ("_event_id", "pdu", "room_version")

    def __init__(
        self, pdu: dict[str, Any], room_version: RoomVersion, event_id: str | None = None
    ) -> None:
        self.pdu = pdu
        self.room_version = room_version
        self._event_id = event_id

    def __repr__(self) -> str:
        return f"<Event {self.event_id} {self.type} {self.state_key!r}>"

    # --- identity ---------------------------------------------------------------

    @property
    def event_id(self) -> str:
        if self._event_id is None:
            if self.room_version.event_format is EventFormat.V1:
                self._event_id = self.pdu["event_id"]
            else:
                from .hashing import compute_event_id

                self._event_id = compute_event_id(self.pdu, self.room_version)
        return self._event_id

    @property
    def room_id(self) -> str:
        room_id = self.pdu.get("room_id")
        if room_id is None and self.room_version.room_id_from_create_event and (
            self.type == "m.room.create"
        ):
            # v12: the create event has no room_id; the room ID is its event ID with `!`.
            return "!" + self.event_id[1:]
        return room_id  # type: ignore[no-any-return]

    # --- plain fields -------------------------------------------------------------

    @property
    def type(self) -> str:
        return self.pdu["type"]  # type: ignore[no-any-return]

    @property
    def sender(self) -> str:
        return self.pdu["sender"]  # type: ignore[no-any-return]

    @property
    def state_key(self) -> str | None:
        return self.pdu.get("state_key")

    def is_state(self) -> bool:
        return "state_key" in self.pdu

    @property
    def state_pair(self) -> StateKey:
        """(type, state_key) of a state event."""
        return (self.pdu["type"], self.pdu["state_key"])

    @property
    def content(self) -> Mapping[str, Any]:
        content = self.pdu.get("content")
        return content if isinstance(content, dict) else {}

    @property
    def depth(self) -> int:
        return self.pdu.get("depth", 0)  # type: ignore[no-any-return]

    @property
    def origin_server_ts(self) -> int:
        return self.pdu.get("origin_server_ts", 0)  # type: ignore[no-any-return]

    @property
    def membership(self) -> str | None:
        value = self.content.get("membership")
        return value if isinstance(value, str) else None

    @property
    def redacts(self) -> str | None:
        """The event this redaction redacts: in `content` from v11, top level before."""
        if self.room_version.updated_redaction_rules:
            value = self.content.get("redacts")
        else:
            value = self.pdu.get("redacts")
        return value if isinstance(value, str) else None

    # --- references ---------------------------------------------------------------

    def prev_event_ids(self) -> list[str]:
        return _reference_ids(self.pdu.get("prev_events", []), self.room_version)

    def auth_event_ids(self) -> list[str]:
        return _reference_ids(self.pdu.get("auth_events", []), self.room_version)


def _reference_ids(refs: list[Any], room_version: RoomVersion) -> list[str]:
    if room_version.event_format is EventFormat.V1:
        return [ref[0] for ref in refs]
    return list(refs)
