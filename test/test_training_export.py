"""A tiny real training run (two epochs of a few steps), resume, export and the ONNX/PyTorch parity check."""

import json

import numpy as np
import pytest
import torch

from rgbt_tracker_ros.models.builder import build_model
from rgbt_tracker_ros.models.config import ModelConfig
from rgbt_tracker_ros.training.export import (
    WEIGHTS_FILE, check_parity, export_student, random_inputs, real_inputs,
)
from helpers.tiny_runs import TINY_DATA, run_cli, tiny_optim

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


def test_training_writes_checkpoints_history_and_plot(trained_run):
    out, _ = trained_run
    run = out / "run"
    assert {"best.pt", "last.pt", "history.jsonl", "training.png", "config.json"} <= {p.name for p in run.iterdir()}
    history = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2]
    assert all(np.isfinite(h["val_loss"]) for h in history)


def test_resume_continues_from_the_checkpoint(trained_run):
    out, config = trained_run
    proc = run_cli("train", "--config", str(config), "--resume", str(out / "run" / "last.pt"), "--epochs", "3")
    assert proc.returncode == 0, proc.stderr[-2000:]
    history = [json.loads(line) for line in (out / "run" / "history.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert history[2]["step"] == 6


def test_export_command_checks_parity(trained_run, tmp_path):
    out, _ = trained_run
    proc = run_cli("export", "--checkpoint", str(out / "run" / "best.pt"), "--output", str(tmp_path / "model"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "max |ONNX - PyTorch|" in proc.stdout
    meta = json.loads((tmp_path / "model" / "model.json").read_text())
    assert meta["search_size"] == 160 and meta["files"] == {"template": "template.onnx", "search": "search.onnx"}


def test_export_rejects_a_missing_checkpoint(tmp_path):
    proc = run_cli("export", "--checkpoint", str(tmp_path / "none.pt"), "--output", str(tmp_path / "m"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_parity_check_fails_when_the_graph_does_not_match(tmp_path):
    torch.manual_seed(0)
    model = build_model(ModelConfig())
    export_student(model, tmp_path)
    assert check_parity(model, tmp_path, random_inputs(model.config, 1)) < 1e-4
    other = build_model(ModelConfig())  # different random weights
    with pytest.raises(AssertionError, match="differs from PyTorch"):
        check_parity(other, tmp_path, random_inputs(model.config, 1))


def test_shipped_model_matches_its_pytorch_weights(repo_root):
    """The default model in weights/student: its ONNX graphs against the PyTorch weights shipped beside them."""
    from rgbt_tracker_ros.common.config_io import from_dict

    folder = repo_root / "rgbt_tracker_ros" / "weights" / "student"
    state = torch.load(folder / WEIGHTS_FILE, map_location="cpu", weights_only=False)
    model = build_model(from_dict(ModelConfig, state["config"]["model"]))
    model.load_state_dict(state["model"])
    inputs = random_inputs(model.config, 2) + real_inputs(model.config, 2)
    assert check_parity(model, folder, inputs, tolerance=1e-3) < 1e-3


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


def test_init_rejects_a_missing_checkpoint_and_another_model_kind(trained_run, tmp_path):
    out, config = trained_run
    proc = run_cli("train", "--config", str(config), "--output-dir", str(tmp_path / "a"),
                "--set", f"run.init={tmp_path / 'missing.pt'}")
    assert proc.returncode != 0 and "run.init" in proc.stderr and "does not exist" in proc.stderr
    proc = run_cli("train", "--config", str(config), "--output-dir", str(tmp_path / "b"), "--set", "model.kind=teacher",
                "--set", f"run.init={out / 'run' / 'best.pt'}")
    assert proc.returncode != 0 and "holds a 'student' model" in proc.stderr


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


def test_a_file_that_is_not_a_checkpoint_gives_a_clear_error(trained_run, tmp_path):
    _, config = trained_run
    bad = tmp_path / "notes.pt"
    bad.write_text("not a checkpoint\n")
    for proc in (run_cli("export", "--checkpoint", str(bad), "--output", str(tmp_path / "m")),
                 run_cli("train", "--config", str(config), "--output-dir", str(tmp_path / "r"), "--set", f"run.init={bad}")):
        assert proc.returncode == 2 and "cannot load checkpoint" in proc.stderr and "Traceback" not in proc.stderr


def test_bf16_forward_gives_float32_losses_close_to_fp32(tmp_path):
    from rgbt_tracker_ros.common.config_io import load_yaml_config
    from rgbt_tracker_ros.training.config import TrainConfig
    from rgbt_tracker_ros.training.trainer import Trainer

    config = tmp_path / "tiny.yaml"
    config.write_text(TINY_CONFIG.replace("OUT", str(tmp_path / "run")))
    losses = {}
    for precision in ("fp32", "bf16"):
        torch.manual_seed(0)
        trainer = Trainer(load_yaml_config(TrainConfig, config, [f"run.precision={precision}"]))
        if precision == "fp32":
            batch = next(iter(trainer.data_loader()))
            weights = trainer.model.state_dict()
        trainer.model.load_state_dict(weights)
        loss, parts = trainer.objective(batch)
        assert loss.dtype == torch.float32
        loss.backward()
        assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in trainer.model.parameters()
                   if p.requires_grad)
        losses[precision] = loss.item()
    assert losses["bf16"] == pytest.approx(losses["fp32"], rel=0.05)
    assert losses["bf16"] != losses["fp32"]  # the bf16 pass really ran in reduced precision


def test_unknown_precision_is_a_clear_error(trained_run, tmp_path):
    _, config = trained_run
    proc = run_cli("train", "--config", str(config), "--output-dir", str(tmp_path / "p"), "--set", "run.precision=fp16")
    assert proc.returncode == 2
    assert "run.precision must be one of fp32, bf16, got 'fp16'" in proc.stderr


def test_train_bench_times_both_precisions_and_writes_nothing(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY_CONFIG.replace("OUT", str(tmp_path / "run")))
    proc = run_cli("train-bench", "--config", str(config), "--steps", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line.split(" | ") for line in proc.stdout.splitlines() if line.startswith(("fp32 |", "bf16 |"))]
    assert [r[0] for r in rows] == ["fp32", "bf16"]
    assert all(float(r[1]) > 0 and r[3].endswith("x") for r in rows)
    assert not (tmp_path / "run").exists()
    proc = run_cli("train-bench", "--config", str(config), "--steps", "0")
    assert proc.returncode == 2 and "--steps must be at least 1" in proc.stderr


def test_unknown_device_is_a_clear_error(trained_run, tmp_path):
    _, config = trained_run
    for proc in (run_cli("train", "--config", str(config), "--output-dir", str(tmp_path / "d"), "--device", "gpu0"),
                 run_cli("train-bench", "--config", str(config), "--steps", "1", "--device", "gpu0")):
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert "run.device must be auto, cpu, cuda or cuda:N, got 'gpu0'" in proc.stderr
