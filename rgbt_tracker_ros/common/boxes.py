"""Axis-aligned boxes as (x, y, w, h) in pixels: top-left corner and size."""

from __future__ import annotations

import math

import numpy as np

from rgbt_tracker_ros.common.errors import InputError


def validate_box(box, image_size: tuple[int, int] | None = None, min_size: float = 2.0) -> np.ndarray:
    """Return `box` as a float64 array (x, y, w, h), or raise InputError saying what is wrong with it.

    image_size is (width, height); when given, the box must overlap the image.
    """
    try:
        arr = np.asarray(box, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise InputError(f"box {box!r} is not four numbers x,y,w,h") from exc
    if arr.size != 4:
        raise InputError(f"box needs four numbers x,y,w,h, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"box {arr.tolist()} contains NaN or infinity")
    x, y, w, h = arr
    if w < min_size or h < min_size:
        raise InputError(f"box {arr.tolist()} is too small: width and height must be at least {min_size} px")
    if image_size is not None:
        width, height = image_size
        if x >= width or y >= height or x + w <= 0 or y + h <= 0:
            raise InputError(f"box {arr.tolist()} lies outside the {width}x{height} image")
    return arr


def center(box) -> tuple[float, float]:
    x, y, w, h = box
    return x + w / 2.0, y + h / 2.0


def from_center(cx: float, cy: float, w: float, h: float) -> np.ndarray:
    return np.array([cx - w / 2.0, cy - h / 2.0, w, h], dtype=np.float64)


def clip_to_image(box, image_size: tuple[int, int], min_size: float = 1.0) -> np.ndarray:
    """Clip a box to the image (width, height), keeping at least min_size pixels of it inside."""
    width, height = image_size
    x, y, w, h = box
    x1 = min(max(x, 0.0), width - min_size)
    y1 = min(max(y, 0.0), height - min_size)
    x2 = min(max(x + w, x1 + min_size), float(width))
    y2 = min(max(y + h, y1 + min_size), float(height))
    return np.array([x1, y1, x2 - x1, y2 - y1], dtype=np.float64)


def iou(a, b) -> np.ndarray:
    """IoU of boxes a and b, each (4,) or (N, 4) in x, y, w, h; NaN boxes give 0."""
    a = np.atleast_2d(np.asarray(a, dtype=np.float64))
    b = np.atleast_2d(np.asarray(b, dtype=np.float64))
    ix1 = np.maximum(a[:, 0], b[:, 0])
    iy1 = np.maximum(a[:, 1], b[:, 1])
    ix2 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    iy2 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0, inter / union, 0.0)
    return np.nan_to_num(out, nan=0.0)


def parse_box(text: str) -> np.ndarray:
    """Parse 'x,y,w,h' (commas, spaces or tabs) into four floats; raise InputError otherwise."""
    parts = [p for p in text.replace("\t", ",").replace(" ", ",").split(",") if p != ""]
    if len(parts) != 4:
        raise InputError(f"expected x,y,w,h, got {text!r}")
    try:
        return np.array([float(p) for p in parts], dtype=np.float64)
    except ValueError as exc:
        raise InputError(f"expected four numbers x,y,w,h, got {text!r}") from exc


def is_annotated(box) -> bool:
    return bool(np.all(np.isfinite(np.asarray(box, dtype=np.float64))))


def crop_side(box, context_factor: float) -> float:
    """Side of the square crop that holds the box with context: context_factor * sqrt(w * h)."""
    _, _, w, h = box
    return context_factor * math.sqrt(max(w, 1.0) * max(h, 1.0))
