"""Running the scenarios against one server: repetitions, per-repetition time limits,
memory sampling over the whole run, and (optionally) a py-spy profile per scenario."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import subprocess
import traceback
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.client import Api
from bench.http_client import HttpClient
from bench.procstat import MemorySampler
from bench.profiler import Profile
from bench.scenarios import Scenario
from bench.scenarios.common import Context
from bench.servers import Server, analyze_postgres_database
from bench.stats import median_of_runs

log = logging.getLogger("bench")


@dataclass(frozen=True)
class RunOptions:
    reps: int
    rep_timeout_s: float
    profile_dir: Path | None  # where to keep py-spy profiles; None: no profiling


async def run_server(
    start: Callable[[], Awaitable[Server]],
    scenarios: list[Scenario],
    sizes: Mapping[str, Mapping[str, int]],
    options: RunOptions,
) -> dict[str, Any]:
    """Start the server, run every scenario `reps` times, stop it. Returns per scenario
    the runs, their medians and the error that ended it early (if any), and the memory
    the server used over the whole run."""
    try:
        server = await start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        log.warning("server did not start: %s", e)
        failed = {"median": {}, "runs": [], "error": f"server did not start: {e}"}
        return {name: failed for name in [*(s.name for s in scenarios), "memory"]}
    sampler = MemorySampler(server.pid)
    sampler.start()
    results: dict[str, Any] = {}
    try:
        # Each repetition is cut off after rep_timeout_s (asyncio.wait_for below).
        http = HttpClient(server.base_url)
        try:
            api = Api(http)
            for scenario in scenarios:
                results[scenario.name] = await _run_scenario(
                    server, api, scenario, sizes[scenario.name], options)
        finally:
            http.close()
    finally:
        memory = await sampler.stop()
        server.stop()
    results["memory"] = {"median": {"peak_rss_mib": memory.peak_mib,
                                    "end_rss_mib": memory.end_mib}, "runs": [], "error": None}
    return results


@contextlib.contextmanager
def quiet_heap() -> Iterator[None]:
    """Keep the driver's own garbage collector out of the timings: what earlier
    repetitions left behind is collected now and frozen, so a collection during the
    repetition only looks at the objects it makes (a full one over everything took
    up to 14 ms, inside a timed request)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def _run_scenario(
    server: Server, api: Api, scenario: Scenario, sizes: Mapping[str, int],
    options: RunOptions,
) -> dict[str, Any]:
    ctx = Context(api, server, sizes)
    runs: list[dict[str, float]] = []
    error: str | None = None
    profile: Profile | None = None
    frames: dict[str, list[dict[str, object]]] = {}
    for rep in range(options.reps):
        # Profile the repetitions after the first when there are several: the first
        # also does the scenario's set-up (registering users, filling rooms).
        if options.profile_dir and profile is None and (rep == 1 or options.reps == 1):
            profile = Profile(server.pid, options.profile_dir / f"{scenario.name}.txt")
        log.info("%s: %s, repetition %d of %d", server.name, scenario.name, rep + 1,
                 options.reps)
        try:
            if server.postgres_database is not None:
                await analyze_postgres_database(server.postgres_database)
            with quiet_heap():
                runs.append(await asyncio.wait_for(scenario.run(ctx), options.rep_timeout_s))
        except Exception as e:  # a failed scenario is reported, not fatal
            error = f"{type(e).__name__}: {e}"
            log.warning("%s: %s failed: %s", server.name, scenario.name, error)
            log.debug("%s", traceback.format_exc())
            break
    if profile is not None:
        frames = profile.stop()
    result: dict[str, Any] = {"median": median_of_runs(runs) if runs else {}, "runs": runs,
                              "error": error}
    if frames:
        result["profile"] = frames
    return result
