"""Server-side search: POST /search (client-server API "Server Side Search",
search.yaml)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, query_str, read_json_body, require_auth
from ranvier.api.models import parse_body
from ranvier.api.routing import route
from ranvier.services.search import SearchRequest

if TYPE_CHECKING:
    from ranvier.server import HomeServer


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return route(hs, "POST", "/search", search)


async def search(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /search[?next_batch=]"""
    requester = await require_auth(request)
    body = parse_body(SearchRequest, await read_json_body(request))
    return json_response(
        await hs.search.search(
            requester.user_id, requester.device_id, body, query_str(request, "next_batch")
        )
    )
