"""The post-processing sweep of issue 12 (docs/postprocessing.md).

Each stage varies one mechanism's parameters on top of the choices of the stages before it, on 20
synthetic validation sequences (seeds 1,000,000..1,000,019), fed RGB-T and thermal only; the variant
with the best mean of the two SRs is kept (re-detection: the mean SR over the normal and the
occluded-and-jumped copies of the 20 sequences, see evaluation/reacquisition.py). Never the real
sequences. `--heldout` then compares today's post-processing and the chosen one on 40 other
validation sequences (seeds 1,000,020..1,000,059) in all three modalities.

Usage: PYTHONPATH=. .venv/bin/python scripts/sweep_postprocessing.py [--stages penalty,update,...]
       [--workers 2] [--heldout]
Writes docs/postprocessing_sweep.json (every stage run so far) and docs/images/postprocessing_sweep.png.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from rgbt_tracker_ros.data.synthetic import SyntheticConfig, synthetic_sequences  # noqa: E402
from rgbt_tracker_ros.evaluation.reacquisition import frames_to_reacquire, splice  # noqa: E402
from rgbt_tracker_ros.evaluation.sweep import sweep  # noqa: E402
from rgbt_tracker_ros.tracking.config import TrackerConfig  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "docs" / "postprocessing_sweep.json"
PLOT = REPO / "docs" / "images" / "postprocessing_sweep.png"
SWEEP_SEQUENCES = 20
HELDOUT_START, HELDOUT_SEQUENCES = 20, 40
# Today's post-processing: every new mechanism off.
TODAY = {"scale_penalty": 0.0, "max_scale_step": 4.0, "window_floor": 0.0, "template_weight": 0.0,
         "redetect_score": 1.0}
# The occlusion of the re-detection stage: the target hidden from frame 40 for 25 frames (past
# lost_after), then shifted to the frame's farthest quadrant.
HIDE_FROM, HIDDEN = 40, 25

STAGES: dict[str, list[dict]] = {
    "penalty": [{"scale_penalty": k} for k in (0.0, 0.1, 0.2, 0.4, 0.8, 1.5, 2.0, 3.0, 4.0, 5.0, 8.0)],
    "update": [{"size_lr": lr, "max_scale_step": step} for lr in (0.3, 0.6, 0.9) for step in (4.0, 1.1, 1.03)],
    "hann": [{"hann_weight": w} for w in (0.1, 0.2, 0.3, 0.4)],
    "floor": [{"window_floor": f} for f in (0.0, 0.5, 0.75, 1.0)],
    "template": [{"template_weight": 0.0}] + [
        {"template_weight": w, "template_update_score": s, "template_update_interval": n}
        for w in (0.25, 0.5) for s in (0.6, 0.8) for n in (5, 20)],
    "redetect": [{"redetect_score": r} for r in (1.0, 0.3, 0.4, 0.5, 0.6, 0.7)],
}
MODALITIES = ("rgbt", "thermal")


def _name(overrides: dict) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in overrides.items())


def _config(overrides: dict) -> TrackerConfig:
    return TrackerConfig(providers=("cpu",), threads=1, **overrides)


def _mean_sr(rows: list[dict], variant: str, key: str = "sr") -> float:
    return float(np.mean([r[key] for r in rows if r["variant"] == variant]))


def run_stage(stage: str, chosen: dict, sequences, spliced, workers: int, before: dict | None) -> dict:
    """One stage's variants; rows of variants with the same settings in `before` (an earlier run of
    this stage) are reused instead of run again."""
    variants = {_name(o): {**TODAY, **chosen, **o} for o in STAGES[stage]}
    done = {name for name, fields in (before or {}).get("variants", {}).items() if variants.get(name) == fields}
    rows = [r for r in (before or {}).get("rows", []) if r["variant"] in done]
    configs = {name: _config(fields) for name, fields in variants.items() if name not in done}
    if configs:
        rows += [r.as_dict() for r in sweep(configs, sequences, MODALITIES, workers=workers)]
    objective = {name: _mean_sr([r for r in rows if r.get("set") != "jumped"], name) for name in variants}
    if stage == "redetect" and configs:
        jumped = sweep(configs, [s for s, _ in spliced], MODALITIES, workers=workers)
        for result in jumped:
            # Only sequences where the moved target is annotated after it reappears can count.
            measurable = [bool(np.isfinite(s.groundtruth[cut.reappears:, 0]).any()) for s, cut in spliced]
            counts = [frames_to_reacquire(p, s, cut) for p, (s, cut) in zip(result.predictions, spliced)]
            found = [c for c in counts if c is not None]
            row = result.as_dict()
            row.update(variant=result.variant, set="jumped", frames_to_reacquire=counts,
                       measurable=sum(measurable), reacquired=len(found) / max(sum(measurable), 1),
                       median_frames_to_reacquire=float(np.median(found)) if found else None)
            rows.append(row)
    if stage == "redetect":
        for name in variants:
            jumped_sr = np.mean([r["sr"] for r in rows if r["variant"] == name and r.get("set") == "jumped"])
            objective[name] = float(np.mean([objective[name], jumped_sr]))
    best = max(variants, key=lambda name: objective[name])
    choice = {k: v for k, v in variants[best].items() if k in STAGES[stage][0]}
    print(f"{stage}: chose {best} (objective {objective[best]:.4f})", file=sys.stderr)
    return {"variants": variants, "rows": rows, "objective": objective, "chosen": best, "choice": choice}


def heldout(chosen: dict, workers: int) -> dict:
    sequences = synthetic_sequences("val", HELDOUT_SEQUENCES, SyntheticConfig(), start=HELDOUT_START)
    configs = {"today": _config(TODAY), "chosen": _config({**TODAY, **chosen})}
    rows = [r.as_dict() for r in sweep(configs, sequences, ("rgbt", "thermal", "visible"), workers=workers,
                                      in_memory=False)]
    return {"settings": {name: _name({**TODAY, **chosen}) if name == "chosen" else _name(TODAY)
                         for name in configs}, "rows": rows}


def plot(results: dict, path: Path) -> None:
    stages = [s for s in STAGES if s in results["stages"]]
    fig, axes = plt.subplots(len(stages), 1, figsize=(10, 2.6 * len(stages)), dpi=110, squeeze=False)
    for ax, stage in zip(axes[:, 0], stages):
        data = results["stages"][stage]
        names = list(data["variants"])
        x = np.arange(len(names))
        normal = [r for r in data["rows"] if r.get("set") != "jumped"]
        for modality, colour in (("rgbt", "tab:blue"), ("thermal", "tab:red")):
            sr = [next(r["sr"] for r in normal if r["variant"] == n and r["modality"] == modality) for n in names]
            band = [next(r["area_in_band"] for r in normal if r["variant"] == n and r["modality"] == modality)
                    for n in names]
            ax.plot(x, sr, "o-", color=colour, label=f"SR {modality}")
            ax.plot(x, band, "s--", color=colour, alpha=0.5, label=f"area in [0.5, 2]x, {modality}")
        jumped = [r for r in data["rows"] if r.get("set") == "jumped"]
        if jumped:
            share = [np.mean([r["reacquired"] for r in jumped if r["variant"] == n]) for n in names]
            ax.plot(x, share, "^-", color="tab:green", label="re-acquired share (jumped)")
        ax.axvline(names.index(data["chosen"]), color="grey", linestyle=":")
        short = [n.replace("template_update_score", "score").replace("template_update_interval", "every")
                 .replace("template_weight", "weight").replace(", ", "\n") for n in names]
        ax.set_xticks(x, short, fontsize=6)
        ax.set_title(f"stage {stage}: chosen {data['chosen']}", fontsize=9)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=6, loc="lower left", ncol=3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stages", default=",".join(STAGES), help="stages to run, in order")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--heldout", action="store_true", help="then the held-out check of the choices")
    args = parser.parse_args()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"stages": {}}
    stages = [s for s in args.stages.split(",") if s]
    unknown = set(stages) - set(STAGES)
    if unknown:
        parser.error(f"unknown stages {sorted(unknown)}; known: {', '.join(STAGES)}")
    sequences = synthetic_sequences("val", SWEEP_SEQUENCES, SyntheticConfig())
    spliced = [splice(s, HIDE_FROM, HIDDEN) for s in sequences] if "redetect" in stages else []
    for stage in stages:
        chosen = {}
        for earlier in STAGES:
            if earlier == stage:
                break
            chosen.update(results["stages"].get(earlier, {}).get("choice", {}))
        results["stages"][stage] = run_stage(stage, chosen, sequences, spliced, args.workers,
                                             results["stages"].get(stage))
        RESULTS.write_text(json.dumps(results, indent=1))
        plot(results, PLOT)
    if args.heldout:
        chosen = {k: v for s in STAGES for k, v in results["stages"].get(s, {}).get("choice", {}).items()}
        results["heldout"] = heldout(chosen, args.workers)
        RESULTS.write_text(json.dumps(results, indent=1))
    plot(results, PLOT)


if __name__ == "__main__":
    main()
