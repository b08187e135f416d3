"""Guest access (modules/guest_access.md): what guests may do, the rooms they may join,
their removal when a room stops admitting them, and upgrading to a full account."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer
from tests.integration.room_helpers import User, call, create_room, ok, q

pytestmark = pytest.mark.parametrize("config_overrides", [{"allow_guest_access": True}])


@pytest.fixture
async def guest(client: Any) -> User:
    body = await ok(client, "POST", "/register?kind=guest", None, {})
    return User(body["user_id"], body["device_id"], body["access_token"])


async def guest_room(client: Any, owner: User, guest_access: str = "can_join") -> str:
    room_id = await create_room(client, owner, preset="public_chat")
    await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.guest_access/", owner,
             {"guest_access": guest_access})
    return room_id


async def membership(client: Any, user: User, room_id: str, target: str) -> str:
    event = await ok(client, "GET", f"/rooms/{q(room_id)}/state/m.room.member/{q(target)}", user)
    return event["membership"]


async def test_guest_joins_sends_and_reads_a_can_join_room(
    client: Any, alice: User, guest: User
) -> None:
    room_id = await guest_room(client, alice)
    await ok(client, "POST", f"/rooms/{q(room_id)}/join", guest, {})
    await ok(client, "PUT", f"/rooms/{q(room_id)}/send/m.room.message/t1", guest,
             {"msgtype": "m.text", "body": "sup"})
    messages = await ok(client, "GET", f"/rooms/{q(room_id)}/messages?dir=b&limit=1", guest)
    assert messages["chunk"][0]["content"]["body"] == "sup"
    event_id = messages["chunk"][0]["event_id"]
    await ok(client, "GET", f"/rooms/{q(room_id)}/event/{q(event_id)}", guest)
    await ok(client, "GET", f"/rooms/{q(room_id)}/state", guest)
    assert await membership(client, guest, room_id, guest.user_id) == "join"


@pytest.mark.parametrize("guest_access", ["forbidden", None])
async def test_guest_cannot_join_a_room_without_can_join(
    client: Any, server: HomeServer, alice: User, guest: User, guest_access: str | None
) -> None:
    if guest_access is None:
        room_id = await create_room(client, alice, preset="public_chat")
    else:
        room_id = await guest_room(client, alice, guest_access)
    status, body = await call(client, "POST", f"/rooms/{q(room_id)}/join", guest, {})
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
    assert "Guest access" in body["error"]
    assert await server.stores.rooms.get_local_membership(guest.user_id, room_id) is None


async def test_guests_leave_when_guest_access_is_revoked(
    client: Any, server: HomeServer, alice: User, bob: User, guest: User
) -> None:
    room_id = await guest_room(client, alice)
    await ok(client, "POST", f"/rooms/{q(room_id)}/join", guest, {})
    await ok(client, "POST", f"/rooms/{q(room_id)}/join", bob, {})
    await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.guest_access/", alice,
             {"guest_access": "forbidden"})
    await server.guest_access.settle()
    assert await membership(client, alice, room_id, guest.user_id) == "leave"
    assert await membership(client, alice, room_id, bob.user_id) == "join"


async def test_guest_may_set_its_display_name_but_not_its_avatar(
    client: Any, alice: User, guest: User
) -> None:
    room_id = await guest_room(client, alice)
    await ok(client, "POST", f"/rooms/{q(room_id)}/join", guest, {})
    path = f"/profile/{q(guest.user_id)}"
    await ok(client, "PUT", f"{path}/displayname", guest, {"displayname": "creeper"})
    member = await ok(
        client, "GET", f"/rooms/{q(room_id)}/state/m.room.member/{q(guest.user_id)}", guest
    )
    assert member["displayname"] == "creeper"
    status, body = await call(client, "PUT", f"{path}/avatar_url", guest,
                              {"avatar_url": "mxc://x/y"})
    assert (status, body["errcode"]) == (403, "M_GUEST_ACCESS_FORBIDDEN")


async def test_guest_is_refused_endpoints_outside_the_module(
    client: Any, guest: User
) -> None:
    status, body = await call(client, "POST", "/createRoom", guest, {})
    assert (status, body["errcode"]) == (403, "M_GUEST_ACCESS_FORBIDDEN")


async def test_guest_upgrades_to_a_full_user_with_its_own_localpart(
    client: Any, alice: User, guest: User
) -> None:
    localpart = guest.user_id[1:].split(":")[0]
    body = await ok(client, "POST", "/register", None, {
        "username": localpart, "password": "pw-secret", "guest_access_token": guest.token,
        "auth": {"type": "m.login.dummy"},
    })
    assert body["user_id"] == guest.user_id
    upgraded = User(guest.user_id, body["device_id"], body["access_token"])
    whoami = await ok(client, "GET", "/account/whoami", upgraded)
    assert whoami["is_guest"] is False
    # Full users join rooms that do not admit guests.
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/rooms/{q(room_id)}/join", upgraded, {})


async def test_guest_cannot_upgrade_another_guest(
    client: Any, server: HomeServer, guest: User
) -> None:
    other = await ok(client, "POST", "/register?kind=guest", None, {})
    localpart = other["user_id"][1:].split(":")[0]
    status, body = await call(client, "POST", "/register", None, {
        "username": localpart, "password": "pw", "guest_access_token": guest.token,
        "auth": {"type": "m.login.dummy"},
    })
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
    record = await server.stores.accounts.get_user(other["user_id"])
    assert record is not None and record.is_guest


async def test_an_eviction_for_a_revocation_since_undone_keeps_the_guests(
    client: Any, server: HomeServer, alice: User, guest: User
) -> None:
    # createRoom's public_chat preset forbids guests (one revocation), then the owner
    # allows them and a guest joins before the eviction that revocation started runs.
    room_id = await create_room(client, alice, preset="public_chat")
    forbidding = await server.stores.state.get_current_state_event_id(
        room_id, "m.room.guest_access", ""
    )
    assert forbidding is not None
    stored = await server.stores.events.get_event(forbidding)
    assert stored is not None
    await server.guest_access.settle()
    await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.guest_access/", alice,
             {"guest_access": "can_join"})
    await ok(client, "POST", f"/rooms/{q(room_id)}/join", guest, {})
    await server.guest_access.on_persisted(
        room_id, [stored], {("m.room.guest_access", ""): stored.event}
    )
    await server.guest_access.settle()
    assert await membership(client, guest, room_id, guest.user_id) == "join"
