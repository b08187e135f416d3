"""Registration tokens: the Synapse admin API and m.login.registration_token."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer

V3 = "/_matrix/client/v3"
ADMIN = "/_synapse/admin/v1/registration_tokens"
VALIDITY = "/_matrix/client/v1/register/m.login.registration_token/validity"


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"registration_requires_token": True}


@pytest.fixture
async def admin_headers(server: HomeServer) -> dict[str, str]:
    user_id = await server.accounts.register("admin", "pw", is_admin=True)
    session = await server.accounts.create_session(user_id, None, None)
    return {"Authorization": f"Bearer {session.access_token}"}


async def test_admin_can_create_list_update_and_delete_tokens(
    client: Any, admin_headers: dict[str, str]
) -> None:
    resp = await client.post(f"{ADMIN}/new", json={"token": "abc", "uses_allowed": 1},
                             headers=admin_headers)
    assert await resp.json() == {"token": "abc", "uses_allowed": 1, "pending": 0,
                                 "completed": 0, "expiry_time": None}
    generated = await (await client.post(f"{ADMIN}/new", json={"length": 20},
                                         headers=admin_headers)).json()
    assert len(generated["token"]) == 20
    listed = await (await client.get(ADMIN, headers=admin_headers)).json()
    assert {t["token"] for t in listed["registration_tokens"]} == {"abc", generated["token"]}
    resp = await client.put(f"{ADMIN}/abc", json={"uses_allowed": 0}, headers=admin_headers)
    assert (await resp.json())["uses_allowed"] == 0
    valid = await (await client.get(f"{ADMIN}?valid=true", headers=admin_headers)).json()
    assert [t["token"] for t in valid["registration_tokens"]] == [generated["token"]]
    assert (await client.delete(f"{ADMIN}/abc", headers=admin_headers)).status == 200
    resp = await client.get(f"{ADMIN}/abc", headers=admin_headers)
    assert resp.status == 404
    assert (await resp.json())["errcode"] == "M_NOT_FOUND"


@pytest.mark.parametrize("body", [
    {"token": "has space"}, {"token": "x" * 65}, {"uses_allowed": -1}, {"expiry_time": 1},
    {"length": 0},
])
async def test_invalid_token_parameters_are_rejected(
    client: Any, admin_headers: dict[str, str], body: dict[str, Any]
) -> None:
    resp = await client.post(f"{ADMIN}/new", json=body, headers=admin_headers)
    assert resp.status == 400
    assert (await resp.json())["errcode"] == "M_INVALID_PARAM"
    listed = await (await client.get(ADMIN, headers=admin_headers)).json()
    assert listed["registration_tokens"] == []


async def test_duplicate_token_is_rejected(client: Any, admin_headers: dict[str, str]) -> None:
    await client.post(f"{ADMIN}/new", json={"token": "abc"}, headers=admin_headers)
    resp = await client.post(f"{ADMIN}/new", json={"token": "abc"}, headers=admin_headers)
    assert resp.status == 400


async def test_non_admins_cannot_manage_tokens(client: Any, server: HomeServer) -> None:
    user_id = await server.accounts.register("mallory", "pw")
    session = await server.accounts.create_session(user_id, None, None)
    resp = await client.get(ADMIN, headers={"Authorization": f"Bearer {session.access_token}"})
    assert resp.status == 403
    assert (await resp.json())["errcode"] == "M_FORBIDDEN"


async def test_registration_with_a_token_uses_it_up(
    client: Any, admin_headers: dict[str, str]
) -> None:
    await client.post(f"{ADMIN}/new", json={"token": "once", "uses_allowed": 1},
                      headers=admin_headers)
    assert await (await client.get(f"{VALIDITY}?token=once")).json() == {"valid": True}
    resp = await client.post(f"{V3}/register", json={"username": "alice", "password": "pw"})
    uia = await resp.json()
    assert uia["flows"] == [{"stages": ["m.login.registration_token"]}]
    # Dummy auth is not enough when tokens are required.
    resp = await client.post(f"{V3}/register", json={
        "username": "alice", "password": "pw", "auth": {"type": "m.login.dummy"}})
    assert resp.status == 400
    resp = await client.post(f"{V3}/register", json={
        "username": "alice", "password": "pw",
        "auth": {"type": "m.login.registration_token", "token": "once",
                 "session": uia["session"]}})
    assert resp.status == 200, await resp.text()
    token = await (await client.get(f"{ADMIN}/once", headers=admin_headers)).json()
    assert (token["pending"], token["completed"]) == (0, 1)
    assert await (await client.get(f"{VALIDITY}?token=once")).json() == {"valid": False}
    resp = await client.post(f"{V3}/register", json={
        "username": "bob", "password": "pw",
        "auth": {"type": "m.login.registration_token", "token": "once"}})
    assert resp.status == 401
    assert (await resp.json())["errcode"] == "M_UNAUTHORIZED"


async def test_validity_of_an_unknown_token_is_false(client: Any) -> None:
    assert await (await client.get(f"{VALIDITY}?token=nope")).json() == {"valid": False}
    resp = await client.get(VALIDITY)
    assert (await resp.json())["errcode"] == "M_MISSING_PARAM"
