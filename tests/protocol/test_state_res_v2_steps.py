"""Each step of state resolution v2 and v2.1 on its own, over small hand-made graphs."""

from __future__ import annotations

import pytest

from ranvier.protocol.auth_chains import AuthChains
from ranvier.protocol.room_versions import KNOWN_ROOM_VERSIONS
from ranvier.protocol.state_res_v2 import (
    auth_difference,
    conflicted_subgraph,
    full_conflicted_set,
    is_power_event,
    iterative_auth_checks,
    mainline_order,
    reverse_topological_power_order,
    separate,
)
from tests.protocol.state_res_fixtures import (
    ALICE,
    BOB,
    CHARLIE,
    PL,
    TOPIC,
    RoomDag,
    Spec,
    eid,
    member,
    member_key,
    power_levels,
    topic,
)


def ids(*names: str) -> set[str]:
    return {eid(n) for n in names}


def ids_list(*names: str) -> list[str]:
    return [eid(n) for n in names]


def graph(edges: dict[str, list[str]], version: str = "10") -> RoomDag:
    """Topic events named by the keys, each citing the listed events as auth events
    (declared in the order given, so a name's auth events come before it)."""
    room = RoomDag(version)
    for name, auth in edges.items():
        room.add(topic(name, ALICE), [], auth=auth)
    return room


# --- separating the state sets ----------------------------------------------------------


@pytest.mark.parametrize(
    ("sets", "unconflicted", "conflicted"),
    [
        ([{("a", ""): "$1"}, {("a", ""): "$1"}], {("a", ""): "$1"}, [set(), set()]),
        ([{("a", ""): "$1"}, {("a", ""): "$2"}], {}, [{"$1"}, {"$2"}]),
        # A key missing from one set is conflicted, even with one value.
        ([{("a", ""): "$1"}, {}], {}, [{"$1"}, set()]),
        (
            [{("a", ""): "$1", ("b", ""): "$3"}, {("a", ""): "$1", ("b", ""): "$4"}, {}],
            {},
            [{"$1", "$3"}, {"$1", "$4"}, set()],
        ),
    ],
)
def test_separate_splits_unconflicted_from_conflicted(sets, unconflicted, conflicted) -> None:
    assert separate(sets) == (unconflicted, conflicted)


# --- power events -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (power_levels("P", ALICE, {}), True),
        (Spec("J", ALICE, "m.room.join_rules", {"join_rule": "public"}, ""), True),
        (member("K", ALICE, BOB, "leave"), True),
        (member("B", ALICE, BOB, "ban"), True),
        (member("L", BOB, BOB, "leave"), False),  # leaving yourself takes nothing away
        (member("J2", BOB, BOB, "join"), False),
        (member("I", ALICE, BOB, "invite"), False),
        (topic("T", ALICE), False),
        (Spec("M", ALICE, "m.room.power_levels", {}), False),  # not a state event
    ],
)
def test_power_events_are_those_that_can_take_abilities_away(spec: Spec, expected: bool) -> None:
    room = RoomDag("10")
    assert is_power_event(room.add(spec, [], auth=[])) is expected


# --- auth difference, conflicted subgraph, full conflicted set --------------------------

# A (create-like root) <- B <- C ; B <- D ; X hangs off A; Y cites X.
CHAIN = {"A": [], "B": ["A"], "C": ["B"], "D": ["B"], "X": ["A"], "Y": ["X"]}


@pytest.mark.parametrize(
    ("unconflicted", "conflicted", "expected"),
    [
        # Same auth chains below both conflicted events: only the events differ.
        ([], [["C"], ["D"]], {"C", "D"}),
        # X is reached from one side only.
        ([], [["Y"], ["C"]], {"Y", "X", "C", "B"}),
        # ...unless an unconflicted event (in every set) reaches it.
        (["Y"], [["C"], ["D"]], {"C", "D"}),
        (["B"], [["Y"], ["C"]], {"Y", "X", "C"}),
        # A set with nothing conflicted: everything reached by the other differs.
        ([], [["C"], []], {"C", "B", "A"}),
        (["A"], [["C"], []], {"C", "B"}),
    ],
)
def test_auth_difference_is_what_some_but_not_all_auth_chains_hold(
    unconflicted: list[str], conflicted: list[list[str]], expected: set[str]
) -> None:
    room = graph(CHAIN)
    chains = AuthChains(room.events, None)
    result = auth_difference(ids(*unconflicted), [ids(*c) for c in conflicted], chains)
    assert result == ids(*expected)


