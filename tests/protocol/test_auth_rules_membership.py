"""Auth rules of m.room.member events (rule 5 in v1-v5 and v12, rule 4 in v6-v11)."""

from __future__ import annotations

import pytest
from signedjson.key import encode_verify_key_base64, generate_signing_key, get_verify_key
from signedjson.sign import sign_json

from ranvier.protocol.errors import AuthError

from .auth_fixtures import ALICE, ALL_VERSIONS, BOB, CAROL, CREATOR, Room, covers, versions

KNOCK = versions(where=lambda v: v.knock_join_rule)
NO_KNOCK = versions(where=lambda v: not v.knock_join_rule)
RESTRICTED = versions(where=lambda v: v.restricted_join_rule)
KNOCK_RESTRICTED = versions(where=lambda v: v.knock_restricted_join_rule)


# --- fields ------------------------------------------------------------------------------


@covers("member.fields")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize(
    ("state_key", "content"),
    [(None, {"membership": "join"}), (ALICE, {}), (ALICE, {"membership": 1})],
)
def test_member_event_needs_state_key_and_membership(version, state_key, content):
    room = Room(version, join_rule="public")
    with pytest.raises(AuthError, match="needs a state key and a string membership"):
        room.check(room.event("m.room.member", ALICE, content, state_key))


@covers("member.unknown")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("membership", ["Join", "kick", "private"])
def test_unknown_membership_is_rejected(version, membership):
    room = Room(version, join_rule="public")
    with pytest.raises(AuthError, match="unknown membership"):
        room.check(room.member_event(ALICE, membership))


@covers("member.unknown")
@pytest.mark.parametrize("version", NO_KNOCK)
def test_knock_membership_is_unknown_before_v7(version):
    room = Room(version, join_rule="public")
    with pytest.raises(AuthError, match="unknown membership 'knock'"):
        room.check(room.member_event(ALICE, "knock"))


# --- join ----------------------------------------------------------------------------------


@covers("member.join.creator")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_creators_first_join_after_the_create_event_is_allowed(version):
    room = Room(version, power_levels=False, join_rule=None)
    state = {("m.room.create", ""): room.create}
    room.check(room.member_event(CREATOR, "join"), state=state)


@covers("member.join.creator", "member.join.sender")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_first_join_by_anyone_else_follows_the_ordinary_rules(version):
    room = Room(version, power_levels=False, join_rule=None)
    state = {("m.room.create", ""): room.create}
    with pytest.raises(AuthError, match="has no invite"):
        room.check(room.member_event(ALICE, "join"), state=state)
    # The rule looks at the state key only, so the creator can be joined by another sender.
    room.check(room.member_event(CREATOR, "join", sender=ALICE), state=state)


@covers("member.join.creator")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_creators_join_after_other_events_needs_the_join_rules(version):
    room = Room(version, join_rule="invite")
    room.state.pop(("m.room.member", CREATOR))
    topic = room.event("m.room.topic", CREATOR, {}, "")
    with pytest.raises(AuthError, match="has no invite"):
        room.check(
            room.event(
                "m.room.member",
                CREATOR,
                {"membership": "join"},
                CREATOR,
                prev_events=[topic.event_id],
            )
        )
    with pytest.raises(AuthError, match="has no invite"):
        room.check(
            room.event(
                "m.room.member",
                CREATOR,
                {"membership": "join"},
                CREATOR,
                prev_events=[room.create.event_id, topic.event_id],
            )
        )


@covers("member.join.creator")
@pytest.mark.parametrize("version", versions(1, 10))
def test_before_v11_the_first_joiner_is_content_creator(version):
    room = Room(version, create_content={"creator": ALICE}, power_levels=False, join_rule=None)
    state = {("m.room.create", ""): room.create}
    room.check(room.member_event(ALICE, "join"), state=state)
    with pytest.raises(AuthError, match="has no invite"):
        room.check(room.member_event(CREATOR, "join"), state=state)


@covers("member.join.creator")
@pytest.mark.parametrize("version", versions(11, 12))
def test_from_v11_the_first_joiner_is_the_create_events_sender(version):
    room = Room(version, create_content={"creator": ALICE}, power_levels=False, join_rule=None)
    state = {("m.room.create", ""): room.create}
    room.check(room.member_event(CREATOR, "join"), state=state)
    with pytest.raises(AuthError, match="has no invite"):
        room.check(room.member_event(ALICE, "join"), state=state)


