"""The authorization rules of room versions 1 to 12.

Spec: content/rooms/fragments/v1-auth-rules.md (v1, v2), v3-auth-rules.md (v3-v5),
rooms/v6.md and v7.md (inline), fragments/v8-auth-rules.md (v8, v9), rooms/v10.md,
v11.md and v12.md (inline). Comments cite rule numbers as v12 numbers them when the
rule exists there; the tables in docs/AUTH_RULES.md map every version's numbering.

Two entry points, because the spec's rule 2 (v12: rule 3) looks at the *list* of an
event's auth events, while every other rule looks at a *state* (the auth events, or the
room state before the event, keyed by (type, state_key)):

- `check_auth_events_list` — duplicates and the auth events selection; call it once on
  receipt of a PDU with the events its `auth_events` names.
- `check_auth_rules` — everything else; call it against each state the spec asks for
  (the auth events, the state before the event, the current state), and from state
  resolution's iterative auth checks.

Left to the caller: whether an auth event was itself rejected (rule 2.3, and v12's
"accepted create event" in rule 2), and every signature except a third-party invite's
`signed` block, which carries its own keys and is checked here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from signedjson.key import decode_verify_key_bytes
from signedjson.sign import SignatureVerifyException, verify_signed_json
from unpaddedbase64 import decode_base64

from .errors import AuthError, InvalidIdentifier
from .events import Event, StateKey
from .identifiers import is_valid_user_id, server_name_of
from .power_levels import (
    CREATE_KEY,
    LEVEL_DEFAULTS,
    POWER_LEVELS_KEY,
    PowerLevel,
    event_power_required,
    get_named_level,
    get_room_creators,
    get_user_power_level,
    parse_power_level,
)
from .room_versions import KNOWN_ROOM_VERSIONS, RoomVersion

__all__ = [
    "auth_types_for_event",
    "check_auth_events_list",
    "check_auth_rules",
    "event_power_required",
    "get_room_creators",
    "get_user_power_level",
]

JOIN_RULES_KEY: StateKey = ("m.room.join_rules", "")


# --- auth events selection (server-server-api.md "Auth events selection") -------------


def auth_types_for_event(
    room_version: RoomVersion,
    event_type: str,
    state_key: str | None,
    sender: str,
    content: Mapping[str, Any],
) -> set[StateKey]:
    """The (type, state_key) pairs an event's `auth_events` may hold; v12 excludes
    the create event, which the room ID designates instead."""
    if event_type == "m.room.create":
        return set()
    selected: set[StateKey] = {POWER_LEVELS_KEY, ("m.room.member", sender)}
    if not room_version.room_id_from_create_event:
        selected.add(CREATE_KEY)
    if event_type != "m.room.member" or state_key is None:
        return selected
    selected.add(("m.room.member", state_key))
    membership = content.get("membership")
    if membership in ("join", "invite", "knock"):
        selected.add(JOIN_RULES_KEY)
    if membership == "invite":
        token = _third_party_invite_token(content)
        if token is not None:
            selected.add(("m.room.third_party_invite", token))
    if membership == "join" and room_version.restricted_join_rule:
        authoriser = content.get("join_authorised_via_users_server")
        if isinstance(authoriser, str):
            selected.add(("m.room.member", authoriser))
    return selected


def _third_party_invite_token(content: Mapping[str, Any]) -> str | None:
    invite = content.get("third_party_invite")
    signed = invite.get("signed") if isinstance(invite, dict) else None
    token = signed.get("token") if isinstance(signed, dict) else None
    return token if isinstance(token, str) else None


def check_auth_events_list(event: Event, auth_events: Sequence[Event]) -> None:
    """Rules 2.1, 2.2, 2.4 and 2.5 (v12: 3.1, 3.2, 3.5) over the events named by
    `event`'s `auth_events`. Raises AuthError."""
    if event.type == "m.room.create":
        return  # rule 1 decides alone; a create event's auth_events are ignored
    version = event.room_version
    allowed = auth_types_for_event(
        version, event.type, event.state_key, event.sender, event.content
    )
    seen: set[StateKey] = set()
    for auth_event in auth_events:
        if not auth_event.is_state():
            raise AuthError(f"auth event {auth_event.event_id} is not a state event")
        pair = auth_event.state_pair
        if pair in seen:
            raise AuthError(f"duplicate auth events for {pair}")
        seen.add(pair)
        if pair not in allowed:
            raise AuthError(f"auth event {pair} is not selected for this event")
        if auth_event.room_id != event.room_id:
            raise AuthError(f"auth event {auth_event.event_id} belongs to another room")
    if not version.room_id_from_create_event and CREATE_KEY not in seen:
        raise AuthError("no m.room.create event among the auth events")


