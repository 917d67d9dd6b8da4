"""`rgbt-tracker demo` (commands/demo.py over ros_tools/demo.py): the player and the tracker node as
separate processes over DDS on localhost, initialised through `~/init_target`, scored against the
ground truth; its exit codes for bad input (2) and a node that fails (1)."""

from __future__ import annotations

import json

import pytest

from helpers.ros_processes import ros_test_environment, run_command
from rgbt_tracker_ros.commands import demo

pytestmark = pytest.mark.ros

# The shipped student on the demo's synthetic sequence cut to 1.5 s (45 frames at 30 Hz; a sequence
# that short moves far faster than the 10 s one `make demo` plays, PR 0.990 SR 0.860). The default of
# issue 13 (structured world + CMD) loses the target early on it: PR 0.205 / SR 0.199 and 0.227 / 0.220
# in two runs, 0.182 in a third, where the previous default scored PR 0.455 / SR 0.392 (synthetic fast
# motion SR 0.627 -> 0.588 on 40 validation sequences, docs/ablation_issue13.md: the price of the better
# real-video boxes). The floors sit below the new runs and still catch a tracker that never starts.
PR_FLOOR = 0.15
SR_FLOOR = 0.15


@pytest.fixture(scope="module", autouse=True)
def ros_env():
    with ros_test_environment():
        yield


@pytest.mark.slow
def test_short_demo_scores_and_writes_outputs(tmp_path):
    out = tmp_path / "demo"
    result = run_command("demo", "--seconds", "1.5", "--output-dir", str(out), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "PR " in result.stdout and "SR " in result.stdout
    assert "target initialised on frame" in result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"] == 45 and summary["scored_frames"] == 44 - summary["init_frame"]
    assert summary["pr"] >= PR_FLOOR and summary["sr"] >= SR_FLOOR, summary
    assert summary["processed_frames"] > 0
    video = out / "demo.mp4" if (out / "demo.mp4").exists() else out / "demo.avi"
    assert video.stat().st_size > 10_000 and (out / "strip.png").stat().st_size > 10_000
    boxes = (out / "boxes.txt").read_text().splitlines()
    assert len(boxes) == 45


def test_a_node_that_fails_is_exit_1(tmp_path):
    result = run_command("demo", "--seconds", "1", "--no-video", "--output-dir", str(tmp_path),
                         "--node-command", "false", "--startup-timeout", "20", timeout=60)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "rgbt-tracker demo: error: the tracker node exited with code 1 before it was ready" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args, reason", [
    (["--seconds", "0"], "--seconds must be in [0.1, 3600], got 0.0"),
    (["--size", "640by480"], "size must look like WIDTHxHEIGHT (e.g. 640x512), got '640by480'"),
])
def test_demo_bad_input_is_one_line_and_exit_2(args, reason, capsys):
    assert demo.main(args) == 2  # refused before any process starts
    assert capsys.readouterr().err.strip() == f"rgbt-tracker demo: error: {reason}"
