"""Compression distillation (Li et al.): the feature-matching loss on hand-made tensors, the frozen RGB
teacher, the thermal-only student; the pipeline run is test/commands/test_compress.py."""

import pytest
import torch

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.distill.common import feature_channels, freeze
from rgbt_tracker_ros.distill.compression import (
    CompressionConfig, FeatureMatchingLoss, compression_loss, grey_of, rgb_branch_features,
)
from rgbt_tracker_ros.models.builder import build_model
from rgbt_tracker_ros.models.config import ModelConfig
from rgbt_tracker_ros.models.losses import LossConfig, TrackingLoss, make_targets
from rgbt_tracker_ros.models.precision import as_float32, forward_autocast
from rgbt_tracker_ros.models.single_modality import SingleModalityStudent

pytestmark = pytest.mark.torch


def test_matching_loss_known_values_with_identity_adapters():
    student = [torch.ones(1, 2, 2, 2), torch.full((1, 3, 2, 2), 2.0), torch.zeros(1, 3, 1, 1)]
    teacher = [torch.zeros(1, 2, 2, 2), torch.ones(1, 3, 2, 2), torch.full((1, 3, 1, 1), 3.0)]
    loss = FeatureMatchingLoss(CompressionConfig(weight=0.5, levels=(0, 1)), [2, 3, 3], [2, 3, 3])
    # level 0: mean((1 - 0)^2) = 1; level 1: mean((2 - 1)^2) = 1; mean over levels 1; times 0.5
    assert loss(student, teacher).item() == pytest.approx(0.5)
    neck_only = FeatureMatchingLoss(CompressionConfig(weight=1.0, levels=(-1,)), [2, 3, 3], [2, 3, 3])
    assert neck_only.levels == [2]
    assert neck_only(student, teacher).item() == pytest.approx(9.0)


def test_matching_loss_adapter_between_widths_and_sizes():
    loss = FeatureMatchingLoss(CompressionConfig(weight=1.0, levels=(0,)), [2], [1])
    with torch.no_grad():
        loss.adapters["0"].weight.copy_(torch.tensor([[[[1.0]], [[2.0]]]]))  # t_hat = s0 + 2 s1
    s = torch.stack([torch.ones(2, 2), torch.full((2, 2), 3.0)]).unsqueeze(0)  # 1x2x2x2 -> t_hat = 7
    t = torch.full((1, 1, 4, 4), 5.0)  # bigger map: the student's is resized (constant stays 7)
    assert loss([s], [t]).item() == pytest.approx(4.0)
    loss.prune_inputs(0, torch.tensor([1]))  # keep the student's channel 1 only: t_hat = 2 * 3 = 6
    assert loss([s[:, 1:]], [t]).item() == pytest.approx(1.0)


def test_config_switches_the_term_off_and_checks_levels():
    assert not CompressionConfig(enabled=False).active
    assert not CompressionConfig(weight=0.0).active
    assert CompressionConfig().active
    with pytest.raises(InputError, match="compression.levels: level 4 does not exist"):
        FeatureMatchingLoss(CompressionConfig(levels=(4,)), [8, 8, 8, 8], [8, 8, 8, 8])


