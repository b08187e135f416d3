"""URL previews: GET /_matrix/client/v1/media/preview_url and the legacy
GET /_matrix/media/v3/preview_url. Registered only when `url_preview_enabled` is on
(otherwise the paths are unrecognized, as in Synapse)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, query_int, require_auth, require_query_str
from ranvier.api.media.common import LEGACY_MEDIA
from ranvier.api.routing import CLIENT_V1, route

if TYPE_CHECKING:
    from ranvier.server import HomeServer


def routes(hs: HomeServer) -> list[web.RouteDef]:
    if not hs.config.media.url_preview_enabled:
        return []
    return [
        *route(hs, "GET", "/media/preview_url", preview_url, CLIENT_V1),
        *route(hs, "GET", "/preview_url", preview_url, LEGACY_MEDIA),
    ]


async def preview_url(hs: HomeServer, request: web.Request) -> web.Response:
    """GET .../preview_url?url=...&ts=..."""
    requester = await require_auth(request)
    url = require_query_str(request, "url")
    # `ts` asks for a preview as of a time; we only keep the latest, which the spec
    # allows, but a malformed one is still an error.
    query_int(request, "ts")
    return json_response(await hs.url_previews.preview(url, requester.user_id))
