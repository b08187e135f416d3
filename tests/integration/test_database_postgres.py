"""PostgreSQL specifics of the SQL layer: every statement is a round trip to the server,
so the layer counts them, keeps its prepared statements reusable, adds none of its
own between uses of a pooled connection, and sends a transaction's deferred writes as
one statement where that changes nothing."""

from __future__ import annotations

import pytest

from ranvier.storage.database import IntegrityError, PostgresDatabase

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


# --- transactions with deferred writes (combined_writes.py) ---------------------------


async def _make_tables(db: PostgresDatabase) -> None:
    await _make_table(db)
    await db.execute(
        "CREATE TABLE log (id BIGINT PRIMARY KEY, note TEXT, n INTEGER, vec TSVECTOR)"
    )
    await db.execute("CREATE TABLE meta (k TEXT PRIMARY KEY, v BIGINT)")
    await db.execute("INSERT INTO meta (k, v) VALUES (?, ?)", "m", 1)


async def test_deferred_writes_go_as_one_statement_with_their_arguments_in_place(
    database: PostgresDatabase,
) -> None:
    await _make_tables(database)
    before = database.counter.statements
    async with database.transaction(defer_writes=True) as txn:
        await txn.execute("UPDATE meta SET v = ? WHERE k = ?", 10, "m")
        await txn.executemany(
            "INSERT INTO log (id, note, n, vec) VALUES (?, ?, ?, to_tsvector('english', ?))",
            [(1, "one", None, "cats"), (2, None, 7, "dogs"), (3, "three", None, "x")],
        )
        await txn.execute("WITH gone AS (DELETE FROM kv WHERE k = ?) SELECT 1", "b")
    assert database.counter.statements - before == 1
    assert await database.fetchval("SELECT v FROM meta") == 10
    assert await database.fetchall("SELECT k, v FROM kv ORDER BY k") == [("a", 1), ("c", 3)]
    assert await database.fetchall(
        "SELECT id, note, n, vec::text FROM log ORDER BY id"
    ) == [(1, "one", None, "'cat':1"), (2, None, 7, "'dog':1"), (3, "three", None, "'x':1")]


async def test_a_failing_part_leaves_every_other_part_undone(
    database: PostgresDatabase,
) -> None:
    await _make_tables(database)
    before = database.counter.statements
    with pytest.raises(IntegrityError):
        async with database.transaction(defer_writes=True) as txn:
            await txn.execute("INSERT INTO log (id, note) VALUES (?, ?)", 1, "kept?")
            await txn.executemany("INSERT INTO kv (k, v) VALUES (?, ?)", [("d", 4), ("a", 5)])
    assert database.counter.statements - before == 1
    assert await database.fetchval("SELECT count(*) FROM log") == 0
    assert await database.fetchval("SELECT count(*) FROM kv") == 3


async def test_a_block_that_raises_sends_nothing(database: PostgresDatabase) -> None:
    await _make_tables(database)
    before = database.counter.statements
    with pytest.raises(RuntimeError):
        async with database.transaction(defer_writes=True) as txn:
            await txn.execute("INSERT INTO log (id) VALUES (?)", 1)
            raise RuntimeError("boom")
    assert database.counter.statements == before
    assert await database.fetchval("SELECT count(*) FROM log") == 0


async def test_a_read_makes_it_an_ordinary_transaction_that_sees_the_writes(
    database: PostgresDatabase,
) -> None:
    await _make_tables(database)
    before = database.counter.statements
    async with database.transaction(defer_writes=True) as txn:
        await txn.execute("INSERT INTO log (id, note) VALUES (?, ?)", 1, "a")
        await txn.execute("UPDATE kv SET v = ? WHERE k = ?", 9, "a")
        assert await txn.fetchval("SELECT v FROM kv WHERE k = ?", "a") == 9
        await txn.execute("INSERT INTO log (id, note) VALUES (?, ?)", 2, "b")
    # BEGIN, the two writes held, the read, the last write, COMMIT
    assert database.counter.statements - before == 6
    assert await database.fetchval("SELECT count(*) FROM log") == 2
    with pytest.raises(RuntimeError):
        async with database.transaction(defer_writes=True) as txn:
            await txn.execute("INSERT INTO log (id) VALUES (?)", 3)
            await txn.fetchval("SELECT 1")
            raise RuntimeError("boom")
    assert await database.fetchval("SELECT count(*) FROM log") == 2


async def test_writes_that_could_meet_go_one_after_another(database: PostgresDatabase) -> None:
    await _make_tables(database)
    before = database.counter.statements
    async with database.transaction(defer_writes=True) as txn:
        # In one statement the insert would not see the delete, and its key would clash.
        await txn.execute("DELETE FROM kv WHERE k = ?", "a")
        await txn.execute("INSERT INTO kv (k, v) VALUES (?, ?)", "a", 7)
        # Two upsert rows for one key: one statement may not change a row twice.
        await txn.executemany(
            "INSERT INTO log (id, note) VALUES (?, ?)"
            " ON CONFLICT (id) DO UPDATE SET note = excluded.note",
            [(1, "first"), (1, "second")],
        )
    # BEGIN, the delete, the insert, the upserts, COMMIT
    assert database.counter.statements - before == 5
    assert await database.fetchval("SELECT v FROM kv WHERE k = ?", "a") == 7
    assert await database.fetchval("SELECT note FROM log WHERE id = ?", 1) == "second"


async def test_combined_statements_do_not_depend_on_the_number_of_rows(
    database: PostgresDatabase,
) -> None:
    await _make_tables(database)
    for count in (1, 2, 5):
        async with database.transaction(defer_writes=True) as txn:
            await txn.execute("UPDATE meta SET v = v + 1 WHERE k = ?", "m")
            await txn.executemany(
                "INSERT INTO log (id, note) VALUES (?, ?) ON CONFLICT DO NOTHING",
                [(i, f"n{i}") for i in range(count)],
            )
    async with database.transaction() as txn:
        prepared = await txn.fetchval(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE ?",
            "WITH _w0 AS (UPDATE meta%",
        )
    assert prepared == 1
    assert await database.fetchval("SELECT v FROM meta") == 4
    assert await database.fetchval("SELECT count(*) FROM log") == 5
