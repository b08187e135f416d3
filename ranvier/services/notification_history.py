"""The list of events a user was notified about (client-server API "Push
notifications", GET /notifications, notifications.yaml), read from the push actions
services/notifications.py records when events are persisted, with `read` from the
user's read receipts (the thread's own receipt counts for threaded events).

A `from` token is the stream position of the last notification of the previous page.
"""

from __future__ import annotations

from typing import Any

from ranvier.errors import MatrixError
from ranvier.services.client_events import ClientEventSerializer
from ranvier.services.receipts import ReceiptsService
from ranvier.storage.events import EventsStore
from ranvier.storage.notifications import NotificationsStore

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


class NotificationHistory:
    def __init__(
        self,
        store: NotificationsStore,
        events: EventsStore,
        receipts: ReceiptsService,
        serializer: ClientEventSerializer,
    ) -> None:
        self._store = store
        self._events = events
        self._receipts = receipts
        self._serializer = serializer

    async def notifications(
        self,
        user_id: str,
        device_id: str | None,
        *,
        from_token: str | None,
        limit: int | None,
        only: str | None,
    ) -> dict[str, Any]:
        if from_token is not None and not (from_token.isascii() and from_token.isdigit()):
            raise MatrixError(400, "M_INVALID_PARAM", f"from: invalid token {from_token!r}")
        if limit is not None and limit < 0:
            raise MatrixError(400, "M_INVALID_PARAM", "limit must not be negative")
        if only not in (None, "highlight"):
            raise MatrixError(400, "M_INVALID_PARAM", "only must be 'highlight'")
        page_size = DEFAULT_LIMIT if limit is None else min(limit, MAX_LIMIT)
        page = await self._store.get_for_user(
            user_id,
            before=int(from_token) if from_token is not None else None,
            limit=page_size,
            highlight_only=only == "highlight",
        )
        found = await self._events.get_events(a.event_id for a in page)
        actions = [a for a in page if a.event_id in found]
        serialized = await self._serializer.serialize(
            [found[a.event_id] for a in actions], user_id=user_id, device_id=device_id
        )
        read_up_to: dict[tuple[str, str], int] = {}
        notifications = []
        for action, event in zip(actions, serialized, strict=True):
            key = (action.room_id, action.thread_id)
            if key not in read_up_to:
                read_up_to[key] = await self._receipts.latest_read_stream_ordering(
                    user_id, action.room_id, action.thread_id
                ) or 0
            notifications.append({
                "actions": list(action.actions),
                "event": event,
                "read": action.stream_ordering <= read_up_to[key],
                "room_id": action.room_id,
                "ts": event["origin_server_ts"],
            })
        out: dict[str, Any] = {"notifications": notifications}
        if page_size and len(page) == page_size:
            out["next_token"] = str(page[-1].stream_ordering)
        return out
