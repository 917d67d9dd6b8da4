"""The side of the search window: the box's context side, widened while the target is unsure, and
floored at a share of the initial window so it cannot follow a shrinking box into a collapse (each
smaller box would otherwise shrink the window, and the next prediction with it)."""

from __future__ import annotations

from rgbt_tracker_ros.common.boxes import crop_side


def search_side(box, search_factor: float, growth: float, initial_side: float, floor: float) -> float:
    """search_factor * sqrt(w * h) of `box`, at least floor * initial_side, times growth."""
    return max(crop_side(box, search_factor), floor * initial_side) * growth
