"""Dehydrated devices (MSC3814, unstable prefix `org.matrix.msc3814.v1`): a device a
client parks on the server, encrypted, so it receives to-device messages (room keys)
while the user has no device online; a new client rehydrates it, fetches its messages,
and replaces it.

The device is an ordinary device of the user (listed, with keys and an inbox); only its
`device_data` lives apart. Deleting it, by this API or any other, removes all of it.
"""

from __future__ import annotations

from typing import Any

from ranvier.errors import MatrixError
from ranvier.services.devices import DevicesService
from ranvier.services.e2e_keys import E2EKeysService
from ranvier.services.to_device import ToDeviceService
from ranvier.storage.dehydrated_devices import DehydratedDeviceStore

JsonDict = dict[str, Any]


class DehydratedDevicesService:
    def __init__(
        self,
        store: DehydratedDeviceStore,
        devices: DevicesService,
        e2e_keys: E2EKeysService,
        to_device: ToDeviceService,
    ) -> None:
        self._store = store
        self._devices = devices
        self._e2e_keys = e2e_keys
        self._to_device = to_device

    async def put(
        self,
        user_id: str,
        device_id: str,
        device_data: JsonDict,
        display_name: str | None,
        keys: JsonDict,
    ) -> None:
        """PUT .../dehydrated_device: create the device with its keys (`keys` as for
        /keys/upload), replacing the user's previous dehydrated device."""
        previous = await self._store.get(user_id)
        in_use = {d.device_id for d in await self._devices.get_devices(user_id)}
        if device_id in in_use and (previous is None or previous[0] != device_id):
            raise MatrixError(400, "M_INVALID_PARAM", f"Device ID {device_id} is in use")
        await self._devices.ensure_device(user_id, device_id, display_name)
        try:
            await self._e2e_keys.upload_keys(
                user_id, device_id, keys.get("device_keys"), keys.get("one_time_keys"),
                keys.get("fallback_keys"),
            )
        except MatrixError:
            if device_id not in in_use:  # a refused new device must leave no trace
                await self._devices.delete_devices(user_id, [device_id])
            raise
        if previous is not None and previous[0] != device_id:
            await self._devices.delete_devices(user_id, [previous[0]])
        await self._store.set(user_id, device_id, device_data)

    async def get(self, user_id: str) -> JsonDict:
        """GET .../dehydrated_device"""
        device_id, device_data = await self._existing(user_id)
        return {"device_id": device_id, "device_data": device_data}

    async def delete(self, user_id: str) -> str:
        """DELETE .../dehydrated_device: returns the deleted device's ID."""
        device_id, _ = await self._existing(user_id)
        await self._devices.delete_devices(user_id, [device_id])
        return device_id

    async def events(self, user_id: str, device_id: str, next_batch: str | None) -> JsonDict:
        """POST .../dehydrated_device/{device_id}/events: the device's to-device
        messages after `next_batch`; those up to it are acknowledged and deleted."""
        current = await self._store.get(user_id)
        if current is None or current[0] != device_id:
            raise MatrixError(403, "M_FORBIDDEN", f"{device_id} is not your dehydrated device")
        if next_batch is not None and not (next_batch.isascii() and next_batch.isdigit()):
            raise MatrixError(400, "M_INVALID_PARAM", "next_batch is not a valid token")
        since = int(next_batch) if next_batch else 0
        events, position = await self._to_device.to_device_for_sync(user_id, device_id, since)
        return {"events": events, "next_batch": str(position)}

    async def on_devices_deleted(self, user_id: str, device_ids: list[str] | None) -> None:
        await self._store.forget(user_id, device_ids)

    async def _existing(self, user_id: str) -> tuple[str, JsonDict]:
        current = await self._store.get(user_id)
        if current is None:
            raise MatrixError(404, "M_NOT_FOUND", "No dehydrated device")
        return current
