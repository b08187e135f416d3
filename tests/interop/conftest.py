"""A real Ranvier process for the interop tests, on SQLite and on PostgreSQL.

`ranvier_server` runs `ranvier generate-config`, adjusts the YAML (a free port, open
registration, no rate limits, the database), starts `ranvier serve` in the
background, waits for /_matrix/client/versions and stops the process afterwards.
PostgreSQL runs use the session database of tests/integration/conftest.py
(`postgres_test_database`, from RANVIER_TEST_POSTGRES) with a fresh schema per server.
"""

from __future__ import annotations

import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml

from tests.integration.conftest import postgres_test_database
from tests.support.postgres import execute, postgres_dsn

__all__ = ["postgres_test_database"]  # re-exported as a fixture of this folder

RANVIER = Path(sys.executable).with_name("ranvier")
START_TIMEOUT = 30.0
#: Rate limits no scenario reaches.
UNLIMITED = {"per_second": 10000, "burst_count": 10000}


@dataclass(frozen=True)
class RanvierProcess:
    base_url: str  # http://127.0.0.1:<port>
    server_name: str  # localhost:<port>
    config_path: Path
    log_path: Path

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postgres_database(db_name: str) -> dict[str, Any]:
    """Config `database` section: a fresh schema in the session's test database."""
    dsn = postgres_dsn()
    schema = f"interop_{secrets.token_hex(6)}"
    parts = urlsplit(dsn)
    # Extra DSN query parameters become asyncpg server settings: the schema is the
    # connection's search path, so every table the server creates lands in it.
    db_dsn = urlunsplit(parts._replace(path=f"/{db_name}", query=f"search_path={schema}"))
    execute(dsn, f"CREATE SCHEMA {schema}", database=db_name)
    return {"name": "psycopg2", "args": {"dsn": db_dsn, "cp_min": 1, "cp_max": 5}}


def write_config(folder: Path, port: int, database: dict[str, Any]) -> Path:
    """A config from `ranvier generate-config`, edited for a throwaway test server."""
    config_path = folder / "homeserver.yaml"
    server_name = f"localhost:{port}"
    subprocess.run(
        [str(RANVIER), "generate-config", "--server-name", server_name,
         "--config-path", str(config_path)],
        check=True, capture_output=True,
    )
    config = yaml.safe_load(config_path.read_text())
    config["listeners"][0].update(port=port, bind_addresses=["127.0.0.1"])
    config.update(
        database=database,
        enable_registration=True,
        enable_registration_without_verification=True,
        # Cheap password hashing: the scenarios register and log in several users.
        password_config={"argon2": {"time_cost": 1, "memory_cost": 8}},
        rc_message=UNLIMITED,
        rc_registration=UNLIMITED,
        rc_login={"address": UNLIMITED, "account": UNLIMITED, "failed_attempts": UNLIMITED},
    )
    config_path.write_text(yaml.safe_dump(config))
    return config_path


def _wait_until_up(process: subprocess.Popen[bytes], server: RanvierProcess) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"ranvier serve exited with {process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.base_url}/_matrix/client/versions", timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    pytest.fail(f"ranvier serve did not answer /versions in {START_TIMEOUT}s:\n"
                f"{server.log_tail()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(params=["sqlite", "postgres"])
def ranvier_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RanvierProcess]:
    """A running `ranvier serve` on a fresh database of each engine."""
    if request.param == "sqlite":
        database: dict[str, Any] = {"name": "sqlite3", "args": {"database": "homeserver.db"}}
    else:
        database = _postgres_database(request.getfixturevalue("postgres_test_database"))
    port = free_port()
    config_path = write_config(tmp_path, port, database)
    server = RanvierProcess(
        base_url=f"http://127.0.0.1:{port}",
        server_name=f"localhost:{port}",
        config_path=config_path,
        log_path=tmp_path / "ranvier.log",
    )
    with server.log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(RANVIER), "serve", "--config-path", str(config_path)],
            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
        )
    try:
        _wait_until_up(process, server)
        yield server
    finally:
        _stop(process)
