"""ONNX Runtime sessions on the best execution provider the machine offers (TensorRT, CUDA, CPU)."""

from __future__ import annotations

import logging
from pathlib import Path

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.tracking.config import TrackerConfig, provider_name
from rgbt_tracker_ros.tracking.onnx_runtime import ort

log = logging.getLogger("rgbt_tracker_ros.tracking")

ProviderSpec = tuple[str, dict]  # (ONNX Runtime provider name, its options)


def resolve_providers(config: TrackerConfig) -> list[ProviderSpec]:
    """The configured providers that this ONNX Runtime build offers, in priority order, with options.

    Unavailable providers are skipped (one warning names them); none left is an InputError.
    """
    available = ort.get_available_providers()
    chosen: list[ProviderSpec] = []
    skipped: list[str] = []
    for short in config.providers:
        name = provider_name(short)
        if name not in available:
            skipped.append(name)
            continue
        if any(name == n for n, _ in chosen):
            continue
        chosen.append((name, _provider_options(name, config)))
    if skipped and chosen:
        # One line, not one per provider: on a CPU-only machine this is every start's expected fallback.
        log.warning("execution providers %s are not in this ONNX Runtime build (it has %s); using %s",
                    ", ".join(skipped), ", ".join(available), ", ".join(n for n, _ in chosen))
    if not chosen:
        raise InputError(
            f"none of the requested execution providers {list(config.providers)} is available "
            f"(this ONNX Runtime offers {', '.join(available)})"
        )
    return chosen


def _provider_options(name: str, config: TrackerConfig) -> dict:
    if name != "TensorrtExecutionProvider":
        return {}
    options = {"trt_fp16_enable": config.trt_fp16, "trt_engine_cache_enable": False}
    try:
        config.trt_cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.warning("cannot create TensorRT engine cache %s (%s); engines will be rebuilt at every start",
                    config.trt_cache_dir, exc)
        return options
    cache = str(config.trt_cache_dir)
    options.update(
        trt_engine_cache_enable=True,
        trt_engine_cache_path=cache,
        trt_timing_cache_enable=True,
        trt_timing_cache_path=cache,
    )
    return options


def session_options(threads: int) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle worker threads sleep instead of spinning between frames: on a robot the tracker shares
    # the cores with camera drivers and the ROS executor, and spinning threads steal from them.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only; provider choices are reported through `log`
    return options


def create_session(
    path: Path,
    providers: list[ProviderSpec],
    threads: int,
    inputs: tuple[str, ...],
    outputs: tuple[str, ...],
) -> ort.InferenceSession:
    """A session for one ONNX file on the first provider of `providers` that can build it.

    Each provider that fails to build the session is skipped with a warning (the ones after it stay
    as fallbacks for nodes it cannot run). The graph must have exactly the contract's input names and
    at least its output names.
    """
    options = session_options(threads)
    failures = []
    for first in range(len(providers)):
        names = [n for n, _ in providers[first:]]
        opts = [o for _, o in providers[first:]]
        try:
            session = ort.InferenceSession(str(path), sess_options=options, providers=names, provider_options=opts)
        except Exception as exc:  # ONNX Runtime raises its own exception types, not all importable
            failures.append(f"{names[0]}: {_first_line(exc)}")
            if first + 1 < len(providers):
                log.warning("execution provider %s cannot run %s (%s); trying %s",
                            names[0], path.name, _first_line(exc), names[1])
            continue
        used = session.get_providers()[0]
        if used != names[0]:
            log.warning("ONNX Runtime fell back from %s to %s for %s", names[0], used, path.name)
        _check_io(session, path, inputs, outputs)
        return session
    raise InputError(f"cannot load model file {path}: " + "; ".join(failures))


def _check_io(session: ort.InferenceSession, path: Path, inputs: tuple[str, ...], outputs: tuple[str, ...]) -> None:
    have_in = {i.name for i in session.get_inputs()}
    have_out = {o.name for o in session.get_outputs()}
    if have_in != set(inputs):
        raise InputError(f"{path.name} has inputs {sorted(have_in)}; the model contract needs {list(inputs)}")
    missing = [n for n in outputs if n not in have_out]
    if missing:
        raise InputError(f"{path.name} lacks outputs {missing}; it has {sorted(have_out)}")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
