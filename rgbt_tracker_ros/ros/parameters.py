"""The tracker node's parameters: one table of names, defaults, ranges and descriptions, their
validation (with reasons a person can act on) and the typed settings the node works with.

Read-only parameters are the ones a change at run time cannot take effect for without rebuilding
the model sessions or the subscriptions: the model, its execution, the geometry, the input QoS and
the tracker's post-processing. The others may be changed with `ros2 param set` while the node runs.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, ParameterType
from rclpy.parameter import Parameter

from rgbt_tracker_ros.common.boxes import validate_box
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.ros.image_conversion import TRANSPORTS
from rgbt_tracker_ros.ros.names import HOMOGRAPHY_PARAMETER
from rgbt_tracker_ros.ros.pairing import PairingSettings
from rgbt_tracker_ros.tracking.config import RANGES, TrackerConfig, provider_name
from rgbt_tracker_ros.tracking.geometry import Size

_TRACKER_DEFAULTS = {f.name: f.default for f in dataclasses.fields(TrackerConfig)}
RELIABILITIES = ("best_effort", "reliable")
TRANSPORT_PARAMETERS = {"visible": "visible.transport", "thermal": "thermal.transport"}


@dataclass(frozen=True)
class Spec:
    name: str
    default: Any                  # None: an array without a default (declared by type, unset)
    description: str
    read_only: bool = False
    low: float | None = None
    high: float | None = None
    type_: int | None = None      # ParameterType for defaults that cannot tell it (None above)
    constraints: str = ""

    def descriptor(self) -> ParameterDescriptor:
        d = ParameterDescriptor(
            name=self.name, description=self.description, read_only=self.read_only,
            additional_constraints=self.constraints,
        )
        if self.type_ is not None:
            d.type = self.type_
        if self.low is not None and not isinstance(self.default, bool):
            if isinstance(self.default, int):
                d.integer_range = [IntegerRange(from_value=int(self.low), to_value=int(self.high), step=0)]
            elif isinstance(self.default, float):
                d.floating_point_range = [FloatingPointRange(from_value=self.low, to_value=self.high, step=0.0)]
        return d


def _ranged(name: str) -> dict:
    """low and high of a TrackerConfig field, from the one table of ranges (tracking.config.RANGES)."""
    accepted = RANGES[name]
    return {"low": accepted.low, "high": accepted.high}


def _tracker(name: str, description: str) -> Spec:
    default = _TRACKER_DEFAULTS[name]
    ranged = _ranged(name) if name in RANGES else {}  # a switch has no range
    return Spec(f"tracker.{name}", default, description, read_only=True, **ranged)


SPECS: tuple[Spec, ...] = (
    # --- lifecycle (read-only)
    Spec("autostart", True, "configure and activate at start, as an unmanaged node; false: wait unconfigured "
         "for a lifecycle manager's transitions (~/change_state)", read_only=True),
    # --- model and execution (read-only)
    Spec("model", "", "model folder (model.json + ONNX files); empty: the student shipped with the package",
         read_only=True),
    Spec("providers", ["tensorrt", "cuda", "cpu"],
         "ONNX Runtime execution providers in priority order (tensorrt, cuda, cpu or full names); "
         "unavailable ones are skipped", read_only=True),
    Spec("threads", _TRACKER_DEFAULTS["threads"], "ONNX Runtime intra-op threads", read_only=True,
         **_ranged("threads")),
    Spec(HOMOGRAPHY_PARAMETER, None,
         "3x3 homography thermal pixel -> visible pixel, 9 numbers row-major (rgbt-tracker register prints "
         "it); unset or []: scale the thermal image onto the visible size",
         read_only=True, type_=ParameterType.PARAMETER_DOUBLE_ARRAY,
         constraints="empty, or 9 finite numbers forming an invertible matrix"),
    # --- inputs (read-only: they shape the subscriptions)
    Spec("qos.reliability", "best_effort",
         "reliability of the two image subscriptions: best_effort (sensor data, the default) or reliable",
         read_only=True, constraints="best_effort or reliable"),
    Spec("qos.depth", 5, "history depth of the two image subscriptions", read_only=True, low=1, high=100),
    *(Spec(name, "raw", f"{camera} camera input: raw (sensor_msgs/Image on {camera}/image) or compressed "
           f"(sensor_msgs/CompressedImage, jpeg or png, on {camera}/image/compressed)", read_only=True,
           constraints="raw or compressed") for camera, name in TRANSPORT_PARAMETERS.items()),
    # --- pairing and buffering (dynamic)
    Spec("sync.slop", 0.02, "largest stamp difference (s) between a visible and a thermal frame of a pair",
         low=0.0, high=1.0),
    Spec("sync.queue_size", 4, "frames kept per camera while waiting for a partner", low=1, high=30),
    Spec("sync.thermal_offset", 0.0,
         "seconds added to thermal stamps before pairing (a known delay between the cameras' clocks)",
         low=-1.0, high=1.0),
    Spec("camera_timeout", 0.5,
         "seconds without frames from one camera before tracking goes on with the other alone",
         low=0.05, high=60.0),
    Spec("buffer_seconds", 2.0,
         "history of pairs (s) kept for ~/init_target on a past stamp and the catch-up after it",
         low=0.0, high=10.0),
    Spec("buffer_megabytes", 128.0,
         "most memory (MB) the history of pairs holds, whatever the input rate and resolution: the "
         "oldest pairs go first when buffer_seconds would hold more", low=1.0, high=4096.0),
    Spec("init_box", None,
         "x, y, w, h in visible pixels: initialise on the next pair (at start: the first pair); unset or []: none",
         type_=ParameterType.PARAMETER_DOUBLE_ARRAY,
         constraints="empty, or 4 finite numbers: w and h at least tracker.min_box and at most the image's, "
                     "the box overlapping the last frame"),
    Spec("init_box_topic.reliability", "reliable",
         "reliability of the ~/init_box subscription: reliable (the default of detectors, GUIs and `ros2 topic "
         "pub`; a reliable subscription does not hear best-effort publishers) or best_effort (hears both)",
         read_only=True, constraints="best_effort or reliable"),
    Spec("init_box_topic.only_when_lost", False,
         "~/init_box re-initialises only while no target is followed (idle or lost): a detector's stream "
         "hands over a target, then the tracker follows it; false: every ~/init_box message re-initialises"),
    # --- outputs (dynamic)
    Spec("debug_image.max_rate", 5.0, "most ~/debug_image frames per second (0: none); rendered only "
         "while subscribed", low=0.0, high=60.0),
    Spec("diagnostics.latency_warn_ms", 50.0, "latency p95 (ms) above which /diagnostics warns",
         low=1.0, high=10000.0),
    # --- tracker post-processing (read-only: fixed in the tracker's configuration)
    _tracker("hann_weight", "weight of the Hann window blended into the score map"),
    _tracker("size_lr", "how fast the box size follows the prediction (times the score)"),
    _tracker("score_tracking", "score at or above which the prediction is trusted (state tracking)"),
    _tracker("score_lost", "score below which a frame counts towards losing the target"),
    _tracker("lost_after", "consecutive frames below score_lost before the state is lost"),
    _tracker("search_growth", "search window growth per untrusted frame"),
    _tracker("max_search_growth", "largest search window growth"),
    _tracker("min_box", "smallest box side (px) accepted at initialisation and reported"),
    _tracker("scale_penalty", "penalty on candidates whose size or aspect departs from the box (0: off)"),
    _tracker("max_scale_step", "largest factor a box side changes by per frame"),
    _tracker("window_floor", "smallest search window side, as a fraction of its side at initialisation"),
    _tracker("template_weight", "weight of the dynamic template mixed into the initial one (0: off)"),
    _tracker("template_update_score", "score at or above which a frame may renew the dynamic template"),
    _tracker("template_update_interval", "fewest frames between two dynamic template updates"),
    _tracker("redetect_score", "tile peak at or above which a lost target is re-acquired (1: off)"),
    _tracker("frame_check", "a camera frame without information (black, saturated, uniform, frozen, "
             "mostly non-finite) counts as missing for that frame; false: every frame is fed to the network"),
)
SPEC_BY_NAME = {s.name: s for s in SPECS}


@dataclass(frozen=True)
class StartupSettings:
    """Fixed for the node's lifetime (the read-only parameters)."""

    model: str
    providers: tuple[str, ...]
    threads: int
    thermal_to_visible: tuple[float, ...] | None
    reliability: str
    depth: int
    init_box_reliability: str
    tracker: dict
    transports: dict              # camera -> 'raw' or 'compressed'

    def tracker_config(self) -> TrackerConfig:
        matrix = None
        if self.thermal_to_visible is not None:
            h = self.thermal_to_visible
            matrix = (h[0:3], h[3:6], h[6:9])
        return TrackerConfig(model=self.model or None, providers=self.providers, threads=self.threads,
                             thermal_to_visible=matrix, **self.tracker)


