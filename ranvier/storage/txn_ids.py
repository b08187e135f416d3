"""The client transaction IDs each device has sent events with, kept in memory so that a
send need not ask the database whether it is a retry (on PostgreSQL that question was
a round trip of its own on every send; docs/PERFORMANCE.md).

A device's set is read once, on its first send since start-up, and every commit of
this process adds to it, so a device's set, once loaded, holds every ID it has used:
an ID not in it is new. A device with more IDs than DEVICE_TXN_LIMIT (a bot's) is not
kept: each of its sends asks the database, as every send did before. With several
processes writing events (docs/ARCHITECTURE.md), each would have to see the others'
commits here, or a device's sends would have to go through one of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ranvier.storage.database import Database
from ranvier.storage.lru import LruCache


@dataclass(frozen=True)
class TxnKey:
    user_id: str
    device_id: str
    txn_id: str


#: More IDs than this and a device's set is not kept (about 100 bytes an ID).
DEVICE_TXN_LIMIT = 10_000
#: IDs kept over all devices, the least recently sending devices' dropped first.
TXN_CACHE_IDS = 200_000


class _TooMany:
    """What the cache holds for a device with more than DEVICE_TXN_LIMIT IDs."""


_TOO_MANY = _TooMany()

Device = tuple[str, str]


class DeviceTxnIds:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._devices: LruCache[Device, set[str] | _TooMany] = LruCache(TXN_CACHE_IDS)
        # Devices whose set is being read, with the IDs committed meanwhile: the read
        # may have started before their commit, and it must not miss them.
        self._loading: dict[Device, list[str]] = {}

    async def event_id(self, txn: TxnKey) -> str | None:
        """The event the device sent with this transaction ID, if it has."""
        ids = await self._ids_of((txn.user_id, txn.device_id))
        if ids is not None and txn.txn_id not in ids:
            return None
        # Known to be a retry (rare), or a device whose IDs are not kept.
        return await self._db.fetchval(  # type: ignore[no-any-return]
            "SELECT event_id FROM event_txn_ids WHERE user_id = ? AND device_id = ? AND txn_id = ?",
            txn.user_id, txn.device_id, txn.txn_id,
        )

    def committed(self, txns: Iterable[TxnKey]) -> None:
        """Record IDs whose events have just committed."""
        for txn in txns:
            device = (txn.user_id, txn.device_id)
            if device in self._loading:
                self._loading[device].append(txn.txn_id)
            ids = self._devices.get(device)
            if isinstance(ids, set):
                ids.add(txn.txn_id)
                self._keep(device, ids)

    async def _ids_of(self, device: Device) -> set[str] | None:
        """Every ID the device has used, or None when they are not kept."""
        ids = self._devices.get(device)
        if ids is not None:
            return ids if isinstance(ids, set) else None
        if device in self._loading:  # another send of the device is reading them
            return None
        self._loading[device] = pending = []
        try:
            rows = await self._db.fetchall(
                "SELECT txn_id FROM event_txn_ids WHERE user_id = ? AND device_id = ? LIMIT ?",
                *device, DEVICE_TXN_LIMIT + 1,
            )
        finally:
            del self._loading[device]
        loaded = {r[0] for r in rows}
        loaded.update(pending)
        self._keep(device, loaded)
        kept = self._devices.get(device)
        return kept if isinstance(kept, set) else None

    def _keep(self, device: Device, ids: set[str]) -> None:
        if len(ids) > DEVICE_TXN_LIMIT:
            self._devices.set(device, _TOO_MANY, 1)
        else:
            self._devices.set(device, ids, len(ids))
