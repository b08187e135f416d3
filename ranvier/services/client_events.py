"""Events as clients see them (client-server API "Room Event Format" / ClientEvent).

Server-only fields (hashes, signatures, auth and prev events, depth, ...) are left out;
`unsigned` carries `age`, `transaction_id` (only for the device that sent it),
`prev_content`/`replaces_state` for state events, and `redacted_because`. Sync,
/messages and /context reuse this module.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from typing import Any

from ranvier.clock import Clock
from ranvier.services.relations import RelationsService
from ranvier.storage.events import EventsStore, StoredEvent
from ranvier.storage.state import StateStore

#: PDU fields a client sees (v1-v10 redactions keep `redacts` at the top level).
_CLIENT_FIELDS = (
    "content", "event_id", "origin_server_ts", "room_id", "sender", "state_key", "type",
    "redacts",
)


class ClientEventSerializer:
    def __init__(
        self, events: EventsStore, state: StateStore, clock: Clock, relations: RelationsService
    ) -> None:
        self._events = events
        self._state = state
        self._clock = clock
        self._relations = relations

    async def serialize(
        self,
        events: Sequence[StoredEvent],
        *,
        user_id: str | None = None,
        device_id: str | None = None,
        bundle_relations: bool = True,
        related: Collection[str] | None = None,
    ) -> list[dict[str, Any]]:
        """The client form of `events`, as seen by `user_id` on `device_id`, with their
        bundled aggregations (`unsigned.m.relations`) unless `bundle_relations` is off
        (the events inside a bundle carry none). `related`, if given, holds those of
        `events` that some event relates to, as the read that found them saw: the
        others are not looked up for bundles."""
        # A transaction ID is shown to its sender's device only: no read for the rest.
        txns = await self._events.get_txn_ids(
            s.event.event_id for s in events if s.event.sender == user_id
        ) if device_id is not None else {}
        replaced = await self._replaced_state(events)
        redactions = await self._events.get_events(
            s.redacted_by for s in events if s.redacted_by is not None
        )
        parents = events if related is None else [
            s for s in events if s.event.event_id in related
        ]
        bundles = await self._relations.bundles_json(
            parents, user_id,
            functools.partial(
                self.serialize, user_id=user_id, device_id=device_id, bundle_relations=False
            ),
        ) if bundle_relations else {}
        now = self._clock.time_ms()
        out = []
        for stored in events:
            event = stored.served_event()
            pdu = event.pdu
            client: dict[str, Any] = {k: pdu[k] for k in _CLIENT_FIELDS if k in pdu}
            client["event_id"] = event.event_id
            client["room_id"] = event.room_id
            if event.type == "m.room.redaction" and event.redacts is not None:
                _redacts_in_both_places(client, event.redacts)
            unsigned: dict[str, Any] = {"age": max(0, now - event.origin_server_ts)}
            txn = txns.get(event.event_id)
            if txn is not None and txn.user_id == user_id and txn.device_id == device_id:
                unsigned["transaction_id"] = txn.txn_id
            prev = replaced.get(event.event_id)
            if prev is not None:
                unsigned["replaces_state"] = prev.event.event_id
                unsigned["prev_content"] = dict(prev.served_event().content)
                unsigned["prev_sender"] = prev.event.sender
            if stored.redacted_by is not None and stored.redacted_by in redactions:
                because = redactions[stored.redacted_by]
                (unsigned["redacted_because"],) = await self.serialize([because])
            if event.event_id in bundles:
                unsigned["m.relations"] = bundles[event.event_id]
            client["unsigned"] = unsigned
            out.append(client)
        return out

    async def _replaced_state(self, events: Sequence[StoredEvent]) -> dict[str, StoredEvent]:
        """For each state event, the event it replaced in the state before it."""
        state_events = [s.event for s in events if s.event.is_state() and not s.outlier]
        groups = await self._state.get_groups_for_events(e.event_id for e in state_events)
        replaced_ids: dict[str, str] = {}
        for event in state_events:
            if event.event_id in groups:
                before = await self._state.get_state_entries(
                    groups[event.event_id][0], [event.state_pair])
                prev_id = before.get(event.state_pair)
                if prev_id is not None:
                    replaced_ids[event.event_id] = prev_id
        found = await self._events.get_events(replaced_ids.values())
        return {eid: found[pid] for eid, pid in replaced_ids.items() if pid in found}


def _redacts_in_both_places(client: dict[str, Any], redacts: str) -> None:
    """rooms/v11.md, "Moving the redacts property": over the client-server API, servers
    should serve `redacts` at the top level (older clients; mautrix and matrix-js-sdk
    need it) and in `content` (newer clients) in every room version."""
    client["redacts"] = redacts
    client["content"] = {**client["content"], "redacts": redacts}
