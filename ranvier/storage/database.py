"""The SQL layer: one small interface over SQLite and PostgreSQL, no ORM.

Stores write plain SQL in one portable dialect (docs/STORAGE.md): `?` placeholders,
`INSERT ... ON CONFLICT (...) DO UPDATE/NOTHING`, `RETURNING`, TEXT/BIGINT/INTEGER
columns, flags as INTEGER 0/1 and JSON as TEXT. Rows come back as plain tuples.

SQLite runs on stdlib `sqlite3` in dedicated threads: one writer connection (SQLite
allows one writer at a time, so writes queue here instead of fighting over the file
lock) and a few reader connections, which WAL lets run beside the writer. Each call is
one hop to a thread, which keeps per-query overhead close to stdlib speed.

PostgreSQL runs on an asyncpg pool; `?` is rewritten to `$1..$n` once per statement.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg

from ranvier.storage.migrations import apply_migrations

if TYPE_CHECKING:
    from ranvier.config import DatabaseConfig

T = TypeVar("T")


class IntegrityError(Exception):
    """A constraint (usually a unique key) rejected a write, on either engine."""


class Connection(ABC):
    """The five query methods; what `Database.transaction()` yields."""

    engine: str

    @abstractmethod
    async def execute(self, sql: str, *args: Any) -> None: ...

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    @abstractmethod
    async def fetchone(self, sql: str, *args: Any) -> tuple | None: ...

    @abstractmethod
    async def fetchall(self, sql: str, *args: Any) -> list[tuple]: ...

    async def fetchval(self, sql: str, *args: Any) -> Any:
        """The first column of the first row, or None when there is no row."""
        row = await self.fetchone(sql, *args)
        return None if row is None else row[0]


class Database(Connection):
    """A connection to the whole database: each call outside `transaction()` commits on
    its own."""

    @abstractmethod
    def transaction(self) -> contextlib.AbstractAsyncContextManager[Connection]:
        """Commits when the block exits normally, rolls back when it raises."""

    @abstractmethod
    async def close(self) -> None: ...


# --- SQLite ---------------------------------------------------------------------------

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    # WAL + NORMAL is durable against application crashes; a power cut may lose the
    # last transactions but never corrupts the database.
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = OFF",
    # No memory-mapped reads: mapped pages of the database file count as the server's
    # resident memory (about 100 MiB after the benchmark's 10,000-event room) and
    # bought no measurable speed over the OS page cache (docs/PERFORMANCE.md).
    "PRAGMA mmap_size = 0",
    "PRAGMA busy_timeout = 10000",
    "PRAGMA cache_size = -65536",
    "PRAGMA temp_store = MEMORY",
)


def _sqlite_connect(path: str) -> sqlite3.Connection:
    # isolation_level=None: autocommit; transactions are opened explicitly below.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in _SQLITE_PRAGMAS:
        conn.execute(pragma)
    return conn


def _sqlite_call(fn: Callable[..., T]) -> Callable[..., T]:
    """Translate sqlite3's integrity errors into the engine-neutral one."""

    @functools.wraps(fn)
    def wrapper(*args: Any) -> T:
        try:
            return fn(*args)
        except sqlite3.IntegrityError as e:
            raise IntegrityError(str(e)) from e

    return wrapper


@_sqlite_call
def _sq_execute(conn: sqlite3.Connection, sql: str, args: Sequence[Any]) -> None:
    conn.execute(sql, args)


@_sqlite_call
def _sq_executemany(conn: sqlite3.Connection, sql: str, rows: list[Sequence[Any]]) -> None:
    conn.executemany(sql, rows)


@_sqlite_call
def _sq_executemany_atomic(
    conn: sqlite3.Connection, sql: str, rows: list[Sequence[Any]]
) -> None:
    # Outside a transaction SQLite commits each row on its own (a WAL write apiece):
    # one transaction, begun and ended in the same thread hop.
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(sql, rows)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@_sqlite_call
def _sq_fetchone(conn: sqlite3.Connection, sql: str, args: Sequence[Any]) -> tuple | None:
    return conn.execute(sql, args).fetchone()


@_sqlite_call
def _sq_fetchall(conn: sqlite3.Connection, sql: str, args: Sequence[Any]) -> list[tuple]:
    return conn.execute(sql, args).fetchall()


