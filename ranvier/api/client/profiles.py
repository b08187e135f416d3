"""Profiles: GET /profile/{userId}, GET/PUT/DELETE /profile/{userId}/{keyName}.

Spec: client-server API "Profiles" (profile.yaml). Lookups need no access token, as
the spec's GET endpoints declare no security requirement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, read_json_body, require_auth
from ranvier.api.routing import route
from ranvier.errors import MatrixError

if TYPE_CHECKING:
    from ranvier.server import HomeServer
    from ranvier.services.auth import Requester


def routes(hs: HomeServer) -> list[web.RouteDef]:
    field_path = "/profile/{user_id}/{key}"
    return [
        *route(hs, "GET", "/profile/{user_id}", get_profile),
        *route(hs, "GET", field_path, get_field),
        *route(hs, "PUT", field_path, set_field),
        *route(hs, "DELETE", field_path, delete_field),
    ]


async def get_profile(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /profile/{userId}"""
    profile = await hs.profiles.get_profile(request.match_info["user_id"])
    return json_response(profile.to_json())


async def get_field(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /profile/{userId}/{keyName}"""
    key = request.match_info["key"]
    value = await hs.profiles.get_field(request.match_info["user_id"], key)
    return json_response({key: value})


async def set_field(hs: HomeServer, request: web.Request) -> web.Response:
    """PUT /profile/{userId}/{keyName}: the body holds exactly the one field."""
    requester = await _profile_editor(request)
    key = request.match_info["key"]
    body = await read_json_body(request)
    if key not in body:
        raise MatrixError(400, "M_MISSING_PARAM", f"the body must contain {key!r}")
    if len(body) != 1:
        raise MatrixError(400, "M_BAD_JSON", f"the body must contain only {key!r}")
    await hs.profiles.set_field(requester.user_id, request.match_info["user_id"], key, body[key])
    return json_response({})


async def delete_field(hs: HomeServer, request: web.Request) -> web.Response:
    """DELETE /profile/{userId}/{keyName}"""
    requester = await _profile_editor(request)
    await hs.profiles.delete_field(
        requester.user_id, request.match_info["user_id"], request.match_info["key"]
    )
    return json_response({})


async def _profile_editor(request: web.Request) -> Requester:
    """Who changes a profile field: guests may change only their display name
    (modules/guest_access.md)."""
    requester = await require_auth(request, allow_guest=True)
    if requester.is_guest and request.match_info["key"] != "displayname":
        raise MatrixError(
            403, "M_GUEST_ACCESS_FORBIDDEN", "Guests may only change their display name"
        )
    return requester
