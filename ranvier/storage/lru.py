"""A small least-recently-used cache for hot, immutable-ish rows (parsed events,
state groups)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """Holds at most `max_size` units: entries, or the sum of each value's weight, given
    by `weigh` or to `set` (values of very different sizes, such as state maps of small
    and large rooms, or events, are bounded by what they hold rather than by how many
    there are). A value's weight is taken once, when it is set."""

    def __init__(self, max_size: int, weigh: Callable[[V], int] | None = None) -> None:
        self._max_size = max_size
        self._weigh = weigh
        self._weight = 0
        self._data: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def get(self, key: K) -> V | None:
        item = self._data.get(key)
        if item is None:
            return None
        self._data.move_to_end(key)
        return item[0]

    def get_many(self, keys: Iterable[K]) -> tuple[dict[K, V], list[K]]:
        """The cached values of `keys`, and the keys that are not cached, in order."""
        found: dict[K, V] = {}
        missing: list[K] = []
        for key in keys:
            value = self.get(key)
            if value is None:
                missing.append(key)
            else:
                found[key] = value
        return found, missing

    def set(self, key: K, value: V, weight: int | None = None) -> None:
        self.pop(key)
        if weight is None:
            weight = 1 if self._weigh is None else self._weigh(value)
        weight = max(1, weight)
        self._data[key] = (value, weight)
        self._weight += weight
        # The newest entry stays even when it alone outweighs the bound.
        while self._weight > self._max_size and len(self._data) > 1:
            _, (_, evicted) = self._data.popitem(last=False)
            self._weight -= evicted

    def pop(self, key: K) -> None:
        item = self._data.pop(key, None)
        if item is not None:
            self._weight -= item[1]

    @property
    def weight(self) -> int:
        """The units held now (never above the bound, unless one value alone is)."""
        return self._weight

    def __len__(self) -> int:
        return len(self._data)
