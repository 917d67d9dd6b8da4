"""Image checks and the square crops the network sees, shared by training and runtime.

Conventions: visible images are RGB (uint8, HxWx3) or grey (uint8, HxW); thermal images are one
channel of uint8 (display counts), uint16 (radiometric counts) or float (temperatures). A crop is a
square window in visible-image pixels; the thermal image is brought into that window through the
thermal-to-visible homography, so boxes always live in visible-image pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from rgbt_tracker_ros.common.boxes import crop_side
from rgbt_tracker_ros.common.errors import InputError

THERMAL_DTYPES = (np.uint8, np.uint16, np.float32, np.float64)
NO_FINITE_TEMPERATURE = "thermal image holds no finite temperature (all NaN or infinite)"
# Pixels looked at first when asking whether a float frame holds a finite value (a grid); only a
# frame without one there is searched whole.
_FINITE_PROBE = 4096
# Pixels sampled per frame to estimate the thermal stretch: enough for stable percentiles, cheap.
_STRETCH_SAMPLES = 16384


def as_visible_rgb(image) -> np.ndarray:
    """Check a visible image and return it as contiguous uint8 RGB (HxWx3)."""
    if not isinstance(image, np.ndarray):
        raise InputError(f"visible image must be a numpy array, got {type(image).__name__}")
    if image.size == 0 or image.ndim not in (2, 3) or min(image.shape[:2]) < 8:
        raise InputError(f"visible image has unusable shape {image.shape}")
    if image.dtype != np.uint8:
        raise InputError(f"visible image must be uint8, got {image.dtype}")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    channels = image.shape[2]
    if channels == 1:
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2RGB)
    if channels == 3:
        return np.ascontiguousarray(image)
    if channels == 4:
        return cv2.cvtColor(image, cv2.COLOR_RGBA2RGB)
    raise InputError(f"visible image has {channels} channels; expected 1, 3 or 4")


def as_thermal(image) -> np.ndarray:
    """Check a thermal image and return it as a 2-D array (uint8, uint16 or float32).

    A colour-mapped 3-channel thermal image is read as grey.
    """
    if not isinstance(image, np.ndarray):
        raise InputError(f"thermal image must be a numpy array, got {type(image).__name__}")
    if image.size == 0 or image.ndim not in (2, 3) or min(image.shape[:2]) < 8:
        raise InputError(f"thermal image has unusable shape {image.shape}")
    if image.dtype not in THERMAL_DTYPES:
        raise InputError(f"thermal image dtype {image.dtype} is not one of uint8, uint16, float32, float64")
    if image.ndim == 3:
        if image.shape[2] == 1:
            image = image[:, :, 0]
        elif image.shape[2] == 3 and image.dtype == np.uint8:
            image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        else:
            raise InputError(f"thermal image must have one channel (or be 8-bit colour-mapped), got {image.shape}")
    if image.dtype == np.float64:
        image = image.astype(np.float32)
    if not holds_finite_value(image):
        raise InputError(NO_FINITE_TEMPERATURE)
    return np.ascontiguousarray(image)


def holds_finite_value(image: np.ndarray) -> bool:
    """The one rule for thermal input: a frame is usable as input unless not one of its pixels is a
    finite number (integer frames always are). The node's message conversion, these input checks,
    the frame check and the display stretch all go by it; how much of a frame is finite is the
    frame check's business (tracking/frame_check.py: mostly non-finite = no information)."""
    if image.dtype.kind != "f":
        return True
    step = max(1, int(np.sqrt(image.shape[0] * image.shape[1] / _FINITE_PROBE)))
    return bool(np.isfinite(image[::step, ::step]).any() or np.isfinite(image).any())


def thermal_stretch(thermal: np.ndarray, low_pct: float = 1.0, high_pct: float = 99.0) -> tuple[float, float]:
    """Robust per-frame display range (lo, hi) of a thermal image from a subsample of its pixels.

    8-bit thermal is already display counts and keeps (0, 255).
    """
    if thermal.dtype == np.uint8:
        return 0.0, 255.0
    step = max(1, int(np.sqrt(thermal.size / _STRETCH_SAMPLES)))
    sample = thermal[::step, ::step].ravel()
    if sample.dtype.kind == "f":
        sample = sample[np.isfinite(sample)]
        if sample.size == 0:  # the few finite pixels lie between the samples: take them all
            sample = thermal[np.isfinite(thermal)]
        if sample.size == 0:
            raise InputError(NO_FINITE_TEMPERATURE)
    lo, hi = np.percentile(sample, (low_pct, high_pct))
    if not hi > lo:
        hi = lo + 1.0
    return float(lo), float(hi)


