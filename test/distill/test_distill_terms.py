"""The distillation terms on hand-made tensors with known values, and switching terms off
(docs/distillation.md); the distillation step through the Trainer is test/training/test_trainer.py."""

import math
from types import SimpleNamespace

import pytest
import torch

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.distill import (
    DistillConfig, DistillationLoss, PathSelectionConfig, PathSelectionLoss, SpecificCommonConfig,
    SpecificCommonLoss, StyleContentConfig, StyleContentLoss,
)
from rgbt_tracker_ros.distill.path_selection import binary_kl, box_loss_per_sample, select_paths
from rgbt_tracker_ros.distill.specific_common import decompose
from rgbt_tracker_ros.distill.style_content import EPS, mask_patches
from rgbt_tracker_ros.models.builder import build_model
from rgbt_tracker_ros.models.config import BackboneConfig, HeadConfig, ModelConfig
from rgbt_tracker_ros.models.losses import LossConfig, make_targets

pytestmark = pytest.mark.torch

TINY_STUDENT = ModelConfig(backbone=BackboneConfig(8, ((8, 1, 2), (16, 0, 2), (16, 0, 1)), 16), head=HeadConfig(16, 1))
TINY_TEACHER = ModelConfig(kind="teacher", backbone=BackboneConfig(8, ((12, 1, 2), (24, 1, 2), (24, 1, 1)), 24),
                           head=HeadConfig(16, 1))


def _features(visible, thermal):
    return {"search": {"visible": [visible], "thermal": [thermal]}}


def _net(*channels, paths=False):
    """A stand-in model: what the terms read of it (feature widths, path names)."""
    return SimpleNamespace(feature_channels=list(channels), **({"path_names": ("rgb", "thermal", "fused")} if paths else {}))


# -- CKD style and content -------------------------------------------------------------------------
def test_style_loss_from_channel_statistics_by_hand():
    # 1 sample, 2 channels, 1 x 2 cells. visible: ch0 = [1, 3] (mu 2, var 1), ch1 = [0, 0] (mu 0, var 0)
    #                                    thermal: ch0 = [0, 0] (mu 0, var 0), ch1 = [2, 6] (mu 4, var 4)
    visible = torch.tensor([[[[1.0, 3.0]], [[0.0, 0.0]]]])
    thermal = torch.tensor([[[[0.0, 0.0]], [[2.0, 6.0]]]])
    sd = lambda var: math.sqrt(var + EPS)  # noqa: E731
    ch0 = (2 - 0) ** 2 + (sd(1) - sd(0)) ** 2
    ch1 = (0 - 4) ** 2 + (sd(0) - sd(4)) ** 2
    expected = (ch0 + ch1) / 2  # mean over (sample, channel); about 12.5 = (4 + 1 + 16 + 4) / 2
    term = StyleContentLoss(StyleContentConfig(weight=1.0, style=1.0, content=0.0, levels=(0,)), _net(2), None)
    loss, logs = term(_features(visible, thermal), None)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    assert expected == pytest.approx(12.5, abs=0.02)
    assert logs["ckd_style"] == pytest.approx(expected, rel=1e-6) and "ckd_content" not in logs
    # the default weights: 0.01 * style
    term = StyleContentLoss(StyleContentConfig(content=0.0, levels=(0,)), _net(2), None)
    assert term(_features(visible, thermal), None)[0].item() == pytest.approx(0.01 * expected, rel=1e-6)
    # identical statistics: no style loss
    assert term(_features(visible, visible), None)[0].item() == pytest.approx(0.0, abs=1e-12)


