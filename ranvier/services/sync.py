"""/sync (client-server API "Syncing", sync.yaml): what changed for a user between two
sync tokens, waiting for a change when there is none yet.

A sync token holds one position per stream (services/tokens.py). A sync reads every
stream between the client's `since` and the positions current when it starts (`to`),
which become `next_batch`: nothing is read twice, nothing is skipped. Rooms come from the
user's membership events up to `to`:
- joined rooms: all of them in an initial sync; in an incremental one, those with new
  events, receipts, typing or account data, and those joined since (which get their full
  state, as in an initial sync);
- invited / knocked rooms: their stripped state, when the membership is new;
- left (and banned) rooms: when the membership is new, or always with `include_leave`
  in an initial sync; their timeline stops at the leave.

An incremental sync with nothing to say waits on the notifier (`timeout`) for the
user's rooms or the user, then builds again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from ranvier.clock import Clock
from ranvier.notifier import Notifier
from ranvier.protocol.filters import Filter
from ranvier.services.sync_rooms import RoomSyncSpec, SyncRoomBuilder
from ranvier.services.tokens import SyncToken
from ranvier.storage.events import EventsStore, StoredEvent
from ranvier.storage.room_stream import MIN_POSITION, MembershipRow, RoomStreamStore
from ranvier.storage.state import StateStore

if TYPE_CHECKING:
    from ranvier.services.account_data import AccountDataService
    from ranvier.services.device_lists import DeviceListsService
    from ranvier.services.e2e_keys import E2EKeysService
    from ranvier.services.presence import PresenceService
    from ranvier.services.push_rules import PushRulesService
    from ranvier.services.receipts import ReceiptsService
    from ranvier.services.to_device import ToDeviceService
    from ranvier.services.typing import TypingService

#: the state a client is shown of a room it is invited to or knocks on (spec:
#: "Stripped state", the recommended set)
STRIPPED_STATE_TYPES = (
    "m.room.create", "m.room.name", "m.room.avatar", "m.room.topic", "m.room.join_rules",
    "m.room.canonical_alias", "m.room.encryption",
)


class UnreadCounts(Protocol):
    """The push engineer's notification counts (services/notifications.py)."""

    async def unread_counts(self, user_id: str, room_id: str) -> tuple[int, int]: ...

    async def unread_thread_counts(
        self, user_id: str, room_id: str
    ) -> dict[str, tuple[int, int]]: ...


@dataclass(frozen=True)
class SyncRequest:
    user_id: str
    device_id: str | None
    filter: Filter
    since: SyncToken | None = None
    full_state: bool = False
    timeout_ms: int = 0
    use_state_after: bool = False
    set_presence: str = "online"


@dataclass(frozen=True)
class SyncSources:
    """The other streams /sync renders, owned by their services."""

    account_data: AccountDataService
    receipts: ReceiptsService
    typing: TypingService
    presence: PresenceService
    push_rules: PushRulesService
    to_device: ToDeviceService
    device_lists: DeviceListsService
    e2e_keys: E2EKeysService
    unread: UnreadCounts | None = None


#: members of a newly joined room whose presence one sync sends at most
MAX_MET_MEMBERS = 1000


@dataclass
class _Rooms:
    """The user's rooms as of `to`, by what /sync does with them."""

    joined: list[str]
    #: joined rooms whose whole state the client lacks (joined since `since`)
    newly_joined: set[str]
    invited: list[MembershipRow]
    knocked: list[MembershipRow]
    left: list[MembershipRow]
    #: membership at `since` per room (incremental syncs)
    at_since: dict[str, str]


