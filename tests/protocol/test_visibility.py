"""History visibility (client-server API "Room History Visibility", server behaviour)."""

from __future__ import annotations

import pytest

from ranvier.protocol.visibility import StateAtEvent, effective_visibility, is_event_visible

ME = "@me:x"
MESSAGE = {"type": "m.room.message", "sender": "@other:x", "content": {"body": "hi"}}


@pytest.mark.parametrize(
    ("visibility", "membership", "joined_later", "expected"),
    [
        # 1. world_readable: anyone, whatever their membership
        ("world_readable", None, False, True),
        ("world_readable", "leave", False, True),
        ("world_readable", "ban", False, True),
        # 2. joined at the event: always
        ("joined", "join", False, True),
        ("invited", "join", False, True),
        ("shared", "join", False, True),
        # 3. shared: users who joined at any point after the event
        ("shared", None, True, True),
        ("shared", "leave", True, True),
        ("shared", None, False, False),
        ("shared", "leave", False, False),
        ("joined", None, True, False),
        # 4. invited: users invited at the event
        ("invited", "invite", False, True),
        ("invited", None, True, False),
        ("joined", "invite", True, False),
        ("shared", "invite", False, False),
        # 5. otherwise deny
        ("joined", "leave", False, False),
        ("joined", "knock", True, False),
        ("invited", "ban", True, False),
    ],
)
def test_the_five_rules(visibility: str, membership: str | None, joined_later: bool,
                        expected: bool) -> None:
    state = StateAtEvent(visibility, membership)
    assert is_event_visible(ME, MESSAGE, state, joined_later) is expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "shared"),
        ({}, "shared"),
        ({"history_visibility": "nonsense"}, "shared"),
        ({"history_visibility": 3}, "shared"),
        ({"history_visibility": "joined"}, "joined"),
        ({"history_visibility": "world_readable"}, "world_readable"),
    ],
)
def test_missing_or_unknown_visibility_means_shared(content: dict | None, expected: str) -> None:
    assert effective_visibility(content) == expected


def _visibility_event(value: str) -> dict:
    return {"type": "m.room.history_visibility", "state_key": "", "sender": "@o:x",
            "content": {"history_visibility": value}}


def test_visibility_change_to_world_readable_is_visible_to_outsiders() -> None:
    assert is_event_visible(ME, _visibility_event("world_readable"),
                            StateAtEvent("joined", None), False)


def test_visibility_change_from_world_readable_is_visible_to_outsiders() -> None:
    assert is_event_visible(ME, _visibility_event("joined"),
                            StateAtEvent("world_readable", None), False)


def test_visibility_change_between_restricted_values_is_hidden_from_outsiders() -> None:
    assert not is_event_visible(ME, _visibility_event("invited"),
                                StateAtEvent("joined", None), False)


def _member(user: str, membership: str) -> dict:
    return {"type": "m.room.member", "state_key": user, "sender": user,
            "content": {"membership": membership}}


def test_own_join_is_visible_even_with_joined_visibility() -> None:
    assert is_event_visible(ME, _member(ME, "join"), StateAtEvent("joined", None), False)


def test_own_leave_after_being_joined_is_visible() -> None:
    assert is_event_visible(ME, _member(ME, "leave"), StateAtEvent("joined", "join"), False)


def test_own_invite_is_visible_in_invited_rooms() -> None:
    assert is_event_visible(ME, _member(ME, "invite"), StateAtEvent("invited", None), False)


def test_someone_elses_join_is_not_visible_before_own_membership() -> None:
    assert not is_event_visible(ME, _member("@other:x", "join"),
                                StateAtEvent("joined", None), False)


def test_events_after_leaving_are_hidden() -> None:
    assert not is_event_visible(ME, MESSAGE, StateAtEvent("shared", "leave"), False)
