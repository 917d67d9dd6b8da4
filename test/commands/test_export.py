"""`rgbt-tracker export`: exit codes and messages (the export itself: test/training/test_onnx_export.py;
exporting a trained checkpoint: test/commands/test_train.py)."""

import json

import pytest

from helpers.tiny_runs import run_cli

pytestmark = pytest.mark.torch

SHIPPED = "rgbt_tracker_ros/weights/student/student.pt"


def test_export_rejects_a_missing_checkpoint(tmp_path):
    proc = run_cli("export", "--checkpoint", str(tmp_path / "none.pt"), "--output", str(tmp_path / "m"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_export_rejects_a_file_that_is_not_a_checkpoint(tmp_path):
    bad = tmp_path / "notes.pt"
    bad.write_text("not a checkpoint\n")
    proc = run_cli("export", "--checkpoint", str(bad), "--output", str(tmp_path / "m"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "rgbt-tracker export: error: cannot load checkpoint" in proc.stderr


@pytest.mark.slow
def test_a_failed_parity_check_exits_1(tmp_path):
    """Tolerance 0: the exported graphs differ from PyTorch by float rounding (about 1e-6), so the
    check fails, in one line, after writing the folder."""
    proc = run_cli("export", "--checkpoint", SHIPPED, "--output", str(tmp_path / "m"), "--tolerance", "0")
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "rgbt-tracker export: error: parity check FAILED: ONNX Runtime differs from PyTorch by" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert json.loads((tmp_path / "m" / "model.json").read_text())["name"] == "student"
