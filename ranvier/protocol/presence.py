"""Presence as a pure state machine: how a user's presence changes when they set it,
act, sync or go quiet, and how it is rendered as `m.presence` content.

Spec: client-server API, "Presence" (last active ago, idle timeout). Times are in
milliseconds since the epoch; nothing here reads a clock.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

ONLINE = "online"
UNAVAILABLE = "unavailable"
OFFLINE = "offline"
STATES = (ONLINE, UNAVAILABLE, OFFLINE)

#: Online users with no activity for this long become unavailable (the spec's example).
IDLE_TIMEOUT_MS = 5 * 60 * 1000
#: While `currently_active` is true, activity within this window is not republished:
#: clients must treat the user as active whatever `last_active_ago` says.
ACTIVE_GRANULARITY_MS = 60 * 1000
#: A user stops counting as connected this long after their last /sync (or PUT) ends.
SYNC_GRACE_MS = 30 * 1000


@dataclass(frozen=True)
class Presence:
    user_id: str
    state: str = OFFLINE
    status_msg: str | None = None
    last_active_ts: int = 0
    currently_active: bool = False


def _active(p: Presence, now: int) -> Presence:
    return dataclasses.replace(p, state=ONLINE, last_active_ts=now, currently_active=True)


def after_set(p: Presence, state: str, status_msg: str | None, now: int) -> Presence:
    """The user set their presence (PUT /presence/{userId}/status). Setting `online`
    is activity; the other states keep the last active time."""
    if state == ONLINE:
        return dataclasses.replace(_active(p, now), status_msg=status_msg)
    return dataclasses.replace(p, state=state, status_msg=status_msg, currently_active=False)


def after_activity(p: Presence, now: int) -> Presence:
    """The user did something pro-active (sent a message, a receipt...)."""
    if p.state == ONLINE and p.currently_active and now - p.last_active_ts < ACTIVE_GRANULARITY_MS:
        # Still within the window clients already treat as active: keep the published
        # state, so a chatty user does not flood everyone's /sync.
        return p
    return _active(p, now)


def after_sync(p: Presence, set_presence: str, now: int) -> Presence:
    """The user's client called /sync with `set_presence` (default "online"). Syncing
    marks an offline user online, but is not activity: an idle user stays idle.
    "offline" means "do not mark me online", so it changes nothing."""
    if set_presence == UNAVAILABLE and p.state != UNAVAILABLE:
        return dataclasses.replace(p, state=UNAVAILABLE, currently_active=False)
    if set_presence == ONLINE and p.state == OFFLINE:
        return _active(p, now)
    return p


def after_timeouts(p: Presence, now: int, connected: bool) -> Presence:
    """The state once the timers have run: offline when the user no longer syncs,
    unavailable after the idle timeout, and no longer `currently_active` once the
    granularity window has passed."""
    if p.state == OFFLINE:
        return p
    if not connected:
        return dataclasses.replace(p, state=OFFLINE, currently_active=False)
    idle_for = now - p.last_active_ts
    if p.state == ONLINE and idle_for > IDLE_TIMEOUT_MS:
        return dataclasses.replace(p, state=UNAVAILABLE, currently_active=False)
    if p.currently_active and idle_for > ACTIVE_GRANULARITY_MS:
        return dataclasses.replace(p, currently_active=False)
    return p


def presence_content(p: Presence, now: int) -> dict[str, Any]:
    """The `m.presence` content (and the body of GET /presence/{userId}/status)."""
    content: dict[str, Any] = {"presence": p.state}
    if p.last_active_ts:
        content["last_active_ago"] = max(0, now - p.last_active_ts)
    if p.state == ONLINE:
        content["currently_active"] = p.currently_active
    if p.status_msg is not None:
        content["status_msg"] = p.status_msg
    return content
