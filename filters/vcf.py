"""VCF text helpers shared by the VCF commands: the header read as lines, records as
located blocks.

The commands leave every record they keep as the same bytes and check records only
as far as they must (column count, CHROM, POS): a VCF record is not split into
fields unless a command changes it (ARCHITECTURE.md). The header ends at the
``#CHROM`` line (VCF 4.4, section 1.5) and is parsed by ``vcf_header`` (re-exported
here); what follows comes in 4 MiB blocks of whole lines (``text_blocks``), located
by numpy or the C loops (``RecordBlock``), whose numbers are read by ``fields``.

``-O z`` output goes through htslib's BGZF writer (``pysam.BGZFile``), so the
result can be indexed by tabix; plain gzip cannot.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Iterator
from typing import BinaryIO, cast

import numpy as np
import xopen
from genoscrub import scan
from genoscrub.fields import (  # noqa: F401 - re-exported: the number and span parsers the VCF commands use
    DIGITS,
    MAX_POS,
    NEWLINE,
    NUMBER_BYTES,
    SEMICOLON,
    TAB,
    info_values,
    positions_beyond_limit,
    span_digits,
    span_floats,
    span_integers,
    spans_within,
    windows,
)
from genoscrub.outputs import OutputTarget, c_errno, open_output, pending_outputs
from genoscrub.report import InputError, UsageError
from genoscrub.streams import BLOCK_SIZE, DECOMPRESSION_ERRORS, background_reads, check_bgzf_end, open_input, reading, whole_line_blocks
from genoscrub.vcf_header import (  # noqa: F401 - re-exported: the header model, parsed in one place
    FIXED_COLUMNS,
    VcfHeader,
    check_column_line,
    contig_lengths,
    info_numbers,
    meta_key,
    meta_value,
    structured_fields,
)

# (number of the first line, text of whole lines, each ending in a newline)
TextBlocks = Iterator[tuple[int, bytes]]


@contextlib.contextmanager
def opened_input(path: str) -> Iterator[BinaryIO]:
    """``streams.open_input``, but a path's file is closed too: xopen leaves open a file
    object it was handed, which leaks one descriptor per compressed input. A BGZF file
    cut between blocks is refused as ``open_input`` refuses it (``streams.check_bgzf_end``):
    read, it would end cleanly, short, and a germline list cut short drops too little."""
    if path == "-":
        with reading(open_input(path)) as stream:
            yield stream
        return
    check_bgzf_end(path)
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as error:
        raise InputError(f"cannot open: {error.strerror}", path) from None
    with raw:
        try:
            stream = cast(BinaryIO, xopen.xopen(raw, "rb", threads=0))
        except DECOMPRESSION_ERRORS:
            raise InputError("corrupt compressed input", path) from None
        with stream:
            yield stream


class VcfOutput:
    """Text VCF to stdout or ``-o``, or BGZF through htslib for ``-O z`` (tabix-indexable).

    ``-o`` writes a temporary name that ``cli.run`` renames into place once the
    command succeeded (outputs.OutputTarget). BGZF is finished (its end-of-file block
    written) only by ``close``: after a failure ``abort`` leaves it unfinished, on
    stdout too, so a failed or killed run never looks complete.
    """

    def __init__(self, path: str | None, output_type: str | None) -> None:
        if output_type not in (None, "v", "z"):
            raise UsageError("--output-type must be v (VCF text) or z (bgzipped VCF)")
        named_gz = bool(path) and str(path).endswith((".gz", ".bgz"))
        self.bgzf = output_type == "z" or (output_type is None and named_gz)
        self.path = path
        self._bgzf_file = None
        self._stream: BinaryIO | None = None
        self._target: OutputTarget | None = None
        if self.bgzf:
            import pysam

            pysam.set_verbosity(0)  # its errors are reported here, in one line
            if path not in (None, "-"):
                self._target = OutputTarget(str(path))
            try:
                self._bgzf_file = pysam.BGZFile(self._target.writing if self._target else "-", "wb", index=None)
            except OSError as error:
                raise UsageError(f"cannot write {path or 'stdout'}: {error.strerror or 'error'}") from None
        else:
            self._stream = open_output(path)

    def write(self, data: bytes) -> None:
        if self._bgzf_file is not None:
            try:
                self._bgzf_file.write(data)
            except OSError as error:
                raise _plain_write_error(error) from None
        else:
            assert self._stream is not None
            self._stream.write(data)

    def close(self) -> None:
        if self._bgzf_file is not None:
            try:
                self._bgzf_file.close()
            except OSError as error:
                raise _plain_write_error(error) from None
        elif self._stream is not None:
            self._stream.flush()
            if self.path and self.path != "-":
                self._stream.close()

    def abort(self) -> None:
        """After a failure: close without finishing and remove what ``-o`` wrote
        (never a device or FIFO, see outputs.OutputTarget)."""
        if self._bgzf_file is not None:
            if self._target is None:
                _point_stdout_at_null()  # closing writes the end-of-file block: not to stdout
            with contextlib.suppress(Exception):
                self._bgzf_file.close()
        elif self._stream is not None and self.path and self.path != "-":
            with contextlib.suppress(OSError):
                self._stream.close()
        pending_outputs.discard()


def _point_stdout_at_null() -> None:
    """What is still to be written to stdout (a BGZF end-of-file block) goes nowhere."""
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)


def _plain_write_error(error: OSError) -> OSError:
    """pysam's BGZF write errors carry no errno: the closed pipe and the full disk
    become the errors the command reports in one line."""
    code = error.errno or c_errno()
    if code == errno.EPIPE:
        return BrokenPipeError(errno.EPIPE, "Broken pipe")
    if code in (errno.ENOSPC, errno.EDQUOT):
        return OSError(code, os.strerror(code))
    return error


def joined(lines: list[bytes]) -> bytes:
    """Lines back into text, each ending in a newline (empty for no lines)."""
    if not lines:
        return b""
    lines.append(b"")
    text = b"\n".join(lines)
    lines.pop()
    return text


# --- records as text blocks ------------------------------------------------------------------
#
# Most records pass unchanged, so the record commands never split a block into lines:
# numpy finds every newline and tab of a 4 MiB block at once, the columns a command needs
# are spans (start, end) of the block, and kept records are written as slices of it.


def text_blocks(stream: BinaryIO, path: str, size: int = BLOCK_SIZE) -> TextBlocks:
    """``(number of the first line, text)`` for blocks of whole lines, each ending in ``\\n``
    (``streams.whole_line_blocks``; the same lines as ``streams.line_blocks``)."""
    return ((first, text) for first, _, text in whole_line_blocks(background_reads(stream, size, depth=2), path))


def split_header_text(blocks: TextBlocks, path: str) -> tuple[VcfHeader, TextBlocks]:
    """Read the header from ``blocks``; return it and the text blocks of records that follow.

    The first line must be ``##fileformat=VCFv4.x``; the header must end with a
    ``#CHROM`` line. A header-only file gives a header and no records.
    """
    meta: list[bytes] = []
    for first_line, block in blocks:
        start = 0
        number = first_line
        while start < len(block):
            end = block.index(b"\n", start)
            line = block[start:end]
            if number == 1 and not line.startswith(b"##fileformat=VCFv4."):
                raise InputError("not a VCF 4.x file: the first line must be ##fileformat=VCFv4.x", path, 1)
            if line.startswith(b"##"):
                meta.append(line)
                start, number = end + 1, number + 1
                continue
            if not line.startswith(b"#CHROM"):
                raise InputError("header has no #CHROM line before the first record", path, number)
            header = VcfHeader(meta, check_column_line(line, path, number), number)
            return header, _chain_text(number + 1, block[end + 1 :], blocks)
    if not meta:
        raise InputError("empty input: not a VCF file", path)
    raise InputError("file ends before the #CHROM header line", path)


def _chain_text(number: int, rest: bytes, blocks: TextBlocks) -> TextBlocks:
    if rest:
        yield number, rest
    yield from blocks


KEPT_TABS = 8
POS_ERROR = f"POS is not an integer from 0 to {MAX_POS}"


class RecordBlock:
    """A block of record lines, located but not split: where each line starts and ends
    and where its tabs are, as numpy arrays; any column is then a span of ``text``.

    Made by ``RecordBlock(first_line, text, path, column_count)``, which checks the
    number of columns of every line, a CHROM and a POS of digits no larger than
    ``fields.MAX_POS``, and raises InputError at the first line that fails.
    """

    def __init__(self, first_line: int, text: bytes, path: str, column_count: int) -> None:
        self.first_line = first_line
        self.text = text
        self.path = path
        self.data = np.frombuffer(text, dtype=np.uint8)
        # Tabs are kept up to the end of INFO (column 7): no command looks further.
        kept = min(column_count - 1, KEPT_TABS)
        located = scan.vcf_columns(text, column_count, kept)
        self.count, self.starts, self.ends, self.tabs = located.line_count, located.starts, located.ends, located.tabs
        bad_row, problem, found = located.bad_row, located.problem, located.columns_found
        if not problem and self.count:
            pos_start, pos_end = self.column(1)
            beyond = positions_beyond_limit(self.data, text, pos_start, pos_end)
            if beyond.any():
                bad_row, problem = int(np.argmax(beyond)), scan.BAD_POS
        if problem:
            message = ["", f"record has {found} columns, the header has {column_count}", "record has an empty CHROM", POS_ERROR][problem]
            raise InputError(message, path, first_line + bad_row)

    def column(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Start and end offsets in ``text`` of column ``index`` (0: CHROM ... 7: INFO) of every record."""
        if index > KEPT_TABS - 1:
            raise ValueError("RecordBlock locates the columns CHROM to INFO only")
        start = self.starts if index == 0 else self.tabs[:, index - 1] + 1
        end = self.tabs[:, index] if index < self.tabs.shape[1] else self.ends
        return start, end

    def spans(self, starts: np.ndarray, ends: np.ndarray) -> list[bytes]:
        """The bytes of each span (one Python object per record: for the few that need it)."""
        text = self.text
        return [text[start:end] for start, end in zip(starts.tolist(), ends.tolist(), strict=True)]

    def line(self, index: int) -> bytes:
        return self.text[int(self.starts[index]) : int(self.ends[index])]

    def lines(self) -> list[bytes]:
        """Every record line, without its newline: for the one-record paths."""
        return self.text.split(b"\n")[:-1]

    def kept_text(self, keep: np.ndarray) -> bytes:
        """The text of the records where ``keep`` is True, as slices of the block (runs of kept lines are one slice)."""
        if keep.all():
            return self.text
        if not keep.any():
            return b""
        edges = np.flatnonzero(np.diff(np.concatenate(([False], keep, [False])).astype(np.int8)))
        run_starts, run_stops = edges[0::2], edges[1::2]
        return scan.join_spans(self.text, self.starts[run_starts], self.ends[run_stops - 1] + 1)


