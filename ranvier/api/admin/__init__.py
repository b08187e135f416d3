"""Synapse-compatible admin API (/_synapse/admin/...), served on the client resource
as Synapse does, and the client-server API's GET /admin/whois. Same pattern as
ranvier.api.client: list route modules here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.admin import register, registration_tokens, whois

if TYPE_CHECKING:
    from ranvier.server import HomeServer

ROUTE_MODULES = (
    register,
    registration_tokens,
    whois,
)


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [r for module in ROUTE_MODULES for r in module.routes(hs)]
