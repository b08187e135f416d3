"""Send-to-device messaging: PUT /sendToDevice/{eventType}/{txnId}.

Spec: client-server API "Send-to-Device messaging" (to_device.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ranvier.api.http import json_response, read_json_body, require_auth
from ranvier.api.models import parse_body
from ranvier.api.routing import route

if TYPE_CHECKING:
    from ranvier.server import HomeServer


@dataclass(frozen=True)
class SendToDeviceBody:
    messages: dict[str, Any]


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return route(hs, "PUT", "/sendToDevice/{eventType}/{txnId}", send_to_device)


async def send_to_device(hs: HomeServer, request: web.Request) -> web.Response:
    """PUT /_matrix/client/v3/sendToDevice/{eventType}/{txnId}"""
    requester = await require_auth(request, allow_guest=True)
    body = parse_body(SendToDeviceBody, await read_json_body(request))
    await hs.to_device.send(
        requester.user_id,
        # Transaction IDs are scoped to the device, or to the token when there is none.
        requester.device_id or requester.access_token,
        request.match_info["eventType"],
        request.match_info["txnId"],
        body.messages,
    )
    return json_response({})
