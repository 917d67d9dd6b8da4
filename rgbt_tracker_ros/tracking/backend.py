"""The network behind RGBTTracker: two graphs of the ONNX contract (template, search) and the model
geometry. ONNX Runtime is the runtime's backend; anything else (a PyTorch checkpoint in the
ablations, `training/torch_backend.py`) is injected with the same three members."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.contract import (
    SEARCH_INPUTS,
    SEARCH_OUTPUTS,
    TEMPLATE_INPUTS,
    TEMPLATE_OUTPUTS,
    search_input_shapes,
    template_input_shapes,
)
from rgbt_tracker_ros.tracking.model_bundle import ModelBundle, load_bundle
from rgbt_tracker_ros.tracking.session import create_session, resolve_providers


class NetworkBackend(Protocol):
    """What the tracker needs of a network: its geometry, where it runs and its two graphs."""

    bundle: ModelBundle
    provider: str  # shown in logs and diagnostics, e.g. "CPUExecutionProvider"

    def template(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """TEMPLATE_INPUTS -> template features."""

    def search(self, feeds: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """SEARCH_INPUTS -> (score, size, offset)."""


class OnnxBackend:
    """The model folder's two ONNX files in ONNX Runtime sessions on the configured providers."""

    def __init__(self, config: TrackerConfig):
        self.bundle = load_bundle(config.model)
        providers = resolve_providers(config)
        self._template = create_session(
            self.bundle.template_file, providers, config.threads, TEMPLATE_INPUTS, TEMPLATE_OUTPUTS
        )
        self._search = create_session(
            self.bundle.search_file, providers, config.threads, SEARCH_INPUTS, SEARCH_OUTPUTS
        )
        #: The execution provider the per-frame (search) graph runs on.
        self.provider: str = self._search.get_providers()[0]
        _check_input_shapes(self._template, template_input_shapes(self.bundle.template_size))
        _check_input_shapes(self._search, search_input_shapes(self.bundle.search_size))
        self._search_outputs = list(SEARCH_OUTPUTS)
        self._template_outputs = list(TEMPLATE_OUTPUTS)

    def template(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        return self._template.run(self._template_outputs, feeds)[0]

    def search(self, feeds: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        score, size, offset = self._search.run(self._search_outputs, feeds)
        return score, size, offset


def _check_input_shapes(session, expected: dict[str, tuple[int, ...]]) -> None:
    for node in session.get_inputs():
        want = expected.get(node.name)
        if want is None:
            continue
        have = tuple(node.shape)
        if len(have) != len(want) or any(isinstance(d, int) and d != e for d, e in zip(have, want)):
            raise InputError(f"model input {node.name} has shape {list(have)}; model.json implies {list(want)}")
