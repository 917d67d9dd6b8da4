"""The peers' ONNX graphs read into torch (models/onnx_graph.py) give ONNX Runtime's outputs on the
same input; hand-made graphs cover what the peers do not (asymmetric padding, unknown operators)."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper

from helpers.paths import PEER_MODELS
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.models.onnx_graph import OnnxGraph, load_onnx_graph

pytestmark = pytest.mark.torch

PEERS = {
    "nanotrack_v2_backbone.onnx": [(1, 3, 255, 255)],
    "nanotrack_v2_head.onnx": [(1, 48, 8, 8), (1, 48, 16, 16)],
    "vittrack_2023sep.onnx": [(1, 3, 128, 128), (1, 3, 256, 256)],
}


@pytest.mark.parametrize("name", sorted(PEERS))
def test_peer_graph_in_torch_matches_onnx_runtime(name):
    path = PEER_MODELS / name
    if not path.is_file():
        pytest.skip(f"{path} is not here")
    rng = np.random.default_rng(0)
    inputs = [rng.uniform(0.0, 255.0 if shape[1] == 3 else 1.0, shape).astype(np.float32) for shape in PEERS[name]]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    expected = session.run(None, {i.name: x for i, x in zip(session.get_inputs(), inputs)})
    graph = load_onnx_graph(path)
    with torch.no_grad():
        got = graph(*(torch.from_numpy(x) for x in inputs))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        # Relative to the output's own scale: the graphs' outputs range from 0.03 to 50.
        assert np.abs(g.numpy() - e).max() <= 1e-5 * max(1.0, np.abs(e).max())
    assert not any(p.requires_grad for p in graph.parameters())
    if name.startswith("nanotrack"):  # exported for batch 1, run on a batch of 2: each item as alone
        with torch.no_grad():
            batched = graph(*(torch.from_numpy(np.concatenate([x, x[:, :, ::-1]])) for x in inputs))
        for b, e in zip(batched, expected):
            np.testing.assert_allclose(b[:1].numpy(), e, atol=1e-5 * max(1.0, np.abs(e).max()))


def _model(nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(nodes, "hand_made", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8  # what this ONNX Runtime reads
    return model


def test_asymmetric_padding_and_gemm_match_onnx_runtime(tmp_path):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    g = rng.standard_normal((5, 4 * 3 * 4)).astype(np.float32)
    model = _model(
        [helper.make_node("Conv", ["x", "w"], ["c"], pads=[0, 1, 2, 1], strides=[2, 2]),
         helper.make_node("Reshape", ["c", "shape"], ["r"]),
         helper.make_node("Gemm", ["r", "g"], ["y"], transB=1, alpha=0.5)],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 7])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [onnx.numpy_helper.from_array(w, "w"), onnx.numpy_helper.from_array(g, "g"),
         onnx.numpy_helper.from_array(np.array([0, -1], np.int64), "shape")],
    )
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    x = rng.standard_normal((1, 2, 5, 7)).astype(np.float32)
    expected = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    got = load_onnx_graph(path)(torch.from_numpy(x))[0]
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-5)


def test_unknown_operator_and_bad_files_are_input_errors(tmp_path):
    model = _model([helper.make_node("LSTM", ["x"], ["y"])],
                   [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    with pytest.raises(InputError, match="not implemented here: LSTM"):
        OnnxGraph(model)
    with pytest.raises(InputError, match="does not exist"):
        load_onnx_graph(tmp_path / "missing.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(InputError, match="not a readable ONNX model"):
        load_onnx_graph(tmp_path / "junk.onnx")
