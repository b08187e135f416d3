"""Read-only state maps whose next version costs O(√n), not a copy of the room.

The state after each state event is the state before it with one key set. Copying the
whole map per event makes every join into a large room cost in proportion to its
members; `LayeredMap` shares one base between versions and copies only a small layer of
changes on top, folding the layer into a new base once it outgrows the square root of
the base (so a version costs O(√n) to make, and a lookup two dict probes).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from math import isqrt
from types import MappingProxyType
from typing import TypeVar

from ranvier.protocol.events import StateKey

V = TypeVar("V")

#: the layer is folded into the base once it holds more keys than this and √(base)
MIN_LAYER = 32


class LayeredMap(Mapping[StateKey, V]):
    """A base map and a layer of keys set on top of it; neither is ever changed."""

    __slots__ = ("_base", "_layer", "_len")

    def __init__(self, base: Mapping[StateKey, V], layer: dict[StateKey, V],
                 length: int) -> None:
        self._base = base
        self._layer = layer
        self._len = length

    def __getitem__(self, key: StateKey) -> V:
        # (values may be None: state groups' merged deltas mark removed keys so)
        layer = self._layer
        return layer[key] if key in layer else self._base[key]

    def get(self, key: StateKey, default: V | None = None) -> V | None:  # type: ignore[override]
        # (Mapping's own goes through __getitem__ and an exception for a missing key)
        layer = self._layer
        return layer[key] if key in layer else self._base.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._layer or key in self._base

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[StateKey]:
        yield from self._base
        yield from (k for k in self._layer if k not in self._base)

    def with_entries(self, changes: Mapping[StateKey, V]) -> LayeredMap[V]:
        """This map with `changes` set on top."""
        layer = {**self._layer, **changes}
        length = self._len + sum(1 for k in changes if k not in self)
        if len(layer) > max(MIN_LAYER, isqrt(len(self._base))):
            base = to_dict(self._base)
            base.update(layer)
            return LayeredMap(base, {}, length)
        return LayeredMap(self._base, layer, length)

    def copy(self) -> dict[StateKey, V]:
        """A new dict of the entries (named as dict's, so that a read-only proxy over
        this map copies it too)."""
        merged = to_dict(self._base)
        merged.update(self._layer)
        return merged

    def own_weight(self) -> int:
        """The entries this version holds alone: its layer, and its share of a base
        that up to √(base) versions share."""
        return len(self._layer) + isqrt(len(self._base))


def with_entries(state: Mapping[StateKey, V], changes: Mapping[StateKey, V]) -> LayeredMap[V]:
    """`state` with `changes` set on top, sharing `state`'s entries. `state` must be
    read-only (a `LayeredMap`, or a mapping nobody changes any more)."""
    if not isinstance(state, LayeredMap):
        state = LayeredMap(state, {}, len(state))
    return state.with_entries(changes)


def to_dict(state: Mapping[StateKey, V]) -> dict[StateKey, V]:
    """A new dict of `state`'s entries, copied at C speed where the type allows (a
    generic Mapping goes key by key, 25x slower)."""
    if isinstance(state, dict | MappingProxyType | LayeredMap):
        return state.copy()
    return dict(state)


def weight(state: Mapping[StateKey, object]) -> int:
    """What a map weighs in a cache bounded by entries."""
    return state.own_weight() if isinstance(state, LayeredMap) else len(state)
