"""Event relationships: written with the events (a batch writer of EventsStore), read
for /relations, /threads and bundled aggregations. Relations of redacted events are
left out of every read: redaction removes `m.relates_to`.

Most events have no relations, and every /sync bundles the aggregations of its
timeline's events: the events known to have none are kept in memory, so a timeline of
new messages is bundled without a read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ranvier.storage.database import Connection, Database
from ranvier.storage.events import RoomBatch, StoredEvent
from ranvier.storage.lru import LruCache

#: Events known to have no live relations (the newest ones: those syncs bundle).
CHILDLESS_CACHE_EVENTS = 10_000


@dataclass(frozen=True)
class Relation:
    event_id: str
    relates_to_id: str
    rel_type: str
    type: str
    sender: str
    stream_ordering: int


def relation_of(stored: StoredEvent) -> tuple[str, str] | None:
    """(parent event ID, rel_type) of an event that forms a relationship."""
    relates_to = stored.event.content.get("m.relates_to")
    if not isinstance(relates_to, dict):
        return None
    parent, rel_type = relates_to.get("event_id"), relates_to.get("rel_type")
    if not isinstance(parent, str) or not isinstance(rel_type, str):
        return None
    return parent, rel_type


_LIVE = (
    "SELECT r.event_id, r.relates_to_id, r.rel_type, r.type, r.sender, r.stream_ordering"
    " FROM event_relations r JOIN events e ON e.event_id = r.event_id"
    " WHERE e.redacted_by IS NULL"
)


def _marks(items: Sequence[object]) -> str:
    return ",".join("?" * len(items))


class RelationsStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        # event ID -> True: no live relation names it
        self._childless: LruCache[str, bool] = LruCache(CHILDLESS_CACHE_EVENTS)
        # Batches with relations committed so far: a read that one overtook may have
        # missed its rows.
        self._relation_commits = 0

    def on_committed(self, batch: RoomBatch, stored: Sequence[StoredEvent]) -> None:
        """Keep the events this server built as childless: their IDs are new, so no
        relation can name them yet; forget it of the parents of new relations
        (EventsStore commit listener)."""
        for item in batch.events:
            if item.built_here:
                self._childless.set(item.event.event_id, True)
        parents = [relation[0] for s in stored if (relation := relation_of(s)) is not None]
        if parents:
            self._relation_commits += 1
        for parent in parents:
            self._childless.pop(parent)

    @staticmethod
    async def write_relations(conn: Connection, stored: Sequence[StoredEvent]) -> None:
        """Part of the event persister's transaction (an EventsStore batch writer)."""
        rows = []
        for s in stored:
            relation = relation_of(s)
            if relation is None or s.outlier or s.rejected_reason or s.soft_failed:
                continue
            rows.append((
                s.event.event_id, relation[0], relation[1], s.event.room_id, s.event.type,
                s.event.sender, s.stream_ordering,
            ))
        await conn.executemany(
            "INSERT INTO event_relations (event_id, relates_to_id, rel_type, room_id, type,"
            " sender, stream_ordering) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            rows,
        )

    async def get_children(
        self,
        parent_ids: Sequence[str],
        room_id: str,
        rel_type: str | None = None,
        event_type: str | None = None,
        *,
        before: int | None = None,
        after: int | None = None,
        forwards: bool = False,
        limit: int | None = None,
    ) -> list[Relation]:
        """Events relating to any of `parent_ids`, by stream order, strictly between
        `after` and `before` when given."""
        if not parent_ids:
            return []
        sql = _LIVE + f" AND r.relates_to_id IN ({_marks(parent_ids)}) AND r.room_id = ?"
        args: list[object] = [*parent_ids, room_id]
        for clause, value in (
            (" AND r.rel_type = ?", rel_type),
            (" AND r.type = ?", event_type),
            (" AND r.stream_ordering < ?", before),
            (" AND r.stream_ordering > ?", after),
        ):
            if value is not None:
                sql += clause
                args.append(value)
        sql += " ORDER BY r.stream_ordering " + ("ASC" if forwards else "DESC")
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [Relation(*row) for row in await self._db.fetchall(sql, *args)]

    async def get_relations_for(self, parent_ids: Sequence[str]) -> list[Relation]:
        """Every live relation to any of `parent_ids` (bundled aggregations: one query
        per batch of events), oldest first."""
        wanted = [p for p in parent_ids if self._childless.get(p) is None]
        if not wanted:
            return []
        commits = self._relation_commits
        relations = [
            Relation(*row)
            for row in await self._db.fetchall(
                _LIVE + f" AND r.relates_to_id IN ({_marks(wanted)})"
                " ORDER BY r.stream_ordering",
                *wanted,
            )
        ]
        if commits == self._relation_commits:  # no relation committed meanwhile
            named = {r.relates_to_id for r in relations}
            for parent in wanted:
                if parent not in named:
                    self._childless.set(parent, True)
        return relations

    async def get_threads(
        self, room_id: str, *, participant: str | None, before: int | None, limit: int
    ) -> list[tuple[str, int]]:
        """(thread root, stream position of its latest reply), most recent first;
        with `participant`, only threads they started or replied to."""
        sql = (
            "SELECT r.relates_to_id, MAX(r.stream_ordering) AS latest"
            " FROM event_relations r JOIN events e ON e.event_id = r.event_id"
            " JOIN events root ON root.event_id = r.relates_to_id"
            " WHERE e.redacted_by IS NULL AND r.room_id = ? AND r.rel_type = 'm.thread'"
            " AND root.room_id = r.room_id"
        )
        args: list[object] = [room_id]
        if participant is not None:
            sql += (
                " AND (root.sender = ? OR EXISTS (SELECT 1 FROM event_relations p"
                " WHERE p.relates_to_id = r.relates_to_id AND p.rel_type = 'm.thread'"
                " AND p.sender = ?))"
            )
            args += [participant, participant]
        sql += " GROUP BY r.relates_to_id"
        if before is not None:
            sql += " HAVING MAX(r.stream_ordering) < ?"
            args.append(before)
        sql += " ORDER BY latest DESC LIMIT ?"
        args.append(limit)
        return [(row[0], int(row[1])) for row in await self._db.fetchall(sql, *args)]