def test_auth_difference_leaves_out_known_events() -> None:
    room = graph(CHAIN)
    chains = AuthChains(room.events, None)
    result = auth_difference(set(), [ids("Y"), ids("C")], chains, known=ids("Y", "C"))
    assert result == ids("X", "B")


def test_auth_difference_looks_beyond_the_unconflicted_events_met_on_the_way() -> None:
    # X is only reachable from the conflicted side through Y, and from the unconflicted
    # state through Z, which no conflicted event reaches: X is in every chain.
    room = graph({"A": [], "X": ["A"], "Y": ["X"], "Z": ["X"], "C": ["A"]})
    chains = AuthChains(room.events, None)
    result = auth_difference(ids("A", "Z"), [ids("Y"), ids("C")], chains)
    assert result == ids("Y", "C")


def test_auth_difference_uses_the_supplied_auth_chains() -> None:
    supplied = {"$Y": {"$Q"}, "$C": set()}
    chains = AuthChains({}, supplied.__getitem__)
    assert auth_difference(set(), [{"$Y"}, {"$C"}], chains) == {"$Y", "$Q", "$C"}


# P1 <- P2 <- P3 is a power levels chain; M cites P2 and is in every set.
LADDER = {"A": [], "P1": ["A"], "P2": ["P1"], "P3": ["P2"], "M": ["P2"], "O": ["A"]}


def test_conflicted_subgraph_holds_the_paths_between_conflicted_events() -> None:
    room = graph(LADDER)
    chains = AuthChains(room.events, None)
    assert conflicted_subgraph(ids("P3", "P1"), chains) == ids("P3", "P2", "P1")
    # No path between O and P3: the subgraph is just the endpoints.
    assert conflicted_subgraph(ids("P3", "O"), chains) == ids("P3", "O")


@pytest.mark.parametrize(("version", "with_subgraph"), [("11", False), ("12", True)])
def test_full_conflicted_set_adds_the_subgraph_from_v2_1(version: str, with_subgraph: bool) -> None:
    room = graph(LADDER)
    chains = AuthChains(room.events, None)
    # Set 1 has P1, set 2 has P3; both hold M, so P2 is in both auth chains.
    full = full_conflicted_set(
        KNOWN_ROOM_VERSIONS[version], ids("M", "A"), [ids("P1"), ids("P3")], chains
    )
    expected = ids("P1", "P3") | (ids("P2") if with_subgraph else set())
    assert full == expected


# --- reverse topological power ordering ---------------------------------------------------


def powered_room(version: str = "10") -> RoomDag:
    """A room whose power levels give Alice 100 and Bob 50 (Charlie has 0)."""
    room = RoomDag(version)
    room.create_room()
    room.add(power_levels("P", ALICE, {ALICE: 100, BOB: 50}), ["START"])
    return room


def power_event(room: RoomDag, name: str, sender: str, ts: int, auth: list[str]) -> str:
    spec = Spec(name, sender, "m.room.join_rules", {"join_rule": "public"}, "")
    return room.add(spec, ["P"], ts=ts, auth=["CREATE", "P", *auth]).event_id


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        # Higher sender power first.
        ([("a", CHARLIE, 1, []), ("b", ALICE, 2, []), ("c", BOB, 3, [])], ["b", "c", "a"]),
        # Equal power: earlier timestamp first.
        ([("a", BOB, 5, []), ("b", BOB, 3, [])], ["b", "a"]),
        # Equal power and timestamp: smaller event ID first.
        ([("b", BOB, 1, []), ("a", BOB, 1, [])], ["a", "b"]),
        # Auth order beats power: Alice's event cites Charlie's.
        ([("a", CHARLIE, 9, []), ("b", ALICE, 1, ["a"])], ["a", "b"]),
    ],
)
def test_reverse_topological_power_order_breaks_ties_by_power_then_ts_then_id(
    events: list[tuple[str, str, int, list[str]]], expected: list[str]
) -> None:
    room = powered_room()
    for name, sender, ts, auth in events:
        power_event(room, name, sender, ts, auth)
    full = ids(*(name for name, *_ in events))
    order = reverse_topological_power_order(full, full, room.events)
    assert order == [eid(n) for n in expected]