def test_content_loss_after_instance_normalisation_by_hand():
    config = StyleContentConfig(weight=1.0, style=0.0, content=1.0, levels=(0,))
    term = StyleContentLoss(config, _net(1), _net(1))
    assert list(term.parameters()) == []  # same widths: identity adapters, nothing to train
    teacher_v = torch.tensor([[[[0.0, 2.0]]]])         # IN -> [-1, 1]
    teacher_t = torch.tensor([[[[5.0, 1.0]]]])         # IN -> [1, -1]
    teacher = _features(teacher_v, teacher_t)
    # a scaled, shifted copy normalises to the same map: zero content loss
    same = _features(torch.tensor([[[[10.0, 14.0]]]]), torch.tensor([[[[3.0, 2.0]]]]))
    assert term(same, teacher)[0].item() == pytest.approx(0.0, abs=1e-6)
    # visible reversed: IN [1, -1] against [-1, 1] -> MSE = (2^2 + 2^2) / 2 = 4; thermal exact -> 0
    flipped = _features(torch.tensor([[[[1.0, 0.0]]]]), torch.tensor([[[[5.0, 1.0]]]]))
    loss, logs = term(flipped, teacher)
    assert loss.item() == pytest.approx(0.5 * 4.0, rel=1e-3)
    assert logs["ckd_content"] == pytest.approx(2.0, rel=1e-3)
    # the teacher is detached: no gradient reaches it
    teacher_v.requires_grad_(True)
    student_v = torch.tensor([[[[1.0, 0.0]]]], requires_grad=True)
    term(_features(student_v, torch.tensor([[[[5.0, 1.0]]]])), teacher)[0].backward()
    assert teacher_v.grad is None and student_v.grad is not None


def test_content_adapters_only_where_widths_differ():
    term = StyleContentLoss(StyleContentConfig(levels=(0, 1)), _net(4, 8), _net(4, 16))
    assert isinstance(term.adapters[0], torch.nn.Identity)
    assert tuple(term.adapters[1].weight.shape) == (16, 8, 1, 1)


def test_search_masking_masks_the_requested_fraction_of_patches():
    images = torch.full((3, 1, 16, 16), 200.0)
    masked = mask_patches(images, 0.25, 4, fill=114.0, generator=torch.Generator().manual_seed(0))
    cells = masked.view(3, 4, 4, 4, 4).permute(0, 1, 3, 2, 4)  # sample, patch row, patch col, 4 x 4 pixels
    filled = (cells == 114.0).all(-1).all(-1)
    assert (cells == 114.0).logical_or(cells == 200.0).all()       # whole patches, nothing else
    assert filled.sum(dim=(1, 2)).tolist() == [4, 4, 4]             # 25 % of 16 patches in every sample
    assert not torch.equal(filled[0], filled[1])                    # drawn per sample
    assert torch.equal(images, torch.full((3, 1, 16, 16), 200.0))  # the input is not modified
    assert mask_patches(images, 0.0, 4, 114.0) is images


# -- CMD specific-common ---------------------------------------------------------------------------
def test_specific_common_decomposition_identities():
    g = torch.Generator().manual_seed(0)
    tv, tt = torch.randn(2, 3, 4, 4, generator=g), torch.randn(2, 3, 4, 4, generator=g)
    common, sv, st = decompose(tv, tt)
    assert torch.allclose(common + sv, tv) and torch.allclose(common + st, tt)
    assert torch.allclose(sv, -st)
    assert torch.allclose(common, (tv + tt) / 2)
    common, sv, st = decompose(tv, tv)  # identical modalities: all common, nothing specific
    assert torch.allclose(common, tv) and sv.abs().max() == 0 and st.abs().max() == 0


def _identity_adapters(term):
    with torch.no_grad():
        for p in term.parameters():
            p.copy_(torch.ones_like(p) if p.ndim == 4 else torch.zeros_like(p))


