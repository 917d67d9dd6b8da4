"""The ONNX contract between export (writes it) and the runtime (reads it): file and tensor names,
the graph format, and the model.json metadata. docs/design.md, "The network contract"."""

from __future__ import annotations

MODEL_FILE = "model.json"
TEMPLATE_FILE = "template.onnx"
SEARCH_FILE = "search.onnx"
WEIGHTS_FILE = "student.pt"  # the PyTorch weights that travel with the ONNX files

OPSET = 17
IR_VERSION = 10  # onnxruntime 1.31 rejects newer IR versions

TEMPLATE_INPUTS = ("template_visible", "template_thermal")
TEMPLATE_OUTPUTS = ("template_features",)
SEARCH_INPUTS = ("template_features", "search_visible", "search_thermal")
SEARCH_OUTPUTS = ("score", "size", "offset")


def template_input_shapes(template_size: int) -> dict[str, tuple[int, ...]]:
    z = template_size
    return {"template_visible": (1, 3, z, z), "template_thermal": (1, 1, z, z)}


def search_input_shapes(search_size: int) -> dict[str, tuple[int, ...]]:
    s = search_size
    return {"search_visible": (1, 3, s, s), "search_thermal": (1, 1, s, s)}


def model_metadata(*, name: str, version: str, kind: str, template_size: int, search_size: int,
                   template_factor: float, search_factor: float, feature_size: int,
                   pixel_mean, pixel_std, params: int, model_config: dict,
                   training: dict | None = None) -> dict:
    """The model.json an export writes (model_bundle.load_bundle reads it back)."""
    return {
        "name": name,
        "version": version,
        "kind": kind,
        "template_size": template_size,
        "search_size": search_size,
        "template_factor": template_factor,
        "search_factor": search_factor,
        "feature_size": [feature_size, feature_size],
        "files": {"template": TEMPLATE_FILE, "search": SEARCH_FILE},
        "inputs": {"template": list(TEMPLATE_INPUTS), "search": list(SEARCH_INPUTS)},
        "outputs": {"template": list(TEMPLATE_OUTPUTS), "search": list(SEARCH_OUTPUTS)},
        "normalisation": {"mean": pixel_mean, "std": pixel_std, "in_graph": True,
                          "input_range": [0, 255], "channel_order": "RGB", "thermal_channels": 1},
        "missing_modality": "substitute",
        "params": params,
        "model_config": model_config,
        "training": training or {},
    }
