"""Room aliases and the published room directory (client-server API "Room aliases",
"Published room directory"; directory.yaml, list_public_rooms.yaml), and the rule that
an `m.room.canonical_alias` event may only name aliases that point at its room.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from matrix_common.regex import glob_to_regex

from ranvier.errors import MatrixError
from ranvier.protocol.events import Event, StateKey
from ranvier.protocol.identifiers import is_valid_room_alias, server_name_of
from ranvier.protocol.power_levels import (
    CREATE_KEY,
    POWER_LEVELS_KEY,
    event_power_required,
    get_user_power_level,
)
from ranvier.services.current_state import current_state_events
from ranvier.services.events import EventCreator, NewEvent
from ranvier.storage.accounts import AccountsStore
from ranvier.storage.directory import DirectoryStore
from ranvier.storage.events import EventsStore
from ranvier.storage.rooms import RoomStore
from ranvier.storage.state import StateStore

#: The state a directory entry shows (public_rooms_chunk.yaml).
ENTRY_STATE: tuple[StateKey, ...] = (
    CREATE_KEY,
    ("m.room.name", ""),
    ("m.room.topic", ""),
    ("m.room.avatar", ""),
    ("m.room.canonical_alias", ""),
    ("m.room.join_rules", ""),
    ("m.room.history_visibility", ""),
    ("m.room.guest_access", ""),
)
DEFAULT_PUBLIC_ROOMS_LIMIT = 100


@dataclass(frozen=True)
class PublicRoomsQuery:
    limit: int | None = None
    since: str | None = None
    search_term: str | None = None
    #: None: every type; a list may hold None for rooms without a type
    room_types: Sequence[str | None] | None = None
    third_party_instance_id: str | None = None


class DirectoryService:
    def __init__(
        self,
        directory: DirectoryStore,
        rooms: RoomStore,
        state: StateStore,
        events: EventsStore,
        accounts: AccountsStore,
        creator: EventCreator,
        server_name: str,
        publication_rules: Sequence[Mapping[str, Any]],
    ) -> None:
        self._creator = creator
        self._directory = directory
        self._rooms = rooms
        self._state = state
        self._events = events
        self._accounts = accounts
        self._server_name = server_name
        self._publication_rules = publication_rules

    # --- aliases ---------------------------------------------------------------------

    async def create_alias(self, user_id: str, alias: str, room_id: str) -> None:
        self._check_local_alias(alias)
        if await self._rooms.get_room(room_id) is None:
            raise MatrixError(404, "M_NOT_FOUND", f"unknown room {room_id}")
        if not await self._rooms.create_alias(alias, room_id, user_id):
            raise MatrixError(409, "M_UNKNOWN", f"room alias {alias} already exists")

    async def resolve_alias(self, alias: str) -> dict[str, Any]:
        if not is_valid_room_alias(alias):
            raise MatrixError(400, "M_INVALID_PARAM", f"{alias!r} is not a valid room alias")
        found = await self._directory.get_alias(alias)
        if found is None:
            # Aliases of other servers are resolved over federation, which is not here yet.
            raise MatrixError(404, "M_NOT_FOUND", f"room alias {alias} not found")
        return {"room_id": found[0], "servers": [self._server_name]}

    async def delete_alias(self, user_id: str, alias: str) -> None:
        """The alias's creator, a server admin, or a member allowed to change the
        room's canonical alias may delete it."""
        if not is_valid_room_alias(alias):
            raise MatrixError(400, "M_INVALID_PARAM", f"{alias!r} is not a valid room alias")
        found = await self._directory.get_alias(alias)
        if found is None:
            raise MatrixError(404, "M_NOT_FOUND", f"room alias {alias} not found")
        room_id, creator = found
        if not (
            user_id == creator
            or await self._is_admin(user_id)
            or await self._may_send_state(user_id, room_id, "m.room.canonical_alias")
        ):
            raise MatrixError(403, "M_FORBIDDEN", f"{user_id} may not delete {alias}")
        await self._rooms.delete_alias(alias)
        await self._unadvertise(user_id, room_id, alias)

    async def _unadvertise(self, user_id: str, room_id: str, alias: str) -> None:
        """Take a deleted alias out of the room's m.room.canonical_alias, sent as the
        deleting user (directory.yaml allows it, as Synapse does). Without the power to
        send it, the deletion still succeeds, as the spec recommends."""
        key = ("m.room.canonical_alias", "")
        current = (await self._state_of(room_id, [key])).get(key)
        if current is None:
            return
        content = dict(current.content)
        alt = content.get("alt_aliases")
        changed = content.get("alias") == alias
        if changed:
            del content["alias"]
        if isinstance(alt, list) and alias in alt:
            changed = True
            content["alt_aliases"] = [a for a in alt if a != alias]
        if not changed:
            return
        try:
            await self._creator.send(
                room_id, NewEvent(key[0], user_id, content, state_key=key[1])
            )
        except MatrixError as e:
            if e.status != 403:
                raise

    async def room_aliases(self, user_id: str, room_id: str) -> list[str]:
        """GET /rooms/{roomId}/aliases: for members and for world-readable rooms."""
        if await self._rooms.get_room(room_id) is None:
            raise MatrixError(403, "M_FORBIDDEN", f"{user_id} is not in room {room_id}")
        membership = await self._rooms.get_local_membership(user_id, room_id)
        if membership is None or membership[0] != "join":
            state = await self._state_of(room_id, [("m.room.history_visibility", "")])
            visibility = state.get(("m.room.history_visibility", ""))
            if visibility is None or (
                visibility.content.get("history_visibility") != "world_readable"
            ):
                raise MatrixError(403, "M_FORBIDDEN", f"{user_id} is not in room {room_id}")
        return await self._directory.get_aliases_for_room(room_id)

    async def check_canonical_alias(self, room_id: str, content: Mapping[str, Any]) -> None:
        """An m.room.canonical_alias event's aliases must be valid (M_INVALID_PARAM) and,
        for our own aliases, point at this room (M_BAD_ALIAS). Other servers' aliases
        are not checked until federation can resolve them."""
        aliases: list[Any] = []
        if content.get("alias") is not None:
            aliases.append(content["alias"])
        alt = content.get("alt_aliases")
        if alt is not None:
            if not isinstance(alt, list):
                raise MatrixError(400, "M_INVALID_PARAM", "alt_aliases must be an array")
            aliases.extend(alt)
        for alias in aliases:
            if not isinstance(alias, str) or not is_valid_room_alias(alias):
                raise MatrixError(400, "M_INVALID_PARAM", f"{alias!r} is not a valid room alias")
            if server_name_of(alias) != self._server_name:
                continue
            found = await self._directory.get_alias(alias)
            if found is None or found[0] != room_id:
                raise MatrixError(
                    400, "M_BAD_ALIAS", f"the alias {alias} does not point to this room"
                )

    def _check_local_alias(self, alias: str) -> None:
        if not is_valid_room_alias(alias):
            raise MatrixError(400, "M_INVALID_PARAM", f"{alias!r} is not a valid room alias")
        if server_name_of(alias) != self._server_name:
            raise MatrixError(
                400, "M_INVALID_PARAM", f"room alias {alias} does not belong to this server"
            )

    # --- visibility -----------------------------------------------------------------

    async def get_visibility(self, room_id: str) -> str:
        room = await self._rooms.get_room(room_id)
        if room is None:
            raise MatrixError(404, "M_NOT_FOUND", f"unknown room {room_id}")
        return "public" if room.is_public else "private"

    async def set_visibility(self, user_id: str, room_id: str, visibility: str) -> None:
        """Room admins (who may change the canonical alias) and server admins may
        publish a room, when `room_list_publication_rules` allow it."""
        if visibility not in ("public", "private"):
            raise MatrixError(400, "M_INVALID_PARAM", "visibility must be 'public' or 'private'")
        if await self._rooms.get_room(room_id) is None:
            raise MatrixError(404, "M_NOT_FOUND", f"unknown room {room_id}")
        if not (
            await self._may_send_state(user_id, room_id, "m.room.canonical_alias")
            or await self._is_admin(user_id)
        ):
            raise MatrixError(
                403, "M_FORBIDDEN", f"{user_id} may not change the visibility of {room_id}"
            )
        if visibility == "public" and not await self.may_publish(user_id, room_id):
            raise MatrixError(
                403, "M_FORBIDDEN", "the server's publication rules do not allow this room"
            )
        await self._rooms.set_public(room_id, visibility == "public")

    async def may_publish(
        self, user_id: str, room_id: str, aliases: Sequence[str] | None = None
    ) -> bool:
        """`room_list_publication_rules`: the first rule matching the user, the room
        and (any of) its aliases (by default those it has now) decides; with no match
        the room is not published."""
        if aliases is None:
            aliases = await self._directory.get_aliases_for_room(room_id)
        for rule in self._publication_rules:
            if not _glob_matches(rule.get("user_id", "*"), user_id):
                continue
            if not _glob_matches(rule.get("room_id", "*"), room_id):
                continue
            alias_glob = rule.get("alias", "*")
            if alias_glob != "*" and not any(_glob_matches(alias_glob, a) for a in aliases):
                continue
            return rule.get("action") == "allow"
        return False

    # --- the published directory ---------------------------------------------------

    async def public_rooms(self, query: PublicRoomsQuery) -> dict[str, Any]:
        """One page of the published rooms, largest first; `since` tokens are offsets
        into that order ("n<offset>" forwards, "p<offset>" backwards)."""
        limit = DEFAULT_PUBLIC_ROOMS_LIMIT if query.limit is None else query.limit
        if limit < 0:
            raise MatrixError(400, "M_INVALID_PARAM", "limit must not be negative")
        start = _parse_since(query.since, limit)
        # No application service networks exist, so a third-party instance is empty.
        entries = [] if query.third_party_instance_id else await self._entries()
        entries = [e for e in entries if _matches(e, query)]
        entries.sort(key=lambda e: (-e["num_joined_members"], e["room_id"]))
        page = entries[start : start + limit]
        out: dict[str, Any] = {"chunk": page, "total_room_count_estimate": len(entries)}
        if start + limit < len(entries):
            out["next_batch"] = f"n{start + limit}"
        if start > 0:
            out["prev_batch"] = f"p{start}"
        return out

    async def _entries(self) -> list[dict[str, Any]]:
        room_ids = await self._directory.get_public_room_ids()
        counts = await self._directory.count_joined_members(room_ids)
        entries = []
        for room_id in room_ids:
            state = await self._state_of(room_id, ENTRY_STATE)
            entries.append(room_chunk(room_id, counts.get(room_id, 0), state))
        return entries

    # --- helpers -------------------------------------------------------------------

    async def _state_of(self, room_id: str, keys: Sequence[StateKey]) -> dict[StateKey, Event]:
        return await current_state_events(self._state, self._events, room_id, keys)

    async def _may_send_state(self, user_id: str, room_id: str, event_type: str) -> bool:
        membership = await self._rooms.get_local_membership(user_id, room_id)
        if membership is None or membership[0] != "join":
            return False
        state = await self._state_of(room_id, [CREATE_KEY, POWER_LEVELS_KEY])
        required = event_power_required(event_type, True, state.get(POWER_LEVELS_KEY))
        return get_user_power_level(user_id, state) >= required

    async def _is_admin(self, user_id: str) -> bool:
        user = await self._accounts.get_user(user_id)
        return user is not None and user.is_admin


