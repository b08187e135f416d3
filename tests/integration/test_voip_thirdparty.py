"""GET /voip/turnServer (time-limited and fixed credentials, none configured, guests)
and the third-party lookups of a server without application services."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest

from ranvier.server import HomeServer
from tests.integration.room_helpers import User, call, make_user, ok

TURN = {"turn_uris": ["turn:turn.example.org:3478?transport=udp",
                      "turns:turn.example.org:443?transport=tcp"]}


async def guest(client: Any) -> User:
    data = await (await client.post("/_matrix/client/v3/register?kind=guest", json={})).json()
    return User(data["user_id"], data["device_id"], data["access_token"])


async def test_no_turn_server_gives_an_empty_answer(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    assert await ok(client, "GET", "/voip/turnServer", alice) == {}


@pytest.mark.parametrize("config_overrides", [
    {**TURN, "turn_shared_secret": "s3cret", "turn_user_lifetime": "1d",
     "turn_allow_guests": False, "allow_guest_access": True},
])
async def test_shared_secret_gives_time_limited_credentials(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    now_s = server.clock.time_ms() // 1000
    data = await ok(client, "GET", "/voip/turnServer", alice)
    assert data["uris"] == TURN["turn_uris"] and data["ttl"] == 86400
    expiry, user_id = data["username"].split(":", 1)
    assert user_id == alice.user_id and abs(int(expiry) - (now_s + 86400)) <= 2
    mac = hmac.new(b"s3cret", data["username"].encode(), hashlib.sha1).digest()
    assert data["password"] == base64.b64encode(mac).decode()
    status, body = await call(client, "GET", "/voip/turnServer", await guest(client))
    assert (status, body["errcode"]) == (403, "M_GUEST_ACCESS_FORBIDDEN")


@pytest.mark.parametrize("config_overrides", [
    {**TURN, "turn_username": "user", "turn_password": "pass", "allow_guest_access": True},
])
async def test_fixed_credentials(server: HomeServer, client: Any) -> None:
    data = await ok(client, "GET", "/voip/turnServer", await guest(client))
    assert data == {"username": "user", "password": "pass", "uris": TURN["turn_uris"],
                    "ttl": 3600}


async def test_third_party_lookups_find_nothing(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    assert await ok(client, "GET", "/thirdparty/protocols", alice) == {}
    for path in ("/thirdparty/protocol/irc", "/thirdparty/location/irc?channel=%23a",
                 "/thirdparty/user/irc"):
        status, data = await call(client, "GET", path, alice)
        assert (status, data["errcode"]) == (404, "M_NOT_FOUND"), path
    assert await ok(client, "GET", "/thirdparty/location?alias=%23a:test.local", alice) == []
    assert await ok(client, "GET", "/thirdparty/user?userid=%40a:test.local", alice) == []
    for path in ("/thirdparty/location", "/thirdparty/user"):
        status, data = await call(client, "GET", path, alice)
        assert (status, data["errcode"]) == (400, "M_MISSING_PARAM"), path
    status, data = await call(client, "GET", "/thirdparty/protocols")
    assert status == 401
