"""Which events of a room a user may see (client-server API, "Room History Visibility",
server behaviour).

The rule depends on the room's state *at the event*: the `m.room.history_visibility`
then in force and the user's membership then. The caller supplies those (from the
state before the event) and one fact about the future: whether the user joined the
room at some point after the event (rule 3, for `shared`). For the two kinds of events
that change these very facts — `m.room.history_visibility` itself and the user's own
`m.room.member` — the event is visible if the state before *or* after it allows it, so
both are derived here from the event's own content.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

VISIBILITIES = ("world_readable", "shared", "invited", "joined")
#: what applies when the room has no (or no understood) history visibility
DEFAULT_VISIBILITY = "shared"


def effective_visibility(content: Mapping[str, Any] | None) -> str:
    """The visibility an `m.room.history_visibility` content means (default `shared`)."""
    value = content.get("history_visibility") if content is not None else None
    return value if value in VISIBILITIES else DEFAULT_VISIBILITY


@dataclass(frozen=True)
class StateAtEvent:
    """The facts of the room state before an event that visibility depends on."""

    history_visibility: str = DEFAULT_VISIBILITY
    #: the user's membership then (None: never in the room)
    membership: str | None = None


def allowed(state: StateAtEvent, joined_later: bool) -> bool:
    """The spec's five steps for one state."""
    if state.history_visibility == "world_readable":
        return True
    if state.membership == "join":
        return True
    if state.history_visibility == "shared" and joined_later:
        return True
    return state.history_visibility == "invited" and state.membership == "invite"


def is_event_visible(
    user_id: str,
    event: Mapping[str, Any],
    before: StateAtEvent,
    joined_later: bool,
) -> bool:
    """Whether `user_id` may see `event` (PDU or client form), given the state before it
    and whether the user joined the room at any point after it."""
    if allowed(before, joined_later):
        return True
    event_type = event.get("type")
    content = event.get("content")
    if not isinstance(content, Mapping):
        return False
    if event_type == "m.room.history_visibility" and event.get("state_key") == "":
        after = StateAtEvent(effective_visibility(content), before.membership)
        return allowed(after, joined_later)
    if event_type == "m.room.member" and event.get("state_key") == user_id:
        membership = content.get("membership")
        after = StateAtEvent(
            before.history_visibility, membership if isinstance(membership, str) else None
        )
        return allowed(after, joined_later)
    return False
