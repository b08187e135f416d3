"""Fixtures for integration tests: a real database on each engine, and the whole app.

Every test that uses `database` (or `server`/`client`) runs twice: on SQLite in a temp
folder, and on PostgreSQL in a schema of its own inside a database created for this
test session. PostgreSQL comes from `RANVIER_TEST_POSTGRES` (a DSN, default
postgresql://postgres@127.0.0.1:5432/postgres); if it cannot be reached the postgres
runs FAIL, unless `RANVIER_TEST_POSTGRES=skip` says to skip them.

To change the server's configuration for a module, override `config_overrides`:

    @pytest.fixture
    def config_overrides() -> dict:
        return {"enable_registration": False}

To move the server's time by hand, override `clock` with a `FakeClock` (fake_clock.py).
`alice`, `bob` and `carol` are registered users with a device and a token each.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from ranvier.clock import Clock
from ranvier.config import Config, DatabaseConfig, new_signing_key_file, parse_config
from ranvier.server import HomeServer, build_homeserver, create_app
from ranvier.storage.database import Database, open_database
from tests.integration.room_helpers import User, make_user
from tests.schemas.openapi_check import schema_check_middleware
from tests.support.postgres import execute, postgres_dsn

SERVER_NAME = "test.local"
REGISTRATION_SECRET = "test-shared-secret"


@pytest.fixture(scope="session")
def postgres_test_database() -> Iterator[str]:
    """A PostgreSQL database for this session (dropped at the end); yields its DSN
    plus name as asyncpg connect arguments are built from it."""
    dsn = postgres_dsn()
    if dsn == "skip":
        pytest.skip("RANVIER_TEST_POSTGRES=skip")
    name = f"ranvier_test_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        execute(dsn, f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as e:
        pytest.fail(
            f"PostgreSQL is not reachable at {dsn} ({e}); start it (scripts/ensure-postgres) "
            "or set RANVIER_TEST_POSTGRES=skip"
        )
    yield name
    execute(dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def database_config(request: pytest.FixtureRequest, tmp_path: Path) -> DatabaseConfig:
    if request.param == "sqlite":
        return DatabaseConfig(engine="sqlite", path=str(tmp_path / "homeserver.db"))
    db_name = request.getfixturevalue("postgres_test_database")
    dsn = postgres_dsn()
    schema = f"t_{secrets.token_hex(6)}"
    execute(dsn, f"CREATE SCHEMA {schema}", database=db_name)
    # Each test gets a fresh schema of the session's database: much faster than a
    # database per test, and just as isolated.
    return DatabaseConfig(
        engine="postgres",
        connect_args={"dsn": dsn, "database": db_name,
                      "server_settings": {"search_path": schema}},
        cp_min=1,
        cp_max=5,
    )


@pytest.fixture
async def database(database_config: DatabaseConfig) -> AsyncIterator[Database]:
    db = await open_database(database_config)
    yield db
    await db.close()


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
def homeserver_config(
    tmp_path: Path, database_config: DatabaseConfig, config_overrides: dict[str, Any]
) -> Config:
    new_signing_key_file(tmp_path / "signing.key")
    raw: dict[str, Any] = {
        "server_name": SERVER_NAME,
        "signing_key_path": "signing.key",
        "enable_registration": True,
        "enable_registration_without_verification": True,
        "registration_shared_secret": REGISTRATION_SECRET,
        # Cheap hashing keeps the suite fast; production defaults are tested elsewhere.
        "password_config": {"argon2": {"time_cost": 1, "memory_cost": 8}},
        # Generous limits: tests of rate limiting set their own.
        "rc_message": {"per_second": 1000, "burst_count": 1000},
        "rc_registration": {"per_second": 1000, "burst_count": 1000},
        "rc_login": {
            "address": {"per_second": 1000, "burst_count": 1000},
            "account": {"per_second": 1000, "burst_count": 1000},
            "failed_attempts": {"per_second": 1000, "burst_count": 1000},
        },
        **config_overrides,
    }
    config = parse_config(raw, tmp_path)
    return dataclasses.replace(config, database=database_config)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def server(
    homeserver_config: Config, database: Database, clock: Clock
) -> AsyncIterator[HomeServer]:
    hs = await build_homeserver(homeserver_config, database, clock)
    yield hs
    await hs.close()


@pytest.fixture
async def client(server: HomeServer, aiohttp_client: Any) -> Any:
    """An aiohttp test client on an app serving every resource."""
    # Every response is checked against the spec's OpenAPI schema (docs/COMPATIBILITY.md).
    return await aiohttp_client(
        create_app(server, resources=None), middlewares=(schema_check_middleware,)
    )


@pytest.fixture
async def alice(server: HomeServer) -> User:
    return await make_user(server, "alice")


@pytest.fixture
async def bob(server: HomeServer) -> User:
    return await make_user(server, "bob")


@pytest.fixture
async def carol(server: HomeServer) -> User:
    return await make_user(server, "carol")
