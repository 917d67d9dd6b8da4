"""Export a trained student to the runtime's ONNX contract (docs/design.md) and check it against PyTorch."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from rgbt_tracker_ros import __version__
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.models.builder import parameter_count
from rgbt_tracker_ros.models.config import ModelConfig
from rgbt_tracker_ros.models.student import SearchGraph, SingleStreamStudent, TemplateGraph

log = logging.getLogger(__name__)

OPSET = 17
IR_VERSION = 10  # onnxruntime 1.31 rejects newer IR versions
TEMPLATE_INPUTS = ("template_visible", "template_thermal")
SEARCH_INPUTS = ("template_features", "search_visible", "search_thermal")
SEARCH_OUTPUTS = ("score", "size", "offset")
WEIGHTS_FILE = "student.pt"


def _example_inputs(config: ModelConfig, generator: torch.Generator):
    z, s = config.template_size, config.search_size
    rand = lambda *shape: torch.rand(*shape, generator=generator) * 255.0  # noqa: E731
    return (rand(1, 3, z, z), rand(1, 1, z, z)), (rand(1, 3, s, s), rand(1, 1, s, s))


def _export_graph(module: torch.nn.Module, args: tuple, path: Path, inputs, outputs) -> None:
    import onnx

    torch.onnx.export(
        module, args, str(path), input_names=list(inputs), output_names=list(outputs),
        opset_version=OPSET, dynamo=True, external_data=False, optimize=True,
    )
    model = onnx.load(str(path))
    model.ir_version = min(model.ir_version, IR_VERSION)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def export_student(model: SingleStreamStudent, out_dir: Path, name: str = "student", training_info: dict | None = None) -> Path:
    """Write template.onnx, search.onnx and model.json into out_dir; return the model.json path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = model.eval().cpu()
    config = model.config
    template_args, search_args = _example_inputs(config, torch.Generator().manual_seed(0))
    template_graph, search_graph = TemplateGraph(model).eval(), SearchGraph(model).eval()
    with torch.no_grad():
        features = template_graph(*template_args)
        _export_graph(template_graph, template_args, out_dir / "template.onnx", TEMPLATE_INPUTS, ("template_features",))
        _export_graph(search_graph, (features, *search_args), out_dir / "search.onnx", SEARCH_INPUTS, SEARCH_OUTPUTS)
    metadata = {
        "name": name,
        "version": __version__,
        "kind": config.kind,
        "template_size": config.template_size,
        "search_size": config.search_size,
        "template_factor": config.template_factor,
        "search_factor": config.search_factor,
        "feature_size": [config.feature_size, config.feature_size],
        "files": {"template": "template.onnx", "search": "search.onnx"},
        "inputs": {"template": list(TEMPLATE_INPUTS), "search": list(SEARCH_INPUTS)},
        "outputs": {"template": ["template_features"], "search": list(SEARCH_OUTPUTS)},
        "normalisation": {"mean": config.pixel_mean, "std": config.pixel_std, "in_graph": True,
                          "input_range": [0, 255], "channel_order": "RGB", "thermal_channels": 1},
        "missing_modality": "substitute",
        "params": parameter_count(model),
        "model_config": asdict(config),
        "training": training_info or {},
    }
    saved_config = {"model": asdict(config), "name": name}
    modality = getattr(model, "modality", None)  # single-modality students (distill/compression.py)
    if modality is not None:
        # The graphs keep every input of the contract; this model reads only `modality` ones.
        metadata["input_modality"] = saved_config["input_modality"] = modality
    path = out_dir / "model.json"
    path.write_text(json.dumps(metadata, indent=2) + "\n")
    # The PyTorch weights travel with the ONNX files (small), so anyone can re-check or fine-tune them.
    torch.save({"model": model.state_dict(), "config": saved_config}, out_dir / WEIGHTS_FILE)
    return path


