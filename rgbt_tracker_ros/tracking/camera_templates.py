"""Template features for a frame that lacks one of the cameras the target was initialised with.

A target initialised on both cameras has a template of both. When a frame comes without one of them
(the camera silent, or its frame set aside by the frame check), that camera's search crop is
substituted (`preprocessing.substitute_missing`: thermal as the grey visible crop, visible as the
thermal crop in three channels) while the template still holds the real crop: the network then
matches a substituted search crop against a template that is not, and on synthetic validation it
tracks such frames worse than a target initialised without that camera at all (docs/design.md,
"The tracker contract"). `CameraTemplates` keeps the anchor's two crops and gives, per missing
camera, the template features of those crops with that camera substituted the same way, so template
and search always show the same cameras. Each is computed once (one template pass) and kept.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from rgbt_tracker_ros.tracking.preprocessing import substitute_missing

# (visible crop SxSx3 uint8, thermal crop SxS uint8) -> template features
TemplatePass = Callable[[np.ndarray, np.ndarray], np.ndarray]


class CameraTemplates:
    """The anchor template's crops of both cameras and the features without either."""

    def __init__(self, crop_visible: np.ndarray, crop_thermal: np.ndarray):
        self._visible = np.array(crop_visible, copy=True)
        self._thermal = np.array(crop_thermal, copy=True)
        self._features: dict[str, np.ndarray] = {}

    def without(self, camera: str, template: TemplatePass) -> np.ndarray:
        """The anchor's template features with `camera` ("visible" or "thermal") substituted from the
        other camera's crop."""
        if camera not in self._features:
            crop_v, crop_t = substitute_missing(None if camera == "visible" else self._visible,
                                                None if camera == "thermal" else self._thermal)
            self._features[camera] = np.array(template(crop_v, crop_t), dtype=np.float32, copy=True)
        return self._features[camera]
