"""Summaries of measurements: percentiles, medians of repetitions, ratios."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) with linear interpolation between the two nearest
    ranks, so small samples do not jump from one observation to the next."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be between 0 and 100, not {p}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Iterable[float]) -> float:
    return percentile(list(values), 50)


def latency_summary(seconds: Sequence[float], prefix: str = "") -> dict[str, float]:
    """p50/p95/p99 of latencies given in seconds, as milliseconds."""
    return {
        f"{prefix}p{p}_ms": percentile(seconds, p) * 1000 for p in (50, 95, 99)
    }


def median_of_runs(runs: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Figure by figure, the median over repetitions; a figure missing from some runs
    is the median of the runs that have it."""
    names: list[str] = []
    for run in runs:
        names.extend(name for name in run if name not in names)
    return {name: median([run[name] for run in runs if name in run]) for name in names}


def ratio(ranvier: float | None, synapse: float | None) -> float | None:
    """Ranvier's figure over Synapse's; None when either is missing or Synapse's is 0."""
    if ranvier is None or synapse is None or synapse == 0:
        return None
    return ranvier / synapse
