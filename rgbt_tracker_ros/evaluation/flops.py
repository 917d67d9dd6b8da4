"""Parameter count and FLOPs of an ONNX graph, read from the graph itself with ONNX shape inference.

Counted as multiply-accumulates (2 FLOPs each): Conv, ConvTranspose, MatMul, Gemm — what dominates
a convolutional / attention network. Element-wise operators (activations, Add, Mul, ...), pooling
and reductions are counted separately as one FLOP per output element (per input element for pooling
and reductions) in `other_flops`, and are NOT part of `flops`. Nodes inside control-flow subgraphs
are not visited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from pathlib import Path

from rgbt_tracker_ros.common.errors import InputError

try:
    import onnx
    from onnx import shape_inference
except ImportError:  # robot installs carry only the runtime requirements; the latency figures still run
    onnx = None

NO_ONNX_NOTE = "install the onnx package to count params and FLOPs"
_FLOAT_TYPES = set() if onnx is None else {
    onnx.TensorProto.FLOAT,
    onnx.TensorProto.FLOAT16,
    onnx.TensorProto.BFLOAT16,
    onnx.TensorProto.DOUBLE,
}
_PER_OUTPUT_ELEMENT = {
    "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal", "Max", "Min",
    "Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Erf", "Gelu", "Clip",
    "Softmax", "LogSoftmax", "BatchNormalization", "InstanceNormalization", "LayerNormalization", "Where",
}
_PER_INPUT_ELEMENT = {
    "AveragePool", "MaxPool", "GlobalAveragePool", "GlobalMaxPool",
    "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceSumSquare",
}


@dataclass(frozen=True)
class GraphCost:
    params: int                      # float weights held in the graph (initializers, Constant tensors)
    macs: int                        # Conv, ConvTranspose, MatMul, Gemm multiply-accumulates
    other_flops: int                 # element-wise ops, pooling, reductions (not in `flops`)
    macs_by_op: dict[str, int] = field(default_factory=dict)
    unresolved: tuple[str, ...] = ()  # counted nodes whose shapes shape inference could not give

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def gflops(self) -> float:
        return self.flops / 1e9


def graph_cost(model: "str | Path | onnx.ModelProto") -> GraphCost:
    """Parameters and per-run FLOPs of one ONNX graph (static shapes expected)."""
    if not isinstance(model, onnx.ModelProto):
        try:
            model = onnx.load(str(model))
        except Exception as exc:  # protobuf / IO errors
            raise InputError(f"cannot read ONNX model {model}: {exc}") from exc
    try:
        inferred = shape_inference.infer_shapes(model, data_prop=True)
    except Exception as exc:
        raise InputError(f"ONNX shape inference failed on {model.graph.name!r}: {exc}") from exc
    graph = inferred.graph
    shapes = _known_shapes(graph)

    params = sum(prod(t.dims) for t in graph.initializer if t.data_type in _FLOAT_TYPES)
    macs_by_op: dict[str, int] = {}
    other = 0
    unresolved: list[str] = []
    for node in graph.node:
        if node.op_type == "Constant":
            params += _constant_params(node)
            continue
        if node.op_type in ("Conv", "ConvTranspose", "MatMul", "Gemm"):
            macs = _node_macs(node, shapes)
            if macs is None:
                unresolved.append(f"{node.op_type}:{node.name or node.output[0]}")
                continue
            macs_by_op[node.op_type] = macs_by_op.get(node.op_type, 0) + macs
        elif node.op_type in _PER_OUTPUT_ELEMENT:
            other += _numel(shapes.get(node.output[0])) or 0
        elif node.op_type in _PER_INPUT_ELEMENT:
            other += _numel(shapes.get(node.input[0])) or 0
    return GraphCost(
        params=int(params),
        macs=int(sum(macs_by_op.values())),
        other_flops=int(other),
        macs_by_op=macs_by_op,
        unresolved=tuple(unresolved),
    )


def _known_shapes(graph: "onnx.GraphProto") -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    for info in list(graph.input) + list(graph.value_info) + list(graph.output):
        if not info.type.HasField("tensor_type") or not info.type.tensor_type.HasField("shape"):
            continue
        dims = info.type.tensor_type.shape.dim
        if all(d.HasField("dim_value") for d in dims):
            shapes[info.name] = tuple(int(d.dim_value) for d in dims)
    for init in graph.initializer:
        shapes[init.name] = tuple(int(d) for d in init.dims)
    return shapes


def _constant_params(node: "onnx.NodeProto") -> int:
    for attr in node.attribute:
        if attr.name == "value" and attr.t.data_type in _FLOAT_TYPES:
            n = prod(attr.t.dims)
            return n if n > 1 else 0  # scalars are constants of the arithmetic, not weights
    return 0


def _numel(shape: tuple[int, ...] | None) -> int | None:
    return None if shape is None else prod(shape)


def _node_macs(node: "onnx.NodeProto", shapes: dict[str, tuple[int, ...]]) -> int | None:
    out = shapes.get(node.output[0])
    a = shapes.get(node.input[0])
    b = shapes.get(node.input[1]) if len(node.input) > 1 else None
    if node.op_type == "Conv":
        # weight [C_out, C_in / groups, k...]: each output element takes C_in/groups * prod(k) MACs
        return None if out is None or b is None else prod(out) * prod(b[1:])
    if node.op_type == "ConvTranspose":
        # weight [C_in, C_out / groups, k...]: each input element scatters into C_out/groups * prod(k)
        return None if a is None or b is None else prod(a) * prod(b[1:])
    if node.op_type == "MatMul":
        if out is None or a is None:
            return None
        return prod(out) * a[-1]
    # Gemm: Y[M, N] = A[M, K] @ B[K, N] (A transposed when transA)
    if out is None or a is None:
        return None
    trans_a = next((attr.i for attr in node.attribute if attr.name == "transA"), 0)
    k = a[0] if trans_a else a[-1]
    return prod(out) * k


def model_cost(template_file: str | Path, search_file: str | Path) -> dict[str, object]:
    """Summary for a model folder: the search graph is the per-frame tracking step. Without the onnx
    package every figure is None and `note` says why."""
    if onnx is None:
        keys = ("params", "params_template_graph", "gflops", "gmacs", "other_gflops_not_counted", "template_gflops")
        return {key: None for key in keys} | {"note": NO_ONNX_NOTE}
    search = graph_cost(search_file)
    template = graph_cost(template_file)
    return {
        "params": search.params,
        "params_template_graph": template.params,
        "gflops": search.gflops,
        "gmacs": search.macs / 1e9,
        "other_gflops_not_counted": search.other_flops / 1e9,
        "template_gflops": template.gflops,
        "macs_by_op": dict(search.macs_by_op),
        "unresolved_nodes": list(search.unresolved),
    }
