"""Filters: upload and fetch (POST/GET /user/{userId}/filter), and reading the `filter`
parameter of /sync (an uploaded filter's ID, or inline JSON) and of /messages and
/context (inline JSON RoomEventFilter)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import orjson

from ranvier.errors import MatrixError
from ranvier.protocol.filters import (
    Filter,
    InvalidFilter,
    RoomEventFilter,
    parse_filter,
    parse_room_event_filter,
)
from ranvier.storage.filters import FilterStore

T = TypeVar("T")


class FilterService:
    def __init__(self, store: FilterStore) -> None:
        self._store = store

    async def upload(self, requester: str, user_id: str, body: dict[str, Any]) -> str:
        self._check_owner(requester, user_id, "create")
        _parse(parse_filter, body)
        return str(await self._store.add_filter(user_id, body))

    async def get(self, requester: str, user_id: str, filter_id: str) -> dict[str, Any]:
        self._check_owner(requester, user_id, "read")
        found = await self._lookup(user_id, filter_id)
        if found is None:
            raise MatrixError(404, "M_NOT_FOUND", f"no filter {filter_id!r}")
        return found

    async def sync_filter(self, user_id: str, param: str | None) -> Filter:
        """/sync's `filter`: JSON when it starts with `{`, else a filter ID."""
        if param is None:
            return Filter()
        if param.startswith("{"):
            return _parse(parse_filter, _json(param))
        found = await self._lookup(user_id, param)
        if found is None:
            raise MatrixError(400, "M_INVALID_PARAM", f"filter: no filter with ID {param!r}")
        return _parse(parse_filter, found)

    @staticmethod
    def room_event_filter(param: str | None) -> RoomEventFilter:
        """/messages' and /context's `filter` (inline JSON only)."""
        if param is None:
            return RoomEventFilter()
        return _parse(parse_room_event_filter, _json(param))

    async def _lookup(self, user_id: str, filter_id: str) -> dict[str, Any] | None:
        if not (filter_id.isascii() and filter_id.isdigit() and len(filter_id) < 19):
            return None
        return await self._store.get_filter(user_id, int(filter_id))

    @staticmethod
    def _check_owner(requester: str, user_id: str, verb: str) -> None:
        if requester != user_id:
            raise MatrixError(403, "M_FORBIDDEN", f"cannot {verb} filters of other users")


def _json(param: str) -> Any:
    try:
        return orjson.loads(param)
    except orjson.JSONDecodeError as e:
        raise MatrixError(400, "M_NOT_JSON", f"filter is not valid JSON: {e}") from e


def _parse(parser: Callable[[Any], T], value: Any) -> T:
    try:
        return parser(value)
    except InvalidFilter as e:
        raise MatrixError(400, "M_BAD_JSON", f"invalid filter: {e}") from e
