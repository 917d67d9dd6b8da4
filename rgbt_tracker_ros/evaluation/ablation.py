"""The ablation table: models compared on the same sequences, as JSON, markdown and text.

A model is an exported model folder (model.json + ONNX, run by ONNX Runtime through RGBTTracker:
OnnxModel here) or a PyTorch checkpoint (run by RGBTTracker with a torch backend injected:
training/torch_backend.py, the same crops and post-processing); this module needs neither torch nor
any model class, only something with the AblationModel members.

Columns, per model:
- PR, SR, NPR on N sequences of the synthetic validation split, RGB-T input (a thermal-only model
  reads the thermal input alone); each sequence scored, then averaged over sequences.
- SR per challenge attribute (occlusion, low light, thermal crossover, fast motion, scale change,
  distractors): the frames of those runs where the sequence's per-frame attribute is set, pooled over
  the sequences (a sequence contributes only its frames with the attribute).
- PR, SR on the same synthetic sequences with thermal input only (the visible camera absent).
- PR, SR, NPR on the real thermal-only sequences of --real (read in place).
- parameters (PyTorch count), GFLOPs of one tracking step (the search graph; ONNX graphs counted by
  evaluation/flops.py, torch models by torch's FlopCounterMode: Conv/MatMul, 2 FLOPs per MAC both),
  and the latency of one tracking step (search graph, batch 1) on this CPU: p50 over several
  interleaved rounds in this one run, so the ratios between models are fair; ONNX Runtime for model
  folders, PyTorch for checkpoints (marked in the table).
"""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
from tqdm import tqdm

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.readers import load_sequences
from rgbt_tracker_ros.data.sequence import ArrayFrames, Sequence
from rgbt_tracker_ros.data.synthetic import SyntheticConfig, synthetic_sequences
from rgbt_tracker_ros.evaluation.box_size import BoxSize, area_ratios, combine_sizes
from rgbt_tracker_ros.evaluation.flops import model_cost
from rgbt_tracker_ros.evaluation.machine import load_average
from rgbt_tracker_ros.evaluation.metrics import FrameErrors, combine, score
from rgbt_tracker_ros.evaluation.runner import run_errors, run_tracker
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.contract import SEARCH_INPUTS, SEARCH_OUTPUTS
from rgbt_tracker_ros.tracking.model_bundle import load_bundle
from rgbt_tracker_ros.tracking.session import create_session, resolve_providers
from rgbt_tracker_ros.tracking.tracker import RGBTTracker

# attribute key in Sequence.attributes -> column label
ATTRIBUTES = {
    "occlusion": "occlusion",
    "low_light": "low light",
    "thermal_crossover": "thermal crossover",
    "fast_motion": "fast motion",
    "scale_change": "scale change",
    "distractor": "distractors",
}
ONNX, TORCH = "onnxruntime", "torch"


@dataclass
class ModelSpec:
    name: str
    path: Path
    backend: str  # onnxruntime | torch


@dataclass
class ModelResult:
    spec: ModelSpec
    synthetic: list[FrameErrors] = field(default_factory=list)
    attributes: dict[str, list[FrameErrors]] = field(default_factory=dict)
    synthetic_thermal: list[FrameErrors] = field(default_factory=list)
    synthetic_visible: list[FrameErrors] = field(default_factory=list)  # RGB-T models only
    real: list[tuple[str, FrameErrors]] = field(default_factory=list)
    real_sizes: list[BoxSize] = field(default_factory=list)  # beside `real`, sequence by sequence
    cost: dict = field(default_factory=dict)
    latency: dict = field(default_factory=dict)
    track_seconds: float = 0.0
    tracked_frames: int = 0


# -- models ----------------------------------------------------------------------------------------
def parse_model_spec(text: str) -> ModelSpec:
    name, sep, path_text = text.partition("=")
    name = name.strip()
    if not sep or not name or not path_text:
        raise InputError(f"--models expects NAME=PATH, got {text!r}")
    path = Path(path_text).expanduser()
    if path.is_dir() and (path / "model.json").is_file():
        return ModelSpec(name, path, ONNX)
    if path.is_file() and path.name == "model.json":
        return ModelSpec(name, path.parent, ONNX)
    if path.is_file() and path.suffix in (".pt", ".pth"):
        return ModelSpec(name, path, TORCH)
    if path.is_dir() and (path / "best.pt").is_file():
        return ModelSpec(name, path / "best.pt", TORCH)
    raise InputError(f"model {name}: {path} is neither a model folder (model.json) nor a .pt checkpoint")


