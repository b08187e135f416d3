"""Registration, login, sessions, passwords and deactivation, over HTTP."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from ranvier.server import HomeServer, build_homeserver, create_app
from tests.integration.conftest import REGISTRATION_SECRET

V3 = "/_matrix/client/v3"


async def register(client: Any, username: str, password: str = "pw-secret", **extra: Any) -> Any:
    resp = await client.post(
        f"{V3}/register",
        json={"username": username, "password": password,
              "auth": {"type": "m.login.dummy"}, **extra},
    )
    assert resp.status == 200, await resp.text()
    return await resp.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(client: Any, user: str, password: str = "pw-secret", **extra: Any) -> Any:
    return await client.post(
        f"{V3}/login",
        json={"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
              "password": password, **extra},
    )


# --- registration ---------------------------------------------------------------------------


async def test_register_without_auth_returns_the_uia_flows(client: Any) -> None:
    resp = await client.post(f"{V3}/register", json={"username": "alice", "password": "x"})
    assert resp.status == 401
    body = await resp.json()
    assert body["flows"] == [{"stages": ["m.login.dummy"]}]
    assert body["completed"] == [] and body["session"]
    assert "errcode" not in body
    resp = await client.post(
        f"{V3}/register",
        json={"username": "alice", "password": "x",
              "auth": {"type": "m.login.dummy", "session": body["session"]}},
    )
    assert resp.status == 200
    assert (await resp.json())["user_id"] == "@alice:test.local"


async def test_register_with_dummy_in_the_first_request_logs_in(client: Any) -> None:
    body = await register(client, "alice", device_id="DEV1",
                          initial_device_display_name="Phone")
    assert body["user_id"] == "@alice:test.local"
    assert body["device_id"] == "DEV1"
    resp = await client.get(f"{V3}/account/whoami", headers=bearer(body["access_token"]))
    assert await resp.json() == {"user_id": "@alice:test.local", "device_id": "DEV1",
                                 "is_guest": False}
    resp = await client.get(f"{V3}/devices/DEV1", headers=bearer(body["access_token"]))
    assert (await resp.json())["display_name"] == "Phone"


async def test_register_with_inhibit_login_returns_no_token(client: Any) -> None:
    body = await register(client, "alice", inhibit_login=True)
    assert body["user_id"] == "@alice:test.local"
    assert "access_token" not in body


async def test_register_taken_name_is_user_in_use_case_insensitively(client: Any) -> None:
    await register(client, "alice")
    resp = await client.post(f"{V3}/register", json={"username": "alice", "password": "x"})
    assert resp.status == 400
    assert (await resp.json())["errcode"] == "M_USER_IN_USE"
    resp = await client.get(f"{V3}/register/available?username=alice")
    assert (await resp.json())["errcode"] == "M_USER_IN_USE"


@pytest.mark.parametrize("name", ["al ice", "_bridge", "12345", "é"])
async def test_register_invalid_username_is_rejected(client: Any, name: str) -> None:
    resp = await client.post(f"{V3}/register", json={"username": name, "password": "x"})
    assert resp.status == 400
    assert (await resp.json())["errcode"] == "M_INVALID_USERNAME"


async def test_register_available_for_a_free_name(client: Any) -> None:
    resp = await client.get(f"{V3}/register/available?username=bob")
    assert await resp.json() == {"available": True}
    resp = await client.get(f"{V3}/register/available")
    assert (await resp.json())["errcode"] == "M_MISSING_PARAM"


@pytest.mark.parametrize("config_overrides", [{"enable_registration": False}])
async def test_register_is_forbidden_when_disabled(client: Any) -> None:
    resp = await client.post(
        f"{V3}/register",
        json={"username": "alice", "password": "x", "auth": {"type": "m.login.dummy"}},
    )
    assert resp.status == 403
    assert (await resp.json())["errcode"] == "M_FORBIDDEN"


async def test_register_with_bad_body_types_changes_nothing(client: Any) -> None:
    resp = await client.post(f"{V3}/register", json={"username": 5, "password": "x"})
    assert resp.status == 400
    body = await resp.json()
    assert body["errcode"] == "M_BAD_JSON" and "username" in body["error"]
    resp = await client.post(f"{V3}/register", data=b"{not json", headers={
        "Content-Type": "application/json"})
    assert (await resp.json())["errcode"] == "M_NOT_JSON"
    resp = await client.post(f"{V3}/register", json=[1, 2])
    assert (await resp.json())["errcode"] == "M_BAD_JSON"


async def test_register_rejects_a_bad_kind(client: Any) -> None:
    resp = await client.post(f"{V3}/register?kind=robot", json={})
    assert resp.status == 400
    assert (await resp.json())["errcode"] == "M_INVALID_PARAM"


@pytest.mark.parametrize("config_overrides", [{"allow_guest_access": True}])
async def test_guest_registration_gives_a_guest_session(client: Any) -> None:
    resp = await client.post(f"{V3}/register?kind=guest", json={})
    body = await resp.json()
    assert resp.status == 200
    whoami = await (await client.get(
        f"{V3}/account/whoami", headers=bearer(body["access_token"]))).json()
    assert whoami["is_guest"] is True
    # Guests may not use most endpoints (modules/guest_access.md lists theirs).
    resp = await client.post(f"{V3}/createRoom", json={},
                             headers=bearer(body["access_token"]))
    assert (await resp.json())["errcode"] == "M_GUEST_ACCESS_FORBIDDEN"


async def test_guest_registration_is_forbidden_by_default(client: Any) -> None:
    resp = await client.post(f"{V3}/register?kind=guest", json={})
    assert resp.status == 403
    assert (await resp.json())["errcode"] == "M_GUEST_ACCESS_FORBIDDEN"


@pytest.mark.parametrize("config_overrides", [{"max_request_size": 1000}])
async def test_oversized_body_is_too_large(client: Any) -> None:
    resp = await client.post(f"{V3}/register", json={"username": "a" * 2000})
    assert resp.status == 413
    assert (await resp.json())["errcode"] == "M_TOO_LARGE"


@pytest.mark.parametrize(
    "config_overrides", [{"rc_registration": {"per_second": 0.001, "burst_count": 2}}]
)
async def test_registration_is_rate_limited_per_address(client: Any) -> None:
    for _ in range(2):
        await client.get(f"{V3}/register/available?username=x")
    resp = await client.get(f"{V3}/register/available?username=x")
    assert resp.status == 429
    body = await resp.json()
    assert body["errcode"] == "M_LIMIT_EXCEEDED"
    assert body["retry_after_ms"] > 0
    assert int(resp.headers["Retry-After"]) >= 1


# --- login ------------------------------------------------------------------------------------


async def test_login_flows_list_password_and_token(client: Any) -> None:
    body = await (await client.get(f"{V3}/login")).json()
    assert {"type": "m.login.password"} in body["flows"]
    assert any(f["type"] == "m.login.token" for f in body["flows"])


async def test_login_with_password_by_localpart_full_id_and_legacy_user(client: Any) -> None:
    await register(client, "alice")
    for user in ("alice", "@alice:test.local", "ALICE"):
        resp = await login(client, user)
        assert resp.status == 200, user
        assert (await resp.json())["user_id"] == "@alice:test.local"
    resp = await client.post(
        f"{V3}/login", json={"type": "m.login.password", "user": "alice", "password": "pw-secret"}
    )
    assert resp.status == 200


async def test_login_with_wrong_password_or_unknown_user_is_forbidden(client: Any) -> None:
    await register(client, "alice")
    for user, password in (("alice", "wrong"), ("nobody", "pw-secret")):
        resp = await login(client, user, password)
        assert resp.status == 403
        assert (await resp.json())["errcode"] == "M_FORBIDDEN"


async def test_login_with_unknown_type_is_rejected(client: Any) -> None:
    resp = await client.post(f"{V3}/login", json={"type": "m.login.magic"})
    assert resp.status == 400
    assert (await resp.json())["errcode"] == "M_UNKNOWN"


@pytest.mark.parametrize(
    "config_overrides",
    [{"rc_login": {"failed_attempts": {"per_second": 0.001, "burst_count": 2}}}],
)
async def test_repeated_failed_logins_are_rate_limited(client: Any) -> None:
    await register(client, "alice")
    for _ in range(2):
        assert (await login(client, "alice", "wrong")).status == 403
    resp = await login(client, "alice", "pw-secret")
    assert resp.status == 429
    body = await resp.json()
    assert body["errcode"] == "M_LIMIT_EXCEEDED" and body["retry_after_ms"] > 0


async def test_login_token_from_get_token_logs_in_once(client: Any) -> None:
    session = await register(client, "alice")
    auth = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"},
            "password": "pw-secret"}
    resp = await client.post("/_matrix/client/v1/login/get_token", json={"auth": auth},
                             headers=bearer(session["access_token"]))
    assert resp.status == 200, await resp.text()
    token = (await resp.json())["login_token"]
    resp = await client.post(f"{V3}/login", json={"type": "m.login.token", "token": token})
    assert (await resp.json())["user_id"] == "@alice:test.local"
    resp = await client.post(f"{V3}/login", json={"type": "m.login.token", "token": token})
    assert resp.status == 403


# --- sessions ------------------------------------------------------------------------------


async def test_logout_invalidates_the_token_and_removes_the_device(client: Any) -> None:
    first = await register(client, "alice", device_id="ONE")
    second = await (await login(client, "alice", device_id="TWO")).json()
    resp = await client.post(f"{V3}/logout", headers=bearer(first["access_token"]))
    assert resp.status == 200
    resp = await client.get(f"{V3}/account/whoami", headers=bearer(first["access_token"]))
    assert resp.status == 401
    assert (await resp.json())["errcode"] == "M_UNKNOWN_TOKEN"
    devices = await (await client.get(
        f"{V3}/devices", headers=bearer(second["access_token"]))).json()
    assert [d["device_id"] for d in devices["devices"]] == ["TWO"]


async def test_logout_all_invalidates_every_token(client: Any) -> None:
    first = await register(client, "alice")
    second = await (await login(client, "alice")).json()
    await client.post(f"{V3}/logout/all", headers=bearer(first["access_token"]))
    for token in (first["access_token"], second["access_token"]):
        resp = await client.get(f"{V3}/account/whoami", headers=bearer(token))
        assert resp.status == 401


async def test_access_token_in_query_string_is_accepted(client: Any) -> None:
    session = await register(client, "alice")
    resp = await client.get(f"{V3}/account/whoami?access_token={session['access_token']}")
    assert resp.status == 200


async def test_refresh_token_rotates_and_expired_access_token_is_soft_logout(
    client: Any, server: HomeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = await register(client, "alice", refresh_token=True)
    assert session["expires_in_ms"] == 5 * 60 * 1000
    now = server.clock.time_ms()
    monkeypatch.setattr(server.clock, "time_ms", lambda: now + 6 * 60 * 1000)
    resp = await client.get(f"{V3}/account/whoami", headers=bearer(session["access_token"]))
    assert resp.status == 401
    assert await resp.json() == {"errcode": "M_UNKNOWN_TOKEN",
                                 "error": "Access token has expired", "soft_logout": True}
    resp = await client.post(f"{V3}/refresh", json={"refresh_token": session["refresh_token"]})
    assert resp.status == 200
    fresh = await resp.json()
    assert fresh["refresh_token"] != session["refresh_token"]
    resp = await client.get(f"{V3}/account/whoami", headers=bearer(fresh["access_token"]))
    assert (await resp.json())["device_id"] == session["device_id"]
    # The old refresh token was used up.
    resp = await client.post(f"{V3}/refresh", json={"refresh_token": session["refresh_token"]})
    assert resp.status == 401
    assert (await resp.json())["errcode"] == "M_UNKNOWN_TOKEN"


async def test_refresh_needs_a_refresh_token(client: Any) -> None:
    resp = await client.post(f"{V3}/refresh", json={})
    assert resp.status == 400
    assert (await resp.json())["errcode"] == "M_MISSING_PARAM"


# --- UIA-protected account changes ------------------------------------------------------------


def password_auth(session: str | None = None, password: str = "pw-secret") -> dict[str, Any]:
    auth: dict[str, Any] = {"type": "m.login.password", "password": password,
                            "identifier": {"type": "m.id.user", "user": "alice"}}
    if session:
        auth["session"] = session
    return auth


async def test_change_password_requires_the_old_password(client: Any) -> None:
    session = await register(client, "alice")
    headers = bearer(session["access_token"])
    resp = await client.post(f"{V3}/account/password", json={"new_password": "new-pw"},
                             headers=headers)
    assert resp.status == 401
    uia = await resp.json()
    assert uia["flows"] == [{"stages": ["m.login.password"]}]
    resp = await client.post(
        f"{V3}/account/password",
        json={"new_password": "new-pw", "auth": password_auth(uia["session"], "wrong")},
        headers=headers,
    )
    assert resp.status == 401
    failed = await resp.json()
    assert failed["errcode"] == "M_FORBIDDEN" and failed["session"] == uia["session"]
    assert (await login(client, "alice", "pw-secret")).status == 200
    resp = await client.post(
        f"{V3}/account/password",
        json={"new_password": "new-pw", "auth": password_auth(uia["session"])},
        headers=headers,
    )
    assert resp.status == 200
    assert (await login(client, "alice", "pw-secret")).status == 403
    assert (await login(client, "alice", "new-pw")).status == 200
    # The requesting device stays logged in.
    assert (await client.get(f"{V3}/account/whoami", headers=headers)).status == 200


async def test_uia_password_must_be_the_requesters_own(client: Any) -> None:
    alice = await register(client, "alice")
    await register(client, "bob")
    auth = password_auth()
    auth["identifier"]["user"] = "bob"
    resp = await client.post(f"{V3}/account/password",
                             json={"new_password": "x", "auth": auth},
                             headers=bearer(alice["access_token"]))
    assert resp.status == 403
    assert (await resp.json())["errcode"] == "M_FORBIDDEN"
    relogin = await login(client, "alice")
    assert relogin.status == 200  # the password did not change


async def test_uia_session_survives_a_restart(
    client: Any, server: HomeServer, aiohttp_client: Any
) -> None:
    session = await register(client, "alice")
    headers = bearer(session["access_token"])
    resp = await client.post(f"{V3}/account/password", json={"new_password": "n"},
                             headers=headers)
    uia_session = (await resp.json())["session"]
    restarted = await aiohttp_client(
        create_app(await build_homeserver(server.config, server.db), resources=None)
    )
    resp = await restarted.post(
        f"{V3}/account/password",
        json={"new_password": "n", "auth": password_auth(uia_session)},
        headers=headers,
    )
    assert resp.status == 200, await resp.text()


async def test_uia_session_cannot_be_reused_for_another_endpoint(client: Any) -> None:
    session = await register(client, "alice")
    headers = bearer(session["access_token"])
    resp = await client.post(f"{V3}/account/password", json={"new_password": "n"},
                             headers=headers)
    uia_session = (await resp.json())["session"]
    resp = await client.post(f"{V3}/account/deactivate",
                             json={"auth": password_auth(uia_session)}, headers=headers)
    assert resp.status == 403
    assert (await resp.json())["errcode"] == "M_FORBIDDEN"


async def test_deactivate_logs_out_and_blocks_login(client: Any) -> None:
    session = await register(client, "alice")
    headers = bearer(session["access_token"])
    resp = await client.post(f"{V3}/account/deactivate", json={"auth": password_auth()},
                             headers=headers)
    assert resp.status == 200
    assert await resp.json() == {"id_server_unbind_result": "no-support"}
    assert (await client.get(f"{V3}/account/whoami", headers=headers)).status == 401
    assert (await login(client, "alice")).status == 403
    resp = await client.get(f"{V3}/register/available?username=alice")
    assert (await resp.json())["errcode"] == "M_USER_IN_USE"


# --- devices -----------------------------------------------------------------------------------


async def test_devices_can_be_listed_renamed_and_deleted(client: Any) -> None:
    session = await register(client, "alice", device_id="ONE")
    other = await (await login(client, "alice", device_id="TWO")).json()
    headers = bearer(session["access_token"])
    body = await (await client.get(f"{V3}/devices", headers=headers)).json()
    assert sorted(d["device_id"] for d in body["devices"]) == ["ONE", "TWO"]
    resp = await client.put(f"{V3}/devices/TWO", json={"display_name": "Laptop"},
                            headers=headers)
    assert resp.status == 200
    assert (await (await client.get(f"{V3}/devices/TWO", headers=headers)).json())[
        "display_name"] == "Laptop"
    resp = await client.delete(f"{V3}/devices/TWO", headers=headers)
    assert resp.status == 401
    resp = await client.delete(f"{V3}/devices/TWO", json={"auth": password_auth()},
                               headers=headers)
    assert resp.status == 200
    assert (await client.get(f"{V3}/devices/TWO", headers=headers)).status == 404
    resp = await client.get(f"{V3}/account/whoami", headers=bearer(other["access_token"]))
    assert resp.status == 401


async def test_unknown_device_is_not_found(client: Any) -> None:
    session = await register(client, "alice")
    headers = bearer(session["access_token"])
    for resp in (
        await client.get(f"{V3}/devices/NOPE", headers=headers),
        await client.put(f"{V3}/devices/NOPE", json={"display_name": "x"}, headers=headers),
        await client.delete(f"{V3}/devices/NOPE", json={}, headers=headers),
    ):
        assert resp.status == 404
        assert (await resp.json())["errcode"] == "M_NOT_FOUND"


async def test_delete_devices_removes_several(client: Any) -> None:
    session = await register(client, "alice", device_id="ONE")
    for device in ("TWO", "THREE"):
        await login(client, "alice", device_id=device)
    headers = bearer(session["access_token"])
    resp = await client.post(f"{V3}/delete_devices",
                             json={"devices": ["TWO", "THREE"], "auth": password_auth()},
                             headers=headers)
    assert resp.status == 200
    body = await (await client.get(f"{V3}/devices", headers=headers)).json()
    assert [d["device_id"] for d in body["devices"]] == ["ONE"]


async def test_deleting_a_device_with_another_users_password_is_forbidden(
    client: Any,
) -> None:
    session = await register(client, "alice", device_id="ONE")
    await register(client, "eve")
    await login(client, "alice", device_id="TWO")
    headers = bearer(session["access_token"])
    auth = password_auth()
    auth["identifier"]["user"] = "eve"
    resp = await client.delete(f"{V3}/devices/TWO", json={"auth": auth}, headers=headers)
    assert resp.status == 403
    assert (await resp.json())["errcode"] == "M_FORBIDDEN"
    assert (await client.get(f"{V3}/devices/TWO", headers=headers)).status == 200


async def test_delete_devices_rejects_a_non_list(client: Any) -> None:
    session = await register(client, "alice")
    resp = await client.post(f"{V3}/delete_devices", json={"devices": "ONE"},
                             headers=bearer(session["access_token"]))
    assert resp.status == 400
    assert (await resp.json())["errcode"] == "M_BAD_JSON"


# --- capabilities --------------------------------------------------------------------------------


async def test_capabilities_advertise_room_versions_and_account_features(client: Any) -> None:
    session = await register(client, "alice")
    body = await (await client.get(f"{V3}/capabilities",
                                   headers=bearer(session["access_token"]))).json()
    caps = body["capabilities"]
    assert caps["m.room_versions"]["default"] == "12"
    assert set(caps["m.room_versions"]["available"]) == {str(n) for n in range(1, 13)}
    assert caps["m.change_password"] == {"enabled": True}
    assert caps["m.3pid_changes"] == {"enabled": False}


# --- shared-secret registration ---------------------------------------------------------------


def _mac(nonce: str, user: str, password: str, admin: bool) -> str:
    message = b"\x00".join([nonce.encode(), user.encode(), password.encode(),
                            b"admin" if admin else b"notadmin"])
    return hmac.new(REGISTRATION_SECRET.encode(), message, hashlib.sha1).hexdigest()


async def test_shared_secret_registration_creates_an_admin(client: Any) -> None:
    nonce = (await (await client.get("/_synapse/admin/v1/register")).json())["nonce"]
    resp = await client.post("/_synapse/admin/v1/register", json={
        "nonce": nonce, "username": "root", "password": "pw", "admin": True,
        "mac": _mac(nonce, "root", "pw", True)})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["user_id"] == "@root:test.local"
    resp = await client.get("/_synapse/admin/v1/registration_tokens",
                            headers=bearer(body["access_token"]))
    assert resp.status == 200


async def test_shared_secret_registration_rejects_a_bad_mac_and_reused_nonce(
    client: Any,
) -> None:
    nonce = (await (await client.get("/_synapse/admin/v1/register")).json())["nonce"]
    resp = await client.post("/_synapse/admin/v1/register", json={
        "nonce": nonce, "username": "root", "password": "pw", "admin": True,
        "mac": _mac(nonce, "root", "pw", False)})
    assert resp.status == 403
    assert (await resp.json())["errcode"] == "M_FORBIDDEN"
    resp = await client.post("/_synapse/admin/v1/register", json={
        "nonce": nonce, "username": "root", "password": "pw", "admin": True,
        "mac": _mac(nonce, "root", "pw", True)})
    assert resp.status == 400
