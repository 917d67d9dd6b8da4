"""How far synthetic thermal frames are from real ones: one number per statistic.

A frame's statistics, after its 1..99 percentile range is stretched to 0..1 (so 8-bit display
counts and 16-bit radiometric counts compare) and it is resized to a common width (gradients
depend on scale): the histogram of the gradient magnitude on log-spaced bins (sharp structure at low
texture against blur and noise) and the histogram of intensities. The gap between two sets of
frames is the Jensen-Shannon distance (base 2, 0 = the same, 1 = disjoint) between their pooled
histograms. The edge share is the share of pixels whose gradient is above EDGE_GRADIENT.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

COMMON_WIDTH = 320
GRADIENT_BINS = np.concatenate([[0.0], np.logspace(-3.0, 0.5, 29)])  # per pixel, of the 0..1 image
INTENSITY_BINS = np.linspace(0.0, 1.0, 33)
EDGE_GRADIENT = 0.05


@dataclass(frozen=True)
class FrameSetStatistics:
    gradient: np.ndarray  # pooled, normalised histogram
    intensity: np.ndarray
    edge_share: float
    frames: int


def stretched(image: np.ndarray) -> np.ndarray:
    """A thermal frame (any dtype, 1 or 3 channels) as float32 0..1 at COMMON_WIDTH wide."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    grey = grey.astype(np.float32)
    scale = COMMON_WIDTH / grey.shape[1]
    grey = cv2.resize(grey, (COMMON_WIDTH, max(2, round(grey.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    low, high = np.percentile(grey, (1.0, 99.0))
    return np.clip((grey - low) / max(float(high - low), 1e-6), 0.0, 1.0).astype(np.float32)


def gradient_magnitude(x: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(x, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(x, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    return np.sqrt(gx * gx + gy * gy)


def frame_set_statistics(frames) -> FrameSetStatistics:
    gradient = np.zeros(len(GRADIENT_BINS) - 1)
    intensity = np.zeros(len(INTENSITY_BINS) - 1)
    edges, pixels, count = 0, 0, 0
    for frame in frames:
        x = stretched(frame)
        g = gradient_magnitude(x)
        gradient += np.histogram(np.clip(g, 0.0, GRADIENT_BINS[-1]), GRADIENT_BINS)[0]
        intensity += np.histogram(x, INTENSITY_BINS)[0]
        edges += int((g > EDGE_GRADIENT).sum())
        pixels += g.size
        count += 1
    if count == 0:
        raise ValueError("no frames")
    return FrameSetStatistics(gradient / gradient.sum(), intensity / intensity.sum(), edges / pixels, count)


def js_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2) of two normalised histograms: 0..1."""
    m = 0.5 * (p + q)

    def kl(a: np.ndarray) -> float:
        mask = a > 0
        return float((a[mask] * np.log2(a[mask] / m[mask])).sum())

    return float(np.sqrt(max(0.0, 0.5 * kl(p) + 0.5 * kl(q))))


def gap(real: FrameSetStatistics, synthetic: FrameSetStatistics) -> dict[str, float]:
    return {
        "gradient_js": js_distance(real.gradient, synthetic.gradient),
        "intensity_js": js_distance(real.intensity, synthetic.intensity),
        "edge_share": synthetic.edge_share,
        "frames": synthetic.frames,
    }
