"""A network backend whose maps the test writes: the post-processing (size prior, search window,
template update) is then tested on hand-made score and size maps, not on what a network learned."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rgbt_tracker_ros.tracking.model_bundle import load_bundle

from helpers.oracle_model import write_oracle_model


class ScriptedBackend:
    """The oracle model's geometry (Z 64, S 128, 16x16 cells, search factor 4) with scripted outputs.

    Each search() returns `score` (16x16, default: one peak of `peak` at the centre cell), `size`
    ((2, 16, 16) crop fractions; default: `size_fraction` everywhere) and zero offsets, so the
    centre cell puts the box at the crop centre.
    template() returns features that encode the mean of the thermal template crop, so a template
    taken from a different frame differs from the anchor. Every search's template_features is kept.
    """

    provider = "scripted"

    def __init__(self, folder: Path, peak: float = 0.9, size_fraction: float = 0.25):
        self.bundle = load_bundle(write_oracle_model(folder))
        h, w = self.bundle.feature_size
        self.score = np.zeros((h, w), np.float32)
        self.score[h // 2, w // 2] = peak
        self.size = np.full((2, h, w), size_fraction, np.float32)
        self.offset = np.zeros((2, h, w), np.float32)  # cell (h//2, w//2) + 0 is the crop centre
        self.fed_features: list[np.ndarray] = []
        self.template_calls = 0

    def template(self, feeds):
        self.template_calls += 1
        k = self.bundle.template_size // 8
        return np.full((1, 4, k, k), float(feeds["template_thermal"].mean()), np.float32)

    def search(self, feeds):
        self.fed_features.append(np.array(feeds["template_features"], copy=True))
        return self.score[None, None].copy(), self.size[None].copy(), self.offset[None].copy()
