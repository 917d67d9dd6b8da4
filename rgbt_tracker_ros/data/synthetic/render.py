"""Turns a ScenePlan into visible (RGB uint8) and thermal (uint16 counts or uint8) frames.

Per-sequence assets (background canvases, object sprites, the thermal fixed pattern) are derived from
the plan and the seed only, built on first use and kept in a small per-process cache. Per-frame noise
comes from a fixed noise tile read at offsets drawn from (seed, frame index), which is far cheaper than
drawing fresh Gaussian noise for every pixel.

The thermal image is made from temperatures, not from the RGB. In the blurred world: a smooth
low-contrast background field, objects at their own temperature with faint internal structure and
soft edges. In the structured world (thermal_world.py): a background of material regions with sharp
edges, objects with warm and cool parts and cooler outlines, column stripes and a drift of all counts.
Both: optical blur, fixed-pattern and temporal noise, and sometimes vignetting.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from rgbt_tracker_ros.data.synthetic.config import SyntheticConfig
from rgbt_tracker_ros.data.synthetic.plan import Layer, Patch, ScenePlan
from rgbt_tracker_ros.data.synthetic.shapes import render_mask
from rgbt_tracker_ros.data.synthetic.thermal_world import (
    ThermalParts, background_field, column_pattern, heat_map, normalised,
)

_NOISE_PAD = 64  # the noise tile is this much larger than a frame, so offsets vary the noise
_NOISE_SEED = 0x5EED
_THERMAL_CANVAS_SCALE = 4  # the background temperature field is smooth: keep it at 1/4 resolution
_MAX_SPRITE_SIDE = 512
_AGC_MARGIN = 0.1  # 8-bit thermal: share of the 1..99 percentile range added on both sides


@dataclass(frozen=True)
class Sprite:
    """An object's look at its largest size: premultiplied colour + alpha, and thermal structure + alpha."""

    visible: np.ndarray  # (h, w, 4) float32: R*a, G*a, B*a, a
    # (h, w, 2) float32: structure*a (counts), a (soft-edged); the structured world adds a third
    # channel, the relative temperature of the parts (heat_map) times the soft alpha
    thermal: np.ndarray


@dataclass(frozen=True)
class SceneAssets:
    canvas: np.ndarray  # background RGB uint8 (canvas height, width, 3)
    temperature: np.ndarray  # background temperature, float32 counts, 1/temperature_scale resolution
    sprites: tuple[Sprite, ...]  # one per plan layer
    fixed_pattern: np.ndarray  # thermal-resolution float32 counts added to every frame
    temperature_scale: int = _THERMAL_CANVAS_SCALE


@functools.lru_cache(maxsize=4)
def noise_tile(height: int, width: int, channels: int) -> np.ndarray:
    """Standard normal noise, (height + pad, width + pad[, channels]) float32, the same in every process."""
    rng = np.random.default_rng(_NOISE_SEED)
    shape = (height + _NOISE_PAD, width + _NOISE_PAD) + ((channels,) if channels > 1 else ())
    tile = rng.standard_normal(shape, dtype=np.float32)
    tile.setflags(write=False)
    return tile


def _noise(rng: np.random.Generator, height: int, width: int, channels: int) -> np.ndarray:
    tile = noise_tile(height, width, channels)
    y, x = rng.integers(0, _NOISE_PAD + 1, 2)
    return tile[y : y + height, x : x + width]


def patch_pixels(texture: np.ndarray, patch: Patch, width: int, height: int) -> np.ndarray:
    """The patch of a texture resampled to width x height, as uint8 RGB with its colour gains applied."""
    th, tw = texture.shape[:2]
    step = min(tw / width, th / height) / patch.zoom  # texture pixels per output pixel
    crop_w = min(tw, max(1, int(round(width * step))))
    crop_h = min(th, max(1, int(round(height * step))))
    x0 = int(np.clip(round(patch.centre[0] * tw - crop_w / 2.0), 0, tw - crop_w))
    y0 = int(np.clip(round(patch.centre[1] * th - crop_h / 2.0), 0, th - crop_h))
    crop = texture[y0 : y0 + crop_h, x0 : x0 + crop_w]
    if patch.flip:
        crop = crop[:, ::-1]
    shrinking = crop_w > width
    pixels = cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    return cv2.multiply(pixels, (*patch.gains, 0.0))  # saturating, stays uint8


