"""Device management: /devices, /devices/{deviceId}, /delete_devices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ranvier.api.http import json_response, read_json_body, require_auth
from ranvier.api.models import parse_body
from ranvier.api.routing import route
from ranvier.api.uia import require_password

if TYPE_CHECKING:
    from ranvier.server import HomeServer


async def list_devices(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/v3/devices"""
    requester = await require_auth(request, allow_guest=True)
    devices = await hs.devices.get_devices(requester.user_id)
    return json_response({"devices": [d.to_json() for d in devices]})


async def get_device(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/v3/devices/{deviceId}"""
    requester = await require_auth(request, allow_guest=True)
    device = await hs.devices.get_device(requester.user_id, request.match_info["deviceId"])
    return json_response(device.to_json())


@dataclass
class UpdateDeviceBody:
    display_name: str | None = None


async def update_device(hs: HomeServer, request: web.Request) -> web.Response:
    """PUT /_matrix/client/v3/devices/{deviceId}"""
    requester = await require_auth(request, allow_guest=True)
    raw = await read_json_body(request)
    body = parse_body(UpdateDeviceBody, raw)
    device_id = request.match_info["deviceId"]
    if "display_name" in raw:
        await hs.devices.set_display_name(requester.user_id, device_id, body.display_name)
    else:  # "If not given, the display name is unchanged" (device_management.yaml)
        await hs.devices.get_device(requester.user_id, device_id)
    return json_response({})


@dataclass
class DeleteDeviceBody:
    auth: dict[str, Any] | None = None


async def delete_device(hs: HomeServer, request: web.Request) -> web.Response:
    """DELETE /_matrix/client/v3/devices/{deviceId}"""
    requester = await require_auth(request)
    device_id = request.match_info["deviceId"]
    raw = await read_json_body(request) if request.body_exists else {}
    body = parse_body(DeleteDeviceBody, raw)
    await hs.devices.get_device(requester.user_id, device_id)  # 404 before asking for auth
    await require_password(hs, request, requester, body.auth)
    await hs.devices.delete_devices(requester.user_id, [device_id])
    return json_response({})


@dataclass
class DeleteDevicesBody:
    devices: list[str]
    auth: dict[str, Any] | None = None


async def delete_devices(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /_matrix/client/v3/delete_devices"""
    requester = await require_auth(request)
    body = parse_body(DeleteDevicesBody, await read_json_body(request))
    await require_password(hs, request, requester, body.auth)
    await hs.devices.delete_devices(requester.user_id, body.devices)
    return json_response({})


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "GET", "/devices", list_devices),
        *route(hs, "GET", "/devices/{deviceId}", get_device),
        *route(hs, "PUT", "/devices/{deviceId}", update_device),
        *route(hs, "DELETE", "/devices/{deviceId}", delete_device),
        *route(hs, "POST", "/delete_devices", delete_devices),
    ]
