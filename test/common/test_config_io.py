from dataclasses import dataclass, field

import pytest
from rgbt_tracker_ros.common.config_io import from_dict, load_yaml_config
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.training.config import TrainConfig


@dataclass(frozen=True)
class Inner:
    size: int = 3
    pairs: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Outer:
    name: str = "x"
    rate: float = 1.0
    inner: Inner = field(default_factory=Inner)


def test_nested_dataclasses_and_tuples():
    cfg = from_dict(Outer, {"name": "y", "rate": 2, "inner": {"size": 5, "pairs": [[1, 2], [3, 4]]}})
    assert cfg == Outer("y", 2.0, Inner(5, ((1, 2), (3, 4))))


@pytest.mark.parametrize("data, message", [
    ({"nmae": "typo"}, "unknown key"),
    ({"inner": {"size": "big"}}, "expected int"),
    ({"inner": {"size": True}}, "expected int"),
    ({"rate": "fast"}, "rate"),
])
def test_bad_configs_are_rejected_with_the_key(data, message):
    with pytest.raises(InputError, match=message):
        from_dict(Outer, data)


@pytest.mark.parametrize("name", ["student", "student_sc", "student_sc_ft", "student_distill", "teacher", "teacher_mp"])
def test_shipped_training_configs_load(repo_root, name):
    config = load_yaml_config(TrainConfig, repo_root / f"config/training/{name}.yaml")
    assert config.model.search_size / config.model.search_factor == config.model.template_size / config.model.template_factor
    assert config.data.sources
    assert config.run.output_dir == f"runs/{name}"


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        load_yaml_config(TrainConfig, tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed")
    with pytest.raises(InputError, match="not valid YAML"):
        load_yaml_config(TrainConfig, bad)


def test_model_geometry_is_checked():
    with pytest.raises(InputError, match="must equal"):
        from_dict(TrainConfig, {"model": {"template_size": 64}})
