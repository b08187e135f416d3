"""matrix-js-sdk (a real JavaScript client, run by Node 22 from tests/interop/js) against
a running Ranvier: the same life of rooms as the nio scenario, driven by
tests/interop/js/scenario.mjs, which reports each step it passed as JSON."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.interop.conftest import RanvierProcess

pytestmark = pytest.mark.interop

JS_DIR = Path(__file__).resolve().parent / "js"
NODE = JS_DIR / "node_modules" / ".bin" / "node"
ALL_STEPS = [
    "register and start two clients",
    "public room with an alias, joined by alias",
    "private room: invite, then join",
    "messages both ways",
    "edit (m.replace)",
    "reaction (m.annotation)",
    "reply in a thread (m.thread)",
    "redaction",
    "history, paginated backwards",
    "typing notifications",
    "read receipts",
    "power levels",
    "kick",
    "ban: rejoin, banned, cannot rejoin",
    "leave and forget",
]


def test_two_js_sdk_clients_share_the_life_of_rooms(ranvier_server: RanvierProcess) -> None:
    if not NODE.exists():
        pytest.fail(f"{NODE} is missing: run `npm ci` in {JS_DIR} (scripts/test does)")
    result = subprocess.run(
        [str(NODE), "scenario.mjs", "--base-url", ranvier_server.base_url,
         "--server-name", ranvier_server.server_name],
        cwd=JS_DIR, capture_output=True, text=True, timeout=300,
    )
    lines = result.stdout.strip().splitlines()
    assert lines, f"scenario.mjs printed nothing (exit {result.returncode}):\n{result.stderr}"
    report = json.loads(lines[-1])
    assert report["ok"], (
        f"matrix-js-sdk failed at step {report['step']!r}: {report['error']}\n"
        f"passed steps: {report['steps']}\nstderr:\n{result.stderr[-3000:]}\n"
        f"server log:\n{ranvier_server.log_tail()}"
    )
    assert result.returncode == 0
    assert report["steps"] == ALL_STEPS
