"""The server never sees plaintext of an end-to-end encrypted conversation: two devices
exchange a Megolm room key over Olm (keys/claim, sendToDevice, /sync) and encrypted
messages in a room with m.room.encryption, both decrypt what the other sent, and
then the database is read directly: the room's non-state events are all
m.room.encrypted, and no table anywhere holds the plaintext."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import pytest
import vodozemac
from unpaddedbase64 import decode_base64, encode_base64

from ranvier.server import HomeServer
from ranvier.storage.database import Database

from .e2e_helpers import Device
from .room_helpers import User, make_user, ok, q
from .sync_helpers import sync, timeline

OLM = "m.olm.v1.curve25519-aes-sha2"
MEGOLM = "m.megolm.v1.aes-sha2"


@dataclass
class E2eeDevice:
    """A device's crypto state, as a client holds it: its Olm account (keys uploaded
    to the server), Olm sessions by peer curve25519 key, and its Megolm sessions."""

    device: Device
    outbound: vodozemac.GroupSession = field(default_factory=vodozemac.GroupSession)
    olm_sessions: dict[str, vodozemac.Session] = field(default_factory=dict)
    inbound: dict[str, vodozemac.InboundGroupSession] = field(default_factory=dict)

    @property
    def user(self) -> User:
        return self.device.user

    def olm_encrypt(self, peer: E2eeDevice, payload_type: str, content: dict) -> dict:
        """An m.room.encrypted to-device content carrying `content` to `peer` (spec:
        "m.olm.v1.curve25519-aes-sha2")."""
        plaintext = {
            "type": payload_type, "content": content,
            "sender": self.user.user_id, "sender_device": self.user.device_id,
            "keys": {"ed25519": self.device.ed25519},
            "recipient": peer.user.user_id, "recipient_keys": {"ed25519": peer.device.ed25519},
        }
        message_type, body = self.olm_sessions[peer.device.curve25519].encrypt(
            json.dumps(plaintext).encode()
        ).to_parts()
        return {
            "algorithm": OLM, "sender_key": self.device.curve25519,
            "ciphertext": {peer.device.curve25519: {"type": message_type,
                                                    "body": encode_base64(body)}},
        }

    def olm_decrypt(self, content: dict) -> dict:
        """The payload of an Olm to-device message; a pre-key message opens a session."""
        sender_key = content["sender_key"]
        part = content["ciphertext"][self.device.curve25519]
        message = vodozemac.AnyOlmMessage.from_parts(part["type"], decode_base64(part["body"]))
        if sender_key in self.olm_sessions:
            plaintext = self.olm_sessions[sender_key].decrypt(message)
        else:
            session, plaintext = self.device.account.create_inbound_session(
                vodozemac.Curve25519PublicKey.from_base64(sender_key), message.to_pre_key()
            )
            self.olm_sessions[sender_key] = session
        return json.loads(plaintext)

    def room_key(self, room_id: str) -> dict:
        return {"algorithm": MEGOLM, "room_id": room_id,
                "session_id": self.outbound.session_id,
                "session_key": self.outbound.session_key.to_base64()}

    def megolm_encrypt(self, room_id: str, content: dict) -> dict:
        """The content of an m.room.encrypted room event (spec: "m.megolm.v1.aes-sha2")."""
        plaintext = {"type": "m.room.message", "content": content, "room_id": room_id}
        return {
            "algorithm": MEGOLM, "sender_key": self.device.curve25519,
            "device_id": self.user.device_id, "session_id": self.outbound.session_id,
            "ciphertext": self.outbound.encrypt(json.dumps(plaintext).encode()).to_base64(),
        }

    def megolm_decrypt(self, content: dict) -> dict:
        session = self.inbound[content["session_id"]]
        message = vodozemac.MegolmMessage.from_base64(content["ciphertext"])
        return json.loads(session.decrypt(message).plaintext)

    def accept_room_key(self, payload: dict) -> None:
        assert payload["type"] == "m.room_key"
        key = payload["content"]
        self.inbound[key["session_id"]] = vodozemac.InboundGroupSession(
            vodozemac.SessionKey(key["session_key"])
        )


@dataclass(frozen=True)
class Exchange:
    room_id: str
    event_ids: list[str]
    #: A word unique to each message's plaintext body.
    markers: list[str]
    #: The Megolm ciphertext of alice's message, as the events store holds it.
    ciphertext: str


async def new_device(client: Any, server: HomeServer, localpart: str) -> E2eeDevice:
    device = Device(await make_user(server, localpart))
    await device.upload(client, device_keys=device.device_keys(),
                        one_time_keys=device.one_time_keys(5))
    return E2eeDevice(device)


async def open_olm_session(client: Any, sender: E2eeDevice, peer: E2eeDevice) -> None:
    """Claim one of `peer`'s one-time keys and open an outbound Olm session with it."""
    claimed = await ok(client, "POST", "/keys/claim", sender.user, {
        "one_time_keys": {peer.user.user_id: {peer.user.device_id: "signed_curve25519"}},
    })
    ((_, key),) = claimed["one_time_keys"][peer.user.user_id][peer.user.device_id].items()
    sender.olm_sessions[peer.device.curve25519] = sender.device.account.create_outbound_session(
        vodozemac.Curve25519PublicKey.from_base64(peer.device.curve25519),
        vodozemac.Curve25519PublicKey.from_base64(key["key"]),
    )


