"""Users' push rules: one JSON document per user, and the "push_rules" stream."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from ranvier.protocol.push_rules import DefaultRuleChange, PushRule
from ranvier.storage.database import Database
from ranvier.storage.stream_ids import StreamIdGenerator

#: Users per query (SQLite allows 32,766 parameters; keep statements small).
_CHUNK = 500


@dataclass(frozen=True)
class UserPushRules:
    """What a user changed: their own rules (priority order within each kind) and their
    changes to server-default rules, keyed by (kind, rule_id)."""

    rules: list[PushRule] = field(default_factory=list)
    default_changes: dict[tuple[str, str], DefaultRuleChange] = field(default_factory=dict)


class PushRulesStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self.stream = StreamIdGenerator(0)

    async def start(self) -> None:
        self.stream = await StreamIdGenerator.load(self._db, "push_rules", "stream_id")

    async def get(self, user_id: str) -> UserPushRules:
        raw = await self._db.fetchval("SELECT rules FROM push_rules WHERE user_id = ?", user_id)
        return UserPushRules() if raw is None else _decode(orjson.loads(raw))

    async def get_many(self, user_ids: Collection[str]) -> dict[str, UserPushRules]:
        """Each user's rules (empty for users who changed none), in few queries."""
        found = {user_id: UserPushRules() for user_id in user_ids}
        ids = list(found)
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            rows = await self._db.fetchall(
                "SELECT user_id, rules FROM push_rules"
                f" WHERE user_id IN ({','.join('?' * len(chunk))})",
                *chunk,
            )
            for user_id, raw in rows:
                found[user_id] = _decode(orjson.loads(raw))
        return found

    async def put(self, user_id: str, rules: UserPushRules) -> int:
        """Replace the user's rules; returns the change's stream position."""
        async with self._db.transaction() as conn:
            with self.stream.allocate(1) as (stream_id,):
                await conn.execute(
                    "INSERT INTO push_rules (user_id, rules, stream_id) VALUES (?, ?, ?)"
                    " ON CONFLICT (user_id) DO UPDATE SET rules = excluded.rules,"
                    " stream_id = excluded.stream_id",
                    user_id,
                    orjson.dumps(_encode(rules)).decode(),
                    stream_id,
                )
        return stream_id

    async def changed_between(self, user_id: str, from_pos: int, to_pos: int) -> bool:
        """Whether the user's rules changed at a position in (from_pos, to_pos]."""
        if from_pos >= to_pos:  # the stream has not moved
            return False
        value = await self._db.fetchval(
            "SELECT 1 FROM push_rules WHERE user_id = ? AND stream_id > ? AND stream_id <= ?",
            user_id,
            from_pos,
            to_pos,
        )
        return value is not None


def _encode(rules: UserPushRules) -> dict[str, Any]:
    return {
        "rules": [{"kind": r.kind, **r.to_json()} for r in rules.rules],
        "defaults": [
            {"kind": kind, "rule_id": rule_id, "enabled": c.enabled,
             "actions": None if c.actions is None else list(c.actions)}
            for (kind, rule_id), c in rules.default_changes.items()
        ],
    }


def _decode(doc: Mapping[str, Any]) -> UserPushRules:
    rules = [
        PushRule(
            r["rule_id"], r["kind"], tuple(r["actions"]), enabled=r["enabled"],
            conditions=tuple(r.get("conditions", ())), pattern=r.get("pattern"),
        )
        for r in doc["rules"]
    ]
    changes = {
        (d["kind"], d["rule_id"]): DefaultRuleChange(
            d["enabled"], None if d["actions"] is None else tuple(d["actions"])
        )
        for d in doc["defaults"]
    }
    return UserPushRules(rules, changes)