@covers("member.join.creator")
@pytest.mark.parametrize("version", ["12"])
def test_additional_creators_do_not_get_the_first_join(version):
    room = Room(
        version, create_content={"additional_creators": [ALICE]}, join_rule=None, power_levels=False
    )
    state = {("m.room.create", ""): room.create}
    with pytest.raises(AuthError, match="has no invite"):
        room.check(room.member_event(ALICE, "join"), state=state)


@covers("member.join.sender")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_joining_someone_else_is_rejected(version):
    room = Room(version, join_rule="public")
    with pytest.raises(AuthError, match="only the user themselves can join"):
        room.check(room.member_event(ALICE, "join", sender=CREATOR))


@covers("member.join.banned")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_banned_user_cannot_join_a_public_room(version):
    room = Room(version, join_rule="public")
    room.set_member(ALICE, "ban", CREATOR)
    with pytest.raises(AuthError, match="is banned"):
        room.check(room.member_event(ALICE, "join"))


@covers("member.join.invite_rule")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("current", ["invite", "join"])
def test_invited_or_joined_user_can_join_an_invite_room(version, current):
    room = Room(version, join_rule="invite")
    room.set_member(ALICE, current, CREATOR if current == "invite" else ALICE)
    room.check(room.member_event(ALICE, "join"))


@covers("member.join.invite_rule")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("current", [None, "leave", "knock"])
def test_uninvited_user_cannot_join_an_invite_room(version, current):
    room = Room(version, join_rule="invite")
    if current is not None:
        room.set_member(ALICE, current)
    with pytest.raises(AuthError, match="has no invite to this invite room"):
        room.check(room.member_event(ALICE, "join"))


@covers("member.join.invite_rule")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_room_without_join_rules_is_treated_as_invite_only(version):
    room = Room(version, join_rule=None)
    with pytest.raises(AuthError, match="has no invite"):
        room.check(room.member_event(ALICE, "join"))
    room.set_member(ALICE, "invite", CREATOR)
    room.check(room.member_event(ALICE, "join"))


@covers("member.join.invite_rule")
@pytest.mark.parametrize("version", KNOCK)
def test_knock_room_admits_only_the_invited(version):
    room = Room(version, join_rule="knock")
    room.set_member(ALICE, "knock")
    with pytest.raises(AuthError, match="has no invite to this knock room"):
        room.check(room.member_event(ALICE, "join"))
    room.set_member(ALICE, "invite", CREATOR)
    room.check(room.member_event(ALICE, "join"))


@covers("member.join.otherwise")
@pytest.mark.parametrize("version", NO_KNOCK)
def test_knock_join_rule_means_nothing_before_v7(version):
    room = Room(version, join_rule="knock")
    room.set_member(ALICE, "invite", CREATOR)
    with pytest.raises(AuthError, match="join rule 'knock' does not let"):
        room.check(room.member_event(ALICE, "join"))


@covers("member.join.public")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("current", [None, "leave", "invite"])
def test_anyone_not_banned_can_join_a_public_room(version, current):
    room = Room(version, join_rule="public")
    if current is not None:
        room.set_member(ALICE, current, CREATOR)
    room.check(room.member_event(ALICE, "join"))


@covers("member.join.otherwise")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("join_rule", ["private", "secret", None])
def test_join_under_another_join_rule_is_rejected(version, join_rule):
    room = Room(version)
    room.add(room.event("m.room.join_rules", CREATOR, {"join_rule": join_rule}, ""))
    room.set_member(ALICE, "invite", CREATOR)
    with pytest.raises(AuthError, match="does not let"):
        room.check(room.member_event(ALICE, "join"))


# --- restricted joins ------------------------------------------------------------------


def restricted_room(version: str, join_rule: str = "restricted") -> Room:
    room = Room(version, join_rule=join_rule)
    room.join(BOB)
    room.update_power_levels(invite=20)
    room.set_level(BOB, 20)
    return room


def restricted_join(room: Room, authoriser: object = BOB):
    return room.member_event(ALICE, "join", join_authorised_via_users_server=authoriser)


