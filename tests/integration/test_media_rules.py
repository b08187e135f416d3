"""The media repository's building blocks on their own: file storage, the address
policy of URL previews, thumbnail size choice, dispositions and HTML parsing."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from ranvier.api.media.common import content_disposition
from ranvier.config import DEFAULT_THUMBNAIL_SIZES, MediaConfig, ThumbnailSize
from ranvier.services.media_storage import FileMediaStorage
from ranvier.services.media_thumbnails import choose_size, scaled_dimensions
from ranvier.services.url_preview import AddressPolicy
from ranvier.services.url_preview_html import decode_html, parse_open_graph


async def test_file_storage_round_trip_leaves_no_temporary_files(tmp_path: Path) -> None:
    storage = FileMediaStorage(tmp_path)
    await storage.put("local_content/ab/cd/efg/123", b"one")
    await storage.put("local_content/ab/cd/efg/123", b"two")
    assert await storage.get("local_content/ab/cd/efg/123") == b"two"
    assert await storage.exists("local_content/ab/cd/efg/123")
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["123"]
    await storage.delete("local_content/ab/cd/efg/123")
    await storage.delete("local_content/ab/cd/efg/123")
    assert await storage.get("local_content/ab/cd/efg/123") is None
    assert not await storage.exists("local_content/ab/cd/efg/123")


async def test_file_storage_refuses_keys_outside_its_folder(tmp_path: Path) -> None:
    storage = FileMediaStorage(tmp_path / "store")
    with pytest.raises(ValueError):
        await storage.put("../escaped", b"x")
    assert not (tmp_path / "escaped").exists()


def test_default_blacklist_blocks_private_addresses_and_whitelist_wins() -> None:
    config = MediaConfig()
    policy = AddressPolicy(config.url_preview_ip_range_blacklist, ())
    for address in ("127.0.0.1", "10.1.2.3", "192.168.1.1", "172.16.0.1", "169.254.169.254",
                    "::1", "fe80::1%eth0", "fd00::1", "::ffff:10.0.0.1", "0.0.0.0", "::"):
        assert not policy.allows(address), address
    for address in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"):
        assert policy.allows(address), address
    whitelisted = AddressPolicy(
        config.url_preview_ip_range_blacklist, (ipaddress.ip_network("10.0.0.0/24"),)
    )
    assert whitelisted.allows("10.0.0.7") and not whitelisted.allows("10.0.1.7")


@pytest.mark.parametrize(("request_size", "chosen"), [
    ((32, 32, "crop"), (32, 32, "crop")),
    ((33, 20, "crop"), (96, 96, "crop")),
    ((500, 500, "crop"), (96, 96, "crop")),
    ((100, 100, "scale"), (320, 240, "scale")),
    ((700, 500, "scale"), (800, 600, "scale")),
    ((2000, 2000, "scale"), (800, 600, "scale")),
])
def test_choose_size_picks_the_smallest_configured_size_not_below_the_request(
    request_size: tuple[int, int, str], chosen: tuple[int, int, str]
) -> None:
    assert choose_size(DEFAULT_THUMBNAIL_SIZES, *request_size) == ThumbnailSize(*chosen)


def test_choose_size_falls_back_to_another_method_when_none_is_configured() -> None:
    only_scale = (ThumbnailSize(320, 240, "scale"),)
    assert choose_size(only_scale, 32, 32, "crop") == ThumbnailSize(320, 240, "scale")


def test_scaled_dimensions_fit_the_box_and_never_upscale() -> None:
    assert scaled_dimensions((1000, 500), (320, 240)) == (320, 160)
    assert scaled_dimensions((500, 1000), (320, 240)) == (120, 240)
    assert scaled_dimensions((100, 50), (320, 240)) == (100, 50)


@pytest.mark.parametrize(("content_type", "disposition"), [
    ("image/png", "inline"), ("IMAGE/JPEG", "inline"), ("text/plain; charset=utf-8", "inline"),
    ("video/mp4", "inline"), ("text/html", "attachment"), ("image/svg+xml", "attachment"),
    ("application/pdf", "attachment"), ("application/octet-stream", "attachment"),
    ("text/javascript", "attachment"),
])
def test_only_the_spec_safe_list_is_served_inline(content_type: str, disposition: str) -> None:
    assert content_disposition(content_type, None) == disposition


def test_file_names_that_could_break_the_header_are_percent_encoded() -> None:
    assert content_disposition("text/plain", 'a";b.txt') == (
        "inline; filename*=utf-8''a%22%3Bb.txt")
    assert content_disposition("text/plain", "a\\b") == "inline; filename*=utf-8''a%5Cb"
    assert content_disposition("text/plain", "ok name.txt") == 'inline; filename="ok name.txt"'


def test_open_graph_parsing_prefers_og_tags_and_resolves_the_image_url() -> None:
    html = """<html><head><title>T</title>
      <meta name="og:title" content=" Named ">
      <meta property="og:title" content="Second">
      <meta property="og:image" content="img/a.png">
      <meta name="description" content="D"></head></html>"""
    assert parse_open_graph(html, "https://example.org/dir/page") == {
        "og:title": "Named", "og:image": "https://example.org/dir/img/a.png",
        "og:description": "D",
    }


def test_html_is_decoded_with_the_declared_charset() -> None:
    body = '<meta charset="iso-8859-1"><title>caf\u00e9</title>'.encode("latin-1")
    assert "café" in decode_html(body, None)
    assert "café" in decode_html("café".encode(), "utf-8")
    assert decode_html(b"\xff<title>x</title>", "no-such-charset").endswith("<title>x</title>")
