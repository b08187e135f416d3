"""Relationships between events (client-server API "Forming relationships between
events", "Event replacements", "Threading", "Reference relations"; relations.yaml,
threads_list.yaml): paginating an event's children, listing a room's threads, checking
new relations, and the aggregations bundled into `unsigned.m.relations`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ranvier.errors import MatrixError
from ranvier.services.rooms import RoomService
from ranvier.storage.events import EventsStore, StoredEvent
from ranvier.storage.relations import Relation, RelationsStore, relation_of

#: how deep `recurse=true` follows relations of relations (the spec asks for 3 at least)
MAX_RECURSION_DEPTH = 3
DEFAULT_LIMIT = 5
MAX_LIMIT = 100

#: Serializes events for the client (ClientEventSerializer without bundling).
Serialize = Callable[[list[StoredEvent]], Awaitable[list[dict[str, Any]]]]


@dataclass(frozen=True)
class Page:
    chunk: list[StoredEvent]
    next_batch: str | None = None
    prev_batch: str | None = None


@dataclass(frozen=True)
class ThreadSummary:
    latest: StoredEvent
    count: int
    participated: bool


@dataclass(frozen=True)
class Bundle:
    """The aggregations of one event's children."""

    replace: StoredEvent | None = None
    thread: ThreadSummary | None = None
    references: tuple[str, ...] = ()


class RelationsService:
    def __init__(
        self, relations: RelationsStore, events: EventsStore, rooms: RoomService
    ) -> None:
        self._relations = relations
        self._events = events
        self._rooms = rooms

    # --- checking a new event ---------------------------------------------------------

    async def check_new_relation(self, room_id: str, content: dict[str, Any]) -> None:
        """A thread may not start from an event that itself relates to another
        (threading.md "Validation of m.thread relationships": 400 M_UNKNOWN)."""
        relates_to = content.get("m.relates_to")
        if not isinstance(relates_to, dict) or relates_to.get("rel_type") != "m.thread":
            return
        root_id = relates_to.get("event_id")
        if not isinstance(root_id, str):
            raise MatrixError(400, "M_BAD_JSON", "m.relates_to.event_id must be a string")
        root = await self._events.get_event(root_id)
        if root is None or root.event.room_id != room_id:
            return  # the root may arrive later over federation
        if relation_of(root) is not None:
            raise MatrixError(
                400, "M_UNKNOWN",
                f"cannot start a thread from {root_id}: it relates to another event",
            )

    # --- /relations ---------------------------------------------------------------------

    async def get_relations(
        self,
        user_id: str,
        room_id: str,
        event_id: str,
        rel_type: str | None = None,
        event_type: str | None = None,
        *,
        from_token: str | None = None,
        to_token: str | None = None,
        limit: int | None = None,
        forwards: bool = False,
        recurse: bool = False,
    ) -> tuple[Page, int]:
        """One page of the events relating to `event_id` the user may see, and the
        depth recursed to. Tokens are stream positions."""
        await self._rooms.get_visible_event(user_id, room_id, event_id)  # 404 otherwise
        limit = min(MAX_LIMIT, DEFAULT_LIMIT if limit is None else limit)
        start, end = _token(from_token, "from"), _token(to_token, "to")
        before, after = (end, start) if forwards else (start, end)
        if recurse:
            found, depth = await self._descendants(event_id, room_id)
            found = [
                r for r in found
                if (rel_type is None or r.rel_type == rel_type)
                and (event_type is None or r.type == event_type)
                and (before is None or r.stream_ordering < before)
                and (after is None or r.stream_ordering > after)
            ]
            found.sort(key=lambda r: r.stream_ordering, reverse=not forwards)
        else:
            depth = 0
            found = await self._relations.get_children(
                [event_id], room_id, rel_type, event_type,
                before=before, after=after, forwards=forwards,
            )
        events, consumed = await self._visible(user_id, room_id, found, limit)
        next_batch = None
        if len(found) > len(consumed):
            next_batch = str(consumed[-1].stream_ordering)
        return Page(events, next_batch, from_token), depth

    async def _descendants(self, event_id: str, room_id: str) -> tuple[list[Relation], int]:
        """Relations up to MAX_RECURSION_DEPTH levels below `event_id`, and the depth
        reached."""
        parents, found, depth = [event_id], [], 0
        while parents and depth < MAX_RECURSION_DEPTH:
            children = await self._relations.get_children(parents, room_id)
            if not children:
                break
            depth += 1
            found.extend(children)
            parents = [c.event_id for c in children]
        return found, depth

    async def _visible(
        self, user_id: str, room_id: str, relations: Sequence[Relation], limit: int
    ) -> tuple[list[StoredEvent], list[Relation]]:
        """The first `limit` of `relations` the user may see, and the relations consumed."""
        events: list[StoredEvent] = []
        consumed: list[Relation] = []
        for relation in relations:
            if len(events) == limit:
                break
            consumed.append(relation)
            try:
                events.append(
                    await self._rooms.get_visible_event(user_id, room_id, relation.event_id)
                )
            except MatrixError:
                continue
        return events, consumed

    # --- /threads -------------------------------------------------------------------------

    async def get_threads(
        self,
        user_id: str,
        room_id: str,
        *,
        participated_only: bool = False,
        from_token: str | None = None,
        limit: int | None = None,
    ) -> Page:
        """Thread roots of the room the user may see, most recent activity first."""
        await self._rooms.visible_state(user_id, room_id)  # members (and past members) only
        limit = min(MAX_LIMIT, DEFAULT_LIMIT if limit is None else limit)
        threads = await self._relations.get_threads(
            room_id,
            participant=user_id if participated_only else None,
            before=_token(from_token, "from"),
            limit=limit + 1,
        )
        roots: list[StoredEvent] = []
        for root_id, _ in threads[:limit]:
            try:
                roots.append(await self._rooms.get_visible_event(user_id, room_id, root_id))
            except MatrixError:
                continue
        next_batch = str(threads[limit - 1][1]) if len(threads) > limit else None
        return Page(roots, next_batch)

    # --- bundled aggregations -----------------------------------------------------------

    async def bundles(
        self, events: Sequence[StoredEvent], user_id: str | None
    ) -> dict[str, Bundle]:
        """The aggregations of each of `events` that has children (one query for the
        batch). Redacted events get none."""
        parents = {s.event.event_id: s for s in events if s.redacted_by is None}
        relations = await self._relations.get_relations_for(list(parents))
        if not relations:
            return {}
        children = await self._events.get_events(r.event_id for r in relations)
        by_parent: dict[str, list[Relation]] = {}
        for r in relations:
            if r.event_id in children:
                by_parent.setdefault(r.relates_to_id, []).append(r)
        out: dict[str, Bundle] = {}
        for parent_id, rels in by_parent.items():
            parent = parents[parent_id]
            bundle = Bundle(
                replace=_latest_edit(parent, [children[r.event_id] for r in rels
                                              if r.rel_type == "m.replace"]),
                thread=_thread(parent, [r for r in rels if r.rel_type == "m.thread"],
                               children, user_id),
                references=tuple(r.event_id for r in rels if r.rel_type == "m.reference"),
            )
            if bundle != Bundle():
                out[parent_id] = bundle
        return out

    async def bundles_json(
        self, events: Sequence[StoredEvent], user_id: str | None, serialize: Serialize
    ) -> dict[str, dict[str, Any]]:
        """`unsigned.m.relations` for each of `events` with aggregations."""
        bundles = await self.bundles(events, user_id)
        nested = [b.replace for b in bundles.values() if b.replace is not None]
        nested += [b.thread.latest for b in bundles.values() if b.thread is not None]
        rendered = dict(
            zip([s.event.event_id for s in nested], await serialize(nested), strict=True)
        ) if nested else {}
        out: dict[str, dict[str, Any]] = {}
        for event_id, bundle in bundles.items():
            relations: dict[str, Any] = {}
            if bundle.replace is not None:
                relations["m.replace"] = rendered[bundle.replace.event.event_id]
            if bundle.thread is not None:
                relations["m.thread"] = {
                    "latest_event": rendered[bundle.thread.latest.event.event_id],
                    "count": bundle.thread.count,
                    "current_user_participated": bundle.thread.participated,
                }
            if bundle.references:
                relations["m.reference"] = {
                    "chunk": [{"event_id": e} for e in bundle.references]
                }
            out[event_id] = relations
        return out


