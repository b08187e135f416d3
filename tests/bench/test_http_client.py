"""The driver's HTTP client against real servers: aiohttp (Ranvier's server library,
Content-Length bodies) and a hand-written one for what Twisted (Synapse) may send:
chunked bodies, split across reads, and `Connection: close`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
import pytest
from aiohttp import web

from bench.http_client import HttpClient, HttpError


@pytest.fixture
async def aiohttp_server_url() -> AsyncIterator[str]:
    peers: list[object] = []

    async def echo(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        return web.json_response({
            "method": request.method, "path": request.path, "query": dict(request.query),
            "auth": request.headers.get("Authorization"),
            "body": (await request.read()).decode(), "connections": len(set(peers)),
        }, status=201 if request.method == "PUT" else 200)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_requests_and_answers_round_trip(aiohttp_server_url: str) -> None:
    client = HttpClient(aiohttp_server_url)
    status, data = await client.request("PUT", "/a/b?x=1%202", b'{"k": 1}',
                                        {"Authorization": "Bearer t"})
    reply = orjson.loads(data)
    assert status == 201
    assert reply["method"] == "PUT" and reply["path"] == "/a/b"
    assert reply["query"] == {"x": "1 2"} and reply["auth"] == "Bearer t"
    assert reply["body"] == '{"k": 1}'
    status, data = await client.request("GET", "/c")
    assert status == 200 and orjson.loads(data)["body"] == ""
    client.close()


async def test_one_connection_is_kept_alive_for_sequential_requests(
    aiohttp_server_url: str,
) -> None:
    client = HttpClient(aiohttp_server_url)
    for _ in range(5):
        _, data = await client.request("GET", "/")
    assert orjson.loads(data)["connections"] == 1
    client.close()


async def test_concurrent_requests_each_get_a_connection(aiohttp_server_url: str) -> None:
    client = HttpClient(aiohttp_server_url)
    replies = await asyncio.gather(*(client.request("GET", f"/{n}") for n in range(4)))
    assert sorted(orjson.loads(d)["path"] for _, d in replies) == ["/0", "/1", "/2", "/3"]
    client.close()


Responder = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _raw_server(respond: Responder) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(respond, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def _read_request(reader: asyncio.StreamReader) -> None:
    await reader.readuntil(b"\r\n\r\n")


async def test_chunked_body_split_across_reads() -> None:
    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await _read_request(reader)
            except asyncio.IncompleteReadError:
                return
            for piece in (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
                          b"lo\r\n7\r\n, world\r\n", b"0\r\n\r\n"):
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(0.01)

    server, url = await _raw_server(respond)
    client = HttpClient(url)
    assert await client.request("GET", "/") == (200, b"hello, world")
    assert await client.request("GET", "/") == (200, b"hello, world")
    client.close()
    server.close()


async def test_connection_close_opens_a_new_connection() -> None:
    connections = 0

    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await _read_request(reader)
        writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nConnection: close"
                     b"\r\n\r\n{}")
        await writer.drain()
        writer.close()

    server, url = await _raw_server(respond)
    client = HttpClient(url)
    assert await client.request("GET", "/") == (404, b"{}")
    assert await client.request("GET", "/") == (404, b"{}")
    assert connections == 2
    client.close()
    server.close()


async def test_a_connection_dropped_mid_answer_fails_the_request() -> None:
    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await writer.drain()
        writer.close()

    server, url = await _raw_server(respond)
    client = HttpClient(url)
    with pytest.raises(HttpError, match="connection closed"):
        await client.request("GET", "/")
    client.close()
    server.close()
