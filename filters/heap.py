"""Freed heap pages handed back to the system now and then, so a long run's memory stays flat.

glibc's ``free`` gives memory back to the system only from the top of the heap: pages freed in
its middle stay resident. A process that allocates and frees buffers of many sizes for every
chunk of a stream (the audit's BAM chunks, its reads looked at one by one) so grows with the
input's size although what it holds does not: genoscrub-audit with ``--germline`` held ~15 MB of
Python objects throughout, yet its resident set rose from 100 MB after 0.3M records to 185 MB
after 3M and 230 MB after 12M, and ``malloc_trim(0)`` brought it back to 58 MB.

``malloc_trim`` releases every free page, and the pages are faulted in again when the heap
grows into them: called after every chunk it cost a third more CPU (system time); called once
every ``EVERY_CHUNKS`` chunks, in the audit's parent and in each worker, it kept the peak at
99 MB after 0.3M records and 103 MB after 3M (``-j 1``; 84 and 86 MB with two workers) for no
measurable CPU. Where the C library has no ``malloc_trim`` (musl, macOS) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

EVERY_CHUNKS = 32
"""Chunks between two trims: ~100 MB of the audit's compressed BAM (3 MiB chunks)."""


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _malloc_trim()


class HeapTrim:
    """Counts the chunks a process has handled and trims its heap every ``every`` of them."""

    def __init__(self, every: int = EVERY_CHUNKS) -> None:
        self.every = every
        self.chunks = 0

    def chunk_done(self) -> None:
        self.chunks += 1
        if _TRIM is not None and self.chunks % self.every == 0:
            _TRIM(0)
