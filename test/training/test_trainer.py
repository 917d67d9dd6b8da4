"""The one training loop (training/trainer.py) and its objective hook: a distillation step leaves the
teacher untouched, a config without a term's section trains without that term, bf16 forward passes,
the shared schedule, and the compression objective driving a pipeline stage."""

import json
from dataclasses import asdict

import pytest
import torch

from rgbt_tracker_ros.common.config_io import load_yaml_config
from rgbt_tracker_ros.distill import DistillConfig, MaskingConfig, PathSelectionConfig, SpecificCommonConfig, StyleContentConfig
from rgbt_tracker_ros.distill.common import feature_channels, freeze
from rgbt_tracker_ros.distill.compression import CompressionConfig, FeatureMatchingLoss
from rgbt_tracker_ros.models.builder import build_model
from rgbt_tracker_ros.models.config import BackboneConfig, HeadConfig, ModelConfig
from rgbt_tracker_ros.models.losses import LossConfig
from rgbt_tracker_ros.models.single_modality import SingleModalityStudent
from rgbt_tracker_ros.training.config import OptimConfig, RunConfig, TrainConfig
from rgbt_tracker_ros.training.objectives import CompressionObjective
from rgbt_tracker_ros.training.trainer import Stage, Trainer, learning_rate

from helpers.tiny_runs import TINY_DATA, tiny_optim

pytestmark = pytest.mark.torch

TINY_STUDENT = ModelConfig(backbone=BackboneConfig(8, ((8, 1, 2), (16, 0, 2), (16, 0, 1)), 16), head=HeadConfig(16, 1))
TINY_TEACHER = ModelConfig(kind="teacher", backbone=BackboneConfig(8, ((12, 1, 2), (24, 1, 2), (24, 1, 1)), 24),
                           head=HeadConfig(16, 1))
TINY_CONFIG = "name: tiny\n" + TINY_DATA + f"""
optim: {tiny_optim(2)}
run: {{output_dir: OUT, workers: 0, threads: 1}}
"""


def _tiny_batch(n=2):
    g = torch.Generator().manual_seed(1)
    return {
        "template_visible": torch.rand(n, 3, 80, 80, generator=g) * 255,
        "template_thermal": torch.rand(n, 1, 80, 80, generator=g) * 255,
        "search_visible": torch.rand(n, 3, 160, 160, generator=g) * 255,
        "search_thermal": torch.rand(n, 1, 160, 160, generator=g) * 255,
        "box": torch.tensor([[60.0, 64.0, 30.0, 24.0], [20.0, 90.0, 40.0, 40.0]])[:n],
        "has_target": torch.tensor([True, True])[:n],
    }


