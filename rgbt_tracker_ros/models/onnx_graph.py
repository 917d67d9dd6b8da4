"""An ONNX graph as a torch module: the peers' networks (`../shared/models/peers`) read into torch.

The peer trackers come as ONNX files. To use one as a frozen teacher (or to read its weights) the
graph is executed node by node with torch operations; its initializers become buffers, so the
module moves with `.to(device)` and never trains. Only the operators the peers use are implemented;
any other one is an InputError naming it, at load time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from torch import nn

from rgbt_tracker_ros.common.errors import InputError


def _attributes(node) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _conv(x, w, b=None, *, strides=(1, 1), pads=(0, 0, 0, 0), dilations=(1, 1), group=1, **_):
    top, left, bottom, right = pads
    if (top, left) != (bottom, right):
        x = F.pad(x, (left, right, top, bottom))
        top = left = 0
    return F.conv2d(x, w, b, stride=tuple(strides), padding=(top, left), dilation=tuple(dilations), groups=group)


def _gemm(a, b, c=None, *, alpha=1.0, beta=1.0, transA=0, transB=0):
    a = a.transpose(-1, -2) if transA else a
    b = b.transpose(-1, -2) if transB else b
    y = alpha * (a @ b)
    return y if c is None else y + beta * c


def _reshape(x, shape, allowzero=0, batch=1):
    dims = [int(d) for d in shape.tolist()]
    if not allowzero:
        dims = [x.shape[i] if d == 0 else d for i, d in enumerate(dims)]
    if batch > 1 and dims and dims[0] == 1 and x.shape[0] == batch:
        # The peers were exported for batch 1 (their Reshape shapes say so): run them batched.
        dims[0] = batch
    return x.reshape(dims)


def _clip(x, low=None, high=None, **_):
    return torch.clamp(x, None if low is None else float(low), None if high is None else float(high))


def _slice(x, starts, ends, axes=None, steps=None):
    axes = range(len(starts)) if axes is None else axes.tolist()
    steps = [1] * len(starts) if steps is None else steps.tolist()
    index = [slice(None)] * x.ndim
    for start, end, axis, step in zip(starts.tolist(), ends.tolist(), axes, steps):
        size = x.shape[axis]
        index[axis] = slice(max(min(start, size), -size), max(min(end, size), -size - 1), step)
    return x[tuple(index)]


def _axes(axes) -> list[int]:
    """Axes given as an attribute (a list: older opsets) or as an input (a tensor)."""
    return list(axes) if isinstance(axes, (list, tuple)) else [int(a) for a in axes.tolist()]


def _unsqueeze(x, axes):
    axes = _axes(axes)
    for axis in sorted(a % (x.ndim + len(axes)) for a in axes):
        x = x.unsqueeze(axis)
    return x


def _reduce_mean(x, axes, keepdims=1):
    return x.mean(dim=tuple(_axes(axes)), keepdim=bool(keepdims))


_OPS = {
    "Conv": _conv,
    "Relu": lambda x: F.relu(x),
    "Sigmoid": torch.sigmoid,
    "Exp": torch.exp,
    "Erf": torch.erf,
    "Sqrt": torch.sqrt,
    "HardSwish": F.hardswish,
    "HardSigmoid": lambda x, alpha=0.2, beta=0.5: torch.clamp(alpha * x + beta, 0.0, 1.0),
    "GlobalAveragePool": lambda x: x.mean(dim=(2, 3), keepdim=True),
    "Reshape": _reshape,
    "Gemm": _gemm,
    "MatMul": torch.matmul,
    "Add": torch.add,
    "Sub": torch.sub,
    "Mul": torch.mul,
    "Div": torch.div,
    "Pow": torch.pow,
    "Transpose": lambda x, perm: x.permute(*perm),
    "Softmax": lambda x, axis=-1: torch.softmax(x, dim=axis),
    "Concat": lambda *xs, axis: torch.cat(xs, dim=axis),
    "Clip": _clip,
    "Slice": _slice,
    "Unsqueeze": _unsqueeze,
    "ReduceMean": _reduce_mean,
}


class OnnxGraph(nn.Module):
    """Executes an ONNX model's graph with torch: forward(*inputs) -> tuple of outputs, in graph order.

    A graph exported for batch 1 runs on a batch: a Reshape to a leading 1 of a tensor whose first
    dimension is the batch keeps the batch (the inputs' first dimension)."""

    def __init__(self, model: onnx.ModelProto):
        super().__init__()
        graph = model.graph
        unknown = sorted({n.op_type for n in graph.node} - set(_OPS))
        if unknown:
            raise InputError(f"ONNX graph {graph.name!r} uses operators not implemented here: {', '.join(unknown)}")
        self._constants: dict[str, str] = {}
        for k, tensor in enumerate(graph.initializer):
            buffer = f"c{k}"
            self.register_buffer(buffer, torch.from_numpy(np.array(numpy_helper.to_array(tensor))), persistent=False)
            self._constants[tensor.name] = buffer
        self.input_names = [i.name for i in graph.input if i.name not in self._constants]
        self.output_names = [o.name for o in graph.output]
        # Declared output shapes (a dimension without a fixed size is None).
        self.output_shapes = [tuple(d.dim_value if d.HasField("dim_value") else None
                                    for d in o.type.tensor_type.shape.dim) for o in graph.output]
        self._nodes = [(n.op_type, list(n.input), list(n.output), _attributes(n)) for n in graph.node]

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if len(inputs) != len(self.input_names):
            raise InputError(f"the graph takes {len(self.input_names)} inputs ({', '.join(self.input_names)}), "
                             f"got {len(inputs)}")
        values: dict[str, torch.Tensor | None] = {"": None}
        values.update({name: getattr(self, buffer) for name, buffer in self._constants.items()})
        values.update(zip(self.input_names, inputs))
        batch = {"batch": inputs[0].shape[0]} if inputs else {}
        for op, names_in, names_out, attributes in self._nodes:
            extra = batch if op == "Reshape" else {}
            result = _OPS[op](*(values[name] for name in names_in), **attributes, **extra)
            results = result if isinstance(result, tuple) else (result,)
            values.update(zip(names_out, results))
        return tuple(values[name] for name in self.output_names)


def load_onnx_graph(path: str | Path) -> OnnxGraph:
    """The ONNX file at `path` as a frozen torch module (eval mode, no gradients)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"ONNX model {path} does not exist")
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # onnx raises DecodeError and others for a file that is not a model
        raise InputError(f"{path} is not a readable ONNX model: {exc}") from exc
    graph = OnnxGraph(model).eval()
    for p in graph.parameters():
        p.requires_grad_(False)
    return graph
