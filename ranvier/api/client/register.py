"""Account registration: /register, /register/available, registration token validity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ranvier.api.http import (
    client_ip,
    json_response,
    read_json_body,
    require_query_str,
)
from ranvier.api.models import parse_body
from ranvier.api.routing import CLIENT_V1, route
from ranvier.errors import MatrixError
from ranvier.services.uia import REGISTRATION_TOKEN

if TYPE_CHECKING:
    from ranvier.server import HomeServer


@dataclass
class RegisterBody:
    username: str | None = None
    password: str | None = None
    device_id: str | None = None
    initial_device_display_name: str | None = None
    inhibit_login: bool = False
    refresh_token: bool = False
    auth: dict[str, Any] | None = None


def _ratelimit(hs: HomeServer, request: web.Request) -> None:
    hs.ratelimiter.check("register", client_ip(request), hs.config.rc_registration)


async def register(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /_matrix/client/v3/register"""
    kind = request.query.get("kind", "user")
    if kind not in ("user", "guest"):
        raise MatrixError(400, "M_INVALID_PARAM", "kind must be 'user' or 'guest'")
    # rc_registration counts accounts created, not the requests of the UIA dance that
    # leads to one (as Synapse does): check here, charge once the account exists.
    address = client_ip(request)
    hs.ratelimiter.peek("register", address, hs.config.rc_registration)
    body = parse_body(RegisterBody, await read_json_body(request))
    if kind == "guest":
        if not hs.config.allow_guest_access:
            raise MatrixError(403, "M_GUEST_ACCESS_FORBIDDEN", "Guest access is disabled")
        user_id = await hs.accounts.register(None, None, is_guest=True)
    else:
        user_id = await _register_user(hs, request, body)
    hs.ratelimiter.record("register", address, hs.config.rc_registration)
    if body.inhibit_login:
        return json_response({"user_id": user_id, "home_server": hs.server_name})
    session = await hs.accounts.create_session(
        user_id, body.device_id, body.initial_device_display_name,
        refreshable=body.refresh_token,
    )
    return json_response(session.to_json(hs.server_name))


async def _register_user(hs: HomeServer, request: web.Request, body: RegisterBody) -> str:
    if not (
        hs.config.enable_registration
        and (hs.config.enable_registration_without_verification
             or hs.config.registration_requires_token)
    ):
        raise MatrixError(403, "M_FORBIDDEN", "Registration has been disabled")
    # Check the name before authentication, so a client learns it is taken before it
    # spends a registration token (as Synapse does).
    if body.username is not None:
        await hs.accounts.check_username(body.username)
    if hs.config.password_config.enabled and not body.password:
        raise MatrixError(400, "M_MISSING_PARAM", "Missing 'password'")
    completed = await hs.uia.authenticate(
        body.auth, hs.uia.registration_flows(),
        method=request.method, uri=request.path, user_id=None,
    )
    user_id = await hs.accounts.register(body.username, body.password)
    if REGISTRATION_TOKEN in completed:
        await hs.accounts.complete_registration_token(completed[REGISTRATION_TOKEN])
    return user_id


async def available(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/v3/register/available"""
    _ratelimit(hs, request)
    await hs.accounts.check_username(require_query_str(request, "username"))
    return json_response({"available": True})


async def token_validity(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/v1/register/m.login.registration_token/validity"""
    if not hs.config.enable_registration:
        raise MatrixError(403, "M_FORBIDDEN", "Registration has been disabled")
    _ratelimit(hs, request)
    token = require_query_str(request, "token")
    return json_response({"valid": await hs.registration_tokens.is_valid(token)})


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "POST", "/register", register),
        *route(hs, "GET", "/register/available", available),
        *route(hs, "GET", "/register/m.login.registration_token/validity", token_validity,
               CLIENT_V1),
    ]
