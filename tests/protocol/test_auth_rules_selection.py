"""The auth events selection algorithm (server-server-api.md "Auth events selection")
and the rules over an event's list of auth events (2.1, 2.2, 2.4, 2.5; v12: 3.x)."""

from __future__ import annotations

import pytest

from ranvier.protocol.auth_rules import auth_types_for_event, check_auth_events_list
from ranvier.protocol.errors import AuthError
from ranvier.protocol.room_versions import KNOWN_ROOM_VERSIONS

from .auth_fixtures import ALICE, ALL_VERSIONS, BOB, CAROL, CREATOR, Room, covers, versions

CREATE = ("m.room.create", "")
PL = ("m.room.power_levels", "")
JR = ("m.room.join_rules", "")


def member(user):
    return ("m.room.member", user)


def selection(version, event_type, state_key, sender, content):
    return auth_types_for_event(KNOWN_ROOM_VERSIONS[version], event_type, state_key, sender,
                                content)


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_create_event_selects_nothing(version):
    assert selection(version, "m.room.create", "", CREATOR, {}) == set()


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_ordinary_events_select_create_power_levels_and_sender(version):
    expected = {PL, member(ALICE)}
    if version != "12":
        expected.add(CREATE)
    assert selection(version, "m.room.message", None, ALICE, {}) == expected
    assert selection(version, "m.room.topic", "", ALICE, {}) == expected


@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize(
    ("membership", "with_join_rules"),
    [("join", True), ("invite", True), ("knock", True), ("leave", False), ("ban", False)],
)
def test_member_events_select_target_and_join_rules(version, membership, with_join_rules):
    chosen = selection(version, "m.room.member", BOB, ALICE, {"membership": membership})
    assert member(BOB) in chosen
    assert (JR in chosen) == with_join_rules
    assert (CREATE in chosen) == (version != "12")


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_third_party_invite_selects_the_invite_for_its_token(version):
    content = {"membership": "invite", "third_party_invite": {"signed": {"token": "tok"}}}
    assert ("m.room.third_party_invite", "tok") in selection(
        version, "m.room.member", BOB, ALICE, content
    )
    for broken in ({}, {"signed": "x"}, {"signed": {"token": 5}}, "x"):
        content = {"membership": "invite", "third_party_invite": broken}
        chosen = selection(version, "m.room.member", BOB, ALICE, content)
        assert not any(kind == "m.room.third_party_invite" for kind, _ in chosen)


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_restricted_join_selects_the_authorisers_membership_from_v8(version):
    content = {"membership": "join", "join_authorised_via_users_server": CAROL}
    chosen = selection(version, "m.room.member", BOB, BOB, content)
    assert (member(CAROL) in chosen) == (int(version) >= 8)
    content = {"membership": "invite", "join_authorised_via_users_server": CAROL}
    assert member(CAROL) not in selection(version, "m.room.member", BOB, ALICE, content)


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_member_event_without_state_key_selects_no_target(version):
    assert selection(version, "m.room.member", None, ALICE, {"membership": "join"}) == (
        selection(version, "m.room.message", None, ALICE, {})
    )


# --- the rules over an event's auth_events list ------------------------------------------


def auth_list(room: Room, *pairs):
    return [room.state[pair] for pair in pairs]


def base_pairs(room: Room, sender: str):
    pairs = [PL, member(sender)]
    return pairs if room.version.room_id_from_create_event else [CREATE, *pairs]


@covers("auth_events.selection", "auth_events.duplicates")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_auth_events_as_selected_pass(version):
    room = Room(version, join_rule="public")
    event = room.member_event(ALICE, "join")
    check_auth_events_list(event, auth_list(room, *base_pairs(room, ALICE)[:-1], JR))


@covers("auth_events.duplicates")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_duplicate_auth_events_for_one_pair_are_rejected(version):
    room = Room(version)
    old_levels = room.state[PL]
    room.update_power_levels(ban=10)
    event = room.event("m.room.message", CREATOR, {})
    auth = [*auth_list(room, *base_pairs(room, CREATOR)), old_levels]
    with pytest.raises(AuthError, match="duplicate auth events"):
        check_auth_events_list(event, auth)


@covers("auth_events.selection")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_auth_event_outside_the_selection_is_rejected(version):
    room = Room(version)
    event = room.event("m.room.message", CREATOR, {})
    with pytest.raises(AuthError, match="is not selected"):
        check_auth_events_list(event, auth_list(room, *base_pairs(room, CREATOR), JR))


@covers("auth_events.selection")
@pytest.mark.parametrize("version", ["12"])
def test_v12_create_event_must_not_be_an_auth_event(version):
    room = Room(version)
    event = room.event("m.room.message", CREATOR, {})
    with pytest.raises(AuthError, match="is not selected"):
        check_auth_events_list(event, auth_list(room, CREATE, PL, member(CREATOR)))


@covers("auth_events.selection")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_non_state_auth_event_is_rejected(version):
    room = Room(version)
    room.join(ALICE)
    message = room.event("m.room.message", ALICE, {})
    event = room.event("m.room.message", ALICE, {})
    with pytest.raises(AuthError, match="is not a state event"):
        check_auth_events_list(event, [*auth_list(room, *base_pairs(room, ALICE)), message])


@covers("auth_events.no_create")
@pytest.mark.parametrize("version", versions(1, 11))
def test_auth_events_without_create_are_rejected(version):
    room = Room(version)
    event = room.event("m.room.message", CREATOR, {})
    with pytest.raises(AuthError, match=r"no m.room.create"):
        check_auth_events_list(event, auth_list(room, PL, member(CREATOR)))


@covers("auth_events.room_id")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_auth_event_of_another_room_in_the_list_is_rejected(version):
    room = Room(version)
    room.state[PL].pdu["room_id"] = "!elsewhere:a.test"
    event = room.event("m.room.message", CREATOR, {})
    with pytest.raises(AuthError, match="belongs to another room"):
        check_auth_events_list(event, auth_list(room, *base_pairs(room, CREATOR)))


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_create_event_auth_events_are_not_examined(version):
    room = Room(version)
    check_auth_events_list(room.create, auth_list(room, PL, PL))
