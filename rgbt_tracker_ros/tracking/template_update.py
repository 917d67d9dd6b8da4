"""An appearance model that adapts: the initial template (the anchor, never replaced) and one dynamic
template taken from a recent confident frame; the search graph is fed their weighted mix.

Mixing the features is meaningful for this network: they are the correlation kernel (one vector per
template cell, `models/head.template_kernel`) and the correlation is a MatMul, linear in the kernel,
so the mixed kernel gives the same mix of the two templates' correlation maps in one search pass.
Memory is bounded: three arrays of the feature shape, whatever the sequence length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TemplateUpdate:
    """weight: the dynamic template's share of the mix (0: the anchor alone, no update ever);
    min_score: the raw score a frame needs for its box to become the dynamic template;
    interval: frames at least between two updates."""

    weight: float
    min_score: float
    interval: int

    @property
    def enabled(self) -> bool:
        return self.weight > 0.0


class TemplateMemory:
    """The anchor template, one dynamic template and the mix the search graph reads (`features`)."""

    def __init__(self, anchor: np.ndarray, rule: TemplateUpdate):
        self.rule = rule
        self.anchor = np.array(anchor, dtype=np.float32, copy=True)
        self.dynamic: np.ndarray | None = None
        #: The search graph's template features; the same array all along (updated in place).
        self.features = self.anchor.copy()
        self.updates = 0
        self._since_update = 0

    def due(self, score: float) -> bool:
        """Count one tracked frame; True when this frame's template should be taken (confident
        enough, and at least `interval` frames since the last update)."""
        self._since_update += 1
        return self.rule.enabled and score >= self.rule.min_score and self._since_update >= self.rule.interval

    def update(self, dynamic: np.ndarray) -> None:
        """Make `dynamic` (template features of a confident frame) the dynamic template."""
        if self.dynamic is None:
            self.dynamic = np.empty_like(self.anchor)
        np.copyto(self.dynamic, dynamic, casting="same_kind")
        w = np.float32(self.rule.weight)
        np.multiply(self.anchor, 1.0 - w, out=self.features)
        self.features += w * self.dynamic
        self.updates += 1
        self._since_update = 0

    def forget(self) -> None:
        """Back to the anchor alone (the target is lost: the dynamic template may be what lost it)."""
        if self.dynamic is None:
            return
        self.dynamic = None
        np.copyto(self.features, self.anchor)
