"""The tokens clients hold: sync tokens (/sync `since`/`next_batch`) and room positions
(`prev_batch`, /messages `from`/`to`/`start`/`end`, /context `start`/`end`, /members
`at`). Formats: docs/ARCHITECTURE.md "Streams".

Both are opaque to clients; a token we cannot read is the client's mistake: 400
M_INVALID_PARAM naming the parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import astuple, dataclass, fields

from ranvier.errors import MatrixError
from ranvier.storage.room_stream import RoomKey


@dataclass(frozen=True)
class SyncToken:
    """One position per stream a client syncs, in this fixed order. Streams that no
    service writes yet stay at 0; to_device and device_lists arrive with E2EE."""

    events: int = 0
    account_data: int = 0
    receipts: int = 0
    typing: int = 0
    presence: int = 0
    push_rules: int = 0
    to_device: int = 0
    device_lists: int = 0

    def __str__(self) -> str:
        return "s" + "_".join(str(v) for v in astuple(self))

    @classmethod
    def parse(cls, raw: str, param: str = "since") -> SyncToken:
        """`s<events>_<account_data>_...`; a token from a version with fewer streams
        reads the missing ones as 0."""
        parts = raw[1:].split("_") if raw.startswith("s") else []
        if not 1 <= len(parts) <= len(fields(cls)) or not all(_is_uint(p) for p in parts):
            raise MatrixError(400, "M_INVALID_PARAM", f"{param} is not a valid sync token")
        return cls(*(int(p) for p in parts))

    @classmethod
    def from_positions(cls, positions: Mapping[str, int]) -> SyncToken:
        return cls(**{f.name: positions.get(f.name, 0) for f in fields(cls)})

    def positions(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _is_uint(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 19


def room_token(key: RoomKey) -> str:
    """A position in a room's topological order: `t<depth>-<stream>`."""
    return f"t{key.topological}-{key.stream}"


@dataclass(frozen=True)
class RoomPosition:
    """A parsed pagination token: a topological key, or a sync token's events position
    (converted to a key once the room is known)."""

    key: RoomKey | None = None
    stream: int | None = None


def parse_room_token(raw: str, param: str) -> RoomPosition:
    if raw.startswith("t"):
        topo, sep, stream = raw[1:].partition("-")
        # negative stream parts appear just before a room's first event
        stream_digits = stream[1:] if stream.startswith("-") else stream
        if sep and _is_uint(topo) and _is_uint(stream_digits):
            return RoomPosition(key=RoomKey(int(topo), int(stream)))
    elif raw.startswith("s"):
        return RoomPosition(stream=SyncToken.parse(raw, param).events)
    raise MatrixError(400, "M_INVALID_PARAM", f"{param} is not a valid pagination token")
