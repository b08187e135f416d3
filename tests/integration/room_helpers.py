"""Small helpers shared by the room tests: users with tokens, and JSON calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ranvier.server import HomeServer

V3 = "/_matrix/client/v3"


@dataclass(frozen=True)
class User:
    user_id: str
    device_id: str
    token: str


async def make_user(server: HomeServer, localpart: str, device_id: str | None = None) -> User:
    user_id = await server.accounts.register(localpart, "password")
    session = await server.accounts.create_session(user_id, device_id, None)
    return User(user_id, session.device_id, session.access_token)


def q(value: str) -> str:
    """Percent-encode a path segment (room IDs, event IDs, aliases)."""
    return quote(value, safe="")


async def call(
    client: Any, method: str, path: str, user: User | None = None, body: Any = None,
    *, raw: bytes | None = None,
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {user.token}"} if user else {}
    kwargs: dict[str, Any] = {"headers": headers}
    if raw is not None:
        kwargs["data"] = raw
    elif body is not None:
        kwargs["json"] = body
    response = await client.request(method, V3 + path, **kwargs)
    return response.status, await response.json()


async def ok(client: Any, method: str, path: str, user: User | None = None,
             body: Any = None) -> Any:
    status, data = await call(client, method, path, user, body)
    assert status == 200, (status, data)
    return data


async def create_room(client: Any, user: User, **body: Any) -> str:
    return (await ok(client, "POST", "/createRoom", user, body))["room_id"]


async def shared_room(client: Any, owner: User, *members: User) -> str:
    """A public room `owner` created and each of `members` joined."""
    room_id = await create_room(client, owner, preset="public_chat")
    for member in members:
        await ok(client, "POST", f"/rooms/{q(room_id)}/join", member, {})
    return room_id


async def room_state(client: Any, user: User, room_id: str) -> dict[tuple[str, str], dict]:
    events = await ok(client, "GET", f"/rooms/{q(room_id)}/state", user)
    return {(e["type"], e["state_key"]): e for e in events}


async def send_message(client: Any, user: User, room_id: str, body: str, txn: str) -> str:
    data = await ok(
        client, "PUT", f"/rooms/{q(room_id)}/send/m.room.message/{txn}", user,
        {"msgtype": "m.text", "body": body},
    )
    return data["event_id"]
