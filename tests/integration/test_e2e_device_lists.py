"""The "device_lists" stream: who hears of whose device changes, through /keys/changes
and /sync `device_lists`, as rooms are joined and left (spec: "Tracking the device
list for a user"); and the key counts /sync reports to a device."""

from __future__ import annotations

from typing import Any

from ranvier.server import HomeServer
from ranvier.services.device_lists import DEVICE_LISTS_STREAM
from ranvier.services.tokens import SyncToken

from .e2e_helpers import CrossSigning, Device, password_auth
from .room_helpers import User, call, ok, q, shared_room
from .stream_helpers import expect_wakeup
from .sync_helpers import sync


def now(server: HomeServer) -> str:
    return str(SyncToken.from_positions(server.notifier.current_positions()))


async def changes(client: Any, user: User, since: str, until: str) -> dict[str, list[str]]:
    return await ok(client, "GET", f"/keys/changes?from={since}&to={until}", user)  # type: ignore[no-any-return]


async def upload_device_keys(client: Any, user: User) -> None:
    device = Device(user)
    await device.upload(client, device_keys=device.device_keys())


async def test_key_upload_is_seen_by_users_sharing_a_room_only(
    client: Any, server: HomeServer, alice: User, bob: User, carol: User
) -> None:
    await shared_room(client, alice, bob)
    before = now(server)
    await upload_device_keys(client, bob)
    after = now(server)
    assert await changes(client, alice, before, after) == {"changed": [bob.user_id], "left": []}
    # Bob hears of his own devices too; Carol shares no room with him
    assert await changes(client, bob, before, after) == {"changed": [bob.user_id], "left": []}
    assert await changes(client, carol, before, after) == {"changed": [], "left": []}


