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
from rgbt_tracker_ros.tracking.session import ProviderSpec, create_session, resolve_providers


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
        self._template, self._search = open_sessions(self.bundle, resolve_providers(config), config.threads)
        #: The execution providers the per-frame (search) graph and the template graph run on.
        self.provider: str = self._search.get_providers()[0]
        self.template_provider: str = self._template.get_providers()[0]
        _check_input_shapes(self._template, template_input_shapes(self.bundle.template_size))
        _check_input_shapes(self._search, search_input_shapes(self.bundle.search_size))
        self._search_outputs = list(SEARCH_OUTPUTS)
        self._template_outputs = list(TEMPLATE_OUTPUTS)
        probe(self)

    def template(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        return self._template.run(self._template_outputs, feeds)[0]

    def search(self, feeds: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        score, size, offset = self._search.run(self._search_outputs, feeds)
        return score, size, offset


def open_sessions(bundle: ModelBundle, providers: list[ProviderSpec], threads: int):
    """The template and search sessions of a model folder. The search graph is tried from the
    provider the template graph landed on: a provider that could not take the first graph (TensorRT
    listed by the build, its libraries missing) is not tried, and warned about, a second time."""
    template = create_session(bundle.template_file, providers, threads, TEMPLATE_INPUTS, TEMPLATE_OUTPUTS)
    landed = template.get_providers()[0]
    names = [name for name, _ in providers]
    remaining = providers[names.index(landed):] if landed in names else providers
    search = create_session(bundle.search_file, remaining, threads, SEARCH_INPUTS, SEARCH_OUTPUTS)
    return template, search


# The probe's crops: fixed noise over the input range (a constant crop could hide a broken graph).
_PROBE_SEED = 14
# A score is a probability; a little rounding above 1 is not a broken model.
_SCORE_SLACK = 1e-5


def probe(backend: NetworkBackend) -> None:
    """Run the network once on fixed noise crops and check its outputs against the model folder's
    contract: the score, size and offset maps' shapes from model.json's feature_size, every value
    finite, the score a probability in 0..1. InputError saying what is wrong otherwise; so a broken
    model is refused when it is loaded, not at the first init_target (about 10 ms on a CPU)."""
    bundle = backend.bundle
    where = f"model {bundle.directory}"
    rng = np.random.default_rng(_PROBE_SEED)
    shapes = {**template_input_shapes(bundle.template_size), **search_input_shapes(bundle.search_size)}
    crops = {name: rng.uniform(0.0, 255.0, shape).astype(np.float32) for name, shape in shapes.items()}
    try:
        features = backend.template({name: crops[name] for name in TEMPLATE_INPUTS})
        outputs = backend.search({"template_features": features,
                                  **{name: crops[name] for name in SEARCH_INPUTS if name in crops}})
    except InputError:
        raise
    except Exception as exc:  # ONNX Runtime's own exception types are not all importable
        text = str(exc).strip().splitlines()
        raise InputError(f"{where}: the network fails on a test input: {text[0] if text else type(exc).__name__}") from exc
    h, w = bundle.feature_size
    expected = {"score": (1, 1, h, w), "size": (1, 2, h, w), "offset": (1, 2, h, w)}
    for name, value in zip(SEARCH_OUTPUTS, outputs):
        have = tuple(np.shape(value))
        if have != expected[name]:
            raise InputError(f"{where}: search output {name} has shape {list(have)}; model.json "
                             f"(feature_size {[h, w]}) needs {list(expected[name])}")
        if not np.all(np.isfinite(value)):
            raise InputError(f"{where}: search output {name} holds NaN or infinity on a test input")
    score = outputs[0]
    low, high = float(np.min(score)), float(np.max(score))
    if low < -_SCORE_SLACK or high > 1.0 + _SCORE_SLACK:
        raise InputError(f"{where}: search output score spans {low:g}..{high:g} on a test input; "
                         f"a score is a probability in 0..1")


def _check_input_shapes(session, expected: dict[str, tuple[int, ...]]) -> None:
    for node in session.get_inputs():
        want = expected.get(node.name)
        if want is None:
            continue
        have = tuple(node.shape)
        if len(have) != len(want) or any(isinstance(d, int) and d != e for d, e in zip(have, want)):
            raise InputError(f"model input {node.name} has shape {list(have)}; model.json implies {list(want)}")
