"""Auth rules of m.room.power_levels events (rule 10 in v1-v5 and v12, 9 in v6-v11), and
reading power levels with each version's value formats and creators."""

from __future__ import annotations

import math

import pytest

from ranvier.protocol.errors import AuthError
from ranvier.protocol.power_levels import (
    CREATOR_POWER_LEVEL,
    event_power_required,
    get_named_level,
    get_room_creators,
    get_user_power_level,
    parse_power_level,
)
from ranvier.protocol.room_versions import KNOWN_ROOM_VERSIONS

from .auth_fixtures import ALICE, ALL_VERSIONS, BOB, CAROL, CREATOR, Room, covers, versions

STRINGY = versions(1, 9)
INT_ONLY = versions(10, 12)
NOTIFICATIONS = versions(where=lambda v: v.limit_notifications_power_levels)
NO_NOTIFICATIONS = versions(where=lambda v: not v.limit_notifications_power_levels)


def moderated_room(version: str, **levels) -> Room:
    """ALICE joined at 70; BOB joined at 70; the given top-level levels set."""
    room = Room(version)
    room.join(ALICE, BOB)
    room.update_power_levels(**levels)
    room.set_level(ALICE, 70)
    room.set_level(BOB, 70)
    return room


def change(room: Room, sender: str = ALICE, **changes):
    """A power levels event from `sender` changing the current content."""
    content = {**room.power_levels_content(), **changes}
    content = {k: v for k, v in content.items() if v is not None}  # None removes a key
    return room.event("m.room.power_levels", sender, content, "")


def with_users(room: Room, **updates):
    users = dict(room.power_levels_content()["users"])
    for user, level in updates.items():
        user_id = {"alice": ALICE, "bob": BOB, "carol": CAROL}[user]
        if level is None:
            users.pop(user_id, None)
        else:
            users[user_id] = level
    return users


# --- shape of the new content -----------------------------------------------------------


@covers("power_levels.users")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize(
    "users",
    [[], "x", {"alice": 10}, {"@alice": 10}, {ALICE: "ten"}, {ALICE: None}, {ALICE: True},
     {ALICE: {"level": 1}}],
)
def test_users_must_map_user_ids_to_integers(version, users):
    room = Room(version)
    with pytest.raises(AuthError, match="users"):
        room.check(change(room, CREATOR, users=users))


@covers("power_levels.users", "power_levels.allow")
@pytest.mark.parametrize("version", STRINGY)
@pytest.mark.parametrize("level", ["10", " +10 ", "-5", "0010"])
def test_users_may_hold_integer_strings_before_v10(version, level):
    room = Room(version)
    room.check(change(room, CREATOR, users=with_users(room, alice=level)))


@covers("power_levels.users")
@pytest.mark.parametrize("version", INT_ONLY)
@pytest.mark.parametrize("level", ["10", 10.0])
def test_users_must_hold_integers_from_v10(version, level):
    room = Room(version)
    with pytest.raises(AuthError, match=r"users.* is not an integer"):
        room.check(change(room, CREATOR, users=with_users(room, alice=level)))


@covers("power_levels.levels_int")
@pytest.mark.parametrize("version", INT_ONLY)
@pytest.mark.parametrize(
    "key", ["users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"]
)
@pytest.mark.parametrize("value", ["50", 50.5, None, True, [50]])
def test_top_level_values_must_be_integers_from_v10(version, key, value):
    room = Room(version)
    content = {**room.power_levels_content(), key: value}
    event = room.event("m.room.power_levels", CREATOR, content, "")
    with pytest.raises(AuthError, match=f"power level {key} is not an integer"):
        room.check(event)


@covers("power_levels.maps_int")
@pytest.mark.parametrize("version", INT_ONLY)
@pytest.mark.parametrize("name", ["events", "notifications"])
@pytest.mark.parametrize("value", [[], "x", {"m.room.name": "50"}, {"room": None}])
def test_events_and_notifications_must_map_to_integers_from_v10(version, name, value):
    room = Room(version)
    with pytest.raises(AuthError, match=f"power level(s)? {name}"):
        room.check(change(room, CREATOR, **{name: value}))


