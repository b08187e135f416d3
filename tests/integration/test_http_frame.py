"""The HTTP plumbing every endpoint shares: errors, CORS, discovery."""

from __future__ import annotations

from typing import Any


async def test_versions_lists_spec_versions_and_only_implemented_unstable_features(
    client: Any,
) -> None:
    resp = await client.get("/_matrix/client/versions")
    assert resp.status == 200
    body = await resp.json()
    assert "v1.1" in body["versions"] and "v1.19" in body["versions"]
    # cross-signing under its MSC1756 name, dehydrated devices (MSC3814): both served
    assert body["unstable_features"] == {
        "org.matrix.e2e_cross_signing": True,
        "org.matrix.msc3814": True,
    }


async def test_unknown_path_is_404_unrecognized(client: Any) -> None:
    resp = await client.get("/_matrix/client/v3/no_such_thing")
    assert resp.status == 404
    assert (await resp.json())["errcode"] == "M_UNRECOGNIZED"


async def test_known_path_with_wrong_method_is_405_unrecognized(client: Any) -> None:
    resp = await client.delete("/_matrix/client/versions")
    assert resp.status == 405
    assert (await resp.json())["errcode"] == "M_UNRECOGNIZED"


async def test_every_response_carries_cors_headers(client: Any) -> None:
    for resp in (
        await client.get("/_matrix/client/versions"),
        await client.get("/_matrix/client/v3/no_such_thing"),
    ):
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert "Authorization" in resp.headers["Access-Control-Allow-Headers"]


async def test_options_preflight_answers_any_path(client: Any) -> None:
    resp = await client.options(
        "/_matrix/client/v3/rooms/!x:y/send/m.room.message/1",
        headers={"Origin": "https://app.element.io",
                 "Access-Control-Request-Method": "PUT"},
    )
    assert resp.status == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "PUT" in resp.headers["Access-Control-Allow-Methods"]
    assert "X-Requested-With" in resp.headers["Access-Control-Allow-Headers"]


async def test_wellknown_client_points_at_the_base_url(client: Any) -> None:
    resp = await client.get("/.well-known/matrix/client")
    assert (await resp.json()) == {"m.homeserver": {"base_url": "https://test.local/"}}


async def test_wellknown_server_is_404_unless_enabled(client: Any) -> None:
    resp = await client.get("/.well-known/matrix/server")
    assert resp.status == 404
    assert (await resp.json())["errcode"] == "M_NOT_FOUND"


async def test_capabilities_needs_an_access_token(client: Any) -> None:
    resp = await client.get("/_matrix/client/v3/capabilities")
    assert resp.status == 401
    assert (await resp.json())["errcode"] == "M_MISSING_TOKEN"


async def test_unknown_access_token_is_rejected(client: Any) -> None:
    resp = await client.get(
        "/_matrix/client/v3/capabilities", headers={"Authorization": "Bearer nope"}
    )
    assert resp.status == 401
    body = await resp.json()
    assert body["errcode"] == "M_UNKNOWN_TOKEN"
    assert body["soft_logout"] is False


async def test_r0_prefix_routes_to_the_same_handler(client: Any) -> None:
    resp = await client.get("/_matrix/client/r0/capabilities")
    assert (await resp.json())["errcode"] == "M_MISSING_TOKEN"
