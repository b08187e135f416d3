"""Push rules: every condition kind, every server-default rule, ruleset order, and the
spec's examples (modules/push.md)."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.protocol import push_rules
from ranvier.protocol.push_rules import (
    DEFAULT_RULE_IDS,
    DefaultRuleChange,
    InvalidPushRule,
    PushContext,
    PushRule,
    build_ruleset,
    condition_matches,
    default_rules,
    defaults_blind_to,
    evaluate,
    parse_actions,
    parse_user_rule,
    ruleset_json,
    split_property_path,
)

ME = "@me:example.org"
OTHER = "@other:example.org"
ROOM = "!room:example.org"


def ctx(**kwargs: Any) -> PushContext:
    values: dict[str, Any] = {"user_id": ME, "room_member_count": 5, "sender_power_level": 0}
    values.update(kwargs)
    return PushContext(**values)


def event(type: str = "m.room.message", sender: str = OTHER, **fields: Any) -> dict[str, Any]:
    return {"type": type, "sender": sender, "room_id": ROOM, "content": {}, **fields}


def message(body: str = "hello", **content: Any) -> dict[str, Any]:
    return event(content={"msgtype": "m.text", "body": body, **content})


# --- property paths -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "parts"),
    [
        ("content.body", ["content", "body"]),
        ("content.m\\.relates_to", ["content", "m.relates_to"]),
        ("content.m\\\\foo", ["content", "m\\foo"]),
        ("content.m\\xfoo", ["content", "m\\xfoo"]),  # other escapes stay literal
        ("type", ["type"]),
    ],
)
def test_dot_separated_paths_unescape_dots_and_backslashes(key: str, parts: list[str]) -> None:
    assert split_property_path(key) == parts


# --- event_match --------------------------------------------------------------------------

TOPIC = {"kind": "event_match", "key": "content.topic", "pattern": "lunc?*"}


@pytest.mark.parametrize(
    ("topic", "matches"),
    [
        ("Lunch plans", True),  # spec example
        ("LUNCH", True),
        (" lunch", False),
        ("lunc", False),
        (None, False),
    ],
)
def test_event_match_spec_example_topic(topic: Any, matches: bool) -> None:
    e = event("m.room.topic", content={"topic": topic}, state_key="")
    assert condition_matches(TOPIC, e, ctx()) is matches


@pytest.mark.parametrize(
    ("body", "matches"),
    [
        ("An example event.", True),  # spec example
        ("exple", True),
        ("An exciting triple-whammy", True),
        ("examples", False),  # must end at a word boundary
        ("counterexample", False),
    ],
)
def test_event_match_on_body_matches_words(body: str, matches: bool) -> None:
    cond = {"kind": "event_match", "key": "content.body", "pattern": "ex*ple"}
    assert condition_matches(cond, message(body), ctx()) is matches


def test_event_match_needs_a_string_value_even_for_star() -> None:
    cond = {"kind": "event_match", "key": "content.n", "pattern": "*"}
    assert not condition_matches(cond, event(content={"n": 1}), ctx())
    assert not condition_matches(cond, event(content={}), ctx())
    assert condition_matches(cond, event(content={"n": ""}), ctx())


def test_event_match_is_anchored_outside_body() -> None:
    cond = {"kind": "event_match", "key": "type", "pattern": "m.room"}
    assert not condition_matches(cond, event("m.room.message"), ctx())


# --- event_property_is / contains ------------------------------------------------------------

FEDERATE = {"kind": "event_property_is", "key": "content.m\\.federate", "value": True}


@pytest.mark.parametrize(
    ("value", "matches"), [(True, True), ("true", False), (1, False), (False, False)]
)
def test_event_property_is_spec_example_no_casting(value: Any, matches: bool) -> None:
    e = event("m.room.create", content={"m.federate": value}, state_key="")
    assert condition_matches(FEDERATE, e, ctx()) is matches


@pytest.mark.parametrize("value", [None, 5, "x", False])
def test_event_property_is_matches_each_simple_type(value: Any) -> None:
    cond = {"kind": "event_property_is", "key": "content.v", "value": value}
    assert condition_matches(cond, event(content={"v": value}), ctx())


def test_event_property_is_refuses_compound_values_and_absence() -> None:
    cond = {"kind": "event_property_is", "key": "content.v", "value": [1]}
    assert not condition_matches(cond, event(content={"v": [1]}), ctx())
    cond = {"kind": "event_property_is", "key": "content.v", "value": None}
    assert not condition_matches(cond, event(content={}), ctx())
    big = {"kind": "event_property_is", "key": "content.v", "value": 2**53}
    assert not condition_matches(big, event(content={"v": 2**53}), ctx())


ALT = {"kind": "event_property_contains", "key": "content.alt_aliases",
       "value": "#myroom:example.com"}


@pytest.mark.parametrize(
    ("aliases", "matches"),
    [
        (["#somewhere:example.org", "#myroom:example.com"], True),  # spec example
        ([":example.com"], False),
        ("#myroom:example.com", False),  # not an array
        ([["#myroom:example.com"]], False),  # compound members are ignored
    ],
)
def test_event_property_contains_spec_example(aliases: Any, matches: bool) -> None:
    e = event("m.room.canonical_alias", content={"alt_aliases": aliases}, state_key="")
    assert condition_matches(ALT, e, ctx()) is matches


def test_event_property_contains_does_not_cast_bools() -> None:
    cond = {"kind": "event_property_contains", "key": "content.v", "value": 1}
    assert not condition_matches(cond, event(content={"v": [True]}), ctx())


# --- contains_display_name, room_member_count, sender_notification_permission ---------------


@pytest.mark.parametrize(
    ("name", "body", "matches"),
    [
        ("Alice", "hi alice!", True),
        ("Alice", "Alicea", False),
        ("Al (work)", "ping Al (work) now", True),
        (None, "hi alice", False),
        ("", "hi", False),
    ],
)
def test_contains_display_name(name: str | None, body: str, matches: bool) -> None:
    cond = {"kind": "contains_display_name"}
    assert condition_matches(cond, message(body), ctx(display_name=name)) is matches


@pytest.mark.parametrize(
    ("spec", "count", "matches"),
    [
        ("2", 2, True), ("2", 3, False), ("==2", 2, True),
        ("<2", 1, True), ("<2", 2, False), (">2", 3, True), (">2", 2, False),
        ("<=2", 2, True), ("<=2", 3, False), (">=2", 2, True), (">=2", 1, False),
        ("=2", 2, False), ("two", 2, False), (2, 2, False), ("<=10", 10, True),
    ],
)
def test_room_member_count_operators(spec: Any, count: int, matches: bool) -> None:
    cond = {"kind": "room_member_count", "is": spec}
    assert condition_matches(cond, message(), ctx(room_member_count=count)) is matches


@pytest.mark.parametrize(
    ("power", "levels", "matches"),
    [(50, {"room": 50}, True), (49, {"room": 50}, False), (10, {"room": 10}, True),
     (49, {}, False), (50, {}, True)],
)
def test_sender_notification_permission(power: int, levels: dict, matches: bool) -> None:
    cond = {"kind": "sender_notification_permission", "key": "room"}
    c = ctx(sender_power_level=power, notification_levels=levels)
    assert condition_matches(cond, message(), c) is matches


def test_unknown_condition_kind_never_matches() -> None:
    assert not condition_matches({"kind": "org.example.new"}, message(), ctx())
    rule = PushRule("x", "override", ("notify",), conditions=({"kind": "nope"},))
    assert evaluate([rule], message(), ctx()).rule_id is None


# --- the default rules ------------------------------------------------------------------------


def first_match(e: dict[str, Any], c: PushContext | None = None) -> tuple[str | None, Any]:
    result = evaluate(build_ruleset(ME, []), e, c or ctx())
    return result.rule_id, result


@pytest.mark.parametrize(
    ("name", "e", "c", "rule_id", "notify", "highlight", "sound"),
    [
        ("notice", message(msgtype="m.notice"), None,
         ".m.rule.suppress_notices", False, False, None),
        ("invite", event("m.room.member", content={"membership": "invite"}, state_key=ME),
         None, ".m.rule.invite_for_me", True, False, "default"),
        ("other member", event("m.room.member", content={"membership": "join"},
                               state_key=OTHER), None, ".m.rule.member_event", False, False,
         None),
        ("user mention", message(**{"m.mentions": {"user_ids": [ME]}}), None,
         ".m.rule.is_user_mention", True, True, "default"),
        ("room mention", message(**{"m.mentions": {"room": True}}),
         ctx(sender_power_level=50), ".m.rule.is_room_mention", True, True, None),
        ("tombstone", event("m.room.tombstone", state_key="", content={}), None,
         ".m.rule.tombstone", True, True, None),
        ("reaction", event("m.reaction"), None, ".m.rule.reaction", False, False, None),
        ("acl", event("m.room.server_acl", state_key=""), None,
         ".m.rule.room.server_acl", False, False, None),
        ("edit", message(**{"m.relates_to": {"rel_type": "m.replace", "event_id": "$x"}}),
         None, ".m.rule.suppress_edits", False, False, None),
        ("call", event("m.call.invite"), None, ".m.rule.call", True, False, "ring"),
        ("encrypted dm", event("m.room.encrypted"), ctx(room_member_count=2),
         ".m.rule.encrypted_room_one_to_one", True, False, "default"),
        ("dm", message(), ctx(room_member_count=2), ".m.rule.room_one_to_one", True, False,
         "default"),
        ("message", message(), None, ".m.rule.message", True, False, None),
        ("encrypted", event("m.room.encrypted"), None, ".m.rule.encrypted", True, False, None),
        ("other type", event("m.room.name", state_key=""), None, None, False, False, None),
    ],
)
def test_each_default_rule(
    name: str, e: dict, c: PushContext | None, rule_id: str | None,
    notify: bool, highlight: bool, sound: str | None,
) -> None:
    matched, result = first_match(e, c)
    assert matched == rule_id, name
    assert result.notify is notify
    assert result.highlight is highlight
    assert result.tweaks().get("sound") == sound


def test_every_default_rule_is_covered_by_the_table() -> None:
    covered = {
        ".m.rule.master", ".m.rule.suppress_notices", ".m.rule.invite_for_me",
        ".m.rule.member_event", ".m.rule.is_user_mention", ".m.rule.is_room_mention",
        ".m.rule.tombstone", ".m.rule.reaction", ".m.rule.room.server_acl",
        ".m.rule.suppress_edits", ".m.rule.call", ".m.rule.encrypted_room_one_to_one",
        ".m.rule.room_one_to_one", ".m.rule.message", ".m.rule.encrypted",
    }
    assert {r.rule_id for r in default_rules(ME)} == covered
    assert set().union(*DEFAULT_RULE_IDS.values()) == covered


def test_room_mention_needs_the_sender_power() -> None:
    matched, _ = first_match(message(**{"m.mentions": {"room": True}}), ctx(sender_power_level=0))
    assert matched == ".m.rule.message"


def test_master_rule_is_disabled_by_default_and_silences_everything_when_enabled() -> None:
    rules = build_ruleset(ME, [], {("override", ".m.rule.master"): DefaultRuleChange(True)})
    assert rules[0].rule_id == ".m.rule.master"
    assert evaluate(rules, message(**{"m.mentions": {"user_ids": [ME]}}), ctx()).actions == ()
    assert evaluate(rules, message(), ctx()).rule_id == ".m.rule.master"


def test_own_events_never_notify() -> None:
    result = evaluate(build_ruleset(ME, []), event(sender=ME, content={"body": "x"}), ctx())
    assert result.rule_id is None and not result.notify


def test_default_rules_fill_in_the_user_id() -> None:
    (invite,) = [r for r in default_rules(ME) if r.rule_id == ".m.rule.invite_for_me"]
    assert {"kind": "event_match", "key": "state_key", "pattern": ME} in invite.conditions


# --- ruleset order and user rules --------------------------------------------------------


def test_ruleset_order_master_then_user_rules_before_defaults_per_kind() -> None:
    user = [
        PushRule("o1", "override", ()),
        PushRule("c1", "content", ("notify",), pattern="cake"),
        PushRule(ROOM, "room", ()),
        PushRule(OTHER, "sender", ()),
        PushRule("u1", "underride", ()),
    ]
    ids = [r.rule_id for r in build_ruleset(ME, user)]
    assert ids[:3] == [".m.rule.master", "o1", ".m.rule.suppress_notices"]
    assert ids.index("c1") > ids.index(".m.rule.suppress_edits")
    assert ids.index("c1") < ids.index(ROOM) < ids.index(OTHER) < ids.index("u1")
    assert ids.index("u1") < ids.index(".m.rule.call")
    assert list(ruleset_json(build_ruleset(ME, user))) == [
        "override", "content", "room", "sender", "underride"
    ]


def test_spec_example_room_rule_silences_a_room() -> None:
    rule = parse_user_rule("room", "!dj234r78wl45Gh4D:matrix.org", {"actions": []})
    e = message() | {"room_id": "!dj234r78wl45Gh4D:matrix.org"}
    assert evaluate(build_ruleset(ME, [rule]), e, ctx()).rule_id == rule.rule_id
    assert not evaluate(build_ruleset(ME, [rule]), e, ctx()).notify


def test_spec_example_sender_rule_silences_a_spammer() -> None:
    rule = parse_user_rule("sender", "@spambot:matrix.org", {"actions": []})
    e = message() | {"sender": "@spambot:matrix.org"}
    assert not evaluate(build_ruleset(ME, [rule]), e, ctx()).notify


def test_spec_example_content_rule_with_sound() -> None:
    rule = parse_user_rule(
        "content", "SSByZWFsbHkgbGlrZSBjYWtl",
        {"pattern": "cake",
         "actions": ["notify", {"set_tweak": "sound", "value": "cakealarm.wav"}]},
    )
    result = evaluate(build_ruleset(ME, [rule]), message("I like cake!"), ctx())
    assert result.rule_id == rule.rule_id and result.tweaks()["sound"] == "cakealarm.wav"
    assert evaluate(build_ruleset(ME, [rule]), message("cakes"), ctx()).rule_id != rule.rule_id


def test_spec_example_override_beer_in_small_rooms() -> None:
    rule = parse_user_rule("override", "U2VlIHlvdSBpbiBUaGUgRHVrZQ", {
        "conditions": [
            {"kind": "event_match", "key": "content.body", "pattern": "beer"},
            {"kind": "room_member_count", "is": "<=10"},
        ],
        "actions": ["notify", {"set_tweak": "sound", "value": "beeroclock.wav"}],
    })
    rules = build_ruleset(ME, [rule])
    assert evaluate(rules, message("beer?"), ctx(room_member_count=10)).rule_id == rule.rule_id
    assert evaluate(rules, message("beer?"), ctx(room_member_count=11)).rule_id == ".m.rule.message"


def test_changed_default_rule_keeps_its_place_with_new_actions() -> None:
    change = DefaultRuleChange(actions=("notify", {"set_tweak": "highlight"}))
    rules = build_ruleset(ME, [], {("underride", ".m.rule.message"): change})
    result = evaluate(rules, message(), ctx())
    assert result.rule_id == ".m.rule.message" and result.highlight


def test_disabled_rule_does_not_match() -> None:
    rules = build_ruleset(ME, [], {("underride", ".m.rule.message"): DefaultRuleChange(False)})
    assert evaluate(rules, message(), ctx()).rule_id is None


def test_historical_actions_are_ignored() -> None:
    assert parse_actions(["dont_notify"]) == ()
    assert parse_actions(["notify", "coalesce"]) == ("notify",)
    rule = PushRule("x", "override", ("dont_notify",))
    assert evaluate([rule], message(), ctx()).actions == ()


def test_highlight_tweak_without_value_is_true_and_false_value_is_false() -> None:
    on = PushRule("on", "override", ("notify", {"set_tweak": "highlight"}))
    off = PushRule("off", "override", ("notify", {"set_tweak": "highlight", "value": False}))
    assert evaluate([on], message(), ctx()).highlight
    assert not evaluate([off], message(), ctx()).highlight


@pytest.mark.parametrize(
    ("kind", "rule_id", "body", "problem"),
    [
        ("override", ".mine", {"actions": []}, "reserved"),
        ("override", "a/b", {"actions": []}, "'/'"),
        ("override", "a\\b", {"actions": []}, "'/'"),
        ("global", "x", {"actions": []}, "kind"),
        ("override", "x", {}, "actions must be an array"),
        ("override", "x", {"actions": ["bogus"]}, "actions[0]"),
        ("override", "x", {"actions": [], "conditions": [1]}, "conditions"),
        ("content", "x", {"actions": []}, "pattern"),
        ("override", "", {"actions": []}, "empty"),
    ],
)
def test_bad_user_rules_are_refused_naming_the_problem(
    kind: str, rule_id: str, body: dict, problem: str
) -> None:
    with pytest.raises(InvalidPushRule, match=problem.replace("[", r"\[").replace("]", r"\]")):
        parse_user_rule(kind, rule_id, body)


@pytest.mark.parametrize(
    ("pdu", "user_id", "blind"),
    [
        ({"type": "m.room.message", "content": {"body": "hi"}}, ME, True),
        ({"type": "m.room.member", "state_key": ME, "content": {}}, ME, False),
        ({"type": "m.room.member", "state_key": ME.upper(), "content": {}}, ME, False),
        ({"type": "m.room.message", "content": {"m.mentions": {"user_ids": [ME]}}}, ME, False),
        ({"type": "m.room.message", "content": {"m.mentions": {"user_ids": ["@x:y"]}}}, ME,
         True),
        ({"type": "m.room.message", "content": {}}, "@a*:example.org", False),
    ],
)
def test_defaults_are_blind_only_to_users_the_event_does_not_name(
    pdu: dict, user_id: str, blind: bool
) -> None:
    assert defaults_blind_to(pdu, user_id) is blind


def test_blind_users_get_the_same_default_result_as_any_other() -> None:
    # The claim defaults_blind_to makes: for events naming neither user, two users
    # on the default rules evaluate alike.
    events = [
        event(type="m.room.member", state_key="@other:example.org",
              content={"membership": "invite"}),
        event(content={"body": "hi", "m.mentions": {"user_ids": ["@other:example.org"]}}),
        event(content={"body": "x", "msgtype": "m.notice"}),
    ]
    for e in events:
        results = {
            evaluate(build_ruleset(u, []), e, ctx(user_id=u)).actions
            for u in (ME, "@someone:example.org")
            if defaults_blind_to(e, u)
        }
        assert len(results) == 1


def test_a_rulesets_conditions_are_read_once_not_per_event(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A ruleset is evaluated for every event; its conditions are checked for shape
    # and made ready the first time only.
    compiled: list[Any] = []
    original = push_rules.compile_condition
    monkeypatch.setattr(
        push_rules, "compile_condition", lambda c: compiled.append(c) or original(c)
    )
    rules = build_ruleset(ME, [])
    first = evaluate(rules, message("one"), ctx())
    after_first = len(compiled)
    assert after_first > 0
    for n in range(10):
        assert evaluate(rules, message(f"again {n}"), ctx()) == first
    assert len(compiled) == after_first
