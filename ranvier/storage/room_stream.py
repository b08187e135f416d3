"""Reading rooms' timelines by position: what /sync, /messages and /context need.

Two orders exist (docs/SYNC.md): the *stream* order (`stream_ordering`, the order this
server learned events in, which /sync follows) and the *topological* order
(`topological_ordering` = depth, then `stream_ordering`), which /messages and /context
follow. Only events fit for clients are read: not outliers, not rejected, not
soft-failed.

Queries over many rooms are batched: one statement per chunk of rooms, each room a
`UNION ALL` branch that walks the (room_id, stream_ordering) index with its own limit.

Two things every incremental /sync asks come from memory, kept up to date by the
events' commits (`on_committed`, an EventsStore commit listener): which rooms have
events after a position, and the membership events of the users who sync. Every row
they hold was committed by this process, and a commit reaches them before its
positions reach any sync token.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ranvier.storage.database import Database
from ranvier.storage.events import EVENT_COLUMNS, EventsStore, RoomBatch, StoredEvent
from ranvier.storage.lru import LruCache
from ranvier.storage.newest_positions import NewestPositions

#: below every stream position (backfilled events may one day take negative ones)
MIN_POSITION = -(2**62)
#: rooms per batched statement (each room takes four parameters)
_ROOMS_PER_STATEMENT = 200

_CLIENT_VISIBLE = "outlier = 0 AND rejected_reason IS NULL AND soft_failed = 0"

#: Rooms whose newest event position is kept (the least recently active are dropped).
NEWEST_EVENT_ROOMS = 10_000
#: Membership rows kept, over all users (about 250 bytes each): the users who sync.
MEMBERSHIP_CACHE_ROWS = 20_000


@dataclass(frozen=True, order=True)
class RoomKey:
    """An event's place in the topological order; as a pagination position it means
    "just after this event"."""

    topological: int
    stream: int


@dataclass(frozen=True)
class EventPosition:
    event_id: str
    room_id: str
    stream: int
    topological: int

    @property
    def key(self) -> RoomKey:
        return RoomKey(self.topological, self.stream)


@dataclass(frozen=True)
class PagedEvent:
    """An event of a page of a room's timeline, with its place in the topological order."""

    stored: StoredEvent
    topological: int
    #: whether some event relates to it (its bundled aggregations need a read)
    has_relations: bool

    @property
    def key(self) -> RoomKey:
        return RoomKey(self.topological, self.stored.stream_ordering)


@dataclass(frozen=True)
class RoomRange:
    """Events of a room with `lower < stream_ordering <= upper`, newest `limit` first."""

    room_id: str
    lower: int
    upper: int
    limit: int


@dataclass(frozen=True, slots=True)
class MembershipRow:
    room_id: str
    event_id: str
    membership: str
    stream: int


