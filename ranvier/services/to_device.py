"""Send-to-device messaging (client-server API, "Send-to-Device messaging") and the
"to_device" stream /sync reads.

Messages wait in each target device's inbox until a sync acknowledges them: the next
sync's `since` proves the client received everything up to its to_device position,
and only then are they deleted, so a lost /sync response loses nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ranvier.clock import Clock
from ranvier.errors import MatrixError
from ranvier.notifier import Notifier
from ranvier.protocol.identifiers import is_valid_user_id, server_name_of
from ranvier.storage.devices import DevicesStore
from ranvier.storage.to_device import Delivery, ToDeviceStore

TO_DEVICE_STREAM = "to_device"
#: all of a user's devices, in place of a device ID
ALL_DEVICES = "*"
#: how long a transaction ID is remembered for retries
TXN_LIFETIME_MS = 24 * 60 * 60 * 1000
SYNC_LIMIT = 100


class ToDeviceService:
    def __init__(
        self,
        store: ToDeviceStore,
        devices: DevicesStore,
        notifier: Notifier,
        clock: Clock,
        server_name: str,
    ) -> None:
        self._store = store
        self._devices = devices
        self._notifier = notifier
        self._clock = clock
        self._server_name = server_name
        notifier.set_position(TO_DEVICE_STREAM, store.stream.current)

    @property
    def position(self) -> int:
        return self._store.stream.current

    async def send(
        self,
        sender: str,
        sender_device: str,
        event_type: str,
        txn_id: str,
        messages: Mapping[str, Any],
    ) -> None:
        """PUT /sendToDevice/{eventType}/{txnId}: `messages` is user -> device ID (or
        `*`) -> content. Unknown local devices are skipped; remote users wait for
        federation. A repeated transaction ID delivers nothing again."""
        for user_id, by_device in messages.items():
            if not is_valid_user_id(user_id, allow_historical=True):
                raise MatrixError(400, "M_INVALID_PARAM", f"{user_id!r} is not a user ID")
            if not isinstance(by_device, dict) or not all(
                isinstance(c, dict) for c in by_device.values()
            ):
                raise MatrixError(
                    400, "M_BAD_JSON", f"messages.{user_id} must map device IDs to objects"
                )
        deliveries: list[Delivery] = []
        for user_id, by_device in messages.items():
            if server_name_of(user_id) != self._server_name:
                continue
            known = {d.device_id for d in await self._devices.get_devices(user_id)}
            for device_id, content in by_device.items():
                message = {"type": event_type, "sender": sender, "content": content}
                targets = sorted(known) if device_id == ALL_DEVICES else [device_id]
                deliveries.extend(
                    Delivery(user_id, target, message) for target in targets if target in known
                )
        now = self._clock.time_ms()
        position = await self._store.deliver(
            sender, sender_device, txn_id, now, deliveries, now - TXN_LIFETIME_MS
        )
        if position is not None and deliveries:
            self._notifier.notify(
                TO_DEVICE_STREAM, position, users={d.user_id for d in deliveries}
            )

    async def to_device_for_sync(
        self,
        user_id: str,
        device_id: str,
        since_pos: int,
        upto: int | None = None,
        limit: int = SYNC_LIMIT,
    ) -> tuple[list[dict[str, Any]], int]:
        """The device's messages after `since_pos` (up to `upto`, default the stream's
        current position), at most `limit`, and the position to put in the next sync
        token. Messages up to `since_pos` are deleted first: a sync from there proves
        they arrived."""
        upto = self.position if upto is None else upto
        if since_pos > 0:
            await self._store.delete_upto(user_id, device_id, since_pos)
        rows = await self._store.inbox(user_id, device_id, since_pos, upto, limit)
        new_pos = rows[-1][0] if len(rows) == limit else upto
        return [message for _, message in rows], new_pos

    async def on_devices_deleted(self, user_id: str, device_ids: list[str] | None) -> None:
        await self._store.delete_inboxes(user_id, device_ids)