class SyncService:
    def __init__(
        self,
        notifier: Notifier,
        clock: Clock,
        events: EventsStore,
        state: StateStore,
        stream: RoomStreamStore,
        rooms: SyncRoomBuilder,
        sources: SyncSources,
    ) -> None:
        self._notifier = notifier
        self._clock = clock
        self._events = events
        self._state = state
        self._stream = stream
        self._rooms = rooms
        self._sources = sources

    async def sync(self, req: SyncRequest) -> dict[str, Any]:
        await self._sources.presence.set_state_from_sync(
            req.user_id, req.set_presence, req.timeout_ms
        )
        deadline = self._clock.monotonic() + req.timeout_ms / 1000
        while True:
            to = SyncToken.from_positions(self._notifier.current_positions())
            # The e2ee sections read other tables than the rooms': on PostgreSQL their
            # reads run beside the rooms' on another pooled connection.
            (response, joined), (e2ee, to_device_pos) = await asyncio.gather(
                self._build(req, to), self._e2ee(req, to)
            )
            response.update(e2ee)
            remaining = deadline - self._clock.monotonic()
            if req.since is None or req.full_state or remaining <= 0 or not _is_empty(response):
                response["next_batch"] = str(replace(to, to_device=to_device_pos))
                return response
            await self._notifier.wait_for(req.user_id, joined, to.positions(), remaining)

    # --- one pass -----------------------------------------------------------------------

    async def _build(self, req: SyncRequest, to: SyncToken) -> tuple[dict[str, Any], list[str]]:
        since = req.since
        # Both from memory (docs/SYNC.md), but for a user's first sync since start-up
        # and a `since` older than memory holds.
        rooms = await self._classify(req, to)
        changed = await self._changed_rooms(req, to, rooms.joined)
        specs: dict[str, RoomSyncSpec] = {}
        for room_id in rooms.joined:
            if since is None:
                specs[room_id] = RoomSyncSpec(room_id, MIN_POSITION, to.events, None)
            elif room_id in rooms.newly_joined:
                # As in an initial sync, but `limited` whenever older events exist, so
                # the client knows it may page back (Synapse does the same).
                specs[room_id] = RoomSyncSpec(
                    room_id, MIN_POSITION, to.events, None, older_limited=True
                )
            elif req.full_state or room_id in changed:
                specs[room_id] = _since_spec(req, room_id, since, to)
        leave_specs = []
        for row in rooms.left:
            # The client has the room up to `since` only if it was joined then.
            known = (
                since.events
                if since is not None and rooms.at_since.get(row.room_id) == "join"
                else None
            )
            leave_specs.append(
                RoomSyncSpec(
                    row.room_id,
                    MIN_POSITION if known is None else known,
                    row.stream,
                    None if req.full_state else known,
                    with_summary=False,
                )
            )
        # The other streams' reads run beside the rooms' (on PostgreSQL, each on a
        # pooled connection of its own).
        (built, unread), ephemeral, (global_data, room_data) = await asyncio.gather(
            self._build_rooms(req, list(specs.values()), leave_specs),
            self._ephemeral(req, rooms.joined, to),
            self._account_data(req, to),
        )
        # Rooms with nothing new but receipts, typing or room account data (rarely
        # any: a receipt mostly comes with the event it marks), built after.
        others = [
            _since_spec(req, room_id, since, to)
            for room_id in rooms.joined
            if since is not None
            and room_id not in specs
            and (room_id in ephemeral or room_id in room_data)
        ]
        if others:
            more_built, more_unread = await self._build_rooms(req, others, [])
            built.update(more_built)
            unread.update(more_unread)
            specs.update((spec.room_id, spec) for spec in others)
        join_specs = [specs[room_id] for room_id in rooms.joined if room_id in specs]
        join: dict[str, Any] = {}
        for spec in join_specs:
            section = built[spec.room_id]
            section["ephemeral"] = {"events": ephemeral.get(spec.room_id, [])}
            section["account_data"] = {"events": room_data.get(spec.room_id, [])}
            if spec.since is not None and _is_quiet(section):
                continue
            section.update(unread.get(spec.room_id, {}))
            join[spec.room_id] = section
        leave = {}
        for spec in leave_specs:
            section = built[spec.room_id]
            section["account_data"] = {"events": room_data.get(spec.room_id, [])}
            leave[spec.room_id] = section

        response: dict[str, Any] = {
            "rooms": {
                "join": join,
                "invite": {
                    row.room_id: {"invite_state": {"events": await self._stripped(row)}}
                    for row in await self._unignored(req.user_id, rooms.invited)
                },
                "knock": {
                    row.room_id: {"knock_state": {"events": await self._stripped(row)}}
                    for row in rooms.knocked
                },
                "leave": leave,
            },
            "account_data": {"events": global_data},
            "presence": {
                "events": await self._presence(req, to, await self._met(req, rooms, join))
            },
        }
        return response, rooms.joined

    async def _build_rooms(
        self,
        req: SyncRequest,
        join_specs: Sequence[RoomSyncSpec],
        leave_specs: Sequence[RoomSyncSpec],
    ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """The rooms' sections, and the joined ones' unread counts (read beside them:
        they depend on the room alone; a quiet room's are read for nothing)."""
        return await asyncio.gather(
            self._rooms.build(
                req.user_id, req.device_id, [*join_specs, *leave_specs], req.filter,
                req.use_state_after,
            ),
            self._unread_sections(req, [s.room_id for s in join_specs]),
        )

    async def _changed_rooms(
        self, req: SyncRequest, to: SyncToken, joined: Sequence[str]
    ) -> set[str]:
        """The joined rooms with new events since the request's token (none for an
        initial sync)."""
        if req.since is None:
            return set()
        return await self._stream.rooms_with_events_after(joined, req.since.events, to.events)

    async def _classify(self, req: SyncRequest, to: SyncToken) -> _Rooms:
        since = req.since
        room_filter = req.filter.room
        latest: dict[str, MembershipRow] = {}
        at_since: dict[str, str] = {}
        changed: set[str] = set()
        for row in await self._stream.user_memberships(req.user_id, to.events):
            latest[row.room_id] = row
            if since is not None and row.stream <= since.events:
                at_since[row.room_id] = row.membership
            elif since is not None:
                changed.add(row.room_id)
        shown_if_left = {
            room_id for room_id, row in latest.items()
            if row.membership in ("leave", "ban") and _shows_left_room(req, room_id, changed)
        }
        # Only a left room the sync would show can be hidden by forgetting it.
        forgotten = await self._stream.forgotten_rooms(req.user_id) if shown_if_left else set()
        rooms = _Rooms([], set(), [], [], [], at_since)
        for room_id, row in sorted(latest.items()):
            if not room_filter.allows_room(room_id):
                continue
            new = since is None or room_id in changed
            if row.membership == "join":
                rooms.joined.append(room_id)
                # A join over a join (a profile change) is no new join.
                if since is not None and room_id in changed and at_since.get(room_id) != "join":
                    rooms.newly_joined.add(room_id)
            elif row.membership == "invite" and new:
                rooms.invited.append(row)
            elif row.membership == "knock" and new:
                rooms.knocked.append(row)
            elif room_id in shown_if_left and room_id not in forgotten:
                rooms.left.append(row)
        return rooms

    # --- the other streams ------------------------------------------------------------

    async def _account_data(
        self, req: SyncRequest, to: SyncToken
    ) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
        since = req.since
        global_events: list[dict[str, Any]] = []
        by_room: dict[str, list[dict[str, Any]]] = {}
        if since is None or since.account_data != to.account_data:
            global_events, by_room = await self._sources.account_data.changes_for_sync(
                req.user_id, since.account_data if since else None, to.account_data
            )
        if since is None or since.push_rules != to.push_rules:
            event = await self._sources.push_rules.changes_for_sync(
                req.user_id, since.push_rules if since else None, to.push_rules
            )
            if event is not None:
                global_events = [*global_events, event]
        room_filter = req.filter.room
        return (
            req.filter.account_data.apply_limit(
                [e for e in global_events if req.filter.account_data.matches(e["type"])]
            ),
            {
                room_id: room_filter.account_data.apply_limit(
                    [e for e in events if room_filter.account_data.matches(e["type"])]
                )
                for room_id, events in by_room.items()
                if room_filter.account_data.allows_room(room_id)
            },
        )

    async def _ephemeral(
        self, req: SyncRequest, joined: Sequence[str], to: SyncToken
    ) -> dict[str, list[dict[str, Any]]]:
        since = req.since
        ephemeral_filter = req.filter.room.ephemeral
        rooms = [r for r in joined if ephemeral_filter.allows_room(r)]
        out: dict[str, list[dict[str, Any]]] = {}
        if since is None or since.typing != to.typing:
            typing = self._sources.typing.for_sync(rooms, since.typing if since else None)
            for room_id, event in typing.items():
                out.setdefault(room_id, []).append(event)
        if since is None or since.receipts != to.receipts:
            receipts = await self._sources.receipts.changes_for_sync(
                req.user_id, rooms, since.receipts if since else None, to.receipts
            )
            for room_id, content in receipts.items():
                out.setdefault(room_id, []).append({"type": "m.receipt", "content": content})
        return {
            room_id: ephemeral_filter.apply_limit(
                [e for e in events if ephemeral_filter.matches(e["type"])]
            )
            for room_id, events in out.items()
            if any(ephemeral_filter.matches(e["type"]) for e in events)
        }

    async def _e2ee(self, req: SyncRequest, to: SyncToken) -> tuple[dict[str, Any], int]:
        """to_device, device_lists and the device's key counts, and the to_device
        position for next_batch (short of `to` when the inbox holds more than one
        sync's worth)."""
        since = req.since
        response: dict[str, Any] = {}
        # Device lists change with the device-lists stream and with memberships (whom the
        # user shares a room with); a message alone moves neither.
        if since is not None and (
            since.device_lists != to.device_lists
            or (since.events != to.events and self._events.memberships_stored_after(since.events))
        ):
            changed, left = await self._sources.device_lists.changes_for_sync(
                req.user_id, since, to
            )
            response["device_lists"] = {"changed": sorted(changed), "left": sorted(left)}
        if req.device_id is None:
            return response, to.to_device
        keys = self._sources.e2e_keys
        (
            response["device_one_time_keys_count"],
            response["device_unused_fallback_key_types"],
        ) = await keys.counts_for_sync(req.user_id, req.device_id)
        events, position = await self._sources.to_device.to_device_for_sync(
            req.user_id, req.device_id, since.to_device if since else 0, to.to_device
        )
        response["to_device"] = {"events": events}
        return response, position

    async def _unread_sections(
        self, req: SyncRequest, room_ids: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """room -> its unread counts' part of the joined room's section, one room after
        another (a sync takes one pooled connection for them, whatever its rooms)."""
        unread = self._sources.unread
        if unread is None:
            return {}
        return {room_id: await self._unread(req, room_id, unread) for room_id in room_ids}

    @staticmethod
    async def _unread(req: SyncRequest, room_id: str, unread: UnreadCounts) -> dict[str, Any]:
        """`unread_notifications`, and with the timeline filter's
        `unread_thread_notifications` the main timeline's counts there and each
        thread's in `unread_thread_notifications` (spec: "Threading", v1.4)."""
        if not req.filter.room.timeline.unread_thread_notifications:
            return {"unread_notifications": _counts(
                *await unread.unread_counts(req.user_id, room_id)
            )}
        threads = await unread.unread_thread_counts(req.user_id, room_id)
        section: dict[str, Any] = {
            "unread_notifications": _counts(*threads.pop("main", (0, 0)))
        }
        if threads:
            section["unread_thread_notifications"] = {
                root: _counts(*counts) for root, counts in threads.items()
            }
        return section

    async def _met(
        self, req: SyncRequest, rooms: _Rooms, join: Mapping[str, Any]
    ) -> set[str]:
        """Users the client meets in this incremental sync: the members of rooms it
        newly joined, and those who joined its rooms in the gap; their presence is sent
        though it did not change (the client has none for them)."""
        if req.since is None:
            return set()
        met: set[str] = set()
        for room_id in rooms.newly_joined:
            met.update(await self._stream.members_in_stream_order(
                room_id, ("join",), req.user_id, MAX_MET_MEMBERS
            ))
        for room_id, section in join.items():
            if room_id in rooms.newly_joined:
                continue
            for event in section["timeline"]["events"]:
                if event.get("type") == "m.room.member" and (
                    event.get("content", {}).get("membership") == "join"
                ):
                    met.add(event.get("state_key"))
        met.discard(req.user_id)
        return met

    async def _presence(
        self, req: SyncRequest, to: SyncToken, met: set[str]
    ) -> list[dict[str, Any]]:
        since = req.since
        if since is not None and since.presence == to.presence and not met:
            return []
        events = await self._sources.presence.changes_for_sync(
            req.user_id, since.presence if since else None, to.presence
        )
        changed = {e["sender"] for e in events}
        events += await self._sources.presence.current_for_sync(met - changed)
        presence_filter = req.filter.presence
        return presence_filter.apply_limit(
            [e for e in events if presence_filter.matches(e["type"], e.get("sender"))]
        )

    # --- invites and knocks -----------------------------------------------------------

    async def _unignored(self, user_id: str, rows: list[MembershipRow]) -> list[MembershipRow]:
        """The invites not sent by users the user ignores (modules/ignore_users.md)."""
        if not rows:
            return rows
        ignored = await self._sources.account_data.ignored_users(user_id)
        if not ignored:
            return rows
        events = await self._events.get_events(r.event_id for r in rows)
        return [
            r for r in rows
            if (e := events.get(r.event_id)) is None or e.event.sender not in ignored
        ]

    async def _stripped(self, row: MembershipRow) -> list[dict[str, Any]]:
        """The stripped state of the room at the membership event, and the event."""
        member = await self._events.get_event(row.event_id)
        if member is None:
            return []
        groups = await self._state.get_groups_for_events([row.event_id])
        state: Mapping[tuple[str, str], str] = {}
        if row.event_id in groups:
            state = await self._state.get_state(groups[row.event_id][1])
        else:
            # An invite from another server arrives alone, with the state its sender
            # chose to share (kept unsigned in the event).
            shared = member.event.pdu.get("unsigned", {}).get("invite_room_state")
            if isinstance(shared, list):
                return [*shared, _strip(member)]
        keys = [(t, "") for t in STRIPPED_STATE_TYPES]
        if member.event.sender != member.event.state_key:
            # The inviter's own membership too (the spec allows more than its list, and
            # Synapse sends it): Element shows who invited from it, and without it asks
            # /members, which an invitee may not read.
            keys.append(("m.room.member", member.event.sender))
        found = await self._events.get_events(state[k] for k in keys if k in state)
        stripped = [_strip(found[state[k]]) for k in keys if k in state and state[k] in found]
        return [*stripped, _strip(member)]


def _strip(stored: StoredEvent) -> dict[str, Any]:
    event = stored.served_event()
    return {
        "type": event.type,
        "state_key": event.state_key,
        "content": dict(event.content),
        "sender": event.sender,
    }


def _since_spec(req: SyncRequest, room_id: str, since: SyncToken, to: SyncToken) -> RoomSyncSpec:
    """A joined room the client has up to `since` (all of its state anew with
    `full_state`)."""
    return RoomSyncSpec(
        room_id, since.events, to.events, None if req.full_state else since.events
    )


def _counts(notifications: int, highlights: int) -> dict[str, int]:
    return {"notification_count": notifications, "highlight_count": highlights}


def _shows_left_room(req: SyncRequest, room_id: str, changed: set[str]) -> bool:
    """Whether the sync shows a room the user has left: one left since `since`, or any
    in an initial sync with `include_leave` (unless forgotten)."""
    if req.since is None:
        return req.filter.room.include_leave
    return room_id in changed


def _is_quiet(section: Mapping[str, Any]) -> bool:
    """An incremental joined-room section with nothing new."""
    state = section.get("state", section.get("state_after", {}))
    return not (
        section["timeline"]["events"]
        or state.get("events")
        or section["ephemeral"]["events"]
        or section["account_data"]["events"]
    )


def _is_empty(response: Mapping[str, Any]) -> bool:
    return not (
        any(response["rooms"].values())
        or response["account_data"]["events"]
        or response["presence"]["events"]
        or response.get("to_device", {}).get("events")
        or any(response.get("device_lists", {}).values())
    )
