"""Sampling a running server with py-spy while a scenario runs."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

from bench.report import top_frames


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Profile:
    """`py-spy record` on `pid` (without pausing it) until `stop()`, which returns the
    hottest frames; the raw collapsed stacks stay in `output`."""

    def __init__(self, pid: int, output: Path) -> None:
        executable = py_spy()
        if executable is None:
            raise RuntimeError("py-spy is not installed (pip install py-spy)")
        self.output = output
        output.parent.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [executable, "record", "--pid", str(pid), "--format", "raw", "--rate", "200",
             "--nonblocking", "--output", str(output)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )

    def stop(self, count: int = 12) -> dict[str, list[dict[str, object]]]:
        self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if not self.output.exists():
            return {}
        return summarize(self.output.read_text(), count)


def summarize(collapsed: str, count: int = 12) -> dict[str, list[dict[str, object]]]:
    """Where the time went: the frames with the most samples of their own (often C
    calls: SQLite, hashing, the thread hand-off), and our own functions with the most
    samples anywhere below them (which code path pays)."""
    return {"self": top_frames(collapsed, count),
            "ranvier_inclusive": top_frames(collapsed, count, rank_by="total_pct",
                                            within="ranvier/")}
