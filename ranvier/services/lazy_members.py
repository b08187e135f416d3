"""Which member events lazy-loading /sync has already sent each device, so incremental
syncs can leave out the redundant ones (client-server API "Lazy-loading room members":
the server MAY assume clients remember them unless `include_redundant_members`).

Kept in memory and bounded: a forgotten entry only means a redundant event is sent
again, which the spec allows.
"""

from __future__ import annotations

from collections.abc import Mapping

from ranvier.storage.lru import LruCache

#: (user, device, room) entries kept
MAX_ROOMS = 50_000


class SentMembers:
    def __init__(self, max_rooms: int = MAX_ROOMS) -> None:
        self._sent: LruCache[tuple[str, str, str], dict[str, str]] = LruCache(max_rooms)

    def sent(self, user_id: str, device_id: str | None, room_id: str) -> Mapping[str, str]:
        """member -> the ID of the member event this device last received for them."""
        return self._sent.get((user_id, device_id or "", room_id)) or {}

    def record(
        self,
        user_id: str,
        device_id: str | None,
        room_id: str,
        members: Mapping[str, str],
        reset: bool,
    ) -> None:
        """Note member events sent; `reset` when the client has started the room afresh
        (initial sync, newly joined) and remembers nothing else of it."""
        key = (user_id, device_id or "", room_id)
        known = {} if reset else dict(self._sent.get(key) or {})
        known.update(members)
        self._sent.set(key, known)
