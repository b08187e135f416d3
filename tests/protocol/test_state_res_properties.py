"""Properties of state resolution over random forks of a room: what must hold whatever
the events are, for every algorithm."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ranvier.protocol.auth_chains import AuthChains
from ranvier.protocol.state_res import resolve_state
from tests.protocol.state_res_fixtures import (
    ALICE,
    BOB,
    CHARLIE,
    EVELYN,
    RoomDag,
    Spec,
    join_rules,
    member,
    power_levels,
    topic,
)

USERS = [ALICE, BOB, CHARLIE, EVELYN]
VERSIONS = ["1", "2", "6", "10", "11", "12"]

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def random_spec(draw: Any, name: str) -> Spec:
    kind = draw(st.sampled_from(["topic", "power", "member", "join_rules"]))
    sender = draw(st.sampled_from(USERS))
    if kind == "topic":
        return topic(name, sender)
    if kind == "power":
        levels = {u: draw(st.sampled_from([0, 50, 100])) for u in (BOB, CHARLIE)}
        return power_levels(name, sender, {ALICE: 100, **levels})
    if kind == "join_rules":
        return join_rules(name, sender, draw(st.sampled_from(["public", "invite"])))
    target = draw(st.sampled_from(USERS))
    membership = draw(st.sampled_from(["join", "leave", "ban", "invite"]))
    return member(name, sender, target, membership)


@st.composite
def forks(draw: Any, version: str) -> tuple[RoomDag, list[dict]]:
    """A room grown from START by random state events with one or two parents, and the
    states after two or three of its events."""
    room = RoomDag(version)
    room.create_room()
    names = ["START"]
    for n in range(draw(st.integers(1, 8))):
        parents = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
        room.add(random_spec(draw, f"E{n}"), parents)
        names.append(f"E{n}")
    chosen = draw(st.lists(st.sampled_from(names), min_size=2, max_size=3))
    return room, [room.state_after["$" + name] for name in chosen]


@pytest.mark.parametrize("version", VERSIONS)
@SETTINGS
@given(data=st.data())
def test_resolution_ignores_the_order_of_the_state_sets(version: str, data: Any) -> None:
    room, sets = data.draw(forks(version))
    expected = room.resolve(sets)
    for permutation in itertools.permutations(sets):
        assert room.resolve(list(permutation)) == expected


@pytest.mark.parametrize("version", VERSIONS)
@SETTINGS
@given(data=st.data())
def test_resolution_ignores_the_order_of_entries_within_a_set(version: str, data: Any) -> None:
    room, sets = data.draw(forks(version))
    reordered = [dict(data.draw(st.permutations(list(s.items())))) for s in sets]
    assert room.resolve(reordered) == room.resolve(sets)


@pytest.mark.parametrize("version", VERSIONS)
@SETTINGS
@given(data=st.data())
def test_resolving_one_state_or_copies_of_it_returns_it(version: str, data: Any) -> None:
    room, sets = data.draw(forks(version))
    assert room.resolve(sets[:1]) == sets[0]
    assert room.resolve([sets[0], dict(sets[0])]) == sets[0]


@pytest.mark.parametrize("version", VERSIONS)
@SETTINGS
@given(data=st.data())
def test_unconflicted_state_survives_resolution(version: str, data: Any) -> None:
    room, sets = data.draw(forks(version))
    resolved = room.resolve(sets)
    common = set(sets[0].items()).intersection(*(s.items() for s in sets[1:]))
    assert common <= set(resolved.items())


@pytest.mark.parametrize("version", [v for v in VERSIONS if v != "1"])
@SETTINGS
@given(data=st.data())
def test_resolved_events_come_from_the_states_or_their_auth_chains(version: str, data: Any) -> None:
    room, sets = data.draw(forks(version))
    chains = AuthChains(room.events, None)
    in_sets = {event_id for s in sets for event_id in s.values()}
    reachable = in_sets.union(*(chains.of(event_id) for event_id in in_sets))
    resolved = room.resolve(sets)
    assert set(resolved.values()) <= reachable
    assert all(room.events[event_id].state_pair == key for key, event_id in resolved.items())


@pytest.mark.parametrize("version", [v for v in VERSIONS if v != "1"])
@SETTINGS
@given(data=st.data())
def test_supplied_auth_chains_give_the_same_resolution(version: str, data: Any) -> None:
    room, sets = data.draw(forks(version))
    walked = AuthChains(room.events, None)
    supplied = resolve_state(room.version, sets, room.events, auth_chain_of=walked.of)
    assert supplied == room.resolve(sets)
