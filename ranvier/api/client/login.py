"""Logging in and out: /login, /login/get_token, /refresh, /logout, /logout/all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ranvier.api.http import (
    client_ip,
    json_response,
    read_json_body,
    read_optional_json_body,
    require_auth,
)
from ranvier.api.models import parse_body
from ranvier.api.routing import CLIENT_V1, CLIENT_V3, route
from ranvier.api.uia import require_password
from ranvier.errors import MatrixError
from ranvier.services.identifiers import user_id_from_identifier

if TYPE_CHECKING:
    from ranvier.server import HomeServer


@dataclass
class LoginBody:
    type: str
    device_id: str | None = None
    initial_device_display_name: str | None = None
    refresh_token: bool = False


async def login_flows(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/v3/login"""
    flows: list[dict[str, Any]] = [{"type": "m.login.token", "get_login_token": True}]
    if hs.config.password_config.enabled:
        flows.insert(0, {"type": "m.login.password"})
    return json_response({"flows": flows})


async def login(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /_matrix/client/v3/login"""
    limits = hs.config.rc_login
    hs.ratelimiter.check("login_address", client_ip(request), limits.address)
    raw = await read_json_body(request)
    body = parse_body(LoginBody, raw)
    if body.type == "m.login.password" and hs.config.password_config.enabled:
        account = user_id_from_identifier(raw, hs.server_name).lower()
        hs.ratelimiter.check("login_account", account, limits.account)
        hs.ratelimiter.peek("login_failed", account, limits.failed_attempts)
        try:
            user_id = await hs.accounts.login_with_password(raw)
        except MatrixError:
            hs.ratelimiter.record("login_failed", account, limits.failed_attempts)
            raise
    elif body.type == "m.login.token":
        user_id = await hs.accounts.login_with_token(raw.get("token"))
    else:
        raise MatrixError(400, "M_UNKNOWN", f"Unknown login type {body.type!r}")
    session = await hs.accounts.create_session(
        user_id, body.device_id, body.initial_device_display_name,
        refreshable=body.refresh_token,
    )
    return json_response(session.to_json(hs.server_name))


async def get_login_token(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /_matrix/client/v1/login/get_token"""
    requester = await require_auth(request)
    body = await read_optional_json_body(request)
    await require_password(hs, request, requester, body.get("auth"))
    token, expires_in_ms = await hs.accounts.create_login_token(requester.user_id)
    return json_response({"login_token": token, "expires_in_ms": expires_in_ms})


@dataclass
class RefreshBody:
    refresh_token: str


async def refresh(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /_matrix/client/v3/refresh"""
    body = parse_body(RefreshBody, await read_json_body(request))
    session = await hs.accounts.refresh(body.refresh_token)
    return json_response({
        "access_token": session.access_token,
        "refresh_token": session.refresh_token,
        "expires_in_ms": session.expires_in_ms,
    })


async def logout(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /_matrix/client/v3/logout"""
    requester = await require_auth(request, allow_guest=True)
    await hs.accounts.logout(requester.user_id, requester.device_id, requester.access_token)
    return json_response({})


async def logout_all(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /_matrix/client/v3/logout/all"""
    requester = await require_auth(request, allow_guest=True)
    await hs.accounts.logout_all(requester.user_id)
    return json_response({})


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "GET", "/login", login_flows),
        *route(hs, "POST", "/login", login),
        *route(hs, "POST", "/login/get_token", get_login_token, CLIENT_V1),
        *route(hs, "POST", "/refresh", refresh, (*CLIENT_V1, CLIENT_V3[0])),
        *route(hs, "POST", "/logout", logout),
        *route(hs, "POST", "/logout/all", logout_all),
    ]
