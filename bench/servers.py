"""Starting the two homeservers on loopback with equivalent settings, and stopping
them. Each gets a fresh data folder (and, with PostgreSQL, a fresh database) per run:
the configuration each server generates for itself, with the benchmark's settings laid
over it (`common_settings`)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import asyncpg
import yaml

from bench.hashcost import HashCost

REPO = Path(__file__).resolve().parent.parent
SERVER_NAME = "bench.local"
POSTGRES_DSN = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")

# Rate limits off: a bucket no benchmark can empty.
_UNLIMITED = {"per_second": 1_000_000, "burst_count": 1_000_000}
_RATE_LIMITS: dict[str, Any] = {
    "rc_message": _UNLIMITED,
    "rc_registration": _UNLIMITED,
    "rc_registration_token_validity": _UNLIMITED,
    "rc_login": {"address": _UNLIMITED, "account": _UNLIMITED, "failed_attempts": _UNLIMITED},
    "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
    "rc_joins_per_room": _UNLIMITED,
    "rc_invites": {"per_room": _UNLIMITED, "per_user": _UNLIMITED, "per_issuer": _UNLIMITED},
    "rc_3pid_validation": _UNLIMITED,
    "rc_admin_redaction": _UNLIMITED,
    "rc_presence": {"per_user": _UNLIMITED},
    "rc_room_creation": _UNLIMITED,
    "rc_delayed_event_mgmt": _UNLIMITED,
    "rc_reports": _UNLIMITED,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def common_settings(port: int, database: dict[str, Any]) -> dict[str, Any]:
    """What both servers are told: loopback only, open registration, no rate limits,
    presence on, the same database engine."""
    return {
        "server_name": SERVER_NAME,
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "listeners": [{
            "port": port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False,
            "x_forwarded": False, "resources": [{"names": ["client"], "compress": False}],
        }],
        "database": database,
        "enable_registration": True,
        "enable_registration_without_verification": True,
        "presence": {"enabled": True},
        "report_stats": False,
        **_RATE_LIMITS,
    }


async def fresh_postgres_database(name: str) -> dict[str, Any]:
    """Drop and create `name` (C collation, as Synapse requires) and return the
    `database` section that points at it."""
    conn = await asyncpg.connect(POSTGRES_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(
            f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' "
            "TEMPLATE template0"
        )
    finally:
        await conn.close()
    dsn = urlsplit(POSTGRES_DSN)
    args: dict[str, Any] = {"user": dsn.username or "postgres", "host": dsn.hostname or
                            "127.0.0.1", "port": dsn.port or 5432, "database": name,
                            "cp_min": 5, "cp_max": 10}
    if dsn.password:
        args["password"] = dsn.password
    return {"name": "psycopg2", "args": args}


async def settle(postgres: bool) -> None:
    """Write out what the previous server left in memory before the next one starts:
    the kernel's dirty pages (a SQLite file) and, with --postgres, PostgreSQL's dirty
    buffers (a CHECKPOINT). Otherwise the flushing of the first server's writes runs
    during the second one's timings, on a machine of two CPUs, and is charged to it."""
    await asyncio.to_thread(os.sync)
    if postgres:
        conn = await asyncpg.connect(POSTGRES_DSN)
        try:
            await conn.execute("CHECKPOINT")
        finally:
            await conn.close()


async def analyze_postgres_database(name: str) -> None:
    """Update the planner's statistics of every table in `name`, as autovacuum does
    after large inserts on a production server. (This machine's PostgreSQL runs with
    autovacuum off, so a fresh benchmark database would otherwise never be analyzed,
    and plans made without statistics are not what an operator would see.)"""
    dsn = urlsplit(POSTGRES_DSN)._replace(path=f"/{name}").geturl()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


@dataclass
class Server:
    """A homeserver process under test."""

    name: str
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    #: the server's PostgreSQL database, with --postgres
    postgres_database: str | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    async def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} exited with {self.process.returncode}; see {self.log_path}"
                    )
                try:
                    async with session.get(f"{self.base_url}/_matrix/client/versions") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.25)
        raise RuntimeError(f"{self.name} did not answer within {timeout} s; see {self.log_path}")

    def stop(self, timeout: float = 30) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _overlay(config_path: Path, settings: dict[str, Any]) -> None:
    config = yaml.safe_load(config_path.read_text()) or {}
    config.update(settings)
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))