def restricted_cases(first: int, join_rules: tuple[str, ...]) -> list:
    return [
        (v, rule)
        for v in versions(first)
        for rule in join_rules
        if rule == "restricted" or v in KNOCK_RESTRICTED
    ]


RESTRICTED_CASES = restricted_cases(8, ("restricted", "knock_restricted"))


@covers("member.join.restricted_allow")
@pytest.mark.parametrize(("version", "join_rule"), RESTRICTED_CASES)
def test_restricted_join_vouched_for_by_a_joined_inviter_is_allowed(version, join_rule):
    room = restricted_room(version, join_rule)
    room.check(restricted_join(room))


@covers("member.join.restricted_member")
@pytest.mark.parametrize(("version", "join_rule"), RESTRICTED_CASES)
@pytest.mark.parametrize("current", ["invite", "join"])
def test_restricted_join_of_an_invited_or_joined_user_needs_no_authoriser(
    version, join_rule, current
):
    room = restricted_room(version, join_rule)
    room.set_member(ALICE, current, CREATOR if current == "invite" else ALICE)
    room.check(room.member_event(ALICE, "join"))


@covers("member.join.restricted_authoriser")
@pytest.mark.parametrize(("version", "join_rule"), RESTRICTED_CASES)
@pytest.mark.parametrize("authoriser", [None, 5, CAROL])
def test_restricted_join_without_a_joined_authoriser_is_rejected(version, join_rule, authoriser):
    room = restricted_room(version, join_rule)
    room.set_member(CAROL, "leave")
    room.set_level(CAROL, 100)
    event = room.member_event(ALICE, "join")
    if authoriser is not None:
        event = restricted_join(room, authoriser)
    with pytest.raises(AuthError, match=r"join_authorised_via_users_server|not joined"):
        room.check(event)


@covers("member.join.restricted_authoriser")
@pytest.mark.parametrize(("version", "join_rule"), RESTRICTED_CASES)
def test_restricted_join_vouched_for_by_a_member_who_cannot_invite_is_rejected(version, join_rule):
    room = restricted_room(version, join_rule)
    room.set_level(BOB, 19)
    with pytest.raises(AuthError, match="may not invite"):
        room.check(restricted_join(room))


@covers("member.join.banned")
@pytest.mark.parametrize(("version", "join_rule"), RESTRICTED_CASES)
def test_banned_user_cannot_join_a_restricted_room(version, join_rule):
    room = restricted_room(version, join_rule)
    room.set_member(ALICE, "ban", CREATOR)
    with pytest.raises(AuthError, match="is banned"):
        room.check(restricted_join(room))


@covers("member.join.otherwise")
@pytest.mark.parametrize(
    ("version", "join_rule"),
    [(v, "restricted") for v in versions(1, 7)] + [(v, "knock_restricted") for v in versions(1, 9)],
)
def test_restricted_join_rules_mean_nothing_before_their_versions(version, join_rule):
    room = restricted_room(version, join_rule)
    with pytest.raises(AuthError, match=f"join rule '{join_rule}' does not let"):
        room.check(restricted_join(room))


# --- invite ----------------------------------------------------------------------------


@covers("member.invite.allow")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("current", [None, "leave", "invite", "knock"])
def test_joined_member_at_invite_level_can_invite(version, current):
    room = Room(version)
    room.join(BOB)
    if current is not None:
        room.set_member(ALICE, current)
    room.check(room.member_event(ALICE, "invite", sender=BOB))


@covers("member.invite.otherwise")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_member_below_invite_level_cannot_invite(version):
    room = Room(version)
    room.join(BOB)
    room.update_power_levels(invite=10)
    with pytest.raises(AuthError, match="below the invite level"):
        room.check(room.member_event(ALICE, "invite", sender=BOB))
    room.set_level(BOB, 10)
    room.check(room.member_event(ALICE, "invite", sender=BOB))


@covers("member.invite.sender_joined")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("sender_membership", [None, "invite", "leave"])
def test_non_member_cannot_invite(version, sender_membership):
    room = Room(version)
    if sender_membership is not None:
        room.set_member(BOB, sender_membership, CREATOR)
    with pytest.raises(AuthError, match=r"inviter .* is not joined"):
        room.check(room.member_event(ALICE, "invite", sender=BOB))


