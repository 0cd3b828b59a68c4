"""Opening inputs the same way in every command, and the threads that keep pipes busy.

Input is a path or ``-`` (stdin); compression (gzip, BGZF, zstd, bzip2, xz) is
detected by content, never by name. Text is read in large blocks of whole lines,
because building an object per record costs more than the work most records need
(ARCHITECTURE.md, *What flows through a command*). Outputs are in ``outputs``;
BAM and CRAM, decoded and encoded by htslib child processes, in ``alignments``.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import io
import os
import queue
import stat
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import IO, BinaryIO, Protocol, TypeVar, cast

import xopen
from genoscrub import scan
from genoscrub.report import InputError, UsageError


class Closable(Protocol):
    def close(self) -> None: ...


S = TypeVar("S", bound=Closable)

BLOCK_SIZE = 4 << 20
PEEK_SIZE = 1 << 16

def _decompression_errors() -> tuple[type[BaseException], ...]:
    """What a broken compressed stream raises; isal's own error is not an OSError."""
    errors: list[type[BaseException]] = [EOFError, OSError, zlib.error]
    try:
        from isal.isal_zlib import IsalError

        errors.append(IsalError)  # type: ignore[arg-type]
    except ImportError:  # pragma: no cover - isal is a dependency
        pass
    return tuple(errors)


DECOMPRESSION_ERRORS = _decompression_errors()


def raw_input_stream(path: str) -> BinaryIO:
    """The undecoded byte stream for ``path``; refuses a terminal on stdin."""
    if path == "-":
        if sys.stdin is None:
            raise UsageError("no input: give a file or pipe data to stdin")
        if sys.stdin.isatty():
            raise UsageError("no input file given and stdin is a terminal")
        return cast(BinaryIO, sys.stdin.buffer)
    try:
        return open(path, "rb")
    except OSError as error:
        raise InputError(f"cannot open: {error.strerror}", path) from None


BGZF_EOF_BLOCK = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
"""The empty block that ends every BGZF file (SAM spec 4.1.2): its absence means a cut file."""
BGZF_MISSING_EOF = "truncated BGZF input (its end-of-file block is missing)"


def is_bgzf(head: bytes) -> bool:
    """A gzip member with the BGZF ``BC`` extra field: BAM, bgzipped VCF/FASTQ/SAM."""
    return len(head) >= 16 and head.startswith(b"\x1f\x8b\x08\x04") and head[12:14] == b"BC"


def check_bgzf_end(path: str) -> None:
    """A BGZF file cut exactly between blocks decompresses cleanly into a short
    output; its missing end-of-file block is the only sign. Regular files only."""
    try:
        with open(path, "rb") as raw:
            if not stat.S_ISREG(os.fstat(raw.fileno()).st_mode) or not is_bgzf(raw.read(16)):
                return
            raw.seek(0, os.SEEK_END)
            if raw.tell() < 2 * len(BGZF_EOF_BLOCK):
                return  # too short to hold data and an end block: the decompressor decides
            raw.seek(-len(BGZF_EOF_BLOCK), os.SEEK_END)
            tail = raw.read()
    except OSError:
        return  # open_input reports what cannot be read
    if tail != BGZF_EOF_BLOCK:
        raise InputError(BGZF_MISSING_EOF, path)


class EndCheckingReader(io.RawIOBase):
    """A raw stream (stdin) remembering its first and last bytes, to check at its
    end that a BGZF stream closed with its end-of-file block."""

    def __init__(self, raw: BinaryIO, path: str) -> None:
        self.raw = raw
        self.path = path
        self.head = b""
        self.tail = b""
        # stdin's descriptor, read directly once the bytes already in its buffer are used.
        # Only a real file or pipe (FileIO under the buffer): a stream handed in by a caller has none.
        self.descriptor: int | None = None
        self.buffered: bytes | None = None
        inner = getattr(raw, "raw", raw)
        if isinstance(inner, io.FileIO) and not inner.closed:
            self.descriptor = inner.fileno()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.descriptor is not None:
            return self._read_descriptor(buffer)
        data = self.raw.read1(len(buffer)) if hasattr(self.raw, "read1") else self.raw.read(len(buffer))
        if not data:
            if is_bgzf(self.head) and self.tail != BGZF_EOF_BLOCK:
                raise InputError(BGZF_MISSING_EOF, self.path)
            return 0
        if len(self.head) < 16:
            self.head = (self.head + data[:16])[:16]
        self.tail = (self.tail + data[-len(BGZF_EOF_BLOCK) :])[-len(BGZF_EOF_BLOCK) :]
        buffer[: len(data)] = data
        return len(data)

    def _read_descriptor(self, buffer: memoryview) -> int:
        """Fill ``buffer`` from the descriptor (``scan.read_into``: in C without the GIL, where
        built): a producer writing the pipe 4 KiB at a time then costs no wake-up of a
        Python thread per write."""
        assert self.descriptor is not None
        if self.buffered is None:  # first: what a peek (format sniffing) left in stdin's buffer
            waiting = self.raw.peek(0) if hasattr(self.raw, "peek") else b""  # type: ignore[attr-defined]
            self.buffered = self.raw.read(len(waiting)) if waiting else b""
        if self.buffered:
            size = min(len(buffer), len(self.buffered))
            buffer[:size] = self.buffered[:size]
            self.buffered = self.buffered[size:]
        else:
            size = scan.read_into(self.descriptor, buffer)
        if not size:
            if is_bgzf(self.head) and self.tail != BGZF_EOF_BLOCK:
                raise InputError(BGZF_MISSING_EOF, self.path)
            return 0
        if len(self.head) < 16:
            self.head = (self.head + bytes(buffer[:16]))[:16]
        self.tail = (self.tail + bytes(buffer[max(0, size - len(BGZF_EOF_BLOCK)) : size]))[-len(BGZF_EOF_BLOCK) :]
        return size


