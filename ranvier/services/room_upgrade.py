"""Room upgrades (client-server API "Room Upgrades"): a new room in the new version
that points back at its predecessor, the important state copied over, local aliases
moved, and the old room closed with a tombstone and raised power levels.
"""

from __future__ import annotations

from typing import Any

from ranvier.errors import MatrixError
from ranvier.protocol.events import Event, StateKey
from ranvier.protocol.power_levels import (
    CREATE_KEY,
    POWER_LEVELS_KEY,
    event_power_required,
    get_room_creators,
    get_user_power_level,
)
from ranvier.services.events import EventCreator, NewEvent
from ranvier.services.rooms import RoomService
from ranvier.storage.events import EventsStore
from ranvier.storage.rooms import RoomStore
from ranvier.storage.state import StateStore

#: State carried into the new room as it is (spec: "Server behaviour" of /upgrade).
COPIED_STATE = (
    "m.room.join_rules",
    "m.room.history_visibility",
    "m.room.guest_access",
    "m.room.name",
    "m.room.topic",
    "m.room.avatar",
    "m.room.encryption",
    "m.room.server_acl",
    "m.room.canonical_alias",
)


class RoomUpgrader:
    def __init__(
        self,
        rooms_service: RoomService,
        creator: EventCreator,
        events: EventsStore,
        state: StateStore,
        rooms: RoomStore,
    ) -> None:
        self._rooms_service = rooms_service
        self._creator = creator
        self._events = events
        self._state = state
        self._rooms = rooms

    async def upgrade(self, user_id: str, old_room_id: str, new_version_id: str) -> str:
        new_version = self._rooms_service.check_version(new_version_id)
        old_version = await self._creator.room_version(old_room_id)
        current = await self._current_state_events(old_room_id)
        member = current.get(("m.room.member", user_id))
        if member is None or member.membership != "join":
            raise MatrixError(403, "M_FORBIDDEN", f"{user_id} is not in room {old_room_id}")
        if get_user_power_level(user_id, current) < event_power_required(
            "m.room.tombstone", True, current.get(POWER_LEVELS_KEY)
        ):
            raise MatrixError(
                403, "M_FORBIDDEN", f"{user_id} may not send m.room.tombstone in {old_room_id}"
            )
        old_create = current[CREATE_KEY]

        content: dict[str, Any] = {
            k: v
            for k, v in old_create.content.items()
            if k not in ("creator", "room_version", "predecessor", "additional_creators")
        }
        content["room_version"] = new_version.identifier
        content["predecessor"] = {"room_id": old_room_id}
        if not new_version.implicit_room_creator:
            content["creator"] = user_id
        tombstone_id = None
        if new_version.room_id_from_create_event:
            # v12+: the new room's ID is its create event's, so the tombstone can only
            # follow it; predecessor.event_id may then be left out (room_upgrades.md).
            create = self._creator.build_create(new_version, None, user_id, content)
        else:
            # predecessor.event_id is the old room's last event: the tombstone, sent
            # first (as Synapse does), naming the room ID chosen now.
            new_room_id = self._rooms_service.new_room_id()
            tombstone_id = await self._tombstone(user_id, old_room_id, new_room_id)
            content["predecessor"]["event_id"] = tombstone_id
            create = self._creator.build_create(new_version, new_room_id, user_id, content)
        new_room_id = create.room_id

        power_levels = dict(current[POWER_LEVELS_KEY].content) if (
            POWER_LEVELS_KEY in current
        ) else {}
        users = dict(power_levels.get("users") or {})
        if new_version.room_id_from_create_event:
            users.pop(user_id, None)  # a v12 creator has infinite power, never listed
        else:
            # Pre-v12 creators may hold no entry (v11 sender-creator, implicit 100).
            users[user_id] = max(users.get(user_id, 0), 100)
        if old_version.room_id_from_create_event and not new_version.room_id_from_create_event:
            for creator in get_room_creators(old_create):
                users.setdefault(creator, 100)
        power_levels["users"] = users

        new_events = [
            NewEvent("m.room.member", user_id, {"membership": "join"}, state_key=user_id),
            NewEvent("m.room.power_levels", user_id, power_levels, state_key=""),
        ]
        for etype in COPIED_STATE:
            old = current.get((etype, ""))
            if old is not None:
                new_events.append(NewEvent(etype, user_id, dict(old.content), state_key=""))
        for key, old in current.items():
            if key[0] == "m.room.member" and old.membership == "ban":
                new_events.append(
                    NewEvent("m.room.member", user_id, {"membership": "ban"}, state_key=key[1])
                )
        await self._creator.send_many(new_room_id, new_events, prebuilt=create)

        if tombstone_id is None:
            await self._tombstone(user_id, old_room_id, new_room_id)
        old_alias = current.get(("m.room.canonical_alias", ""))
        if old_alias is not None and old_alias.content:
            # The aliases move to the new room: the old one stops advertising them
            # (when the upgrader may say so; the upgrade stands either way).
            try:
                await self._creator.send(
                    old_room_id,
                    NewEvent("m.room.canonical_alias", user_id, {}, state_key=""),
                )
            except MatrixError as e:
                if e.status != 403:
                    raise
        await self._restrict_old_room(user_id, old_room_id, current.get(POWER_LEVELS_KEY))
        await self._rooms.move_aliases(old_room_id, new_room_id)
        old_record = await self._rooms.get_room(old_room_id)
        if old_record is not None and old_record.is_public:
            await self._rooms.set_public(old_room_id, False)
            await self._rooms.set_public(new_room_id, True)
        return new_room_id

    async def predecessor(self, room_id: str) -> str | None:
        """The room this one replaced, from its create event."""
        create_id = await self._state.get_current_state_event_id(room_id, *CREATE_KEY)
        create = await self._events.get_event(create_id) if create_id else None
        previous = create.event.content.get("predecessor") if create else None
        room = previous.get("room_id") if isinstance(previous, dict) else None
        return room if isinstance(room, str) else None

    async def _tombstone(self, user_id: str, old_room_id: str, new_room_id: str) -> str:
        stored = await self._creator.send(
            old_room_id,
            NewEvent(
                "m.room.tombstone",
                user_id,
                {"body": "This room has been replaced", "replacement_room": new_room_id},
                state_key="",
            ),
        )
        return stored.event.event_id

    async def _restrict_old_room(
        self, user_id: str, room_id: str, power_levels: Event | None
    ) -> None:
        """Stop ordinary members from talking or inviting in the old room (spec: the
        server SHOULD raise events_default and invite)."""
        content = dict(power_levels.content) if power_levels else {}
        users_default = content.get("users_default", 0)
        needed = max(50, (users_default if isinstance(users_default, int) else 0) + 1)
        changed = False
        for key in ("events_default", "invite"):
            value = content.get(key, 0)
            if not isinstance(value, int) or value < needed:
                content[key] = needed
                changed = True
        if changed:
            try:
                await self._creator.send(
                    room_id, NewEvent("m.room.power_levels", user_id, content, state_key="")
                )
            except MatrixError as e:
                if e.errcode != "M_FORBIDDEN":
                    raise
                # The upgrader may send tombstones but not change power levels: the
                # old room stays as it is, which the spec allows.

    async def _current_state_events(self, room_id: str) -> dict[StateKey, Event]:
        ids = await self._state.get_current_state(room_id)
        found = await self._events.get_events(ids.values())
        return {key: found[eid].event for key, eid in ids.items() if eid in found}
