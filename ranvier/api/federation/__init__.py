"""The server-server API (/_matrix/federation/...), served by listeners that name the
`federation` resource. Same pattern as ranvier.api.client: one module per endpoint
group, each exposing `routes(hs)`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.federation import openid

if TYPE_CHECKING:
    from ranvier.server import HomeServer

ROUTE_MODULES = (openid,)


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [r for module in ROUTE_MODULES for r in module.routes(hs)]
