"""The box keeps its size: candidates of the score map whose size or aspect ratio departs from the
current box are penalised (SiamRPN's scale / ratio penalty), and the size the box takes each frame
follows the prediction at a confidence-weighted rate, bounded per frame."""

from __future__ import annotations

import numpy as np

# Sizes are compared as fractions of the search crop; this keeps a zero-width prediction finite.
_EPS = 1e-6


def _padded_side(w, h):
    """SiamRPN's size of a box: the side of the square of the box padded by half its perimeter."""
    pad = (w + h) * 0.5
    return np.sqrt((w + pad) * (h + pad))


def size_penalty(size_map: np.ndarray, current: tuple[float, float], strength: float,
                 out: np.ndarray | None = None) -> np.ndarray:
    """exp(-strength * (scale_change * ratio_change - 1)) per cell, in (0, 1].

    size_map: (2, H, W) predicted (w, h) per cell, `current`: the current box's (w, h), both in the
    same units (fractions of the search crop). A change is max(r, 1/r) of the ratio of the padded
    sides and of the aspect ratios, so growing and shrinking by the same factor cost the same.
    strength 0 returns ones (no penalty).
    """
    w = np.maximum(size_map[0], _EPS)
    h = np.maximum(size_map[1], _EPS)
    cw, ch = max(current[0], _EPS), max(current[1], _EPS)
    scale = _padded_side(w, h) / _padded_side(cw, ch)
    ratio = (w / h) / (cw / ch)
    change = np.maximum(scale, 1.0 / scale) * np.maximum(ratio, 1.0 / ratio)
    if out is None:
        out = np.empty(change.shape, dtype=np.float32)
    np.exp(-strength * (change - 1.0), out=out, casting="unsafe")
    return out


def next_size(current: tuple[float, float], predicted: tuple[float, float], rate: float,
              max_step: float, min_side: float) -> tuple[float, float]:
    """The box's (w, h) after one frame: `rate` of the way from `current` to `predicted` (rate is
    the size learning rate times the confidence), each side changing by at most a factor max_step,
    and never below min_side."""
    out = []
    for now, target in zip(current, predicted):
        blended = (1.0 - rate) * now + rate * target
        bounded = min(max(blended, now / max_step), now * max_step)
        out.append(max(bounded, min_side))
    return out[0], out[1]
