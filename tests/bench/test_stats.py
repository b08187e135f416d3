"""The benchmark driver's summaries (bench/stats.py)."""

import pytest

from bench.stats import latency_summary, median, median_of_runs, percentile, ratio


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([10, 20, 30, 40], 50) == 25
    assert percentile([1, 2, 3, 4, 5], 95) == pytest.approx(4.8)


def test_percentile_ignores_input_order() -> None:
    assert percentile([5, 1, 4, 2, 3], 0) == 1
    assert percentile([5, 1, 4, 2, 3], 100) == 5


def test_percentile_of_one_value_is_that_value() -> None:
    assert percentile([7.5], 99) == 7.5


def test_percentile_refuses_empty_input_and_out_of_range_p() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1], 101)


def test_latency_summary_reports_milliseconds_with_prefix() -> None:
    summary = latency_summary([0.001] * 99 + [0.101], "send_")
    assert summary["send_p50_ms"] == pytest.approx(1.0)
    assert summary["send_p99_ms"] == pytest.approx(2.0)
    assert set(summary) == {"send_p50_ms", "send_p95_ms", "send_p99_ms"}


def test_median_of_runs_takes_each_figure_separately() -> None:
    runs = [{"a": 1.0, "b": 30.0}, {"a": 3.0, "b": 10.0}, {"a": 2.0}]
    assert median_of_runs(runs) == {"a": 2.0, "b": 20.0}
    assert median([3, 1, 2]) == 2


def test_ratio_is_ranvier_over_synapse_and_none_without_both() -> None:
    assert ratio(50.0, 100.0) == 0.5
    assert ratio(None, 100.0) is None
    assert ratio(50.0, None) is None
    assert ratio(50.0, 0.0) is None
