"""Cross-signing: /keys/device_signing/upload (with user-interactive auth to replace
keys), /keys/signatures/upload, and what /keys/query shows to whom (spec:
"Cross-signing")."""

from __future__ import annotations

from typing import Any

import vodozemac

from ranvier.server import HomeServer

from .e2e_helpers import CrossSigning, Device, password_auth, sign
from .room_helpers import User, call, make_user, ok


async def upload(client: Any, user: User, body: dict[str, Any]) -> tuple[int, Any]:
    return await call(client, "POST", "/keys/device_signing/upload", user, body)


async def query(client: Any, user: User, *users: str) -> dict[str, Any]:
    return await ok(  # type: ignore[no-any-return]
        client, "POST", "/keys/query", user, {"device_keys": {u: [] for u in users}}
    )


async def test_first_upload_needs_no_auth_and_query_shows_keys_by_audience(
    client: Any, alice: User, bob: User
) -> None:
    keys = CrossSigning(alice)
    assert await upload(client, alice, keys.upload_body()) == (200, {})
    own = await query(client, alice, alice.user_id)
    assert own["master_keys"] == {alice.user_id: keys.master_key()}
    assert own["self_signing_keys"] == {alice.user_id: keys.self_signing_key()}
    assert own["user_signing_keys"] == {alice.user_id: keys.user_signing_key()}
    # the user-signing key is for its owner only
    seen_by_bob = await query(client, bob, alice.user_id)
    assert seen_by_bob["master_keys"] == {alice.user_id: keys.master_key()}
    assert seen_by_bob["self_signing_keys"] == {alice.user_id: keys.self_signing_key()}
    assert seen_by_bob["user_signing_keys"] == {}


async def test_replacing_keys_requires_password_auth(
    client: Any, server: HomeServer, alice: User
) -> None:
    await upload(client, alice, CrossSigning(alice).upload_body())
    new = CrossSigning(alice)
    status, data = await upload(client, alice, new.upload_body())
    assert status == 401
    assert data["flows"] == [{"stages": ["m.login.password"]}]
    stored = await server.stores.e2e_keys.get_cross_signing_keys(alice.user_id)
    assert stored["master"] != new.master_key()
    wrong = {**password_auth(alice, data["session"]), "password": "wrong"}
    status, failed = await upload(client, alice, {**new.upload_body(), "auth": wrong})
    assert (status, failed["errcode"]) == (401, "M_FORBIDDEN")
    status, _ = await upload(
        client, alice, {**new.upload_body(), "auth": password_auth(alice, data["session"])}
    )
    assert status == 200
    stored = await server.stores.e2e_keys.get_cross_signing_keys(alice.user_id)
    assert stored["master"] == new.master_key()


async def test_uploading_the_same_keys_again_needs_no_auth(client: Any, alice: User) -> None:
    keys = CrossSigning(alice)
    await upload(client, alice, keys.upload_body())
    assert await upload(client, alice, keys.upload_body()) == (200, {})
    assert await upload(client, alice, {"master_key": keys.master_key()}) == (200, {})


async def test_self_signing_key_not_signed_by_the_master_key_is_refused(
    client: Any, server: HomeServer, alice: User
) -> None:
    keys = CrossSigning(alice)
    body = keys.upload_body()
    unsigned = {k: v for k, v in body["self_signing_key"].items() if k != "signatures"}
    body["self_signing_key"] = sign(
        unsigned, vodozemac.Account(), alice.user_id, keys.key_id(keys.master)
    )
    status, data = await upload(client, alice, body)
    assert (status, data["errcode"]) == (400, "M_INVALID_SIGNATURE")
    assert await server.stores.e2e_keys.get_cross_signing_keys(alice.user_id) == {}


async def test_self_signing_key_without_any_master_key_is_refused(
    client: Any, alice: User
) -> None:
    status, data = await upload(
        client, alice, {"self_signing_key": CrossSigning(alice).self_signing_key()}
    )
    assert (status, data["errcode"]) == (400, "M_MISSING_PARAM")


