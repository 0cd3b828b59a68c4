"""SIGTERM and SIGHUP end a command as Ctrl-C does.

A cluster's time limit or preemption (SLURM), Snakemake stopping its jobs, ``timeout`` and a
closed terminal end a process with SIGTERM or SIGHUP, whose default action kills it on the
spot: no ``finally`` runs, so ``-o``'s hidden temporary file stays beside the target and a
decompressed copy of a germline list stays in ``$TMPDIR`` (ARCHITECTURE.md, *Outputs and
children*). ``cli.run`` installs ``install``'s handler instead: the signal raises ``Stopped`` in
the main thread, which unwinds like Ctrl-C's KeyboardInterrupt (it is one), every context
manager cleans up, and the command exits 128 + the signal's number with one line on stderr.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

STOPPING = (signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class Stopped(KeyboardInterrupt):
    """Raised by SIGTERM or SIGHUP (and Ctrl-C, through the same handler): a KeyboardInterrupt,
    so code that already cleans up after Ctrl-C cleans up after these too."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _State:
    received: int | None = None  # the first stopping signal of this run
    pending: int | None = None  # received while deferred, not raised yet
    deferred = 0


_state = _State()


def install() -> None:
    """Route SIGINT, SIGTERM and SIGHUP to ``Stopped`` (main thread only, as Python requires).
    A signal whose disposition is SIG_IGN stays ignored (``nohup`` ignores SIGHUP; a
    background job of a non-interactive shell ignores SIGINT)."""
    _state.received = _state.pending = None
    if threading.current_thread() is not threading.main_thread():
        return  # a command run inside a test's thread: only the main thread may set handlers
    for signum in (signal.SIGINT, *STOPPING):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _stop)


def uninstall() -> None:
    """Back to the defaults once the run's end is decided: a signal during interpreter shutdown
    kills as it would any program, rather than raising inside an exit handler."""
    for signum in STOPPING:
        if signal.getsignal(signum) is _stop:
            signal.signal(signum, signal.SIG_DFL)


def received() -> int | None:
    """The stopping signal this run got, if any: whatever error it caused on its way (a child
    killed by the same signal, a pipe it closed) is reported as the stop, not as that error."""
    return _state.received


def _stop(signum: int, _frame: FrameType | None) -> None:
    if _state.received is not None:
        return  # the first one is being handled: its cleanup must not be cut short
    _state.received = signum
    if _state.deferred:
        _state.pending = signum
        return
    raise Stopped(signum)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold a stop until the block is done (renaming finished outputs into place: a stop
    between two renames would leave the second temporary file behind), then raise it."""
    _state.deferred += 1
    try:
        yield
    finally:
        _state.deferred -= 1
    if not _state.deferred and _state.pending is not None:
        signum, _state.pending = _state.pending, None
        raise Stopped(signum)


def for_worker() -> None:
    """In a forked worker process: the default action for SIGTERM and SIGHUP (it dies quietly;
    the parent, which gets the same signal from a job scheduler, reports the stop), and Ctrl-C
    ignored (the parent stops it). Never the parent's handler: a worker raising ``Stopped``
    while idle prints a multiprocessing traceback."""
    for signum in STOPPING:
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def die_with_parent(parent: int) -> None:
    """Have the kernel SIGKILL this process when its parent ends (Linux ``PR_SET_PDEATHSIG``;
    the parent's forking thread must be its main thread). Elsewhere, nothing."""
    with contextlib.suppress(AttributeError, OSError):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent:  # it ended before the request was made
        os._exit(1)


def name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
