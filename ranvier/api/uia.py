"""User-interactive auth for requests that act on the requester's own account."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ranvier.services.uia import PASSWORD

if TYPE_CHECKING:
    from ranvier.server import HomeServer
    from ranvier.services.auth import Requester


async def require_password(
    hs: HomeServer, request: web.Request, requester: Requester, auth: Any
) -> dict[str, Any]:
    """The completed stages once `auth` proves the requester's password, the one flow
    we offer for acting on one's own account (password change, deactivation, deleting
    devices, a login token, replacing cross-signing keys); until then raises
    `InteractiveAuthRequired` (401 with the flows and the session)."""
    return await hs.uia.authenticate(
        auth, [[PASSWORD]],
        method=request.method, uri=request.path, user_id=requester.user_id,
    )