@pytest.fixture
def teacher_checkpoint(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "teacher.pt"
    torch.save({"model": build_model(TINY_TEACHER).state_dict(), "config": {"model": asdict(TINY_TEACHER)}}, path)
    return path


def test_distillation_step_leaves_the_teacher_untouched(tmp_path, teacher_checkpoint):
    distill = DistillConfig(teacher=str(teacher_checkpoint), specific_common=SpecificCommonConfig(),
                            path_selection=PathSelectionConfig(), style_content=StyleContentConfig(),
                            masking=MaskingConfig(0.25))
    config = TrainConfig(model=TINY_STUDENT, run=RunConfig(output_dir=str(tmp_path / "run"), device="cpu"),
                         distill=distill)
    trainer = Trainer(config)
    teacher, adapters = trainer.objective.teacher, trainer.objective.distill
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
    before_teacher = {k: v.clone() for k, v in teacher.state_dict().items()}
    before_student = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    parts = trainer.train_step(_tiny_batch())
    assert {"specific_common", "path_selection", "style_content", "distill", "focal"} <= set(parts)
    assert all(p.grad is None for p in teacher.parameters())
    assert all(torch.equal(v, before_teacher[k]) for k, v in teacher.state_dict().items())  # BN stats too
    assert not teacher.training
    changed = [k for k, v in trainer.model.state_dict().items() if not torch.equal(v, before_student[k])]
    assert changed  # the student learned
    assert all(p.grad is not None for p in adapters.parameters())  # the adapters learn with it
    # the adapters stay out of the student's weights (what export writes)
    assert not any(k.startswith("terms.") for k in trainer.model.state_dict())


def test_a_config_without_a_terms_section_trains_without_that_term(tmp_path, teacher_checkpoint):
    yaml = tmp_path / "sc.yaml"
    yaml.write_text(f"model: {{backbone: {{stem_channels: 8, stages: [[8, 1, 2], [16, 0, 2], [16, 0, 1]], "
                    f"out_channels: 16}}, head: {{channels: 16, tower_depth: 1}}}}\n"
                    f"distill: {{teacher: {teacher_checkpoint}, specific_common: {{weight: 2.0}}}}\n"
                    f"run: {{output_dir: {tmp_path / 'run'}, device: cpu}}\n")
    trainer = Trainer(load_yaml_config(TrainConfig, yaml))
    assert set(trainer.objective.distill.terms) == {"specific_common"}
    assert trainer.objective.config.distill.masking is None
    parts = trainer.train_step(_tiny_batch())
    assert {"specific_common", "sc_common", "sc_specific", "distill"} <= set(parts)
    assert not {"path_selection", "style_content", "ckd_style", "ckd_content", "ps_rgb"} & set(parts)
    assert parts["distill"] == pytest.approx(parts["specific_common"])
    state = torch.load(trainer.save("last.pt"), weights_only=False)
    assert state["distill"] and all(k.startswith("terms.specific_common.") for k in state["distill"])


def test_bf16_forward_gives_float32_losses_close_to_fp32(tmp_path):
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


def test_one_schedule_warm_up_then_cosine_to_two_percent():
    optim = OptimConfig(lr=1.0, epochs=2, steps_per_epoch=10, warmup_steps=4)
    assert [learning_rate(optim, s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert learning_rate(optim, 4) == pytest.approx(1.0)
    assert learning_rate(optim, 12) == pytest.approx(0.02 + 0.98 * 0.5)  # half way through the decay
    assert learning_rate(optim, 20) == pytest.approx(0.02) and learning_rate(optim, 50) == pytest.approx(0.02)


def test_the_objective_hook_drives_a_compression_stage(tmp_path):
    """The compress pipeline's distil stage, by hand: the thermal student, the frozen RGB teacher and
    the matching term in a CompressionObjective, run by the Trainer as a Stage."""
    torch.manual_seed(0)
    teacher = freeze(build_model(ModelConfig()))
    student = SingleModalityStudent.from_student(teacher, "thermal")
    for p in student.parameters():
        p.requires_grad_(True)
    distiller = FeatureMatchingLoss(CompressionConfig(levels=(1, -1)), feature_channels(student), feature_channels(teacher))
    objective = CompressionObjective(student, teacher, distiller, LossConfig(), "fp32", bn_l1=1e-5)
    base = load_yaml_config(TrainConfig, _write(tmp_path, TINY_CONFIG.replace("OUT", str(tmp_path / "distil"))))
    config = TrainConfig(name="tiny", model=student.config, data=base.data, optim=base.optim, run=base.run)
    stage = Stage("distil", {"model": asdict(student.config), "input_modality": "thermal"})
    teacher_before = {k: v.clone() for k, v in teacher.state_dict().items()}
    best = Trainer(config, model=student, objective=objective, stage=stage, progress=False).fit()

    out = tmp_path / "distil"
    assert best == out / "best.pt"
    assert {p.name for p in out.iterdir()} == {"best.pt", "last.pt", "history.jsonl"}  # no config.json, no plot
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert [(h["stage"], h["epoch"], h["step"]) for h in history] == [("distil", 1, 2), ("distil", 2, 4)]
    assert all(h["compress"] > 0 and h["bn_l1"] > 0 and h["val_compress"] > 0 for h in history)
    assert list(history[0])[:3] == ["stage", "epoch", "step"]
    last = torch.load(out / "last.pt", weights_only=False)
    assert last["stage"] == "distil" and last["config"] == stage.checkpoint_config and last["step"] == 4
    assert set(last["distiller"]) == {"adapters.1.weight", "adapters.3.weight"}
    assert last["best_val"] == min(h["val_loss"] for h in history)  # best.pt is written before last.pt
    assert all(torch.equal(v, teacher_before[k]) for k, v in teacher.state_dict().items())


def _write(tmp_path, text):
    path = tmp_path / "tiny.yaml"
    path.write_text(text)
    return path
