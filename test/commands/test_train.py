"""`rgbt-tracker train`: a tiny real training run (two epochs of a few steps), resume, init, export of
its checkpoint, the errors a user can make; a tiny teacher, then a distillation from it, then export."""

import json
import math

import numpy as np
import pytest
import torch

from rgbt_tracker_ros.models.builder import build_model, parameter_count
from rgbt_tracker_ros.models.config import ModelConfig

from helpers.paths import PEER_MODELS
from helpers.tiny_runs import TINY_DATA, run_cli, tiny_optim

pytestmark = pytest.mark.torch

TINY_CONFIG = "name: tiny\n" + TINY_DATA + f"""
optim: {tiny_optim(2)}
run: {{output_dir: OUT, workers: 0, threads: 1}}
"""


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    config = out / "tiny.yaml"
    config.write_text(TINY_CONFIG.replace("OUT", str(out / "run")))
    proc = run_cli("train", "--config", str(config))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out, config


@pytest.mark.slow
def test_training_writes_checkpoints_history_and_plot(trained_run):
    out, _ = trained_run
    run = out / "run"
    assert {"best.pt", "last.pt", "history.jsonl", "training.png", "config.json"} <= {p.name for p in run.iterdir()}
    history = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2]
    assert all(np.isfinite(h["val_loss"]) for h in history)


