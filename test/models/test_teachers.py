"""The two-stream teachers (kinds teacher, teacher_mp): output contract, exposed features, size,
ONNX export with parity, and loading one as the frozen distillation teacher (docs/distillation.md)."""

import json
from dataclasses import asdict, replace

import pytest
import torch

from rgbt_tracker_ros.common.config_io import load_yaml_config
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.distill.loss import load_teacher
from rgbt_tracker_ros.models.builder import build_model, parameter_count
from rgbt_tracker_ros.models.config import BackboneConfig, HeadConfig, ModelConfig
from rgbt_tracker_ros.models.prompts import MutualPromptTeacher
from rgbt_tracker_ros.models.teacher import PATHS, TwoStreamTeacher
from rgbt_tracker_ros.training.config import TrainConfig
from rgbt_tracker_ros.training.export import check_parity, export_student, random_inputs, real_inputs

pytestmark = pytest.mark.torch

TINY_BACKBONE = BackboneConfig(8, ((12, 1, 2), (16, 1, 2), (24, 1, 1)), 16)
KINDS = ("teacher", "teacher_mp")


def _tiny(kind):
    return ModelConfig(kind=kind, backbone=TINY_BACKBONE, head=HeadConfig(16, 1))


def _inputs(batch=2):
    g = torch.Generator().manual_seed(0)
    return (torch.rand(batch, 3, 80, 80, generator=g) * 255, torch.rand(batch, 1, 80, 80, generator=g) * 255,
            torch.rand(batch, 3, 160, 160, generator=g) * 255, torch.rand(batch, 1, 160, 160, generator=g) * 255)


@pytest.mark.parametrize("kind", KINDS)
def test_teacher_forward_output_contract(kind):
    torch.manual_seed(0)
    model = build_model(_tiny(kind))
    assert isinstance(model, MutualPromptTeacher if kind == "teacher_mp" else TwoStreamTeacher)
    out = model(*_inputs())
    for prediction in [out, *out["path_outputs"].values()]:
        assert prediction["score_logits"].shape == (2, 1, 20, 20)
        assert prediction["size"].shape == (2, 2, 20, 20) and prediction["offset"].shape == (2, 2, 20, 20)
    assert tuple(out["path_outputs"]) == PATHS
    # each path is a predictor of its own: no two give the same score map
    scores = [p["score_logits"] for p in out["path_outputs"].values()]
    assert not any(torch.allclose(a, b) for i, a in enumerate(scores) for b in scores[i + 1:])
    for part, cells in (("search", 20), ("template", 10)):
        feats = out[part]
        # per-modality features of every stage, then the neck
        for modality in ("visible", "thermal"):
            assert [tuple(f.shape[1:]) for f in feats[modality]] == [
                (12, 2 * cells, 2 * cells), (16, cells, cells), (24, cells, cells), (16, cells, cells)]
        assert feats["fused"].shape == (2, 16, cells, cells)
        assert set(feats["paths"]) == set(PATHS) and all(p.shape == (2, 16, cells, cells) for p in feats["paths"].values())
        assert torch.allclose(feats["path_weights"].sum(1), torch.ones(2))
        # the fused feature is the per-sample weighted sum of the paths
        w = feats["path_weights"]
        mix = sum(w[:, i, None, None, None] * feats["paths"][name] for i, name in enumerate(PATHS))
        assert torch.allclose(feats["fused"], mix, atol=1e-5)
    assert model.feature_channels == [12, 16, 24, 16]
    assert not torch.equal(out["search"]["visible"][0], out["search"]["thermal"][0])  # one backbone per modality


def test_mutual_prompts_start_neutral_and_change_the_streams():
    torch.manual_seed(0)
    plain = build_model(_tiny("teacher")).eval()
    prompted = build_model(_tiny("teacher_mp")).eval()
    missing, unexpected = prompted.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and missing and all(k.startswith("prompt_to_") for k in missing)
    assert len(prompted.prompt_to_visible) == len(prompted.prompt_to_thermal) == 3  # after every stage
    with torch.no_grad():
        a, b = plain(*_inputs()), prompted(*_inputs())
        assert torch.allclose(a["score_logits"], b["score_logits"], atol=1e-6)  # zero-initialised projections
        for p in prompted.prompt_to_thermal.parameters():
            p.add_(0.1)
        c = prompted(*_inputs())
    # the visible -> thermal prompts now change the thermal stream from stage 0 on; the visible stream,
    # whose prompts are still zero, is untouched
    assert all(torch.equal(x, y) for x, y in zip(c["search"]["visible"], b["search"]["visible"]))
    assert all(not torch.allclose(x, y) for x, y in zip(c["search"]["thermal"], b["search"]["thermal"]))
    assert not torch.allclose(c["score_logits"], b["score_logits"])


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_teacher_exports_to_the_runtime_contract_with_parity(kind, tmp_path):
    torch.manual_seed(0)
    model = build_model(_tiny(kind)).eval()
    path = export_student(model, tmp_path, name=kind)
    meta = json.loads(path.read_text())
    assert meta["kind"] == kind and meta["feature_size"] == [20, 20]
    assert check_parity(model, tmp_path, random_inputs(model.config, 1) + real_inputs(model.config, 1)) < 1e-4


def test_teacher_geometry_must_match_the_student(tmp_path):
    config = replace(_tiny("teacher"), template_size=64, search_size=128)
    torch.save({"model": build_model(config).state_dict(), "config": {"model": asdict(config)}}, tmp_path / "t.pt")
    with pytest.raises(InputError, match="template_size"):
        load_teacher(tmp_path / "t.pt", ModelConfig())
    teacher = load_teacher(tmp_path / "t.pt", replace(ModelConfig(), template_size=64, search_size=128))
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())


def test_shipped_teacher_loads_as_a_frozen_distillation_teacher(repo_root):
    student = load_yaml_config(TrainConfig, repo_root / "config/training/student.yaml").model
    teacher = load_teacher(repo_root / "rgbt_tracker_ros/weights/teacher/teacher.pt", student)
    assert isinstance(teacher, TwoStreamTeacher) and not teacher.training
    assert not any(p.requires_grad for p in teacher.parameters())
    assert parameter_count(teacher) > 5 * parameter_count(build_model(student))