def _latest_edit(original: StoredEvent, edits: list[StoredEvent]) -> StoredEvent | None:
    """The most recent valid replacement: same sender, type and room, neither a state
    event, and an original that is not itself an edit (event_replacements.md)."""
    o = original.event
    relation = relation_of(original)
    if o.is_state() or (relation is not None and relation[1] == "m.replace"):
        return None
    valid = [
        e for e in edits
        if e.event.sender == o.sender and e.event.type == o.type and not e.event.is_state()
        and e.event.room_id == o.room_id
    ]
    return max(valid, key=lambda e: (e.event.origin_server_ts, e.event.event_id), default=None)


def _thread(
    root: StoredEvent,
    replies: list[Relation],
    children: dict[str, StoredEvent],
    user_id: str | None,
) -> ThreadSummary | None:
    if not replies:
        return None
    latest = max(replies, key=lambda r: (children[r.event_id].event.depth, r.stream_ordering))
    participated = user_id is not None and (
        root.event.sender == user_id or any(r.sender == user_id for r in replies)
    )
    return ThreadSummary(children[latest.event_id], len(replies), participated)


def _token(token: str | None, name: str) -> int | None:
    if token is None:
        return None
    if not token.isdigit():
        raise MatrixError(400, "M_INVALID_PARAM", f"invalid pagination token {name}={token!r}")
    return int(token)
