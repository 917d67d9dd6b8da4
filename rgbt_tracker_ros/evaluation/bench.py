"""The student's benchmark: parameters, GFLOPs and latency (`rgbt-tracker bench` prints it).

Reports (each latency the median over --runs runs):
- params and GFLOPs of one tracking step (the search graph), from the ONNX graph (evaluation.flops);
- step latency: the search graph alone in ONNX Runtime, p50 / p95 over --steps calls after warm-up;
- frame latency: RGBTTracker.track on a 640x512 uint16 thermal + 640x480 RGB frame (so the scaling
  homography is in play), box out, over a synthetic moving warm target;
- the peer comparison (evaluation/peer_bench.py): the student on RGB-T and on thermal only and each
  OpenCV peer on the thermal frames, timed interleaved frame by frame on the same frames, and the
  ratios student / peer.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass

import numpy as np

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.evaluation.bench_scene import THERMAL_SIZE, VISIBLE_SIZE, Latency, MovingTarget, latency
from rgbt_tracker_ros.evaluation.flops import model_cost
from rgbt_tracker_ros.evaluation.machine import load_average
from rgbt_tracker_ros.evaluation.peer_bench import compare, contenders, peer_kinds
from rgbt_tracker_ros.evaluation.peers import PeerModels
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.contract import SEARCH_INPUTS, SEARCH_OUTPUTS
from rgbt_tracker_ros.tracking.session import create_session, resolve_providers
from rgbt_tracker_ros.tracking.tracker import RGBTTracker



@dataclass(frozen=True)
class BenchSettings:
    model: str | None = None       # model folder or model.json; None: the shipped student
    runs: int = 5                  # repetitions; each figure is their median
    steps: int = 200               # timed calls per run
    warmup: int = 20               # untimed calls before each run
    threads: int = 2
    providers: tuple[str, ...] = ("tensorrt", "cuda", "cpu")
    peers: str | None = None       # comma list of peer kinds, 'none'; None: every peer that can run
    peer_models: str | None = None  # folder of the nano / vit ONNX files

    def __post_init__(self):
        for name in ("runs", "steps", "threads"):
            if getattr(self, name) < 1:
                raise InputError(f"--{name} must be at least 1, got {getattr(self, name)}")
        if self.warmup < 0:
            raise InputError(f"--warmup must be 0 or more, got {self.warmup}")


def benchmark(args: BenchSettings) -> dict:
    """The figures of one benchmark run (see the module docstring) as a JSON-ready dict."""
    load_before = load_average()
    models = PeerModels(args.peer_models) if args.peer_models is not None else None
    kinds, notes = peer_kinds(args.peers, models)  # bad --peers stops the command before any timing
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
    comparison = None
    if kinds:
        entries = contenders(tracker, RGBTTracker(config), kinds, models)
        comparison = compare(entries, MovingTarget(seed=0), args.runs, args.steps, args.warmup)
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
        "peers": comparison,
        "peer_notes": notes,
        "peer_models": args.peer_models,
        "load_average_1min": {"before": load_before, "after": load_average()},
        "cpu_count": os.cpu_count(),
    } | ({"note": cost["note"]} if "note" in cost else {})


def _time_calls(call, steps: int, warmup: int) -> Latency:
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(steps):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return latency(seconds)


def _time_tracking(tracker, scene: MovingTarget, steps: int, warmup: int):
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
    return latency(seconds), states


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
