"""Terse rooms and events for the authorization rule tests.

`Room(version)` starts as a room whose creator has created it, joined it, set the
standard power levels and an `invite` join rule; tests add or replace state and
then check one candidate event against it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, TypeVar

from ranvier.protocol.auth_rules import check_auth_rules
from ranvier.protocol.events import Event, StateKey
from ranvier.protocol.room_versions import KNOWN_ROOM_VERSIONS, EventFormat, RoomVersion

ALL_VERSIONS = [str(n) for n in range(1, 13)]

CREATOR = "@creator:a.test"
ALICE = "@alice:a.test"
BOB = "@bob:b.test"
CAROL = "@carol:c.test"

F = TypeVar("F", bound=Callable[..., Any])


def versions(
    first: int = 1, last: int = 12, where: Callable[[RoomVersion], bool] | None = None
) -> list[str]:
    """Room version identifiers from `first` to `last` for which `where` holds."""
    return [
        str(n)
        for n in range(first, last + 1)
        if where is None or where(KNOWN_ROOM_VERSIONS[str(n)])
    ]


def covers(*rules: str) -> Callable[[F], F]:
    """Declare which auth rules (ids of tests/protocol/auth_rules_catalogue.py) a test
    proves, for each room version it is parametrized with (`version`). The doc generator
    gen_auth_rules_table.py reads this."""

    def mark(test: F) -> F:
        test.auth_rules = rules  # type: ignore[attr-defined]
        return test

    return mark


_ids = itertools.count(1)


def standard_power_levels(version: RoomVersion, creator: str = CREATOR) -> dict[str, Any]:
    users = {} if version.room_id_from_create_event else {creator: 100}
    return {
        "ban": 50,
        "kick": 50,
        "redact": 50,
        "invite": 0,
        "events_default": 0,
        "state_default": 50,
        "users_default": 0,
        "events": {},
        "users": users,
    }


class Room:
    def __init__(
        self,
        version: str,
        *,
        creator: str = CREATOR,
        create_content: dict[str, Any] | None = None,
        power_levels: bool = True,
        join_rule: str | None = "invite",
    ) -> None:
        self.version = KNOWN_ROOM_VERSIONS[version]
        self.creator = creator
        self.state: dict[StateKey, Event] = {}
        content = {"room_version": version} if create_content is None else create_content
        if not self.version.implicit_room_creator and create_content is None:
            content["creator"] = creator
        self.room_id = f"!room:{creator.split(':', 1)[1]}"
        self.create = self.add(
            self.event("m.room.create", creator, content, state_key="", prev_events=[])
        )
        if self.version.room_id_from_create_event:
            self.room_id = "!" + self.create.event_id[1:]
            del self.create.pdu["room_id"]
        self.add(self.event("m.room.member", creator, {"membership": "join"}, state_key=creator))
        if power_levels:
            self.set_power_levels(standard_power_levels(self.version, creator))
        if join_rule is not None:
            self.add(self.event("m.room.join_rules", creator, {"join_rule": join_rule}, ""))

    # --- building events ------------------------------------------------------------

    def new_event_id(self, sender: str) -> str:
        n = next(_ids)
        if self.version.event_format is EventFormat.V1:
            return f"$e{n}:{sender.split(':', 1)[1]}"
        return "$" + f"{n:043d}"  # 43 characters, the length of a reference hash

    def event(
        self,
        type: str,
        sender: str,
        content: dict[str, Any] | None = None,
        state_key: str | None = None,
        *,
        prev_events: list[str] | None = None,
        event_id: str | None = None,
        **fields: Any,
    ) -> Event:
        event_id = event_id or self.new_event_id(sender)
        prevs = [self.create.event_id] if prev_events is None else prev_events
        pdu: dict[str, Any] = {
            "type": type,
            "sender": sender,
            "room_id": self.room_id,
            "content": {} if content is None else content,
            "prev_events": self._refs(prevs),
            "auth_events": [],
            "depth": 2,
            "origin_server_ts": 0,
        }
        if state_key is not None:
            pdu["state_key"] = state_key
        if self.version.uses_event_id_field:
            pdu["event_id"] = event_id
        pdu.update(fields)
        return Event(pdu, self.version, event_id=event_id)

    def _refs(self, ids: list[str]) -> list[Any]:
        if self.version.event_format is EventFormat.V1:
            return [[event_id, {"sha256": "aGFzaA"}] for event_id in ids]
        return list(ids)

    def member_event(
        self, target: str, membership: str, sender: str | None = None, **content: Any
    ) -> Event:
        return self.event(
            "m.room.member", sender or target, {"membership": membership, **content}, target
        )

    # --- changing state ---------------------------------------------------------------

    def add(self, event: Event) -> Event:
        self.state[event.state_pair] = event
        return event

    def set_member(self, target: str, membership: str, sender: str | None = None) -> Event:
        return self.add(self.member_event(target, membership, sender))

    def join(self, *users: str) -> None:
        for user in users:
            self.set_member(user, "join")

    def set_power_levels(self, content: dict[str, Any]) -> Event:
        return self.add(self.event("m.room.power_levels", self.creator, content, ""))

    def set_level(self, user: str, level: Any) -> None:
        """Give `user` a level in a copy of the current power levels."""
        content = dict(self.power_levels_content())
        content["users"] = {**content.get("users", {}), user: level}
        self.set_power_levels(content)

    def update_power_levels(self, **changes: Any) -> None:
        self.set_power_levels({**self.power_levels_content(), **changes})

    def power_levels_content(self) -> dict[str, Any]:
        return dict(self.state[("m.room.power_levels", "")].content)

    def set_join_rule(self, join_rule: str) -> None:
        self.add(self.event("m.room.join_rules", self.creator, {"join_rule": join_rule}, ""))

    def without(self, *pairs: StateKey) -> dict[StateKey, Event]:
        return {pair: event for pair, event in self.state.items() if pair not in pairs}

    # --- checking ---------------------------------------------------------------------

    def check(self, event: Event, state: dict[StateKey, Event] | None = None) -> None:
        check_auth_rules(event, self.state if state is None else state)
