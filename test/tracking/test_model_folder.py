"""Issue 14, findings 13 and 14: a model folder is checked when it is loaded. A file given as the
folder is called a file; names in model.json cannot reach outside the folder; the network is
probed once (output shapes against model.json, finite values, a score in 0..1), so a model that
breaks the contract is refused at start instead of crashing the first init_target or reporting a
score of 222. Before the fixes: "model folder /etc/passwd does not exist", `../../etc/passwd`
followed, both broken models loaded."""

from __future__ import annotations

import json
import shutil

import pytest

from helpers.broken_models import oracle_with_score_times, student_with_wrong_feature_size
from helpers.oracle_model import write_oracle_model
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.tracking.backend import OnnxBackend
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.model_bundle import default_model_dir, load_bundle
from rgbt_tracker_ros.tracking.tracker import RGBTTracker


def _backend(folder):
    return OnnxBackend(TrackerConfig(model=str(folder), providers=("cpu",), threads=1))


def test_a_file_given_as_the_model_folder_is_called_a_file(tmp_path):
    with pytest.raises(InputError, match=r"model /etc/passwd is a file, not a model folder"):
        load_bundle("/etc/passwd")
    with pytest.raises(InputError, match="does not exist"):
        load_bundle(tmp_path / "nothing_here")


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "sub/../../search.onnx", ""])
def test_model_json_cannot_name_files_outside_its_folder(tmp_path, name):
    folder = write_oracle_model(tmp_path / "model")
    shutil.copy(folder / "search.onnx", tmp_path / "search.onnx")  # a real file there, outside
    meta = json.loads((folder / "model.json").read_text())
    meta["files"]["search"] = name
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="model files must be named by paths inside the model folder"):
        load_bundle(folder)


def test_a_file_in_a_subfolder_of_the_model_folder_is_fine(tmp_path):
    folder = write_oracle_model(tmp_path / "model")
    (folder / "graphs").mkdir()
    shutil.move(folder / "search.onnx", folder / "graphs" / "search.onnx")
    meta = json.loads((folder / "model.json").read_text())
    meta["files"]["search"] = "graphs/search.onnx"
    (folder / "model.json").write_text(json.dumps(meta))
    assert load_bundle(folder).search_file == folder / "graphs" / "search.onnx"


def test_a_search_output_shape_other_than_model_json_says_is_refused_at_load(tmp_path):
    folder = student_with_wrong_feature_size(tmp_path / "student16")
    with pytest.raises(InputError, match=r"search output score has shape \[1, 1, 20, 20\]; model.json "
                                         r"\(feature_size \[16, 16\]\) needs \[1, 1, 16, 16\]"):
        _backend(folder)


def test_a_score_that_is_not_a_probability_is_refused_at_load(tmp_path):
    folder = oracle_with_score_times(tmp_path / "oracle222")
    with pytest.raises(InputError, match=r"search output score spans .*; a score is a probability in 0..1"):
        _backend(folder)


def test_the_shipped_student_and_the_oracle_pass_the_probe(tmp_path):
    assert RGBTTracker(TrackerConfig(providers=("cpu",), threads=1)).model.feature_size == (20, 20)
    _backend(write_oracle_model(tmp_path / "oracle"))


def test_the_shipped_default_names_the_peer_it_learnt_from_with_its_licence():
    # Distilled from NanoTrack v2 (Apache-2.0): the attribution travels in model.json.
    training = json.loads((default_model_dir() / "model.json").read_text())["training"]
    peer = training["distilled_from_peer"]
    assert peer["licence"] == "Apache-2.0" and "NanoTrack v2" in peer["model"], peer
