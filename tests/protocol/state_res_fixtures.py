"""Rooms as DAGs of named events, for the state resolution tests.

`RoomDag(version)` holds events under short names ("PA", "T1"). `add` builds an event
after some parents, works out the state before it the way a server would (resolving the
parents' states with `resolve_state`) and, unless told otherwise, takes its auth events
from that state. Timestamps follow the order in which events are *declared*, so a
scenario reads like the classic suites: declare the events, then the edges.

`scenario(version, events, edges)` runs one: the standard opening (Alice creates a
public room; Bob, Charlie and Zara join; Zara posts START), then `events` wired by
`edges`, each edge a chain written newest first ("END", "T2", "PA", "START"); it
returns the room, whose `state_at("END")` is the state resolution's verdict.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ranvier.protocol.auth_rules import auth_types_for_event
from ranvier.protocol.events import Event, StateKey
from ranvier.protocol.room_versions import KNOWN_ROOM_VERSIONS, EventFormat
from ranvier.protocol.state_res import resolve_state

ALICE = "@alice:example.com"
BOB = "@bob:example.com"
CHARLIE = "@charlie:example.com"
ZARA = "@zara:example.com"
EVELYN = "@evelyn:example.com"

V2_VERSIONS = [str(n) for n in range(2, 12)]
ALL_V2_FAMILY = [*V2_VERSIONS, "12"]

PL: StateKey = ("m.room.power_levels", "")
JR: StateKey = ("m.room.join_rules", "")
TOPIC: StateKey = ("m.room.topic", "")
CREATE: StateKey = ("m.room.create", "")


def member_key(user: str) -> StateKey:
    return ("m.room.member", user)


def eid(name: str) -> str:
    return f"${name}"


@dataclass
class Spec:
    """A declared event: what it is, before it is placed in the DAG."""

    name: str
    sender: str
    type: str
    content: dict[str, Any] = field(default_factory=dict)
    state_key: str | None = None


def power_levels(name: str, sender: str, users: Mapping[str, int], **extra: Any) -> Spec:
    return Spec(name, sender, "m.room.power_levels", {"users": dict(users), **extra}, "")


def topic(name: str, sender: str) -> Spec:
    return Spec(name, sender, "m.room.topic", {"topic": name}, "")


def member(name: str, sender: str, target: str, membership: str) -> Spec:
    return Spec(name, sender, "m.room.member", {"membership": membership}, target)


def join_rules(name: str, sender: str, rule: str) -> Spec:
    return Spec(name, sender, "m.room.join_rules", {"join_rule": rule}, "")


def message(name: str, sender: str) -> Spec:
    return Spec(name, sender, "m.room.message", {"body": name})


class CountingMap(Mapping[str, Event]):
    """An event map that records which events were read, for the cost tests."""

    def __init__(self, events: Mapping[str, Event]) -> None:
        self._events = events
        self.read: set[str] = set()

    def __getitem__(self, event_id: str) -> Event:
        self.read.add(event_id)
        return self._events[event_id]

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("state resolution must not iterate the event map")

    def __len__(self) -> int:
        raise AssertionError("state resolution must not size the event map")


class RoomDag:
    def __init__(self, version: str) -> None:
        self.version = KNOWN_ROOM_VERSIONS[version]
        self.events: dict[str, Event] = {}
        self.state_after: dict[str, dict[StateKey, str]] = {}
        self.rejected: set[str] = set()
        self._clock = itertools.count(1)
        self.room_id = "!room:example.com"
        self.creator = ALICE

    @property
    def is_v12(self) -> bool:
        return self.version.room_id_from_create_event

    def levels(self, users: Mapping[str, int]) -> dict[str, int]:
        """A `users` map valid here: v12 creators may not be listed (they outrank all)."""
        return {u: level for u, level in users.items() if not (self.is_v12 and u == ALICE)}

    def next_ts(self) -> int:
        return next(self._clock)

    def add(
        self,
        spec: Spec,
        prev: Sequence[str],
        *,
        ts: int | None = None,
        auth: Iterable[str] | None = None,
    ) -> Event:
        """Place `spec` after the events named in `prev`; `auth` overrides the auth
        events (names), which otherwise come from the state before it."""
        prev_ids = [eid(p) for p in prev]
        before = self.state_before(prev)
        if auth is None:
            keys = auth_types_for_event(
                self.version, spec.type, spec.state_key, spec.sender, spec.content
            )
            auth_ids = sorted(before[key] for key in keys if key in before)
        else:
            auth_ids = [eid(a) for a in auth]
        content = dict(spec.content)
        if spec.type == "m.room.power_levels" and "users" in content:
            content["users"] = self.levels(content["users"])
        event_id = eid(spec.name)
        pdu: dict[str, Any] = {
            "type": spec.type,
            "sender": spec.sender,
            "room_id": self.room_id,
            "content": content,
            "prev_events": self._refs(prev_ids),
            "auth_events": self._refs(auth_ids),
            "depth": 1 + max((self.events[p].depth for p in prev_ids), default=0),
            "origin_server_ts": self.next_ts() if ts is None else ts,
        }
        if spec.state_key is not None:
            pdu["state_key"] = spec.state_key
        if self.version.event_format is EventFormat.V1:
            pdu["event_id"] = event_id
        if spec.type == "m.room.create" and self.is_v12:
            del pdu["room_id"]
            self.room_id = "!" + event_id[1:]
        event = Event(pdu, self.version, event_id=event_id)
        self.events[event_id] = event
        after = dict(before)
        if event.is_state():
            after[event.state_pair] = event_id
        self.state_after[event_id] = after
        return event

    def _refs(self, ids: list[str]) -> list[Any]:
        if self.version.event_format is EventFormat.V1:
            return [[i, {"sha256": "aGFzaA"}] for i in ids]
        return ids

    def state_before(self, prev: Sequence[str]) -> dict[StateKey, str]:
        return self.resolve([self.state_after[eid(p)] for p in prev])

    def state_at(self, name: str) -> dict[StateKey, str]:
        """The state before the event `name`."""
        return self.state_before([p[1:] for p in self.events[eid(name)].prev_event_ids()])

    def resolve(self, state_sets: Sequence[Mapping[StateKey, str]]) -> dict[StateKey, str]:
        return resolve_state(self.version, state_sets, self.events, rejected=self.rejected)

    def create_room(self) -> None:
        """Alice creates a public room that Bob, Charlie and Zara join; Zara says START."""
        create_content: dict[str, Any] = {"room_version": self.version.identifier}
        if not self.version.implicit_room_creator:
            create_content["creator"] = ALICE
        self.add(Spec("CREATE", ALICE, "m.room.create", create_content, ""), [])
        opening = [
            member("IMA", ALICE, ALICE, "join"),
            power_levels("IPOWER", ALICE, {ALICE: 100}),
            join_rules("IJR", ALICE, "public"),
            member("IMB", BOB, BOB, "join"),
            member("IMC", CHARLIE, CHARLIE, "join"),
            member("IMZ", ZARA, ZARA, "join"),
            message("START", ZARA),
        ]
        last = "CREATE"
        for spec in opening:
            self.add(spec, [last])
            last = spec.name


def scenario(version: str, events: Sequence[Spec], edges: Sequence[Sequence[str]]) -> RoomDag:
    """Build the standard room, then `events` (timestamps in declaration order) wired by
    `edges`, then END."""
    room = RoomDag(version)
    room.create_room()
    declared = {spec.name: (spec, room.next_ts()) for spec in [*events, message("END", ZARA)]}
    parents: dict[str, list[str]] = {name: [] for name in declared}
    for chain in edges:
        for child, parent in itertools.pairwise(chain):
            if parent not in parents[child]:
                parents[child].append(parent)
    pending = dict(declared)
    while pending:
        ready = [n for n in pending if all(eid(p) in room.events for p in parents[n])]
        assert ready, "the edges do not form a DAG"
        for name in ready:
            spec, ts = pending.pop(name)
            room.add(spec, parents[name], ts=ts)
    return room
