"""Every way of registering creates the profile (display name = localpart), so member
events sent before the user sets one carry it."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer

from .room_helpers import V3, User, create_room, make_user, ok, q, room_state
from .test_accounts import _mac, register


async def _stored_displayname(server: HomeServer, user_id: str) -> str | None:
    profile = await server.stores.profiles.get_profile(user_id)
    return None if profile is None else profile.displayname


async def test_client_registration_creates_the_profile(
    client: Any, server: HomeServer
) -> None:
    body = await register(client, "carol")
    assert await _stored_displayname(server, body["user_id"]) == "carol"


async def test_shared_secret_registration_creates_the_profile_for_member_events(
    client: Any, server: HomeServer
) -> None:
    nonce = (await (await client.get("/_synapse/admin/v1/register")).json())["nonce"]
    resp = await client.post("/_synapse/admin/v1/register", json={
        "nonce": nonce, "username": "root", "password": "pw", "admin": False,
        "mac": _mac(nonce, "root", "pw", False)})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    root = User(body["user_id"], body["device_id"], body["access_token"])
    assert await _stored_displayname(server, root.user_id) == "root"
    alice = await make_user(server, "alice")
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/join/{q(room_id)}", root, {})
    member = (await room_state(client, alice, room_id))[("m.room.member", root.user_id)]
    assert member["content"] == {"membership": "join", "displayname": "root"}


@pytest.mark.parametrize("config_overrides", [{"allow_guest_access": True}])
async def test_guest_registration_creates_the_profile(
    client: Any, server: HomeServer
) -> None:
    resp = await client.post(f"{V3}/register?kind=guest", json={})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    localpart = body["user_id"][1:].split(":")[0]
    assert await _stored_displayname(server, body["user_id"]) == localpart
