"""`rgbt-tracker ablation`: one table comparing models, written as JSON and markdown and printed.

`--models name=PATH ...`: PATH is an exported model folder (model.json + ONNX, run by ONNX Runtime
through RGBTTracker) or a PyTorch checkpoint (.pt: a training checkpoint or an exported student.pt,
run by PyTorch through TorchTracker, the same crops and post-processing; for models without an ONNX
export, e.g. a teacher).

Columns, per model:
- PR, SR, NPR on N sequences of the synthetic validation split, RGB-T input (a thermal-only model
  reads the thermal input alone); each sequence scored, then averaged over sequences.
- SR per challenge attribute (occlusion, low light, thermal crossover, fast motion, scale change,
  distractors): the frames of those runs where the sequence's per-frame attribute is set, pooled over
  the sequences (a sequence contributes only its frames with the attribute).
- PR, SR on the same synthetic sequences with thermal input only (the visible camera absent).
- PR, SR, NPR on the real thermal-only sequences of --real (read in place).
- parameters (PyTorch count), GFLOPs of one tracking step (the search graph; ONNX graphs counted by
  tracking/flops.py, torch models by torch's FlopCounterMode: Conv/MatMul, 2 FLOPs per MAC both),
  and the latency of one tracking step (search graph, batch 1) on this CPU: p50 over several
  interleaved rounds in this one run, so the ratios between models are fair; ONNX Runtime for model
  folders, PyTorch for checkpoints (marked in the table).
Exit codes: 0 done; 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rgbt_tracker_ros.common.command import standalone_main
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.sequence import ArrayFrames, Sequence
from rgbt_tracker_ros.evaluation.metrics import FrameErrors, combine, score

# PyTorch's OpenMP threads spin-wait between operations; on a busy CPU (another run training, this
# process niced) that turns a 10 ms step into seconds. Passive waiting keeps the PyTorch-backed rows
# measurable; it must be set before torch loads (the CLI imports this module first).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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
    cost: dict = field(default_factory=dict)
    latency: dict = field(default_factory=dict)
    track_seconds: float = 0.0
    tracked_frames: int = 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models", nargs="+", required=True, metavar="NAME=PATH",
                        help="models to compare: an exported model folder or a .pt checkpoint each")
    parser.add_argument("--synthetic", type=int, default=40, metavar="N",
                        help="synthetic validation sequences (default %(default)s; 0 = none)")
    parser.add_argument("--synthetic-length", type=int, default=0, metavar="FRAMES",
                        help="frames per synthetic sequence (default: the generator's default)")
    parser.add_argument("--real", default=None, metavar="PATH",
                        help="real thermal-only sequences (a sequence folder or a dataset root), e.g. ../shared/data/real")
    parser.add_argument("--output", type=Path, default=Path("docs/ablation.json"), help="JSON table (default %(default)s)")
    parser.add_argument("--markdown", type=Path, default=Path("docs/ablation.md"), help="markdown table (default %(default)s)")
    parser.add_argument("--plot", type=Path, default=None,
                        help="bar chart of the SRs (default: the markdown path with .png)")
    parser.add_argument("--reference", default="", metavar="NAME",
                        help="add columns relative to this model: SR difference and step-latency speed-up")
    parser.add_argument("--baseline", default="", metavar="NAME",
                        help="add a column of SR differences to this model (e.g. the student without distillation)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads of ONNX Runtime and torch (default %(default)s)")
    parser.add_argument("--latency-steps", type=int, default=100, help="timed steps per model per round (default %(default)s)")
    parser.add_argument("--latency-rounds", type=int, default=3, help="interleaved rounds (default %(default)s)")
    parser.add_argument("--latency-warmup", type=int, default=10, help="untimed steps before each round (default %(default)s)")
    parser.add_argument("--no-single-camera", "--no-synthetic-thermal", action="store_true", dest="no_single_camera",
                        help="skip the thermal-only and visible-only runs on the synthetic sequences")
    parser.add_argument("--title", default="Ablation", help="markdown heading")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


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


class TrackerFactory:
    """One tracker per (model, sequence homography); torch modules loaded once."""

    def __init__(self, spec: ModelSpec, threads: int):
        from rgbt_tracker_ros.tracking.config import TrackerConfig

        self.spec = spec
        self.config = TrackerConfig(model=spec.path if spec.backend == ONNX else None, providers=("cpu",),
                                    threads=threads)
        self.threads = threads
        self.module = None
        if spec.backend == TORCH:
            from rgbt_tracker_ros.training.export import load_checkpoint_model

            self.module, _ = load_checkpoint_model(spec.path)
        self.make(None)  # a bad model stops the command before any sequence runs

    def make(self, homography):
        from rgbt_tracker_ros.tracking.tracker import RGBTTracker

        config = self.config if homography is None else dataclasses.replace(self.config, thermal_to_visible=homography)
        if self.spec.backend == ONNX:
            return RGBTTracker(config)
        from rgbt_tracker_ros.evaluation.torch_tracker import TorchTracker

        return TorchTracker(self.module, config, name=self.spec.name, threads=self.threads)


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


def _run(factory: TrackerFactory, sequence: Sequence, modality: str, progress: bool, result: ModelResult) -> FrameErrors:
    from rgbt_tracker_ros.evaluation.runner import run_errors, run_tracker

    homography = sequence.thermal_to_visible if sequence.modalities == "rgbt" and modality == "rgbt" else None
    tracker = factory.make(homography)
    run = run_tracker(tracker, sequence, modality=modality, progress=progress)
    result.track_seconds += run.track_seconds
    result.tracked_frames += run.tracked_frames
    return run_errors(run, sequence)


def evaluate_accuracy(factories: list[TrackerFactory], results: list[ModelResult], synthetic: list[Sequence],
                      real: list[Sequence], single_camera: bool, progress: bool) -> None:
    """RGB-T runs on the synthetic sequences (per attribute too); with single_camera, also thermal-only
    and (for models that take the visible image) visible-only runs: the node's fallbacks when a camera
    stops. Then the real sequences, in their own modality."""
    from tqdm import tqdm

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
            result.real.append((sequence.name, _run(factory, sequence, modality, progress, result)))


# -- cost and latency ------------------------------------------------------------------------------
def onnx_cost(spec: ModelSpec) -> dict:
    from rgbt_tracker_ros.tracking.flops import model_cost
    from rgbt_tracker_ros.tracking.model_bundle import load_bundle

    bundle = load_bundle(spec.path)
    cost = model_cost(bundle.template_file, bundle.search_file)
    params = bundle.params if bundle.params is not None else cost["params"]
    return {"params": int(params), "params_search_graph": int(cost["params"]), "gflops": float(cost["gflops"]),
            "template_gflops": float(cost["template_gflops"]), "flops_source": "ONNX graph (tracking/flops.py)",
            "input_modality": bundle.metadata.get("input_modality", "rgbt")}


def torch_cost(module) -> dict:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from rgbt_tracker_ros.models.student import SearchGraph, TemplateGraph

    c = module.config
    z, s = c.template_size, c.search_size
    with torch.inference_mode():
        kernel = TemplateGraph(module)(torch.zeros(1, 3, z, z), torch.zeros(1, 1, z, z))
        with FlopCounterMode(display=False) as counter:
            SearchGraph(module)(kernel, torch.zeros(1, 3, s, s), torch.zeros(1, 1, s, s))
    return {"params": sum(p.numel() for p in module.parameters()), "gflops": counter.get_total_flops() / 1e9,
            "flops_source": "torch FlopCounterMode", "input_modality": getattr(module, "modality", "rgbt")}


class StepTimer:
    """One tracking step (the search graph at batch 1) of one model, callable without arguments."""

    def __init__(self, factory: TrackerFactory, threads: int):
        rng = np.random.default_rng(0)
        spec = factory.spec
        if spec.backend == ONNX:
            from rgbt_tracker_ros.tracking.model_bundle import SEARCH_INPUTS, SEARCH_OUTPUTS, load_bundle
            from rgbt_tracker_ros.tracking.session import create_session, resolve_providers

            bundle = load_bundle(spec.path)
            session = create_session(bundle.search_file, resolve_providers(factory.config), threads,
                                     SEARCH_INPUTS, SEARCH_OUTPUTS)
            feeds = {}
            for node in session.get_inputs():
                shape = [int(d) for d in node.shape]
                feeds[node.name] = (rng.standard_normal(shape) if node.name == "template_features"
                                    else rng.integers(0, 256, shape)).astype(np.float32)
            self.call = lambda: session.run(None, feeds)
        else:
            import torch

            from rgbt_tracker_ros.models.student import SearchGraph, TemplateGraph

            module = factory.module
            c = module.config
            z, s = c.template_size, c.search_size
            rand = lambda *shape: torch.from_numpy(rng.integers(0, 256, shape).astype(np.float32))  # noqa: E731
            with torch.inference_mode():
                kernel = TemplateGraph(module)(rand(1, 3, z, z), rand(1, 1, z, z))
            graph, sv, st = SearchGraph(module), rand(1, 3, s, s), rand(1, 1, s, s)

            def call():
                with torch.inference_mode():
                    graph(kernel, sv, st)

            self.call = call


def measure_latency(factories: list[TrackerFactory], threads: int, steps: int, rounds: int, warmup: int,
                    progress: bool) -> list[dict]:
    """p50 / p95 step latency (ms) of every model, rounds interleaved across the models."""
    import torch
    from tqdm import tqdm

    torch.set_num_threads(threads)
    timers = [StepTimer(f, threads) for f in factories]
    seconds: list[list[float]] = [[] for _ in timers]
    bar = tqdm(total=rounds * len(timers), desc="latency", disable=not progress, file=sys.stderr)
    for _ in range(rounds):
        for timer, times in zip(timers, seconds):
            for _ in range(warmup):
                timer.call()
            for _ in range(steps):
                start = time.perf_counter()
                timer.call()
                times.append(time.perf_counter() - start)
            bar.update()
    bar.close()
    out = []
    for factory, times in zip(factories, seconds):
        ms = np.asarray(times) * 1e3
        out.append({"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
                    "calls": len(ms), "backend": "ONNX Runtime (CPU)" if factory.spec.backend == ONNX else "PyTorch (CPU)"})
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
    real["per_sequence"] = {name: {"PR": _num(score(e).pr), "SR": _num(score(e).sr)} for name, e in result.real}
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


def ablation(args: argparse.Namespace) -> dict:
    from rgbt_tracker_ros.data.synthetic import SyntheticConfig, synthetic_sequences

    for name in ("threads", "latency_steps", "latency_rounds"):
        if getattr(args, name) < 1:
            raise InputError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.synthetic < 0 or args.synthetic_length < 0 or args.latency_warmup < 0:
        raise InputError("--synthetic, --synthetic-length and --latency-warmup must be 0 or more")
    specs = parse_models(args.models)
    for option in ("reference", "baseline"):
        if getattr(args, option) and getattr(args, option) not in [s.name for s in specs]:
            raise InputError(f"--{option} {getattr(args, option)} is not one of the models")
    progress = not args.no_progress
    syn_config = SyntheticConfig() if not args.synthetic_length else SyntheticConfig(length=args.synthetic_length)
    synthetic = synthetic_sequences("val", args.synthetic, syn_config) if args.synthetic else []
    real: list[Sequence] = []
    if args.real:
        from rgbt_tracker_ros.data.readers import load_sequences

        if not Path(args.real).exists():
            raise InputError(f"--real {args.real} does not exist")
        real = list(load_sequences(Path(args.real)))
    if not synthetic and not real:
        raise InputError("nothing to evaluate: give --synthetic N and/or --real PATH")

    factories = [TrackerFactory(spec, args.threads) for spec in specs]
    results = [ModelResult(spec) for spec in specs]
    for factory, result in zip(factories, results):
        result.cost = onnx_cost(factory.spec) if factory.spec.backend == ONNX else torch_cost(factory.module)
    load_before = _load_average()
    evaluate_accuracy(factories, results, synthetic, real, not args.no_single_camera, progress)
    latencies = measure_latency(factories, args.threads, args.latency_steps, args.latency_rounds,
                                args.latency_warmup, progress)
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
        "load_average_1min": {"before": load_before, "after": _load_average()},
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "attribute_scoring": "frames with the attribute set, pooled over sequences",
    }
    return {"columns": list(rows[0]), "rows": rows, "models": reports, "settings": settings}


def _load_average():
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def run(args: argparse.Namespace) -> int:
    try:
        report = ablation(args)
    except InputError as exc:
        print(f"rgbt-tracker ablation: error: {exc}", file=sys.stderr)
        return 2
    from rgbt_tracker_ros.evaluation.plots import ablation_plot

    print_table(report["rows"], sys.stdout)  # first: an unwritable output path must not lose the run
    try:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown(args.title, report["rows"], report["settings"]))
        plot = ablation_plot(report["rows"], args.plot or args.markdown.with_suffix(".png"), args.title)
    except OSError as exc:
        print(f"rgbt-tracker ablation: error: cannot write the results: {exc}", file=sys.stderr)
        return 2
    print(f"\nwritten {args.output}, {args.markdown} and {plot}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    return standalone_main("ablation", __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
