"""The node session's test rig without DDS: a NodeSession over the real RGBTTracker, a clock the
test moves, the outputs and log it collects, and two cameras that send frames to it.

The default network is scripted (its score map peaks at the centre of the search window with a
score the test sets, so the state follows the test, not a trained model); `Rig(tracker=...)` takes a
tracker on the shipped model instead.
"""

from __future__ import annotations

import numpy as np

from rgbt_tracker_ros.ros.node_session import CameraFrame, NodeSession, SessionLog
from rgbt_tracker_ros.ros.pairing import THERMAL, VISIBLE, PairingSettings
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.model_bundle import load_bundle
from rgbt_tracker_ros.tracking.tracker import RGBTTracker

VW, VH, TW, TH = 160, 128, 80, 64            # visible frames; thermal frames at half the resolution
_RNG = np.random.default_rng(0)
# Textured frames that change from one frame to the next, as a camera's do: uniform or repeated
# frames hold no information and the tracker would set them aside (tracking/frame_check.py).
VISIBLE_FRAMES = [_RNG.integers(40, 140, (VH, VW, 3), dtype=np.uint8) for _ in range(3)]
THERMAL_FRAMES = [(3000 + _RNG.normal(0, 40, (TH, TW))).astype(np.uint16) for _ in range(3)]
VISIBLE_IMAGE, THERMAL_IMAGE = VISIBLE_FRAMES[0], THERMAL_FRAMES[0]
THERMAL_LAG_NS = 3_000_000                   # thermal stamps 3 ms after the visible ones
BOX = (60.0, 50.0, 24.0, 24.0)               # visible pixels
TOPICS = {VISIBLE: "/cam/visible", THERMAL: "/cam/thermal"}
SETTINGS = PairingSettings(slop=0.02, queue_size=4, camera_timeout=0.5)
PERIOD = 0.05                                # s between frames, on both clocks


class ScriptedNetwork:
    """A network backend whose score map peaks at the search window's centre with `score`."""

    def __init__(self):
        self.bundle = load_bundle(None)
        self.provider = "ScriptedExecutionProvider"
        self.score = 0.9

    def template(self, feeds):
        return np.zeros((1, 8), np.float32)

    def search(self, feeds):
        h, w = self.bundle.feature_size
        score = np.zeros((1, 1, h, w), np.float32)
        score[0, 0, h // 2, w // 2] = self.score
        offset = np.empty((1, 2, h, w), np.float32)
        offset[0, 0], offset[0, 1] = w / 2 - w // 2, h / 2 - h // 2  # the window's centre exactly
        return score, np.full((1, 2, h, w), 0.2, np.float32), offset


class Outputs:
    """What the node would publish."""

    def __init__(self):
        self.results = []
        self.debug = []

    def publish_result(self, output):
        self.results.append(output)

    def publish_debug(self, output, now):
        self.debug.append(output)
        return True


class Log(SessionLog):
    def __init__(self):
        self.lines = []

    def info(self, text):
        self.lines.append(("info", text))

    def warning(self, text):
        self.lines.append(("warning", text))

    def error(self, text):
        self.lines.append(("error", text))

    def rejected(self, text):
        self.lines.append(("rejected", text))


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


class Rig:
    """A session, its tracker, clock, outputs and log, and cameras that send frames to it."""

    def __init__(self, config: TrackerConfig | None = None, buffer_seconds: float = 2.0, init_box=None,
                 tracker: RGBTTracker | None = None, pairing: PairingSettings = SETTINGS, scene=None, **session):
        """`tracker`: a tracker of the test's own (e.g. on the shipped model) instead of the scripted one;
        `scene`: frame index -> (visible, thermal) images the cameras send (default: the textured
        frames above); `session`: further NodeSession keywords."""
        self.scene = scene
        self.network = ScriptedNetwork() if tracker is None else None
        self.tracker = tracker or RGBTTracker(config or TrackerConfig(), backend=self.network)
        self.clock, self.outputs, self.log = Clock(), Outputs(), Log()
        self.session = NodeSession(self.tracker, self.outputs, pairing=pairing, buffer_seconds=buffer_seconds,
                                   init_box=init_box, topics=TOPICS, log=self.log, clock=self.clock, **session)
        self.pairing = pairing
        self.stamp_ns = 1_700_000_000_000_000_000
        self.frame_index = 0

    def frames(self, count: int = 1, visible: bool = True, thermal: bool = True, thermal_image=None,
               visible_image=None):
        """`count` frame times: each camera that is on sends a frame (its next textured one, or the
        image given); returns the works made."""
        works = []
        for _ in range(count):
            self.clock.t += PERIOD
            self.stamp_ns += int(PERIOD * 1e9)
            k, self.frame_index = self.frame_index, self.frame_index + 1
            drawn = self.scene(k) if self.scene is not None else (VISIBLE_FRAMES[k % 3], THERMAL_FRAMES[k % 3])
            visible_frame = drawn[0] if visible_image is None else visible_image
            thermal_frame = drawn[1] if thermal_image is None else thermal_image
            for camera, on, image, lag, frame_id in ((VISIBLE, visible, visible_frame, 0, "cam_v"),
                                                     (THERMAL, thermal, thermal_frame, THERMAL_LAG_NS, "cam_t")):
                if on:
                    self.session.frame_received(camera)
                    work = self.session.add_frame(camera, self.stamp_ns + lag, CameraFrame(image, frame_id),
                                                  self.clock.t)
                    if work is not None:
                        works.append(work)
        return works

    def alone(self, count: int, camera: str) -> list:
        """Only `camera` sends, until its frames come out alone (camera_timeout), then `count` more;
        returns the single-camera works."""
        on = {"visible": camera == VISIBLE, "thermal": camera == THERMAL}
        waited = 0
        while waited <= self.pairing.camera_timeout + PERIOD:
            if any(not w.pair.complete for w in self.frames(1, **on)):
                break
            waited += PERIOD
        return self.frames(count, **on)

    def work_through(self) -> int:
        """What the worker thread does: take the newest pair, if any, and process it."""
        work = self.session.next_work(block=False)
        if work is None:
            return 0
        self.session.process(work)
        return 1

    def health(self):
        return self.session.health(self.clock.t, 50.0)


class WarmSquare:
    """A warm bright square moving over a noisy background in both cameras (fresh noise per frame, as
    a camera's), for tests on the shipped model; `box(i)` is the truth in visible pixels. The thermal
    image is the visible view at `thermal_size` (default: the same pixels)."""

    def __init__(self, size=(160, 128), thermal_size=None, side: float = 24.0, path=None, seed: int = 0):
        self.size, self.thermal_size, self.side = size, thermal_size or size, side
        self.path = path or (lambda i: (60.0 + 15.0 * np.sin(i / 25.0), 50.0 + 8.0 * np.cos(i / 31.0)))
        self._rng = np.random.default_rng(seed)

    def box(self, i: int) -> np.ndarray:
        x, y = self.path(i)
        return np.array([x, y, self.side, self.side])

    def __call__(self, i: int):
        (w, h), (tw, th) = self.size, self.thermal_size
        x, y, s, _ = self.box(i)
        visible = self._rng.integers(40, 90, (h, w, 3), dtype=np.uint8)
        visible[int(round(y)):int(round(y + s)), int(round(x)):int(round(x + s))] = (230, 200, 60)
        thermal = (2900 + self._rng.normal(0, 20, (th, tw))).astype(np.uint16)
        sx, sy = tw / w, th / h
        thermal[int(round(y * sy)):int(round((y + s) * sy)), int(round(x * sx)):int(round((x + s) * sx))] = 5200
        return visible, thermal
