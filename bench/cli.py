"""`python -m bench` (or `scripts/bench`): run the suite against Synapse, then Ranvier,
print the side-by-side table and write bench/results/<date>.json."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

import uvloop

from bench import hashcost, servers
from bench.markers import parse_size_options
from bench.report import format_table, rows_from_results, write_json
from bench.runner import RunOptions, run_server
from bench.scenarios import SERVER_SCENARIOS
from bench.scenarios import state_res as state_res_scenario

HERE = Path(__file__).resolve().parent
ALL_SCENARIOS = [s.name for s in SERVER_SCENARIOS] + ["memory", "state_res"]


def default_synapse_venv() -> Path:
    if "BENCH_SYNAPSE_VENV" in os.environ:
        return Path(os.environ["BENCH_SYNAPSE_VENV"])
    shared = Path("/work/synapse-venv")
    return shared if shared.exists() else HERE / ".synapse-venv"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench", description=__doc__)
    p.add_argument("--quick", action="store_true",
                   help="small sizes and one repetition (about two minutes)")
    p.add_argument("--postgres", action="store_true",
                   help="PostgreSQL for both servers (BENCH_POSTGRES DSN) instead of SQLite")
    p.add_argument("--reps", type=int, help="repetitions per scenario (default 3; quick 1)")
    p.add_argument("--only", help="comma-separated scenarios: " + ",".join(ALL_SCENARIOS))
    p.add_argument("--servers", default="synapse,ranvier",
                   help="which servers to run, in order (default synapse,ranvier)")
    p.add_argument("--size", action="append", default=[], metavar="SCENARIO.SIZE=N",
                   help="override a scenario size, e.g. --size send.events=500")
    p.add_argument("--bcrypt-rounds", type=int, default=4,
                   help="Synapse's bcrypt_rounds; Ranvier's argon2 is matched to it")
    p.add_argument("--synapse-venv", type=Path, default=default_synapse_venv(),
                   help="virtual environment with Synapse (created if missing); default "
                        "$BENCH_SYNAPSE_VENV, else /work/synapse-venv if it exists, else "
                        "bench/.synapse-venv")
    p.add_argument("--profile", action="store_true",
                   help="sample Ranvier with py-spy during each scenario")
    p.add_argument("--ranvier-tree", default="HEAD",
                   help="run Ranvier as of this commit (default HEAD), or 'worktree' for "
                        "a copy of the files as they are when the run starts")
    p.add_argument("--rep-timeout", type=float, default=900,
                   help="seconds one repetition of a scenario may take")
    p.add_argument("--results-dir", type=Path, default=HERE / "results")
    p.add_argument("--workdir", type=Path, default=HERE / ".work")
    return p.parse_args(argv)


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo
                  if line.startswith("model name")), platform.processor())
    mem_kib = next(int(line.split()[1]) for line in
                   Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
    return {"nproc": os.cpu_count(), "cpu": model, "ram_gib": round(mem_kib / 2**20, 1),
            "kernel": platform.release(), "python": platform.python_version()}


def ranvier_source(args: argparse.Namespace) -> tuple[str, Path | None]:
    """Which Ranvier runs: (description for the results, folder to run it from)."""
    dest = args.workdir / "ranvier-src"
    if args.ranvier_tree == "worktree":
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE.parent,
                              check=True, capture_output=True, text=True).stdout.strip()
        return f"{head} + uncommitted changes", servers.copy_ranvier_worktree(dest)
    commit = subprocess.run(["git", "rev-parse", "--short", args.ranvier_tree], cwd=HERE.parent,
                            check=True, capture_output=True, text=True).stdout.strip()
    return commit, servers.export_ranvier(commit, dest)


def sizes_for(args: argparse.Namespace) -> dict[str, dict[str, int]]:
    overrides = parse_size_options(args.size)
    sizes: dict[str, dict[str, int]] = {}
    scenario_sizes = {s.name: (s.quick if args.quick else s.defaults) for s in SERVER_SCENARIOS}
    scenario_sizes["state_res"] = (state_res_scenario.QUICK if args.quick
                                   else state_res_scenario.DEFAULTS)
    for name, defaults in scenario_sizes.items():
        unknown = set(overrides.get(name, {})) - set(defaults)
        if unknown:
            raise SystemExit(f"--size: {name} has no size {', '.join(sorted(unknown))} "
                             f"(it has {', '.join(defaults)})")
        sizes[name] = {**defaults, **overrides.get(name, {})}
    unknown_scenarios = set(overrides) - set(scenario_sizes)
    if unknown_scenarios:
        raise SystemExit(f"--size: no scenario {', '.join(sorted(unknown_scenarios))}")
    return sizes


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    chosen = args.only.split(",") if args.only else ALL_SCENARIOS
    unknown = set(chosen) - set(ALL_SCENARIOS)
    if unknown:
        raise SystemExit(f"--only: no scenario {', '.join(sorted(unknown))}")
    sizes = sizes_for(args)
    reps = args.reps or (1 if args.quick else 3)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H%M%SZ")
    synapse_python = servers.ensure_synapse_venv(args.synapse_venv)
    cost = hashcost.calibrate(synapse_python, args.bcrypt_rounds)
    logging.info("password hashing: %s", cost)
    ranvier_version, ranvier_src = ranvier_source(args)

    results: dict[str, Any] = {
        "date": stamp, "command": " ".join(["scripts/bench", *sys.argv[1:]]),
        "machine": machine(), "synapse_version": servers.synapse_version(synapse_python),
        "ranvier_commit": ranvier_version,
        "database": "postgresql" if args.postgres else "sqlite", "reps": reps,
        "hash_cost": cost.to_json(),
        "sizes": {name: sizes[name] for name in chosen if name in sizes},
        "scenarios": {},
    }
    if "state_res" in chosen:
        logging.info("state resolution (protocol core, in the driver)")
        results["scenarios"]["state_res"] = {
            **state_res_scenario.run(sizes["state_res"], synapse_python), "errors": {}}

    scenarios = [s for s in SERVER_SCENARIOS if s.name in chosen]
    starters = {
        "synapse": partial(servers.start_synapse, synapse_python, args.workdir / "synapse",
                           cost, args.postgres),
        "ranvier": partial(servers.start_ranvier, args.workdir / "ranvier", cost,
                           args.postgres, ranvier_src),
    }
    per_server: dict[str, dict[str, Any]] = {}
    for name in args.servers.split(","):
        # Raw profiles are large: they stay with the run's data, their summary goes in
        # the results file.
        options = RunOptions(reps, args.rep_timeout, args.workdir / "profile"
                             if args.profile and name == "ranvier" else None)
        await servers.settle(args.postgres)
        logging.info("starting %s", name)
        per_server[name] = await run_server(starters[name], scenarios, sizes, options)

    for scenario in [s.name for s in scenarios] + (["memory"] if "memory" in chosen else []):
        entry: dict[str, Any] = {"errors": {}}
        for name, outcome in per_server.items():
            entry[name] = outcome[scenario]["median"]
            entry[f"{name}_runs"] = outcome[scenario]["runs"]
            entry["errors"][name] = outcome[scenario]["error"]
            if "profile" in outcome[scenario]:
                entry[f"{name}_profile"] = outcome[scenario]["profile"]
        results["scenarios"][scenario] = entry
    return results


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    results = uvloop.run(main_async(args))
    path = args.results_dir / f"{results['date']}.json"
    write_json(path, results)
    print(format_table(rows_from_results(results["scenarios"])))
    for name, entry in results["scenarios"].items():
        for server, error in entry.get("errors", {}).items():
            if error:
                print(f"{name} on {server} failed: {error}")
    print(f"Results: {path}")
