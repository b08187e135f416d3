"""The account itself: /account/whoami, /account/password, /account/deactivate."""

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


async def whoami(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/v3/account/whoami"""
    requester = await require_auth(request, allow_guest=True)
    body: dict[str, Any] = {"user_id": requester.user_id, "is_guest": requester.is_guest}
    if requester.device_id is not None:
        body["device_id"] = requester.device_id
    return json_response(body)


@dataclass
class PasswordBody:
    new_password: str
    logout_devices: bool = True
    auth: dict[str, Any] | None = None


async def change_password(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /_matrix/client/v3/account/password"""
    requester = await require_auth(request)
    body = parse_body(PasswordBody, await read_json_body(request))
    await require_password(hs, request, requester, body.auth)
    await hs.accounts.change_password(
        requester.user_id, body.new_password,
        logout_devices=body.logout_devices, keep_device=requester.device_id,
    )
    return json_response({})


@dataclass
class DeactivateBody:
    auth: dict[str, Any] | None = None
    erase: bool = False
    id_server: str | None = None


async def deactivate(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /_matrix/client/v3/account/deactivate"""
    requester = await require_auth(request)
    body = parse_body(DeactivateBody, await read_json_body(request))
    await require_password(hs, request, requester, body.auth)
    await hs.deactivation.deactivate(requester.user_id, erase=body.erase)
    # We bind no third-party identifiers, so there is nothing to unbind.
    return json_response({"id_server_unbind_result": "no-support"})


async def threepids(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/v3/account/3pid (this server binds none)"""
    await require_auth(request)
    return json_response({"threepids": []})


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "GET", "/account/whoami", whoami),
        *route(hs, "POST", "/account/password", change_password),
        *route(hs, "POST", "/account/deactivate", deactivate),
        *route(hs, "GET", "/account/3pid", threepids),
    ]