# --- the rules --------------------------------------------------------------------------


def check_auth_rules(event: Event, auth_events: Mapping[StateKey, Event]) -> None:
    """Raise AuthError(reason) unless `event` is allowed given these auth events.

    `auth_events` is the state the event is checked against, keyed by (type, state_key):
    its auth events, or the room state before it. For v12 rooms the create event must be
    in it too, under ("m.room.create", ""), though it is not an auth event there.
    """
    version = event.room_version
    if event.type == "m.room.create":
        _check_create(event)
        return
    create = auth_events.get(CREATE_KEY)
    if create is None:
        raise AuthError("no m.room.create event among the auth events")  # 2.4 / v12 2
    if version.room_id_from_create_event and event.room_id != "!" + create.event_id[1:]:
        raise AuthError(f"room ID {event.room_id} is not that of the room's create event")
    _check_room_ids(event, auth_events)  # 2.5
    if create.content.get("m.federate") is False and _domain(event.sender) != _domain(
        create.sender
    ):
        raise AuthError("the room is not federated (m.federate is false)")  # 3
    if version.special_case_aliases_auth and event.type == "m.room.aliases":
        _check_aliases(event)  # v1-v5 rule 4
        return
    if event.type == "m.room.member":
        _check_membership(event, auth_events, create)
        return
    if _membership_of(event.sender, auth_events) != "join":
        raise AuthError(f"sender {event.sender} is not joined to the room")  # 5
    sender_level = get_user_power_level(event.sender, auth_events)
    power_levels = auth_events.get(POWER_LEVELS_KEY)
    if event.type == "m.room.third_party_invite":  # 6
        if sender_level < get_named_level("invite", power_levels):
            raise AuthError("sender's power level is below the invite level")
        return
    required = event_power_required(event.type, event.is_state(), power_levels)
    if required > sender_level:  # 7
        raise AuthError(f"sender's power level is below the {required} that {event.type} needs")
    state_key = event.state_key
    if state_key is not None and state_key.startswith("@") and state_key != event.sender:
        raise AuthError("a state key starting with '@' must be the sender's user ID")  # 8
    if event.type == "m.room.power_levels":
        _check_power_levels(event, auth_events, create, sender_level)  # 9
        return
    if version.uses_event_id_field and event.type == "m.room.redaction":
        # v1, v2 rule 11: only these versions' event IDs carry a domain to compare.
        _check_redaction(event, sender_level, power_levels)


def _check_create(event: Event) -> None:
    """Rule 1."""
    version = event.room_version
    if event.prev_event_ids():
        raise AuthError("a create event must have no prev_events")
    if version.room_id_from_create_event:
        if "room_id" in event.pdu:
            raise AuthError("a v12 create event must not have a room_id")
    elif _domain(event.room_id) is None or _domain(event.room_id) != _domain(event.sender):
        raise AuthError("the room ID's domain is not the sender's")
    content = event.content
    if "room_version" in content and content["room_version"] not in KNOWN_ROOM_VERSIONS:
        raise AuthError(f"unknown room version {content['room_version']!r}")
    if not version.implicit_room_creator and "creator" not in content:
        raise AuthError("the create event has no creator")
    if version.room_id_from_create_event and "additional_creators" in content:
        additional = content["additional_creators"]
        if not isinstance(additional, list) or not all(
            isinstance(user, str) and is_valid_user_id(user, allow_historical=True)
            for user in additional
        ):
            raise AuthError("additional_creators must be a list of valid user IDs")


def _check_room_ids(event: Event, auth_events: Mapping[StateKey, Event]) -> None:
    """Rule 2.5, over the entries the rules read (the state may hold more)."""
    selected = auth_types_for_event(
        event.room_version, event.type, event.state_key, event.sender, event.content
    )
    for pair in selected:
        auth_event = auth_events.get(pair)
        if auth_event is not None and auth_event.room_id != event.room_id:
            raise AuthError(f"auth event {auth_event.event_id} belongs to another room")


