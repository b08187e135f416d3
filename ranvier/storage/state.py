"""State groups: the room state before/after each event, stored as short delta chains.

A group is either a snapshot (no parent, every entry) or a delta against a parent
group. A chain never grows past `chain_limit` deltas: the next group after that is
written as a snapshot, so reading any group costs at most that many small deltas. Groups
never change once written, which makes them safe to cache.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ranvier.config import CacheConfig
from ranvier.protocol.events import StateKey
from ranvier.storage.database import Connection, Database
from ranvier.storage.lru import LruCache
from ranvier.storage.state_map import LayeredMap, to_dict, weight, with_entries

#: a chain ends (the next group is a snapshot) after this many deltas, or after a
#: quarter of its state's size in a larger room: a snapshot writes every key, so
#: snapshots every 50 events would cost each event of a large room n/50 rows; this way
#: an event writes at most 4 rows on average, and reading a chain reads at most 1.25
#: times the rows of its snapshot
MAX_CHAIN_LENGTH = 50
STATE_PER_CHAIN_LINK = 4


#: events whose (group before, group after) stay known without a read: the rooms'
#: extremities, which every send starts from, and the recent events a sync reads state
#: at (about 250 bytes an entry)
EVENT_GROUPS_CACHE_ENTRIES = 10_000


def chain_limit(state_size: int) -> int:
    return max(MAX_CHAIN_LENGTH, state_size // STATE_PER_CHAIN_LINK)

StateMap = Mapping[StateKey, str]


@dataclass(frozen=True)
class NewStateGroup:
    """A group computed in memory, to be written by `write_groups` in the caller's
    transaction."""

    id: int
    room_id: str
    prev_group: int | None
    chain_length: int
    #: the entries written: a delta against `prev_group` (None removes a key), or the
    #: full state of a snapshot
    entries: Mapping[StateKey, str | None]
    #: the full state the group stands for
    state: StateMap = field(repr=False)


@dataclass(frozen=True, slots=True)
class _Group:
    """A group in its compact form. A snapshot holds its full state; a delta group
    holds every change since its snapshot (`root`), its chain's deltas merged (None
    removes a key), so any key is answered by two lookups."""

    root: int
    chain_length: int
    entries: Mapping[StateKey, str | None]


class StateStore:
    def __init__(self, db: Database, cache_entries: int = CacheConfig.state_cache_entries) -> None:
        self._db = db
        self._next_id = 0
        # Two caches, both bounded by the entries they hold (one group of a 10,000-member
        # room weighs as much as a thousand groups of small rooms): the compact groups,
        # and the full maps built from them. Versions made one from another (a chain's
        # merged deltas, the persister's maps) share their entries and weigh only
        # their own (`state_map.weight`); a single key is answered from the compact
        # form alone (`get_state_entries`).
        self._groups: LruCache[int, _Group] = LruCache(
            cache_entries, weigh=lambda g: weight(g.entries) + 1)
        self._full: LruCache[int, StateMap] = LruCache(cache_entries, weigh=weight)
        # An event's groups never change once written (event_to_state_groups).
        self._event_groups: LruCache[str, tuple[int, int]] = LruCache(
            EVENT_GROUPS_CACHE_ENTRIES)

    async def start(self) -> None:
        """Continue group numbering after the highest group already written. One process
        writes groups (the event persister), so an in-memory counter is enough."""
        self._next_id = int(await self._db.fetchval("SELECT MAX(id) FROM state_groups") or 0)

    # --- reading -----------------------------------------------------------------------

    async def get_state(self, group: int) -> StateMap:
        """The full state a group stands for."""
        cached = self._full.get(group)
        if cached is not None:
            return cached
        stored = await self._group(group)
        if stored.root == group:  # a snapshot: its map is the stored one
            state: StateMap = MappingProxyType(stored.entries)  # type: ignore[arg-type]
        else:
            full = to_dict((await self._group(stored.root)).entries)
            for key, event_id in stored.entries.items():
                if event_id is None:
                    full.pop(key, None)
                else:
                    full[key] = event_id
            state = MappingProxyType(full)  # type: ignore[arg-type]
        self._full.set(group, state)
        return state

    async def get_state_entries(
        self, group: int, keys: Iterable[StateKey]
    ) -> dict[StateKey, str]:
        """The event IDs of `keys` in the group's state (keys it lacks are left out),
        without building the full map."""
        full = self._full.get(group)
        if full is not None:
            return {k: full[k] for k in keys if k in full}
        stored = await self._group(group)
        root = stored.entries if stored.root == group else None
        found: dict[StateKey, str] = {}
        for key in keys:
            if key in stored.entries:
                event_id = stored.entries[key]
            else:
                if root is None:
                    root = (await self._group(stored.root)).entries
                event_id = root.get(key)
            if event_id is not None:
                found[key] = event_id
        return found

    async def _group(self, group: int) -> _Group:
        cached = self._groups.get(group)
        if cached is not None:
            return cached
        loaded = await self._load_chain(group)
        return loaded[group]

    async def _load_chain(self, group: int) -> dict[int, _Group]:
        """Read a group and its ancestors down to the snapshot into the cache."""
        rows = await self._db.fetchall(
            "WITH RECURSIVE chain(id, prev_group, chain_length) AS ("
            " SELECT id, prev_group, chain_length FROM state_groups WHERE id = ?"
            " UNION ALL SELECT g.id, g.prev_group, g.chain_length"
            " FROM state_groups g JOIN chain c ON g.id = c.prev_group)"
            " SELECT id, prev_group, chain_length FROM chain",
            group,
        )
        if not rows:
            raise KeyError(f"unknown state group {group}")
        marks = ",".join("?" * len(rows))
        entries = await self._db.fetchall(
            "SELECT state_group, type, state_key, event_id FROM state_group_entries"
            f" WHERE state_group IN ({marks})",
            *(r[0] for r in rows),
        )
        own: dict[int, dict[StateKey, str | None]] = {r[0]: {} for r in rows}
        for gid, etype, skey, event_id in entries:
            # Event types repeat across every group: one string each.
            own[gid][(sys.intern(etype), skey)] = event_id
        # Oldest first: the snapshot, then each delta merged onto its parent's.
        rows = sorted(rows, key=lambda r: int(r[2]))
        root = rows[0][0]
        loaded: dict[int, _Group] = {}
        for gid, prev, length in rows:
            if prev is None:
                loaded[gid] = _Group(gid, 0, own[gid])
            else:
                merged = (with_entries(loaded[prev].entries, own[gid]) if prev != root
                          else own[gid])
                loaded[gid] = _Group(root, int(length), merged)
            self._groups.set(gid, loaded[gid])
        return loaded

    async def get_groups_for_events(
        self, event_ids: Iterable[str]
    ) -> dict[str, tuple[int, int]]:
        """event ID -> (group before, group after), for the events that have state."""
        found, missing = self._event_groups.get_many(event_ids)
        if not missing:
            return found
        marks = ",".join("?" * len(missing))
        rows = await self._db.fetchall(
            "SELECT event_id, state_group_before, state_group_after"
            f" FROM event_to_state_groups WHERE event_id IN ({marks})",
            *missing,
        )
        for event_id, before, after in rows:
            found[event_id] = (before, after)
            self._event_groups.set(event_id, (before, after))
        return found

    def remember_event_groups(self, groups: Iterable[tuple[str, int, int]]) -> None:
        """Keep the groups of events just committed (event ID, before, after): the next
        send and the syncs that follow read them."""
        for event_id, before, after in groups:
            self._event_groups.set(event_id, (before, after))

    async def get_current_state(self, room_id: str) -> dict[StateKey, str]:
        rows = await self._db.fetchall(
            "SELECT type, state_key, event_id FROM current_state WHERE room_id = ?", room_id
        )
        return {(r[0], r[1]): r[2] for r in rows}

    async def get_current_state_event_id(
        self, room_id: str, event_type: str, state_key: str
    ) -> str | None:
        return await self._db.fetchval(  # type: ignore[no-any-return]
            "SELECT event_id FROM current_state WHERE room_id = ? AND type = ? AND state_key = ?",
            room_id,
            event_type,
            state_key,
        )

    # --- writing -----------------------------------------------------------------------

    async def new_group(
        self,
        room_id: str,
        parent: int | None,
        state: StateMap,
        changes: Mapping[StateKey, str] | None = None,
    ) -> NewStateGroup:
        """A group for `state`: a delta against `parent` while the chain is short, else
        a snapshot. Allocates the ID; `write_groups` stores it. `changes`, when the
        caller knows it (one event's key), is what `state` sets on top of `parent`'s
        state: it spares comparing the two whole maps. A read-only `state` is kept as
        given, so it must not change afterwards."""
        self._next_id += 1
        gid = self._next_id
        frozen = (state if isinstance(state, MappingProxyType | LayeredMap)
                  else MappingProxyType(dict(state)))
        parent_group = await self._group(parent) if parent is not None else None
        if parent_group is None or parent_group.chain_length >= chain_limit(len(frozen)):
            group = NewStateGroup(gid, room_id, None, 0, frozen, frozen)
            compact = _Group(gid, 0, frozen)
        else:
            assert parent is not None
            delta: dict[StateKey, str | None]
            if changes is not None:
                delta = dict(changes)
            else:
                base = await self.get_state(parent)
                delta = {k: v for k, v in frozen.items() if base.get(k) != v}
                delta.update({k: None for k in base if k not in frozen})
            length = parent_group.chain_length + 1
            group = NewStateGroup(gid, room_id, parent, length, delta, frozen)
            # The merged delta shares its parent's entries: O(√chain), not a copy.
            merged = (with_entries(parent_group.entries, delta)
                      if parent_group.root != parent else delta)
            compact = _Group(parent_group.root, length, merged)
        # Cache before the commit: a failed batch leaves an unused ID, never a wrong one.
        self._groups.set(gid, compact)
        self._full.set(gid, frozen)
        return group

    @staticmethod
    async def write_groups(conn: Connection, groups: Iterable[NewStateGroup]) -> None:
        groups = list(groups)
        await conn.executemany(
            "INSERT INTO state_groups (id, room_id, prev_group, chain_length) VALUES (?, ?, ?, ?)",
            [(g.id, g.room_id, g.prev_group, g.chain_length) for g in groups],
        )
        await conn.executemany(
            "INSERT INTO state_group_entries (state_group, type, state_key, event_id)"
            " VALUES (?, ?, ?, ?)",
            [(g.id, k[0], k[1], v) for g in groups for k, v in g.entries.items()],
        )
