"""Push rules (client-server API "Push Notifications", modules/push.md): the server-default
rule set of v1.19, a user's rules merged with it, condition matching, and evaluating a
ruleset for one event to the actions that apply.

Pure: the caller supplies what the conditions read from the room (member count, the
sender's power level, the notification levels, the user's display name) in a
`PushContext`.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from matrix_common.regex import glob_to_regex

#: The kinds in the order they are checked (push.md "Push Rules").
KINDS = ("override", "content", "room", "sender", "underride")
#: Kinds whose rules carry their own conditions.
CONDITION_KINDS = frozenset({"override", "underride"})
#: Actions that older versions defined and that MUST be ignored ("Historical Actions").
HISTORICAL_ACTIONS = frozenset({"dont_notify", "coalesce"})
#: The default required power level of each notification type (m.room.power_levels).
DEFAULT_NOTIFICATION_LEVELS: Mapping[str, int] = {"room": 50}

_MAX_SAFE_INT = 2**53 - 1
_MEMBER_COUNT_RE = re.compile(r"^(==|<=|>=|<|>)?([0-9]+)$")
USER_ID_PLACEHOLDER = "[the user's Matrix ID]"


class InvalidPushRule(ValueError):
    """A client-supplied rule is malformed; the message names the problem."""


@dataclass(frozen=True)
class PushRule:
    rule_id: str
    kind: str
    actions: tuple[Any, ...]
    default: bool = False
    enabled: bool = True
    #: override/underride only
    conditions: tuple[Mapping[str, Any], ...] = ()
    #: content only
    pattern: str | None = None

    @functools.cached_property
    def effective_actions(self) -> tuple[Any, ...]:
        """The actions without the historical ones, which must be ignored."""
        return tuple(a for a in self.actions if not _is_historical(a))

    @functools.cached_property
    def matchers(self) -> tuple[Matcher, ...]:
        """The conditions, compiled once per rule (a ruleset is cached per user)."""
        return tuple(compile_condition(c) for c in self.conditions)

    def to_json(self) -> dict[str, Any]:
        """The spec's PushRule object."""
        out: dict[str, Any] = {
            "rule_id": self.rule_id,
            "default": self.default,
            "enabled": self.enabled,
            "actions": list(self.actions),
        }
        if self.kind in CONDITION_KINDS:
            out["conditions"] = [dict(c) for c in self.conditions]
        if self.kind == "content":
            out["pattern"] = self.pattern
        return out


@dataclass(frozen=True)
class PushContext:
    """What conditions read beyond the event itself, as seen by one user."""

    user_id: str
    room_member_count: int
    #: a float only for a v12 room creator's infinite power
    sender_power_level: int | float
    #: the room's `notifications` levels (DEFAULT_NOTIFICATION_LEVELS when unset)
    notification_levels: Mapping[str, int] = field(
        default_factory=lambda: dict(DEFAULT_NOTIFICATION_LEVELS)
    )
    display_name: str | None = None


@dataclass(frozen=True)
class Evaluation:
    """The outcome of a ruleset for one event."""

    rule_id: str | None
    actions: tuple[Any, ...]

    # Cached: members sharing one evaluation read it once each (1,000 in a large room).
    @functools.cached_property
    def notify(self) -> bool:
        return "notify" in self.actions

    @functools.cached_property
    def highlight(self) -> bool:
        return bool(self.tweaks().get("highlight", False))

    def tweaks(self) -> dict[str, Any]:
        """`set_tweak` actions as a dict; `highlight` without a value means true."""
        tweaks: dict[str, Any] = {}
        for action in self.actions:
            if isinstance(action, Mapping) and isinstance(action.get("set_tweak"), str):
                name = action["set_tweak"]
                tweaks[name] = action.get("value", True if name == "highlight" else None)
        return tweaks


# --- the server-default rules (push.md "Predefined Rules") ------------------------------

_SOUND_DEFAULT = {"set_tweak": "sound", "value": "default"}
_HIGHLIGHT = {"set_tweak": "highlight"}