@pytest.mark.slow
def test_resume_continues_from_the_checkpoint(trained_run):
    out, config = trained_run
    proc = run_cli("train", "--config", str(config), "--resume", str(out / "run" / "last.pt"), "--epochs", "3")
    assert proc.returncode == 0, proc.stderr[-2000:]
    history = [json.loads(line) for line in (out / "run" / "history.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert history[2]["step"] == 6


@pytest.mark.slow
def test_export_command_checks_parity(trained_run, tmp_path):
    out, _ = trained_run
    proc = run_cli("export", "--checkpoint", str(out / "run" / "best.pt"), "--output", str(tmp_path / "model"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "max |ONNX - PyTorch|" in proc.stdout
    meta = json.loads((tmp_path / "model" / "model.json").read_text())
    assert meta["search_size"] == 160 and meta["files"] == {"template": "template.onnx", "search": "search.onnx"}


@pytest.mark.slow
def test_init_starts_from_the_checkpoints_weights_with_a_fresh_schedule(trained_run, tmp_path):
    out, config = trained_run
    source = out / "run" / "best.pt"
    # lr 0: the one step changes no weight (batch-norm statistics still move), so they are the source's
    proc = run_cli("train", "--config", str(config), "--output-dir", str(tmp_path / "init"), "--set", f"run.init={source}",
                "--set", "optim.lr=0", "--set", "optim.epochs=1", "--set", "optim.steps_per_epoch=1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "weights initialised from" in proc.stderr
    started = torch.load(tmp_path / "init" / "last.pt", weights_only=False)
    assert started["step"] == 1 and started["epoch"] == 1  # a fresh schedule, not the source's
    expected = torch.load(source, weights_only=False)["model"]
    weights = [k for k in expected if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    assert len(weights) > 10
    assert all(torch.equal(started["model"][k], expected[k]) for k in weights)


@pytest.mark.slow
def test_init_rejects_a_missing_checkpoint_and_another_model_kind(trained_run, tmp_path):
    out, config = trained_run
    proc = run_cli("train", "--config", str(config), "--output-dir", str(tmp_path / "a"),
                "--set", f"run.init={tmp_path / 'missing.pt'}")
    assert proc.returncode != 0 and "run.init" in proc.stderr and "does not exist" in proc.stderr
    proc = run_cli("train", "--config", str(config), "--output-dir", str(tmp_path / "b"), "--set", "model.kind=teacher",
                "--set", f"run.init={out / 'run' / 'best.pt'}")
    assert proc.returncode != 0 and "holds a 'student' model" in proc.stderr


@pytest.mark.slow
def test_resume_auto_starts_fresh_then_continues_a_stopped_run(trained_run, tmp_path):
    _, config = trained_run
    out = tmp_path / "auto"
    common = ("train", "--config", str(config), "--output-dir", str(out), "--resume", "auto",
              "--set", "optim.steps_per_epoch=1")
    first = run_cli(*common, "--epochs", "1")
    assert first.returncode == 0, first.stderr[-2000:]
    assert "resumed from" not in first.stderr
    second = run_cli(*common, "--epochs", "2")
    assert second.returncode == 0, second.stderr[-2000:]
    assert f"resumed from {out / 'last.pt'}" in second.stderr
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2]


@pytest.mark.slow
def test_a_file_that_is_not_a_checkpoint_gives_a_clear_error(trained_run, tmp_path):
    _, config = trained_run
    bad = tmp_path / "notes.pt"
    bad.write_text("not a checkpoint\n")
    for proc in (run_cli("export", "--checkpoint", str(bad), "--output", str(tmp_path / "m")),
                 run_cli("train", "--config", str(config), "--output-dir", str(tmp_path / "r"), "--set", f"run.init={bad}")):
        assert proc.returncode == 2 and "cannot load checkpoint" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_unknown_precision_is_a_clear_error(trained_run, tmp_path):
    _, config = trained_run
    proc = run_cli("train", "--config", str(config), "--output-dir", str(tmp_path / "p"), "--set", "run.precision=fp16")
    assert proc.returncode == 2
    assert "run.precision must be one of fp32, bf16, got 'fp16'" in proc.stderr


@pytest.mark.slow
def test_unknown_device_is_a_clear_error(trained_run, tmp_path):
    _, config = trained_run
    for proc in (run_cli("train", "--config", str(config), "--output-dir", str(tmp_path / "d"), "--device", "gpu0"),
                 run_cli("train-bench", "--config", str(config), "--steps", "1", "--device", "gpu0")):
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert "run.device must be auto, cpu, cuda or cuda:N, got 'gpu0'" in proc.stderr


# -- teacher, then distillation, through the CLI ---------------------------------------------------
DATA = TINY_DATA + f"optim: {tiny_optim(2)}\n"
TINY_TEACHER = """
name: tiny_teacher
model:
  kind: teacher_mp
  backbone: {stem_channels: 8, stages: [[12, 1, 2], [16, 1, 2], [24, 1, 1]], out_channels: 16}
  head: {channels: 16, tower_depth: 1}
run: {output_dir: OUT, workers: 0, threads: 1}
""" + DATA
TINY_DISTILL = """
name: tiny_distill
distill:
  teacher: TEACHER
  specific_common: {}
  path_selection: {}
  style_content: {}
  masking: {search_mask_ratio: 0.25}
run: {output_dir: OUT, workers: 0, threads: 1}
""" + DATA


def _history(run):
    return [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_teacher_then_distillation_then_export(tmp_path):
    teacher_run, student_run = tmp_path / "teacher", tmp_path / "distill"
    (tmp_path / "teacher.yaml").write_text(TINY_TEACHER.replace("OUT", str(teacher_run)))
    proc = run_cli("train", "--config", str(tmp_path / "teacher.yaml"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert {"path_rgb", "path_thermal", "path_fused"} <= set(_history(teacher_run)[-1])

    distill_yaml = tmp_path / "distill.yaml"
    distill_yaml.write_text(TINY_DISTILL.replace("OUT", str(student_run)).replace("TEACHER", str(teacher_run / "best.pt")))
    proc = run_cli("train", "--config", str(distill_yaml))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "distilling from" in proc.stderr
    history = _history(student_run)
    assert [h["epoch"] for h in history] == [1, 2]
    assert {"specific_common", "path_selection", "style_content", "distill", "focal", "l1", "giou"} <= set(history[-1])
    state = torch.load(student_run / "best.pt", map_location="cpu", weights_only=False)
    plain = build_model(ModelConfig())
    assert set(state["model"]) == set(plain.state_dict())  # the student alone: adapters are kept apart
    assert state["distill"]                                  # ... in the training checkpoint, for resuming

    # The third epoch under bf16 autocast (student and frozen teacher): a resumed run may switch precision.
    proc = run_cli("train", "--config", str(distill_yaml), "--resume", str(student_run / "last.pt"), "--epochs", "3",
                   "--set", "run.precision=bf16")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _history(student_run)[-1]["step"] == 6
    assert all(math.isfinite(v) for v in _history(student_run)[-1].values())

    proc = run_cli("export", "--checkpoint", str(student_run / "best.pt"), "--output", str(tmp_path / "model"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "max |ONNX - PyTorch|" in proc.stdout
    meta = json.loads((tmp_path / "model" / "model.json").read_text())
    assert meta["kind"] == "student" and meta["params"] == parameter_count(plain)


def test_distillation_reports_a_missing_teacher(tmp_path):
    distill_yaml = tmp_path / "distill.yaml"
    distill_yaml.write_text(TINY_DISTILL.replace("OUT", str(tmp_path / "run")).replace("TEACHER", str(tmp_path / "no.pt")))
    proc = run_cli("train", "--config", str(distill_yaml))
    assert proc.returncode == 2 and "does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_a_crop_geometry_key_in_the_sampler_section_is_a_one_line_error(tmp_path):
    config = tmp_path / "geometry.yaml"
    config.write_text(TINY_CONFIG.replace("OUT", str(tmp_path / "run"))
                      .replace("  synthetic_length: 20\n", "  synthetic_length: 20\n  sampler: {search_size: 192}\n"))
    proc = run_cli("train", "--config", str(config))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "rgbt-tracker train: error: geometry.yaml.data.sampler: unknown key(s) ['search_size']" in proc.stderr
    assert not (tmp_path / "run").exists()


TINY_PEER = f"""
name: tiny_peer
data:
  sources: [{{kind: synthetic, count: 20, thermal_world: structured, target_size: [0.1, 0.4]}}]
  val_sequences: 2
  val_pairs: 8
  synthetic_width: 160
  synthetic_height: 128
  synthetic_length: 20
distill:
  peer: {{backbone: {PEER_MODELS / "nanotrack_v2_backbone.onnx"}, head: {PEER_MODELS / "nanotrack_v2_head.onnx"}}}
optim: {tiny_optim(1)}
run: {{output_dir: OUT, workers: 0, threads: 1}}
"""


@pytest.mark.skipif(not (PEER_MODELS / "nanotrack_v2_head.onnx").is_file(), reason="peer models absent")
def test_real_image_peer_distillation_on_the_structured_world_needs_no_teacher(tmp_path):
    run = tmp_path / "run"
    (tmp_path / "peer.yaml").write_text(TINY_PEER.replace("OUT", str(run)))
    proc = run_cli("train", "--config", str(tmp_path / "peer.yaml"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "no two-stream teacher" in proc.stderr and "nanotrack_v2_backbone.onnx" in proc.stderr
    last = _history(run)[-1]
    assert {"peer", "peer_feature", "peer_response", "distill"} <= set(last) and last["peer"] > 0
    state = torch.load(run / "best.pt", map_location="cpu", weights_only=False)
    assert set(state["distill"]) == {"peer.adapter.weight"}  # the adapter only: the peer is not saved
