"""Room summaries (client-server API v1.15 "Room summary", room_summary.yaml) and the
rule both they and space hierarchies use for which rooms a user may preview.

A user may preview a room they are joined or invited to, a room they could join
(public, or restricted to a room they are in), a room they could knock on, and a
world-readable one (space_hierarchy.yaml lists the conditions). Without an account,
only public, knockable and world-readable rooms. Rooms on other servers need
federation and are reported as not found.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ranvier.errors import MatrixError
from ranvier.protocol.events import Event, StateKey
from ranvier.protocol.room_versions import RoomVersion, get_room_version
from ranvier.services.current_state import current_state_events
from ranvier.services.directory import ENTRY_STATE, room_chunk
from ranvier.services.membership import MembershipService
from ranvier.storage.directory import DirectoryStore
from ranvier.storage.events import EventsStore
from ranvier.storage.rooms import RoomStore
from ranvier.storage.state import StateStore

_JOIN_RULES_KEY = ("m.room.join_rules", "")
_ENCRYPTION_KEY = ("m.room.encryption", "")
_SUMMARY_STATE: tuple[StateKey, ...] = (*ENTRY_STATE, _ENCRYPTION_KEY)


@dataclass(frozen=True)
class RoomInfo:
    """A local room's summary (room_summary.yaml, without `membership`), and whether
    the user asking may see it."""

    summary: dict[str, Any]
    accessible: bool
    #: the user's membership (None: none, or nobody asked)
    membership: str | None


class RoomSummaryService:
    def __init__(
        self,
        state: StateStore,
        events: EventsStore,
        rooms: RoomStore,
        directory: DirectoryStore,
        membership: MembershipService,
    ) -> None:
        self._state = state
        self._events = events
        self._rooms = rooms
        self._directory = directory
        self._membership = membership

    async def summary(self, user_id: str | None, room_id_or_alias: str) -> dict[str, Any]:
        """GET /room_summary/{roomIdOrAlias}; `user_id` None for anonymous callers."""
        room_id = await self._membership.resolve_room(room_id_or_alias)
        info = await self.room_info(room_id, user_id)
        if info is None or not info.accessible:
            raise MatrixError(404, "M_NOT_FOUND", f"Room {room_id_or_alias} not found")
        if user_id is None:
            return info.summary
        return {**info.summary, "membership": info.membership or "leave"}

    async def room_info(self, room_id: str, user_id: str | None) -> RoomInfo | None:
        """The summary of a room we hold, or None when we hold none."""
        record = await self._rooms.get_room(room_id)
        version = get_room_version(record.room_version) if record is not None else None
        if record is None or version is None:
            return None
        state = await current_state_events(self._state, self._events, room_id, _SUMMARY_STATE)
        joined = await self._directory.count_joined_members([room_id])
        summary = room_chunk(room_id, joined.get(room_id, 0), state)
        summary["room_version"] = record.room_version
        algorithm = _content(state, _ENCRYPTION_KEY).get("algorithm")
        if isinstance(algorithm, str):
            summary["encryption"] = algorithm
        allowed = _allowed_room_ids(_content(state, _JOIN_RULES_KEY))
        if summary.get("join_rule") in ("restricted", "knock_restricted") and allowed:
            summary["allowed_room_ids"] = allowed
        membership = None
        if user_id is not None:
            current = await self._rooms.get_local_membership(user_id, room_id)
            membership = current[0] if current else None
        accessible = await self._accessible(user_id, membership, version, summary, allowed)
        return RoomInfo(summary, accessible, membership)

    async def _accessible(
        self,
        user_id: str | None,
        membership: str | None,
        version: RoomVersion,
        summary: Mapping[str, Any],
        allowed: list[str],
    ) -> bool:
        if summary["world_readable"]:
            return True
        if membership in ("join", "invite"):
            return True
        if membership == "ban":
            return False
        rule = summary.get("join_rule")
        if rule == "public":
            return True
        if (rule == "knock" and version.knock_join_rule) or (
            rule == "knock_restricted" and version.knock_restricted_join_rule
        ):
            return True
        if user_id is None or rule != "restricted" or not version.restricted_join_rule:
            return False
        joined = set(await self._rooms.get_rooms_for_user(user_id))
        return any(room_id in joined for room_id in allowed)


def _content(state: Mapping[StateKey, Event], key: StateKey) -> Mapping[str, Any]:
    event = state.get(key)
    return event.content if event is not None else {}


def _allowed_room_ids(join_rules: Mapping[str, Any]) -> list[str]:
    """The rooms whose members may join a restricted room (its `allow` conditions)."""
    allow = join_rules.get("allow")
    if not isinstance(allow, list):
        return []
    return [
        c["room_id"] for c in allow
        if isinstance(c, Mapping) and c.get("type") == "m.room_membership"
        and isinstance(c.get("room_id"), str)
    ]
