"""executemany outside a transaction is one statement's worth of all or none."""

from __future__ import annotations

import pytest

from ranvier.storage.database import Database, IntegrityError


async def test_executemany_writes_all_rows_or_none(database: Database) -> None:
    await database.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT)")
    await database.executemany("INSERT INTO kv (k, v) VALUES (?, ?)", [("a", 1), ("b", 2)])
    with pytest.raises(IntegrityError):
        # the third row collides with the first: the second must not stay behind
        await database.executemany(
            "INSERT INTO kv (k, v) VALUES (?, ?)", [("c", 3), ("d", 4), ("a", 5)]
        )
    assert await database.fetchall("SELECT k, v FROM kv ORDER BY k") == [("a", 1), ("b", 2)]
    await database.execute("INSERT INTO kv (k, v) VALUES (?, ?)", "e", 6)  # still usable
    assert await database.fetchval("SELECT count(*) FROM kv") == 3
