"""`rgbt-tracker bench --json`: the student's figures and the interleaved peer comparison."""

from __future__ import annotations

import argparse
import json

import pytest

from helpers.paths import PEER_MODELS
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


def _bench(argv, capsys):
    parser = argparse.ArgumentParser()
    bench_command.add_arguments(parser)
    code = bench_command.run(parser.parse_args(["--runs", "1", "--steps", "3", "--warmup", "1", "--providers", "cpu",
                                                "--threads", "1", *argv]))
    return code, capsys.readouterr()


def test_bench_times_the_peers_interleaved_with_the_student(capsys):
    if not PEER_MODELS.is_dir():
        pytest.skip(f"peer models not found at {PEER_MODELS}")
    code, captured = _bench(["--peer-models", str(PEER_MODELS), "--json"], capsys)
    assert code == 0, captured.err
    report = json.loads(captured.out)
    peers = report["peers"]
    names = ["student-rgbt", "student-thermal", "csrt-thermal", "kcf-thermal", "nano-thermal", "vit-thermal"]
    assert list(peers["trackers"]) == names and report["peer_notes"] == []
    for name in names:
        entry = peers["trackers"][name]
        assert 0 < entry["frame_ms_p50"] <= entry["frame_ms_p95"]
    kcf = peers["ratios"]["kcf-thermal"]
    assert kcf["student-thermal"] == pytest.approx(
        peers["trackers"]["student-thermal"]["frame_ms_p50"] / peers["trackers"]["kcf-thermal"]["frame_ms_p50"])
    assert set(peers["ratios"]) == set(names[2:])
    assert "student-thermal / peer" in captured.err and "nano-thermal" in captured.err


def test_bench_peers_without_models_are_noted_and_bad_peers_exit_2(tmp_path, capsys):
    code, captured = _bench(["--peers", "kcf,vit", "--peer-models", str(tmp_path), "--json"], capsys)
    assert code == 0, captured.err
    report = json.loads(captured.out)
    assert list(report["peers"]["trackers"]) == ["student-rgbt", "student-thermal", "kcf-thermal"]
    assert f"rgbt-tracker bench: vit skipped: vittrack_2023sep.onnx not found in {tmp_path}" in captured.err
    code, captured = _bench(["--peers", "none", "--json"], capsys)
    assert code == 0 and json.loads(captured.out)["peers"] is None
    code, captured = _bench(["--peers", "kcf,mosse"], capsys)
    assert code == 2 and "unknown peer 'mosse' in --peers" in captured.err
