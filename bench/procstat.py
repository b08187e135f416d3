"""CPU time and memory of a server process, read from /proc (Linux)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def parse_cpu_ticks(stat_line: str) -> int:
    """utime + stime from a /proc/<pid>/stat line. The command name (field 2) may hold
    spaces and parentheses, so fields are counted from its closing parenthesis."""
    fields = stat_line[stat_line.rindex(")") + 2:].split()
    # After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    return int(fields[11]) + int(fields[12])


def cpu_ms(pid: int) -> float:
    """CPU time (user + system, all threads) the process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        return parse_cpu_ticks(f.read()) * 1000 / _TICKS_PER_SECOND


def parse_status_kib(status: str, field: str) -> int:
    """A `Field:   1234 kB` value from /proc/<pid>/status, in KiB."""
    for line in status.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise ValueError(f"no {field} in /proc status")


def memory_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM): resident memory now, and the peak the kernel has seen."""
    with open(f"/proc/{pid}/status") as f:
        status = f.read()
    return parse_status_kib(status, "VmRSS"), parse_status_kib(status, "VmHWM")


@dataclass
class MemoryReport:
    peak_mib: float
    end_mib: float


class MemorySampler:
    """Samples a process's VmRSS while it runs; `stop()` reports the peak (the larger of
    the samples and the kernel's VmHWM) and the last resident size."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self._pid = pid
        self._interval = interval
        self._peak_kib = 0
        self._last_kib = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def _sample(self) -> None:
        rss, hwm = memory_kib(self._pid)
        self._last_kib = rss
        self._peak_kib = max(self._peak_kib, rss, hwm)

    async def _run(self) -> None:
        while True:
            self._sample()
            await asyncio.sleep(self._interval)

    async def stop(self) -> MemoryReport:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._sample()
        return MemoryReport(self._peak_kib / 1024, self._last_kib / 1024)
