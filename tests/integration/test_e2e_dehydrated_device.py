"""Dehydrated devices (MSC3814): parking a device with its keys, receiving to-device
messages for it while offline, fetching them, replacing and deleting it."""

from __future__ import annotations

from typing import Any

from ranvier.server import HomeServer

from .e2e_helpers import Device
from .room_helpers import User, ok

PREFIX = "/_matrix/client/unstable/org.matrix.msc3814.v1"
DATA = {"algorithm": "org.matrix.msc3814.v1.olm", "device_pickle": "encrypted"}


async def unstable(
    client: Any, method: str, path: str, user: User, body: Any = None
) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {"headers": {"Authorization": f"Bearer {user.token}"}}
    if body is not None:
        kwargs["json"] = body
    response = await client.request(method, PREFIX + path, **kwargs)
    return response.status, await response.json()


def dehydrated_body(owner: User, device_id: str, **extra: Any) -> tuple[Device, dict[str, Any]]:
    device = Device(User(owner.user_id, device_id, owner.token))
    return device, {
        "device_id": device_id,
        "device_data": DATA,
        "initial_device_display_name": "Dehydrated device",
        "device_keys": device.device_keys(),
        "one_time_keys": device.one_time_keys(2),
        **extra,
    }


async def test_dehydrated_device_is_stored_with_its_keys_and_readable(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    device, body = dehydrated_body(alice, "DEHYDRATED")
    assert await unstable(client, "PUT", "/dehydrated_device", alice, body) == (
        200, {"device_id": "DEHYDRATED"}
    )
    assert await unstable(client, "GET", "/dehydrated_device", alice) == (
        200, {"device_id": "DEHYDRATED", "device_data": DATA}
    )
    keys = await ok(client, "POST", "/keys/query", bob, {"device_keys": {alice.user_id: []}})
    assert keys["device_keys"][alice.user_id]["DEHYDRATED"]["keys"] == device.device_keys()["keys"]
    claimed = await ok(client, "POST", "/keys/claim", bob, {
        "one_time_keys": {alice.user_id: {"DEHYDRATED": "signed_curve25519"}}
    })
    assert claimed["one_time_keys"][alice.user_id]["DEHYDRATED"]


async def test_messages_for_the_dehydrated_device_are_fetched_then_acknowledged(
    client: Any, alice: User, bob: User
) -> None:
    _, body = dehydrated_body(alice, "DEHYDRATED")
    await unstable(client, "PUT", "/dehydrated_device", alice, body)
    for n in range(2):
        await ok(client, "PUT", f"/sendToDevice/m.room_key/{n}", bob,
                 {"messages": {alice.user_id: {"DEHYDRATED": {"n": n}}}})
    events_path = "/dehydrated_device/DEHYDRATED/events"
    status, first = await unstable(client, "POST", events_path, alice, {})
    assert status == 200
    assert [e["content"] for e in first["events"]] == [{"n": 0}, {"n": 1}]
    status, second = await unstable(
        client, "POST", events_path, alice, {"next_batch": first["next_batch"]}
    )
    assert (status, second["events"]) == (200, [])
    # acknowledged messages are gone: starting over finds nothing
    status, again = await unstable(client, "POST", events_path, alice, {})
    assert (status, again["events"]) == (200, [])


async def test_events_of_a_device_that_is_not_the_dehydrated_one_are_forbidden(
    client: Any, alice: User, bob: User
) -> None:
    status, data = await unstable(
        client, "POST", f"/dehydrated_device/{alice.device_id}/events", alice, {}
    )
    assert (status, data["errcode"]) == (403, "M_FORBIDDEN")


async def test_a_new_dehydrated_device_replaces_the_old_one(
    client: Any, server: HomeServer, alice: User
) -> None:
    _, first = dehydrated_body(alice, "FIRST")
    _, second = dehydrated_body(alice, "SECOND")
    await unstable(client, "PUT", "/dehydrated_device", alice, first)
    await unstable(client, "PUT", "/dehydrated_device", alice, second)
    device_ids = {d.device_id for d in await server.devices.get_devices(alice.user_id)}
    assert "FIRST" not in device_ids and "SECOND" in device_ids
    assert await server.stores.e2e_keys.get_device_keys(alice.user_id, "FIRST") is None


async def test_bad_keys_leave_no_device_behind(
    client: Any, server: HomeServer, alice: User
) -> None:
    _, body = dehydrated_body(alice, "DEHYDRATED")
    body["device_keys"] = {**body["device_keys"], "device_id": "OTHER"}
    status, data = await unstable(client, "PUT", "/dehydrated_device", alice, body)
    assert (status, data["errcode"]) == (400, "M_INVALID_PARAM")
    device_ids = {d.device_id for d in await server.devices.get_devices(alice.user_id)}
    assert "DEHYDRATED" not in device_ids
    status, data = await unstable(client, "GET", "/dehydrated_device", alice)
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")


async def test_an_existing_device_id_cannot_be_taken(client: Any, alice: User) -> None:
    _, body = dehydrated_body(alice, alice.device_id)
    status, data = await unstable(client, "PUT", "/dehydrated_device", alice, body)
    assert (status, data["errcode"]) == (400, "M_INVALID_PARAM")


async def test_deleting_the_dehydrated_device_deletes_the_device(
    client: Any, server: HomeServer, alice: User
) -> None:
    _, body = dehydrated_body(alice, "DEHYDRATED")
    await unstable(client, "PUT", "/dehydrated_device", alice, body)
    assert await unstable(client, "DELETE", "/dehydrated_device", alice) == (
        200, {"device_id": "DEHYDRATED"}
    )
    device_ids = {d.device_id for d in await server.devices.get_devices(alice.user_id)}
    assert "DEHYDRATED" not in device_ids
    status, data = await unstable(client, "DELETE", "/dehydrated_device", alice)
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")


async def test_deleting_the_device_elsewhere_forgets_the_dehydrated_device(
    client: Any, server: HomeServer, alice: User
) -> None:
    _, body = dehydrated_body(alice, "DEHYDRATED")
    await unstable(client, "PUT", "/dehydrated_device", alice, body)
    await server.devices.delete_devices(alice.user_id, ["DEHYDRATED"])
    status, data = await unstable(client, "GET", "/dehydrated_device", alice)
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")


async def test_versions_advertises_dehydrated_devices(client: Any) -> None:
    body = await (await client.get("/_matrix/client/versions")).json()
    assert body["unstable_features"]["org.matrix.msc3814"] is True