@dataclass(frozen=True)
class RuntimeSettings:
    """May change while the node runs."""

    pairing: PairingSettings
    buffer_seconds: float
    buffer_megabytes: float
    init_box: tuple[float, float, float, float] | None
    init_box_only_when_lost: bool
    debug_max_rate: float
    latency_warn_ms: float


def check(name: str, value: Any) -> str | None:
    """Why `value` is not acceptable for parameter `name` (None if it is). Ranges are checked by the
    descriptors too; they are repeated here so every rejection carries the same kind of reason."""
    spec = SPEC_BY_NAME.get(name)
    if spec is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"{name} must be a finite number, got {value}"
    if spec.low is not None and isinstance(value, (int, float)) and not spec.low <= value <= spec.high:
        return f"{name} must be in [{spec.low:g}, {spec.high:g}], got {value}"
    if name == "init_box" and value is not None and len(value) > 0:
        if len(value) != 4:
            return f"init_box needs 4 numbers x, y, w, h (or none), got {len(value)}"
        if not all(math.isfinite(v) for v in value):
            return f"init_box {list(value)} contains NaN or infinity"
        if value[2] <= 0 or value[3] <= 0:
            return f"init_box {list(value)} needs a positive width and height"
        if value[0] + value[2] <= 0 or value[1] + value[3] <= 0:
            return f"init_box {list(value)} lies left of or above the image (x + w and y + h must be positive)"
    if name == HOMOGRAPHY_PARAMETER and value is not None and len(value) > 0:
        if len(value) != 9:
            return f"{HOMOGRAPHY_PARAMETER} needs 9 numbers (a row-major 3x3 matrix) or none, got {len(value)}"
        try:
            TrackerConfig(thermal_to_visible=(value[0:3], value[3:6], value[6:9]))
        except InputError as exc:
            return str(exc)
    if name == "providers":
        if not value:
            return "providers must name at least one execution provider"
        for provider in value:
            try:
                provider_name(provider)
            except InputError as exc:
                return str(exc)
    if name in ("qos.reliability", "init_box_topic.reliability") and value not in RELIABILITIES:
        return f"{name} must be one of {', '.join(RELIABILITIES)}, got {value!r}"
    if name in TRANSPORT_PARAMETERS.values() and value not in TRANSPORTS:
        return f"{name} must be one of {', '.join(TRANSPORTS)}, got {value!r}"
    return None


