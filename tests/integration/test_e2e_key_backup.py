"""Server-side key backups: versions, keys at the three levels, the replacement rules,
etag and count, and the errors (spec: "Server-side key backups")."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer, create_app

from .room_helpers import User, call, ok

ALGORITHM = "m.megolm_backup.v1.curve25519-aes-sha2"
ROOM = "!room:test.local"


def key(
    first_message_index: int = 0, forwarded_count: int = 0, is_verified: bool = False,
    tag: str = "x",
) -> dict[str, Any]:
    return {
        "first_message_index": first_message_index,
        "forwarded_count": forwarded_count,
        "is_verified": is_verified,
        "session_data": {"ephemeral": "e", "ciphertext": tag, "mac": "m"},
    }


async def create(client: Any, user: User, public_key: str = "pk") -> str:
    body = {"algorithm": ALGORITHM, "auth_data": {"public_key": public_key}}
    return (await ok(client, "POST", "/room_keys/version", user, body))["version"]  # type: ignore[no-any-return]


async def put_session(
    client: Any, user: User, version: str, session: str, data: dict[str, Any],
    room: str = ROOM,
) -> dict[str, Any]:
    return await ok(  # type: ignore[no-any-return]
        client, "PUT", f"/room_keys/keys/{room}/{session}?version={version}", user, data
    )


async def get_session(client: Any, user: User, version: str, session: str) -> dict[str, Any]:
    return await ok(  # type: ignore[no-any-return]
        client, "GET", f"/room_keys/keys/{ROOM}/{session}?version={version}", user
    )


async def test_no_backup_is_not_found(client: Any, alice: User) -> None:
    status, data = await call(client, "GET", "/room_keys/version", alice)
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")
    status, data = await call(client, "GET", "/room_keys/version/1", alice)
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")
    status, data = await call(client, "PUT", f"/room_keys/keys/{ROOM}/s?version=1", alice, key())
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")


async def test_created_version_is_current_and_readable(client: Any, alice: User) -> None:
    first = await create(client, alice, "pk1")
    second = await create(client, alice, "pk2")
    assert int(second) > int(first)
    current = await ok(client, "GET", "/room_keys/version", alice)
    assert current == {
        "algorithm": ALGORITHM, "auth_data": {"public_key": "pk2"},
        "count": 0, "etag": current["etag"], "version": second,
    }
    older = await ok(client, "GET", f"/room_keys/version/{first}", alice)
    assert older["auth_data"] == {"public_key": "pk1"}


async def test_backups_are_per_user(client: Any, alice: User, bob: User) -> None:
    version = await create(client, alice)
    status, data = await call(client, "GET", f"/room_keys/version/{version}", bob)
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")


async def test_update_changes_auth_data_only_with_matching_version_and_algorithm(
    client: Any, alice: User
) -> None:
    version = await create(client, alice)
    path = f"/room_keys/version/{version}"
    new = {"algorithm": ALGORITHM, "auth_data": {"public_key": "new"}}
    status, data = await call(client, "PUT", path, alice, {**new, "version": "999"})
    assert (status, data["errcode"]) == (400, "M_INVALID_PARAM")
    status, data = await call(client, "PUT", path, alice, {**new, "algorithm": "m.other"})
    assert (status, data["errcode"]) == (400, "M_INVALID_PARAM")
    status, data = await call(client, "PUT", "/room_keys/version/999", alice, new)
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")
    status, data = await call(client, "PUT", path, alice, {"algorithm": ALGORITHM})
    assert (status, data["errcode"]) == (400, "M_MISSING_PARAM")
    assert (await ok(client, "GET", path, alice))["auth_data"] == {"public_key": "pk"}
    await ok(client, "PUT", path, alice, {**new, "version": version})
    assert (await ok(client, "GET", path, alice))["auth_data"] == {"public_key": "new"}


async def test_deleting_a_version_removes_it_and_its_keys_and_is_repeatable(
    client: Any, server: HomeServer, alice: User
) -> None:
    first = await create(client, alice)
    await put_session(client, alice, first, "s", key())
    await ok(client, "DELETE", f"/room_keys/version/{first}", alice)
    await ok(client, "DELETE", f"/room_keys/version/{first}", alice)
    status, data = await call(client, "GET", f"/room_keys/version/{first}", alice)
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")
    status, data = await call(client, "DELETE", "/room_keys/version/77", alice)
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")
    assert await server.stores.key_backup.count_keys(alice.user_id, int(first)) == 0
    # numbers are not reused
    assert int(await create(client, alice)) > int(first)


async def test_keys_go_only_into_the_current_version(
    client: Any, server: HomeServer, alice: User
) -> None:
    old = await create(client, alice)
    current = await create(client, alice)
    status, data = await call(
        client, "PUT", f"/room_keys/keys/{ROOM}/s?version={old}", alice, key()
    )
    assert (status, data["errcode"]) == (403, "M_WRONG_ROOM_KEYS_VERSION")
    assert data["current_version"] == current
    assert await server.stores.key_backup.count_keys(alice.user_id, int(old)) == 0


async def test_keys_at_every_level_round_trip_with_etag_and_count(
    client: Any, alice: User
) -> None:
    version = await create(client, alice)
    one = await put_session(client, alice, version, "s1", key(tag="one"))
    assert one["count"] == 1
    two = await ok(
        client, "PUT", f"/room_keys/keys/{ROOM}?version={version}", alice,
        {"sessions": {"s2": key(tag="two")}},
    )
    assert two["count"] == 2 and two["etag"] != one["etag"]
    three = await ok(
        client, "PUT", f"/room_keys/keys?version={version}", alice,
        {"rooms": {"!other:test.local": {"sessions": {"s3": key(tag="three")}}}},
    )
    assert three["count"] == 3
    everything = await ok(client, "GET", f"/room_keys/keys?version={version}", alice)
    assert everything == {
        "rooms": {
            ROOM: {"sessions": {"s1": key(tag="one"), "s2": key(tag="two")}},
            "!other:test.local": {"sessions": {"s3": key(tag="three")}},
        }
    }
    room = await ok(client, "GET", f"/room_keys/keys/{ROOM}?version={version}", alice)
    assert room == {"sessions": {"s1": key(tag="one"), "s2": key(tag="two")}}
    assert await get_session(client, alice, version, "s2") == key(tag="two")
    info = await ok(client, "GET", "/room_keys/version", alice)
    assert (info["count"], info["etag"]) == (3, three["etag"])


async def test_missing_keys_read_as_empty_or_not_found(client: Any, alice: User) -> None:
    version = await create(client, alice)
    assert await ok(client, "GET", f"/room_keys/keys?version={version}", alice) == {"rooms": {}}
    assert await ok(
        client, "GET", f"/room_keys/keys/{ROOM}?version={version}", alice
    ) == {"sessions": {}}
    status, data = await call(client, "GET", f"/room_keys/keys/{ROOM}/s?version={version}", alice)
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")
    status, data = await call(client, "GET", "/room_keys/keys?version=42", alice)
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")
    status, data = await call(client, "GET", "/room_keys/keys", alice)
    assert (status, data["errcode"]) == (400, "M_MISSING_PARAM")


@pytest.mark.parametrize(
    ("stored", "uploaded", "replaced"),
    [
        (key(is_verified=False), key(is_verified=True, first_message_index=9), True),
        (key(is_verified=True), key(is_verified=False), False),
        (key(first_message_index=5), key(first_message_index=3), True),
        (key(first_message_index=3), key(first_message_index=5, forwarded_count=0), False),
        (key(forwarded_count=2), key(forwarded_count=1), True),
        (key(forwarded_count=1), key(forwarded_count=2), False),
        (key(tag="old"), key(tag="new"), False),
    ],
)
async def test_a_stored_key_is_replaced_only_by_a_better_one(
    client: Any, alice: User, stored: dict[str, Any], uploaded: dict[str, Any], replaced: bool
) -> None:
    version = await create(client, alice)
    stored = {**stored, "session_data": {"which": "stored"}}
    uploaded = {**uploaded, "session_data": {"which": "uploaded"}}
    first = await put_session(client, alice, version, "s", stored)
    second = await put_session(client, alice, version, "s", uploaded)
    assert await get_session(client, alice, version, "s") == (uploaded if replaced else stored)
    assert (second["etag"] != first["etag"]) == replaced
    assert second["count"] == 1


async def test_deleting_keys_at_each_level(client: Any, alice: User) -> None:
    version = await create(client, alice)
    await ok(
        client, "PUT", f"/room_keys/keys?version={version}", alice,
        {"rooms": {
            ROOM: {"sessions": {"s1": key(), "s2": key()}},
            "!other:test.local": {"sessions": {"s3": key()}},
        }},
    )
    answer = await ok(client, "DELETE", f"/room_keys/keys/{ROOM}/s1?version={version}", alice)
    assert answer["count"] == 2
    answer = await ok(client, "DELETE", f"/room_keys/keys/{ROOM}?version={version}", alice)
    assert answer["count"] == 1
    answer = await ok(client, "DELETE", f"/room_keys/keys?version={version}", alice)
    assert answer["count"] == 0
    status, data = await call(client, "DELETE", "/room_keys/keys?version=42", alice)
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")


async def test_bad_key_data_is_refused_and_changes_nothing(
    client: Any, server: HomeServer, alice: User
) -> None:
    version = await create(client, alice)
    for path, body in (
        (f"/room_keys/keys/{ROOM}/s", {**key(), "is_verified": "yes"}),
        (f"/room_keys/keys/{ROOM}/s", {"session_data": {}}),
        (f"/room_keys/keys/{ROOM}", {"sessions": {"ok": key(), "bad": {**key(),
                                     "first_message_index": 1.5}}}),
        (f"/room_keys/keys/{ROOM}", {"sessions": []}),
        ("/room_keys/keys", {"rooms": {ROOM: {"sessions": {"ok": key(), "bad": 7}}}}),
        ("/room_keys/keys", {"rooms": {ROOM: "x"}}),
    ):
        status, data = await call(client, "PUT", f"{path}?version={version}", alice, body)
        assert status == 400, (path, body)
        assert data["errcode"] in ("M_BAD_JSON", "M_MISSING_PARAM"), data
    assert await server.stores.key_backup.count_keys(alice.user_id, int(version)) == 0


async def test_data_of_the_spec_algorithm_must_be_objects(
    client: Any, server: HomeServer, alice: User
) -> None:
    status, data = await call(client, "POST", "/room_keys/version", alice, {
        "algorithm": ALGORITHM, "auth_data": "anopaquestring",
    })
    assert (status, data["errcode"]) == (400, "M_BAD_JSON")
    assert "auth_data" in data["error"]
    version = await create(client, alice)
    status, data = await call(client, "PUT", f"/room_keys/version/{version}", alice, {
        "algorithm": ALGORITHM, "auth_data": ["pk"],
    })
    assert (status, data["errcode"]) == (400, "M_BAD_JSON")
    assert (await ok(client, "GET", "/room_keys/version", alice))["auth_data"] == {
        "public_key": "pk"
    }
    status, data = await call(
        client, "PUT", f"/room_keys/keys/{ROOM}/s?version={version}", alice,
        {**key(), "session_data": "anopaquestring"},
    )
    assert (status, data["errcode"]) == (400, "M_BAD_JSON")
    assert await server.stores.key_backup.count_keys(alice.user_id, int(version)) == 0


@pytest.fixture
async def unchecked(server: HomeServer, aiohttp_client: Any) -> Any:
    """A client without the OpenAPI response check: the data of an algorithm the spec
    does not define comes back as sent, which the spec's schema (objects) does not
    foresee."""
    return await aiohttp_client(create_app(server, resources=None))


async def test_data_of_other_algorithms_is_stored_as_sent(unchecked: Any, alice: User) -> None:
    # SyTest's backups: an algorithm the spec does not define, with strings for data
    # (docs/E2EE.md, "Key backup"); Synapse stores them too.
    body = {"algorithm": "m.megolm_backup.v1", "auth_data": "anopaquestring"}
    version = (await ok(unchecked, "POST", "/room_keys/version", alice, body))["version"]
    info = await ok(unchecked, "GET", f"/room_keys/version/{version}", alice)
    assert (info["algorithm"], info["auth_data"]) == ("m.megolm_backup.v1", "anopaquestring")
    body["auth_data"] = "adifferentopaquestring"
    await ok(unchecked, "PUT", f"/room_keys/version/{version}", alice, {**body, "version": version})
    info = await ok(unchecked, "GET", "/room_keys/version", alice)
    assert info["auth_data"] == "adifferentopaquestring"
    sent = {**key(first_message_index=3), "session_data": "anopaquestring"}
    await ok(unchecked, "PUT", f"/room_keys/keys/{ROOM}/1234?version={version}", alice, sent)
    assert await ok(
        unchecked, "GET", f"/room_keys/keys/{ROOM}/1234?version={version}", alice
    ) == sent
