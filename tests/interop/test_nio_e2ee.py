"""End-to-end encryption with matrix-nio's `e2e` extra (vodozemac since nio 0.26)
against a running Ranvier: the Olm/Megolm machinery of a real client uses the
server's keys/upload, keys/query, keys/claim, sendToDevice and the sync fields
(to_device, device_lists, one-time key counts), and each side decrypts the other."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from nio import (
    AsyncClient,
    AsyncClientConfig,
    JoinResponse,
    KeysClaimResponse,
    KeysQueryResponse,
    KeysUploadResponse,
    LoginResponse,
    MegolmEvent,
    RoomCreateResponse,
    RoomInviteResponse,
    RoomMessageText,
    RoomSendResponse,
    SyncResponse,
)
from nio.api import RoomPreset
from nio.store import SqliteMemoryStore

from tests.interop.conftest import RanvierProcess
from tests.interop.interop_user import alice_and_bob
from tests.interop.nio_helpers import NioUser, ok

pytestmark = pytest.mark.interop

PASSWORD = "correct horse battery staple"
MEGOLM = "m.megolm.v1.aes-sha2"
#: Encryption on, the Olm account and sessions kept in memory for the test's life.
E2EE_CONFIG = AsyncClientConfig(
    encryption_enabled=True, store=SqliteMemoryStore, store_sync_tokens=False
)


class E2eeNioUser(NioUser):
    """A NioUser whose client encrypts, and which does after each sync what nio's
    `sync_forever` would: upload, query and claim keys, send queued to-device
    messages. `decrypted` keeps the Megolm events the client could decrypt."""

    def __init__(self, base_url: str, localpart: str) -> None:
        super().__init__(base_url, localpart)
        self.client = AsyncClient(base_url, localpart, config=E2EE_CONFIG)
        #: event_id -> the decrypted event, as nio parsed it.
        self.decrypted: dict[str, RoomMessageText] = {}
        #: event_ids of Megolm events nio could not decrypt (yet).
        self.undecryptable: set[str] = set()

    async def sync_once(self, timeout_ms: int = 500) -> SyncResponse:
        response = await super().sync_once(timeout_ms)
        for info in response.rooms.join.values():
            for event in info.timeline.events:
                if isinstance(event, RoomMessageText) and event.decrypted:
                    self.decrypted[event.event_id] = event
                elif isinstance(event, MegolmEvent):
                    self.undecryptable.add(event.event_id)
        await self.run_key_requests()
        return response

    async def run_key_requests(self) -> None:
        client = self.client
        if client.should_upload_keys:
            ok(await client.keys_upload(), KeysUploadResponse)
        if client.should_query_keys:
            ok(await client.keys_query(), KeysQueryResponse)
        if client.should_claim_keys:
            ok(await client.keys_claim(client.get_users_for_key_claiming()), KeysClaimResponse)
        await client.send_to_device_messages()

    async def send_encrypted(self, room_id: str, body: str) -> str:
        assert self.client.rooms[room_id].encrypted, f"{self.localpart}: room not encrypted"
        response = await self.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": body},
            ignore_unverified_devices=True,
        )
        return ok(response, RoomSendResponse).event_id

    async def wait_decrypted(self, event_id: str, body: str, sender: str) -> None:
        event = await self.wait_for(f"{event_id} decrypted",
                                    lambda: self.decrypted.get(event_id))
        assert event.body == body
        assert event.sender == sender


async def raw_event(user: NioUser, room_id: str, event_id: str) -> dict[str, Any]:
    """The event as the server serves it, bypassing nio's decryption."""
    url = (f"{user.client.homeserver}/_matrix/client/v3/rooms/{quote(room_id)}"
           f"/event/{quote(event_id)}")
    headers = {"Authorization": f"Bearer {user.client.access_token}"}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