def _launch(name: str, argv: list[str], workdir: Path, port: int,
            env: dict[str, str] | None = None) -> Server:
    log_path = workdir / "server.log"
    log = open(log_path, "wb")  # noqa: SIM115 - the child keeps writing to it
    process = subprocess.Popen(argv, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                               env=env)
    return Server(name, f"http://127.0.0.1:{port}", process, log_path)


def _fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


async def start_synapse(
    synapse_python: str, workdir: Path, cost: HashCost, postgres: bool
) -> Server:
    workdir = _fresh_dir(workdir)
    config = workdir / "homeserver.yaml"
    subprocess.run(
        [synapse_python, "-m", "synapse.app.homeserver", "--generate-config",
         "--server-name", SERVER_NAME, "--config-path", str(config),
         "--data-directory", str(workdir), "--report-stats=no"],
        check=True, capture_output=True, timeout=120,
    )
    port = free_port()
    database = (await fresh_postgres_database("bench_synapse") if postgres else
                {"name": "sqlite3", "args": {"database": str(workdir / "homeserver.db")}})
    _overlay(config, {
        **common_settings(port, database),
        "bcrypt_rounds": cost.bcrypt_rounds,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
    })
    server = _launch("synapse", [synapse_python, "-m", "synapse.app.homeserver",
                                 "--config-path", str(config)], workdir, port)
    server.postgres_database = "bench_synapse" if postgres else None
    await server.wait_ready()
    return server


def export_ranvier(commit: str, dest: Path) -> Path:
    """The `ranvier` package as of `commit`, extracted into `dest`: the benchmark runs
    committed code, not a working tree others may be halfway through editing."""
    _fresh_dir(dest)
    archive = subprocess.run(["git", "archive", commit, "ranvier"], cwd=REPO, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def copy_ranvier_worktree(dest: Path) -> Path:
    """A copy of the `ranvier` package as it is in the working tree now, so that edits
    made while the benchmark runs do not change the server under test."""
    _fresh_dir(dest)
    shutil.copytree(REPO / "ranvier", dest / "ranvier",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return dest


async def start_ranvier(
    workdir: Path, cost: HashCost, postgres: bool, source: Path | None = None
) -> Server:
    """Ranvier from `source` (a folder holding the `ranvier` package, put first on
    PYTHONPATH), or from the installed one."""
    workdir = _fresh_dir(workdir)
    env = {**os.environ, "PYTHONPATH": str(source)} if source else None
    config = workdir / "homeserver.yaml"
    ranvier = str(Path(sys.executable).parent / "ranvier")
    subprocess.run(
        [ranvier, "generate-config", "--server-name", SERVER_NAME, "--config-path", str(config)],
        check=True, capture_output=True, timeout=120, cwd=workdir, env=env,
    )
    port = free_port()
    database = (await fresh_postgres_database("bench_ranvier") if postgres else
                {"name": "sqlite3", "args": {"database": str(workdir / "homeserver.db")}})
    _overlay(config, {
        **common_settings(port, database),
        "password_config": {"argon2": {
            "time_cost": cost.argon2_time_cost, "memory_cost": cost.argon2_memory_kib,
            "parallelism": 1,
        }},
    })
    server = _launch("ranvier", [ranvier, "serve", "--config-path", str(config)], workdir, port,
                     env)
    server.postgres_database = "bench_ranvier" if postgres else None
    await server.wait_ready()
    return server


def ensure_synapse_venv(venv: Path) -> str:
    """The Python of a virtual environment holding Synapse (with PostgreSQL support),
    created on first use; returns its interpreter."""
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "matrix-synapse[postgres]"],
                       check=True)
    return str(python)


def synapse_version(synapse_python: str) -> str:
    out = subprocess.run([synapse_python, "-c", "import synapse; print(synapse.__version__)"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()
