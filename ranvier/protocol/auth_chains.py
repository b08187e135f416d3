"""Auth chains: every event reachable from an event by following `auth_events`.

State resolution v2 needs them twice, for the auth difference and (v2.1) the conflicted
state subgraph. A caller with an index (a cache or a closure table in storage) passes
its own lookup; without one, `AuthChains` walks the events in `event_map` and
remembers every chain it has built, so each event is read at most once per resolution.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set

from .events import Event

#: `auth_chain_of(event_id)`: the event IDs of the event's auth chain, not including the
#: event itself.
AuthChainOf = Callable[[str], Set[str]]


class AuthChains:
    """Auth chains of the events of one room, memoised for the life of one resolution."""

    def __init__(self, event_map: Mapping[str, Event], auth_chain_of: AuthChainOf | None) -> None:
        self._event_map = event_map
        self._supplied = auth_chain_of
        self._memo: dict[str, frozenset[str]] = {}

    def of(self, event_id: str) -> Set[str]:
        """The auth chain of `event_id`, without the event itself."""
        if self._supplied is not None:
            return self._supplied(event_id)
        chain = self._memo.get(event_id)
        if chain is None:
            chain = self._walk(event_id)
        return chain

    def _walk(self, root: str) -> frozenset[str]:
        # Iterative post-order DFS, so long chains cannot hit the recursion limit: an
        # event's chain is built once the chains of all its auth events are known.
        # Events missing from `event_map` end the walk there: they are in the chain but
        # contribute nothing below them. `pending` guards against a (malformed) cycle.
        pending: dict[str, list[str]] = {}
        stack = [root]
        while stack:
            event_id = stack[-1]
            if event_id in self._memo:
                stack.pop()
                continue
            auth_ids = pending.get(event_id)
            if auth_ids is None:
                auth_ids = pending[event_id] = self._auth_ids(event_id)
                stack.extend(a for a in auth_ids if a not in self._memo and a not in pending)
                continue
            stack.pop()
            chain: set[str] = set(auth_ids)
            for auth_id in auth_ids:
                chain |= self._memo.get(auth_id, frozenset())
            self._memo[event_id] = frozenset(chain)
        return self._memo[root]

    def _auth_ids(self, event_id: str) -> list[str]:
        event = self._event_map.get(event_id)
        return event.auth_event_ids() if event is not None else []
