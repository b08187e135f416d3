"""A /messages page deep in a room reads that page's rows, not every row from the
room's edge down to it: the page's statement bounds its walk of the events' topological
index by the pagination key (SQLite's plan shows it; PostgreSQL's index scan does the
same with fresh statistics, docs/PERFORMANCE.md)."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer

from .room_helpers import User, create_room, ok, q, send_message

sqlite_only = pytest.mark.parametrize("database_config", ["sqlite"], indirect=True)


@sqlite_only
async def test_a_page_walks_the_index_from_its_key(
    client: Any, server: HomeServer, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    room_id = await create_room(client, alice)
    for n in range(6):
        await send_message(client, alice, room_id, f"m{n}", f"t{n}")
    first = await ok(client, "GET", f"/rooms/{q(room_id)}/messages?dir=b&limit=2", alice)
    pages: list[tuple[str, tuple[Any, ...]]] = []
    fetchall = server.db.fetchall

    async def recording(sql: str, *args: Any) -> list[tuple]:
        if sql.startswith("SELECT") and "ORDER BY topological_ordering" in sql:
            pages.append((sql, args))
        return await fetchall(sql, *args)

    monkeypatch.setattr(server.db, "fetchall", recording)
    path = f"/rooms/{q(room_id)}/messages?dir=b&limit=2&from={first['end']}"
    assert (await ok(client, "GET", path, alice))["chunk"]
    monkeypatch.undo()

    assert pages
    for sql, args in pages:
        plan = " ".join(row[-1] for row in await server.db.fetchall(
            "EXPLAIN QUERY PLAN " + sql, *args
        ))
        # The search is bounded by the key, not by the room alone: "(room_id=?)".
        assert "topological_ordering" in plan.split("events_room_topo", 1)[1], plan