def apply_stretch(crop: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Map thermal values in [lo, hi] to uint8 0..255 (NaN becomes the cold end)."""
    if crop.dtype == np.uint8 and lo == 0.0 and hi == 255.0:
        return crop
    out = (crop.astype(np.float32) - lo) * (255.0 / (hi - lo))
    np.nan_to_num(out, copy=False, nan=0.0, posinf=255.0, neginf=0.0)
    return np.clip(out, 0.0, 255.0).astype(np.uint8)


@dataclass(frozen=True)
class CropWindow:
    """A square window of side `side` visible-image pixels centred at (cx, cy), resampled to out_size."""

    cx: float
    cy: float
    side: float
    out_size: int

    @classmethod
    def around(cls, box, context_factor: float, out_size: int) -> "CropWindow":
        x, y, w, h = box
        return cls(x + w / 2.0, y + h / 2.0, crop_side(box, context_factor), out_size)

    @property
    def scale(self) -> float:
        """Crop pixels per image pixel."""
        return self.out_size / self.side

    def affine(self) -> np.ndarray:
        """2x3 matrix taking image pixel coordinates to crop pixel coordinates."""
        s = self.scale
        return np.array(
            [[s, 0.0, self.out_size / 2.0 - s * self.cx], [0.0, s, self.out_size / 2.0 - s * self.cy]],
            dtype=np.float64,
        )

    def box_to_crop(self, box) -> np.ndarray:
        x, y, w, h = box
        s = self.scale
        return np.array(
            [(x - self.cx) * s + self.out_size / 2.0, (y - self.cy) * s + self.out_size / 2.0, w * s, h * s]
        )

    def box_to_image(self, box) -> np.ndarray:
        x, y, w, h = box
        s = self.scale
        return np.array(
            [(x - self.out_size / 2.0) / s + self.cx, (y - self.out_size / 2.0) / s + self.cy, w / s, h / s]
        )


def crop_visible(rgb: np.ndarray, window: CropWindow) -> np.ndarray:
    """The window of an RGB image as out_size x out_size x 3 uint8 (edges replicated)."""
    return cv2.warpAffine(
        rgb, window.affine(), (window.out_size, window.out_size),
        flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE,
    )


def crop_thermal(
    thermal: np.ndarray,
    window: CropWindow,
    stretch: tuple[float, float],
    thermal_to_visible: np.ndarray | None = None,
) -> np.ndarray:
    """The window (in visible pixels) of a thermal image as out_size x out_size uint8 display counts.

    thermal_to_visible maps thermal pixel coordinates to visible pixel coordinates (3x3); None means
    the two images share pixel coordinates.
    """
    size = (window.out_size, window.out_size)
    affine = window.affine()
    if thermal_to_visible is None:
        raw = cv2.warpAffine(thermal, affine, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    else:
        full = np.vstack([affine, [0.0, 0.0, 1.0]]) @ thermal_to_visible
        if np.allclose(full[2], [0.0, 0.0, 1.0]):
            raw = cv2.warpAffine(thermal, full[:2], size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        else:
            raw = cv2.warpPerspective(thermal, full, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return apply_stretch(raw, *stretch)


def crop_pair(
    visible: np.ndarray | None,
    thermal: np.ndarray | None,
    window: CropWindow,
    thermal_to_visible: np.ndarray | None = None,
    grey_out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(visible crop SxSx3 uint8 RGB, thermal crop SxS uint8) of one window, with a missing modality
    substituted as the network was trained: no thermal image -> the grey visible crop; no visible
    image -> the thermal crop replicated to three channels. Either image may be None, not both."""
    if visible is None and thermal is None:
        raise InputError("no image given: pass a visible image, a thermal image or both")
    crop_t = None if thermal is None else crop_thermal(thermal, window, thermal_stretch(thermal), thermal_to_visible)
    crop_v = None if visible is None else crop_visible(visible, window)
    return substitute_missing(crop_v, crop_t, grey_out)


def substitute_missing(crop_v: np.ndarray | None, crop_t: np.ndarray | None,
                       grey_out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A pair of crops with the missing one made from the other, as the network was trained: the
    thermal crop as the grey visible crop, the visible crop as the thermal crop in three channels."""
    if crop_t is not None:
        return (np.repeat(crop_t[:, :, None], 3, axis=2) if crop_v is None else crop_v), crop_t
    if crop_v is None:
        raise InputError("no crop given: a visible crop, a thermal crop or both")
    grey = grey_out if grey_out is not None and grey_out.shape == crop_v.shape[:2] else None
    return crop_v, cv2.cvtColor(crop_v, cv2.COLOR_RGB2GRAY, dst=grey)


def to_network_input(crop: np.ndarray) -> np.ndarray:
    """HxWxC or HxW uint8 crop -> 1xCxHxW float32 in 0..255 (normalisation happens inside the model)."""
    if crop.ndim == 2:
        crop = crop[:, :, None]
    return np.ascontiguousarray(crop.transpose(2, 0, 1)[None], dtype=np.float32)
