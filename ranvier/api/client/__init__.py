"""The client-server API: one module per endpoint group, each exposing
`routes(hs) -> list[web.RouteDef]` (docs/ARCHITECTURE.md, "Adding an endpoint").
To add a group, write the module and list it in ROUTE_MODULES."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.client import (
    account,
    account_data,
    devices,
    discovery,
    login,
    membership,
    presence,
    receipts,
    register,
    rooms,
    typing,
)

if TYPE_CHECKING:
    from ranvier.server import HomeServer

ROUTE_MODULES = (
    discovery,
    register,
    login,
    account,
    devices,
    rooms,
    membership,
    account_data,
    typing,
    receipts,
    presence,
)


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [r for module in ROUTE_MODULES for r in module.routes(hs)]