async def test_changes_outside_the_range_are_not_reported(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    await shared_room(client, alice, bob)
    await upload_device_keys(client, bob)
    since = now(server)
    assert await changes(client, alice, since, now(server)) == {"changed": [], "left": []}


async def test_joining_a_shared_room_reports_the_newcomer_and_the_members(
    client: Any, server: HomeServer, alice: User, bob: User, carol: User
) -> None:
    room_id = await shared_room(client, alice, bob)
    before = now(server)
    await ok(client, "POST", f"/rooms/{q(room_id)}/join", carol, {})
    after = now(server)
    assert (await changes(client, alice, before, after))["changed"] == [carol.user_id]
    assert sorted((await changes(client, carol, before, after))["changed"]) == sorted(
        [alice.user_id, bob.user_id, carol.user_id]
    )


async def test_leaving_the_last_shared_room_reports_left_on_both_sides(
    client: Any, server: HomeServer, alice: User, bob: User, carol: User
) -> None:
    room_id = await shared_room(client, alice, bob, carol)
    await shared_room(client, alice, carol)  # Alice still shares this one with Carol
    before = now(server)
    await ok(client, "POST", f"/rooms/{q(room_id)}/leave", alice, {})
    after = now(server)
    assert await changes(client, alice, before, after) == {
        "changed": [], "left": [bob.user_id]
    }
    assert await changes(client, bob, before, after) == {"changed": [], "left": [alice.user_id]}
    assert await changes(client, carol, before, after) == {"changed": [], "left": []}


async def test_deleting_a_device_is_a_change(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    await shared_room(client, alice, bob)
    await upload_device_keys(client, bob)
    before = now(server)
    await server.devices.delete_devices(bob.user_id, [bob.device_id])
    assert (await changes(client, alice, before, now(server)))["changed"] == [bob.user_id]


async def test_cross_signing_upload_is_a_change(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    await shared_room(client, alice, bob)
    before = now(server)
    await ok(client, "POST", "/keys/device_signing/upload", bob, CrossSigning(bob).upload_body())
    assert (await changes(client, alice, before, now(server)))["changed"] == [bob.user_id]


async def test_user_signing_signature_is_a_change_for_the_signer_only(
    client: Any, server: HomeServer, alice: User, bob: User, carol: User
) -> None:
    await shared_room(client, alice, bob, carol)
    alice_keys, bob_keys = CrossSigning(alice), CrossSigning(bob)
    await ok(client, "POST", "/keys/device_signing/upload", alice, alice_keys.upload_body())
    await ok(client, "POST", "/keys/device_signing/upload", bob, bob_keys.upload_body())
    before = now(server)
    await ok(
        client, "POST", "/keys/signatures/upload", alice,
        {bob.user_id: {bob_keys.public(bob_keys.master): alice_keys.sign_user(
            bob_keys.master_key()
        )}},
    )
    after = now(server)
    assert (await changes(client, alice, before, after))["changed"] == [bob.user_id]
    assert (await changes(client, carol, before, after))["changed"] == []


async def test_bad_tokens_are_refused(client: Any, server: HomeServer, alice: User) -> None:
    status, data = await call(client, "GET", f"/keys/changes?from=nonsense&to={now(server)}", alice)
    assert (status, data["errcode"]) == (400, "M_INVALID_PARAM")
    assert "from" in data["error"]
    status, data = await call(client, "GET", f"/keys/changes?from={now(server)}", alice)
    assert (status, data["errcode"]) == (400, "M_MISSING_PARAM")


async def test_key_upload_wakes_the_syncs_of_users_sharing_a_room(
    client: Any, server: HomeServer, alice: User, bob: User, carol: User
) -> None:
    room_id = await shared_room(client, alice, bob)
    async with expect_wakeup(server, alice.user_id, [room_id], DEVICE_LISTS_STREAM):
        await upload_device_keys(client, bob)
    async with expect_wakeup(server, carol.user_id, [], DEVICE_LISTS_STREAM, woken=False):
        await upload_device_keys(client, bob)


async def test_incremental_sync_reports_device_lists(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    room_id = await shared_room(client, alice, bob)
    first = await sync(client, alice)
    await upload_device_keys(client, bob)
    second = await sync(client, alice, since=first["next_batch"])
    assert second["device_lists"] == {"changed": [bob.user_id], "left": []}
    await ok(client, "POST", f"/rooms/{q(room_id)}/leave", bob, {})
    third = await sync(client, alice, since=second["next_batch"])
    assert third["device_lists"]["left"] == [bob.user_id]


async def test_sync_reports_the_devices_key_counts(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    device = Device(alice)
    await device.upload(
        client, one_time_keys=device.one_time_keys(4), fallback_keys=device.fallback_key()
    )
    body = await sync(client, alice)
    assert body["device_one_time_keys_count"] == {"signed_curve25519": 4}
    assert body["device_unused_fallback_key_types"] == ["signed_curve25519"]
    for _ in range(5):
        await ok(
            client, "POST", "/keys/claim", bob,
            {"one_time_keys": {alice.user_id: {alice.device_id: "signed_curve25519"}}},
        )
    body = await sync(client, alice, since=body["next_batch"])
    assert body["device_one_time_keys_count"] == {"signed_curve25519": 0}
    assert body["device_unused_fallback_key_types"] == []


async def test_a_new_device_is_a_change_for_room_members_and_the_owner(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    # A login adds a device to Bob's list before it has keys; his contacts and his own
    # other devices should fetch the list again (Synapse and SyTest expect it).
    await shared_room(client, alice, bob)
    before = now(server)
    await ok(client, "POST", "/login", None, {
        "type": "m.login.password", "password": "password",
        "identifier": {"type": "m.id.user", "user": bob.user_id},
    })
    after = now(server)
    assert (await changes(client, alice, before, after))["changed"] == [bob.user_id]
    assert (await changes(client, bob, before, after))["changed"] == [bob.user_id]
    # logging in again as an existing device adds nothing
    await ok(client, "POST", "/login", None, {
        "type": "m.login.password", "password": "password", "device_id": bob.device_id,
        "identifier": {"type": "m.id.user", "user": bob.user_id},
    })
    assert (await changes(client, alice, after, now(server)))["changed"] == []


async def test_renaming_a_device_is_a_change(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    # The display name is part of what /keys/query shows (unsigned.device_display_name).
    await shared_room(client, alice, bob)
    first = await sync(client, alice)
    await ok(client, "PUT", f"/devices/{bob.device_id}", bob, {"display_name": "wibble"})
    second = await sync(client, alice, since=first["next_batch"])
    assert second["device_lists"]["changed"] == [bob.user_id]


async def test_a_new_user_signing_key_alone_is_a_change_for_its_owner_only(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    await shared_room(client, alice, bob)
    keys = CrossSigning(bob)
    body = keys.upload_body()
    del body["user_signing_key"]
    await ok(client, "POST", "/keys/device_signing/upload", bob, body)
    before = now(server)
    await ok(client, "POST", "/keys/device_signing/upload", bob, {
        "user_signing_key": keys.user_signing_key(), "auth": password_auth(bob),
    })
    after = now(server)
    assert (await changes(client, alice, before, after))["changed"] == []
    assert (await changes(client, bob, before, after))["changed"] == [bob.user_id]
