"""The `~/debug_image` picture: the visible frame with the box, score and state, and a thermal inset."""

from __future__ import annotations

import cv2
import numpy as np

from rgbt_tracker_ros.ros import state as state_codes
from rgbt_tracker_ros.tracking.preprocessing import apply_stretch, thermal_stretch

_COLOURS = {  # RGB
    state_codes.State.TRACKING: (40, 220, 60),
    state_codes.State.UNCERTAIN: (250, 200, 0),
    state_codes.State.LOST: (240, 40, 40),
    state_codes.State.IDLE: (160, 160, 160),
}
INSET_FRACTION = 0.3  # inset width as a fraction of the frame width


def thermal_display(thermal: np.ndarray) -> np.ndarray:
    """A thermal frame as an RGB false-colour picture (robust per-frame stretch)."""
    grey = apply_stretch(thermal, *thermal_stretch(thermal))
    return cv2.cvtColor(cv2.applyColorMap(grey, cv2.COLORMAP_INFERNO), cv2.COLOR_BGR2RGB)


def thermal_in_visible(thermal: np.ndarray, homography: np.ndarray | None, size: tuple[int, int]) -> np.ndarray:
    """The false-colour thermal frame in visible pixels (`size`), through `homography` (None: the
    thermal image already has the visible pixels)."""
    display = thermal_display(thermal)
    return display if homography is None else cv2.warpPerspective(display, homography, size)


def render(visible: np.ndarray | None, thermal: np.ndarray | None, box, state: int, score: float) -> np.ndarray:
    """RGB uint8 picture. Without a visible frame the thermal one is the background (boxes are in the
    pixels the tracker reports, which the caller has already made match the background)."""
    if visible is not None:
        canvas = visible.copy()
    else:
        canvas = np.ascontiguousarray(thermal_display(thermal))
    height, width = canvas.shape[:2]
    colour = _COLOURS[state_codes.State(state & state_codes.STATE_MASK)]
    if box is not None:
        x, y, w, h = (int(round(v)) for v in box)
        cv2.rectangle(canvas, (x, y), (x + w, y + h), colour, 2)
    if visible is not None and thermal is not None:
        inset = thermal_display(thermal)
        iw = max(8, int(width * INSET_FRACTION))
        ih = max(8, int(round(inset.shape[0] * iw / inset.shape[1])))
        if ih < height and iw < width:
            inset = cv2.resize(inset, (iw, ih), interpolation=cv2.INTER_AREA)
            x0, y0 = _free_corner((width, height), (iw, ih), box)
            canvas[y0:y0 + ih, x0:x0 + iw] = inset
            cv2.rectangle(canvas, (x0, y0), (x0 + iw - 1, y0 + ih - 1), (255, 255, 255), 1)
    text = f"{state_codes.describe(state)}  {score:.2f}"
    scale = max(0.35, width / 1280.0)
    thickness = 1 if width < 800 else 2
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    cv2.rectangle(canvas, (0, 0), (tw + 8, th + base + 8), (0, 0, 0), -1)
    cv2.putText(canvas, text, (4, th + 4), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv2.LINE_AA)
    return canvas


def _free_corner(size, inset, box) -> tuple[int, int]:
    """Top-left of the inset: the lower right corner, or another bottom/right corner if the box is there."""
    (width, height), (iw, ih) = size, inset
    corners = [(width - iw, height - ih), (0, height - ih), (width - iw, 0)]
    if box is None:
        return corners[0]
    x, y, w, h = box
    for cx, cy in corners:
        if x + w <= cx or x >= cx + iw or y + h <= cy or y >= cy + ih:
            return cx, cy
    return corners[0]