@covers("member.invite.target")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("current", ["join", "ban"])
def test_joined_or_banned_user_cannot_be_invited(version, current):
    room = Room(version)
    room.set_member(ALICE, current, ALICE if current == "join" else CREATOR)
    with pytest.raises(AuthError, match="joined or banned and cannot be invited"):
        room.check(room.member_event(ALICE, "invite", sender=CREATOR))


# --- third-party invites -------------------------------------------------------------


class ThirdPartyInvite:
    """An m.room.third_party_invite by CREATOR and a redeeming invite of ALICE."""

    def __init__(self, room: Room, *, keys_as: str = "public_key") -> None:
        self.room = room
        self.key = generate_signing_key("1")
        public = encode_verify_key_base64(get_verify_key(self.key))
        content = {"display_name": "a...@example.org"}
        if keys_as == "public_key":
            content["public_key"] = public
        else:
            content["public_key"] = "bm90IGEga2V5"  # a wrong key first: any key may match
            content["public_keys"] = [
                {"public_key": "AAAA"},
                "junk",
                {"public_key": public, "key_validity_url": "https://id.test/isvalid"},
            ]
        room.add(room.event("m.room.third_party_invite", CREATOR, content, "tok"))

    def signed(self, mxid: str = ALICE, token: str = "tok") -> dict:
        return sign_json({"mxid": mxid, "token": token}, "id.test", self.key)

    def invite(self, signed: object = None, sender: str = CREATOR, target: str = ALICE):
        third_party = {
            "display_name": "alice",
            "signed": self.signed() if signed is None else signed,
        }
        return self.room.event(
            "m.room.member",
            sender,
            {"membership": "invite", "third_party_invite": third_party},
            target,
        )


@covers("member.invite.tpi_signature")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("keys_as", ["public_key", "public_keys"])
def test_third_party_invite_signed_by_the_invites_key_is_allowed(version, keys_as):
    room = Room(version)
    room.check(ThirdPartyInvite(room, keys_as=keys_as).invite())


@covers("member.invite.tpi_signature")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_third_party_invite_bypasses_the_invite_level(version):
    room = Room(version)
    tpi = ThirdPartyInvite(room)
    room.update_power_levels(invite=1000)
    room.check(tpi.invite())


@covers("member.invite.tpi_banned")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_third_party_invite_of_a_banned_user_is_rejected(version):
    room = Room(version)
    tpi = ThirdPartyInvite(room)
    room.set_member(ALICE, "ban", CREATOR)
    with pytest.raises(AuthError, match="is banned"):
        room.check(tpi.invite())


@covers("member.invite.tpi_signed")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_third_party_invite_without_signed_is_rejected(version):
    room = Room(version)
    ThirdPartyInvite(room)
    for third_party in ({"display_name": "alice"}, "not an object", {"signed": "x"}):
        event = room.event(
            "m.room.member",
            CREATOR,
            {"membership": "invite", "third_party_invite": third_party},
            ALICE,
        )
        with pytest.raises(AuthError, match="no signed object"):
            room.check(event)


@covers("member.invite.tpi_mxid_token")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("signed", [{"token": "tok"}, {"mxid": ALICE}, {"mxid": ALICE, "token": 1}])
def test_third_party_invite_signed_needs_mxid_and_token(version, signed):
    room = Room(version)
    tpi = ThirdPartyInvite(room)
    with pytest.raises(AuthError, match="needs mxid and token"):
        room.check(tpi.invite(signed=sign_json(signed, "id.test", tpi.key)))


@covers("member.invite.tpi_mxid")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_third_party_invite_for_another_user_is_rejected(version):
    room = Room(version)
    tpi = ThirdPartyInvite(room)
    with pytest.raises(AuthError, match="mxid is not the invited user"):
        room.check(tpi.invite(signed=tpi.signed(mxid=BOB)))


@covers("member.invite.tpi_token")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_third_party_invite_with_unknown_token_is_rejected(version):
    room = Room(version)
    tpi = ThirdPartyInvite(room)
    with pytest.raises(AuthError, match=r"no m.room.third_party_invite with token 'other'"):
        room.check(tpi.invite(signed=tpi.signed(token="other")))


@covers("member.invite.tpi_sender")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_third_party_invite_redeemed_by_someone_else_is_rejected(version):
    room = Room(version)
    room.join(BOB)
    tpi = ThirdPartyInvite(room)
    with pytest.raises(AuthError, match="only the sender of the third-party invite"):
        room.check(tpi.invite(sender=BOB))


