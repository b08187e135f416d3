"""The synthetic forked room the state resolution benchmark times
(bench/state_res_input.py) really conflicts where it says it does."""

import pytest

from bench.state_res_input import forked_room
from ranvier.protocol.state_res import resolve_state


def test_fork_conflicts_on_power_levels_join_rules_and_the_chosen_members() -> None:
    room = forked_room(members=40, conflicts=6)
    a, b = room.state_sets
    assert a.keys() == b.keys()
    conflicted = {key for key in a if a[key] != b[key]}
    members = {("m.room.member", f"@user{n}:bench.local") for n in range(6)}
    assert conflicted == {("m.room.power_levels", ""), ("m.room.join_rules", "")} | members
    assert len(a) == 40 + 5  # create, power levels, join rules, Alice, Bob, the members


def test_fork_resolves_to_one_of_the_branches_for_every_conflicted_key() -> None:
    room = forked_room(members=40, conflicts=6)
    resolved = resolve_state(room.version, room.state_sets, room.events)
    a, b = room.state_sets
    assert resolved.keys() == a.keys()
    assert all(resolved[key] in (a[key], b[key]) for key in a)


def test_fork_refuses_more_conflicts_than_members() -> None:
    with pytest.raises(ValueError, match="need as many members"):
        forked_room(members=3, conflicts=4)


def test_fork_events_have_reference_hash_ids_and_travel_as_json() -> None:
    room = forked_room(members=10, conflicts=2)
    data = room.to_json()
    assert data["room_version"] == "12"
    assert len(data["pdus"]) == len(room.events)
    create = room.events[next(iter(room.events))]
    assert data["room_id"] == "!" + create.event_id[1:]
    assert all(e.pdu["hashes"]["sha256"] for e in room.events.values())
    assert [{(t, k): e for t, k, e in s} for s in data["state_sets"]] == room.state_sets