def _glob_matches(pattern: Any, value: str) -> bool:
    return isinstance(pattern, str) and glob_to_regex(pattern).fullmatch(value) is not None


def _parse_since(since: str | None, limit: int) -> int:
    if since is None:
        return 0
    if len(since) > 1 and since[0] in "np" and since[1:].isdigit():
        offset = int(since[1:])
        return offset if since[0] == "n" else max(0, offset - limit)
    raise MatrixError(400, "M_INVALID_PARAM", f"invalid pagination token {since!r}")


def room_chunk(room_id: str, joined: int, state: Mapping[StateKey, Event]) -> dict[str, Any]:
    """A room as public_rooms_chunk.yaml describes it, from its state (`ENTRY_STATE`);
    also the base of room summaries and space hierarchies."""
    def value(etype: str, key: str) -> Any:
        event = state.get((etype, ""))
        return None if event is None else event.content.get(key)

    entry: dict[str, Any] = {
        "room_id": room_id,
        "num_joined_members": joined,
        "world_readable": value("m.room.history_visibility", "history_visibility")
        == "world_readable",
        "guest_can_join": value("m.room.guest_access", "guest_access") == "can_join",
    }
    optional = {
        "name": value("m.room.name", "name"),
        "topic": value("m.room.topic", "topic"),
        "avatar_url": value("m.room.avatar", "url"),
        "canonical_alias": value("m.room.canonical_alias", "alias"),
        "join_rule": value("m.room.join_rules", "join_rule"),
        "room_type": value("m.room.create", "type"),
    }
    entry.update({k: v for k, v in optional.items() if isinstance(v, str) and v})
    return entry


def _matches(entry: Mapping[str, Any], query: PublicRoomsQuery) -> bool:
    if query.room_types is not None and entry.get("room_type") not in query.room_types:
        return False
    term = (query.search_term or "").strip().casefold()
    if not term:
        return True
    searched = (entry.get("name"), entry.get("topic"), entry.get("canonical_alias"))
    return any(isinstance(s, str) and term in s.casefold() for s in searched)
