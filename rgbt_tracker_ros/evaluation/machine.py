"""What a benchmark records about the machine it ran on, so its figures can be read in context."""

from __future__ import annotations

import os


def load_average() -> float | None:
    """The 1-minute load average (None where the platform has none)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None
