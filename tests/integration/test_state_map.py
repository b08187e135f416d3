"""Layered state maps (storage/state_map.py): each version reads as the dict it stands
for, and making one costs O(√n) entries, so the state after an event does not copy
the room's state (issue 5: flat per-join cost in a large room)."""

from __future__ import annotations

import random
from math import isqrt
from types import MappingProxyType

from ranvier.storage.state_map import MIN_LAYER, LayeredMap, to_dict, weight, with_entries


def _key(i: int) -> tuple[str, str]:
    return ("m.room.member", f"@u{i}:test.local")


def test_every_version_reads_as_the_dict_it_stands_for() -> None:
    rng = random.Random(5)
    expected: dict[tuple[str, str], str | None] = {_key(i): f"$e{i}" for i in range(50)}
    state: LayeredMap[str | None] = with_entries(dict(expected), {})
    versions = []
    for n in range(600):
        changes = {_key(rng.randrange(400)): rng.choice([f"$n{n}", None])
                   for _ in range(rng.choice([1, 1, 1, 3]))}
        state = state.with_entries(changes)
        expected = {**expected, **changes}
        versions.append((state, expected))
    # older versions are untouched by the newer ones built on them
    for version, want in versions:
        assert dict(version) == want == to_dict(version)
        assert len(version) == len(want) and list(version) == list(want)
        for key in (_key(0), _key(399), ("m.room.create", "")):
            assert (key in version) == (key in want)
            assert version.get(key, "absent") == want.get(key, "absent")


def test_a_version_holds_at_most_about_root_n_entries_of_its_own() -> None:
    state = with_entries({_key(i): "$old" for i in range(10_000)}, {})
    for i in range(1_000):
        state = state.with_entries({_key(20_000 + i): f"$e{i}"})
        assert weight(state) <= max(MIN_LAYER, isqrt(len(state))) + isqrt(len(state))
    assert len(state) == 11_000


def test_a_read_only_view_of_a_version_copies_as_the_version() -> None:
    # (a snapshot group read back from the compact cache is such a view)
    state = with_entries({_key(i): "$old" for i in range(100)}, {_key(7): "$new"})
    for view in (state, MappingProxyType(state)):  # type: ignore[arg-type]
        assert to_dict(view) == dict(state) and to_dict(view)[_key(7)] == "$new"
        # more keys than a layer holds: folded into a new base copied from the view
        more = {_key(500 + i): "$x" for i in range(MIN_LAYER + 1)}
        assert with_entries(view, more).copy() == {**state, **more}