def test_specific_common_loss_by_hand():
    # teacher: visible 2, thermal 0 -> common 1, specific +1 / -1. Student (identity adapters): both 1.
    teacher = _features(torch.full((1, 1, 1, 1), 2.0), torch.zeros(1, 1, 1, 1))
    student = _features(torch.ones(1, 1, 1, 1), torch.ones(1, 1, 1, 1))
    term = SpecificCommonLoss(SpecificCommonConfig(levels=(0,)), _net(1), _net(1))
    _identity_adapters(term)
    loss, logs = term(student, teacher)
    # common: 1/2 ((1-1)^2 + (1-1)^2) = 0; specific: 1/2 ((1-1)^2 + (1-(-1))^2) = 2
    assert logs["sc_common"] == pytest.approx(0.0) and logs["sc_specific"] == pytest.approx(2.0)
    assert loss.item() == pytest.approx(2.0)
    # the student holding the teacher's features exactly would need the common part from both inputs
    exact = _features(torch.full((1, 1, 1, 1), 2.0), torch.zeros(1, 1, 1, 1))
    _, logs = term(exact, teacher)
    assert logs["sc_common"] == pytest.approx(1.0)  # 1/2 ((2-1)^2 + (0-1)^2)
    weighted = SpecificCommonLoss(SpecificCommonConfig(weight=0.5, specific=0.0, levels=(0,)), _net(1), _net(1))
    assert weighted.specific_visible is None and weighted.specific_thermal is None
    _identity_adapters(weighted)
    assert weighted(exact, teacher)[0].item() == pytest.approx(0.5 * 1.0)


def test_levels_must_exist_in_both_networks():
    with pytest.raises(InputError, match="level 4 does not exist"):
        SpecificCommonLoss(SpecificCommonConfig(levels=(4,)), _net(1, 2, 3, 4), _net(1, 2, 3, 4))
    term = SpecificCommonLoss(SpecificCommonConfig(levels=(-1, 0)), _net(4, 8), _net(2, 6, 12))
    assert term.pairs == [(1, 2), (0, 0)]  # negative levels pair the deepest levels


# -- CMD multi-path selection ----------------------------------------------------------------------
def _prediction(feature: int, peak_cell: int, box_size: float, logit: float = 6.0):
    """Head output on a feature x feature map: score peak at peak_cell, box size box_size everywhere."""
    score = torch.full((1, 1, feature, feature), -6.0)
    score.view(-1)[peak_cell] = logit
    size = torch.full((1, 2, feature, feature), box_size)
    offset = torch.full((1, 2, feature, feature), 0.5)
    return {"score_logits": score, "size": size, "offset": offset}


def _cat(*outputs):
    return {k: torch.cat([o[k] for o in outputs]) for k in outputs[0]}


def test_path_selection_picks_the_path_that_matches_the_ground_truth():
    feature, search = 20, 160
    # sample 0: target centred in cell (i=3, j=6); sample 1: in cell (i=12, j=10). 16 px boxes = 0.1 of the crop.
    targets = make_targets(torch.tensor([[44.0, 20.0, 16.0, 16.0], [76.0, 92.0, 16.0, 16.0]]),
                           torch.tensor([True, True]), search, feature)
    c0, c1 = targets.cell.tolist()
    assert (c0, c1) == (3 * 20 + 6, 12 * 20 + 10)
    right, wrong = 0.1, 0.4
    paths = {
        "rgb": _cat(_prediction(feature, 0, wrong), _prediction(feature, c1, right)),      # right on sample 1
        "thermal": _cat(_prediction(feature, c0, right), _prediction(feature, 0, wrong)),  # right on sample 0
        "fused": _cat(_prediction(feature, c0, wrong), _prediction(feature, c1, wrong)),   # peaks right, sizes wrong
    }
    assert select_paths(paths, targets, LossConfig()).tolist() == [1, 0]
    per_sample = box_loss_per_sample(paths["thermal"], targets, LossConfig())
    assert per_sample[0] < per_sample[1]

    # a student reproducing the chosen paths exactly has no response loss; features off (no adapter)
    config = PathSelectionConfig(feature=0.0)
    term = PathSelectionLoss(config, _net(16), _net(24, paths=True), LossConfig())
    assert term.adapter is None and list(term.parameters()) == []
    chosen = _cat({k: v[:1] for k, v in paths["thermal"].items()}, {k: v[1:] for k, v in paths["rgb"].items()})
    loss, logs = term(chosen, {"path_outputs": paths}, targets)
    assert loss.item() == pytest.approx(0.0, abs=1e-6)
    assert logs["ps_rgb"] == 0.5 and logs["ps_thermal"] == 0.5 and logs["ps_fused"] == 0.0
    # learning from the fused path instead would cost box loss: its sizes are wrong at the target
    loss, logs = term(paths["fused"], {"path_outputs": paths}, targets)
    # per sample the Gaussian-weighted L1 of the size maps: |0.4 - 0.1| on both size channels
    assert logs["ps_box"] == pytest.approx(2 * 0.3, rel=1e-5)


