"""Reporting content: POST /rooms/{roomId}/report/{eventId}, /rooms/{roomId}/report and
/users/{userId}/report (client-server API "Reporting content", report_content.yaml)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, read_json_body, require_auth
from ranvier.api.models import parse_body
from ranvier.api.routing import CLIENT_V3_ONLY, route
from ranvier.services.reports import EventReportRequest, ReportRequest

if TYPE_CHECKING:
    from ranvier.server import HomeServer


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "POST", "/rooms/{room_id}/report/{event_id}", report_event),
        *route(hs, "POST", "/rooms/{room_id}/report", report_room, CLIENT_V3_ONLY),
        *route(hs, "POST", "/users/{user_id}/report", report_user, CLIENT_V3_ONLY),
    ]


async def report_event(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /rooms/{roomId}/report/{eventId}"""
    requester = await require_auth(request)
    req = parse_body(EventReportRequest, await read_json_body(request))
    m = request.match_info
    await hs.reports.report_event(requester.user_id, m["room_id"], m["event_id"], req)
    return json_response({})


async def report_room(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /rooms/{roomId}/report"""
    requester = await require_auth(request)
    req = parse_body(ReportRequest, await read_json_body(request))
    await hs.reports.report_room(requester.user_id, request.match_info["room_id"], req)
    return json_response({})


async def report_user(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /users/{userId}/report"""
    requester = await require_auth(request)
    req = parse_body(ReportRequest, await read_json_body(request))
    await hs.reports.report_user(requester.user_id, request.match_info["user_id"], req)
    return json_response({})
