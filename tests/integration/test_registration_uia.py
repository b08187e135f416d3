"""POST /register through user-interactive authentication: a session remembers the
parameters of its first request, and a completed session answers retries the same way
(client-server API "User-interactive authentication API"; SyTest 11register.pl)."""

from __future__ import annotations

from typing import Any

from ranvier.server import HomeServer

V3 = "/_matrix/client/v3"
DUMMY = {"type": "m.login.dummy"}


async def start(client: Any, **params: Any) -> str:
    """The first request of a registration: 401 with the flows and a session."""
    resp = await client.post(f"{V3}/register", json=params)
    assert resp.status == 401, await resp.text()
    body = await resp.json()
    assert body["flows"] == [{"stages": ["m.login.dummy"]}]
    return body["session"]


async def finish(client: Any, session: str, **params: Any) -> Any:
    return await client.post(
        f"{V3}/register", json={**params, "auth": {**DUMMY, "session": session}}
    )


async def test_empty_register_body_answers_401_with_the_flows(client: Any) -> None:
    resp = await client.post(f"{V3}/register", json={})
    assert resp.status == 401
    body = await resp.json()
    assert body["flows"] == [{"stages": ["m.login.dummy"]}]
    assert body["session"] and body["completed"] == []


async def test_register_remembers_the_parameters_of_the_first_request(client: Any) -> None:
    session = await start(
        client, username="alice", password="pw-secret", device_id="XYZZY",
        initial_device_display_name="Phone",
    )
    resp = await finish(client, session)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["user_id"] == "@alice:test.local" and body["device_id"] == "XYZZY"
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    device = await (await client.get(f"{V3}/devices/XYZZY", headers=headers)).json()
    assert device["display_name"] == "Phone"
    login = await client.post(f"{V3}/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"},
        "password": "pw-secret",
    })
    assert login.status == 200


async def test_register_accepts_a_non_ascii_password(client: Any) -> None:
    session = await start(client, username="alice", password="übers3kr1t")
    assert (await finish(client, session)).status == 200
    login = await client.post(f"{V3}/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"},
        "password": "übers3kr1t",
    })
    assert login.status == 200


async def test_remembered_inhibit_login_returns_no_token(client: Any) -> None:
    session = await start(client, username="alice", password="pw", inhibit_login=True)
    resp = await finish(client, session)
    body = await resp.json()
    assert resp.status == 200 and body["user_id"] == "@alice:test.local"
    assert "access_token" not in body and "device_id" not in body


async def test_retrying_a_completed_registration_returns_the_same_user(client: Any) -> None:
    session = await start(client, password="pw")
    first = await (await finish(client, session, password="pw")).json()
    resp = await finish(client, session, password="pw")
    assert resp.status == 200, await resp.text()
    again = await resp.json()
    assert again["user_id"] == first["user_id"]
    assert again["access_token"] != first["access_token"]


async def test_retrying_with_the_username_does_not_answer_user_in_use(client: Any) -> None:
    session = await start(client, username="alice", password="pw")
    assert (await finish(client, session, username="alice", password="pw")).status == 200
    resp = await finish(client, session, username="alice", password="pw")
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["user_id"] == "@alice:test.local"


async def test_a_session_without_password_completes_with_missing_param(
    client: Any, server: HomeServer
) -> None:
    session = await start(client, username="alice")
    resp = await finish(client, session)
    assert resp.status == 400
    assert (await resp.json())["errcode"] == "M_MISSING_PARAM"
    assert await server.stores.accounts.get_user("@alice:test.local") is None


async def test_the_session_never_stores_the_password(client: Any, server: HomeServer) -> None:
    session = await start(client, username="alice", password="pw-secret")
    stored = await server.stores.uia.get_session(session)
    assert stored is not None
    assert "pw-secret" not in repr(stored.data)
    assert stored.data["params"]["password_hash"].startswith("$argon2")


async def test_a_client_cannot_supply_the_password_hash(
    client: Any, server: HomeServer
) -> None:
    session = await start(client, username="alice", password_hash="$argon2id$forged")
    resp = await finish(client, session)
    assert resp.status == 400
    assert (await resp.json())["errcode"] == "M_MISSING_PARAM"
    assert await server.stores.accounts.get_user("@alice:test.local") is None


async def test_register_lowers_the_username(client: Any) -> None:
    resp = await client.post(f"{V3}/register", json={
        "username": "User-UPPER", "password": "pw", "auth": DUMMY,
    })
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["user_id"] == "@user-upper:test.local"
