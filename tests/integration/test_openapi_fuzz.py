"""Spec-driven fuzzing with schemathesis: requests generated from the spec's OpenAPI
(tests/schemas/client_server.json) for a set of endpoints, sent with a valid token
to the app served from a background thread.

- Requests that fit the schema must never get a 5xx; an error must be a Matrix
  error (`errcode` M_...); a success must match the response schema.
- Requests that break the schema (schemathesis' negative mode: wrong types, missing
  fields, bodies that are not objects) must be refused with a 4xx Matrix error.

Bounded: a few examples per endpoint and mode, no shrinking, under a minute.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import jsonschema
import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from ranvier.config import Config
from ranvier.server import build_homeserver, create_app
from ranvier.storage.database import open_database
from tests.schemas.openapi_check import BUNDLE, load_checker

V3 = "/_matrix/client/v3"
EXAMPLES = 12

#: (method, path template, fixed path parameters: a real "room", "user" or "event" ID,
#: or a literal value).
ENDPOINTS: list[tuple[str, str, dict[str, str]]] = [
    ("POST", "/createRoom", {}),
    ("PUT", "/rooms/{roomId}/send/{eventType}/{txnId}", {"roomId": "room"}),
    ("PUT", "/rooms/{roomId}/state/{eventType}/{stateKey}", {"roomId": "room"}),
    ("GET", "/rooms/{roomId}/messages", {"roomId": "room"}),
    ("GET", "/rooms/{roomId}/context/{eventId}", {"roomId": "room", "eventId": "event"}),
    ("POST", "/rooms/{roomId}/invite", {"roomId": "room"}),
    ("POST", "/rooms/{roomId}/receipt/{receiptType}/{eventId}",
     {"roomId": "room", "eventId": "event"}),
    ("POST", "/rooms/{roomId}/read_markers", {"roomId": "room"}),
    ("PUT", "/rooms/{roomId}/typing/{userId}", {"roomId": "room", "userId": "user"}),
    ("PUT", "/profile/{userId}/{keyName}", {"userId": "user", "keyName": "displayname"}),
    ("PUT", "/user/{userId}/account_data/{type}", {"userId": "user"}),
    ("POST", "/user/{userId}/filter", {"userId": "user"}),
    ("PUT", "/presence/{userId}/status", {"userId": "user"}),
    ("POST", "/publicRooms", {}),
    ("POST", "/user_directory/search", {}),
    ("POST", "/login", {}),
]


@dataclass(frozen=True)
class LiveApp:
    base_url: str
    token: str
    #: "room", "user", "event" -> a real ID of that kind; other values are used as is.
    ids: dict[str, str]


@pytest.fixture
def live_app(homeserver_config: Config) -> Iterator[LiveApp]:
    """The whole app on a real port, served by an event loop in another thread (the
    fuzzer's HTTP client is synchronous), with a user, a room and an event in it."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> tuple[Any, ...]:
        db = await open_database(homeserver_config.database)
        hs = await build_homeserver(homeserver_config, db)
        runner = web.AppRunner(create_app(hs, resources=None))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return db, hs, runner, runner.addresses[0][1]

    db, hs, runner, port = asyncio.run_coroutine_threadsafe(start(), loop).result(60)
    base_url = f"http://127.0.0.1:{port}"
    try:
        yield _populate(base_url)
    finally:
        async def stop() -> None:
            await runner.cleanup()
            await hs.close()
            await db.close()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _populate(base_url: str) -> LiveApp:
    def call(method: str, path: str, body: dict[str, Any], token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = requests.request(method, base_url + V3 + path, json=body, headers=headers,
                                    timeout=30)
        assert response.status_code == 200, (method, path, response.text)
        return response.json()

    user = call("POST", "/register", {"username": "fuzzer", "password": "fuzzing password",
                                      "auth": {"type": "m.login.dummy"}})
    token = user["access_token"]
    room = call("POST", "/createRoom", {"preset": "public_chat"}, token)["room_id"]
    event = call("PUT", f"/rooms/{quote(room, safe='')}/send/m.room.message/seed",
                 {"msgtype": "m.text", "body": "seed"}, token)["event_id"]
    return LiveApp(base_url, token, {"room": room, "user": user["user_id"], "event": event})


def _content_type(response: Any) -> str:
    value = response.headers.get("content-type") or response.headers.get("Content-Type") or ""
    value = value[0] if isinstance(value, list) else value
    return value.split(";")[0].strip()


def _breaks_body(case: Any) -> bool:
    """Whether schemathesis made the body invalid on purpose. (Its negative query
    strings mostly add unknown parameters, which servers rightly ignore; a negative
    path parameter may route elsewhere.)"""
    return any(
        getattr(location, "value", location) == "body"
        and info.mode is GenerationMode.NEGATIVE
        for location, info in case.meta.components.items()
    )


def _body_violation(case: Any) -> str:
    """How the body breaks the operation's request schema, for the report."""
    content = case.operation.definition.raw.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(case.body)
    )
    return "unknown" if error is None else f"{error.message[:200]} at {error.json_path}"


def _only_nulls_break_body(case: Any) -> bool:
    """Whether every way the body breaks the schema is an explicit null where a value
    may be left out: the server reads such a null as "not given" (as Synapse does;
    ranvier/api/models.py), so accepting it is deliberate."""
    content = case.operation.definition.raw.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(case.body))
    return bool(errors) and all(
        e.validator == "type" and e.instance is None and len(e.absolute_path) > 0
        for e in errors
    )


