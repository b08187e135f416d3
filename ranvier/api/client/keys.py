"""End-to-end encryption keys: /keys/upload, /keys/query, /keys/claim, /keys/changes,
/keys/device_signing/upload, /keys/signatures/upload.

Spec: client-server API "End-to-End Encryption" (keys.yaml, cross_signing.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ranvier.api.http import json_response, read_json_body, require_auth, require_query_str
from ranvier.api.models import parse_body
from ranvier.api.routing import CLIENT_V3, route
from ranvier.api.uia import require_password
from ranvier.errors import MatrixError
from ranvier.protocol.e2e_keys import MASTER, SELF_SIGNING, USER_SIGNING
from ranvier.services.tokens import SyncToken

if TYPE_CHECKING:
    from ranvier.server import HomeServer

#: Cross-signing was served under the unstable prefix before Matrix 1.1, and clients of
#: that time (and SyTest) still call it there; Synapse serves both.
CROSS_SIGNING_PREFIXES = (*CLIENT_V3, "/_matrix/client/unstable")


@dataclass(frozen=True)
class UploadKeysBody:
    device_keys: dict[str, Any] | None = None
    one_time_keys: dict[str, Any] | None = None
    fallback_keys: dict[str, Any] | None = None


@dataclass(frozen=True)
class QueryKeysBody:
    device_keys: dict[str, Any]
    timeout: int | None = None


@dataclass(frozen=True)
class ClaimKeysBody:
    one_time_keys: dict[str, Any]
    timeout: int | None = None


@dataclass(frozen=True)
class CrossSigningBody:
    master_key: dict[str, Any] | None = None
    self_signing_key: dict[str, Any] | None = None
    user_signing_key: dict[str, Any] | None = None
    auth: dict[str, Any] | None = None


def routes(hs: HomeServer) -> list[web.RouteDef]:
    return [
        *route(hs, "POST", "/keys/upload", upload_keys),
        *route(hs, "POST", "/keys/query", query_keys),
        *route(hs, "POST", "/keys/claim", claim_keys),
        *route(hs, "GET", "/keys/changes", key_changes),
        *route(
            hs, "POST", "/keys/device_signing/upload", upload_cross_signing_keys,
            CROSS_SIGNING_PREFIXES,
        ),
        *route(hs, "POST", "/keys/signatures/upload", upload_signatures, CROSS_SIGNING_PREFIXES),
    ]


async def upload_keys(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /_matrix/client/v3/keys/upload"""
    requester = await require_auth(request, allow_guest=True)
    body = parse_body(UploadKeysBody, await read_json_body(request))
    if requester.device_id is None:
        raise MatrixError(400, "M_INVALID_PARAM", "This access token belongs to no device")
    counts = await hs.e2e_keys.upload_keys(
        requester.user_id, requester.device_id,
        body.device_keys, body.one_time_keys, body.fallback_keys,
    )
    return json_response({"one_time_key_counts": counts})


async def query_keys(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /_matrix/client/v3/keys/query"""
    requester = await require_auth(request, allow_guest=True)
    body = parse_body(QueryKeysBody, await read_json_body(request))
    return json_response(await hs.e2e_keys.query_keys(requester.user_id, body.device_keys))


async def claim_keys(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /_matrix/client/v3/keys/claim"""
    await require_auth(request, allow_guest=True)
    body = parse_body(ClaimKeysBody, await read_json_body(request))
    return json_response(await hs.e2e_keys.claim_keys(body.one_time_keys))


async def key_changes(hs: HomeServer, request: web.Request) -> web.Response:
    """GET /_matrix/client/v3/keys/changes"""
    requester = await require_auth(request)
    since = SyncToken.parse(require_query_str(request, "from"), "from")
    until = SyncToken.parse(require_query_str(request, "to"), "to")
    return json_response(
        await hs.device_lists.changes_since_for_client(requester.user_id, since, until)
    )


async def upload_cross_signing_keys(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /_matrix/client/v3/keys/device_signing/upload"""
    requester = await require_auth(request)
    body = parse_body(CrossSigningBody, await read_json_body(request))

    async def authenticate() -> object:
        return await require_password(hs, request, requester, body.auth)

    await hs.e2e_keys.upload_cross_signing_keys(
        requester.user_id,
        {
            MASTER: body.master_key,
            SELF_SIGNING: body.self_signing_key,
            USER_SIGNING: body.user_signing_key,
        },
        authenticate,
    )
    return json_response({})


async def upload_signatures(hs: HomeServer, request: web.Request) -> web.Response:
    """POST /_matrix/client/v3/keys/signatures/upload"""
    requester = await require_auth(request)
    body = await read_json_body(request)
    return json_response(await hs.e2e_keys.upload_signatures(requester.user_id, body))
