"""Everything random about one synthetic sequence, drawn up front from its seed.

The plan holds motion, sizes, temperatures and challenge events for every frame, the ground truth
and the per-frame attributes; the renderer only turns a plan into pixels (plus per-frame noise).
Positions are visible-image pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rgbt_tracker_ros.data.synthetic.config import SyntheticConfig
from rgbt_tracker_ros.data.synthetic.shapes import grid_mask, unit_mask
from rgbt_tracker_ros.data.synthetic.thermal_world import ThermalStyle, draw_style, target_shape

ATTRIBUTE_NAMES = (
    "occlusion", "full_occlusion", "low_light", "thermal_crossover",
    "fast_motion", "scale_change", "distractor", "camera_shake",
)
# Thresholds that turn the drawn events into per-frame attributes.
OCCLUDED_SHARE = 0.1  # share of the target's silhouette hidden
FULLY_OCCLUDED_SHARE = 0.95
LOW_LIGHT_GAIN = 0.6  # visible brightness factor below which a frame is low light
CROSSOVER_SHARE = 0.25  # thermal contrast below this share of the target's usual contrast
FAST_MOTION_SIDES = 0.5  # centre displacement between frames, in target sides sqrt(w * h)
FAST_MOTION_MIN_PIXELS = 12.0
SCALE_CHANGE_RATIO = 1.5  # target side relative to the first frame, either way
DISTRACTOR_SIDES = 2.0  # distractor centre within this many target sides, on both axes
_COVERAGE_GRID = 24


@dataclass(frozen=True)
class Patch:
    """Where an object's (or the background's) look comes from in a texture image."""

    texture: int  # index into texture_library()
    centre: tuple[float, float]  # crop centre, fraction of the texture's width and height
    zoom: float  # >= 1: shows 1/zoom of the largest crop of the right aspect that fits
    flip: bool
    gains: tuple[float, float, float]  # colour gains


@dataclass(frozen=True)
class Layer:
    """One object drawn over the background; layers are drawn in order."""

    role: str  # 'distractor', 'target' or 'occluder'
    shape: str
    patch: Patch
    centre: np.ndarray  # (N, 2) frame pixels, camera shake included
    size: np.ndarray  # (N, 2) width, height in pixels
    contrast: np.ndarray  # (N,) temperature minus the background's mean temperature, counts
    structure: float  # amplitude of the internal temperature texture, counts

    def boxes(self) -> np.ndarray:
        return np.concatenate([self.centre - self.size / 2.0, self.size], axis=1)

    def box(self, index: int) -> np.ndarray:
        return np.concatenate([self.centre[index] - self.size[index] / 2.0, self.size[index]])


@dataclass(frozen=True)
class ScenePlan:
    length: int
    canvas_size: tuple[int, int]  # (width, height) of the background canvas the camera looks at
    camera: np.ndarray  # (N, 2) top-left of the view in the canvas, pan and shake included
    background: Patch
    background_temperature: float  # counts, mean
    background_contrast: float  # counts, std of the temperature field
    background_gradient: tuple[float, float]  # counts across the canvas width and height
    layers: tuple[Layer, ...]
    light_gain: np.ndarray  # (N,) visible brightness factor, 1 = daylight
    visible_noise: float
    thermal_noise: float
    fixed_pattern_noise: float
    optics_blur: float  # thermal pixels
    vignetting: float  # counts lost in the corners
    groundtruth: np.ndarray
    attributes: dict[str, np.ndarray]
    thermal_style: ThermalStyle | None = None  # the structured world's draws; None in the blurred world

    @property
    def target(self) -> Layer:
        return next(layer for layer in self.layers if layer.role == "target")


def _uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(np.exp(rng.uniform(np.log(bounds[0]), np.log(bounds[1]))))


def _smooth_curve(rng: np.random.Generator, n: int, knots: int) -> np.ndarray:
    """A smooth random curve over n frames with values in -1..1 (cosine-interpolated knots)."""
    values = rng.uniform(-1.0, 1.0, max(2, knots))
    t = np.linspace(0.0, len(values) - 1.0, n)
    index = np.minimum(t.astype(int), len(values) - 2)
    weight = (1.0 - np.cos(np.pi * (t - index))) / 2.0
    return values[index] * (1.0 - weight) + values[index + 1] * weight


def _stretch(rng: np.random.Generator, n: int, shares: tuple[float, float], ramp: int) -> np.ndarray:
    """Profile (n,) in 0..1 of an event lasting a random share of the sequence, with soft edges."""
    length = max(2, int(rng.uniform(*shares) * n))
    start = int(rng.integers(0, max(1, n - length // 2)))
    t = np.arange(n)
    rise = np.clip((t - start + 1) / ramp, 0.0, 1.0)
    fall = np.clip((start + length - t) / ramp, 0.0, 1.0)
    return np.minimum(rise, fall)


def _patch(rng: np.random.Generator, texture_count: int, texture: int | None = None) -> Patch:
    return Patch(
        texture=int(rng.integers(texture_count)) if texture is None else texture,
        centre=(float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.2, 0.8))),
        zoom=_log_uniform(rng, (1.0, 3.0)),
        flip=bool(rng.random() < 0.5),
        gains=tuple(float(g) for g in rng.uniform(0.8, 1.2, 3)),
    )


def _similar_patch(rng: np.random.Generator, patch: Patch) -> Patch:
    """A patch that looks like `patch`: same texture, nearby crop, slightly different colour."""
    return Patch(
        texture=patch.texture,
        centre=tuple(float(np.clip(c + rng.uniform(-0.1, 0.1), 0.1, 0.9)) for c in patch.centre),
        zoom=patch.zoom * float(rng.uniform(0.85, 1.15)),
        flip=patch.flip if rng.random() < 0.7 else not patch.flip,
        gains=tuple(float(g * rng.uniform(0.9, 1.1)) for g in patch.gains),
    )


def _target_size(rng: np.random.Generator, config: SyntheticConfig, n: int) -> np.ndarray:
    side = min(config.width, config.height) * _log_uniform(rng, config.target_size)
    aspect = _log_uniform(rng, config.aspect_ratio)
    w0, h0 = side * np.sqrt(aspect), side / np.sqrt(aspect)
    fit = min(1.0, 0.7 * config.width / w0, 0.7 * config.height / h0)
    scale = rng.uniform(0.0, config.scale_change_strength) * _smooth_curve(rng, n, int(rng.integers(2, 6)))
    stretch = rng.uniform(0.0, config.aspect_change_strength) * _smooth_curve(rng, n, int(rng.integers(2, 5)))
    scale -= scale[0]
    stretch -= stretch[0]
    w = np.clip(w0 * fit * np.exp(scale + stretch / 2.0), 6.0, 0.8 * config.width)
    h = np.clip(h0 * fit * np.exp(scale - stretch / 2.0), 6.0, 0.8 * config.height)
    return np.stack([w, h], axis=1)


def _target_path(rng: np.random.Generator, config: SyntheticConfig, size: np.ndarray) -> np.ndarray:
    """Centres (n, 2) of a target that drifts smoothly, bounces off the frame edges and sometimes jumps."""
    n = len(size)
    frame = np.array([config.width, config.height], dtype=np.float64)
    speed = config.speed * min(config.width, config.height) * rng.uniform(0.3, 1.7)
    jumps = np.zeros((n, 2))
    if rng.random() < config.fast_motion_probability:
        for t in rng.integers(1, n, int(rng.integers(1, 4))):
            angle = rng.uniform(0.0, 2.0 * np.pi)
            side = np.sqrt(size[t, 0] * size[t, 1])
            jumps[t] = np.array([np.cos(angle), np.sin(angle)]) * (rng.uniform(0.8, 2.0) * side + 10.0)
    accel = rng.normal(0.0, 0.35 * speed, (n, 2))
    low = size[0] / 2.0
    centre = np.empty((n, 2))
    centre[0] = low + rng.uniform(0.1, 0.9, 2) * np.maximum(frame - size[0], 1.0)
    velocity = rng.normal(0.0, speed, 2)
    for t in range(1, n):
        velocity = 0.92 * velocity + accel[t]
        point = centre[t - 1] + velocity + jumps[t]
        low, high = size[t] / 2.0, frame - size[t] / 2.0
        for axis in range(2):
            if low[axis] >= high[axis]:
                point[axis] = frame[axis] / 2.0
            elif point[axis] < low[axis]:
                point[axis] = min(2.0 * low[axis] - point[axis], high[axis])
                velocity[axis] = abs(velocity[axis])
            elif point[axis] > high[axis]:
                point[axis] = max(2.0 * high[axis] - point[axis], low[axis])
                velocity[axis] = -abs(velocity[axis])
        centre[t] = point
    return centre


def _crossing_path(
    rng: np.random.Generator, target: np.ndarray, target_size: np.ndarray, own_size: np.ndarray,
    duration: float, t_mid: int, offset_share: float,
) -> np.ndarray:
    """Constant-velocity centres (n, 2) of an object that passes over the target around frame t_mid."""
    n = len(target)
    angle = rng.uniform(0.0, 2.0 * np.pi)
    direction = np.array([np.cos(angle), np.sin(angle)])
    across = np.array([-direction[1], direction[0]])
    extent = np.abs(direction) @ (own_size + target_size[t_mid])
    first, last = max(0, int(t_mid - duration / 2)), min(n - 1, int(t_mid + duration / 2))
    drift = (target[last] - target[first]) / max(1, last - first)
    velocity = drift + direction * extent / duration
    sideways = offset_share * (np.abs(across) @ (own_size + target_size[t_mid])) / 2.0
    t = np.arange(n)[:, None] - t_mid
    return target[t_mid] + across * sideways + velocity * t


def _covered_share(target: Layer, occluders: list[Layer]) -> np.ndarray:
    """Share (n,) of the target's silhouette hidden by the occluders, from a grid over its box."""
    u, v = grid_mask(target.shape, _COVERAGE_GRID)
    boxes = target.boxes()
    covered = np.zeros((len(boxes), len(u)), dtype=bool)
    for occluder in occluders:
        corner = occluder.centre - occluder.size / 2.0
        overlap = np.all((corner < boxes[:, :2] + boxes[:, 2:]) & (corner + occluder.size > boxes[:, :2]), axis=1)
        frames = np.flatnonzero(overlap)
        if frames.size == 0:
            continue
        xs = boxes[frames, :1] + u[None, :] * boxes[frames, 2:3]
        ys = boxes[frames, 1:2] + v[None, :] * boxes[frames, 3:4]
        ou = (xs - corner[frames, :1]) / occluder.size[frames, :1]
        ov = (ys - corner[frames, 1:]) / occluder.size[frames, 1:]
        covered[frames] |= unit_mask(occluder.shape, ou, ov)
    return covered.mean(axis=1)


