"""Reading a room's history and members: /messages, /context, /members, /joined_members
(client-server API "Getting events for a room", message_pagination.yaml,
event_context.yaml, rooms.yaml).

Pagination walks the topological order (storage/room_stream.py). A token is a position
between events, so a page ends right after the last event it *looked at*: events dropped
by the filter or by history visibility are never looked at twice, and the next page
continues without a gap. A user who left a room reads it up to their leave and no
further; someone who was never in it reads it only while it is world-readable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ranvier.errors import MatrixError
from ranvier.protocol.filters import RoomEventFilter
from ranvier.protocol.visibility import effective_visibility
from ranvier.services.client_events import ClientEventSerializer
from ranvier.services.tokens import RoomPosition, parse_room_token, room_token
from ranvier.services.visibility import VisibilityChecker
from ranvier.storage.events import EventsStore, StoredEvent
from ranvier.storage.room_stream import PagedEvent, RoomKey, RoomStreamStore
from ranvier.storage.rooms import RoomStore
from ranvier.storage.state import StateMap, StateStore

#: the most events one /messages or /context returns (Synapse caps at 1000 too)
MAX_LIMIT = 1000
#: how many pages one request reads at most while the filter drops events
MAX_PAGES = 10
#: the position before a room's first event
ROOM_START = RoomKey(0, 0)

A = TypeVar("A")
B = TypeVar("B")


@dataclass
class Page:
    events: list[StoredEvent]
    #: where to continue; None when nothing is left in that direction
    next: RoomKey | None
    #: the first event looked at, if any: where a page from the room's edge starts
    first: RoomKey | None = None
    #: those of `events` that some event relates to (the others have no bundles)
    related: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Access:
    """How far a user may read a room: everything, or up to their leave."""

    bound: RoomKey | None


class RoomReader:
    def __init__(
        self,
        events: EventsStore,
        state: StateStore,
        rooms: RoomStore,
        stream: RoomStreamStore,
        visibility: VisibilityChecker,
        serializer: ClientEventSerializer,
    ) -> None:
        self._events = events
        self._state = state
        self._rooms = rooms
        self._stream = stream
        self._visibility = visibility
        self._serializer = serializer

    # --- /messages ----------------------------------------------------------------------

    async def messages(
        self,
        user_id: str,
        device_id: str | None,
        room_id: str,
        *,
        from_token: str | None,
        to_token: str | None,
        backwards: bool,
        limit: int,
        event_filter: RoomEventFilter,
    ) -> dict[str, Any]:
        start = await self._position(room_id, from_token, "from")
        end = await self._position(room_id, to_token, "to")
        if start is None and not backwards:
            start = ROOM_START
        # The page's first read runs beside the membership check, as for a member (the
        # usual reader): only a past member's leave bounds it, and then it is read
        # again. Anything more (a filter that drops events) waits for the check.
        access, first_read = await _both(
            self._access(user_id, room_id),
            self._stream.paginate_events(room_id, start, end, backwards, max(limit, 1)),
        )
        if access.bound is not None:
            if backwards:
                start = access.bound if start is None else min(start, access.bound)
            else:
                end = access.bound if end is None else min(end, access.bound)
            first_read = None
        page = await self.paginate(
            user_id, room_id, start, end, backwards, limit, event_filter, first_read
        )
        if start is None:  # backwards from the room's newest event: the first looked at
            start = page.first or await self._newest(room_id)
        response: dict[str, Any] = {
            "start": room_token(start),
            "chunk": await self._serialize(page.events, user_id, device_id, page.related),
        }
        if page.next is not None:
            response["end"] = room_token(page.next)
        elif not backwards:
            # Forwards, the room's newest event is not its end: later events will come
            # after it, and the client resumes from here (as from a sync's next_batch).
            response["end"] = room_token(_key(page.events[-1]) if page.events else start)
        if event_filter.lazy_load_members and page.events:
            response["state"] = await self._member_state(
                page.events, page.events[0], user_id, device_id
            )
        return response

    async def paginate(
        self,
        user_id: str,
        room_id: str,
        start: RoomKey | None,
        end: RoomKey | None,
        backwards: bool,
        limit: int,
        event_filter: RoomEventFilter,
        first_read: list[PagedEvent] | None = None,
    ) -> Page:
        """Up to `limit` events from `start` (None: the room's edge) towards `end` that
        pass the filter and that the user may see. `first_read`, if given, is what the
        first read (`max(limit, 1)` events from `start`) returned, read already."""
        found: list[StoredEvent] = []
        related: set[str] = set()
        first: RoomKey | None = None
        position = start
        for _ in range(MAX_PAGES):
            want = max(limit - len(found), 1)
            page = first_read if first_read is not None else (
                await self._stream.paginate_events(room_id, position, end, backwards, want)
            )
            first_read = None
            if first is None and page:
                first = page[0].key
                if position is None and backwards:
                    position = first  # no bound above is the same as its newest event
            judged, _ = await asyncio.gather(
                self._visibility.filter_visible(
                    user_id,
                    [p.stored for p in page] if event_filter.matches_every_event else [
                        p.stored for p in page if event_filter.matches_event(p.stored.event.pdu)
                    ],
                ),
                # The transaction IDs the page's serialization shows, read beside the
                # visibility check's state groups: when neither is cached (history
                # older than the caches) the page waits for one read, not two.
                self._events.get_txn_ids(
                    p.stored.event.event_id for p in page if p.stored.event.sender == user_id
                ),
            )
            visible = {s.event.event_id for s in judged}
            looked_at = 0
            for p in page:
                if len(found) >= limit:
                    break
                looked_at += 1
                if p.stored.event.event_id in visible:
                    found.append(p.stored)
                    if p.has_relations:
                        related.add(p.stored.event.event_id)
            if looked_at:
                position = _after(page[looked_at - 1], backwards)
            if looked_at < len(page):
                return Page(found, position, first, related)
            if len(page) < want:
                return Page(found, None, first, related)
            if len(found) >= limit:
                return Page(found, position, first, related)
        return Page(found, position, first, related)

    # --- /context -----------------------------------------------------------------------

    async def context(
        self,
        user_id: str,
        device_id: str | None,
        room_id: str,
        event_id: str,
        limit: int,
        event_filter: RoomEventFilter,
    ) -> dict[str, Any]:
        access = await self._access(user_id, room_id)
        stored = await self._events.get_event(event_id)
        visible = (
            await self._visibility.filter_visible(user_id, [stored])
            if stored is not None and stored.event.room_id == room_id and not stored.outlier
            else []
        )
        if not visible:
            raise MatrixError(404, "M_NOT_FOUND", f"event {event_id} not found")
        event = visible[0]
        key = RoomKey(event.event.depth, event.stream_ordering)
        before_limit = limit // 2
        before = await self.paginate(
            user_id, room_id, RoomKey(key.topological, key.stream - 1), None, True,
            before_limit, event_filter,
        )
        after = await self.paginate(
            user_id, room_id, key, access.bound, False, limit - before_limit, event_filter
        )
        last = after.events[-1] if after.events else event
        response: dict[str, Any] = {
            "event": (await self._serialize([event], user_id, device_id))[0],
            "events_before": await self._serialize(before.events, user_id, device_id),
            "events_after": await self._serialize(after.events, user_id, device_id),
            "start": room_token(before.next or _before(event)),
            "end": room_token(after.next or _key(last)),
        }
        everything = [*before.events, event, *after.events]
        if event_filter.lazy_load_members:
            response["state"] = await self._member_state(everything, last, user_id, device_id)
        else:
            state = await self._state_after(last.event.event_id)
            found = await self._events.get_events(state.values())
            response["state"] = await self._serialize(
                [found[e] for e in sorted(state.values()) if e in found], user_id, device_id
            )
        return response

    # --- members ------------------------------------------------------------------------

    async def members(
        self,
        user_id: str,
        device_id: str | None,
        room_id: str,
        *,
        at_token: str | None,
        membership: str | None,
        not_membership: str | None,
    ) -> list[dict[str, Any]]:
        """GET /rooms/{roomId}/members: the member events of the room now (or at `at`),
        as far as the user may see it."""
        at = await self._position(room_id, at_token, "at")
        try:
            access = await self._access(user_id, room_id, allow_world_readable=False)
        except MatrixError:
            # An invitee may read the members at a point whose newest event is their own
            # invite (that event is visible to them), as Synapse allows: Element asks
            # this, at its sync token, when an invited room is opened.
            if at is None or not await self._newest_is_own_invite(user_id, room_id, at):
                raise
            access = _Access(None)
        bounds = [b for b in (at, access.bound) if b is not None]
        bound = min(bounds) if bounds else None
        if bound is None:
            state: StateMap = await self._state.get_current_state(room_id)
        else:
            last = await self._stream.paginate(room_id, bound, None, True, 1)
            if not last:
                return []
            state = await self._state_after(last[0].event_id)
        ids = [v for k, v in sorted(state.items()) if k[0] == "m.room.member"]
        found = await self._events.get_events(ids)
        chosen = [
            found[e] for e in ids
            if e in found
            and (membership is None or found[e].event.membership == membership)
            and (not_membership is None or found[e].event.membership != not_membership)
        ]
        return await self._serialize(chosen, user_id, device_id)

    async def joined_members(self, user_id: str, room_id: str) -> dict[str, dict[str, Any]]:
        """GET /rooms/{roomId}/joined_members (for members of the room only)."""
        current = await self._rooms.get_local_membership(user_id, room_id)
        if current is None or current[0] != "join":
            raise MatrixError(403, "M_FORBIDDEN", f"{user_id} is not in room {room_id}")
        state = await self._state.get_current_state(room_id)
        found = await self._events.get_events(
            v for k, v in state.items() if k[0] == "m.room.member"
        )
        joined: dict[str, dict[str, Any]] = {}
        for stored in found.values():
            event = stored.served_event()
            if event.membership == "join" and event.state_key is not None:
                # RoomMember's fields are strings, not nullable: unset ones are left out.
                member = {
                    "display_name": _str_or_none(event.content.get("displayname")),
                    "avatar_url": _str_or_none(event.content.get("avatar_url")),
                }
                joined[event.state_key] = {k: v for k, v in member.items() if v is not None}
        return joined

    # --- helpers ------------------------------------------------------------------------

    async def check_readable(self, user_id: str, room_id: str) -> None:
        """M_FORBIDDEN unless the user may read the room: a member, a past member (up
        to their leave), or anyone when it is world-readable."""
        await self._access(user_id, room_id)

    async def _access(
        self, user_id: str, room_id: str, *, allow_world_readable: bool = True
    ) -> _Access:
        current = await self._rooms.get_local_membership(user_id, room_id)
        membership = current[0] if current else None
        if membership == "join":
            return _Access(None)
        if current is not None and membership in ("leave", "ban"):
            positions = await self._stream.get_positions([current[1]])
            if current[1] in positions:
                return _Access(positions[current[1]].key)
        if allow_world_readable or membership == "invite":
            visibility_id = await self._state.get_current_state_event_id(
                room_id, "m.room.history_visibility", ""
            )
            event = await self._events.get_event(visibility_id) if visibility_id else None
            value = effective_visibility(event.served_event().content if event else None)
            if value == "world_readable" or (value == "invited" and membership == "invite"):
                return _Access(None)
        raise MatrixError(403, "M_FORBIDDEN", f"{user_id} may not read room {room_id}")

    async def _newest_is_own_invite(self, user_id: str, room_id: str, at: RoomKey) -> bool:
        last = await self._stream.paginate(room_id, at, None, True, 1)
        stored = await self._events.get_event(last[0].event_id) if last else None
        if stored is None:
            return False
        event = stored.event
        return (
            event.type == "m.room.member"
            and event.state_key == user_id
            and event.membership == "invite"
        )

    async def _position(self, room_id: str, token: str | None, param: str) -> RoomKey | None:
        if token is None:
            return None
        parsed: RoomPosition = parse_room_token(token, param)
        if parsed.key is not None:
            return parsed.key
        assert parsed.stream is not None
        # a sync token: the room's newest event at that stream position
        at = await self._stream.last_events_at_each({room_id: parsed.stream})
        return at[room_id].key if room_id in at else ROOM_START

    async def _state_after(self, event_id: str) -> StateMap:
        groups = await self._state.get_groups_for_events([event_id])
        return await self._state.get_state(groups[event_id][1]) if event_id in groups else {}

    async def _member_state(
        self,
        events: Sequence[StoredEvent],
        at: StoredEvent,
        user_id: str,
        device_id: str | None,
    ) -> list[dict[str, Any]]:
        """Lazy loading: the member events of the senders of `events`, at `at`."""
        state = await self._state_after(at.event.event_id)
        senders = sorted({s.event.sender for s in events})
        ids = [e for u in senders if (e := state.get(("m.room.member", u))) is not None]
        found = await self._events.get_events(ids)
        return await self._serialize([found[e] for e in ids if e in found], user_id, device_id)

    async def _serialize(
        self,
        events: Sequence[StoredEvent],
        user_id: str,
        device_id: str | None,
        related: Collection[str] | None = None,
    ) -> list[dict[str, Any]]:
        return await self._serializer.serialize(
            events, user_id=user_id, device_id=device_id, related=related
        )

    async def _newest(self, room_id: str) -> RoomKey:
        newest = await self._stream.paginate(room_id, None, None, True, 1)
        return newest[0].key if newest else ROOM_START


def _key(stored: StoredEvent) -> RoomKey:
    return RoomKey(stored.event.depth, stored.stream_ordering)


def _before(stored: StoredEvent) -> RoomKey:
    return RoomKey(stored.event.depth, stored.stream_ordering - 1)


def _after(paged: PagedEvent, backwards: bool) -> RoomKey:
    """The position past an event in the direction of travel."""
    if backwards:
        return RoomKey(paged.topological, paged.stored.stream_ordering - 1)
    return paged.key


async def _both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Both results, awaited side by side (on PostgreSQL, on two pooled connections).
    Neither is left running, and `first`'s error wins: a reader it turns away learns
    nothing from `second`'s."""
    a, b = await asyncio.gather(first, second, return_exceptions=True)
    if isinstance(a, BaseException):
        raise a
    if isinstance(b, BaseException):
        raise b
    return a, b


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
