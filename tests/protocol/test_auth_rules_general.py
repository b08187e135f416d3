"""Auth rules outside membership and power levels: the create event, v12's room ID,
the auth events the rules read, m.federate, aliases (v1-v5), the sender's membership,
third-party invites, required power levels, user-owned state keys, v1/v2 redactions."""

from __future__ import annotations

import pytest

from ranvier.protocol.errors import AuthError

from .auth_fixtures import ALICE, ALL_VERSIONS, BOB, CREATOR, Room, covers, versions

V1_TO_11 = versions(1, 11)
V12 = ["12"]

# --- 1. m.room.create ------------------------------------------------------------------


def create_event(room: Room, content: dict | None = None, **fields):
    """A fresh create event for `room`'s version (not added to the state)."""
    base = dict(room.create.content) if content is None else content
    event = room.event("m.room.create", CREATOR, base, "", prev_events=[], **fields)
    if room.version.room_id_from_create_event and "room_id" not in fields:
        event.pdu.pop("room_id")
    return event


@covers("create.allow")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_well_formed_create_event_is_allowed(version):
    room = Room(version)
    room.check(create_event(room), state={})


@covers("create.allow")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_create_event_ignores_the_state_it_is_checked_against(version):
    room = Room(version)
    room.check(create_event(room))


@covers("create.prev_events")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_create_event_with_prev_events_is_rejected(version):
    room = Room(version)
    event = create_event(room)
    event.pdu["prev_events"] = room._refs([room.create.event_id])
    with pytest.raises(AuthError, match="no prev_events"):
        room.check(event, state={})


@covers("create.room_id_domain")
@pytest.mark.parametrize("version", V1_TO_11)
def test_create_event_room_id_must_be_on_the_senders_server(version):
    room = Room(version)
    with pytest.raises(AuthError, match="room ID's domain"):
        room.check(create_event(room, room_id="!room:elsewhere.test"), state={})


@covers("create.room_id_domain")
@pytest.mark.parametrize("version", V1_TO_11)
def test_create_event_with_domainless_room_id_is_rejected_before_v12(version):
    room = Room(version)
    with pytest.raises(AuthError, match="room ID's domain"):
        room.check(create_event(room, room_id="!nodomain"), state={})


@covers("create.has_room_id")
@pytest.mark.parametrize("version", V12)
def test_v12_create_event_with_a_room_id_is_rejected(version):
    room = Room(version)
    with pytest.raises(AuthError, match="must not have a room_id"):
        room.check(create_event(room, room_id="!room:a.test"), state={})


@covers("create.room_version")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("room_version", ["13", "org.example.custom", 1, None])
def test_create_event_with_unknown_room_version_is_rejected(version, room_version):
    room = Room(version)
    content = {**room.create.content, "room_version": room_version}
    with pytest.raises(AuthError, match="unknown room version"):
        room.check(create_event(room, content), state={})


@covers("create.room_version", "create.allow")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_create_event_without_room_version_is_allowed(version):
    room = Room(version)
    content = {k: v for k, v in room.create.content.items() if k != "room_version"}
    room.check(create_event(room, content), state={})


@covers("create.creator")
@pytest.mark.parametrize("version", versions(1, 10))
def test_create_event_without_creator_is_rejected_before_v11(version):
    room = Room(version)
    with pytest.raises(AuthError, match="no creator"):
        room.check(create_event(room, {"room_version": version}), state={})


@covers("create.allow")
@pytest.mark.parametrize("version", versions(11, 12))
def test_create_event_needs_no_creator_from_v11(version):
    room = Room(version)
    room.check(create_event(room, {"room_version": version}), state={})


@covers("create.additional_creators")
@pytest.mark.parametrize("version", V12)
@pytest.mark.parametrize(
    "additional",
    ["@bob:b.test", ["@bob:b.test", 5], ["not-a-user"], ["@bob"], [["@bob:b.test"]], None],
)
def test_v12_create_event_with_malformed_additional_creators_is_rejected(version, additional):
    room = Room(version)
    content = {"room_version": version, "additional_creators": additional}
    with pytest.raises(AuthError, match="additional_creators"):
        room.check(create_event(room, content), state={})


@covers("create.additional_creators", "create.allow")
@pytest.mark.parametrize("version", V12)
@pytest.mark.parametrize("additional", [[], ["@bob:b.test", "@Old_Style:c.test"]])
def test_v12_create_event_with_valid_additional_creators_is_allowed(version, additional):
    room = Room(version)
    content = {"room_version": version, "additional_creators": additional}
    room.check(create_event(room, content), state={})


# --- v12 rule 2 and the auth events the rules read -----------------------------------


@covers("room_id.create")
@pytest.mark.parametrize("version", V12)
@pytest.mark.parametrize("room_id", ["!" + "1" * 43, "$" + "x" * 42, None])
def test_v12_event_whose_room_id_is_not_the_create_event_is_rejected(version, room_id):
    room = Room(version)
    room.join(ALICE)
    event = room.event("m.room.message", ALICE, {"body": "hi"}, room_id=room_id)
    with pytest.raises(AuthError, match="not that of the room's create event"):
        room.check(event)


