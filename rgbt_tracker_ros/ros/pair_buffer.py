"""A short history of recent pairs, so an operator's box drawn on a delayed view lands on its frame.

`~/init_target` looks up the pair with the stamp the box was drawn on, initialises there and tracks
through the pairs after it (`after`) to catch up with the present. Pure Python; the caller locks.

The history is bounded by time (`seconds`), by count and by the bytes of the images it holds
(`max_bytes`), whichever is reached first: sized in seconds alone it grew with the input rate and
the resolution (a 200 Hz flood of 640x480 pairs held 2 s x 200 x 1.5 MB).
"""

from __future__ import annotations

from collections import deque

from rgbt_tracker_ros.ros.pairing import Pair

_NS = 1_000_000_000


class StampNotBuffered(LookupError):
    """No buffered pair matches the requested stamp; the message says why (too old, too new, gap)."""


DEFAULT_MAX_BYTES = 128 * 1024 * 1024


def pair_nbytes(pair: Pair) -> int:
    """Bytes of the images a pair holds (payloads with an `image` array; others count 0)."""
    total = 0
    for frame in (pair.visible, pair.thermal):
        image = getattr(frame.payload, "image", None) if frame is not None else None
        total += int(getattr(image, "nbytes", 0))
    return total


class PairBuffer:
    """Pairs of the last `seconds` (by stamp), at most `max_pairs` and `max_bytes` of images, oldest
    first; the newest pair is always kept."""

    def __init__(self, seconds: float = 2.0, max_pairs: int = 600, max_bytes: int = DEFAULT_MAX_BYTES):
        if max_pairs < 1:
            raise ValueError(f"max_pairs must be >= 1, got {max_pairs!r}")
        self.max_pairs = int(max_pairs)
        self._pairs: deque[tuple[Pair, int]] = deque()  # (pair, its bytes)
        self.nbytes = 0
        self.resize(seconds, max_bytes)

    def __len__(self) -> int:
        return len(self._pairs)

    def resize(self, seconds: float, max_bytes: int | None = None) -> None:
        """New bounds (`max_bytes` None: unchanged); pairs beyond them are dropped at once."""
        if not seconds >= 0.0:
            raise ValueError(f"seconds must be >= 0, got {seconds!r}")
        if max_bytes is not None and not max_bytes >= 1:
            raise ValueError(f"max_bytes must be >= 1, got {max_bytes!r}")
        self.seconds = float(seconds)
        if max_bytes is not None:
            self.max_bytes = int(max_bytes)
        self._trim()

    def clear(self) -> None:
        self._pairs.clear()
        self.nbytes = 0

    def push(self, pair: Pair) -> bool:
        """Append the newest pair. A stamp not after the newest one clears the history first (time
        went back) and returns False."""
        ordered = not self._pairs or pair.stamp_ns > self._pairs[-1][0].stamp_ns
        if not ordered:
            self.clear()
        size = pair_nbytes(pair)
        self._pairs.append((pair, size))
        self.nbytes += size
        self._trim()
        return ordered

    def newest(self) -> Pair | None:
        return self._pairs[-1][0] if self._pairs else None

    def find(self, stamp_ns: int, tolerance_ns: int) -> Pair:
        """The pair whose visible or thermal stamp is closest to `stamp_ns`, within `tolerance_ns`."""
        if not self._pairs:
            raise StampNotBuffered("no frames yet: the buffer is empty")
        oldest, newest = self._pairs[0][0].stamp_ns, self._pairs[-1][0].stamp_ns
        if stamp_ns < oldest - tolerance_ns:
            raise StampNotBuffered(
                f"stamp {_fmt(stamp_ns)} is not in the buffer: it is {(oldest - stamp_ns) / _NS:.3f} s older "
                f"than the oldest buffered pair ({_fmt(oldest)}); the buffer holds {self.seconds:g} s "
                f"and {self.max_bytes / 2**20:g} MB (parameters buffer_seconds, buffer_megabytes), "
                f"now {self.span_s():.3f} s"
            )
        if stamp_ns > newest + tolerance_ns:
            raise StampNotBuffered(
                f"stamp {_fmt(stamp_ns)} is not in the buffer: it is {(stamp_ns - newest) / _NS:.3f} s newer "
                f"than the newest pair ({_fmt(newest)}); is the caller's clock the cameras' clock?"
            )
        best, best_gap = None, None
        for pair, _ in self._pairs:
            for frame in (pair.visible, pair.thermal):
                if frame is not None:
                    gap = abs(frame.stamp_ns - stamp_ns)
                    if best_gap is None or gap < best_gap:
                        best, best_gap = pair, gap
        if best_gap > tolerance_ns:
            raise StampNotBuffered(
                f"stamp {_fmt(stamp_ns)} is not in the buffer: the closest buffered frame is "
                f"{best_gap / 1e6:.1f} ms away (tolerance {tolerance_ns / 1e6:.1f} ms); that frame was "
                "not paired or was dropped"
            )
        return best

    def after(self, stamp_ns: int) -> list[Pair]:
        """The buffered pairs stamped after `stamp_ns`, oldest first."""
        return [p for p, _ in self._pairs if p.stamp_ns > stamp_ns]

    def span_s(self) -> float:
        """Stamp distance between the oldest and the newest buffered pair, in seconds."""
        return (self._pairs[-1][0].stamp_ns - self._pairs[0][0].stamp_ns) / _NS if self._pairs else 0.0

    def _trim(self) -> None:
        pairs = self._pairs
        if not pairs:
            return
        horizon = pairs[-1][0].stamp_ns - int(round(self.seconds * _NS))
        while len(pairs) > 1 and (pairs[0][0].stamp_ns < horizon or len(pairs) > self.max_pairs
                                  or self.nbytes > self.max_bytes):
            self.nbytes -= pairs.popleft()[1]


def _fmt(stamp_ns: int) -> str:
    sec, nsec = divmod(int(stamp_ns), _NS)
    return f"{sec}.{nsec:09d}"
