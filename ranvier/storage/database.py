"""The SQL layer: one small interface over SQLite and PostgreSQL, no ORM.

Stores write plain SQL in one portable dialect (docs/STORAGE.md): `?` placeholders,
`INSERT ... ON CONFLICT (...) DO UPDATE/NOTHING`, `RETURNING`, TEXT/BIGINT/INTEGER
columns, flags as INTEGER 0/1 and JSON as TEXT. Rows come back as plain tuples.

SQLite runs on stdlib `sqlite3`, called directly on the event loop's thread: one
writer connection (SQLite allows one writer at a time, so writes queue on an asyncio
lock instead of fighting over the file lock) and one reader connection, which WAL lets
read the last committed state beside the writer's open transaction. WAL checkpoints,
the only step that fsyncs, run in a thread of their own.

PostgreSQL runs on an asyncpg pool; `?` is rewritten to `$1..$n` once per statement,
and an `IN (?, ...)` list to `= ANY($n)` with one array (postgres_statement). A
transaction opened with `defer_writes` sends its writes as one statement where it can
(combined_writes.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ranvier.storage.combined_writes import WriteBatch, rows_write, single_write
from ranvier.storage.migrations import apply_migrations

if TYPE_CHECKING:
    import asyncpg
    from asyncpg.transaction import Transaction

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
    def transaction(
        self, *, defer_writes: bool = False
    ) -> contextlib.AbstractAsyncContextManager[Connection]:
        """Commits when the block exits normally, rolls back when it raises.

        `defer_writes` (PostgreSQL; SQLite ignores it): writes (`execute`,
        `executemany`) are held until the block exits and then sent as one statement,
        with no BEGIN or COMMIT, where combined_writes.py can prove that changes nothing;
        so an error of theirs is raised as the block exits. A read, or a write that
        cannot join those held, makes it an ordinary transaction from there on: BEGIN,
        the writes held so far one by one, then the statement."""

    @abstractmethod
    async def close(self) -> None: ...


# --- SQLite ---------------------------------------------------------------------------

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    # WAL + NORMAL is durable against application crashes; a power cut may lose the
    # last transactions but never corrupts the database. Commits do not fsync; only
    # checkpoints do, and those run in a thread of their own (_Checkpointer).
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = OFF",
    # No memory-mapped reads: mapped pages of the database file count as the server's
    # resident memory (about 100 MiB after the benchmark's 10,000-event room) and
    # bought no measurable speed over the OS page cache (docs/PERFORMANCE.md).
    "PRAGMA mmap_size = 0",
    # 8 MiB of pages per connection (most reads go through the writer's, see
    # SqliteDatabase._idle_connection). 64 MiB held up to 70 MiB of the server's peak
    # memory for no measured gain; 2 MiB made initial sync about 25% slower.
    "PRAGMA cache_size = -8192",
    "PRAGMA temp_store = MEMORY",
)

# How long a statement waits for another process's write lock (e.g. `ranvier
# register-user` beside a running server) before failing with "database is locked".
_BUSY_TIMEOUT_S = 10.0


def _sqlite_connect(path: str, *, busy_timeout_ms: int) -> sqlite3.Connection:
    # isolation_level=None: autocommit; transactions are opened explicitly below.
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, cached_statements=1024
    )
    for pragma in _SQLITE_PRAGMAS:
        conn.execute(pragma)
    conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
    return conn


def _is_busy(e: sqlite3.OperationalError) -> bool:
    # Extended codes (SQLITE_BUSY_SNAPSHOT, ...) keep the primary code in the low byte.
    code = getattr(e, "sqlite_errorcode", 0) & 0xFF
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _run_once(fn: Callable[..., T], *args: Any) -> T | _Busy:
    """`fn(*args)`, or _BUSY when another process holds the lock it needs."""
    try:
        return fn(*args)
    except sqlite3.IntegrityError as e:
        raise IntegrityError(str(e)) from e
    except sqlite3.OperationalError as e:
        if not _is_busy(e):
            raise
        return _BUSY


class _Busy:
    """What `_run_once` returns when the database was locked."""


_BUSY = _Busy()


async def _retrying_busy(attempt: Callable[[], T]) -> T:
    """Run `attempt`; while another process holds the lock it needs, sleep on the loop
    and try again, for up to _BUSY_TIMEOUT_S. (Callers try once without it first: a
    statement almost never finds the database locked, and the first try then costs no
    coroutine, clock read or closure; a send runs about fifteen statements.)"""
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    delay = 0.001
    while True:
        try:
            return attempt()
        except sqlite3.IntegrityError as e:
            raise IntegrityError(str(e)) from e
        except sqlite3.OperationalError as e:
            if not _is_busy(e) or time.monotonic() > deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)


class _SqliteConn(Connection):
    """One sqlite3 connection, called directly on the event loop's thread.

    An indexed read or a write inside WAL takes microseconds, far less than a trip to a
    worker thread and back (that trip was a third of the send path's CPU time,
    docs/PERFORMANCE.md), so statements run inline. The connection never waits on a lock
    inside SQLite (busy_timeout 0): when another process holds the write lock, the call
    yields to the loop and retries, so the server keeps serving meanwhile."""

    engine = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        result = _run_once(fn, *args)
        if result is _BUSY:
            return await _retrying_busy(lambda: fn(*args))
        return result  # type: ignore[return-value]

    async def execute(self, sql: str, *args: Any) -> None:
        await self._run(self._conn.execute, sql, args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            await self._run(self._conn.executemany, sql, rows)

    async def fetchone(self, sql: str, *args: Any) -> tuple | None:
        return await self._run(_fetchone, self._conn, sql, args)

    async def fetchall(self, sql: str, *args: Any) -> list[tuple]:
        return await self._run(_fetchall, self._conn, sql, args)

    async def executemany_atomic(self, sql: str, rows: list[Sequence[Any]]) -> None:
        # Outside a transaction SQLite commits each row on its own (a WAL write apiece).
        await self._run(self._conn.execute, "BEGIN IMMEDIATE", ())
        try:
            await self._run(self._conn.executemany, sql, rows)
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")


def _fetchone(conn: sqlite3.Connection, sql: str, args: Sequence[Any]) -> tuple | None:
    return conn.execute(sql, args).fetchone()


def _fetchall(conn: sqlite3.Connection, sql: str, args: Sequence[Any]) -> list[tuple]:
    return conn.execute(sql, args).fetchall()


#: A WAL larger than this is restarted from its beginning before the next write. Under
#: a steady stream of commits a PASSIVE checkpoint never catches up with the writer, so
#: the WAL would only grow (by about 90 MiB a second at a thousand sends a second); and
#: appending to a growing file costs more than overwriting. A restart holds writes
#: back while it fsyncs, so not too often: 64 MiB gave the lowest CPU per send of 4,
#: 16, 64 MiB and never (docs/PERFORMANCE.md).
WAL_RESTART_BYTES = 64 * 1024 * 1024
#: How often the checkpoint thread looks at the WAL's size while it pauses.
_WAL_POLL_S = 0.05


class _Checkpointer:
    """Copies the WAL back into the database file off the event loop.

    Checkpoints are where WAL mode fsyncs; run by the committing connection (SQLite's
    automatic checkpoint) they would stall the event loop for as long as the disk takes.
    A thread of its own runs a PASSIVE checkpoint, which never blocks readers or the
    writer, at most once per interval while commits keep coming. Once the WAL has grown
    past WAL_RESTART_BYTES it flags `restart_due`, and the writer, between two
    transactions, has `restart` run in a worker thread: a RESTART checkpoint copies
    what is left and makes the next commit write from the WAL's start again."""

    # Four times a second: under a steady stream of sends the RESTART then finds a
    # quarter as much left to copy, and holds writes back for about 12 ms instead of
    # about 40 (3,000 one-sender sends, three runs each; docs/PERFORMANCE.md).
    def __init__(self, path: str, interval_s: float = 0.25) -> None:
        self._wal_path = path + "-wal"
        self._interval_s = interval_s
        # Used by this thread and by `restart`'s worker thread, one at a time. A
        # RESTART waits for readers of the old WAL for at most 100 ms.
        self._conn = _sqlite_connect(path, busy_timeout_ms=100)
        self._conn_lock = threading.Lock()
        self.restart_due = False
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        if not self._wakeup.is_set():
            self._wakeup.set()

    def restart(self) -> None:
        """Checkpoint everything and restart the WAL (the caller holds back writes)."""
        self._checkpoint("RESTART")
        self.restart_due = False

    def _checkpoint(self, mode: str) -> None:
        with self._conn_lock, contextlib.suppress(sqlite3.OperationalError):
            self._conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()

    def _loop(self) -> None:
        try:
            while True:
                self._wakeup.wait()
                self._wakeup.clear()
                self._checkpoint("PASSIVE")
                if self._stopping.is_set():
                    return
                # At most one checkpoint per interval; a stop cuts the pause short.
                deadline = time.monotonic() + self._interval_s
                while not self._stopping.wait(_WAL_POLL_S) and time.monotonic() < deadline:
                    if not self.restart_due and self._wal_grown():
                        self.restart_due = True
        finally:
            with self._conn_lock:
                self._conn.close()

    def _wal_grown(self) -> bool:
        try:
            return os.path.getsize(self._wal_path) > WAL_RESTART_BYTES
        except OSError:
            return False

    def stop(self) -> None:
        """A last checkpoint, then the thread ends."""
        self._stopping.set()
        self._wakeup.set()
        self._thread.join()


