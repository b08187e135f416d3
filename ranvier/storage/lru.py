"""A small least-recently-used cache for hot, immutable-ish rows (parsed events,
state groups)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """Holds at most `max_size` units: entries, or with `weigh` the sum of each value's
    weight (values of very different sizes, such as state maps of small and large
    rooms, are bounded by what they hold rather than by how many there are)."""

    def __init__(self, max_size: int, weigh: Callable[[V], int] | None = None) -> None:
        self._max_size = max_size
        self._weigh = weigh
        self._weight = 0
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def set(self, key: K, value: V) -> None:
        self.pop(key)
        self._data[key] = value
        self._weight += self._weight_of(value)
        # The newest entry stays even when it alone outweighs the bound.
        while self._weight > self._max_size and len(self._data) > 1:
            _, evicted = self._data.popitem(last=False)
            self._weight -= self._weight_of(evicted)

    def pop(self, key: K) -> None:
        value = self._data.pop(key, None)
        if value is not None:
            self._weight -= self._weight_of(value)

    def _weight_of(self, value: V) -> int:
        return 1 if self._weigh is None else max(1, self._weigh(value))

    def __len__(self) -> int:
        return len(self._data)
