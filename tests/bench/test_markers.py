"""Reading server responses and options in the benchmark driver (bench/markers.py)."""

import pytest

from bench.markers import (
    Marker,
    markers_in_sync,
    next_batch,
    pagination_end,
    parse_marker,
    parse_size_options,
)


def test_marker_survives_a_round_trip_through_a_message_body() -> None:
    marker = Marker("a1b2c3", 3, 41)
    assert parse_marker(marker.body()) == marker


@pytest.mark.parametrize("body", [None, 7, "", "hello world", "bench x 1",
                                  "bench run one 2", "other run 1 2"])
def test_bodies_that_are_not_markers_are_ignored(body: object) -> None:
    assert parse_marker(body) is None


def _sync(room_id: str, bodies: list[object]) -> dict:
    events = [{"type": "m.room.message", "content": {"body": b}} for b in bodies]
    events.append({"type": "m.room.member", "content": {"membership": "join"}})
    return {"next_batch": "s1", "rooms": {"join": {room_id: {"timeline": {"events": events}}}}}


def test_markers_in_sync_keep_only_this_run_in_this_room() -> None:
    ours, theirs = Marker("run1", 0, 1), Marker("run2", 0, 1)
    sync = _sync("!a:x", [ours.body(), theirs.body(), "plain text"])
    assert list(markers_in_sync(sync, "!a:x", "run1")) == [ours]
    assert list(markers_in_sync(sync, "!other:x", "run1")) == []
    assert list(markers_in_sync({"next_batch": "s"}, "!a:x", "run1")) == []


def test_next_batch_is_required() -> None:
    assert next_batch({"next_batch": "s42"}) == "s42"
    with pytest.raises(ValueError, match="no next_batch"):
        next_batch({"rooms": {}})


def test_pagination_ends_on_missing_end_or_empty_chunk() -> None:
    assert pagination_end({"chunk": [{}], "end": "t2"}) == "t2"
    assert pagination_end({"chunk": [{}]}) is None
    assert pagination_end({"chunk": [], "end": "t3"}) is None


def test_size_options_group_by_scenario() -> None:
    assert parse_size_options(["send.events=500", "fanout.receivers=10", "send.max_senders=4"]) \
        == {"send": {"events": 500, "max_senders": 4}, "fanout": {"receivers": 10}}


@pytest.mark.parametrize("item, problem", [
    ("send=5", "scenario.size=number"),
    ("send.events", "scenario.size=number"),
    ("send.events=lots", "not a whole number"),
    ("send.events=0", "at least 1"),
])
def test_bad_size_options_name_the_problem(item: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_size_options([item])
