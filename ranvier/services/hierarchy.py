"""Space hierarchies (client-server API "Spaces", space_hierarchy.yaml): a depth-first
walk from a space through its `m.space.child` state events, listing each room the user
may preview (services/room_summary.py) with its children.

Children are visited in the spec's order ("Ordering of children within a space"):
those with a valid `order` first, by `order`, then by the child event's
`origin_server_ts`, then by room ID. A child event without a non-empty `via` is no
child. A room is listed once, however many spaces hold it; a room the user may not
preview is left out with everything below it; rooms on other servers are skipped
until federation can fetch them.

Pagination re-walks the tree and skips the rooms earlier pages listed: the token holds
that count and the walk's parameters, which may not change between pages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from ranvier.errors import MatrixError
from ranvier.protocol.events import Event
from ranvier.services.opaque_tokens import decode_token, encode_token
from ranvier.services.room_summary import RoomSummaryService
from ranvier.storage.events import EventsStore
from ranvier.storage.state import StateStore

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
#: the deepest a walk goes (also the default)
MAX_DEPTH = 50
_ORDER_CHARS = range(0x20, 0x7F)
_MAX_ORDER_LENGTH = 50


class HierarchyService:
    def __init__(
        self, summaries: RoomSummaryService, state: StateStore, events: EventsStore
    ) -> None:
        self._summaries = summaries
        self._state = state
        self._events = events

    async def hierarchy(
        self,
        user_id: str,
        room_id: str,
        *,
        suggested_only: bool,
        max_depth: int | None,
        limit: int | None,
        from_token: str | None,
    ) -> dict[str, Any]:
        if limit is not None and limit < 1:
            raise MatrixError(400, "M_INVALID_PARAM", "limit must be greater than zero")
        if max_depth is not None and max_depth < 0:
            raise MatrixError(400, "M_INVALID_PARAM", "max_depth must not be negative")
        depth = MAX_DEPTH if max_depth is None else min(max_depth, MAX_DEPTH)
        page_size = DEFAULT_LIMIT if limit is None else min(limit, MAX_LIMIT)
        walk = {"r": room_id, "s": suggested_only, "d": depth}
        skip = _skipped(from_token, walk)
        rooms: list[dict[str, Any]] = []
        more = False
        index = 0
        async for chunk in self._walk(user_id, room_id, suggested_only, depth):
            if index >= skip + page_size:
                more = True
                break
            if index >= skip:
                rooms.append(chunk)
            index += 1
        out: dict[str, Any] = {"rooms": rooms}
        if more:
            out["next_batch"] = encode_token({**walk, "n": skip + page_size})
        return out

    async def _walk(
        self, user_id: str, root: str, suggested_only: bool, max_depth: int
    ) -> AsyncIterator[dict[str, Any]]:
        stack: list[tuple[str, int]] = [(root, 0)]
        seen: set[str] = set()
        while stack:
            room_id, depth = stack.pop()
            if room_id in seen:
                continue
            seen.add(room_id)
            info = await self._summaries.room_info(room_id, user_id)
            if info is None or not info.accessible:
                if room_id == root:
                    raise MatrixError(
                        403, "M_FORBIDDEN", f"You may not view the hierarchy of {root}"
                    )
                continue
            children = await self._children(room_id, suggested_only)
            yield {**info.summary, "children_state": [_stripped(e) for e in children]}
            if depth < max_depth:
                # Reversed onto the stack, so the first child is visited first.
                stack += [(e.state_key or "", depth + 1) for e in reversed(children)]

    async def _children(self, room_id: str, suggested_only: bool) -> list[Event]:
        """The room's valid child events, in the spec's order."""
        ids = await self._state.get_current_state(room_id)
        found = await self._events.get_events(
            eid for (etype, _), eid in ids.items() if etype == "m.space.child"
        )
        children = [
            event for s in found.values()
            if _is_child(event := s.served_event())
            and (not suggested_only or event.content.get("suggested") is True)
        ]
        return sorted(children, key=_child_order)


def _skipped(from_token: str | None, walk: Mapping[str, Any]) -> int:
    """How many rooms earlier pages listed; the token must be of this same walk."""
    if from_token is None:
        return 0
    fields = decode_token(from_token)
    count = fields.get("n") if fields else None
    if fields is None or not isinstance(count, int) or count < 0 or fields.get("r") != walk["r"]:
        raise MatrixError(400, "M_INVALID_PARAM", "from is not a hierarchy token of this room")
    if (fields.get("s"), fields.get("d")) != (walk["s"], walk["d"]):
        raise MatrixError(
            400, "M_INVALID_PARAM",
            "suggested_only and max_depth cannot change on paginated requests",
        )
    return count


def _is_child(event: Event) -> bool:
    via = event.content.get("via")
    return (
        (event.state_key or "").startswith("!")
        and isinstance(via, list) and bool(via) and all(isinstance(v, str) for v in via)
    )


def _child_order(event: Event) -> tuple[int, str, int, str]:
    order = event.content.get("order")
    if not (
        isinstance(order, str) and len(order) <= _MAX_ORDER_LENGTH
        and all(ord(c) in _ORDER_CHARS for c in order)
    ):
        order = None  # an invalid order counts as none
    return (
        1 if order is None else 0, order or "", event.origin_server_ts, event.state_key or ""
    )


def _stripped(event: Event) -> dict[str, Any]:
    """A child event as stripped state with its `origin_server_ts`."""
    return {
        "type": event.type,
        "state_key": event.state_key,
        "content": dict(event.content),
        "sender": event.sender,
        "origin_server_ts": event.origin_server_ts,
    }