def parse_models(texts: list[str]) -> list[ModelSpec]:
    specs = [parse_model_spec(t) for t in texts]
    names = [s.name for s in specs]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InputError(f"model name(s) given twice: {', '.join(duplicated)}")
    return specs


class AblationModel(Protocol):
    """One model of the table: how to build its tracker, what it costs, one timed step."""

    spec: ModelSpec
    backend_label: str  # the latency column's backend, e.g. "ONNX Runtime (CPU)"

    def make(self, homography) -> object:
        """A tracker (initialize / track) for a sequence with this thermal-to-visible homography."""

    def cost(self) -> dict:
        """params, gflops, flops_source, input_modality (rgbt, or the one modality it reads)."""

    def step(self, rng: np.random.Generator) -> Callable[[], object]:
        """One tracking step (search graph, batch 1) as a call without arguments."""


class OnnxModel:
    """An exported model folder, tracked by RGBTTracker in ONNX Runtime on the CPU."""

    backend_label = "ONNX Runtime (CPU)"

    def __init__(self, spec: ModelSpec, threads: int):
        self.spec = spec
        self.threads = threads
        self.config = TrackerConfig(model=spec.path, providers=("cpu",), threads=threads)
        self.make(None)  # a bad model stops the command before any sequence runs

    def make(self, homography) -> RGBTTracker:
        config = self.config if homography is None else dataclasses.replace(self.config, thermal_to_visible=homography)
        return RGBTTracker(config)

    def cost(self) -> dict:
        bundle = load_bundle(self.spec.path)
        cost = model_cost(bundle.template_file, bundle.search_file)
        if cost["params"] is None:
            raise InputError(f"model {self.spec.name}: {cost['note']}")
        params = bundle.params if bundle.params is not None else cost["params"]
        return {"params": int(params), "params_search_graph": int(cost["params"]), "gflops": float(cost["gflops"]),
                "template_gflops": float(cost["template_gflops"]), "flops_source": "ONNX graph (evaluation/flops.py)",
                "input_modality": bundle.metadata.get("input_modality", "rgbt")}

    def step(self, rng: np.random.Generator) -> Callable[[], object]:
        bundle = load_bundle(self.spec.path)
        session = create_session(bundle.search_file, resolve_providers(self.config), self.threads,
                                 SEARCH_INPUTS, SEARCH_OUTPUTS)
        feeds = {}
        for node in session.get_inputs():
            shape = [int(d) for d in node.shape]
            feeds[node.name] = (rng.standard_normal(shape) if node.name == "template_features"
                                else rng.integers(0, 256, shape)).astype(np.float32)
        return lambda: session.run(None, feeds)


# -- accuracy --------------------------------------------------------------------------------------
def materialise(sequence: Sequence) -> Sequence:
    """The sequence with its frames in memory: every model then reads the same frames without
    rendering (synthetic) or decoding (files) them again."""
    visible = ArrayFrames([sequence.visible[i] for i in range(len(sequence))]) if sequence.visible is not None else None
    thermal = ArrayFrames([sequence.thermal[i] for i in range(len(sequence))]) if sequence.thermal is not None else None
    return dataclasses.replace(sequence, visible=visible, thermal=thermal)


def subset(errors: FrameErrors, mask: np.ndarray) -> FrameErrors:
    return FrameErrors(errors.protocol, errors.frames[mask], errors.center[mask], errors.normalized[mask],
                       errors.overlap[mask])


def pooled(parts: list[FrameErrors]) -> FrameErrors:
    return FrameErrors("otb", *(np.concatenate([getattr(p, f) for p in parts]) if parts else np.zeros(0)
                               for f in ("frames", "center", "normalized", "overlap")))


