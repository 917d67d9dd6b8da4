"""Distillation terms (issue 4, docs/distillation.md), each a small module with a typed config:

- `specific_common.SpecificCommonLoss`: CMD specific-common feature distillation;
- `path_selection.PathSelectionLoss`: CMD multi-path selection distillation
  (and `PathSupervisionLoss`, the per-path box losses that train a multi-path teacher);
- `style_content.StyleContentLoss`: CKD coupled style and content distillation (+ search masking);
- `loss.DistillationLoss`: the enabled terms composed; `loss.load_teacher`: the frozen teacher.
"""

from rgbt_tracker_ros.distill.loss import DistillationLoss, load_teacher, mask_search
from rgbt_tracker_ros.distill.path_selection import PathSelectionLoss, PathSupervisionLoss
from rgbt_tracker_ros.distill.specific_common import SpecificCommonLoss
from rgbt_tracker_ros.distill.style_content import StyleContentLoss

__all__ = ["DistillationLoss", "PathSelectionLoss", "PathSupervisionLoss", "SpecificCommonLoss",
           "StyleContentLoss", "load_teacher", "mask_search"]
