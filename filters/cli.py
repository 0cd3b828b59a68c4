"""Typer set up for Unix filters, the options every command shares, and the
boundary where errors become one line on stderr and an exit status.

Commands only parse options and wire objects here; the work lives in their
transform functions, which know nothing of argv (ARCHITECTURE.md, *Layout*).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
from genoscrub import signals
from genoscrub.alignments import keep_references_local
from genoscrub.outputs import in_place_outputs, is_disk_full, pending_outputs
from genoscrub.pseudonyms import Pseudonyms
from genoscrub.regions import PRESETS
from genoscrub.report import (
    EXIT_DATA,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PIPE,
    EXIT_USAGE,
    InputError,
    Report,
    UsageError,
    WorkerFailed,
)
from genoscrub.streams import enlarge_pipe, keep_freed_chunks_in_the_heap, workers


def make_app() -> typer.Typer:
    """Plain ``--help`` (no boxes, no colour), no tracebacks, no completion options."""
    return typer.Typer(
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )


InputArgument = Annotated[
    str, typer.Argument(metavar="INPUT", help="Input path, or - for stdin (default); compression is detected by content.")
]
OutputOption = Annotated[Optional[str], typer.Option("-o", "--output", metavar="PATH", help="Write here instead of stdout.")]
VcfOutputTypeOption = Annotated[
    Optional[str],
    typer.Option("-O", "--output-type", metavar="v|z", help="v: VCF text (default); z: bgzipped VCF (BGZF, indexable by tabix)."),
]
MapOption = Annotated[
    Optional[Path],
    typer.Option(
        "--map",
        metavar="FILE",
        help="Two-column TSV original<TAB>pseudonym; an ID not in it is an error unless --key-file is also given.",
    ),
]
KeyFileOption = Annotated[
    Optional[Path],
    typer.Option(
        "--key-file",
        metavar="FILE",
        help="Secret key (mode 600): pseudonyms are keyed hashes (HMAC-SHA-256), the same on every machine holding the key.",
    ),
]
MapOutOption = Annotated[
    Optional[Path],
    typer.Option(
        "--map-out",
        metavar="FILE",
        help="Append each pseudonym assigned to this TSV (created mode 600): the linkage table to keep apart from the data.",
    ),
]
ReportOption = Annotated[
    Optional[Path],
    typer.Option("--report", metavar="FILE", help="Write a JSON summary of what was done (counts only, no identifiers)."),
]
QuietOption = Annotated[bool, typer.Option("-q", "--quiet", help="No summary line on stderr.")]

# Region lists, for the commands that drop or mask forensic loci.
BedOption = Annotated[
    Optional[list[str]],
    typer.Option("--bed", metavar="FILE", help="Regions from a BED file (gzip or not); may be given more than once."),
]
PresetOption = Annotated[
    Optional[list[str]],
    typer.Option(
        "--preset",
        metavar="NAME",
        help=f"Shipped region list: {', '.join(PRESETS)}; may be given more than once.",
    ),
]
BuildOption = Annotated[
    str,
    typer.Option(
        "--build",
        metavar="BUILD",
        help="Genome build of the presets: GRCh37, GRCh38, or auto (from the input's contig lengths).",
    ),
]
FlankOption = Annotated[
    int,
    typer.Option("--flank", metavar="N", help="Widen every region by N bases on each side."),
]


def open_pseudonyms(map_path: Path | None, key_file: Path | None, map_out: Path | None, map_out_read_names: bool = True) -> Pseudonyms:
    return Pseudonyms(map_path=map_path, key_path=key_file, map_out=map_out, map_out_read_names=map_out_read_names)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot raise."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def run(command: str, job: Callable[[Report], None], report_path: Path | None = None, quiet: bool = False) -> NoReturn:
    """Run ``job`` and turn every way it can end into one line and an exit status.

    An output file (``-o``) is written under a temporary name and renamed into
    place only here, once the job has returned (``outputs.pending_outputs``); any
    other end removes it, so a file under the output's name is always complete.
    The report is written only after the output is complete, so it is complete
    or absent. htslib never fetches a CRAM reference over the network
    (``alignments.keep_references_local``). A closed downstream pipe ends quietly with status 141, as a C
    tool killed by SIGPIPE would; a broken pipe that is not the downstream one
    (a helper process died) is an error. SIGTERM and SIGHUP end the job as Ctrl-C
    does (``signals``): everything is cleaned up, exit 128 + the signal's number,
    one line. However it ends, the reading and writing
    threads are stopped first (``streams.workers``): one left inside a read of
    stdin makes interpreter shutdown abort the process.
    """
    signals.install()
    try:
        _run(command, job, report_path, quiet)
    except SystemExit as done:
        status = EXIT_OK if done.code is None else done.code if isinstance(done.code, int) else EXIT_DATA
    signals.uninstall()
    if not workers.settle(timeout=2.0):
        # A reading or writing thread is still blocked (a stalled pipe): interpreter
        # shutdown would abort on the stream it holds, so leave as a C tool would.
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        os._exit(status)
    raise SystemExit(status)


def _run(command: str, job: Callable[[Report], None], report_path: Path | None, quiet: bool) -> NoReturn:
    report = Report(command)
    keep_freed_chunks_in_the_heap()
    enlarge_pipe(0)
    enlarge_pipe(1)
    try:
        try:
            keep_references_local()
            job(report)
            sys.stdout.flush()
            with signals.deferred():  # a stop waits until the outputs have their names
                pending_outputs.commit()
                if report_path is not None:
                    report.write(report_path)
        except BaseException:
            pending_outputs.discard()
            raise
    except KeyboardInterrupt as stop:
        _stopped(command, getattr(stop, "signum", signal.SIGINT))
    except Exception as error:
        if (stop_signal := signals.received()) is not None:
            # The stop's own effects (a child killed by the same signal, a pipe it
            # closed) can surface before it: the stop is what happened.
            _stopped(command, stop_signal)
        _failed(command, error)
    if not quiet:
        sys.stderr.write(report.summary_line() + "\n")
    raise SystemExit(EXIT_OK)


def _failed(command: str, error: Exception) -> NoReturn:
    """One line and the exit status for each way a job fails."""
    if isinstance(error, InputError):
        _fail(error.located(error.command or command), EXIT_DATA)
    if isinstance(error, UsageError):
        _fail(f"{error.command or command}: {error}", EXIT_USAGE)
    closed = isinstance(error, BrokenPipeError) and downstream_closed()  # before stdout goes to /dev/null
    _silence_stdout()
    if closed:
        raise SystemExit(EXIT_PIPE) from None
    if isinstance(error, WorkerFailed):
        _fail(f"{command}: {error}", EXIT_DATA)
    if isinstance(error, BrokenPipeError):
        _fail(f"{command}: a pipe to a helper process closed early: the output is incomplete", EXIT_DATA)
    if isinstance(error, OSError):
        # Disk full can only come from writing; other errors may come from either side.
        reason = error.strerror or type(error).__name__
        message = "cannot write output: no space left on device" if is_disk_full(error) else f"I/O error: {reason}"
        _fail(f"{command}: {message}", EXIT_DATA)
    # A bug. Its traceback could quote a record (an exception's message often holds
    # the value that broke it), so users get one line; tests set GENOSCRUB_TRACEBACKS.
    if os.environ.get("GENOSCRUB_TRACEBACKS"):
        raise error
    _fail(f"{command}: internal error ({type(error).__name__}): the output is incomplete; please report it", EXIT_DATA)


def _stopped(command: str, signum: int) -> NoReturn:
    """Ctrl-C ends quietly (the terminal shows it); SIGTERM and SIGHUP, sent by a scheduler
    or supervisor, leave one line in the job's log. Either way 128 + the signal's number."""
    _silence_stdout()
    if signum != signal.SIGINT:
        _fail(f"{command}: stopped by {signals.name(signum)}: the output is incomplete", 128 + signum)
    raise SystemExit(EXIT_INTERRUPTED)


def downstream_closed() -> bool:
    """Whether stdout, or an output written in place (a FIFO given to ``-o``), is a pipe whose
    reader has gone: only then is a BrokenPipeError the quiet ``| head`` case (141). A pipe to a
    child process that died (a hashing child killed by the OOM killer) is a failure instead."""
    return reader_gone(1) or any(fifo_reader_gone(path) for path in in_place_outputs())


def fifo_reader_gone(path: str) -> bool:
    """A FIFO without a reader cannot be opened for writing without blocking (ENXIO)."""
    try:
        if not stat.S_ISFIFO(os.stat(path).st_mode):
            return False
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        return True
    return False


def reader_gone(descriptor: int) -> bool:
    """A pipe's write end polls POLLERR once no reader is left (a socket's, POLLHUP)."""
    try:
        poller = select.poll()
        poller.register(descriptor, select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (OSError, ValueError):
        return True  # cannot tell: the quiet status, as before


def _fail(message: str, status: int) -> NoReturn:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
    raise SystemExit(status)


def not_implemented(command: str) -> NoReturn:
    """Commands whose issue has not landed yet say so and exit 2."""
    _fail(f"{command}: not implemented yet", EXIT_USAGE)
