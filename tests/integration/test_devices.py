"""PUT /devices/{deviceId} (spec: device_management.yaml)."""

from __future__ import annotations

from typing import Any

from .room_helpers import User, call, ok


async def test_update_without_display_name_keeps_the_name(client: Any, alice: User) -> None:
    # "If not given, the display name is unchanged."
    path = f"/devices/{alice.device_id}"
    await ok(client, "PUT", path, alice, {"display_name": "Phone"})
    await ok(client, "PUT", path, alice, {})
    assert (await ok(client, "GET", path, alice))["display_name"] == "Phone"
    status, data = await call(client, "PUT", "/devices/NOPE", alice, {})
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")
