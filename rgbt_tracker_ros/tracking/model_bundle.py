"""A model folder: model.json (geometry and names, see docs/design.md) plus template.onnx and search.onnx."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePath

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.tracking.contract import MODEL_FILE


def default_model_dir() -> Path:
    """The student shipped inside the package (works from a checkout, a wheel or a colcon install)."""
    traversable = resources.files("rgbt_tracker_ros").joinpath("weights", "student")
    path = Path(str(traversable))
    if not path.is_dir():
        raise InputError(
            f"the default model is not installed at {path}; pass a model folder explicitly"
        )
    return path


@dataclass(frozen=True)
class ModelBundle:
    """What the runtime needs from model.json, with the ONNX files located and checked to exist."""

    directory: Path
    name: str
    version: str
    template_size: int
    search_size: int
    template_factor: float
    search_factor: float
    feature_size: tuple[int, int]  # (H, W) of the score map
    template_file: Path
    search_file: Path
    params: int | None = None
    metadata: dict = field(default_factory=dict, compare=False, repr=False)  # the whole model.json


def load_bundle(model: str | Path | None = None) -> ModelBundle:
    """Read and check a model folder (or its model.json); None loads the shipped default model."""
    if model is None:
        directory = default_model_dir()
        return _read(directory, directory / MODEL_FILE)
    path = Path(model).expanduser()
    if path.suffix == ".json":
        return _read(path.parent, path)
    if path.is_file():
        raise InputError(f"model {path} is a file, not a model folder (a folder with {MODEL_FILE} and "
                         f"the ONNX files it names; or give the path of its {MODEL_FILE})")
    if not path.exists():
        raise InputError(f"model folder {path} does not exist")
    if not path.is_dir():
        raise InputError(f"model {path} is not a folder")
    return _read(path, path / MODEL_FILE)


def _read(directory: Path, meta_path: Path) -> ModelBundle:
    if not meta_path.is_file():
        raise InputError(f"model folder {directory} has no {meta_path.name}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read {meta_path}: {exc}") from exc
    if not isinstance(meta, dict):
        raise InputError(f"{meta_path} must hold a JSON object")

    where = str(meta_path)
    template_size = _positive_int(meta, "template_size", where)
    search_size = _positive_int(meta, "search_size", where)
    template_factor = _positive_float(meta, "template_factor", where)
    search_factor = _positive_float(meta, "search_factor", where)
    feature_size = meta.get("feature_size")
    if isinstance(feature_size, int) and not isinstance(feature_size, bool):
        feature_size = [feature_size, feature_size]
    if (
        not isinstance(feature_size, (list, tuple))
        or len(feature_size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in feature_size)
    ):
        raise InputError(f"{where}: feature_size must be [H, W] positive integers, got {feature_size!r}")
    norm = meta.get("normalisation", {})
    if isinstance(norm, dict) and norm.get("in_graph") is False:
        raise InputError(f"{where}: normalisation.in_graph is false, but the runtime feeds 0..255 pixels")

    files = meta.get("files")
    if not isinstance(files, dict) or not all(isinstance(files.get(k), str) for k in ("template", "search")):
        raise InputError(f"{where}: files must be an object with 'template' and 'search' file names")
    template_file = _model_file(directory, files["template"], where)
    search_file = _model_file(directory, files["search"], where)

    params = meta.get("params")
    return ModelBundle(
        directory=directory,
        name=str(meta.get("name", directory.name)),
        version=str(meta.get("version", "unknown")),
        template_size=template_size,
        search_size=search_size,
        template_factor=template_factor,
        search_factor=search_factor,
        feature_size=(int(feature_size[0]), int(feature_size[1])),
        template_file=template_file,
        search_file=search_file,
        params=int(params) if isinstance(params, (int, float)) and not isinstance(params, bool) else None,
        metadata=meta,
    )


def _positive_int(meta: dict, key: str, where: str) -> int:
    value = meta.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InputError(f"{where}: {key} must be a positive integer, got {value!r}")
    return value


def _positive_float(meta: dict, key: str, where: str) -> float:
    value = meta.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise InputError(f"{where}: {key} must be a positive number, got {value!r}")
    return float(value)


def _model_file(directory: Path, name: str, where: str) -> Path:
    # A plain relative name inside the folder: model.json must not make the runtime read files
    # elsewhere (`../../etc/passwd`, `/etc/shadow`). Symbolic links in the folder are followed, as a
    # symlink install (colcon --symlink-install) makes them.
    relative = PurePath(name)
    if not name or relative.is_absolute() or ".." in relative.parts:
        raise InputError(f"{where} names {name!r}: model files must be named by paths inside the model "
                         f"folder (no absolute path, no '..')")
    path = directory / relative
    if not path.is_file():
        raise InputError(f"{where} names {name}, which is missing from {directory}")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty")
    return path
