"""Pushers (client-server API "Push notifications": GET /pushers, POST /pushers/set).

Pushers are stored and listed; delivery to push gateways is not built yet. An email
pusher needs an email address bound to the account, and this server binds none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ranvier.clock import Clock
from ranvier.errors import MatrixError
from ranvier.storage.pushers import Pusher, PushersStore

#: the path every HTTP pusher's push gateway URL must have (push gateway API)
NOTIFY_PATH = "/_matrix/push/v1/notify"
MAX_PUSHKEY_BYTES = 512
MAX_APP_ID_CHARS = 64


@dataclass
class SetPusherRequest:
    """pusher.yaml `postPusher` body."""

    pushkey: str
    app_id: str
    #: None deletes the pusher
    kind: str | None
    app_display_name: str | None = None
    device_display_name: str | None = None
    profile_tag: str | None = None
    lang: str | None = None
    data: dict[str, Any] | None = None
    append: bool = False


class PushersService:
    def __init__(self, store: PushersStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def get_pushers(self, user_id: str) -> list[dict[str, Any]]:
        return [_pusher_json(p) for p in await self._store.get_pushers(user_id)]

    async def set_pusher(
        self, user_id: str, device_id: str | None, req: SetPusherRequest
    ) -> None:
        if len(req.pushkey.encode()) > MAX_PUSHKEY_BYTES:
            raise MatrixError(
                400, "M_INVALID_PARAM", f"pushkey is longer than {MAX_PUSHKEY_BYTES} bytes"
            )
        if len(req.app_id) > MAX_APP_ID_CHARS:
            raise MatrixError(
                400, "M_INVALID_PARAM", f"app_id is longer than {MAX_APP_ID_CHARS} characters"
            )
        if req.kind is None:
            await self._store.delete_pusher(user_id, req.app_id, req.pushkey)
            return
        missing = [
            name for name in ("app_display_name", "device_display_name", "lang", "data")
            if getattr(req, name) is None
        ]
        if missing:
            raise MatrixError(400, "M_MISSING_PARAM", f"Missing parameters: {', '.join(missing)}")
        assert req.data is not None
        if req.kind == "email":
            raise MatrixError(
                400, "M_THREEPID_NOT_FOUND",
                f"{req.pushkey} is not an email address bound to {user_id}",
            )
        if req.kind != "http":
            raise MatrixError(
                400, "M_INVALID_PARAM", f"pusher kind {req.kind!r} is not http, email or null"
            )
        _check_http_data(req.data)
        await self._store.set_pusher(
            Pusher(
                user_id, req.app_id, req.pushkey, req.kind, req.app_display_name or "",
                req.device_display_name or "", req.profile_tag, req.lang or "", req.data,
                device_id, self._clock.time_ms(),
            ),
            keep_other_users=req.append,
        )

    async def on_devices_deleted(self, user_id: str, device_ids: list[str] | None) -> None:
        """A deleted (or logged-out) device takes its pushers with it."""
        await self._store.delete_for_devices(user_id, device_ids)


def _check_http_data(data: dict[str, Any]) -> None:
    url = data.get("url")
    if url is None:
        raise MatrixError(400, "M_MISSING_PARAM", "data.url is required for an http pusher")
    if not isinstance(url, str):
        raise MatrixError(400, "M_INVALID_PARAM", "data.url must be a string")
    # The spec asks clients for HTTPS; plain HTTP is accepted for gateways on a
    # private network, as Synapse does.
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise MatrixError(400, "M_INVALID_PARAM", "data.url must be an absolute HTTP(S) URL")
    if parts.path != NOTIFY_PATH:
        raise MatrixError(400, "M_INVALID_PARAM", f"data.url must have the path {NOTIFY_PATH}")
    if "format" in data and data["format"] != "event_id_only":
        raise MatrixError(400, "M_INVALID_PARAM", "data.format must be 'event_id_only'")


def _pusher_json(pusher: Pusher) -> dict[str, Any]:
    out: dict[str, Any] = {
        "pushkey": pusher.pushkey,
        "kind": pusher.kind,
        "app_id": pusher.app_id,
        "app_display_name": pusher.app_display_name,
        "device_display_name": pusher.device_display_name,
        "lang": pusher.lang,
        "data": pusher.data,
    }
    if pusher.profile_tag is not None:
        out["profile_tag"] = pusher.profile_tag
    return out
