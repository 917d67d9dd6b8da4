"""Distillation terms (issue 4, docs/distillation.md), each a small module with its typed config; the
package imports `models` and `common` only:

- `specific_common.SpecificCommonLoss` / `SpecificCommonConfig`: CMD specific-common feature distillation;
- `path_selection.PathSelectionLoss` / `PathSelectionConfig`: CMD multi-path selection distillation
  (and `PathSupervisionLoss`, the per-path box losses that train a multi-path teacher);
- `style_content.StyleContentLoss` / `StyleContentConfig`: CKD coupled style and content distillation
  (+ search masking, `MaskingConfig`);
- `loss.DistillationLoss` / `DistillConfig`: the terms whose sections are present, composed;
  `loss.load_teacher`: the frozen teacher;
- `compression`: compression distillation for the thermal-only model (Li et al.), `CompressionConfig`.
"""

from rgbt_tracker_ros.distill.loss import DistillConfig, DistillationLoss, load_teacher, mask_search, term_is_on
from rgbt_tracker_ros.distill.path_selection import PathSelectionConfig, PathSelectionLoss, PathSupervisionLoss
from rgbt_tracker_ros.distill.specific_common import SpecificCommonConfig, SpecificCommonLoss
from rgbt_tracker_ros.distill.style_content import MaskingConfig, StyleContentConfig, StyleContentLoss

__all__ = ["DistillConfig", "DistillationLoss", "MaskingConfig", "PathSelectionConfig", "PathSelectionLoss",
           "PathSupervisionLoss", "SpecificCommonConfig", "SpecificCommonLoss", "StyleContentConfig",
           "StyleContentLoss", "load_teacher", "mask_search", "term_is_on"]
