"""Server-side key backups: /room_keys/version[/{version}] and
/room_keys/keys[/{roomId}[/{sessionId}]].

Spec: client-server API "Server-side key backups" (key_backup.yaml).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ranvier.api.http import json_response, read_json_body, require_auth, require_query_str
from ranvier.api.models import parse_body
from ranvier.api.routing import route
from ranvier.errors import MatrixError
from ranvier.storage.key_backup import RoomKey

if TYPE_CHECKING:
    from ranvier.server import HomeServer


# auth_data and session_data are "algorithm-dependent": the key backup service checks
# them against the backup's algorithm.


@dataclass(frozen=True)
class CreateVersionBody:
    algorithm: str
    auth_data: Any


@dataclass(frozen=True)
class UpdateVersionBody:
    algorithm: str
    auth_data: Any
    version: str | None = None


@dataclass(frozen=True)
class KeyBackupData:
    first_message_index: int
    forwarded_count: int
    is_verified: bool
    session_data: Any


@dataclass(frozen=True)
class RoomKeysBody:
    sessions: dict[str, Any]


@dataclass(frozen=True)
class AllKeysBody:
    rooms: dict[str, Any]


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "POST", "/room_keys/version", create_version),
        *route(hs, "GET", "/room_keys/version", get_current_version),
        *route(hs, "GET", "/room_keys/version/{version}", get_version),
        *route(hs, "PUT", "/room_keys/version/{version}", update_version),
        *route(hs, "DELETE", "/room_keys/version/{version}", delete_version),
        *route(hs, "PUT", "/room_keys/keys", put_keys),
        *route(hs, "PUT", "/room_keys/keys/{roomId}", put_keys),
        *route(hs, "PUT", "/room_keys/keys/{roomId}/{sessionId}", put_keys),
        *route(hs, "GET", "/room_keys/keys", get_keys),
        *route(hs, "GET", "/room_keys/keys/{roomId}", get_keys),
        *route(hs, "GET", "/room_keys/keys/{roomId}/{sessionId}", get_keys),
        *route(hs, "DELETE", "/room_keys/keys", delete_keys),
        *route(hs, "DELETE", "/room_keys/keys/{roomId}", delete_keys),
        *route(hs, "DELETE", "/room_keys/keys/{roomId}/{sessionId}", delete_keys),
    ]


async def create_version(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /_matrix/client/v3/room_keys/version"""
    requester = await require_auth(request)
    body = parse_body(CreateVersionBody, await read_json_body(request))
    version = await hs.key_backup.create_version(
        requester.user_id, body.algorithm, body.auth_data
    )
    return json_response({"version": version})


async def get_current_version(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/v3/room_keys/version"""
    requester = await require_auth(request)
    return json_response(await hs.key_backup.get_version(requester.user_id, None))


async def get_version(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/v3/room_keys/version/{version}"""
    requester = await require_auth(request)
    return json_response(
        await hs.key_backup.get_version(requester.user_id, request.match_info["version"])
    )


async def update_version(hs: HomeServer, request: web.Request) -> web.Response:
    """PUT /_matrix/client/v3/room_keys/version/{version}"""
    requester = await require_auth(request)
    body = parse_body(UpdateVersionBody, await read_json_body(request))
    await hs.key_backup.update_version(
        requester.user_id, request.match_info["version"], body.algorithm, body.auth_data,
        body.version,
    )
    return json_response({})


async def delete_version(hs: HomeServer, request: web.Request) -> web.Response:
    """DELETE /_matrix/client/v3/room_keys/version/{version}"""
    requester = await require_auth(request)
    await hs.key_backup.delete_version(requester.user_id, request.match_info["version"])
    return json_response({})


def _session_keys(room_id: str, sessions: dict[str, Any], where: str) -> list[RoomKey]:
    keys = []
    for session_id, data in sessions.items():
        if not isinstance(data, dict):
            raise MatrixError(400, "M_BAD_JSON", f"{where}.{session_id} must be an object")
        keys.append(RoomKey(room_id, session_id, asdict(parse_body(KeyBackupData, data))))
    return keys


def _uploaded_keys(request: web.Request, body: dict[str, Any]) -> list[RoomKey]:
    """The keys of a PUT at any of the three levels, every one checked."""
    room_id = request.match_info.get("roomId")
    session_id = request.match_info.get("sessionId")
    if session_id is not None:
        assert room_id is not None
        return _session_keys(room_id, {session_id: body}, "body")
    if room_id is not None:
        return _session_keys(room_id, parse_body(RoomKeysBody, body).sessions, "sessions")
    keys = []
    for room, room_body in parse_body(AllKeysBody, body).rooms.items():
        if not isinstance(room_body, dict):
            raise MatrixError(400, "M_BAD_JSON", f"rooms.{room} must be an object")
        sessions = parse_body(RoomKeysBody, room_body).sessions
        keys.extend(_session_keys(room, sessions, f"rooms.{room}.sessions"))
    return keys


async def put_keys(hs: HomeServer, request: web.Request) -> web.Response:
    """PUT /_matrix/client/v3/room_keys/keys[/{roomId}[/{sessionId}]]"""
    requester = await require_auth(request)
    version = require_query_str(request, "version")
    keys = _uploaded_keys(request, await read_json_body(request))
    return json_response(await hs.key_backup.put_keys(requester.user_id, version, keys))


async def _selected_keys(request: web.Request) -> tuple[str, str, str | None, str | None]:
    """The requester, the backup version, and the room and session the path narrows
    the keys to (None: all of them)."""
    requester = await require_auth(request)
    return (
        requester.user_id, require_query_str(request, "version"),
        request.match_info.get("roomId"), request.match_info.get("sessionId"),
    )


async def get_keys(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/v3/room_keys/keys[/{roomId}[/{sessionId}]]"""
    return json_response(await hs.key_backup.get_keys(*await _selected_keys(request)))


async def delete_keys(hs: HomeServer, request: web.Request) -> web.Response:
    """DELETE /_matrix/client/v3/room_keys/keys[/{roomId}[/{sessionId}]]"""
    return json_response(await hs.key_backup.delete_keys(*await _selected_keys(request)))
