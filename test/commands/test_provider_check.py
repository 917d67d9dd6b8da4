"""`rgbt-tracker provider-check`: the CPU dry run of the GPU machine's check (scripts/device_check.sh)."""

from __future__ import annotations

import argparse
import json
import shutil

import numpy as np
import onnx
from onnx import numpy_helper

from rgbt_tracker_ros.commands import provider_check as command
from rgbt_tracker_ros.evaluation.provider_check import box_difference, output_difference
from rgbt_tracker_ros.tracking.backend import OnnxBackend
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.model_bundle import default_model_dir

CPU = "CPUExecutionProvider"


def _run(argv, capsys):
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    code = command.run(parser.parse_args(argv))
    return code, capsys.readouterr()


def test_provider_check_json_on_the_cpu(capsys):
    student = str(default_model_dir())
    code, captured = _run(["--models", f"student={student}", f"again={student}", "--providers", "tensorrt,cuda,cpu",
                           "--runs", "1", "--steps", "3", "--warmup", "1", "--frames", "5", "--crops", "2",
                           "--threads", "1", "--json"], capsys)
    assert code == 0, captured.err
    report = json.loads(captured.out)
    entry = report["models"]["student"]
    assert entry["template_provider"] == entry["search_provider"] == entry["reference_provider"] == CPU
    # The CPU build lacks both GPU providers: one warning for the model, naming them.
    assert len(entry["warnings"]) == 1 and "TensorrtExecutionProvider" in entry["warnings"][0]
    assert all(value == 0.0 for value in entry["output_max_abs_diff"].values())
    assert entry["tracking_diff"] == {"box_px": 0.0, "score": 0.0, "frames": 5}
    assert list(entry["latency"]) == [CPU] and entry["latency"][CPU]["step_ms_p50"] > 0
    assert entry["step_p50_ratio_to_first"] == 1.0 and report["models"]["again"]["step_p50_ratio_to_first"] > 0
    assert "search graph on CPUExecutionProvider" in captured.err and "step p50" in captured.err


def _perturbed_student(folder):
    """The shipped student with every weight of both graphs scaled by 1.05: another network, same geometry."""
    shutil.copytree(default_model_dir(), folder)
    for name in ("template.onnx", "search.onnx"):
        graph = onnx.load(folder / name)
        for tensor in graph.graph.initializer:
            values = numpy_helper.to_array(tensor)
            if values.dtype == np.float32 and values.size > 1:
                tensor.CopyFrom(numpy_helper.from_array(values * np.float32(1.05), tensor.name))
        onnx.save(graph, folder / name)
    return folder


def test_the_differences_see_a_different_network(tmp_path):
    """Two networks that are not the same: the parity figures are not zero (they can fail)."""
    other = _perturbed_student(tmp_path / "other")
    tested = OnnxBackend(TrackerConfig(model=other, providers=("cpu",), threads=1))
    reference = OnnxBackend(TrackerConfig(providers=("cpu",), threads=1))
    outputs = output_difference(tested, reference, crops=1)
    assert outputs["score"] > 1e-3 and outputs["template_features"] > 1e-3
    assert box_difference(tested, reference, frames=10)["box_px"] > 0.0


def test_bad_model_specs_exit_2(capsys, tmp_path):
    code, captured = _run(["--models", "no-equals-sign", "--providers", "cpu"], capsys)
    assert code == 2 and "NAME=PATH" in captured.err
    code, captured = _run(["--models", "a=/no/such/folder", "--providers", "cpu"], capsys)
    assert code == 2 and "/no/such/folder" in captured.err
    checkpoint = tmp_path / "student.pt"
    checkpoint.write_bytes(b"not read")
    code, captured = _run(["--models", f"a={checkpoint}", f"a={checkpoint}", "--providers", "cpu"], capsys)
    assert code == 2 and "given twice" in captured.err
    code, captured = _run(["--models", f"s={checkpoint}", "--providers", "cpu"], capsys)
    assert code == 2 and "export it first" in captured.err
