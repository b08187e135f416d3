"""What a user's sending an event (PUT send, state, redact) says about them beyond the
event: they are active (presence). Cheap: presence publishes nothing for a user already
active within the last minute. (That they have read their room up to the event is an
implicit read receipt, written with the event: `NewEvent.read_by_sender`.)
"""

from __future__ import annotations

from ranvier.services.presence import PresenceService
from ranvier.storage.events import StoredEvent


class SenderActivity:
    def __init__(self, presence: PresenceService) -> None:
        self._presence = presence

    async def on_sent(self, sent: StoredEvent) -> None:
        await self._presence.bump_active(sent.event.sender)
