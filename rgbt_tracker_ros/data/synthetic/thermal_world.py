"""The structured thermal world: thermal frames rendered from scene structure, not from blurred noise.

Real thermal scenes keep sharp structure at low texture (building edges, roads, vegetation, a cold
sky above the horizon), and real warm targets have parts at different temperatures (a warm head,
insulated clothing, hot engine and tyres) with soft, partly cold outlines. Here:

- the background's temperature comes from its photo's regions: an edge-preserving smoothing of the
  luminance mapped through a random "material" curve (regions of one material share a temperature,
  edges stay sharp), a little fine texture, and sometimes a cold sky above a horizon;
- each object gets a heat map of parts on its silhouette (ThermalParts), cooled towards its outline,
  with a faint warm halo in the gaps of its box;
- the sensor adds column stripes and a slow drift of all counts.

Everything is drawn from the sequence's seed on a random stream of its own ([seed, 3]), so the
blurred world's plans and frames stay bit-identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from rgbt_tracker_ros.data.synthetic.shapes import SQUAT_SHAPES, UPRIGHT_SHAPES, WIDE_SHAPES, available_shapes

_MATERIAL_KNOTS = 7


@dataclass(frozen=True)
class ThermalParts:
    """Relative temperature of an object's parts on its unit box: 1 is the object's full contrast."""

    base: float
    spots: tuple[tuple[float, float, float, float, float], ...]  # (u, v, radius u, radius v, level)
    edge_share: float  # temperature at the outline relative to inside
    halo: float  # warmth of the gaps inside the box, relative to the contrast


@dataclass(frozen=True)
class ThermalStyle:
    """What the structured world draws per sequence."""

    materials: tuple[float, ...]  # temperature (-1..1) of luminance levels 0, 255/(k-1), ..., 255
    texture_share: float  # weight of the photo's fine detail in the temperature field
    structure_gain: float  # the regions' contrast against the plan's background contrast: real scenes hold more
    sky: tuple[float, float, float] | None  # (horizon row share at the left, at the right, sky temperature) or None
    column_noise: float  # counts, std of the per-column offsets
    drift: np.ndarray  # (N,) counts added to every pixel of frame i
    parts: tuple[ThermalParts, ...]  # one per plan layer


def _level(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def draw_parts(rng: np.random.Generator, shape: str, role: str) -> ThermalParts:
    """The parts of one object: by its silhouette for the shapes that have parts, random spots otherwise."""
    if role == "occluder":
        return ThermalParts(base=1.0, spots=(), edge_share=1.0, halo=0.0)
    if shape in ("person", "walker"):
        torso = _level(rng, 0.3, 0.85)  # clothing insulates
        spots = ((0.5, 0.08, 0.16, 0.1, _level(rng, 0.9, 1.2)), (0.5, 0.38, 0.3, 0.2, torso),
                 (0.5, 0.8, 0.45, 0.22, _level(rng, 0.4, 1.0)))
        base = torso
    elif shape == "vehicle":
        front = 0.85 if rng.random() < 0.5 else 0.15
        spots = ((front, 0.55, 0.15, 0.22, _level(rng, 0.9, 1.3)), (0.22, 0.82, 0.12, 0.18, _level(rng, 0.7, 1.1)),
                 (0.78, 0.82, 0.12, 0.18, _level(rng, 0.7, 1.1)), (0.47, 0.2, 0.2, 0.12, _level(rng, 0.05, 0.4)))
        base = _level(rng, 0.3, 0.7)
    elif shape in ("quadruped", "horse"):
        head_u = 0.9 if shape == "quadruped" or rng.random() < 0.5 else 0.1
        spots = ((head_u, 0.15, 0.12, 0.15, _level(rng, 0.9, 1.2)), (0.5, 0.85, 0.5, 0.2, _level(rng, 0.4, 0.8)))
        base = _level(rng, 0.7, 1.0)
    else:
        base = _level(rng, 0.4, 0.9)
        spots = tuple(
            (_level(rng, 0.2, 0.8), _level(rng, 0.2, 0.8), _level(rng, 0.1, 0.3), _level(rng, 0.1, 0.3),
             _level(rng, 0.8, 1.2))
            for _ in range(int(rng.integers(1, 4)))
        )
    return ThermalParts(base=base, spots=spots, edge_share=_level(rng, 0.25, 0.8), halo=_level(rng, 0.0, 0.12))


def target_shape(rng: np.random.Generator, width: float, height: float) -> str:
    """A silhouette with parts fitting a target of this build."""
    if width < 0.8 * height:
        family = UPRIGHT_SHAPES
    elif width > 1.25 * height:
        family = WIDE_SHAPES
    else:
        family = SQUAT_SHAPES
    return str(rng.choice(available_shapes(family)))


def draw_style(rng: np.random.Generator, length: int, layers) -> ThermalStyle:
    knots = rng.uniform(-1.0, 1.0, _MATERIAL_KNOTS)
    sky = None
    if rng.random() < 0.4:
        left = _level(rng, 0.1, 0.45)
        sky = (left, float(np.clip(left + rng.uniform(-0.1, 0.1), 0.05, 0.5)), _level(rng, -3.0, -1.5))
    t = np.linspace(0.0, 1.0, length)
    drift = rng.uniform(0.0, 150.0) * np.sin(2.0 * np.pi * (rng.uniform(0.2, 1.0) * t + rng.uniform()))
    return ThermalStyle(
        materials=tuple(float(k) for k in knots),
        texture_share=_level(rng, 0.05, 0.3),
        structure_gain=_level(rng, 1.5, 3.5),
        sky=sky,
        column_noise=_level(rng, 0.5, 5.0),
        drift=drift.astype(np.float32),
        parts=tuple(draw_parts(rng, layer.shape, layer.role) for layer in layers),
    )


def normalised(values: np.ndarray) -> np.ndarray:
    """Zero mean, unit spread: a field's pattern without its level or contrast (both worlds use it)."""
    return (values - values.mean()) / max(float(values.std()), 1e-3)


