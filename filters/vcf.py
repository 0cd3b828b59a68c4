"""VCF text helpers shared by vcf-scrub-header and vcf-drop-rare.

Both commands read the header as lines, leave every record they keep as the
same bytes, and check records only as far as they must (column count, CHROM,
POS): a VCF record is never split into fields (STYLE.md, *Code*). The header
ends at the ``#CHROM`` line (VCF 4.4, section 1.5); what follows comes in 4 MiB
blocks of whole lines (``text_blocks``), located by numpy (``RecordBlock``).

``-O z`` output goes through htslib's BGZF writer (``pysam.BGZFile``), so the
result can be indexed by tabix; plain gzip cannot (STYLE.md, *Compression*).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, cast

import numpy as np
import xopen
from genoscrub import scan
from genoscrub.report import InputError, UsageError
from genoscrub.streams import (
    BLOCK_SIZE,
    DECOMPRESSION_ERRORS,
    OutputTarget,
    background_reads,
    c_errno,
    open_input,
    open_output,
    pending_outputs,
    reading,
    whole_line_blocks,
)
from numpy.lib.stride_tricks import sliding_window_view

FIXED_COLUMNS = (b"#CHROM", b"POS", b"ID", b"REF", b"ALT", b"QUAL", b"FILTER", b"INFO")
STRUCTURED_FIELD = re.compile(rb'([A-Za-z0-9_.:-]+)=("(?:[^"\\]|\\.)*"|[^,>]*)')

# (number of the first line, text of whole lines, each ending in a newline)
TextBlocks = Iterator[tuple[int, bytes]]


@contextlib.contextmanager
def opened_input(path: str) -> Iterator[BinaryIO]:
    """``streams.open_input``, but a path's file is closed too: xopen leaves open a file
    object it was handed, which leaks one descriptor per compressed input."""
    if path == "-":
        with reading(open_input(path)) as stream:
            yield stream
        return
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


@dataclass
class VcfHeader:
    """The meta lines (``##...``), the column line and where it was."""

    meta: list[bytes]
    columns: list[bytes]
    column_line_number: int
    first_line_number: int = 1
    samples: list[bytes] = field(init=False)

    def __post_init__(self) -> None:
        self.samples = self.columns[9:]


def meta_key(line: bytes) -> bytes:
    """``INFO`` of ``##INFO=<...>``; the whole text after ``##`` when there is no ``=``."""
    return line[2:].split(b"=", 1)[0]


def meta_value(line: bytes) -> bytes:
    parts = line.split(b"=", 1)
    return parts[1] if len(parts) == 2 else b""


def structured_fields(value: bytes) -> list[tuple[bytes, bytes]] | None:
    """``[(key, value), ...]`` of a ``<ID=x,Description="...">`` value, quotes kept; None if not one."""
    if not (value.startswith(b"<") and value.endswith(b">")):
        return None
    return STRUCTURED_FIELD.findall(value[1:-1])


def structured_id(line: bytes) -> bytes | None:
    fields = structured_fields(meta_value(line))
    if fields is None:
        return None
    return next((value for key, value in fields if key == b"ID"), None)


def contig_lengths(meta: list[bytes]) -> dict[str, int | None]:
    """Contig name -> length (None when not given) from ``##contig`` lines."""
    contigs: dict[str, int | None] = {}
    for line in meta:
        if meta_key(line) != b"contig":
            continue
        fields = dict(structured_fields(meta_value(line)) or [])
        name = fields.get(b"ID")
        if not name:
            continue
        length = fields.get(b"length", b"")
        contigs[name.decode(errors="replace")] = int(length) if length.isdigit() else None
    return contigs


def info_numbers(meta: list[bytes]) -> dict[bytes, bytes]:
    """INFO ID -> its Number (``A``, ``R``, ``1``, ``.``, ...) from ``##INFO`` lines."""
    numbers: dict[bytes, bytes] = {}
    for line in meta:
        if meta_key(line) != b"INFO":
            continue
        fields = dict(structured_fields(meta_value(line)) or [])
        if b"ID" in fields:
            numbers[fields[b"ID"]] = fields.get(b"Number", b".")
    return numbers


def check_column_line(line: bytes, path: str, number: int) -> list[bytes]:
    """The columns of the ``#CHROM`` line; the eight fixed ones, tab-separated, then FORMAT and samples."""
    columns = line.split(b"\t")
    if tuple(columns[:8]) != FIXED_COLUMNS:
        raise InputError("the #CHROM line must name the 8 fixed columns, separated by tabs", path, number)
    if len(columns) > 8 and columns[8] != b"FORMAT":
        raise InputError("the 9th column of the #CHROM line must be FORMAT", path, number)
    if b"" in columns[9:]:
        raise InputError("the #CHROM line has an empty sample name", path, number)
    return columns


class VcfOutput:
    """Text VCF to stdout or ``-o``, or BGZF through htslib for ``-O z`` (tabix-indexable).

    ``-o`` writes a temporary name that ``cli.run`` renames into place once the
    command succeeded (streams.OutputTarget). BGZF is finished (its end-of-file block
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
        (never a device or FIFO, see streams.OutputTarget)."""
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


NEWLINE, TAB, SEMICOLON = 10, 9, 59
DIGITS = np.zeros(256, dtype=bool)
DIGITS[list(b"0123456789")] = True
# Spans longer than this are checked one by one (rare: a POS of 17 digits, a long allele).
GATHER_WIDTH = 16


def windows(data: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """``data[start:start + width]`` for each start, as the rows of a new uint8 array (0 past the end):
    rows of a sliding-window view, copied at once, not bytes gathered one by one."""
    limit = len(data) - width
    if limit >= 0 and width > 0:
        result = sliding_window_view(data, width)[np.clip(starts, 0, limit)]
    else:
        result = np.zeros((len(starts), width), dtype=np.uint8)
    for row in np.flatnonzero((starts > limit) | (starts < 0)).tolist():  # the last bytes of a block: one by one
        piece = data[max(int(starts[row]), 0) : int(starts[row]) + width] if starts[row] >= 0 else data[:0]
        result[row] = 0
        result[row, : len(piece)] = piece
    return result


def spans_within(data: np.ndarray, text: bytes, starts: np.ndarray, ends: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """For each span ``text[start:end]``: is every byte of it in ``allowed`` (a 256-entry table)?

    Short spans are gathered into one (records x GATHER_WIDTH) array and looked up at
    once; an empty span is within anything.
    """
    if scan.native is not None:
        within = scan.native.spans_within(data, np.ascontiguousarray(starts), np.ascontiguousarray(ends), allowed)
        return np.frombuffer(within, dtype=bool)
    lengths = ends - starts
    result = np.ones(len(starts), dtype=bool)
    if not len(starts):
        return result
    width = min(int(lengths.max()), GATHER_WIDTH)
    if width > 0:
        inside = np.arange(width) < lengths[:, None]
        result = (allowed[windows(data, starts, width)] | ~inside).all(axis=1)
    table = bytes(np.flatnonzero(~allowed).astype(np.uint8).tolist())
    for row in np.flatnonzero(lengths > GATHER_WIDTH).tolist():
        span = text[starts[row] : ends[row]]
        result[row] = len(span.translate(None, table)) == len(span)
    return result


KEPT_TABS = 8
BAD_COLUMN_COUNT, EMPTY_CHROM, BAD_POS = 1, 2, 3  # problems found by RecordBlock, as filters/_scan.c numbers them


class RecordBlock:
    """A block of record lines, located but not split: where each line starts and ends
    and where its tabs are, as numpy arrays; any column is then a span of ``text``.

    Made by ``RecordBlock(first_line, text, path, column_count)``, which checks what
    ``check_records`` checks: the number of columns of every line, a CHROM and a POS
    of digits, and raises InputError at the first line that fails.
    """

    def __init__(self, first_line: int, text: bytes, path: str, column_count: int) -> None:
        self.first_line = first_line
        self.text = text
        self.path = path
        self.data = np.frombuffer(text, dtype=np.uint8)
        # Tabs are kept up to the end of INFO (column 7): no command looks further.
        kept = min(column_count - 1, KEPT_TABS)
        if scan.native is not None:
            count, starts, ends, tabs, bad_row, problem, found = scan.native.vcf_columns(text, column_count, kept)
            self.count = count
            self.starts = np.frombuffer(starts, dtype=np.int64)
            self.ends = np.frombuffer(ends, dtype=np.int64)
            self.tabs = np.frombuffer(tabs, dtype=np.int64).reshape(count, kept)
        else:
            bad_row, problem, found = self._locate(column_count, kept)
        if problem:
            message = [
                "",
                f"record has {found} columns, the header has {column_count}",
                "record has an empty CHROM",
                "POS is not a non-negative integer",
            ][problem]
            raise InputError(message, path, first_line + bad_row)

    def _locate(self, column_count: int, kept: int) -> tuple[int, int, int]:
        """``scan.native.vcf_columns`` in numpy: sets the offsets, returns ``(bad_row, problem, columns_found)``."""
        data = self.data
        self.ends = np.flatnonzero(data == NEWLINE)
        self.count = len(self.ends)
        self.starts = np.empty(self.count, dtype=np.int64)
        if self.count:
            self.starts[0] = 0
            self.starts[1:] = self.ends[:-1] + 1
        tabs = np.flatnonzero(data == TAB)
        per_line = column_count - 1
        if len(tabs) != per_line * self.count or self._tabs_per_line(tabs).min(initial=per_line) != per_line:
            found = self._tabs_per_line(tabs) + 1
            index = int(np.argmax(found != column_count))
            return index, BAD_COLUMN_COUNT, int(found[index])
        self.tabs = tabs.reshape(self.count, per_line)[:, :kept]
        empty_chrom = self.tabs[:, 0] == self.starts
        pos_start, pos_end = self.column(1)
        bad_pos = (pos_end == pos_start) | ~spans_within(data, self.text, pos_start, pos_end, DIGITS)
        bad = empty_chrom | bad_pos
        if bad.any():
            index = int(np.argmax(bad))
            return index, EMPTY_CHROM if empty_chrom[index] else BAD_POS, column_count
        return 0, 0, column_count

    def _tabs_per_line(self, tabs: np.ndarray) -> np.ndarray:
        return np.diff(np.searchsorted(tabs, self.ends), prepend=0)

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

    def kept_text(self, keep: np.ndarray) -> bytes:
        """The text of the records where ``keep`` is True, as slices of the block (runs of kept lines are one slice)."""
        if keep.all():
            return self.text
        if not keep.any():
            return b""
        edges = np.flatnonzero(np.diff(np.concatenate(([False], keep, [False])).astype(np.int8)))
        run_starts, run_stops = edges[0::2], edges[1::2]
        starts = self.starts[run_starts].tolist()
        ends = (self.ends[run_stops - 1] + 1).tolist()
        text = self.text
        if scan.native is not None:
            return scan.native.join_spans(text, self.starts[run_starts], self.ends[run_stops - 1] + 1)
        return b"".join([text[start:end] for start, end in zip(starts, ends, strict=True)])


def info_values(
    text: bytes, data: np.ndarray, line_starts: np.ndarray, key: bytes, info_start: np.ndarray, info_end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the value of INFO ``key`` is in each line: (found, start, end) offsets in ``text``.

    The first ``key=`` at the start of the INFO column or after a ``;``, as the regex
    ``(?:^|;)key=([^;]*)`` finds it; the occurrences of ``key=`` in the whole text are
    located by one ``bytes.split``, not a regex run over every byte.
    """
    if scan.native is not None:
        found_bytes, starts_bytes, ends_bytes = scan.native.info_values(
            data, np.ascontiguousarray(info_start), np.ascontiguousarray(info_end), key
        )
        return (np.frombuffer(found_bytes, dtype=bool), np.frombuffer(starts_bytes, dtype=np.int64),
                np.frombuffer(ends_bytes, dtype=np.int64))
    needle = key + b"="
    pieces = text.split(needle)
    found = np.zeros(len(info_start), dtype=bool)
    value_start = np.zeros(len(info_start), dtype=np.int64)
    value_end = np.zeros(len(info_start), dtype=np.int64)
    if len(pieces) == 1:
        return found, value_start, value_end
    lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))[:-1]
    at = np.cumsum(lengths + len(needle)) - len(needle)
    rows = np.searchsorted(line_starts, at, side="right") - 1
    valid = (at >= info_start[rows]) & (at < info_end[rows])
    after_separator = (at == info_start[rows]) | (data[np.maximum(at - 1, 0)] == SEMICOLON)
    at, rows = at[valid & after_separator], rows[valid & after_separator]
    first = np.flatnonzero(np.diff(rows, prepend=-1))  # rows do not decrease: the first occurrence in each
    rows, starts = rows[first], at[first] + len(needle)
    semicolons = np.flatnonzero(data == SEMICOLON)
    next_semicolon = np.append(semicolons, len(data))[np.searchsorted(semicolons, starts)]
    found[rows] = True
    value_start[rows] = starts
    value_end[rows] = np.minimum(next_semicolon, info_end[rows])
    return found, value_start, value_end


def span_integers(data: np.ndarray, text: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Spans of digits (checked before) as int64; 18 digits at most, as VCF POS is 32-bit."""
    lengths = ends - starts
    values = np.zeros(len(starts), dtype=np.int64)
    if not len(starts):
        return values
    width = int(lengths.max())
    if width > 18:
        raise ValueError("more than 18 digits")
    for offset in range(width):
        inside = offset < lengths
        digits = data[np.minimum(starts + offset, len(data) - 1)].astype(np.int64) - 48
        values = np.where(inside, values * 10 + digits, values)
    return values


def span_digits(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each span read as an integer, and whether it is one: 1 to 18 digits (0 where it is not)."""
    lengths = ends - starts
    valid = (lengths >= 1) & (lengths <= 18)
    values = np.zeros(len(starts), dtype=np.int64)
    if not valid.any():
        return values, valid
    width = int(lengths[valid].max())
    inside = np.arange(width) < lengths[:, None]
    digits = windows(data, starts, width) - np.uint8(48)  # a non-digit wraps past 9
    valid &= ((digits <= 9) | ~inside).all(axis=1)
    places = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    values[valid] = (np.where(inside[valid], digits[valid], 0).astype(np.int64) @ places) // places[lengths[valid] - 1]
    return values, valid


NUMBER_BYTES = np.zeros(256, dtype=bool)
NUMBER_BYTES[list(b"0123456789.eE+-")] = True
FLOAT_WIDTH = 24


def span_floats(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each span read as a float, and where that was done: spans of up to 24 digits, ``.``,
    ``e``, ``+``, ``-`` (not ``.`` alone) are gathered into one fixed-width bytes array that
    numpy converts at once; the others (``0.1,0.2``, ``.``, empty) are NaN and not done.
    """
    lengths = ends - starts
    done = (lengths > 0) & (lengths <= FLOAT_WIDTH) & ~((lengths == 1) & (data[np.minimum(starts, len(data) - 1)] == DOT))
    values = np.full(len(starts), np.nan)
    if not done.any():
        return values, done
    done[done] = spans_within(data, b"", starts[done], ends[done], NUMBER_BYTES)
    rows = np.flatnonzero(done)
    if not len(rows):
        return values, done
    width = int(lengths[rows].max())
    gathered = windows(data, starts[rows], width)
    gathered[np.arange(width) >= lengths[rows, None]] = 0
    decimal, parsed = decimal_floats(gathered, lengths[rows])
    values[rows[parsed]] = decimal
    rows, gathered = rows[~parsed], gathered[~parsed]
    if not len(rows):
        return values, done
    texts = np.ascontiguousarray(gathered).view(f"S{width}").ravel()
    try:
        values[rows] = texts.astype(np.float64)
    except ValueError:  # "1.2.3", "e", "-": one by one, and not done
        values[rows] = [_float_or_nan(text) for text in texts.tolist()]
        done[rows] = ~np.isnan(values[rows])
    return values, done


POWERS_OF_TEN = 10 ** np.arange(16, dtype=np.int64)


def decimal_floats(gathered: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Numbers written ``D`` or ``D.ddd`` (one digit, then at most 14 decimals: ``0.00013``, as
    bcftools and most annotators write frequencies) read by integer arithmetic, and which rows
    were: mantissa / 10**k with both exact is one correctly rounded division, the same float
    as ``float(text)``. The rest (``6e-05``, signs, long numbers) are left to ``astype``."""
    decimals = np.maximum(lengths - 2, 0)
    digit = (gathered >= 48) & (gathered <= 57)
    dot = gathered[:, 1] == DOT if gathered.shape[1] > 1 else np.zeros(len(gathered), dtype=bool)
    parsed = digit[:, 0] & ((lengths == 1) | (dot & (decimals <= 14)))
    width = min(gathered.shape[1] - 2, 14)
    if width > 0:
        inside = np.arange(width) < decimals[:, None]
        parsed &= (digit[:, 2 : 2 + width] | ~inside).all(axis=1)
        places = POWERS_OF_TEN[width - 1 :: -1][:width]
        fraction = np.where(inside, gathered[:, 2 : 2 + width] - 48, 0).astype(np.int64) @ places
        fraction //= POWERS_OF_TEN[width - np.minimum(decimals, width)]
    else:
        fraction = np.zeros(len(gathered), dtype=np.int64)
    scale = POWERS_OF_TEN[np.minimum(decimals, 15)]
    mantissa = (gathered[:, 0].astype(np.int64) - 48) * scale + fraction
    return (mantissa[parsed] / scale[parsed]).astype(np.float64), parsed


DOT = ord(".")


def _float_or_nan(text: bytes) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")
