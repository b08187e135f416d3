"""The event graph: events, their prev/auth edges, forward extremities, redactions and
client transaction IDs, and the one transaction that persists a batch of them.

Events are stored exactly as received or built. Redactions are applied when an event is
read (`StoredEvent.served_event`), so the original stays available to the server and a
redaction that arrives before its target still applies (docs/EVENTS.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from ranvier.config import CacheConfig
from ranvier.protocol.events import Event, StateKey
from ranvier.protocol.redaction import redact
from ranvier.protocol.room_versions import get_room_version
from ranvier.storage.database import Connection, Database
from ranvier.storage.lru import LruCache
from ranvier.storage.rooms import MembershipChange, RoomStore
from ranvier.storage.state import NewStateGroup, StateStore
from ranvier.storage.stream_ids import StreamIdGenerator
from ranvier.storage.txn_ids import DeviceTxnIds, TxnKey

#: The columns of an `events` row that `EventsStore.event_from_row` reads, in its order.
EVENT_COLUMNS = (
    "event_id, room_version, json, stream_ordering, outlier, rejected_reason, soft_failed,"
    " redacted_by"
)


@dataclass(frozen=True)
class StoredEvent:
    event: Event
    stream_ordering: int
    outlier: bool = False
    rejected_reason: str | None = None
    soft_failed: bool = False
    redacted_by: str | None = None

    def served_event(self) -> Event:
        """The event as others may see it: pruned once a redaction applies to it."""
        if self.redacted_by is None:
            return self.event
        pruned = redact(self.event.pdu, self.event.room_version)
        return Event(pruned, self.event.room_version, self.event.event_id)


@dataclass(frozen=True)
class EventToPersist:
    event: Event
    outlier: bool = False
    rejected_reason: str | None = None
    soft_failed: bool = False
    #: groups of the state before and after the event (None for outliers)
    state_groups: tuple[int, int] | None = None
    txn: TxnKey | None = None
    #: the sender has read the room up to this event by sending it (an implicit
    #: private read receipt, written with the event)
    read_by_sender: bool = False
    #: built by this server for this batch: its ID is new, so no redaction we hold
    #: can name it yet
    built_here: bool = False


@dataclass
class RoomBatch:
    """Everything one room's batch changes, written in one transaction."""

    room_id: str
    events: list[EventToPersist]
    new_groups: list[NewStateGroup] = field(default_factory=list)
    #: the room's forward extremities after the batch (None: unchanged)
    forward_extremities: set[str] | None = None
    #: current-state changes: key -> new event (None removes the key)
    current_state_delta: dict[StateKey, Event | None] = field(default_factory=dict)
    #: memberships of our own users that changed in current state
    local_memberships: list[MembershipChange] = field(default_factory=list)


#: What another domain records from each persisted batch, inside its transaction.
BatchWriter = Callable[[Connection, Sequence[StoredEvent]], Awaitable[None]]
#: What another store remembers of each committed batch (given with its stored events);
#: runs before any sync token can cover the batch's positions, and must not fail.
CommitListener = Callable[[RoomBatch, Sequence[StoredEvent]], None]

#: Rooms whose forward extremities stay known without a read.
EXTREMITIES_CACHE_ROOMS = 10_000
#: Events whose client transaction (or its absence) stays known without a read: the
#: recent ones every sync's timeline serializes.
TXN_CACHE_EVENTS = 10_000

_INSERT_EVENTS = (
    "INSERT INTO events (stream_ordering, event_id, room_id, room_version,"
    " topological_ordering, type, state_key, sender, origin_server_ts, json, outlier,"
    " rejected_reason, soft_failed, redacted_by)"
)
_INSERT_EDGES = "INSERT INTO event_edges (event_id, prev_event_id)"
_INSERT_AUTH = "INSERT INTO event_auth (event_id, auth_id)"
_INSERT_GROUPS = (
    "INSERT INTO event_to_state_groups (event_id, state_group_before, state_group_after)"
)
_INSERT_TXNS = (
    "INSERT INTO event_txn_ids (user_id, device_id, txn_id, event_id, room_id, inserted_ts)"
)

_SQLITE_INSERT_EVENTS = f"{_INSERT_EVENTS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_SQLITE_INSERT_EDGES = f"{_INSERT_EDGES} VALUES (?, ?) ON CONFLICT DO NOTHING"
_SQLITE_INSERT_AUTH = f"{_INSERT_AUTH} VALUES (?, ?) ON CONFLICT DO NOTHING"
_SQLITE_INSERT_GROUPS = f"{_INSERT_GROUPS} VALUES (?, ?, ?)"
_SQLITE_INSERT_TXNS = f"{_INSERT_TXNS} VALUES (?, ?, ?, ?, ?, ?)"