def _clip_boxes(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Boxes clipped to the frame, keeping at least one pixel of each inside (as boxes.clip_to_image)."""
    x1 = np.clip(boxes[:, 0], 0.0, width - 1.0)
    y1 = np.clip(boxes[:, 1], 0.0, height - 1.0)
    x2 = np.clip(boxes[:, 0] + boxes[:, 2], x1 + 1.0, float(width))
    y2 = np.clip(boxes[:, 1] + boxes[:, 3], y1 + 1.0, float(height))
    return np.stack([x1, y1, x2 - x1, y2 - y1], axis=1)


def _near(a: np.ndarray, b: np.ndarray, sides: np.ndarray) -> np.ndarray:
    return np.all(np.abs(a - b) < DISTRACTOR_SIDES * sides[:, None], axis=1)


def plan_scene(seed: int, config: SyntheticConfig, texture_count: int) -> ScenePlan:
    """Draw the whole sequence from `seed`: the same (seed, config, texture_count) gives the same plan."""
    rng = np.random.default_rng(seed)
    n = config.length
    frame = np.array([config.width, config.height], dtype=np.float64)

    # Camera: a slow pan, plus a stretch of per-frame jitter (shake) that moves the whole view.
    pan_velocity = rng.uniform(-1.0, 1.0, 2) * config.camera_pan_speed
    wobble = np.stack([_smooth_curve(rng, n, 4), _smooth_curve(rng, n, 4)], axis=1) * config.camera_pan_speed * 0.5
    pan = np.cumsum(pan_velocity + wobble, axis=0)
    shake = np.zeros((n, 2))
    shaking = np.zeros(n, dtype=bool)
    if rng.random() < config.camera_shake_probability:
        profile = _stretch(rng, n, (0.2, 0.6), ramp=1)
        amplitude = config.shake_amplitude * rng.uniform(0.5, 1.5)
        shake = rng.normal(0.0, amplitude, (n, 2)) * profile[:, None]
        shaking = profile > 0.0
    camera = pan - shake
    margin = 4.0
    camera -= camera.min(axis=0) - margin
    canvas = np.ceil(frame + camera.max(axis=0) + margin).astype(int)

    # Target.
    size = _target_size(rng, config, n)
    path = _target_path(rng, config, size)
    tall = size[0, 0] < 0.8 * size[0, 1]  # the person silhouette only for upright targets
    shape = str(rng.choice(["ellipse", "rounded", "person"] if tall else ["ellipse", "rounded"]))
    structured = config.thermal_world == "structured"
    style_rng = np.random.default_rng([seed, 3])  # the structured world's own stream
    if structured:
        shape = target_shape(style_rng, size[0, 0], size[0, 1])
    cold = rng.random() < config.cold_target_probability
    contrast0 = _uniform(rng, config.target_contrast) * (-1.0 if cold else 1.0)
    contrast = np.full(n, contrast0)
    if rng.random() < config.thermal_crossover_probability:
        profile = _stretch(rng, n, (0.2, 0.5), ramp=10)
        contrast = contrast0 * (1.0 - (1.0 - rng.uniform(-0.1, 0.1)) * profile)
    target_patch = _patch(rng, texture_count)
    target = Layer("target", shape, target_patch, path + shake, size, contrast, _uniform(rng, (15.0, 80.0)))
    sides = np.sqrt(size[:, 0] * size[:, 1])

    # Occluders pass in front of the target; an event that would hide it in frame 0 is dropped.
    occluders: list[Layer] = []
    if rng.random() < config.occlusion_probability:
        for _ in range(int(rng.integers(1, 3))):
            full = rng.random() < config.full_occlusion_share
            duration = rng.uniform(10.0, 36.0)
            t_mid = int(rng.integers(min(n - 1, int(max(0.2 * n, duration / 2 + 2))), n))
            factor = rng.uniform(1.3, 2.2, 2) if full else rng.uniform(0.4, 1.0, 2)
            own = size[t_mid] * factor + (6.0 if full else 0.0)
            offset = 0.0 if full else rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 0.6)
            centre = _crossing_path(rng, path, size, own, duration, t_mid, offset) + shake
            occluder = Layer(
                "occluder", str(rng.choice(["rectangle", "rectangle", "rounded", "ellipse"])),
                _patch(rng, texture_count), centre, np.tile(own, (n, 1)),
                np.full(n, rng.uniform(-300.0, 300.0)), _uniform(rng, (10.0, 60.0)),
            )
            if _covered_share(target, [occluder])[0] == 0.0:
                occluders.append(occluder)
    covered = _covered_share(target, occluders)

    # A distractor looks and feels like the target; it crosses it or hovers around it, behind it.
    distractors: list[Layer] = []
    if rng.random() < config.distractor_probability:
        own_size = size[0] * rng.uniform(0.75, 1.3) * np.exp(0.2 * _smooth_curve(rng, n, 3))[:, None]
        if rng.random() < 0.5:
            duration = rng.uniform(15.0, 50.0)
            t_mid = int(rng.integers(min(n - 1, int(max(0.2 * n, duration / 2 + 2))), n))
            centre = _crossing_path(rng, path, size, own_size[t_mid], duration, t_mid, rng.uniform(-0.5, 0.5))
        else:
            radius = sides[:, None] * rng.uniform(1.3, 2.5)
            angle = rng.uniform(0.0, 2.0 * np.pi) + 2.0 * _smooth_curve(rng, n, 4)
            centre = path + radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
        distractors.append(Layer(
            "distractor", shape, _similar_patch(rng, target_patch), centre + shake, own_size,
            np.full(n, contrast0 * rng.uniform(0.8, 1.2)), target.structure * rng.uniform(0.8, 1.2),
        ))

    light_gain = np.ones(n)
    if rng.random() < config.low_light_probability:
        profile = _stretch(rng, n, (0.25, 0.7), ramp=8)
        light_gain = 1.0 - (1.0 - _uniform(rng, config.low_light_gain)) * profile

    background = _patch(rng, texture_count)
    background_temperature = _uniform(rng, config.background_temperature)
    background_contrast = _uniform(rng, config.background_contrast)
    gradient = tuple(float(g) for g in rng.uniform(-150.0, 150.0, 2))
    visible_noise = _uniform(rng, config.visible_noise)
    thermal_noise = _uniform(rng, config.thermal_noise)
    fixed_pattern = float(rng.uniform(1.0, 6.0))
    optics_blur = float(rng.uniform(0.6, 1.6))
    vignetting = float(rng.uniform(40.0, 200.0)) if rng.random() < config.vignetting_probability else 0.0

    groundtruth = _clip_boxes(target.boxes(), config.width, config.height)
    centre = target.centre
    step = np.r_[0.0, np.linalg.norm(np.diff(centre, axis=0), axis=1)]
    previous_sides = np.r_[sides[0], sides[:-1]]
    distractor_near = np.zeros(n, dtype=bool)
    for distractor in distractors:
        inside = np.all((distractor.centre >= 0.0) & (distractor.centre < frame), axis=1)
        distractor_near |= inside & _near(distractor.centre, centre, sides)
    attributes = {
        "occlusion": covered >= OCCLUDED_SHARE,
        "full_occlusion": covered >= FULLY_OCCLUDED_SHARE,
        "low_light": light_gain < LOW_LIGHT_GAIN,
        "thermal_crossover": np.abs(contrast) < CROSSOVER_SHARE * abs(contrast0),
        "fast_motion": step > np.maximum(FAST_MOTION_MIN_PIXELS, FAST_MOTION_SIDES * previous_sides),
        "scale_change": np.abs(np.log(sides / sides[0])) > np.log(SCALE_CHANGE_RATIO),
        "distractor": distractor_near,
        "camera_shake": shaking,
    }
    layers = tuple(distractors) + (target,) + tuple(occluders)
    return ScenePlan(
        length=n,
        canvas_size=(int(canvas[0]), int(canvas[1])),
        camera=camera,
        background=background,
        background_temperature=background_temperature,
        background_contrast=background_contrast,
        background_gradient=gradient,
        layers=layers,
        light_gain=light_gain,
        visible_noise=visible_noise,
        thermal_noise=thermal_noise,
        fixed_pattern_noise=fixed_pattern,
        optics_blur=optics_blur,
        vignetting=vignetting,
        groundtruth=groundtruth,
        attributes=attributes,
        thermal_style=draw_style(style_rng, n, layers) if structured else None,
    )