def _check_aliases(event: Event) -> None:
    """v1-v5 rule 4: a server may only set the aliases under its own name."""
    if event.state_key is None:
        raise AuthError("m.room.aliases must have a state key")
    if event.state_key != _domain(event.sender):
        raise AuthError("m.room.aliases state key must be the sender's domain")


# --- membership (rule 4; v1-v5 and v12: rule 5) -----------------------------------------


def _check_membership(
    event: Event, auth_events: Mapping[StateKey, Event], create: Event
) -> None:
    target = event.state_key
    membership = event.membership
    if target is None or membership is None:
        raise AuthError("a member event needs a state key and a string membership")
    # 4.2 (v8+), join_authorised_via_users_server must be signed by that user's server:
    # checked with the other signatures (signing.required_signature_servers).
    if membership == "join":
        _check_join(event, target, auth_events, create)
    elif membership == "invite":
        _check_invite(event, target, auth_events)
    elif membership == "leave":
        _check_leave(event, target, auth_events)
    elif membership == "ban":
        _check_ban(event, target, auth_events)
    elif membership == "knock" and event.room_version.knock_join_rule:
        _check_knock(event, target, auth_events)
    else:
        raise AuthError(f"unknown membership {membership!r}")


def _check_join(
    event: Event, target: str, auth_events: Mapping[StateKey, Event], create: Event
) -> None:
    version = event.room_version
    prev_events = event.prev_event_ids()
    # The creator's own join right after the create event (4.3.1). Only the create
    # event's sender qualifies from v11, additional v12 creators included.
    first_joiner = create.sender if version.implicit_room_creator else create.content.get(
        "creator"
    )
    if prev_events == [create.event_id] and target == first_joiner:
        return
    if event.sender != target:
        raise AuthError("only the user themselves can join")
    current = _membership_of(target, auth_events)
    if current == "ban":
        raise AuthError(f"{target} is banned")
    join_rule = _join_rule(auth_events)
    if join_rule == "invite" or (join_rule == "knock" and version.knock_join_rule):
        if current not in ("invite", "join"):
            raise AuthError(f"{target} has no invite to this {join_rule} room")
        return
    if (join_rule == "restricted" and version.restricted_join_rule) or (
        join_rule == "knock_restricted" and version.knock_restricted_join_rule
    ):
        if current in ("invite", "join"):
            return
        _check_join_authoriser(event, auth_events)
        return
    if join_rule != "public":
        raise AuthError(f"join rule {join_rule!r} does not let {target} join")


def _check_join_authoriser(event: Event, auth_events: Mapping[StateKey, Event]) -> None:
    """4.3.5.2: a restricted join names a joined member who may invite."""
    authoriser = event.content.get("join_authorised_via_users_server")
    if not isinstance(authoriser, str):
        raise AuthError("a restricted join needs join_authorised_via_users_server")
    if _membership_of(authoriser, auth_events) != "join":
        raise AuthError(f"authorising user {authoriser} is not joined to the room")
    invite_level = get_named_level("invite", auth_events.get(POWER_LEVELS_KEY))
    if get_user_power_level(authoriser, auth_events) < invite_level:
        raise AuthError(f"authorising user {authoriser} may not invite")


def _check_invite(event: Event, target: str, auth_events: Mapping[StateKey, Event]) -> None:
    if "third_party_invite" in event.content:
        _check_third_party_invite(event, target, auth_events)
        return
    if _membership_of(event.sender, auth_events) != "join":
        raise AuthError(f"inviter {event.sender} is not joined to the room")
    if _membership_of(target, auth_events) in ("join", "ban"):
        raise AuthError(f"{target} is joined or banned and cannot be invited")
    invite_level = get_named_level("invite", auth_events.get(POWER_LEVELS_KEY))
    if get_user_power_level(event.sender, auth_events) < invite_level:
        raise AuthError("sender's power level is below the invite level")


