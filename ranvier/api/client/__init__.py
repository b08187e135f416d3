"""The client-server API: one module per endpoint group, each exposing
`routes(hs) -> list[web.RouteDef]` (docs/ARCHITECTURE.md, "Adding an endpoint").
To add a group, write the module and list it in ROUTE_MODULES."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.client import (
    account,
    account_data,
    dehydrated_device,
    devices,
    directory,
    discovery,
    keys,
    legacy,
    login,
    membership,
    notifications,
    openid,
    presence,
    profiles,
    push_rules,
    pushers,
    receipts,
    register,
    relations,
    reports,
    room_keys,
    room_read,
    rooms,
    search,
    spaces,
    sync,
    thirdparty,
    to_device,
    typing,
    user_directory,
    voip,
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
    profiles,
    directory,
    push_rules,
    relations,
    user_directory,
    account_data,
    typing,
    receipts,
    presence,
    sync,
    legacy,
    room_read,
    keys,
    to_device,
    room_keys,
    dehydrated_device,
    search,
    spaces,
    reports,
    notifications,
    pushers,
    voip,
    thirdparty,
    openid,
)


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [r for module in ROUTE_MODULES for r in module.routes(hs)]
