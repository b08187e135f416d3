"""PostgreSQL specifics of the SQL layer: every statement is a round trip to the server,
so the layer counts them, keeps its prepared statements reusable and adds none of its
own between uses of a pooled connection."""

from __future__ import annotations

import pytest

from ranvier.storage.database import PostgresDatabase

pytestmark = pytest.mark.parametrize("database_config", ["postgres"], indirect=True)


async def _make_table(db: PostgresDatabase) -> None:
    await db.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT)")
    await db.executemany("INSERT INTO kv (k, v) VALUES (?, ?)", [("a", 1), ("b", 2), ("c", 3)])


async def test_statements_are_counted_with_begin_and_commit(database: PostgresDatabase) -> None:
    await _make_table(database)
    before = database.counter.statements
    await database.fetchval("SELECT v FROM kv WHERE k = ?", "a")
    async with database.transaction() as txn:
        await txn.execute("UPDATE kv SET v = v + 1 WHERE k = ?", "a")
        await txn.executemany("UPDATE kv SET v = ? WHERE k = ?", [(5, "b"), (6, "c")])
    assert database.counter.statements - before == 1 + 2 + 2


async def test_in_lists_of_any_length_share_one_prepared_statement(
    database: PostgresDatabase,
) -> None:
    await _make_table(database)
    async with database.transaction() as txn:
        for keys in (["a"], ["a", "b"], ["a", "b", "c"]):
            placeholders = ", ".join("?" * len(keys))
            rows = await txn.fetchall(f"SELECT v FROM kv WHERE k IN ({placeholders})", *keys)
            assert len(rows) == len(keys)
        prepared = await txn.fetchval(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE ?",
            "SELECT v FROM kv WHERE k%",
        )
    assert prepared == 1


async def test_a_pooled_connection_is_not_reset_between_statements(
    database: PostgresDatabase,
) -> None:
    # asyncpg's default reset (RESET ALL, UNLISTEN, CLOSE ALL, advisory unlocks) is a
    # round trip per release; a session setting surviving the release shows it is gone.
    async with database.transaction() as txn:
        await txn.execute("SET application_name = 'kept'")
    assert await database.fetchval("SHOW application_name") == "kept"