def check_parity(model: SingleStreamStudent, model_dir: Path, inputs: list[tuple[np.ndarray, ...]], tolerance: float = 1e-3) -> float:
    """Run PyTorch and ONNX Runtime on each (tv, tt, sv, st) input set; return the max abs difference.

    Raises AssertionError when the difference exceeds tolerance.
    """
    import onnxruntime as ort

    model = model.eval().cpu()
    opts = ort.SessionOptions()
    template_sess = ort.InferenceSession(str(Path(model_dir) / "template.onnx"), opts, providers=["CPUExecutionProvider"])
    search_sess = ort.InferenceSession(str(Path(model_dir) / "search.onnx"), opts, providers=["CPUExecutionProvider"])
    worst = 0.0
    for tv, tt, sv, st in inputs:
        with torch.no_grad():
            feats = TemplateGraph(model)(torch.from_numpy(tv), torch.from_numpy(tt))
            expected = [feats] + list(SearchGraph(model)(feats, torch.from_numpy(sv), torch.from_numpy(st)))
        onnx_feats = template_sess.run(None, {"template_visible": tv, "template_thermal": tt})[0]
        got = [onnx_feats] + search_sess.run(
            None, {"template_features": onnx_feats, "search_visible": sv, "search_thermal": st}
        )
        for e, g in zip(expected, got):
            worst = max(worst, float(np.max(np.abs(e.numpy() - g))))
    if worst > tolerance:
        raise AssertionError(f"ONNX Runtime differs from PyTorch by {worst:.2e} (tolerance {tolerance:.0e})")
    return worst


def random_inputs(config: ModelConfig, count: int, seed: int = 0) -> list[tuple[np.ndarray, ...]]:
    rng = np.random.default_rng(seed)
    z, s = config.template_size, config.search_size
    f = lambda *shape: (rng.random(shape) * 255).astype(np.float32)  # noqa: E731
    return [(f(1, 3, z, z), f(1, 1, z, z), f(1, 3, s, s), f(1, 1, s, s)) for _ in range(count)]


def real_inputs(config: ModelConfig, count: int = 3, seed: int = 1_000_000) -> list[tuple[np.ndarray, ...]]:
    """Template/search crops cut from real rendered frames (a synthetic validation sequence) with
    the runtime's preprocessing, so the parity check also covers realistic value ranges."""
    from rgbt_tracker_ros.data.synthetic import SyntheticConfig, make_sequence
    from rgbt_tracker_ros.tracking.preprocessing import (
        CropWindow, crop_thermal, crop_visible, thermal_stretch, to_network_input,
    )

    sequence = make_sequence(seed, SyntheticConfig(width=320, height=256, length=max(2, count + 1)))
    out = []
    for i in range(count):
        visible, thermal = sequence.frame(i)
        box = sequence.groundtruth[i]
        stretch = thermal_stretch(thermal)
        crops = []
        for size, factor in ((config.template_size, config.template_factor), (config.search_size, config.search_factor)):
            window = CropWindow.around(box, factor, size)
            crops += [to_network_input(crop_visible(visible, window)),
                      to_network_input(crop_thermal(thermal, window, stretch, sequence.thermal_to_visible))]
        out.append(tuple(crops))
    return out


def load_checkpoint_model(path: str | Path) -> tuple[SingleStreamStudent, dict]:
    """(network in eval mode, checkpoint dict) of a `train` checkpoint or an exported student.pt, built
    from the config stored with it. A missing, unreadable or foreign file raises InputError."""
    from rgbt_tracker_ros.common.config_io import from_dict
    from rgbt_tracker_ros.models.builder import build_model

    if not Path(path).is_file():
        raise InputError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
        model_config = from_dict(ModelConfig, state["config"]["model"], where="checkpoint.model")
        modality = state["config"].get("input_modality")
        if modality:  # a single-modality student (the thermal-only compressed model)
            from rgbt_tracker_ros.distill.compression import SingleModalityStudent

            model = SingleModalityStudent(model_config, modality)
        else:
            model = build_model(model_config)
        model.load_state_dict(state["model"])
    except InputError:
        raise
    except Exception as exc:  # torch.load of a non-checkpoint raises pickle, EOF, zip or type errors
        raise InputError(f"cannot load checkpoint {path}: {type(exc).__name__}: {exc}") from exc
    return model.eval(), state
