"""Downloads and thumbnails, authenticated (GET /_matrix/client/v1/media/download/...,
/thumbnail/...) and legacy (GET /_matrix/media/v3/download/..., /thumbnail/...).

The legacy endpoints need no access token and serve only media uploaded while
`enable_authenticated_media` was off (the spec's "freeze", docs/MEDIA.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import query_bool, query_int, require_auth
from ranvier.api.media.common import LEGACY_MEDIA, media_response
from ranvier.api.routing import CLIENT_V1, route
from ranvier.errors import MatrixError
from ranvier.services.media import DEFAULT_TIMEOUT_MS, check_upload_name

if TYPE_CHECKING:
    from ranvier.server import HomeServer

_THUMBNAIL_NAMES = {"image/jpeg": "thumbnail.jpg", "image/png": "thumbnail.png",
                    "image/webp": "thumbnail.webp"}
#: Thumbnail dimensions above this are not a thumbnail.
MAX_THUMBNAIL_DIMENSION = 10_000


def routes(hs: HomeServer) -> list[web.RouteDef]:
    download_path = "/download/{server_name}/{media_id}"
    thumbnail_path = "/thumbnail/{server_name}/{media_id}"
    return [
        *route(hs, "GET", "/media" + download_path, download, CLIENT_V1),
        *route(hs, "GET", "/media" + download_path + "/{file_name}", download, CLIENT_V1),
        *route(hs, "GET", "/media" + thumbnail_path, thumbnail, CLIENT_V1),
        *route(hs, "GET", download_path, legacy_download, LEGACY_MEDIA),
        *route(hs, "GET", download_path + "/{file_name}", legacy_download, LEGACY_MEDIA),
        *route(hs, "GET", thumbnail_path, legacy_thumbnail, LEGACY_MEDIA),
    ]


async def download(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/v1/media/download/{serverName}/{mediaId}[/{fileName}]"""
    await require_auth(request, allow_guest=True)
    return await _download(hs, request, legacy=False)


async def legacy_download(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/media/v3/download/{serverName}/{mediaId}[/{fileName}] (deprecated)"""
    return await _download(hs, request, legacy=True)


async def thumbnail(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/v1/media/thumbnail/{serverName}/{mediaId}"""
    await require_auth(request, allow_guest=True)
    return await _thumbnail(hs, request, legacy=False)


async def legacy_thumbnail(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/media/v3/thumbnail/{serverName}/{mediaId} (deprecated)"""
    return await _thumbnail(hs, request, legacy=True)


def _timeout_ms(request: web.Request) -> int:
    value = query_int(request, "timeout_ms", DEFAULT_TIMEOUT_MS)
    assert value is not None
    return value


async def _download(hs: HomeServer, request: web.Request, *, legacy: bool) -> web.Response:
    file_name = request.match_info.get("file_name")
    check_upload_name(file_name)
    content = await hs.media.download(
        request.match_info["server_name"], request.match_info["media_id"],
        legacy=legacy, timeout_ms=_timeout_ms(request),
    )
    return media_response(content, file_name or content.upload_name)


def _dimension(request: web.Request, name: str) -> int:
    if name not in request.query:
        raise MatrixError(400, "M_MISSING_PARAM", f"Missing query parameter {name!r}")
    value = query_int(request, name, minimum=1, maximum=MAX_THUMBNAIL_DIMENSION)
    assert value is not None
    return value


async def _thumbnail(hs: HomeServer, request: web.Request, *, legacy: bool) -> web.Response:
    content = await hs.media.thumbnail(
        request.match_info["server_name"], request.match_info["media_id"],
        _dimension(request, "width"), _dimension(request, "height"),
        request.query.get("method", "scale"),
        animated=query_bool(request, "animated", False),
        legacy=legacy, timeout_ms=_timeout_ms(request),
    )
    return media_response(content, _THUMBNAIL_NAMES.get(content.content_type, "thumbnail"))
