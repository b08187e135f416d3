"""Filter validation and matching (client-server API "Filtering", filter.yaml)."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.protocol.filters import (
    DEFAULT_TIMELINE_LIMIT,
    EventFilter,
    InvalidFilter,
    RoomEventFilter,
    parse_filter,
    parse_room_event_filter,
    project_fields,
)


def _event(**fields: Any) -> dict[str, Any]:
    return {"type": "m.room.message", "sender": "@a:x", "room_id": "!r:x",
            "content": {"body": "hi"}, **fields}


def test_empty_filter_matches_everything_with_default_limit() -> None:
    f = parse_filter({})
    assert f.room.timeline.matches_event(_event())
    assert f.room.timeline_limit == DEFAULT_TIMELINE_LIMIT
    assert f.event_format == "client" and f.event_fields is None
    assert not f.room.include_leave


@pytest.mark.parametrize(
    ("raw", "every"),
    [
        ({}, True),
        ({"limit": 5, "lazy_load_members": True}, True),
        ({"types": ["m.room.message"]}, False),
        ({"not_types": ["m.room.member"]}, False),
        ({"senders": ["@a:x"]}, False),
        ({"not_senders": ["@b:x"]}, False),
        ({"rooms": ["!r:x"]}, False),
        ({"not_rooms": ["!s:x"]}, False),
        ({"contains_url": False}, False),
    ],
)
def test_a_filter_matches_every_event_only_without_event_criteria(
    raw: dict[str, Any], every: bool
) -> None:
    f = parse_room_event_filter(raw)
    assert f.matches_every_event is every
    if every:
        assert f.matches_event(_event()) and f.matches_event(_event(content={"url": "mxc://x/y"}))


def test_types_match_exactly_or_by_wildcard() -> None:
    f = EventFilter(types=("m.room.*", "org.example.exact"))
    assert f.matches("m.room.message")
    assert f.matches("org.example.exact")
    assert not f.matches("org.example.exactly")
    assert not f.matches("m.call.invite")


def test_wildcard_matches_any_sequence_including_dots_and_nothing() -> None:
    f = EventFilter(types=("m.*.invite", "*"))
    assert f.matches("anything")
    assert EventFilter(types=("m.*.invite",)).matches("m.call.sub.invite")
    assert EventFilter(types=("m.room*",)).matches("m.room")


def test_regex_characters_in_types_are_literal() -> None:
    f = EventFilter(types=("m.room.[a-z]+",))
    assert not f.matches("m.room.message")
    assert f.matches("m.room.[a-z]+")


def test_not_types_wins_over_types() -> None:
    f = EventFilter(types=("m.room.*",), not_types=("m.room.member",))
    assert f.matches("m.room.message")
    assert not f.matches("m.room.member")


def test_empty_types_list_matches_nothing() -> None:
    assert not EventFilter(types=()).matches("m.room.message")


def test_senders_and_not_senders() -> None:
    f = EventFilter(senders=("@a:x", "@b:x"), not_senders=("@b:x",))
    assert f.matches("t", "@a:x")
    assert not f.matches("t", "@b:x")
    assert not f.matches("t", "@c:x")


def test_rooms_and_not_rooms() -> None:
    f = RoomEventFilter(rooms=("!r:x", "!s:x"), not_rooms=("!s:x",))
    assert f.matches_event(_event(room_id="!r:x"))
    assert not f.matches_event(_event(room_id="!s:x"))
    assert not f.matches_event(_event(room_id="!t:x"))


@pytest.mark.parametrize(
    ("contains_url", "content", "expected"),
    [
        (True, {"url": "mxc://x/y"}, True),
        (True, {"body": "no url"}, False),
        (False, {"url": "mxc://x/y"}, False),
        (False, {"body": "no url"}, True),
        (True, {"url": 5}, False),
        (None, {"url": "mxc://x/y"}, True),
    ],
)
def test_contains_url(contains_url: bool | None, content: dict, expected: bool) -> None:
    f = RoomEventFilter(contains_url=contains_url)
    assert f.matches_event(_event(content=content)) is expected


def test_limit_truncates() -> None:
    assert EventFilter(limit=2).apply_limit([1, 2, 3]) == [1, 2]
    assert EventFilter().apply_limit([1, 2, 3]) == [1, 2, 3]


def test_full_filter_parses_every_field() -> None:
    f = parse_filter({
        "event_fields": ["type", "content.body"],
        "event_format": "federation",
        "presence": {"not_types": ["*"]},
        "account_data": {"types": ["m.push_rules"], "limit": 3},
        "room": {
            "rooms": ["!r:x"], "not_rooms": ["!s:x"], "include_leave": True,
            "timeline": {"limit": 5, "lazy_load_members": True, "contains_url": False},
            "state": {"lazy_load_members": True, "include_redundant_members": True},
            "ephemeral": {"types": ["m.receipt"]},
            "account_data": {"not_types": ["m.tag"]},
        },
    })
    assert f.event_fields == ("type", "content.body")
    assert f.event_format == "federation"
    assert not f.presence.matches("m.presence")
    assert f.account_data.limit == 3
    assert f.room.rooms == ("!r:x",) and f.room.not_rooms == ("!s:x",)
    assert f.room.include_leave
    assert f.room.timeline_limit == 5 and f.room.timeline.contains_url is False
    assert f.room.state.lazy_load_members and f.room.state.include_redundant_members
    assert f.room.ephemeral.types == ("m.receipt",)
    assert not f.room.account_data.matches("m.tag")


def test_null_fields_mean_absent() -> None:
    f = parse_filter({"room": {"timeline": None, "rooms": None}, "event_fields": None})
    assert f.room.rooms is None and f.event_fields is None


def test_unread_thread_notifications_flag() -> None:
    parsed = parse_room_event_filter({"unread_thread_notifications": True})
    assert parsed.unread_thread_notifications


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "filter"),
        ({"room": []}, "room"),
        ({"room": {"timeline": "x"}}, "room.timeline"),
        ({"room": {"timeline": {"limit": "10"}}}, "room.timeline.limit"),
        ({"room": {"timeline": {"limit": True}}}, "room.timeline.limit"),
        ({"room": {"timeline": {"limit": -1}}}, "room.timeline.limit"),
        ({"room": {"timeline": {"limit": 1.5}}}, "room.timeline.limit"),
        ({"room": {"state": {"types": "m.room.member"}}}, "room.state.types"),
        ({"room": {"state": {"types": [1]}}}, "room.state.types"),
        ({"room": {"state": {"lazy_load_members": "yes"}}}, "room.state.lazy_load_members"),
        ({"room": {"include_leave": 1}}, "room.include_leave"),
        ({"room": {"rooms": "!r:x"}}, "room.rooms"),
        ({"presence": {"senders": [None]}}, "presence.senders"),
        ({"account_data": {"not_senders": {}}}, "account_data.not_senders"),
        ({"room": {"timeline": {"senders": ["\U0001dd73"]}}}, "room.timeline.senders"),
        ({"presence": {"not_senders": ["alice"]}}, "presence.not_senders"),
        ({"room": {"state": {"rooms": ["#alias:x"]}}}, "room.state.rooms"),
        ({"room": {"not_rooms": ["r:x"]}}, "room.not_rooms"),
        ({"event_format": "xml"}, "event_format"),
        ({"event_fields": "type"}, "event_fields"),
        ({"room": {"timeline": {"contains_url": "true"}}}, "room.timeline.contains_url"),
    ],
)
def test_bad_filters_are_refused_naming_the_field(body: Any, field: str) -> None:
    with pytest.raises(InvalidFilter, match=field.replace(".", r"\.")):
        parse_filter(body)


def test_project_fields_keeps_only_listed_paths() -> None:
    event = {"type": "t", "sender": "@a:x", "content": {"body": "b", "msgtype": "m.text"}}
    assert project_fields(event, ["type", "content.body"]) == {
        "type": "t", "content": {"body": "b"}
    }


def test_project_fields_escaped_dot_and_missing_paths() -> None:
    event = {"content": {"m.relates_to": {"rel_type": "x"}, "body": "b"}}
    assert project_fields(event, ["content.m\\.relates_to", "content.nothing", "nope"]) == {
        "content": {"m.relates_to": {"rel_type": "x"}}
    }


def test_project_fields_never_modifies_the_event() -> None:
    event = {"content": {"body": "b", "extra": 1}}
    project_fields(event, ["content", "content.body"])
    assert event == {"content": {"body": "b", "extra": 1}}
