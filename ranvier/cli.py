"""The `ranvier` command: serve | generate-config | register-user."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import sys
from pathlib import Path

import click
import uvloop

from ranvier.config import Config, ConfigError, generate_config, load_config
from ranvier.errors import MatrixError
from ranvier.server import build_homeserver, serve
from ranvier.storage.database import open_database

_config_path = click.option(
    "--config-path", "-c", required=True, type=click.Path(path_type=Path),
    help="The homeserver's YAML configuration file.",
)


def _load(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as e:
        raise click.ClickException(str(e)) from e


#: glibc's mallopt parameters (malloc.h) and the environment variables that set them.
_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8
_MALLOPT_ENV = {_M_MMAP_THRESHOLD: "MALLOC_MMAP_THRESHOLD_", _M_ARENA_MAX: "MALLOC_ARENA_MAX"}


def _tune_malloc(arenas: int = 2, mmap_threshold: int = 128 * 1024) -> None:
    """Keep glibc from holding freed memory. By default each thread that allocates
    (the event loop, SQLite's checkpointer, the resolver and hashing executors) may
    get a malloc arena of its own, up to 8 per CPU, and memory freed in one is never
    reused by another; and the threshold above which a block gets its own mapping
    (returned to the system when freed) rises to the largest block freed so far, so
    large transient buffers (a 500 KB /state response) end up as free holes in the
    heap. In the benchmark the two left 15-25 MiB free but resident. The environment
    variables win; elsewhere than glibc this does nothing."""
    with contextlib.suppress(OSError, AttributeError):
        mallopt = ctypes.CDLL(None).mallopt
        for param, value in ((_M_ARENA_MAX, arenas), (_M_MMAP_THRESHOLD, mmap_threshold)):
            if _MALLOPT_ENV[param] not in os.environ:
                mallopt(param, value)


@click.group()
def main() -> None:
    """Ranvier, a Matrix homeserver."""


@main.command("serve")
@_config_path
def serve_command(config_path: Path) -> None:
    """Run the homeserver until SIGTERM or SIGINT."""
    config = _load(config_path)
    logging.basicConfig(
        level=config.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    _tune_malloc()
    uvloop.run(serve(config))


@main.command("generate-config")
@click.option("--server-name", "-H", required=True, help="The server name (domain of user IDs).")
@_config_path
@click.option("--force", is_flag=True, help="Overwrite an existing configuration file.")
def generate_config_command(server_name: str, config_path: Path, force: bool) -> None:
    """Write a commented configuration file and a new signing key next to it."""
    if config_path.exists() and not force:
        raise click.ClickException(f"{config_path} exists; pass --force to overwrite it")
    generate_config(server_name, config_path)
    click.echo(f"Wrote {config_path}")


@main.command("register-user")
@_config_path
@click.option("--user", "-u", required=True, help="Localpart of the new user.")
@click.option("--password", "-p", required=True, help="Password of the new user.")
@click.option("--admin", is_flag=True, help="Make the user a server admin.")
def register_user_command(config_path: Path, user: str, password: str, admin: bool) -> None:
    """Create an account directly in the database (works with the server running or
    not; the running server sees it at once)."""
    config = _load(config_path)

    async def register() -> str:
        db = await open_database(config.database)
        try:
            hs = await build_homeserver(config, db)
            return await hs.accounts.register(user, password, is_admin=admin)
        finally:
            await db.close()

    try:
        user_id = asyncio.run(register())
    except MatrixError as e:
        raise click.ClickException(f"{e.errcode}: {e.message}") from e
    click.echo(f"Registered {user_id}" + (" (admin)" if admin else ""))