class SqliteDatabase(Database):
    engine = "sqlite"

    def __init__(self, path: str) -> None:
        writer = _sqlite_connect(path, busy_timeout_ms=0)
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        # When a restart finds the WAL file larger than this, it is cut back to it.
        writer.execute(f"PRAGMA journal_size_limit = {WAL_RESTART_BYTES}")
        self._writer = _SqliteConn(writer)
        # SQLite allows one writer at a time: writes queue on this lock rather than
        # fighting over the file lock.
        self._write_lock = asyncio.Lock()
        # An in-memory database exists only in its one connection: read through it too.
        in_memory = path == ":memory:" or path.startswith("file::memory:")
        # While the writer's transaction is open, reads go to a second connection, which
        # WAL lets read the last committed state (see _idle_connection).
        self._reader = None if in_memory else _SqliteConn(_sqlite_connect(path, busy_timeout_ms=0))
        self._checkpointer = None if in_memory else _Checkpointer(path)

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        """Hold the write lock for one write; restart an outgrown WAL first."""
        async with self._write_lock:
            if self._checkpointer is not None and self._checkpointer.restart_due:
                await asyncio.to_thread(self._checkpointer.restart)
            yield
        if self._checkpointer is not None:
            self._checkpointer.committed()

    async def execute(self, sql: str, *args: Any) -> None:
        async with self._writing():
            await self._writer.execute(sql, *args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if not rows:  # no transaction to begin and commit for nothing
            return
        async with self._writing():
            await self._writer.executemany_atomic(sql, rows)

    def _idle_connection(self) -> sqlite3.Connection:
        """The connection a read outside a transaction uses: the writer while no
        transaction is open on it (its page cache holds what was just written; the
        reader's is dropped whenever the writer commits), else the reader, which sees
        only committed data."""
        if self._reader is None or not self._write_lock.locked():
            return self._writer._conn
        return self._reader._conn

    async def fetchone(self, sql: str, *args: Any) -> tuple | None:
        return await self._fetch(_fetchone, sql, args)

    async def fetchall(self, sql: str, *args: Any) -> list[tuple]:
        return await self._fetch(_fetchall, sql, args)

    async def _fetch(
        self, fn: Callable[[sqlite3.Connection, str, Sequence[Any]], T], sql: str,
        args: Sequence[Any],
    ) -> T:
        if _writes(sql) or self._reader is None:
            async with self._writing():
                return await self._writer._run(fn, self._writer._conn, sql, args)
        result = _run_once(fn, self._idle_connection(), sql, args)
        if result is _BUSY:
            return await _retrying_busy(lambda: fn(self._idle_connection(), sql, args))
        return result  # type: ignore[return-value]

    @contextlib.asynccontextmanager
    async def transaction(self, *, defer_writes: bool = False) -> AsyncIterator[Connection]:
        # Statements are in-process here: combining them would save nothing.
        async with self._writing():
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
            if self._checkpointer is not None:
                self._checkpointer.stop()
            if self._reader is not None:
                self._reader._conn.close()
            self._writer._conn.close()


@functools.lru_cache(maxsize=4096)
def _writes(sql: str) -> bool:
    """Whether a fetch statement writes (`INSERT ... RETURNING`, a CTE that updates)."""
    if _READ_RE.match(sql):
        return False
    if sql.lstrip()[:4].upper() == "WITH":
        return _CTE_WRITE_RE.search(sql) is not None
    return True


_READ_RE = re.compile(r"\s*(SELECT|VALUES|EXPLAIN|PRAGMA)\b", re.I)
_CTE_WRITE_RE = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.I)


