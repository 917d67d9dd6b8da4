"""Reduced-precision forward passes of the networks in training (`run.precision`).

Only the forward passes run under bf16 autocast; their outputs are cast back to float32, so the
losses, the distillation terms' statistics, the weights and the optimizer all stay in full precision.
"""

from __future__ import annotations

import torch

PRECISIONS = ("fp32", "bf16")  # `run.precision`


def forward_autocast(device: torch.device, precision: str) -> torch.autocast:
    """The context for a model's forward pass under `run.precision` (fp32: autocast disabled)."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def as_float32(tree):
    """Model outputs (tensors, or dicts, lists and tuples of them) with every reduced-precision tensor
    cast back to float32; everything else is returned as it is."""
    if isinstance(tree, torch.Tensor):
        return tree.float() if tree.is_floating_point() and tree.dtype != torch.float32 else tree
    if isinstance(tree, dict):
        return {k: as_float32(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(as_float32(v) for v in tree)
    return tree