@covers("member.invite.tpi_otherwise")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_third_party_invite_with_bad_signatures_is_rejected(version):
    room = Room(version)
    tpi = ThirdPartyInvite(room)
    stranger = generate_signing_key("1")
    unsigned = {"mxid": ALICE, "token": "tok"}
    tampered = {**tpi.signed(), "mxid": ALICE, "extra": "field"}
    cases = [
        unsigned,
        sign_json(dict(unsigned), "id.test", stranger),
        tampered,
        {**unsigned, "signatures": "nope"},
        {**unsigned, "signatures": {"id.test": "nope"}},
        {**unsigned, "signatures": {"id.test": {"curve25519:1": "AAAA"}}},
        {**unsigned, "signatures": {"id.test": {"ed25519:1": "%%%"}}},
    ]
    for signed in cases:
        with pytest.raises(AuthError, match="not signed by the invite's keys"):
            room.check(tpi.invite(signed=signed))


# --- leave ---------------------------------------------------------------------------------


@covers("member.leave.self")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("current", ["invite", "join"])
def test_invited_or_joined_user_can_leave(version, current):
    room = Room(version)
    room.set_member(ALICE, current, CREATOR if current == "invite" else ALICE)
    room.check(room.member_event(ALICE, "leave"))


@covers("member.leave.self")
@pytest.mark.parametrize("version", KNOCK)
def test_knocking_user_can_withdraw_from_v7(version):
    room = Room(version, join_rule="knock")
    room.set_member(ALICE, "knock")
    room.check(room.member_event(ALICE, "leave"))


@covers("member.leave.self")
@pytest.mark.parametrize(
    ("version", "current"),
    [(v, m) for v in ALL_VERSIONS for m in (None, "leave", "ban")]
    + [(v, "knock") for v in NO_KNOCK],
)
def test_user_cannot_leave_from_other_memberships(version, current):
    room = Room(version)
    if current is not None:
        room.set_member(ALICE, current, CREATOR if current == "ban" else ALICE)
    with pytest.raises(AuthError, match="cannot leave from membership"):
        room.check(room.member_event(ALICE, "leave"))


@covers("member.leave.sender_joined")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_non_member_cannot_kick(version):
    room = Room(version)
    room.join(ALICE)
    room.set_member(BOB, "leave")
    room.set_level(BOB, 100)
    with pytest.raises(AuthError, match=r"sender .* is not joined"):
        room.check(room.member_event(ALICE, "leave", sender=BOB))


@covers("member.leave.kick")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("current", ["join", "invite", "leave", "knock", None])
def test_member_at_kick_level_above_target_can_kick(version, current):
    room = Room(version)
    if current is not None:
        room.set_member(ALICE, current)
    room.join(BOB)
    room.set_level(BOB, 50)
    room.check(room.member_event(ALICE, "leave", sender=BOB))


@covers("member.leave.otherwise")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_kick_below_kick_level_is_rejected(version):
    room = Room(version)
    room.join(ALICE, BOB)
    room.set_level(BOB, 49)
    with pytest.raises(AuthError, match="below the kick level"):
        room.check(room.member_event(ALICE, "leave", sender=BOB))


@covers("member.leave.otherwise")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("target_level", [60, 61])
def test_kick_of_an_equal_or_higher_user_is_rejected(version, target_level):
    room = Room(version)
    room.join(ALICE, BOB)
    room.set_level(BOB, 60)
    room.set_level(ALICE, target_level)
    with pytest.raises(AuthError, match="is not below the sender's"):
        room.check(room.member_event(ALICE, "leave", sender=BOB))


@covers("member.leave.unban", "member.leave.kick")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_unban_needs_both_ban_and_kick_levels(version):
    room = Room(version)
    room.set_member(ALICE, "ban", CREATOR)
    room.join(BOB)
    room.update_power_levels(ban=70, kick=60)
    unban = room.member_event(ALICE, "leave", sender=BOB)
    room.set_level(BOB, 69)
    with pytest.raises(AuthError, match="unbanning needs the ban level"):
        room.check(unban)
    room.update_power_levels(ban=60, kick=70)
    with pytest.raises(AuthError, match="below the kick level"):
        room.check(unban)
    room.set_level(BOB, 70)
    room.check(unban)