def _sprite(texture: np.ndarray, layer: Layer, parts: ThermalParts | None = None) -> Sprite:
    width, height = np.minimum(np.ceil(layer.size.max(axis=0)), _MAX_SPRITE_SIDE).astype(int)
    width, height = max(int(width), 4), max(int(height), 4)
    colour = patch_pixels(texture, layer.patch, width, height).astype(np.float32)
    alpha = render_mask(layer.shape, width, height, supersample=2 if width * height < 40_000 else 1)
    side = np.sqrt(width * height)
    luminance = cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY)
    structure = normalised(cv2.GaussianBlur(luminance, (0, 0), 1.0 + side / 30.0)) * layer.structure
    soft = cv2.GaussianBlur(alpha, (0, 0), max(0.7, 0.02 * side))
    visible = np.dstack([colour * alpha[:, :, None], alpha])
    if parts is None:
        thermal = np.dstack([structure * soft, soft])
    else:
        # Structure is half as strong: the parts carry most of the object's temperature pattern.
        relative = cv2.GaussianBlur(heat_map(parts, alpha), (0, 0), max(0.7, 0.02 * side))
        thermal = np.dstack([0.5 * structure * soft, soft, relative])
    return Sprite(np.ascontiguousarray(visible), np.ascontiguousarray(thermal))


