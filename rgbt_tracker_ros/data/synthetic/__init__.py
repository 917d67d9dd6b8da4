"""Synthetic RGB-T tracking sequences rendered from natural-image textures (training data on demand)."""

from rgbt_tracker_ros.data.synthetic.config import SyntheticConfig
from rgbt_tracker_ros.data.synthetic.generator import (
    SPLIT_SEED_START,
    RenderedFrames,
    SyntheticScene,
    make_sequence,
    split_seeds,
    synthetic_sequences,
)
from rgbt_tracker_ros.data.synthetic.plan import ATTRIBUTE_NAMES

__all__ = [
    "ATTRIBUTE_NAMES",
    "SPLIT_SEED_START",
    "RenderedFrames",
    "SyntheticConfig",
    "SyntheticScene",
    "make_sequence",
    "split_seeds",
    "synthetic_sequences",
]
