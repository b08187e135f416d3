"""The benchmark table, results rows and profile summaries (bench/report.py), and the
/proc parsers (bench/procstat.py)."""

import pytest

from bench.procstat import parse_cpu_ticks, parse_status_kib
from bench.report import Row, better, format_number, format_table, rows_from_results, top_frames


def test_throughputs_are_better_higher_and_everything_else_lower() -> None:
    assert better("events_per_s") == "higher"
    assert better("p99_ms") == "lower"
    assert better("peak_rss_mib") == "lower"


def test_numbers_keep_about_three_significant_digits() -> None:
    assert format_number(1234.5) == "1,234"
    assert format_number(12.345) == "12.3"
    assert format_number(1.2345) == "1.23"


def test_table_shows_both_servers_and_their_ratio() -> None:
    table = format_table([Row("send.events_per_s", 100.0, 250.0),
                          Row("send.p50_ms", 20.0, "error"),
                          Row("state_res.ms", None, 1.5),
                          Row("sync", "error", "error")])
    lines = table.splitlines()
    assert lines[0].startswith("| figure | Synapse | Ranvier | Ranvier/Synapse")
    assert lines[2] == "| send.events_per_s | 100 | 250 | 2.50x | higher |"
    assert lines[3] == "| send.p50_ms | 20.0 | error | — | lower |"
    assert lines[4] == "| state_res.ms | — | 1.50 | — | lower |"
    assert lines[5] == "| sync | error | error | — | — |"


def test_rows_mark_a_failed_server_and_keep_the_other() -> None:
    rows = rows_from_results({
        "send": {"synapse": {"events_per_s": 80}, "ranvier": {},
                 "errors": {"synapse": None, "ranvier": "RequestFailed: 404"}},
        "sync": {"synapse": {}, "ranvier": {}, "errors": {"synapse": "x", "ranvier": "y"}},
    })
    assert rows == [Row("send.events_per_s", 80.0, "error"), Row("sync", "error", "error")]


def test_top_frames_count_own_and_inclusive_samples() -> None:
    collapsed = "main (a.py:1);work (a.py:5);hash (b.py:9) 30\n" \
                "main (a.py:1);work (a.py:5) 10\n" \
                "main (a.py:1);idle (a.py:7) 60\n"
    frames = top_frames(collapsed, 2)
    assert [f["frame"] for f in frames] == ["idle (a.py:7)", "hash (b.py:9)"]
    assert frames[1]["self_pct"] == pytest.approx(30)
    work = top_frames(collapsed)[2]
    assert work == {"frame": "work (a.py:5)", "self_pct": 10.0, "total_pct": 40.0}
    assert top_frames("") == []


def test_top_frames_rank_inclusive_time_within_our_code() -> None:
    collapsed = "serve (ranvier/cli.py:1);send (ranvier/a.py:5);sqlite (db.py:9) 30\n" \
                "serve (ranvier/cli.py:1);sync (ranvier/b.py:7) 10\n"
    frames = top_frames(collapsed, 2, rank_by="total_pct", within="ranvier/")
    assert [(f["frame"], f["total_pct"]) for f in frames] == [
        ("serve (ranvier/cli.py:1)", 100.0), ("send (ranvier/a.py:5)", 75.0)]


def test_top_frames_leave_out_idle_waits() -> None:
    collapsed = "_bootstrap (threading.py:1);_worker (concurrent/futures/thread.py:81) 90\n" \
                "main (a.py:1);Runner.run (asyncio/runners.py:118) 50\n" \
                "main (a.py:1);work (a.py:5) 10\n"
    assert top_frames(collapsed) == [
        {"frame": "work (a.py:5)", "self_pct": 100.0, "total_pct": 100.0},
        {"frame": "main (a.py:1)", "self_pct": 0.0, "total_pct": 100.0}]


def test_cpu_ticks_survive_a_command_name_with_spaces_and_parens() -> None:
    line = "1234 (python3 (x) y) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 4 0 100 0 0"
    assert parse_cpu_ticks(line) == 300


def test_status_fields_are_read_in_kib() -> None:
    status = "Name:\tpython\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n"
    assert parse_status_kib(status, "VmRSS") == 102400
    assert parse_status_kib(status, "VmHWM") == 204800
    with pytest.raises(ValueError, match="VmSwap"):
        parse_status_kib(status, "VmSwap")