def test_reverse_topological_order_is_the_lexicographically_smallest() -> None:
    # Everything equal but the IDs: o first (no auth events), then l, n, m, p.
    room = powered_room()
    edges = {"o": [], "l": ["o"], "n": ["o"], "m": ["n", "o"], "p": ["o"]}
    for name, auth in edges.items():
        power_event(room, name, BOB, 1, auth)
    full = ids(*edges)
    order = reverse_topological_power_order(ids("m", "p"), full, room.events)
    assert order == ids_list("o", "n", "m", "p")  # l is not in m's or p's auth chain
    order = reverse_topological_power_order(full, full, room.events)
    assert order == ids_list("o", "l", "n", "m", "p")


def test_power_order_counts_v12_creators_above_every_level() -> None:
    room = powered_room("12")
    power_event(room, "a", BOB, 1, [])
    power_event(room, "b", ALICE, 2, [])  # Alice created the room: infinite power
    full = ids("a", "b")
    assert reverse_topological_power_order(full, full, room.events) == ids_list("b", "a")


# --- mainline ordering ----------------------------------------------------------------


def test_mainline_order_puts_events_based_on_older_power_levels_first() -> None:
    room = RoomDag("10")
    room.create_room()
    # Mainline: P2 -> P1 -> P0 (IPOWER). Q is off the mainline, based on P1.
    room.add(power_levels("P1", ALICE, {ALICE: 100}), ["START"], auth=["CREATE", "IPOWER"])
    room.add(power_levels("P2", ALICE, {ALICE: 100}), ["P1"], auth=["CREATE", "P1"])
    room.add(power_levels("Q", ALICE, {ALICE: 100}), ["P1"], auth=["CREATE", "P1"])
    cases = {
        "e_none": ([], 50),  # no power levels at all: position infinity
        "e_p0": (["IPOWER"], 40),  # position 2
        "e_q": (["Q"], 30),  # through Q to P1: position 1
        "e_q2": (["Q"], 31),
        "e_p2_late": (["P2"], 20),  # position 0
        "e_p2_early": (["P2"], 10),
        "e_p2_tie_b": (["P2"], 15),
        "e_p2_tie_a": (["P2"], 15),
    }
    for name, (auth, ts) in cases.items():
        room.add(topic(name, ALICE), ["START"], ts=ts, auth=["CREATE", *auth])
    order = mainline_order(ids(*cases), eid("P2"), room.events)
    assert order == ids_list(
        "e_none", "e_p0", "e_q", "e_q2", "e_p2_early", "e_p2_tie_a", "e_p2_tie_b", "e_p2_late"
    )


def test_mainline_order_without_power_levels_sorts_by_timestamp() -> None:
    room = graph({"A": [], "B": [], "C": []})
    assert mainline_order(ids("C", "A", "B"), None, room.events) == ids_list("A", "B", "C")


# --- iterative auth checks ------------------------------------------------------------


def test_iterative_auth_checks_apply_allowed_events_and_skip_the_others() -> None:
    room = powered_room()
    bob_topic = room.add(topic("TB", BOB), ["P"]).event_id  # Bob has 50: allowed
    charlie_topic = room.add(topic("TC", CHARLIE), ["P"]).event_id  # 0 < 50: refused
    state = dict(room.state_after[eid("P")])
    iterative_auth_checks([bob_topic, charlie_topic], state, room.events, set())
    assert state[TOPIC] == bob_topic


def test_iterative_auth_checks_fall_back_to_the_events_own_auth_events() -> None:
    room = powered_room()
    bob_topic = room.add(topic("TB", BOB), ["P"]).event_id
    state: dict = {}
    iterative_auth_checks([bob_topic], state, room.events, set())
    assert state == {TOPIC: bob_topic}


def test_iterative_auth_checks_never_use_rejected_auth_events() -> None:
    room = powered_room()
    bob_topic = room.add(topic("TB", BOB), ["P"]).event_id
    state: dict = {}
    iterative_auth_checks([bob_topic], state, room.events, {eid("IMB")})
    assert state == {}


