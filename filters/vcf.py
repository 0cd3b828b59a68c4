"""VCF text helpers shared by vcf-scrub-header and vcf-drop-rare.

Both commands read the header as lines, leave every record they keep as the
same bytes, and check records only as far as they must (column count, POS):
a VCF record is split only up to the field a command changes (STYLE.md,
*Code*). The header ends at the ``#CHROM`` line (VCF 4.4, section 1.5); what
follows comes in blocks of whole lines from ``streams.line_blocks``.

``-O z`` output goes through htslib's BGZF writer (``pysam.BGZFile``), so the
result can be indexed by tabix; plain gzip cannot (STYLE.md, *Compression*).
"""

from __future__ import annotations

import contextlib
import errno
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import BinaryIO, cast

import xopen

from filters.report import InputError, UsageError
from filters.streams import DECOMPRESSION_ERRORS, open_input, open_output

FIXED_COLUMNS = (b"#CHROM", b"POS", b"ID", b"REF", b"ALT", b"QUAL", b"FILTER", b"INFO")
STRUCTURED_FIELD = re.compile(rb'([A-Za-z0-9_.:-]+)=("(?:[^"\\]|\\.)*"|[^,>]*)')

Blocks = Iterator[tuple[int, list[bytes]]]


@contextlib.contextmanager
def opened_input(path: str) -> Iterator[BinaryIO]:
    """``streams.open_input``, but a path's file is closed too: xopen leaves open a file
    object it was handed, which leaks one descriptor per compressed input."""
    if path == "-":
        with open_input(path) as stream:
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


def split_header(blocks: Blocks, path: str) -> tuple[VcfHeader, Blocks]:
    """Read the header from ``blocks``; return it and the blocks of records that follow.

    The first line must be ``##fileformat=VCFv4.x``; the header must end with a
    ``#CHROM`` line. A header-only file gives a header and no records.
    """
    meta: list[bytes] = []
    for first_line, lines in blocks:
        for index, line in enumerate(lines):
            number = first_line + index
            if number == 1 and not line.startswith(b"##fileformat=VCFv4."):
                raise InputError("not a VCF 4.x file: the first line must be ##fileformat=VCFv4.x", path, 1)
            if line.startswith(b"##"):
                meta.append(line)
                continue
            if not line.startswith(b"#CHROM"):
                raise InputError("header has no #CHROM line before the first record", path, number)
            header = VcfHeader(meta, check_column_line(line, path, number), number)
            rest = lines[index + 1 :]
            return header, _chain_rest(number + 1, rest, blocks)
    if not meta:
        raise InputError("empty input: not a VCF file", path)
    raise InputError("file ends before the #CHROM header line", path)


def _chain_rest(number: int, rest: list[bytes], blocks: Blocks) -> Blocks:
    if rest:
        yield number, rest
    yield from blocks


# A record line with an empty CHROM or a POS that is not digits.
BAD_CHROM_OR_POS = re.compile(rb"\n(?:\t|[^\t\n]+\t(?![0-9]+\t))")


def check_records(
    lines: list[bytes], first_line: int, path: str, column_count: int, fields: list[list[bytes]] | None = None
) -> None:
    """Raise InputError at the first record with the wrong number of columns or a bad CHROM or POS.

    ``fields`` are the lines split on tabs at least twice, if the caller has them.
    The valid case costs one ``bytes.count`` per line and a few joins, all in C; only
    a bad block is searched line by line.
    """
    tabs = column_count - 1
    if set(map(bytes.count, lines, repeat(b"\t"))) != {tabs}:
        for index, line in enumerate(lines):
            found = line.count(b"\t") + 1
            if found != column_count:
                message = f"record has {found} columns, the header has {column_count}"
                raise InputError(message, path, first_line + index)
    if fields is None:
        if BAD_CHROM_OR_POS.search(b"\n" + b"\n".join(lines)) is None:
            return
        fields = list(map(bytes.split, lines, repeat(b"\t"), repeat(2)))
    chroms, positions = list(map(itemgetter(0), fields)), list(map(itemgetter(1), fields))
    if b"".join(positions).isdigit() and b"" not in positions and b"" not in chroms:
        return
    for index, (chrom, pos) in enumerate(zip(chroms, positions, strict=True)):
        if not chrom:
            raise InputError("record has an empty CHROM", path, first_line + index)
        if not pos.isdigit():
            raise InputError("POS is not a non-negative integer", path, first_line + index)


class VcfOutput:
    """Text VCF to stdout or ``-o``, or BGZF through htslib for ``-O z`` (tabix-indexable)."""

    def __init__(self, path: str | None, output_type: str | None) -> None:
        if output_type not in (None, "v", "z"):
            raise UsageError("--output-type must be v (VCF text) or z (bgzipped VCF)")
        named_gz = bool(path) and str(path).endswith((".gz", ".bgz"))
        self.bgzf = output_type == "z" or (output_type is None and named_gz)
        self.path = path
        self._bgzf_file = None
        self._stream: BinaryIO | None = None
        if self.bgzf:
            import pysam

            try:
                self._bgzf_file = pysam.BGZFile(path or "-", "wb", index=None)
            except OSError as error:
                raise UsageError(f"cannot write {path or 'stdout'}: {error.strerror or 'error'}") from None
        else:
            self._stream = open_output(path)

    def write(self, data: bytes) -> None:
        if self._bgzf_file is not None:
            try:
                self._bgzf_file.write(data)
            except OSError as error:
                if error.errno == errno.EPIPE:
                    raise BrokenPipeError from None
                raise
        else:
            assert self._stream is not None
            self._stream.write(data)

    def close(self) -> None:
        if self._bgzf_file is not None:
            try:
                self._bgzf_file.close()
            except OSError as error:
                if error.errno == errno.EPIPE:
                    raise BrokenPipeError from None
                raise
        elif self._stream is not None:
            self._stream.flush()
            if self.path and self.path != "-":
                self._stream.close()


def joined(lines: list[bytes]) -> bytes:
    """Lines back into text, each ending in a newline (empty for no lines)."""
    if not lines:
        return b""
    lines.append(b"")
    text = b"\n".join(lines)
    lines.pop()
    return text
