"""A PyTorch model (a checkpoint) behind the RGBTTracker interface, for models that have no ONNX
export (e.g. a teacher whose graph does not fit the runtime contract).

Crops, thermal stretch, missing-modality substitution, Hann window, decoding and the tracking state
machine are RGBTTracker's own code (this class only replaces its two ONNX Runtime sessions by the
model's template / search graphs run with torch on the CPU), so a checkpoint and its ONNX export
track identically up to float rounding.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.model_bundle import SEARCH_INPUTS, SEARCH_OUTPUTS, TEMPLATE_INPUTS, ModelBundle
from rgbt_tracker_ros.tracking.tracker import RGBTTracker

TORCH_PROVIDER = "torch-cpu"


class TorchGraphSession:
    """The slice of onnxruntime.InferenceSession that RGBTTracker uses, over a torch module."""

    def __init__(self, module, input_names: tuple[str, ...], output_names: tuple[str, ...]):
        self.module = module.eval()
        self.input_names = input_names
        self.output_names = output_names

    def run(self, output_names, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        import torch

        with torch.inference_mode():
            outs = self.module(*(torch.from_numpy(np.ascontiguousarray(feeds[n])) for n in self.input_names))
        if isinstance(outs, torch.Tensor):
            outs = (outs,)
        by_name = dict(zip(self.output_names, outs))
        return [by_name[n].numpy() for n in (output_names or self.output_names)]

    def get_providers(self) -> list[str]:
        return [TORCH_PROVIDER]

    def get_inputs(self) -> list:
        return []


class TorchTracker(RGBTTracker):
    """RGBTTracker with the network run by PyTorch (CPU). `model` is a checkpoint path or a module."""

    def __init__(self, model, config: TrackerConfig | None = None, name: str | None = None, threads: int | None = None):
        import torch

        from rgbt_tracker_ros.models.student import SearchGraph, TemplateGraph
        from rgbt_tracker_ros.training.export import load_checkpoint_model

        config = config or TrackerConfig()
        if not isinstance(model, torch.nn.Module):
            path = Path(model)
            model, state = load_checkpoint_model(path)
            name = name or str(state.get("config", {}).get("name") or path.stem)
        model = model.eval().cpu()
        if threads:
            torch.set_num_threads(threads)
        mc = model.config
        self.config = config
        self.network = model
        self.model = ModelBundle(
            directory=Path("."), name=name or "torch", version="torch", template_size=mc.template_size,
            search_size=mc.search_size, template_factor=mc.template_factor, search_factor=mc.search_factor,
            feature_size=(mc.feature_size, mc.feature_size), template_file=Path(), search_file=Path(),
            params=sum(p.numel() for p in model.parameters()),
        )
        self._template_session = TorchGraphSession(TemplateGraph(model), TEMPLATE_INPUTS, ("template_features",))
        self._search_session = TorchGraphSession(SearchGraph(model), SEARCH_INPUTS, SEARCH_OUTPUTS)
        self.provider = TORCH_PROVIDER
        self._prepare_buffers()

