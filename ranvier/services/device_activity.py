"""When and from where each device was last seen (GET /devices' `last_seen_ts` and
`last_seen_ip`), recorded from authenticated requests.

Every authenticated request passes here, so the decision is made in memory: a device
is written at most once per `LAST_SEEN_INTERVAL_MS` (the value clients see may be that
much behind, as with Synapse's two-minute granularity).
"""

from __future__ import annotations

import logging

from ranvier.clock import Clock
from ranvier.storage.devices import DevicesStore

logger = logging.getLogger(__name__)

LAST_SEEN_INTERVAL_MS = 2 * 60_000
#: Above this many remembered devices, those not written within an interval are
#: forgotten (they would be written on their next request anyway).
_PRUNE_AT = 100_000


class DeviceActivity:
    def __init__(self, devices: DevicesStore, clock: Clock) -> None:
        self._devices = devices
        self._clock = clock
        #: (user ID, device ID) -> when its last_seen was last written (ms)
        self._written: dict[tuple[str, str], int] = {}

    async def seen(
        self, user_id: str, device_id: str, ip: str, user_agent: str | None
    ) -> None:
        """A request authenticated as this device arrived from `ip`."""
        now = self._clock.time_ms()
        key = (user_id, device_id)
        last = self._written.get(key)
        if last is not None and now - last < LAST_SEEN_INTERVAL_MS:
            return
        if len(self._written) >= _PRUNE_AT:
            self._written = {
                k: ts for k, ts in self._written.items() if now - ts < LAST_SEEN_INTERVAL_MS
            }
        # Claimed before the write, so concurrent requests of the device write once.
        self._written[key] = now
        try:
            await self._devices.record_last_seen(user_id, device_id, now, ip, user_agent)
        except Exception:  # bookkeeping: the request itself must not fail for it
            logger.exception("could not record last_seen of %s %s", user_id, device_id)

    async def on_devices_deleted(self, user_id: str, device_ids: list[str] | None) -> None:
        """A device ID used again after deletion is a new device: record it at once."""
        if device_ids is None:
            self._written = {k: ts for k, ts in self._written.items() if k[0] != user_id}
        else:
            for device_id in device_ids:
                self._written.pop((user_id, device_id), None)
