"""The C heap of long runs whose peak memory is bounded (glibc; a no-op elsewhere).

PyTorch and NumPy allocate through ``malloc``. glibc serves a block above its mmap
threshold with its own mapping, returned to the system on ``free``; the threshold
rises to the size of every such block freed (up to 32 MiB), after which blocks of a few
MiB come from the heap, whose free pages stay resident. In a run that allocates a few
large one-off arrays (data sets, patch matrices) the heap then keeps their pages on top
of the next stage's working set: :func:`bound_heap` fixes the thresholds instead, and
:func:`trim_heap` hands the heap's free pages back between stages.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 4 << 20  # bytes: larger blocks get their own mapping
TRIM_THRESHOLD = 16 << 20  # bytes of free heap top kept (re-used, not re-faulted)


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018 (glibc only: musl has neither)
    except (OSError, AttributeError):
        return None
    return libc


def bound_heap(mmap_threshold: int = MMAP_THRESHOLD,
               trim_threshold: int = TRIM_THRESHOLD) -> bool:
    """Fix glibc's mmap and trim thresholds for the rest of the process (see the module
    docstring); False where the C library is not glibc."""
    libc = _libc()
    if libc is None:
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, int(mmap_threshold))
                and libc.mallopt(M_TRIM_THRESHOLD, int(trim_threshold)))


def trim_heap() -> bool:
    """Hand the heap's free pages back to the system (``malloc_trim(0)``): a few
    milliseconds, for a stage boundary; False where nothing was released or not glibc."""
    libc = _libc()
    return bool(libc is not None and libc.malloc_trim(0))
