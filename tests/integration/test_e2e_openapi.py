"""The E2EE endpoints' responses (keys, cross-signing, to-device, key backup), errors
included, checked against the spec's OpenAPI schemas (tests/schemas/openapi_check.py)."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer, create_app
from tests.schemas.openapi_check import schema_check_middleware

from .e2e_helpers import CrossSigning, Device
from .room_helpers import User, call, make_user, ok


@pytest.fixture
async def checked(server: HomeServer, aiohttp_client: Any) -> Any:
    return await aiohttp_client(
        create_app(server, resources=None), middlewares=(schema_check_middleware,)
    )


async def test_key_endpoints_match_the_spec(server: HomeServer, checked: Any) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    device = Device(alice)
    await ok(checked, "POST", "/keys/upload", alice, {
        "device_keys": device.device_keys(), "one_time_keys": device.one_time_keys(2),
        "fallback_keys": device.fallback_key(),
    })
    keys = CrossSigning(alice)
    await ok(checked, "POST", "/keys/device_signing/upload", alice, keys.upload_body())
    status, _ = await call(
        checked, "POST", "/keys/device_signing/upload", alice, CrossSigning(alice).upload_body()
    )
    assert status == 401
    await ok(checked, "POST", "/keys/signatures/upload", alice, {
        alice.user_id: {alice.device_id: keys.sign_device(device.device_keys()),
                        "NOSUCH": device.device_keys()},
    })
    await ok(checked, "POST", "/keys/query", bob, {"device_keys": {alice.user_id: []}})
    await ok(checked, "POST", "/keys/query", alice, {"device_keys": {alice.user_id: []}})
    await ok(checked, "POST", "/keys/claim", bob, {
        "one_time_keys": {alice.user_id: {alice.device_id: "signed_curve25519"}}
    })
    token = (await ok(checked, "GET", "/sync", bob))["next_batch"]
    await ok(checked, "GET", f"/keys/changes?from={token}&to={token}", bob)
    status, _ = await call(checked, "GET", f"/keys/changes?from=x&to={token}", bob)
    assert status == 400
    status, _ = await call(checked, "POST", "/keys/upload", alice, {"device_keys": []})
    assert status == 400


async def test_to_device_and_sync_sections_match_the_spec(
    server: HomeServer, checked: Any
) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    await ok(checked, "PUT", "/sendToDevice/m.test/1", alice, {
        "messages": {bob.user_id: {"*": {"hello": "bob"}}}
    })
    body = await ok(checked, "GET", "/sync", bob)
    assert body["to_device"]["events"]
    status, _ = await call(checked, "PUT", "/sendToDevice/m.test/2", alice, {"messages": 1})
    assert status == 400


async def test_key_backup_endpoints_match_the_spec(server: HomeServer, checked: Any) -> None:
    alice: User = await make_user(server, "alice")
    status, _ = await call(checked, "GET", "/room_keys/version", alice)
    assert status == 404
    new = {"algorithm": "m.megolm_backup.v1.curve25519-aes-sha2", "auth_data": {"k": "v"}}
    old = (await ok(checked, "POST", "/room_keys/version", alice, new))["version"]
    version = (await ok(checked, "POST", "/room_keys/version", alice, new))["version"]
    await ok(checked, "GET", "/room_keys/version", alice)
    await ok(checked, "GET", f"/room_keys/version/{version}", alice)
    await ok(checked, "PUT", f"/room_keys/version/{version}", alice, new)
    data = {"first_message_index": 0, "forwarded_count": 0, "is_verified": False,
            "session_data": {"ciphertext": "c"}}
    room = "!r:test.local"
    await ok(checked, "PUT", f"/room_keys/keys/{room}/s?version={version}", alice, data)
    await ok(checked, "PUT", f"/room_keys/keys/{room}?version={version}", alice,
             {"sessions": {"t": data}})
    await ok(checked, "PUT", f"/room_keys/keys?version={version}", alice,
             {"rooms": {room: {"sessions": {"u": data}}}})
    status, _ = await call(
        checked, "PUT", f"/room_keys/keys/{room}/s?version={old}", alice, data
    )
    assert status == 403
    for path in (f"/room_keys/keys/{room}/s", f"/room_keys/keys/{room}", "/room_keys/keys"):
        await ok(checked, "GET", f"{path}?version={version}", alice)
    status, _ = await call(checked, "GET", f"/room_keys/keys/{room}/zz?version={version}", alice)
    assert status == 404
    for path in (f"/room_keys/keys/{room}/s", f"/room_keys/keys/{room}", "/room_keys/keys"):
        await ok(checked, "DELETE", f"{path}?version={version}", alice)
    await ok(checked, "DELETE", f"/room_keys/version/{version}", alice)