def _match(key: str, pattern: str) -> dict[str, str]:
    return {"kind": "event_match", "key": key, "pattern": pattern}


def _rule(
    kind: str,
    rule_id: str,
    conditions: list[dict[str, Any]],
    actions: list[Any],
    enabled: bool = True,
) -> PushRule:
    return PushRule(
        rule_id, kind, tuple(actions), default=True, enabled=enabled,
        conditions=tuple(conditions),
    )


#: `.m.rule.master`, which outranks every other rule, even the user's own overrides.
MASTER_RULE = _rule("override", ".m.rule.master", [], [], enabled=False)

#: The other default override rules, highest priority first. Conditions holding the
#: user's ID use USER_ID_PLACEHOLDER, filled in by `default_rules`.
_DEFAULT_OVERRIDE = (
    _rule("override", ".m.rule.suppress_notices", [_match("content.msgtype", "m.notice")], []),
    _rule(
        "override", ".m.rule.invite_for_me",
        [_match("type", "m.room.member"), _match("content.membership", "invite"),
         _match("state_key", USER_ID_PLACEHOLDER)],
        ["notify", _SOUND_DEFAULT],
    ),
    _rule("override", ".m.rule.member_event", [_match("type", "m.room.member")], []),
    _rule(
        "override", ".m.rule.is_user_mention",
        [{"kind": "event_property_contains", "key": "content.m\\.mentions.user_ids",
          "value": USER_ID_PLACEHOLDER}],
        ["notify", _SOUND_DEFAULT, _HIGHLIGHT],
    ),
    _rule(
        "override", ".m.rule.is_room_mention",
        [{"kind": "event_property_is", "key": "content.m\\.mentions.room", "value": True},
         {"kind": "sender_notification_permission", "key": "room"}],
        ["notify", _HIGHLIGHT],
    ),
    _rule(
        "override", ".m.rule.tombstone",
        [_match("type", "m.room.tombstone"), _match("state_key", "")],
        ["notify", _HIGHLIGHT],
    ),
    _rule("override", ".m.rule.reaction", [_match("type", "m.reaction")], []),
    _rule(
        "override", ".m.rule.room.server_acl",
        [_match("type", "m.room.server_acl"), _match("state_key", "")],
        [],
    ),
    _rule(
        "override", ".m.rule.suppress_edits",
        [{"kind": "event_property_is", "key": "content.m\\.relates_to.rel_type",
          "value": "m.replace"}],
        [],
    ),
)

#: The default underride rules, highest priority first. (v1.17 removed the legacy
#: content rules and the display-name / @room body rules, so there are no default
#: content rules.)
_DEFAULT_UNDERRIDE = (
    _rule("underride", ".m.rule.call", [_match("type", "m.call.invite")],
          ["notify", {"set_tweak": "sound", "value": "ring"}]),
    _rule(
        "underride", ".m.rule.encrypted_room_one_to_one",
        [{"kind": "room_member_count", "is": "2"}, _match("type", "m.room.encrypted")],
        ["notify", _SOUND_DEFAULT],
    ),
    _rule(
        "underride", ".m.rule.room_one_to_one",
        [{"kind": "room_member_count", "is": "2"}, _match("type", "m.room.message")],
        ["notify", _SOUND_DEFAULT],
    ),
    _rule("underride", ".m.rule.message", [_match("type", "m.room.message")], ["notify"]),
    _rule("underride", ".m.rule.encrypted", [_match("type", "m.room.encrypted")], ["notify"]),
)

DEFAULT_RULE_IDS: Mapping[str, frozenset[str]] = {
    "override": frozenset(r.rule_id for r in (MASTER_RULE, *_DEFAULT_OVERRIDE)),
    "content": frozenset(),
    "room": frozenset(),
    "sender": frozenset(),
    "underride": frozenset(r.rule_id for r in _DEFAULT_UNDERRIDE),
}


def _names_user(rule: PushRule) -> bool:
    return any(USER_ID_PLACEHOLDER in c.values() for c in rule.conditions)


