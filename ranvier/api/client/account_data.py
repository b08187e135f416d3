"""Account data and room tags.

Spec: client-server API "Client Config" (account-data.yaml) and "Room Tagging"
(tags.yaml). Only the user may read or write their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, read_json_body, require_auth, require_self
from ranvier.api.routing import route

if TYPE_CHECKING:
    from ranvier.server import HomeServer


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "PUT", "/user/{userId}/account_data/{type}", put_account_data),
        *route(hs, "GET", "/user/{userId}/account_data/{type}", get_account_data),
        *route(hs, "PUT", "/user/{userId}/rooms/{roomId}/account_data/{type}",
               put_account_data),
        *route(hs, "GET", "/user/{userId}/rooms/{roomId}/account_data/{type}",
               get_account_data),
        *route(hs, "GET", "/user/{userId}/rooms/{roomId}/tags", get_tags),
        *route(hs, "PUT", "/user/{userId}/rooms/{roomId}/tags/{tag}", put_tag),
        *route(hs, "DELETE", "/user/{userId}/rooms/{roomId}/tags/{tag}", delete_tag),
    ]


async def _owner(request: web.Request) -> str:
    """The `{userId}` of the path, which must be the requester."""
    requester = await require_auth(request)
    user_id = request.match_info["userId"]
    require_self(requester, user_id)
    return user_id


async def put_account_data(hs: HomeServer, request: web.Request) -> web.Response:
    """PUT /user/{userId}/account_data/{type} and
    PUT /user/{userId}/rooms/{roomId}/account_data/{type}"""
    user_id = await _owner(request)
    content = await read_json_body(request)
    await hs.account_data.set_for_client(
        user_id, request.match_info.get("roomId"), request.match_info["type"], content
    )
    return json_response({})


async def get_account_data(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /user/{userId}/account_data/{type} and
    GET /user/{userId}/rooms/{roomId}/account_data/{type}"""
    user_id = await _owner(request)
    room_id, type_ = request.match_info.get("roomId"), request.match_info["type"]
    if room_id is None and type_ == "m.push_rules":
        # Push rules live in their own store; clients may still read them here
        # (account_data.md "Server Behaviour"), as /sync shows them.
        return json_response(await hs.push_rules.ruleset_json(user_id))
    return json_response(await hs.account_data.get_for_client(user_id, room_id, type_))


async def get_tags(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /user/{userId}/rooms/{roomId}/tags"""
    user_id = await _owner(request)
    return json_response(
        {"tags": await hs.tags.get_tags(user_id, request.match_info["roomId"])}
    )


async def put_tag(hs: HomeServer, request: web.Request) -> web.Response:
    """PUT /user/{userId}/rooms/{roomId}/tags/{tag}"""
    user_id = await _owner(request)
    info = await read_json_body(request)
    await hs.tags.add_tag(
        user_id, request.match_info["roomId"], request.match_info["tag"], info
    )
    return json_response({})


async def delete_tag(hs: HomeServer, request: web.Request) -> web.Response:
    """DELETE /user/{userId}/rooms/{roomId}/tags/{tag}"""
    user_id = await _owner(request)
    await hs.tags.remove_tag(user_id, request.match_info["roomId"], request.match_info["tag"])
    return json_response({})