def test_binary_kl_by_hand():
    # teacher p = 0.5, student q = 0.75: KL = 0.5 ln(0.5/0.75) + 0.5 ln(0.5/0.25)
    expected = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)
    assert binary_kl(torch.tensor([math.log(3.0)]), torch.tensor([0.0])).item() == pytest.approx(expected, rel=1e-5)
    assert binary_kl(torch.tensor([1.3]), torch.tensor([1.3])).item() == pytest.approx(0.0, abs=1e-6)


def test_path_selection_needs_a_multi_path_teacher():
    with pytest.raises(InputError, match="multi-path teacher"):
        PathSelectionLoss(PathSelectionConfig(), _net(16), _net(16), LossConfig())


# -- composition, switches, the frozen teacher -----------------------------------------------------
@pytest.fixture(scope="module")
def tiny_pair():
    torch.manual_seed(0)
    return build_model(TINY_STUDENT), build_model(TINY_TEACHER)


def _all_on(**changes):
    """Every term's section present (with its defaults), then `changes`."""
    sections = {"specific_common": SpecificCommonConfig(), "path_selection": PathSelectionConfig(),
                "style_content": StyleContentConfig()}
    return DistillConfig(teacher="x", **(sections | changes))


@pytest.mark.parametrize("off", [
    {"specific_common": SpecificCommonConfig(enabled=False)},
    {"path_selection": PathSelectionConfig(weight=0.0)},
    {"style_content": StyleContentConfig(enabled=False)},
    {"specific_common": None},   # no section: off
    {"path_selection": None},
    {"style_content": None},
])
def test_each_term_can_be_switched_off(tiny_pair, off):
    student, teacher = tiny_pair
    (name,) = off
    full = DistillationLoss(_all_on(), student, teacher, LossConfig())
    less = DistillationLoss(_all_on(**off), student, teacher, LossConfig())
    assert set(full.terms) == {"specific_common", "path_selection", "style_content"}
    assert set(less.terms) == set(full.terms) - {name}
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert n(less) == n(full) - n(full.terms[name])
    none = DistillationLoss(_all_on(specific_common=SpecificCommonConfig(enabled=False),
                                    path_selection=PathSelectionConfig(enabled=False),
                                    style_content=StyleContentConfig(weight=0.0)), student, teacher, LossConfig())
    assert len(none.terms) == 0 and n(none) == 0
    no_sections = DistillationLoss(DistillConfig(teacher="x"), student, teacher, LossConfig())
    assert len(no_sections.terms) == 0 and n(no_sections) == 0


def test_a_disabled_term_is_not_computed(tiny_pair, monkeypatch):
    student, teacher = tiny_pair
    loss = DistillationLoss(_all_on(style_content=StyleContentConfig(enabled=False)), student, teacher, LossConfig())
    calls = []
    monkeypatch.setattr(StyleContentLoss, "forward", lambda *a: calls.append(a))
    inputs = (torch.rand(2, 3, 80, 80) * 255, torch.rand(2, 1, 80, 80) * 255,
              torch.rand(2, 3, 160, 160) * 255, torch.rand(2, 1, 160, 160) * 255)
    targets = make_targets(torch.tensor([[60.0, 60.0, 30.0, 30.0]] * 2), torch.tensor([True, False]), 160, 20)
    with torch.no_grad():
        total, logs = loss(student(*inputs), teacher(*inputs), targets)
    assert calls == [] and "style_content" not in logs and torch.isfinite(total)
