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
    #: a guest upgrading to a full account (modules/guest_access.md)
    guest_access_token: str | None = None


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
    raw = await read_json_body(request)
    body = parse_body(RegisterBody, raw)
    if kind == "guest":
        if not hs.config.allow_guest_access:
            raise MatrixError(403, "M_GUEST_ACCESS_FORBIDDEN", "Guest access is disabled")
        user_id = await hs.accounts.register(None, None, is_guest=True)
        hs.ratelimiter.record("register", address, hs.config.rc_registration)
    else:
        user_id, body = await _register_user(hs, request, raw)
    if body.inhibit_login:
        return json_response({"user_id": user_id, "home_server": hs.server_name})
    session = await hs.accounts.create_session(
        user_id, body.device_id, body.initial_device_display_name,
        refreshable=body.refresh_token,
    )
    return json_response(session.to_json(hs.server_name))


async def _register_user(
    hs: HomeServer, request: web.Request, raw: dict[str, Any]
) -> tuple[str, RegisterBody]:
    """The user ID registered through this UIA session, and the request parameters
    it was registered with (those of the session's first request if this one sends
    only `auth`)."""
    if not (
        hs.config.enable_registration
        and (hs.config.enable_registration_without_verification
             or hs.config.registration_requires_token)
    ):
        raise MatrixError(403, "M_FORBIDDEN", "Registration has been disabled")
    auth = raw.get("auth")
    # `password_hash` is ours to set (below), never the client's.
    params = {k: v for k, v in raw.items() if k not in ("auth", "password_hash")}
    if isinstance(params.get("username"), str):
        # `username` is the basis of the localpart (registration.yaml), which is
        # lower-case; Synapse lowers it too.
        params["username"] = params["username"].lower()
    if isinstance(params.get("password"), str):
        # The session keeps the parameters until it expires: never the password itself.
        params["password_hash"] = await hs.accounts.hash_password(params.pop("password"))
    earlier = await hs.uia.recall(auth, params, method=request.method, uri=request.path)
    body = parse_body(RegisterBody, earlier.params)
    if earlier.result is not None:
        # A retry of a completed registration answers as the first one did.
        return earlier.result, body
    # Check the name before authentication, so a client learns it is taken before it
    # spends a registration token (as Synapse does).
    if body.guest_access_token is not None:
        await hs.accounts.guest_to_upgrade(body.guest_access_token, body.username)
    elif body.username is not None:
        await hs.accounts.check_username(body.username)
    session_id, completed = await hs.uia.authenticate_request(
        auth, hs.uia.registration_flows(), earlier.params,
        method=request.method, uri=request.path, user_id=None,
    )
    password_hash = earlier.params.get("password_hash")
    if hs.config.password_config.enabled and not password_hash:
        raise MatrixError(400, "M_MISSING_PARAM", "Missing 'password'")
    if body.guest_access_token is not None:
        user_id = await hs.accounts.upgrade_guest(
            body.guest_access_token, body.username, password_hash
        )
    else:
        user_id = await hs.accounts.register(
            body.username, None, password_hash=password_hash
        )
    hs.ratelimiter.record("register", client_ip(request), hs.config.rc_registration)
    await hs.uia.record_result(session_id, earlier.params, user_id)
    if REGISTRATION_TOKEN in completed:
        await hs.accounts.complete_registration_token(completed[REGISTRATION_TOKEN])
    return user_id, body


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
