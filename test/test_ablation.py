"""`rgbt-tracker ablation` on tiny exported models and short synthetic sequences; the torch tracker
wrapper; `rgbt-tracker train --set` (how the ablation script makes its per-term variants)."""

import dataclasses
import json
import logging
import subprocess
import sys

import numpy as np
import pytest
import torch

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.distill.compression import SingleModalityStudent
from rgbt_tracker_ros.models.builder import build_model
from rgbt_tracker_ros.models.config import ModelConfig
from rgbt_tracker_ros.training.pruning import PruningConfig, prune

COLUMNS = ["model", "PR", "SR", "NPR", "SR occlusion", "SR low light", "SR thermal crossover", "SR fast motion",
           "SR scale change", "SR distractors", "thermal-only PR", "thermal-only SR", "visible-only PR",
           "visible-only SR", "real PR", "real SR",
           "real NPR", "params (M)", "GFLOPs", "step p50 (ms)", "latency backend"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A student (RGB-T) and a pruned thermal-only student, exported; a short real-like thermal folder."""
    from rgbt_tracker_ros.data.synthetic import SyntheticConfig, make_sequence
    from rgbt_tracker_ros.data.writer import write_sequence_folder
    from rgbt_tracker_ros.training.export import export_student

    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    out = tmp_path_factory.mktemp("ablation")
    torch.manual_seed(0)
    student = build_model(ModelConfig()).eval()
    with torch.no_grad():  # a score map with a clear peak (an untrained head's is flat: argmax ties)
        torch.nn.init.normal_(student.head.score.weight, std=0.05)
        student.head.score.bias.zero_()
    export_student(student, out / "student", name="student")
    thermal = prune(SingleModalityStudent.from_student(student, "thermal"), PruningConfig(keep=0.5)).model.eval()
    export_student(thermal, out / "thermal", name="thermal_pruned")
    sequence = make_sequence(2_500_000, SyntheticConfig(width=160, height=128, length=6))
    write_sequence_folder(dataclasses.replace(sequence, visible=None), out / "real" / "tiny_tir", thermal_bits=8)
    return out


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
    assert report["columns"][len(COLUMNS):] == ["ΔSR vs thermal_pruned", "ΔSR vs student", "× faster than student"]
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


def test_torch_tracker_tracks_like_the_onnx_tracker(models):
    from rgbt_tracker_ros.data.synthetic import SyntheticConfig, make_sequence
    from rgbt_tracker_ros.evaluation.torch_tracker import TorchTracker
    from rgbt_tracker_ros.tracking.config import TrackerConfig
    from rgbt_tracker_ros.tracking.tracker import RGBTTracker

    # score_tracking 0: every prediction is taken, so the boxes follow the network's outputs.
    config = TrackerConfig(model=models / "student", providers=("cpu",), threads=1, score_tracking=0.0, score_lost=0.0)
    onnx_tracker = RGBTTracker(config)
    torch_tracker = TorchTracker(models / "student" / "student.pt", dataclasses.replace(config, model=None))
    sequence = make_sequence(1_000_003, SyntheticConfig(width=160, height=128, length=5))
    for tracker in (onnx_tracker, torch_tracker):
        tracker.initialize(*sequence.frame(0), sequence.groundtruth[0])
    for i in range(1, 5):
        a = onnx_tracker.track(*sequence.frame(i))
        b = torch_tracker.track(*sequence.frame(i))
        assert np.allclose(a.box, b.box, atol=1e-2) and a.score == pytest.approx(b.score, abs=1e-4)
        assert a.state == b.state
    assert torch_tracker.provider == "torch-cpu"
    with pytest.raises(InputError, match="does not exist"):
        TorchTracker(models / "nothing.pt")


def test_train_set_overrides_the_config():
    from rgbt_tracker_ros.training.config import TrainConfig
    from rgbt_tracker_ros.common.config_io import apply_overrides, load_yaml_config as load_config

    data = apply_overrides({"optim": {"lr": 0.1}}, ["optim.lr=0.01", "run.output_dir=runs/x", "name=variant"])
    assert data == {"optim": {"lr": 0.01}, "run": {"output_dir": "runs/x"}, "name": "variant"}
    with pytest.raises(InputError, match="KEY=VALUE"):
        apply_overrides({}, ["optim.lr"])
    with pytest.raises(InputError, match="is a value"):
        apply_overrides({"optim": 3}, ["optim.lr=1"])
    config = load_config(TrainConfig, "config/training/student.yaml", ["optim.epochs=3", "model.backbone.out_channels=32"])
    assert config.optim.epochs == 3 and config.model.backbone.out_channels == 32
    with pytest.raises(InputError, match="unknown key"):
        load_config(TrainConfig, "config/training/student.yaml", ["optim.nonsense=1"])
