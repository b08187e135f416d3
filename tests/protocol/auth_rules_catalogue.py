"""Every authorization rule of room versions 1-12, named once, with the number each
version's spec text gives it.

Rule ids are what tests declare with `@covers(...)`; `gen_auth_rules_table.py` turns
them into docs/AUTH_RULES.md. Numbering sources: rooms/fragments/v1-auth-rules.md (v1,
v2), v3-auth-rules.md (v3-v5), rooms/v6.md, v7.md, fragments/v8-auth-rules.md (v8,
v9), rooms/v10.md, v11.md, v12.md.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    numbers: dict[int, str]  # room version -> the spec's number for this rule
    #: Not decided by auth_rules.py (e.g. signatures, rejected auth events); the table
    #: says who checks it instead of naming tests.
    checked_by: str | None = None


def _number(spans: list[tuple[int, int, str]]) -> dict[int, str]:
    return {v: number for first, last, number in spans for v in range(first, last + 1)}


# Where each group of rules starts, per version. The member rule moved from 5 to 4 when
# v6 dropped the aliases rule, and back to 5 when v12 inserted its room ID rule; inside
# it, v8 inserted 4.2 (join_authorised_via_users_server) before the membership cases.
def _member(sub: str, first: int = 1, last: int = 12) -> dict[int, str]:
    spans = [(1, 5, "5"), (6, 11, "4"), (12, 12, "5")]
    return {
        v: f"{prefix}.{sub}"
        for a, b, prefix in spans
        for v in range(max(a, first), min(b, last) + 1)
    }


def _membership_case(case_v1: int, sub: str, first: int = 1, last: int = 12) -> dict[int, str]:
    """A rule under membership case `case_v1` (its index before v8 shifted it by one)."""
    out = {}
    for v, number in _member("", first, last).items():
        case = case_v1 + (1 if v >= 8 else 0)
        out[v] = f"{number}{case}" + (f".{sub}" if sub else "")
    return out


def _top(v1_5: str, v6_11: str, v12: str) -> dict[int, str]:
    return _number([(1, 5, v1_5), (6, 11, v6_11), (12, 12, v12)])


def _pl(sub_v1_9: str | None, sub_v10_11: str | None, sub_v12: str | None) -> dict[int, str]:
    spans = []
    if sub_v1_9 is not None:
        spans += [(1, 5, f"10.{sub_v1_9}"), (6, 9, f"9.{sub_v1_9}")]
    if sub_v10_11 is not None:
        spans.append((10, 11, f"9.{sub_v10_11}"))
    if sub_v12 is not None:
        spans.append((12, 12, f"10.{sub_v12}"))
    return _number(spans)


RULES: list[Rule] = [
    # 1. m.room.create
    Rule("create.prev_events", "create: has prev_events -> reject", _number([(1, 12, "1.1")])),
    Rule(
        "create.room_id_domain",
        "create: room ID domain is not the sender's -> reject",
        _number([(1, 11, "1.2")]),
    ),
    Rule("create.has_room_id", "create: has a room_id -> reject", _number([(12, 12, "1.2")])),
    Rule(
        "create.room_version",
        "create: unrecognised content.room_version -> reject",
        _number([(1, 12, "1.3")]),
    ),
    Rule("create.creator", "create: no content.creator -> reject", _number([(1, 10, "1.4")])),
    Rule(
        "create.additional_creators",
        "create: additional_creators not an array of valid user IDs -> reject",
        _number([(12, 12, "1.4")]),
    ),
    Rule(
        "create.allow",
        "create: otherwise allow",
        _number([(1, 10, "1.5"), (11, 11, "1.4"), (12, 12, "1.5")]),
    ),
    # v12 2. room ID
    Rule(
        "room_id.create",
        "room_id is not the create event's ID with '!' -> reject",
        _number([(12, 12, "2")]),
    ),
    # 2. auth events (v12: 3)
    Rule(
        "auth_events.duplicates",
        "auth events: duplicate type/state_key -> reject",
        _number([(1, 11, "2.1"), (12, 12, "3.1")]),
    ),
    Rule(
        "auth_events.selection",
        "auth events: entry not picked by the selection -> reject",
        _number([(1, 11, "2.2"), (12, 12, "3.2")]),
    ),
    Rule(
        "auth_events.rejected",
        "auth events: entry was itself rejected -> reject",
        _number([(1, 11, "2.3"), (12, 12, "3.3")]),
        checked_by="caller (storage keeps the rejected flag; pass only accepted events)",
    ),
    Rule(
        "auth_events.no_create",
        "auth events: no m.room.create -> reject",
        _number([(1, 11, "2.4")]),
    ),
    Rule(
        "auth_events.room_id",
        "auth events: entry from another room -> reject",
        _number([(1, 11, "2.5"), (12, 12, "3.5")]),
    ),
    Rule(
        "federate", "m.federate false and sender from another server -> reject", _top("3", "3", "4")
    ),
    # v1-v5 4. m.room.aliases
    Rule("aliases.no_state_key", "aliases: no state_key -> reject", _number([(1, 5, "4.1")])),
    Rule(
        "aliases.domain",
        "aliases: state_key is not the sender's domain -> reject",
        _number([(1, 5, "4.2")]),
    ),
    Rule("aliases.allow", "aliases: otherwise allow", _number([(1, 5, "4.3")])),
    # member
    Rule("member.fields", "member: no state_key or no membership -> reject", _member("1")),
    Rule(
        "member.authoriser_signature",
        "member: join_authorised_via_users_server not signed by that user's server -> reject",
        _member("2", first=8),
        checked_by="signature verification (signing.required_signature_servers)",
    ),
    Rule(
        "member.join.creator",
        "join: only prev event is create and state_key is creator -> allow",
        _membership_case(2, "1"),
    ),
    Rule("member.join.sender", "join: sender is not state_key -> reject", _membership_case(2, "2")),
    Rule("member.join.banned", "join: sender is banned -> reject", _membership_case(2, "3")),
    Rule(
        "member.join.invite_rule",
        "join: join rule invite (v7+: or knock) -> allow iff invited or joined",
        _membership_case(2, "4"),
    ),
    Rule(
        "member.join.restricted_member",
        "join: restricted (v10+: or knock_restricted), invited or joined -> allow",
        _membership_case(2, "5.1", first=8),
    ),
    Rule(
        "member.join.restricted_authoriser",
        "join: restricted, authorising user not joined or cannot invite -> reject",
        _membership_case(2, "5.2", first=8),
    ),
    Rule(
        "member.join.restricted_allow",
        "join: restricted, otherwise allow",
        _membership_case(2, "5.3", first=8),
    ),
    Rule(
        "member.join.public",
        "join: join rule public -> allow",
        {**_membership_case(2, "5", last=7), **_membership_case(2, "6", first=8)},
    ),
    Rule(
        "member.join.otherwise",
        "join: otherwise reject",
        {**_membership_case(2, "6", last=7), **_membership_case(2, "7", first=8)},
    ),
    Rule(
        "member.invite.tpi_banned",
        "third-party invite: target banned -> reject",
        _membership_case(3, "1.1"),
    ),
    Rule(
        "member.invite.tpi_signed",
        "third-party invite: no signed -> reject",
        _membership_case(3, "1.2"),
    ),
    Rule(
        "member.invite.tpi_mxid_token",
        "third-party invite: signed lacks mxid or token -> reject",
        _membership_case(3, "1.3"),
    ),
    Rule(
        "member.invite.tpi_mxid",
        "third-party invite: mxid is not state_key -> reject",
        _membership_case(3, "1.4"),
    ),
    Rule(
        "member.invite.tpi_token",
        "third-party invite: no m.room.third_party_invite for the token -> reject",
        _membership_case(3, "1.5"),
    ),
    Rule(
        "member.invite.tpi_sender",
        "third-party invite: sender is not the third_party_invite's sender -> reject",
        _membership_case(3, "1.6"),
    ),
    Rule(
        "member.invite.tpi_signature",
        "third-party invite: a signature matches public_key or public_keys -> allow",
        _membership_case(3, "1.7"),
    ),
    Rule(
        "member.invite.tpi_otherwise",
        "third-party invite: otherwise reject",
        _membership_case(3, "1.8"),
    ),
    Rule(
        "member.invite.sender_joined",
        "invite: sender not joined -> reject",
        _membership_case(3, "2"),
    ),
    Rule(
        "member.invite.target",
        "invite: target joined or banned -> reject",
        _membership_case(3, "3"),
    ),
    Rule(
        "member.invite.allow",
        "invite: sender level >= invite level -> allow",
        _membership_case(3, "4"),
    ),
    Rule("member.invite.otherwise", "invite: otherwise reject", _membership_case(3, "5")),
    Rule(
        "member.leave.self",
        "leave: sender is target -> allow iff invited or joined (v7+: or knocked)",
        _membership_case(4, "1"),
    ),
    Rule(
        "member.leave.sender_joined", "leave: sender not joined -> reject", _membership_case(4, "2")
    ),
    Rule(
        "member.leave.unban",
        "leave: target banned and sender below ban level -> reject",
        _membership_case(4, "3"),
    ),
    Rule(
        "member.leave.kick",
        "leave: sender at kick level and above target -> allow",
        _membership_case(4, "4"),
    ),
    Rule("member.leave.otherwise", "leave: otherwise reject", _membership_case(4, "5")),
    Rule("member.ban.sender_joined", "ban: sender not joined -> reject", _membership_case(5, "1")),
    Rule(
        "member.ban.allow",
        "ban: sender at ban level and above target -> allow",
        _membership_case(5, "2"),
    ),
    Rule("member.ban.otherwise", "ban: otherwise reject", _membership_case(5, "3")),
    Rule(
        "member.knock.join_rule",
        "knock: join rule not knock (v10+: or knock_restricted) -> reject",
        _membership_case(6, "1", first=7),
    ),
    Rule(
        "member.knock.sender",
        "knock: sender is not state_key -> reject",
        _membership_case(6, "2", first=7),
    ),
    Rule(
        "member.knock.allow",
        "knock: sender not banned, invited or joined -> allow",
        _membership_case(6, "3", first=7),
    ),
    Rule("member.knock.otherwise", "knock: otherwise reject", _membership_case(6, "4", first=7)),
    Rule(
        "member.unknown",
        "member: unknown membership -> reject",
        {**_membership_case(6, "", last=6), **_membership_case(7, "", first=7)},
    ),
    # after membership
    Rule("sender_joined", "sender not joined -> reject", _top("6", "5", "6")),
    Rule(
        "third_party_invite",
        "m.room.third_party_invite: allow iff sender at invite level",
        _top("7.1", "6.1", "7.1"),
    ),
    Rule(
        "required_power",
        "sender below the event type's required level -> reject",
        _top("8", "7", "8"),
    ),
    Rule(
        "user_state_key",
        "state_key starting with '@' is not the sender -> reject",
        _top("9", "8", "9"),
    ),
    Rule(
        "power_levels.levels_int",
        "power levels: users_default, ..., invite present and not integers -> reject",
        _pl(None, "1", "1"),
    ),
    Rule(
        "power_levels.maps_int",
        "power levels: events or notifications not objects of integers -> reject",
        _pl(None, "2", "2"),
    ),
    Rule(
        "power_levels.users",
        "power levels: users not an object of user IDs to integers -> reject",
        _pl("1", "3", "3"),
    ),
    Rule(
        "power_levels.creators",
        "power levels: users names a room creator -> reject",
        _pl(None, None, "4"),
    ),
    Rule(
        "power_levels.first", "power levels: no previous power levels -> allow", _pl("2", "4", "5")
    ),
    Rule(
        "power_levels.level_current",
        "power levels: altered top-level value whose current value is above sender -> reject",
        _pl("3.1", "5.1", "6.1"),
    ),
    Rule(
        "power_levels.level_new",
        "power levels: altered top-level value whose new value is above sender -> reject",
        _pl("3.2", "5.2", "6.2"),
    ),
    Rule(
        "power_levels.events_current",
        "power levels: events (v6+: notifications) entry changed/removed from above sender"
        " -> reject",
        _pl("4.1", "6.1", "7.1"),
    ),
    Rule(
        "power_levels.events_new",
        "power levels: events (v6+: notifications) entry added/changed above sender -> reject",
        _pl("5.1", "7.1", "8.1"),
    ),
    Rule(
        "power_levels.users_current",
        "power levels: other user's entry changed/removed from >= sender -> reject",
        _pl("6.1", "8.1", "9.1"),
    ),
    Rule(
        "power_levels.users_new",
        "power levels: users entry added/changed above sender -> reject",
        _pl("7.1", "9.1", "10.1"),
    ),
    # v12's text numbers this second "10." again; we call it 10.11.
    Rule("power_levels.allow", "power levels: otherwise allow", _pl("8", "10", "11")),
    # v1, v2 11. m.room.redaction
    Rule(
        "redaction.level", "redaction: sender at redact level -> allow", _number([(1, 2, "11.1")])
    ),
    Rule(
        "redaction.domain",
        "redaction: redacted event ID on the redaction's domain -> allow",
        _number([(1, 2, "11.2")]),
    ),
    Rule("redaction.otherwise", "redaction: otherwise reject", _number([(1, 2, "11.3")])),
    Rule(
        "allow",
        "otherwise allow",
        _number([(1, 2, "12"), (3, 5, "11"), (6, 11, "10"), (12, 12, "11")]),
    ),
]

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
