"""The student's benchmark: parameters, GFLOPs and latency (`rgbt-tracker bench` prints it).

Reports (each latency the median over --runs runs):
- params and GFLOPs of one tracking step (the search graph), from the ONNX graph (evaluation.flops);
- step latency: the search graph alone in ONNX Runtime, p50 / p95 over --steps calls after warm-up;
- frame latency: RGBTTracker.track on a 640x512 uint16 thermal + 640x480 RGB frame (so the scaling
  homography is in play), box out, over a synthetic moving warm target.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass

import numpy as np

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.evaluation.flops import model_cost
from rgbt_tracker_ros.evaluation.machine import load_average
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.contract import SEARCH_INPUTS, SEARCH_OUTPUTS
from rgbt_tracker_ros.tracking.session import create_session, resolve_providers
from rgbt_tracker_ros.tracking.tracker import RGBTTracker

THERMAL_SIZE = (640, 512)  # (width, height), uint16 radiometric counts
VISIBLE_SIZE = (640, 480)  # (width, height), RGB uint8


@dataclass(frozen=True)
class BenchSettings:
    model: str | None = None       # model folder or model.json; None: the shipped student
    runs: int = 5                  # repetitions; each figure is their median
    steps: int = 200               # timed calls per run
    warmup: int = 20               # untimed calls before each run
    threads: int = 2
    providers: tuple[str, ...] = ("tensorrt", "cuda", "cpu")

    def __post_init__(self):
        for name in ("runs", "steps", "threads"):
            if getattr(self, name) < 1:
                raise InputError(f"--{name} must be at least 1, got {getattr(self, name)}")
        if self.warmup < 0:
            raise InputError(f"--warmup must be 0 or more, got {self.warmup}")


def benchmark(args: BenchSettings) -> dict:
    """The figures of one benchmark run (see the module docstring) as a JSON-ready dict."""
    load_before = load_average()
    config = TrackerConfig(model=args.model, providers=tuple(args.providers), threads=args.threads)
    tracker = RGBTTracker(config)
    bundle = tracker.model
    cost = model_cost(bundle.template_file, bundle.search_file)

    # The search graph alone, on the provider the tracker ended up with (no second round of fallbacks).
    step_config = dataclasses.replace(config, providers=(tracker.provider,))
    search = create_session(
        bundle.search_file, resolve_providers(step_config), config.threads, SEARCH_INPUTS, SEARCH_OUTPUTS
    )
    feeds = _random_search_inputs(search)
    step = [_time_calls(lambda: search.run(None, feeds), args.steps, args.warmup) for _ in range(args.runs)]

    scene = MovingTarget(seed=0)
    frame = []
    states: dict[str, int] = {}
    for _ in range(args.runs):
        tracker.initialize(*scene.frame(0), scene.box(0))
        times, run_states = _time_tracking(tracker, scene, args.steps, args.warmup)
        frame.append(times)
        states = run_states

    def median_of(runs: list[Latency], attr: str) -> float:
        return float(np.median([getattr(r, attr) for r in runs]))

    frame_p50 = median_of(frame, "p50")
    return {
        "model": bundle.name,
        "model_version": bundle.version,
        "provider": tracker.provider,
        "threads": config.threads,
        "params": cost["params"],
        "params_template_graph": cost["params_template_graph"],
        "gflops": cost["gflops"],
        "gmacs": cost["gmacs"],
        "other_gflops_not_counted": cost["other_gflops_not_counted"],
        "template_gflops": cost["template_gflops"],
        "macs_by_op": cost.get("macs_by_op"),
        "step_ms_p50": median_of(step, "p50"),
        "step_ms_p95": median_of(step, "p95"),
        "frame_ms_p50": frame_p50,
        "frame_ms_p95": median_of(frame, "p95"),
        "fps": 1000.0 / frame_p50 if frame_p50 > 0 else None,
        "runs": args.runs,
        "steps": args.steps,
        "warmup": args.warmup,
        "search_size": bundle.search_size,
        "frame_inputs": {"thermal": [*THERMAL_SIZE, "uint16"], "visible": [*VISIBLE_SIZE, "rgb8"]},
        "last_run_states": states,
        "load_average_1min": {"before": load_before, "after": load_average()},
        "cpu_count": os.cpu_count(),
    } | ({"note": cost["note"]} if "note" in cost else {})


@dataclass(frozen=True)
class Latency:
    p50: float  # ms
    p95: float  # ms


def _latency(seconds: list[float]) -> Latency:
    ms = np.asarray(seconds) * 1e3
    return Latency(float(np.percentile(ms, 50)), float(np.percentile(ms, 95)))


def _time_calls(call, steps: int, warmup: int) -> Latency:
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(steps):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return _latency(seconds)


def _time_tracking(tracker, scene: "MovingTarget", steps: int, warmup: int):
    """Track frames 1.. of the scene, `warmup` untimed then `steps` timed; frames are made untimed."""
    seconds = []
    states: dict[str, int] = {}
    for i in range(1, warmup + steps + 1):
        visible, thermal = scene.frame(i)
        start = time.perf_counter()
        result = tracker.track(visible, thermal)
        elapsed = time.perf_counter() - start
        if i > warmup:
            seconds.append(elapsed)
            states[result.state.value] = states.get(result.state.value, 0) + 1
    return _latency(seconds), states


def _random_search_inputs(session) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    feeds = {}
    for node in session.get_inputs():
        if not all(isinstance(d, int) and d > 0 for d in node.shape):
            raise InputError(
                f"search graph input {node.name} has a dynamic shape {node.shape}; the contract needs static shapes"
            )
        if node.name == "template_features":
            feeds[node.name] = rng.standard_normal(node.shape).astype(np.float32)
        else:
            feeds[node.name] = rng.integers(0, 256, node.shape).astype(np.float32)
    return feeds



class MovingTarget:
    """A warm textured target on a slow loop over a structured, noisy background, in both cameras.

    Thermal 640x512 uint16 counts, visible 640x480 RGB; the visible image is the thermal one scaled
    (the tracker's default scaling homography). Backgrounds are made once, each frame is a copy with
    the target pasted, so making a frame is cheap and stays outside the timing.
    """

    SIDE = 44  # target side in thermal pixels

    def __init__(self, seed: int = 0, period: int = 240):
        rng = np.random.default_rng(seed)
        tw, th = THERMAL_SIZE
        vw, vh = VISIBLE_SIZE
        self.period = period
        self.scale = (vw / tw, vh / th)
        yy, xx = np.mgrid[0:th, 0:tw].astype(np.float32)
        base = 2900.0 + 150.0 * np.sin(xx / 57.0) * np.cos(yy / 43.0) + 0.2 * yy
        self._thermal_bg = [
            np.clip(base + rng.normal(0.0, 25.0, base.shape), 0, 65535).astype(np.uint16) for _ in range(3)
        ]
        vy, vx = np.mgrid[0:vh, 0:vw].astype(np.float32)
        grey = 90.0 + 40.0 * np.sin(vx / 31.0 + vy / 47.0)
        self._visible_bg = [
            np.clip(np.dstack([grey, grey * 0.9, grey * 0.8]) + rng.normal(0.0, 8.0, (vh, vw, 3)), 0, 255)
            .astype(np.uint8)
            for _ in range(3)
        ]
        s = self.SIDE
        py, px = np.mgrid[0:s, 0:s].astype(np.float32)
        r2 = ((px - s / 2) ** 2 + (py - s / 2) ** 2) / (s / 2) ** 2
        self._heat = (1800.0 * np.clip(1.2 - r2, 0.0, 1.0) + 200.0 * np.sin(px / 3.0)).astype(np.float32)
        self._thermal = np.empty((th, tw), np.uint16)
        self._visible = np.empty((vh, vw, 3), np.uint8)

    def _corner(self, i: int) -> tuple[float, float]:
        """Top-left of the target in thermal pixels on a smooth closed loop."""
        a = 2.0 * np.pi * i / self.period
        tw, th = THERMAL_SIZE
        return tw / 2 - self.SIDE / 2 + 150.0 * np.cos(a), th / 2 - self.SIDE / 2 + 100.0 * np.sin(2 * a)

    def box(self, i: int) -> np.ndarray:
        """Ground truth in visible pixels."""
        x, y = self._corner(i)
        sx, sy = self.scale
        return np.array([x * sx, y * sy, self.SIDE * sx, self.SIDE * sy])

    def frame(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(visible RGB, thermal uint16) of frame i. The arrays are reused: copy to keep them."""
        s = self.SIDE
        x, y = (int(round(v)) for v in self._corner(i))
        np.copyto(self._thermal, self._thermal_bg[i % 3])
        patch = self._thermal[y:y + s, x:x + s]
        patch[...] = np.clip(patch + self._heat, 0, 65535).astype(np.uint16)
        np.copyto(self._visible, self._visible_bg[i % 3])
        bx, by, bw, bh = (int(round(v)) for v in self.box(i))
        self._visible[by:by + bh, bx:bx + bw] = (200, 70, 50)
        self._visible[by + bh // 3:by + 2 * bh // 3, bx:bx + bw] = (240, 220, 60)
        return self._visible, self._thermal