def background_field(canvas: np.ndarray, style: ThermalStyle, contrast: float, gradient: tuple[float, float],
                     mean: float) -> np.ndarray:
    """Full-resolution temperature (counts, float32) of a background photo: regions by material, sharp edges."""
    luminance = cv2.cvtColor(canvas, cv2.COLOR_RGB2GRAY)
    regions = cv2.bilateralFilter(luminance, 9, 40.0, 6.0)
    lut = np.interp(np.arange(256), np.linspace(0.0, 255.0, len(style.materials)), style.materials)
    field = cv2.LUT(regions, lut.astype(np.float32).reshape(1, 256))
    field = cv2.GaussianBlur(field.astype(np.float32), (0, 0), 0.7)
    grey = luminance.astype(np.float32)
    detail = grey - cv2.GaussianBlur(grey, (0, 0), 2.0)
    field = normalised(field) + style.texture_share * normalised(detail)
    contrast *= style.structure_gain
    field = normalised(field) * contrast
    h, w = field.shape
    if style.sky is not None:
        left, right, temperature = style.sky
        horizon = np.linspace(left, right, w, dtype=np.float32)[None, :] * h
        rows = np.arange(h, dtype=np.float32)[:, None]
        sky = (rows < horizon).astype(np.float32)
        sky = cv2.GaussianBlur(sky, (0, 0), 0.8)
        cold = temperature * contrast + 0.3 * contrast * (rows / h)  # warmer towards the horizon
        field = field * (1.0 - sky) + cold * sky
    gx, gy = gradient
    field += np.linspace(-0.5, 0.5, w, dtype=np.float32)[None, :] * gx
    field += np.linspace(-0.5, 0.5, h, dtype=np.float32)[:, None] * gy
    return (field + mean).astype(np.float32)


def heat_map(parts: ThermalParts, alpha: np.ndarray) -> np.ndarray:
    """Relative temperature (h, w) of an object over its box: parts, cooled towards the outline, halo."""
    height, width = alpha.shape
    u = (np.arange(width, dtype=np.float32) + 0.5) / width
    v = (np.arange(height, dtype=np.float32) + 0.5) / height
    u, v = u[None, :], v[:, None]
    heat = np.full((height, width), parts.base, np.float32)
    for cu, cv, ru, rv, level in parts.spots:
        weight = np.clip(1.5 * np.exp(-((u - cu) / ru) ** 2 - ((v - cv) / rv) ** 2), 0.0, 1.0)
        heat = heat * (1.0 - weight) + level * weight
    side = float(np.sqrt(width * height))
    if parts.edge_share < 1.0:
        # Padded: the silhouette touches its box, and its outline there is an outline too.
        solid = cv2.copyMakeBorder((alpha > 0.5).astype(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
        inside = cv2.distanceTransform(solid, cv2.DIST_L2, 3)[1:-1, 1:-1]
        heat *= parts.edge_share + (1.0 - parts.edge_share) * (1.0 - np.exp(-inside / max(0.06 * side, 0.5)))
    relative = heat * alpha
    if parts.halo > 0.0:
        glow = cv2.GaussianBlur(alpha, (0, 0), max(0.08 * side, 0.7))
        relative += parts.halo * glow * (1.0 - alpha)
    return relative.astype(np.float32)


def column_pattern(rng: np.random.Generator, width: int, amplitude: float) -> np.ndarray:
    """Per-column offsets (1, width) of an uncooled sensor: one fixed random offset per column."""
    stripes = rng.normal(0.0, amplitude, width).astype(np.float32)
    return stripes[None, :]
