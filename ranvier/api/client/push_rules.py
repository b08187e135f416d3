"""Push rules: GET /pushrules/, GET /pushrules/global/, and GET/PUT/DELETE
/pushrules/global/{kind}/{ruleId} with its /enabled and /actions.

Spec: client-server API "Push Rules: API" (pushrules.yaml).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ranvier.api.http import json_response, query_str, read_json_body, require_auth
from ranvier.api.routing import route
from ranvier.errors import MatrixError

if TYPE_CHECKING:
    from ranvier.protocol.push_rules import PushRule
    from ranvier.server import HomeServer


def routes(hs: HomeServer) -> list[web.RouteDef]:
    # Rule IDs of sender and room rules hold ':' and may hold other characters that
    # aiohttp would treat as separators: match the rest of the path.
    rule = "/pushrules/global/{kind}/{rule_id:[^/]+}"
    return [
        *route(hs, "GET", "/pushrules/", get_all),
        *route(hs, "GET", "/pushrules/global/", get_global),
        *route(hs, "GET", rule, get_rule),
        *route(hs, "PUT", rule, put_rule),
        *route(hs, "DELETE", rule, delete_rule),
        *route(hs, "GET", rule + "/enabled", get_enabled),
        *route(hs, "PUT", rule + "/enabled", put_enabled),
        *route(hs, "GET", rule + "/actions", get_actions),
        *route(hs, "PUT", rule + "/actions", put_actions),
    ]


async def get_all(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /pushrules/"""
    requester = await require_auth(request)
    return json_response(await hs.push_rules.ruleset_json(requester.user_id))


async def get_global(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /pushrules/global/"""
    requester = await require_auth(request)
    return json_response((await hs.push_rules.ruleset_json(requester.user_id))["global"])


async def _rule_path(request: web.Request) -> tuple[str, str, str]:
    """The requester, and the kind and ID of the rule of theirs that the path names."""
    requester = await require_auth(request)
    m = request.match_info
    return requester.user_id, m["kind"], m["rule_id"]


async def _named_rule(hs: HomeServer, request: web.Request) -> PushRule:
    return await hs.push_rules.get_rule(*await _rule_path(request))


async def _required_field(request: web.Request, name: str) -> Any:
    """Field `name` of the JSON body, which must be there."""
    body = await read_json_body(request)
    if name not in body:
        raise MatrixError(400, "M_MISSING_PARAM", f"missing field {name!r}")
    return body[name]


async def get_rule(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /pushrules/global/{kind}/{ruleId}"""
    return json_response((await _named_rule(hs, request)).to_json())


async def put_rule(hs: HomeServer, request: web.Request) -> web.Response:
    """PUT /pushrules/global/{kind}/{ruleId}[?before=|after=]"""
    user_id, kind, rule_id = await _rule_path(request)
    body = await read_json_body(request)
    await hs.push_rules.put_rule(
        user_id, kind, rule_id, body,
        before=query_str(request, "before"), after=query_str(request, "after"),
    )
    return json_response({})


async def delete_rule(hs: HomeServer, request: web.Request) -> web.Response:
    """DELETE /pushrules/global/{kind}/{ruleId}"""
    await hs.push_rules.delete_rule(*await _rule_path(request))
    return json_response({})


async def get_enabled(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /pushrules/global/{kind}/{ruleId}/enabled"""
    return json_response({"enabled": (await _named_rule(hs, request)).enabled})


async def put_enabled(hs: HomeServer, request: web.Request) -> web.Response:
    """PUT /pushrules/global/{kind}/{ruleId}/enabled"""
    user_id, kind, rule_id = await _rule_path(request)
    enabled = await _required_field(request, "enabled")
    await hs.push_rules.set_enabled(user_id, kind, rule_id, enabled)
    return json_response({})


async def get_actions(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /pushrules/global/{kind}/{ruleId}/actions"""
    return json_response({"actions": list((await _named_rule(hs, request)).actions)})


async def put_actions(hs: HomeServer, request: web.Request) -> web.Response:
    """PUT /pushrules/global/{kind}/{ruleId}/actions"""
    user_id, kind, rule_id = await _rule_path(request)
    actions = await _required_field(request, "actions")
    await hs.push_rules.set_actions(user_id, kind, rule_id, actions)
    return json_response({})
