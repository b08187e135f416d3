"""A small Matrix client over the driver's own HTTP client (bench/http_client.py): only the
client-server API calls the scenarios make, each one HTTP request, raising
`RequestFailed` on any answer not expected."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

import orjson

from bench.http_client import HttpClient

PASSWORD = "bench-password-1"
_txn_ids = itertools.count()


class RequestFailed(Exception):
    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path} -> {status}: {body[:300]}")
        self.status = status


class Api:
    """The unauthenticated half: one HTTP client shared by every user of a server."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        ok_statuses: tuple[int, ...] = (200,),
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        target = "/_matrix/client/v3" + path
        if params:
            target += "?" + urlencode(params)
        status, data = await self.http.request(
            method, target, b"" if body is None else orjson.dumps(body), headers
        )
        if status not in ok_statuses:
            raise RequestFailed(method, path, status, data.decode(errors="replace"))
        return status, orjson.loads(data)

    async def register(self, localpart: str) -> User:
        """Register with the dummy stage, following the user-interactive auth dance if
        the server asks for a session first."""
        body: dict[str, Any] = {
            "username": localpart, "password": PASSWORD,
            "auth": {"type": "m.login.dummy"},
        }
        status, reply = await self.request("POST", "/register", body=body,
                                           ok_statuses=(200, 401))
        if status == 401:
            body["auth"] = {"type": "m.login.dummy", "session": reply["session"]}
            _, reply = await self.request("POST", "/register", body=body)
        return User(self, reply["user_id"], reply["access_token"])

    async def login(self, localpart: str) -> User:
        _, reply = await self.request("POST", "/login", body={
            "type": "m.login.password", "password": PASSWORD,
            "identifier": {"type": "m.id.user", "user": localpart},
        })
        return User(self, reply["user_id"], reply["access_token"])


class User:
    """A logged-in device."""

    def __init__(self, api: Api, user_id: str, token: str) -> None:
        self.api = api
        self.user_id = user_id
        self.token = token

    @property
    def localpart(self) -> str:
        return self.user_id[1:].split(":", 1)[0]

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return (await self.api.request(method, path, token=self.token, **kwargs))[1]

    async def create_room(self, name: str) -> str:
        reply = await self._call("POST", "/createRoom",
                                 body={"preset": "public_chat", "name": name})
        return str(reply["room_id"])

    async def join(self, room_id: str) -> None:
        await self._call("POST", f"/join/{quote(room_id)}", body={})

    async def send_text(self, room_id: str, body: str) -> str:
        reply = await self._call(
            "PUT", f"/rooms/{quote(room_id)}/send/m.room.message/b{next(_txn_ids)}",
            body={"msgtype": "m.text", "body": body},
        )
        return str(reply["event_id"])

    async def sync(
        self, *, filter: Mapping[str, Any], since: str | None = None, timeout_ms: int = 0
    ) -> dict[str, Any]:
        params = {"filter": json.dumps(filter), "timeout": str(timeout_ms)}
        if since is not None:
            params["since"] = since
        return await self._call("GET", "/sync", params=params)

    async def messages(
        self, room_id: str, *, since: str | None, limit: int
    ) -> dict[str, Any]:
        params = {"dir": "b", "limit": str(limit)}
        if since is not None:
            params["from"] = since
        return await self._call("GET", f"/rooms/{quote(room_id)}/messages", params=params)

    async def state(self, room_id: str) -> list[dict[str, Any]]:
        return await self._call("GET", f"/rooms/{quote(room_id)}/state")

    async def members(self, room_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/rooms/{quote(room_id)}/members")
