"""Which rooms admit guests (modules/guest_access.md, "Server behaviour"): guests join
only rooms whose `m.room.guest_access` is `can_join`, and once it is no longer, the
server MUST set the guests' membership to `leave`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

from ranvier.errors import MatrixError
from ranvier.protocol.events import Event, StateKey
from ranvier.services.current_state import current_state_events
from ranvier.services.membership import MembershipService
from ranvier.storage.accounts import AccountsStore
from ranvier.storage.events import EventsStore, StoredEvent
from ranvier.storage.rooms import RoomStore
from ranvier.storage.state import StateStore

logger = logging.getLogger(__name__)

_GUEST_ACCESS = ("m.room.guest_access", "")


class GuestAccessService:
    def __init__(
        self,
        state: StateStore,
        events: EventsStore,
        rooms: RoomStore,
        accounts: AccountsStore,
        membership: MembershipService,
        server_name: str,
    ) -> None:
        self._state = state
        self._events = events
        self._rooms = rooms
        self._accounts = accounts
        self._membership = membership
        self._local_suffix = ":" + server_name
        self._pending: set[asyncio.Task[None]] = set()

    async def check_may_join(self, room_id: str) -> None:
        """M_FORBIDDEN unless the room admits guests. (A revocation that lands between
        this check and the join leaves that one guest in: the auth rules, which the
        join is checked against atomically, know nothing of guests.)"""
        if not await self._admits_guests(room_id):
            raise MatrixError(403, "M_FORBIDDEN", "Guest access is not allowed in this room")

    async def _admits_guests(self, room_id: str) -> bool:
        found = await current_state_events(self._state, self._events, room_id, [_GUEST_ACCESS])
        event = found.get(_GUEST_ACCESS)
        return event is not None and event.content.get("guest_access") == "can_join"

    async def on_persisted(
        self, room_id: str, stored: Sequence[StoredEvent], delta: Mapping[StateKey, Event | None]
    ) -> None:
        """Persister listener: a batch that changed the room's guest access away from
        `can_join` starts the guests' leaves."""
        if _GUEST_ACCESS not in delta:
            return
        now = delta[_GUEST_ACCESS]
        if now is not None and now.content.get("guest_access") == "can_join":
            return
        # Listeners run on the room's persister queue, where the leaves must queue too:
        # send them from a task of their own.
        task = asyncio.create_task(self._evict(room_id))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def settle(self) -> None:
        """Wait for the leaves already started (shutdown, tests)."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def _evict(self, room_id: str) -> None:
        # The task runs after the batch that revoked access: a later batch may have
        # given it back (createRoom's public_chat preset forbids guests, then the
        # owner allows them), and guests who joined since must stay.
        if await self._admits_guests(room_id):
            return
        for user_id in await self._rooms.get_joined_members(room_id):
            if not user_id.endswith(self._local_suffix):
                continue  # other servers enforce this for their own guests
            user = await self._accounts.get_user(user_id)
            if user is None or not user.is_guest:
                continue
            try:
                await self._membership.leave(user_id, room_id)
            except MatrixError as e:  # e.g. the guest left meanwhile
                logger.info("Could not remove guest %s from %s: %s", user_id, room_id, e)
