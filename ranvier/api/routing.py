"""How a route module declares its endpoints (docs/ARCHITECTURE.md, "Adding an endpoint").

A handler is a plain module-level function `async def name(hs, request) -> Response`;
`route()` binds it to the HomeServer and to every path prefix it is served under.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from ranvier.server import HomeServer

RouteHandler = Callable[["HomeServer", web.Request], Awaitable[web.StreamResponse]]

#: Client-server API prefixes. Synapse still serves r0 for the endpoints that existed
#: in r0, and matrix-nio calls some of them there.
CLIENT_V3 = ("/_matrix/client/v3", "/_matrix/client/r0")
CLIENT_V3_ONLY = ("/_matrix/client/v3",)
CLIENT_V1 = ("/_matrix/client/v1",)
CLIENT_UNVERSIONED = ("/_matrix/client",)
SYNAPSE_ADMIN_V1 = ("/_synapse/admin/v1",)
FEDERATION_V1 = ("/_matrix/federation/v1",)
NO_PREFIX = ("",)


def route(
    hs: HomeServer,
    method: str,
    path: str,
    handler: RouteHandler,
    prefixes: Sequence[str] = CLIENT_V3,
) -> list[web.RouteDef]:
    """One RouteDef per prefix for `method path`, calling `handler(hs, request)`."""
    bound = functools.partial(handler, hs)
    return [web.route(method, prefix + path, bound) for prefix in prefixes]
