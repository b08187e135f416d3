"""Rendering results: the side-by-side table (Markdown, so it can go straight into
docs/PERFORMANCE.md) and the JSON file kept in bench/results/ for history."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.stats import ratio


@dataclass(frozen=True)
class Row:
    label: str
    synapse: float | str | None  # a figure, an error word, or None (not measured)
    ranvier: float | str | None


def better(figure: str) -> str:
    """Which way is good: throughputs (`*_per_s`) up, everything else (times, memory,
    CPU, missing messages) down."""
    return "higher" if figure.endswith("_per_s") else "lower"


def format_number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _cell(value: float | str | None) -> str:
    if value is None:
        return "—"
    return value if isinstance(value, str) else format_number(value)


def format_table(rows: Sequence[Row]) -> str:
    """A Markdown table: figure, Synapse, Ranvier, Ranvier/Synapse, which way is better."""
    lines = ["| figure | Synapse | Ranvier | Ranvier/Synapse | better |",
             "|---|---:|---:|---:|---|"]
    for row in rows:
        r = (ratio(row.ranvier, row.synapse) if isinstance(row.ranvier, float)
             and isinstance(row.synapse, float) else None)
        _, dot, figure = row.label.partition(".")
        lines.append(
            f"| {row.label} | {_cell(row.synapse)} | {_cell(row.ranvier)} | "
            f"{'—' if r is None else f'{r:.2f}x'} | {better(figure) if dot else '—'} |"
        )
    return "\n".join(lines)


def rows_from_results(scenarios: Mapping[str, Mapping[str, Any]]) -> list[Row]:
    """Table rows from the `scenarios` part of a results file: each server's median
    figures, or "error" for a server whose scenario failed."""
    rows: list[Row] = []
    for name, result in scenarios.items():
        figures: list[str] = []
        for server in ("synapse", "ranvier"):
            figures.extend(f for f in result.get(server) or {} if f not in figures)
        errors = result.get("errors") or {}
        if not figures:
            rows.append(Row(name, *("error" if errors.get(s) else None
                                    for s in ("synapse", "ranvier"))))
            continue
        for figure in figures:
            cells = []
            for server in ("synapse", "ranvier"):
                value = (result.get(server) or {}).get(figure)
                if value is None and errors.get(server):
                    value = "error"
                cells.append(float(value) if isinstance(value, (int, float)) else value)
            rows.append(Row(f"{name}.{figure}", cells[0], cells[1]))
    return rows


# Leaf frames of threads that are waiting, not working, which py-spy still samples: a
# thread-pool worker waiting for work, and the event loop polling (uvloop polls in C, so
# the loop's Python caller is the leaf).
IDLE_LEAVES = ("_worker (concurrent/futures/thread.py", "Runner.run (asyncio/runners.py",
               "wait (threading.py", "get (queue.py")


def top_frames(
    collapsed: str, count: int = 10, *, rank_by: str = "self_pct", within: str = ""
) -> list[dict[str, Any]]:
    """The hottest frames of a py-spy `--format raw` profile (collapsed stacks, one
    `frame;frame;... samples` per line), idle waits (`IDLE_LEAVES`) left out: share of
    the busy samples spent in the frame itself (`self_pct`) and with it anywhere on the
    stack (`total_pct`), ranked by either. `within` keeps only frames whose text holds
    it (e.g. "ranvier/" for our own code)."""
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    samples = 0
    for line in collapsed.splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        frames = stack.split(";")
        if frames[-1].startswith(IDLE_LEAVES):
            continue
        samples += int(n)
        own[frames[-1]] = own.get(frames[-1], 0) + int(n)
        for frame in set(frames):
            total[frame] = total.get(frame, 0) + int(n)
    if not samples:
        return []
    rows = [{"frame": f, "self_pct": 100 * own.get(f, 0) / samples,
             "total_pct": 100 * total[f] / samples} for f in total if within in f]
    rows.sort(key=lambda row: row[rank_by], reverse=True)
    return rows[:count]


def write_json(path: Path, results: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
