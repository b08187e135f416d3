"""Reading what the servers send back: the markers the driver puts in message bodies
(to tell which message arrived where), the parts of /sync and /messages responses the
scenarios need, and `name=value` size options."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_MARKER_PREFIX = "bench"


@dataclass(frozen=True)
class Marker:
    """Which run, sender and sequence number a message carries."""

    run: str
    sender: int
    seq: int

    def body(self) -> str:
        return f"{_MARKER_PREFIX} {self.run} {self.sender} {self.seq}"


def parse_marker(body: Any) -> Marker | None:
    """The marker in a message body, or None if the body is not one of ours."""
    if not isinstance(body, str):
        return None
    parts = body.split(" ")
    if len(parts) != 4 or parts[0] != _MARKER_PREFIX:
        return None
    try:
        return Marker(parts[1], int(parts[2]), int(parts[3]))
    except ValueError:
        return None


def joined_rooms(sync: Mapping[str, Any]) -> Mapping[str, Any]:
    return (sync.get("rooms") or {}).get("join") or {}


def timeline_events(sync: Mapping[str, Any], room_id: str) -> list[Mapping[str, Any]]:
    room = joined_rooms(sync).get(room_id) or {}
    return list((room.get("timeline") or {}).get("events") or [])


def markers_in_sync(sync: Mapping[str, Any], room_id: str, run: str) -> Iterator[Marker]:
    """The markers of `run` in the timeline of `room_id` in a /sync response."""
    for event in timeline_events(sync, room_id):
        marker = parse_marker((event.get("content") or {}).get("body"))
        if marker is not None and marker.run == run:
            yield marker


def next_batch(sync: Mapping[str, Any]) -> str:
    """The token to pass as `since` next; a response without one is a server bug."""
    token = sync.get("next_batch")
    if not isinstance(token, str) or not token:
        raise ValueError(f"/sync response has no next_batch: {str(sync)[:200]}")
    return token


def pagination_end(page: Mapping[str, Any]) -> str | None:
    """The `end` token of a /messages page, or None when there is nothing further
    (spec: `end` is omitted when there are no more events)."""
    end = page.get("end")
    if not page.get("chunk") or not isinstance(end, str):
        return None
    return end


def parse_size_options(items: list[str]) -> dict[str, dict[str, int]]:
    """`["send.events=500", "fanout.receivers=10"]` -> {"send": {"events": 500}, ...}."""
    sizes: dict[str, dict[str, int]] = {}
    for item in items:
        name, sep, value = item.partition("=")
        scenario, dot, size = name.partition(".")
        if not sep or not dot or not scenario or not size:
            raise ValueError(f"size option {item!r} must look like scenario.size=number")
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"size option {item!r}: {value!r} is not a whole number") from None
        if number < 1:
            raise ValueError(f"size option {item!r} must be at least 1")
        sizes.setdefault(scenario, {})[size] = number
    return sizes
