"""Server-side search (client-server API "Server Side Search", search.yaml): the
`room_events` category over the rooms the user is or was in, with history visibility
applied to every result.

Pagination: a `next_batch` token records the order, where the last page stopped in
that order (a stream position for `recent`, a count of matches passed for `rank`) and,
for a group's token, the group it is confined to. Matches the user may not see are
passed over and never looked at twice, so pages continue without gaps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ranvier.errors import MatrixError
from ranvier.protocol.filters import InvalidFilter, RoomEventFilter, parse_room_event_filter
from ranvier.services.client_events import ClientEventSerializer
from ranvier.services.opaque_tokens import decode_token, encode_token
from ranvier.services.room_reader import RoomReader
from ranvier.services.rooms import RoomService
from ranvier.services.tokens import room_token
from ranvier.services.visibility import VisibilityChecker
from ranvier.storage.events import EventsStore, StoredEvent
from ranvier.storage.room_stream import RoomKey
from ranvier.storage.rooms import RoomStore
from ranvier.storage.search import KEY_TYPES, SearchHit, SearchQuery, SearchStore, searchable_text
from ranvier.storage.state import StateStore

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
#: most events of context on each side of a result
MAX_CONTEXT = 100
#: how many index pages one request reads at most while visibility drops matches
MAX_ROUNDS = 10
ORDERS = ("rank", "recent")
GROUP_KEYS = ("room_id", "sender")
#: memberships under which a user is, or has been, in a room
_BEEN_IN = ("join", "leave", "ban", "invite")
_WORD = re.compile(r"\w+")


# --- the request (search.yaml), parsed with ranvier.api.models.parse_body -------------


@dataclass
class EventContext:
    before_limit: int = 5
    after_limit: int = 5
    include_profile: bool = False


@dataclass
class GroupBy:
    key: str


@dataclass
class Groupings:
    group_by: list[GroupBy] = field(default_factory=list)


@dataclass
class RoomEventsCriteria:
    search_term: str
    keys: list[str] | None = None
    filter: dict[str, Any] | None = None
    order_by: str = "rank"
    event_context: EventContext | None = None
    include_state: bool = False
    groupings: Groupings | None = None


@dataclass
class SearchCategories:
    room_events: RoomEventsCriteria | None = None


@dataclass
class SearchRequest:
    search_categories: SearchCategories


# --- pagination tokens ------------------------------------------------------------------


@dataclass(frozen=True)
class _Batch:
    order: str
    #: recent: the stream position to continue below (None: the newest);
    #: rank: how many matches earlier pages passed
    position: int | None = None
    #: (group key, value) a group's token is confined to
    group: tuple[str, str] | None = None

    def encode(self) -> str:
        return encode_token({"o": self.order, "p": self.position, "g": self.group})

    @classmethod
    def decode(cls, token: str) -> _Batch:
        data = decode_token(token) or {}
        order, position, group = data.get("o"), data.get("p"), data.get("g")
        valid = (
            order in ORDERS
            and (position is None or (isinstance(position, int) and position >= 0))
            and (group is None or (
                isinstance(group, list) and len(group) == 2 and group[0] in GROUP_KEYS
                and isinstance(group[1], str)
            ))
        )
        if not valid:
            raise MatrixError(400, "M_INVALID_PARAM", "next_batch is not a search token")
        assert isinstance(order, str)
        return cls(order, position, (group[0], group[1]) if group else None)


@dataclass
class _Page:
    hits: list[tuple[SearchHit, StoredEvent]]
    #: where the next page starts; None when no match is left
    next: _Batch | None


class SearchService:
    def __init__(
        self,
        store: SearchStore,
        events: EventsStore,
        state: StateStore,
        rooms: RoomStore,
        room_service: RoomService,
        room_reader: RoomReader,
        visibility: VisibilityChecker,
        serializer: ClientEventSerializer,
    ) -> None:
        self._store = store
        self._events = events
        self._state = state
        self._rooms = rooms
        self._room_service = room_service
        self._reader = room_reader
        self._visibility = visibility
        self._serializer = serializer

    async def search(
        self, user_id: str, device_id: str | None, request: SearchRequest,
        next_batch: str | None,
    ) -> dict[str, Any]:
        criteria = request.search_categories.room_events
        if criteria is None:
            return {"search_categories": {}}
        return {"search_categories": {
            "room_events": await self.room_events(user_id, device_id, criteria, next_batch)
        }}

    async def room_events(
        self, user_id: str, device_id: str | None, criteria: RoomEventsCriteria,
        next_batch: str | None,
    ) -> dict[str, Any]:
        event_filter, group_keys = _validate(criteria)
        batch = _Batch.decode(next_batch) if next_batch else _Batch(criteria.order_by)
        if batch.order != criteria.order_by:
            raise MatrixError(
                400, "M_INVALID_PARAM", "next_batch belongs to a search with another order_by"
            )
        query = await self._query(user_id, criteria, event_filter, batch.group)
        limit = min(event_filter.limit or DEFAULT_LIMIT, MAX_LIMIT)
        page = await self._page(user_id, query, event_filter, batch, limit)
        events = [stored for _, stored in page.hits]
        serialized = await self._serialize(events, user_id, device_id)
        results: list[dict[str, Any]] = []
        for (hit, stored), event in zip(page.hits, serialized, strict=True):
            result: dict[str, Any] = {"rank": hit.rank, "result": event}
            if criteria.event_context is not None:
                result["context"] = await self._context(
                    user_id, device_id, stored, criteria.event_context
                )
            results.append(result)
        out: dict[str, Any] = {
            "results": results,
            "count": await self._store.count(query),
            "highlights": _highlights(query.terms, events),
        }
        if page.next is not None:
            out["next_batch"] = page.next.encode()
        if group_keys:
            out["groups"] = _groups(group_keys, events, page.next)
        if criteria.include_state:
            out["state"] = {
                room_id: await self._room_state(user_id, device_id, room_id)
                for room_id in dict.fromkeys(s.event.room_id for s in events)
            }
        return out

    async def _query(
        self,
        user_id: str,
        criteria: RoomEventsCriteria,
        event_filter: RoomEventFilter,
        group: tuple[str, str] | None,
    ) -> SearchQuery:
        room_ids = [
            room_id
            for membership in _BEEN_IN
            for room_id in await self._rooms.get_rooms_for_user(user_id, membership)
            if event_filter.allows_room(room_id)
        ]
        sender = None
        if group is not None and group[0] == "room_id":
            room_ids = [r for r in room_ids if r == group[1]]
        elif group is not None:
            sender = group[1]
        keys = criteria.keys if criteria.keys is not None else list(KEY_TYPES)
        return SearchQuery(
            terms=tuple(dict.fromkeys(_WORD.findall(criteria.search_term.casefold()))),
            room_ids=tuple(sorted(set(room_ids))),
            types=tuple(
                t for t in (KEY_TYPES[k] for k in dict.fromkeys(keys))
                if event_filter.matches(t)
            ),
            sender=sender,
            order=criteria.order_by,
        )

    async def _page(
        self,
        user_id: str,
        query: SearchQuery,
        event_filter: RoomEventFilter,
        batch: _Batch,
        limit: int,
    ) -> _Page:
        """Up to `limit` matches the filter passes and the user may see, from `batch`."""
        found: list[tuple[SearchHit, StoredEvent]] = []
        position = batch.position
        want = max(limit * 2, 20)
        for _ in range(MAX_ROUNDS):
            if query.order == "recent":
                hits = await self._store.search(query, before=position, limit=want)
            else:
                hits = await self._store.search(query, offset=position or 0, limit=want)
            stored, visible = await self._visibility.fetch_visible(
                user_id, (h.event_id for h in hits), event_filter
            )
            for hit in hits:
                if len(found) >= limit:
                    return _Page(found, replace(batch, position=position))
                position = hit.stream_ordering if query.order == "recent" else (
                    (position or 0) + 1
                )
                if hit.event_id in visible:
                    found.append((hit, stored[hit.event_id]))
            if len(hits) < want:  # the index has no more matches
                return _Page(found, None)
            if len(found) >= limit:
                break
        return _Page(found, replace(batch, position=position))

    async def _context(
        self, user_id: str, device_id: str | None, stored: StoredEvent, wanted: EventContext
    ) -> dict[str, Any]:
        """The events around a result, as /context would show them."""
        room_id = stored.event.room_id
        key = RoomKey(stored.event.depth, stored.stream_ordering)
        everything = RoomEventFilter()
        before = await self._reader.paginate(
            user_id, room_id, RoomKey(key.topological, key.stream - 1), None, True,
            wanted.before_limit, everything,
        )
        after = await self._reader.paginate(
            user_id, room_id, key, None, False, wanted.after_limit, everything
        )
        last = after.events[-1] if after.events else stored
        context: dict[str, Any] = {
            "events_before": await self._serialize(before.events, user_id, device_id),
            "events_after": await self._serialize(after.events, user_id, device_id),
            "start": room_token(
                before.next or RoomKey(key.topological, key.stream - 1)
            ),
            "end": room_token(after.next or RoomKey(last.event.depth, last.stream_ordering)),
        }
        if wanted.include_profile:
            senders = {s.event.sender for s in (*before.events, stored, *after.events)}
            context["profile_info"] = await self._profiles_at(stored, senders)
        return context

    async def _profiles_at(
        self, stored: StoredEvent, senders: set[str]
    ) -> dict[str, dict[str, str]]:
        """The senders' display names and avatars as the room knew them at the event."""
        groups = await self._state.get_groups_for_events([stored.event.event_id])
        if stored.event.event_id not in groups:
            return {}
        state = await self._state.get_state(groups[stored.event.event_id][1])
        ids = {u: e for u in senders if (e := state.get(("m.room.member", u))) is not None}
        members = await self._events.get_events(ids.values())
        profiles: dict[str, dict[str, str]] = {}
        for user_id, event_id in sorted(ids.items()):
            if event_id not in members:
                continue
            content = members[event_id].served_event().content
            profiles[user_id] = {
                k: v for k in ("displayname", "avatar_url")
                if isinstance(v := content.get(k), str)
            }
        return profiles

    async def _room_state(
        self, user_id: str, device_id: str | None, room_id: str
    ) -> list[dict[str, Any]]:
        """The room's state as the user may read it (current, or at their leave)."""
        state = await self._room_service.visible_state(user_id, room_id)
        found = await self._events.get_events(state.values())
        return await self._serialize(
            [found[e] for e in sorted(state.values()) if e in found], user_id, device_id
        )

    async def _serialize(
        self, events: Sequence[StoredEvent], user_id: str, device_id: str | None
    ) -> list[dict[str, Any]]:
        return await self._serializer.serialize(events, user_id=user_id, device_id=device_id)


