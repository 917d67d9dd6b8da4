"""`rgbt-tracker demo` (commands/demo.py over ros_tools/demo.py): the player and the tracker node as
separate processes over DDS on localhost, initialised through `~/init_target`, scored against the
ground truth; its exit codes for bad input (2) and a node that fails (1)."""

from __future__ import annotations

import json

import pytest

from helpers.ros_processes import ros_test_environment, run_command
from rgbt_tracker_ros.commands import demo

pytestmark = pytest.mark.ros

# The shipped student on the demo's synthetic sequence cut to 3 s (90 frames at 30 Hz; a cut moves
# faster than the 10 s one `make demo` plays, PR 0.990 SR 0.860). Measured through the node with the
# default of student_both_distill.yaml: PR 0.966 / SR 0.815 (89 of 90 frames processed), 0.944 / 0.791
# (87); in process 1.000 / 0.844. The 1.5 s cut this test played before moves so fast that one or two
# frames the loaded node skipped decided the score (PR 0.05 to 0.27 with either issue-13 default),
# so it could not tell a regression from a skipped frame.
PR_FLOOR = 0.85
SR_FLOOR = 0.70


@pytest.fixture(scope="module", autouse=True)
def ros_env():
    with ros_test_environment():
        yield


@pytest.mark.slow
def test_short_demo_scores_and_writes_outputs(tmp_path):
    out = tmp_path / "demo"
    result = run_command("demo", "--seconds", "3", "--output-dir", str(out), timeout=150)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "PR " in result.stdout and "SR " in result.stdout
    assert "target initialised on frame" in result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"] == 90 and summary["scored_frames"] == 89 - summary["init_frame"]
    assert summary["pr"] >= PR_FLOOR and summary["sr"] >= SR_FLOOR, summary
    assert summary["processed_frames"] > 0
    video = out / "demo.mp4" if (out / "demo.mp4").exists() else out / "demo.avi"
    assert video.stat().st_size > 10_000 and (out / "strip.png").stat().st_size > 10_000
    boxes = (out / "boxes.txt").read_text().splitlines()
    assert len(boxes) == 90


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
