"""Checks shared by the services that act inside a room on a member's behalf."""

from __future__ import annotations

from ranvier.errors import MatrixError
from ranvier.storage.rooms import RoomStore


async def require_joined(rooms: RoomStore, user_id: str, room_id: str) -> None:
    """M_FORBIDDEN unless `user_id` (one of our users) is joined to `room_id`."""
    membership = await rooms.get_local_membership(user_id, room_id)
    if membership is None or membership[0] != "join":
        raise MatrixError(403, "M_FORBIDDEN", f"{user_id} is not in room {room_id}")
