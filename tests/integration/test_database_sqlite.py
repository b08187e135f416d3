"""SQLite specifics of the SQL layer: statements run on the event loop's thread, so the
layer itself must wait for other processes' locks without blocking the loop, keep reads
apart from the open write transaction, and checkpoint the WAL off the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from ranvier.storage import database
from ranvier.storage.database import SqliteDatabase
from ranvier.storage.migrations import SCHEMA_DIR, apply_migrations


async def _open(tmp_path: Path) -> tuple[SqliteDatabase, str]:
    path = str(tmp_path / "db.sqlite")
    db = SqliteDatabase(path)
    await db.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT)")
    return db, path


async def test_a_write_waits_for_another_process_lock_without_blocking_the_loop(
    tmp_path: Path,
) -> None:
    db, path = await _open(tmp_path)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # as another process's writer would
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        await db.execute("INSERT INTO kv (k, v) VALUES ('a', 1)")
        ticker.cancel()
        # The write went through once the lock was free, and the loop ran meanwhile.
        assert await db.fetchval("SELECT v FROM kv WHERE k = 'a'") == 1
        assert ticks >= 10
    finally:
        release.join()
        holder.close()
        await db.close()


async def test_reads_outside_a_transaction_see_only_committed_rows(tmp_path: Path) -> None:
    db, _ = await _open(tmp_path)
    try:
        async with db.transaction() as txn:
            await txn.execute("INSERT INTO kv (k, v) VALUES ('a', 1)")
            assert await txn.fetchval("SELECT count(*) FROM kv") == 1
            assert await db.fetchval("SELECT count(*) FROM kv") == 0
        assert await db.fetchval("SELECT count(*) FROM kv") == 1
    finally:
        await db.close()


async def test_the_wal_is_checkpointed_into_the_database_file(tmp_path: Path) -> None:
    db, path = await _open(tmp_path)
    try:
        before = Path(path).stat().st_size
        payload = "x" * 1000
        for i in range(300):  # about 300 pages, each commit on its own
            await db.execute("INSERT INTO kv (k, v) VALUES (?, ?)", f"{payload}{i}", i)
        # The event-loop connections never checkpoint; the checkpoint thread copies the
        # pages into the main file shortly after the commits.
        for _ in range(50):
            if Path(path).stat().st_size > before + 200_000:
                break
            await asyncio.sleep(0.1)
        assert Path(path).stat().st_size > before + 200_000
    finally:
        await db.close()


async def test_compacting_migrations_keep_rows_and_drop_the_rowid(tmp_path: Path) -> None:
    # A database as it was before 0012, with rows in the tables it rebuilds.
    older = tmp_path / "older"
    older.mkdir()
    for f in SCHEMA_DIR.glob("*.sql"):
        if f.name < "0012" and not f.name.endswith(".postgres.sql"):
            (older / f.name).write_text(f.read_text())
    db = SqliteDatabase(str(tmp_path / "old.db"))
    try:
        await apply_migrations(db, older)
        await db.execute("INSERT INTO event_edges (event_id, prev_event_id) VALUES ('$b', '$a')")
        await db.execute(
            "INSERT INTO current_state (room_id, type, state_key, event_id, membership)"
            " VALUES ('!r', 'm.room.member', '@u:x', '$m', 'join')"
        )
        await apply_migrations(db)
        assert await db.fetchall("SELECT event_id, prev_event_id FROM event_edges") == [
            ("$b", "$a")
        ]
        assert await db.fetchval(
            "SELECT membership FROM current_state WHERE state_key = '@u:x'"
        ) == "join"
        without_rowid = {
            row[0] for row in await db.fetchall("SELECT name FROM pragma_table_list WHERE wr = 1")
        }
        assert {"event_edges", "current_state", "receipts", "event_txn_ids"} <= without_rowid
        # events and state_groups are keyed by their rowid (0013): no index of the key
        # beside the table (events keeps the one of its UNIQUE event_id).
        for table, autoindexes in (("events", 1), ("state_groups", 0)):
            assert await db.fetchval(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                " AND name LIKE 'sqlite_autoindex_%'",
                table,
            ) == autoindexes
        # The indexes came back with the rebuilt tables.
        assert await db.fetchval(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
            " AND name IN ('event_edges_prev', 'receipts_room_stream', 'event_txn_ids_event')"
        ) == 3
    finally:
        await db.close()


async def test_closing_does_not_wait_out_the_checkpoint_pause(tmp_path: Path) -> None:
    db, _ = await _open(tmp_path)
    await db.execute("INSERT INTO kv (k, v) VALUES ('a', 1)")
    await asyncio.sleep(0.05)  # the checkpoint thread is now in its pause
    started = time.monotonic()
    await db.close()
    assert time.monotonic() - started < 0.5


async def test_the_wal_stays_bounded_under_a_steady_stream_of_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A PASSIVE checkpoint never catches up with a writer that keeps committing, so the
    # WAL would only grow (to the size of every frame written, about 570 MiB here);
    # past the limit the writer has it restarted.
    monkeypatch.setattr(database, "WAL_RESTART_BYTES", 512 * 1024)
    db, path = await _open(tmp_path)
    wal = Path(path + "-wal")
    largest = 0
    commits = 20_000
    try:
        payload = "x" * 3000
        for i in range(commits):
            await db.execute("INSERT INTO kv (k, v) VALUES (?, ?)", f"{payload}{i}", i)
            if i % 50 == 0:
                largest = max(largest, wal.stat().st_size)
        # Restarts come between two polls of the WAL's size (50 ms), so how far past
        # the limit it gets depends on the machine's speed; without them it is all.
        assert largest < 128 * 1024 * 1024
        assert await db.fetchval("SELECT count(*) FROM kv") == commits
    finally:
        await db.close()