#: A room's extremities are one row, replaced whole (schema 0106).
_INSERT_TIPS = "INSERT INTO room_forward_extremities (room_id, event_ids)"
_REPLACE_TIPS = " ON CONFLICT (room_id) DO UPDATE SET event_ids = excluded.event_ids"
_SQLITE_WRITE_TIPS = f"{_INSERT_TIPS} VALUES (?, ?){_REPLACE_TIPS}"

# The rows of _EventRows in one round trip: each table's rows arrive as one array per
# column and are inserted by a data-modifying CTE; the extremities' row is replaced
# only when the batch changed them.
_POSTGRES_WRITE_EVENTS = (
    f"WITH new_events AS ({_INSERT_EVENTS} SELECT * FROM unnest(?::bigint[], ?::text[],"
    " ?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::bigint[],"
    " ?::text[], ?::integer[], ?::text[], ?::integer[], ?::text[])),"
    f" edges AS ({_INSERT_EDGES} SELECT * FROM unnest(?::text[], ?::text[])"
    " ON CONFLICT DO NOTHING),"
    f" auth AS ({_INSERT_AUTH} SELECT * FROM unnest(?::text[], ?::text[])"
    " ON CONFLICT DO NOTHING),"
    f" groups AS ({_INSERT_GROUPS} SELECT * FROM unnest(?::text[], ?::bigint[], ?::bigint[])),"
    f" txns AS ({_INSERT_TXNS} SELECT * FROM unnest(?::text[], ?::text[], ?::text[],"
    " ?::text[], ?::text[], ?::bigint[])),"
    f" tips AS ({_INSERT_TIPS} SELECT ?::text, ?::text WHERE ?::boolean{_REPLACE_TIPS})"
    " SELECT 1"
)


@dataclass
class _EventRows:
    """A batch's rows for the event graph's tables, one tuple per row."""

    events: list[tuple]
    edges: list[tuple[str, str]]
    auth: list[tuple[str, str]]
    groups: list[tuple[str, int, int]]
    txns: list[tuple[str, str, str, str, str, int]]

    @classmethod
    def of(
        cls, batch: RoomBatch, stored: Sequence[StoredEvent], jsons: Sequence[bytes]
    ) -> _EventRows:
        return cls(
            events=[_event_row(s, js) for s, js in zip(stored, jsons, strict=True)],
            edges=[(s.event.event_id, p) for s in stored for p in s.event.prev_event_ids()],
            auth=[(s.event.event_id, a) for s in stored for a in s.event.auth_event_ids()],
            groups=[
                (item.event.event_id, *item.state_groups)
                for item in batch.events
                if item.state_groups is not None
            ],
            txns=[
                (t.user_id, t.device_id, t.txn_id, item.event.event_id, batch.room_id,
                 item.event.origin_server_ts)
                for item in batch.events
                if (t := item.txn) is not None
            ],
        )


