"""The media repository API: uploads under /_matrix/media, downloads and thumbnails
under the authenticated /_matrix/client/v1/media and the legacy /_matrix/media/v3.

Served by listeners that name the `media` resource, and by `client` ones too, as
Synapse does. One module per endpoint group, each exposing `routes(hs)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.media import download, preview, upload

if TYPE_CHECKING:
    from ranvier.server import HomeServer

ROUTE_MODULES = (upload, download, preview)


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [r for module in ROUTE_MODULES for r in module.routes(hs)]
