"""A tiny hand-built ONNX model under the network contract (the "oracle": its score map lights up on
hot thermal cells) and the moving warm target scene, for tests of the runtime's geometry and state
machine that must not depend on what the shipped student learned."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from rgbt_tracker_ros.evaluation.bench import MovingTarget

SCENE = MovingTarget(seed=1)


def frames(i: int, scene: MovingTarget | None = None):
    """(visible 640x480 RGB, thermal 640x512 uint16, box in visible pixels) of frame i, as copies."""
    scene = scene or SCENE
    visible, thermal = scene.frame(i)
    return visible.copy(), thermal.copy(), scene.box(i)


def _save(graph: onnx.GraphProto, path: Path) -> None:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def write_oracle_model(folder: Path, z: int = 64, s: int = 128, f: int = 16, search_factor: float = 4.0) -> Path:
    """A model under the network contract whose score is high where the thermal crop is hot.

    Size is the square side sqrt(w*h) (1/search_factor of the crop), offset the cell centre.
    """
    folder.mkdir(parents=True, exist_ok=True)
    f32 = TensorProto.FLOAT
    k = z // 8
    template = helper.make_graph(
        [
            helper.make_node("AveragePool", ["template_visible"], ["pv"], kernel_shape=[8, 8], strides=[8, 8]),
            helper.make_node("AveragePool", ["template_thermal"], ["pt"], kernel_shape=[8, 8], strides=[8, 8]),
            helper.make_node("Concat", ["pv", "pt"], ["template_features"], axis=1),
        ],
        "template",
        [helper.make_tensor_value_info("template_visible", f32, [1, 3, z, z]),
         helper.make_tensor_value_info("template_thermal", f32, [1, 1, z, z])],
        [helper.make_tensor_value_info("template_features", f32, [1, 4, k, k])],
    )
    _save(template, folder / "template.onnx")
    stride = s // f
    constants = [
        numpy_helper.from_array(np.full((1, 1, 3, 3), 1 / 9, np.float32), "box3"),
        numpy_helper.from_array(np.array(160.0, np.float32), "c160"),
        numpy_helper.from_array(np.array(0.1, np.float32), "c01"),
        numpy_helper.from_array(np.array(0.0, np.float32), "c0"),
        numpy_helper.from_array(np.full((1, 2, 1, 1), 1.0 / search_factor, np.float32), "csize"),
        numpy_helper.from_array(np.full((1, 2, 1, 1), 0.5, np.float32), "coff"),
    ]
    search = helper.make_graph(
        [
            helper.make_node("AveragePool", ["search_thermal"], ["p"], kernel_shape=[stride, stride], strides=[stride, stride]),
            helper.make_node("Conv", ["p", "box3"], ["c"], pads=[1, 1, 1, 1]),
            helper.make_node("Sub", ["c", "c160"], ["d"]),
            helper.make_node("Mul", ["d", "c01"], ["e"]),
            # Every input takes part (times zero), as in a real graph.
            helper.make_node("ReduceMean", ["template_features"], ["tm"], keepdims=1),
            helper.make_node("ReduceMean", ["search_visible"], ["vm"], keepdims=1),
            helper.make_node("Add", ["tm", "vm"], ["u"]),
            helper.make_node("Mul", ["u", "c0"], ["u0"]),
            helper.make_node("Mul", ["p", "c0"], ["p0"]),
            helper.make_node("Add", ["u0", "p0"], ["zero"]),
            helper.make_node("Add", ["e", "zero"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], ["score"]),
            helper.make_node("Add", ["zero", "csize"], ["size"]),
            helper.make_node("Add", ["zero", "coff"], ["offset"]),
        ],
        "search",
        [helper.make_tensor_value_info("template_features", f32, [1, 4, k, k]),
         helper.make_tensor_value_info("search_visible", f32, [1, 3, s, s]),
         helper.make_tensor_value_info("search_thermal", f32, [1, 1, s, s])],
        [helper.make_tensor_value_info("score", f32, [1, 1, f, f]),
         helper.make_tensor_value_info("size", f32, [1, 2, f, f]),
         helper.make_tensor_value_info("offset", f32, [1, 2, f, f])],
        initializer=constants,
    )
    _save(search, folder / "search.onnx")
    meta = {
        "name": "oracle", "version": "0", "template_size": z, "search_size": s, "template_factor": 2.0,
        "search_factor": search_factor, "feature_size": [f, f],
        "files": {"template": "template.onnx", "search": "search.onnx"},
        "inputs": {"template": ["template_visible", "template_thermal"],
                   "search": ["template_features", "search_visible", "search_thermal"]},
        "outputs": {"template": ["template_features"], "search": ["score", "size", "offset"]},
        "normalisation": {"mean": 0.0, "std": 1.0, "in_graph": True}, "params": 9, "training": {"note": "oracle"},
    }
    (folder / "model.json").write_text(json.dumps(meta))
    return folder
