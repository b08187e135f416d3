"""The media repository through real client libraries, matrix-nio and mautrix-python,
against a running Ranvier whose `max_upload_size` is small: uploads come back
byte-identical with their content type, thumbnails have the sizes the spec's methods
promise (decoded with Pillow), an upload over the limit gets the client's M_TOO_LARGE,
and an uploaded avatar shows in the profile and in what the other user syncs.

nio uploads with the legacy POST /_matrix/media/v3/upload and downloads through the
authenticated /_matrix/client/v1/media (access token in the query string); mautrix
downloads through /_matrix/client/v1/media (Authorization header) because /versions
lists v1.11, and reads the limit from the legacy /_matrix/media/v3/config.
"""

from __future__ import annotations

import functools
import io
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from mautrix.errors import MTooLarge
from mautrix.types import Membership, RoomCreatePreset
from nio import (
    ContentRepositoryConfigResponse,
    MemoryDownloadResponse,
    ProfileGetResponse,
    ProfileSetAvatarResponse,
    RegisterResponse,
    ResizingMethod,
    ThumbnailResponse,
    UploadError,
    UploadResponse,
)
from PIL import Image

from tests.interop import conftest
from tests.interop.conftest import RanvierProcess
from tests.interop.interop_user import alice_and_bob
from tests.interop.mautrix_helpers import MautrixUser
from tests.interop.nio_helpers import NioUser, ok

pytestmark = pytest.mark.interop

PASSWORD = "correct horse battery staple"
#: Small enough to exceed cheaply, large enough for the test image.
MAX_UPLOAD = 64 * 1024
TEXT = "Ranvier's media repository, through a real client.\nÀ bientôt ✓\n".encode()


def png(width: int = 800, height: int = 400) -> bytes:
    """A PNG with a pattern (so a thumbnail is real work), 2:1 so `scale` shows it keeps
    the aspect ratio and `crop` that it does not."""
    image = Image.new("RGB", (width, height))
    image.putdata([((x * 7) % 256, (y * 5) % 256, (x ^ y) % 256)
                   for y in range(height) for x in range(width)])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def image_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()  # decodes the whole image: a truncated thumbnail fails here
        return image.size


@pytest.fixture(scope="module")
def picture() -> bytes:
    data = png()
    assert len(data) < MAX_UPLOAD, "the test image must fit the configured limit"
    return data