@covers("room_id.create", "allow")
@pytest.mark.parametrize("version", V12)
def test_v12_event_in_the_create_events_room_is_allowed(version):
    room = Room(version)
    room.join(ALICE)
    room.check(room.event("m.room.message", ALICE, {"body": "hi"}))


@covers("auth_events.no_create")
@pytest.mark.parametrize("version", V1_TO_11)
def test_event_checked_without_a_create_event_is_rejected(version):
    room = Room(version)
    event = room.event("m.room.message", CREATOR, {"body": "hi"})
    with pytest.raises(AuthError, match=r"no m\.room\.create"):
        room.check(event, state=room.without(("m.room.create", "")))


@covers("room_id.create")
@pytest.mark.parametrize("version", V12)
def test_v12_event_checked_without_its_create_event_is_rejected(version):
    room = Room(version)
    event = room.event("m.room.message", CREATOR, {"body": "hi"})
    with pytest.raises(AuthError, match=r"no m.room.create"):
        room.check(event, state=room.without(("m.room.create", "")))


@covers("auth_events.room_id")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("foreign", [("m.room.power_levels", ""), ("m.room.member", CREATOR)])
def test_auth_event_from_another_room_is_rejected(version, foreign):
    room = Room(version)
    room.state[foreign].pdu["room_id"] = "!other:a.test"
    event = room.event("m.room.message", CREATOR, {"body": "hi"})
    with pytest.raises(AuthError, match="belongs to another room"):
        room.check(event)


@covers("auth_events.room_id", "allow")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_unselected_state_from_another_room_is_not_read(version):
    room = Room(version)
    room.add(room.event("m.room.topic", CREATOR, {"topic": "x"}, "", room_id="!other:a.test"))
    room.check(room.event("m.room.message", CREATOR, {"body": "hi"}))


# --- 3. m.federate ---------------------------------------------------------------------


@covers("federate")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_unfederated_room_rejects_other_servers(version):
    room = Room(version)
    room.create.pdu["content"]["m.federate"] = False
    room.set_member(BOB, "invite", CREATOR)
    with pytest.raises(AuthError, match="not federated"):
        room.check(room.member_event(BOB, "join"))


@covers("federate", "member.join.invite_rule")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("federate", [False, True, "false"])
def test_m_federate_only_bars_other_servers_when_false(version, federate):
    room = Room(version)
    room.create.pdu["content"]["m.federate"] = federate
    room.set_member(ALICE, "invite", CREATOR)
    room.check(room.member_event(ALICE, "join"))  # same server as the creator
    room.set_member(BOB, "invite", CREATOR)
    if federate is False:
        with pytest.raises(AuthError, match="not federated"):
            room.check(room.member_event(BOB, "join"))
    else:
        room.check(room.member_event(BOB, "join"))


# --- v1-v5 4. m.room.aliases --------------------------------------------------------


@covers("aliases.allow")
@pytest.mark.parametrize("version", versions(1, 5))
def test_aliases_for_the_senders_own_server_are_allowed_even_without_joining(version):
    room = Room(version)
    room.check(room.event("m.room.aliases", BOB, {"aliases": ["#x:b.test"]}, "b.test"))


@covers("aliases.domain")
@pytest.mark.parametrize("version", versions(1, 5))
def test_aliases_under_another_servers_name_are_rejected(version):
    room = Room(version)
    with pytest.raises(AuthError, match="sender's domain"):
        room.check(room.event("m.room.aliases", BOB, {"aliases": []}, "a.test"))


@covers("aliases.no_state_key")
@pytest.mark.parametrize("version", versions(1, 5))
def test_aliases_without_state_key_are_rejected(version):
    room = Room(version)
    with pytest.raises(AuthError, match="must have a state key"):
        room.check(room.event("m.room.aliases", BOB, {"aliases": []}))


@covers("sender_joined", "required_power")
@pytest.mark.parametrize("version", versions(6, 12))
def test_aliases_follow_the_ordinary_state_rules_from_v6(version):
    room = Room(version)
    event = room.event("m.room.aliases", BOB, {"aliases": []}, "b.test")
    with pytest.raises(AuthError, match="not joined"):
        room.check(event)
    room.join(BOB)
    with pytest.raises(AuthError, match="power level is below"):
        room.check(event)
    room.set_level(BOB, 50)
    room.check(event)


# --- the sender's membership, third-party invites, required levels, state keys -------


@covers("sender_joined")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("membership", [None, "invite", "leave", "ban", "knock"])
def test_non_member_events_need_the_sender_joined(version, membership):
    room = Room(version)
    if membership is not None:
        room.set_member(ALICE, membership, CREATOR)
    with pytest.raises(AuthError, match="not joined"):
        room.check(room.event("m.room.message", ALICE, {"body": "hi"}))


