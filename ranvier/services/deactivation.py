"""Deactivating an account (POST /account/deactivate): what goes with it.

The account is closed first (no password, no tokens, no devices: their keys, to-device
inboxes and pushers follow through the device-deletion listeners), so nothing can act
as the user while the rest happens. Then the user leaves every room they are in, has
been invited to or knocked on (an invite is rejected), as Synapse does, so the rooms
stop counting them. The user directory lists no deactivated account. With `erase`,
the profile is emptied too.
"""

from __future__ import annotations

import logging

from ranvier.errors import MatrixError
from ranvier.services.accounts import AccountsService
from ranvier.services.membership import MembershipService
from ranvier.storage.profiles import Profile, ProfileStore
from ranvier.storage.rooms import RoomStore

logger = logging.getLogger(__name__)

#: Memberships a deactivated user gives up.
_LEFT_BEHIND = ("join", "invite", "knock")


class AccountDeactivator:
    def __init__(
        self,
        accounts: AccountsService,
        membership: MembershipService,
        rooms: RoomStore,
        profiles: ProfileStore,
    ) -> None:
        self._accounts = accounts
        self._membership = membership
        self._rooms = rooms
        self._profiles = profiles

    async def deactivate(self, user_id: str, *, erase: bool) -> None:
        await self._accounts.deactivate(user_id)
        if erase:
            # Before leaving, so no member event sent from here on carries the profile.
            await self._profiles.set_profile(user_id, Profile(None, None))
        for membership in _LEFT_BEHIND:
            for room_id in await self._rooms.get_rooms_for_user(user_id, membership):
                try:
                    await self._membership.leave(user_id, room_id)
                except MatrixError as e:  # one room refusing must not keep the others
                    logger.warning("deactivated %s could not leave %s: %s",
                                   user_id, room_id, e.message)