def open_input(path: str) -> BinaryIO:
    """Open a path or ``-`` for reading, decompressing whatever it holds."""
    if path == "-":
        source: BinaryIO | str = cast(BinaryIO, io.BufferedReader(EndCheckingReader(raw_input_stream(path), path)))
    else:
        check_bgzf_end(path)
        source = path
    try:
        return cast(BinaryIO, xopen.xopen(source, "rb", threads=0))
    except FileNotFoundError as error:
        raise InputError(f"cannot open: {error.strerror}", path) from None
    except DECOMPRESSION_ERRORS as error:
        if isinstance(error, OSError) and error.strerror and not isinstance(error, EOFError):
            raise InputError(f"cannot open: {error.strerror}", path) from None
        raise InputError("corrupt compressed input", path) from None


# --- pipes: keep the processes before and after this one busy -------------------

PIPE_SIZE = 1 << 20
M_TRIM_THRESHOLD = -1  # mallopt parameters (glibc malloc.h)
M_MMAP_THRESHOLD = -3


class _Workers:
    """The daemon threads this process started, and how to stop each.

    Python aborts the process (SIGABRT, "could not acquire lock ... at
    interpreter shutdown") when a daemon thread is inside a read of stdin or a
    write to stdout while the interpreter finalizes, as after ``| head -1``.
    ``cli.run`` stops and joins them first, and skips finalization when one is
    still blocked (``settle``).
    """

    def __init__(self) -> None:
        self._running: list[tuple[threading.Thread, Callable[[], None]]] = []
        self._closes: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def start(self, target: Callable[[], None], stop: Callable[[], None]) -> threading.Thread:
        thread = threading.Thread(target=target, daemon=True, name="genoscrub-worker")
        with self._lock:
            self._running = [(old, halt) for old, halt in self._running if old.is_alive()]
            self._running.append((thread, stop))
        thread.start()
        return thread

    def close(self, stream: Closable) -> None:
        """Close ``stream`` now, or in ``settle`` while a worker may still be reading it:
        closing a buffered stream waits for the read in progress, and a read from a
        stalled pipe never ends (``producer | command | head -1``)."""
        with self._lock:
            if any(thread.is_alive() for thread, _ in self._running):
                self._closes.append(stream.close)
                return
        stream.close()

    def settle(self, timeout: float) -> bool:
        """Ask every worker to stop, wait up to ``timeout`` seconds, then close the
        streams left to close; True once none runs (else nothing is closed)."""
        with self._lock:
            running, self._running = self._running, []
        deadline = time.monotonic() + timeout
        for thread, stop in running:
            with contextlib.suppress(Exception):
                stop()
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(thread.is_alive() for thread, _ in running):
            return False
        with self._lock:
            closes, self._closes = self._closes, []
        for close in closes:
            with contextlib.suppress(Exception):
                close()
        return True


workers = _Workers()


@contextlib.contextmanager
def reading(stream: S) -> Iterator[S]:
    """``with reading(open_input(path)) as stream``: closed as ``workers.close`` does."""
    try:
        yield stream
    finally:
        workers.close(stream)


def background_reads(stream: IO[bytes], size: int = 1 << 20, depth: int = 4) -> Iterator[bytes]:
    """``stream.read(size)`` results, read ahead on another thread.

    The pipe from the decoder holds 64 KiB; reading ahead keeps the decoder
    busy while this process works on a chunk. Errors surface in order.
    """
    results: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=depth)
    stopped = threading.Event()

    def pump() -> None:
        try:
            while not stopped.is_set() and (block := stream.read(size)):
                results.put(block)
            results.put(b"")
        except BaseException as error:  # noqa: BLE001 - handed to the reading thread
            results.put(error)

    def stop() -> None:
        """After this the pump makes at most two more puts (a block, the end), so it never waits on the queue."""
        stopped.set()
        with contextlib.suppress(queue.Empty):
            while True:
                results.get_nowait()

    assert depth >= 2
    thread = workers.start(pump, stop)
    try:
        while True:
            item = results.get()
            if isinstance(item, BaseException):
                raise item
            if not item:
                thread.join()  # it has read its last block: closing the stream need not wait
                return
            yield item
    finally:
        stop()


class Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


