"""Read receipts and the fully read marker, and the "receipts" stream /sync reads.

Spec: client-server API, "Receipts" (threaded and private read receipts) and "Read and
unread markers". Receipts and the marker mark "read up to", so an update pointing at
an earlier event than the current one is ignored.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from ranvier.clock import Clock
from ranvier.errors import MatrixError
from ranvier.notifier import Notifier
from ranvier.protocol.events import Event
from ranvier.services.account_data import AccountDataService, Content
from ranvier.services.event_persister import BatchPart
from ranvier.services.room_checks import require_joined
from ranvier.storage.database import Connection
from ranvier.storage.events import EventsStore, RoomBatch, StoredEvent
from ranvier.storage.receipts import UNTHREADED, Receipt, ReceiptsStore
from ranvier.storage.rooms import RoomStore
from ranvier.storage.stream_ids import StreamIdGenerator

RECEIPTS_STREAM = "receipts"
READ = "m.read"
READ_PRIVATE = "m.read.private"
#: Not a receipt: the fully read marker, kept as room account data of this type.
FULLY_READ = "m.fully_read"
RECEIPT_TYPES = (READ, READ_PRIVATE)
#: The thread ID of the main timeline in threaded receipts.
MAIN_THREAD = "main"


def thread_of(event: Event) -> str:
    """The thread an event belongs to: its root for an m.thread relation, else main."""
    relates_to = event.content.get("m.relates_to")
    if isinstance(relates_to, Mapping) and relates_to.get("rel_type") == "m.thread":
        root = relates_to.get("event_id")
        if isinstance(root, str):
            return root
    return MAIN_THREAD


def _check_thread_id(receipt_type: str, thread_id: str) -> None:
    if receipt_type == FULLY_READ:
        raise MatrixError(400, "M_INVALID_PARAM", "thread_id is not allowed for m.fully_read")
    if not (thread_id == MAIN_THREAD or thread_id.startswith("$")):
        raise MatrixError(
            400, "M_INVALID_PARAM",
            "thread_id must be 'main' or the event ID of a thread root",
        )


class ReceiptsService:
    def __init__(
        self,
        store: ReceiptsStore,
        events: EventsStore,
        rooms: RoomStore,
        account_data: AccountDataService,
        notifier: Notifier,
        clock: Clock,
    ) -> None:
        self._store = store
        self._events = events
        self._rooms = rooms
        self._account_data = account_data
        self._notifier = notifier
        self._clock = clock
        notifier.set_position(RECEIPTS_STREAM, store.stream.current)

    @property
    def position(self) -> int:
        return self._store.stream.current

    async def send_receipt(
        self, user_id: str, room_id: str, receipt_type: str, event_id: str,
        thread_id: str | None,
    ) -> None:
        """POST /rooms/{roomId}/receipt/{receiptType}/{eventId}"""
        if receipt_type not in (*RECEIPT_TYPES, FULLY_READ):
            raise MatrixError(
                400, "M_INVALID_PARAM",
                f"Receipt type must be one of {', '.join((*RECEIPT_TYPES, FULLY_READ))}",
            )
        if thread_id is not None:
            _check_thread_id(receipt_type, thread_id)
        await self.set_read_markers(user_id, room_id, {receipt_type: event_id}, thread_id)

    async def set_read_markers(
        self, user_id: str, room_id: str, markers: Mapping[str, str],
        thread_id: str | None = None,
    ) -> None:
        """POST /rooms/{roomId}/read_markers: `markers` maps m.fully_read, m.read and
        m.read.private to event IDs. Every event is checked before anything is written."""
        await require_joined(self._rooms, user_id, room_id)
        targets = {kind: await self._event_in_room(room_id, eid) for kind, eid in markers.items()}
        for kind, target in targets.items():
            if kind == FULLY_READ:
                await self._move_fully_read(user_id, room_id, target)
            else:
                await self._advance(Receipt(
                    room_id, kind, user_id, thread_id, target.event.event_id,
                    self._clock.time_ms(),
                ), target.stream_ordering)

    async def prepare_batch(self, batch: RoomBatch) -> BatchPart | None:
        """The receipts of the batch's senders who read their room by sending (push.md
        "Marking notifications as read": sending an event updates the read receipt),
        written in the batch's transaction. They are private: others' clients already
        infer them from the events themselves."""
        now = self._clock.time_ms()
        # A sender's later event in the same thread supersedes the earlier one's receipt.
        latest: dict[tuple[str, str], tuple[int, Receipt]] = {}
        for index, item in enumerate(batch.events):
            if item.read_by_sender:
                thread = thread_of(item.event)
                latest[(item.event.sender, thread)] = (index, Receipt(
                    batch.room_id, READ_PRIVATE, item.event.sender, thread,
                    item.event.event_id, now,
                ))
        if not latest:
            return None
        return _SenderReceiptsPart(self, self._store.stream, list(latest.values()))

    async def changes_for_sync(
        self, user_id: str, room_ids: Sequence[str], from_pos: int | None, to_pos: int
    ) -> dict[str, Content]:
        """Room ID -> the `m.receipt` content of the receipts in `room_ids` that changed
        in (from_pos, to_pos] (all of them when `from_pos` is None). Other users'
        private receipts are left out."""
        contents: dict[str, Content] = {}
        for r in await self._store.changes(user_id, room_ids, from_pos, to_pos):
            info: dict[str, Any] = {"ts": r.ts}
            if r.thread_id is not None:
                info["thread_id"] = r.thread_id
            by_type = contents.setdefault(r.room_id, {}).setdefault(r.event_id, {})
            by_type.setdefault(r.receipt_type, {})[r.user_id] = info
        return contents

    async def latest_read_stream_ordering(
        self, user_id: str, room_id: str, thread_id: str | None = None
    ) -> int | None:
        """The events-stream position up to which the user has read the room, by their
        m.read or m.read.private receipts, whichever is further: their unthreaded
        receipts, plus those of `thread_id` ('main' or a thread root) when given."""
        positions = await self._store.read_positions(user_id, room_id, RECEIPT_TYPES)
        threads = (UNTHREADED,) if thread_id is None else (UNTHREADED, thread_id)
        return max((positions[t] for t in threads if t in positions), default=None)

    async def _event_in_room(self, room_id: str, event_id: str) -> StoredEvent:
        stored = await self._events.get_event(event_id)
        if stored is None or stored.event.room_id != room_id or stored.outlier:
            raise MatrixError(404, "M_NOT_FOUND", f"Event {event_id} not found in {room_id}")
        return stored

    async def _advance(self, receipt: Receipt, event_stream_ordering: int) -> None:
        position = await self._store.advance(receipt, event_stream_ordering)
        if position is not None:
            self.announce([receipt], position)

    def announce(self, receipts: Sequence[Receipt], position: int) -> None:
        """Wake the syncs that `receipts`, committed up to `position`, concern: others'
        through the room, a private receipt only its user's."""
        rooms = {r.room_id for r in receipts if r.receipt_type != READ_PRIVATE}
        users = {r.user_id for r in receipts}
        self._notifier.notify(RECEIPTS_STREAM, position, rooms=rooms, users=users)

    async def _move_fully_read(self, user_id: str, room_id: str, target: StoredEvent) -> None:
        async def forward(content: Content | None) -> Content | None:
            current_id = (content or {}).get("event_id")
            current = (
                await self._events.get_event(current_id) if isinstance(current_id, str) else None
            )
            if current is not None and current.stream_ordering >= target.stream_ordering:
                return None
            return {"event_id": target.event.event_id}

        await self._account_data.update(user_id, room_id, FULLY_READ, forward)


class _SenderReceiptsPart:
    """Implicit read receipts written with the events that made them: their stream
    positions stay in flight until the transaction ends, so no sync reads past them
    before they are visible."""

    def __init__(
        self, service: ReceiptsService, stream: StreamIdGenerator,
        receipts: list[tuple[int, Receipt]],
    ) -> None:
        self._service = service
        self._stream = stream
        self._receipts = receipts
        self._allocation = contextlib.ExitStack()

    async def write(self, conn: Connection, stored: Sequence[StoredEvent]) -> None:
        ids = self._allocation.enter_context(self._stream.allocate(len(self._receipts)))
        await ReceiptsStore.write_all(conn, [
            (receipt, stored[index].stream_ordering, stream_id)
            for (index, receipt), stream_id in zip(self._receipts, ids, strict=True)
        ])

    def finish(self, committed: bool) -> None:
        self._allocation.close()
        # Each receipt is for its room's newest event, so each moved.
        if committed:
            self._service.announce([r for _, r in self._receipts], self._stream.current)
