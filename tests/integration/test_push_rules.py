"""Push rules API: reading the defaults, adding, ordering, enabling, actions, deleting,
errors that change nothing, and the push_rules stream."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer
from ranvier.services.push_rules import PUSH_RULES_STREAM
from tests.integration.room_helpers import User, call, make_user, ok, q


async def ids(client: Any, user: User, kind: str) -> list[str]:
    ruleset = await ok(client, "GET", "/pushrules/global/", user)
    return [r["rule_id"] for r in ruleset[kind]]


async def test_new_user_gets_the_default_ruleset(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    data = await ok(client, "GET", "/pushrules/", alice)
    ruleset = data["global"]
    assert set(ruleset) == {"override", "content", "room", "sender", "underride"}
    assert ruleset["override"][0] == {
        "rule_id": ".m.rule.master", "default": True, "enabled": False,
        "actions": [], "conditions": [],
    }
    invite = next(r for r in ruleset["override"] if r["rule_id"] == ".m.rule.invite_for_me")
    assert {"kind": "event_match", "key": "state_key", "pattern": alice.user_id} in (
        invite["conditions"]
    )
    assert [r["rule_id"] for r in ruleset["underride"]][-1] == ".m.rule.encrypted"


async def test_add_content_rule_then_read_it(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    body = {"pattern": "cake", "actions": ["notify", {"set_tweak": "sound", "value": "a.wav"}]}
    await ok(client, "PUT", "/pushrules/global/content/cake", alice, body)
    rule = await ok(client, "GET", "/pushrules/global/content/cake", alice)
    assert rule == {"rule_id": "cake", "default": False, "enabled": True, **body}
    assert await ids(client, alice, "content") == ["cake"]


async def test_new_rules_go_first_and_before_after_place_them(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    rule = {"actions": ["notify"], "conditions": []}
    for name in ("a", "b"):
        await ok(client, "PUT", f"/pushrules/global/override/{name}", alice, rule)
    assert (await ids(client, alice, "override"))[:3] == [".m.rule.master", "b", "a"]
    await ok(client, "PUT", "/pushrules/global/override/c?after=a", alice, rule)
    await ok(client, "PUT", "/pushrules/global/override/d?before=b", alice, rule)
    assert (await ids(client, alice, "override"))[:5] == [".m.rule.master", "d", "b", "a", "c"]
    # moving an existing rule
    await ok(client, "PUT", "/pushrules/global/override/d?after=c", alice, rule)
    assert (await ids(client, alice, "override"))[:5] == [".m.rule.master", "b", "a", "c", "d"]


async def test_room_and_sender_rules_use_ids_as_rule_ids(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    room, sender = "!dj234r78wl45Gh4D:matrix.org", "@spambot:matrix.org"
    await ok(client, "PUT", f"/pushrules/global/room/{q(room)}", alice, {"actions": []})
    await ok(client, "PUT", f"/pushrules/global/sender/{q(sender)}", alice, {"actions": []})
    assert await ids(client, alice, "room") == [room]
    assert await ids(client, alice, "sender") == [sender]


async def test_enable_disable_and_actions_of_user_and_default_rules(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    master = "/pushrules/global/override/.m.rule.master"
    await ok(client, "PUT", master + "/enabled", alice, {"enabled": True})
    assert await ok(client, "GET", master + "/enabled", alice) == {"enabled": True}
    message = "/pushrules/global/underride/.m.rule.message"
    await ok(client, "PUT", message + "/actions", alice, {"actions": ["notify", "dont_notify"]})
    assert await ok(client, "GET", message + "/actions", alice) == {"actions": ["notify"]}
    assert (await ok(client, "GET", message, alice))["default"] is True
    await ok(client, "PUT", "/pushrules/global/override/mine", alice, {"actions": []})
    await ok(client, "PUT", "/pushrules/global/override/mine/enabled", alice, {"enabled": False})
    # re-putting the rule keeps it disabled
    await ok(client, "PUT", "/pushrules/global/override/mine", alice, {"actions": ["notify"]})
    rule = await ok(client, "GET", "/pushrules/global/override/mine", alice)
    assert rule["enabled"] is False and rule["actions"] == ["notify"]


async def test_delete_rule(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    await ok(client, "PUT", "/pushrules/global/override/x", alice, {"actions": []})
    await ok(client, "DELETE", "/pushrules/global/override/x", alice)
    status, body = await call(client, "GET", "/pushrules/global/override/x", alice)
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")
    status, body = await call(client, "DELETE", "/pushrules/global/override/x", alice)
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")


async def test_rules_are_per_user(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    await ok(client, "PUT", "/pushrules/global/override/x", alice, {"actions": []})
    assert "x" not in await ids(client, bob, "override")


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "errcode"),
    [
        ("PUT", "/pushrules/global/override/.mine", {"actions": []}, 400, "M_INVALID_PARAM"),
        ("PUT", "/pushrules/global/bogus/x", {"actions": []}, 400, "M_INVALID_PARAM"),
        ("PUT", "/pushrules/global/override/x", {"actions": "notify"}, 400, "M_BAD_JSON"),
        ("PUT", "/pushrules/global/override/x", {"actions": ["explode"]}, 400, "M_BAD_JSON"),
        ("PUT", "/pushrules/global/content/x", {"actions": []}, 400, "M_BAD_JSON"),
        ("PUT", "/pushrules/global/override/x?before=nope", {"actions": []}, 400, "M_UNKNOWN"),
        ("PUT", "/pushrules/global/override/x?after=.m.rule.master", {"actions": []}, 400,
         "M_UNKNOWN"),
        ("GET", "/pushrules/global/override/nope", None, 404, "M_NOT_FOUND"),
        ("PUT", "/pushrules/global/override/nope/enabled", {"enabled": True}, 404,
         "M_NOT_FOUND"),
        ("PUT", "/pushrules/global/override/.m.rule.master/enabled", {"enabled": "yes"}, 400,
         "M_BAD_JSON"),
        ("PUT", "/pushrules/global/override/.m.rule.master/enabled", {}, 400,
         "M_MISSING_PARAM"),
        ("PUT", "/pushrules/global/override/.m.rule.master/actions", {"actions": [1]}, 400,
         "M_BAD_JSON"),
        ("DELETE", "/pushrules/global/override/.m.rule.master", None, 400, "M_INVALID_PARAM"),
    ],
)
async def test_bad_requests_are_refused_and_change_nothing(
    server: HomeServer, client: Any, method: str, path: str, body: Any, status: int,
    errcode: str,
) -> None:
    alice = await make_user(server, "alice")
    before = await ok(client, "GET", "/pushrules/", alice)
    got_status, got = await call(client, method, path, alice, body)
    assert (got_status, got["errcode"]) == (status, errcode)
    assert got["error"]
    assert await ok(client, "GET", "/pushrules/", alice) == before


async def test_changes_advance_the_push_rules_stream_for_sync(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    start = server.notifier.current_positions().get(PUSH_RULES_STREAM, 0)
    await ok(client, "PUT", "/pushrules/global/override/x", alice, {"actions": []})
    now = server.notifier.current_positions()[PUSH_RULES_STREAM]
    assert now > start
    change = await server.push_rules.changes_for_sync(alice.user_id, start, now)
    assert change is not None and change["type"] == "m.push_rules"
    assert "x" in [r["rule_id"] for r in change["content"]["global"]["override"]]
    assert await server.push_rules.changes_for_sync(bob.user_id, start, now) is None
    assert await server.push_rules.changes_for_sync(alice.user_id, now, now) is None
    # an initial sync always carries the rules
    assert await server.push_rules.changes_for_sync(bob.user_id, None, now) is not None
