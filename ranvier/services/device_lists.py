"""The "device_lists" stream: who must re-fetch whose device keys.

A change to a user's devices or cross-signing keys is an append; /sync and
/keys/changes turn the appends and the membership changes between two sync tokens
into `changed` (users sharing a room with the syncing user whose keys changed, or
whom the user newly shares a room with) and `left` (users the user no longer shares
any room with). Spec: "Tracking the device list for a user".
"""

from __future__ import annotations

from collections.abc import Iterable

from ranvier.notifier import Notifier
from ranvier.services.tokens import SyncToken
from ranvier.storage.device_lists import DeviceListsStore
from ranvier.storage.rooms import RoomStore

DEVICE_LISTS_STREAM = "device_lists"


class DeviceListsService:
    def __init__(self, store: DeviceListsStore, rooms: RoomStore, notifier: Notifier) -> None:
        self._store = store
        self._rooms = rooms
        self._notifier = notifier
        notifier.set_position(DEVICE_LISTS_STREAM, store.stream.current)

    @property
    def position(self) -> int:
        return self._store.stream.current

    async def devices_changed(self, user_id: str) -> None:
        """The user's devices or cross-signing keys changed: tell everyone who shares a
        room with them (and their own other devices)."""
        position = await self._store.append([user_id])
        rooms = await self._rooms.get_rooms_for_user(user_id)
        self._notifier.notify(DEVICE_LISTS_STREAM, position, rooms=rooms, users=(user_id,))

    async def signatures_changed_for(self, observer: str, user_ids: Iterable[str]) -> None:
        """`observer` signed these users' master keys with their user-signing key: only
        the observer can see those signatures, so only their devices hear of it."""
        position = await self._store.append(user_ids, observer=observer)
        self._notifier.notify(DEVICE_LISTS_STREAM, position, users=(observer,))

    async def changes_for_sync(
        self, user_id: str, since: SyncToken, until: SyncToken
    ) -> tuple[set[str], set[str]]:
        """(changed, left) between two sync tokens, as /sync's `device_lists` and
        /keys/changes render them. Reads the device-lists range and the events range
        of the tokens, and membership as it stands now."""
        changed = await self._store.changed_between(
            user_id, since.device_lists, until.device_lists
        )
        maybe_left: set[str] = set()
        own_joins: set[str] = set()
        own_leaves: set[str] = set()
        for change in await self._store.membership_changes(user_id, since.events, until.events):
            joined = change.membership == "join"
            if change.user_id == user_id:
                (own_joins if joined else own_leaves).add(change.room_id)
            else:
                (changed if joined else maybe_left).add(change.user_id)
        # Newly sharing a room with everyone in a room just joined; perhaps no longer
        # sharing one with everyone in a room just left.
        changed |= await self._store.joined_members(sorted(own_joins))
        maybe_left |= await self._store.joined_members(sorted(own_leaves - own_joins))
        sharing = await self._store.users_sharing_a_room(user_id, changed | maybe_left)
        sharing.add(user_id)  # a user always hears of their own devices
        changed &= sharing
        left = maybe_left - sharing
        return changed, left

    async def changes_since_for_client(
        self, user_id: str, since: SyncToken, until: SyncToken
    ) -> dict[str, list[str]]:
        """GET /keys/changes"""
        changed, left = await self.changes_for_sync(user_id, since, until)
        return {"changed": sorted(changed), "left": sorted(left)}

