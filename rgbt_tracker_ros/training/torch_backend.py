"""A PyTorch model behind RGBTTracker, for models that have no ONNX export (e.g. a teacher whose
graph does not fit the runtime contract), and its cost and step timing for the ablation table.

TorchBackend is injected into RGBTTracker (`RGBTTracker(config, backend=TorchBackend(module))`):
crops, thermal stretch, missing-modality substitution, Hann window, decoding and the tracking state
machine stay the tracker's own code, so a checkpoint and its ONNX export track identically up to
float rounding.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from rgbt_tracker_ros.evaluation.ablation import ModelSpec
from rgbt_tracker_ros.models.builder import parameter_count
from rgbt_tracker_ros.models.student import SearchGraph, TemplateGraph
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.contract import SEARCH_INPUTS, TEMPLATE_INPUTS
from rgbt_tracker_ros.tracking.model_bundle import ModelBundle
from rgbt_tracker_ros.tracking.tracker import RGBTTracker
from rgbt_tracker_ros.models.checkpoint import load_checkpoint_model

TORCH_PROVIDER = "torch-cpu"


class TorchBackend:
    """A student-shaped torch module's template and search graphs, run on the CPU (NetworkBackend)."""

    def __init__(self, module: torch.nn.Module, name: str = "torch"):
        self.module = module.eval().cpu()
        c = self.module.config
        self.bundle = ModelBundle(
            directory=Path("."), name=name, version="torch", template_size=c.template_size,
            search_size=c.search_size, template_factor=c.template_factor, search_factor=c.search_factor,
            feature_size=(c.feature_size, c.feature_size), template_file=Path(), search_file=Path(),
            params=sum(p.numel() for p in self.module.parameters()),
        )
        self.provider = TORCH_PROVIDER
        self._template = TemplateGraph(self.module)
        self._search = SearchGraph(self.module)

    @classmethod
    def from_checkpoint(cls, path: str | Path, name: str | None = None) -> "TorchBackend":
        module, state = load_checkpoint_model(Path(path))
        return cls(module, name or str(state.get("config", {}).get("name") or Path(path).stem))

    def template(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        with torch.inference_mode():
            return self._template(*_tensors(feeds, TEMPLATE_INPUTS)).numpy()

    def search(self, feeds: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with torch.inference_mode():
            score, size, offset = self._search(*_tensors(feeds, SEARCH_INPUTS))
        return score.numpy(), size.numpy(), offset.numpy()


def _tensors(feeds: dict[str, np.ndarray], names: tuple[str, ...]) -> list[torch.Tensor]:
    return [torch.from_numpy(np.ascontiguousarray(feeds[n])) for n in names]


class TorchModel:
    """An ablation entry (evaluation.ablation.AblationModel) for a .pt checkpoint, run by PyTorch."""

    backend_label = "PyTorch (CPU)"

    def __init__(self, spec: ModelSpec, threads: int):
        self.spec = spec
        self.module, _ = load_checkpoint_model(spec.path)
        self.module = self.module.eval().cpu()
        self.threads = threads
        self.config = TrackerConfig(model=None, providers=("cpu",), threads=threads)
        self.make(None)  # a bad model stops the command before any sequence runs

    def make(self, homography) -> RGBTTracker:
        config = self.config if homography is None else dataclasses.replace(self.config, thermal_to_visible=homography)
        torch.set_num_threads(self.threads)
        return RGBTTracker(config, backend=TorchBackend(self.module, self.spec.name))

    def cost(self) -> dict:
        c = self.module.config
        z, s = c.template_size, c.search_size
        with torch.inference_mode():
            kernel = TemplateGraph(self.module)(torch.zeros(1, 3, z, z), torch.zeros(1, 1, z, z))
            with FlopCounterMode(display=False) as counter:
                SearchGraph(self.module)(kernel, torch.zeros(1, 3, s, s), torch.zeros(1, 1, s, s))
        return {"params": parameter_count(self.module), "gflops": counter.get_total_flops() / 1e9,
                "flops_source": "torch FlopCounterMode", "input_modality": getattr(self.module, "modality", "rgbt")}

    def step(self, rng: np.random.Generator):
        """One tracking step (the search graph at batch 1) as a call without arguments."""
        torch.set_num_threads(self.threads)
        c = self.module.config
        z, s = c.template_size, c.search_size
        rand = lambda *shape: torch.from_numpy(rng.integers(0, 256, shape).astype(np.float32))  # noqa: E731
        with torch.inference_mode():
            kernel = TemplateGraph(self.module)(rand(1, 3, z, z), rand(1, 1, z, z))
        graph, sv, st = SearchGraph(self.module), rand(1, 3, s, s), rand(1, 1, s, s)

        def call():
            with torch.inference_mode():
                graph(kernel, sv, st)

        return call