# --- PostgreSQL -----------------------------------------------------------------------


# An `IN` list made only of placeholders: `x IN (?, ?, ?)`, `x NOT IN (?)`.
_IN_LIST_RE = re.compile(r"(NOT\s+)?IN\s*\(\s*\?(?:\s*,\s*\?)*\s*\)", re.I)

# How to build a statement's arguments from the caller's: per `$n`, the index of one
# argument, or (start, count) for the arguments of an `IN` list, passed as one array.
ArgPlan = tuple[int | tuple[int, int], ...]


@functools.lru_cache(maxsize=4096)
def postgres_statement(sql: str) -> tuple[str, ArgPlan | None]:
    """The PostgreSQL text of a portable statement, and how to pass its arguments (None:
    as they are). `?` placeholders become `$1..$n`; quoted text and comments stay.

    `IN (?, ?, ?)` becomes `= ANY($n)` with the list's arguments as one array, so the
    statement's text no longer depends on the list's length: asyncpg prepares it once
    per connection and reuses it, where every new length was a new statement (a
    Parse round trip, a plan, an entry pushed out of the statement cache)."""
    out: list[str] = []
    plan: list[int | tuple[int, int]] = []
    grouped = False
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
            plan.append(_next_argument(plan))
            out.append(f"${len(plan)}")
            i += 1
        elif (in_list := _in_list_at(sql, i)) is not None:
            plan.append((_next_argument(plan), in_list.group(0).count("?")))
            operator = "<> ALL" if in_list.group(1) else "= ANY"
            out.append(f"{operator}(${len(plan)})")
            grouped = True
            i = in_list.end()
        else:
            out.append(c)
            i += 1
    return "".join(out), tuple(plan) if grouped else None


