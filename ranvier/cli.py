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


#: glibc's mallopt parameter for the number of malloc arenas.
_M_ARENA_MAX = -8


def _cap_malloc_arenas(arenas: int = 2) -> None:
    """Have glibc share `arenas` malloc arenas between all threads. By default each
    thread that allocates (the event loop, SQLite's checkpointer, the resolver and
    hashing executors) may get an arena of its own, up to 8 per CPU, and memory freed
    in one is never reused by another: in the benchmark that left 15-20 MiB free but
    resident. An explicit MALLOC_ARENA_MAX wins; elsewhere than glibc this does nothing."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, arenas)


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
    _cap_malloc_arenas()
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
