"""Tiny exported models for the ablation and torch-backend tests: an RGB-T student and a pruned
thermal-only student (untrained, with a score map that has a clear peak), and a short real-like
thermal-only sequence folder."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import torch
from rgbt_tracker_ros.data.synthetic import SyntheticConfig, make_sequence
from rgbt_tracker_ros.data.writer import write_sequence_folder
from rgbt_tracker_ros.models.single_modality import SingleModalityStudent
from rgbt_tracker_ros.models.builder import build_model
from rgbt_tracker_ros.models.config import ModelConfig
from rgbt_tracker_ros.training.export import export_student
from rgbt_tracker_ros.training.pruning import PruningConfig, prune


def export_tiny_models(out: Path) -> Path:
    """out/student (RGB-T), out/thermal (pruned, thermal-only), out/real/tiny_tir (6 thermal frames)."""
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    torch.manual_seed(0)
    student = build_model(ModelConfig()).eval()
    with torch.no_grad():  # a score map with a clear peak (an untrained head's is flat: argmax ties)
        torch.nn.init.normal_(student.head.score.weight, std=0.05)
        student.head.score.bias.zero_()
    export_student(student, out / "student", name="student")
    thermal = prune(SingleModalityStudent.from_student(student, "thermal"), PruningConfig(keep=0.5)).model.eval()
    export_student(thermal, out / "thermal", name="thermal_pruned")
    sequence = make_sequence(2_500_000, SyntheticConfig(width=160, height=128, length=6))
    write_sequence_folder(dataclasses.replace(sequence, visible=None), out / "real" / "tiny_tir", thermal_bits=8)
    return out
