"""A model on the execution providers a machine offers, against the CPU provider, in one run.

For each model folder: the provider each graph lands on and every warning the runtime gave while
choosing it (a TensorRT that the build lists but cannot load must warn once and land on CUDA); the
largest difference between the two providers' outputs on the same crops (fixed noise over the input
range) and between the boxes they track over the same frames; and the step and frame latency of
evaluation.bench on each provider. `rgbt-tracker provider-check` prints it; scripts/device_check.sh
runs it on a GPU machine.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.evaluation.bench import BenchSettings, benchmark
from rgbt_tracker_ros.evaluation.bench_scene import MovingTarget
from rgbt_tracker_ros.tracking.backend import NetworkBackend, OnnxBackend
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.contract import (
    SEARCH_INPUTS, TEMPLATE_INPUTS, search_input_shapes, template_input_shapes,
)
from rgbt_tracker_ros.tracking.tracker import RGBTTracker

RUNTIME_LOGGER = "rgbt_tracker_ros.tracking"


@dataclass(frozen=True)
class ProviderCheckSettings:
    models: dict[str, str]                                   # name -> model folder
    providers: tuple[str, ...] = ("tensorrt", "cuda", "cpu")  # under test, in priority order
    reference: tuple[str, ...] = ("cpu",)
    crops: int = 8            # noise crop sets for the output parity
    frames: int = 60          # tracked frames for the box parity
    runs: int = 3             # evaluation.bench repetitions per provider
    steps: int = 100
    warmup: int = 20
    threads: int = 2
    bench_reference: bool = True  # also time the reference provider (the speed-up in one run)

    def __post_init__(self):
        if not self.models:
            raise InputError("give at least one model folder")
        for name in ("crops", "frames", "runs", "steps", "threads"):
            if getattr(self, name) < 1:
                raise InputError(f"--{name} must be at least 1, got {getattr(self, name)}")


class _Warnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _backend(folder: str, providers: tuple[str, ...], threads: int) -> tuple[OnnxBackend, list[str]]:
    """The model on `providers`, and the runtime's warnings while it chose where to run."""
    warnings = _Warnings()
    logger = logging.getLogger(RUNTIME_LOGGER)
    logger.addHandler(warnings)
    try:
        backend = OnnxBackend(TrackerConfig(model=folder, providers=providers, threads=threads))
    finally:
        logger.removeHandler(warnings)
    return backend, warnings.messages


def output_difference(tested: NetworkBackend, reference: NetworkBackend, crops: int) -> dict[str, float]:
    """Largest absolute difference of each output over `crops` sets of noise crops."""
    bundle = reference.bundle
    shapes = {**template_input_shapes(bundle.template_size), **search_input_shapes(bundle.search_size)}
    rng = np.random.default_rng(15)
    worst = {"template_features": 0.0, "score": 0.0, "size": 0.0, "offset": 0.0}
    for _ in range(crops):
        feeds = {name: rng.uniform(0.0, 255.0, shape).astype(np.float32) for name, shape in shapes.items()}
        features = [b.template({n: feeds[n] for n in TEMPLATE_INPUTS}) for b in (tested, reference)]
        worst["template_features"] = max(worst["template_features"], float(np.max(np.abs(features[0] - features[1]))))
        search = {n: feeds[n] for n in SEARCH_INPUTS if n in feeds}
        # Both on the reference's features: the search graph's own difference, not the template's carried on.
        outputs = [b.search({"template_features": features[1], **search}) for b in (tested, reference)]
        for name, a, b in zip(("score", "size", "offset"), *outputs):
            worst[name] = max(worst[name], float(np.max(np.abs(a - b))))
    return worst


def box_difference(tested: NetworkBackend, reference: NetworkBackend, frames: int) -> dict[str, float]:
    """Both backends track the same synthetic frames (640x512 thermal, 640x480 visible): the largest
    corner difference of their boxes in pixels and of their scores."""
    scene = MovingTarget(seed=0)
    trackers = [RGBTTracker(backend=b) for b in (tested, reference)]
    for tracker in trackers:
        tracker.initialize(*scene.frame(0), scene.box(0))
    box_px = score = 0.0
    for i in range(1, frames + 1):
        a, b = (tracker.track(*scene.frame(i)) for tracker in trackers)
        box_px = max(box_px, float(np.max(np.abs(np.asarray(a.box) - np.asarray(b.box)))))
        score = max(score, abs(float(a.score) - float(b.score)))
    return {"box_px": box_px, "score": score, "frames": frames}


def _latency(folder: str, provider: str, settings: ProviderCheckSettings) -> dict:
    report = benchmark(BenchSettings(model=folder, runs=settings.runs, steps=settings.steps,
                                     warmup=settings.warmup, threads=settings.threads,
                                     providers=(provider,), peers="none"))
    return {key: report[key] for key in ("provider", "step_ms_p50", "step_ms_p95", "frame_ms_p50", "frame_ms_p95")}


def check_model(folder: str, settings: ProviderCheckSettings) -> dict:
    tested, warnings = _backend(folder, settings.providers, settings.threads)
    reference, _ = _backend(folder, settings.reference, settings.threads)
    landed = tested.provider
    result = {
        "folder": folder,
        "kind": tested.bundle.metadata.get("kind", "?"),
        "params": tested.bundle.params,
        "asked": list(settings.providers),
        "template_provider": tested.template_provider,
        "search_provider": landed,
        "reference_provider": reference.provider,
        "warnings": warnings,
        "output_max_abs_diff": output_difference(tested, reference, settings.crops),
        "tracking_diff": box_difference(tested, reference, settings.frames),
        "latency": {landed: _latency(folder, landed, settings)},
    }
    if settings.bench_reference and reference.provider != landed:
        result["latency"][reference.provider] = _latency(folder, reference.provider, settings)
    return result


def provider_check(settings: ProviderCheckSettings) -> dict:
    """Every model's check, and the step-latency ratio of each model to the first on the tested provider."""
    models = {name: check_model(folder, settings) for name, folder in settings.models.items()}
    first = next(iter(models.values()))
    base = first["latency"][first["search_provider"]]["step_ms_p50"]
    for entry in models.values():
        step = entry["latency"][entry["search_provider"]]["step_ms_p50"]
        entry["step_p50_ratio_to_first"] = step / base if base > 0 else None
    return {"models": models, "providers": list(settings.providers), "reference": list(settings.reference)}

