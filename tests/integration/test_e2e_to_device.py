"""Send-to-device messaging: delivery in order, idempotent transactions, `*`, the
inbox emptied only once a sync acknowledges it, and wake-ups (spec: "Send-to-Device
messaging")."""

from __future__ import annotations

from typing import Any

import vodozemac
from unpaddedbase64 import decode_base64, encode_base64

from ranvier.server import HomeServer
from ranvier.services.to_device import TO_DEVICE_STREAM

from .e2e_helpers import Device
from .room_helpers import User, call, ok
from .stream_helpers import expect_wakeup
from .sync_helpers import sync


async def send(
    client: Any, sender: User, txn: str, messages: dict[str, Any], type_: str = "m.test"
) -> None:
    await ok(client, "PUT", f"/sendToDevice/{type_}/{txn}", sender, {"messages": messages})


async def second_device(server: HomeServer, user: User, device_id: str) -> User:
    session = await server.accounts.create_session(user.user_id, device_id, None)
    return User(user.user_id, session.device_id, session.access_token)


async def inbox_contents(server: HomeServer, user: User) -> list[dict[str, Any]]:
    """What the device's inbox holds, whatever the sync positions."""
    rows = await server.stores.to_device.inbox(user.user_id, user.device_id, 0, 2**62, 1000)
    return [message["content"] for _, message in rows]


async def test_messages_arrive_in_order_with_sender_and_type(
    client: Any, alice: User, bob: User
) -> None:
    for n in range(3):
        await send(client, alice, f"t{n}", {bob.user_id: {bob.device_id: {"n": n}}})
    body = await sync(client, bob)
    assert body["to_device"]["events"] == [
        {"type": "m.test", "sender": alice.user_id, "content": {"n": n}} for n in range(3)
    ]


