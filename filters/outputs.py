"""Outputs: stdout, or ``-o PATH`` complete under its name or not there at all.

A run killed mid-way (SIGKILL from the OOM killer, a preempted cluster job) must never
leave a file that looks finished (ARCHITECTURE.md, *Outputs and children*).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import BinaryIO, cast

import xopen
from genoscrub.report import UsageError

# # A run killed mid-way (SIGKILL from the OOM killer, a preempted cluster job) must never
# leave a file that looks finished. So ``-o PATH`` writes a temporary name beside the
# target (``.genoscrub-XXXXXXXX-NAME``: hidden, and ending in NAME so the compression a
# name asks for is kept) and ``cli.run`` renames it into place only once the command has
# succeeded (``pending_outputs.commit``); a failed run removes it (``discard``). A device,
# FIFO or ``/dev/stdout`` is written in place and never removed.


class OutputTarget:
    """Where ``-o PATH`` writes: ``writing`` (a temporary name beside the target, or the
    path itself for a device or FIFO) until ``commit`` renames it to ``path``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.final = os.path.realpath(path)  # a symlink stays a link; its target is replaced
        self.in_place = not _regular_or_absent(path)
        self.writing = self.final if self.in_place else ""
        self.done = False
        if self.in_place:
            _in_place.append(path)
            return
        folder, name = os.path.split(self.final)
        try:
            handle, self.writing = tempfile.mkstemp(prefix=".genoscrub-", suffix="-" + name, dir=folder or ".")
        except OSError as error:
            raise UsageError(f"cannot write {path}: {error.strerror}") from None
        os.close(handle)
        pending_outputs.add(self)

    def commit(self) -> None:
        """Give the finished file its name, with the mode a new file gets (or the old one's)."""
        if self.done or self.in_place:
            return
        try:
            mode = stat.S_IMODE(os.stat(self.final).st_mode)
        except OSError:
            mask = os.umask(0)
            os.umask(mask)
            mode = 0o666 & ~mask
        os.chmod(self.writing, mode)
        os.replace(self.writing, self.final)
        self.done = True  # only now: a failed rename leaves the temporary for discard

    def discard(self) -> None:
        """Remove the unfinished file (never a device: those are written in place)."""
        if self.done or self.in_place:
            return
        self.done = True
        with contextlib.suppress(OSError):
            os.unlink(self.writing)


def _regular_or_absent(path: str) -> bool:
    """A regular file or nothing yet: what may be replaced by a finished file (never a
    device, a FIFO or ``/dev/stdout``; as root, replacing ``/dev/null`` breaks the machine)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return True
    except OSError:
        return False



class _PendingOutputs:
    """The output files of this run not yet given their names; ``cli.run`` commits
    them after the command succeeded and discards them otherwise."""

    def __init__(self) -> None:
        self._targets: list[OutputTarget] = []
        self._lock = threading.Lock()

    def add(self, target: OutputTarget) -> None:
        with self._lock:
            self._targets.append(target)

    def commit(self) -> None:
        """One at a time: a target stays listed until it has its name, so a failed rename
        leaves the rest to ``discard``."""
        while True:
            with self._lock:
                if not self._targets:
                    return
                target = self._targets[0]
            target.commit()
            with self._lock:
                self._targets.remove(target)

    def discard(self) -> None:
        with self._lock:
            targets, self._targets = self._targets, []
        for target in targets:
            target.discard()


pending_outputs = _PendingOutputs()
_in_place: list[str] = []


def in_place_outputs() -> list[str]:
    """The ``-o`` paths written in place (a FIFO, a device): where a closed reader is the
    downstream pipe closing, as on stdout (``cli.downstream_closed``)."""
    return list(_in_place)


def open_output(path: str | None) -> BinaryIO:
    """stdout for ``None``/``-``; otherwise a file (see OutputTarget), compressed when named ``.gz``/``.zst``."""
    if path is None or path == "-":
        return cast(BinaryIO, sys.stdout.buffer)
    target = OutputTarget(path)
    try:
        return cast(BinaryIO, xopen.xopen(target.writing, "wb", threads=0))
    except OSError as error:
        target.discard()
        raise UsageError(f"cannot write {path}: {error.strerror}") from None


@contextlib.contextmanager
def output_stream(path: str | None) -> Iterator[BinaryIO]:
    """``open_output`` as a context: closed on success (``cli.run`` then gives it its
    name), closed and removed on any error; stdout is only flushed."""
    to_file = path is not None and path != "-"
    sink = open_output(path)
    try:
        yield sink
        if to_file:
            sink.close()
        else:
            sink.flush()
    except BaseException:
        if to_file:
            with contextlib.suppress(OSError):
                sink.close()
            pending_outputs.discard()
        raise


def is_disk_full(error: OSError) -> bool:
    return error.errno in (errno.ENOSPC, errno.EDQUOT)


def c_errno() -> int:
    """The C library's errno of this thread (glibc), or 0 where it cannot be read:
    htslib's write errors reach Python without one."""
    try:
        location = ctypes.CDLL(None).__errno_location
    except (AttributeError, OSError):
        return 0
    location.restype = ctypes.POINTER(ctypes.c_int)
    return int(location()[0])
