"""Issue 14, finding 8, without DDS: the pair buffer is bounded in bytes as well as in seconds, so
memory does not grow with the input rate or the resolution; freed heap memory goes back to the
system.

Before: the buffer was sized in seconds only (2 s x the rate x the pair's bytes).
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from helpers.paths import REPO
from helpers.session_rig import Rig
from rgbt_tracker_ros.common import native_memory
from rgbt_tracker_ros.ros import parameters
from rgbt_tracker_ros.ros.node_session import CameraFrame
from rgbt_tracker_ros.ros.pair_buffer import PairBuffer, StampNotBuffered, pair_nbytes
from rgbt_tracker_ros.ros.pairing import Frame, Pair

MB = 1024 * 1024
S = 1_000_000_000


def _pair(stamp_ns: int, visible_bytes: int = MB, thermal_bytes: int | None = MB // 2) -> Pair:
    visible = Frame(stamp_ns, CameraFrame(np.zeros(visible_bytes, np.uint8), "v"), 0.0)
    thermal = None if thermal_bytes is None else Frame(stamp_ns, CameraFrame(np.zeros(thermal_bytes, np.uint8), "t"), 0.0)
    return Pair(visible=visible, thermal=thermal, skew_ns=0)


def test_bytes_of_a_pair_are_its_images():
    assert pair_nbytes(_pair(S)) == MB + MB // 2
    assert pair_nbytes(_pair(S, thermal_bytes=None)) == MB
    assert pair_nbytes(Pair(visible=Frame(S, "not an image", 0.0), thermal=None, skew_ns=0)) == 0


def test_the_buffer_drops_its_oldest_pairs_beyond_max_bytes():
    buffer = PairBuffer(seconds=10.0, max_bytes=10 * MB)
    for i in range(100):  # 100 pairs of 1.5 MB within 1 s: the seconds would keep them all
        buffer.push(_pair(S + i * 10_000_000))
    assert buffer.nbytes <= 10 * MB and len(buffer) == 6
    assert buffer.nbytes == sum(pair_nbytes(p) for p in buffer.after(0))
    assert buffer.newest().stamp_ns == S + 99 * 10_000_000
    with pytest.raises(StampNotBuffered, match="128|10 MB"):
        buffer.find(S, 1_000_000)


def test_the_newest_pair_is_kept_even_when_larger_than_the_bound():
    buffer = PairBuffer(seconds=2.0, max_bytes=MB)
    buffer.push(_pair(S, visible_bytes=4 * MB))
    assert len(buffer) == 1 and buffer.nbytes == 4 * MB + MB // 2


def test_resize_to_fewer_bytes_drops_at_once_and_clear_counts_nothing():
    buffer = PairBuffer(seconds=10.0, max_bytes=100 * MB)
    for i in range(20):
        buffer.push(_pair(S + i * 10_000_000))
    assert buffer.nbytes == 30 * MB
    buffer.resize(10.0, 3 * MB)
    assert len(buffer) == 2 and buffer.nbytes == 3 * MB
    buffer.resize(10.0)  # the bytes bound unchanged
    assert buffer.max_bytes == 3 * MB
    buffer.clear()
    assert buffer.nbytes == 0 and len(buffer) == 0
    buffer.push(_pair(S))
    assert buffer.nbytes == MB + MB // 2
    with pytest.raises(ValueError):
        buffer.resize(1.0, 0)


def test_a_session_flooded_at_200_hz_keeps_the_buffer_within_its_megabytes():
    """640x480 rgb8 + 640x512 mono16 pairs at 200 Hz for 2 s: 2 s of them would be 600 MB."""
    rng = np.random.default_rng(0)
    frames = [(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8), rng.integers(0, 4000, (512, 640), dtype=np.uint16))
              for _ in range(4)]
    rig = Rig(buffer_seconds=2.0, buffer_megabytes=64.0)
    pair_mb = (frames[0][0].nbytes + frames[0][1].nbytes) / MB
    for i in range(400):
        rig.clock.t += 0.005
        stamp = rig.stamp_ns + i * 5_000_000
        visible, thermal = frames[i % 4]
        rig.session.add_frame("visible", stamp, CameraFrame(visible, "v"), rig.clock.t)
        rig.session.add_frame("thermal", stamp + 1_000_000, CameraFrame(thermal, "t"), rig.clock.t + 0.001)
        if i % 3 == 0:  # the worker keeps up with a third of them
            rig.work_through()
    pairs, seconds, megabytes = rig.health().pair_buffer
    assert megabytes <= 64.0 and pairs == int(64.0 // pair_mb) and seconds < 0.25, (pairs, seconds, megabytes)
    rig.session.update(rig.pairing, 2.0, 16.0)  # ros2 param set buffer_megabytes 16
    assert rig.health().pair_buffer[2] <= 16.0
    assert rig.session.init_target((60.0, 50.0, 24.0, 24.0), 0)[0]  # the newest pair is there


_HELD_FRAMES = """
import threading, numpy as np
from rgbt_tracker_ros.common import native_memory
from rgbt_tracker_ros.ros import parameters
def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
warm = [np.ones(1_500_000, np.uint8) for _ in range(4)]
del warm  # freeing these raised glibc's mmap threshold: the next frames come from the heap
kept = []
def camera_thread():
    frames = [np.ones(1_500_000, np.uint8) for _ in range(200)]
    kept.extend(frames[::50])  # survivors pin the arena: it cannot shrink from the top alone
    frames.clear()
thread = threading.Thread(target=camera_thread)
thread.start()
thread.join()
free, before = native_memory.free_heap_bytes(), rss_mb()
untrimmed = native_memory.release_free_heap(threshold_bytes=1024 * 2**20)
trimmed = native_memory.release_free_heap(threshold_bytes=32 * 2**20)
print(free / 2**20, before, untrimmed, trimmed / 2**20, rss_mb())
"""


@pytest.mark.skipif(native_memory.free_heap_bytes() is None, reason="glibc's mallinfo2 / malloc_trim only")
def test_freed_heap_memory_goes_back_to_the_system():
    """Frames allocated by a thread, most freed while a few stay: the heap keeps the freed memory
    resident until trimmed (in a fresh interpreter: the heap's state is the process's history)."""
    free_mb, rss_before, untrimmed, trimmed_mb, rss_after = _held_frames()
    assert free_mb > 100                         # the freed frames are still held, resident
    assert untrimmed == 0                        # under the threshold: no trim
    assert trimmed_mb == pytest.approx(free_mb, abs=1) and rss_before - rss_after > 100


def _held_frames() -> list[float]:
    done = subprocess.run([sys.executable, "-c", _HELD_FRAMES], cwd=REPO, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    return [float(v) for v in done.stdout.split()]


def test_buffer_megabytes_is_a_dynamic_parameter_with_a_range():
    spec = parameters.SPEC_BY_NAME["buffer_megabytes"]
    descriptor = spec.descriptor()
    assert not descriptor.read_only and spec.default == 128.0
    assert (descriptor.floating_point_range[0].from_value, descriptor.floating_point_range[0].to_value) == (1.0, 4096.0)
    assert parameters.check("buffer_megabytes", 256.0) is None
    assert parameters.check("buffer_megabytes", 0.5) == "buffer_megabytes must be in [1, 4096], got 0.5"
    assert parameters.check("buffer_megabytes", float("nan")) == "buffer_megabytes must be a finite number, got nan"
    _, runtime = parameters.settings_from({s.name: s.default for s in parameters.SPECS})
    assert runtime.buffer_megabytes == 128.0
