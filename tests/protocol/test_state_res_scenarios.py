"""The classic state resolution scenarios (as in Synapse's and Ruma's suites), run for
every room version that uses v2 or v2.1: the state before END must be what the scenario
says, whichever way the fork went."""

from __future__ import annotations

import pytest

from tests.protocol.state_res_fixtures import (
    ALICE,
    ALL_V2_FAMILY,
    BOB,
    CHARLIE,
    EVELYN,
    JR,
    PL,
    TOPIC,
    ZARA,
    eid,
    join_rules,
    member,
    member_key,
    message,
    power_levels,
    scenario,
    topic,
)

pytestmark = pytest.mark.parametrize("version", ALL_V2_FAMILY)


def test_ban_wins_over_concurrent_power_levels_change_by_the_banned_user(version: str) -> None:
    room = scenario(
        version,
        [
            power_levels("PA", ALICE, {ALICE: 100, BOB: 50}),
            member("MA", ALICE, ALICE, "join"),
            member("MB", ALICE, BOB, "ban"),
            power_levels("PB", BOB, {ALICE: 100, BOB: 50}),
        ],
        [["END", "MB", "MA", "PA", "START"], ["END", "PB", "PA"]],
    )
    state = room.state_at("END")
    assert state[PL] == eid("PA")
    assert state[member_key(ALICE)] == eid("MA")
    assert state[member_key(BOB)] == eid("MB")


def test_join_racing_a_join_rule_change_to_private_is_not_let_in(version: str) -> None:
    room = scenario(
        version,
        [join_rules("JR", ALICE, "invite"), member("ME", EVELYN, EVELYN, "join")],
        [["END", "JR", "START"], ["END", "ME", "START"]],
    )
    state = room.state_at("END")
    assert state[JR] == eid("JR")
    assert member_key(EVELYN) not in state


def test_offtopic_power_levels_chain_keeps_the_latest_allowed_change(version: str) -> None:
    room = scenario(
        version,
        [
            power_levels("PA", ALICE, {ALICE: 100, BOB: 50}),
            power_levels("PB", BOB, {ALICE: 100, BOB: 50, CHARLIE: 50}),
            power_levels("PC", CHARLIE, {ALICE: 100, BOB: 50, CHARLIE: 0}),
        ],
        [["END", "PC", "PB", "PA", "START"], ["END", "PA"]],
    )
    assert room.state_at("END")[PL] == eid("PC")


def test_demoted_users_concurrent_power_levels_and_topic_lose(version: str) -> None:
    room = scenario(
        version,
        [
            topic("T1", ALICE),
            power_levels("PA1", ALICE, {ALICE: 100, BOB: 50}),
            topic("T2", ALICE),
            power_levels("PA2", ALICE, {ALICE: 100, BOB: 0}),
            power_levels("PB", BOB, {ALICE: 100, BOB: 50}),
            topic("T3", BOB),
        ],
        [["END", "PA2", "T2", "PA1", "T1", "START"], ["END", "T3", "PB", "PA1"]],
    )
    state = room.state_at("END")
    assert (state[PL], state[TOPIC]) == (eid("PA2"), eid("T2"))


def test_topic_is_not_reset_by_a_banned_users_branch(version: str) -> None:
    room = scenario(
        version,
        [
            topic("T1", ALICE),
            power_levels("PA", ALICE, {ALICE: 100, BOB: 50}),
            topic("T2", BOB),
            member("MB", ALICE, BOB, "ban"),
        ],
        [["END", "MB", "T2", "PA", "T1", "START"], ["END", "T1"]],
    )
    state = room.state_at("END")
    assert state[TOPIC] == eid("T1")
    assert state[member_key(BOB)] == eid("MB")
    assert state[PL] == eid("PA")


def test_topic_after_a_message_merge_follows_the_resolved_power_levels(version: str) -> None:
    room = scenario(
        version,
        [
            topic("T1", ALICE),
            power_levels("PA1", ALICE, {ALICE: 100, BOB: 50}),
            topic("T2", ALICE),
            power_levels("PA2", ALICE, {ALICE: 100, BOB: 0}),
            power_levels("PB", BOB, {ALICE: 100, BOB: 50}),
            topic("T3", BOB),
            message("MZ1", ZARA),
            topic("T4", ALICE),
        ],
        [
            ["END", "T4", "MZ1", "PA2", "T2", "PA1", "T1", "START"],
            ["END", "MZ1", "T3", "PB", "PA1"],
        ],
    )
    state = room.state_at("END")
    assert (state[PL], state[TOPIC]) == (eid("PA2"), eid("T4"))


def test_mainline_sort_applies_the_topic_based_on_the_newer_power_levels_last(
    version: str,
) -> None:
    room = scenario(
        version,
        [
            topic("T1", ALICE),
            power_levels("PA1", ALICE, {ALICE: 100, BOB: 50}),
            topic("T2", ALICE),
            power_levels(
                "PA2",
                ALICE,
                {ALICE: 100, BOB: 50},
                events={"m.room.power_levels": 100},
            ),
            power_levels("PB", BOB, {ALICE: 100, BOB: 50}),
            topic("T3", BOB),
            topic("T4", ALICE),
        ],
        [["END", "T3", "PA2", "T2", "PA1", "T1", "START"], ["END", "T4", "PB", "PA1"]],
    )
    state = room.state_at("END")
    assert (state[PL], state[TOPIC]) == (eid("PA2"), eid("T3"))


def test_kick_beats_the_kicked_users_concurrent_topic(version: str) -> None:
    room = scenario(
        version,
        [
            power_levels("PA", ALICE, {ALICE: 100, BOB: 50}),
            member("MK", ALICE, BOB, "leave"),
            topic("TB", BOB),
        ],
        [["END", "MK", "PA", "START"], ["END", "TB", "PA"]],
    )
    state = room.state_at("END")
    assert state[member_key(BOB)] == eid("MK")
    assert TOPIC not in state


def test_concurrent_topics_of_equal_standing_resolve_to_the_later_one(version: str) -> None:
    room = scenario(
        version,
        [topic("TA", ALICE), topic("TB", ALICE)],
        [["END", "TA", "START"], ["END", "TB", "START"]],
    )
    assert room.state_at("END")[TOPIC] == eid("TB")