def whole_sites(body: TextBlocks) -> TextBlocks:
    """Text blocks cut where CHROM or POS changes: when the next block starts with a record at a
    block's last CHROM and POS, the block's records there go on with it, so that a command
    sees a site whole (vcf-drop-rare's ``InfoFrequencies.judge_sites_together``, and
    ``record_traces``, which drops a site whole; a block that is one site whole goes on whole).
    Other blocks (most), the last one, and a block whose last line has no second tab (left to
    the record checks) stay as read, not copied."""
    pending: tuple[int, bytes] | None = None
    for first_line, block in body:
        if pending is None:
            pending = first_line, block
            continue
        first, text = pending
        cut = last_site_start(text)
        chrom_end = text.find(b"\t", cut) if cut >= 0 else -1
        site = text[cut : text.find(b"\t", chrom_end + 1) + 1] if chrom_end >= 0 else b""
        if not site or not block.startswith(site):  # the next block starts another site (most often): as read
            yield pending
            pending = first_line, block
        elif cut:
            yield first, text[:cut]
            pending = first + text.count(b"\n", 0, cut), text[cut:] + block
        else:
            pending = first, text + block
    if pending is not None:
        yield pending


def last_site_start(text: bytes) -> int:
    """Where the records at the last CHROM and POS of ``text`` (whole lines) start; -1 when the
    last line has no CHROM and POS to compare."""
    last = text.rfind(b"\n", 0, len(text) - 1) + 1
    chrom_end = text.find(b"\t", last)
    pos_end = text.find(b"\t", chrom_end + 1) if chrom_end >= 0 else -1
    if pos_end < 0:
        return -1
    site = text[last : pos_end + 1]
    cut = last
    while cut > 0:
        previous = text.rfind(b"\n", 0, cut - 1) + 1
        if not text.startswith(site, previous):
            break
        cut = previous
    return cut
