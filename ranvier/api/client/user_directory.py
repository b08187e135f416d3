"""POST /user_directory/search (client-server API "User directory", users.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, read_json_body, require_auth
from ranvier.api.models import parse_body
from ranvier.api.routing import route

if TYPE_CHECKING:
    from ranvier.server import HomeServer


@dataclass(frozen=True)
class SearchBody:
    search_term: str
    limit: int | None = None


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return route(hs, "POST", "/user_directory/search", search)


async def search(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /user_directory/search"""
    requester = await require_auth(request)
    body = parse_body(SearchBody, await read_json_body(request))
    return json_response(
        await hs.user_directory.search(requester.user_id, body.search_term, body.limit)
    )