class BackgroundWriter:
    """Writes chunks on another thread, so the encoder downstream never waits
    for this process's CPU (a write to a pipe returns only when the reader has
    taken all but 64 KiB of it)."""

    def __init__(self, sink: Writable, depth: int = 4) -> None:
        self.sink = sink
        self.chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.aborted = False
        self.thread = workers.start(self._drain, self.abort)

    def _drain(self) -> None:
        while (chunk := self.chunks.get()) is not None:
            if self.error is None and not self.aborted:
                try:
                    self.sink.write(chunk)
                except BaseException as error:  # noqa: BLE001 - raised again by write/close
                    self.error = error

    def write(self, chunk: bytes) -> None:
        if self.error is not None:
            raise self.error
        self.chunks.put(chunk)

    def close(self) -> None:
        """Wait until every chunk is written; raise what the writing raised."""
        self.chunks.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def abort(self) -> None:
        self.aborted = True
        with contextlib.suppress(queue.Full):
            while not self.chunks.empty():
                self.chunks.get_nowait()
            self.chunks.put_nowait(None)


def keep_freed_chunks_in_the_heap() -> None:
    """Best effort, glibc only: serve 1 MiB buffers from the heap, not fresh mmaps.

    Every replace makes a new 1 MiB bytes object; by default glibc maps each
    one afresh and the kernel zero-fills its pages, which measured costs more
    than the replaces themselves (a block copy took 6x longer). Memory stays
    bounded by the few chunks alive at once.
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None)
        libc.mallopt(M_MMAP_THRESHOLD, 64 << 20)
        libc.mallopt(M_TRIM_THRESHOLD, 256 << 20)


def enlarge_pipe(descriptor: int) -> None:
    """Best effort: a 1 MiB pipe buffer means fewer, larger reads and writes."""
    with contextlib.suppress(OSError, AttributeError, ValueError):
        if stat.S_ISFIFO(os.fstat(descriptor).st_mode):
            fcntl.fcntl(descriptor, fcntl.F_SETPIPE_SZ, PIPE_SIZE)


def line_blocks(stream: IO[bytes], path: str, size: int = BLOCK_SIZE) -> Iterator[tuple[int, list[bytes]]]:
    """Yield ``(number of the first line, lines)`` for blocks of whole lines.

    Lines come without their line ends; CRLF files are read as LF files (the
    first line decides). A last line without a newline is still yielded. A
    truncated or corrupt compressed stream raises InputError, so a short
    output is never mistaken for a complete one.
    """
    rest = b""
    line_number = 1
    crlf: bool | None = None
    blocks = background_reads(stream, size, depth=2)
    while True:
        try:
            block = next(blocks, b"")
        except DECOMPRESSION_ERRORS:
            raise InputError("truncated or corrupt compressed input", path) from None
        if not block:
            break
        if crlf is None:
            first_end = block.find(b"\n")
            if first_end < 0:
                rest += block
                continue
            crlf = (rest + block[:first_end]).endswith(b"\r")
        if crlf:
            block = block.replace(b"\r\n", b"\n")
        lines = block.split(b"\n")
        if rest:
            lines[0] = rest + lines[0]
        if crlf and lines[0].endswith(b"\r"):  # a CRLF split across two blocks
            lines[0] = lines[0][:-1]
        rest = lines.pop()
        if lines:
            yield line_number, lines
            line_number += len(lines)
    if rest:
        if rest.endswith(b"\r"):
            rest = rest[:-1]
        yield line_number, [rest]


def whole_line_blocks(blocks: Iterable[bytes], path: str) -> Iterator[tuple[int, int, bytes]]:
    """Yield ``(number of the first line, number of lines, text)``: blocks of whole
    lines, each ending in ``\n``, for commands that rewrite a block as one bytes object.

    ``line_blocks`` unsplit: CRLF input is read as LF (the first line decides); a
    last line without a newline gets one (and loses a final ``\r``); a broken
    compressed stream or BAM is an InputError. A block is handed on only once the
    next one has been read, so an input that breaks within its first block (a
    truncated BAM, a cut gzip) fails before anything is written.
    """
    rest: list[bytes] = []  # a line's start, over as many blocks as it takes
    line_number = 1
    crlf: bool | None = None
    waiting: tuple[int, int, bytes] | None = None
    try:
        for block in blocks:
            cut = block.rfind(b"\n") + 1
            if not cut:
                rest.append(block)
                continue
            chunk = b"".join((*rest, memoryview(block)[:cut])) if rest else block[:cut]  # one copy, not two
            rest = [block[cut:]] if cut < len(block) else []
            if crlf is None:
                first_end = chunk.find(b"\n")
                crlf = first_end > 0 and chunk[first_end - 1] == 0x0D
            if crlf:
                chunk = chunk.replace(b"\r\n", b"\n")
            count = scan.count_lines(chunk)
            if waiting is not None:
                yield waiting
            waiting = (line_number, count, chunk)
            line_number += count
    except DECOMPRESSION_ERRORS:
        raise InputError("truncated or corrupt compressed input", path) from None
    if waiting is not None:
        yield waiting
    last = b"".join(rest)
    if last:
        yield line_number, 1, (last[:-1] if last.endswith(b"\r") else last) + b"\n"
