"""The shipped training configs (config/training/*.yaml) and what a config section means: a
distillation term is on only when its section is present, the sampler's crops are the model's."""

import pytest

from rgbt_tracker_ros.common.config_io import load_yaml_config
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.distill import (
    DistillationLoss, MaskingConfig, PathSelectionConfig, SpecificCommonConfig, StyleContentConfig, mask_search,
)
from rgbt_tracker_ros.models.builder import build_model, parameter_count
from rgbt_tracker_ros.models.config import BackboneConfig, HeadConfig, ModelConfig
from rgbt_tracker_ros.models.losses import LossConfig
from rgbt_tracker_ros.training.config import TrainConfig
from rgbt_tracker_ros.training.datasets import build_sampler, build_val_sampler
from rgbt_tracker_ros.training.thermal_compression import ThermalCompressionConfig

pytestmark = pytest.mark.torch

TINY_STUDENT = ModelConfig(backbone=BackboneConfig(8, ((8, 1, 2), (16, 0, 2), (16, 0, 1)), 16), head=HeadConfig(16, 1))
TINY_TEACHER = ModelConfig(kind="teacher", backbone=BackboneConfig(8, ((12, 1, 2), (24, 1, 2), (24, 1, 1)), 24),
                           head=HeadConfig(16, 1))


def _config(tmp_path, text: str, cls=TrainConfig):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return load_yaml_config(cls, path)


def test_shipped_teachers_are_larger_than_the_student(repo_root):
    configs = {name: load_yaml_config(TrainConfig, repo_root / f"config/training/{name}.yaml")
               for name in ("student", "teacher", "teacher_mp", "student_distill", "student_sc")}
    student = parameter_count(build_model(configs["student"].model))
    for distilled in ("student_distill", "student_sc"):  # the distilled student is the student, same recipe
        assert configs[distilled].model == configs["student"].model
        assert (configs[distilled].data, configs[distilled].optim) == (configs["student"].data, configs["student"].optim)
        assert configs[distilled].distill.teacher == "runs/teacher/best.pt"
    recipe = configs["student_sc"].distill  # the default model's recipe: specific-common alone, no masking
    assert recipe.specific_common == SpecificCommonConfig(weight=2.0)
    assert recipe.path_selection is None and recipe.style_content is None and recipe.masking is None
    every_term = configs["student_distill"].distill  # the ablation's base: every term, CKD's masking
    assert every_term.specific_common == SpecificCommonConfig() and every_term.path_selection == PathSelectionConfig()
    assert every_term.style_content == StyleContentConfig() and every_term.masking == MaskingConfig(0.25)
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


def test_the_compression_config_has_its_term(repo_root):
    config = load_yaml_config(ThermalCompressionConfig, repo_root / "config/training/thermal_compression.yaml")
    assert config.compression is not None and config.compression.active and config.compression.levels == (0, 1, 2, 3)


# -- a term is on only when its section is present -------------------------------------------------
def test_a_term_without_its_section_is_not_built(tmp_path):
    config = _config(tmp_path, "distill: {teacher: t.pt, specific_common: {weight: 2.0}}\n").distill
    assert config.specific_common == SpecificCommonConfig(weight=2.0)
    assert config.path_selection is None and config.style_content is None and config.masking is None
    loss = DistillationLoss(config, build_model(TINY_STUDENT), build_model(TINY_TEACHER), LossConfig())
    assert set(loss.terms) == {"specific_common"}
    batch = {"search_visible": object(), "search_thermal": object()}
    assert mask_search(batch, config, TINY_STUDENT) is batch  # no masking section: nothing masked


def test_an_empty_section_is_the_term_with_its_defaults(tmp_path):
    config = _config(tmp_path, "distill: {teacher: t.pt, path_selection: {}, masking: {}}\n").distill
    assert config.path_selection == PathSelectionConfig() and config.masking == MaskingConfig()
    assert config.specific_common is None and config.style_content is None
    loss = DistillationLoss(config, build_model(TINY_STUDENT), build_model(TINY_TEACHER), LossConfig())
    assert set(loss.terms) == {"path_selection"}
    # a teacher-only section: no term at all (it used to mean every term on)
    assert len(DistillationLoss(_config(tmp_path, "distill: {teacher: t.pt}\n").distill, build_model(TINY_STUDENT),
                                build_model(TINY_TEACHER), LossConfig()).terms) == 0


def test_the_compression_term_is_off_without_its_section(tmp_path):
    assert _config(tmp_path, "name: c\n", ThermalCompressionConfig).compression is None
    assert _config(tmp_path, "compression: {weight: 0.5}\n", ThermalCompressionConfig).compression.weight == 0.5


# -- the sampler's crops are the model's -----------------------------------------------------------
@pytest.mark.parametrize("key", ["template_size", "search_size", "template_factor", "search_factor"])
def test_a_geometry_key_in_the_sampler_section_is_an_error_naming_it(tmp_path, key):
    with pytest.raises(InputError, match=rf"data\.sampler: unknown key\(s\) \['{key}'\]"):
        _config(tmp_path, f"data: {{sampler: {{{key}: 96}}}}\n")


def test_the_sampler_crops_are_the_models(tmp_path):
    config = _config(tmp_path, "model: {template_size: 64, search_size: 128}\n"
                               "data: {sampler: {max_gap: 10}, sources: [{kind: synthetic, count: 2}]}\n")
    for sampler in (build_sampler(config.data, config.model), build_val_sampler(config.data, config.model)):
        g = sampler.geometry
        assert (g.template_size, g.search_size, g.template_factor, g.search_factor) == (64, 128, 2.0, 4.0)
        assert sampler.config.max_gap == 10


def test_an_unknown_thermal_world_is_an_error_when_the_config_is_read(tmp_path):
    with pytest.raises(InputError, match=r"sources\[0\]: thermal_world must be one of blurred, structured"):
        _config(tmp_path, "data:\n  sources: [{kind: synthetic, thermal_world: photo}]\n")