def _in_list_at(sql: str, i: int) -> re.Match[str] | None:
    if sql[i] not in "INin" or (i > 0 and (sql[i - 1].isalnum() or sql[i - 1] == "_")):
        return None
    return _IN_LIST_RE.match(sql, i)


def _next_argument(plan: list[int | tuple[int, int]]) -> int:
    """The index of the first caller's argument not yet taken by `plan`."""
    if not plan:
        return 0
    last = plan[-1]
    return last + 1 if isinstance(last, int) else last[0] + last[1]


def _arguments(plan: ArgPlan | None, args: Sequence[Any]) -> Sequence[Any]:
    if plan is None:
        return args
    return [args[p] if isinstance(p, int) else list(args[p[0] : p[0] + p[1]]) for p in plan]


class StatementCounter:
    """How many statements a PostgreSQL database has sent, each one a round trip
    (BEGIN and COMMIT included): the figure to drive down per request
    (docs/PERFORMANCE.md). An integer add per statement, so always on."""

    def __init__(self) -> None:
        self.statements = 0


class _PostgresConnection(Connection):
    engine = "postgres"

    def __init__(self, conn: asyncpg.Connection | asyncpg.Pool, counter: StatementCounter) -> None:
        self._conn = conn
        self.counter = counter

    async def execute(self, sql: str, *args: Any) -> None:
        self.counter.statements += 1
        text, plan = postgres_statement(sql)
        with _pg_errors():
            await self._conn.execute(text, *_arguments(plan, args))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            self.counter.statements += 1  # asyncpg pipelines the rows: one round trip
            text, plan = postgres_statement(sql)
            if plan is not None:
                rows = [_arguments(plan, row) for row in rows]
            with _pg_errors():
                await self._conn.executemany(text, rows)

    async def fetchone(self, sql: str, *args: Any) -> tuple | None:
        self.counter.statements += 1
        text, plan = postgres_statement(sql)
        with _pg_errors():
            row = await self._conn.fetchrow(text, *_arguments(plan, args))
        return None if row is None else tuple(row)

    async def fetchall(self, sql: str, *args: Any) -> list[tuple]:
        self.counter.statements += 1
        text, plan = postgres_statement(sql)
        with _pg_errors():
            rows = await self._conn.fetch(text, *_arguments(plan, args))
        return [tuple(r) for r in rows]


@contextlib.contextmanager
def _pg_errors() -> Iterator[None]:
    try:
        yield
    except Exception as e:
        # asyncpg is imported only once PostgreSQL is configured (3.8 MiB at start-up).
        import asyncpg

        if not isinstance(e, asyncpg.IntegrityConstraintViolationError):
            raise
        raise IntegrityError(str(e)) from e


