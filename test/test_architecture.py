"""The package's shape (docs/design.md, "Layers"): dependencies point one way, no import cycles, no
package import hidden inside a function, and the runtime loads without torch or rclpy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.paths import REPO

PACKAGE = "rgbt_tracker_ros"
ROOT = REPO / PACKAGE

# Each part and the parts it may import (besides itself and the package root's version string).
# The commands may import anything below them; cli.py only dispatches (by module name).
ALLOWED = {
    "common": set(),
    "tracking": {"common"},
    "data": {"common", "tracking"},
    "models": {"common"},
    "distill": {"common", "models"},
    "evaluation": {"common", "tracking", "data"},
    "ros": {"common", "tracking"},
    "training": {"common", "tracking", "data", "models", "distill", "evaluation"},
    "ros_tools": {"common", "tracking", "data", "evaluation", "ros"},
    "commands": {"common", "tracking", "data", "models", "distill", "evaluation", "ros", "training", "ros_tools"},
    "cli": set(),
}
# Third-party packages a part must not import at all.
FORBIDDEN = {
    "common": {"torch", "rclpy", "onnx"},
    "tracking": {"torch", "rclpy", "onnx"},
    "data": {"torch", "rclpy"},
    "evaluation": {"torch", "rclpy"},
    "ros": {"torch"},
    "models": {"rclpy"},
    "distill": {"rclpy"},
    "training": {"rclpy"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _part(module: str) -> str | None:
    """The top-level part of a package module ('tracking', 'cli', ...); None for the package root."""
    rest = module.split(".")[1:]
    return rest[0] if rest else None


def _imports(module: str) -> list[tuple[str, ast.stmt, bool]]:
    """(imported name, node, at module level) for every import statement of a module."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append((sub if sub in MODULES else target, node, id(node) in top))
    return found


def _package_edges() -> dict[str, set[str]]:
    return {m: {name for name, _, _ in _imports(m) if name.split(".")[0] == PACKAGE} for m in MODULES}


def test_every_part_is_known():
    parts = {_part(m) for m in MODULES} - {None}
    assert parts == set(ALLOWED), f"parts without a layer rule: {parts ^ set(ALLOWED)}"


def test_no_import_from_a_lower_part_to_a_higher_one():
    wrong = []
    for module, targets in _package_edges().items():
        part = _part(module)
        if part is None:
            continue
        for target in targets:
            other = _part(target)
            if other is not None and other != part and other not in ALLOWED[part]:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_no_package_import_inside_a_function():
    hidden = [f"{m}:{node.lineno} imports {name}" for m in MODULES
              for name, node, at_top in _imports(m) if not at_top and name.split(".")[0] == PACKAGE]
    assert not hidden, "\n".join(sorted(set(hidden)))


def test_forbidden_third_party_imports():
    wrong = [f"{m}:{node.lineno} imports {name}" for m in MODULES for name, node, _ in _imports(m)
             if name.split(".")[0] in FORBIDDEN.get(_part(m), set())]
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_module_graph_has_no_cycle():
    edges = _package_edges()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = 1
        for target in sorted(edges.get(module, ())):
            if target not in MODULES or target == module:
                continue
            if state.get(target) == 1:
                return path + [module, target]
            if target not in state:
                cycle = visit(target, path + [module])
                if cycle:
                    return cycle
        state[module] = 2
        return None

    for module in sorted(MODULES):
        if module not in state:
            cycle = visit(module, [])
            assert cycle is None, " -> ".join(cycle)


def test_the_rules_catch_a_wrong_import(tmp_path):
    """The checks above can fail: a tracking module importing training is reported."""
    global MODULES
    fake = tmp_path / "bad.py"
    fake.write_text("def f():\n    from rgbt_tracker_ros.training import trainer\n")
    saved = MODULES
    MODULES = {**saved, f"{PACKAGE}.tracking.bad": fake}
    try:
        with pytest.raises(AssertionError, match="tracking.bad imports"):
            test_no_import_from_a_lower_part_to_a_higher_one()
        with pytest.raises(AssertionError, match="tracking.bad:2 imports"):
            test_no_package_import_inside_a_function()
    finally:
        MODULES = saved


RUNTIME_SCRIPT = """
import sys
import numpy as np
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.tracker import RGBTTracker
tracker = RGBTTracker(TrackerConfig(providers=("cpu",), threads=1))
rng = np.random.default_rng(0)  # textured frames: black ones hold no information (tracking/frame_check.py)
tracker.initialize(rng.integers(0, 255, (48, 64, 3), np.uint8), rng.integers(0, 9000, (48, 64), np.uint16),
                   (20, 10, 12, 12))
tracker.track(rng.integers(0, 255, (48, 64, 3), np.uint8), None)
assert "onnx" not in sys.modules, "the tracker imported onnx"
import rgbt_tracker_ros.commands.track, rgbt_tracker_ros.commands.bench, rgbt_tracker_ros.commands.eval
import rgbt_tracker_ros.evaluation.campaign, rgbt_tracker_ros.evaluation.ablation
bad = [m for m in ("torch", "rclpy") if m in sys.modules]
assert not bad, bad
"""


def test_runtime_and_evaluation_load_without_torch_or_rclpy():
    """The robot side: tracker, track / eval / bench commands and the evaluation code run without torch."""
    proc = subprocess.run([sys.executable, "-c", RUNTIME_SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_node_loads_without_torch():
    script = "import sys, rgbt_tracker_ros.ros.tracker_node; assert 'torch' not in sys.modules"
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
