"""Redacting an event on a local user's request.

From room version 3 the auth rules only ask that the sender may send
m.room.redaction; whether the redaction may *apply* to someone else's event (power level
`redact`) is checked by whoever applies it. For local requests we check it up front, so
a user is told at once that they cannot redact, rather than sending a redaction that
never applies.
"""

from __future__ import annotations

from collections.abc import Mapping

from ranvier.errors import MatrixError
from ranvier.protocol.events import Event, StateKey
from ranvier.protocol.power_levels import POWER_LEVELS_KEY, get_named_level, get_user_power_level
from ranvier.services.events import EventCreator, NewEvent
from ranvier.storage.events import EventsStore, StoredEvent
from ranvier.storage.txn_ids import TxnKey


class Redactor:
    def __init__(self, creator: EventCreator, events: EventsStore) -> None:
        self._creator = creator
        self._events = events

    async def redact(
        self,
        room_id: str,
        sender: str,
        target_id: str,
        reason: str | None,
        txn: TxnKey | None,
    ) -> StoredEvent:
        target = await self._events.get_event(target_id)
        if target is not None and target.event.room_id != room_id:
            # The spec is silent; 400 as Synapse answers (SyTest 10redactions.pl).
            raise MatrixError(400, "M_INVALID_PARAM", f"event {target_id} is not in {room_id}")
        target_sender = target.event.sender if target is not None else None

        def may_redact(event: Event, state: Mapping[StateKey, Event]) -> None:
            if target_sender == sender:
                return
            if get_user_power_level(sender, state) < get_named_level(
                "redact", state.get(POWER_LEVELS_KEY)
            ):
                raise MatrixError(
                    403, "M_FORBIDDEN", "redacting other users' events needs the redact level"
                )

        content = {"reason": reason} if reason is not None else {}
        return await self._creator.send(
            room_id,
            NewEvent(
                "m.room.redaction", sender, content, redacts=target_id, txn=txn,
                check=may_redact, read_by_sender=True,
            ),
        )
