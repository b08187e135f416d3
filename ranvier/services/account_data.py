"""Account data, global and per room, and the "account_data" stream /sync reads.

Spec: client-server API, "Client Config" (account_data). Clients may set any type
except those the server manages; the server writes those (and room tags) through
`update`, a read-modify-write serialized per user.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ranvier.errors import MatrixError
from ranvier.notifier import Notifier
from ranvier.protocol.identifiers import is_valid_room_id
from ranvier.services.keyed_lock import KeyedLock
from ranvier.storage.account_data import AccountDataStore

ACCOUNT_DATA_STREAM = "account_data"
#: Types only the server may write ("Client Config", Server Behaviour); clients may
#: still read them.
SERVER_MANAGED_TYPES = frozenset({"m.fully_read", "m.push_rules"})

Content = dict[str, Any]
#: Given the current content (None: unset), the new content, or None to leave it be.
Change = Callable[[Content | None], Awaitable[Content | None]]


def check_room_id(room_id: str) -> None:
    if not is_valid_room_id(room_id):
        raise MatrixError(400, "M_INVALID_PARAM", f"{room_id!r} is not a valid room ID")


class AccountDataService:
    def __init__(self, store: AccountDataStore, notifier: Notifier) -> None:
        self._store = store
        self._notifier = notifier
        self._locks = KeyedLock()
        notifier.set_position(ACCOUNT_DATA_STREAM, store.stream.current)

    @property
    def position(self) -> int:
        return self._store.stream.current

    async def set_for_client(
        self, user_id: str, room_id: str | None, type_: str, content: Content
    ) -> None:
        """PUT /user/{userId}[/rooms/{roomId}]/account_data/{type}"""
        if room_id is not None:
            check_room_id(room_id)
        if type_ in SERVER_MANAGED_TYPES:
            raise MatrixError(
                405, "M_BAD_JSON", f"{type_} is managed by the server and cannot be set here"
            )

        async def replace(_: Content | None) -> Content:
            return content

        await self.update(user_id, room_id, type_, replace)

    async def get_for_client(self, user_id: str, room_id: str | None, type_: str) -> Content:
        """GET /user/{userId}[/rooms/{roomId}]/account_data/{type}"""
        if room_id is not None:
            check_room_id(room_id)
        content = await self._store.get(user_id, room_id, type_)
        if content is None:
            where = f" in {room_id}" if room_id is not None else ""
            raise MatrixError(404, "M_NOT_FOUND", f"No account data of type {type_}{where}")
        return content

    async def get(self, user_id: str, room_id: str | None, type_: str) -> Content | None:
        return await self._store.get(user_id, room_id, type_)

    async def ignored_users(self, user_id: str) -> frozenset[str]:
        """The users in the user's `m.ignored_user_list` (modules/ignore_users.md)."""
        content = await self._store.get(user_id, None, "m.ignored_user_list")
        ignored = content.get("ignored_users") if content else None
        return frozenset(ignored) if isinstance(ignored, dict) else frozenset()

    async def update(self, user_id: str, room_id: str | None, type_: str, change: Change) -> bool:
        """Apply `change` to one entry, with no other write to this user's account data
        in between; returns whether it wrote (and notified the stream)."""
        async with self._locks.hold(user_id):
            new = await change(await self._store.get(user_id, room_id, type_))
            if new is None:
                return False
            position = await self._store.put(user_id, room_id, type_, new)
        self._notifier.notify(ACCOUNT_DATA_STREAM, position, users=(user_id,))
        return True

    async def changes_for_sync(
        self, user_id: str, from_pos: int | None, to_pos: int
    ) -> tuple[list[Content], dict[str, list[Content]]]:
        """The account data events /sync renders for changes in (from_pos, to_pos]
        (everything when `from_pos` is None): (global events, room ID -> events).
        Rooms the user has left are included; /sync keeps the rooms it shows."""
        global_events: list[Content] = []
        by_room: dict[str, list[Content]] = {}
        for entry in await self._store.changes(user_id, from_pos, to_pos):
            event = {"type": entry.type, "content": entry.content}
            if entry.room_id is None:
                global_events.append(event)
            else:
                by_room.setdefault(entry.room_id, []).append(event)
        return global_events, by_room
