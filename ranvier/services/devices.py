"""Devices: listing, naming and deleting them (a deleted device loses its tokens)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ranvier.errors import MatrixError
from ranvier.services.auth import AuthService
from ranvier.storage.accounts import AccountsStore
from ranvier.storage.devices import DeviceRecord, DevicesStore

#: (user_id, device IDs or None for all of them) -> None
DeletionListener = Callable[[str, list[str] | None], Awaitable[None]]
#: (user_id) -> None
ChangeListener = Callable[[str], Awaitable[None]]


class DevicesService:
    def __init__(self, devices: DevicesStore, accounts: AccountsStore, auth: AuthService) -> None:
        self._devices = devices
        self._accounts = accounts
        self._auth = auth
        self._deletion_listeners: list[DeletionListener] = []
        self._change_listeners: list[ChangeListener] = []

    def on_devices_deleted(self, listener: DeletionListener) -> None:
        """Call `listener(user_id, device_ids)` after devices are deleted (None: all of
        the user's), so their keys and to-device inboxes go with them."""
        self._deletion_listeners.append(listener)

    def on_device_list_changed(self, listener: ChangeListener) -> None:
        """Call `listener(user_id)` after a device is added or renamed: the user's device
        list, as /keys/query shows it (with display names), has changed."""
        self._change_listeners.append(listener)

    async def _device_list_changed(self, user_id: str) -> None:
        for listener in self._change_listeners:
            await listener(user_id)

    async def ensure_device(
        self, user_id: str, device_id: str, display_name: str | None
    ) -> None:
        if await self._devices.ensure_device(user_id, device_id, display_name):
            await self._device_list_changed(user_id)

    async def get_devices(self, user_id: str) -> list[DeviceRecord]:
        return await self._devices.get_devices(user_id)

    async def get_device(self, user_id: str, device_id: str) -> DeviceRecord:
        device = await self._devices.get_device(user_id, device_id)
        if device is None:
            raise MatrixError(404, "M_NOT_FOUND", f"No device {device_id!r}")
        return device

    async def set_display_name(self, user_id: str, device_id: str, name: str | None) -> None:
        if not await self._devices.set_display_name(user_id, device_id, name):
            raise MatrixError(404, "M_NOT_FOUND", f"No device {device_id!r}")
        await self._device_list_changed(user_id)

    async def whois(self, requester: str, user_id: str) -> dict[str, Any]:
        """GET /admin/whois/{userId}: the user's devices and where each was last seen,
        for the user themselves or a server admin (admin.yaml allows that restriction;
        Synapse makes it). One session per device: its tokens share its last_seen."""
        if user_id != requester:
            asking = await self._accounts.get_user(requester)
            if asking is None or not asking.is_admin:
                raise MatrixError(403, "M_FORBIDDEN", "Only server admins may look up others")
            if await self._accounts.get_user(user_id) is None:
                raise MatrixError(404, "M_NOT_FOUND", f"No user {user_id}")
        devices: dict[str, Any] = {}
        for device in await self._devices.get_devices(user_id):
            connections = []
            if device.last_seen_ts is not None:
                connection: dict[str, Any] = {
                    "ip": device.last_seen_ip or "", "last_seen": device.last_seen_ts,
                }
                if device.last_seen_user_agent is not None:
                    connection["user_agent"] = device.last_seen_user_agent
                connections.append(connection)
            devices[device.device_id] = {"sessions": [{"connections": connections}]}
        return {"user_id": user_id, "devices": devices}

    async def delete_devices(self, user_id: str, device_ids: list[str] | None = None) -> None:
        """Delete these devices (all when None) and log them out."""
        tokens = await self._accounts.delete_access_tokens(user_id, device_ids)
        self._auth.forget_tokens(tokens)
        await self._accounts.delete_refresh_tokens(user_id, device_ids)
        await self._devices.delete_devices(user_id, device_ids)
        for listener in self._deletion_listeners:
            await listener(user_id, device_ids)
