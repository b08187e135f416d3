"""GET /_matrix/client/v3/admin/whois/{userId} (spec: admin.yaml)."""

from __future__ import annotations

from typing import Any

from ranvier.server import HomeServer

from .room_helpers import User, call, ok


async def test_a_user_sees_their_devices_and_where_they_were_last_seen(
    client: Any, alice: User
) -> None:
    headers = {"Authorization": f"Bearer {alice.token}", "User-Agent": "whois-test/1"}
    response = await client.get(f"/_matrix/client/v3/admin/whois/{alice.user_id}", headers=headers)
    assert response.status == 200
    body = await response.json()
    assert body["user_id"] == alice.user_id
    (connection,) = body["devices"][alice.device_id]["sessions"][0]["connections"]
    assert connection["user_agent"] == "whois-test/1"
    assert connection["ip"] == "127.0.0.1"
    assert isinstance(connection["last_seen"], int)


async def test_other_users_are_for_server_admins_only(
    client: Any, server: HomeServer, alice: User, bob: User
) -> None:
    status, data = await call(client, "GET", f"/admin/whois/{bob.user_id}", alice)
    assert (status, data["errcode"]) == (403, "M_FORBIDDEN")
    admin_id = await server.accounts.register("admin", "pw", is_admin=True)
    session = await server.accounts.create_session(admin_id, None, None)
    admin = User(admin_id, session.device_id, session.access_token)
    body = await ok(client, "GET", f"/admin/whois/{bob.user_id}", admin)
    assert body["user_id"] == bob.user_id
    assert list(body["devices"]) == [bob.device_id]
    status, data = await call(client, "GET", "/admin/whois/@nobody:test.local", admin)
    assert (status, data["errcode"]) == (404, "M_NOT_FOUND")
