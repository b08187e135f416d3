"""POST /account/deactivate: the user leaves their rooms and rejects their invites,
drops out of the user directory, loses pushers and devices; `erase` empties the
profile."""

from __future__ import annotations

from typing import Any

from ranvier.server import HomeServer

from .room_helpers import User, call, create_room, ok, q, room_state

PUSHER = {
    "kind": "http", "app_id": "org.example.app", "pushkey": "key1",
    "app_display_name": "Example", "device_display_name": "Phone", "lang": "en",
    "data": {"url": "https://push.example.org/_matrix/push/v1/notify"},
}


async def deactivate(client: Any, user: User, **body: Any) -> None:
    localpart = user.user_id[1:].split(":")[0]
    auth = {"type": "m.login.password", "password": "password",
            "identifier": {"type": "m.id.user", "user": localpart}}
    await ok(client, "POST", "/account/deactivate", user, {"auth": auth, **body})


def _membership(state: dict, user_id: str) -> tuple[str, str]:
    event = state[("m.room.member", user_id)]
    return event["content"]["membership"], event["sender"]


async def test_deactivated_user_leaves_joined_rooms_and_rejects_invites(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    joined = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/join/{q(joined)}", bob, {})
    invited = await create_room(client, alice, preset="private_chat")
    await ok(client, "POST", f"/rooms/{q(invited)}/invite", alice, {"user_id": bob.user_id})
    own = await create_room(client, bob)
    await deactivate(client, bob)
    for room_id in (joined, invited):
        state = await room_state(client, alice, room_id)
        assert _membership(state, bob.user_id) == ("leave", bob.user_id)
    for membership in ("join", "invite"):
        assert await server.stores.rooms.get_rooms_for_user(bob.user_id, membership) == []
    # A room only bob was in is left too.
    assert (await server.stores.rooms.get_local_membership(bob.user_id, own))[0] == "leave"
    assert await server.stores.rooms.get_joined_members(own) == []


async def test_deactivated_user_is_not_in_the_user_directory(
    client: Any, alice: User, bob: User
) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})

    async def found() -> list[str]:
        body = await ok(client, "POST", "/user_directory/search", alice, {"search_term": "bob"})
        return [r["user_id"] for r in body["results"]]

    assert await found() == [bob.user_id]
    await deactivate(client, bob)
    assert await found() == []


async def test_deactivation_deletes_pushers_and_devices(
    client: Any, server: HomeServer, bob: User
) -> None:
    await ok(client, "POST", "/pushers/set", bob, PUSHER)
    await deactivate(client, bob)
    assert await server.stores.pushers.get_pushers(bob.user_id) == []
    assert await server.devices.get_devices(bob.user_id) == []
    status, body = await call(client, "GET", "/account/whoami", bob)
    assert (status, body["errcode"]) == (401, "M_UNKNOWN_TOKEN")


async def test_erase_empties_the_profile_and_plain_deactivation_keeps_it(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    for user in (alice, bob):
        await ok(client, "PUT", f"/profile/{q(user.user_id)}/avatar_url", user,
                 {"avatar_url": "mxc://test.local/face"})
    await deactivate(client, alice)
    await deactivate(client, bob, erase=True)
    kept = await server.stores.profiles.get_profile(alice.user_id)
    assert (kept.displayname, kept.avatar_url) == ("alice", "mxc://test.local/face")
    erased = await server.stores.profiles.get_profile(bob.user_id)
    assert erased is not None and erased.to_json() == {}


async def test_deactivation_with_a_bad_erase_flag_changes_nothing(
    client: Any, server: HomeServer, bob: User
) -> None:
    status, body = await call(client, "POST", "/account/deactivate", bob, {"erase": "yes"})
    assert (status, body["errcode"]) == (400, "M_BAD_JSON")
    assert "erase" in body["error"]
    await ok(client, "GET", "/account/whoami", bob)
