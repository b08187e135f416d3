"""Dehydrated devices (MSC3814): PUT/GET/DELETE .../dehydrated_device and
POST .../dehydrated_device/{deviceId}/events, under the unstable prefix
`/_matrix/client/unstable/org.matrix.msc3814.v1`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ranvier.api.http import json_response, read_json_body, read_optional_json_body, require_auth
from ranvier.api.models import parse_body
from ranvier.api.routing import route

if TYPE_CHECKING:
    from ranvier.server import HomeServer

MSC3814 = ("/_matrix/client/unstable/org.matrix.msc3814.v1",)


@dataclass(frozen=True)
class PutDehydratedDeviceBody:
    device_id: str
    device_data: dict[str, Any]
    initial_device_display_name: str | None = None
    device_keys: dict[str, Any] | None = None
    one_time_keys: dict[str, Any] | None = None
    fallback_keys: dict[str, Any] | None = None


@dataclass(frozen=True)
class EventsBody:
    next_batch: str | None = None


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "PUT", "/dehydrated_device", put_dehydrated_device, MSC3814),
        *route(hs, "GET", "/dehydrated_device", get_dehydrated_device, MSC3814),
        *route(hs, "DELETE", "/dehydrated_device", delete_dehydrated_device, MSC3814),
        *route(hs, "POST", "/dehydrated_device/{deviceId}/events", dehydrated_events, MSC3814),
    ]


async def put_dehydrated_device(hs: HomeServer, request: web.Request) -> web.Response:
    """PUT /_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device"""
    requester = await require_auth(request)
    body = parse_body(PutDehydratedDeviceBody, await read_json_body(request))
    await hs.dehydrated_devices.put(
        requester.user_id, body.device_id, body.device_data, body.initial_device_display_name,
        {"device_keys": body.device_keys, "one_time_keys": body.one_time_keys,
         "fallback_keys": body.fallback_keys},
    )
    return json_response({"device_id": body.device_id})


async def get_dehydrated_device(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device"""
    requester = await require_auth(request)
    return json_response(await hs.dehydrated_devices.get(requester.user_id))


async def delete_dehydrated_device(hs: HomeServer, request: web.Request) -> web.Response:
    """DELETE /_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device"""
    requester = await require_auth(request)
    return json_response({"device_id": await hs.dehydrated_devices.delete(requester.user_id)})


async def dehydrated_events(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device/{deviceId}/events"""
    requester = await require_auth(request)
    body = parse_body(EventsBody, await read_optional_json_body(request))
    return json_response(
        await hs.dehydrated_devices.events(
            requester.user_id, request.match_info["deviceId"], body.next_batch
        )
    )
