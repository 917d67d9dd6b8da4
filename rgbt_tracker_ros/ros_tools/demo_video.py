"""The demo's annotated video and image strip.

Each visible frame gets the ground truth (green), the tracker's box in the colour of its state, the
frame number, state and score, and a thermal inset; the strip shows STRIP_FRAMES of them from the
initialisation frame to the last one.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import cv2
import numpy as np

from rgbt_tracker_ros.ros_tools.demo_scoring import DemoOutcome
from rgbt_tracker_ros.tracking.preprocessing import apply_stretch, thermal_stretch

STRIP_FRAMES = 6
_GT_COLOUR = (0, 220, 0)                      # BGR
_STATE_COLOURS = {"tracking": (0, 170, 255), "uncertain": (0, 255, 255), "lost": (0, 0, 255)}


def annotate(sequence, frame: int, outcome: DemoOutcome) -> np.ndarray:
    """The visible frame (BGR) with ground truth, the tracker's box, score and state, and a thermal inset."""
    visible, thermal = sequence.frame(frame)
    canvas = cv2.cvtColor(visible if visible.ndim == 3 else cv2.cvtColor(visible, cv2.COLOR_GRAY2RGB),
                          cv2.COLOR_RGB2BGR)
    height, width = canvas.shape[:2]
    if thermal is not None:
        grey = apply_stretch(thermal, *thermal_stretch(thermal))
        inset_w = width // 4
        inset_h = max(1, round(grey.shape[0] * inset_w / grey.shape[1]))
        inset = cv2.applyColorMap(cv2.resize(grey, (inset_w, inset_h), interpolation=cv2.INTER_AREA),
                                  cv2.COLORMAP_INFERNO)
        canvas[4:4 + inset_h, width - inset_w - 4:width - 4] = inset[: height - 4]
        cv2.rectangle(canvas, (width - inset_w - 5, 3), (width - 4, 4 + inset_h), (255, 255, 255), 1)
    gt = sequence.groundtruth[frame]
    if np.all(np.isfinite(gt)) and gt[2] > 0:
        _box(canvas, gt, _GT_COLOUR, 1)
    state = outcome.states[frame].split(" ")[0] if frame > outcome.init_frame else "init"
    box = outcome.predictions[frame]
    if frame >= outcome.init_frame and np.all(np.isfinite(box)):
        _box(canvas, box, _STATE_COLOURS.get(state, (255, 0, 255)), 2)
    score = outcome.scores[frame]
    text = f"#{frame}  {state or '-'}" + (f"  score {score:.2f}" if math.isfinite(score) else "")
    (text_w, text_h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.6, 1)
    cv2.rectangle(canvas, (4, height - 16 - text_h), (12 + text_w, height - 4), (0, 0, 0), cv2.FILLED)
    cv2.putText(canvas, text, (8, height - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
    cv2.putText(canvas, "green: ground truth", (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, _GT_COLOUR, 1, cv2.LINE_AA)
    return canvas


def _box(canvas: np.ndarray, box, colour, thickness: int) -> None:
    x, y, w, h = (float(v) for v in box)
    cv2.rectangle(canvas, (round(x), round(y)), (round(x + w), round(y + h)), colour, thickness, cv2.LINE_AA)


def write_video_and_strip(sequence, outcome: DemoOutcome, out: Path, fps: float) -> list[Path]:
    """demo.mp4 (MPEG-4; demo.avi MJPG where no MP4 encoder exists) and strip.png."""
    first = annotate(sequence, 0, outcome)
    size = (first.shape[1], first.shape[0])
    path = out / "demo.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        path = out / "demo.avi"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    written = []
    picks = np.linspace(outcome.init_frame, outcome.frames - 1, STRIP_FRAMES).round().astype(int)
    tiles = {}
    for frame in range(outcome.frames):
        image = first if frame == 0 else annotate(sequence, frame, outcome)
        if writer.isOpened():
            writer.write(image)
        if frame in picks:
            tiles[frame] = cv2.resize(image, (size[0] // 2, size[1] // 2), interpolation=cv2.INTER_AREA)
    if writer.isOpened():
        writer.release()
        written.append(path)
    else:
        print("demo: no video encoder available; wrote the image strip only", file=sys.stderr)
    row = STRIP_FRAMES // 2
    ordered = [tiles[f] for f in sorted(tiles)]
    ordered += [np.zeros_like(ordered[0])] * (2 * row - len(ordered))
    strip = np.vstack([np.hstack(ordered[:row]), np.hstack(ordered[row:2 * row])])
    strip_path = out / "strip.png"
    cv2.imwrite(str(strip_path), strip)
    written.append(strip_path)
    return written
