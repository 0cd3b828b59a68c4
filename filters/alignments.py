"""SAM, BAM and CRAM through htslib child processes, so a command only ever sees SAM text.

A child decodes BAM/CRAM to SAM text (``DecodedAlignments``) and another encodes the
command's SAM text to BAM/CRAM (``AlignmentOutput``), each on its own core. The encoder
finishes its file only when the parent says the input is complete; CRAM headers are
written without reference paths; no reference is fetched over the network
(ARCHITECTURE.md, *Outputs and children*).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import subprocess
import sys
import threading
import zlib
from typing import IO, BinaryIO, NoReturn, cast

import xopen
from genoscrub.outputs import OutputTarget, c_errno, open_output, pending_outputs
from genoscrub.report import InputError, UsageError
from genoscrub.streams import (
    BGZF_EOF_BLOCK,
    BGZF_MISSING_EOF,
    DECOMPRESSION_ERRORS,
    PEEK_SIZE,
    EndCheckingReader,
    check_bgzf_end,
    is_bgzf,
    open_input,
    raw_input_stream,
    workers,
)


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


REFERENCE_VARIABLES = ("REF_PATH", "REF_CACHE")
"""htslib's CRAM reference lookup: by default over HTTP from a public server, sending the
reference's M5 (SAM spec 1.3). genoscrub never lets it reach the network."""


def is_network_location(value: str) -> bool:
    """A REF_PATH/REF_CACHE that names a URL anywhere in its list (``http://``, ``https:``, ``ftp:``, ``URL=``)."""
    lowered = value.lower()
    return "://" in lowered or any(marker in lowered for marker in ("http:", "https:", "ftp:", "url="))


