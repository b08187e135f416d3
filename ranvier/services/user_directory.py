"""User directory search (client-server API "User directory", users.yaml).

Searchers find themselves, users who share a room with them and users in public rooms
(public join rule or world-readable history); with `user_directory.search_all_users`,
every user the server knows. Deactivated accounts are never listed.
"""

from __future__ import annotations

from typing import Any

from ranvier.errors import MatrixError
from ranvier.storage.user_directory import UserDirectoryStore

DEFAULT_LIMIT = 10
MAX_LIMIT = 100


class UserDirectoryService:
    def __init__(self, store: UserDirectoryStore, *, enabled: bool, search_all_users: bool) -> None:
        self._store = store
        self._enabled = enabled
        self._search_all_users = search_all_users

    async def search(self, user_id: str, term: str, limit: int | None = None) -> dict[str, Any]:
        """`{"results": [...], "limited": bool}`; `limited` says more users matched."""
        limit = DEFAULT_LIMIT if limit is None else limit
        if limit < 0:
            raise MatrixError(400, "M_INVALID_PARAM", "limit must not be negative")
        limit = min(limit, MAX_LIMIT)
        term = term.strip()
        if not self._enabled or not term:
            return {"results": [], "limited": False}
        found = await self._store.search(
            user_id, term, limit + 1, everyone=self._search_all_users
        )
        results = []
        for user in found[:limit]:
            result: dict[str, Any] = {"user_id": user.user_id}
            if user.display_name is not None:
                result["display_name"] = user.display_name
            if user.avatar_url is not None:
                result["avatar_url"] = user.avatar_url
            results.append(result)
        return {"results": results, "limited": len(found) > limit}
