"""Shared-secret registration, as Synapse: /_synapse/admin/v1/register."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, read_json_body
from ranvier.api.models import parse_body
from ranvier.api.routing import SYNAPSE_ADMIN_V1, route

if TYPE_CHECKING:
    from ranvier.server import HomeServer


async def get_nonce(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_synapse/admin/v1/register"""
    return json_response({"nonce": hs.shared_secret.new_nonce()})


@dataclass
class SharedSecretBody:
    nonce: str
    username: str
    password: str
    mac: str
    admin: bool = False
    displayname: str | None = None


async def register(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /_synapse/admin/v1/register"""
    body = parse_body(SharedSecretBody, await read_json_body(request))
    hs.shared_secret.check(body.nonce, body.username, body.password, body.admin, body.mac)
    user_id = await hs.accounts.register(body.username, body.password, is_admin=body.admin)
    session = await hs.accounts.create_session(user_id, None, None)
    return json_response(session.to_json(hs.server_name))


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "GET", "/register", get_nonce, SYNAPSE_ADMIN_V1),
        *route(hs, "POST", "/register", register, SYNAPSE_ADMIN_V1),
    ]
