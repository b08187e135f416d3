"""Holding a read back after it has its rows, so that a test can commit something the
read's snapshot missed before the read hands its rows over: the race every in-memory
copy fed by commits must survive."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from ranvier.storage.database import Database


@dataclass
class PausedRead:
    #: set once the read has its rows
    read_done: asyncio.Event = field(default_factory=asyncio.Event)
    #: set by the test to let the read hand them over
    release: asyncio.Event = field(default_factory=asyncio.Event)


def pause_read(db: Database, monkeypatch: pytest.MonkeyPatch, marker: str) -> PausedRead:
    """Hold the first `fetchall` of `db` whose SQL holds `marker` until released."""
    paused = PausedRead()
    fetchall = db.fetchall

    async def held(sql: str, *args: Any) -> list[tuple]:
        rows = await fetchall(sql, *args)
        if marker in sql and not paused.read_done.is_set():
            paused.read_done.set()
            await paused.release.wait()
        return rows

    monkeypatch.setattr(db, "fetchall", held)
    return paused