async def test_malformed_cross_signing_keys_are_refused(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    keys = CrossSigning(alice)
    bobs = CrossSigning(bob)
    for master in (
        bobs.master_key(),  # someone else's
        {**keys.master_key(), "usage": ["self_signing"]},
        {**keys.master_key(), "keys": {"ed25519:abc": keys.public(keys.master)}},
        {**keys.master_key(), "keys": {}},
    ):
        status, data = await upload(client, alice, {"master_key": master})
        assert (status, data["errcode"]) == (400, "M_INVALID_PARAM"), master
    for master in (
        "key",
        {**keys.master_key(), "usage": "master"},
        {k: v for k, v in keys.master_key().items() if k != "keys"},
    ):
        status, data = await upload(client, alice, {"master_key": master})
        assert (status, data["errcode"]) == (400, "M_BAD_JSON"), master
    assert await server.stores.e2e_keys.get_cross_signing_keys(alice.user_id) == {}


async def test_signing_own_device_with_self_signing_key_shows_in_query(
    client: Any, alice: User, bob: User
) -> None:
    device, keys = Device(alice), CrossSigning(alice)
    await device.upload(client, device_keys=device.device_keys())
    await upload(client, alice, keys.upload_body())
    signed = keys.sign_device(device.device_keys())
    answer = await ok(
        client, "POST", "/keys/signatures/upload", alice,
        {alice.user_id: {alice.device_id: signed}},
    )
    assert answer == {"failures": {}}
    seen = await query(client, bob, alice.user_id)
    assert seen["device_keys"][alice.user_id][alice.device_id]["signatures"] == signed["signatures"]


async def test_signature_that_does_not_verify_is_a_failure_and_not_stored(
    client: Any, alice: User
) -> None:
    device, keys = Device(alice), CrossSigning(alice)
    await device.upload(client, device_keys=device.device_keys())
    await upload(client, alice, keys.upload_body())
    forged = sign(
        device.device_keys(), vodozemac.Account(), alice.user_id, keys.key_id(keys.self_signing)
    )
    answer = await ok(
        client, "POST", "/keys/signatures/upload", alice,
        {alice.user_id: {alice.device_id: forged}},
    )
    failure = answer["failures"][alice.user_id][alice.device_id]
    assert failure["errcode"] == "M_INVALID_SIGNATURE"
    seen = await query(client, alice, alice.user_id)
    assert seen["device_keys"][alice.user_id][alice.device_id] == {
        **device.device_keys(), "unsigned": {}
    }


async def test_signed_object_must_match_the_stored_key(client: Any, alice: User) -> None:
    device, keys = Device(alice), CrossSigning(alice)
    await device.upload(client, device_keys=device.device_keys())
    await upload(client, alice, keys.upload_body())
    altered = keys.sign_device({**device.device_keys(), "algorithms": ["m.fake"]})
    answer = await ok(
        client, "POST", "/keys/signatures/upload", alice,
        {alice.user_id: {alice.device_id: altered, "NOSUCHDEVICE": altered}},
    )
    failures = answer["failures"][alice.user_id]
    assert failures[alice.device_id]["errcode"] == "M_INVALID_PARAM"
    assert failures["NOSUCHDEVICE"]["errcode"] == "M_NOT_FOUND"


async def test_user_signing_signature_of_another_master_key_is_seen_by_the_signer_only(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    carol = await make_user(server, "carol")
    alice_keys, bob_keys = CrossSigning(alice), CrossSigning(bob)
    await upload(client, alice, alice_keys.upload_body())
    await upload(client, bob, bob_keys.upload_body())
    signed = alice_keys.sign_user(bob_keys.master_key())
    answer = await ok(
        client, "POST", "/keys/signatures/upload", alice,
        {bob.user_id: {bob_keys.public(bob_keys.master): signed}},
    )
    assert answer == {"failures": {}}
    seen_by_alice = await query(client, alice, bob.user_id)
    assert seen_by_alice["master_keys"][bob.user_id] == signed
    for viewer in (bob, carol):
        seen = await query(client, viewer, bob.user_id)
        assert seen["master_keys"][bob.user_id] == bob_keys.master_key()


async def test_signing_another_users_master_key_without_a_user_signing_key_fails(
    client: Any, alice: User, bob: User
) -> None:
    bob_keys = CrossSigning(bob)
    await upload(client, bob, bob_keys.upload_body())
    signed = CrossSigning(alice).sign_user(bob_keys.master_key())
    answer = await ok(
        client, "POST", "/keys/signatures/upload", alice,
        {bob.user_id: {bob_keys.public(bob_keys.master): signed}},
    )
    assert answer["failures"][bob.user_id][bob_keys.public(bob_keys.master)]["errcode"] == (
        "M_NOT_FOUND"
    )


async def test_device_can_sign_its_own_users_master_key(client: Any, alice: User) -> None:
    device, keys = Device(alice), CrossSigning(alice)
    await device.upload(client, device_keys=device.device_keys())
    await upload(client, alice, keys.upload_body())
    signed = sign(keys.master_key(), device.account, alice.user_id, f"ed25519:{alice.device_id}")
    answer = await ok(
        client, "POST", "/keys/signatures/upload", alice,
        {alice.user_id: {keys.public(keys.master): signed}},
    )
    assert answer == {"failures": {}}
    seen = await query(client, alice, alice.user_id)
    assert seen["master_keys"][alice.user_id]["signatures"][alice.user_id] == {
        f"ed25519:{alice.device_id}": signed["signatures"][alice.user_id][
            f"ed25519:{alice.device_id}"
        ]
    }


async def test_replacing_the_self_signing_key_drops_its_device_signatures(
    client: Any, alice: User
) -> None:
    device, keys = Device(alice), CrossSigning(alice)
    await device.upload(client, device_keys=device.device_keys())
    await upload(client, alice, keys.upload_body())
    await ok(
        client, "POST", "/keys/signatures/upload", alice,
        {alice.user_id: {alice.device_id: keys.sign_device(device.device_keys())}},
    )
    keys.self_signing = vodozemac.Account()
    status, data = await upload(client, alice, {"self_signing_key": keys.self_signing_key()})
    assert status == 401
    status, _ = await upload(
        client, alice,
        {"self_signing_key": keys.self_signing_key(),
         "auth": password_auth(alice, data["session"])},
    )
    assert status == 200
    seen = await query(client, alice, alice.user_id)
    assert seen["device_keys"][alice.user_id][alice.device_id] == {
        **device.device_keys(), "unsigned": {}
    }


async def test_versions_advertises_cross_signing(client: Any) -> None:
    response = await client.get("/_matrix/client/versions")
    body = await response.json()
    assert body["unstable_features"]["org.matrix.e2e_cross_signing"] is True


async def test_cross_signing_is_served_under_the_unstable_prefix_too(
    client: Any, alice: User
) -> None:
    # Clients from before Matrix 1.1 (and SyTest) upload there; Synapse serves both.
    keys, device = CrossSigning(alice), Device(alice)
    await device.upload(client, device_keys=device.device_keys())
    headers = {"Authorization": f"Bearer {alice.token}"}
    unstable = "/_matrix/client/unstable/keys"
    response = await client.post(
        f"{unstable}/device_signing/upload", json=keys.upload_body(), headers=headers
    )
    assert (response.status, await response.json()) == (200, {})
    response = await client.post(
        f"{unstable}/signatures/upload", headers=headers,
        json={alice.user_id: {alice.device_id: keys.sign_device(device.device_keys())}},
    )
    assert (response.status, await response.json()) == (200, {"failures": {}})
    seen = await query(client, alice, alice.user_id)
    assert keys.key_id(keys.self_signing) in (
        seen["device_keys"][alice.user_id][alice.device_id]["signatures"][alice.user_id]
    )