def _run(factory: AblationModel, sequence: Sequence, modality: str, progress: bool, result: ModelResult,
         sizes: list[BoxSize] | None = None) -> FrameErrors:
    """The errors of one run; with `sizes`, its box-size figure is appended there."""
    homography = sequence.thermal_to_visible if sequence.modalities == "rgbt" and modality == "rgbt" else None
    tracker = factory.make(homography)
    run = run_tracker(tracker, sequence, modality=modality, progress=progress)
    result.track_seconds += run.track_seconds
    result.tracked_frames += run.tracked_frames
    errors = run_errors(run, sequence)
    if sizes is not None:
        sizes.append(area_ratios(run.predictions, sequence.groundtruth, errors))
    return errors


def evaluate_accuracy(factories: list[AblationModel], results: list[ModelResult], synthetic: list[Sequence],
                      real: list[Sequence], single_camera: bool, progress: bool) -> None:
    """RGB-T runs on the synthetic sequences (per attribute too); with single_camera, also thermal-only
    and (for models that take the visible image) visible-only runs: the node's fallbacks when a camera
    stops. Then the real sequences, in their own modality."""
    for lazy in tqdm(synthetic, desc="synthetic sequences", disable=not progress, file=sys.stderr, unit="seq"):
        sequence = materialise(lazy)
        for factory, result in zip(factories, results):
            errors = _run(factory, sequence, "rgbt", progress, result)
            result.synthetic.append(errors)
            for key in ATTRIBUTES:
                flags = sequence.attributes.get(key)
                if flags is not None:
                    result.attributes.setdefault(key, []).append(subset(errors, np.asarray(flags)[errors.frames]))
            if single_camera:
                result.synthetic_thermal.append(_run(factory, sequence, "thermal", progress, result))
                if result.cost.get("input_modality", "rgbt") == "rgbt":
                    result.synthetic_visible.append(_run(factory, sequence, "visible", progress, result))
    for lazy in tqdm(real, desc="real sequences", disable=not progress, file=sys.stderr, unit="seq"):
        sequence = materialise(lazy)
        modality = "thermal" if sequence.thermal is not None else sequence.modalities
        for factory, result in zip(factories, results):
            result.real.append((sequence.name, _run(factory, sequence, modality, progress, result, result.real_sizes)))


# -- latency ---------------------------------------------------------------------------------------
def measure_latency(factories: list[AblationModel], steps: int, rounds: int, warmup: int,
                    progress: bool) -> list[dict]:
    """p50 / p95 step latency (ms) of every model, rounds interleaved across the models."""
    rng = np.random.default_rng(0)
    timers = [f.step(rng) for f in factories]
    seconds: list[list[float]] = [[] for _ in timers]
    bar = tqdm(total=rounds * len(timers), desc="latency", disable=not progress, file=sys.stderr)
    for _ in range(rounds):
        for timer, times in zip(timers, seconds):
            for _ in range(warmup):
                timer()
            for _ in range(steps):
                start = time.perf_counter()
                timer()
                times.append(time.perf_counter() - start)
            bar.update()
    bar.close()
    out = []
    for factory, times in zip(factories, seconds):
        ms = np.asarray(times) * 1e3
        out.append({"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
                    "calls": len(ms), "backend": factory.backend_label})
    return out


# -- the table -------------------------------------------------------------------------------------
def _num(value, digits: int = 4):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return round(float(value), digits)


def _scores(parts: list[FrameErrors]) -> dict:
    if not parts:
        return {"PR": None, "SR": None, "NPR": None, "sequences": 0, "frames": 0}
    s = combine(parts)
    return {"PR": _num(s.pr), "SR": _num(s.sr), "NPR": _num(s.npr), "sequences": len(parts), "frames": int(s.frames)}


def model_report(result: ModelResult) -> dict:
    attributes = {}
    for key in ATTRIBUTES:
        parts = result.attributes.get(key, [])
        frames = pooled(parts)
        s = score(frames) if len(frames) else None
        attributes[key] = {"SR": _num(s.sr) if s else None, "PR": _num(s.pr) if s else None,
                           "frames": len(frames), "sequences": sum(len(p) > 0 for p in parts)}
    real = _scores([e for _, e in result.real])
    real["per_sequence"] = {
        name: {"PR": _num(score(e).pr), "SR": _num(score(e).sr), "area_in_band": _num(size.within_band),
               "median_area_ratio": _num(size.median)}
        for (name, e), size in zip(result.real, result.real_sizes)}
    real["area_in_band"] = _num(combine_sizes(result.real_sizes).within_band) if result.real_sizes else None
    return {
        "name": result.spec.name,
        "path": str(result.spec.path),
        "backend": result.spec.backend,
        "synthetic": _scores(result.synthetic),
        "attributes": attributes,
        "synthetic_thermal": _scores(result.synthetic_thermal),
        "synthetic_visible": _scores(result.synthetic_visible),
        "real_thermal": real,
        **result.cost,
        "latency": result.latency,
        "tracking_fps_end_to_end": _num(result.tracked_frames / result.track_seconds, 2) if result.track_seconds else None,
    }


