"""The two-stream teachers (kinds teacher, teacher_mp): output contract, exposed features, size,
ONNX export with parity, and a tiny teacher-then-distil run through the CLI (docs/distillation.md)."""

import json
import math
from dataclasses import replace

import pytest
import torch

from rgbt_tracker_ros.common.config_io import load_yaml_config
from rgbt_tracker_ros.models.builder import build_model, parameter_count
from rgbt_tracker_ros.models.config import BackboneConfig, HeadConfig, ModelConfig
from rgbt_tracker_ros.models.prompts import MutualPromptTeacher
from rgbt_tracker_ros.models.teacher import PATHS, TwoStreamTeacher
from rgbt_tracker_ros.training.config import TrainConfig
from rgbt_tracker_ros.training.export import check_parity, export_student, random_inputs, real_inputs
from helpers.tiny_runs import TINY_DATA, run_cli, tiny_optim

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
        assert 0 <= prediction["size"].min() and prediction["size"].max() <= 1
    assert tuple(out["path_outputs"]) == PATHS
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


def test_shipped_teachers_are_larger_than_the_student(repo_root):
    configs = {name: load_yaml_config(TrainConfig, repo_root / f"config/training/{name}.yaml")
               for name in ("student", "teacher", "teacher_mp", "student_distill", "student_sc")}
    student = parameter_count(build_model(configs["student"].model))
    for distilled in ("student_distill", "student_sc"):  # the distilled student is the student, same recipe
        assert configs[distilled].model == configs["student"].model
        assert (configs[distilled].data, configs[distilled].optim) == (configs["student"].data, configs["student"].optim)
        assert configs[distilled].distill.teacher == "runs/teacher/best.pt"
    recipe = configs["student_sc"].distill  # the default model's recipe: specific-common alone, no masking
    assert recipe.specific_common.enabled and recipe.specific_common.weight == 2.0
    assert not (recipe.path_selection.enabled or recipe.style_content.enabled or recipe.masking.search_mask_ratio)
    for name in ("teacher", "teacher_mp"):
        model = configs[name].model
        assert model.kind == name
        assert parameter_count(build_model(model)) > 5 * student
        # same crops and the same score-map size as the student, so the distillation terms line up
        s = configs["student"].model
        assert (model.template_size, model.search_size, model.feature_size) == (s.template_size, s.search_size, s.feature_size)
        deeper = sum(b for _, b, _ in model.backbone.stages) > sum(b for _, b, _ in s.backbone.stages)
        wider = all(t[0] > u[0] for t, u in zip(model.backbone.stages, s.backbone.stages))
        assert deeper and wider


def test_distilled_fine_tune_continues_the_plain_student(repo_root):
    """student_sc_ft.yaml: the plain student's network and data, started from its checkpoint, with the
    default recipe's term (specific-common alone, weight 2) from the two-stream teacher."""
    names = ("student", "student_sc", "student_sc_ft")
    configs = {name: load_yaml_config(TrainConfig, repo_root / f"config/training/{name}.yaml") for name in names}
    ft, plain = configs["student_sc_ft"], configs["student"]
    assert (ft.model, ft.data) == (plain.model, plain.data)
    assert ft.run.init == f"{plain.run.output_dir}/best.pt" and ft.run.seed != plain.run.seed
    assert ft.distill == configs["student_sc"].distill
    assert ft.optim.lr < plain.optim.lr


@pytest.mark.parametrize("kind", KINDS)
def test_teacher_exports_to_the_runtime_contract_with_parity(kind, tmp_path):
    torch.manual_seed(0)
    model = build_model(_tiny(kind)).eval()
    path = export_student(model, tmp_path, name=kind)
    meta = json.loads(path.read_text())
    assert meta["kind"] == kind and meta["feature_size"] == [20, 20]
    assert check_parity(model, tmp_path, random_inputs(model.config, 1) + real_inputs(model.config, 1)) < 1e-4


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
  masking: {search_mask_ratio: 0.25}
run: {output_dir: OUT, workers: 0, threads: 1}
""" + DATA


def _history(run):
    return [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]


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


def test_teacher_geometry_must_match_the_student(tmp_path):
    from dataclasses import asdict

    from rgbt_tracker_ros.common.errors import InputError
    from rgbt_tracker_ros.distill import load_teacher

    config = replace(_tiny("teacher"), template_size=64, search_size=128)
    torch.save({"model": build_model(config).state_dict(), "config": {"model": asdict(config)}}, tmp_path / "t.pt")
    with pytest.raises(InputError, match="template_size"):
        load_teacher(tmp_path / "t.pt", ModelConfig())
    teacher = load_teacher(tmp_path / "t.pt", replace(ModelConfig(), template_size=64, search_size=128))
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())


def test_shipped_teacher_loads_as_a_frozen_distillation_teacher(repo_root):
    from rgbt_tracker_ros.distill.loss import load_teacher

    student = load_yaml_config(TrainConfig, repo_root / "config/training/student.yaml").model
    teacher = load_teacher(repo_root / "rgbt_tracker_ros/weights/teacher/teacher.pt", student)
    assert isinstance(teacher, TwoStreamTeacher) and not teacher.training
    assert not any(p.requires_grad for p in teacher.parameters())
    assert parameter_count(teacher) > 5 * parameter_count(build_model(student))