@covers("power_levels.allow")
@pytest.mark.parametrize("version", STRINGY)
def test_stringy_values_are_accepted_before_v10(version):
    room = Room(version)
    room.check(change(room, CREATOR, ban="50", events={"m.room.name": " 60 "},
                      notifications={"room": "+20"}))


@pytest.mark.parametrize("version", STRINGY)
@pytest.mark.parametrize(
    ("key", "value"),
    [("ban", "fifty"), ("kick", "5.0"), ("events", {"m.room.name": "1e3"}),
     ("notifications", {"room": "٣"}), ("events", [])],
)
def test_values_that_are_not_integer_strings_are_rejected_before_v10(version, key, value):
    """Our reading of the stringy-power-levels fragment: in v1-v9 the spec validates only
    `users`, but a value no version can read as a level is rejected rather than guessed."""
    room = Room(version)
    with pytest.raises(AuthError, match=f"power level(s)? {key}"):
        room.check(change(room, CREATOR, **{key: value}))


@covers("power_levels.users", "power_levels.allow")
@pytest.mark.parametrize("version", versions(1, 5))
def test_floats_are_truncated_in_v1_to_v5(version):
    room = moderated_room(version)
    # 70.9 reads as 70: not above ALICE's own level, so she may grant it.
    room.check(change(room, ALICE, users=with_users(room, carol=70.9)))
    with pytest.raises(AuthError, match="above the sender's own level"):
        room.check(change(room, ALICE, users=with_users(room, carol=71.2)))


@covers("power_levels.creators")
@pytest.mark.parametrize("version", ["12"])
@pytest.mark.parametrize("listed", [CREATOR, BOB])
def test_v12_power_levels_cannot_list_a_creator(version, listed):
    room = Room(version, create_content={"additional_creators": [BOB]})
    users = {listed: 100}
    with pytest.raises(AuthError, match="room creators cannot be given a power level"):
        room.check(change(room, CREATOR, users=users))


@covers("power_levels.creators", "power_levels.allow")
@pytest.mark.parametrize("version", ["12"])
def test_v12_creators_have_unlimited_power(version):
    room = Room(version, create_content={"additional_creators": [BOB]})
    room.join(BOB)
    room.check(change(room, BOB, users={ALICE: 2**53 - 1}, ban=2**53 - 1))
    assert get_user_power_level(BOB, room.state) == CREATOR_POWER_LEVEL


# --- the first power levels event ----------------------------------------------------------


@covers("power_levels.first")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_first_power_levels_may_set_any_levels(version):
    room = Room(version, power_levels=False)
    room.check(change_from_nothing(room, users={ALICE: 1000}, ban=1000))


def change_from_nothing(room: Room, **content):
    return room.event("m.room.power_levels", CREATOR, content, "")


# --- top-level levels ------------------------------------------------------------------------


@covers("power_levels.level_current")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize(
    "key", ["users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"]
)
@pytest.mark.parametrize("new", [60, None])
def test_cannot_alter_a_level_currently_above_the_sender(version, key, new):
    room = moderated_room(version, **{key: 71, "events": {"m.room.power_levels": 0}})
    with pytest.raises(AuthError, match=f"cannot change {key}: its current value"):
        room.check(change(room, ALICE, **{key: new}))


@covers("power_levels.level_new")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("key", ["users_default", "state_default", "ban", "kick", "invite"])
def test_cannot_set_a_level_above_the_sender(version, key):
    room = moderated_room(version, events={"m.room.power_levels": 0})
    with pytest.raises(AuthError, match=f"cannot set {key} above"):
        room.check(change(room, ALICE, **{key: 71}))


@covers("power_levels.level_new", "power_levels.allow")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_levels_up_to_the_senders_own_may_be_set(version):
    room = moderated_room(version, state_default=70)
    room.check(change(room, ALICE, ban=70, kick=0, invite=None))


@covers("power_levels.level_current", "power_levels.allow")
@pytest.mark.parametrize("version", STRINGY)
def test_rewriting_a_level_as_a_string_is_no_change(version):
    room = moderated_room(version, ban=100)
    room.check(change(room, ALICE, ban="100"))


# --- events and notifications ------------------------------------------------------------


