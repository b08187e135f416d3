"""Registration tokens, as Synapse's admin API: /_synapse/admin/v1/registration_tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, read_json_body, require_admin
from ranvier.api.models import parse_body
from ranvier.api.routing import SYNAPSE_ADMIN_V1, route
from ranvier.errors import MatrixError

if TYPE_CHECKING:
    from ranvier.server import HomeServer


async def list_tokens(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_synapse/admin/v1/registration_tokens"""
    await require_admin(request)
    valid_param = request.query.get("valid")
    if valid_param not in (None, "true", "false"):
        raise MatrixError(400, "M_INVALID_PARAM", "Query parameter 'valid' must be true or false")
    valid = None if valid_param is None else valid_param == "true"
    tokens = await hs.registration_tokens.list(valid)
    return json_response({"registration_tokens": [t.to_json() for t in tokens]})


async def get_token(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_synapse/admin/v1/registration_tokens/{token}"""
    await require_admin(request)
    return json_response((await hs.registration_tokens.get(request.match_info["token"])).to_json())


@dataclass
class NewTokenBody:
    token: str | None = None
    length: int = 16
    uses_allowed: int | None = None
    expiry_time: int | None = None


async def new_token(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /_synapse/admin/v1/registration_tokens/new"""
    await require_admin(request)
    body = parse_body(NewTokenBody, await read_json_body(request))
    token = await hs.registration_tokens.create(
        body.token, body.length, body.uses_allowed, body.expiry_time
    )
    return json_response(token.to_json())


async def update_token(hs: HomeServer, request: web.Request) -> web.Response:
    """PUT /_synapse/admin/v1/registration_tokens/{token}"""
    await require_admin(request)
    raw = await read_json_body(request)
    changes: dict[str, int | None] = {}
    # Present-and-null means "no limit", absent means "unchanged": so no dataclass here.
    for key in ("uses_allowed", "expiry_time"):
        if key in raw:
            value = raw[key]
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise MatrixError(400, "M_INVALID_PARAM", f"{key} must be an integer or null")
            changes[key] = value
    token = await hs.registration_tokens.update(request.match_info["token"], changes)
    return json_response(token.to_json())


async def delete_token(hs: HomeServer, request: web.Request) -> web.Response:
    """DELETE /_synapse/admin/v1/registration_tokens/{token}"""
    await require_admin(request)
    await hs.registration_tokens.delete(request.match_info["token"])
    return json_response({})


def routes(hs: HomeServer) -> list[web.RouteDef]:
    path = "/registration_tokens"
    return [
        *route(hs, "GET", path, list_tokens, SYNAPSE_ADMIN_V1),
        # Registered before {token} so that "new" is not taken for a token name.
        *route(hs, "POST", f"{path}/new", new_token, SYNAPSE_ADMIN_V1),
        *route(hs, "GET", f"{path}/{{token}}", get_token, SYNAPSE_ADMIN_V1),
        *route(hs, "PUT", f"{path}/{{token}}", update_token, SYNAPSE_ADMIN_V1),
        *route(hs, "DELETE", f"{path}/{{token}}", delete_token, SYNAPSE_ADMIN_V1),
    ]
