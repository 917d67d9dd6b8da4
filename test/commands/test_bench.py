"""`rgbt-tracker bench --json`."""

from __future__ import annotations

import argparse
import json

from rgbt_tracker_ros.commands import bench as bench_command

CPU = "CPUExecutionProvider"
GFLOP_BUDGET = 1.0  # per tracking step (the search graph)


def test_bench_json(capsys):
    parser = argparse.ArgumentParser()
    bench_command.add_arguments(parser)
    args = parser.parse_args(["--runs", "1", "--steps", "3", "--warmup", "1", "--providers", "cpu", "--threads", "1", "--json"])
    assert bench_command.run(args) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    for key in ("params", "gflops", "step_ms_p50", "step_ms_p95", "frame_ms_p50", "provider"):
        assert key in report
    assert report["provider"] == CPU and report["gflops"] <= GFLOP_BUDGET
    assert report["step_ms_p50"] > 0 and report["frame_ms_p50"] > 0
    assert "GFLOPs" in captured.err
