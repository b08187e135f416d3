"""The media repository over HTTP: uploads (direct and asynchronous), downloads and
their safety headers, thumbnails, limits and errors (spec: "Content repository")."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from ranvier.server import HomeServer, create_app
from tests.integration.room_helpers import User, make_user

V1 = "/_matrix/client/v1/media"
LEGACY = "/_matrix/media/v3"
SERVER = "test.local"


def png(width: int, height: int, color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def decode(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


async def request(
    client: Any, verb: str, path: str, user: User | None = None, /, *,
    data: bytes | None = None, content_type: str | None = None, **params: Any,
) -> Any:
    headers = {"Authorization": f"Bearer {user.token}"} if user else {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = await client.request(
        verb, path, headers=headers, data=data,
        params={k: str(v) for k, v in params.items()},
    )
    await response.read()
    return response


async def upload(
    client: Any, user: User, data: bytes, content_type: str | None = "image/png",
    filename: str | None = None,
) -> str:
    """Upload; the media ID."""
    params = {"filename": filename} if filename is not None else {}
    response = await request(
        client, "POST", f"{LEGACY}/upload", user, data=data, content_type=content_type,
        **params,
    )
    assert response.status == 200, await response.text()
    content_uri = (await response.json())["content_uri"]
    assert content_uri.startswith(f"mxc://{SERVER}/")
    return content_uri.rsplit("/", 1)[1]


async def error(response: Any) -> tuple[int, str]:
    return response.status, (await response.json())["errcode"]


# --- upload and download ------------------------------------------------------------------


async def test_upload_then_download_returns_bytes_type_and_safe_headers(
    client: Any, alice: User
) -> None:
    data = png(40, 30)
    media_id = await upload(client, alice, data, "image/png", "cat.png")
    response = await request(client, "GET", f"{V1}/download/{SERVER}/{media_id}", alice)
    assert response.status == 200
    assert await response.read() == data
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"] == 'inline; filename="cat.png"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox; default-src 'none'")
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"


@pytest.mark.parametrize("content_type", ["text/html", "text/html; charset=utf-8",
                                          "image/svg+xml", "application/xhtml+xml"])
async def test_html_and_svg_are_never_served_inline(
    client: Any, alice: User, content_type: str
) -> None:
    page = b"<html><script>alert(1)</script></html>"
    media_id = await upload(client, alice, page, content_type, "page.html")
    response = await request(client, "GET", f"{V1}/download/{SERVER}/{media_id}", alice)
    assert response.headers["Content-Disposition"] == 'attachment; filename="page.html"'
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert await response.read() == page


async def test_upload_without_content_type_is_an_octet_stream_attachment(
    client: Any, alice: User
) -> None:
    response = await client.post(
        f"{LEGACY}/upload", data=b"\x00\x01",
        headers={"Authorization": f"Bearer {alice.token}", "Content-Type": ""},
    )
    media_id = (await response.json())["content_uri"].rsplit("/", 1)[1]
    response = await request(client, "GET", f"{V1}/download/{SERVER}/{media_id}", alice)
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"] == "attachment"


async def test_non_ascii_filename_uses_the_rfc_6266_extended_form(
    client: Any, alice: User
) -> None:
    media_id = await upload(client, alice, b"hi", "text/plain", 'café "☕".txt')
    response = await request(client, "GET", f"{V1}/download/{SERVER}/{media_id}", alice)
    assert response.headers["Content-Disposition"] == (
        "inline; filename*=utf-8''caf%C3%A9%20%22%E2%98%95%22.txt"
    )


async def test_file_name_in_the_path_replaces_the_uploaded_name(
    client: Any, alice: User
) -> None:
    media_id = await upload(client, alice, b"hi", "text/plain", "a.txt")
    response = await request(
        client, "GET", f"{V1}/download/{SERVER}/{media_id}/other%20name.txt", alice
    )
    assert response.headers["Content-Disposition"] == 'inline; filename="other name.txt"'


async def test_media_config_reports_the_upload_limit(client: Any, alice: User) -> None:
    for path in (f"{V1}/config", f"{LEGACY}/config"):
        response = await request(client, "GET", path, alice)
        assert await response.json() == {"m.upload.size": 50 * 1024 * 1024}


class TestUploadLimit:
    @pytest.fixture
    def config_overrides(self) -> dict[str, Any]:
        return {"max_upload_size": "1K"}

    async def test_upload_over_max_upload_size_is_refused_and_stores_nothing(
        self, client: Any, server: HomeServer, alice: User
    ) -> None:
        response = await request(
            client, "POST", f"{LEGACY}/upload", alice, data=b"x" * 1025,
            content_type="text/plain",
        )
        assert await error(response) == (413, "M_TOO_LARGE")
        assert not [p for p in Path(server.config.media_store_path).rglob("*") if p.is_file()]
        assert await upload(client, alice, b"x" * 1024, "text/plain")

    async def test_streamed_upload_without_length_is_cut_at_the_limit(
        self, client: Any, alice: User
    ) -> None:
        async def body() -> Any:
            for _ in range(4):
                yield b"x" * 512

        response = await client.post(
            f"{LEGACY}/upload", data=body(),
            headers={"Authorization": f"Bearer {alice.token}"},
        )
        assert await error(response) == (413, "M_TOO_LARGE")


class TestUploadAboveJsonLimit:
    @pytest.fixture
    def config_overrides(self) -> dict[str, Any]:
        return {"max_request_size": "1K", "max_upload_size": "8K"}

    async def test_uploads_are_limited_by_max_upload_size_not_max_request_size(
        self, client: Any, alice: User
    ) -> None:
        data = b"y" * 6000
        media_id = await upload(client, alice, data, "text/plain")
        response = await request(client, "GET", f"{V1}/download/{SERVER}/{media_id}", alice)
        assert await response.read() == data


async def test_media_endpoints_require_an_access_token(client: Any, alice: User) -> None:
    media_id = await upload(client, alice, png(10, 10))
    calls = [
        ("GET", f"{V1}/download/{SERVER}/{media_id}"),
        ("GET", f"{V1}/download/{SERVER}/{media_id}/x.png"),
        ("GET", f"{V1}/thumbnail/{SERVER}/{media_id}?width=32&height=32"),
        ("GET", f"{V1}/config"),
        ("POST", f"{LEGACY}/upload"),
        ("POST", "/_matrix/media/v1/create"),
        ("PUT", f"{LEGACY}/upload/{SERVER}/{media_id}"),
    ]
    for method, path in calls:
        response = await request(client, method, path, data=b"x")
        assert await error(response) == (401, "M_MISSING_TOKEN"), path


async def test_unknown_and_remote_media_are_not_found(client: Any, alice: User) -> None:
    for path in (
        f"{V1}/download/{SERVER}/doesNotExist",
        f"{V1}/download/other.example/abcdef",
        f"{V1}/thumbnail/{SERVER}/doesNotExist?width=32&height=32",
    ):
        response = await request(client, "GET", path, alice)
        assert await error(response) == (404, "M_NOT_FOUND"), path


async def test_bad_parameters_are_refused_with_the_parameter_named(
    client: Any, alice: User
) -> None:
    media_id = await upload(client, alice, png(10, 10))
    thumb = f"{V1}/thumbnail/{SERVER}/{media_id}"
    cases = [
        (f"{V1}/download/{SERVER}/bad.id", {}, "M_INVALID_PARAM", "mediaId"),
        (thumb, {"width": "x", "height": 32}, "M_INVALID_PARAM", "width"),
        (thumb, {"width": 0, "height": 32}, "M_INVALID_PARAM", "width"),
        (thumb, {"width": 32}, "M_MISSING_PARAM", "height"),
        (thumb, {"width": 32, "height": 32, "method": "zoom"}, "M_INVALID_PARAM", "method"),
        (thumb, {"width": 32, "height": 32, "animated": "yes"}, "M_INVALID_PARAM", "animated"),
        (f"{V1}/download/{SERVER}/{media_id}", {"timeout_ms": "soon"}, "M_INVALID_PARAM",
         "timeout_ms"),
    ]
    for path, params, errcode, name in cases:
        response = await request(client, "GET", path, alice, **params)
        body = await response.json()
        assert (response.status, body["errcode"]) == (400, errcode), (path, params)
        assert name in body["error"]
    response = await request(
        client, "POST", f"{LEGACY}/upload", alice, data=b"x", content_type="not a type"
    )
    assert await error(response) == (400, "M_INVALID_PARAM")


# --- thumbnails -------------------------------------------------------------------------------


async def thumbnail(client: Any, user: User, media_id: str, **params: Any) -> Image.Image:
    response = await request(client, "GET", f"{V1}/thumbnail/{SERVER}/{media_id}", user,
                             **params)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Disposition"].startswith("inline; filename=")
    image = decode(await response.read())
    assert response.headers["Content-Type"] == Image.MIME[image.format]
    return image


async def test_crop_thumbnail_is_the_nearest_configured_size_at_least_as_big(
    client: Any, alice: User
) -> None:
    media_id = await upload(client, alice, png(400, 300))
    image = await thumbnail(client, alice, media_id, width=50, height=50, method="crop")
    assert image.size == (96, 96)
    image = await thumbnail(client, alice, media_id, width=32, height=32, method="crop")
    assert image.size == (32, 32)


async def test_scale_thumbnail_keeps_the_aspect_ratio(client: Any, alice: User) -> None:
    media_id = await upload(client, alice, png(1000, 500))
    image = await thumbnail(client, alice, media_id, width=300, height=200, method="scale")
    assert image.size == (320, 160)


async def test_thumbnails_never_upscale(client: Any, alice: User) -> None:
    media_id = await upload(client, alice, png(20, 10))
    assert (await thumbnail(client, alice, media_id, width=96, height=96, method="crop")
            ).size == (10, 10)
    assert (await thumbnail(client, alice, media_id, width=640, height=480, method="scale")
            ).size == (20, 10)


async def test_jpeg_thumbnails_are_jpeg(client: Any, alice: User) -> None:
    out = io.BytesIO()
    Image.new("RGB", (200, 200), "blue").save(out, "JPEG")
    media_id = await upload(client, alice, out.getvalue(), "image/jpeg")
    image = await thumbnail(client, alice, media_id, width=32, height=32, method="crop")
    assert (image.format, image.size) == ("JPEG", (32, 32))


async def test_thumbnail_is_generated_once_and_then_served_from_storage(
    client: Any, server: HomeServer, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    media_id = await upload(client, alice, png(400, 300))
    first = await request(client, "GET", f"{V1}/thumbnail/{SERVER}/{media_id}", alice,
                          width=96, height=96, method="crop")
    assert await server.stores.media.get_thumbnail(media_id, 96, 96, "crop", False)

    def fail(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("thumbnail generated twice")

    monkeypatch.setattr("ranvier.services.media.make_thumbnail", fail)
    second = await request(client, "GET", f"{V1}/thumbnail/{SERVER}/{media_id}", alice,
                           width=96, height=96, method="crop")
    assert second.status == 200
    assert await second.read() == await first.read()


def animated_gif(frames: int) -> bytes:
    images = [Image.new("RGB", (120, 80), c) for c in ("red", "green", "blue")[:frames]]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


async def test_animated_thumbnail_only_when_asked_for(client: Any, alice: User) -> None:
    media_id = await upload(client, alice, animated_gif(3), "image/gif")
    moving = await thumbnail(client, alice, media_id, width=32, height=32, method="crop",
                             animated="true")
    assert (moving.format, moving.n_frames, moving.size) == ("WEBP", 3, (32, 32))
    still = await thumbnail(client, alice, media_id, width=32, height=32, method="crop")
    assert (still.format, getattr(still, "n_frames", 1)) == ("PNG", 1)


async def test_thumbnail_of_content_that_is_not_an_image_is_refused(
    client: Any, alice: User
) -> None:
    for data, content_type in ((b"%PDF-1.4", "application/pdf"), (b"not png", "image/png")):
        media_id = await upload(client, alice, data, content_type)
        response = await request(client, "GET", f"{V1}/thumbnail/{SERVER}/{media_id}", alice,
                                 width=32, height=32)
        assert await error(response) == (400, "M_UNKNOWN"), content_type


class TestThumbnailOptions:
    @pytest.fixture
    def config_overrides(self) -> dict[str, Any]:
        return {"dynamic_thumbnails": True, "max_image_pixels": 100_000}

    async def test_dynamic_thumbnails_have_exactly_the_requested_size(
        self, client: Any, alice: User
    ) -> None:
        media_id = await upload(client, alice, png(300, 300))
        image = await thumbnail(client, alice, media_id, width=50, height=40, method="crop")
        assert image.size == (50, 40)

    async def test_images_over_max_image_pixels_are_not_thumbnailed(
        self, client: Any, alice: User
    ) -> None:
        media_id = await upload(client, alice, png(400, 400))
        response = await request(client, "GET", f"{V1}/thumbnail/{SERVER}/{media_id}", alice,
                                 width=32, height=32)
        assert await error(response) == (413, "M_TOO_LARGE")


# --- asynchronous uploads ------------------------------------------------------------------


async def create(client: Any, user: User) -> Any:
    return await request(client, "POST", "/_matrix/media/v1/create", user)


async def created_media_id(client: Any, user: User) -> str:
    response = await create(client, user)
    assert response.status == 200
    return (await response.json())["content_uri"].rsplit("/", 1)[1]


async def put(client: Any, user: User, media_id: str, data: bytes, **params: Any) -> Any:
    return await request(client, "PUT", f"{LEGACY}/upload/{SERVER}/{media_id}", user,
                         data=data, content_type="text/plain", **params)


async def test_create_then_put_then_download(
    client: Any, server: HomeServer, alice: User
) -> None:
    before = server.clock.time_ms()
    response = await create(client, alice)
    body = await response.json()
    day = 24 * 3600 * 1000
    assert before + day <= body["unused_expires_at"] <= server.clock.time_ms() + day
    media_id = body["content_uri"].rsplit("/", 1)[1]
    response = await put(client, alice, media_id, b"later", filename="l.txt")
    assert (response.status, await response.json()) == (200, {})
    response = await request(client, "GET", f"{V1}/download/{SERVER}/{media_id}", alice)
    assert await response.read() == b"later"
    assert response.headers["Content-Disposition"] == 'inline; filename="l.txt"'


async def test_created_media_can_be_uploaded_only_once_and_only_by_its_creator(
    client: Any, server: HomeServer, alice: User
) -> None:
    bob = await make_user(server, "bob")
    media_id = await created_media_id(client, alice)
    assert await error(await put(client, bob, media_id, b"bob's")) == (403, "M_FORBIDDEN")
    assert (await put(client, alice, media_id, b"first")).status == 200
    response = await put(client, alice, media_id, b"second")
    assert await error(response) == (409, "M_CANNOT_OVERWRITE_MEDIA")
    response = await request(client, "GET", f"{V1}/download/{SERVER}/{media_id}", alice)
    assert await response.read() == b"first"


async def test_racing_uploads_to_one_media_id_have_exactly_one_winner(
    client: Any, server: HomeServer, alice: User
) -> None:
    media_id = await created_media_id(client, alice)
    bodies = [f"upload {i}".encode() for i in range(4)]
    responses = await asyncio.gather(*(put(client, alice, media_id, b) for b in bodies))
    statuses = sorted(r.status for r in responses)
    assert statuses == [200, 409, 409, 409]
    winner = bodies[[r.status for r in responses].index(200)]
    response = await request(client, "GET", f"{V1}/download/{SERVER}/{media_id}", alice)
    assert await response.read() == winner
    files = [p for p in Path(server.config.media_store_path).rglob("*") if p.is_file()]
    assert [f.read_bytes() for f in files] == [winner]


async def test_put_to_a_media_id_never_created_is_not_found(client: Any, alice: User) -> None:
    assert await error(await put(client, alice, "neverCreated", b"x")) == (404, "M_NOT_FOUND")
    direct = await upload(client, alice, b"x", "text/plain")
    response = await put(client, alice, direct, b"y")
    assert await error(response) == (409, "M_CANNOT_OVERWRITE_MEDIA")


async def test_download_of_pending_media_times_out_as_not_yet_uploaded(
    client: Any, alice: User
) -> None:
    media_id = await created_media_id(client, alice)
    response = await request(client, "GET", f"{V1}/download/{SERVER}/{media_id}", alice,
                             timeout_ms=100)
    assert await error(response) == (504, "M_NOT_YET_UPLOADED")


async def test_waiting_download_gets_the_content_once_uploaded(
    client: Any, alice: User
) -> None:
    media_id = await created_media_id(client, alice)
    waiting = asyncio.create_task(request(
        client, "GET", f"{V1}/download/{SERVER}/{media_id}", alice, timeout_ms=10_000
    ))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    assert (await put(client, alice, media_id, b"arrived")).status == 200
    response = await asyncio.wait_for(waiting, 5)
    assert (response.status, await response.read()) == (200, b"arrived")


class TestPendingLimits:
    @pytest.fixture
    def config_overrides(self) -> dict[str, Any]:
        return {"max_pending_media_uploads": 2, "unused_expiration_time": 200}

    async def test_pending_uploads_per_user_are_limited(
        self, client: Any, server: HomeServer, alice: User
    ) -> None:
        await created_media_id(client, alice)
        await created_media_id(client, alice)
        response = await create(client, alice)
        assert await error(response) == (429, "M_LIMIT_EXCEEDED")
        assert 0 < (await response.json())["retry_after_ms"] <= 200
        bob = await make_user(server, "bob")
        assert (await create(client, bob)).status == 200

    async def test_expired_media_ids_cannot_be_uploaded_and_free_their_slot(
        self, client: Any, alice: User
    ) -> None:
        media_id = await created_media_id(client, alice)
        await created_media_id(client, alice)
        await asyncio.sleep(0.3)
        assert await error(await put(client, alice, media_id, b"late")) == (404, "M_NOT_FOUND")
        response = await request(client, "GET", f"{V1}/download/{SERVER}/{media_id}", alice)
        assert await error(response) == (404, "M_NOT_FOUND")
        assert (await create(client, alice)).status == 200


# --- legacy endpoints and listeners ---------------------------------------------------------


async def test_legacy_endpoints_do_not_serve_media_uploaded_with_authenticated_media(
    client: Any, alice: User
) -> None:
    media_id = await upload(client, alice, png(100, 100))
    for path in (f"{LEGACY}/download/{SERVER}/{media_id}",
                 f"{LEGACY}/thumbnail/{SERVER}/{media_id}?width=32&height=32"):
        assert await error(await request(client, "GET", path)) == (404, "M_NOT_FOUND")


class TestLegacyMedia:
    @pytest.fixture
    def config_overrides(self) -> dict[str, Any]:
        return {"enable_authenticated_media": False}

    async def test_legacy_endpoints_serve_media_without_a_token(
        self, client: Any, alice: User
    ) -> None:
        data = png(100, 100)
        media_id = await upload(client, alice, data, filename="x.png")
        for prefix in (LEGACY, "/_matrix/media/r0"):
            response = await request(client, "GET", f"{prefix}/download/{SERVER}/{media_id}")
            assert (response.status, await response.read()) == (200, data)
            assert response.headers["Content-Disposition"] == 'inline; filename="x.png"'
        response = await request(client, "GET", f"{LEGACY}/thumbnail/{SERVER}/{media_id}",
                                 width=32, height=32, method="crop")
        assert decode(await response.read()).size == (32, 32)


@pytest.mark.parametrize("resources", [{"media"}, {"client"}, {"client", "media"}])
async def test_media_is_served_by_media_and_client_listeners(
    server: HomeServer, aiohttp_client: Any, resources: set[str]
) -> None:
    client = await aiohttp_client(create_app(server, frozenset(resources)))
    alice = await make_user(server, "alice")
    media_id = await upload(client, alice, b"x", "text/plain")
    response = await request(client, "GET", f"{V1}/download/{SERVER}/{media_id}", alice)
    assert await response.read() == b"x"
