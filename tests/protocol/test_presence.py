"""The presence state machine (ranvier.protocol.presence): setting, activity, /sync,
timeouts and rendering (spec: client-server API "Presence")."""

from __future__ import annotations

import pytest

from ranvier.protocol.presence import (
    ACTIVE_GRANULARITY_MS,
    IDLE_TIMEOUT_MS,
    OFFLINE,
    ONLINE,
    UNAVAILABLE,
    Presence,
    after_activity,
    after_set,
    after_sync,
    after_timeouts,
    presence_content,
)

NOW = 1_700_000_000_000
USER = "@u:example.org"


def online(since: int = NOW, active: bool = True, msg: str | None = None) -> Presence:
    return Presence(USER, ONLINE, msg, since, active)


def test_setting_online_is_activity() -> None:
    p = after_set(Presence(USER), ONLINE, "hi", NOW)
    assert p == online(msg="hi")


@pytest.mark.parametrize("state", [UNAVAILABLE, OFFLINE])
def test_setting_other_states_keeps_the_last_active_time(state: str) -> None:
    p = after_set(online(NOW - 5000), state, None, NOW)
    assert p == Presence(USER, state, None, NOW - 5000, False)


def test_activity_within_the_granularity_window_changes_nothing() -> None:
    p = online(NOW - ACTIVE_GRANULARITY_MS + 1)
    assert after_activity(p, NOW) is p


def test_activity_after_the_window_or_when_idle_republishes() -> None:
    assert after_activity(online(NOW - ACTIVE_GRANULARITY_MS), NOW) == online(NOW)
    idle = Presence(USER, UNAVAILABLE, "away", NOW - IDLE_TIMEOUT_MS, False)
    assert after_activity(idle, NOW) == online(NOW, msg="away")


@pytest.mark.parametrize(
    ("before", "set_presence", "after"),
    [
        (Presence(USER), ONLINE, online()),
        (Presence(USER, UNAVAILABLE, None, 5, False), ONLINE,
         Presence(USER, UNAVAILABLE, None, 5, False)),  # syncing is not activity
        (online(NOW - 10), ONLINE, online(NOW - 10)),
        (online(NOW - 10), UNAVAILABLE, Presence(USER, UNAVAILABLE, None, NOW - 10, False)),
        (Presence(USER), UNAVAILABLE, Presence(USER, UNAVAILABLE)),
        (online(NOW - 10), OFFLINE, online(NOW - 10)),
        (Presence(USER), OFFLINE, Presence(USER)),
    ],
)
def test_sync_set_presence(before: Presence, set_presence: str, after: Presence) -> None:
    assert after_sync(before, set_presence, NOW) == after


@pytest.mark.parametrize(
    ("before", "connected", "after"),
    [
        (online(NOW - 1000), True, online(NOW - 1000)),
        (online(NOW - ACTIVE_GRANULARITY_MS - 1), True,
         online(NOW - ACTIVE_GRANULARITY_MS - 1, active=False)),
        (online(NOW - IDLE_TIMEOUT_MS - 1), True,
         Presence(USER, UNAVAILABLE, None, NOW - IDLE_TIMEOUT_MS - 1, False)),
        (online(NOW - 1000), False, Presence(USER, OFFLINE, None, NOW - 1000, False)),
        (Presence(USER, UNAVAILABLE, "x", 1, False), False, Presence(USER, OFFLINE, "x", 1)),
        (Presence(USER, UNAVAILABLE, None, 1, False), True,
         Presence(USER, UNAVAILABLE, None, 1, False)),
        (Presence(USER), False, Presence(USER)),
    ],
)
def test_timeouts(before: Presence, connected: bool, after: Presence) -> None:
    assert after_timeouts(before, NOW, connected) == after


def test_content_of_an_online_user() -> None:
    assert presence_content(online(NOW - 1234, msg="busy"), NOW) == {
        "presence": ONLINE, "last_active_ago": 1234, "currently_active": True,
        "status_msg": "busy",
    }


def test_content_leaves_out_what_is_unknown_or_meaningless() -> None:
    assert presence_content(Presence(USER), NOW) == {"presence": OFFLINE}
    assert presence_content(Presence(USER, UNAVAILABLE, None, NOW - 7, False), NOW) == {
        "presence": UNAVAILABLE, "last_active_ago": 7,
    }