def _check_third_party_invite(
    event: Event, target: str, auth_events: Mapping[StateKey, Event]
) -> None:
    """4.4.1: an invite that redeems an m.room.third_party_invite."""
    if _membership_of(target, auth_events) == "ban":
        raise AuthError(f"{target} is banned")
    invite = event.content["third_party_invite"]
    signed = invite.get("signed") if isinstance(invite, dict) else None
    if not isinstance(signed, dict):
        raise AuthError("third_party_invite has no signed object")
    mxid, token = signed.get("mxid"), signed.get("token")
    if not isinstance(mxid, str) or not isinstance(token, str):
        raise AuthError("third_party_invite.signed needs mxid and token strings")
    if mxid != target:
        raise AuthError("third_party_invite.signed.mxid is not the invited user")
    original = auth_events.get(("m.room.third_party_invite", token))
    if original is None:
        raise AuthError(f"no m.room.third_party_invite with token {token!r}")
    if original.sender != event.sender:
        raise AuthError("only the sender of the third-party invite can redeem it")
    if not _signed_by_any_key(signed, _public_keys(original.content)):
        raise AuthError("third_party_invite.signed is not signed by the invite's keys")


def _public_keys(content: Mapping[str, Any]) -> list[str]:
    keys = [content.get("public_key")]
    listed = content.get("public_keys")
    if isinstance(listed, list):
        keys.extend(entry.get("public_key") for entry in listed if isinstance(entry, dict))
    return [key for key in keys if isinstance(key, str)]


def _signed_by_any_key(signed: dict[str, Any], public_keys: list[str]) -> bool:
    signatures = signed.get("signatures")
    if not isinstance(signatures, dict):
        return False
    for signer, by_key_id in signatures.items():
        if not isinstance(by_key_id, dict):
            continue
        for key_id in by_key_id:
            for public_key in public_keys:
                try:
                    verify_key = decode_verify_key_bytes(key_id, decode_base64(public_key))
                    verify_signed_json(signed, signer, verify_key)
                except (SignatureVerifyException, ValueError):
                    # ValueError: not an ed25519 key ID, or a malformed key or signature.
                    continue
                return True
    return False


def _check_leave(event: Event, target: str, auth_events: Mapping[StateKey, Event]) -> None:
    current = _membership_of(target, auth_events)
    if event.sender == target:
        leavable = ("invite", "join", "knock") if event.room_version.knock_join_rule else (
            "invite",
            "join",
        )
        if current not in leavable:
            raise AuthError(f"{target} cannot leave from membership {current!r}")
        return
    if _membership_of(event.sender, auth_events) != "join":
        raise AuthError(f"sender {event.sender} is not joined to the room")
    power_levels = auth_events.get(POWER_LEVELS_KEY)
    sender_level = get_user_power_level(event.sender, auth_events)
    if current == "ban" and sender_level < get_named_level("ban", power_levels):
        raise AuthError("unbanning needs the ban level")
    if sender_level < get_named_level("kick", power_levels):
        raise AuthError("sender's power level is below the kick level")
    if get_user_power_level(target, auth_events) >= sender_level:
        raise AuthError(f"{target}'s power level is not below the sender's")


def _check_ban(event: Event, target: str, auth_events: Mapping[StateKey, Event]) -> None:
    if _membership_of(event.sender, auth_events) != "join":
        raise AuthError(f"sender {event.sender} is not joined to the room")
    sender_level = get_user_power_level(event.sender, auth_events)
    if sender_level < get_named_level("ban", auth_events.get(POWER_LEVELS_KEY)):
        raise AuthError("sender's power level is below the ban level")
    if get_user_power_level(target, auth_events) >= sender_level:
        raise AuthError(f"{target}'s power level is not below the sender's")


def _check_knock(event: Event, target: str, auth_events: Mapping[StateKey, Event]) -> None:
    join_rule = _join_rule(auth_events)
    knockable = ("knock", "knock_restricted") if (
        event.room_version.knock_restricted_join_rule
    ) else ("knock",)
    if join_rule not in knockable:
        raise AuthError(f"join rule {join_rule!r} does not allow knocking")
    if event.sender != target:
        raise AuthError("only the user themselves can knock")
    if _membership_of(target, auth_events) in ("ban", "invite", "join"):
        raise AuthError(f"{target} is banned, invited or joined and cannot knock")


# --- power levels (rule 9; v1-v5: 10; v12: 10) ------------------------------------------