class EventsStore:
    def __init__(
        self, db: Database, state: StateStore, rooms: RoomStore,
        cache_bytes: int = CacheConfig.event_cache_size,
    ) -> None:
        self._db = db
        self._state = state
        self._rooms = rooms
        self._batch_writers: list[BatchWriter] = []
        self._commit_listeners: list[CommitListener] = []
        # Bounded by the bytes of the events' JSON: events range from 200 bytes to 64 KiB.
        self._cache: LruCache[str, StoredEvent] = LruCache(cache_bytes)
        self.stream = StreamIdGenerator(0)
        # One writer per room (the persister) both reads and replaces a room's
        # extremities, so the copy here is the table's.
        self._extremities: LruCache[str, tuple[str, ...]] = LruCache(EXTREMITIES_CACHE_ROOMS)
        # event ID -> its transaction, or _NO_TXN. Both are final once the event is
        # stored: a transaction ID is written with its event or never.
        self._txns: LruCache[str, TxnKey] = LruCache(TXN_CACHE_EVENTS)
        self._device_txns = DeviceTxnIds(db)
        # At or above the position of the newest membership event stored: the stream's
        # position at start-up bounds those stored before, each commit raises it.
        self._newest_membership = 0

    async def start(self) -> None:
        self.stream = await StreamIdGenerator.load(self._db, "events", "stream_ordering")
        self._newest_membership = self.stream.current

    # --- writing -------------------------------------------------------------------

    def add_batch_writer(self, writer: BatchWriter) -> None:
        """Have `writer` record what its domain derives from every batch (relations),
        atomically with the events (composition root)."""
        self._batch_writers.append(writer)

    def add_commit_listener(self, listener: CommitListener) -> None:
        """Have `listener` see every batch once it has committed, while its positions
        are still in flight (composition root): what another store keeps in memory of
        the events (the sync's memberships and rooms' newest positions, the events
        known to have no relations)."""
        self._commit_listeners.append(listener)

    async def persist_batch(
        self, batch: RoomBatch, extra_writers: Sequence[BatchWriter] = ()
    ) -> list[StoredEvent]:
        """Write a room's batch atomically, with what `extra_writers` derive from this
        batch alone; returns the events with their positions."""
        # On PostgreSQL the batch's writes go as one statement at the end, a single
        # round trip, where they can (docs/STORAGE.md). A read (the pending-redaction
        # lookup, for events not built here) makes it an ordinary transaction.
        # The batch's positions stay in flight until its rows are committed and the
        # caches below hold them: sync tokens reach a position only after both (the
        # notifier hears of `stream.current`, which stops below every position in
        # flight), so a cache never lacks a row a token covers.
        with contextlib.ExitStack() as allocation:
            async with self._db.transaction(defer_writes=True) as conn:
                # IDs are taken inside the transaction: on SQLite (one writer) positions
                # then follow commit order; on PostgreSQL the generator hides the gaps.
                positions = allocation.enter_context(self.stream.allocate(len(batch.events)))
                stored = [
                    StoredEvent(
                        item.event,
                        pos,
                        item.outlier,
                        item.rejected_reason,
                        item.soft_failed,
                        None if item.built_here else await self._pending_redaction(conn, item),
                    )
                    for item, pos in zip(batch.events, positions, strict=True)
                ]
                jsons = [orjson.dumps(s.event.pdu) for s in stored]
                rows = _EventRows.of(batch, stored, jsons)
                await _write_event_rows(conn, batch, rows)
                await self._rooms.write_new_rooms(
                    conn, [s.event for s in stored if _creates_room(s)]
                )
                await StateStore.write_groups(conn, batch.new_groups)
                await self._write_current_state(conn, batch)
                await self._rooms.write_memberships(
                    conn, [s for s in stored if _is_membership(s)], batch.local_memberships
                )
                redacted = await self._write_redactions(conn, stored)
                for writer in (*self._batch_writers, *extra_writers):
                    await writer(conn, stored)
            # Only once committed: a batch that fails changes nothing the caches hold.
            self._remember(batch, stored, rows, jsons, redacted)
        return stored

    def _remember(
        self,
        batch: RoomBatch,
        stored: Sequence[StoredEvent],
        rows: _EventRows,
        jsons: Sequence[bytes],
        redacted: Sequence[str],
    ) -> None:
        """Keep in memory what a committed batch wrote and reads take from there."""
        self._state.remember_event_groups(rows.groups)
        if batch.forward_extremities is not None:
            self._extremities.set(batch.room_id, tuple(sorted(batch.forward_extremities)))
        for item in batch.events:
            self._txns.set(item.event.event_id, item.txn or _NO_TXN)
        self._device_txns.committed(item.txn for item in batch.events if item.txn)
        for s, js in zip(stored, jsons, strict=True):
            self._cache.set(s.event.event_id, s, len(js))
        for event_id in redacted:
            self._cache.pop(event_id)
        self._newest_membership = max(
            [self._newest_membership, *(s.stream_ordering for s in stored if _is_membership(s))]
        )
        for listener in self._commit_listeners:
            listener(batch, stored)

    async def _pending_redaction(self, conn: Connection, item: EventToPersist) -> str | None:
        """A redaction we already hold for an event arriving now."""
        return await conn.fetchval(  # type: ignore[no-any-return]
            "SELECT r.event_id FROM redactions r JOIN events e ON e.event_id = r.event_id"
            " WHERE r.redacts = ? AND e.room_id = ? AND e.rejected_reason IS NULL LIMIT 1",
            item.event.event_id,
            item.event.room_id,
        )

    @staticmethod
    async def _write_current_state(conn: Connection, batch: RoomBatch) -> None:
        removed = [k for k, ev in batch.current_state_delta.items() if ev is None]
        await conn.executemany(
            "DELETE FROM current_state WHERE room_id = ? AND type = ? AND state_key = ?",
            [(batch.room_id, k[0], k[1]) for k in removed],
        )
        await conn.executemany(
            "INSERT INTO current_state (room_id, type, state_key, event_id, membership)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (room_id, type, state_key)"
            " DO UPDATE SET event_id = excluded.event_id, membership = excluded.membership",
            [
                (batch.room_id, k[0], k[1], ev.event_id, ev.membership if k[0] ==
                 "m.room.member" else None)
                for k, ev in batch.current_state_delta.items()
                if ev is not None
            ],
        )

    async def _write_redactions(
        self, conn: Connection, stored: Sequence[StoredEvent]
    ) -> list[str]:
        """Record accepted redactions and mark the targets we hold; returns the targets."""
        pairs = [
            (s.event.event_id, target)
            for s in stored
            if s.event.type == "m.room.redaction"
            and s.rejected_reason is None
            and (target := s.event.redacts) is not None
        ]
        await conn.executemany(
            "INSERT INTO redactions (event_id, redacts) VALUES (?, ?) ON CONFLICT DO NOTHING",
            pairs,
        )
        # Only an event of the same room can be redacted by it.
        room_id = stored[0].event.room_id if stored else ""
        await conn.executemany(
            "UPDATE events SET redacted_by = ?"
            " WHERE event_id = ? AND room_id = ? AND redacted_by IS NULL",
            [(rid, target, room_id) for rid, target in pairs],
        )
        return [target for _, target in pairs]

    # --- reading ---------------------------------------------------------------------

    def memberships_stored_after(self, position: int) -> bool:
        """Whether a membership event may have been stored after stream position
        `position`; False means none has, and a read of membership changes since then
        would find nothing. Raised as each batch commits, before the persister hands its
        positions to the notifier (and so to sync tokens)."""
        return self._newest_membership > position

    async def get_event(self, event_id: str) -> StoredEvent | None:
        return (await self.get_events([event_id])).get(event_id)

    async def get_events(self, event_ids: Iterable[str]) -> dict[str, StoredEvent]:
        """The events we hold among `event_ids` (outliers and rejected ones included)."""
        found: dict[str, StoredEvent] = {}
        missing: list[str] = []
        for event_id in dict.fromkeys(event_ids):
            cached = self._cache.get(event_id)
            if cached is not None:
                found[event_id] = cached
            else:
                missing.append(event_id)
        for chunk_start in range(0, len(missing), 500):
            chunk = missing[chunk_start : chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            rows = await self._db.fetchall(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE event_id IN ({marks})", *chunk
            )
            for row in rows:
                found[row[0]] = self.event_from_row(row)
        return found

    def event_from_row(self, row: Sequence[Any]) -> StoredEvent:
        """The event of an `events` row read as EVENT_COLUMNS, here or beside another
        store's columns (a timeline page): the cached copy if there is one, else parsed
        and cached."""
        event_id, version_id, js, pos, outlier, rejected, soft_failed, redacted = row
        cached = self._cache.get(event_id)
        if cached is not None:
            return cached
        version = get_room_version(version_id)
        assert version is not None, f"stored event {event_id} has version {version_id}"
        stored = StoredEvent(
            Event(orjson.loads(js), version, event_id),
            pos,
            bool(outlier),
            rejected,
            bool(soft_failed),
            redacted,
        )
        self._cache.set(event_id, stored, len(js))
        return stored

    async def get_forward_extremities(self, room_id: str) -> list[str]:
        """The room's forward extremities. For the room's persister only: it reads and
        replaces them one batch at a time, so the copy it caches is never overtaken by a
        commit (another reader, racing a commit, could cache the older set)."""
        cached = self._extremities.get(room_id)
        if cached is not None:
            return list(cached)
        stored = await self._db.fetchval(
            "SELECT event_ids FROM room_forward_extremities WHERE room_id = ?", room_id
        )
        extremities = sorted(orjson.loads(stored)) if stored is not None else []
        self._extremities.set(room_id, tuple(extremities))
        return extremities

    async def get_prev_event_ids(self, event_id: str) -> list[str]:
        rows = await self._db.fetchall(
            "SELECT prev_event_id FROM event_edges WHERE event_id = ?", event_id
        )
        return [r[0] for r in rows]

    async def have_children(self, event_ids: Iterable[str]) -> set[str]:
        """Those of `event_ids` that an event we hold names as a prev_event."""
        ids = list(event_ids)
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        rows = await self._db.fetchall(
            f"SELECT DISTINCT prev_event_id FROM event_edges WHERE prev_event_id IN ({marks})",
            *ids,
        )
        return {r[0] for r in rows}

    async def get_auth_chain_ids(self, event_ids: Iterable[str]) -> set[str]:
        """Every event reachable from `event_ids` through auth_events (not themselves)."""
        ids = list(event_ids)
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        rows = await self._db.fetchall(
            "WITH RECURSIVE chain(id) AS ("
            f" SELECT auth_id FROM event_auth WHERE event_id IN ({marks})"
            " UNION SELECT a.auth_id FROM event_auth a JOIN chain c ON a.event_id = c.id)"
            " SELECT id FROM chain",
            *ids,
        )
        return {r[0] for r in rows}

    async def get_txn_event_id(self, txn: TxnKey) -> str | None:
        """The event a device sent with this transaction ID, if it has."""
        return await self._device_txns.event_id(txn)

    async def get_txn_ids(self, event_ids: Iterable[str]) -> dict[str, TxnKey]:
        """The client transaction of each of `event_ids` sent with one."""
        cached, missing = self._txns.get_many(event_ids)
        found = {event_id: txn for event_id, txn in cached.items() if txn is not _NO_TXN}
        if not missing:
            return found
        marks = ",".join("?" * len(missing))
        rows = await self._db.fetchall(
            "SELECT event_id, user_id, device_id, txn_id FROM event_txn_ids"
            f" WHERE event_id IN ({marks})",
            *missing,
        )
        loaded = {r[0]: TxnKey(r[1], r[2], r[3]) for r in rows}
        for event_id in missing:
            self._txns.set(event_id, loaded.get(event_id, _NO_TXN))
        return found | loaded


#: What the transaction cache holds for an event sent without one.
_NO_TXN = TxnKey("", "", "")


def _event_row(s: StoredEvent, js: bytes) -> tuple:
    return (
        s.stream_ordering,
        s.event.event_id,
        s.event.room_id,
        s.event.room_version.identifier,
        s.event.depth,
        s.event.type,
        s.event.state_key,
        s.event.sender,
        s.event.origin_server_ts,
        js.decode(),
        int(s.outlier),
        s.rejected_reason,
        int(s.soft_failed),
        s.redacted_by,
    )


async def _write_event_rows(conn: Connection, batch: RoomBatch, rows: _EventRows) -> None:
    """The batch's events, edges, state groups, transaction IDs and extremities."""
    if conn.engine == "postgres":
        await _write_event_rows_postgres(conn, batch, rows)
        return
    # SQLite runs statements in-process: an executemany per table costs no round trip.
    await conn.executemany(_SQLITE_INSERT_EVENTS, rows.events)
    await conn.executemany(_SQLITE_INSERT_EDGES, rows.edges)
    await conn.executemany(_SQLITE_INSERT_AUTH, rows.auth)
    await conn.executemany(_SQLITE_INSERT_GROUPS, rows.groups)
    await conn.executemany(_SQLITE_INSERT_TXNS, rows.txns)
    if batch.forward_extremities is not None:
        await conn.execute(_SQLITE_WRITE_TIPS, batch.room_id, _extremities_json(batch))


async def _write_event_rows_postgres(
    conn: Connection, batch: RoomBatch, rows: _EventRows
) -> None:
    """The same rows in one statement, so one round trip instead of seven."""
    await conn.execute(
        _POSTGRES_WRITE_EVENTS,
        *_columns(rows.events, 14),
        *_columns(rows.edges, 2),
        *_columns(rows.auth, 2),
        *_columns(rows.groups, 3),
        *_columns(rows.txns, 6),
        batch.room_id, _extremities_json(batch), batch.forward_extremities is not None,
    )


def _extremities_json(batch: RoomBatch) -> str:
    return orjson.dumps(sorted(batch.forward_extremities or ())).decode()


def _columns(rows: Sequence[tuple], width: int) -> list[list[Any]]:
    """Rows as one list per column (the arrays `unnest` turns back into rows)."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


def _creates_room(stored: StoredEvent) -> bool:
    return (
        stored.event.type == "m.room.create"
        and stored.event.state_key == ""
        and not stored.outlier
        and stored.rejected_reason is None
    )


def _is_membership(stored: StoredEvent) -> bool:
    return (
        stored.event.type == "m.room.member"
        and stored.event.state_key is not None
        and stored.rejected_reason is None
    )