# --- ban ---------------------------------------------------------------------------------


@covers("member.ban.allow")
@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("current", [None, "join", "leave", "ban", "invite"])
def test_member_at_ban_level_above_target_can_ban(version, current):
    room = Room(version)
    if current is not None:
        room.set_member(ALICE, current, CREATOR if current in ("ban", "invite") else ALICE)
    room.join(BOB)
    room.set_level(BOB, 50)
    room.check(room.member_event(ALICE, "ban", sender=BOB))


@covers("member.ban.sender_joined")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_non_member_cannot_ban(version):
    room = Room(version)
    room.set_member(BOB, "invite", CREATOR)
    room.set_level(BOB, 100)
    with pytest.raises(AuthError, match=r"sender .* is not joined"):
        room.check(room.member_event(ALICE, "ban", sender=BOB))


@covers("member.ban.otherwise")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_ban_below_ban_level_is_rejected(version):
    room = Room(version)
    room.join(ALICE, BOB)
    room.update_power_levels(ban=80)
    room.set_level(BOB, 79)
    with pytest.raises(AuthError, match="below the ban level"):
        room.check(room.member_event(ALICE, "ban", sender=BOB))


@covers("member.ban.otherwise")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_ban_of_an_equal_user_is_rejected(version):
    room = Room(version)
    room.join(ALICE, BOB)
    room.set_level(BOB, 50)
    room.set_level(ALICE, 50)
    with pytest.raises(AuthError, match="is not below the sender's"):
        room.check(room.member_event(ALICE, "ban", sender=BOB))


@covers("member.ban.allow")
@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_user_can_ban_themselves_only_if_they_outrank_themselves(version):
    room = Room(version)
    with pytest.raises(AuthError, match="is not below the sender's"):
        room.check(room.member_event(CREATOR, "ban"))


# --- knock ---------------------------------------------------------------------------------


@covers("member.knock.allow")
@pytest.mark.parametrize(
    ("version", "join_rule"),
    [(v, "knock") for v in KNOCK] + [(v, "knock_restricted") for v in KNOCK_RESTRICTED],
)
@pytest.mark.parametrize("current", [None, "leave", "knock"])
def test_user_can_knock_on_a_knock_room(version, join_rule, current):
    room = Room(version, join_rule=join_rule)
    if current is not None:
        room.set_member(ALICE, current)
    room.check(room.member_event(ALICE, "knock"))


@covers("member.knock.join_rule")
@pytest.mark.parametrize(
    ("version", "join_rule"),
    [(v, rule) for v in KNOCK for rule in ("public", "invite", "restricted")]
    + [(v, "knock_restricted") for v in KNOCK if v not in KNOCK_RESTRICTED],
)
def test_knock_on_a_room_that_does_not_take_knocks_is_rejected(version, join_rule):
    room = Room(version, join_rule=join_rule)
    with pytest.raises(AuthError, match="does not allow knocking"):
        room.check(room.member_event(ALICE, "knock"))


@covers("member.knock.sender")
@pytest.mark.parametrize("version", KNOCK)
def test_knocking_for_someone_else_is_rejected(version):
    room = Room(version, join_rule="knock")
    with pytest.raises(AuthError, match="only the user themselves can knock"):
        room.check(room.member_event(ALICE, "knock", sender=CREATOR))


@covers("member.knock.otherwise")
@pytest.mark.parametrize("version", KNOCK)
@pytest.mark.parametrize("current", ["ban", "invite", "join"])
def test_banned_invited_or_joined_user_cannot_knock(version, current):
    room = Room(version, join_rule="knock")
    room.set_member(ALICE, current, ALICE if current == "join" else CREATOR)
    with pytest.raises(AuthError, match="cannot knock"):
        room.check(room.member_event(ALICE, "knock"))


# --- the signature rule is checked elsewhere -------------------------------------------


@pytest.mark.parametrize("version", RESTRICTED)
def test_authorising_server_signature_is_not_checked_here(version):
    """4.2 (v12: 5.2) is enforced by signature verification; a join naming an authoriser
    in a public room passes these rules without any signature."""
    room = Room(version, join_rule="public")
    room.check(room.member_event(ALICE, "join", join_authorised_via_users_server=BOB))
