"""LruCache: bounded by entries, or by the weight of its values."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ranvier.storage.lru import LruCache


def test_count_bound_evicts_the_least_recently_used() -> None:
    cache: LruCache[str, int] = LruCache(2)
    cache.set("a", 1)
    cache.set("b", 2)
    cache.get("a")
    cache.set("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_weight_bound_counts_what_values_hold() -> None:
    cache: LruCache[str, list[int]] = LruCache(10, weigh=len)
    cache.set("small", [1, 2])
    cache.set("big", list(range(7)))
    assert len(cache) == 2
    cache.set("more", [1, 2, 3])  # 2 + 7 + 3 > 10: the oldest goes
    assert cache.get("small") is None and cache.get("big") is not None
    cache.set("big", [0])  # replacing a value gives its weight back
    cache.set("fits", list(range(5)))
    assert len(cache) == 3


def test_a_value_heavier_than_the_bound_is_still_kept_alone() -> None:
    cache: LruCache[str, list[int]] = LruCache(3, weigh=len)
    cache.set("a", [1])
    cache.set("huge", list(range(10)))
    assert cache.get("a") is None and cache.get("huge") is not None


def test_explicit_weights_are_kept_until_evicted() -> None:
    cache: LruCache[str, str] = LruCache(100)
    cache.set("a", "x", 60)
    cache.set("b", "y", 30)
    assert cache.weight == 90
    cache.set("c", "z", 20)  # 110 > 100: "a" goes, and with it its 60
    assert cache.get("a") is None and cache.weight == 50


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 300)), max_size=200))
def test_weight_never_exceeds_the_bound(ops: list[tuple[int, int]]) -> None:
    cache: LruCache[int, int] = LruCache(1000)
    for key, weight in ops:
        cache.set(key, weight, weight)
        live = [cache._data[k][1] for k in cache._data]
        assert cache.weight == sum(live)
        assert cache.weight <= 1000 or len(cache) == 1
        assert cache.get(key) == weight  # the newest value always stays


def test_get_many_splits_keys_into_cached_values_and_missing_keys() -> None:
    cache: LruCache[str, int] = LruCache(10)
    cache.set("a", 1)
    cache.set("c", 3)
    assert cache.get_many(["a", "b", "c", "d"]) == ({"a": 1, "c": 3}, ["b", "d"])
