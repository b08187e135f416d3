"""Schema migrations: the SQL files in `schema/`, applied once each, in filename order.

A file is `NNNN_<name>.sql` (both engines) or a pair of engine variants
`NNNN_<name>.sqlite.sql` / `NNNN_<name>.postgres.sql`. The migration's identity is
`NNNN_<name>`; it is recorded in `schema_migrations` in the same transaction that
applies it, so a crash never leaves one half-applied. Numbers are allocated by domain
(docs/STORAGE.md) so that engineers working in parallel do not collide.
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ranvier.storage.database import Connection, Database

SCHEMA_DIR = Path(__file__).parent / "schema"
ENGINES = ("sqlite", "postgres")
_FILE_RE = re.compile(r"^(?P<id>\d{4}_[a-z0-9_]+?)(?:\.(?P<engine>sqlite|postgres))?\.sql$")
# Any fixed number: serializes concurrent migrators of one PostgreSQL database.
_PG_LOCK_KEY = 0x52414E56


@dataclass(frozen=True)
class Migration:
    id: str
    path: Path


def find_migrations(engine: str, schema_dir: Path = SCHEMA_DIR) -> list[Migration]:
    """The migrations for `engine`, in order. A badly named file or a migration with a
    variant for only one engine is an error, not something to skip silently."""
    generic: dict[str, Path] = {}
    variants: dict[str, dict[str, Path]] = {}
    for path in schema_dir.glob("*.sql"):
        m = _FILE_RE.match(path.name)
        if m is None:
            raise ValueError(f"schema file {path.name} is not named NNNN_name[.engine].sql")
        if m["engine"]:
            variants.setdefault(m["id"], {})[m["engine"]] = path
        else:
            generic[m["id"]] = path
    for mid, by_engine in variants.items():
        if mid in generic:
            raise ValueError(f"migration {mid} has both a generic file and engine variants")
        missing = set(ENGINES) - set(by_engine)
        if missing:
            raise ValueError(f"migration {mid} has no variant for {', '.join(sorted(missing))}")
    numbers: dict[str, str] = {}
    for mid in [*generic, *variants]:
        other = numbers.setdefault(mid[:4], mid)
        if other != mid:
            raise ValueError(f"migrations {other} and {mid} share the number {mid[:4]}")
    chosen = {**generic, **{mid: v[engine] for mid, v in variants.items()}}
    return [Migration(mid, chosen[mid]) for mid in sorted(chosen)]


def split_sqlite_script(script: str) -> list[str]:
    """Split a script into statements; sqlite3 executes one statement per call, and
    `executescript` would commit the surrounding transaction."""
    statements: list[str] = []
    current = ""
    for part in script.split(";"):
        current += part + ";"
        if sqlite3.complete_statement(current):
            if _strip_comments(current).strip(" \t\n;"):
                statements.append(current.strip())
            current = ""
    return statements


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


async def _apply(conn: Connection, migration: Migration) -> None:
    script = migration.path.read_text()
    if conn.engine == "sqlite":
        for statement in split_sqlite_script(script):
            await conn.execute(statement)
    else:
        # Without arguments asyncpg sends a simple query, which may hold many statements.
        await conn.execute(script)
    await conn.execute(
        "INSERT INTO schema_migrations (id, applied_ts) VALUES (?, ?)",
        migration.id,
        int(time.time() * 1000),
    )


async def apply_migrations(db: Database, schema_dir: Path = SCHEMA_DIR) -> list[str]:
    """Apply every pending migration; returns the ids applied now."""
    await db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " id TEXT PRIMARY KEY, applied_ts BIGINT NOT NULL)"
    )
    applied_now: list[str] = []
    done = {row[0] for row in await db.fetchall("SELECT id FROM schema_migrations")}
    for migration in find_migrations(db.engine, schema_dir):
        if migration.id in done:
            continue
        async with db.transaction() as conn:
            if conn.engine == "postgres":
                await conn.execute(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
                # Another process may have applied it while we waited for the lock.
                if await conn.fetchval(
                    "SELECT 1 FROM schema_migrations WHERE id = ?", migration.id
                ):
                    continue
            await _apply(conn, migration)
        applied_now.append(migration.id)
    return applied_now
