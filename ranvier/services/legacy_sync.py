"""The deprecated (but still specified) read APIs from before /sync: GET /events,
GET /initialSync and GET /rooms/{roomId}/initialSync (old_sync.yaml, peeking_events.yaml,
room_initial_sync.yaml). Clients and SyTest's fixtures still use them.

They share /sync's tokens (`SyncToken`): `/initialSync`'s `end` and the `end` of a
room's initial sync are tokens `/events` continues from, and back. `/events` is the
user's whole stream flattened into one list in stream order: room events (each with
its `room_id`), then typing, receipts, presence and account data changes (room ones
with a `room_id`); its `limit` bounds the room events, so a client that pages with it
never skips one. With `room_id` (one room, peeking included) it is that room's events,
typing, receipts and its members' presence. Events carry `user_id` beside `sender`, as
in r0.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ranvier.clock import Clock
from ranvier.errors import MatrixError
from ranvier.notifier import Notifier
from ranvier.protocol.filters import RoomEventFilter, parse_filter
from ranvier.services.client_events import ClientEventSerializer
from ranvier.services.room_reader import ROOM_START, RoomReader
from ranvier.services.sync import MAX_MET_MEMBERS, SyncRequest, SyncService, SyncSources
from ranvier.services.tokens import SyncToken, room_token
from ranvier.services.visibility import VisibilityChecker
from ranvier.storage.events import EventsStore
from ranvier.storage.room_stream import RoomStreamStore
from ranvier.storage.rooms import RoomStore

if TYPE_CHECKING:
    from ranvier.services.rooms import RoomService

#: room events per /events response when the client names no `limit`
DEFAULT_EVENTS_LIMIT = 100
#: timeline events per room of an initial sync without `limit` (Synapse's default)
DEFAULT_INITIAL_LIMIT = 10


class LegacySyncService:
    def __init__(
        self,
        notifier: Notifier,
        clock: Clock,
        events: EventsStore,
        stream: RoomStreamStore,
        rooms: RoomStore,
        visibility: VisibilityChecker,
        serializer: ClientEventSerializer,
        sources: SyncSources,
        sync: SyncService,
        room_reader: RoomReader,
        room_service: RoomService,
    ) -> None:
        self._notifier = notifier
        self._clock = clock
        self._events = events
        self._stream = stream
        self._rooms = rooms
        self._visibility = visibility
        self._serializer = serializer
        self._sources = sources
        self._sync = sync
        self._room_reader = room_reader
        self._room_service = room_service

    def current_token(self) -> SyncToken:
        return SyncToken.from_positions(self._notifier.current_positions())

    # --- GET /events ----------------------------------------------------------------

    async def events(
        self,
        user_id: str,
        device_id: str | None,
        *,
        since: SyncToken | None,
        timeout_ms: int,
        limit: int | None,
        room_id: str | None,
        is_guest: bool,
    ) -> dict[str, Any]:
        """What happened after `since` (None: now), waiting up to `timeout_ms` for
        something. With `room_id`, only that room (peeking: a room the user may read
        without being in it, e.g. a world-readable one); guests must name one."""
        if room_id is None and is_guest:
            raise MatrixError(400, "M_MISSING_PARAM", "Guests must give a room_id to /events")
        if room_id is not None:
            await self._room_reader.check_readable(user_id, room_id)
        await self._sources.presence.set_state_from_sync(
            user_id, "offline" if is_guest else "online", timeout_ms
        )
        start = since or self.current_token()
        deadline = self._clock.monotonic() + timeout_ms / 1000
        while True:
            to = self.current_token()
            rooms = [room_id] if room_id else await self._rooms_between(user_id, start, to)
            room_events, events_end = await self._room_events(
                user_id, device_id, rooms, start.events, to.events, limit
            )
            others = await self._other_streams(
                user_id, rooms, start, to, with_user_streams=room_id is None
            )
            chunk = room_events + others
            remaining = deadline - self._clock.monotonic()
            if chunk or remaining <= 0:
                end = replace(to, events=events_end)
                return {"start": str(start), "end": str(end), "chunk": chunk}
            await self._notifier.wait_for(user_id, rooms, to.positions(), remaining)

    async def _rooms_between(self, user_id: str, start: SyncToken, to: SyncToken) -> list[str]:
        """Rooms the user was joined to at `start`, or whose membership changed since
        (the events up to a leave, an invite itself: visibility decides)."""
        joined: dict[str, bool] = {}
        for row in await self._stream.user_memberships(user_id, to.events):
            joined[row.room_id] = row.membership == "join" or row.stream > start.events
        return sorted(room for room, include in joined.items() if include)

    async def _room_events(
        self,
        user_id: str,
        device_id: str | None,
        room_ids: list[str],
        lower: int,
        upper: int,
        limit: int | None,
    ) -> tuple[list[dict[str, Any]], int]:
        """The visible events in (lower, upper] of these rooms, oldest first, and the
        position the next request continues from."""
        limit = limit or DEFAULT_EVENTS_LIMIT
        positions = await self._stream.events_between(room_ids, lower, upper, limit)
        if not positions:
            return [], upper
        end = positions[-1].stream if len(positions) == limit else upper
        stored = await self._events.get_events(p.event_id for p in positions)
        visible = await self._visibility.filter_visible(
            user_id, [stored[p.event_id] for p in positions if p.event_id in stored]
        )
        return await self._serialize(visible, user_id, device_id), end

    async def _other_streams(
        self,
        user_id: str,
        room_ids: list[str],
        start: SyncToken,
        to: SyncToken,
        *,
        with_user_streams: bool,
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if start.typing != to.typing:
            for room_id, event in self._sources.typing.for_sync(room_ids, start.typing).items():
                out.append({**event, "room_id": room_id})
        if start.receipts != to.receipts:
            receipts = await self._sources.receipts.changes_for_sync(
                user_id, room_ids, start.receipts, to.receipts
            )
            out += [
                {"type": "m.receipt", "room_id": room_id, "content": content}
                for room_id, content in receipts.items()
            ]
        if not with_user_streams:
            # One room's events: its members' presence, not the user's contacts'.
            if start.presence != to.presence:
                for room_id in room_ids:
                    out += _legacy_presence(await self._sources.presence.changes_in_room(
                        room_id, start.presence, to.presence
                    ))
            return out
        if start.presence != to.presence:
            out += _legacy_presence(await self._sources.presence.changes_for_sync(
                user_id, start.presence, to.presence
            ))
        if start.account_data != to.account_data:
            global_data, by_room = await self._sources.account_data.changes_for_sync(
                user_id, start.account_data, to.account_data
            )
            out += global_data
            out += [
                {**event, "room_id": room_id}
                for room_id, events in by_room.items()
                for event in events
            ]
        return out

    # --- GET /initialSync -------------------------------------------------------------

    async def initial_sync(
        self, user_id: str, device_id: str | None, *, limit: int | None, archived: bool
    ) -> dict[str, Any]:
        """Every room of the user (left ones too with `archived`), each with its
        latest `limit` messages and current state, built from an initial /sync."""
        sync_filter = parse_filter({
            "room": {
                "timeline": {"limit": DEFAULT_INITIAL_LIMIT if limit is None else limit},
                "include_leave": archived,
            },
        })
        # "offline": reading the old way does not mark the user online.
        synced = await self._sync.sync(
            SyncRequest(user_id, device_id, sync_filter, set_presence="offline")
        )
        end = synced["next_batch"]
        rooms = synced["rooms"]
        # The user's own account data (/sync adds m.push_rules, which has its own API).
        global_data, _ = await self._sources.account_data.changes_for_sync(
            user_id, None, SyncToken.parse(end).account_data
        )
        out: list[dict[str, Any]] = []
        for room_id, section in rooms["join"].items():
            out.append(_room_from_sync(room_id, "join", section, end))
        for room_id, section in rooms["leave"].items():
            membership = _own_membership(section, user_id) or "leave"
            out.append(_room_from_sync(room_id, membership, section, end))
        for room in out:  # old_sync.yaml: whether the room is in the directory
            stored = await self._rooms.get_room(room["room_id"])
            room["visibility"] = "public" if stored is not None and stored.is_public else "private"
        for room_id in rooms["invite"]:
            entry: dict[str, Any] = {"room_id": room_id, "membership": "invite"}
            current = await self._rooms.get_local_membership(user_id, room_id)
            invite = await self._events.get_event(current[1]) if current else None
            if invite is not None:
                (entry["invite"],) = await self._serialize([invite], user_id, device_id)
            out.append(entry)
        # Not in old_sync.yaml's schema, but in every /initialSync Synapse answers, and
        # read by clients of that API (and SyTest): the joined rooms' read receipts.
        receipts = [
            {**event, "room_id": room_id}
            for room_id, section in rooms["join"].items()
            for event in section.get("ephemeral", {}).get("events", [])
            if event["type"] == "m.receipt"
        ]
        presence = synced["presence"]["events"]
        if not any(event["sender"] == user_id for event in presence):
            # The user's own presence, offline included (a new user has never been
            # online): Synapse always sends it here, and SyTest reads it (SYT-34).
            presence += await self._sources.presence.current_for_sync([user_id])
        return {
            "end": end,
            "rooms": out,
            "presence": _legacy_presence(presence),
            "account_data": global_data,
            "receipts": receipts,
        }

    # --- GET /rooms/{roomId}/initialSync ----------------------------------------------

    async def room_initial_sync(
        self, user_id: str, device_id: str | None, room_id: str, *, limit: int | None
    ) -> dict[str, Any]:
        """One room as the user may see it (joined, left, or world-readable): its
        latest messages, in order, and its state; `messages.end` is where `/events`
        continues."""
        state_ids = await self._room_service.visible_state(user_id, room_id)  # M_FORBIDDEN
        current = await self._rooms.get_local_membership(user_id, room_id)
        end = self.current_token()
        page = await self._room_reader.messages(
            user_id, device_id, room_id, from_token=None, to_token=None, backwards=True,
            limit=DEFAULT_INITIAL_LIMIT if limit is None else limit,
            event_filter=RoomEventFilter(),
        )
        found = await self._events.get_events(state_ids.values())
        state = await self._serialize(
            [found[e] for e in sorted(state_ids.values()) if e in found], user_id, device_id
        )
        account_data: list[dict[str, Any]] = []
        if current is not None:
            _, by_room = await self._sources.account_data.changes_for_sync(
                user_id, None, end.account_data
            )
            account_data = by_room.get(room_id, [])
        # A member's view has the room's receipts and its members' presence; a former
        # member or a reader of a world-readable room gets neither.
        receipts: list[dict[str, Any]] = []
        presence: list[dict[str, Any]] = []
        if current is not None and current[0] == "join":
            content = await self._sources.receipts.changes_for_sync(
                user_id, [room_id], None, end.receipts
            )
            if room_id in content:
                receipts.append({"type": "m.receipt", "room_id": room_id,
                                 "content": content[room_id]})
            # (at most as many members as /sync sends for a newly joined room)
            members = (await self._rooms.get_joined_members(room_id))[:MAX_MET_MEMBERS]
            presence = _legacy_presence(
                await self._sources.presence.current_for_sync(members)
            )
        # `start` is where /messages continues backwards; with nothing left, the room's
        # start (the spec lets it be omitted then, but Synapse always sends it and
        # clients of this API, and SyTest, read it).
        messages: dict[str, Any] = {
            "chunk": [_legacy_event(e, room_id) for e in reversed(page["chunk"])],
            "start": page.get("end", room_token(ROOM_START)),
            "end": str(end),
        }
        response: dict[str, Any] = {
            "room_id": room_id,
            "messages": messages,
            "state": state,
            "presence": presence,
            "receipts": receipts,
            "account_data": account_data,
        }
        if current is not None:
            response["membership"] = current[0]
        return response

    async def _serialize(
        self, events: list[Any], user_id: str, device_id: str | None
    ) -> list[dict[str, Any]]:
        served = await self._serializer.serialize(events, user_id=user_id, device_id=device_id)
        return [_legacy_event(e, s.event.room_id) for e, s in zip(served, events, strict=True)]


def _room_from_sync(
    room_id: str, membership: str, section: dict[str, Any], end: str
) -> dict[str, Any]:
    """An /initialSync room from a /sync room section: the timeline as `messages`, and
    the state at its end (the state before it, then the timeline's state events)."""
    timeline = section["timeline"]
    state: dict[tuple[str, str], dict[str, Any]] = {}
    for event in [*section["state"]["events"], *timeline["events"]]:
        if "state_key" in event:
            state[(event["type"], event["state_key"])] = _legacy_event(event, room_id)
    messages: dict[str, Any] = {
        "chunk": [_legacy_event(e, room_id) for e in timeline["events"]],
        "end": end,
    }
    if timeline.get("prev_batch"):
        messages["start"] = timeline["prev_batch"]
    return {
        "room_id": room_id,
        "membership": membership,
        "messages": messages,
        "state": list(state.values()),
        "account_data": section.get("account_data", {}).get("events", []),
    }


def _legacy_event(event: dict[str, Any], room_id: str) -> dict[str, Any]:
    """A room event as the old APIs gave it: with its `room_id`, and the sender also as
    `user_id` (the r0-era field; Synapse still sends it there, and SyTest reads it)."""
    return {**event, "room_id": room_id, "user_id": event["sender"]}


def _legacy_presence(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Presence as the old APIs gave it: the user also in `content.user_id`."""
    return [{**e, "content": {**e["content"], "user_id": e["sender"]}} for e in events]


def _own_membership(section: dict[str, Any], user_id: str) -> str | None:
    """The membership (leave or ban) a left room's section ends with."""
    for event in reversed([*section["state"]["events"], *section["timeline"]["events"]]):
        if event["type"] == "m.room.member" and event.get("state_key") == user_id:
            return event["content"].get("membership")
    return None
