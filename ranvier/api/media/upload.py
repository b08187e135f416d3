"""Uploads and the repository's limits: POST /upload, POST /create (asynchronous
upload), PUT /upload/{serverName}/{mediaId}, GET /config.

Spec: client-server API, "Content repository" (content-repo.yaml,
authed-content-repo.yaml).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, query_str, require_auth
from ranvier.api.media.common import LEGACY_MEDIA, MEDIA_V1, read_upload
from ranvier.api.routing import CLIENT_V1, route

if TYPE_CHECKING:
    from ranvier.server import HomeServer


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "POST", "/upload", upload, LEGACY_MEDIA),
        *route(hs, "POST", "/create", create, MEDIA_V1),
        *route(hs, "PUT", "/upload/{server_name}/{media_id}", upload_to, LEGACY_MEDIA),
        *route(hs, "GET", "/config", get_config, LEGACY_MEDIA),
        *route(hs, "GET", "/media/config", get_config, CLIENT_V1),
    ]


async def upload(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /_matrix/media/v3/upload?filename=..."""
    requester = await require_auth(request)
    data = await read_upload(request, hs.media.max_upload_size)
    content_uri = await hs.media.upload(
        requester.user_id, data, request.headers.get("Content-Type"),
        query_str(request, "filename"),
    )
    return json_response({"content_uri": content_uri})


async def create(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /_matrix/media/v1/create"""
    requester = await require_auth(request)
    hs.ratelimiter.check("media_create", requester.user_id, hs.config.media.rc_media_create)
    content_uri, expires_at = await hs.media.create(requester.user_id)
    return json_response({"content_uri": content_uri, "unused_expires_at": expires_at})


async def upload_to(hs: HomeServer, request: web.Request) -> web.Response:
    """PUT /_matrix/media/v3/upload/{serverName}/{mediaId}?filename=..."""
    requester = await require_auth(request)
    data = await read_upload(request, hs.media.max_upload_size)
    await hs.media.upload_to(
        requester.user_id, request.match_info["server_name"], request.match_info["media_id"],
        data, request.headers.get("Content-Type"), query_str(request, "filename"),
    )
    return json_response({})


async def get_config(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/v1/media/config and GET /_matrix/media/v3/config"""
    await require_auth(request, allow_guest=True)
    return json_response({"m.upload.size": hs.media.max_upload_size})
