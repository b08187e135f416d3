"""Global profiles (client-server API "Profiles", profile.yaml): reading and setting
fields, and carrying displayname / avatar_url changes into the user's member events in
every room they are joined to ("Events on Change of Profile Information").
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

import orjson

from ranvier.errors import MatrixError
from ranvier.protocol.identifiers import is_valid_user_id, parse_user_id
from ranvier.services.events import EventCreator, NewEvent
from ranvier.storage.accounts import AccountsStore
from ranvier.storage.events import EventsStore
from ranvier.storage.profiles import Profile, ProfileStore
from ranvier.storage.rooms import RoomStore
from ranvier.storage.state import StateStore

logger = logging.getLogger(__name__)

#: profile.yaml `keyName`: the two classic fields, m.tz, or a namespaced custom key
_KEY_RE = re.compile(r"^(avatar_url|displayname|m\.tz|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+)$")
MAX_KEY_BYTES = 255
MAX_PROFILE_BYTES = 64 * 1024
#: the fields copied into m.room.member events
MEMBER_FIELDS = ("displayname", "avatar_url")


class ProfileService:
    def __init__(
        self,
        profiles: ProfileStore,
        accounts: AccountsStore,
        rooms: RoomStore,
        state: StateStore,
        events: EventsStore,
        creator: EventCreator,
        server_name: str,
    ) -> None:
        self._profiles = profiles
        self._accounts = accounts
        self._rooms = rooms
        self._state = state
        self._events = events
        self._creator = creator
        self._server_name = server_name

    async def get_profile(self, user_id: str) -> Profile:
        if not is_valid_user_id(user_id, allow_historical=True):
            raise MatrixError(400, "M_INVALID_PARAM", f"{user_id!r} is not a valid user ID")
        profile = await self._load(user_id)
        if profile is None:
            # Remote profiles arrive with federation queries.
            raise MatrixError(404, "M_NOT_FOUND", f"no profile for {user_id}")
        return profile

    async def _load(self, user_id: str) -> Profile | None:
        profile = await self._profiles.get_profile(user_id)
        if profile is not None or not user_id.endswith(":" + self._server_name):
            return profile
        if await self._accounts.get_user(user_id) is None:
            return None
        # An account registered without a profile row: it starts, as at registration,
        # with its localpart as display name.
        await self._profiles.create_profile(user_id, parse_user_id(user_id)[0])
        return await self._profiles.get_profile(user_id)

    async def get_field(self, user_id: str, key: str) -> Any:
        profile = (await self.get_profile(user_id)).to_json()
        if key not in profile:
            raise MatrixError(404, "M_NOT_FOUND", f"{user_id} has no profile field {key!r}")
        return profile[key]

    async def set_field(self, requester: str, user_id: str, key: str, value: Any) -> None:
        """Set one field (None clears displayname / avatar_url); member events follow."""
        profile = await self._own_profile(requester, user_id, key)
        if key == "displayname" and value is not None and not isinstance(value, str):
            raise MatrixError(400, "M_BAD_JSON", "displayname must be a string")
        if key == "avatar_url" and value is not None and not (
            isinstance(value, str) and value.startswith("mxc://")
        ):
            raise MatrixError(400, "M_BAD_JSON", "avatar_url must be an mxc:// URI")
        if key in MEMBER_FIELDS:
            new = replace(profile, **{key: value})
        else:
            new = replace(profile, fields={**profile.fields, key: value})
        await self._save(user_id, profile, new)

    async def delete_field(self, requester: str, user_id: str, key: str) -> None:
        profile = await self._own_profile(requester, user_id, key)
        if key in MEMBER_FIELDS:
            new = replace(profile, **{key: None})
        else:
            new = replace(profile, fields={k: v for k, v in profile.fields.items() if k != key})
        await self._save(user_id, profile, new)

    async def _own_profile(self, requester: str, user_id: str, key: str) -> Profile:
        if not _KEY_RE.match(key):
            raise MatrixError(400, "M_INVALID_PARAM", f"invalid profile key {key!r}")
        if len(key.encode()) > MAX_KEY_BYTES:
            raise MatrixError(
                400, "M_KEY_TOO_LARGE", f"profile keys are at most {MAX_KEY_BYTES} bytes"
            )
        if requester != user_id:
            raise MatrixError(403, "M_FORBIDDEN", f"{requester} may not change {user_id}'s profile")
        profile = await self._load(user_id)
        if profile is None:
            raise MatrixError(404, "M_NOT_FOUND", f"no profile for {user_id}")
        return profile

    async def _save(self, user_id: str, old: Profile, new: Profile) -> None:
        if len(orjson.dumps(new.to_json())) > MAX_PROFILE_BYTES:
            raise MatrixError(
                400, "M_PROFILE_TOO_LARGE", f"profiles are at most {MAX_PROFILE_BYTES} bytes"
            )
        await self._profiles.set_profile(user_id, new)
        if (old.displayname, old.avatar_url) != (new.displayname, new.avatar_url):
            await self._update_member_events(user_id, new)

    async def _update_member_events(self, user_id: str, profile: Profile) -> None:
        """A new join event with the new name and avatar in each joined room. A room
        that refuses it (say, its power levels forbid it) keeps the old one."""
        for room_id in await self._rooms.get_rooms_for_user(user_id):
            member_id = await self._state.get_current_state_event_id(
                room_id, "m.room.member", user_id
            )
            current = await self._events.get_event(member_id) if member_id else None
            if current is None or current.event.membership != "join":
                continue
            content = {
                k: v for k, v in current.event.content.items() if k not in MEMBER_FIELDS
            }
            content.update({k: v for k, v in profile.to_json().items() if k in MEMBER_FIELDS})
            try:
                await self._creator.send(
                    room_id, NewEvent("m.room.member", user_id, content, state_key=user_id)
                )
            except MatrixError as e:
                logger.info("profile change not sent to %s: %s", room_id, e.message)