def _for_user(rule: PushRule, user_id: str) -> PushRule:
    if not _names_user(rule):
        return rule  # frozen and user-independent: shared by every user's ruleset
    conditions = tuple(
        {k: (user_id if v == USER_ID_PLACEHOLDER else v) for k, v in c.items()}
        for c in rule.conditions
    )
    return replace(rule, conditions=conditions)


def default_rules(user_id: str) -> list[PushRule]:
    """Every server-default rule for `user_id`, master first."""
    return [_for_user(r, user_id) for r in (MASTER_RULE, *_DEFAULT_OVERRIDE, *_DEFAULT_UNDERRIDE)]


# --- a user's ruleset ---------------------------------------------------------------------


@dataclass(frozen=True)
class DefaultRuleChange:
    """A user's change to a server-default rule (only `enabled` and `actions` may change)."""

    enabled: bool | None = None
    actions: tuple[Any, ...] | None = None


def build_ruleset(
    user_id: str,
    user_rules: Iterable[PushRule],
    default_changes: Mapping[tuple[str, str], DefaultRuleChange] | None = None,
) -> list[PushRule]:
    """All of a user's rules in evaluation order: the master rule, the user's overrides,
    the other default overrides, then per kind the user's rules before the defaults.
    `user_rules` are in priority order within each kind; `default_changes` is keyed by
    (kind, rule_id)."""
    changes = default_changes or {}

    def changed(rule: PushRule) -> PushRule:
        change = changes.get((rule.kind, rule.rule_id))
        if change is None:
            return rule
        return replace(
            rule,
            enabled=rule.enabled if change.enabled is None else change.enabled,
            actions=rule.actions if change.actions is None else change.actions,
        )

    by_kind: dict[str, list[PushRule]] = {kind: [] for kind in KINDS}
    for rule in user_rules:
        by_kind[rule.kind].append(rule)
    defaults = [changed(r) for r in default_rules(user_id)]
    master, *rest = defaults
    default_by_kind: dict[str, list[PushRule]] = {kind: [] for kind in KINDS}
    for rule in rest:
        default_by_kind[rule.kind].append(rule)
    ordered = [master]
    for kind in KINDS:
        ordered.extend(by_kind[kind])
        ordered.extend(default_by_kind[kind])
    return ordered


def ruleset_json(rules: Iterable[PushRule]) -> dict[str, Any]:
    """The `global` ruleset object (GET /pushrules/, m.push_rules account data)."""
    out: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    for rule in rules:
        out[rule.kind].append(rule.to_json())
    return out


# --- parsing a client's rule --------------------------------------------------------------


def check_rule_id(kind: str, rule_id: str) -> None:
    """A rule ID a user may create (push.md / pushrules.yaml `ruleId`)."""
    if kind not in KINDS:
        raise InvalidPushRule(f"unknown rule kind {kind!r}")
    if not rule_id:
        raise InvalidPushRule("the rule ID must not be empty")
    if rule_id.startswith("."):
        raise InvalidPushRule("rule IDs starting with '.' are reserved for server-default rules")
    if "/" in rule_id or "\\" in rule_id:
        raise InvalidPushRule("rule IDs may not contain '/' or '\\'")


def _is_historical(action: Any) -> bool:
    return isinstance(action, str) and action in HISTORICAL_ACTIONS


def parse_actions(actions: Any) -> tuple[Any, ...]:
    """Validate a client's actions; the historical ones are dropped."""
    if not isinstance(actions, list):
        raise InvalidPushRule("actions must be an array")
    parsed: list[Any] = []
    for i, action in enumerate(actions):
        if _is_historical(action):
            continue
        if action != "notify" and not (
            isinstance(action, dict) and isinstance(action.get("set_tweak"), str)
        ):
            raise InvalidPushRule(f"actions[{i}] is not a known action: {action!r}")
        parsed.append(action)
    return tuple(parsed)


