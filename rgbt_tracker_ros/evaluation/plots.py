"""OTB-style precision and success plots: one curve per tracker, its score in the legend.

matplotlib is imported inside the functions (Agg backend), so importing evaluation does not need it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from rgbt_tracker_ros.evaluation.metrics import (
    NORMALIZED_THRESHOLDS,
    NPR_THRESHOLD,
    PRECISION_THRESHOLDS,
    SUCCESS_THRESHOLDS,
    Scores,
)


def _save_plot(curves: dict[str, tuple[np.ndarray, float]], thresholds: np.ndarray, path: Path,
               title: str, xlabel: str, ylabel: str, legend_loc: str,
               marker_at: float | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5.5, 4.5), dpi=120)
    # Legend ordered best first, as in the OTB toolkit.
    ordered = sorted(curves.items(), key=lambda item: -np.nan_to_num(item[1][1], nan=-1.0))
    for name, (curve, value) in ordered:
        ax.plot(thresholds, curve, linewidth=2, label=f"{name} [{value:.3f}]")
    if marker_at is not None:
        ax.axvline(marker_at, color="grey", linestyle=":", linewidth=1)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel, xlim=(thresholds[0], thresholds[-1]), ylim=(0.0, 1.0))
    ax.grid(True, alpha=0.3)
    ax.legend(loc=legend_loc, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def precision_plot(scores: dict[str, Scores], path, title: str = "Precision plot",
                   threshold: float = 20.0) -> Path:
    """Precision curve per tracker with its PR (read at `threshold` px) in the legend."""
    curves = {name: (s.precision, s.pr) for name, s in scores.items()}
    return _save_plot(curves, PRECISION_THRESHOLDS, path, title,
                      "Location error threshold (px)", "Precision", "lower right", marker_at=threshold)


def success_plot(scores: dict[str, Scores], path, title: str = "Success plot") -> Path:
    """Success curve per tracker with its SR (mean of the curve) in the legend."""
    curves = {name: (s.success, s.sr) for name, s in scores.items()}
    return _save_plot(curves, SUCCESS_THRESHOLDS, path, title, "Overlap threshold", "Success rate", "lower left")


def normalized_precision_plot(scores: dict[str, Scores], path,
                              title: str = "Normalised precision plot") -> Path:
    """Normalised precision curve per tracker with its NPR (read at NPR_THRESHOLD) in the legend."""
    curves = {name: (s.normalized_precision, s.npr) for name, s in scores.items()}
    return _save_plot(curves, NORMALIZED_THRESHOLDS, path, title,
                      "Normalised location error threshold", "Normalised precision", "lower right",
                      marker_at=NPR_THRESHOLD)


def ablation_plot(rows: list[dict], path, title: str = "Ablation") -> Path:
    """Grouped bars per model: SR on the synthetic split (RGB-T and thermal-only) and on the real
    thermal sequences, with each model's step latency in its label (rows of `rgbt-tracker ablation`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    series = (("SR", "synthetic SR (RGB-T)"), ("thermal-only SR", "synthetic SR (thermal only)"),
              ("real SR", "real thermal SR"))
    labels = [f"{r['model']}\n{r['step p50 (ms)']:.1f} ms" if r.get("step p50 (ms)") else r["model"] for r in rows]
    y = np.arange(len(rows))
    height = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(rows) + 1.5), dpi=120)
    for i, (key, label) in enumerate(series):
        values = [np.nan if r.get(key) is None else r[key] for r in rows]
        ax.barh(y + (i - (len(series) - 1) / 2) * height, values, height, label=label)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set(title=textwrap.fill(title, 70), xlabel="success rate (AUC)", xlim=(0.0, 1.0))
    ax.grid(True, axis="x", alpha=0.3)
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=8)
    fig.tight_layout(rect=(0.0, 0.5 / fig.get_figheight(), 1.0, 1.0))
    fig.savefig(path)
    plt.close(fig)
    return path
