"""Room creation (/createRoom) and reading a room's state and events as a member.

Creation sends the spec's events in the spec's order (create_room.yaml): create,
creator's join, power levels, canonical alias, the preset's join rules / history
visibility / guest access, `initial_state`, name, topic, invites, all in one batch of
the room's queue, so the room appears whole or not at all.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ranvier.errors import MatrixError
from ranvier.protocol.events import StateKey
from ranvier.protocol.identifiers import is_valid_user_id
from ranvier.protocol.room_versions import RoomVersion, get_room_version
from ranvier.services.directory import DirectoryService
from ranvier.services.events import EventCreator, NewEvent
from ranvier.services.membership import MembershipService
from ranvier.storage.events import EventsStore, StoredEvent
from ranvier.storage.rooms import RoomStore
from ranvier.storage.state import StateStore

PRESETS: Mapping[str, Mapping[str, str]] = {
    "private_chat": {"join_rule": "invite", "history_visibility": "shared",
                     "guest_access": "can_join"},
    "trusted_private_chat": {"join_rule": "invite", "history_visibility": "shared",
                             "guest_access": "can_join"},
    "public_chat": {"join_rule": "public", "history_visibility": "shared",
                    "guest_access": "forbidden"},
}

#: Keys the server sets in the create event itself (creation_content may not).
_SERVER_CREATE_KEYS = ("creator", "room_version")


@dataclass(frozen=True)
class CreateRoomRequest:
    visibility: str = "private"
    room_alias_name: str | None = None
    name: str | None = None
    topic: str | None = None
    invite: list[str] = field(default_factory=list)
    invite_3pid: list[dict[str, Any]] = field(default_factory=list)
    room_version: str | None = None
    creation_content: dict[str, Any] = field(default_factory=dict)
    initial_state: list[dict[str, Any]] = field(default_factory=list)
    preset: str | None = None
    is_direct: bool = False
    power_level_content_override: dict[str, Any] | None = None


class RoomService:
    def __init__(
        self,
        creator: EventCreator,
        membership: MembershipService,
        events: EventsStore,
        state: StateStore,
        rooms: RoomStore,
        directory: DirectoryService,
        server_name: str,
        default_room_version: str,
    ) -> None:
        self._creator = creator
        self._membership = membership
        self._events = events
        self._state = state
        self._rooms = rooms
        self._directory = directory
        self._server_name = server_name
        self._default_version = default_room_version

    # --- creation ----------------------------------------------------------------------

    async def create_room(self, user_id: str, req: CreateRoomRequest) -> str:
        version = self.check_version(req.room_version or self._default_version)
        preset = self._preset(req)
        initial_state = _parse_initial_state(req.initial_state)
        for invitee in req.invite:
            if not is_valid_user_id(invitee, allow_historical=True):
                raise MatrixError(400, "M_INVALID_PARAM", f"invite: {invitee!r} is not a user ID")
        if req.invite_3pid:
            _check_invite_3pids(req.invite_3pid)
            # They need an identity server, which this server does not talk to: refuse
            # rather than create the room without the invites.
            raise MatrixError(
                403, "M_FORBIDDEN", "invite_3pid: third-party invites are not supported"
            )
        alias = None
        if req.room_alias_name is not None:
            alias = f"#{req.room_alias_name}:{self._server_name}"
            if not req.room_alias_name or ":" in req.room_alias_name or any(
                c.isspace() for c in req.room_alias_name
            ):
                raise MatrixError(400, "M_INVALID_PARAM", f"bad room_alias_name {alias!r}")
            if await self._rooms.get_alias_room(alias) is not None:
                raise MatrixError(400, "M_ROOM_IN_USE", f"room alias {alias} is taken")

        create = self._creator.build_create(
            version,
            None if version.room_id_from_create_event else self.new_room_id(),
            user_id,
            self._create_content(version, user_id, req, preset),
        )
        room_id = create.room_id
        if req.visibility == "public" and not await self._directory.may_publish(
            user_id, room_id, [alias] if alias else []
        ):
            raise MatrixError(
                403, "M_FORBIDDEN", "the server's publication rules do not allow this room"
            )
        if alias is not None and not await self._rooms.create_alias(alias, room_id, user_id):
            raise MatrixError(400, "M_ROOM_IN_USE", f"room alias {alias} is taken")

        events = await self._initial_events(version, user_id, req, preset, alias, initial_state)
        try:
            await self._creator.send_many(room_id, events, prebuilt=create)
        except MatrixError as e:
            if alias is not None:
                await self._rooms.delete_alias(alias)
            if e.errcode == "M_FORBIDDEN":
                # The request itself made the room's state contradict itself.
                raise MatrixError(400, "M_INVALID_ROOM_STATE", e.message) from e
            raise
        if req.visibility == "public":
            await self._rooms.set_public(room_id, True)
        return room_id

    def check_version(self, identifier: str) -> RoomVersion:
        version = get_room_version(identifier)
        if version is None:
            raise MatrixError(
                400, "M_UNSUPPORTED_ROOM_VERSION", f"room version {identifier!r} is not supported"
            )
        return version

    @staticmethod
    def _preset(req: CreateRoomRequest) -> str:
        if req.visibility not in ("public", "private"):
            raise MatrixError(400, "M_INVALID_PARAM", "visibility must be 'public' or 'private'")
        preset = req.preset or ("public_chat" if req.visibility == "public" else "private_chat")
        if preset not in PRESETS:
            raise MatrixError(400, "M_INVALID_PARAM", f"unknown preset {preset!r}")
        return preset

    def new_room_id(self) -> str:
        """A fresh room ID for versions 1-11 (v12 derives it from the create event)."""
        return f"!{secrets.token_urlsafe(18)}:{self._server_name}"

    @staticmethod
    def _create_content(
        version: RoomVersion, user_id: str, req: CreateRoomRequest, preset: str
    ) -> dict[str, Any]:
        content = {k: v for k, v in req.creation_content.items() if k not in _SERVER_CREATE_KEYS}
        content["room_version"] = version.identifier
        if not version.implicit_room_creator:
            content["creator"] = user_id
        if version.room_id_from_create_event and preset == "trusted_private_chat":
            extra = content.get("additional_creators", [])
            if not isinstance(extra, list):
                raise MatrixError(
                    400, "M_BAD_JSON", "creation_content.additional_creators must be an array"
                )
            content["additional_creators"] = list(dict.fromkeys([*extra, *req.invite]))
        return content

    async def _initial_events(
        self,
        version: RoomVersion,
        user_id: str,
        req: CreateRoomRequest,
        preset: str,
        alias: str | None,
        initial_state: dict[StateKey, dict[str, Any]],
    ) -> list[NewEvent]:
        def state(etype: str, content: Mapping[str, Any], key: str = "") -> NewEvent:
            return NewEvent(etype, user_id, content, state_key=key)

        events = [await self._membership.join_event(user_id)]
        # A power levels event in initial_state replaces the default; the override
        # still applies on top.
        power_levels = initial_state.pop(
            ("m.room.power_levels", ""), None
        ) or default_power_levels(version, user_id, req.invite, preset)
        power_levels.update(req.power_level_content_override or {})
        events.append(state("m.room.power_levels", power_levels))
        if alias is not None:
            events.append(state("m.room.canonical_alias", {"alias": alias}))
        rules = PRESETS[preset]
        for etype, content in (
            ("m.room.join_rules", {"join_rule": rules["join_rule"]}),
            ("m.room.history_visibility", {"history_visibility": rules["history_visibility"]}),
            ("m.room.guest_access", {"guest_access": rules["guest_access"]}),
        ):
            if (etype, "") not in initial_state:  # initial_state takes precedence
                events.append(state(etype, content))
        overridden = {("m.room.name", "")} if req.name is not None else set()
        if req.topic is not None:
            overridden.add(("m.room.topic", ""))
        events.extend(
            state(key[0], content, key[1])
            for key, content in initial_state.items()
            if key not in overridden
        )
        if req.name is not None:
            events.append(state("m.room.name", {"name": req.name}))
        if req.topic is not None:
            events.append(
                state(
                    "m.room.topic",
                    {"topic": req.topic,
                     "m.topic": [{"body": req.topic, "mimetype": "text/plain"}]},
                )
            )
        for invitee in dict.fromkeys(req.invite):
            events.append(
                await self._membership.invite_event(user_id, invitee, is_direct=req.is_direct)
            )
        return events

    # --- reading -----------------------------------------------------------------------

    async def visible_state(self, user_id: str, room_id: str) -> dict[StateKey, str]:
        """The room state a user may read: current state while joined, else the state
        when they left (or were kicked/banned), or, never joined, the current state of a
        world-readable room."""
        await self._creator.room_version(room_id)  # M_NOT_FOUND for unknown rooms
        membership = await self._rooms.get_local_membership(user_id, room_id)
        if membership is not None and membership[0] == "join":
            return await self._state.get_current_state(room_id)
        if membership is not None and membership[0] in ("leave", "ban"):
            groups = await self._state.get_groups_for_events([membership[1]])
            if membership[1] in groups:
                return dict(await self._state.get_state(groups[membership[1]][1]))
        current = await self._state.get_current_state(room_id)
        # Anyone may read a world-readable room (history visibility, client-server API).
        visibility_id = current.get(("m.room.history_visibility", ""))
        visibility = await self._events.get_event(visibility_id) if visibility_id else None
        if visibility is not None and (
            visibility.served_event().content.get("history_visibility") == "world_readable"
        ):
            return current
        raise MatrixError(403, "M_FORBIDDEN", f"{user_id} is not in room {room_id}")

    async def get_visible_event(self, user_id: str, room_id: str, event_id: str) -> StoredEvent:
        """An event of the room, if the user was joined when it was sent or is joined
        now in a room with shared history."""
        stored = await self._events.get_event(event_id)
        if stored is None or stored.event.room_id != room_id or stored.outlier:
            raise MatrixError(404, "M_NOT_FOUND", f"event {event_id} not found")
        if not await self._may_see(user_id, stored):
            raise MatrixError(404, "M_NOT_FOUND", f"event {event_id} not found")
        return stored

    async def _may_see(self, user_id: str, stored: StoredEvent) -> bool:
        member_key = ("m.room.member", user_id)
        groups = await self._state.get_groups_for_events([stored.event.event_id])
        if stored.event.event_id not in groups:
            return False
        before = await self._state.get_state(groups[stored.event.event_id][1])
        member_id = before.get(member_key)
        if member_id is not None:
            member = await self._events.get_event(member_id)
            if member is not None and member.event.membership == "join":
                return True
        current = await self._rooms.get_local_membership(user_id, stored.event.room_id)
        if current is None or current[0] != "join":
            return False
        visibility_id = before.get(("m.room.history_visibility", ""))
        visibility = await self._events.get_event(visibility_id) if visibility_id else None
        value = visibility.event.content.get("history_visibility") if visibility else "shared"
        return value in ("shared", "world_readable")


def default_power_levels(
    version: RoomVersion, creator: str, invitees: list[str], preset: str
) -> dict[str, Any]:
    """The power levels a new room starts with. In v12 the creators (and, for
    trusted_private_chat, the invitees who became additional creators) have infinite
    power and must not be listed in `users`."""
    users: dict[str, int] = {}
    if not version.room_id_from_create_event:
        users[creator] = 100
        if preset == "trusted_private_chat":
            users.update({invitee: 100 for invitee in invitees})
    return {
        "users": users,
        "users_default": 0,
        "events": {
            "m.room.name": 50,
            "m.room.power_levels": 100,
            "m.room.history_visibility": 100,
            "m.room.canonical_alias": 50,
            "m.room.avatar": 50,
            # v12: must exceed state_default so only creators can upgrade by default
            "m.room.tombstone": 150 if version.room_id_from_create_event else 100,
            "m.room.server_acl": 100,
            "m.room.encryption": 100,
        },
        "events_default": 0,
        "state_default": 50,
        "ban": 50,
        "kick": 50,
        "redact": 50,
        "invite": 50 if preset == "public_chat" else 0,
        "notifications": {"room": 50},
    }


def _parse_initial_state(entries: list[dict[str, Any]]) -> dict[StateKey, dict[str, Any]]:
    parsed: dict[StateKey, dict[str, Any]] = {}
    for i, entry in enumerate(entries):
        etype, key, content = entry.get("type"), entry.get("state_key", ""), entry.get("content")
        if not isinstance(etype, str) or not isinstance(key, str) or not isinstance(content, dict):
            raise MatrixError(
                400, "M_BAD_JSON",
                f"initial_state[{i}] needs a string type and state_key and an object content",
            )
        if etype in ("m.room.create", "m.room.member"):
            raise MatrixError(
                400, "M_INVALID_PARAM", f"initial_state[{i}] may not set {etype}"
            )
        parsed[(etype, key)] = content
    return parsed


def _check_invite_3pids(invites: list[dict[str, Any]]) -> None:
    """createRoom's Invite3pid objects: four required strings (M_BAD_JSON)."""
    for i, invite in enumerate(invites):
        for key in ("id_server", "id_access_token", "medium", "address"):
            if not isinstance(invite.get(key), str):
                raise MatrixError(400, "M_BAD_JSON", f"invite_3pid[{i}].{key} must be a string")