def init_box_problem(box, frame_size: Size | None, min_box: float) -> str | None:
    """Why `box` (x, y, w, h, four finite numbers) cannot initialise the tracker on a frame of
    `frame_size` (width, height, in the pixels boxes are given in; None: no frame seen yet, so only
    the smallest side is checked); None when it can. The tracker's own rules (sides of at least
    `min_box`, overlapping the image), and no side larger than the image: such a box holds more
    than the image, not a target."""
    try:
        validate_box(box, frame_size, min_size=min_box)
    except InputError as exc:
        return f"init_box: {exc}"
    if frame_size is not None and (box[2] > frame_size[0] or box[3] > frame_size[1]):
        return f"init_box {list(box)} is larger than the {frame_size[0]}x{frame_size[1]} image"
    return None


def declare(node) -> None:
    """Declare every parameter on `node` with its descriptor (values from overrides or defaults)."""
    for spec in SPECS:
        value = spec.default if spec.default is not None else _parameter_type(spec.type_)
        node.declare_parameter(spec.name, value, spec.descriptor())


def read(node) -> tuple[StartupSettings, RuntimeSettings]:
    """The declared values as settings; InputError naming the first bad parameter."""
    values = {spec.name: node.get_parameter_or(spec.name).value for spec in SPECS}
    return settings_from(values)


def settings_from(values: dict) -> tuple[StartupSettings, RuntimeSettings]:
    for name, value in values.items():
        reason = check(name, value)
        if reason is not None:
            raise InputError(f"parameter {reason}")
    homography = values[HOMOGRAPHY_PARAMETER]
    box = values["init_box"]
    if box is not None and len(box):
        reason = init_box_problem(box, None, values["tracker.min_box"])
        if reason is not None:
            raise InputError(f"parameter {reason}")
    startup = StartupSettings(
        model=values["model"],
        providers=tuple(values["providers"]),
        threads=values["threads"],
        thermal_to_visible=tuple(homography) if homography is not None and len(homography) else None,
        reliability=values["qos.reliability"],
        depth=values["qos.depth"],
        init_box_reliability=values["init_box_topic.reliability"],
        tracker={k.split(".", 1)[1]: v for k, v in values.items() if k.startswith("tracker.")},
        transports={camera: values[name] for camera, name in TRANSPORT_PARAMETERS.items()},
    )
    runtime = RuntimeSettings(
        pairing=PairingSettings(
            slop=values["sync.slop"],
            queue_size=values["sync.queue_size"],
            thermal_offset=values["sync.thermal_offset"],
            camera_timeout=values["camera_timeout"],
        ),
        buffer_seconds=values["buffer_seconds"],
        buffer_megabytes=values["buffer_megabytes"],
        init_box=tuple(float(v) for v in box) if box is not None and len(box) else None,
        init_box_only_when_lost=values["init_box_topic.only_when_lost"],
        debug_max_rate=values["debug_image.max_rate"],
        latency_warn_ms=values["diagnostics.latency_warn_ms"],
    )
    return startup, runtime


def _parameter_type(type_: int):
    return Parameter.Type(type_)
