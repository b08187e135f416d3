"""Nothing acknowledged is lost: the real server process is killed (SIGKILL) while
clients send messages concurrently, restarted, and every event ID it answered with must
still be there."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import aiohttp
import yaml

# The console script installed beside this interpreter (pip install -e .).
RANVIER = [str(Path(sys.executable).parent / "ranvier")]
SENDERS = 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _configure(tmp_path: Path) -> tuple[Path, int]:
    config_path = tmp_path / "homeserver.yaml"
    subprocess.run(
        [*RANVIER, "generate-config", "-H", "crash.test", "-c", str(config_path)], check=True
    )
    config = yaml.safe_load(config_path.read_text())
    port = _free_port()
    config["listeners"][0]["port"] = port
    config["rc_message"] = {"per_second": 10000, "burst_count": 10000}
    config["rc_login"] = {k: {"per_second": 1000, "burst_count": 1000}
                          for k in ("address", "account", "failed_attempts")}
    config_path.write_text(yaml.safe_dump(config))
    subprocess.run(
        [*RANVIER, "register-user", "-c", str(config_path), "-u", "crash", "-p", "pw"],
        check=True,
    )
    return config_path, port


async def _start(config_path: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [*RANVIER, "serve", "-c", str(config_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{port}/_matrix/client/versions") as r:
                    if r.status == 200:
                        return process
            await asyncio.sleep(0.05)
    process.kill()
    raise AssertionError("the server did not start")


async def test_acknowledged_events_survive_sigkill(tmp_path: Path) -> None:
    config_path, port = _configure(tmp_path)
    base = f"http://127.0.0.1:{port}/_matrix/client/v3"
    process = await _start(config_path, port)
    acknowledged: list[str] = []
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/login", json={
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": "crash"}, "password": "pw",
            }) as r:
                assert r.status == 200, await r.text()
                token = (await r.json())["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            async with http.post(f"{base}/createRoom", json={}, headers=auth) as r:
                room_id = (await r.json())["room_id"]

            async def sender(n: int) -> None:
                for i in range(10_000):
                    url = f"{base}/rooms/{quote(room_id)}/send/m.room.message/s{n}-{i}"
                    try:
                        async with http.put(url, json={"body": f"{n}/{i}"}, headers=auth) as r:
                            if r.status != 200:
                                return
                            acknowledged.append((await r.json())["event_id"])
                    except aiohttp.ClientError:
                        return  # the server died mid-request: not acknowledged

            senders = [asyncio.create_task(sender(n)) for n in range(SENDERS)]
            async with asyncio.timeout(60):
                while len(acknowledged) < 150 and not all(s.done() for s in senders):
                    await asyncio.sleep(0.01)
                os.kill(process.pid, signal.SIGKILL)
                await asyncio.gather(*senders)
    finally:
        process.kill()
        process.wait()
    assert len(acknowledged) >= 150

    process = await _start(config_path, port)
    try:
        async with aiohttp.ClientSession(headers=auth) as http:
            missing = []
            for event_id in acknowledged:
                url = f"{base}/rooms/{quote(room_id)}/event/{quote(event_id)}"
                async with http.get(url) as r:
                    if r.status != 200:
                        missing.append(event_id)
            assert missing == []
            # and the room still works after the restart
            async with http.put(f"{base}/rooms/{quote(room_id)}/send/m.room.message/after",
                                json={"body": "after"}) as r:
                assert r.status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)

