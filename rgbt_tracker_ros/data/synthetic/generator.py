"""Synthetic RGB-T sequences whose frames are rendered on demand.

make_sequence draws everything random about a sequence from its seed at once (cheap: a plan of
trajectories and events); frames are rendered only when indexed, so a training sampler that reads
two frames of a sequence pays for two frames. A frame depends only on (seed, config, index), so
random access and sequential access give bit-identical frames.
"""

from __future__ import annotations

import operator
import threading
from collections import OrderedDict

import numpy as np

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.sequence import Sequence
from rgbt_tracker_ros.data.synthetic.config import SyntheticConfig
from rgbt_tracker_ros.data.synthetic.plan import ScenePlan, plan_scene
from rgbt_tracker_ros.data.synthetic.render import SceneAssets, build_assets, render_frame
from rgbt_tracker_ros.data.synthetic.textures import texture_library
from rgbt_tracker_ros.tracking.geometry import scaling_homography

# Seeds of each split: disjoint ranges, so validation and test sequences are never trained on.
SPLIT_SEED_START = {"train": 0, "val": 1_000_000, "test": 2_000_000}
SPLIT_SEED_COUNT = 1_000_000


class _LRU:
    """A small thread-safe least-recently-used cache shared by all sequences of the process.

    Shared rather than per sequence so that memory stays bounded however many sequences a sampler holds.
    """

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_ASSETS = _LRU(16)
_FRAMES = _LRU(16)


class SyntheticScene:
    """One synthetic sequence: its plan, and frame pairs rendered on demand."""

    def __init__(self, seed: int, config: SyntheticConfig):
        self.seed = seed
        self.config = config
        # Textures are not kept here (they are per process), so a pickled sequence stays small.
        self.plan: ScenePlan = plan_scene(seed, config, len(texture_library()))

    def __len__(self) -> int:
        return self.plan.length

    def _assets(self) -> SceneAssets:
        key = (self.seed, self.config)
        assets = _ASSETS.get(key)
        if assets is None:
            assets = build_assets(self.seed, self.config, self.plan, texture_library())
            _ASSETS.put(key, assets)
        return assets

    def frame_pair(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(visible RGB uint8, thermal) of frame `index`; the arrays are shared, do not modify them."""
        key = (self.seed, self.config, index)
        pair = _FRAMES.get(key)
        if pair is None:
            pair = render_frame(self.seed, self.config, self.plan, self._assets(), index)
            for image in pair:
                image.setflags(write=False)
            _FRAMES.put(key, pair)
        return pair


class RenderedFrames:
    """One camera ('visible' or 'thermal') of a SyntheticScene, as a FrameSource."""

    def __init__(self, scene: SyntheticScene, camera: str):
        if camera not in ("visible", "thermal"):
            raise ValueError(f"camera must be 'visible' or 'thermal', got {camera!r}")
        self.scene = scene
        self.camera = camera

    def __len__(self) -> int:
        return len(self.scene)

    def __getitem__(self, index: int) -> np.ndarray:
        index = operator.index(index)
        count = len(self.scene)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError(f"frame {index} out of range for a sequence of {count} frames")
        visible, thermal = self.scene.frame_pair(index)
        # A copy, so callers may draw on it without touching the cache.
        return (visible if self.camera == "visible" else thermal).copy()


def make_sequence(seed: int, config: SyntheticConfig = SyntheticConfig()) -> Sequence:
    """The synthetic RGB-T sequence of `seed`: the same (seed, config) gives bit-identical frames.

    groundtruth is the full target box (also while occluded), clipped to the frame; attributes holds
    per-frame booleans for every challenge (see plan.ATTRIBUTE_NAMES).
    """
    seed = operator.index(seed)
    if seed < 0:
        raise InputError(f"seed must be non-negative, got {seed}")
    scene = SyntheticScene(seed, config)
    thermal_to_visible = None
    if config.thermal_size is not None:
        thermal_to_visible = scaling_homography(config.thermal_size, (config.width, config.height))
    return Sequence(
        name=f"synthetic_{seed:07d}",
        visible=RenderedFrames(scene, "visible"),
        thermal=RenderedFrames(scene, "thermal"),
        groundtruth=scene.plan.groundtruth.copy(),
        protocol="otb",
        attributes={name: values.copy() for name, values in scene.plan.attributes.items()},
        thermal_to_visible=thermal_to_visible,
    )


def split_seeds(split: str, count: int, start: int = 0) -> range:
    """Seeds of `count` sequences of a split ('train', 'val' or 'test'), from the start-th on.

    train uses seeds 0..999_999, val 1_000_000..1_999_999 and test 2_000_000..2_999_999, so the
    splits never share a sequence.
    """
    if split not in SPLIT_SEED_START:
        raise InputError(f"unknown split {split!r}; expected one of {sorted(SPLIT_SEED_START)}")
    if count < 0 or start < 0 or start + count > SPLIT_SEED_COUNT:
        raise InputError(f"a split holds {SPLIT_SEED_COUNT} sequences; asked for {count} from {start}")
    first = SPLIT_SEED_START[split] + start
    return range(first, first + count)


def synthetic_sequences(
    split: str, count: int, config: SyntheticConfig = SyntheticConfig(), start: int = 0
) -> list[Sequence]:
    """`count` lazy synthetic sequences of a split.

    'train' and 'val' (and 'test') draw from disjoint seed ranges (train from 0, val from 1_000_000,
    test from 2_000_000), so validation sequences are never trained on. Creating a sequence only
    draws its plan; frames are rendered when read.
    """
    return [make_sequence(seed, config) for seed in split_seeds(split, count, start)]
