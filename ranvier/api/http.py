"""HTTP plumbing shared by every route: errors, CORS, bodies, query parameters, auth.

Handlers raise `MatrixError`; the middleware here renders it (and anything unexpected
becomes a logged 500 M_UNKNOWN), so a handler only deals with the happy path.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from ranvier.errors import MatrixError

if TYPE_CHECKING:
    from ranvier.server import HomeServer
    from ranvier.services.auth import Requester

logger = logging.getLogger(__name__)

#: The app-level key under which the composition root stores the HomeServer.
HOMESERVER: web.AppKey[Any] = web.AppKey("homeserver")
#: Whether this listener sits behind a reverse proxy whose X-Forwarded-For we trust.
TRUST_X_FORWARDED: web.AppKey[bool] = web.AppKey("trust_x_forwarded", bool)

_CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, POST, PUT, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "X-Requested-With, Content-Type, Authorization, Date",
    "Access-Control-Expose-Headers": "Retry-After",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def homeserver(request: web.Request) -> HomeServer:
    return request.app[HOMESERVER]


def json_response(obj: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(obj), status=status, content_type="application/json"
    )


def error_response(error: MatrixError) -> web.Response:
    response = json_response(error.to_json(), status=error.status)
    retry_after_ms = error.extra.get("retry_after_ms")
    if isinstance(retry_after_ms, int):
        # Retry-After is in whole seconds, rounded up so a client never retries early.
        response.headers["Retry-After"] = str(-(-retry_after_ms // 1000))
    return response


# aiohttp's own HTTP errors, as the spec's error codes.
_HTTP_ERRORS = {
    404: ("M_UNRECOGNIZED", "Unrecognized request"),
    405: ("M_UNRECOGNIZED", "Unrecognized request: this path does not accept that method"),
    413: ("M_TOO_LARGE", "Request body too large"),
}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method == "OPTIONS":
        # CORS preflight: every path answers, known or not (headers added on prepare).
        return json_response({})
    try:
        return await handler(request)
    except MatrixError as e:
        return error_response(e)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        errcode, message = _HTTP_ERRORS.get(e.status, ("M_UNKNOWN", e.reason))
        return error_response(MatrixError(e.status, errcode, message))
    except Exception:
        logger.exception("Unhandled error in %s %s", request.method, request.path)
        return error_response(MatrixError(500, "M_UNKNOWN", "Internal server error"))


async def add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare hook: every response carries the CORS headers."""
    response.headers.update(_CORS_HEADERS)


# --- bodies -------------------------------------------------------------------------------


async def read_json_body(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object (M_NOT_JSON / M_BAD_JSON / M_TOO_LARGE)."""
    limit = homeserver(request).config.max_request_size
    if request.content_length is not None and request.content_length > limit:
        raise MatrixError(413, "M_TOO_LARGE", f"Request body is larger than {limit} bytes")
    body = await request.read()
    if len(body) > limit:
        raise MatrixError(413, "M_TOO_LARGE", f"Request body is larger than {limit} bytes")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise MatrixError(400, "M_NOT_JSON", f"Content not JSON: {e}") from e
    if not isinstance(value, dict):
        raise MatrixError(400, "M_BAD_JSON", "Request body must be a JSON object")
    return value


async def read_optional_json_body(request: web.Request) -> dict[str, Any]:
    """As `read_json_body`, but an empty body is an empty object (endpoints whose
    body is optional, e.g. POST /logout)."""
    if not request.body_exists:
        return {}
    return await read_json_body(request)


# --- query parameters ----------------------------------------------------------------------


def query_str(request: web.Request, name: str, default: str | None = None) -> str | None:
    return request.query.get(name, default)


def require_query_str(request: web.Request, name: str) -> str:
    value = request.query.get(name)
    if value is None:
        raise MatrixError(400, "M_MISSING_PARAM", f"Missing query parameter {name!r}")
    return value


def query_int(
    request: web.Request,
    name: str,
    default: int | None = None,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise MatrixError(
            400, "M_INVALID_PARAM", f"Query parameter {name!r} must be an integer"
        ) from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise MatrixError(
            400, "M_INVALID_PARAM",
            f"Query parameter {name!r} must be between {minimum} and {maximum}",
        )
    return value


def query_bool(request: web.Request, name: str, default: bool = False) -> bool:
    raw = request.query.get(name)
    if raw is None:
        return default
    if raw not in ("true", "false"):
        raise MatrixError(
            400, "M_INVALID_PARAM", f"Query parameter {name!r} must be true or false"
        )
    return raw == "true"


# --- who is asking -----------------------------------------------------------------------------


def access_token(request: web.Request) -> str | None:
    """The access token, from `Authorization: Bearer` or the deprecated query param."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise MatrixError(
                401, "M_MISSING_TOKEN", "Invalid Authorization header: expected Bearer <token>"
            )
        return token.strip()
    return request.query.get("access_token")


def client_ip(request: web.Request) -> str:
    """The client's address; behind a trusted proxy, the first X-Forwarded-For hop."""
    if request.app.get(TRUST_X_FORWARDED):
        forwarded = request.headers.get("X-Forwarded-For")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.remote or ""


async def require_auth(request: web.Request, *, allow_guest: bool = False) -> Requester:
    """The authenticated requester (M_MISSING_TOKEN, M_UNKNOWN_TOKEN, M_GUEST_ACCESS_FORBIDDEN)."""
    token = access_token(request)
    if token is None:
        raise MatrixError(401, "M_MISSING_TOKEN", "Missing access token")
    hs = homeserver(request)
    requester = await hs.auth.get_requester(token)
    if requester.is_guest and not allow_guest:
        raise MatrixError(403, "M_GUEST_ACCESS_FORBIDDEN", "Guest access not allowed")
    if requester.device_id is not None:
        await hs.device_activity.seen(
            requester.user_id, requester.device_id, client_ip(request),
            request.headers.get("User-Agent"),
        )
    return requester


async def optional_auth(request: web.Request) -> Requester | None:
    """The requester if the request carries an access token (endpoints where auth is
    optional, such as /register for guests upgrading)."""
    if access_token(request) is None:
        return None
    return await require_auth(request, allow_guest=True)


def require_self(requester: Requester, user_id: str) -> None:
    """M_FORBIDDEN unless the `{userId}` a path names is the requester (endpoints on a
    user's own data: account data, tags, typing, presence)."""
    if requester.user_id != user_id:
        raise MatrixError(403, "M_FORBIDDEN", f"You cannot do this on behalf of {user_id}")


async def require_admin(request: web.Request) -> Requester:
    """The requester, who must be a server admin (Synapse admin API; M_FORBIDDEN)."""
    requester = await require_auth(request)
    if not await homeserver(request).accounts.is_admin(requester.user_id):
        raise MatrixError(403, "M_FORBIDDEN", "You are not a server admin")
    return requester
