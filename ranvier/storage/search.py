"""Full-text index of room events for POST /search (client-server API "Server Side
Search"): written with the events (a batch writer of EventsStore), queried with each
engine's own full-text search — SQLite FTS5 (porter stemming, bm25 rank) and
PostgreSQL tsvector/tsquery ('english' configuration, ts_rank_cd rank).

A query is the AND of its words, each matched as a prefix. Engines differ at the edges:
PostgreSQL drops English stop words ("and", "the") from queries and SQLite does not.
Redacted events are never returned: the index rows stay, the join on `events` skips them.

On SQLite the events' transaction does not write the FTS5 index itself: adding to it
dirties several pages at every commit (about 40 us of a send). It appends the text to
`event_search_pending` instead, whose rows move into the index in one go once
FLUSH_EVERY have gathered, and before every query, so a search always sees every
committed event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ranvier.protocol.events import Event
from ranvier.storage.database import Connection, Database
from ranvier.storage.events import StoredEvent

#: The event type whose text each search key names (spec: "room_events" category).
KEY_TYPES: Mapping[str, str] = {
    "content.body": "m.room.message",
    "content.name": "m.room.name",
    "content.topic": "m.room.topic",
}


def searchable_text(event: Event) -> str | None:
    """The text an event is found by: `body` of a message, `name` of a room name, and
    of a topic both `topic` and the text/plain bodies of its `m.topic` (v1.15)."""
    content = event.content
    parts: list[Any] = []
    if event.type == "m.room.message":
        parts = [content.get("body")]
    elif event.type == "m.room.name":
        parts = [content.get("name")]
    elif event.type == "m.room.topic":
        parts = [content.get("topic")]
        topic = content.get("m.topic")
        texts = topic.get("m.text") if isinstance(topic, Mapping) else None
        if isinstance(texts, list):
            parts += [
                t.get("body") for t in texts
                if isinstance(t, Mapping) and t.get("mimetype", "text/plain") == "text/plain"
            ]
    text = "\n".join(dict.fromkeys(p for p in parts if isinstance(p, str) and p))
    return text or None


@dataclass(frozen=True)
class SearchQuery:
    #: casefolded words, all of which must match (each as a prefix)
    terms: tuple[str, ...]
    room_ids: tuple[str, ...]
    types: tuple[str, ...]
    sender: str | None = None
    #: "rank" (most relevant first) or "recent" (newest first)
    order: str = "rank"


@dataclass(frozen=True)
class SearchHit:
    event_id: str
    stream_ordering: int
    rank: float


def _marks(items: Sequence[object]) -> str:
    return ",".join("?" * len(items))


#: SQLite: how many pending rows move into the FTS5 index together.
FLUSH_EVERY = 256


class SearchStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        # Pending rows written since the last move (a hint: rows left by an earlier
        # process move at the first query or once this count fills).
        self._pending = 0

    async def write_from_events(self, conn: Connection, stored: Sequence[StoredEvent]) -> None:
        """Part of the event persister's transaction (an EventsStore batch writer)."""
        rows = [
            (s.stream_ordering, text)
            for s in stored
            if not (s.outlier or s.rejected_reason or s.soft_failed)
            and (text := searchable_text(s.event)) is not None
        ]
        if conn.engine != "sqlite":
            await conn.executemany(
                "INSERT INTO event_search (stream_ordering, vector)"
                " VALUES (?, to_tsvector('english', ?)) ON CONFLICT DO NOTHING",
                rows,
            )
            return
        await conn.executemany(
            "INSERT INTO event_search_pending (stream_ordering, body) VALUES (?, ?)", rows
        )
        self._pending += len(rows)
        if self._pending >= FLUSH_EVERY:
            await self._move_pending(conn)

    async def _move_pending(self, conn: Connection) -> None:
        await conn.execute(
            "INSERT INTO event_search (rowid, body)"
            " SELECT stream_ordering, body FROM event_search_pending"
        )
        await conn.execute("DELETE FROM event_search_pending")
        self._pending = 0

    async def _index_pending(self) -> None:
        """Bring the SQLite index up to date before a query."""
        if self._db.engine != "sqlite" or await self._db.fetchval(
            "SELECT 1 FROM event_search_pending LIMIT 1"
        ) is None:
            return
        async with self._db.transaction() as conn:
            await self._move_pending(conn)

    async def search(
        self,
        query: SearchQuery,
        *,
        before: int | None = None,
        offset: int = 0,
        limit: int,
    ) -> list[SearchHit]:
        """Matches in `query.order`; `before` (a stream position, for "recent") and
        `offset` (for "rank") say where a page starts."""
        if not query.terms or not query.room_ids or not query.types:
            return []
        await self._index_pending()
        source, args = self._matches(query)
        if before is not None:
            source += " AND e.stream_ordering < ?"
            args.append(before)
        order = "score DESC, e.stream_ordering DESC" if query.order == "rank" else (
            "e.stream_ordering DESC"
        )
        rows = await self._db.fetchall(
            f"SELECT e.event_id, e.stream_ordering, {self._rank()} AS score {source}"
            f" ORDER BY {order} LIMIT ? OFFSET ?",
            *args, limit, offset,
        )
        return [SearchHit(r[0], int(r[1]), float(r[2])) for r in rows]

    async def count(self, query: SearchQuery) -> int:
        """How many events match (before history visibility: an estimate, as the spec
        allows)."""
        if not query.terms or not query.room_ids or not query.types:
            return 0
        await self._index_pending()
        source, args = self._matches(query)
        return int(await self._db.fetchval(f"SELECT COUNT(*) {source}", *args) or 0)

    def _rank(self) -> str:
        # bm25 is lower for better matches; the spec wants higher.
        return "-bm25(event_search)" if self._db.engine == "sqlite" else (
            "ts_rank_cd(s.vector, q)"
        )

    def _matches(self, query: SearchQuery) -> tuple[str, list[Any]]:
        """FROM ... WHERE ... of the live events matching the query, and its arguments."""
        if self._db.engine == "sqlite":
            # Words are \w+ runs, so quoting them cannot break out of the FTS syntax.
            match = " ".join(f'"{term}"*' for term in query.terms)
            sql = (
                " FROM event_search JOIN events e ON e.stream_ordering = event_search.rowid"
                " WHERE event_search MATCH ?"
            )
        else:
            match = " & ".join(f"{term}:*" for term in query.terms)
            sql = (
                " FROM event_search s JOIN events e ON e.stream_ordering = s.stream_ordering,"
                " to_tsquery('english', ?) q WHERE s.vector @@ q"
            )
        sql += (
            f" AND e.room_id IN ({_marks(query.room_ids)})"
            f" AND e.type IN ({_marks(query.types)}) AND e.redacted_by IS NULL"
        )
        args: list[Any] = [match, *query.room_ids, *query.types]
        if query.sender is not None:
            sql += " AND e.sender = ?"
            args.append(query.sender)
        return sql, args
