"""OpenID tokens: requested by a user, exchanged by a third party at the federation
API's /openid/userinfo, and refused once unknown or expired."""

from __future__ import annotations

from typing import Any

from ranvier.server import HomeServer
from ranvier.services.openid import TOKEN_LIFETIME_MS
from tests.integration.room_helpers import call, make_user, ok, q

USERINFO = "/_matrix/federation/v1/openid/userinfo"


async def userinfo(client: Any, token: str | None) -> tuple[int, Any]:
    query = "" if token is None else f"?access_token={q(token)}"
    response = await client.get(USERINFO + query)
    return response.status, await response.json()


async def test_token_is_exchanged_for_the_user_id(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    token = await ok(client, "POST", f"/user/{q(alice.user_id)}/openid/request_token", alice, {})
    assert token["token_type"] == "Bearer" and token["matrix_server_name"] == "test.local"
    assert token["expires_in"] == 3600 and token["access_token"]
    assert await userinfo(client, token["access_token"]) == (200, {"sub": alice.user_id})
    # It is no access token.
    response = await client.get(
        "/_matrix/client/v3/account/whoami",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert response.status == 401


async def test_unknown_and_expired_tokens_are_refused(
    server: HomeServer, client: Any, monkeypatch: Any
) -> None:
    alice = await make_user(server, "alice")
    token = (await ok(client, "POST", f"/user/{q(alice.user_id)}/openid/request_token",
                      alice, {}))["access_token"]
    status, data = await userinfo(client, "not-a-token")
    assert (status, data["errcode"]) == (401, "M_UNKNOWN_TOKEN")
    status, data = await userinfo(client, None)
    assert (status, data["errcode"]) == (400, "M_MISSING_PARAM")
    now = server.clock.time_ms()
    monkeypatch.setattr(server.clock, "time_ms", lambda: now + TOKEN_LIFETIME_MS + 1)
    status, data = await userinfo(client, token)
    assert (status, data["errcode"]) == (401, "M_UNKNOWN_TOKEN")


async def test_tokens_only_for_oneself(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    status, data = await call(client, "POST", f"/user/{q(bob.user_id)}/openid/request_token",
                              alice, {})
    assert (status, data["errcode"]) == (403, "M_FORBIDDEN")
    status, data = await call(client, "POST", f"/user/{q(alice.user_id)}/openid/request_token",
                              alice, raw=b"[]")
    assert (status, data["errcode"]) == (400, "M_BAD_JSON")
