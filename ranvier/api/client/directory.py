"""Room aliases and the published room directory.

Spec: client-server API "Room aliases" and "Published room directory" (directory.yaml,
list_public_rooms.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ranvier.api.http import (
    json_response,
    query_int,
    query_str,
    read_json_body,
    require_auth,
)
from ranvier.api.models import parse_body
from ranvier.api.routing import route
from ranvier.errors import MatrixError
from ranvier.services.directory import PublicRoomsQuery

if TYPE_CHECKING:
    from ranvier.server import HomeServer


@dataclass(frozen=True)
class AliasBody:
    room_id: str


@dataclass(frozen=True)
class VisibilityBody:
    visibility: str = "public"


@dataclass(frozen=True)
class PublicRoomsFilter:
    generic_search_term: str | None = None
    room_types: list[Any] | None = None


@dataclass(frozen=True)
class PublicRoomsBody:
    limit: int | None = None
    since: str | None = None
    filter: PublicRoomsFilter = field(default_factory=PublicRoomsFilter)
    include_all_networks: bool = False
    third_party_instance_id: str | None = None


def routes(hs: HomeServer) -> list[web.RouteDef]:
    alias_path = "/directory/room/{alias}"
    list_path = "/directory/list/room/{room_id}"
    return [
        *route(hs, "PUT", alias_path, put_alias),
        *route(hs, "GET", alias_path, get_alias),
        *route(hs, "DELETE", alias_path, delete_alias),
        *route(hs, "GET", "/rooms/{room_id}/aliases", room_aliases),
        *route(hs, "GET", list_path, get_visibility),
        *route(hs, "PUT", list_path, set_visibility),
        *route(hs, "GET", "/publicRooms", get_public_rooms),
        *route(hs, "POST", "/publicRooms", post_public_rooms),
    ]


async def put_alias(hs: HomeServer, request: web.Request) -> web.Response:
    """PUT /directory/room/{roomAlias}"""
    requester = await require_auth(request)
    body = parse_body(AliasBody, await read_json_body(request))
    await hs.directory.create_alias(requester.user_id, request.match_info["alias"], body.room_id)
    return json_response({})


async def get_alias(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /directory/room/{roomAlias}"""
    return json_response(await hs.directory.resolve_alias(request.match_info["alias"]))


async def delete_alias(hs: HomeServer, request: web.Request) -> web.Response:
    """DELETE /directory/room/{roomAlias}"""
    requester = await require_auth(request)
    await hs.directory.delete_alias(requester.user_id, request.match_info["alias"])
    return json_response({})


async def room_aliases(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /rooms/{roomId}/aliases"""
    requester = await require_auth(request)
    aliases = await hs.directory.room_aliases(requester.user_id, request.match_info["room_id"])
    return json_response({"aliases": aliases})


async def get_visibility(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /directory/list/room/{roomId}"""
    visibility = await hs.directory.get_visibility(request.match_info["room_id"])
    return json_response({"visibility": visibility})


async def set_visibility(hs: HomeServer, request: web.Request) -> web.Response:
    """PUT /directory/list/room/{roomId}"""
    requester = await require_auth(request)
    body = parse_body(VisibilityBody, await read_json_body(request))
    await hs.directory.set_visibility(
        requester.user_id, request.match_info["room_id"], body.visibility
    )
    return json_response({})


async def get_public_rooms(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /publicRooms (no access token needed)"""
    _check_server(hs, query_str(request, "server"))
    query = PublicRoomsQuery(
        limit=query_int(request, "limit", minimum=0), since=query_str(request, "since")
    )
    return json_response(await hs.directory.public_rooms(query))


async def post_public_rooms(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /publicRooms"""
    await require_auth(request, allow_guest=True)
    _check_server(hs, query_str(request, "server"))
    body = parse_body(PublicRoomsBody, await read_json_body(request))
    if body.limit is not None and body.limit < 0:
        raise MatrixError(400, "M_INVALID_PARAM", "limit must not be negative")
    room_types = body.filter.room_types
    if room_types is not None and not all(t is None or isinstance(t, str) for t in room_types):
        raise MatrixError(400, "M_BAD_JSON", "filter.room_types must hold strings or null")
    if body.include_all_networks and body.third_party_instance_id is not None:
        raise MatrixError(
            400, "M_INVALID_PARAM",
            "third_party_instance_id cannot be used with include_all_networks",
        )
    query = PublicRoomsQuery(
        limit=body.limit,
        since=body.since,
        search_term=body.filter.generic_search_term,
        room_types=room_types,
        third_party_instance_id=body.third_party_instance_id,
    )
    return json_response(await hs.directory.public_rooms(query))


def _check_server(hs: HomeServer, server: str | None) -> None:
    if server is not None and server != hs.server_name:
        # Other servers' directories are fetched over federation, which is not here yet.
        raise MatrixError(
            404, "M_NOT_FOUND", f"the directory of {server} cannot be fetched from here"
        )
