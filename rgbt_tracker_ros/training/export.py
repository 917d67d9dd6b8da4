"""Export a trained network to the runtime's ONNX contract (`tracking/contract.py`, docs/design.md)
and check it against PyTorch."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rgbt_tracker_ros import __version__
from rgbt_tracker_ros.common.errors import JobFailed
from rgbt_tracker_ros.data.synthetic import SyntheticConfig, make_sequence
from rgbt_tracker_ros.models.builder import parameter_count
from rgbt_tracker_ros.models.checkpoint import load_checkpoint_model
from rgbt_tracker_ros.models.config import ModelConfig
from rgbt_tracker_ros.models.student import SearchGraph, TemplateGraph
from rgbt_tracker_ros.tracking.contract import (
    IR_VERSION, MODEL_FILE, OPSET, SEARCH_FILE, SEARCH_INPUTS, SEARCH_OUTPUTS, TEMPLATE_FILE, TEMPLATE_INPUTS,
    TEMPLATE_OUTPUTS, WEIGHTS_FILE, model_metadata,
)
from rgbt_tracker_ros.tracking.onnx_runtime import ort
from rgbt_tracker_ros.tracking.preprocessing import CropWindow, crop_pair, to_network_input

log = logging.getLogger(__name__)


def _example_inputs(config: ModelConfig, generator: torch.Generator):
    z, s = config.template_size, config.search_size
    rand = lambda *shape: torch.rand(*shape, generator=generator) * 255.0  # noqa: E731
    return (rand(1, 3, z, z), rand(1, 1, z, z)), (rand(1, 3, s, s), rand(1, 1, s, s))


def _export_graph(module: torch.nn.Module, args: tuple, path: Path, inputs, outputs) -> None:
    import onnx  # the export's own dependency, loaded when a graph is written

    torch.onnx.export(
        module, args, str(path), input_names=list(inputs), output_names=list(outputs),
        opset_version=OPSET, dynamo=True, external_data=False, optimize=True,
    )
    model = onnx.load(str(path))
    model.ir_version = min(model.ir_version, IR_VERSION)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def export_student(model: nn.Module, out_dir: Path, name: str = "student", training_info: dict | None = None) -> Path:
    """Write the two graphs, model.json and the PyTorch weights into out_dir; return the model.json path.
    Any network with the student's graph interface exports (students, teachers, single-modality students)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = model.eval().cpu()
    config = model.config
    template_args, search_args = _example_inputs(config, torch.Generator().manual_seed(0))
    template_graph, search_graph = TemplateGraph(model).eval(), SearchGraph(model).eval()
    with torch.no_grad():
        features = template_graph(*template_args)
        _export_graph(template_graph, template_args, out_dir / TEMPLATE_FILE, TEMPLATE_INPUTS, TEMPLATE_OUTPUTS)
        _export_graph(search_graph, (features, *search_args), out_dir / SEARCH_FILE, SEARCH_INPUTS, SEARCH_OUTPUTS)
    metadata = model_metadata(
        name=name, version=__version__, kind=config.kind, template_size=config.template_size,
        search_size=config.search_size, template_factor=config.template_factor,
        search_factor=config.search_factor, feature_size=config.feature_size, pixel_mean=config.pixel_mean,
        pixel_std=config.pixel_std, params=parameter_count(model), model_config=asdict(config),
        training=training_info,
    )
    saved_config = {"model": asdict(config), "name": name}
    modality = getattr(model, "modality", None)  # single-modality students (models/single_modality.py)
    if modality is not None:
        # The graphs keep every input of the contract; this model reads only `modality` ones.
        metadata["input_modality"] = saved_config["input_modality"] = modality
    path = out_dir / MODEL_FILE
    path.write_text(json.dumps(metadata, indent=2) + "\n")
    # The PyTorch weights travel with the ONNX files (small), so anyone can re-check or fine-tune them.
    torch.save({"model": model.state_dict(), "config": saved_config}, out_dir / WEIGHTS_FILE)
    return path