def local_reference_environment(environment: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    """``environment`` with REF_PATH and REF_CACHE made local: unset, empty or naming
    a URL, they become /dev/null (htslib then finds a CRAM reference only through
    ``--reference``/``-T`` or a local REF_PATH), so no run ever fetches one."""
    local = dict(environment)
    for variable in REFERENCE_VARIABLES:
        value = local.get(variable, "")
        if not value or is_network_location(value):
            local[variable] = os.devnull
    return local


def keep_references_local() -> None:
    """Make this process's REF_PATH/REF_CACHE local, for htslib in it and in every child."""
    for variable, value in local_reference_environment(os.environ).items():
        if variable in REFERENCE_VARIABLES and os.environ.get(variable) != value:
            os.environ[variable] = value


def _htslib_environment() -> dict[str, str]:
    """Environment of an htslib child: no CRAM reference is ever fetched over the network."""
    return local_reference_environment(os.environ)


# The child loads this very package from its folder (installed, or a checkout's filters/
# run through bin/ without installing), under its import name, then runs the role.
_CHILD_BOOT = """
import importlib.util, sys
package = sys.argv.pop(1)
spec = importlib.util.spec_from_file_location("genoscrub", package + "/__init__.py", submodule_search_locations=[package])
module = importlib.util.module_from_spec(spec)
sys.modules["genoscrub"] = module
spec.loader.exec_module(module)
from genoscrub import alignments
sys.exit(alignments.child_main(sys.argv[1:]))
"""


def child_command(*arguments: str) -> list[str]:
    """The command line of an htslib child (``decode``/``encode``) of this process."""
    return [sys.executable, "-c", _CHILD_BOOT, os.path.dirname(os.path.abspath(__file__)), *arguments]


class DecodedAlignments:
    """SAM text read from a child process that decodes BAM/CRAM with htslib.

    ``read`` returns ``b""`` only after the child exited cleanly; a child that
    failed (truncated BGZF, corrupt CRAM) turns into an InputError, so a
    truncated BAM never becomes a short, successful output.
    """

    def __init__(self, path: str, raw: BinaryIO, reference: str | None, kind: str = "bam") -> None:
        self.path = path
        self.kind = kind
        command = child_command("decode", "-" if path == "-" else path)
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
        self._cut = False  # set by the feeding thread: stdin was BGZF without its end block
        if path == "-":
            self._pump = workers.start(lambda: self._feed(raw), self._stop_child)
        else:
            raw.close()
        assert self._child.stdout is not None
        self._out = self._child.stdout

    def _feed(self, raw: BinaryIO) -> None:
        child_in = self._child.stdin
        assert child_in is not None
        head = tail = b""
        try:
            while chunk := raw.read1(1 << 20):  # type: ignore[attr-defined]
                if len(head) < 16:
                    head = (head + chunk[:16])[:16]
                tail = (tail + chunk[-len(BGZF_EOF_BLOCK) :])[-len(BGZF_EOF_BLOCK) :]
                child_in.write(chunk)
            self._cut = is_bgzf(head) and tail != BGZF_EOF_BLOCK
        except (BrokenPipeError, OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                child_in.close()

    def _stop_child(self) -> None:
        """Stopping the feeding thread: with the child gone its next write fails."""
        if self._child.poll() is None:
            self._child.kill()

    def read(self, size: int = -1) -> bytes:
        data = self._out.read(size)
        if not data:
            status = self._child.wait()
            if self._pump is not None:
                self._pump.join()
            if self._cut:  # the same message as for a path (check_bgzf_end)
                raise InputError(BGZF_MISSING_EOF, self.path)
            if status in DECODER_MESSAGES:
                raise InputError(DECODER_MESSAGES[status], self.path)
            if status != 0:
                if self.kind == "cram":
                    raise InputError("cannot decode the CRAM input: truncated, corrupt, or its reference not given with "
                                     "--reference (no reference is fetched over the network)", self.path)
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
    raw = raw_input_stream(path)
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
            return cast(IO[bytes], xopen.xopen(io.BufferedReader(EndCheckingReader(raw, path)), "rb", threads=0))
        except DECOMPRESSION_ERRORS:
            raise InputError("corrupt compressed input", path) from None
    if path != "-":
        check_bgzf_end(path)
    return cast(IO[bytes], DecodedAlignments(path, raw, reference, alignment_format(head)))


ENCODER_DISK_FULL = 3
ENCODER_CLOSED_PIPE = 4
ENCODER_BAD_RECORD = 5
ENCODER_ABANDONED = 8
"""Exit statuses of the encoder child, so the command can say what went wrong."""
INPUT_COMPLETE = b"complete"
"""What the command writes to the encoder's control pipe once every record is written."""


class AlignmentOutput:
    """Where SAM text goes: straight out, or through htslib into BAM/CRAM.

    Commands always write SAM text; for ``--output-fmt bam``/``cram`` a child process
    encodes it, so compression runs on another core. The child finishes its file
    (BGZF end-of-file block, CRAM EOF container) only when ``close`` says on a
    control pipe that the input is complete: if this process is killed, the child
    sees the pipe close unsaid and leaves the file unfinished (and removes it when
    it was writing a temporary ``-o`` name), so a killed run never looks finished.

    CRAM: htslib writes ``UR:<absolute path of the reference>`` on every @SQ when
    it is given a reference; the encoder's output passes through ``CramHeaderRewrite``
    on a thread here, which removes every ``UR`` (``M5`` stays) before a byte is written.
    """

    def __init__(self, path: str | None, output_format: str = "sam", reference: str | None = None) -> None:
        self.output_format = output_format
        self._child: subprocess.Popen[bytes] | None = None
        self._control: int | None = None
        self._pump: threading.Thread | None = None
        self._pump_error: BaseException | None = None
        self._target: OutputTarget | None = None
        if output_format == "sam":
            self.stream: BinaryIO = open_output(path)
            return
        to_file = path not in (None, "-")
        if to_file:
            assert path is not None
            self._target = OutputTarget(path)
        cram = output_format == "cram"
        destination = self._target.writing if self._target is not None and not cram else "-"
        removable = self._target is not None and not self._target.in_place and not cram
        control_read, self._control = os.pipe()
        command = child_command("encode", output_format, destination, str(control_read), "remove" if removable else "keep")
        if reference:
            command.append(reference)
        try:
            self._child = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE if cram else None,
                pass_fds=(control_read,),
                env=_htslib_environment(),
            )
        finally:
            os.close(control_read)
        assert self._child.stdin is not None
        self.stream = cast(BinaryIO, self._child.stdin)
        if cram:
            encoded = self._child.stdout
            assert encoded is not None
            sink = open(self._target.writing, "wb") if self._target is not None else sys.stdout.buffer  # noqa: SIM115
            self._pump = workers.start(lambda: self._copy_cram(encoded, sink), self._kill)

    def _copy_cram(self, source: IO[bytes], sink: BinaryIO) -> None:
        """The encoder's CRAM to its destination, the header rewritten (a thread)."""
        rewrite = CramHeaderRewrite()
        try:
            while data := source.read1(1 << 20):  # type: ignore[attr-defined]
                out = rewrite.feed(data)
                if out:
                    sink.write(out)
            if sink is sys.stdout.buffer:
                sink.flush()
            else:
                sink.close()
        except BaseException as error:  # noqa: BLE001 - raised again by close
            self._pump_error = error
            self._kill()
            if sink is not sys.stdout.buffer:
                with contextlib.suppress(OSError):
                    sink.close()

    def _kill(self) -> None:
        if self._child is not None and self._child.poll() is None:
            self._child.kill()

    def write(self, data: bytes) -> None:
        try:
            self.stream.write(data)
        except BrokenPipeError:
            if self._child is not None:
                self._encoder_failed()  # the encoder died: its error, not a closed downstream pipe
            raise

    def close(self) -> None:
        """Flush, tell the encoder the input is complete and wait for it; its failure
        is an error, not a short file."""
        if self._child is None:
            if self.stream is sys.stdout.buffer:
                self.stream.flush()
            else:
                self.stream.close()
            return
        with contextlib.suppress(BrokenPipeError):
            self.stream.close()
        if self._control is not None:
            with contextlib.suppress(OSError):
                os.write(self._control, INPUT_COMPLETE)
            os.close(self._control)
            self._control = None
        self._encoder_failed()

    def _encoder_failed(self) -> None:
        """Raise the encoder's failure, if it failed: disk full as OSError, the rest as usage."""
        assert self._child is not None
        status = self._child.wait()
        if self._pump is not None:
            self._pump.join()
            if self._pump_error is not None:
                error, self._pump_error = self._pump_error, None
                if isinstance(error, (OSError, InputError, UsageError)):
                    raise error
                raise UsageError(f"could not write {self.output_format.upper()} output") from None
        if status == ENCODER_DISK_FULL:
            raise OSError(errno.ENOSPC, "No space left on device")
        if status == ENCODER_CLOSED_PIPE:
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")
        if status == ENCODER_BAD_RECORD:
            raise InputError(f"htslib cannot encode a record as {self.output_format.upper()} (not valid SAM)", "output")
        if status != 0:
            raise UsageError(f"could not write {self.output_format.upper()} output")

    def abort(self) -> None:
        """After a failure: the encoder stops without finishing its file, and what
        ``-o`` wrote is removed (never a device, see OutputTarget)."""
        if self._control is not None:
            os.close(self._control)  # closed unsaid: the encoder abandons the file
            self._control = None
        if self._child is not None:
            with contextlib.suppress(OSError):
                self.stream.close()
            self._child.kill()
            self._child.wait()
            if self._pump is not None:
                self._pump.join()
        elif self.stream is not sys.stdout.buffer:
            with contextlib.suppress(OSError):
                self.stream.close()
        pending_outputs.discard()


class CramHeaderRewrite:
    """A CRAM stream with ``UR`` removed from its SAM header, the rest byte for byte.

    The header is the first block of the first container (CRAM 3.x spec, sections
    6-8): a 32-bit length and the SAM header text, raw or gzip-compressed. The block
    is written anew, raw, without ``UR``; the container header around it gets its
    new length, landmarks and CRC32; every other block passes as it is. The file
    definition's 20-byte file ID, which htslib fills with the output's file name,
    is written as htslib writes it for stdout (``-``). A header this cannot rewrite
    (another compression or major version) stops the output: fail closed.
    """

    FILE_DEFINITION = 26
    FILE_ID = b"-" + bytes(19)

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.done = False

    def feed(self, data: bytes) -> bytes:
        if self.done:
            return data
        self.buffer += data
        try:
            rewritten = self._rewrite()
        except IndexError:  # the header container is not all here yet
            return b""
        self.done = True
        self.buffer = bytearray()
        return rewritten

    def _rewrite(self) -> bytes:
        data = self.buffer
        if len(data) < self.FILE_DEFINITION:
            raise IndexError
        if data[:4] != b"CRAM" or data[4] not in (2, 3):
            raise UsageError("could not write CRAM output: unexpected CRAM version from htslib")
        with_crc = data[4] >= 3
        position = self.FILE_DEFINITION
        length = int.from_bytes(data[position : position + 4], "little")
        if position + 4 > len(data):
            raise IndexError
        position += 4
        fields = []
        for reader in (_read_itf8,) * 4 + (_read_ltf8,) * 2 + (_read_itf8,):  # reference, start, span, records, counter, bases, blocks
            value, position = reader(data, position)
            fields.append(value)
        landmark_count, position = _read_itf8(data, position)
        landmarks = []
        for _ in range(landmark_count):
            value, position = _read_itf8(data, position)
            landmarks.append(value)
        position += 4 if with_crc else 0
        body_start = position
        if body_start + length > len(data):
            raise IndexError
        method, content_type = data[position], data[position + 1]
        content_id, position = _read_itf8(data, position + 2)
        compressed, position = _read_itf8(data, position)
        raw_size, position = _read_itf8(data, position)
        payload = bytes(data[position : position + compressed])
        block_end = position + compressed + (4 if with_crc else 0)
        if content_type != 0 or method not in (0, 1):
            raise UsageError("could not write CRAM output: its header block is neither raw nor gzip")
        raw = payload if method == 0 else zlib.decompress(payload, 31)
        text_length = int.from_bytes(raw[:4], "little")
        text = without_reference_urls(raw[4 : 4 + text_length])
        new_raw = len(text).to_bytes(4, "little") + text
        block = bytes((0, 0)) + _itf8(content_id) + _itf8(len(new_raw)) + _itf8(len(new_raw)) + new_raw
        if with_crc:
            block += zlib.crc32(block).to_bytes(4, "little")
        shift = len(block) - (block_end - body_start)
        rest = bytes(data[block_end : body_start + length])
        header = (length + shift).to_bytes(4, "little")
        header += b"".join(_itf8(value) for value in fields[:4]) + b"".join(_ltf8(value) for value in fields[4:6]) + _itf8(fields[6])
        header += _itf8(landmark_count) + b"".join(_itf8(mark + shift if index else mark) for index, mark in enumerate(landmarks))
        if with_crc:
            header += zlib.crc32(header).to_bytes(4, "little")
        definition = bytes(data[:6]) + self.FILE_ID
        return definition + header + block + rest + bytes(data[body_start + length :])


def without_reference_urls(text: bytes) -> bytes:
    """SAM header text without ``UR`` fields (a path, URL or host of the reference)."""
    lines = []
    for line in text.split(b"\n"):
        if line.startswith(b"@SQ\t"):
            line = b"\t".join(field for field in line.split(b"\t") if not field.startswith(b"UR:"))
        lines.append(line)
    return b"\n".join(lines)


def _read_itf8(data: bytearray, position: int) -> tuple[int, int]:
    """An ITF8 integer (CRAM spec 2.3; 32 bits, two's complement) and the position after it."""
    first = data[position]
    if first < 0x80:
        return first, position + 1
    if first < 0xC0:
        return ((first & 0x3F) << 8) | data[position + 1], position + 2
    if first < 0xE0:
        return ((first & 0x1F) << 16) | (data[position + 1] << 8) | data[position + 2], position + 3
    if first < 0xF0:
        value = ((first & 0x0F) << 24) | (data[position + 1] << 16) | (data[position + 2] << 8) | data[position + 3]
        return value, position + 4
    value = ((first & 0x0F) << 28) | (data[position + 1] << 20) | (data[position + 2] << 12) | (data[position + 3] << 4)
    value |= data[position + 4] & 0x0F
    return value - (1 << 32) if value >= 1 << 31 else value, position + 5


def _itf8(value: int) -> bytes:
    value &= 0xFFFFFFFF
    if value < 0x80:
        return bytes((value,))
    if value < 0x4000:
        return bytes((0x80 | value >> 8, value & 0xFF))
    if value < 0x200000:
        return bytes((0xC0 | value >> 16, (value >> 8) & 0xFF, value & 0xFF))
    if value < 0x10000000:
        return bytes((0xE0 | value >> 24, (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF))
    return bytes((0xF0 | value >> 28, (value >> 20) & 0xFF, (value >> 12) & 0xFF, (value >> 4) & 0xFF, value & 0x0F))


def _read_ltf8(data: bytearray, position: int) -> tuple[int, int]:
    """An LTF8 integer: as many bytes after the first as it has leading ones."""
    first = data[position]
    extra = 8 if first == 0xFF else 8 - (~first & 0xFF).bit_length()
    value = first & (0xFF >> (extra + 1)) if extra < 7 else 0
    for offset in range(1, extra + 1):
        value = (value << 8) | data[position + offset]
    return value, position + extra + 1


def _ltf8(value: int) -> bytes:
    value &= 0xFFFFFFFFFFFFFFFF
    for extra in range(8):
        if value < 1 << (7 * (extra + 1)):
            prefix = (0xFF << (8 - extra)) & 0xFF
            data = value.to_bytes(extra + 1, "big")
            return bytes((data[0] | prefix,)) + data[1:]
    return b"\xff" + value.to_bytes(8, "big")


DECODER_NEGATIVE_POSITION = 6
DECODER_BAD_NAME = 7
DECODER_MESSAGES = {
    DECODER_NEGATIVE_POSITION: "a BAM/CRAM record has a negative position on a reference, which SAM text cannot hold",
    DECODER_BAD_NAME: "a BAM/CRAM record's name holds a tab or a line end, which SAM text cannot hold",
}
"""Exit statuses of the decoder child for records that SAM text cannot hold."""


def _decode(path: str, reference: str | None) -> int:
    """Child process: BAM/CRAM in, SAM text (with header) out.

    Every record it writes is one samtools can read back: a BAM may hold what SAM
    text cannot. A negative position with no reference (an unset mate, as some
    tools leave it) is written as SAM's "unavailable", 0; a negative position on
    a reference, or a read name with a tab or line end, stops the decoding
    (DECODER_MESSAGES), so no command writes such a record and exits 0.
    """
    import pysam

    pysam.set_verbosity(0)
    try:
        source = pysam.AlignmentFile(path, "r", reference_filename=reference, check_sq=False)
        sink = pysam.AlignmentFile("-", "w", template=source)
        for record in source.fetch(until_eof=True):
            if record.next_reference_start < -1 or record.reference_start < -1:
                status = _unset_negative_positions(record)
                if status:
                    os._exit(status)
            name = record.query_name
            if name is not None and ("\t" in name or "\n" in name or "\r" in name):
                os._exit(DECODER_BAD_NAME)
            sink.write(record)
        sink.close()
        source.close()
    except BrokenPipeError:
        return 0
    except (OSError, ValueError, NotImplementedError):
        return 1
    return 0


def _unset_negative_positions(record: object) -> int:
    """POS/PNEXT below -1 (0-based) with no reference become unset; 0, or the decoder's
    failure status when a reference is set (the position is then data, not a placeholder)."""
    for position, reference in (("reference_start", "reference_id"), ("next_reference_start", "next_reference_id")):
        if getattr(record, position) < -1:
            if getattr(record, reference) >= 0:
                return DECODER_NEGATIVE_POSITION
            setattr(record, position, -1)
    return 0


def _encode(output_format: str, path: str, control: int, removable: bool, reference: str | None) -> int:
    """Child process: SAM text in, BAM or CRAM out (BGZF, indexable).

    Its exit status tells the parent what failed (ENCODER_*), and the parent says
    it in one line; os._exit skips pysam's second try at closing, which would
    print a traceback for the same error, and leaves the file unfinished. The file
    is finished (its end-of-file block written) only when the parent writes
    INPUT_COMPLETE on the ``control`` pipe: stdin ending without it means the
    parent died, and the file must not look complete (``removable``: it is a
    temporary ``-o`` name, removed).
    """
    import pysam

    pysam.set_verbosity(0)
    mode = "wb" if output_format == "bam" else "wc"
    try:
        source = pysam.AlignmentFile("-", "r", check_sq=False)
        sink = pysam.AlignmentFile(path, mode, template=source, reference_filename=reference)
    except (OSError, ValueError) as error:
        _abandon(path, removable, _encoder_status(error))
    records = iter(source)
    while True:
        try:
            record = next(records, None)
        except (OSError, ValueError):
            _abandon(path, removable, ENCODER_BAD_RECORD)  # the commands write SAM text; htslib could not parse a record
        if record is None:
            break
        try:
            sink.write(record)
        except (OSError, ValueError) as error:
            _abandon(path, removable, _encoder_status(error))
    said = b""
    while chunk := os.read(control, 64):
        said += chunk
    if said != INPUT_COMPLETE:
        _abandon(path, removable, ENCODER_ABANDONED)
    try:
        sink.close()
        source.close()
    except (OSError, ValueError) as error:
        os._exit(_encoder_status(error))
    return 0


def _abandon(path: str, removable: bool, status: int) -> NoReturn:
    """Leave without finishing the file (no end-of-file block), removing a temporary one."""
    if removable:
        with contextlib.suppress(OSError):
            os.unlink(path)
    os._exit(status)


def _encoder_status(error: Exception) -> int:
    """htslib's write errors carry no errno (``sam_write1 failed``): read C's errno."""
    code = getattr(error, "errno", None) or c_errno()
    if code == errno.EPIPE:
        return ENCODER_CLOSED_PIPE
    return ENCODER_DISK_FULL if code in (errno.ENOSPC, errno.EDQUOT) else 1


def child_main(arguments: list[str]) -> int:
    """Entry of a child started with ``child_command``."""
    if arguments[0] == "decode":
        return _decode(arguments[1], arguments[2] if len(arguments) > 2 else None)
    output_format, path, control, removable = arguments[1:5]
    return _encode(output_format, path, int(control), removable == "remove", arguments[5] if len(arguments) > 5 else None)