class PostgresDatabase(_PostgresConnection, Database):
    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool, StatementCounter())
        self._pool = pool

    @contextlib.asynccontextmanager
    async def transaction(self, *, defer_writes: bool = False) -> AsyncIterator[Connection]:
        if defer_writes:
            async with _DeferredWrites(self._pool, self.counter) as deferred:
                yield deferred
            return
        self.counter.statements += 2  # BEGIN and COMMIT (or ROLLBACK)
        async with self._pool.acquire() as conn, conn.transaction():
            yield _PostgresConnection(conn, self.counter)

    async def close(self) -> None:
        await self._pool.close()


class _DeferredWrites(Connection):
    """A PostgreSQL transaction whose writes wait for its end, to be sent as one
    statement (see Database.transaction)."""

    engine = "postgres"

    def __init__(self, pool: asyncpg.Pool, counter: StatementCounter) -> None:
        self._pool = pool
        self.counter = counter
        self._batch = WriteBatch()
        # What was held, as it came: (sql, arguments or rows, whether executemany).
        self._held: list[tuple[str, Sequence[Any], bool]] = []
        self._exit = contextlib.AsyncExitStack()
        self._conn: _PostgresConnection | None = None
        self._transaction: Transaction | None = None  # once it is an ordinary one

    async def __aenter__(self) -> _DeferredWrites:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        async with self._exit:  # releases the connection, if one was taken
            if self._transaction is not None:
                self.counter.statements += 1
                await (self._transaction.commit() if kind is None else self._transaction.rollback())
            elif kind is None and self._held:
                # One write goes as it is: the same statement as outside this mode.
                sql, args, many = self._held[0]
                if len(self._held) > 1:
                    sql, args = self._batch.statement()
                    many = False
                conn = await self._connection()
                await (conn.executemany(sql, args) if many else conn.execute(sql, *args))

    async def _connection(self) -> _PostgresConnection:
        if self._conn is None:
            raw = await self._exit.enter_async_context(self._pool.acquire())
            self._conn = _PostgresConnection(raw, self.counter)
        return self._conn

    async def _ordinary(self) -> _PostgresConnection:
        """BEGIN (once), then the writes held so far, one by one."""
        conn = await self._connection()
        if self._transaction is None:
            transaction = conn._conn.transaction()
            self.counter.statements += 1
            await transaction.start()
            self._transaction = transaction
            held, self._held = self._held, []
            for sql, args, many in held:
                await (conn.executemany(sql, args) if many else conn.execute(sql, *args))
        return conn

    async def execute(self, sql: str, *args: Any) -> None:
        if self._transaction is None and self._batch.add(single_write(sql, args)):
            self._held.append((sql, args, False))
            return
        await (await self._ordinary()).execute(sql, *args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if not rows:
            return
        if self._transaction is None and self._batch.add(rows_write(sql, rows)):
            self._held.append((sql, rows, True))
            return
        await (await self._ordinary()).executemany(sql, rows)

    async def fetchone(self, sql: str, *args: Any) -> tuple | None:
        return await (await self._ordinary()).fetchone(sql, *args)

    async def fetchall(self, sql: str, *args: Any) -> list[tuple]:
        return await (await self._ordinary()).fetchall(sql, *args)


# asyncpg's default of 100 prepared statements per connection is fewer than the distinct
# statements the server runs; a statement evicted from the cache is parsed and planned
# again (an extra round trip) on its next use.
_STATEMENT_CACHE_SIZE = 1024


async def _keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset between uses of a connection: nothing beyond asyncpg's rollback
    of an open transaction. Its default reset runs `RESET ALL; UNLISTEN *; CLOSE ALL;
    pg_advisory_unlock_all()`, a second round trip for every statement run outside a
    transaction, undoing session state that Ranvier never sets."""


# --- opening ----------------------------------------------------------------------------


async def open_database(config: DatabaseConfig) -> Database:
    """Connect to the configured database and bring its schema up to date."""
    db: Database
    if config.engine == "sqlite":
        db = SqliteDatabase(config.path)
    else:
        import asyncpg  # only for PostgreSQL: SQLite servers never load it

        pool = await asyncpg.create_pool(
            min_size=config.cp_min, max_size=config.cp_max, reset=_keep_session,
            **{"statement_cache_size": _STATEMENT_CACHE_SIZE, **config.connect_args},
        )
        db = PostgresDatabase(pool)
    try:
        await apply_migrations(db)
    except BaseException:
        await db.close()
        raise
    return db
