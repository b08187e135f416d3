"""The load driver's HTTP/1.1 client: keep-alive connections on asyncio protocols,
nothing else. With one sender the driver and the server take turns, so every
microsecond the driver spends on a request is a microsecond the server under test is
idle; a general-purpose client (aiohttp) spent about 0.16 ms per request here, this one
about a quarter of that (docs/PERFORMANCE.md, "The driver's own cost").

Only what the two servers under test answer with is understood: a status line,
headers, and a body framed by Content-Length or chunked transfer-encoding.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import cast
from urllib.parse import urlsplit


class HttpError(Exception):
    """The connection failed or the server's answer could not be read."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection, one request at a time."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._closed = False
        # what the response being read has shown so far
        self._status = 0
        self._headers_end = -1
        self._length: int | None = None
        self._chunked = False
        self._keep_alive = True

    @property
    def usable(self) -> bool:
        return not self._closed and self._transport is not None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport instances, so no isinstance
        self._transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(HttpError(f"connection closed: {exc}"))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._waiter is None or self._waiter.done():
            return
        try:
            response = self._parse()
        except HttpError as e:
            self._waiter.set_exception(e)
            return
        if response is not None:
            self._waiter.set_result(response)

    async def request(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        assert self._transport is not None and self._waiter is None
        self._waiter = asyncio.get_running_loop().create_future()
        self._buffer.clear()
        self._headers_end = -1
        try:
            self._transport.write(head + body)
            return await self._waiter
        finally:
            self._waiter = None
            if not self._keep_alive:
                self.close()

    def close(self) -> None:
        self._closed = True
        if self._transport is not None:
            self._transport.close()

    def _parse(self) -> tuple[int, bytes] | None:
        """The whole response once it has arrived, else None."""
        if self._headers_end < 0:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return None
            self._read_head(bytes(self._buffer[:end]).decode("latin-1"))
            self._headers_end = end + 4
        if self._chunked:
            return self._chunked_body()
        if self._length is None:
            raise HttpError("response has neither Content-Length nor chunked encoding")
        start = self._headers_end
        if len(self._buffer) < start + self._length:
            return None
        return self._status, bytes(self._buffer[start : start + self._length])

    def _read_head(self, head: str) -> None:
        status_line, *lines = head.split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise HttpError(f"not an HTTP/1.x response: {status_line!r}")
        self._status = int(parts[1])
        self._length, self._chunked = None, False
        self._keep_alive = parts[0] == "HTTP/1.1"
        for line in lines:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                self._length = int(value)
            elif name == "transfer-encoding":
                self._chunked = "chunked" in value
            elif name == "connection":
                self._keep_alive = value == "keep-alive" or (
                    self._keep_alive and value != "close"
                )

    def _chunked_body(self) -> tuple[int, bytes] | None:
        body = bytearray()
        pos = self._headers_end
        while True:
            line_end = self._buffer.find(b"\r\n", pos)
            if line_end < 0:
                return None
            size = int(bytes(self._buffer[pos:line_end]).split(b";")[0], 16)
            start = line_end + 2
            if size == 0:
                # no trailers are sent by either server: the last chunk ends the body
                if len(self._buffer) < start + 2:
                    return None
                return self._status, bytes(body)
            if len(self._buffer) < start + size + 2:
                return None
            body += self._buffer[start : start + size]
            pos = start + size + 2


class HttpClient:
    """Keep-alive connections to one server, as many as there are requests in flight
    (up to `limit`); an idle one is reused before a new one is opened."""

    def __init__(self, base_url: str, limit: int = 500) -> None:
        url = urlsplit(base_url)
        self._host = url.hostname or "127.0.0.1"
        self._port = url.port or 80
        self._host_header = url.netloc
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(limit)

    async def request(
        self, method: str, target: str, body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """Send one request (`target`: path and query) and return the status and body."""
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self._host_header}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body or method in ("POST", "PUT"):
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        async with self._slots:
            conn = await self._connection()
            try:
                return await conn.request(head, body)
            except BaseException:
                conn.close()
                raise
            finally:
                if conn.usable:
                    self._idle.append(conn)

    async def _connection(self) -> _Connection:
        while self._idle:
            conn = self._idle.pop()
            if conn.usable:
                return conn
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(_Connection, self._host, self._port)
        return conn

    def close(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()
