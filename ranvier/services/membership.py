"""Membership changes asked for by local users: join, invite, leave, kick, ban, unban,
knock, forget.

The auth rules decide what is allowed; this module adds what the client-server API
asks beyond them (a kick needs a target in the room, an unban a banned target) and
copies the user's profile into the member event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ranvier.errors import MatrixError
from ranvier.protocol.events import Event, StateKey
from ranvier.protocol.identifiers import is_valid_room_alias, is_valid_room_id, is_valid_user_id
from ranvier.services.events import EventCreator, ExtraCheck, NewEvent
from ranvier.storage.events import StoredEvent
from ranvier.storage.profiles import ProfileStore
from ranvier.storage.rooms import RoomStore


class MembershipService:
    def __init__(
        self,
        creator: EventCreator,
        rooms: RoomStore,
        profiles: ProfileStore,
        server_name: str,
    ) -> None:
        self._creator = creator
        self._rooms = rooms
        self._profiles = profiles
        self._server_name = server_name

    async def resolve_room(self, room_id_or_alias: str) -> str:
        """The ID of a room we hold, named by ID or by one of our aliases."""
        if room_id_or_alias.startswith("#"):
            if not is_valid_room_alias(room_id_or_alias):
                raise MatrixError(400, "M_INVALID_PARAM", f"bad room alias {room_id_or_alias}")
            room_id = await self._rooms.get_alias_room(room_id_or_alias)
            if room_id is None:
                raise MatrixError(404, "M_NOT_FOUND", f"room alias {room_id_or_alias} not found")
            return room_id
        if not is_valid_room_id(room_id_or_alias):
            raise MatrixError(
                400, "M_INVALID_PARAM", f"{room_id_or_alias!r} is not a room ID or alias"
            )
        if await self._rooms.get_room(room_id_or_alias) is None:
            # Joining rooms on other servers arrives with federation.
            raise MatrixError(404, "M_NOT_FOUND", f"unknown room {room_id_or_alias}")
        return room_id_or_alias

    async def join(
        self,
        user_id: str,
        room_id_or_alias: str,
        reason: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> StoredEvent:
        """Join; `extra` keys of the request go into the member event's content (as
        Synapse does). Joining again with the same content makes no new event."""
        room_id = await self.resolve_room(room_id_or_alias)
        new = await self._event(user_id, user_id, "join", reason, extra or {})
        return await self._creator.send_state(room_id, new)

    async def knock(
        self, user_id: str, room_id_or_alias: str, reason: str | None = None
    ) -> StoredEvent:
        room_id = await self.resolve_room(room_id_or_alias)
        version = await self._creator.room_version(room_id)
        if not version.knock_join_rule:
            raise MatrixError(
                403, "M_FORBIDDEN", f"room version {version.identifier} does not allow knocking"
            )
        return await self._change(room_id, user_id, user_id, "knock", reason)

    async def leave(self, user_id: str, room_id: str, reason: str | None = None) -> StoredEvent:
        return await self._change(room_id, user_id, user_id, "leave", reason)

    async def invite(
        self,
        sender: str,
        room_id: str,
        target: str,
        reason: str | None = None,
        is_direct: bool = False,
    ) -> StoredEvent:
        return await self._creator.send(
            room_id, await self.invite_event(sender, target, reason, is_direct)
        )

    async def join_event(self, user_id: str) -> NewEvent:
        """The creator's join as a `NewEvent` (createRoom sends it in its own batch)."""
        return await self._event(user_id, user_id, "join", None, {})

    async def invite_event(
        self, sender: str, target: str, reason: str | None = None, is_direct: bool = False
    ) -> NewEvent:
        """The invite as a `NewEvent` (createRoom sends it in its own batch)."""
        self._check_user_id(target)
        extra: dict[str, Any] = {"is_direct": True} if is_direct else {}
        return await self._event(sender, target, "invite", reason, extra)

    async def kick(
        self, sender: str, room_id: str, target: str, reason: str | None = None
    ) -> StoredEvent:
        self._check_user_id(target)
        return await self._change(
            room_id, sender, target, "leave", reason,
            _target_membership_in({"join", "invite", "knock"}, "is not in the room"),
        )

    async def ban(
        self, sender: str, room_id: str, target: str, reason: str | None = None
    ) -> StoredEvent:
        self._check_user_id(target)
        return await self._change(room_id, sender, target, "ban", reason)

    async def unban(
        self, sender: str, room_id: str, target: str, reason: str | None = None
    ) -> StoredEvent:
        self._check_user_id(target)
        return await self._change(
            room_id, sender, target, "leave", reason,
            _target_membership_in({"ban"}, "is not banned"),
        )

    async def forget(self, user_id: str, room_id: str) -> None:
        current = await self._rooms.get_local_membership(user_id, room_id)
        if current is None:
            raise MatrixError(404, "M_NOT_FOUND", f"{user_id} has never been in {room_id}")
        if current[0] in ("join", "invite", "knock"):
            raise MatrixError(
                400, "M_UNKNOWN", f"{user_id} must leave {room_id} before forgetting it"
            )
        await self._rooms.forget(user_id, room_id)

    # -----------------------------------------------------------------------------

    async def _change(
        self,
        room_id: str,
        sender: str,
        target: str,
        membership: str,
        reason: str | None,
        check: ExtraCheck | None = None,
    ) -> StoredEvent:
        new = await self._event(sender, target, membership, reason, {}, check)
        return await self._creator.send(room_id, new)

    async def _event(
        self,
        sender: str,
        target: str,
        membership: str,
        reason: str | None,
        extra: Mapping[str, Any],
        check: ExtraCheck | None = None,
    ) -> NewEvent:
        content: dict[str, Any] = {**extra, "membership": membership}
        if reason is not None:
            content["reason"] = reason
        if membership in ("join", "invite", "knock") and target.endswith(
            ":" + self._server_name
        ):
            profile = await self._profiles.get_profile(target)
            # The profile fills what the request did not set itself.
            if profile is not None:
                if profile.displayname is not None:
                    content.setdefault("displayname", profile.displayname)
                if profile.avatar_url is not None:
                    content.setdefault("avatar_url", profile.avatar_url)
        return NewEvent("m.room.member", sender, content, state_key=target, check=check)

    @staticmethod
    def _check_user_id(user_id: str) -> None:
        if not is_valid_user_id(user_id, allow_historical=True):
            raise MatrixError(400, "M_INVALID_PARAM", f"{user_id!r} is not a valid user ID")


def _target_membership_in(allowed: set[str], failure: str) -> ExtraCheck:
    """A check that the target's membership before the event is one of `allowed`."""

    def check(event: Event, state: Mapping[StateKey, Event]) -> None:
        assert event.state_key is not None
        current = state.get(("m.room.member", event.state_key))
        if current is None or current.membership not in allowed:
            raise MatrixError(403, "M_FORBIDDEN", f"{event.state_key} {failure}")

    return check

