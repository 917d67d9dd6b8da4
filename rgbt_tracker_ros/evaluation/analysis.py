"""Failure analysis a user can look at (`eval --analysis`): per sequence and tracker, a timeline of
IoU, box area / ground-truth area, score and state per frame, and a strip of the worst frames with
the ground-truth and predicted boxes drawn.

matplotlib is imported inside the plotting functions (Agg backend), as in plots.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.sequence import Sequence
from rgbt_tracker_ros.evaluation.box_size import AREA_BAND, BoxSize
from rgbt_tracker_ros.evaluation.metrics import FrameErrors
from rgbt_tracker_ros.evaluation.peers import thermal_to_visible_of
from rgbt_tracker_ros.evaluation.runner import RunResult
from rgbt_tracker_ros.tracking.geometry import map_box
from rgbt_tracker_ros.tracking.preprocessing import apply_stretch, as_thermal, as_visible_rgb, thermal_stretch
from rgbt_tracker_ros.tracking.result import TrackState

STATE_ROWS = (TrackState.TRACKING, TrackState.UNCERTAIN, TrackState.LOST, None)  # None: input error
STATE_LABELS = ("tracking", "uncertain", "lost", "input error")
STATE_COLOURS = ("tab:green", "tab:orange", "tab:red", "black")
GT_COLOUR, PREDICTION_COLOUR = "lime", "red"


def state_codes(run: RunResult) -> tuple[np.ndarray, np.ndarray]:
    """(frames, row in STATE_ROWS) for every tracked frame of a run."""
    frames = np.arange(run.init_frame + 1, len(run.predictions))
    return frames, np.array([STATE_ROWS.index(run.states[i]) for i in frames], dtype=np.int64)


def worst_frames(errors: FrameErrors, size: BoxSize, count: int = 6, gap: int | None = None) -> list[int]:
    """Up to `count` frames with the lowest IoU (then the largest centre error), at least `gap` frames
    apart so that one long failure does not fill the strip; only frames with a ground-truth box.
    Default gap: the scored span / (4 * count). Returned in frame order."""
    candidates = np.isin(errors.frames, size.frames)
    frames, overlap, center = errors.frames[candidates], errors.overlap[candidates], errors.center[candidates]
    if frames.size == 0:
        return []
    if gap is None:
        gap = max(1, int(frames[-1] - frames[0] + 1) // (4 * count))
    order = np.lexsort((-np.nan_to_num(center, posinf=np.inf), np.nan_to_num(overlap, nan=0.0)))
    chosen: list[int] = []
    for k in order:
        frame = int(frames[k])
        if all(abs(frame - c) >= gap for c in chosen):
            chosen.append(frame)
            if len(chosen) == count:
                break
    return sorted(chosen)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def timeline_plot(run: RunResult, errors: FrameErrors, size: BoxSize, path, title: str) -> Path:
    """Four panels over the frames: IoU, area ratio (log, the AREA_BAND shaded), score, state."""
    plt = _pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(4, 1, figsize=(9.0, 7.5), dpi=110, sharex=True,
                             gridspec_kw={"height_ratios": [3, 3, 2, 1.4]})
    iou_ax, area_ax, score_ax, state_ax = axes

    iou_ax.plot(errors.frames, errors.overlap, color="tab:blue", linewidth=1.2)
    iou_ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    iou_ax.set(ylabel="IoU", ylim=(0.0, 1.0))

    low, high = AREA_BAND
    within = size.within_band
    area_ax.axhspan(low, high, color="tab:green", alpha=0.12,
                    label=f"[{low:g}, {high:g}]x: {within:.0%} of frames" if np.isfinite(within) else None)
    area_ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
    ratios = np.clip(size.ratios, 1e-3, 1e3)
    area_ax.plot(size.frames, ratios, color="tab:purple", linewidth=1.2,
                 label=f"median {size.median:.2f}x" if np.isfinite(size.median) else None)
    area_ax.set_yscale("log")
    finite = ratios[np.isfinite(ratios)]
    span = (min(0.25, finite.min() / 1.5), max(4.0, finite.max() * 1.5)) if finite.size else (0.25, 4.0)
    powers = np.arange(np.floor(np.log2(span[0])), np.ceil(np.log2(span[1])) + 1)
    step = max(1, int(np.ceil(len(powers) / 8)))
    area_ax.set_yticks(2.0 ** powers[::step], [f"{v:g}" for v in 2.0 ** powers[::step]])
    area_ax.minorticks_off()
    area_ax.set(ylabel="box area / gt area", ylim=span)
    area_ax.legend(loc="upper left", fontsize=8)

    frames, codes = state_codes(run)
    score_ax.plot(frames, run.scores[frames], color="tab:brown", linewidth=1.2)
    score_ax.set(ylabel="score", ylim=(-0.05, 1.05))

    labels = list(STATE_LABELS)
    for row, colour in enumerate(STATE_COLOURS):
        at = frames[codes == row]
        if at.size:
            state_ax.scatter(at, np.full(at.size, row), s=6, marker="s", color=colour, linewidths=0)
    for camera in ("visible", "thermal"):
        at = np.array([i for i in frames if i < len(run.ignored) and camera in run.ignored[i]], dtype=np.int64)
        if at.size:
            state_ax.scatter(at, np.full(at.size, len(labels)), s=6, marker="s", color="tab:grey", linewidths=0)
            labels.append(f"{camera} ignored")
    state_ax.set_yticks(range(len(labels)), labels, fontsize=7)
    state_ax.set(ylim=(len(labels) - 0.5, -0.5), xlabel="frame")

    for ax in axes:
        ax.grid(True, alpha=0.3)
    axes[0].set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _views(run: RunResult, sequence: Sequence) -> list[tuple[str, np.ndarray | None]]:
    """(camera, visible-to-camera homography or None for identity) of each camera the run was fed."""
    views = []
    if run.modality in ("rgbt", "visible"):
        views.append(("visible", None))
    if run.modality in ("rgbt", "thermal"):
        to_visible = thermal_to_visible_of(sequence) if sequence.visible is not None else None
        views.append(("thermal", None if to_visible is None else np.linalg.inv(to_visible)))
    return views


def _display(camera: str, frame: np.ndarray) -> np.ndarray:
    """The frame as 8-bit RGB for display (thermal through the runtime's robust stretch)."""
    if camera == "visible":
        return as_visible_rgb(frame)
    thermal = as_thermal(frame)
    try:
        grey = apply_stretch(thermal, *thermal_stretch(thermal))
    except InputError:  # no finite temperature at all
        grey = np.zeros(thermal.shape, np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


def _crop_around(boxes: list[np.ndarray], image_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of a view around the boxes, a margin of half the largest side, in the image."""
    finite = [b for b in boxes if np.all(np.isfinite(b))]
    height, width = image_shape[:2]
    if not finite:
        return 0, 0, width, height
    stacked = np.array(finite)
    x0, y0 = stacked[:, 0].min(), stacked[:, 1].min()
    x1, y1 = (stacked[:, 0] + stacked[:, 2]).max(), (stacked[:, 1] + stacked[:, 3]).max()
    margin = max(16.0, 0.5 * max(x1 - x0, y1 - y0))
    return (int(max(0, np.floor(x0 - margin))), int(max(0, np.floor(y0 - margin))),
            int(min(width, np.ceil(x1 + margin))), int(min(height, np.ceil(y1 + margin))))


def worst_frames_strip(run: RunResult, sequence: Sequence, errors: FrameErrors, size: BoxSize, path,
                       title: str, count: int = 6) -> Path | None:
    """The worst frames (worst_frames) side by side, one row per camera the tracker was fed, the
    ground truth in green and the prediction in red; None when no frame has a ground-truth box."""
    frames = worst_frames(errors, size, count)
    if not frames:
        return None
    plt = _pyplot()
    from matplotlib.patches import Rectangle

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    views = _views(run, sequence)
    overlap = dict(zip(errors.frames.tolist(), errors.overlap.tolist()))
    ratio = dict(zip(size.frames.tolist(), size.ratios.tolist()))
    fig, axes = plt.subplots(len(views), len(frames), figsize=(2.3 * len(frames), 2.5 * len(views) + 0.5),
                             dpi=110, squeeze=False)
    for col, frame in enumerate(frames):
        images = dict(zip(("visible", "thermal"), sequence.frame(frame)))
        for row, (camera, from_visible) in enumerate(views):
            ax = axes[row][col]
            gt = sequence.groundtruth[frame]
            predicted = run.predictions[frame]
            if from_visible is not None:
                gt, predicted = map_box(gt, from_visible), map_box(predicted, from_visible)
            image = _display(camera, images[camera])
            x0, y0, x1, y1 = _crop_around([gt, predicted], image.shape)
            ax.imshow(image[y0:y1, x0:x1], extent=(x0, x1, y1, y0), interpolation="nearest")
            for box, colour in ((gt, GT_COLOUR), (predicted, PREDICTION_COLOUR)):
                if np.all(np.isfinite(box)):
                    ax.add_patch(Rectangle((box[0], box[1]), box[2], box[3], fill=False,
                                           edgecolor=colour, linewidth=1.5))
            ax.set(xlim=(x0, x1), ylim=(y1, y0), xticks=[], yticks=[])
            if col == 0:
                ax.set_ylabel(camera, fontsize=8)
            if row == 0:
                state = run.states[frame]
                ax.set_title(f"frame {frame}  IoU {overlap.get(frame, float('nan')):.2f}\n"
                             f"area {ratio.get(frame, float('nan')):.2f}x  "
                             f"{state.value if state is not None else 'error'} {run.scores[frame]:.2f}",
                             fontsize=7)
    fig.suptitle(f"{title}  (green: ground truth, red: {run.tracker})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
