"""NewestPositions: which rooms changed after a position, from memory, never missing one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ranvier.storage.newest_positions import NewestPositions


def test_only_rooms_changed_after_the_position_are_named() -> None:
    newest = NewestPositions(10, 100)
    newest.record("!a", 11)
    newest.record("!b", 15)
    assert newest.changed_after(["!a", "!b", "!c"], 10) == {"!a", "!b"}
    assert newest.changed_after(["!a", "!b", "!c"], 11) == {"!b"}
    assert newest.changed_after(["!a", "!b", "!c"], 15) == set()


def test_a_position_before_the_horizon_is_unknown() -> None:
    newest = NewestPositions(10, 100)
    assert newest.changed_after(["!a"], 9) is None
    assert newest.changed_after(["!a"], 10) == set()


def test_dropping_a_room_raises_the_horizon_to_what_it_held() -> None:
    newest = NewestPositions(0, 2)
    newest.record("!a", 5)
    newest.record("!b", 6)
    newest.record("!c", 7)  # "!a" goes: changes up to 5 are no longer told apart
    assert newest.changed_after(["!a", "!b", "!c"], 4) is None
    assert newest.changed_after(["!a", "!b", "!c"], 5) == {"!b", "!c"}


def test_commits_out_of_position_order_keep_the_newest() -> None:
    newest = NewestPositions(0, 100)
    newest.record("!a", 9)
    newest.record("!a", 8)  # committed after 9, at a lower position
    assert newest.changed_after(["!a"], 8) == {"!a"}


@given(
    st.lists(st.tuples(st.sampled_from("abcdef"), st.integers(1, 60)), max_size=40),
    st.integers(1, 4),
    st.integers(0, 60),
)
def test_names_exactly_the_rooms_changed_after_a_known_position(
    changes: list[tuple[str, int]], max_keys: int, position: int
) -> None:
    newest = NewestPositions(0, max_keys)
    for key, at in changes:
        newest.record(key, at)
    answer = newest.changed_after("abcdef", position)
    if answer is not None:
        assert answer == {key for key, at in changes if at > position}
