"""How state resolution consults the authorization rules: which events an event is
checked against, and its sender's power level as its own auth events state it."""

from __future__ import annotations

from collections.abc import Container, Mapping

from .auth_rules import auth_types_for_event, check_auth_rules
from .errors import AuthError
from .events import Event, StateKey
from .power_levels import CREATE_KEY, POWER_LEVELS_KEY, PowerLevel, get_user_power_level


def create_event_id(event: Event) -> str | None:
    """v12: the create event's ID, which the room ID is made from. Such rooms do not list
    the create event in `auth_events`, yet the auth rules need it (rooms/v12.md)."""
    if not event.room_version.room_id_from_create_event or event.type == "m.room.create":
        return None
    room_id = event.room_id
    return "$" + room_id[1:] if isinstance(room_id, str) and room_id.startswith("!") else None


def own_auth_events(
    event: Event, event_map: Mapping[str, Event], rejected: Container[str]
) -> dict[StateKey, Event]:
    """The event's own auth events (plus the v12 create event) by state key. Missing and
    rejected ones are left out: rejected auth events are never used in resolution."""
    auth_ids = event.auth_event_ids()
    create_id = create_event_id(event)
    if create_id is not None:
        auth_ids.append(create_id)
    found: dict[StateKey, Event] = {}
    for auth_id in auth_ids:
        auth_event = event_map.get(auth_id)
        if auth_event is not None and auth_id not in rejected and auth_event.is_state():
            found[auth_event.state_pair] = auth_event
    return found


def is_allowed(
    event: Event,
    state: Mapping[StateKey, str],
    event_map: Mapping[str, Event],
    rejected: Container[str],
    *,
    fall_back_to_own_auth_events: bool,
) -> bool:
    """Whether the auth rules allow `event` in `state`. With the fallback (v2), a key the
    rules need but `state` lacks is taken from the event's own auth events."""
    auth_events = (
        own_auth_events(event, event_map, rejected) if fall_back_to_own_auth_events else {}
    )
    for key in auth_types_for_event(
        event.room_version, event.type, event.state_key, event.sender, event.content
    ):
        state_id = state.get(key)
        if state_id is None or state_id in rejected:
            continue
        state_event = event_map.get(state_id)
        if state_event is not None:
            auth_events[key] = state_event
    try:
        check_auth_rules(event, auth_events)
    except AuthError:
        return False
    return True


def sender_power_level(event: Event, event_map: Mapping[str, Event]) -> PowerLevel:
    """The sender's power level according to the event's own auth events. Their
    rejection status is ignored: it is local knowledge, and the ordering it feeds must
    come out the same on every server."""
    auth_events = own_auth_events(event, event_map, ())
    relevant = {k: auth_events[k] for k in (CREATE_KEY, POWER_LEVELS_KEY) if k in auth_events}
    return get_user_power_level(event.sender, relevant)
