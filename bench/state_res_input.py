"""Synthetic forked rooms for timing state resolution, built with the protocol core.

`forked_room(members, conflicts)` makes a room-version-12 room: Alice creates it and
makes Bob an admin, `members` users join one after the other, then the history forks.
On one branch Alice changes the power levels and makes the room invite-only, and
`conflicts` members leave; on the other Bob changes the power levels differently, makes
the room knock-only, and the same members change their display names. The two state
sets then disagree on the power levels, the join rules and `conflicts` memberships.

Events carry real content hashes and reference-hash event IDs (they are not signed),
so Synapse's resolver can be fed the very same events (`to_json`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from unpaddedbase64 import encode_base64

from ranvier.protocol.auth_rules import auth_types_for_event
from ranvier.protocol.events import Event, StateKey
from ranvier.protocol.hashing import compute_content_hash, compute_event_id
from ranvier.protocol.room_versions import KNOWN_ROOM_VERSIONS, RoomVersion

ALICE = "@alice:bench.local"
BOB = "@bob:bench.local"
ROOM_VERSION = KNOWN_ROOM_VERSIONS["12"]


def _user(n: int) -> str:
    return f"@user{n}:bench.local"


@dataclass
class ForkedRoom:
    version: RoomVersion
    events: dict[str, Event]
    state_sets: list[dict[StateKey, str]]

    def to_json(self) -> dict[str, Any]:
        """The events and state sets as plain JSON, for another implementation."""
        return {
            "room_version": self.version.identifier,
            "room_id": next(iter(self.events.values())).room_id,
            "pdus": [event.pdu for event in self.events.values()],
            "state_sets": [[[t, k, e] for (t, k), e in state.items()]
                           for state in self.state_sets],
        }


@dataclass
class _Builder:
    version: RoomVersion
    events: dict[str, Event] = field(default_factory=dict)
    room_id: str = ""

    def add(self, state: dict[StateKey, str], prev: str | None, sender: str, type_: str,
            state_key: str, content: dict[str, Any]) -> str:
        """Append a state event after `prev`, authorised by `state` (the state before
        it, which is then updated in place); returns its ID."""
        keys = auth_types_for_event(self.version, type_, state_key, sender, content)
        pdu: dict[str, Any] = {
            "type": type_, "sender": sender, "state_key": state_key, "content": content,
            "prev_events": [prev] if prev else [],
            "auth_events": sorted(state[k] for k in keys if k in state),
            "depth": len(self.events) + 1, "origin_server_ts": len(self.events) + 1,
        }
        if type_ != "m.room.create":  # v12: the create event's ID names the room
            pdu["room_id"] = self.room_id
        pdu["hashes"] = {"sha256": encode_base64(compute_content_hash(pdu))}
        event_id = compute_event_id(pdu, self.version)
        if type_ == "m.room.create":
            self.room_id = "!" + event_id[1:]
        self.events[event_id] = Event(pdu, self.version, event_id=event_id)
        state[(type_, state_key)] = event_id
        return event_id


def forked_room(members: int, conflicts: int) -> ForkedRoom:
    if conflicts > members:
        raise ValueError(f"{conflicts} conflicting memberships need as many members")
    room = _Builder(ROOM_VERSION)
    state: dict[StateKey, str] = {}
    last = room.add(state, None, ALICE, "m.room.create", "", {"room_version": "12"})
    opening = [
        (ALICE, "m.room.member", ALICE, {"membership": "join"}),
        (ALICE, "m.room.power_levels", "", {"users": {BOB: 100}}),
        (ALICE, "m.room.join_rules", "", {"join_rule": "public"}),
        (BOB, "m.room.member", BOB, {"membership": "join"}),
    ]
    for sender, type_, key, content in opening:
        last = room.add(state, last, sender, type_, key, content)
    for n in range(members):
        last = room.add(state, last, _user(n), "m.room.member", _user(n), {"membership": "join"})

    branch_a, branch_b = dict(state), dict(state)
    a = room.add(branch_a, last, ALICE, "m.room.power_levels", "",
                 {"users": {BOB: 100, _user(0): 50}})
    a = room.add(branch_a, a, ALICE, "m.room.join_rules", "", {"join_rule": "invite"})
    b = room.add(branch_b, last, BOB, "m.room.power_levels", "",
                 {"users": {BOB: 100, _user(1): 50}})
    b = room.add(branch_b, b, BOB, "m.room.join_rules", "", {"join_rule": "knock"})
    for n in range(conflicts):
        a = room.add(branch_a, a, _user(n), "m.room.member", _user(n), {"membership": "leave"})
        b = room.add(branch_b, b, _user(n), "m.room.member", _user(n),
                     {"membership": "join", "displayname": f"user {n}"})
    return ForkedRoom(room.version, room.events, [branch_a, branch_b])
