"""Server discovery and capabilities: /versions, /.well-known/matrix/*, /capabilities."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, require_auth
from ranvier.api.routing import CLIENT_UNVERSIONED, NO_PREFIX, route
from ranvier.errors import MatrixError
from ranvier.protocol.room_versions import KNOWN_ROOM_VERSIONS

if TYPE_CHECKING:
    from ranvier.server import HomeServer

#: The spec versions we claim (DESIGN.md: advertise only what works).
SPEC_VERSIONS = [f"v1.{minor}" for minor in range(1, 20)]
#: Unstable features clients probe for, each only once it works.
UNSTABLE_FEATURES = {
    # cross-signing (MSC1756), which older clients still look for under this name
    "org.matrix.e2e_cross_signing": True,
    # dehydrated devices, api/client/dehydrated_device.py
    "org.matrix.msc3814": True,
}


async def versions(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/versions"""
    return json_response({"versions": SPEC_VERSIONS, "unstable_features": UNSTABLE_FEATURES})


def public_baseurl(hs: HomeServer) -> str:
    url = hs.config.public_baseurl or f"https://{hs.server_name}/"
    return url if url.endswith("/") else url + "/"


async def wellknown_client(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /.well-known/matrix/client"""
    return json_response({"m.homeserver": {"base_url": public_baseurl(hs)}})


async def wellknown_server(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /.well-known/matrix/server (only when serve_server_wellknown is set)"""
    if not hs.config.serve_server_wellknown:
        raise MatrixError(404, "M_NOT_FOUND", "No .well-known/matrix/server here")
    host = hs.server_name if ":" in hs.server_name else f"{hs.server_name}:443"
    return json_response({"m.server": host})


async def capabilities(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/v3/capabilities"""
    await require_auth(request, allow_guest=True)
    password_login = hs.config.password_config.enabled
    return json_response({"capabilities": {
        "m.room_versions": {
            "default": hs.config.default_room_version,
            "available": {v: "stable" for v in KNOWN_ROOM_VERSIONS},
        },
        "m.change_password": {"enabled": password_login},
        "m.set_displayname": {"enabled": True},
        "m.set_avatar_url": {"enabled": True},
        "m.3pid_changes": {"enabled": False},
        "m.get_login_token": {"enabled": password_login},
    }})


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "GET", "/versions", versions, CLIENT_UNVERSIONED),
        *route(hs, "GET", "/.well-known/matrix/client", wellknown_client, NO_PREFIX),
        *route(hs, "GET", "/.well-known/matrix/server", wellknown_server, NO_PREFIX),
        *route(hs, "GET", "/capabilities", capabilities),
    ]
