"""The work state resolution does follows the size of the conflict, not of the room:
a 10,000-member room forked over its topic and one ban reads a handful of events and
runs a handful of auth checks. Counted, not timed (the benchmarks time it)."""

from __future__ import annotations

import pytest

from ranvier.protocol import state_res_auth
from ranvier.protocol.auth_chains import AuthChains
from ranvier.protocol.state_res import resolve_state
from tests.protocol.state_res_fixtures import (
    ALICE,
    BOB,
    TOPIC,
    CountingMap,
    RoomDag,
    eid,
    member,
    member_key,
    power_levels,
    topic,
)

MEMBERS = 10_000


@pytest.fixture(params=["10", "12"])
def big_fork(request: pytest.FixtureRequest) -> tuple[RoomDag, list[dict]]:
    room = RoomDag(request.param)
    room.create_room()
    room.add(power_levels("PA", ALICE, {ALICE: 100, BOB: 50}), ["START"])
    base = dict(room.state_after[eid("PA")])
    for n in range(MEMBERS):
        user = f"@user{n}:example.com"
        room.add(member(f"J{n}", user, user, "join"), ["PA"])
        base[member_key(user)] = eid(f"J{n}")
    # Branch 1 sets the topic twice; branch 2 has Bob set it and Alice ban user 7.
    room.add(topic("T1", ALICE), ["PA"])
    room.add(topic("T2", ALICE), ["T1"])
    room.add(topic("TB", BOB), ["PA"])
    room.add(member("BAN", ALICE, "@user7:example.com", "ban"), ["TB", "J7"])
    branch1 = {**base, TOPIC: eid("T2")}
    branch2 = {**base, TOPIC: eid("TB"), member_key("@user7:example.com"): eid("BAN")}
    return room, [branch1, branch2]


@pytest.fixture
def auth_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    checked: list[str] = []
    check = state_res_auth.check_auth_rules

    def counting_check(event, auth_events):  # type: ignore[no-untyped-def]
        checked.append(event.event_id)
        check(event, auth_events)

    monkeypatch.setattr(state_res_auth, "check_auth_rules", counting_check)
    return checked


@pytest.mark.parametrize("with_index", [True, False])
def test_small_conflict_in_a_big_room_reads_only_the_conflict(
    big_fork: tuple[RoomDag, list[dict]], auth_checks: list[str], with_index: bool
) -> None:
    room, sets = big_fork
    events = CountingMap(room.events)
    index = AuthChains(room.events, None)  # stands in for storage's auth chain index
    looked_up: list[str] = []

    def auth_chain_of(event_id: str):  # type: ignore[no-untyped-def]
        looked_up.append(event_id)
        return index.of(event_id)

    resolved = resolve_state(
        room.version, sets, events, auth_chain_of=auth_chain_of if with_index else None
    )

    assert resolved[TOPIC] == eid("TB")  # T1, T2 and TB on one mainline: TB is latest
    assert resolved[member_key("@user7:example.com")] == eid("BAN")
    assert len(resolved) == len(sets[0])
    assert len(events.read) <= 20
    assert len(auth_checks) <= 5
    assert len(looked_up) <= 20
