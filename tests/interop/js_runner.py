"""Runs a matrix-js-sdk scenario of tests/interop/js with Node against a running
Ranvier. Each script prints, as its last line, a JSON report: `ok`, the `steps` it
passed, and on failure the `step` and `error`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.interop.conftest import RanvierProcess

JS_DIR = Path(__file__).resolve().parent / "js"
NODE = JS_DIR / "node_modules" / ".bin" / "node"


def run_js_scenario(server: RanvierProcess, script: str, *args: str) -> dict[str, Any]:
    """The report of `script` (run with `--base-url` and `args`), which must have passed
    every step it reached; fails with its error, its stderr and the server's log."""
    if not NODE.exists():
        pytest.fail(f"{NODE} is missing: run `npm ci` in {JS_DIR} (scripts/test does)")
    result = subprocess.run(
        [str(NODE), script, "--base-url", server.base_url, *args],
        cwd=JS_DIR, capture_output=True, text=True, timeout=300,
    )
    lines = result.stdout.strip().splitlines()
    assert lines, f"{script} printed nothing (exit {result.returncode}):\n{result.stderr}"
    report = json.loads(lines[-1])
    assert report["ok"], (
        f"matrix-js-sdk failed at step {report['step']!r}: {report['error']}\n"
        f"passed steps: {report['steps']}\nstderr:\n{result.stderr[-3000:]}\n"
        f"server log:\n{server.log_tail()}"
    )
    assert result.returncode == 0
    return report