def _batch(config: ModelConfig, b: int = 2, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    z, s = config.template_size, config.search_size
    r = lambda *shape: torch.rand(*shape, generator=g) * 255  # noqa: E731
    return {"template_visible": r(b, 3, z, z), "template_thermal": r(b, 1, z, z),
            "search_visible": r(b, 3, s, s), "search_thermal": r(b, 1, s, s),
            "box": torch.tensor([[60.0, 60.0, 40.0, 40.0]] * b), "has_target": torch.ones(b, dtype=torch.bool)}


def _teacher_student_distiller(config: ModelConfig):
    """A frozen RGB teacher, the trainable thermal student copied from it, and the matching term."""
    torch.manual_seed(0)
    teacher = freeze(build_model(config))
    student = SingleModalityStudent.from_student(teacher, "thermal").train()
    for p in student.parameters():
        p.requires_grad_(True)
    return teacher, student, FeatureMatchingLoss(CompressionConfig(), feature_channels(student), feature_channels(teacher))


def test_rgb_teacher_gets_no_gradient_and_the_student_does():
    config = ModelConfig()
    teacher, student, distiller = _teacher_student_distiller(config)
    batch = _batch(config)
    out = student(batch["template_visible"], batch["template_thermal"], batch["search_visible"], batch["search_thermal"])
    targets = make_targets(batch["box"], batch["has_target"], config.search_size, config.feature_size)
    box, _ = TrackingLoss(LossConfig())(out, targets)
    kd = compression_loss(distiller, out, teacher, batch["template_visible"], batch["search_visible"])
    assert kd.item() > 0
    (box + kd).backward()
    assert all(p.grad is None for p in teacher.parameters())
    assert not teacher.training
    assert student.backbone.stem[0].weight.grad is not None
    assert all(a.weight.grad is not None for a in distiller.adapters.values())


def test_bf16_forward_keeps_the_matching_term_in_float32():
    """run.precision=bf16 in the compress pipeline: the student and the teacher run under autocast,
    the adapters and the term stay float32 and close to the fp32 value."""
    config = ModelConfig()
    teacher, student, distiller = _teacher_student_distiller(config)
    batch = _batch(config)
    inputs = [batch[k] for k in ("template_visible", "template_thermal", "search_visible", "search_thermal")]
    values = {}
    for precision in ("fp32", "bf16"):
        with forward_autocast(torch.device("cpu"), precision):
            out = as_float32(student(*inputs))
            kd = compression_loss(distiller, out, teacher, batch["template_visible"], batch["search_visible"])
        assert kd.dtype == torch.float32
        distiller.zero_grad()
        kd.backward()
        assert all(a.weight.grad.dtype == torch.float32 for a in distiller.adapters.values())
        values[precision] = kd.item()
    assert values["bf16"] != values["fp32"]  # the autocast took effect
    assert values["bf16"] == pytest.approx(values["fp32"], rel=0.05)


def test_thermal_student_reads_only_the_thermal_inputs():
    config = ModelConfig()
    torch.manual_seed(0)
    student = SingleModalityStudent(config, "thermal").eval()
    a, b = _batch(config, 1, seed=1), _batch(config, 1, seed=2)
    with torch.no_grad():
        out_a = student(a["template_visible"], a["template_thermal"], a["search_visible"], a["search_thermal"])
        out_b = student(b["template_visible"], a["template_thermal"], b["search_visible"], a["search_thermal"])
    assert torch.equal(out_a["score_logits"], out_b["score_logits"])
    # Same weights as an RGB-T student fed thermal in both inputs up to the shared backbone's features.
    rgbt = build_model(config).eval()
    rgbt.load_state_dict(student.state_dict())
    with torch.no_grad():
        feats = rgbt.encode(a["search_thermal"].expand(-1, 3, -1, -1), a["search_thermal"])
    assert torch.allclose(out_a["search"]["thermal"][-1], feats["thermal"][-1], atol=1e-5)


def test_rgb_branch_features_of_a_student_and_of_a_two_stream_teacher():
    config = ModelConfig()
    student = build_model(config).eval()
    visible = _batch(config, 1)["search_visible"]
    feats = rgb_branch_features(student, visible)
    with torch.no_grad():
        expected = student.encode(visible, grey_of(visible))["visible"]
    assert [f.shape for f in feats] == [f.shape for f in expected]
    assert all(torch.allclose(f, e, atol=1e-5) for f, e in zip(feats, expected))
    try:
        teacher = build_model(ModelConfig(kind="teacher")).eval()
    except ValueError:
        pytest.skip("no two-stream teacher kind registered")
    with torch.no_grad():
        feats = rgb_branch_features(teacher, visible)
    assert [f.shape[1] for f in feats] == feature_channels(teacher)
