"""A short history of recent pairs, so an operator's box drawn on a delayed view lands on its frame.

`~/init_target` looks up the pair with the stamp the box was drawn on, initialises there and tracks
through the pairs after it (`after`) to catch up with the present. Pure Python; the caller locks.
"""

from __future__ import annotations

from collections import deque

from rgbt_tracker_ros.ros.pairing import Pair

_NS = 1_000_000_000


class StampNotBuffered(LookupError):
    """No buffered pair matches the requested stamp; the message says why (too old, too new, gap)."""


class PairBuffer:
    """Pairs of the last `seconds` (by stamp), at most `max_pairs`, oldest first."""

    def __init__(self, seconds: float = 2.0, max_pairs: int = 600):
        if not seconds >= 0.0:
            raise ValueError(f"seconds must be >= 0, got {seconds!r}")
        if max_pairs < 1:
            raise ValueError(f"max_pairs must be >= 1, got {max_pairs!r}")
        self.seconds = float(seconds)
        self.max_pairs = int(max_pairs)
        self._pairs: deque[Pair] = deque()

    def __len__(self) -> int:
        return len(self._pairs)

    def resize(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self._trim()

    def clear(self) -> None:
        self._pairs.clear()

    def push(self, pair: Pair) -> bool:
        """Append the newest pair. A stamp not after the newest one clears the history first (time
        went back) and returns False."""
        ordered = not self._pairs or pair.stamp_ns > self._pairs[-1].stamp_ns
        if not ordered:
            self._pairs.clear()
        self._pairs.append(pair)
        self._trim()
        return ordered

    def newest(self) -> Pair | None:
        return self._pairs[-1] if self._pairs else None

    def find(self, stamp_ns: int, tolerance_ns: int) -> Pair:
        """The pair whose visible or thermal stamp is closest to `stamp_ns`, within `tolerance_ns`."""
        if not self._pairs:
            raise StampNotBuffered("no frames yet: the buffer is empty")
        oldest, newest = self._pairs[0].stamp_ns, self._pairs[-1].stamp_ns
        if stamp_ns < oldest - tolerance_ns:
            raise StampNotBuffered(
                f"stamp {_fmt(stamp_ns)} is not in the buffer: it is {(oldest - stamp_ns) / _NS:.3f} s older "
                f"than the oldest buffered pair ({_fmt(oldest)}); the buffer holds {self.seconds:g} s "
                "(parameter buffer_seconds)"
            )
        if stamp_ns > newest + tolerance_ns:
            raise StampNotBuffered(
                f"stamp {_fmt(stamp_ns)} is not in the buffer: it is {(stamp_ns - newest) / _NS:.3f} s newer "
                f"than the newest pair ({_fmt(newest)}); is the caller's clock the cameras' clock?"
            )
        best, best_gap = None, None
        for pair in self._pairs:
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
        return [p for p in self._pairs if p.stamp_ns > stamp_ns]

    def span_s(self) -> float:
        """Stamp distance between the oldest and the newest buffered pair, in seconds."""
        return (self._pairs[-1].stamp_ns - self._pairs[0].stamp_ns) / _NS if self._pairs else 0.0

    def _trim(self) -> None:
        pairs = self._pairs
        if not pairs:
            return
        horizon = pairs[-1].stamp_ns - int(round(self.seconds * _NS))
        while len(pairs) > 1 and (pairs[0].stamp_ns < horizon or len(pairs) > self.max_pairs):
            pairs.popleft()


def _fmt(stamp_ns: int) -> str:
    sec, nsec = divmod(int(stamp_ns), _NS)
    return f"{sec}.{nsec:09d}"
