"""What the driver itself costs per request: PUTs of a message body, one at a time,
against a bare aiohttp server (in a process of its own) that answers as a send does,
with aiohttp's client and with the driver's (bench/http_client.py). Prints the round
trip and the driver's CPU per request for each.

    .venv/bin/python -m bench.driver_cost [requests]
"""

from __future__ import annotations

import asyncio
import resource
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import aiohttp
import orjson
import uvloop

from bench.http_client import HttpClient
from bench.servers import free_port

_SERVER = """
import sys, orjson, uvloop
from aiohttp import web
async def send(request):
    await request.read()
    return web.Response(body=orjson.dumps({"event_id": "$" + "a" * 43}),
                        content_type="application/json")
app = web.Application()
app.router.add_put("/send/{txn}", send)
uvloop.install()
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""
_BODY = {"msgtype": "m.text", "body": "message 1"}
_HEADERS = {"Authorization": "Bearer token"}


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _measure(name: str, put: Callable[[int], Awaitable[None]], requests: int) -> None:
    for n in range(200):  # connections open, code warm
        await put(n)
    cpu, start = _cpu_s(), time.perf_counter()
    for n in range(requests):
        await put(n)
    wall, cpu = time.perf_counter() - start, _cpu_s() - cpu
    print(f"{name:>11}: {wall / requests * 1e6:5.0f} us per round trip,"
          f" {cpu / requests * 1e6:4.0f} us of driver CPU per request")


async def main(requests: int) -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", _SERVER, str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        await asyncio.sleep(1.5)
        async with aiohttp.ClientSession() as session:
            async def aiohttp_put(n: int) -> None:
                async with session.put(f"{base}/send/{n}", json=_BODY,
                                       headers=_HEADERS) as response:
                    orjson.loads(await response.read())

            await _measure("aiohttp", aiohttp_put, requests)
        client = HttpClient(base)

        async def own_put(n: int) -> None:
            _, body = await client.request("PUT", f"/send/{n}", orjson.dumps(_BODY), _HEADERS)
            orjson.loads(body)

        await _measure("http_client", own_put, requests)
        client.close()
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