def check_parity(model: nn.Module, model_dir: Path, inputs: list[tuple[np.ndarray, ...]], tolerance: float = 1e-3) -> float:
    """Run PyTorch and ONNX Runtime on each (tv, tt, sv, st) input set; return the max abs difference.

    Raises JobFailed when the difference exceeds tolerance.
    """
    model = model.eval().cpu()
    opts = ort.SessionOptions()
    template_sess = ort.InferenceSession(str(Path(model_dir) / TEMPLATE_FILE), opts, providers=["CPUExecutionProvider"])
    search_sess = ort.InferenceSession(str(Path(model_dir) / SEARCH_FILE), opts, providers=["CPUExecutionProvider"])
    worst = 0.0
    for tv, tt, sv, st in inputs:
        with torch.no_grad():
            feats = TemplateGraph(model)(torch.from_numpy(tv), torch.from_numpy(tt))
            expected = [feats] + list(SearchGraph(model)(feats, torch.from_numpy(sv), torch.from_numpy(st)))
        onnx_feats = template_sess.run(None, dict(zip(TEMPLATE_INPUTS, (tv, tt))))[0]
        got = [onnx_feats] + search_sess.run(None, dict(zip(SEARCH_INPUTS, (onnx_feats, sv, st))))
        for e, g in zip(expected, got):
            worst = max(worst, float(np.max(np.abs(e.numpy() - g))))
    if worst > tolerance:
        raise JobFailed(f"parity check FAILED: ONNX Runtime differs from PyTorch by {worst:.2e} "
                        f"(tolerance {tolerance:.0e})")
    return worst


def random_inputs(config: ModelConfig, count: int, seed: int = 0) -> list[tuple[np.ndarray, ...]]:
    rng = np.random.default_rng(seed)
    z, s = config.template_size, config.search_size
    f = lambda *shape: (rng.random(shape) * 255).astype(np.float32)  # noqa: E731
    return [(f(1, 3, z, z), f(1, 1, z, z), f(1, 3, s, s), f(1, 1, s, s)) for _ in range(count)]


def real_inputs(config: ModelConfig, count: int = 3, seed: int = 1_000_000) -> list[tuple[np.ndarray, ...]]:
    """Template/search crops cut from real rendered frames (a synthetic validation sequence) with
    the runtime's preprocessing, so the parity check also covers realistic value ranges."""
    sequence = make_sequence(seed, SyntheticConfig(width=320, height=256, length=max(2, count + 1)))
    out = []
    for i in range(count):
        visible, thermal = sequence.frame(i)
        box = sequence.groundtruth[i]
        crops = []
        for size, factor in ((config.template_size, config.template_factor), (config.search_size, config.search_factor)):
            crop_v, crop_t = crop_pair(visible, thermal, CropWindow.around(box, factor, size), sequence.thermal_to_visible)
            crops += [to_network_input(crop_v), to_network_input(crop_t)]
        out.append(tuple(crops))
    return out


@dataclass(frozen=True)
class ExportReport:
    model_json: Path
    parity_random: float   # max |ONNX - PyTorch| on random inputs
    parity_real: float     # ... on crops of rendered frames


def export_checked(model: nn.Module, out_dir: Path, name: str, training_info: dict | None = None,
                   tolerance: float = 1e-3) -> ExportReport:
    """export_student, then the parity check on random inputs and on real crops (JobFailed if it fails)."""
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    path = export_student(model.cpu().eval(), Path(out_dir), name=name, training_info=training_info)
    diff_random = check_parity(model, path.parent, random_inputs(model.config, 3), tolerance)
    diff_real = check_parity(model, path.parent, real_inputs(model.config, 3), tolerance)
    return ExportReport(path, diff_random, diff_real)


# The frozen RGB peer a student learnt real-image knowledge from (distill.peer): its licence asks
# for the attribution wherever a model trained from it is shipped (../shared/models/README.md).
PEER_ATTRIBUTION = {
    "model": "NanoTrack v2 (frozen RGB teacher on the visible crops; its weights are not part of this model)",
    "origin": "HonglinChu/SiamTrackers, NanoTrack/models/nanotrackv2",
    "licence": "Apache-2.0",
}


def export_checkpoint(checkpoint: str | Path, output: str | Path, name: str = "", tolerance: float = 1e-3) -> ExportReport:
    """`rgbt-tracker export`: a checkpoint's network as a checked model folder; model.json records
    where it came from (checkpoint, epoch, step, best validation loss, run name)."""
    model, state = load_checkpoint_model(checkpoint)
    info = {"checkpoint": str(checkpoint), "epoch": state.get("epoch"), "step": state.get("step"),
            "best_val_loss": state.get("best_val"), "run": state["config"].get("name")}
    peer = (state["config"].get("distill") or {}).get("peer") or {}
    if peer.get("enabled", bool(peer)):
        info["distilled_from_peer"] = {**PEER_ATTRIBUTION, "files": [Path(peer["backbone"]).name, Path(peer["head"]).name]}
    return export_checked(model, Path(output), name or state["config"].get("name", "student"), info, tolerance)