def _problem(case: Any, response: Any) -> str | None:
    """What is wrong with the server's answer to `case` (a schemathesis Response)."""
    status = response.status_code
    text = response.content[:300].decode(errors="replace")
    body = getattr(case, "body", None)
    request = f"{case.method} {case.formatted_path} query={case.query!r:.200} body={body!r:.600}"
    if status >= 500:
        return f"{request} -> {status} {text}"
    is_json = _content_type(response) == "application/json"
    answer = json.loads(response.content) if is_json and response.content else None
    if status >= 400:
        errcode = answer.get("errcode", "") if isinstance(answer, dict) else ""
        if not errcode.startswith("M_"):
            return f"{request} -> {status} without a Matrix errcode: {text}"
        if errcode == "M_UNRECOGNIZED":
            return f"{request}: the endpoint is not served ({text})"
        return None
    if _breaks_body(case) and not _only_nulls_break_body(case):
        return (f"{request} broke the schema ({_body_violation(case)}) but was accepted"
                f" -> {status} {text}")
    raw_path = urlsplit(response.request.url).path
    problems = load_checker().problems(case.method, raw_path, status, response.content,
                                       _content_type(response))
    return f"{request}: " + "; ".join(problems) if problems else None


def _without_auth(document: dict[str, Any]) -> dict[str, Any]:
    """The spec without its security schemes: every request carries our valid token
    instead of a generated `access_token` or `Authorization`."""
    for operations in document["paths"].values():
        for operation in operations.values():
            operation.pop("security", None)
    document["components"].pop("securitySchemes", None)
    return document


def _fuzz(strategy: Any, live_app: LiveApp) -> tuple[list[str], int]:
    """Send EXAMPLES generated cases; (a few distinct problems, how many cases had an
    invalid body)."""
    headers = {"Authorization": f"Bearer {live_app.token}"}
    problems: list[str] = []
    invalid_sent = 0

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case: Any) -> None:
        nonlocal invalid_sent
        invalid_sent += _breaks_body(case)
        response = case.call(base_url=live_app.base_url, headers=headers, timeout=30)
        problem = _problem(case, response)
        # A few per endpoint are enough to see the pattern.
        if problem and len(problems) < 3 and problem not in problems:
            problems.append(problem)

    run()
    return problems, invalid_sent


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_generated_requests_get_no_500_and_bad_ones_get_matrix_errors(
    live_app: LiveApp, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_dict(_without_auth(json.loads(BUNDLE.read_text())))
    found: list[str] = []
    invalid_sent = 0
    for method, template, fixed in ENDPOINTS:
        strategy = schema[V3 + template][method].as_strategy(
            mode,
            path_parameters={
                name: live_app.ids.get(value, value) for name, value in fixed.items()
            },
        )
        problems, invalid = _fuzz(strategy, live_app)
        found.extend(problems)
        invalid_sent += invalid
    assert not found, f"{len(found)} problems:\n" + "\n".join(found)
    # The negative run must really have sent invalid bodies (and the positive
    # run none), or its silence proves nothing.
    assert (invalid_sent > 0) == (mode is GenerationMode.NEGATIVE), invalid_sent
