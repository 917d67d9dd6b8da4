"""ONNX Runtime, imported with its telemetry off.

The PyPI build's telemetry starts when the module is imported: it writes a device id and a SQLite
database under ~/.cache/Microsoft/DeveloperTools/.onnxruntime (issue 14, finding 14: a perception
node on a robot writes nothing outside its log and the folders it is given). ORT_DISABLE_TELEMETRY
is read at that import, so every module of the package takes ONNX Runtime from here; a user who
sets the variable keeps their own value.
"""

from __future__ import annotations

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import onnxruntime as ort  # noqa: E402  (after the variable, on purpose)

__all__ = ["ort"]
