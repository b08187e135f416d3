"""The PostgreSQL the test suites run against (integration and interop alike)."""

from __future__ import annotations

import asyncio
import os

import asyncpg

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_dsn() -> str:
    """The server to test on: `RANVIER_TEST_POSTGRES`, or a local default."""
    return os.environ.get("RANVIER_TEST_POSTGRES", DEFAULT_POSTGRES)


def execute(dsn: str, sql: str, database: str | None = None) -> None:
    """Run one statement on its own connection. Synchronous, because fixtures that
    create databases and schemas run outside the tests' event loops."""

    async def run() -> None:
        conn = await asyncpg.connect(dsn, database=database)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())
