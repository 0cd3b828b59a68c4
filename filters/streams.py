"""Opening inputs and outputs the same way in every command.

Input is a path or ``-`` (stdin); compression (gzip, BGZF, zstd, bzip2, xz) is
detected by content, never by name (DESIGN.md, *Streams*). Text is read in large
blocks of whole lines, because building an object per record costs more than the
work most records need (STYLE.md, *Code*). SAM commands also take BAM/CRAM: a
child process decodes it to SAM text with htslib, so the command itself only
ever sees text, and the decoding runs on another core.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import io
import os
import queue
import stat
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from typing import IO, BinaryIO, cast

import xopen

from filters.report import InputError, UsageError

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


def _raw_input(path: str) -> BinaryIO:
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


def open_input(path: str) -> BinaryIO:
    """Open a path or ``-`` for reading, decompressing whatever it holds."""
    source: BinaryIO | str = _raw_input(path) if path == "-" else path
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


def background_reads(stream: IO[bytes], size: int = 1 << 20, depth: int = 4) -> Iterator[bytes]:
    """``stream.read(size)`` results, read ahead on another thread.

    The pipe from the decoder holds 64 KiB; reading ahead keeps the decoder
    busy while this process works on a chunk. Errors surface in order.
    """
    results: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=depth)

    def pump() -> None:
        try:
            while block := stream.read(size):
                results.put(block)
            results.put(b"")
        except BaseException as error:  # noqa: BLE001 - handed to the reading thread
            results.put(error)

    threading.Thread(target=pump, daemon=True).start()
    while True:
        item = results.get()
        if isinstance(item, BaseException):
            raise item
        if not item:
            return
        yield item


class BackgroundWriter:
    """Writes chunks on another thread, so the encoder downstream never waits
    for this process's CPU (a write to a pipe returns only when the reader has
    taken all but 64 KiB of it)."""

    def __init__(self, sink: AlignmentOutput | BinaryIO, depth: int = 4) -> None:
        self.sink = sink
        self.chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.aborted = False
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

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


def open_output(path: str | None) -> BinaryIO:
    """stdout for ``None``/``-``; otherwise a file, compressed when named ``.gz``/``.zst``."""
    if path is None or path == "-":
        return cast(BinaryIO, sys.stdout.buffer)
    try:
        return cast(BinaryIO, xopen.xopen(path, "wb", threads=0))
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None


@contextlib.contextmanager
def output_stream(path: str | None) -> Iterator[BinaryIO]:
    """``open_output`` as a context: a file written by ``-o`` is complete or absent.

    On any error the partial file is removed, so a failed run never leaves
    something that looks like a finished output; stdout is only flushed.
    """
    sink = open_output(path)
    to_file = path is not None and path != "-"
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
            with contextlib.suppress(OSError):
                os.unlink(path)  # type: ignore[arg-type]
        raise


def is_disk_full(error: OSError) -> bool:
    return error.errno in (errno.ENOSPC, errno.EDQUOT)


# --- SAM / BAM / CRAM --------------------------------------------------------


def alignment_format(head: bytes) -> str:
    """``bam``, ``cram`` or ``sam`` from the first bytes of a raw stream."""
    if head.startswith(b"CRAM"):
        return "cram"
    if head.startswith(b"\x1f\x8b"):
        try:
            inflated = zlib.decompressobj(31).decompress(head, 4)
        except zlib.error:
            return "sam"
        if inflated.startswith(b"BAM\x01"):
            return "bam"
    if head.startswith(b"BAM\x01"):
        return "bam"
    return "sam"


def _htslib_environment() -> dict[str, str]:
    """Environment of the htslib child: finds this package, never fetches a CRAM
    reference over the network (that would send the M5 of the reference)."""
    env = dict(os.environ)
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    env.setdefault("REF_PATH", os.devnull)
    env.setdefault("REF_CACHE", os.devnull)
    return env


class DecodedAlignments:
    """SAM text read from a child process that decodes BAM/CRAM with htslib.

    ``read`` returns ``b""`` only after the child exited cleanly; a child that
    failed (truncated BGZF, corrupt CRAM) turns into an InputError, so a
    truncated BAM never becomes a short, successful output.
    """

    def __init__(self, path: str, raw: BinaryIO, reference: str | None) -> None:
        self.path = path
        command = [sys.executable, "-m", "filters.streams", "decode", "-" if path == "-" else path]
        if reference:
            command.append(reference)
        self._child = subprocess.Popen(
            command,
            stdin=subprocess.PIPE if path == "-" else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_htslib_environment(),
        )
        self._pump: threading.Thread | None = None
        if path == "-":
            self._pump = threading.Thread(target=self._feed, args=(raw,), daemon=True)
            self._pump.start()
        else:
            raw.close()
        assert self._child.stdout is not None
        self._out = self._child.stdout

    def _feed(self, raw: BinaryIO) -> None:
        child_in = self._child.stdin
        assert child_in is not None
        try:
            while chunk := raw.read1(1 << 20):  # type: ignore[attr-defined]
                child_in.write(chunk)
        except (BrokenPipeError, OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                child_in.close()

    def read(self, size: int = -1) -> bytes:
        data = self._out.read(size)
        if not data:
            status = self._child.wait()
            if status != 0:
                raise InputError("truncated or corrupt BAM/CRAM input", self.path)
        return data

    def __enter__(self) -> DecodedAlignments:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._out.close()
        if self._child.poll() is None:
            self._child.kill()
        self._child.wait()


def open_alignment_text(path: str, reference: str | None = None) -> IO[bytes]:
    """SAM text from a SAM (plain or compressed), BAM or CRAM path or stdin."""
    raw = _raw_input(path)
    if not hasattr(raw, "peek"):  # a stream handed in by a caller (tests, embedding)
        raw = cast(BinaryIO, io.BufferedReader(raw))  # type: ignore[arg-type]
    try:
        head = raw.peek(PEEK_SIZE)[:PEEK_SIZE]  # type: ignore[attr-defined]
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", path) from None
    if alignment_format(head) == "sam":
        if path != "-":
            raw.close()
            return open_input(path)
        try:
            return cast(IO[bytes], xopen.xopen(raw, "rb", threads=0))
        except DECOMPRESSION_ERRORS:
            raise InputError("corrupt compressed input", path) from None
    return cast(IO[bytes], DecodedAlignments(path, raw, reference))


class AlignmentOutput:
    """Where SAM text goes: straight out, or through htslib into BAM/CRAM.

    Commands always write SAM text; for ``--output-fmt bam`` a child process
    encodes it, so compression runs on another core.
    """

    def __init__(self, path: str | None, output_format: str = "sam", reference: str | None = None) -> None:
        self.output_format = output_format
        self._child: subprocess.Popen[bytes] | None = None
        if output_format == "sam":
            self.stream: BinaryIO = open_output(path)
            return
        command = [sys.executable, "-m", "filters.streams", "encode", output_format, path or "-"]
        if reference:
            command.append(reference)
        self._child = subprocess.Popen(command, stdin=subprocess.PIPE, env=_htslib_environment())
        assert self._child.stdin is not None
        self.stream = cast(BinaryIO, self._child.stdin)

    def write(self, data: bytes) -> None:
        self.stream.write(data)

    def close(self) -> None:
        """Flush and wait for the encoder; its failure is an error, not a short file."""
        if self._child is None:
            if self.stream is sys.stdout.buffer:
                self.stream.flush()
            else:
                self.stream.close()
            return
        self.stream.close()
        if self._child.wait() != 0:
            raise UsageError(f"could not write {self.output_format.upper()} output")

    def abort(self) -> None:
        if self._child is not None:
            with contextlib.suppress(OSError):
                self.stream.close()
            self._child.kill()
            self._child.wait()


def _decode(path: str, reference: str | None) -> int:
    """Child process: BAM/CRAM in, SAM text (with header) out."""
    import pysam

    pysam.set_verbosity(0)
    try:
        source = pysam.AlignmentFile(path, "r", reference_filename=reference, check_sq=False)
        sink = pysam.AlignmentFile("-", "w", template=source)
        for record in source.fetch(until_eof=True):
            sink.write(record)
        sink.close()
        source.close()
    except BrokenPipeError:
        return 0
    except (OSError, ValueError, NotImplementedError):
        return 1
    return 0


def _encode(output_format: str, path: str, reference: str | None) -> int:
    """Child process: SAM text in, BAM or CRAM out (BGZF, indexable)."""
    import pysam

    pysam.set_verbosity(0)
    mode = "wb" if output_format == "bam" else "wc"
    try:
        source = pysam.AlignmentFile("-", "r", check_sq=False)
        sink = pysam.AlignmentFile(path, mode, template=source, reference_filename=reference)
        for record in source:
            sink.write(record)
        sink.close()
        source.close()
    except (OSError, ValueError) as error:
        sys.stderr.write(f"genoscrub: cannot encode {output_format.upper()}: {type(error).__name__}\n")
        return 1
    return 0


if __name__ == "__main__":
    role = sys.argv[1]
    if role == "decode":
        sys.exit(_decode(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
    sys.exit(_encode(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None))