def test_iterative_auth_checks_prefer_the_state_to_the_events_own_auth_events() -> None:
    room = powered_room()
    bob_topic = room.add(topic("TB", BOB), ["P"]).event_id
    ban = room.add(member("BAN", ALICE, BOB, "ban"), ["P"]).event_id
    state = {**room.state_after[eid("P")], member_key(BOB): ban}
    iterative_auth_checks([bob_topic], state, room.events, set())
    assert TOPIC not in state


def test_iterative_auth_checks_ignore_rejected_state_and_use_own_auth_events() -> None:
    room = powered_room()
    bob_topic = room.add(topic("TB", BOB), ["P"]).event_id
    ban = room.add(member("BAN", ALICE, BOB, "ban"), ["P"]).event_id
    state = {**room.state_after[eid("P")], member_key(BOB): ban}
    iterative_auth_checks([bob_topic], state, room.events, {ban})
    assert state[TOPIC] == bob_topic


def test_mainline_position_of_an_event_whose_power_levels_are_unknown_is_infinite() -> None:
    room = graph({"A": []})
    room.add(topic("T", ALICE), [], auth=["A", "MISSING"])
    assert mainline_order(ids("T", "A"), None, room.events) == ids_list("A", "T")


def test_iterative_auth_checks_skip_state_entries_the_event_map_lacks() -> None:
    room = powered_room()
    bob_topic = room.add(topic("TB", BOB), ["P"]).event_id
    state = {member_key(BOB): "$unknown"}
    iterative_auth_checks([bob_topic], state, room.events, set())
    assert state[TOPIC] == bob_topic  # Bob's membership came from his own auth events


def test_mainline_of_an_unknown_power_levels_event_is_just_that_event() -> None:
    room = powered_room()
    room.add(topic("TA", ALICE), ["P"], ts=2)
    room.add(topic("TB", ALICE), ["P"], ts=1)
    assert mainline_order(ids("TA", "TB"), "$unknown", room.events) == ids_list("TB", "TA")


# --- the algorithm's start and finish -----------------------------------------------------


@pytest.mark.parametrize(("version", "winner"), [("11", "T0"), ("12", "TB")])
def test_v2_checks_conflicted_events_against_unconflicted_state_and_v2_1_does_not(
    version: str, winner: str
) -> None:
    # Both states hold Bob's ban; one also holds a topic Bob set before it. v2 replays
    # Bob's topic on top of the (unconflicted) ban and refuses it; v2.1 replays it from
    # an empty state, where only its own auth events (Bob joined) speak, and the later
    # topic wins.
    room = powered_room(version)
    room.add(topic("T0", ALICE), ["P"], ts=5)
    room.add(topic("TB", BOB), ["P"], ts=10)
    ban = room.add(member("MB", ALICE, BOB, "ban"), ["P"]).event_id
    base = {**room.state_after[eid("P")], member_key(BOB): ban}
    resolved = room.resolve([{**base, TOPIC: eid("TB")}, {**base, TOPIC: eid("T0")}])
    assert resolved[TOPIC] == eid(winner)
    assert resolved[member_key(BOB)] == ban


@pytest.mark.parametrize("version", ["10", "12"])
def test_unconflicted_state_replaces_what_the_auth_checks_put_in_its_keys(version: str) -> None:
    # P1 and P2 are sibling power levels. P2 is unconflicted; P1 is only in the auth
    # chain of one side's topic, so it is in the auth difference and is replayed over
    # P2. The topics are then ordered by P1's mainline (T1 on it, T2 behind it), but
    # the final power levels are P2 again.
    room = RoomDag(version)
    room.create_room()
    room.add(power_levels("P1", ALICE, {ALICE: 100, BOB: 50}), ["START"], ts=100)
    room.add(power_levels("P2", ALICE, {ALICE: 100, BOB: 60}), ["START"], ts=101)
    room.add(topic("T1", ALICE), ["P1"], ts=1)
    room.add(topic("T2", ALICE), ["P2"], ts=2)
    base = {**room.state_after[eid("START")], PL: eid("P2")}
    resolved = room.resolve([{**base, TOPIC: eid("T1")}, {**base, TOPIC: eid("T2")}])
    assert resolved[PL] == eid("P2")
    assert resolved[TOPIC] == eid("T1")
