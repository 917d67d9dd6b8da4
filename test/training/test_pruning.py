"""Structured channel pruning: the requested fraction goes, shapes stay, the pruned model is exact where
it should be, rebuilds from its stored config, exports to the runtime contract and matches PyTorch."""

import dataclasses
import json
import logging

import numpy as np
import pytest
import torch

from rgbt_tracker_ros.common.config_io import from_dict
from rgbt_tracker_ros.models.builder import build_model
from rgbt_tracker_ros.models.checkpoint import load_checkpoint_model
from rgbt_tracker_ros.models.config import BackboneConfig, ModelConfig
from rgbt_tracker_ros.models.single_modality import SingleModalityStudent
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.tracker import RGBTTracker
from rgbt_tracker_ros.training.export import check_parity, export_student, random_inputs, real_inputs
from rgbt_tracker_ros.training.pruning import (
    PruningConfig, bn_l1_penalty, channel_groups, prune, prune_channels, step_cost,
)

pytestmark = pytest.mark.torch


def _randomised(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Trained-looking BN statistics and scales, so that channel ranking has something to rank."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=g) + 0.05
            m.bias.data = torch.randn(n, generator=g) * 0.1
            m.running_mean = torch.randn(n, generator=g) * 0.1
            m.running_var = torch.rand(n, generator=g) + 0.5
    return model.eval()


def _inputs(config: ModelConfig, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    z, s = config.template_size, config.search_size
    r = lambda *shape: torch.rand(*shape, generator=g) * 255  # noqa: E731
    return r(1, 3, z, z), r(1, 1, z, z), r(1, 3, s, s), r(1, 1, s, s)


def _step(model, inputs):
    tv, tt, sv, st = inputs
    with torch.no_grad():
        out = model.track_step(model.template_features(tv, tt), sv, st)
    return {k: out[k] for k in ("score_logits", "size", "offset")}, out["search"]["fused"]


@pytest.mark.parametrize("target, keep", [("flops", 0.5), ("params", 0.6)])
def test_pruning_removes_the_requested_fraction(target, keep):
    torch.manual_seed(0)
    model = _randomised(SingleModalityStudent(ModelConfig(), "thermal"))
    result = prune(model, PruningConfig(keep=keep, target=target))
    measured = "macs" if target == "flops" else "params"
    kept = result.after[measured] / result.before[measured]
    assert keep - 0.06 <= kept <= keep, result.summary()
    assert step_cost(result.model)[measured] == result.after[measured]
    assert sum(p.numel() for p in result.model.parameters()) < sum(p.numel() for p in model.parameters())
    # The neck (what fusion, correlation and head read) keeps its width; the backbone got narrower.
    assert result.config.backbone.out_channels == model.config.backbone.out_channels
    assert result.config.backbone.stages[1][0] < model.config.backbone.stages[1][0]


def test_output_shapes_unchanged_and_full_keep_is_exact():
    model = _randomised(SingleModalityStudent(ModelConfig(), "thermal"))
    inputs = _inputs(model.config)
    before, _ = _step(model, inputs)
    pruned = prune(model, PruningConfig(keep=0.4)).model.eval()
    after, _ = _step(pruned, inputs)
    assert {k: v.shape for k, v in after.items()} == {k: v.shape for k, v in before.items()}
    same = prune(model, PruningConfig(keep=1.0)).model.eval()
    again, _ = _step(same, inputs)
    for k in before:
        assert torch.equal(before[k], again[k])


@pytest.mark.parametrize("single_modality", [True, False])
def test_channels_that_carry_nothing_are_removed_exactly(single_modality):
    """Zero the BN scale and shift of some channels of every group (in every producer of a residual
    stream): those channels are constant zero, so removing them must not change any output."""
    config = ModelConfig()
    model = SingleModalityStudent(config, "thermal") if single_modality else build_model(config)
    _randomised(model, seed=1)
    widths = {}
    g = torch.Generator().manual_seed(2)
    for group in channel_groups(model):
        dead = torch.randperm(group.width, generator=g)[: group.width // 3]
        for _, bn in group.producers:
            bn.weight.data[dead] = 0.0
            bn.bias.data[dead] = 0.0
        widths[group.name] = group.width - len(dead)
    inputs = _inputs(config, seed=3)
    before, fused_before = _step(model, inputs)
    pruned, keep = prune_channels(model, widths, "bn")
    after, fused_after = _step(pruned.eval(), inputs)
    assert set(keep) == set(widths)
    assert torch.allclose(fused_before, fused_after, atol=1e-5)
    for k in before:
        assert torch.allclose(before[k], after[k], atol=1e-5), k
    assert type(pruned) is type(model)


def test_inner_width_overrides_rebuild_from_the_stored_config(tmp_path):
    model = _randomised(SingleModalityStudent(ModelConfig(), "thermal"))
    result = prune(model, PruningConfig(keep=0.8, groups=("inner",), criterion="l1"))
    config = result.config
    assert config.backbone.inner_channels  # only block inner widths were cut: overrides are stored
    assert config.backbone.stages == model.config.backbone.stages
    rebuilt = build_model(from_dict(ModelConfig, json.loads(json.dumps(dataclasses.asdict(config)))))
    rebuilt.load_state_dict(result.model.state_dict())  # shapes agree: the config describes the widths
    assert sum(p.numel() for p in rebuilt.parameters()) == result.after["params"]


def test_backbone_width_overrides_are_default_off_and_checked():
    assert BackboneConfig().inner_channels == ()
    old = {"stem_channels": 24, "stages": [[32, 1, 2], [64, 2, 2], [96, 0, 1]], "out_channels": 64}
    assert from_dict(BackboneConfig, old) == BackboneConfig()  # configs written before the field load
    default = build_model(ModelConfig())
    explicit = build_model(ModelConfig(backbone=BackboneConfig(inner_channels=((32,), (64, 64), ()))))
    assert [p.shape for p in default.parameters()] == [p.shape for p in explicit.parameters()]
    with pytest.raises(ValueError, match="one width per residual block"):
        BackboneConfig(inner_channels=((32,), (64,), ()))


def test_bn_sparsity_penalty_is_differentiable():
    model = SingleModalityStudent(ModelConfig(), "thermal")
    penalty = bn_l1_penalty(model)
    penalty.backward()
    assert penalty.item() > 0
    assert model.backbone.stem[1].weight.grad is not None


@pytest.fixture(scope="module")
def exported_pruned(tmp_path_factory):
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    out = tmp_path_factory.mktemp("pruned")
    torch.manual_seed(0)
    model = _randomised(SingleModalityStudent(ModelConfig(), "thermal"))
    pruned = prune(model, PruningConfig(keep=0.5)).model.eval()
    export_student(pruned, out, name="thermal_pruned")
    return pruned, out


@pytest.mark.slow  # the exported_pruned fixture: an ONNX export (about 5 s)
def test_pruned_model_exports_and_onnx_matches_pytorch(exported_pruned):
    import onnx

    model, out = exported_pruned
    assert check_parity(model, out, random_inputs(model.config, 2), 1e-3) < 1e-3
    assert check_parity(model, out, real_inputs(model.config, 2), 1e-3) < 1e-3
    meta = json.loads((out / "model.json").read_text())
    assert meta["name"] == "thermal_pruned" and meta["input_modality"] == "thermal"
    assert meta["model_config"]["backbone"]["stages"][1][0] < 64
    # The runtime contract is intact: every input is still there (the visible ones unused).
    assert [i.name for i in onnx.load(str(out / "template.onnx")).graph.input] == ["template_visible", "template_thermal"]
    assert [i.name for i in onnx.load(str(out / "search.onnx")).graph.input] == [
        "template_features", "search_visible", "search_thermal"]


@pytest.mark.slow  # the exported_pruned fixture: an ONNX export (about 5 s)
def test_pruned_export_reloads_and_the_runtime_runs_it(exported_pruned):
    model, out = exported_pruned
    reloaded, _ = load_checkpoint_model(out / "student.pt")
    assert isinstance(reloaded, SingleModalityStudent) and reloaded.modality == "thermal"
    inputs = _inputs(model.config, seed=5)
    a, _ = _step(model, inputs)
    b, _ = _step(reloaded, inputs)
    for k in a:
        assert torch.equal(a[k], b[k])
    tracker = RGBTTracker(TrackerConfig(model=out, providers=("cpu",), threads=1))
    rng = np.random.default_rng(0)
    thermal = rng.integers(0, 255, (120, 160), dtype=np.uint8)
    tracker.initialize(None, thermal, (60, 40, 20, 30))
    assert tracker.track(None, thermal).box.shape == (4,)
