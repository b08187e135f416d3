"""Membership: join, invite, leave, forget, kick, ban, unban, knock, joined rooms.

Spec: client-server API "Room membership" (joining.yaml, inviting.yaml, leaving.yaml,
kicking.yaml, banning.yaml, knocking.yaml, list_joined_rooms.yaml).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from ranvier.api.http import json_response, read_json_body, read_optional_json_body, require_auth
from ranvier.api.models import parse_body
from ranvier.api.routing import RouteHandler, route

if TYPE_CHECKING:
    from ranvier.server import HomeServer
    from ranvier.services.membership import MembershipService


@dataclass(frozen=True)
class ReasonBody:
    reason: str | None = None


@dataclass(frozen=True)
class TargetBody:
    user_id: str
    reason: str | None = None


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "POST", "/join/{room}", join),
        *route(hs, "POST", "/rooms/{room}/join", join),
        *route(hs, "POST", "/knock/{room}", knock),
        *route(hs, "POST", "/rooms/{room}/leave", leave),
        *route(hs, "POST", "/rooms/{room}/forget", forget),
        *route(hs, "POST", "/rooms/{room}/invite", invite),
        *route(hs, "POST", "/rooms/{room}/kick", kick),
        *route(hs, "POST", "/rooms/{room}/ban", ban),
        *route(hs, "POST", "/rooms/{room}/unban", unban),
        *route(hs, "GET", "/joined_rooms", joined_rooms),
    ]


async def join(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /join/{roomIdOrAlias} and POST /rooms/{roomId}/join. `via`/`server_name`
    are accepted; rooms on other servers need federation."""
    requester = await require_auth(request, allow_guest=True)
    raw = await read_optional_json_body(request)
    body = parse_body(ReasonBody, raw)
    # Other keys are custom member-event content; third_party_signed is a 3PID
    # invite's proof, not content.
    extra = {k: v for k, v in raw.items() if k not in ("reason", "third_party_signed")}
    room_id = await hs.membership.resolve_room(request.match_info["room"])
    if requester.is_guest:
        await hs.guest_access.check_may_join(room_id)
    await hs.membership.join(requester.user_id, room_id, body.reason, extra)
    predecessor = await hs.room_upgrader.predecessor(room_id)
    if predecessor is not None:  # joining an upgraded room: the user's tags follow
        await hs.tags.copy_tags(requester.user_id, predecessor, room_id)
    return json_response({"room_id": room_id})


async def knock(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /knock/{roomIdOrAlias}"""
    requester = await require_auth(request)
    body = parse_body(ReasonBody, await read_optional_json_body(request))
    stored = await hs.membership.knock(requester.user_id, request.match_info["room"], body.reason)
    return json_response({"room_id": stored.event.room_id})


async def leave(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /rooms/{roomId}/leave"""
    requester = await require_auth(request, allow_guest=True)
    body = parse_body(ReasonBody, await read_optional_json_body(request))
    await hs.membership.leave(requester.user_id, request.match_info["room"], body.reason)
    return json_response({})


async def forget(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /rooms/{roomId}/forget"""
    requester = await require_auth(request)
    await hs.membership.forget(requester.user_id, request.match_info["room"])
    return json_response({})


#: The membership actions on another user, which share one body and one response.
TargetAction = Callable[
    ["MembershipService"], Callable[[str, str, str, str | None], Awaitable[object]]
]


def _on_target(action: TargetAction) -> RouteHandler:
    async def handler(hs: HomeServer, request: web.Request) -> web.Response:
        """POST /rooms/{roomId}/invite|kick|ban|unban"""
        requester = await require_auth(request)
        body = parse_body(TargetBody, await read_json_body(request))
        await action(hs.membership)(
            requester.user_id, request.match_info["room"], body.user_id, body.reason
        )
        return json_response({})

    return handler


invite = _on_target(lambda m: m.invite)
kick = _on_target(lambda m: m.kick)
ban = _on_target(lambda m: m.ban)
unban = _on_target(lambda m: m.unban)


async def joined_rooms(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /joined_rooms"""
    requester = await require_auth(request)
    return json_response(
        {"joined_rooms": await hs.stores.rooms.get_rooms_for_user(requester.user_id)}
    )