async def test_repeated_transaction_id_delivers_once(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    messages = {bob.user_id: {bob.device_id: {"n": 1}}}
    await send(client, alice, "same", messages)
    await send(client, alice, "same", messages)
    # the same ID from another of the sender's devices is another transaction
    other = await second_device(server, alice, "ALICE2")
    await send(client, other, "same", messages)
    body = await sync(client, bob)
    assert [e["content"] for e in body["to_device"]["events"]] == [{"n": 1}, {"n": 1}]


async def test_star_reaches_every_device_of_the_user_only(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    bob2 = await second_device(server, bob, "BOB2")
    await send(client, alice, "t", {bob.user_id: {"*": {"hi": True}}})
    for device in (bob, bob2):
        body = await sync(client, device)
        assert [e["content"] for e in body["to_device"]["events"]] == [{"hi": True}]
    assert (await sync(client, alice))["to_device"]["events"] == []


async def test_messages_for_unknown_devices_and_remote_users_are_dropped(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    await send(
        client, alice, "t",
        {bob.user_id: {"NOSUCHDEVICE": {"a": 1}}, "@carol:elsewhere.example": {"X": {"a": 1}}},
    )
    assert (await sync(client, bob))["to_device"]["events"] == []


async def test_inbox_is_emptied_only_when_the_next_sync_acknowledges_it(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    await send(client, alice, "t1", {bob.user_id: {bob.device_id: {"n": 1}}})
    first = await sync(client, bob)
    assert len(first["to_device"]["events"]) == 1
    # the response was lost: an initial sync again gets the message again
    again = await sync(client, bob)
    assert len(again["to_device"]["events"]) == 1
    # a sync from next_batch acknowledges it: it is gone from the inbox
    await send(client, alice, "t2", {bob.user_id: {bob.device_id: {"n": 2}}})
    second = await sync(client, bob, since=first["next_batch"])
    assert [e["content"] for e in second["to_device"]["events"]] == [{"n": 2}]
    assert await inbox_contents(server, bob) == [{"n": 2}]
    third = await sync(client, bob, since=second["next_batch"])
    assert third["to_device"]["events"] == []
    assert await inbox_contents(server, bob) == []


async def test_a_full_inbox_is_delivered_over_several_syncs(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    messages = {bob.user_id: {bob.device_id: {"batch": True}}}
    for n in range(150):
        await server.to_device.send(alice.user_id, alice.device_id, "m.test", f"t{n}", messages)
    first = await sync(client, bob)
    assert len(first["to_device"]["events"]) == 100
    second = await sync(client, bob, since=first["next_batch"])
    assert len(second["to_device"]["events"]) == 50
    third = await sync(client, bob, since=second["next_batch"], timeout=0)
    assert third["to_device"]["events"] == []


async def test_sending_wakes_the_targets_sync(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    async with expect_wakeup(server, bob.user_id, [], TO_DEVICE_STREAM):
        await send(client, alice, "t", {bob.user_id: {bob.device_id: {}}})
    async with expect_wakeup(server, alice.user_id, [], TO_DEVICE_STREAM, woken=False):
        await send(client, bob, "t", {bob.user_id: {bob.device_id: {}}})


async def test_deleting_a_device_deletes_its_inbox(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    await send(client, alice, "t", {bob.user_id: {bob.device_id: {"n": 1}}})
    await server.devices.delete_devices(bob.user_id, [bob.device_id])
    assert await inbox_contents(server, bob) == []


async def test_bad_bodies_are_refused_and_deliver_nothing(
    client: Any, alice: User, bob: User
) -> None:
    for body in (
        {},
        {"messages": []},
        {"messages": {bob.user_id: []}},
        {"messages": {bob.user_id: {bob.device_id: "text"}}},
        {"messages": {"not a user": {"X": {}}}},
    ):
        status, data = await call(client, "PUT", "/sendToDevice/m.test/bad", alice, body)
        assert status == 400, body
        assert data["errcode"] in ("M_BAD_JSON", "M_MISSING_PARAM", "M_INVALID_PARAM"), data
    # the transaction ID was not used up by the refused requests
    await send(client, alice, "bad", {bob.user_id: {bob.device_id: {"ok": 1}}})
    assert [e["content"] for e in (await sync(client, bob))["to_device"]["events"]] == [
        {"ok": 1}
    ]


async def test_olm_encrypted_message_round_trips_through_the_inbox(
    client: Any, alice: User, bob: User
) -> None:
    alice_device, bob_device = Device(alice), Device(bob)
    await bob_device.upload(
        client, device_keys=bob_device.device_keys(), one_time_keys=bob_device.one_time_keys(1)
    )
    claimed = await ok(
        client, "POST", "/keys/claim", alice,
        {"one_time_keys": {bob.user_id: {bob.device_id: "signed_curve25519"}}},
    )
    ((_, otk),) = claimed["one_time_keys"][bob.user_id][bob.device_id].items()
    session = alice_device.account.create_outbound_session(
        vodozemac.Curve25519PublicKey.from_base64(bob_device.curve25519),
        vodozemac.Curve25519PublicKey.from_base64(otk["key"]),
    )
    message_type, ciphertext = session.encrypt(b'{"secret": 42}').to_parts()
    content = {
        "algorithm": "m.olm.v1.curve25519-aes-sha2",
        "sender_key": alice_device.curve25519,
        "ciphertext": {
            bob_device.curve25519: {"type": message_type, "body": encode_base64(ciphertext)}
        },
    }
    await send(client, alice, "olm", {bob.user_id: {bob.device_id: content}}, "m.room.encrypted")
    (event,) = (await sync(client, bob))["to_device"]["events"]
    body = event["content"]["ciphertext"][bob_device.curve25519]
    raw = decode_base64(body["body"])
    message = vodozemac.AnyOlmMessage.from_parts(body["type"], raw).to_pre_key()
    _, plaintext = bob_device.account.create_inbound_session(
        vodozemac.Curve25519PublicKey.from_base64(event["content"]["sender_key"]), message
    )
    assert plaintext == b'{"secret": 42}'
