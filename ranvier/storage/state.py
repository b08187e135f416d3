"""State groups: the room state before/after each event, stored as short delta chains.

A group is either a snapshot (no parent, every entry) or a delta against a parent
group. A chain never grows past `MAX_CHAIN_LENGTH` deltas: the next group after that is
written as a snapshot, so reading any group costs at most that many small deltas. Groups
never change once written, which makes them safe to cache.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ranvier.protocol.events import StateKey
from ranvier.storage.database import Connection, Database
from ranvier.storage.lru import LruCache

MAX_CHAIN_LENGTH = 50

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


#: (type, state_key) entries of cached state maps, summed over the maps.
STATE_CACHE_ENTRIES = 1_000_000


class StateStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._next_id = 0
        # Bounded by entries held: one group of a 10,000-member room weighs as much
        # as a thousand groups of small rooms.
        self._states: LruCache[int, StateMap] = LruCache(STATE_CACHE_ENTRIES, weigh=len)
        self._chain_lengths: LruCache[int, int] = LruCache(100_000)

    async def start(self) -> None:
        """Continue group numbering after the highest group already written. One process
        writes groups (the event persister), so an in-memory counter is enough."""
        self._next_id = int(await self._db.fetchval("SELECT MAX(id) FROM state_groups") or 0)

    # --- reading -----------------------------------------------------------------------

    async def get_state(self, group: int) -> StateMap:
        """The full state a group stands for."""
        cached = self._states.get(group)
        if cached is not None:
            return cached
        rows = await self._db.fetchall(
            "WITH RECURSIVE chain(id, prev_group, n) AS ("
            " SELECT id, prev_group, 0 FROM state_groups WHERE id = ?"
            " UNION ALL SELECT g.id, g.prev_group, c.n + 1"
            " FROM state_groups g JOIN chain c ON g.id = c.prev_group)"
            " SELECT id, n FROM chain ORDER BY n",
            group,
        )
        if not rows:
            raise KeyError(f"unknown state group {group}")
        # Start from the nearest cached ancestor (or the snapshot) and apply the deltas
        # of the groups below it, oldest first.
        chain = [gid for gid, _ in rows]
        base: dict[StateKey, str] = {}
        for i, gid in enumerate(chain):
            ancestor = self._states.get(gid)
            if ancestor is not None:
                base = dict(ancestor)
                chain = chain[:i]
                break
        if chain:
            marks = ",".join("?" * len(chain))
            entries = await self._db.fetchall(
                "SELECT state_group, type, state_key, event_id FROM state_group_entries"
                f" WHERE state_group IN ({marks})",
                *chain,
            )
            by_group: dict[int, list[tuple[str, str, str | None]]] = {}
            for gid, etype, skey, event_id in entries:
                by_group.setdefault(gid, []).append((etype, skey, event_id))
            for gid in reversed(chain):
                for etype, skey, event_id in by_group.get(gid, ()):
                    if event_id is None:
                        base.pop((etype, skey), None)
                    else:
                        base[(etype, skey)] = event_id
        state = MappingProxyType(base)
        self._states.set(group, state)
        return state

    async def get_groups_for_events(
        self, event_ids: Iterable[str]
    ) -> dict[str, tuple[int, int]]:
        """event ID -> (group before, group after), for the events that have state."""
        ids = list(event_ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = await self._db.fetchall(
            "SELECT event_id, state_group_before, state_group_after"
            f" FROM event_to_state_groups WHERE event_id IN ({marks})",
            *ids,
        )
        return {r[0]: (r[1], r[2]) for r in rows}

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
        self, room_id: str, parent: int | None, state: StateMap
    ) -> NewStateGroup:
        """A group for `state`: a delta against `parent` while the chain is short, else
        a snapshot. Allocates the ID; `write_groups` stores it."""
        self._next_id += 1
        gid = self._next_id
        frozen = MappingProxyType(dict(state))
        chain_length = 0
        if parent is not None:
            chain_length = await self._chain_length(parent) + 1
        if parent is None or chain_length > MAX_CHAIN_LENGTH:
            group = NewStateGroup(gid, room_id, None, 0, frozen, frozen)
        else:
            base = await self.get_state(parent)
            delta: dict[StateKey, str | None] = {
                k: v for k, v in frozen.items() if base.get(k) != v
            }
            delta.update({k: None for k in base if k not in frozen})
            group = NewStateGroup(gid, room_id, parent, chain_length, delta, frozen)
        # Cache before the commit: a failed batch leaves an unused ID, never a wrong one.
        self._states.set(gid, frozen)
        self._chain_lengths.set(gid, group.chain_length)
        return group

    async def _chain_length(self, group: int) -> int:
        cached = self._chain_lengths.get(group)
        if cached is None:
            cached = int(
                await self._db.fetchval("SELECT chain_length FROM state_groups WHERE id = ?", group)
            )
            self._chain_lengths.set(group, cached)
        return cached

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
