"""FLOP counting of ONNX graphs and the shipped student's budget."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper
from rgbt_tracker_ros.evaluation.flops import graph_cost, model_cost
from rgbt_tracker_ros.tracking.model_bundle import load_bundle

CPU = "CPUExecutionProvider"
GFLOP_BUDGET = 1.0  # per tracking step (the search graph)


def test_flops_counts_known_graph(tmp_path):
    f32 = TensorProto.FLOAT
    rng = np.random.default_rng(0)
    weights = [
        numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3)).astype(np.float32), "wconv"),      # 216
        numpy_helper.from_array(rng.standard_normal((8, 4, 2, 2)).astype(np.float32), "wdeconv"),    # 128
        numpy_helper.from_array(rng.standard_normal((16, 5)).astype(np.float32), "wmm"),             # 80
        numpy_helper.from_array(rng.standard_normal((7, 5)).astype(np.float32), "wgemm"),            # 35
        numpy_helper.from_array(np.array([1, 64, 16], np.int64), "shape"),  # not a weight
    ]
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["x", "wconv"], ["c"], pads=[1, 1, 1, 1]),                        # 1x8x8x8
            helper.make_node("Relu", ["c"], ["r"]),
            helper.make_node("ConvTranspose", ["r", "wdeconv"], ["d"], strides=[2, 2]),                # 1x4x16x16
            helper.make_node("Reshape", ["d", "shape"], ["rs"]),                                       # 1x64x16
            helper.make_node("MatMul", ["rs", "wmm"], ["m"]),                                          # 1x64x5
            helper.make_node("Reshape", ["m", "shape2"], ["m2"]),
            helper.make_node("Gemm", ["m2", "wgemm"], ["y"], transB=1),                                # 64x7
        ],
        "known",
        [helper.make_tensor_value_info("x", f32, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", f32, [64, 7])],
        initializer=weights + [numpy_helper.from_array(np.array([64, 5], np.int64), "shape2")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    cost = graph_cost(model)
    assert cost.params == 216 + 128 + 80 + 35
    assert cost.macs_by_op == {
        "Conv": 8 * 8 * 8 * 3 * 3 * 3,
        "ConvTranspose": 8 * 8 * 8 * 4 * 2 * 2,
        "MatMul": 64 * 5 * 16,
        "Gemm": 64 * 7 * 5,
    }
    assert cost.flops == 2 * cost.macs and not cost.unresolved
    assert cost.other_flops == 8 * 8 * 8  # the Relu, reported apart from `flops`


def test_shipped_model_is_within_the_flops_budget():
    bundle = load_bundle()
    cost = model_cost(bundle.template_file, bundle.search_file)
    assert not cost["unresolved_nodes"]
    assert 0 < cost["params"] < 5_000_000
    assert 0 < cost["gflops"] <= GFLOP_BUDGET


# -------------------------------------------------------------------------------------- commands