@covers("sender_joined", "allow")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_joined_member_can_send_a_message(version):
    room = Room(version)
    room.join(ALICE)
    room.check(room.event("m.room.message", ALICE, {"body": "hi"}))


@covers("third_party_invite")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_third_party_invite_needs_the_invite_level(version):
    room = Room(version)
    room.join(ALICE)
    room.update_power_levels(invite=10, state_default=0)
    event = room.event("m.room.third_party_invite", ALICE, {"display_name": "x"}, "token")
    with pytest.raises(AuthError, match="below the invite level"):
        room.check(event)
    room.set_level(ALICE, 10)
    room.check(event)


@covers("third_party_invite")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_third_party_invite_ignores_the_state_default(version):
    room = Room(version)
    room.join(ALICE)
    room.update_power_levels(state_default=100, events={"m.room.third_party_invite": 100})
    room.check(room.event("m.room.third_party_invite", ALICE, {"display_name": "x"}, "t"))


@covers("required_power")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize(
    ("event_type", "state_key", "levels", "allowed_at"),
    [
        ("m.room.message", None, {}, 0),
        ("m.room.message", None, {"events_default": 20}, 20),
        ("m.room.topic", "", {}, 50),
        ("m.room.topic", "", {"state_default": 30}, 30),
        ("m.room.topic", "", {"events": {"m.room.topic": 10}}, 10),
        ("m.room.message", None, {"events": {"m.room.message": 40}}, 40),
        ("m.room.redaction", None, {"events": {"m.room.redaction": 5}}, 5),
    ],
)
def test_event_needs_its_types_required_power_level(
    version, event_type, state_key, levels, allowed_at
):
    room = Room(version)
    room.join(ALICE)
    room.update_power_levels(**levels)
    event = room.event(
        event_type, ALICE, {"body": "x", "redacts": "$x:a.test"}, state_key, redacts="$x:a.test"
    )
    if allowed_at > 0:
        room.set_level(ALICE, allowed_at - 1)
        with pytest.raises(AuthError, match="power level is below"):
            room.check(event)
    room.set_level(ALICE, allowed_at)
    room.check(event)


@covers("required_power")
@pytest.mark.parametrize("version", versions(1, 11))
def test_without_power_levels_only_the_creator_can_send_state(version):
    room = Room(version, power_levels=False)
    room.join(ALICE)
    room.check(room.event("m.room.topic", CREATOR, {"topic": "x"}, ""))
    room.check(room.event("m.room.message", ALICE, {"body": "x"}))
    with pytest.raises(AuthError, match="power level is below"):
        room.check(room.event("m.room.topic", ALICE, {"topic": "x"}, ""))


@covers("user_state_key")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_state_key_naming_another_user_is_rejected(version):
    room = Room(version)
    room.join(ALICE)
    room.set_level(ALICE, 50)
    with pytest.raises(AuthError, match="must be the sender's user ID"):
        room.check(room.event("org.example.profile", ALICE, {}, BOB))


@covers("user_state_key", "allow")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("state_key", [ALICE, "", "alice", "_@bob:b.test"])
def test_state_key_that_is_the_sender_or_not_a_user_is_allowed(version, state_key):
    room = Room(version)
    room.join(ALICE)
    room.set_level(ALICE, 50)
    room.check(room.event("org.example.profile", ALICE, {}, state_key))


# --- v1, v2 11. m.room.redaction ------------------------------------------------------


def redaction(room: Room, sender: str, redacts: str):
    content = {"redacts": redacts} if room.version.updated_redaction_rules else {}
    return room.event("m.room.redaction", sender, content, redacts=redacts)


@covers("redaction.level")
@pytest.mark.parametrize("version", versions(1, 2))
def test_v1_redaction_of_another_servers_event_needs_the_redact_level(version):
    room = Room(version)
    room.join(BOB)
    room.update_power_levels(redact=20)
    room.set_level(BOB, 20)
    room.check(redaction(room, BOB, "$theirs:a.test"))


@covers("redaction.domain")
@pytest.mark.parametrize("version", versions(1, 2))
def test_v1_redaction_of_an_event_from_its_own_server_is_allowed(version):
    room = Room(version)
    room.join(BOB)
    room.check(redaction(room, BOB, "$mine:b.test"))


@covers("redaction.otherwise")
@pytest.mark.parametrize("version", versions(1, 2))
@pytest.mark.parametrize("redacts", ["$theirs:a.test", None, "not-an-id"])
def test_v1_redaction_of_another_servers_event_below_redact_level_is_rejected(version, redacts):
    room = Room(version)
    room.join(BOB)
    event = redaction(room, BOB, redacts)
    with pytest.raises(AuthError, match="redact level"):
        room.check(event)


@covers("allow")
@pytest.mark.parametrize("version", versions(3, 12))
def test_redaction_auth_ignores_the_redact_level_from_v3(version):
    room = Room(version)
    room.join(BOB)
    room.update_power_levels(redact=100)
    room.check(redaction(room, BOB, "$" + "9" * 43))
