"""/keys/upload, /keys/query and /keys/claim with real Olm key material, and what
deleting a device takes with it (spec: "End-to-End Encryption", key management)."""

from __future__ import annotations

from typing import Any

import vodozemac
from canonicaljson import encode_canonical_json

from ranvier.server import HomeServer

from .e2e_helpers import Device
from .room_helpers import User, call, ok


async def query(client: Any, user: User, wanted: dict[str, list[str]]) -> dict[str, Any]:
    return await ok(client, "POST", "/keys/query", user, {"device_keys": wanted})  # type: ignore[no-any-return]


async def claim(client: Any, user: User, wanted: dict[str, dict[str, str]]) -> dict[str, Any]:
    return await ok(client, "POST", "/keys/claim", user, {"one_time_keys": wanted})  # type: ignore[no-any-return]


async def test_uploaded_device_keys_are_returned_by_query_with_display_name(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    device = Device(alice)
    await server.devices.set_display_name(alice.user_id, alice.device_id, "Alice's phone")
    assert await device.upload(client, device_keys=device.device_keys()) == {
        "one_time_key_counts": {"signed_curve25519": 0}
    }
    answer = await query(client, bob, {alice.user_id: []})
    keys = answer["device_keys"][alice.user_id][alice.device_id]
    assert keys["keys"][f"ed25519:{alice.device_id}"] == device.ed25519
    assert keys["unsigned"] == {"device_display_name": "Alice's phone"}
    assert {k: v for k, v in keys.items() if k != "unsigned"} == device.device_keys()
    # what came back verifies with the device's key, as a client checks it
    signed_part = {k: v for k, v in keys.items() if k not in ("signatures", "unsigned")}
    vodozemac.Ed25519PublicKey.from_base64(device.ed25519).verify_signature(
        encode_canonical_json(signed_part),
        vodozemac.Ed25519Signature.from_base64(
            keys["signatures"][alice.user_id][f"ed25519:{alice.device_id}"]
        ),
    )
    assert answer["failures"] == {}


async def test_query_of_named_devices_returns_only_those(
    client: Any, server: HomeServer, alice: User
) -> None:
    other = await server.accounts.create_session(alice.user_id, "OTHER", None)
    second = User(alice.user_id, other.device_id, other.access_token)
    await Device(alice).upload(client, device_keys=Device(alice).device_keys())
    await Device(second).upload(client, device_keys=Device(second).device_keys())
    answer = await query(client, alice, {alice.user_id: ["OTHER"]})
    assert list(answer["device_keys"][alice.user_id]) == ["OTHER"]
    answer = await query(client, alice, {alice.user_id: []})
    assert sorted(answer["device_keys"][alice.user_id]) == sorted(["OTHER", alice.device_id])


async def test_query_of_remote_user_is_left_out_without_failure(
    client: Any, alice: User
) -> None:
    answer = await query(client, alice, {"@carol:elsewhere.example": []})
    assert answer["device_keys"] == {}
    assert answer["failures"] == {}


async def test_device_keys_for_another_device_are_refused(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    # Bob signs keys that claim to be Alice's device: the IDs do not match him
    forged = Device(User(alice.user_id, alice.device_id, bob.token))
    status, data = await call(
        client, "POST", "/keys/upload", bob, {"device_keys": forged.device_keys()}
    )
    assert (status, data["errcode"]) == (400, "M_INVALID_PARAM")
    assert "user_id" in data["error"]
    assert await server.stores.e2e_keys.get_device_keys(alice.user_id, alice.device_id) is None
    assert await server.stores.e2e_keys.get_device_keys(bob.user_id, bob.device_id) is None


async def test_device_keys_are_stored_without_a_valid_self_signature(
    client: Any, alice: User, bob: User
) -> None:
    # SyTest's shape: made-up keys, a made-up signature, no ed25519:<device_id> key. The
    # spec does not ask the server to verify self-signatures (clients do, on /keys/query),
    # and Synapse stores such keys: so do we (docs/E2EE.md, "What is checked").
    keys = {
        "user_id": alice.user_id, "device_id": alice.device_id,
        "algorithms": ["m.olm.v1.curve25519-aes-sha2"],
        "keys": {"ed25519:test": "ed25519+key", f"curve25519:{alice.device_id}": "c+key"},
        "signatures": {alice.user_id: {f"ed25519:{alice.device_id}": "self+signature"}},
    }
    answer = await ok(client, "POST", "/keys/upload", alice, {
        "device_keys": keys, "one_time_keys": {"my_algorithm:my_id_1": "a+key"},
    })
    assert answer["one_time_key_counts"]["my_algorithm"] == 1
    seen = (await query(client, bob, {alice.user_id: []}))["device_keys"][alice.user_id]
    assert seen == {alice.device_id: {**keys, "unsigned": {}}}


async def test_device_keys_missing_a_required_field_are_bad_json(
    client: Any, server: HomeServer, alice: User
) -> None:
    complete = Device(alice).device_keys()
    for field in ("algorithms", "keys", "signatures"):
        keys = {k: v for k, v in complete.items() if k != field}
        status, data = await call(client, "POST", "/keys/upload", alice, {
            "device_keys": keys, "one_time_keys": {"my_algorithm:my_id_1": "a+key"},
        })
        assert (status, data["errcode"]) == (400, "M_BAD_JSON"), field
        assert field in data["error"]
    assert await server.stores.e2e_keys.get_device_keys(alice.user_id, alice.device_id) is None
    assert await server.e2e_keys.one_time_key_counts(alice.user_id, alice.device_id) == {
        "signed_curve25519": 0
    }


async def test_bad_json_in_upload_changes_nothing(
    client: Any, server: HomeServer, alice: User
) -> None:
    device = Device(alice)
    otks = device.one_time_keys(2)
    for body in (
        {"device_keys": "nope"},
        {"device_keys": device.device_keys(), "one_time_keys": {"no_colon": "x"}},
        {"device_keys": device.device_keys(), "one_time_keys": {**otks, "curve25519:A": 5}},
        {"fallback_keys": {"signed_curve25519:A": "x", "signed_curve25519:B": "y"}},
    ):
        status, data = await call(client, "POST", "/keys/upload", alice, body)
        assert status == 400, body
        assert data["errcode"] in ("M_BAD_JSON", "M_INVALID_PARAM"), data
    status, _ = await call(client, "POST", "/keys/upload", alice, raw=b"{not json")
    assert status == 400
    assert await server.stores.e2e_keys.get_device_keys(alice.user_id, alice.device_id) is None
    assert await server.e2e_keys.one_time_key_counts(alice.user_id, alice.device_id) == {
        "signed_curve25519": 0
    }


async def test_one_time_key_counts_grow_with_uploads_and_repeats_are_harmless(
    client: Any, alice: User
) -> None:
    device = Device(alice)
    first = device.one_time_keys(5)
    counts = await device.upload(client, one_time_keys=first)
    assert counts == {"one_time_key_counts": {"signed_curve25519": 5}}
    # the same upload again (a retried request) adds nothing
    assert await device.upload(client, one_time_keys=first) == counts
    counts = await device.upload(client, one_time_keys=device.one_time_keys(3))
    assert counts == {"one_time_key_counts": {"signed_curve25519": 8}}


async def test_one_time_key_reused_with_another_value_is_refused(
    client: Any, alice: User
) -> None:
    device = Device(alice)
    keys = device.one_time_keys(1)
    await device.upload(client, one_time_keys=keys)
    ((key_id, key),) = keys.items()
    changed = {key_id: {**key, "key": Device(alice).curve25519}}
    status, data = await call(client, "POST", "/keys/upload", alice, {"one_time_keys": changed})
    assert (status, data["errcode"]) == (400, "M_INVALID_PARAM")
    assert key_id in data["error"]


async def test_claim_takes_each_one_time_key_once_then_the_fallback_key(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    device = Device(alice)
    otks = device.one_time_keys(2)
    fallback = device.fallback_key()
    await device.upload(client, one_time_keys=otks, fallback_keys=fallback)
    _, fallbacks = await server.e2e_keys.counts_for_sync(alice.user_id, alice.device_id)
    assert fallbacks == ["signed_curve25519"]
    wanted = {alice.user_id: {alice.device_id: "signed_curve25519"}}
    claimed = []
    for _ in range(2):
        answer = await claim(client, bob, wanted)
        claimed.append(answer["one_time_keys"][alice.user_id][alice.device_id])
    assert sorted(k for c in claimed for k in c) == sorted(otks)
    assert all(c[k] == otks[k] for c in claimed for k in c)
    assert await server.e2e_keys.one_time_key_counts(alice.user_id, alice.device_id) == {
        "signed_curve25519": 0
    }
    # exhausted: the fallback key, which stays (marked used) for the next claim too
    for _ in range(2):
        answer = await claim(client, bob, wanted)
        assert answer["one_time_keys"][alice.user_id][alice.device_id] == fallback
    assert (await server.e2e_keys.counts_for_sync(alice.user_id, alice.device_id))[1] == []
    # a new fallback key is unused again
    await device.upload(client, fallback_keys=device.fallback_key())
    _, fallbacks = await server.e2e_keys.counts_for_sync(alice.user_id, alice.device_id)
    assert fallbacks == ["signed_curve25519"]


async def test_reuploading_the_used_fallback_key_keeps_it_used(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    device = Device(alice)
    fallback = device.fallback_key()
    await device.upload(client, fallback_keys=fallback)
    await claim(client, bob, {alice.user_id: {alice.device_id: "signed_curve25519"}})
    await device.upload(client, fallback_keys=fallback)
    assert (await server.e2e_keys.counts_for_sync(alice.user_id, alice.device_id))[1] == []


async def test_claim_with_nothing_to_give_returns_no_key(client: Any, alice: User) -> None:
    answer = await claim(
        client, alice,
        {alice.user_id: {alice.device_id: "signed_curve25519", "NODEVICE": "signed_curve25519"},
         "@carol:elsewhere.example": {"X": "signed_curve25519"}},
    )
    assert answer == {"one_time_keys": {}, "failures": {}}


async def test_claimed_key_opens_an_olm_session_the_owner_can_answer(
    client: Any, alice: User, bob: User
) -> None:
    alice_device, bob_device = Device(alice), Device(bob)
    await alice_device.upload(
        client, device_keys=alice_device.device_keys(),
        one_time_keys=alice_device.one_time_keys(1),
    )
    answer = await claim(client, bob, {alice.user_id: {alice.device_id: "signed_curve25519"}})
    ((_, otk),) = answer["one_time_keys"][alice.user_id][alice.device_id].items()
    session = bob_device.account.create_outbound_session(
        vodozemac.Curve25519PublicKey.from_base64(alice_device.curve25519),
        vodozemac.Curve25519PublicKey.from_base64(otk["key"]),
    )
    message = session.encrypt(b"hello alice").to_pre_key()
    _, plaintext = alice_device.account.create_inbound_session(
        vodozemac.Curve25519PublicKey.from_base64(bob_device.curve25519), message
    )
    assert plaintext == b"hello alice"


async def test_deleting_a_device_deletes_its_keys(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    device = Device(alice)
    await device.upload(
        client, device_keys=device.device_keys(), one_time_keys=device.one_time_keys(3),
        fallback_keys=device.fallback_key(),
    )
    await server.devices.delete_devices(alice.user_id, [alice.device_id])
    answer = await query(client, bob, {alice.user_id: []})
    assert answer["device_keys"] == {alice.user_id: {}}
    answer = await claim(client, bob, {alice.user_id: {alice.device_id: "signed_curve25519"}})
    assert answer["one_time_keys"] == {}


async def test_keys_endpoints_require_a_body_of_the_right_shape(client: Any, alice: User) -> None:
    for path, body in (
        ("/keys/query", {}),
        ("/keys/query", {"device_keys": {alice.user_id: "all"}}),
        ("/keys/claim", {}),
        ("/keys/claim", {"one_time_keys": {alice.user_id: ["X"]}}),
    ):
        status, data = await call(client, "POST", path, alice, body)
        assert status == 400, (path, body)
        assert data["errcode"] in ("M_MISSING_PARAM", "M_BAD_JSON"), data