@pytest.fixture
def small_upload_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes `ranvier_server` write `max_upload_size: MAX_UPLOAD` into its config (the
    fixture takes no overrides; this wraps the config writer it calls)."""
    write_config = conftest.write_config

    def write_small_limit_config(folder: Path, port: int, database: dict[str, Any]) -> Path:
        path = write_config(folder, port, database)
        config = yaml.safe_load(path.read_text())
        config["max_upload_size"] = MAX_UPLOAD
        path.write_text(yaml.safe_dump(config))
        return path

    monkeypatch.setattr(conftest, "write_config", write_small_limit_config)


@pytest.fixture
def server(small_upload_limit: None, ranvier_server: RanvierProcess) -> Iterator[RanvierProcess]:
    yield ranvier_server


@pytest.fixture
async def nio_user(server: RanvierProcess) -> AsyncIterator[NioUser]:
    user = NioUser(server.base_url, f"nio{secrets.token_hex(3)}")
    try:
        ok(await user.client.register(user.localpart, PASSWORD, "nio"), RegisterResponse)
        yield user
    finally:
        await user.close()


@pytest.fixture
async def mautrix_users(server: RanvierProcess) -> AsyncIterator[tuple[MautrixUser, MautrixUser]]:
    new_user = functools.partial(MautrixUser, server.base_url)
    async with alice_and_bob(new_user, PASSWORD) as pair:
        yield pair


async def nio_upload(user: NioUser, data: bytes, content_type: str, filename: str) -> str:
    response, _ = await user.client.upload(
        io.BytesIO(data), content_type=content_type, filename=filename, filesize=len(data)
    )
    content_uri = ok(response, UploadResponse).content_uri
    assert content_uri.startswith("mxc://"), content_uri
    return content_uri


# --- matrix-nio -----------------------------------------------------------------------


async def test_nio_uploads_come_back_identical_with_type_and_name(
    nio_user: NioUser, picture: bytes
) -> None:
    for data, content_type, filename in (
        (picture, "image/png", "pattern.png"),
        (TEXT, "text/plain", "notes.txt"),
    ):
        mxc = await nio_upload(nio_user, data, content_type, filename)
        download = ok(await nio_user.client.download(mxc), MemoryDownloadResponse)
        assert download.body == data
        assert download.content_type.split(";")[0] == content_type
        assert download.filename == filename


async def test_nio_thumbnails_crop_to_the_size_and_scale_within_it(
    nio_user: NioUser, picture: bytes
) -> None:
    mxc = await nio_upload(nio_user, picture, "image/png", "pattern.png")
    server_name, media_id = mxc.removeprefix("mxc://").split("/")
    crop = ok(await nio_user.client.thumbnail(server_name, media_id, 96, 96, ResizingMethod.crop),
              ThumbnailResponse)
    assert crop.content_type in ("image/png", "image/jpeg")
    assert image_size(crop.body) == (96, 96)
    scale = ok(await nio_user.client.thumbnail(server_name, media_id, 320, 240,
                                               ResizingMethod.scale), ThumbnailResponse)
    assert image_size(scale.body) == (320, 160)  # fits 320x240, keeps 2:1


@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "chunked"])
async def test_nio_upload_over_the_limit_is_too_large(nio_user: NioUser, announced: bool) -> None:
    config = ok(await nio_user.client.content_repository_config(),
                ContentRepositoryConfigResponse)
    assert config.upload_size == MAX_UPLOAD
    # Without `filesize` nio streams the body chunked: the server must count as it reads.
    response, _ = await nio_user.client.upload(
        io.BytesIO(b"x" * (MAX_UPLOAD + 1)), content_type="application/octet-stream",
        filename="big.bin", filesize=MAX_UPLOAD + 1 if announced else None,
    )
    assert isinstance(response, UploadError), f"an oversized upload was accepted: {response}"
    assert response.status_code == "M_TOO_LARGE"


async def test_nio_avatar_is_an_uploaded_mxc_in_the_profile(
    nio_user: NioUser, picture: bytes
) -> None:
    mxc = await nio_upload(nio_user, picture, "image/png", "me.png")
    ok(await nio_user.client.set_avatar(mxc), ProfileSetAvatarResponse)
    profile = ok(await nio_user.client.get_profile(nio_user.user_id), ProfileGetResponse)
    assert profile.avatar_url == mxc


# --- mautrix-python -------------------------------------------------------------------


async def test_mautrix_uploads_come_back_identical(
    mautrix_users: tuple[MautrixUser, MautrixUser], picture: bytes
) -> None:
    alice, bob = mautrix_users
    for data, mime_type, filename in (
        (picture, "image/png", "pattern.png"),
        (TEXT, "text/plain", "notes.txt"),
    ):
        mxc = await alice.client.upload_media(data, mime_type=mime_type, filename=filename)
        assert await bob.client.download_media(mxc) == data  # any user may download


async def test_mautrix_async_upload_is_awaited_by_the_download(
    mautrix_users: tuple[MautrixUser, MautrixUser],
) -> None:
    # create_mxc (POST /_matrix/media/v1/create), then PUT .../upload/{server}/{id} in
    # the background: the download waits for the content (timeout_ms).
    alice, bob = mautrix_users
    mxc = await alice.client.upload_media(
        TEXT, mime_type="text/plain", filename="later.txt", async_upload=True
    )
    assert await bob.client.download_media(mxc, timeout_ms=10_000) == TEXT


async def test_mautrix_thumbnails_crop_to_the_size_and_scale_within_it(
    mautrix_users: tuple[MautrixUser, MautrixUser], picture: bytes
) -> None:
    alice, _ = mautrix_users
    mxc = await alice.client.upload_media(picture, mime_type="image/png", filename="p.png")
    crop = await alice.client.download_thumbnail(mxc, 32, 32, resize_method="crop")
    assert image_size(crop) == (32, 32)
    scale = await alice.client.download_thumbnail(mxc, 640, 480, resize_method="scale")
    assert image_size(scale) == (640, 320)  # fits 640x480, keeps 2:1


async def test_mautrix_upload_over_the_limit_is_too_large(
    mautrix_users: tuple[MautrixUser, MautrixUser],
) -> None:
    alice, _ = mautrix_users
    config = await alice.client.get_media_repo_config()
    assert config.upload_size == MAX_UPLOAD
    with pytest.raises(MTooLarge):
        await alice.client.upload_media(b"x" * (MAX_UPLOAD + 1),
                                        mime_type="application/octet-stream")


async def test_mautrix_avatar_reaches_the_profile_and_the_room(
    mautrix_users: tuple[MautrixUser, MautrixUser], picture: bytes
) -> None:
    alice, bob = mautrix_users
    room = await alice.client.create_room(preset=RoomCreatePreset.PUBLIC)
    await bob.client.join_room_by_id(room)
    mxc = await alice.client.upload_media(picture, mime_type="image/png", filename="me.png")
    await alice.client.set_avatar_url(mxc)
    assert await bob.client.get_avatar_url(alice.user_id) == mxc
    assert (await bob.client.get_profile(alice.user_id)).avatar_url == mxc
    # The profile change is carried into alice's member event, which bob syncs.
    member = await bob.wait_for("alice's member event with her avatar", lambda: next((
        e for e in reversed(bob.of_type(room, "m.room.member"))
        if e.state_key == alice.user_id and e.content.avatar_url == mxc
    ), None))
    assert member.content.membership == Membership.JOIN
    assert await bob.client.download_media(member.content.avatar_url) == picture
