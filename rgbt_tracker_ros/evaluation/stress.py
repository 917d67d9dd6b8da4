"""Stress variants of a sequence: a camera that sends frames without information, a misregistered
thermal camera, a lower frame rate. Lazy wrappers (pure numpy): a frame is altered when it is read.

Spec syntax (one variant; `eval --stress` takes several, comma separated):
- `blank-CAM:A-B`      black frames (zeros) over the span
- `saturated-CAM:A-B`  frames at the top of their range (255 / 65535 / the frame's maximum)
- `frozen-CAM:A-B`     the frame at the span's start repeated over the span
- `noise-CAM:A-B`      noise only: per pixel, Gaussian with the frame's mean and spread, no content
- `shift-CAM:N`        the camera's image moved N of its pixels right (negative: left), edges
                       replicated; boxes given in that camera's pixels move with it
- `every:K`            every K-th frame (ground truth and attributes subsampled alike)
- `none`               the sequence as it is (to run it beside its variants)
CAM is `thermal` or `visible`; A-B are fractions of the sequence, 0 <= A < B <= 1, covering frames
round(A*N) .. round(B*N)-1.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.sequence import FrameSource, Sequence

CAMERAS = ("thermal", "visible")
SPAN_KINDS = ("blank", "saturated", "frozen", "noise")
SHIFT = "shift"
EVERY = "every"
NONE = "none"
EXAMPLES = "e.g. blank-thermal:0.25-0.65, frozen-visible:0.3-0.5, shift-thermal:8, every:3"

_SPAN = re.compile(r"^(?P<kind>[a-z]+)-(?P<camera>[a-z]+):(?P<start>[0-9.]+)-(?P<stop>[0-9.]+)$")
_SHIFT = re.compile(r"^shift-(?P<camera>[a-z]+):(?P<pixels>[+-]?[0-9]+)$")
_EVERY = re.compile(r"^every:(?P<step>[0-9]+)$")


@dataclass(frozen=True)
class StressSpec:
    """One stress variant; `label` is its canonical text, which the stressed sequence's name ends with."""

    kind: str                     # blank, saturated, frozen, noise, shift, every or none
    camera: str | None = None     # thermal or visible (span kinds and shift)
    start: float | None = None    # span start, fraction of the sequence
    stop: float | None = None     # span end (exclusive), fraction of the sequence
    pixels: int | None = None     # shift
    step: int | None = None       # every

    @property
    def label(self) -> str:
        if self.kind in SPAN_KINDS:
            return f"{self.kind}-{self.camera}:{self.start:g}-{self.stop:g}"
        if self.kind == SHIFT:
            return f"{SHIFT}-{self.camera}:{self.pixels}"
        if self.kind == EVERY:
            return f"{EVERY}:{self.step}"
        return NONE

    def span(self, length: int) -> range:
        """The frames a span kind alters in a sequence of `length` frames."""
        return range(int(round(self.start * length)), int(round(self.stop * length)))


def _bad(text: str, why: str) -> InputError:
    return InputError(f"bad stress spec {text!r}: {why} ({EXAMPLES})")


def _camera(text: str, camera: str) -> str:
    if camera not in CAMERAS:
        raise _bad(text, f"camera must be {' or '.join(CAMERAS)}, got {camera!r}")
    return camera


def parse_stress(text: str) -> StressSpec:
    """One spec (see the module docstring); a bad one is an InputError saying what is wrong."""
    spec = text.strip().lower()
    if spec == NONE:
        return StressSpec(NONE)
    if match := _EVERY.match(spec):
        step = int(match["step"])
        if step < 1:
            raise _bad(text, f"every:K needs K >= 1, got {step}")
        return StressSpec(EVERY, step=step)
    if match := _SHIFT.match(spec):
        return StressSpec(SHIFT, camera=_camera(text, match["camera"]), pixels=int(match["pixels"]))
    if match := _SPAN.match(spec):
        kind = match["kind"]
        if kind not in SPAN_KINDS:
            raise _bad(text, f"unknown kind {kind!r}; known: {', '.join(SPAN_KINDS)}, {SHIFT}, {EVERY}, {NONE}")
        camera = _camera(text, match["camera"])
        try:
            start, stop = float(match["start"]), float(match["stop"])
        except ValueError:
            raise _bad(text, "the span must be two fractions A-B") from None
        if not 0.0 <= start < stop <= 1.0:
            raise _bad(text, f"the span needs 0 <= A < B <= 1, got {start:g}-{stop:g}")
        return StressSpec(kind, camera=camera, start=start, stop=stop)
    kind = spec.split("-")[0].split(":")[0]
    if kind in (*SPAN_KINDS, SHIFT, EVERY):
        raise _bad(text, f"{kind} takes " + {SHIFT: "-CAM:N", EVERY: ":K"}.get(kind, "-CAM:A-B"))
    raise _bad(text, f"unknown kind {kind!r}; known: {', '.join(SPAN_KINDS)}, {SHIFT}, {EVERY}, {NONE}")


def parse_stress_list(texts: list[str]) -> list[StressSpec]:
    """`--stress` values (each may be a comma list) -> specs, in order, without repeats."""
    specs: list[StressSpec] = []
    for text in texts:
        for part in text.split(","):
            if part.strip() and (spec := parse_stress(part)) not in specs:
                specs.append(spec)
    return specs