async def share_room_key(client: Any, sender: E2eeDevice, peer: E2eeDevice, room_id: str,
                         txn: str) -> None:
    content = sender.olm_encrypt(peer, "m.room_key", sender.room_key(room_id))
    await ok(client, "PUT", f"/sendToDevice/m.room.encrypted/{txn}", sender.user,
             {"messages": {peer.user.user_id: {peer.user.device_id: content}}})


async def send_encrypted(client: Any, sender: E2eeDevice, room_id: str, body: str,
                         txn: str) -> str:
    content = sender.megolm_encrypt(room_id, {"msgtype": "m.text", "body": body})
    sent = await ok(client, "PUT", f"/rooms/{q(room_id)}/send/m.room.encrypted/{txn}",
                    sender.user, content)
    return str(sent["event_id"])


async def receive(client: Any, device: E2eeDevice, room_id: str, event_id: str) -> str:
    """Sync as `device`: take the room keys from to-device messages, then decrypt
    `event_id` from the room's timeline; return its body."""
    body = await sync(client, device.user)
    for message in body.get("to_device", {}).get("events", []):
        assert message["type"] == "m.room.encrypted" and message["content"]["algorithm"] == OLM
        device.accept_room_key(device.olm_decrypt(message["content"]))
    (event,) = [e for e in timeline(body, room_id) if e["event_id"] == event_id]
    assert event["type"] == "m.room.encrypted"
    payload = device.megolm_decrypt(event["content"])
    assert payload["room_id"] == room_id
    return str(payload["content"]["body"])


@pytest.fixture
async def exchange(client: Any, server: HomeServer) -> Exchange:
    """alice and bob in an encrypted room; each sends a message the other decrypts.
    alice opens the Olm session from a claimed one-time key; bob answers over it."""
    alice = await new_device(client, server, "alice")
    bob = await new_device(client, server, "bob")
    room_id = (await ok(client, "POST", "/createRoom", alice.user, {
        "preset": "private_chat", "invite": [bob.user.user_id],
        "initial_state": [{"type": "m.room.encryption", "state_key": "",
                           "content": {"algorithm": MEGOLM}}],
    }))["room_id"]
    await ok(client, "POST", f"/join/{q(room_id)}", bob.user, {})

    markers = [f"plaintext{secrets.token_hex(8)}" for _ in range(2)]
    await open_olm_session(client, alice, bob)
    await share_room_key(client, alice, bob, room_id, "key-a")
    from_alice = await send_encrypted(client, alice, room_id, f"alice says {markers[0]}", "a")
    assert await receive(client, bob, room_id, from_alice) == f"alice says {markers[0]}"

    await share_room_key(client, bob, alice, room_id, "key-b")
    from_bob = await send_encrypted(client, bob, room_id, f"bob says {markers[1]}", "b")
    assert await receive(client, alice, room_id, from_bob) == f"bob says {markers[1]}"

    stored = await server.stores.events.get_event(from_alice)
    assert stored is not None
    return Exchange(room_id, [from_alice, from_bob], markers,
                    stored.event.content["ciphertext"])


async def table_names(database: Database) -> list[str]:
    if database.engine == "sqlite":
        rows = await database.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    else:
        rows = await database.fetchall(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    return [name for (name,) in rows]


async def test_room_events_besides_state_are_all_m_room_encrypted(
    exchange: Exchange, database: Database
) -> None:
    rows = await database.fetchall(
        "SELECT event_id, type, state_key, json FROM events WHERE room_id = ?", exchange.room_id
    )
    timeline_events = {event_id: (type_, stored) for event_id, type_, state_key, stored in rows
                       if state_key is None}
    assert set(timeline_events) == set(exchange.event_ids)
    for type_, stored in timeline_events.values():
        assert type_ == "m.room.encrypted"
        event = json.loads(stored)
        assert event["type"] == "m.room.encrypted"
        assert event["content"]["algorithm"] == MEGOLM
        assert "body" not in event["content"]


async def test_no_table_holds_the_plaintext(exchange: Exchange, database: Database) -> None:
    """Every row of every table, whatever its columns, searched for the message words."""
    holding: dict[str, set[str]] = {}
    for table in await table_names(database):
        for row in await database.fetchall(f"SELECT * FROM {table}"):
            dumped = repr(row)
            for needle in [*exchange.markers, exchange.ciphertext]:
                if needle in dumped:
                    holding.setdefault(needle, set()).add(table)
    # The search does see stored text: the ciphertext is found (in the events at least).
    assert "events" in holding.get(exchange.ciphertext, set())
    assert not any(marker in holding for marker in exchange.markers), holding