@covers("power_levels.events_current")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("new", [{"m.room.name": 10}, {}])
def test_cannot_change_or_remove_an_event_level_above_the_sender(version, new):
    room = moderated_room(version, events={"m.room.name": 71})
    with pytest.raises(AuthError, match=r"cannot change events.m.room.name"):
        room.check(change(room, ALICE, events=new))


@covers("power_levels.events_new")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("old", [{}, {"m.room.name": 10}])
def test_cannot_add_or_raise_an_event_level_above_the_sender(version, old):
    room = moderated_room(version, events=old)
    with pytest.raises(AuthError, match=r"cannot set events.m.room.name above"):
        room.check(change(room, ALICE, events={"m.room.name": 71}))


@covers("power_levels.events_current", "power_levels.events_new", "power_levels.allow")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_event_levels_within_the_senders_reach_may_change(version):
    room = moderated_room(version, events={"m.room.name": 70, "m.room.topic": 20})
    room.check(change(room, ALICE, events={"m.room.name": 10, "m.room.avatar": 70}))


@covers("power_levels.events_current", "power_levels.events_new")
@pytest.mark.parametrize("version", NOTIFICATIONS)
@pytest.mark.parametrize(("old", "new"), [({"room": 71}, {"room": 0}), ({}, {"room": 71})])
def test_notification_levels_are_guarded_from_v6(version, old, new):
    room = moderated_room(version, notifications=old)
    with pytest.raises(AuthError, match=r"notifications.room"):
        room.check(change(room, ALICE, notifications=new))


@covers("power_levels.events_current", "power_levels.events_new", "power_levels.allow")
@pytest.mark.parametrize("version", NO_NOTIFICATIONS)
@pytest.mark.parametrize(("old", "new"), [({"room": 71}, {"room": 0}), ({}, {"room": 71})])
def test_notification_levels_are_not_guarded_before_v6(version, old, new):
    room = moderated_room(version, notifications=old)
    room.check(change(room, ALICE, notifications=new))


# --- users ------------------------------------------------------------------------------------


@covers("power_levels.users_current")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("bob_level", [70, 90])
@pytest.mark.parametrize("new", [0, None])
def test_cannot_change_or_remove_a_user_at_or_above_the_sender(version, bob_level, new):
    room = moderated_room(version)
    room.set_level(BOB, bob_level)
    with pytest.raises(AuthError, match=f"cannot change the level of {BOB}"):
        room.check(change(room, ALICE, users=with_users(room, bob=new)))


@covers("power_levels.users_current", "power_levels.allow")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("new", [69, 0, None])
def test_sender_may_lower_or_remove_their_own_level(version, new):
    room = moderated_room(version)
    room.check(change(room, ALICE, users=with_users(room, alice=new)))


@covers("power_levels.users_current", "power_levels.allow")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_sender_may_demote_a_user_below_them(version):
    room = moderated_room(version)
    room.set_level(BOB, 69)
    room.check(change(room, ALICE, users=with_users(room, bob=0)))


@covers("power_levels.users_new")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("user", ["alice", "carol"])
def test_cannot_raise_a_user_above_the_sender(version, user):
    room = moderated_room(version)
    with pytest.raises(AuthError, match="above the sender's own level"):
        room.check(change(room, ALICE, users=with_users(room, **{user: 71})))


@covers("power_levels.users_new", "power_levels.allow")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_sender_may_raise_a_user_to_their_own_level(version):
    room = moderated_room(version)
    room.check(change(room, ALICE, users=with_users(room, carol=70)))


@covers("power_levels.allow")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_resending_the_same_power_levels_is_allowed_for_anyone_able_to_send_them(version):
    room = moderated_room(version, ban=100, events={"m.room.name": 100})
    room.set_level(CAROL, 100)
    room.check(change(room, ALICE))


@covers("required_power")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_sending_power_levels_needs_their_required_level(version):
    room = moderated_room(version, events={"m.room.power_levels": 71})
    with pytest.raises(AuthError, match="power level is below the 71"):
        room.check(change(room, ALICE))


