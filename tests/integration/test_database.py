"""The SQL layer behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from ranvier.storage.database import Database, IntegrityError, postgres_statement
from ranvier.storage.migrations import apply_migrations, find_migrations, split_sqlite_script


async def _make_table(db: Database) -> None:
    await db.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT, flag INTEGER)")


async def test_query_methods_round_trip_values(database: Database) -> None:
    await _make_table(database)
    await database.execute("INSERT INTO kv (k, v, flag) VALUES (?, ?, ?)", "a", 2**40, 1)
    await database.executemany(
        "INSERT INTO kv (k, v, flag) VALUES (?, ?, ?)", [("b", 2, 0), ("c", 3, 1)]
    )
    assert await database.fetchone("SELECT k, v, flag FROM kv WHERE k = ?", "a") == (
        "a", 2**40, 1,
    )
    assert await database.fetchall("SELECT k FROM kv WHERE flag = ? ORDER BY k", 1) == [
        ("a",), ("c",),
    ]
    assert await database.fetchval("SELECT count(*) FROM kv") == 3
    assert await database.fetchval("SELECT v FROM kv WHERE k = ?", "zzz") is None
    assert await database.fetchone("SELECT v FROM kv WHERE k = ?", "zzz") is None


async def test_upsert_and_returning_are_portable(database: Database) -> None:
    await _make_table(database)
    sql = (
        "INSERT INTO kv (k, v, flag) VALUES (?, ?, 0) "
        "ON CONFLICT (k) DO UPDATE SET v = kv.v + excluded.v RETURNING v"
    )
    assert await database.fetchval(sql, "a", 5) == 5
    assert await database.fetchval(sql, "a", 7) == 12
    await database.execute(
        "INSERT INTO kv (k, v, flag) VALUES (?, ?, 0) ON CONFLICT (k) DO NOTHING", "a", 1
    )
    assert await database.fetchval("SELECT v FROM kv WHERE k = ?", "a") == 12


async def test_transaction_commits_on_success(database: Database) -> None:
    await _make_table(database)
    async with database.transaction() as txn:
        await txn.execute("INSERT INTO kv (k, v) VALUES (?, ?)", "a", 1)
        # Reads inside the transaction see its own writes.
        assert await txn.fetchval("SELECT v FROM kv WHERE k = ?", "a") == 1
    assert await database.fetchval("SELECT v FROM kv WHERE k = ?", "a") == 1


async def test_transaction_rolls_back_when_the_block_raises(database: Database) -> None:
    await _make_table(database)
    with pytest.raises(RuntimeError):
        async with database.transaction() as txn:
            await txn.execute("INSERT INTO kv (k, v) VALUES (?, ?)", "a", 1)
            raise RuntimeError("boom")
    assert await database.fetchval("SELECT count(*) FROM kv") == 0


async def test_deferred_writes_commit_and_roll_back_as_any_transaction(
    database: Database,
) -> None:
    await _make_table(database)
    async with database.transaction(defer_writes=True) as txn:
        await txn.execute("INSERT INTO kv (k, v) VALUES (?, ?)", "a", 1)
        await txn.executemany("INSERT INTO kv (k, v) VALUES (?, ?)", [("b", 2), ("c", 3)])
    with pytest.raises(IntegrityError):
        async with database.transaction(defer_writes=True) as txn:
            await txn.execute("UPDATE kv SET v = ? WHERE k = ?", 10, "a")
            await txn.execute("INSERT INTO kv (k, v) VALUES (?, ?)", "b", 4)
    assert await database.fetchall("SELECT k, v FROM kv ORDER BY k") == [
        ("a", 1), ("b", 2), ("c", 3),
    ]


async def test_unique_violation_raises_integrity_error_on_both_engines(
    database: Database,
) -> None:
    await _make_table(database)
    await database.execute("INSERT INTO kv (k, v) VALUES (?, ?)", "a", 1)
    with pytest.raises(IntegrityError):
        await database.execute("INSERT INTO kv (k, v) VALUES (?, ?)", "a", 2)
    with pytest.raises(IntegrityError):
        async with database.transaction() as txn:
            await txn.execute("INSERT INTO kv (k, v) VALUES (?, ?)", "a", 3)


async def test_concurrent_transactions_do_not_interleave(database: Database) -> None:
    await _make_table(database)
    await database.execute("INSERT INTO kv (k, v) VALUES ('n', 0)")

    async def increment() -> None:
        async with database.transaction() as txn:
            await txn.execute("SELECT 1")  # hold the transaction open across awaits
            value = await txn.fetchval("SELECT v FROM kv WHERE k = 'n' FOR UPDATE"
                                       if txn.engine == "postgres"
                                       else "SELECT v FROM kv WHERE k = 'n'")
            await asyncio.sleep(0)
            await txn.execute("UPDATE kv SET v = ? WHERE k = 'n'", value + 1)

    await asyncio.gather(*(increment() for _ in range(20)))
    assert await database.fetchval("SELECT v FROM kv WHERE k = 'n'") == 20


async def test_migrations_are_recorded_and_not_reapplied(database: Database) -> None:
    ids = {m.id for m in find_migrations(database.engine)}
    recorded = {r[0] for r in await database.fetchall("SELECT id FROM schema_migrations")}
    assert ids == recorded
    assert await apply_migrations(database) == []


async def test_engine_variant_migrations_pick_the_right_file(
    database: Database, tmp_path: Path
) -> None:
    (tmp_path / "0900_thing.sqlite.sql").write_text(
        "CREATE TABLE thing (id INTEGER PRIMARY KEY AUTOINCREMENT, engine TEXT);\n"
        "INSERT INTO thing (engine) VALUES ('sqlite');"
    )
    (tmp_path / "0900_thing.postgres.sql").write_text(
        "CREATE TABLE thing (id BIGSERIAL PRIMARY KEY, engine TEXT);\n"
        "INSERT INTO thing (engine) VALUES ('postgres');"
    )
    (tmp_path / "0901_more.sql").write_text(
        "-- a comment; with a semicolon\nCREATE TABLE more (a TEXT);\n"
        "CREATE INDEX more_a ON more (a);\n"
    )
    assert await apply_migrations(database, tmp_path) == ["0900_thing", "0901_more"]
    assert await database.fetchval("SELECT engine FROM thing") == database.engine
    assert await apply_migrations(database, tmp_path) == []


async def test_failed_migration_leaves_nothing_behind(database: Database, tmp_path: Path) -> None:
    (tmp_path / "0900_bad.sql").write_text("CREATE TABLE half (a TEXT);\nNOT SQL AT ALL;")
    with pytest.raises(Exception):  # noqa: B017 - each engine raises its own syntax error
        await apply_migrations(database, tmp_path)
    assert await database.fetchval(
        "SELECT count(*) FROM schema_migrations WHERE id = '0900_bad'"
    ) == 0
    await database.execute("CREATE TABLE half (a TEXT)")  # the table was rolled back


def test_migration_with_one_engine_variant_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "0900_x.sqlite.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError, match="no variant for postgres"):
        find_migrations("sqlite", tmp_path)


def test_migrations_sharing_a_number_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "0900_a.sql").write_text("SELECT 1;")
    (tmp_path / "0900_b.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError, match="share the number 0900"):
        find_migrations("sqlite", tmp_path)


def test_badly_named_schema_file_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "accounts.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError, match=r"accounts\.sql"):
        find_migrations("sqlite", tmp_path)


def test_placeholders_are_rewritten_outside_quotes_and_comments() -> None:
    sql = "SELECT '?', \"a?\" FROM t WHERE a = ? AND b = ? -- why?\nAND c = ?"
    assert postgres_statement(sql) == (
        "SELECT '?', \"a?\" FROM t WHERE a = $1 AND b = $2 -- why?\nAND c = $3", None,
    )
    assert postgres_statement("SELECT 'it''s ?' , ?") == ("SELECT 'it''s ?' , $1", None)


def test_in_lists_become_one_array_argument_whatever_their_length() -> None:
    two = "SELECT k FROM kv WHERE v = ? AND k IN (?, ?) AND flag NOT IN (?) AND 'IN (?)' = ?"
    three = "SELECT k FROM kv WHERE v = ? AND k IN (?,?,?) AND flag NOT IN (?) AND 'IN (?)' = ?"
    text = "SELECT k FROM kv WHERE v = $1 AND k = ANY($2) AND flag <> ALL($3) AND 'IN (?)' = $4"
    assert postgres_statement(two) == (text, (0, (1, 2), (3, 1), 4))
    assert postgres_statement(three) == (text, (0, (1, 3), (4, 1), 5))
    # JOIN ( and a list with anything but placeholders stay as they are.
    assert postgres_statement("SELECT 1 FROM a JOIN (SELECT ?) b WHERE x IN (1, ?)") == (
        "SELECT 1 FROM a JOIN (SELECT $1) b WHERE x IN (1, $2)", None,
    )


async def test_in_lists_select_the_same_rows_on_both_engines(database: Database) -> None:
    await _make_table(database)
    await database.executemany(
        "INSERT INTO kv (k, v, flag) VALUES (?, ?, ?)", [("a", 1, 0), ("b", 2, 1), ("c", 3, 1)]
    )
    sql = "SELECT k FROM kv WHERE k IN (?, ?, ?) AND v NOT IN (?) ORDER BY k"
    assert await database.fetchall(sql, "a", "c", "zz", 3) == [("a",)]
    assert await database.fetchall("SELECT k FROM kv WHERE v IN (?) AND flag = ?", 2, 1) == [
        ("b",)
    ]
    async with database.transaction() as txn:
        await txn.executemany("DELETE FROM kv WHERE k IN (?, ?)", [("a", "b"), ("c", "zz")])
    assert await database.fetchval("SELECT count(*) FROM kv") == 0


def test_sqlite_scripts_split_on_statement_boundaries() -> None:
    script = (
        "CREATE TABLE a (x TEXT DEFAULT ';');\n-- comment only;\n"
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 'y'; END;\n"
    )
    assert split_sqlite_script(script) == [
        "CREATE TABLE a (x TEXT DEFAULT ';');",
        "-- comment only;\nCREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 'y'; END;",
    ]


async def test_extremities_move_to_one_row_per_room(database: Database) -> None:
    # The database as it was before 0106: one row per (room, extremity).
    await database.execute("DROP TABLE room_forward_extremities")
    await database.execute(
        "CREATE TABLE forward_extremities (room_id TEXT NOT NULL, event_id TEXT NOT NULL,"
        " PRIMARY KEY (room_id, event_id))"
    )
    await database.executemany(
        "INSERT INTO forward_extremities (room_id, event_id) VALUES (?, ?)",
        [("!a:x", "$2"), ("!a:x", "$1"), ("!b:x", "$3")],
    )
    await database.execute(
        "DELETE FROM schema_migrations WHERE id = '0106_room_forward_extremities'"
    )
    assert await apply_migrations(database) == ["0106_room_forward_extremities"]
    rows = await database.fetchall(
        "SELECT room_id, event_ids FROM room_forward_extremities ORDER BY room_id"
    )
    assert [(room, orjson.loads(ids)) for room, ids in rows] == [
        ("!a:x", ["$1", "$2"]), ("!b:x", ["$3"])
    ]
