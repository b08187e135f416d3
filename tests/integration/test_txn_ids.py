"""Client transaction IDs kept per device in memory (storage/txn_ids.py): a device's
IDs are read once, each commit adds to them, and an ID the set lacks is new without a
read; a commit racing the first read is not missed; a device with too many IDs is
asked about in the database each time."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ranvier.storage import txn_ids
from ranvier.storage.database import Database
from ranvier.storage.txn_ids import DeviceTxnIds, TxnKey

from .paused_reads import pause_read


async def _store(db: Database, txn: TxnKey, event_id: str) -> None:
    await db.execute(
        "INSERT INTO event_txn_ids (user_id, device_id, txn_id, event_id, room_id, inserted_ts)"
        " VALUES (?, ?, ?, ?, '!r:test', 0)",
        txn.user_id, txn.device_id, txn.txn_id, event_id,
    )


def _count_reads(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    reads = [0]
    for name in ("fetchone", "fetchall"):
        method = getattr(db, name)

        async def counted(*args: Any, _method: Any = method) -> Any:
            reads[0] += 1
            return await _method(*args)

        monkeypatch.setattr(db, name, counted)
    return reads


async def test_ids_stored_before_start_are_found_and_new_ones_need_no_read(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _store(database, TxnKey("@a:test", "DEV", "t1"), "$one")
    ids = DeviceTxnIds(database)
    reads = _count_reads(database, monkeypatch)
    assert await ids.event_id(TxnKey("@a:test", "DEV", "t1")) == "$one"
    assert await ids.event_id(TxnKey("@a:test", "DEV", "t2")) is None
    first = reads[0]
    # Once the device's IDs are loaded, a new ID is answered from memory...
    for n in range(3, 10):
        assert await ids.event_id(TxnKey("@a:test", "DEV", f"t{n}")) is None
    assert reads[0] == first
    # ...and one committed since is known, on that device only.
    await _store(database, TxnKey("@a:test", "DEV", "t3"), "$three")
    ids.committed([TxnKey("@a:test", "DEV", "t3")])
    assert await ids.event_id(TxnKey("@a:test", "DEV", "t3")) == "$three"
    assert await ids.event_id(TxnKey("@a:test", "OTHER", "t3")) is None
    assert await ids.event_id(TxnKey("@b:test", "DEV", "t3")) is None


async def test_a_commit_while_the_ids_are_read_is_not_missed(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = DeviceTxnIds(database)
    txn = TxnKey("@a:test", "DEV", "late")
    paused = pause_read(database, monkeypatch, "FROM event_txn_ids")
    lookup = asyncio.create_task(ids.event_id(TxnKey("@a:test", "DEV", "first")))
    await paused.read_done.wait()
    await _store(database, txn, "$late")
    ids.committed([txn])
    paused.release.set()
    assert await lookup is None
    assert await ids.event_id(txn) == "$late"


async def test_a_device_with_too_many_ids_is_asked_about_each_time(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(txn_ids, "DEVICE_TXN_LIMIT", 3)
    for n in range(4):
        await _store(database, TxnKey("@a:test", "DEV", f"t{n}"), f"$e{n}")
    ids = DeviceTxnIds(database)
    assert await ids.event_id(TxnKey("@a:test", "DEV", "t0")) == "$e0"
    assert await ids.event_id(TxnKey("@a:test", "DEV", "new")) is None
    reads = _count_reads(database, monkeypatch)
    assert await ids.event_id(TxnKey("@a:test", "DEV", "t3")) == "$e3"
    assert await ids.event_id(TxnKey("@a:test", "DEV", "new")) is None
    assert reads[0] == 2
    # A device that grows past the limit stops being kept too.
    await ids.event_id(TxnKey("@b:test", "DEV", "x"))
    ids.committed([TxnKey("@b:test", "DEV", f"y{n}") for n in range(4)])
    reads[0] = 0
    await _store(database, TxnKey("@b:test", "DEV", "y0"), "$y0")
    assert await ids.event_id(TxnKey("@b:test", "DEV", "y0")) == "$y0"
    assert reads[0] == 1