class RoomStreamStore:
    def __init__(self, db: Database, events: EventsStore) -> None:
        self._db = db
        self._events = events
        self._newest_events = NewestPositions(0, NEWEST_EVENT_ROOMS)
        # user -> every membership event of theirs, oldest first
        self._memberships: LruCache[str, tuple[MembershipRow, ...]] = LruCache(
            MEMBERSHIP_CACHE_ROWS
        )
        # user -> the rows committed while a read of their memberships was in flight
        # (one list per read): the read may have missed them
        self._loading: dict[str, list[list[MembershipRow]]] = {}

    def start(self, events_position: int) -> None:
        """Every event up to `events_position` was stored before this process began."""
        self._newest_events = NewestPositions(events_position, NEWEST_EVENT_ROOMS)

    def on_committed(self, batch: RoomBatch, stored: Sequence[StoredEvent]) -> None:
        """Remember a committed batch's events (EventsStore commit listener)."""
        for s in stored:
            event = s.event
            if not (s.outlier or s.rejected_reason or s.soft_failed):
                self._newest_events.record(event.room_id, s.stream_ordering)
            if event.type != "m.room.member" or event.state_key is None or s.rejected_reason:
                continue
            # As RoomStore.write_memberships stores it.
            row = MembershipRow(
                event.room_id, event.event_id, event.membership or "", s.stream_ordering
            )
            for pending in self._loading.get(event.state_key, ()):
                pending.append(row)
            cached = self._memberships.get(event.state_key)
            if cached is not None:
                rows = sorted((*cached, row), key=lambda r: r.stream)
                self._memberships.set(event.state_key, tuple(rows), len(rows))

    async def rooms_with_events_after(
        self, room_ids: Sequence[str], lower: int, upper: int
    ) -> set[str]:
        """Those of `room_ids` with a client-visible event in (lower, upper], or a
        superset: rooms with events after `upper` may be among them."""
        known = self._newest_events.changed_after(room_ids, lower)
        if known is not None:
            return known
        # Older than what memory holds (a client back after a long time): a range scan
        # of the primary key.
        rows = await self._db.fetchall(
            "SELECT DISTINCT room_id FROM events"
            f" WHERE stream_ordering > ? AND stream_ordering <= ? AND {_CLIENT_VISIBLE}",
            lower,
            upper,
        )
        return {r[0] for r in rows} & set(room_ids)

    async def newest_events(self, ranges: Sequence[RoomRange]) -> dict[str, list[EventPosition]]:
        """For each range, its newest events, newest first."""
        found: dict[str, list[EventPosition]] = {r.room_id: [] for r in ranges}
        for start in range(0, len(ranges), _ROOMS_PER_STATEMENT):
            chunk = ranges[start : start + _ROOMS_PER_STATEMENT]
            branch = (
                "SELECT * FROM (SELECT event_id, room_id, stream_ordering, topological_ordering"
                " FROM events WHERE room_id = ? AND stream_ordering > ? AND stream_ordering <= ?"
                f" AND {_CLIENT_VISIBLE} ORDER BY stream_ordering DESC LIMIT ?) AS r{{i}}"
            )
            sql = " UNION ALL ".join(branch.format(i=i) for i in range(len(chunk)))
            args = [v for r in chunk for v in (r.room_id, r.lower, r.upper, r.limit)]
            for event_id, room_id, stream, topo in await self._db.fetchall(sql, *args):
                found[room_id].append(EventPosition(event_id, room_id, stream, topo))
        for events in found.values():
            events.sort(key=lambda e: e.stream, reverse=True)
        return found

    async def events_between(
        self, room_ids: Sequence[str], lower: int, upper: int, limit: int
    ) -> list[EventPosition]:
        """The first `limit` events of these rooms with `lower < stream_ordering <=
        upper`, oldest first (the legacy /events stream)."""
        found: list[EventPosition] = []
        for start in range(0, len(room_ids), 500):
            chunk = room_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = await self._db.fetchall(
                "SELECT event_id, room_id, stream_ordering, topological_ordering FROM events"
                f" WHERE room_id IN ({marks}) AND stream_ordering > ? AND stream_ordering <= ?"
                f" AND {_CLIENT_VISIBLE} ORDER BY stream_ordering LIMIT ?",
                *chunk, lower, upper, limit,
            )
            found += [EventPosition(*row) for row in rows]
        found.sort(key=lambda e: e.stream)
        return found[:limit]

    async def last_events_at_each(
        self, positions: Mapping[str, int]
    ) -> dict[str, EventPosition]:
        """room -> its newest event at or before the room's given stream position
        (rooms without one are absent)."""
        newest = await self.newest_events(
            [RoomRange(room_id, MIN_POSITION, pos, 1) for room_id, pos in positions.items()]
        )
        return {room_id: events[0] for room_id, events in newest.items() if events}

    async def paginate(
        self,
        room_id: str,
        start: RoomKey | None,
        end: RoomKey | None,
        backwards: bool,
        limit: int,
    ) -> list[EventPosition]:
        """Events in topological order from the position `start` towards `end`
        (None: the room's edge). Backwards: keys <= start and > end, newest first;
        forwards: keys > start and <= end, oldest first."""
        where, args, order = _page_query(room_id, start, end, backwards)
        rows = await self._db.fetchall(
            "SELECT event_id, room_id, stream_ordering, topological_ordering FROM events"
            f" WHERE {where} ORDER BY {order} LIMIT ?",
            *args,
            limit,
        )
        return [EventPosition(*row) for row in rows]

    async def paginate_events(
        self,
        room_id: str,
        start: RoomKey | None,
        end: RoomKey | None,
        backwards: bool,
        limit: int,
    ) -> list[PagedEvent]:
        """`paginate`'s events themselves, read in the same statement (one round trip
        for a page of /messages, where the events are seldom cached), with whether any
        event relates to each."""
        where, args, order = _page_query(room_id, start, end, backwards)
        # The relations are looked up for the page's rows only: a planner without
        # statistics sorts every row of the room below the key for the LIMIT.
        rows = await self._db.fetchall(
            "SELECT p.*, EXISTS (SELECT 1 FROM event_relations r"
            " WHERE r.relates_to_id = p.event_id)"
            f" FROM (SELECT topological_ordering, {EVENT_COLUMNS} FROM events"
            f" WHERE {where} ORDER BY {order} LIMIT ?) AS p ORDER BY {order}",
            *args,
            limit,
        )
        return [
            PagedEvent(self._events.event_from_row(row[1:-1]), row[0], bool(row[-1]))
            for row in rows
        ]

    async def get_positions(self, event_ids: Iterable[str]) -> dict[str, EventPosition]:
        ids = list(event_ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = await self._db.fetchall(
            "SELECT event_id, room_id, stream_ordering, topological_ordering FROM events"
            f" WHERE event_id IN ({marks})",
            *ids,
        )
        return {r[0]: EventPosition(*r) for r in rows}

    # --- memberships --------------------------------------------------------------------

    async def user_memberships(self, user_id: str, upper: int) -> list[MembershipRow]:
        """Every membership event of a user up to a stream position, oldest first."""
        return [r for r in await self._all_memberships(user_id) if r.stream <= upper]

    async def latest_join_positions(
        self, user_id: str, room_ids: Iterable[str]
    ) -> dict[str, int]:
        """room -> stream position of the user's latest join event there."""
        wanted = set(room_ids)
        if not wanted:
            return {}
        return {
            r.room_id: r.stream
            for r in await self._all_memberships(user_id)
            if r.membership == "join" and r.room_id in wanted
        }

    async def _all_memberships(self, user_id: str) -> tuple[MembershipRow, ...]:
        """Every committed membership event of a user, oldest first."""
        cached = self._memberships.get(user_id)
        if cached is not None:
            return cached
        # A commit the read below does not see reaches `on_committed` after the read
        # began, so it lands in `pending` (a commit both see is kept once).
        pending: list[MembershipRow] = []
        self._loading.setdefault(user_id, []).append(pending)
        try:
            rows = await self._db.fetchall(
                "SELECT room_id, event_id, membership, stream_ordering FROM room_memberships"
                " WHERE user_id = ?",
                user_id,
            )
        finally:
            others = [p for p in self._loading[user_id] if p is not pending]
            if others:
                self._loading[user_id] = others
            else:
                del self._loading[user_id]
        found = {r[1]: MembershipRow(*r) for r in rows}
        for row in pending:
            found.setdefault(row.event_id, row)
        memberships = tuple(sorted(found.values(), key=lambda r: r.stream))
        self._memberships.set(user_id, memberships, len(memberships))
        return memberships

    async def forgotten_rooms(self, user_id: str) -> set[str]:
        rows = await self._db.fetchall(
            "SELECT room_id FROM local_current_membership WHERE user_id = ? AND forgotten = 1",
            user_id,
        )
        return {r[0] for r in rows}

    async def member_counts(self, room_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """room -> membership -> number of members, from current state."""
        counts: dict[str, dict[str, int]] = {room_id: {} for room_id in room_ids}
        for start in range(0, len(room_ids), 500):
            chunk = room_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = await self._db.fetchall(
                "SELECT room_id, membership, COUNT(*) FROM current_state"
                f" WHERE type = 'm.room.member' AND room_id IN ({marks})"
                " GROUP BY room_id, membership",
                *chunk,
            )
            for room_id, membership, n in rows:
                counts[room_id][membership] = int(n)
        return counts

    async def members_in_stream_order(
        self, room_id: str, memberships: Sequence[str], exclude: str, limit: int
    ) -> list[str]:
        """The first `limit` users (not `exclude`) whose current membership is one of
        `memberships`, by the stream order of their member events (room heroes)."""
        marks = ",".join("?" * len(memberships))
        rows = await self._db.fetchall(
            "SELECT c.state_key FROM current_state c JOIN events e ON e.event_id = c.event_id"
            f" WHERE c.room_id = ? AND c.type = 'm.room.member' AND c.membership IN ({marks})"
            " AND c.state_key != ? ORDER BY e.stream_ordering LIMIT ?",
            room_id,
            *memberships,
            exclude,
            limit,
        )
        return [r[0] for r in rows]


def _page_query(
    room_id: str, start: RoomKey | None, end: RoomKey | None, backwards: bool
) -> tuple[str, list[object], str]:
    """The WHERE clause, its arguments and the ORDER BY of a page of a room's
    topological order (`RoomStreamStore.paginate`)."""
    clauses = ["room_id = ?", _CLIENT_VISIBLE]
    args: list[object] = [room_id]
    upper, lower = (start, end) if backwards else (end, start)
    # Row values, not "t < ? OR (t = ? AND s <= ?)": both engines then bound their walk
    # of the (room_id, topological_ordering, stream_ordering) index by the key and read
    # a page's rows only, where the OR form walked every row from the room's edge to the
    # key (a page deep in a long room read thousands).
    if upper is not None:
        clauses.append("(topological_ordering, stream_ordering) <= (?, ?)")
        args += [upper.topological, upper.stream]
    if lower is not None:
        clauses.append("(topological_ordering, stream_ordering) > (?, ?)")
        args += [lower.topological, lower.stream]
    direction = "DESC" if backwards else "ASC"
    order = f"topological_ordering {direction}, stream_ordering {direction}"
    return " AND ".join(clauses), args, order
