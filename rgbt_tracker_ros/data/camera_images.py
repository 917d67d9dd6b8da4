"""How a Sequence's frames go out as camera images (the player's topics, a bag's messages).

Visible: rgb8 (mono8 for grey sequences). Thermal: mono16 counts, 8-bit sources scaled by 257 so
that 0..255 spans 0..65535; 32FC1 for float temperatures; optionally resized to another camera
resolution first. Sizes are written WIDTHxHEIGHT on command lines.
"""

from __future__ import annotations

import cv2
import numpy as np

from rgbt_tracker_ros.common.errors import InputError


def visible_payload(image: np.ndarray) -> tuple[np.ndarray, str]:
    """(pixels, encoding) of a visible frame."""
    if image.dtype != np.uint8:
        raise InputError(f"visible frames must be uint8, got {image.dtype}")
    if image.ndim == 2:
        return image, "mono8"
    return image, "rgb8"


def thermal_payload(image: np.ndarray, size: tuple[int, int] | None = None) -> tuple[np.ndarray, str]:
    """(pixels, encoding) of a thermal frame, resized to `size` (width, height) if given."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if size is not None and (image.shape[1], image.shape[0]) != tuple(size):
        shrinking = size[0] < image.shape[1]
        image = cv2.resize(image, tuple(size), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    if image.dtype == np.uint8:
        return image.astype(np.uint16) * 257, "mono16"
    if image.dtype == np.uint16:
        return image, "mono16"
    if image.dtype in (np.float32, np.float64):
        return image.astype(np.float32), "32FC1"
    raise InputError(f"thermal frames of dtype {image.dtype} cannot be published")


def parse_size(text: str) -> tuple[int, int]:
    """'640x512' -> (640, 512)."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InputError(f"size must look like WIDTHxHEIGHT (e.g. 640x512), got {text!r}") from None
    if width < 8 or height < 8:
        raise InputError(f"size must be at least 8x8, got {text}")
    return width, height
