"""Giving freed heap memory back to the system (glibc), so a process's resident memory stays near
what it uses through and after a burst of large allocations.

Camera frames are a few MB each. glibc serves the first from mmap and returns it on free, then
raises its mmap threshold to the freed size, so later frames come from the heap arenas, and memory
freed there stays resident. `map_large_allocations` fixes the threshold (mallopt), so every frame
is mapped and unmapped on its own (node-bench, 200 Hz flood of 640x480 pairs: peak RSS +180 MB
over the flood's start without it, +58 MB with the threshold at 256 KB); `release_free_heap` asks
glibc how much the arenas hold free and, beyond a threshold, trims them (malloc_trim: free pages are
returned, the heap stays usable), for what smaller allocations leave behind. Elsewhere than glibc
both do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
# The user's own setting of glibc's threshold (environment) is left alone.
_THRESHOLD_VARIABLE = "MALLOC_MMAP_THRESHOLD_"


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


def _glibc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    if not all(hasattr(libc, name) for name in ("mallinfo2", "malloc_trim", "mallopt")):
        return None  # not glibc, or older than 2.33
    libc.mallinfo2.restype = _MallInfo2
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
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


def map_large_allocations(threshold_bytes: int = 256 * 1024) -> bool:
    """Serve allocations above `threshold_bytes` by mmap from now on, process-wide (frames freed are
    unmapped at once); False where not glibc or the environment sets the threshold already."""
    if _LIBC is None or os.environ.get(_THRESHOLD_VARIABLE):
        return False
    return bool(_LIBC.mallopt(_M_MMAP_THRESHOLD, int(threshold_bytes)))