def _sr_gain(report: dict, other: dict):
    sr, other_sr = report["synthetic"]["SR"], other["synthetic"]["SR"]
    return _num(sr - other_sr) if sr is not None and other_sr is not None else None


def flat_row(report: dict, reference: dict | None, baseline: dict | None = None) -> dict:
    """One table row (column label -> value) of a model report."""
    row = {
        "model": report["name"],
        "PR": report["synthetic"]["PR"], "SR": report["synthetic"]["SR"], "NPR": report["synthetic"]["NPR"],
    }
    for key, label in ATTRIBUTES.items():
        row[f"SR {label}"] = report["attributes"][key]["SR"]
    row["thermal-only PR"] = report["synthetic_thermal"]["PR"]
    row["thermal-only SR"] = report["synthetic_thermal"]["SR"]
    row["visible-only PR"] = report["synthetic_visible"]["PR"]
    row["visible-only SR"] = report["synthetic_visible"]["SR"]
    row["real PR"] = report["real_thermal"]["PR"]
    row["real SR"] = report["real_thermal"]["SR"]
    row["real NPR"] = report["real_thermal"]["NPR"]
    row["params (M)"] = _num(report["params"] / 1e6, 4)
    row["GFLOPs"] = _num(report["gflops"], 4)
    row["step p50 (ms)"] = _num(report["latency"]["p50_ms"], 3)
    row["latency backend"] = report["latency"]["backend"]
    if baseline is not None:
        row[f"ΔSR vs {baseline['name']}"] = _sr_gain(report, baseline)
    if reference is not None:
        row[f"ΔSR vs {reference['name']}"] = _sr_gain(report, reference)
        row[f"× faster than {reference['name']}"] = _num(reference["latency"]["p50_ms"] / report["latency"]["p50_ms"], 2)
    # Each real sequence: SR and the share of frames whose box area is within [0.5, 2]x the truth.
    for name, figures in report["real_thermal"].get("per_sequence", {}).items():
        row[f"{name} SR"] = figures["SR"]
        row[f"{name} area in band"] = figures["area_in_band"]
    return row


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)


def markdown(title: str, rows: list[dict], settings: dict) -> str:
    columns = list(rows[0])
    lines = [f"# {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row[c]) for c in columns) + " |" for row in rows]
    s = settings
    lines += [
        "",
        f"- PR / SR / NPR: {s['synthetic_sequences']} synthetic validation sequences (seeds from 1,000,000, "
        f"{s['synthetic_length']} frames, RGB-T input; a thermal-only model reads the thermal input alone), "
        "scored per sequence (first frame excluded) and averaged over sequences.",
        "- SR per attribute: the frames where the sequence's per-frame attribute is set, pooled over the "
        "synthetic sequences.",
        "- thermal-only PR / SR: the same synthetic sequences with the visible camera absent; visible-only: with "
        "the thermal camera absent (the node's fallbacks when a camera stops; none for a thermal-only model).",
        f"- real PR / SR / NPR: {s['real_sequences']} real thermal-only sequences ({s['real'] or 'not evaluated'}).",
        "- params: PyTorch parameter count; GFLOPs: one tracking step (search graph), Conv/MatMul, 2 FLOPs "
        "per MAC, element-wise operations not counted.",
        f"- step latency: the search graph at batch 1, median of {s['latency_calls']} calls per model "
        f"({s['latency_rounds']} interleaved rounds) measured in this one run on {s['cpu']} with "
        f"{s['threads']} threads; ONNX Runtime for exported models, PyTorch for checkpoints (see the "
        "latency backend column; PyTorch, with OpenMP threads waiting passively, is usually slower than "
        "ONNX Runtime on the same graph); "
        f"1-minute load average {s['load_average_1min']['before']} before the run, "
        f"{s['load_average_1min']['after']} after it.",
        f"- written by `rgbt-tracker ablation` on {s['date']}.",
        "",
    ]
    return "\n".join(lines)


def print_table(rows: list[dict], out) -> None:
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(_cell(r[c])) for r in rows)) for c in columns}
    print("  ".join(c.rjust(widths[c]) for c in columns), file=out)
    for row in rows:
        print("  ".join(_cell(row[c]).rjust(widths[c]) for c in columns), file=out)