def _background_temperature(canvas: np.ndarray, plan: ScenePlan, rng: np.random.Generator) -> np.ndarray:
    """Low-resolution temperature field: heavily blurred luminance at low contrast, plus a gradient."""
    small = cv2.resize(
        cv2.cvtColor(canvas, cv2.COLOR_RGB2GRAY).astype(np.float32),
        (max(2, canvas.shape[1] // _THERMAL_CANVAS_SCALE), max(2, canvas.shape[0] // _THERMAL_CANVAS_SCALE)),
        interpolation=cv2.INTER_AREA,
    )
    coarse = cv2.GaussianBlur(small, (0, 0), 4.0)
    fine = cv2.GaussianBlur(small, (0, 0), 1.0)
    sign = 1.0 if rng.random() < 0.7 else -1.0  # bright surfaces are usually the warmer ones
    field = normalised(0.75 * coarse + 0.25 * fine) * plan.background_contrast * sign
    h, w = field.shape
    gx, gy = plan.background_gradient
    field += np.linspace(-0.5, 0.5, w, dtype=np.float32)[None, :] * gx
    field += np.linspace(-0.5, 0.5, h, dtype=np.float32)[:, None] * gy
    return (field + plan.background_temperature).astype(np.float32)


def _fixed_pattern(plan: ScenePlan, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Per-pixel and per-column offsets of the thermal sensor, and vignetting, in counts."""
    width, height = size
    pattern = _noise(rng, height, width, 1) * plan.fixed_pattern_noise
    pattern = pattern + rng.normal(0.0, 0.6 * plan.fixed_pattern_noise, width).astype(np.float32)[None, :]
    if plan.vignetting > 0.0:
        x = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
        y = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]
        pattern -= plan.vignetting * (x * x + y * y) / 2.0
    return (pattern + 0.5).astype(np.float32)  # + 0.5: see the rounding in _thermal


def build_assets(seed: int, config: SyntheticConfig, plan: ScenePlan, textures: tuple[np.ndarray, ...]) -> SceneAssets:
    rng = np.random.default_rng([seed, 1])
    width, height = plan.canvas_size
    canvas = patch_pixels(textures[plan.background.texture], plan.background, width, height)
    style = plan.thermal_style
    if style is not None:
        fixed = _fixed_pattern(plan, config.thermal_resolution, rng)
        fixed += column_pattern(rng, config.thermal_resolution[0], style.column_noise)
        return SceneAssets(
            canvas=canvas,
            temperature=background_field(canvas, style, plan.background_contrast, plan.background_gradient,
                                         plan.background_temperature),
            sprites=tuple(_sprite(textures[layer.patch.texture], layer, parts)
                          for layer, parts in zip(plan.layers, style.parts)),
            fixed_pattern=fixed,
            temperature_scale=1,
        )
    return SceneAssets(
        canvas=canvas,
        temperature=_background_temperature(canvas, plan, rng),
        sprites=tuple(_sprite(textures[layer.patch.texture], layer) for layer in plan.layers),
        fixed_pattern=_fixed_pattern(plan, config.thermal_resolution, rng),
    )


def _warp_into(frame: np.ndarray, sprite: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The sprite resampled onto `box` (x, y, w, h) of the frame: (frame region view, warped sprite)."""
    height, width = frame.shape[:2]
    x, y, w, h = box
    x0, y0 = max(int(np.floor(x)) - 1, 0), max(int(np.floor(y)) - 1, 0)
    x1, y1 = min(int(np.ceil(x + w)) + 1, width), min(int(np.ceil(y + h)) + 1, height)
    if x1 <= x0 or y1 <= y0 or w <= 0 or h <= 0:
        return None
    if w < 0.5 * sprite.shape[1] or h < 0.5 * sprite.shape[0]:
        # Bilinear sampling aliases when shrinking this much: average down first.
        sprite = cv2.resize(sprite, (max(1, int(round(w))), max(1, int(round(h)))), interpolation=cv2.INTER_AREA)
        if sprite.ndim == 2:
            sprite = sprite[:, :, None]
    kx, ky = w / sprite.shape[1], h / sprite.shape[0]
    affine = np.array([[kx, 0.0, x + 0.5 * kx - 0.5 - x0], [0.0, ky, y + 0.5 * ky - 0.5 - y0]])
    warped = cv2.warpAffine(
        sprite, affine, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    if warped.ndim == 2:
        warped = warped[:, :, None]
    return frame[y0:y1, x0:x1], warped


def render_frame(
    seed: int, config: SyntheticConfig, plan: ScenePlan, assets: SceneAssets, index: int
) -> tuple[np.ndarray, np.ndarray]:
    """(visible RGB uint8, thermal uint16 or uint8) of frame `index`; depends only on its arguments."""
    rng = np.random.default_rng([seed, 2, index])
    return _visible(config, plan, assets, index, rng), _thermal(config, plan, assets, index, rng)


def _visible(
    config: SyntheticConfig, plan: ScenePlan, assets: SceneAssets, index: int, rng: np.random.Generator
) -> np.ndarray:
    width, height = config.width, config.height
    # The view moves over the canvas by whole pixels: a copy instead of a resampling warp, which is
    # the most expensive step otherwise; objects keep their sub-pixel positions.
    x, y = np.rint(plan.camera[index]).astype(int)
    frame = assets.canvas[y : y + height, x : x + width].copy()
    for layer, sprite in zip(plan.layers, assets.sprites):
        placed = _warp_into(frame, sprite.visible, layer.box(index))
        if placed is not None:
            region, warped = placed
            blended = region * (1.0 - warped[:, :, 3:4]) + warped[:, :, :3]
            region[:] = np.clip(blended + 0.5, 0.0, 255.0)
    gain = float(plan.light_gain[index])
    sigma = plan.visible_noise
    black = 0.0
    if gain < 1.0:
        # Dusk: darker, bluish, a raised black level and relatively more sensor noise.
        darkness = 1.0 - gain
        frame = cv2.multiply(frame, (1.0 - 0.15 * darkness, 1.0 - 0.05 * darkness, 1.0 + 0.1 * darkness, 0.0))
        black = 6.0 * darkness
        sigma += 6.0 * darkness
    return cv2.addWeighted(frame, gain, _noise(rng, height, width, 3), sigma, black, dtype=cv2.CV_8U)


def _thermal(
    config: SyntheticConfig, plan: ScenePlan, assets: SceneAssets, index: int, rng: np.random.Generator
) -> np.ndarray:
    width, height = config.thermal_resolution
    sx, sy = width / config.width, height / config.height
    cx, cy = plan.camera[index]
    s = float(assets.temperature_scale)
    offset = (s - 1.0) / 2.0  # centre of low-resolution pixel 0 in canvas pixels
    affine = np.array([[s * sx, 0.0, (offset - cx) * sx], [0.0, s * sy, (offset - cy) * sy]])
    frame = cv2.warpAffine(
        assets.temperature, affine, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )
    scale = np.array([sx, sy, sx, sy])
    for layer, sprite in zip(plan.layers, assets.sprites):
        placed = _warp_into(frame, sprite.thermal, layer.box(index) * scale)
        if placed is not None:
            region, warped = placed
            contrast = float(layer.contrast[index])
            alpha = warped[:, :, 1]
            region *= 1.0 - alpha
            if warped.shape[2] == 3:  # structured world: the parts' temperatures
                region += plan.background_temperature * alpha + contrast * warped[:, :, 2] + warped[:, :, 0]
            else:
                region += (plan.background_temperature + contrast) * alpha + warped[:, :, 0]
    frame = cv2.GaussianBlur(frame, (0, 0), plan.optics_blur)
    if plan.thermal_style is not None:
        frame += plan.thermal_style.drift[index]
    frame = cv2.scaleAdd(_noise(rng, height, width, 1), plan.thermal_noise, frame)
    frame += assets.fixed_pattern
    if config.thermal_bits == 16:
        # fixed_pattern carries +0.5, so truncation rounds to the nearest count.
        return np.clip(frame, 0.0, 65535.0, out=frame).astype(np.uint16)
    low, high = np.percentile(frame[::4, ::4], (1.0, 99.0))
    span = max(float(high - low), 1.0)
    low, span = low - _AGC_MARGIN * span, span * (1.0 + 2.0 * _AGC_MARGIN)
    return np.clip((frame - low) * (255.0 / span), 0.0, 255.0).astype(np.uint8)
