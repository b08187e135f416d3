"""Check HTTP responses against the spec's OpenAPI response schemas.

`ResponseChecker.problems(method, path, status, body)` finds the operation of the
bundled client-server API (tests/schemas/client_server.json, see bundle.py) whose
path template matches, picks the response schema for the status, and validates the
JSON body with jsonschema. `schema_check_middleware` runs it on every response an
aiohttp client receives (integration tests: `aiohttp_client(app, middlewares=(...,))`)
and fails the test with the list of problems.

What is checked:
- a path the spec does not define (Synapse admin API, ...) or a non-JSON body: nothing;
- a documented status: its schema (including the error schemas of 4xx answers);
- an undocumented 4xx: the generic error shape (`errcode` string, `error` string),
  as the spec says every error has it;
- an undocumented 401: the generic error shape, or a user-interactive authentication
  answer (`flows`), which any endpoint protected by UIA may give;
- an undocumented 2xx/3xx or any undocumented 5xx: a problem — a 500 is never right;
- a response to a request whose inline `filter` has `event_fields`: nothing, since
  such a filter legitimately strips required event fields (spec: "Filtering");
- the few answers in ALLOWED_DEVIATIONS, where we follow Synapse on purpose.

The spec writes `oneOf` where it means "one of these shapes" even when the shapes
overlap (GET .../state/{type}/{key} answers a content object *or* a whole event, and
an event is also an object), so the checker reads every `oneOf` as `anyOf`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import jsonschema

BUNDLE = Path(__file__).resolve().parent / "client_server.json"

#: Every error body (client-server API, "Standard error response").
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"errcode": {"type": "string"}, "error": {"type": "string"}},
    "required": ["errcode"],
}
#: A 401 may also be the first step of user-interactive authentication.
UNAUTHORIZED_SCHEMA: dict[str, Any] = {
    "anyOf": [
        ERROR_SCHEMA,
        {"type": "object", "properties": {"flows": {"type": "array"}}, "required": ["flows"]},
    ]
}


#: (method, path template, status, body) answers that break the schema on purpose, why.
ALLOWED_DEVIATIONS: dict[tuple[str, str, int, str], str] = {
    ("GET", "/_matrix/client/v3/voip/turnServer", 200, "{}"):
        "no TURN server configured: Synapse answers {} and clients expect it",
}


class SchemaMismatch(AssertionError):
    """A response does not match the spec's schema for it."""


@dataclass(frozen=True)
class _Template:
    template: str
    pattern: re.Pattern[str]
    #: Literal characters: when two templates match, the one with more literal text
    #: wins (`/rooms/{roomId}/state` over `/rooms/{roomId}/{eventType}`-style overlaps).
    literal_length: int
    operations: dict[str, Any]


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    # A parameter is one raw path segment; the raw (percent-encoded) path keeps a `/`
    # inside an ID as %2F, so it never spans segments. State keys may be empty.
    regex = "".join("[^/]*" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(regex + "/?")


class ResponseChecker:
    def __init__(self, document: dict[str, Any]) -> None:
        self._components = document.get("components", {})
        self._templates = sorted(
            (
                _Template(t, _compile(t), len(re.sub(r"\{[^}]+\}", "", t)), ops)
                for t, ops in document["paths"].items()
            ),
            key=lambda t: -t.literal_length,
        )
        self._validators: dict[tuple[str, str, str], jsonschema.protocols.Validator] = {}

    def operation(self, method: str, raw_path: str) -> tuple[str, dict[str, Any]] | None:
        """(path template, operation) for a request (raw path, query string allowed), or
        None if the spec has none."""
        # Servers still answer the r0 paths clients use; r0 became v3 unchanged.
        path = re.sub(r"^/_matrix/client/r0/", "/_matrix/client/v3/", raw_path.split("?")[0])
        for t in self._templates:
            if t.pattern.fullmatch(path) and method.lower() in t.operations:
                return t.template, t.operations[method.lower()]
        return None

    def problems(
        self, method: str, raw_path: str, status: int, body: bytes, content_type: str
    ) -> list[str]:
        """Why this response breaks the spec (empty if it does not, or is unknown)."""
        found = self.operation(method, raw_path)
        if found is None or content_type != "application/json" or _strips_fields(raw_path):
            return []
        template, operation = found
        where = f"{method.upper()} {template} -> {status}"
        try:
            value = json.loads(body)
        except ValueError as e:
            return [f"{where}: body is not JSON ({e})"]
        if (method.upper(), template, status, json.dumps(value)) in ALLOWED_DEVIATIONS:
            return []
        validator = self._validator(template, method, status, operation)
        if validator is None:
            return [f"{where}: the spec documents no {status} response for this endpoint"]
        return [
            f"{where}: {_shorten(error.message)} (at {error.json_path})"
            for error in sorted(validator.iter_errors(value), key=lambda e: e.json_path)
        ]

    def _validator(
        self, template: str, method: str, status: int, operation: dict[str, Any]
    ) -> jsonschema.protocols.Validator | None:
        key = (template, method.lower(), str(status))
        if key not in self._validators:
            schema = self._response_schema(operation, status)
            if schema is None:
                return None
            # Recursive schemas of the bundle refer to #/components/schemas/...
            root = _one_of_as_any_of({**schema, "components": self._components})
            self._validators[key] = jsonschema.Draft202012Validator(root)
        return self._validators[key]

    @staticmethod
    def _response_schema(operation: dict[str, Any], status: int) -> dict[str, Any] | None:
        responses = operation.get("responses", {})
        response = responses.get(str(status)) or responses.get(f"{status // 100}XX")
        if response is None:
            if status == 401:
                return UNAUTHORIZED_SCHEMA
            return ERROR_SCHEMA if 400 <= status < 500 else None
        content = response.get("content", {}).get("application/json")
        # A documented status without a JSON schema (a redirect, a file): any body.
        return content.get("schema", {}) if content else {}


def _strips_fields(raw_path_and_query: str) -> bool:
    """Whether the request carries an inline filter with `event_fields`."""
    query = parse_qs(urlsplit(raw_path_and_query).query)
    return any("event_fields" in value for value in query.get("filter", []))


def _one_of_as_any_of(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_one_of_as_any_of(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {("anyOf" if k == "oneOf" else k): _one_of_as_any_of(v) for k, v in schema.items()}


def _shorten(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[:limit] + "..."


@functools.cache
def load_checker() -> ResponseChecker:
    return ResponseChecker(json.loads(BUNDLE.read_text()))


ClientHandler = Callable[[aiohttp.ClientRequest], Awaitable[aiohttp.ClientResponse]]


async def schema_check_middleware(
    request: aiohttp.ClientRequest, handler: ClientHandler
) -> aiohttp.ClientResponse:
    """aiohttp client middleware: raise SchemaMismatch for a response the spec forbids
    (the body stays readable by the caller)."""
    response = await handler(request)
    body = await response.read()
    problems = load_checker().problems(
        request.method, response.url.raw_path_qs, response.status, body, response.content_type
    )
    if problems:
        raise SchemaMismatch("\n".join(problems) + f"\nbody: {body[:2000]!r}")
    return response
