"""Model folders that load but break the network contract, for the start-up probe's tests: the
shipped student with a model.json that states another feature size, and the oracle model with its
score multiplied by 222 (not a probability)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx
from onnx import helper, numpy_helper
import numpy as np

from helpers.oracle_model import write_oracle_model
from rgbt_tracker_ros.tracking.model_bundle import default_model_dir


def student_with_wrong_feature_size(folder: Path, feature_size=(16, 16)) -> Path:
    """The shipped student's ONNX files with model.json's feature_size changed (they output 20x20)."""
    shutil.copytree(default_model_dir(), folder, ignore=shutil.ignore_patterns("*.pt"))
    meta = json.loads((folder / "model.json").read_text())
    meta["feature_size"] = list(feature_size)
    (folder / "model.json").write_text(json.dumps(meta))
    return folder


def oracle_with_score_times(folder: Path, factor: float = 222.0) -> Path:
    """The oracle model whose score output is its sigmoid times `factor`."""
    write_oracle_model(folder)
    model = onnx.load(str(folder / "search.onnx"))
    graph = model.graph
    for node in graph.node:
        if node.op_type == "Sigmoid" and list(node.output) == ["score"]:
            node.output[0] = "probability"
    graph.initializer.append(numpy_helper.from_array(np.array(factor, np.float32), "score_factor"))
    graph.node.append(helper.make_node("Mul", ["probability", "score_factor"], ["score"]))
    onnx.checker.check_model(model)
    onnx.save(model, str(folder / "search.onnx"))
    return folder
