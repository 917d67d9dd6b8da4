"""The student's per-frame time beside the OpenCV peers' (`bench`'s comparison), on the same frames.

Contenders: the student on RGB-T (`student-rgbt`, boxes in visible pixels) and on thermal only
(`student-thermal`), and each peer on the thermal frames (`csrt-thermal`, ...; thermal pixels). They
are timed interleaved frame by frame, in an order that rotates every frame, so that a burst of load
on the shared machine hits all of them alike; making the frame stays outside the timing. Each
contender's time is a whole track() call: its thermal stretch, crop and network (or filter) included.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.evaluation.bench_scene import Latency, MovingTarget, latency
from rgbt_tracker_ros.evaluation.peers import MODEL_FILES, PEER_KINDS, OpenCVPeer, PeerModels, unavailable_note
from rgbt_tracker_ros.tracking.result import TrackState

STUDENT_RGBT = "student-rgbt"
STUDENT_THERMAL = "student-thermal"


def peer_kinds(text: str | None, models: PeerModels | None) -> tuple[list[str], list[str]]:
    """(kinds to run, one-line notes on those skipped) from `--peers`: a comma list of peer kinds,
    'none', or None for csrt and kcf, plus nano and vit when a peer-model folder is given."""
    if text is None:
        requested = [kind for kind in PEER_KINDS if kind not in MODEL_FILES or models is not None]
    else:
        requested = []
        for kind in (part.strip().lower() for part in text.split(",")):
            if kind in ("", "none"):
                continue
            if kind not in PEER_KINDS:
                raise InputError(f"unknown peer {kind!r} in --peers; known: {', '.join(PEER_KINDS)}, none")
            if kind not in requested:
                requested.append(kind)
    notes = {kind: unavailable_note(kind, models) for kind in requested}
    return [kind for kind in requested if notes[kind] is None], [note for note in notes.values() if note]


@dataclass
class Contender:
    name: str
    tracker: object            # initialize / track
    thermal_only: bool         # fed (None, thermal) with boxes in thermal pixels


def contenders(student_rgbt, student_thermal, peer_kinds: list[str],
               models: PeerModels | None) -> list[Contender]:
    """The two students (separate trackers: each keeps its own state) and a thermal peer per kind."""
    return [Contender(STUDENT_RGBT, student_rgbt, False), Contender(STUDENT_THERMAL, student_thermal, True),
            *(Contender(f"{kind}-thermal", OpenCVPeer(kind, "thermal", models=models), True)
              for kind in peer_kinds)]


@dataclass(frozen=True)
class FrameTimes:
    latency: Latency
    lost_frames: int           # timed frames the contender reported LOST (a lost tracker may run faster)


def _thermal_box(scene: MovingTarget, i: int) -> np.ndarray:
    sx, sy = scene.scale
    return scene.box(i) / np.array([sx, sy, sx, sy])


def time_interleaved(entries: list[Contender], scene: MovingTarget, steps: int, warmup: int) -> dict[str, FrameTimes]:
    """One run: every contender initialised on frame 0, then frames 1.. tracked by all, `warmup`
    untimed and `steps` timed."""
    for entry in entries:
        visible, thermal = scene.frame(0)
        if entry.thermal_only:
            entry.tracker.initialize(None, thermal, _thermal_box(scene, 0))
        else:
            entry.tracker.initialize(visible, thermal, scene.box(0))
    seconds: dict[str, list[float]] = {entry.name: [] for entry in entries}
    lost = dict.fromkeys(seconds, 0)
    for i in range(1, warmup + steps + 1):
        visible, thermal = scene.frame(i)
        shift = i % len(entries)
        for entry in entries[shift:] + entries[:shift]:
            start = time.perf_counter()
            result = entry.tracker.track(None if entry.thermal_only else visible, thermal)
            elapsed = time.perf_counter() - start
            if i > warmup:
                seconds[entry.name].append(elapsed)
                lost[entry.name] += result.state is TrackState.LOST
    return {name: FrameTimes(latency(times), lost[name]) for name, times in seconds.items()}


def compare(entries: list[Contender], scene: MovingTarget, runs: int, steps: int, warmup: int,
            progress: bool = True) -> dict:
    """Per contender the median over runs of p50 / p95 (ms) and the lost frames of the last run, and
    per peer the ratios student / peer of the p50s (below 1: the student is faster), JSON-ready."""
    results = [time_interleaved(entries, scene, steps, warmup)
               for _ in tqdm(range(runs), desc="student beside the peers", unit="run", file=sys.stderr,
                             leave=False, disable=not progress)]
    trackers = {
        entry.name: {
            "frame_ms_p50": float(np.median([r[entry.name].latency.p50 for r in results])),
            "frame_ms_p95": float(np.median([r[entry.name].latency.p95 for r in results])),
            "lost_frames_last_run": results[-1][entry.name].lost_frames,
            "input": "thermal" if entry.thermal_only else "rgbt",
        }
        for entry in entries
    }
    students = (STUDENT_THERMAL, STUDENT_RGBT)
    ratios = {
        name: {student: trackers[student]["frame_ms_p50"] / value["frame_ms_p50"] for student in students}
        for name, value in trackers.items() if name not in students and value["frame_ms_p50"] > 0
    }
    return {"trackers": trackers, "ratios": ratios, "runs": runs, "steps": steps, "warmup": warmup,
            "order": "interleaved frame by frame, rotating"}