# --- reading power levels -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "readable_in"),
    [
        (50, ALL_VERSIONS),
        (-3, ALL_VERSIONS),
        ("50", STRINGY),
        ("  -007 ", STRINGY),
        ("+1", STRINGY),
        ("1_000", []),
        ("5.0", []),
        ("", []),
        ("١٢", []),  # Arabic-Indic digits: int() would take them, the format does not
        (50.9, versions(1, 5)),
        (5.114698e4, versions(1, 5)),
        (math.inf, []),
        (math.nan, []),
        (True, []),
        (None, []),
        ([1], []),
    ],
)
def test_power_level_values_each_version_can_read(value, readable_in):
    for version in ALL_VERSIONS:
        parsed = parse_power_level(value, KNOWN_ROOM_VERSIONS[version])
        assert (parsed is not None) == (version in readable_in), version
        if parsed is not None:
            assert parsed == int(float(value))


@pytest.mark.parametrize(
    ("version", "content", "expected"),
    [
        ("1", {"creator": ALICE}, {ALICE}),
        ("10", {"creator": ALICE}, {ALICE}),
        ("10", {"creator": 5}, set()),
        ("11", {"creator": ALICE}, {CREATOR}),
        ("11", {"additional_creators": [ALICE]}, {CREATOR}),
        ("12", {"additional_creators": [ALICE, BOB]}, {CREATOR, ALICE, BOB}),
        ("12", {"additional_creators": "nope"}, {CREATOR}),
    ],
)
def test_room_creators_per_version(version, content, expected):
    room = Room(version, create_content=content)
    assert get_room_creators(room.create) == expected


@pytest.mark.parametrize("version", versions(1, 11))
def test_without_power_levels_the_creator_has_100_and_others_0(version):
    room = Room(version, power_levels=False)
    assert get_user_power_level(CREATOR, room.state) == 100
    assert get_user_power_level(ALICE, room.state) == 0


@pytest.mark.parametrize("version", ["12"])
def test_v12_creators_are_infinitely_powerful_with_or_without_power_levels(version):
    for power_levels in (False, True):
        room = Room(version, create_content={"additional_creators": [ALICE]},
                    power_levels=power_levels)
        assert get_user_power_level(CREATOR, room.state) == math.inf
        assert get_user_power_level(ALICE, room.state) == math.inf
        assert get_user_power_level(BOB, room.state) == 0


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_users_default_applies_to_unlisted_users(version):
    room = Room(version)
    room.update_power_levels(users_default=7)
    room.set_level(ALICE, 3)
    assert get_user_power_level(ALICE, room.state) == 3
    assert get_user_power_level(BOB, room.state) == 7


@pytest.mark.parametrize("version", STRINGY)
def test_unreadable_stored_values_fall_back_to_defaults(version):
    room = Room(version)
    room.update_power_levels(users={ALICE: "lots"}, users_default="x", ban="x",
                             events={"m.room.name": "x"}, state_default="x")
    levels = room.state[("m.room.power_levels", "")]
    assert get_user_power_level(ALICE, room.state) == 0
    assert get_named_level("ban", levels) == 50
    assert event_power_required("m.room.name", True, levels) == 50


def test_user_level_without_any_create_event_reads_power_levels_only():
    room = Room("10")
    room.set_level(ALICE, 20)
    state = room.without(("m.room.create", ""))
    assert get_user_power_level(ALICE, state) == 20
    assert get_user_power_level(CREATOR, room.without(("m.room.create", ""),
                                                      ("m.room.power_levels", ""))) == 0


@pytest.mark.parametrize(
    ("is_state", "levels", "expected"),
    [
        (True, None, 50),
        (False, None, 0),
        (True, {"state_default": 20}, 20),
        (False, {"events_default": 20}, 20),
        (False, {"events": {"m.room.message": 30}, "events_default": 5}, 30),
        (True, {"events": "broken", "state_default": 40}, 40),
    ],
)
def test_required_power_level_of_an_event_type(is_state, levels, expected):
    room = Room("10", power_levels=False)
    event = None if levels is None else room.set_power_levels(levels)
    assert event_power_required("m.room.message", is_state, event) == expected


@pytest.mark.parametrize(
    ("name", "expected"), [("invite", 0), ("kick", 50), ("ban", 50), ("redact", 50)]
)
def test_named_levels_default_without_power_levels(name, expected):
    assert get_named_level(name, None) == expected
