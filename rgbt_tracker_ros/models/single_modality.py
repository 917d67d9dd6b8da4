"""The student run on ONE modality: the thermal-only tracker of the compression pipeline
(docs/thermal_compression.md).

`SingleModalityStudent(config, "thermal")` reads `template_thermal` / `search_thermal` and ignores the
visible inputs. It keeps the student's state dict, so it is built and loaded like any student, and it
exports to the unchanged ONNX contract (the visible inputs stay graph inputs, unused), so the runtime
and node run it as they are: whether the visible camera is there, blind or absent makes no difference.
"""

from __future__ import annotations

import torch
from torch import nn

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.models.config import ModelConfig
from rgbt_tracker_ros.models.student import SingleStreamStudent

MODALITIES = ("thermal", "visible")


class SingleModalityStudent(SingleStreamStudent):
    """The single-stream student fed one modality only (same parameters and state dict).

    The one backbone runs once, on that modality's crop; the concat fusion sees that modality's
    features on both of its inputs (what the RGB-T student sees when the other camera is substituted).
    """

    def __init__(self, config: ModelConfig, modality: str = "thermal"):
        if modality not in MODALITIES:
            raise InputError(f"modality must be one of {MODALITIES}, got {modality!r}")
        super().__init__(config)
        self.modality = modality

    def encode(self, visible: torch.Tensor, thermal: torch.Tensor) -> dict[str, object]:
        image = thermal if self.modality == "thermal" else visible
        feats = self.backbone(self.normalise(image))
        fused = self.fusion(feats[-1], feats[-1])
        return {"visible": feats, "thermal": feats, self.modality: feats, "fused": fused}

    @classmethod
    def from_student(cls, student: nn.Module, modality: str = "thermal") -> "SingleModalityStudent":
        """A single-modality copy of a (single-stream) student, weights included."""
        model = cls(student.config, modality)
        model.load_state_dict(student.state_dict())
        return model