@dataclass(frozen=True)
class AblationSettings:
    models: tuple[str, ...]          # NAME=PATH each
    synthetic: int = 40              # synthetic validation sequences
    synthetic_length: int = 0        # frames per synthetic sequence; 0: the generator's default
    real: str | None = None          # real thermal-only sequences (a folder or a dataset root)
    reference: str = ""              # model the SR difference and speed-up columns compare with
    baseline: str = ""               # model the SR-difference column compares with
    threads: int = 2
    latency_steps: int = 100
    latency_rounds: int = 3
    latency_warmup: int = 10
    single_camera: bool = True       # also the thermal-only and visible-only runs
    progress: bool = True

    def __post_init__(self):
        for name in ("threads", "latency_steps", "latency_rounds"):
            if getattr(self, name) < 1:
                raise InputError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if self.synthetic < 0 or self.synthetic_length < 0 or self.latency_warmup < 0:
            raise InputError("--synthetic, --synthetic-length and --latency-warmup must be 0 or more")


def ablation(args: AblationSettings, build: Callable[[ModelSpec, int], AblationModel]) -> dict:
    """The whole table; `build(spec, threads)` makes each model's AblationModel."""
    specs = parse_models(list(args.models))
    for option in ("reference", "baseline"):
        if getattr(args, option) and getattr(args, option) not in [s.name for s in specs]:
            raise InputError(f"--{option} {getattr(args, option)} is not one of the models")
    progress = args.progress
    syn_config = SyntheticConfig() if not args.synthetic_length else SyntheticConfig(length=args.synthetic_length)
    synthetic = synthetic_sequences("val", args.synthetic, syn_config) if args.synthetic else []
    real: list[Sequence] = []
    if args.real:
        if not Path(args.real).exists():
            raise InputError(f"--real {args.real} does not exist")
        real = list(load_sequences(Path(args.real)))
    if not synthetic and not real:
        raise InputError("nothing to evaluate: give --synthetic N and/or --real PATH")

    factories = [build(spec, args.threads) for spec in specs]
    results = [ModelResult(spec) for spec in specs]
    for factory, result in zip(factories, results):
        result.cost = factory.cost()
    load_before = load_average()
    evaluate_accuracy(factories, results, synthetic, real, args.single_camera, progress)
    latencies = measure_latency(factories, args.latency_steps, args.latency_rounds, args.latency_warmup, progress)
    for result, latency in zip(results, latencies):
        result.latency = latency
    reports = [model_report(r) for r in results]
    reference = next((r for r in reports if r["name"] == args.reference), None)
    baseline = next((r for r in reports if r["name"] == args.baseline), None)
    rows = [flat_row(r, reference, baseline) for r in reports]
    settings = {
        "synthetic_sequences": len(synthetic), "synthetic_length": syn_config.length,
        "synthetic_size": [syn_config.width, syn_config.height],
        "real": args.real, "real_sequences": len(real), "real_names": [s.name for s in real],
        "threads": args.threads, "latency_steps": args.latency_steps, "latency_rounds": args.latency_rounds,
        "latency_warmup": args.latency_warmup, "latency_calls": args.latency_steps * args.latency_rounds,
        "reference": args.reference or None, "baseline": args.baseline or None, "cpu": f"{os.cpu_count()} CPUs ({platform.machine()})",
        "load_average_1min": {"before": load_before, "after": load_average()},
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "attribute_scoring": "frames with the attribute set, pooled over sequences",
    }
    return {"columns": list(rows[0]), "rows": rows, "models": reports, "settings": settings}

