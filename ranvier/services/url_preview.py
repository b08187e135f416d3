"""URL previews (GET /media/preview_url): fetch a page, read its OpenGraph data.

The server fetches URLs that users choose, so it must not become a way into the
private network it sits in. Every host name is resolved here and *every* address it
resolves to is checked against `url_preview_ip_range_blacklist` (unless in
`url_preview_ip_range_whitelist`) before a connection is made; the connection then
goes to the checked address, so DNS cannot answer differently the second time.
Literal IP hosts and every redirect hop are checked the same way. Bodies are read up
to `max_spider_size`. Answers are cached for an hour.
"""

from __future__ import annotations

import asyncio
import io
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from ranvier.clock import Clock
from ranvier.config import IPNetwork, MediaConfig
from ranvier.errors import MatrixError
from ranvier.services.media import MediaService
from ranvier.services.media_thumbnails import THUMBNAILABLE_TYPES
from ranvier.services.url_preview_html import decode_html, parse_open_graph
from ranvier.storage.media import MediaStore

CACHE_MS = 3_600_000
MAX_REDIRECTS = 5
FETCH_TIMEOUT_SECONDS = 20
_HTML_TYPES = ("text/html", "application/xhtml+xml")


class BlockedAddress(Exception):
    """A URL's host is, or resolves to, an address previews may not reach."""


class AddressPolicy:
    def __init__(self, blacklist: tuple[IPNetwork, ...], whitelist: tuple[IPNetwork, ...]
                 ) -> None:
        self._blacklist = blacklist
        self._whitelist = whitelist

    def allows(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%")[0])  # drop an IPv6 zone ID
        # ::ffff:127.0.0.1 is 127.0.0.1: judge the IPv4 address it carries.
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if any(ip in network for network in self._whitelist):
            return True
        return not any(ip in network for network in self._blacklist)

    def check(self, address: str) -> None:
        if not self.allows(address):
            raise BlockedAddress(f"IP address {address} is blocked for URL previews")


class _CheckingResolver(AbstractResolver):
    """Resolves like aiohttp's default resolver, then refuses the whole host if any
    of its addresses is blocked (an attacker controls which one gets tried)."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._resolver = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        for result in results:
            self._policy.check(result["host"])
        return results

    async def close(self) -> None:
        await self._resolver.close()


@dataclass(frozen=True)
class _Fetched:
    url: str
    content_type: str
    charset: str | None
    body: bytes


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_preview_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MatrixError(400, "M_INVALID_PARAM", "url must be an absolute http(s) URL")


class UrlPreviewService:
    def __init__(
        self, config: MediaConfig, clock: Clock, store: MediaStore, media: MediaService
    ) -> None:
        self._config = config
        self._clock = clock
        self._store = store
        self._media = media
        self._policy = AddressPolicy(
            config.url_preview_ip_range_blacklist, config.url_preview_ip_range_whitelist
        )

    async def preview(self, url: str, user_id: str) -> dict[str, Any]:
        """The OpenGraph data for `url`; images it names are stored as media owned by
        `user_id` and given as mxc:// URIs."""
        check_preview_url(url)
        now = self._clock.time_ms()
        cached = await self._store.get_url_preview(url, now)
        if cached is not None:
            return cached
        async with self._session() as session:
            page = await self._fetch(session, url)
            if page.content_type.startswith("image/"):
                og = await self._image_properties(page, user_id) or {}
            elif page.content_type in _HTML_TYPES:
                og = await self._html_properties(session, page, user_id)
            else:
                og = {}
        await self._store.store_url_preview(url, now, now + CACHE_MS, og)
        return og

    def _session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(resolver=_CheckingResolver(self._policy)),
            timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS),
            headers={
                "User-Agent": "Ranvier (URL preview)",
                "Accept-Language": ", ".join(self._config.url_preview_accept_language),
            },
            trust_env=False,  # a proxy from the environment would bypass the checks
        )

    async def _fetch(self, session: aiohttp.ClientSession, url: str) -> _Fetched:
        """GET `url`, following redirects by hand so every hop is checked."""
        try:
            for _ in range(MAX_REDIRECTS + 1):
                check_preview_url(url)
                host = urlsplit(url).hostname or ""
                if _is_ip_literal(host):
                    self._policy.check(host)
                async with session.get(url, allow_redirects=False) as response:
                    if response.status in (301, 302, 303, 307, 308):
                        url = urljoin(url, response.headers.get("Location", ""))
                        continue
                    if response.status != 200:
                        raise MatrixError(
                            502, "M_UNKNOWN", f"The page answered HTTP {response.status}"
                        )
                    return _Fetched(
                        str(response.url), response.content_type.lower(), response.charset,
                        await self._read_limited(response),
                    )
        except BlockedAddress as e:
            raise MatrixError(403, "M_FORBIDDEN", str(e)) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as e:
            raise MatrixError(502, "M_UNKNOWN", f"Could not fetch the URL: {e}") from None
        raise MatrixError(502, "M_UNKNOWN", "Too many redirects")

    async def _read_limited(self, response: aiohttp.ClientResponse) -> bytes:
        limit = self._config.max_spider_size
        if response.content_length is not None and response.content_length > limit:
            raise MatrixError(502, "M_TOO_LARGE", f"The content is larger than {limit} bytes")
        body = bytearray()
        async for chunk in response.content.iter_chunked(65536):
            body += chunk
            if len(body) > limit:
                raise MatrixError(502, "M_TOO_LARGE", f"The content is larger than {limit} bytes")
        return bytes(body)

    async def _html_properties(
        self, session: aiohttp.ClientSession, page: _Fetched, user_id: str
    ) -> dict[str, Any]:
        og: dict[str, Any] = parse_open_graph(decode_html(page.body, page.charset), page.url)
        image_url = og.pop("og:image", None)
        if image_url is None:
            return og
        try:
            image = await self._fetch(session, image_url)
        except MatrixError:
            return og  # a page whose image cannot be fetched still has a preview
        if image.content_type.startswith("image/"):
            og.update(await self._image_properties(image, user_id) or {})
        return og

    async def _image_properties(self, image: _Fetched, user_id: str) -> dict[str, Any] | None:
        """Store a fetched image as media; its og:image* properties (None if it is not
        an image we can read)."""
        size = await asyncio.to_thread(_image_size, image.body, image.content_type)
        if size is None:
            return None
        mxc = await self._media.upload(user_id, image.body, image.content_type, None)
        return {
            "og:image": mxc,
            "og:image:type": image.content_type,
            "og:image:width": size[0],
            "og:image:height": size[1],
            "matrix:image:size": len(image.body),
        }


def _image_size(data: bytes, content_type: str) -> tuple[int, int] | None:
    from PIL import Image, UnidentifiedImageError  # not at start-up (media_thumbnails.py)

    decoder = THUMBNAILABLE_TYPES.get(content_type)
    if decoder is None:
        return None
    try:
        with Image.open(io.BytesIO(data), formats=[decoder]) as image:
            return image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
