"""URL previews: OpenGraph parsing against a local web server, the refusal of private
addresses unless whitelisted, size limits and caching. Nothing here reaches the
internet: the only server fetched from is on 127.0.0.1, whitelisted by the config."""

from __future__ import annotations

import io
from typing import Any

import pytest
from aiohttp import web
from PIL import Image

from ranvier.errors import MatrixError
from ranvier.server import HomeServer
from tests.integration.room_helpers import User

PREVIEW = "/_matrix/client/v1/media/preview_url"

PAGE = b"""<!doctype html><html><head>
<meta charset="utf-8"><title>Ignored title</title>
<meta property="og:title" content="A caf\xc3\xa9 &amp; more">
<meta property="og:description" content="What it is about">
<meta property="og:image" content="/logo.png">
</head><body>hello</body></html>"""
PLAIN_PAGE = b"""<html><head><title>
  Only   a title </title><meta name="description" content="From the description tag">
</head></html>"""


def logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (48, 24), "green").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
async def site(aiohttp_server: Any) -> Any:
    """A web site on 127.0.0.1 that counts the requests it gets."""
    hits: list[str] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        hits.append(request.path)
        if request.path == "/page":
            return web.Response(body=PAGE, content_type="text/html")
        if request.path == "/plain":
            return web.Response(body=PLAIN_PAGE, content_type="text/html")
        if request.path == "/logo.png":
            return web.Response(body=logo(), content_type="image/png")
        if request.path == "/big":
            return web.Response(body=b"<html>" + b" " * 5000, content_type="text/html")
        if request.path == "/to-private":
            raise web.HTTPFound("http://10.1.2.3/secret")
        raise web.HTTPNotFound()

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handle)
    server = await aiohttp_server(app, host="127.0.0.1")
    server.hits = hits
    return server


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"url_preview_enabled": True, "url_preview_ip_range_whitelist": ["127.0.0.1/32"],
            "max_spider_size": "4K"}


async def preview(client: Any, user: User, url: str) -> tuple[int, dict[str, Any]]:
    response = await client.get(
        PREVIEW, params={"url": url}, headers={"Authorization": f"Bearer {user.token}"}
    )
    return response.status, await response.json()


async def test_open_graph_tags_are_returned_and_the_image_stored_as_media(
    client: Any, alice: User, site: Any
) -> None:
    status, og = await preview(client, alice, str(site.make_url("/page")))
    assert status == 200, og
    assert og["og:title"] == "A café & more"
    assert og["og:description"] == "What it is about"
    assert og["og:image"].startswith("mxc://test.local/")
    assert (og["og:image:type"], og["og:image:width"], og["og:image:height"]) == (
        "image/png", 48, 24)
    assert og["matrix:image:size"] == len(logo())
    media_id = og["og:image"].rsplit("/", 1)[1]
    response = await client.get(
        f"/_matrix/client/v1/media/download/test.local/{media_id}",
        headers={"Authorization": f"Bearer {alice.token}"},
    )
    assert await response.read() == logo()


async def test_title_and_description_tags_stand_in_for_missing_open_graph(
    client: Any, alice: User, site: Any
) -> None:
    status, og = await preview(client, alice, str(site.make_url("/plain")))
    assert (status, og) == (200, {"og:title": "Only a title",
                                  "og:description": "From the description tag"})


async def test_previews_are_cached(client: Any, alice: User, site: Any) -> None:
    url = str(site.make_url("/plain"))
    first = await preview(client, alice, url)
    second = await preview(client, alice, url)
    assert first == second
    assert site.hits == ["/plain"]


@pytest.mark.parametrize("url", [
    "http://10.0.0.1/", "http://127.0.0.2/", "http://[::1]/", "http://169.254.169.254/",
    "http://[::ffff:127.0.0.2]/", "http://0.0.0.0/",
])
async def test_private_addresses_are_refused_without_connecting(
    client: Any, alice: User, url: str
) -> None:
    status, body = await preview(client, alice, url)
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
    assert "blocked" in body["error"]


async def test_redirect_to_a_private_address_is_refused(
    client: Any, alice: User, site: Any
) -> None:
    status, body = await preview(client, alice, str(site.make_url("/to-private")))
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")


async def test_pages_larger_than_max_spider_size_are_refused(
    server: HomeServer, alice: User, site: Any
) -> None:
    with pytest.raises(MatrixError) as raised:
        await server.url_previews.preview(str(site.make_url("/big")), alice.user_id)
    assert (raised.value.status, raised.value.errcode) == (502, "M_TOO_LARGE")


async def test_urls_that_are_not_http_are_invalid(client: Any, alice: User) -> None:
    for url in ("ftp://example.org/", "/relative", "http://"):
        status, body = await preview(client, alice, url)
        assert (status, body["errcode"]) == (400, "M_INVALID_PARAM"), url


async def test_preview_requires_an_access_token(client: Any) -> None:
    response = await client.get(PREVIEW, params={"url": "http://127.0.0.1/"})
    assert (response.status, (await response.json())["errcode"]) == (401, "M_MISSING_TOKEN")


class TestWithoutWhitelist:
    @pytest.fixture
    def config_overrides(self) -> dict[str, Any]:
        return {"url_preview_enabled": True}

    async def test_loopback_is_refused_when_not_whitelisted(
        self, client: Any, alice: User, site: Any
    ) -> None:
        status, body = await preview(client, alice, str(site.make_url("/page")))
        assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
        assert site.hits == []

    async def test_host_names_are_checked_after_resolution(
        self, client: Any, alice: User, site: Any
    ) -> None:
        status, body = await preview(client, alice, f"http://localhost:{site.port}/page")
        assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
        assert site.hits == []


class TestDisabled:
    @pytest.fixture
    def config_overrides(self) -> dict[str, Any]:
        return {}

    async def test_preview_url_is_unrecognized_when_disabled(
        self, client: Any, alice: User
    ) -> None:
        status, body = await preview(client, alice, "http://127.0.0.1/")
        assert (status, body["errcode"]) == (404, "M_UNRECOGNIZED")
