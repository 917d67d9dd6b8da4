"""`rgbt-tracker ablation` on tiny exported models (ONNX and a .pt checkpoint) and short synthetic sequences."""

import json
import subprocess
import sys

import numpy as np
import pytest

from helpers.tiny_models import export_tiny_models

pytestmark = [pytest.mark.torch, pytest.mark.slow]

COLUMNS = ["model", "PR", "SR", "NPR", "SR occlusion", "SR low light", "SR thermal crossover", "SR fast motion",
           "SR scale change", "SR distractors", "thermal-only PR", "thermal-only SR", "visible-only PR",
           "visible-only SR", "real PR", "real SR",
           "real NPR", "params (M)", "GFLOPs", "step p50 (ms)", "latency backend"]

@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return export_tiny_models(tmp_path_factory.mktemp("ablation"))


def _ablation(*args):
    return subprocess.run([sys.executable, "-m", "rgbt_tracker_ros.cli", "ablation", *args],
                          capture_output=True, text=True)


def test_ablation_writes_json_and_markdown_with_the_expected_columns(models, tmp_path):
    proc = _ablation("--models", f"student={models / 'student'}", f"thermal_pruned={models / 'thermal'}",
                     f"student_torch={models / 'student' / 'student.pt'}",
                     "--synthetic", "2", "--synthetic-length", "8", "--real", str(models / "real"),
                     "--latency-steps", "3", "--latency-rounds", "1", "--latency-warmup", "1",
                     "--reference", "student", "--baseline", "thermal_pruned", "--output", str(tmp_path / "a.json"),
                     "--markdown", str(tmp_path / "a.md"), "--no-progress")
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((tmp_path / "a.json").read_text())
    assert report["columns"][: len(COLUMNS)] == COLUMNS
    assert report["columns"][len(COLUMNS):] == ["ΔSR vs thermal_pruned", "ΔSR vs student", "× faster than student",
                                                "tiny_tir SR", "tiny_tir area in band"]
    rows = {r["model"]: r for r in report["rows"]}
    assert list(rows) == ["student", "thermal_pruned", "student_torch"]
    for row in rows.values():
        for column in ("PR", "SR", "NPR", "thermal-only SR", "real PR", "real SR", "GFLOPs", "step p50 (ms)"):
            assert row[column] is not None and np.isfinite(row[column]), (row["model"], column)
    # visible-only (the node's fallback when the thermal camera stops): RGB-T models only
    assert np.isfinite(rows["student"]["visible-only SR"]) and np.isfinite(rows["student_torch"]["visible-only SR"])
    assert rows["thermal_pruned"]["visible-only SR"] is None
    assert rows["student"]["latency backend"] == "ONNX Runtime (CPU)"
    assert rows["student_torch"]["latency backend"] == "PyTorch (CPU)"
    assert rows["student"]["ΔSR vs student"] == 0.0 and rows["student"]["× faster than student"] == 1.0
    assert rows["thermal_pruned"]["ΔSR vs thermal_pruned"] == 0.0
    assert rows["student"]["ΔSR vs thermal_pruned"] == pytest.approx(
        rows["student"]["SR"] - rows["thermal_pruned"]["SR"], abs=2e-4)
    # Same network through ONNX Runtime and through PyTorch: same scores, same cost.
    assert rows["student_torch"]["SR"] == pytest.approx(rows["student"]["SR"], abs=1e-3)
    assert rows["student_torch"]["GFLOPs"] == pytest.approx(rows["student"]["GFLOPs"], rel=0.02)
    assert rows["thermal_pruned"]["GFLOPs"] < 0.5 * rows["student"]["GFLOPs"]
    assert rows["thermal_pruned"]["params (M)"] < rows["student"]["params (M)"]
    models_by_name = {m["name"]: m for m in report["models"]}
    assert models_by_name["thermal_pruned"]["input_modality"] == "thermal"
    assert set(models_by_name["student"]["attributes"]) == {
        "occlusion", "low_light", "thermal_crossover", "fast_motion", "scale_change", "distractor"}
    assert models_by_name["student"]["real_thermal"]["sequences"] == 1
    for row in rows.values():  # the one real sequence: its SR is the pooled one; a share of frames
        assert row["tiny_tir SR"] == row["real SR"] and 0.0 <= row["tiny_tir area in band"] <= 1.0
    assert report["settings"]["synthetic_sequences"] == 2
    assert (tmp_path / "a.png").stat().st_size > 10_000  # the bar chart beside the markdown
    md = (tmp_path / "a.md").read_text()
    assert "| model | PR | SR | NPR | SR occlusion |" in md and "| thermal_pruned |" in md
    assert "student_torch" in proc.stdout


def test_ablation_rejects_bad_models(models, tmp_path):
    proc = _ablation("--models", f"x={tmp_path / 'none'}", "--synthetic", "1", "--output", str(tmp_path / "a.json"),
                     "--markdown", str(tmp_path / "a.md"))
    assert proc.returncode == 2 and "neither a model folder" in proc.stderr and "Traceback" not in proc.stderr
    proc = _ablation("--models", f"a={models / 'student'}", f"a={models / 'thermal'}", "--synthetic", "1")
    assert proc.returncode == 2 and "given twice" in proc.stderr
