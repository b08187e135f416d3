"""State resolution v1 (room version 1): the spec's passes, its orderings by depth and
sha1(event_id), and where it gives up."""

from __future__ import annotations

import hashlib

import pytest

from ranvier.protocol.state_res_v1 import separate_v1
from tests.protocol.state_res_fixtures import (
    ALICE,
    BOB,
    CHARLIE,
    PL,
    TOPIC,
    RoomDag,
    eid,
    member,
    member_key,
    power_levels,
    topic,
)


@pytest.fixture
def room() -> RoomDag:
    room = RoomDag("1")
    room.create_room()
    return room


def after(room: RoomDag, *names: str) -> list[dict]:
    return [room.state_after[eid(n)] for n in names]


def sha1(name: str) -> str:
    return hashlib.sha1(eid(name).encode()).hexdigest()


@pytest.mark.parametrize(
    ("sets", "unconflicted", "conflicts"),
    [
        ([{("a", ""): "$1"}, {("a", ""): "$1"}], {("a", ""): "$1"}, {}),
        # Unlike v2, a key some states lack is not a conflict when the others agree.
        ([{("a", ""): "$1"}, {}], {("a", ""): "$1"}, {}),
        ([{("a", ""): "$1"}, {("a", ""): "$2"}, {}], {}, {("a", ""): {"$1", "$2"}}),
        (
            [{("a", ""): "$1"}, {("a", ""): "$2"}, {("a", ""): "$3"}],
            {},
            {("a", ""): {"$1", "$2", "$3"}},
        ),
    ],
)
def test_v1_conflicts_are_keys_with_different_events(sets, unconflicted, conflicts) -> None:
    assert separate_v1(sets) == (unconflicted, conflicts)


def test_v1_power_levels_take_the_earliest_then_each_later_allowed_one(room: RoomDag) -> None:
    room.add(power_levels("PA", ALICE, {ALICE: 100, BOB: 50}), ["START"])
    room.add(power_levels("PA2", ALICE, {ALICE: 100, BOB: 60}), ["PA"])
    assert room.resolve(after(room, "PA2", "PA"))[PL] == eid("PA2")


def test_v1_power_levels_stop_at_the_first_refused_change(room: RoomDag) -> None:
    room.add(power_levels("PA", ALICE, {ALICE: 100, BOB: 50}), ["START"])
    room.add(power_levels("PC", CHARLIE, {ALICE: 100, CHARLIE: 100}), ["PA"])  # refused
    room.add(power_levels("PA3", ALICE, {ALICE: 100}), ["PC"])  # allowed, but too late
    assert room.resolve(after(room, "PA", "PC", "PA3"))[PL] == eid("PA")


def test_v1_equal_depth_power_levels_are_taken_in_descending_sha1(room: RoomDag) -> None:
    room.add(power_levels("PX", ALICE, {ALICE: 100, BOB: 10}), ["START"])
    room.add(power_levels("PY", ALICE, {ALICE: 100, BOB: 20}), ["START"])
    # Both allowed: the higher sha1 is taken first, the lower one applied over it.
    lower = "PX" if sha1("PX") < sha1("PY") else "PY"
    assert room.resolve(after(room, "PX", "PY"))[PL] == eid(lower)


def test_v1_other_conflicts_take_the_deepest_allowed_event(room: RoomDag) -> None:
    room.add(topic("TA", ALICE), ["START"])
    room.add(topic("TA2", ALICE), ["TA"])
    room.add(topic("TB", BOB), ["TA2"])  # Bob has 0, topics need 50: refused
    assert room.resolve(after(room, "TA", "TA2", "TB"))[TOPIC] == eid("TA2")


def test_v1_other_conflicts_at_equal_depth_take_the_lowest_sha1(room: RoomDag) -> None:
    room.add(topic("TX", ALICE), ["START"])
    room.add(topic("TY", ALICE), ["START"])
    lower = "TX" if sha1("TX") < sha1("TY") else "TY"
    assert room.resolve(after(room, "TX", "TY"))[TOPIC] == eid(lower)


def test_v1_keeps_the_shallowest_event_when_none_is_allowed(room: RoomDag) -> None:
    room.add(topic("TC1", CHARLIE), ["START"])
    room.add(topic("TC2", CHARLIE), ["TC1"])
    assert room.resolve(after(room, "TC1", "TC2"))[TOPIC] == eid("TC1")


@pytest.mark.parametrize(("promoter", "bob"), [(ALICE, "BAN"), (CHARLIE, "IMB")])
def test_v1_member_conflicts_are_resolved_under_the_resolved_power_levels(
    room: RoomDag, promoter: str, bob: str
) -> None:
    # Charlie bans Bob after being given (by Alice: allowed; by himself: refused) 50.
    room.add(power_levels("PX", promoter, {ALICE: 100, CHARLIE: 50}), ["START"])
    room.add(member("BAN", CHARLIE, BOB, "ban"), ["PX"])
    state = room.resolve(after(room, "BAN", "START"))
    assert state[PL] == eid("PX" if promoter == ALICE else "IPOWER")
    assert state[member_key(BOB)] == eid(bob)


def test_v1_unconflicted_state_is_kept(room: RoomDag) -> None:
    room.add(topic("TA", ALICE), ["START"])
    state = room.resolve(after(room, "TA", "START"))
    assert state[member_key(ALICE)] == eid("IMA")
    assert state[TOPIC] == eid("TA")