def _validate(criteria: RoomEventsCriteria) -> tuple[RoomEventFilter, list[str]]:
    """The criteria's filter and group keys, or the error naming the bad field."""
    where = "search_categories.room_events."
    for key in criteria.keys or ():
        if key not in KEY_TYPES:
            raise MatrixError(
                400, "M_INVALID_PARAM",
                f"{where}keys: {key!r} is not one of {', '.join(KEY_TYPES)}",
            )
    if criteria.order_by not in ORDERS:
        raise MatrixError(400, "M_INVALID_PARAM", f"{where}order_by must be rank or recent")
    context = criteria.event_context
    if context is not None:
        for name in ("before_limit", "after_limit"):
            if not 0 <= getattr(context, name) <= MAX_CONTEXT:
                raise MatrixError(
                    400, "M_INVALID_PARAM",
                    f"{where}event_context.{name} must be between 0 and {MAX_CONTEXT}",
                )
    group_keys = [g.key for g in criteria.groupings.group_by] if criteria.groupings else []
    for key in group_keys:
        if key not in GROUP_KEYS:
            raise MatrixError(
                400, "M_INVALID_PARAM",
                f"{where}groupings.group_by: key {key!r} is not room_id or sender",
            )
    try:
        event_filter = parse_room_event_filter(criteria.filter, where + "filter.")
    except InvalidFilter as e:
        raise MatrixError(400, "M_BAD_JSON", f"invalid filter: {e}") from e
    return event_filter, list(dict.fromkeys(group_keys))


def _highlights(terms: Sequence[str], events: Sequence[StoredEvent]) -> list[str]:
    """The words to highlight: the query's words, and the words of the results they
    matched as prefixes (so "mars" highlights "martian"s too, if stemming found it)."""
    words = dict.fromkeys(terms)
    for stored in events:
        text = searchable_text(stored.event) or ""
        for word in _WORD.findall(text.casefold()):
            if any(word.startswith(t) for t in terms):
                words[word] = None
    return list(words)


def _groups(
    keys: Sequence[str], events: Sequence[StoredEvent], next_batch: _Batch | None
) -> dict[str, dict[str, dict[str, Any]]]:
    """Results partitioned by each requested key, each group with its own token."""
    groups: dict[str, dict[str, dict[str, Any]]] = {}
    for key in keys:
        by_value: dict[str, dict[str, Any]] = {}
        for stored in events:
            value = stored.event.room_id if key == "room_id" else stored.event.sender
            group = by_value.setdefault(value, {"order": len(by_value) + 1, "results": []})
            group["results"].append(stored.event.event_id)
        if next_batch is not None:
            for value, group in by_value.items():
                group["next_batch"] = replace(next_batch, group=(key, value)).encode()
        groups[key] = by_value
    return groups
