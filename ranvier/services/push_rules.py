"""Users' push rules (client-server API "Push Rules: API", pushrules.yaml): reading the
ruleset, adding, moving, enabling and removing rules, and the "push_rules" stream that
/sync renders as `m.push_rules` global account data.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Collection
from dataclasses import replace
from typing import Any, NamedTuple

from ranvier.errors import MatrixError
from ranvier.notifier import Notifier
from ranvier.protocol.push_rules import (
    DEFAULT_RULE_IDS,
    KINDS,
    DefaultRuleChange,
    InvalidPushRule,
    PushRule,
    build_ruleset,
    check_rule_id,
    parse_actions,
    parse_user_rule,
    ruleset_json,
)
from ranvier.storage.lru import LruCache
from ranvier.storage.push_rules import PushRulesStore, UserPushRules

PUSH_RULES_STREAM = "push_rules"
#: Users whose built ruleset is kept (a ruleset is about 15 shared default rules).
RULESET_CACHE_SIZE = 10_000


class Ruleset(NamedTuple):
    """A user's rules in evaluation order; `defaults_only` when the user changed none
    (then evaluation may share results between users, `defaults_blind_to`)."""

    rules: list[PushRule]
    defaults_only: bool


class PushRulesService:
    def __init__(self, store: PushRulesStore, notifier: Notifier) -> None:
        self._store = store
        self._notifier = notifier
        # Each change reads, edits and writes the user's whole document: one at a time.
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        # (position, user) committed but not announced yet: the stream only advances
        # over positions with no uncommitted change below them.
        self._unannounced: list[tuple[int, str]] = []
        # Built rulesets, dropped on every change (this service makes all of them);
        # bumped around each write so a read racing it does not cache stale rules.
        self._cache: LruCache[str, Ruleset] = LruCache(RULESET_CACHE_SIZE)
        self._generation = 0

    @property
    def generation(self) -> int:
        """Changes whenever anyone's rules change: what is derived from rulesets (who
        is on the server-default rules) is stale once it moves."""
        return self._generation

    # --- reading ---------------------------------------------------------------------

    async def rules_for_user(self, user_id: str) -> list[PushRule]:
        """The user's whole ruleset in evaluation order."""
        return (await self.rulesets_for_users([user_id]))[user_id].rules

    async def rulesets_for_users(self, user_ids: Collection[str]) -> dict[str, Ruleset]:
        """Each user's ruleset, from the cache or else all missing ones in one read
        (push evaluation asks for every member of a room at once)."""
        found, missing = self._cache.get_many(user_ids)
        if missing:
            generation = self._generation
            for user_id, stored in (await self._store.get_many(missing)).items():
                ruleset = Ruleset(
                    build_ruleset(user_id, stored.rules, stored.default_changes),
                    defaults_only=not (stored.rules or stored.default_changes),
                )
                found[user_id] = ruleset
                # A change saved while we read may be newer than what we read.
                if generation == self._generation:
                    self._cache.set(user_id, ruleset)
        return found

    async def ruleset_json(self, user_id: str) -> dict[str, Any]:
        """`{"global": {...}}`: GET /pushrules/ and the m.push_rules content."""
        return {"global": ruleset_json(await self.rules_for_user(user_id))}

    async def changes_for_sync(
        self, user_id: str, from_pos: int | None, to_pos: int
    ) -> dict[str, Any] | None:
        """The m.push_rules account data event when the user's rules changed in
        (from_pos, to_pos]; an initial sync (from_pos None) always gets it."""
        if from_pos is not None and not await self._store.changed_between(
            user_id, from_pos, to_pos
        ):
            return None
        return {"type": "m.push_rules", "content": await self.ruleset_json(user_id)}

    @property
    def current_position(self) -> int:
        return self._store.stream.current

    async def get_rule(self, user_id: str, kind: str, rule_id: str) -> PushRule:
        _check_kind(kind)
        for rule in await self.rules_for_user(user_id):
            if rule.kind == kind and rule.rule_id == rule_id:
                return rule
        raise MatrixError(404, "M_NOT_FOUND", f"no {kind} push rule {rule_id!r}")

    # --- changing ---------------------------------------------------------------------

    async def put_rule(
        self,
        user_id: str,
        kind: str,
        rule_id: str,
        body: dict[str, Any],
        before: str | None = None,
        after: str | None = None,
    ) -> None:
        """Add or replace one of the user's rules. A new rule goes first among the
        user's rules of its kind unless `before`/`after` names one (`before` wins)."""
        _check_kind(kind)
        try:
            check_rule_id(kind, rule_id)
        except InvalidPushRule as e:
            raise MatrixError(400, "M_INVALID_PARAM", str(e)) from e
        try:
            rule = parse_user_rule(kind, rule_id, body)
        except InvalidPushRule as e:
            raise MatrixError(400, "M_BAD_JSON", str(e)) from e
        async with self._locks[user_id]:
            stored = await self._store.get(user_id)
            rules = list(stored.rules)
            existing = _index(rules, kind, rule_id)
            if existing is not None:
                rule = replace(rule, enabled=rules[existing].enabled)
                del rules[existing]
            anchor = before if before is not None else after
            if anchor is not None:
                position = _index(rules, kind, anchor)
                if position is None:
                    raise MatrixError(400, "M_UNKNOWN", f"before/after rule not found: {anchor}")
                rules.insert(position if before is not None else position + 1, rule)
            elif existing is not None:
                rules.insert(existing, rule)
            else:
                first = next((i for i, r in enumerate(rules) if r.kind == kind), len(rules))
                rules.insert(first, rule)
            await self._save(user_id, replace(stored, rules=rules))

    async def delete_rule(self, user_id: str, kind: str, rule_id: str) -> None:
        _check_kind(kind)
        if rule_id in DEFAULT_RULE_IDS[kind]:
            raise MatrixError(
                400, "M_INVALID_PARAM", f"server-default rule {rule_id} cannot be deleted"
            )
        async with self._locks[user_id]:
            stored = await self._store.get(user_id)
            position = _index(stored.rules, kind, rule_id)
            if position is None:
                raise MatrixError(404, "M_NOT_FOUND", f"no {kind} push rule {rule_id!r}")
            rules = [r for i, r in enumerate(stored.rules) if i != position]
            await self._save(user_id, replace(stored, rules=rules))

    async def set_enabled(self, user_id: str, kind: str, rule_id: str, enabled: Any) -> None:
        if not isinstance(enabled, bool):
            raise MatrixError(400, "M_BAD_JSON", "enabled must be a boolean")
        await self._change(user_id, kind, rule_id, enabled=enabled)

    async def set_actions(self, user_id: str, kind: str, rule_id: str, actions: Any) -> None:
        try:
            parsed = parse_actions(actions)
        except InvalidPushRule as e:
            raise MatrixError(400, "M_BAD_JSON", str(e)) from e
        await self._change(user_id, kind, rule_id, actions=parsed)

    async def _change(
        self,
        user_id: str,
        kind: str,
        rule_id: str,
        *,
        enabled: bool | None = None,
        actions: tuple[Any, ...] | None = None,
    ) -> None:
        """Change `enabled` or `actions` of a user rule or a server-default rule."""
        _check_kind(kind)
        async with self._locks[user_id]:
            stored = await self._store.get(user_id)
            if rule_id in DEFAULT_RULE_IDS[kind]:
                old = stored.default_changes.get((kind, rule_id), DefaultRuleChange())
                change = DefaultRuleChange(
                    old.enabled if enabled is None else enabled,
                    old.actions if actions is None else actions,
                )
                changes = {**stored.default_changes, (kind, rule_id): change}
                await self._save(user_id, replace(stored, default_changes=changes))
                return
            position = _index(stored.rules, kind, rule_id)
            if position is None:
                raise MatrixError(404, "M_NOT_FOUND", f"no {kind} push rule {rule_id!r}")
            rules = list(stored.rules)
            rule = rules[position]
            rules[position] = replace(
                rule,
                enabled=rule.enabled if enabled is None else enabled,
                actions=rule.actions if actions is None else actions,
            )
            await self._save(user_id, replace(stored, rules=rules))

    async def _save(self, user_id: str, rules: UserPushRules) -> None:
        self._generation += 1
        self._cache.pop(user_id)
        position = await self._store.put(user_id, rules)
        self._generation += 1
        self._cache.pop(user_id)
        self._unannounced.append((position, user_id))
        current = self._store.stream.current
        ready = [user for position, user in self._unannounced if position <= current]
        self._unannounced = [u for u in self._unannounced if u[0] > current]
        if ready:
            self._notifier.notify(PUSH_RULES_STREAM, current, users=ready)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise MatrixError(400, "M_INVALID_PARAM", f"unknown push rule kind {kind!r}")


def _index(rules: list[PushRule], kind: str, rule_id: str) -> int | None:
    return next(
        (i for i, r in enumerate(rules) if r.kind == kind and r.rule_id == rule_id), None
    )
