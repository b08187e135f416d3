"""GET /notifications (client-server API "Push notifications", notifications.yaml)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, query_int, query_str, require_auth
from ranvier.api.routing import route

if TYPE_CHECKING:
    from ranvier.server import HomeServer


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return route(hs, "GET", "/notifications", notifications)


async def notifications(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /notifications[?from=&limit=&only=highlight]"""
    requester = await require_auth(request)
    return json_response(
        await hs.notification_history.notifications(
            requester.user_id,
            requester.device_id,
            from_token=query_str(request, "from"),
            limit=query_int(request, "limit"),
            only=query_str(request, "only"),
        )
    )
