"""What a user's sending an event (PUT send, state, redact) says about them, applied
once the event is persisted: they are active (presence), and they have read their room
up to it, in its thread (an implicit private read receipt, so their own unread counts
clear).

Both are cheap: presence publishes nothing for a user already active within the last
minute, and the receipt is one upsert that never moves backwards.
"""

from __future__ import annotations

from ranvier.services.notifications import thread_of
from ranvier.services.presence import PresenceService
from ranvier.services.receipts import ReceiptsService
from ranvier.storage.events import StoredEvent


class SenderActivity:
    def __init__(self, presence: PresenceService, receipts: ReceiptsService) -> None:
        self._presence = presence
        self._receipts = receipts

    async def on_sent(self, sent: StoredEvent) -> None:
        await self._presence.bump_active(sent.event.sender)
        await self._receipts.mark_read_by_sending(sent, thread_of(sent.event))
