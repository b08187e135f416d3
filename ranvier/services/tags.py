"""Room tags, kept as the room account data event `m.tag` (spec: "Room Tagging"), so
they reach /sync through the account data stream."""

from __future__ import annotations

from typing import Any

from ranvier.errors import MatrixError
from ranvier.services.account_data import AccountDataService, Content, check_room_id

TAG_EVENT_TYPE = "m.tag"
MAX_TAG_BYTES = 255


def _tags(content: Content | None) -> dict[str, Any]:
    # A client may have written m.tag through the account data API in any shape.
    tags = (content or {}).get("tags")
    return dict(tags) if isinstance(tags, dict) else {}


def _check_tag(tag: str, info: Content) -> None:
    if len(tag.encode()) > MAX_TAG_BYTES:
        raise MatrixError(400, "M_INVALID_PARAM", f"Tag names are at most {MAX_TAG_BYTES} bytes")
    if "order" in info:
        order = info["order"]
        if not isinstance(order, (int, float)) or isinstance(order, bool):
            raise MatrixError(400, "M_BAD_JSON", "'order' must be a number")
        if not 0 <= order <= 1:
            raise MatrixError(400, "M_INVALID_PARAM", "'order' must be between 0 and 1")


class TagsService:
    def __init__(self, account_data: AccountDataService) -> None:
        self._account_data = account_data

    async def get_tags(self, user_id: str, room_id: str) -> dict[str, Any]:
        """GET /user/{userId}/rooms/{roomId}/tags"""
        check_room_id(room_id)
        return _tags(await self._account_data.get(user_id, room_id, TAG_EVENT_TYPE))

    async def add_tag(self, user_id: str, room_id: str, tag: str, info: Content) -> None:
        """PUT /user/{userId}/rooms/{roomId}/tags/{tag}"""
        check_room_id(room_id)
        _check_tag(tag, info)

        async def add(content: Content | None) -> Content:
            return {"tags": {**_tags(content), tag: info}}

        await self._account_data.update(user_id, room_id, TAG_EVENT_TYPE, add)

    async def remove_tag(self, user_id: str, room_id: str, tag: str) -> None:
        """DELETE /user/{userId}/rooms/{roomId}/tags/{tag}; removing an absent tag
        succeeds and changes nothing."""
        check_room_id(room_id)

        async def remove(content: Content | None) -> Content | None:
            tags = _tags(content)
            if tag not in tags:
                return None
            del tags[tag]
            return {"tags": tags}

        await self._account_data.update(user_id, room_id, TAG_EVENT_TYPE, remove)

    async def copy_tags(self, user_id: str, from_room: str, to_room: str) -> None:
        """Give an upgraded room the user's tags of its predecessor, unless it has tags
        of its own already (Room Upgrades: clients should not have to re-tag)."""
        old = _tags(await self._account_data.get(user_id, from_room, TAG_EVENT_TYPE))
        if not old:
            return

        async def copy(content: Content | None) -> Content | None:
            return None if _tags(content) else {"tags": old}

        await self._account_data.update(user_id, to_room, TAG_EVENT_TYPE, copy)
