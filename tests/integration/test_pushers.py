"""Pushers (pusher.yaml): set, list, replace, append, delete, the errors of bad
pushers, and pushers leaving with their device."""

from __future__ import annotations

from typing import Any

from ranvier.server import HomeServer
from tests.integration.room_helpers import User, call, make_user, ok

URL = "https://push.example.org/_matrix/push/v1/notify"


def pusher(**fields: Any) -> dict[str, Any]:
    return {
        "kind": "http", "app_id": "org.example.app", "pushkey": "key1",
        "app_display_name": "Example", "device_display_name": "Phone", "lang": "en",
        "data": {"url": URL, "format": "event_id_only", "custom": 1}, **fields,
    }


async def pushers_of(client: Any, user: User) -> list[dict]:
    return (await ok(client, "GET", "/pushers", user))["pushers"]


async def test_set_and_list_a_pusher(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    assert await pushers_of(client, alice) == []
    await ok(client, "POST", "/pushers/set", alice, pusher(profile_tag="tag"))
    assert await pushers_of(client, alice) == [{
        "pushkey": "key1", "kind": "http", "app_id": "org.example.app",
        "app_display_name": "Example", "device_display_name": "Phone", "lang": "en",
        "profile_tag": "tag", "data": {"url": URL, "format": "event_id_only", "custom": 1},
    }]
    await ok(client, "POST", "/pushers/set", alice, pusher(lang="fr"))  # same key: replace
    (only,) = await pushers_of(client, alice)
    assert only["lang"] == "fr" and "profile_tag" not in only
    await ok(client, "POST", "/pushers/set", alice, pusher(pushkey="key2"))
    assert [p["pushkey"] for p in await pushers_of(client, alice)] == ["key1", "key2"]


async def test_kind_null_deletes(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    await ok(client, "POST", "/pushers/set", alice, pusher())
    await ok(client, "POST", "/pushers/set", alice,
             {"kind": None, "app_id": "org.example.app", "pushkey": "key1"})
    assert await pushers_of(client, alice) == []


async def test_append_decides_whether_other_users_keep_the_pushkey(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    await ok(client, "POST", "/pushers/set", alice, pusher())
    await ok(client, "POST", "/pushers/set", bob, pusher(append=True))
    assert len(await pushers_of(client, alice)) == 1
    await ok(client, "POST", "/pushers/set", bob, pusher())
    assert await pushers_of(client, alice) == []
    assert len(await pushers_of(client, bob)) == 1


async def test_bad_pushers_are_refused_and_change_nothing(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    without_lang = pusher()
    del without_lang["lang"]
    cases = [
        ({"app_id": "a", "pushkey": "k"}, "M_MISSING_PARAM"),  # kind absent
        (without_lang, "M_MISSING_PARAM"),
        (pusher(data={}), "M_MISSING_PARAM"),
        (pusher(data={"url": "https://push.example.org/notify"}), "M_INVALID_PARAM"),
        (pusher(data={"url": "ftp://push.example.org/_matrix/push/v1/notify"}),
         "M_INVALID_PARAM"),
        (pusher(data={"url": 5}), "M_INVALID_PARAM"),
        (pusher(data={"url": URL, "format": "full"}), "M_INVALID_PARAM"),
        (pusher(kind="carrier-pigeon"), "M_INVALID_PARAM"),
        (pusher(kind="email", app_id="m.email", pushkey="a@example.org"),
         "M_THREEPID_NOT_FOUND"),
        (pusher(pushkey="k" * 513), "M_INVALID_PARAM"),
        (pusher(app_id="a" * 65), "M_INVALID_PARAM"),
        (pusher(append="yes"), "M_BAD_JSON"),
        (pusher(data="url"), "M_BAD_JSON"),
    ]
    for body, errcode in cases:
        status, data = await call(client, "POST", "/pushers/set", alice, body)
        assert (status, data["errcode"]) == (400, errcode), (body, data)
    assert await pushers_of(client, alice) == []


async def test_pushers_leave_with_their_device(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    phone = User(alice.user_id, *(
        lambda s: (s.device_id, s.access_token)
    )(await server.accounts.create_session(alice.user_id, "PHONE", None)))
    await ok(client, "POST", "/pushers/set", alice, pusher(pushkey="laptop"))
    await ok(client, "POST", "/pushers/set", phone, pusher(pushkey="phone"))
    await ok(client, "POST", "/logout", phone, {})
    assert [p["pushkey"] for p in await pushers_of(client, alice)] == ["laptop"]