def parse_user_rule(kind: str, rule_id: str, body: Mapping[str, Any]) -> PushRule:
    """The rule a client PUTs at /pushrules/global/{kind}/{ruleId}."""
    check_rule_id(kind, rule_id)
    actions = parse_actions(body.get("actions"))
    conditions: tuple[Mapping[str, Any], ...] = ()
    pattern = None
    if kind in CONDITION_KINDS:
        raw = body.get("conditions", [])
        if not isinstance(raw, list) or not all(
            isinstance(c, dict) and isinstance(c.get("kind"), str) for c in raw
        ):
            raise InvalidPushRule("conditions must be an array of objects with a string 'kind'")
        conditions = tuple(raw)
    elif kind == "content":
        pattern = body.get("pattern")
        if not isinstance(pattern, str):
            raise InvalidPushRule("content rules need a string 'pattern'")
    return PushRule(rule_id, kind, actions, conditions=conditions, pattern=pattern)


# --- matching -----------------------------------------------------------------------------


def split_property_path(key: str) -> list[str]:
    """`content.m\\.relates_to` -> ["content", "m.relates_to"] (appendices "Dot-separated
    property paths": `\\.` is a dot, `\\\\` a backslash, other escapes stay as they are)."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(key):
        c = key[i]
        if c == "\\" and i + 1 < len(key) and key[i + 1] in ".\\":
            current.append(key[i + 1])
            i += 2
            continue
        if c == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    parts.append("".join(current))
    return parts


@functools.lru_cache(maxsize=1024)
def _path(key: str) -> tuple[str, ...]:
    # Rules hold few distinct keys and are checked for every member of a room.
    return tuple(split_property_path(key))


_ABSENT = object()


def lookup_property(event: Mapping[str, Any], key: str) -> Any:
    """The value at a dot-separated path, or `_ABSENT`."""
    return _lookup(event, _path(key))


def _lookup(event: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = event
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return _ABSENT
        value = value[part]
    return value


@functools.lru_cache(maxsize=1024)
def _glob(pattern: str, word_boundary: bool) -> re.Pattern[str]:
    return glob_to_regex(pattern, word_boundary=word_boundary, ignore_case=True)


def glob_matches(pattern: str, value: str, *, word_boundary: bool = False) -> bool:
    return _glob(pattern, word_boundary).search(value) is not None


def _is_simple_value(value: Any) -> bool:
    """The non-compound canonical JSON values event_property_* compare."""
    if value is None or isinstance(value, (str, bool)):
        return True
    return isinstance(value, int) and -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT


def _same(a: Any, b: Any) -> bool:
    # True == 1 in Python; the spec says "do not cast types".
    return type(a) is type(b) and a == b


def _member_count_matcher(spec: Any) -> Matcher:
    if not isinstance(spec, str):
        return _never
    m = _MEMBER_COUNT_RE.match(spec)
    if m is None:
        return _never
    compare = _COMPARISONS[m[1] or "=="]
    n = int(m[2])
    return lambda event, ctx: compare(ctx.room_member_count, n)


_COMPARISONS: Mapping[str, Callable[[int, int], bool]] = {
    "==": operator.eq, "<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge,
}


def _contains_display_name(event: Mapping[str, Any], display_name: str | None) -> bool:
    body = lookup_property(event, "content.body")
    if not display_name or not isinstance(body, str):
        return False
    # The whole name, as words: "Al" must not match in "Alice".
    pattern = re.compile(r"(^|\W)" + re.escape(display_name) + r"(\W|$)", re.IGNORECASE)
    return pattern.search(body) is not None


#: A condition made ready to check: (event, context) -> whether it holds.
Matcher = Callable[[Mapping[str, Any], PushContext], bool]


def _never(event: Mapping[str, Any], ctx: PushContext) -> bool:
    return False


def compile_condition(condition: Mapping[str, Any]) -> Matcher:
    """`condition` checked once for shape, so that matching it against each event is a
    property lookup and a comparison; unknown or malformed conditions never match."""
    kind = condition.get("kind")
    if kind == "event_match":
        key, pattern = condition.get("key"), condition.get("pattern")
        if not isinstance(key, str) or not isinstance(pattern, str):
            return _never
        path, regex = _path(key), _glob(pattern, key == "content.body")

        def event_match(event: Mapping[str, Any], ctx: PushContext) -> bool:
            value = _lookup(event, path)
            return isinstance(value, str) and regex.search(value) is not None

        return event_match
    if kind in ("event_property_is", "event_property_contains"):
        key, wanted = condition.get("key"), condition.get("value", _ABSENT)
        if not isinstance(key, str) or wanted is _ABSENT or not _is_simple_value(wanted):
            return _never
        path = _path(key)
        if kind == "event_property_is":
            return lambda event, ctx: _same(_lookup(event, path), wanted)

        def contains(event: Mapping[str, Any], ctx: PushContext) -> bool:
            value = _lookup(event, path)
            return isinstance(value, list) and any(_same(v, wanted) for v in value)

        return contains
    if kind == "contains_display_name":
        return lambda event, ctx: _contains_display_name(event, ctx.display_name)
    if kind == "room_member_count":
        return _member_count_matcher(condition.get("is"))
    if kind == "sender_notification_permission":
        key = condition.get("key")
        if not isinstance(key, str):
            return _never
        default = DEFAULT_NOTIFICATION_LEVELS.get(key, 50)
        return lambda event, ctx: (
            ctx.sender_power_level >= ctx.notification_levels.get(key, default)
        )
    return _never


def condition_matches(
    condition: Mapping[str, Any], event: Mapping[str, Any], ctx: PushContext
) -> bool:
    """Whether one condition holds; unknown or malformed conditions never match."""
    return compile_condition(condition)(event, ctx)


def rule_matches(rule: PushRule, event: Mapping[str, Any], ctx: PushContext) -> bool:
    if not rule.enabled:
        return False
    if rule.kind in CONDITION_KINDS:
        # A loop, not all() over a generator: half the cost of evaluating a ruleset,
        # which runs for every event.
        for matches in rule.matchers:  # noqa: SIM110
            if not matches(event, ctx):
                return False
        return True
    if rule.kind == "content":
        body = lookup_property(event, "content.body")
        return (
            rule.pattern is not None
            and isinstance(body, str)
            and glob_matches(rule.pattern, body, word_boundary=True)
        )
    if rule.kind == "room":
        return event.get("room_id") == rule.rule_id
    if rule.kind == "sender":
        return event.get("sender") == rule.rule_id
    return False


_GLOB_CHARS = frozenset("*?[")


def defaults_blind_to(event: Mapping[str, Any], user_id: str) -> bool:
    """Whether the server-default rules, unchanged, give `user_id` the same result for
    this event as any other such user: the only default conditions that read the user
    ID are `.m.rule.invite_for_me` (a case-insensitive glob on `state_key`) and
    `.m.rule.is_user_mention` (`content.m.mentions.user_ids`), so it holds for a user the
    event does not name (`named_by`). (No default rule reads the display name since
    v1.17.)"""
    state_key, mentioned = named_by(event)
    return globless(user_id) and user_id.lower() != state_key and user_id not in mentioned


def globless(user_id: str) -> bool:
    """No glob characters: a historical ID with some, as `.m.rule.invite_for_me`'s
    pattern, could match other users' state keys."""
    return _GLOB_CHARS.isdisjoint(user_id)


def named_by(event: Mapping[str, Any]) -> tuple[str | None, frozenset[str]]:
    """The users the default rules single out in an event: its state key, lower-cased,
    and the user IDs in `content.m.mentions.user_ids`."""
    state_key = event.get("state_key")
    mentioned = lookup_property(event, "content.m\\.mentions.user_ids")
    return (
        state_key.lower() if isinstance(state_key, str) else None,
        frozenset(u for u in mentioned if isinstance(u, str))
        if isinstance(mentioned, list) else frozenset(),
    )


def evaluate(
    rules: Sequence[PushRule], event: Mapping[str, Any], ctx: PushContext
) -> Evaluation:
    """The first matching rule's actions (rules in evaluation order, `build_ruleset`).
    The user's own events never notify."""
    if event.get("sender") == ctx.user_id:
        return Evaluation(None, ())
    for rule in rules:
        if rule_matches(rule, event, ctx):
            return Evaluation(rule.rule_id, rule.effective_actions)
    return Evaluation(None, ())
