"""Giving freed heap memory back to the system (glibc), so a process's resident memory stays near
what it uses after a burst of large allocations.

Camera frames are a few MB each. glibc serves the first from mmap and returns it on free, then
raises its mmap threshold to the freed size, so later frames come from the heap arenas, and memory
freed there can stay resident. `release_free_heap` asks glibc how much the arenas hold free and,
beyond a threshold, trims them (malloc_trim: free pages are returned, the heap stays usable).
Elsewhere than glibc it does nothing.

Not done: fixing the mmap threshold (mallopt) so every frame is mapped and unmapped on its own. It
held a 200 Hz flood of 640x480 pairs to +48 MB of peak RSS (+209 MB without), but took the node
from 13 to 65 ms per 1920x1080 pair at 30 Hz (each 6 MB frame faulted in anew): node-bench here.
"""

from __future__ import annotations

import ctypes
import ctypes.util


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


def _glibc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    if not (hasattr(libc, "mallinfo2") and hasattr(libc, "malloc_trim")):
        return None  # not glibc, or older than 2.33
    libc.mallinfo2.restype = _MallInfo2
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    return libc


_LIBC = _glibc()


def free_heap_bytes() -> int | None:
    """Bytes the heap arenas hold free (not returned to the system); None where unknown."""
    return None if _LIBC is None else int(_LIBC.mallinfo2().fordblks)


def release_free_heap(threshold_bytes: int) -> int:
    """Trim the heap when it holds more than `threshold_bytes` free; the free bytes it held (0: no trim)."""
    free = free_heap_bytes()
    if free is None or free <= threshold_bytes:
        return 0
    _LIBC.malloc_trim(0)
    return free