@pytest.fixture
async def users(
    ranvier_server: RanvierProcess,
) -> AsyncIterator[tuple[E2eeNioUser, E2eeNioUser]]:
    new_user = functools.partial(E2eeNioUser, ranvier_server.base_url)
    # Registering syncs once, which uploads the device and one-time keys.
    async with alice_and_bob(new_user, PASSWORD) as pair:
        yield pair


async def encrypted_room(alice: E2eeNioUser, bob: E2eeNioUser) -> str:
    """A private room with m.room.encryption from the start, bob joined."""
    room_id = ok(await alice.client.room_create(
        preset=RoomPreset.private_chat, name="Secrets",
        initial_state=[{"type": "m.room.encryption", "state_key": "",
                        "content": {"algorithm": MEGOLM}}],
    ), RoomCreateResponse).room_id
    ok(await alice.client.room_invite(room_id, bob.user_id), RoomInviteResponse)
    await bob.wait_for("the invite", lambda: bob.section.get(room_id) == "invite")
    ok(await bob.client.join(room_id), JoinResponse)
    for user in (alice, bob):
        await user.wait_for("both members in an encrypted room", lambda u=user: (
            room_id in u.client.rooms
            and u.client.rooms[room_id].encrypted
            and {alice.user_id, bob.user_id} <= set(u.client.rooms[room_id].users)
        ))
    return room_id


async def test_two_nio_users_decrypt_each_others_megolm_messages(
    users: tuple[E2eeNioUser, E2eeNioUser],
) -> None:
    alice, bob = users
    room_id = await encrypted_room(alice, bob)

    hello = await alice.send_encrypted(room_id, "hello bob, secretly")
    await bob.wait_decrypted(hello, "hello bob, secretly", alice.user_id)
    answer = await bob.send_encrypted(room_id, "hi alice, secretly")
    await alice.wait_decrypted(answer, "hi alice, secretly", bob.user_id)

    # The room keys travelled as Olm-encrypted to-device messages: each side now has
    # an Olm session with the other's device (from a claimed one-time key).
    bob_curve = bob.client.olm.account.identity_keys["curve25519"]
    alice_curve = alice.client.olm.account.identity_keys["curve25519"]
    assert alice.client.olm.session_store[bob_curve]
    assert bob.client.olm.session_store[alice_curve]
    # The device keys alice got from keys/query are the ones bob's nio uploaded.
    device = alice.client.device_store[bob.user_id][bob.client.device_id]
    assert (device.ed25519, device.curve25519) == (
        bob.client.olm.account.identity_keys["ed25519"], bob_curve
    )
    # What the server serves is ciphertext only.
    for event_id in (hello, answer):
        served = await raw_event(bob, room_id, event_id)
        assert served["type"] == "m.room.encrypted"
        assert served["content"]["algorithm"] == MEGOLM
        assert "secretly" not in str(served)


async def test_a_device_logged_in_later_decrypts_the_next_message(
    users: tuple[E2eeNioUser, E2eeNioUser], ranvier_server: RanvierProcess,
) -> None:
    alice, bob = users
    room_id = await encrypted_room(alice, bob)
    before = await alice.send_encrypted(room_id, "before the new device")
    await bob.wait_decrypted(before, "before the new device", alice.user_id)

    later = E2eeNioUser(ranvier_server.base_url, bob.localpart)
    try:
        ok(await later.client.login(PASSWORD, device_name="later"), LoginResponse)
        await later.sync_once(timeout_ms=0)
        # Alice learns of the new device through device_lists.changed in her sync.
        await alice.wait_for("bob's new device", lambda: any(
            device.id == later.client.device_id
            for device in alice.client.device_store.active_user_devices(bob.user_id)
        ))
        after = await alice.send_encrypted(room_id, "after the new device")
        await later.wait_decrypted(after, "after the new device", alice.user_id)
        await bob.wait_decrypted(after, "after the new device", alice.user_id)
        # Megolm keys are not shared backwards: the earlier message stays sealed.
        await later.wait_for("the earlier message", lambda: before in later.undecryptable)
        assert before not in later.decrypted
    finally:
        await later.close()
