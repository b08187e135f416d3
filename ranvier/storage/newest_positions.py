"""The newest stream position at which each of many things (rooms) changed, kept in
memory from the commits themselves, so a reader learns which of them changed after a
position without a read."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable


class NewestPositions:
    """Holds, for changes after `horizon`, each key's newest position; at most
    `max_keys` keys, the ones changed least recently dropped first (the horizon rises
    to what a dropped key held, so every change after it is still known)."""

    def __init__(self, horizon: int, max_keys: int) -> None:
        self._horizon = horizon
        self._max_keys = max_keys
        self._newest: OrderedDict[str, int] = OrderedDict()

    def record(self, key: str, position: int) -> None:
        """`key` changed at `position` (committed; not necessarily in position order)."""
        if position <= self._horizon:
            return
        newest = max(position, self._newest.pop(key, position))
        self._newest[key] = newest
        while len(self._newest) > self._max_keys:
            _, dropped = self._newest.popitem(last=False)
            self._horizon = max(self._horizon, dropped)

    def changed_after(self, keys: Iterable[str], position: int) -> set[str] | None:
        """Those of `keys` with a change after `position` (also any after a later
        position not yet announced: a superset), or None when changes that old are no
        longer known."""
        if position < self._horizon:
            return None
        return {k for k in keys if self._newest.get(k, self._horizon) > position}