class _MappedFrames:
    """A camera whose frames in `frames` are replaced by alter(index, original frame)."""

    def __init__(self, source: FrameSource, frames: range, alter: Callable[[int, np.ndarray], np.ndarray]):
        self.source = source
        self.frames = frames
        self.alter = alter

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> np.ndarray:
        index = _index(index, len(self))
        frame = self.source[index]
        return self.alter(index, frame) if index in self.frames else frame


class _FrozenFrames:
    """A camera that repeats the frame at the span's start over the span."""

    def __init__(self, source: FrameSource, frames: range):
        self.source = source
        self.frames = frames

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> np.ndarray:
        index = _index(index, len(self))
        return self.source[self.frames.start if index in self.frames else index]


class _EveryFrames:
    """Every `step`-th frame of a camera."""

    def __init__(self, source: FrameSource, step: int):
        self.source = source
        self.step = step

    def __len__(self) -> int:
        return math.ceil(len(self.source) / self.step)

    def __getitem__(self, index: int) -> np.ndarray:
        return self.source[_index(index, len(self)) * self.step]


def _index(index: int, length: int) -> int:
    index = int(index)
    if index < 0:
        index += length
    if not 0 <= index < length:
        raise IndexError(f"frame {index} outside 0..{length - 1}")
    return index


def _top_of_range(frame: np.ndarray) -> float:
    if np.issubdtype(frame.dtype, np.integer):
        return float(np.iinfo(frame.dtype).max)
    finite = frame[np.isfinite(frame)]
    return float(finite.max()) if finite.size else 0.0


def _blank(_: int, frame: np.ndarray) -> np.ndarray:
    return np.zeros_like(frame)


def _saturated(_: int, frame: np.ndarray) -> np.ndarray:
    return np.full_like(frame, _top_of_range(frame))


def _noise(index: int, frame: np.ndarray) -> np.ndarray:
    """Gaussian noise with the frame's mean and spread, the same for the same frame index."""
    values = frame.astype(np.float64)
    finite = values[np.isfinite(values)]
    mean, spread = (float(finite.mean()), float(finite.std())) if finite.size else (0.0, 1.0)
    noise = np.random.default_rng(index).normal(mean, max(spread, 1.0), frame.shape)
    if np.issubdtype(frame.dtype, np.integer):
        info = np.iinfo(frame.dtype)
        noise = np.clip(np.rint(noise), info.min, info.max)
    return noise.astype(frame.dtype)


def shift_right(frame: np.ndarray, pixels: int) -> np.ndarray:
    """The image moved `pixels` to the right (left when negative); the uncovered columns repeat the
    edge column, so the shift adds no uniform border."""
    if pixels == 0:
        return frame
    width = frame.shape[1]
    n = max(-width, min(width, pixels))
    out = np.empty_like(frame)
    if n > 0:
        out[:, n:] = frame[:, :width - n]
        out[:, :n] = frame[:, :1]
    else:
        out[:, :width + n] = frame[:, -n:]
        out[:, width + n:] = frame[:, -1:]
    return out


_ALTER = {"blank": _blank, "saturated": _saturated, "noise": _noise}


def apply_stress(sequence: Sequence, spec: StressSpec) -> Sequence:
    """The stressed sequence (named `<name>@<label>`); frames are altered lazily when read. A camera
    the sequence does not have is an InputError."""
    if spec.kind == NONE:
        return sequence
    name = f"{sequence.name}@{spec.label}"
    if spec.kind == EVERY:
        step = spec.step
        return dataclasses.replace(
            sequence,
            name=name,
            visible=None if sequence.visible is None else _EveryFrames(sequence.visible, step),
            thermal=None if sequence.thermal is None else _EveryFrames(sequence.thermal, step),
            groundtruth=sequence.groundtruth[::step].copy(),
            groundtruth_thermal=None if sequence.groundtruth_thermal is None
            else np.asarray(sequence.groundtruth_thermal)[::step].copy(),
            attributes={key: np.asarray(value)[::step].copy() for key, value in sequence.attributes.items()},
        )
    source = getattr(sequence, spec.camera)
    if source is None:
        raise InputError(f"stress {spec.label}: sequence {sequence.name} has no {spec.camera} camera "
                         f"(it has {sequence.modalities})")
    if spec.kind == SHIFT:
        frames: FrameSource = _MappedFrames(source, range(len(source)),
                                            lambda _, frame: shift_right(frame, spec.pixels))
        changes: dict = {spec.camera: frames}
        # groundtruth is in visible pixels (thermal pixels without a visible camera).
        if spec.camera == "visible" or sequence.visible is None:
            changes["groundtruth"] = _shifted_boxes(sequence.groundtruth, spec.pixels)
        if spec.camera == "thermal" and sequence.groundtruth_thermal is not None:
            changes["groundtruth_thermal"] = _shifted_boxes(sequence.groundtruth_thermal, spec.pixels)
        return dataclasses.replace(sequence, name=name, **changes)
    span = spec.span(len(sequence))
    frames = _FrozenFrames(source, span) if spec.kind == "frozen" else _MappedFrames(source, span, _ALTER[spec.kind])
    return dataclasses.replace(sequence, name=name, **{spec.camera: frames})


def _shifted_boxes(boxes: np.ndarray, pixels: int) -> np.ndarray:
    out = np.array(boxes, dtype=np.float64, copy=True)
    out[:, 0] += pixels
    return out