class _SqliteWriter(Connection):
    """The writer connection inside a transaction (the caller holds the write lock)."""

    engine = "sqlite"

    def __init__(self, conn: sqlite3.Connection, executor: ThreadPoolExecutor) -> None:
        self._conn = conn
        self._executor = executor

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def execute(self, sql: str, *args: Any) -> None:
        await self._run(_sq_execute, self._conn, sql, args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._run(_sq_executemany, self._conn, sql, list(rows))

    async def fetchone(self, sql: str, *args: Any) -> tuple | None:
        return await self._run(_sq_fetchone, self._conn, sql, args)

    async def fetchall(self, sql: str, *args: Any) -> list[tuple]:
        return await self._run(_sq_fetchall, self._conn, sql, args)


class SqliteDatabase(Database):
    engine = "sqlite"

    def __init__(self, path: str, readers: int = 4) -> None:
        self._writer_executor = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._writer = _SqliteWriter(_sqlite_connect(path), self._writer_executor)
        self._write_lock = asyncio.Lock()
        # An in-memory database exists only in its one connection: read through it too.
        self._in_memory = path == ":memory:" or path.startswith("file::memory:")
        self._reader_local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._reader_executor = (
            None
            if self._in_memory
            else ThreadPoolExecutor(readers, thread_name_prefix="sqlite-reader")
        )
        self._path = path

    def _reader(self) -> sqlite3.Connection:
        # Runs in a reader thread: each thread keeps its own connection.
        conn = getattr(self._reader_local, "conn", None)
        if conn is None:
            conn = self._reader_local.conn = _sqlite_connect(self._path)
            self._reader_conns.append(conn)
        return conn

    async def _read(self, fn: Callable[..., T], sql: str, args: Sequence[Any]) -> T:
        if self._reader_executor is None:
            async with self._write_lock:
                return await self._writer._run(fn, self._writer._conn, sql, args)
        return await asyncio.get_running_loop().run_in_executor(
            self._reader_executor, lambda: fn(self._reader(), sql, args)
        )

    async def execute(self, sql: str, *args: Any) -> None:
        async with self._write_lock:
            await self._writer.execute(sql, *args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self._write_lock:
            await self._writer._run(
                _sq_executemany_atomic, self._writer._conn, sql, list(rows)
            )

    async def fetchone(self, sql: str, *args: Any) -> tuple | None:
        # A statement with RETURNING writes: it belongs on the writer.
        if _writes(sql):
            async with self._write_lock:
                return await self._writer.fetchone(sql, *args)
        return await self._read(_sq_fetchone, sql, args)

    async def fetchall(self, sql: str, *args: Any) -> list[tuple]:
        if _writes(sql):
            async with self._write_lock:
                return await self._writer.fetchall(sql, *args)
        return await self._read(_sq_fetchall, sql, args)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self._write_lock:
            # IMMEDIATE takes the write lock up front, so another process's writer
            # cannot make this transaction fail half-way with SQLITE_BUSY.
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            await self._writer.execute("COMMIT")

    async def close(self) -> None:
        async with self._write_lock:
            await self._writer._run(self._writer._conn.close)
        self._writer_executor.shutdown(wait=True)
        if self._reader_executor is not None:
            self._reader_executor.shutdown(wait=True)
        for conn in self._reader_conns:
            conn.close()


_READ_RE = re.compile(r"\s*(SELECT|VALUES|EXPLAIN|PRAGMA)\b", re.I)
_CTE_WRITE_RE = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.I)


def _writes(sql: str) -> bool:
    """Whether a fetch statement writes (`INSERT ... RETURNING`, a CTE that updates)."""
    if _READ_RE.match(sql):
        return False
    if sql.lstrip()[:4].upper() == "WITH":
        return _CTE_WRITE_RE.search(sql) is not None
    return True


# --- PostgreSQL -----------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def to_postgres_placeholders(sql: str) -> str:
    """Rewrite `?` placeholders as `$1..$n`, leaving quoted text and comments alone."""
    out: list[str] = []
    n = 0
    i = 0
    while i < len(sql):
        c = sql[i]
        if c in "'\"":
            end = sql.find(c, i + 1)
            while end != -1 and sql[end + 1 : end + 2] == c:  # doubled quote escapes
                end = sql.find(c, end + 2)
            end = len(sql) if end == -1 else end + 1
            out.append(sql[i:end])
            i = end
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = len(sql) if end == -1 else end
            out.append(sql[i:end])
            i = end
        elif c == "?":
            n += 1
            out.append(f"${n}")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


class _PostgresConnection(Connection):
    engine = "postgres"

    def __init__(self, conn: asyncpg.Connection | asyncpg.Pool) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> None:
        with _pg_errors():
            await self._conn.execute(to_postgres_placeholders(sql), *args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            with _pg_errors():
                await self._conn.executemany(to_postgres_placeholders(sql), rows)

    async def fetchone(self, sql: str, *args: Any) -> tuple | None:
        with _pg_errors():
            row = await self._conn.fetchrow(to_postgres_placeholders(sql), *args)
        return None if row is None else tuple(row)

    async def fetchall(self, sql: str, *args: Any) -> list[tuple]:
        with _pg_errors():
            rows = await self._conn.fetch(to_postgres_placeholders(sql), *args)
        return [tuple(r) for r in rows]


@contextlib.contextmanager
def _pg_errors() -> Iterator[None]:
    try:
        yield
    except asyncpg.IntegrityConstraintViolationError as e:
        raise IntegrityError(str(e)) from e


class PostgresDatabase(_PostgresConnection, Database):
    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool)
        self._pool = pool

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield _PostgresConnection(conn)

    async def close(self) -> None:
        await self._pool.close()


# --- opening ----------------------------------------------------------------------------


async def open_database(config: DatabaseConfig) -> Database:
    """Connect to the configured database and bring its schema up to date."""
    db: Database
    if config.engine == "sqlite":
        db = SqliteDatabase(config.path)
    else:
        pool = await asyncpg.create_pool(
            min_size=config.cp_min, max_size=config.cp_max, **config.connect_args
        )
        db = PostgresDatabase(pool)
    try:
        await apply_migrations(db)
    except BaseException:
        await db.close()
        raise
    return db