def _check_power_levels(
    event: Event,
    auth_events: Mapping[StateKey, Event],
    create: Event,
    sender_level: PowerLevel,
) -> None:
    version = event.room_version
    content = event.content
    _check_power_levels_shape(content, version)
    users = content.get("users", {})
    if version.room_id_from_create_event:
        listed = get_room_creators(create).intersection(users)
        if listed:
            raise AuthError(f"room creators cannot be given a power level: {sorted(listed)}")
    previous = auth_events.get(POWER_LEVELS_KEY)
    if previous is None:
        return
    old = previous.content
    for key in LEVEL_DEFAULTS:
        _check_level_change(key, old.get(key), content.get(key), version, sender_level)
    mappings = ("events", "notifications") if version.limit_notifications_power_levels else (
        "events",
    )
    for name in mappings:
        old_map, new_map = _mapping(old, name), _mapping(content, name)
        for key in old_map.keys() | new_map.keys():
            _check_level_change(
                f"{name}.{key}", old_map.get(key), new_map.get(key), version, sender_level
            )
    old_users = _mapping(old, "users")
    for user in old_users.keys() | users.keys():
        old_level = parse_power_level(old_users.get(user), version)
        new_level = parse_power_level(users.get(user), version)
        if old_level == new_level:
            continue
        if old_level is not None and user != event.sender and old_level >= sender_level:
            raise AuthError(f"cannot change the level of {user}, who is not below the sender")
        if new_level is not None and new_level > sender_level:
            raise AuthError(f"cannot raise {user} above the sender's own level")


def _check_power_levels_shape(content: Mapping[str, Any], version: RoomVersion) -> None:
    """9.1-9.3 (v10+), 10.1 (v1-v5), 9.1 (v6-v9).

    In v1-v9 the spec only names `users`; we hold every integer-valued property to the
    version's value formats (stringy-power-levels fragment), since a value that cannot
    be read as a level cannot be compared in the rules that follow.
    """
    for key in LEVEL_DEFAULTS:
        if key in content and parse_power_level(content[key], version) is None:
            raise AuthError(f"power level {key} is not an integer: {content[key]!r}")
    for name in ("events", "notifications", "users"):
        if name not in content:
            continue
        values = content[name]
        if not isinstance(values, dict):
            raise AuthError(f"power levels {name} must be an object")
        for key, value in values.items():
            if parse_power_level(value, version) is None:
                raise AuthError(f"power level {name}.{key} is not an integer: {value!r}")
            if name == "users" and not is_valid_user_id(key, allow_historical=True):
                raise AuthError(f"power levels users key {key!r} is not a user ID")


def _check_level_change(
    name: str, old: Any, new: Any, version: RoomVersion, sender_level: PowerLevel
) -> None:
    old_level, new_level = parse_power_level(old, version), parse_power_level(new, version)
    if old_level == new_level:
        return
    if old_level is not None and old_level > sender_level:
        raise AuthError(f"cannot change {name}: its current value is above the sender's level")
    if new_level is not None and new_level > sender_level:
        raise AuthError(f"cannot set {name} above the sender's level")


def _mapping(content: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = content.get(name)
    return value if isinstance(value, dict) else {}


# --- v1, v2 redactions (rule 11) ------------------------------------------------------


def _check_redaction(event: Event, sender_level: PowerLevel, power_levels: Event | None) -> None:
    if sender_level >= get_named_level("redact", power_levels):
        return
    redacts_domain = _domain(event.redacts)
    if redacts_domain is not None and redacts_domain == _domain(event.event_id):
        return
    raise AuthError("redacting another server's event needs the redact level")


# --- reading state ----------------------------------------------------------------------


def _membership_of(user_id: str, auth_events: Mapping[StateKey, Event]) -> str | None:
    member = auth_events.get(("m.room.member", user_id))
    return member.membership if member is not None else None


def _join_rule(auth_events: Mapping[StateKey, Event]) -> Any:
    join_rules = auth_events.get(JOIN_RULES_KEY)
    # The spec is silent on a room without join rules; like deployed servers, treat it
    # as invite-only, which is what `invite` means ("a user must first receive an invite").
    return join_rules.content.get("join_rule") if join_rules is not None else "invite"


def _domain(identifier: str | None) -> str | None:
    """The server name of an ID, or None if it has none (or is malformed)."""
    if not isinstance(identifier, str):
        return None
    try:
        return server_name_of(identifier)
    except InvalidIdentifier:
        return None
