"""The byte loops of ``_scan.c`` in Python (numpy and bytes methods): their twins.

Each function here has the signature of its namesake in ``scan`` and computes what the
compiled loop computes: the same offsets, verdicts and output bytes, and the same
exception type for an argument the loop refuses. They run where ``_scan.c`` was not
built (an install without a C compiler) and with ``GENOSCRUB_PURE_PYTHON=1``;
tests/test_scan.py holds each to its compiled namesake on the same bytes. Commands
call them through ``scan``, which picks one implementation at import.

Offsets are int64 numpy arrays; a span is ``text[start:end]``. Two helpers are shared
beyond the twins: ``windows`` (the gather that ``fields`` reads numbers with) and
``first_irregular_record`` (the rule of a plain FASTQ record, which fastq-scrub-names
also applies to the lines it holds as a list).
"""

from __future__ import annotations

import os
import re
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# Relative, as scan imports this module; cigar imports neither.
from .cigar import md_and_nm as md_and_nm

BAD_COLUMN_COUNT, EMPTY_CHROM, BAD_POS = 1, 2, 3
"""The problems ``vcf_columns`` reports (0: none), numbered as ``_scan.c`` numbers them."""

GATHER_WIDTH = 16
"""Spans up to this long are gathered into one array; longer ones (rare: a POS of 17
digits, a long allele) are checked one by one."""

DIGIT_BYTES = np.zeros(256, dtype=bool)
DIGIT_BYTES[list(b"0123456789")] = True
UPPERCASE_LETTERS = np.frombuffer(bytes(range(256)).upper(), dtype=np.uint8)
"""``bytes.upper`` as a lookup table (a to z only, as the C loop folds case)."""


class VcfColumns(NamedTuple):
    """Where a block's VCF record lines and their first tabs are, and the first problem.

    ``starts``/``ends``: each line's first byte and its newline; ``tabs``: (line_count,
    tabs_kept) offsets of each line's first tabs. ``problem`` is 0 when every line
    passed; otherwise ``bad_row`` (0-based) is the first failing line and
    ``columns_found`` its column count when the count is the problem (else 0). After a
    column-count problem the offsets from ``bad_row`` on are undefined.
    """

    line_count: int
    starts: np.ndarray
    ends: np.ndarray
    tabs: np.ndarray
    bad_row: int
    problem: int
    columns_found: int


class LineFields(NamedTuple):
    """Where the lines of a block are, their first tabs and the fields after those (``line_fields``).

    ``starts``/``ends``: each line's first byte and its newline; ``tabs``: (line_count,
    tabs_kept) offsets of each line's first tabs; ``extra_starts``: every further tab,
    in order, ``extra_ends`` the tab or newline after it, ``extra_counts`` how many a
    line has. ``bad_row`` is -1, or the first line with fewer than ``tabs_kept`` tabs:
    the lines from it on are then left out (``line_count`` is ``bad_row``).
    """

    line_count: int
    starts: np.ndarray
    ends: np.ndarray
    tabs: np.ndarray
    extra_starts: np.ndarray
    extra_ends: np.ndarray
    extra_counts: np.ndarray
    bad_row: int


class FastqRecords(NamedTuple):
    """The plain 4-line FASTQ records at the start of a text (``fastq_scan``)."""

    record_count: int
    end: int
    """Offset just past the last of them."""
    heads: bytes
    """Their name lines, joined by newlines."""
    plus_named: int
    """How many of their ``+`` lines hold more than ``+``."""


class RevertedMatches(NamedTuple):
    """The lines ``sam_revert_matches`` built, and how many reads and bases it changed."""

    lines: list[bytes | None]
    changed: int
    bases: int


# --- arguments, checked as the C loops check them -------------------------------------------


def _offsets(array: np.ndarray, name: str) -> np.ndarray:
    """``array`` if it holds int64 offsets (the C loops take int64 buffers only), else TypeError."""
    if not isinstance(array, np.ndarray) or array.dtype != np.int64 or array.ndim != 1:
        raise TypeError(f"{name} must be a contiguous int64 array")
    return array


def _spans(starts: np.ndarray, ends: np.ndarray, size: int) -> None:
    """Spans of one length, each inside a text of ``size`` bytes: else ValueError or IndexError."""
    _offsets(starts, "starts")
    _offsets(ends, "ends")
    if len(starts) != len(ends):
        raise ValueError("starts and ends must have one length")
    if len(starts) and ((starts < 0) | (ends < starts) | (ends > size)).any():
        raise IndexError("span outside the text")


# --- VCF --------------------------------------------------------------------------------------


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


def count_lines(text: bytes) -> int:
    """The number of newlines in ``text``."""
    return text.count(b"\n")


def vcf_columns(text: bytes, column_count: int, tabs_kept: int) -> VcfColumns:
    """Locate the record lines of a block (each ending in a newline) and their first
    ``tabs_kept`` tabs; check that every line has ``column_count`` columns, a CHROM and
    a POS of digits. A wrong column count anywhere wins over the other two problems.

    Two passes of numpy over the block: the newlines, then the tabs, which must come
    ``column_count - 1`` to a line.
    """
    tabs_per_line = column_count - 1
    if tabs_kept < 2 or tabs_kept > tabs_per_line:
        raise ValueError("tabs_kept must be at least 2 and at most column_count - 1")
    data = np.frombuffer(text, dtype=np.uint8)
    ends = np.flatnonzero(data == 10)
    count = len(ends)
    starts = np.zeros(count, dtype=np.int64)
    starts[1:] = ends[:-1] + 1
    lines = data[: ends[-1] + 1] if count else data[:0]  # bytes after the last newline are no line
    tabs = np.flatnonzero(lines == 9)
    tabs_in_line = np.diff(np.searchsorted(tabs, ends), prepend=0) if len(tabs) == tabs_per_line * count else None
    if tabs_in_line is None or tabs_in_line.min(initial=tabs_per_line) != tabs_per_line:
        found = np.diff(np.searchsorted(tabs, ends), prepend=0) + 1
        row = int(np.argmax(found != column_count))
        return VcfColumns(count, starts, ends, np.zeros((count, tabs_kept), dtype=np.int64), row, BAD_COLUMN_COUNT, int(found[row]))
    kept = tabs.reshape(count, tabs_per_line)[:, :tabs_kept]
    empty_chrom = kept[:, 0] == starts
    pos_start, pos_end = kept[:, 0] + 1, kept[:, 1]
    bad = empty_chrom | (pos_end == pos_start) | ~spans_within(data, pos_start, pos_end, DIGIT_BYTES)
    if bad.any():
        row = int(np.argmax(bad))
        return VcfColumns(count, starts, ends, kept, row, EMPTY_CHROM if empty_chrom[row] else BAD_POS, 0)
    return VcfColumns(count, starts, ends, kept, -1, 0, 0)


DATE_SEPARATORS = bytes(byte in b"-./_: " for byte in range(256))
"""What separates the groups of a date or phone number, as a translation table to 0 and 1."""
DIGIT_TABLE = bytes(byte in b"0123456789" for byte in range(256))
LIST_SEPARATOR_TABLE = bytes(byte in b"|;,~+" for byte in range(256))
"""What joins a phone number's or a date's parts that ``DATE_SEPARATORS`` lacks, as a table to 0 and 1."""


def in_column(text: np.ndarray, offsets: np.ndarray, column: int) -> np.ndarray:
    """Whether each offset of a block of lines lies in its line's column ``column`` (0-based):
    after the line's ``column``-th tab and before the next one (or the line's end)."""
    tabs = np.append(np.flatnonzero(text == ord("\t")), len(text))  # one past the last: an index for lines without
    line_starts = np.concatenate(([0], np.flatnonzero(text == ord("\n")) + 1))
    line_ends = np.append(line_starts[1:] - 1, len(text))
    first_tab = np.searchsorted(tabs[:-1], line_starts)
    tab_counts = np.diff(np.append(first_tab, len(tabs) - 1))
    has_column = tab_counts >= column
    if column == 0:
        starts = line_starts - 1
    else:
        starts = np.where(has_column, tabs[np.minimum(first_tab + column - 1, len(tabs) - 1)], line_ends)
    ends = np.where(tab_counts > column, tabs[np.minimum(first_tab + column, len(tabs) - 1)], line_ends)
    line = np.searchsorted(line_starts, offsets, side="right") - 1
    return has_column[line] & (offsets > starts[line]) & (offsets < ends[line])


def date_junctions(text: bytes, info_column: int) -> np.ndarray:
    """Offsets in a block of VCF lines from which every date or phone number written with
    separators can be found (a superset, for the audit's value rule): a junction is a digit, a
    separator (``-./_:`` or a blank), a blank perhaps, and a digit; a ``:`` is one only in the
    column after ``info_column`` tabs (it splits a sample's values, so ``0.5:1234`` is no date).
    A junction is kept with another junction two to six bytes after it and two digits before
    it (``1990.01.01``, ``29.10.23``), or with one two to six bytes after it that four digits follow. Besides, the first digit of a
    phone number's first part or a date's joined by a list's separator (``|;,~+``, or `` - `` for a
    phone number): digits followed by such a separator and a digit, two or three of them from a ``0``
    (``010~1234``, ``02 - 123``), or a year's four from a 1 or 2 before a month's two from a 0 or 1
    and the same separator again (``1990|01|``), or a day's or a month's two from 0 to 3 twice, the
    separator twice and a year's four from a 1 or 2 (``01;01;1990``); the offsets come sorted."""
    size = len(text)
    padded = text + bytes(8)
    data = np.frombuffer(padded, dtype=np.uint8)
    digit = np.frombuffer(padded.translate(DIGIT_TABLE), dtype=bool)
    separator = np.frombuffer(padded.translate(DATE_SEPARATORS), dtype=bool)
    space = data == ord(" ")
    next_group = digit[2 : size + 2] | (space[2 : size + 2] & digit[3 : size + 3])
    junction = digit[:size] & separator[1 : size + 1] & next_group
    colons = np.flatnonzero(junction & (data[1 : size + 1] == ord(":")))
    if len(colons):
        junction[colons[~in_column(data[:size], colons + 1, info_column)]] = False
    listed = np.frombuffer(padded.translate(LIST_SEPARATOR_TABLE), dtype=bool)
    spaced = space[1 : size + 1] & (data[2 : size + 2] == ord("-")) & space[3 : size + 3] & digit[4 : size + 4]
    ends = np.flatnonzero(digit[:size] & ((listed[1 : size + 1] & digit[2 : size + 2]) | spaced))
    starts = np.maximum.accumulate(np.where(digit[:size], -1, np.arange(size)))[ends] + 1 if len(ends) else ends
    lengths = ends - starts + 1
    marks = data[ends + 1]
    first, second, year = data[starts], data[ends + 2], data[ends + 5]
    year_first = (lengths == 4) & ((first == ord("1")) | (first == ord("2"))) & (second <= ord("1"))
    year_last = (lengths == 2) & (first <= ord("3")) & (second <= ord("3")) & ((year == ord("1")) | (year == ord("2")))
    year_last &= digit[ends + 6] & digit[ends + 7] & digit[ends + 8]
    listed_date = (marks != ord(" ")) & digit[ends + 3] & (data[ends + 4] == marks) & (year_first | year_last)
    list_starts = starts[((first == ord("0")) & ((lengths == 2) | (lengths == 3))) | listed_date]
    junctions = np.flatnonzero(junction)
    if len(junctions) < 2:
        return np.sort(list_starts).astype(np.int64)
    two_before = digit[np.maximum(junctions - 1, 0)]
    after = junctions + 2 + space[junctions + 2]
    four_after = digit[after] & digit[after + 1] & digit[after + 2] & digit[after + 3]
    nearest = np.searchsorted(junctions, junctions + 2)
    paired = (nearest < len(junctions)) & (junctions[np.minimum(nearest, len(junctions) - 1)] <= junctions + 6)
    ends = junctions[four_after]
    if len(ends):
        nearest_end = np.searchsorted(ends, junctions + 2)
        paired_end = (nearest_end < len(ends)) & (ends[np.minimum(nearest_end, len(ends) - 1)] <= junctions + 6)
    else:
        paired_end = np.zeros(len(junctions), dtype=bool)
    return np.sort(np.concatenate((junctions[(paired & two_before) | paired_end], list_starts))).astype(np.int64)


def keyed_name_hashes(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, key: np.ndarray) -> np.ndarray:
    """A keyed 64-bit hash of each span ``data[start:end]`` (a read name), from ``key``'s n uint64
    multipliers: ``h = length * k[0]``; for each 8 bytes of the span (little-endian, the last
    zero-padded) ``h = (h ^ word) * k[1 + column]``, ``h ^= h >> 32``; then ``h * k[n - 3]``
    through MurmurHash3's finalizer. A span longer than ``8 (n - 4)`` bytes is a ValueError.
    The spans are read 8 bytes a column over all of them at once."""
    key = np.asarray(key, dtype=np.uint64)
    if len(key) < 5:
        raise ValueError("key must hold 5 or more uint64 words")
    data = np.frombuffer(data, dtype=np.uint8)
    _spans(starts, ends, len(data))
    lengths = (ends - starts).astype(np.int64)
    count = len(starts)
    if count and int(lengths.max()) > 8 * (len(key) - 4):
        raise ValueError("a span longer than the key covers")
    hashes = lengths.astype(np.uint64) * key[0]
    padded = np.concatenate([data, np.zeros(8, dtype=np.uint8)])
    words = np.ndarray(shape=(len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))  # the 8 bytes from each byte
    shift = np.uint64(32)
    for column in range((int(lengths.max()) + 7) // 8 if count else 0):
        left = lengths - 8 * column
        word = words[np.minimum(starts + 8 * column, len(padded) - 8)].astype(np.uint64)
        keep = (np.clip(left, 0, 8) * 8).astype(np.uint64)
        word &= np.where(left >= 8, np.uint64((1 << 64) - 1), (np.uint64(1) << np.minimum(keep, np.uint64(63))) - np.uint64(1))
        mixed = (hashes ^ word) * key[1 + column]
        mixed ^= mixed >> shift
        hashes = np.where(left > 0, mixed, hashes)  # a span's own words only, whatever the others' lengths
    hashes = hashes * key[len(key) - 3]
    for multiplier in (np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)):
        hashes ^= hashes >> np.uint64(33)
        hashes *= multiplier
    hashes ^= hashes >> np.uint64(33)
    return hashes


def spans_within(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """For each span ``data[start:end]``: is every byte of it in ``allowed`` (a 256-entry
    table)? An empty span is within anything.

    Short spans are gathered into one (records x GATHER_WIDTH) array and looked up at
    once; the few longer ones one by one.
    """
    if len(allowed) != 256:
        raise ValueError("allowed must hold 256 bytes")
    data = np.frombuffer(data, dtype=np.uint8)
    _spans(starts, ends, len(data))
    lengths = ends - starts
    result = np.ones(len(starts), dtype=bool)
    if not len(starts):
        return result
    width = min(int(lengths.max()), GATHER_WIDTH)
    if width > 0:
        inside = np.arange(width) < lengths[:, None]
        result = (allowed[windows(data, starts, width)] | ~inside).all(axis=1)
    for row in np.flatnonzero(lengths > GATHER_WIDTH).tolist():
        result[row] = bool(allowed[data[starts[row] : ends[row]]].all())
    return result


def info_values(text: bytes, info_starts: np.ndarray, info_ends: np.ndarray, key: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the value of INFO ``key`` is in each span: ``(found, value_starts, value_ends)``.

    The first ``key=`` at the start of a span or after a ``;``, as the regex
    ``(?:^|;)key=([^;]*)`` finds it; the value ends at the next ``;`` or the span's end;
    offsets are 0 where it is not found. The occurrences of ``key=`` in the whole text
    are located by one ``bytes.split``, not a regex run over every byte, then given to
    the spans, which must come in order and not overlap (a block's INFO columns).
    """
    _spans(info_starts, info_ends, len(text))
    count = len(info_starts)
    found = np.zeros(count, dtype=bool)
    value_starts = np.zeros(count, dtype=np.int64)
    value_ends = np.zeros(count, dtype=np.int64)
    needle = key + b"="
    pieces = text.split(needle)
    if len(pieces) == 1 or not count:
        return found, value_starts, value_ends
    data = np.frombuffer(text, dtype=np.uint8)
    lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))[:-1]
    at = np.cumsum(lengths + len(needle)) - len(needle)
    rows = np.searchsorted(info_starts, at, side="right") - 1
    inside = rows >= 0
    at, rows = at[inside], rows[inside]
    inside = at + len(needle) <= info_ends[rows]
    after_separator = (at == info_starts[rows]) | (data[np.maximum(at - 1, 0)] == ord(";"))
    at, rows = at[inside & after_separator], rows[inside & after_separator]
    first = np.flatnonzero(np.diff(rows, prepend=-1))  # rows do not decrease: the first occurrence in each
    rows, starts = rows[first], at[first] + len(needle)
    semicolons = np.flatnonzero(data == ord(";"))
    next_semicolon = np.append(semicolons, len(data))[np.searchsorted(semicolons, starts)]
    found[rows] = True
    value_starts[rows] = starts
    value_ends[rows] = np.minimum(next_semicolon, info_ends[rows])
    return found, value_starts, value_ends


def replace_spans(text: bytes, starts: np.ndarray, ends: np.ndarray, replacement: bytes) -> bytes:
    """``text`` with each span replaced by ``replacement``; the spans must be in order and not overlap."""
    _spans(starts, ends, len(text))
    if len(starts) > 1 and (starts[1:] < ends[:-1]).any():
        raise ValueError("spans out of order or overlapping")
    kept_starts = [0, *ends.tolist()]
    kept_ends = [*starts.tolist(), len(text)]
    return replacement.join([text[start:end] for start, end in zip(kept_starts, kept_ends, strict=True)])


def join_spans(text: bytes, starts: np.ndarray, ends: np.ndarray) -> bytes:
    """The spans one after the other."""
    _spans(starts, ends, len(text))
    return b"".join([text[start:end] for start, end in zip(starts.tolist(), ends.tolist(), strict=True)])


def span_list(text: bytes, starts: np.ndarray, ends: np.ndarray) -> list[bytes]:
    """The spans as a list of bytes."""
    _spans(starts, ends, len(text))
    return [text[start:end] for start, end in zip(starts.tolist(), ends.tolist(), strict=True)]


# --- reading a descriptor ---------------------------------------------------------------------


def read_into(descriptor: int, buffer: bytearray | memoryview) -> int:
    """Read from ``descriptor`` until ``buffer`` is full or the input ends; the number of
    bytes read. An error after some bytes were read ends the call with those (the next
    call raises it); the compiled loop also lets a slow pipe fill between short reads."""
    view = memoryview(buffer).cast("B")
    filled = 0
    while filled < len(view):
        try:
            got = os.readv(descriptor, [view[filled:]])
        except OSError:
            if filled:
                break
            raise
        if not got:
            break
        filled += got
    return filled


# --- FASTQ ------------------------------------------------------------------------------------


def first_irregular_record(lines: list[bytes]) -> int | None:
    """Index of the first record of ``lines`` (4 to a record) that is not a plain 4-line
    record (a name line starting with ``@``, a ``+`` line, a quality as long as the
    sequence), or None.

    The common, valid case is checked over the whole block at C speed: counts
    of ``\\n@`` and ``\\n+`` in the joined lines, and the two lists of lengths.
    """
    heads, sequences, plus_lines, qualities = lines[0::4], lines[1::4], lines[2::4], lines[3::4]
    count = len(heads)
    if (
        (b"\n" + b"\n".join(heads)).count(b"\n@") == count
        and (plus_lines.count(b"+") == count or (b"\n" + b"\n".join(plus_lines)).count(b"\n+") == count)
        and list(map(len, sequences)) == list(map(len, qualities))
    ):
        return None
    return next(
        index
        for index, (head, sequence, plus, quality) in enumerate(zip(heads, sequences, plus_lines, qualities, strict=True))
        if not head.startswith(b"@") or not plus.startswith(b"+") or len(sequence) != len(quality)
    )


def fastq_scan(text: bytes | memoryview) -> FastqRecords:
    """The plain 4-line records at the start of ``text`` (``first_irregular_record``'s rule,
    each line ending in a newline), up to the first record that breaks the rule or lacks
    a line."""
    data = bytes(text)
    lines = data.split(b"\n")
    rest = lines.pop()  # what follows the last newline is no whole line
    whole = len(lines) - len(lines) % 4
    irregular = first_irregular_record(lines if whole == len(lines) else lines[:whole]) if whole else None
    count = whole // 4 if irregular is None else irregular
    if 4 * count == len(lines):  # the usual case: every whole line belongs to a plain record
        end = len(data) - len(rest)
    else:
        del lines[4 * count :]
        end = sum(map(len, lines)) + len(lines)
    return FastqRecords(count, end, b"\n".join(lines[0::4]), count - lines[2::4].count(b"+"))


KSEQ_STRIPPED = (b" ", b"\t", b"\r", b"\x0b", b"\x0c")
"""What ``bytes.strip`` takes off a sequence or quality line besides the newline."""


def fastq_kseq_block(lines: list[bytes], count: int) -> bool:
    """Whether ``lines[:4 * count]`` are ``count`` FASTQ records of four lines each as kseq reads
    them: every name line starts with ``@``, no sequence line does with ``+``, every ``+``
    line does, and each quality line is as long as its sequence line, neither holding a
    byte ``bytes.strip`` takes off. Checked over the lines joined by newlines (which no line
    holds), at C speed: a count of ``\n@`` and ``\n+``, a search for each stripped byte."""
    if not isinstance(lines, list):  # as the C loop takes only a list
        raise TypeError("lines must be a list of bytes")
    if count < 0 or 4 * count > len(lines):
        raise ValueError("lines must hold 4 * count lines")
    whole = 4 * count
    headers = b"\n".join(lines[0:whole:4])
    pluses = b"\n".join(lines[2:whole:4])
    sequences = b"\n".join(lines[1:whole:4])
    qualities = b"\n".join(lines[3:whole:4])
    if not count:
        return True
    if not (headers.startswith(b"@") and headers.count(b"\n@") == count - 1):
        return False
    if not (pluses.startswith(b"+") and pluses.count(b"\n+") == count - 1):
        return False
    if b"+" in sequences and (sequences.startswith(b"+") or b"\n+" in sequences):  # one byte is found faster than two
        return False
    if any(space in sequences or space in qualities for space in KSEQ_STRIPPED):
        return False
    return list(map(len, lines[1:whole:4])) == list(map(len, lines[3:whole:4]))


def fastq_rebuild(text: bytes | memoryview, count: int, heads: bytes) -> bytes:
    """``text`` (``count`` plain records, as ``fastq_scan`` found them) with each name line
    replaced by the matching line of ``heads`` and each ``+`` line by ``+``."""
    if count < 0 or (count == 0) != (not heads) or heads.count(b"\n") != max(count - 1, 0):
        raise ValueError("heads must hold count lines")
    lines = bytes(text).split(b"\n")
    if len(lines) != 4 * count + 1 or lines[-1] or (count and first_irregular_record(lines[:-1]) is not None):
        raise ValueError("text must hold exactly count plain 4-line records")
    lines[0:-1:4] = heads.split(b"\n") if count else []
    lines[2:-1:4] = [b"+"] * count
    return b"\n".join(lines)


# --- SAM --------------------------------------------------------------------------------------


def _kept_tags(tags: list[bytes], keep: bytes) -> tuple[list[bytes], bool, bool]:
    """The tags (without their tabs) whose two-letter name is marked in ``keep``, and whether
    an MD or an NM tag is among all of them. A piece shorter than a name is no tag."""
    kept = [tag for tag in tags if len(tag) >= 2 and keep[(tag[0] << 8) | tag[1]]]
    names = [tag[:2] for tag in tags]
    return kept, b"MD" in names, b"NM" in names


def _records_inside(
    text: bytes,
    reference: bytes,
    line_starts: np.ndarray,
    sequence_starts: np.ndarray,
    sequence_ends: np.ndarray,
    quality_ends: np.ndarray,
    line_ends: np.ndarray,
    offsets: np.ndarray,
) -> None:
    """IndexError unless every record's SEQ, QUAL and line lie in order inside ``text`` and
    the reference under its SEQ inside ``reference`` (the revert loops' common check)."""
    sizes = sequence_ends - sequence_starts
    if len(line_starts) and (
        (line_starts < 0) | (line_starts > sequence_starts) | (sizes < 0) | (sequence_ends >= quality_ends)
        | (quality_ends > line_ends) | (line_ends > len(text)) | (offsets < 0) | (offsets + sizes > len(reference))
    ).any():
        raise IndexError("a record's offsets lie outside the text or the reference")


def sam_revert_matches(
    text: bytes,
    line_starts: np.ndarray,
    sequence_starts: np.ndarray,
    sequence_ends: np.ndarray,
    quality_ends: np.ndarray,
    line_ends: np.ndarray,
    reference: bytes,
    offsets: np.ndarray,
    keep_unchanged: np.ndarray,
    keep_changed: np.ndarray,
) -> RevertedMatches:
    """sam-revert-germline ``--all`` for records of one M run (CIGAR = SEQ length): each
    read's SEQ against ``reference[offset:offset + its length]``.

    A read equal to it (ignoring the read's case) keeps its line up to QUAL and the tags
    marked in ``keep_unchanged``; another read gets the reference as SEQ, the tags marked
    in ``keep_changed``, then ``MD:Z:<length>`` and ``NM:i:0`` where it had MD or NM. A
    changed read over an N of the reference is left to the general path (None). ``keep_*``:
    65536 bytes, nonzero at ``first letter << 8 | second letter`` of a tag to keep. The
    bases are compared in one numpy pass; only the lines are built one by one.
    """
    arrays = (line_starts, sequence_starts, sequence_ends, quality_ends, line_ends, offsets)
    names = ("line_starts", "sequence_starts", "sequence_ends", "quality_ends", "line_ends", "offsets")
    for array, name in zip(arrays, names, strict=True):
        _offsets(array, name)
    if any(len(array) != len(line_starts) for array in arrays):
        raise ValueError("the offset arrays must have one length")
    if len(keep_unchanged) != 65536 or len(keep_changed) != 65536:
        raise ValueError("keep tables must hold 65536 bytes")
    _records_inside(text, reference, line_starts, sequence_starts, sequence_ends, quality_ends, line_ends, offsets)
    if not len(line_starts):
        return RevertedMatches([], 0, 0)
    sizes = sequence_ends - sequence_starts
    firsts = np.cumsum(sizes) - sizes
    within = np.arange(int(sizes.sum())) - np.repeat(firsts, sizes)
    read = np.frombuffer(text, dtype=np.uint8)[np.repeat(sequence_starts, sizes) + within]
    target = np.frombuffer(reference, dtype=np.uint8)[np.repeat(offsets, sizes) + within]

    def per_read(flags: np.ndarray) -> np.ndarray:
        running = np.concatenate(([0], np.cumsum(flags, dtype=np.int64)))
        return running[firsts + sizes] - running[firsts]

    differing = per_read(read != target)
    changed = per_read(UPPERCASE_LETTERS[read] != target) > 0
    unknown = per_read(target == ord("N")) > 0
    keep_same, keep_new = bytes(keep_unchanged), bytes(keep_changed)
    lines: list[bytes | None] = []
    changed_reads = changed_bases = 0
    for start, sequence_start, sequence_end, quality_end, end, offset, size, bases, is_changed, over_n in zip(
        line_starts.tolist(), sequence_starts.tolist(), sequence_ends.tolist(), quality_ends.tolist(), line_ends.tolist(),
        offsets.tolist(), sizes.tolist(), differing.tolist(), changed.tolist(), unknown.tolist(), strict=True,
    ):
        if is_changed and over_n:
            lines.append(None)
            continue
        tags = text[quality_end + 1 : end].split(b"\t") if quality_end < end else []
        if not is_changed:
            kept, _, _ = _kept_tags(tags, keep_same)
            lines.append(b"\t".join([text[start:quality_end], *kept]))
            continue
        kept, has_md, has_nm = _kept_tags(tags, keep_new)
        if has_md:
            kept.append(b"MD:Z:%d" % size)
        if has_nm:
            kept.append(b"NM:i:0")
        line = text[start:sequence_start] + reference[offset : offset + size] + text[sequence_end:quality_end]
        lines.append(b"\t".join([line, *kept]))
        changed_reads += 1
        changed_bases += bases
    return RevertedMatches(lines, changed_reads, changed_bases)


def splice_lines(text: bytes, line_starts: np.ndarray, line_ends: np.ndarray, rows: np.ndarray, lines: list[bytes | None]) -> bytes:
    """``text`` (whole lines; ``line_ends``: each line's newline) with line ``rows[k]``
    replaced by ``lines[k]``, or removed with its newline where ``lines[k]`` is None.
    ``rows`` must increase; every other line is copied as it is."""
    if not isinstance(lines, list):
        raise TypeError("lines must be a list")
    for array, name in ((line_starts, "line_starts"), (line_ends, "line_ends"), (rows, "rows")):
        _offsets(array, name)
    if len(line_ends) != len(line_starts) or len(lines) != len(rows):
        raise ValueError("line_starts and line_ends, rows and lines must have one length each")
    pieces: list[bytes] = []
    copied, previous_row, previous_end = 0, -1, -1
    for row, line in zip(rows.tolist(), lines, strict=True):
        if row < 0 or row >= len(line_starts) or row <= previous_row:
            raise IndexError("rows must increase and name lines of the text")
        start, end = int(line_starts[row]), int(line_ends[row])
        if end >= len(text) or start > end or start < 0 or (previous_row >= 0 and start <= previous_end):
            raise IndexError("rows must increase and name lines of the text")
        if line is not None and not isinstance(line, bytes):
            raise TypeError("lines must hold bytes or None")
        pieces.append(text[copied:start])
        if line is None:
            copied = end + 1  # the line and its newline go
        else:
            pieces.append(line)
            copied = end  # its newline comes with the next piece
        previous_row, previous_end = row, end
    pieces.append(text[copied:])
    return b"".join(pieces)


# --- SAM-like lines ---------------------------------------------------------------------------


def line_fields(text: bytes, tabs_kept: int) -> LineFields:
    """Locate the lines of ``text`` that end in a newline (bytes after the last newline
    are no line), the first ``tabs_kept`` tabs of each and the fields after them; stop
    at the first line with fewer tabs (``bad_row``). See ``LineFields``.

    numpy: the newlines, the tabs, and each line's first tab by a sorted search.
    """
    if tabs_kept < 1:
        raise ValueError("tabs_kept must be at least 1")
    data = np.frombuffer(text, dtype=np.uint8)
    ends = np.flatnonzero(data == 10)
    starts = np.zeros(len(ends), dtype=np.int64)
    starts[1:] = ends[:-1] + 1
    all_tabs = np.flatnonzero(data == 9)
    first = np.searchsorted(all_tabs, starts)
    last = np.searchsorted(all_tabs, ends)
    short = np.flatnonzero(last - first < tabs_kept)
    bad_row = int(short[0]) if len(short) else -1
    count = bad_row if bad_row >= 0 else len(ends)
    starts, ends, first, last = starts[:count], ends[:count], first[:count], last[:count]
    tabs = all_tabs[first[:, None] + np.arange(tabs_kept)] if count else np.zeros((0, tabs_kept), dtype=np.int64)
    extra_counts = (last - first - tabs_kept).astype(np.int64)
    line_of = np.repeat(np.arange(count), extra_counts)
    ranks = np.arange(int(extra_counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(extra_counts) - extra_counts, extra_counts)
    ranks += np.repeat(first + tabs_kept, extra_counts)
    extra_starts = all_tabs[ranks].astype(np.int64)
    next_ranks = ranks + 1
    last_of_line = next_ranks == last[line_of]
    extra_ends = np.where(last_of_line, ends[line_of], all_tabs[np.minimum(next_ranks, len(all_tabs) - 1)] if len(all_tabs) else 0)
    return LineFields(
        count, starts, ends.astype(np.int64), tabs.astype(np.int64), extra_starts, extra_ends.astype(np.int64), extra_counts, bad_row
    )


def splice_spans(text: bytes, starts: np.ndarray, ends: np.ndarray, pieces: list[bytes], choices: np.ndarray) -> bytes:
    """``text`` with each span replaced by ``pieces[choices[i]]``; the spans must be in order and not overlap."""
    if not isinstance(pieces, list):
        raise TypeError("pieces must be a list")
    _spans(starts, ends, len(text))
    _offsets(choices, "choices")
    if any(not isinstance(piece, bytes) for piece in pieces):
        raise TypeError("pieces must hold bytes")
    if len(choices) != len(starts):
        raise ValueError("choices must be as long as starts")
    if len(starts) > 1 and (starts[1:] < ends[:-1]).any():
        raise ValueError("spans out of order or overlapping")
    if len(choices) and ((choices < 0) | (choices >= len(pieces))).any():
        raise IndexError("choice outside pieces")
    kept = [text[start:end] for start, end in zip([0, *ends.tolist()], [*starts.tolist(), len(text)], strict=True)]
    result = [kept[0]]
    for choice, piece in zip(choices.tolist(), kept[1:], strict=True):
        result.append(pieces[choice])
        result.append(piece)
    return b"".join(result)


def md_lengths(text: bytes, starts: np.ndarray, ends: np.ndarray, letters: np.ndarray) -> np.ndarray:
    """The reference bases each MD string ``text[starts[i]:ends[i]]`` describes (its numbers,
    its mismatched and deleted bases), or -1 where it is off the grammar
    ``[0-9]{1,9}(([L]|\\^[L]+)[0-9]{1,9})*`` (``L``: the bytes ``letters`` allows, 256 entries)."""
    if len(letters) != 256:
        raise ValueError("letters must have 256 entries")
    _spans(starts, ends, len(text))
    allowed = bytes(np.flatnonzero(np.asarray(letters)).tolist())
    if not allowed:
        grammar = re.compile(rb"[0-9]{1,9}")
    else:
        letter = b"[" + b"".join(re.escape(bytes([byte])) for byte in allowed) + b"]"
        grammar = re.compile(rb"[0-9]{1,9}(?:(?:" + letter + rb"|\^" + letter + rb"+)[0-9]{1,9})*")
    lengths = np.full(len(starts), -1, dtype=np.int64)
    for index, (start, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        value = text[start:end]
        if grammar.fullmatch(value) is not None:
            lengths[index] = sum(int(number) for number in re.findall(rb"[0-9]+", value)) + sum(byte in allowed for byte in value)
    return lengths


def md_bases_at(text: bytes, starts: np.ndarray, ends: np.ndarray, letters: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """What each MD string ``text[starts[i]:ends[i]]`` says of the reference base at offset
    ``offsets[i]`` of the bases it describes: 0 a match, the letter's byte for a mismatch, 256
    plus the letter's byte for a deleted base; -1 where the offset is negative or past what the
    string describes, or the span is off the grammar of ``md_lengths``."""
    described = md_lengths(text, starts, ends, letters)
    if len(offsets) != len(starts):
        raise ValueError("offsets and starts must have one length")
    said = np.full(len(starts), -1, dtype=np.int64)
    for index, (start, end, offset) in enumerate(zip(starts.tolist(), ends.tolist(), offsets.tolist(), strict=True)):
        if described[index] < 0 or not 0 <= offset < described[index]:
            continue
        at = 0
        for number, deleted, mismatch in re.findall(rb"([0-9]+)|\^([^0-9]+)|([^0-9])", text[start:end]):
            if number:
                if offset < at + int(number):
                    said[index] = 0
                    break
                at += int(number)
            elif deleted:
                if offset < at + len(deleted):
                    said[index] = 256 + deleted[offset - at]
                    break
                at += len(deleted)
            else:
                if offset == at:
                    said[index] = mismatch[0]
                    break
                at += 1
    return said


def cigar_lengths(text: bytes, starts: np.ndarray, ends: np.ndarray, operations: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """For each span: the sum of the lengths of its operations ``counted`` allows, or -1
    where it is off the grammar ``([0-9]{1,9}[O])+`` (``O``: the letters ``operations``
    allows); both tables have 256 entries."""
    if len(operations) != 256 or len(counted) != 256:
        raise ValueError("operations and counted must have 256 entries")
    _spans(starts, ends, len(text))
    allowed = np.flatnonzero(np.asarray(operations)).tolist()
    summed = set(np.flatnonzero(np.asarray(counted)).tolist())
    letters = b"[" + b"".join(re.escape(bytes([byte])) for byte in allowed) + b"]" if allowed else b"(?!)"
    grammar = re.compile(rb"(?:[0-9]{1,9}" + letters + rb")+")
    operation = re.compile(rb"([0-9]+)(" + letters + rb")")
    lengths = np.full(len(starts), -1, dtype=np.int64)
    for index, (start, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        value = text[start:end]
        if grammar.fullmatch(value) is not None:
            lengths[index] = sum(int(number) for number, letter in operation.findall(value) if letter[0] in summed)
    return lengths


# --- BAM --------------------------------------------------------------------------------------

BAM_RECORD_FIELDS = (
    "offset", "ref_id", "pos", "flag", "name_length", "cigar_count", "sequence_length", "end", "reference_length", "first_operation",
    "contiguous", "leading_clip", "laid_length", "cigar_start", "sequence_start", "off_grammar",
)  # fmt: skip
"""The rows of ``BamRecords.records``: where each record starts, its fixed fields (``name_length``
with the NUL), where it ends, the reference bases its CIGAR covers and its first CIGAR
operation (-1 without a CIGAR); then how its bases lie when soft clips are laid beside
the alignment: ``contiguous`` 1 when, hard clips and padding aside, its CIGAR is aligned
operations (M, =, X) with at most a soft clip at either end, one aligned operation at
least; ``leading_clip`` the length of a soft clip that opens it (laid before the
alignment); ``laid_length`` the bases of its aligned operations and end clips; where the
words of its CIGAR and its SEQ start; ``off_grammar`` 1 when an operation is none of
``MIDNSHP=X`` (codes 9 to 15: htslib's ``B`` and unnamed ones).

The CIGAR is the one readers see: ``cigar_count`` and the fields read from it are those of
the first ``CG:B:I`` (or ``B:i``) where htslib's ``bam_tag2cigar`` takes it from there (a
placed record whose CIGAR opens with a soft clip of ``l_seq`` bases, the ``<l_seq>S<n>N``
placeholder a BAM writer stores for a CIGAR of more than 65535 operations, SAM 1.6, section
4.2.2, and a ``CG`` of as many operations at least, fewer than 2^29)."""
BAM_TAG_FIELDS = ("record", "code", "type", "start", "end")
"""The rows of ``BamRecords.tags``: the record (0-based in the block), the tag's two letters
as ``first << 8 | second``, its type letter and its value's span (a text value ends at its
NUL; an array's span starts at its subtype letter)."""


class BamRecords(NamedTuple):
    """The whole BAM records at ``start`` of a block of uncompressed BAM data (``bam_records``)."""

    record_count: int
    stop: int
    """Where the first incomplete record begins (the end of the data when none is)."""
    records: np.ndarray
    """int64, one row a field of ``BAM_RECORD_FIELDS``, one column a record."""
    tags: np.ndarray
    """int64, one row a field of ``BAM_TAG_FIELDS``, one column an aux field, in file order."""


_BAM_FIXED = np.dtype(
    [("block_size", "<i4"), ("ref_id", "<i4"), ("pos", "<i4"), ("l_read_name", "u1"), ("mapq", "u1"), ("bin", "<u2"),
     ("n_cigar_op", "<u2"), ("flag", "<u2"), ("l_seq", "<i4"), ("next_ref_id", "<i4"), ("next_pos", "<i4"), ("tlen", "<i4")]
)  # fmt: skip
_BAM_FIXED_COLUMNS = np.arange(36, dtype=np.int64)
_AUX_SIZES = np.zeros(256, dtype=np.int64)  # fixed sizes; -1 text (Z, H), -2 array (B), 0 no type
for _letter, _size in (("A", 1), ("c", 1), ("C", 1), ("s", 2), ("S", 2), ("i", 4), ("I", 4), ("f", 4), ("Z", -1), ("H", -1), ("B", -2)):
    _AUX_SIZES[ord(_letter)] = _size
_ARRAY_SIZES = np.zeros(256, dtype=np.int64)
for _letter, _size in (("c", 1), ("C", 1), ("s", 2), ("S", 2), ("i", 4), ("I", 4), ("f", 4)):
    _ARRAY_SIZES[ord(_letter)] = _size
_CONSUMES_REFERENCE = np.zeros(16, dtype=np.float64)
_CONSUMES_REFERENCE[[0, 2, 3, 7, 8]] = 1  # M, D, N, =, X


def _exclusive_sum(values: np.ndarray) -> np.ndarray:
    totals = np.zeros(len(values), dtype=np.int64)
    if len(values) > 1:
        np.cumsum(values[:-1], out=totals[1:])
    return totals


def _gather(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The spans laid end to end, and where each starts in the result."""
    placed = _exclusive_sum(lengths)
    total = int(lengths.sum()) if len(lengths) else 0
    if not total:
        return np.zeros(0, dtype=np.uint8), placed
    source = np.repeat(starts - placed, lengths) + np.arange(total, dtype=np.int64)
    return data[source], placed


def _record_offsets(data: bytes, start: int) -> tuple[list[int], int]:
    offsets: list[int] = []
    end = len(data) - 4
    at = start
    while at <= end:
        size = int.from_bytes(data[at : at + 4], "little", signed=True)
        if size < 32:
            raise ValueError("corrupt BAM record")
        following = at + 4 + size
        if following > end + 4:
            break
        offsets.append(at)
        at = following
    return offsets, at


def _aux_fields(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Every record's aux fields walked at once, one field per round; (5, fields) in file order.

    The aux bytes of all records are gathered first, so the NUL that ends a text value is
    found by one ``searchsorted`` over the NULs of that small array; each round keeps only
    the records that have a field left."""
    lengths = ends - starts
    aux, placed = _gather(data, starts, lengths)
    nuls = np.flatnonzero(aux == 0)
    rows = np.flatnonzero(lengths > 0)
    at = placed[rows]
    stop = at + lengths[rows]
    columns: list[np.ndarray] = []
    while len(rows):
        if bool((at + 3 > stop).any()):
            raise ValueError("corrupt BAM record")
        kind = aux[at + 2]
        size = _AUX_SIZES[kind]
        if bool((size == 0).any()):
            raise ValueError("corrupt BAM record")
        value = at + 3
        value_end = value + size
        text = size == -1
        if bool(text.any()):
            found = np.searchsorted(nuls, value[text])
            if bool((found >= len(nuls)).any()):
                raise ValueError("corrupt BAM record")
            value_end[text] = nuls[found]
        array = size == -2
        if bool(array.any()):
            base = value[array]
            if bool((base + 5 > stop[array]).any()):
                raise ValueError("corrupt BAM record")
            element = _ARRAY_SIZES[aux[base]]
            if bool((element == 0).any()):
                raise ValueError("corrupt BAM record")
            count = np.frombuffer(aux[(base[:, None] + np.arange(1, 5)).ravel()].tobytes(), dtype="<u4").astype(np.int64)
            value_end[array] = base + 5 + count * element
        following = value_end + text
        if bool((following > stop).any()):
            raise ValueError("corrupt BAM record")
        shift = (starts - placed)[rows]  # from the gathered aux bytes back to the block
        code = (aux[at].astype(np.int64) << 8) | aux[at + 1]
        columns.append(np.stack([rows, code, kind.astype(np.int64), value + shift, value_end + shift]))
        more = following < stop
        rows, at, stop = rows[more], following[more], stop[more]
    if not columns:
        return np.zeros((len(BAM_TAG_FIELDS), 0), dtype=np.int64)
    fields = np.concatenate(columns, axis=1)
    return fields[:, np.argsort(fields[0], kind="stable")]  # rounds to file order: by record, then field


def _laid_out(owner: np.ndarray, codes: np.ndarray, lengths: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``contiguous``, ``leading_clip`` and ``laid_length`` of each record (``BAM_RECORD_FIELDS``),
    from its CIGAR operations (``owner``: the record of each)."""
    rows = len(counts)
    kept = (codes != 5) & (codes != 6)  # H and P lay nothing
    kept_counts = np.bincount(owner, weights=kept, minlength=rows).astype(np.int64)
    rank = np.cumsum(kept) - 1 - np.repeat(_exclusive_sum(kept_counts), counts)  # among the record's kept operations
    aligned = ((codes == 0) | (codes == 7) | (codes == 8)) & kept
    clip = (codes == 4) & kept & ((rank == 0) | (rank == np.repeat(kept_counts, counts) - 1))
    breaking = kept & ~aligned & ~clip
    contiguous = (np.bincount(owner, weights=breaking, minlength=rows) == 0) & (np.bincount(owner, weights=aligned, minlength=rows) > 0)
    leading = np.zeros(rows, dtype=np.int64)
    first = clip & (rank == 0)
    leading[owner[first]] = lengths[first]
    laid_lengths = np.bincount(owner, weights=lengths * (aligned | clip), minlength=rows).astype(np.int64)
    return contiguous.astype(np.int64), leading, laid_lengths


def bam_records(data: bytes, start: int) -> BamRecords:
    """The whole BAM records of ``data[start:]`` (uncompressed) and their aux fields (SAM 1.6,
    section 4.2): fixed fields read with one gather, aux fields walked a round at a time.
    ValueError for a record shorter than 32 bytes, whose fields overrun it, whose read name
    lacks its NUL, or whose aux fields do not parse (an unknown type, a value past the record)."""
    if not 0 <= start <= len(data):
        raise IndexError("start outside the data")
    offsets, stop = _record_offsets(data, start)
    if not offsets:
        empty = np.zeros(0, dtype=np.int64)
        return BamRecords(0, stop, empty.reshape(len(BAM_RECORD_FIELDS), 0), empty.reshape(len(BAM_TAG_FIELDS), 0))
    block = np.frombuffer(data, dtype=np.uint8)
    at = np.asarray(offsets, dtype=np.int64)
    fixed = block[at[:, None] + _BAM_FIXED_COLUMNS].view(_BAM_FIXED).ravel()
    name_lengths = fixed["l_read_name"].astype(np.int64)
    cigar_counts = fixed["n_cigar_op"].astype(np.int64)
    sequence_lengths = fixed["l_seq"].astype(np.int64)
    ends = at + 4 + fixed["block_size"].astype(np.int64)
    cigar_starts = at + 36 + name_lengths
    aux_starts = cigar_starts + 4 * cigar_counts + (sequence_lengths + 1) // 2 + sequence_lengths
    if bool(((name_lengths < 1) | (sequence_lengths < 0) | (aux_starts > ends)).any()):
        raise ValueError("corrupt BAM record")
    if bool((block[cigar_starts - 1] != 0).any()):
        raise ValueError("corrupt BAM record")
    tags = _aux_fields(block, aux_starts, ends)
    sequence_starts = cigar_starts + 4 * cigar_counts
    cigar_starts, cigar_counts = _cigar_read(block, fixed, cigar_starts, cigar_counts, sequence_lengths, tags)
    words, placed = _gather(block, cigar_starts, 4 * cigar_counts)
    operations = words.view("<u4").astype(np.int64)
    owner = np.repeat(np.arange(len(offsets)), cigar_counts)
    codes = operations & 0xF
    reference_lengths = np.bincount(owner, weights=(operations >> 4) * _CONSUMES_REFERENCE[codes], minlength=len(offsets)).astype(np.int64)
    first_operations = np.full(len(offsets), -1, dtype=np.int64)
    has_cigar = cigar_counts > 0
    first_operations[has_cigar] = codes[placed[has_cigar] // 4]
    contiguous, leading, laid_lengths = _laid_out(owner, codes, operations >> 4, cigar_counts)
    off_grammar = (np.bincount(owner, weights=codes > 8, minlength=len(offsets)) > 0).astype(np.int64)
    records = np.stack([
        at, fixed["ref_id"].astype(np.int64), fixed["pos"].astype(np.int64), fixed["flag"].astype(np.int64), name_lengths,
        cigar_counts, sequence_lengths, ends, reference_lengths, first_operations, contiguous, leading, laid_lengths, cigar_starts,
        sequence_starts, off_grammar,
    ])  # fmt: skip
    return BamRecords(len(offsets), stop, records, tags)


_CG_CODE = (ord("C") << 8) | ord("G")


def _cigar_read(
    block: np.ndarray,
    fixed: np.ndarray,
    cigar_starts: np.ndarray,
    cigar_counts: np.ndarray,
    sequence_lengths: np.ndarray,
    tags: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Where each record's CIGAR words start and how many: the CIGAR field's, or the first
    ``CG``'s where htslib takes the CIGAR from there (``BAM_RECORD_FIELDS``)."""
    named = np.flatnonzero(tags[1] == _CG_CODE)
    if not len(named):
        return cigar_starts, cigar_counts
    records, first = np.unique(tags[0][named], return_index=True)  # tags in file order: the first CG of each record
    tag = named[first]
    value = tags[3][tag]
    typed = (tags[2][tag] == ord("B")) & np.isin(block[value], (ord("I"), ord("i")))
    records, value = records[typed], value[typed]
    placed = (fixed["ref_id"][records] >= 0) & (fixed["pos"][records] >= 0) & (cigar_counts[records] > 0)
    records, value = records[placed], value[placed]
    count = np.frombuffer(block[(value[:, None] + np.arange(1, 5)).ravel()].tobytes(), dtype="<u4").astype(np.int64)
    first_word = np.frombuffer(block[(cigar_starts[records][:, None] + np.arange(4)).ravel()].tobytes(), dtype="<u4").astype(np.int64)
    placeholder = ((first_word & 0xF) == 4) & ((first_word >> 4) == sequence_lengths[records])
    taken = placeholder & (count >= cigar_counts[records]) & (count < 1 << 29)
    starts, counts = cigar_starts.copy(), cigar_counts.copy()
    starts[records[taken]] = value[taken] + 5
    counts[records[taken]] = count[taken]
    return starts, counts


# --- many strings ----------------------------------------------------------------------------------


def first_of_strings(text: bytes, needles: list[bytes]) -> int:
    """The offset of the first place in ``text`` where one of ``needles`` (at most 64, none
    empty, matched exactly) starts, or -1."""
    if not isinstance(needles, list) or not all(isinstance(needle, bytes) for needle in needles):
        raise TypeError("needles must be a list of bytes")
    if len(needles) > 64:
        raise ValueError("too many needles")
    if not all(needles):
        raise ValueError("a needle is empty")
    places = [place for place in (text.find(needle) for needle in needles) if place >= 0]
    return min(places, default=-1)


def find_strings(text: bytes, needles: list[bytes], table: bytes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every occurrence of each needle in ``text`` (read through ``table``, 256 bytes, when
    given: ``text.translate(table)``), ASCII letters matched in either case, overlapping
    occurrences included: which needle and where it starts, ordered by needle, then by start.
    A needle is skipped at once when one of its bytes does not occur in the text (one ``find``
    per distinct byte, most of which fail at once on clean text)."""
    if not isinstance(needles, list) or not all(isinstance(needle, bytes) for needle in needles):
        raise TypeError("needles must be a list of bytes")
    if not all(needles):
        raise ValueError("a needle is empty")
    if table is not None and len(table) != 256:
        raise ValueError("the table must hold 256 bytes")
    folded = (bytes(text) if table is None else bytes(text).translate(table)).lower()
    present: dict[int, bool] = {}
    indexes: list[int] = []
    starts: list[int] = []
    for index, needle in enumerate(needles):
        needle = needle.lower()
        possible = True
        for byte in set(needle):
            known = present.get(byte)
            if known is None:
                known = present[byte] = folded.find(bytes([byte])) >= 0
            if not known:
                possible = False
                break
        if not possible:
            continue
        at = folded.find(needle)
        while at >= 0:
            indexes.append(index)
            starts.append(at)
            at = folded.find(needle, at + 1)
    return np.asarray(indexes, dtype=np.int64), np.asarray(starts, dtype=np.int64)


def any_strings(text: bytes, needles: list[bytes], table: bytes | None = None) -> bool:
    """Whether ``find_strings`` finds an occurrence of one of ``needles`` in ``text`` (read through
    ``table``): what a caller asks before it translates a long text to search it (most hold none).
    The compiled loop looks only at every (m - 1)th position, m the shortest needle whose bytes
    the text all holds: an occurrence covers a pair of bytes there."""
    return len(find_strings(text, needles, table)[0]) > 0


def find_spread_strings(text: bytes, needles: list[bytes], skipped: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every occurrence of each needle in ``text`` read without the bytes of ``skipped``
    (separators; no ASCII letter), ASCII letters matched in either case, overlapping occurrences
    included: an occurrence starts on a byte not skipped and may hold skipped bytes between the
    needle's bytes (a needle holding a skipped byte is never found). Which needle, where it starts
    and where it ends (after its last byte), ordered by needle, then by start: ``find_strings``
    over the text with the skipped bytes taken out, its offsets put back."""
    if not isinstance(needles, list) or not all(isinstance(needle, bytes) for needle in needles):
        raise TypeError("needles must be a list of bytes")
    if not all(needles):
        raise ValueError("a needle is empty")
    table = np.zeros(256, dtype=bool)
    table[list(bytes(skipped))] = True
    kept = np.flatnonzero(~table[np.frombuffer(bytes(text), dtype=np.uint8)])
    squeezed = np.frombuffer(bytes(text), dtype=np.uint8)[kept].tobytes()
    indexes, starts = find_strings(squeezed, needles)
    lengths = np.array([len(needle) for needle in needles], dtype=np.int64)[indexes] if len(indexes) else np.zeros(0, dtype=np.int64)
    return indexes, kept[starts], kept[starts + lengths - 1] + 1


# --- identifiers in VCF record text (record_values.py) -------------------------------------------

_ID_BYTES = {
    kind: frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.+-" + extra)
    for kind, extra in (("field", b""), ("filter", b"*:"), ("alt", b"*:"))
}
_DIGITS = frozenset(b"0123456789")
_WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.")
_TOKEN_EDGES = frozenset(b"|,&:=() ")
_HIGH_HEX = frozenset(b"89ABCDEFabcdef")
_BASES = frozenset(b"ACGTN")


def _digit_run(text: bytes, at: int, end: int) -> tuple[int, int, bool]:
    """(end, digits, range) of the digits joined by single hyphens from ``at``; see ``_scan.c``."""
    groups: list[bytes] = []
    while True:
        start = at
        while at < end and text[at] in _DIGITS:
            at += 1
        groups.append(text[start:at])
        if at + 1 < end and text[at] == 0x2D and text[at + 1] in _DIGITS:
            at += 1
            continue
        break
    return at, sum(map(len, groups)), _is_range(groups)


def _is_range(groups: list[bytes]) -> bool:
    """Two groups without a leading zero, the second from the first to 1000 above it (VEP's ``999-1000``)."""
    if len(groups) != 2 or max(map(len, groups)) > 18 or b"0" in (groups[0][:1], groups[1][:1]):
        return False
    return 0 <= int(groups[1]) - int(groups[0]) <= 1000


def _date_like(text: bytes, at: int, end: int) -> bool:
    """Three groups of digits from ``at``, separated by ``-``, ``.`` or ``/`` (each perhaps followed by a
    blank), a blank, ``_`` or ``:``: a date's shape, or a phone number's written with blanks or dots."""
    for part in range(3):
        start = at
        while at < end and text[at] in _DIGITS:
            at += 1
        if at == start:
            return False
        if part == 2:
            return True
        if at >= end or text[at] not in b"-./ _:":
            return False
        at += 1
        if at < end and text[at] == 0x20 and text[at - 1] in b"-./":
            at += 1
    return False


_LIST_SEPARATORS = b"|;,~+"


def _delimited_number(text: bytes, at: int, end: int) -> bool:
    """A phone number written with ``~``, ``+``, ``|``, ``,`` or `` - `` between its parts, or a date
    whose parts a list's separator joins (``1990|01|01``), from ``at``; see ``_scan.c``."""
    zero = text[at] == 0x30
    lengths: list[int] = []
    listed = False
    for part in range(3):
        start = at
        while at < end and text[at] in _DIGITS:
            at += 1
        lengths.append(at - start)
        if at == start:
            return False
        if part == 2:
            break
        if at < end and text[at] in _LIST_SEPARATORS:
            listed = True
            at += 1
        elif text[at : min(at + 3, end)] == b" - ":
            at += 3
        elif at < end and text[at] in b" ._":
            at += 1
        else:
            return False
    if zero and lengths[0] in (2, 3) and lengths[1] in (3, 4) and lengths[2] >= 4:
        return True
    return listed and (lengths[:2] == [4, 2] and lengths[2] >= 2 or lengths[:2] == [2, 2] and lengths[2] >= 4)


_MONTH_NAMES = (b"january", b"february", b"march", b"april", b"may", b"june", b"july", b"august", b"september", b"october",
                b"november", b"december")  # fmt: skip
_ALPHA = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_ALNUM = _ALPHA | _DIGITS


def _month_name_length(text: bytes, at: int, end: int) -> int:
    """How long a month's name from ``at`` is (three letters, ``sept`` or the whole name, any case),
    no letter after it; 0 where none starts there."""
    for month, name in enumerate(_MONTH_NAMES):
        same = 0
        while same < len(name) and at + same < end and text[at + same] | 0x20 == name[same]:
            same += 1
        if same >= 3 and (same in (3, len(name)) or (month == 8 and same == 4)) and not (at + same < end and text[at + same] in _ALPHA):
            return same
    return 0


def _after_date_separator(text: bytes, at: int, end: int) -> int:
    return at + 1 if at < end and text[at] in b"-/._ +~" else at


def _digits_from(text: bytes, at: int, end: int) -> int:
    after = at
    while after < end and text[after] in _DIGITS:
        after += 1
    return after - at


_ORDINALS = (b"st", b"nd", b"rd", b"th")


def _after_ordinal(text: bytes, at: int, end: int) -> int:
    return at + 2 if end - at >= 2 and bytes(byte | 0x20 for byte in text[at : at + 2]) in _ORDINALS else at


def _after_day_separator(text: bytes, at: int, end: int) -> int:
    if end - at >= 4 and text[at] == 0x20 and text[at + 3] == 0x20 and text[at + 1 : at + 3].lower() == b"of":
        return at + 4
    return _after_date_separator(text, at, end)


def _after_month_period(text: bytes, at: int, end: int) -> int:
    if at < end and text[at] == 0x2E:
        at += 1
    if at < end and text[at] == 0x2C:
        at += 1
    return at


def _after_year_separator(text: bytes, at: int, end: int) -> int:
    at = _after_date_separator(text, at, end)
    return at + 1 if at < end and text[at] == 0x27 else at


def _month_date_at(text: bytes, at: int, end: int) -> bool:
    """Where a date with a month's name may start (``identifiers.MONTH_DATE``, a superset): a day of
    one or two digits, perhaps an ordinal's letters, perhaps a separator or `` of ``, a month's name,
    perhaps a period, a comma, a separator and an apostrophe, two digits or more; a year of four
    digits, perhaps a separator, a month's name, perhaps a period and a separator, a digit; or a
    month's name, perhaps a period and a separator, a day of one or two digits, perhaps an
    ordinal's letters, a comma, a separator and an apostrophe, two digits (five or more straight
    after the month). A month's name beside a lone number (``Dec1``) is none."""
    if text[at] in _DIGITS:
        day = _digits_from(text, at, end)
        if day == 4:
            after = _after_date_separator(text, at + day, end)
            month = _month_name_length(text, after, end)
            return (
                month > 0
                and _digits_from(text, _after_date_separator(text, _after_month_period(text, after + month, end), end), end) >= 1
            )
        if day > 2:
            return False
        after = _after_day_separator(text, _after_ordinal(text, at + day, end), end)
        month = _month_name_length(text, after, end)
        if month == 0:
            return False
        return _digits_from(text, _after_year_separator(text, _after_month_period(text, after + month, end), end), end) >= 2
    month = _month_name_length(text, at, end)
    if month == 0:
        return False
    after = _after_date_separator(text, _after_month_period(text, at + month, end), end)
    day = _digits_from(text, after, end)
    if day >= 5:
        return True
    if day == 0 or day > 2:
        return False
    after = _after_ordinal(text, after + day, end)
    if after < end and text[after] == 0x2C:
        after += 1
    return _digits_from(text, _after_year_separator(text, after, end), end) >= 2


def _month_written_before(text: bytes, start: int, at: int, end: int) -> bool:
    """Whether the digits at ``at`` follow a month's name written onto letters, not after a digit,
    perhaps a period and a separator between, and are a day of two digits (then perhaps an ordinal's
    letters, a comma and a separator) and four digits or more (``ctgJAN011990``); see ``_scan.c``."""
    day = _digits_from(text, at, end)
    if day == 2:
        year = _after_ordinal(text, at + 2, end)
        if year < end and text[year] == 0x2C:
            year += 1
        if _digits_from(text, _after_date_separator(text, year, end), end) < 4:
            return False
    elif day < 6:
        return False
    before = at
    if before > start and text[before - 1] in b"-/._ +~":
        before -= 1
    if before > start and text[before - 1] == 0x2E:
        before -= 1
    if before == start or text[before - 1] not in _ALPHA:
        return False
    return any(
        _month_name_length(text, month, before) == before - month and (month == start or text[month - 1] not in _DIGITS)
        for month in range(before - 3, max(before - 10, start - 1), -1)
    )


def _month_date_candidate(text: bytes, start: int, end: int) -> bool:
    """Whether a date with a month's name may start in ``text[start:end]``: at a token's first byte,
    at digits written onto letters (``DOB01JAN1990``), or after a month's name written onto them
    (``ctgJAN011990``)."""
    return any(
        (
            text[at] in _ALNUM
            and (at == start or text[at - 1] not in _ALNUM or (text[at - 1] in _ALPHA and text[at] in _DIGITS))
            and _month_date_at(text, at, end)
        )
        or (text[at] in _DIGITS and (at == start or text[at - 1] not in _DIGITS) and _month_written_before(text, start, at, end))
        for at in range(start, end)
    )


_ALT_SCHEME = re.compile(rb"(?i:file|https?|s?ftp|smb|s3|gs):")


def _id_candidate(text: bytes, start: int, end: int, kind: str) -> bool:
    if start == end:
        return True
    if kind == "field" and not (text[start] in _WORD and text[start] != 0x2E) and text[start] != 0x5F:
        return True
    if kind == "alt" and (text[start] == 0x3A or text[end - 1] == 0x3A or b"::" in text[start:end]):
        return True
    if kind == "alt" and (b"." in text[start:end] or _ALT_SCHEME.search(text, start, end)):
        return True  # a host name or IP address (a dot), or a scheme without slashes: identifiers.PATHS decides
    if _month_date_candidate(text, start, end):
        return True
    allowed = _ID_BYTES[kind]
    for at in range(start, end):
        byte = text[at]
        if byte not in allowed:
            return True
        starts_number = byte in _DIGITS and (at == start or text[at - 1] not in _DIGITS)
        if starts_number and (_digit_run(text, at, end)[1] >= 7 or _date_like(text, at, end) or _delimited_number(text, at, end)):
            return True
    return False


_NUMBERS = frozenset(b"0123456789.,+-eE/|")
_BEYOND_INTEGER = re.compile(rb"(?<![0-9.])[0-9]{11}")
_LEADING_ZERO = re.compile(rb"(?:^|,)[-+]?0[0-9]")
_NUMBER_ELEMENT = re.compile(rb"\.|[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?(?i:inf|infinity|nan)")


def _numbers_only(value: bytes) -> bool:
    """Numbers a numeric key holds: each comma-separated element ``.`` or a VCF number without a
    leading zero, no run of 11+ digits but a fraction's."""
    return (
        all(_NUMBER_ELEMENT.fullmatch(element) for element in value.split(b","))
        and _BEYOND_INTEGER.search(value) is None
        and _LEADING_ZERO.search(value) is None
    )


def _genotype_bytes_only(value: bytes) -> bool:
    """A GT value of a numeric FORMAT list: a genotype's bytes, no run of 11+ digits but a fraction's."""
    return all(byte in _NUMBERS for byte in value) and _BEYOND_INTEGER.search(value) is None


def _after_public_prefix(text: bytes, start: int, at: int, prefixes: tuple[frozenset[bytes], frozenset[bytes]]) -> bool:
    """Whether the number at ``at`` follows a contig and ``:``, or a contig or accession prefix and ``_``."""
    if at == start or text[at - 1] not in b":_":
        return False
    separator = text[at - 1]
    allowed = _WORD | frozenset(b"_*+-") if separator == 0x3A else _WORD
    name = at - 1
    while name > start and text[name - 1] in allowed:
        name -= 1
    return name < at - 1 and text[name : at - 1] in prefixes[separator == 0x5F]


def _exponent_candidate(text: bytes, start: int, at: int, end: int) -> bool:
    """An ``e`` or ``E`` after a digit or ``.`` and before an exponent that is not negative (``1.5e+07``)."""
    if text[at] not in b"eE" or at == start or not (text[at - 1] in _DIGITS or text[at - 1] == 0x2E):
        return False
    after = at + 2 if at + 1 < end and text[at + 1] == 0x2B else at + 1
    return after < end and text[after] in _DIGITS


_NAMED_REFERENCE = re.compile(rb"&(?:[A-Za-z][A-Za-z0-9]*;|(?i:shy|nbsp))")


def _html_reference(text: bytes, at: int, end: int) -> bool:
    """Whether the ``&`` at ``at`` starts an HTML character reference: ``&#``, a named one with its
    ``;``, or an invisible one a browser reads without it (``&shy``, ``&nbsp``)."""
    return (at + 1 < end and text[at + 1] == 0x23) or _NAMED_REFERENCE.match(text, at, end) is not None


def _value_candidate(text: bytes, start: int, end: int, public_numbers: int, prefixes: tuple[frozenset[bytes], frozenset[bytes]]) -> bool:
    if _month_date_candidate(text, start, end):
        return True
    slashes, subfield, at = 0, 0, start
    while at < end:
        byte = text[at]
        following = text[at + 1] if at + 1 < end else -1
        if _exponent_candidate(text, start, at, end):
            return True
        if byte >= 0x80 or byte in b"\\@":
            return True
        if (byte == 0x25 and following in _HIGH_HEX) or (byte == 0x3A and following == 0x2F):
            return True
        if byte == 0x26 and _html_reference(text, at, end):
            return True
        if byte in b"/~":
            slashes += byte == 0x2F
            if at == start or text[at - 1] in _TOKEN_EDGES or slashes >= 2:
                return True
        elif byte in _TOKEN_EDGES:
            slashes = 0
            subfield = subfield + 1 if byte == 0x7C else 0 if byte == 0x2C else subfield
        elif byte in _DIGITS and (at == start or text[at - 1] not in _WORD):
            if _date_like(text, at, end) or _delimited_number(text, at, end):
                return True
            run_end, digits, is_range = _digit_run(text, at, end)
            variant = run_end + 1 < end and text[run_end] in b"_-" and text[run_end + 1] in _BASES
            public = subfield < 64 and (public_numbers >> subfield) & 1
            if digits >= 7 and not is_range and not variant and not public and not _after_public_prefix(text, start, at, prefixes):
                return True
            at = run_end
            continue
        at += 1
    return False


def _record_candidate(
    text: bytes,
    start: int,
    end: int,
    info: frozenset[bytes],
    format_keys: frozenset[bytes],
    layouts: dict[bytes, int],
    prefixes: tuple[frozenset[bytes], frozenset[bytes]],
    links: frozenset[bytes],
) -> bool:
    columns = text[start:end].split(b"\t")
    if b"[" in columns[0] or b"]" in columns[0]:
        return True  # a breakend: a link
    offsets = [start]
    for column in columns[:-1]:
        offsets.append(offsets[-1] + len(column) + 1)
    position = offsets[0]
    for allele in columns[0].split(b","):
        if allele[:1] == b"<":  # an empty ID (<>) is off the grammar too
            inner_end = position + len(allele) - (1 if len(allele) > 1 and allele[-1:] == b">" else 0)
            if _id_candidate(text, position + 1, inner_end, "alt"):
                return True
        position += len(allele) + 1
    if len(columns) > 2 and columns[2] != b".":
        position = offsets[2]
        for identifier in columns[2].split(b";"):
            if identifier and _id_candidate(text, position, position + len(identifier), "filter"):
                return True
            position += len(identifier) + 1
    if len(columns) > 3 and columns[3] != b".":
        position = offsets[3]
        for item in columns[3].split(b";"):
            key, equals, _ = item.partition(b"=")
            if not item or _id_candidate(text, position, position + len(key), "field") or key in links:
                return True  # an empty item goes; a link is picked
            value_start, value_end = position + len(key) + 1, position + len(item)
            mask = layouts.get(key, 0) if key not in info else 0
            checked = key not in info or not _numbers_only(text[value_start:value_end])
            if equals and checked and _value_candidate(text, value_start, value_end, mask, prefixes):
                return True
            position += len(item) + 1
    if len(columns) <= 4 or columns[4] == b".":
        return False
    keys = columns[4].split(b":")
    position = offsets[4]
    for key in keys:
        if _id_candidate(text, position, position + len(key), "field"):
            return True
        position += len(key) + 1
    if len(keys) > 64 or len(set(keys)) < len(keys):
        return True  # a key given twice: its later copy goes
    genotype = keys.index(b"GT") if b"GT" in keys else -1
    for sample in range(5, len(columns)):
        position = offsets[sample]
        values = columns[sample].split(b":")
        if len(values) > len(keys):
            return True  # a value beyond the FORMAT keys goes too
        for index, (key, value) in enumerate(zip(keys, values, strict=False)):
            numbers = _genotype_bytes_only(value) if index == genotype else _numbers_only(value)
            checked = key not in format_keys or not numbers
            if checked and _value_candidate(text, position, position + len(value), 0, prefixes):
                return True
            position += len(value) + 1
    return False


def vcf_identifier_candidates(
    text: bytes,
    starts: np.ndarray,
    ends: np.ndarray,
    info_unchecked: list[bytes],
    format_unchecked: list[bytes],
    layout_keys: list[bytes],
    layout_masks: list[int],
    colon_names: list[bytes],
    underscore_names: list[bytes],
    link_keys: list[bytes],
    definitions: bool = False,
    info_defined: list[bytes] | None = None,
    format_defined: list[bytes] | None = None,
    filters_declared: list[bytes] | None = None,
) -> np.ndarray:
    """For each span (a record from its ALT column on): may it hold what ``record_values`` removes,
    or does it link to others (an INFO key of ``link_keys``, a breakend)? The values of
    ``layout_keys[k]`` may hold long numbers in the ``|`` subfields set in ``layout_masks[k]``;
    a number may follow a name of ``colon_names`` and ``:``, or of ``underscore_names`` and ``_``.
    With ``definitions``, a record is picked too when it uses an INFO or FORMAT key or a FILTER
    ID the header does not define (``info_defined``, ``format_defined``, ``filters_declared``;
    PASS is always declared) or holds a GT value off the genotype grammar."""
    _spans(starts, ends, len(text))
    lists = (info_unchecked, format_unchecked, layout_keys, layout_masks, colon_names, underscore_names, link_keys)
    if not all(isinstance(keys, list) for keys in lists):
        raise TypeError("the keys and masks must be lists")
    if len(layout_keys) != len(layout_masks):
        raise ValueError("the subfield keys and masks must have one length")
    info, format_keys = frozenset(info_unchecked), frozenset(format_unchecked)
    layouts = {key: mask & (1 << 64) - 1 for key, mask in zip(layout_keys, layout_masks, strict=True)}
    prefixes = (frozenset(colon_names), frozenset(underscore_names))
    defined = (
        (frozenset(info_defined or []), frozenset(format_defined or []), frozenset(filters_declared or []) | {b"PASS"})
        if definitions else None
    )  # fmt: skip
    found = [
        _record_candidate(text, start, end, info, format_keys, layouts, prefixes, frozenset(link_keys))
        or (defined is not None and _undefined_candidate(text[start:end], *defined))
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True)
    ]
    return np.array(found, dtype=bool)


_GENOTYPE = re.compile(rb"[/|]?(?:[0-9]{1,9}|\.)(?:[/|](?:[0-9]{1,9}|\.))*")


def _genotype_off(value: bytes, alleles: int) -> bool:
    """Off the GT grammar, more than 8 alleles, or a number past ``alleles`` or with a leading zero."""
    alleles_named = value[1:] if value[:1] in (b"/", b"|") else value  # a phase marker may lead
    if _GENOTYPE.fullmatch(value) is None or len(re.split(rb"[/|]", alleles_named)) > 8:
        return True
    return any(int(number) > alleles or len(number) > 1 and number[:1] == b"0" for number in re.findall(rb"[0-9]+", value))


def _undefined_candidate(
    record: bytes, info_defined: frozenset[bytes], format_defined: frozenset[bytes], filters: frozenset[bytes]
) -> bool:
    """A record (from ALT on) using a key or FILTER ID the header does not define, or with a GT off its grammar."""
    columns = record.split(b"\t")
    alleles = 0 if columns[0] == b"." else columns[0].count(b",") + 1
    filter_ids = columns[2].split(b";") if len(columns) > 2 and columns[2] != b"." else []
    if any(identifier and identifier not in filters for identifier in filter_ids):
        return True
    items = columns[3].split(b";") if len(columns) > 3 and columns[3] != b"." else []
    if any(item and item.partition(b"=")[0] not in info_defined for item in items):
        return True
    if len(columns) <= 4 or columns[4] == b".":
        return False
    keys = columns[4].split(b":")
    if any(key not in format_defined for key in keys):
        return True
    if b"GT" not in keys:
        return False
    genotype = keys.index(b"GT")
    for sample in columns[5:]:
        values = sample.split(b":")
        if genotype < len(values) and _genotype_off(values[genotype], alleles):
            return True
    return False


# --- SAM optional fields ----------------------------------------------------------------------

TAG_COLONS_MASK = np.uint64(0xFF00FF000000)
TAG_COLONS = np.uint64(0x3A003A000000)
"""The two colons of ``\tXX:T:``, read as one little-endian word from its tab."""


def tag_codes(text: bytes, starts: np.ndarray, ends: np.ndarray, types: bytes) -> np.ndarray | None:
    """The code of each optional field ``text[starts[i]:ends[i]]`` (from its tab): the tag's
    two bytes as 16 bits, then ``types[TYPE]`` (256 bytes, 7 or more for a byte that is no
    type) in the low 3; None when a field is shorter than ``\tXX:T:``, lacks a colon
    there, or its type is none (``aux_tags.locate_tags``)."""
    _spans(starts, ends, len(text))
    table = np.frombuffer(types, dtype=np.uint8)
    if len(table) != 256:
        raise ValueError("types must hold 256 bytes")
    if not len(starts):
        return np.zeros(0, dtype=np.int64)
    if int((ends - starts).min()) < 6:
        return None
    # "\tXX:T:" of every field as one little-endian word from where it starts (a field in
    # the last 8 bytes of the text, "\tXX:T:" and its newline, is read from a padded copy)
    source = text if int(starts.max()) <= len(text) - 8 else bytes(text) + bytes(8)
    heads = np.ndarray(shape=(len(source) - 7,), dtype="<u8", buffer=source, strides=(1,))[starts]
    if ((heads & TAG_COLONS_MASK) != TAG_COLONS).any():
        return None
    field_types = table[(heads >> np.uint64(32)) & np.uint64(0xFF)].astype(np.int64)
    if (field_types >= 7).any():
        return None
    names = (heads >> np.uint64(8)).astype(np.int64)
    return ((names & 0xFF) << 11) | (((names >> 8) & 0xFF) << 3) | field_types


def span_choices(text: bytes, starts: np.ndarray, ends: np.ndarray, values: list[bytes]) -> np.ndarray:
    """For each span, the index in ``values`` (a few) of the first one equal to it, or -1:
    which of a header's read groups each RG:Z tag of a block names."""
    _spans(starts, ends, len(text))
    if not isinstance(values, list) or not all(isinstance(value, bytes) for value in values):
        raise TypeError("values must be a list of bytes")
    index: dict[bytes, int] = {}
    for number, value in enumerate(values):
        index.setdefault(value, number)
    spans = [text[start:end] for start, end in zip(starts.tolist(), ends.tolist(), strict=True)]
    return np.fromiter((index.get(span, -1) for span in spans), dtype=np.int64, count=len(spans))
# --- SAM columns of the bulk reverter ---------------------------------------------------------

TAG_LINE_NAMED, TAG_LINE_MATE_CIGAR, TAG_LINE_PLACE = 1, 2, 4
"""The bits of a line's byte in ``sam_tag_lines``: a name asked for, an ``MC`` to look at, a
position held to a contig (``CP``, ``sam_columns.PLACE_TAGS``)."""


def span_numbers(text: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For each span: its value when it is 1 to 10 ASCII digits (a SAM FLAG or POS), else -1
    (numpy: every span's digits gathered at once)."""
    _spans(starts, ends, len(text))
    sizes = ends - starts
    if not len(sizes) or not len(text):
        return np.full(len(sizes), -1, dtype=np.int64)
    places = np.arange(10)
    inside = places < sizes[:, None]
    buffer = np.frombuffer(text, dtype=np.uint8)
    digits = buffer[np.minimum(starts[:, None] + places, len(buffer) - 1)].astype(np.int64) - 48
    good = (sizes >= 1) & (sizes <= 10) & ~(((digits < 0) | (digits > 9)) & inside).any(axis=1)
    powers = np.where(inside, 10 ** np.clip(sizes[:, None] - 1 - places, 0, None), 0)
    return np.where(good, (digits * powers).sum(axis=1), -1)


def sam_tag_lines(
    text: bytes, tag_tabs: np.ndarray, tag_counts: np.ndarray, codes: np.ndarray, letters: np.ndarray, width: int
) -> np.ndarray:
    """One uint8 a line, the lines owning ``tag_counts[i]`` of ``tag_tabs`` (each the tab
    before an optional field) in order: the bits ``codes`` (65536 entries) gives each of its
    fields' first two bytes, as ``first << 8 | second`` (``TAG_LINE_NAMED`` for the names asked
    for, ``TAG_LINE_PLACE`` for ``CP``), together; bit
    ``TAG_LINE_MATE_CIGAR`` where an ``MC:Z`` value holds a byte nonzero in ``letters``
    (256 entries) within its first ``width`` bytes, or runs past them. A byte past the
    text's end reads as its last byte (numpy: every tag at once)."""
    if len(codes) != 1 << 16 or len(letters) != 256 or width < 1:
        raise ValueError("codes must have 65536 entries, letters 256, width at least 1")
    _offsets(tag_tabs, "tag_tabs")
    _offsets(tag_counts, "tag_counts")
    if (tag_counts < 0).any() or int(tag_counts.sum()) != len(tag_tabs):
        raise ValueError("tag_counts must add up to the number of tag_tabs")
    if len(tag_tabs) and ((tag_tabs < 0) | (tag_tabs >= len(text))).any():
        raise IndexError("tag tab outside the text")
    found = np.zeros(len(tag_counts), dtype=np.uint8)
    if not len(tag_tabs):
        return found
    buffer = np.frombuffer(text, dtype=np.uint8)
    last = len(buffer) - 1

    def at(shift: int) -> np.ndarray:
        return buffer[np.minimum(tag_tabs + shift, last)]

    owners = np.repeat(np.arange(len(tag_counts)), tag_counts)
    first, second = at(1), at(2)
    np.bitwise_or.at(found, owners, np.asarray(codes, dtype=np.uint8)[(first.astype(np.int64) << 8) | second])
    mate = (first == 77) & (second == 67) & (at(3) == 58) & (at(4) == 90) & (at(5) == 58)
    cells = buffer[np.minimum(tag_tabs[mate][:, None] + 6 + np.arange(width), last)]
    inside = np.cumsum((cells == 9) | (cells == 10), axis=1) == 0
    flagged = ((np.asarray(letters)[cells] != 0) & inside).any(axis=1) | inside[:, -1]
    found[owners[mate][flagged]] |= TAG_LINE_MATE_CIGAR
    return found


def repeated_tags(text: bytes, starts: np.ndarray, ends: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """One uint8 a field ``text[starts[i]:ends[i]]`` (an optional field from the tab before
    it to the tab or newline after it; ``counts[k]`` of them, in order, to line ``k``): 1 where
    an earlier field of its line starts with the same two bytes, a tag given twice in one
    record (SAM 1.6, 1.5: one of each). A field of fewer than two bytes names nothing."""
    _spans(starts, ends, len(text))
    _offsets(counts, "counts")
    if (counts < 0).any() or int(counts.sum()) != len(starts):
        raise ValueError("counts must add up to the number of fields")
    repeated = np.zeros(len(starts), dtype=np.uint8)
    named = np.flatnonzero(ends - starts >= 3)
    if not len(named):
        return repeated
    data = np.frombuffer(text, dtype=np.uint8)
    at = starts[named]
    lines = np.repeat(np.arange(len(counts), dtype=np.int64), counts)[named]
    keys = lines << 16 | data[at + 1].astype(np.int64) << 8 | data[at + 2]
    order = np.argsort(keys, kind="stable")  # equal keys keep their order: the first copy leads
    sorted_keys = keys[order]
    repeated[named[order[1:][sorted_keys[1:] == sorted_keys[:-1]]]] = 1
    return repeated


def sam_revert_windows(
    text: bytes,
    line_starts: np.ndarray,
    sequence_starts: np.ndarray,
    sequence_ends: np.ndarray,
    quality_ends: np.ndarray,
    line_ends: np.ndarray,
    positions: np.ndarray,
    reference: bytes,
    offsets: np.ndarray,
    window_starts: np.ndarray,
    window_ends: np.ndarray,
    window_counts: np.ndarray,
    keep_changed: np.ndarray,
) -> RevertedMatches:
    """sam-revert-germline ``-v`` for records of one M run that touch a window: read ``i``
    (0-based start ``positions[i]``, the reference under it ``reference[offsets[i]:
    offsets[i] + its length]``) owns the next ``window_counts[i]`` windows; in each, in
    order, a stretch that differs from the reference (but for case) becomes the reference
    (``revert.revert_match_run``'s rule). Its line: the record up to QUAL with the new SEQ,
    the tags marked in ``keep_changed``, then MD and NM (``cigar.md_and_nm``) where it had
    them. ``changed``/``bases``: reads changed and the bases that differed in their
    reverted stretches."""
    arrays = (line_starts, sequence_starts, sequence_ends, quality_ends, line_ends, positions, offsets)
    names = ("line_starts", "sequence_starts", "sequence_ends", "quality_ends", "line_ends", "positions", "offsets")
    for array, name in zip(arrays, names, strict=True):
        _offsets(array, name)
    for array, name in ((window_starts, "window_starts"), (window_ends, "window_ends"), (window_counts, "window_counts")):
        _offsets(array, name)
    if any(len(array) != len(line_starts) for array in (*arrays, window_counts)):
        raise ValueError("the per-read arrays must have one length")
    if len(window_ends) != len(window_starts):
        raise ValueError("window_starts and window_ends must have one length")
    if len(keep_changed) != 65536:
        raise ValueError("keep_changed must hold 65536 bytes")
    _records_inside(text, reference, line_starts, sequence_starts, sequence_ends, quality_ends, line_ends, offsets)
    if (window_counts < 0).any() or int(window_counts.sum()) != len(window_starts):
        raise ValueError("window_counts must add up to the number of windows")
    keep = bytes(keep_changed)
    lines: list[bytes | None] = []
    changed_reads = changed_bases = 0
    window_list = list(zip(window_starts.tolist(), window_ends.tolist(), strict=True))
    next_window = 0
    for start, sequence_start, sequence_end, quality_end, end, position, offset, window_count in zip(
        line_starts.tolist(), sequence_starts.tolist(), sequence_ends.tolist(), quality_ends.tolist(), line_ends.tolist(),
        positions.tolist(), offsets.tolist(), window_counts.tolist(), strict=True,
    ):
        size = sequence_end - sequence_start
        sequence, expected = text[sequence_start:sequence_end], reference[offset : offset + size]
        reverted = 0
        for window_start, window_end in window_list[next_window : next_window + window_count]:
            first, last = max(window_start, position) - position, min(window_end, position + size) - position
            piece, target = sequence[first:last], expected[first:last]
            if first >= last or piece == target or piece.upper() == target:
                continue
            reverted += sum(a != b for a, b in zip(piece, target, strict=True))
            sequence = sequence[:first] + target + sequence[last:]
        next_window += window_count
        tags = text[quality_end + 1 : end].split(b"\t") if quality_end < end else []
        kept, has_md, has_nm = _kept_tags(tags, keep)
        if has_md or has_nm:  # a read equal to the reference is settled by one comparison (whatever its case)
            plain = sequence == expected and b"N" not in sequence
            md, distance = (b"%d" % size, 0) if plain else md_and_nm(0, ((ord("M"), size),), sequence, expected, 0)
            if has_md:
                kept.append(b"MD:Z:" + md)
            if has_nm:
                kept.append(b"NM:i:%d" % distance)
        lines.append(b"\t".join([text[start:sequence_start] + sequence + text[sequence_end:quality_end], *kept]))
        if reverted:
            changed_reads += 1
            changed_bases += reverted
    return RevertedMatches(lines, changed_reads, changed_bases)


# --- BCF records ------------------------------------------------------------------------------------

BCF_PROBLEM_FIELDS = ("record", "field", "key", "problem", "start", "end", "width", "type")
"""The rows of ``BcfRecords.problems``: the record (0-based in the call), the field
(``BCF_FIELD_*``), its key (the dictionary index of an INFO or FORMAT key or a FILTER value, the
allele's number, else -1), the problem (``BCF_PROBLEM_*``), the span of the bytes the problem
is about (a value's bytes, every sample's for a FORMAT value; the unread rest of a part), the
bytes a sample's value takes (the span's length outside FORMAT) and the value's type code."""
(BCF_FIELD_RECORD, BCF_FIELD_ID, BCF_FIELD_ALLELE, BCF_FIELD_FILTER, BCF_FIELD_INFO, BCF_FIELD_FORMAT, BCF_FIELD_QUAL,
 BCF_FIELD_RLEN) = range(8)  # fmt: skip
(
    BCF_PROBLEM_AFTER_NUL,
    BCF_PROBLEM_AFTER_END,
    BCF_PROBLEM_NAN_BITS,
    BCF_PROBLEM_TYPE,
    BCF_PROBLEM_UNDECLARED,
    BCF_PROBLEM_SHARED_TAIL,
    BCF_PROBLEM_INDIV_TAIL,
    BCF_PROBLEM_SAMPLE_COUNT,
    BCF_PROBLEM_UNPARSED,
    BCF_PROBLEM_FORMAT_WITHOUT_SAMPLES,
    BCF_PROBLEM_MISSING_CHAR,
    BCF_PROBLEM_DECLARED_TYPE,
    BCF_PROBLEM_PHASE,
    BCF_PROBLEM_END,
    BCF_PROBLEM_RLEN,
    BCF_PROBLEM_REPEATED,
) = range(1, 17)
BCF_KEY_FILTER, BCF_KEY_INFO, BCF_KEY_FORMAT = 1, 2, 4
"""Bits of the dictionary table ``bcf_records`` takes: what the header declares each index as."""
BCF_DECLARED_INFO_SHIFT, BCF_DECLARED_FORMAT_SHIFT = 3, 5
BCF_DECLARED_INTEGER, BCF_DECLARED_FLOAT, BCF_DECLARED_STRING, BCF_DECLARED_FLAG = range(4)
"""The rest of a dictionary byte: the Type its ``##INFO`` line declares (two bits from
``BCF_DECLARED_INFO_SHIFT``) and its ``##FORMAT`` line's (from ``BCF_DECLARED_FORMAT_SHIFT``);
Character, an unknown Type and none are String, as htslib reads them."""
BCF_DECLARED_CODES = {
    BCF_DECLARED_INTEGER: frozenset({0, 1, 2, 3}),
    BCF_DECLARED_FLOAT: frozenset({0, 5}),
    BCF_DECLARED_STRING: frozenset({0, 7}),
    BCF_DECLARED_FLAG: frozenset({0, 7}),
}
"""The type codes a canonical writer (htslib's VCF parser) gives a value of each declared Type:
an empty value (``DP`` without ``=``, a Flag) MISSING, a Flag given a value ``FL=1`` a string.
FORMAT/GT, whatever its line says, is integers."""
BCF_GT_CODES = frozenset({0, 1, 2, 3})
BCF_NO_KEYS = (-1, -1, -1, -1)
"""The ``keys`` of ``bcf_records`` for a header without GT, END, SVLEN and LEN."""
BCF_TYPE_SIZES = {0: 0, 1: 1, 2: 2, 3: 4, 5: 4, 7: 1}
"""BCF 2.2's type codes and the bytes of a value of each (VCF 4.3, section 6.3.3); 4, 6 and 8 to 15 are reserved."""
BCF_VECTOR_END = {1: 0x81, 2: 0x8001, 3: 0x80000001, 5: 0x7F800002}
BCF_INT_MISSING = {1: 0x80, 2: 0x8000, 3: 0x80000000}
BCF_FLOAT_MISSING = 0x7F800001
BCF_NANS = frozenset({0x7FC00000, 0xFFC00000, BCF_FLOAT_MISSING})
"""The NaNs a float may be (htslib writes a quiet NaN for ``nan``, the specification's MISSING);
another NaN is printed ``nan`` too, and its other bits pass unseen."""
BCF_STRING_MISSING = 7
"""htslib's ``bcf_str_missing``: a character it prints ``.`` (a one-byte FORMAT value; before
htslib 1.19 every such byte of a string but ID's and the alleles')."""
BCF_SPAN_ALLELES = (b"<CNV", b"<DEL", b"<DUP", b"<INV")
BCF_REFERENCE_BLOCKS = (b"<*>", b"<NON_REF>")


class BcfRecords(NamedTuple):
    """The whole BCF records at ``start`` of uncompressed BCF data and their problems (``bcf_records``)."""

    record_count: int
    stop: int
    """Where the first incomplete record begins (the end of the data when none is)."""
    problems: np.ndarray
    """int64, one row a field of ``BCF_PROBLEM_FIELDS``, one column a problem, in file order."""


class _Stop(Exception):
    """A part of a record the walk cannot go on reading: found, and the rest of the part unread."""


class _Record:
    """One record's context for the walk: its problems' first fields, the header's table and the
    rules that need more than one field (the GT phase, the span ``rlen`` gives). What htslib's
    ``get_rlen`` reads of the record is gathered on the way: REF's printed length, which ALT
    alleles SVLEN measures (``<DEL>``, ``<DUP>``, ``<CNV>``, ``<INV>``, and ``:`` subtypes),
    whether one is a reference block (``<*>``, ``<NON_REF>``: FORMAT/LEN counts), the first
    INFO/END, the longest SVLEN and the longest LEN."""

    def __init__(self, row: int, kinds: bytes, keys: tuple[int, int, int, int], phase_printed: bool, pos: int, rlen: int) -> None:
        self.row = row
        self.kinds = kinds
        self.gt, self.end_key, self.svlen_key, self.length_key = keys
        self.phase_printed = phase_printed
        self.pos = pos
        self.rlen = rlen
        self.reference = 0
        self.measured: list[bool] = []
        self.block = False
        self.end: int | None = None
        self.svlen: int | None = None
        self.length = 0


def _declared(kinds: bytes, key: int, bit: int) -> bool:
    return 0 <= key < len(kinds) and bool(kinds[key] & bit)


def _off_declared(kinds: bytes, key: int, kind: int, bit: int, shift: int) -> bool:
    """Whether a key declared as ``bit`` holds a value of a type code its declared Type never gets."""
    return _declared(kinds, key, bit) and kind not in BCF_DECLARED_CODES[kinds[key] >> shift & 3]


def _bcf_typed(data: bytes, at: int, limit: int, problems: list[list[int]], context: list[int]) -> tuple[int, int, int]:
    """(type, count, value start) of the type descriptor at ``at`` (VCF 4.3, section 6.3.3): a count
    of 15 is followed by a typed integer (an integer type, a count of 1, not negative). A type code
    BCF does not define, or a MISSING type with a count, is a problem and stops the part."""
    if at >= limit:
        raise _Stop
    descriptor = data[at]
    kind, count = descriptor & 15, descriptor >> 4
    following = at + 1
    if count == 15:
        count, following = _bcf_key(data, following, limit, problems, context)
        if count < 0:
            raise _Stop
    if kind not in BCF_TYPE_SIZES or (kind == 0 and count):
        problems.append([*context, BCF_PROBLEM_TYPE, at, limit, limit - at, kind])
        raise _Stop(True)
    if following + count * BCF_TYPE_SIZES[kind] > limit:
        raise _Stop
    return kind, count, following


def _bcf_key(data: bytes, at: int, limit: int, problems: list[list[int]], context: list[int]) -> tuple[int, int]:
    """(value, next offset) of a typed atomic integer (a key, a vector's size): an integer type and a
    count of 1 (htslib reads the type alone, so other count bits would pass unseen)."""
    if at >= limit:
        raise _Stop
    kind = data[at] & 15
    if kind not in (1, 2, 3):
        problems.append([*context, BCF_PROBLEM_TYPE, at, limit, limit - at, kind])
        raise _Stop(True)
    if data[at] >> 4 != 1:
        problems.append([*context, BCF_PROBLEM_TYPE, at, at + 1, 1, kind])
    size = BCF_TYPE_SIZES[kind]
    if at + 1 + size > limit:
        raise _Stop
    return int.from_bytes(data[at + 1 : at + 1 + size], "little", signed=True), at + 1 + size


def _bcf_integers(data: bytes, at: int, kind: int, count: int) -> list[int]:
    """The ``count`` signed integers of type ``kind`` at ``at``."""
    size = BCF_TYPE_SIZES[kind]
    return [int.from_bytes(data[at + element * size : at + (element + 1) * size], "little", signed=True) for element in range(count)]


def _bcf_slot_problem(data: bytes, at: int, kind: int, count: int) -> int:
    """The problem of one value of ``count`` elements at ``at`` (0 for none): a string's bytes after
    its first NUL not NUL, else a ``BCF_STRING_MISSING`` byte before it; a vector's elements after
    its first END_OF_VECTOR not END_OF_VECTOR; a float NaN other than ``BCF_NANS`` before it."""
    if kind == 7:
        text = data[at : at + count]
        nul = text.find(b"\0")
        if nul >= 0 and text.count(0, nul) != count - nul:
            return BCF_PROBLEM_AFTER_NUL
        return BCF_PROBLEM_MISSING_CHAR if BCF_STRING_MISSING in text[: nul if nul >= 0 else count] else 0
    if kind == 0:
        return 0
    size = BCF_TYPE_SIZES[kind]
    end_marker = BCF_VECTOR_END[kind]
    found = 0
    ended = False
    for element in range(count):
        value = int.from_bytes(data[at + element * size : at + (element + 1) * size], "little")
        if ended:
            if value != end_marker:
                return BCF_PROBLEM_AFTER_END
        elif value == end_marker:
            ended = True
        elif kind == 5 and value & 0x7F800000 == 0x7F800000 and value & 0x7FFFFF and value not in BCF_NANS:
            found = BCF_PROBLEM_NAN_BITS
    return found


def _bcf_values(data: bytes, at: int, kind: int, count: int, slots: int, problems: list[list[int]], context: list[int]) -> None:
    """``slots`` values (one a sample) of ``count`` elements each: the first problem of the first
    value that has one, reported once for all with the span of every value."""
    width = count * BCF_TYPE_SIZES[kind]
    for slot in range(slots):
        found = _bcf_slot_problem(data, at + slot * width, kind, count)
        if found:
            problems.append([*context, found, at, at + slots * width, width, kind])
            return


def _bcf_string(data: bytes, at: int, limit: int, problems: list[list[int]], context: list[int]) -> tuple[int, bytes]:
    """A typed string (ID, an allele): a character type whatever its length, as htslib requires.
    Returns where it ends and what htslib prints of it (up to its first NUL)."""
    kind, count, at = _bcf_typed(data, at, limit, problems, context)
    width = count * BCF_TYPE_SIZES[kind]
    if kind != 7:
        problems.append([*context, BCF_PROBLEM_TYPE, at, at + width, width, kind])
        return at + width, b""
    _bcf_values(data, at, kind, count, 1, problems, context)
    return at + width, data[at : at + width].partition(b"\0")[0]


def _measured_allele(allele: bytes) -> bool:
    """Whether SVLEN gives the reference length of a symbolic ALT allele (htslib's ``svlen_on_ref_for_vcf_alt``)."""
    return len(allele) >= 5 and allele[:4] in BCF_SPAN_ALLELES and allele[4:5] in (b">", b":") and allele.endswith(b">")


def _svlen_allele(element: int) -> int:
    """The allele whose kind htslib's ``get_rlen`` (1.22 to 1.24) consults for SVLEN's element
    ``element``: allele ``element + 1``, but for the last element of each eight, whose bit it
    looks up in the eight before (so the 8th, 16th, ... element's SVLEN is read as its
    neighbour's allele says: allele 8's SVLEN is never counted)."""
    return (element & ~7) | ((element + 1) & 7)


def _bcf_info_rules(data: bytes, key: int, kind: int, count: int, value: int, problems: list[list[int]], record: _Record) -> None:
    """The rules an INFO value is held to beyond its bytes: the Type its header line declares, and
    END (the first gathered for ``rlen``; each must be one integer, the end ``rlen`` gives: the
    htslib child, through pysam, prints END as POS + rlen or not at all, never the stored value)."""
    context = [record.row, BCF_FIELD_INFO, key]
    width = count * BCF_TYPE_SIZES[kind]
    if _off_declared(record.kinds, key, kind, BCF_KEY_INFO, BCF_DECLARED_INFO_SHIFT):
        problems.append([*context, BCF_PROBLEM_DECLARED_TYPE, value, value + width, width, kind])
    if key == record.end_key:
        integer = _bcf_integers(data, value, kind, 1)[0] if kind in (1, 2, 3) and count == 1 else None
        if integer == -BCF_INT_MISSING.get(kind, 0):
            integer = None
        if record.end is None:
            record.end = 0 if integer is None else integer
        if integer is None or integer != record.pos + record.rlen:
            problems.append([*context, BCF_PROBLEM_END, value, value + width, width, kind])
    elif key == record.svlen_key and record.svlen is None and any(record.measured):
        record.svlen = 0
        if kind in (1, 2, 3):
            for element, number in enumerate(_bcf_integers(data, value, kind, min(count, len(record.measured) - 1))):
                if number == BCF_VECTOR_END[kind] - (1 << 8 * BCF_TYPE_SIZES[kind]):
                    break
                if record.measured[_svlen_allele(element)] and number != -BCF_INT_MISSING[kind]:
                    record.svlen = max(record.svlen, abs(number))


def _bcf_shared(data: bytes, start: int, end: int, n_info: int, n_allele: int, record: _Record, problems: list[list[int]]) -> int:
    """Walk a record's shared part after its fixed 24 bytes: ID, alleles, FILTER, INFO. Returns where it stopped."""
    row, kinds = record.row, record.kinds
    at, _ = _bcf_string(data, start, end, problems, [row, BCF_FIELD_ID, -1])
    for allele in range(n_allele):
        at, printed = _bcf_string(data, at, end, problems, [row, BCF_FIELD_ALLELE, allele])
        if allele == 0:
            record.reference = len(printed)
        record.measured.append(allele > 0 and _measured_allele(printed))
        record.block = record.block or (allele > 0 and printed in BCF_REFERENCE_BLOCKS)
    context = [row, BCF_FIELD_FILTER, -1]
    kind, count, at = _bcf_typed(data, at, end, problems, context)
    size = BCF_TYPE_SIZES[kind]
    if count and kind not in (1, 2, 3):
        problems.append([*context, BCF_PROBLEM_TYPE, at, at + count * size, count * size, kind])
    else:
        for element in range(count):
            value = int.from_bytes(data[at + element * size : at + (element + 1) * size], "little", signed=True)
            if not _declared(kinds, value, BCF_KEY_FILTER):
                problems.append([row, BCF_FIELD_FILTER, value, BCF_PROBLEM_UNDECLARED, at, at + count * size, count * size, kind])
                break
    at += count * size
    seen: set[int] = set()
    for _ in range(n_info):
        key, at = _bcf_key(data, at, end, problems, [row, BCF_FIELD_INFO, -1])
        context = [row, BCF_FIELD_INFO, key]
        kind, count, value = _bcf_typed(data, at, end, problems, context)
        width = count * BCF_TYPE_SIZES[kind]
        if not _declared(kinds, key, BCF_KEY_INFO):
            problems.append([*context, BCF_PROBLEM_UNDECLARED, value, value + width, width, kind])
        elif key in seen:
            problems.append([*context, BCF_PROBLEM_REPEATED, value, value + width, width, kind])
        seen.add(key)
        _bcf_values(data, value, kind, count, 1, problems, context)
        _bcf_info_rules(data, key, kind, count, value, problems, record)
        at = value + width
    return at


def _gt_canonical(elements: list[int]) -> bool:
    """Whether a GT value's first phase bit is one a VCF reader writes for the alleles htslib
    prints (those before END_OF_VECTOR, at least one): 0 (htslib before 1.22), or what 1.22 and
    later infer as VCF 4.4 does, phased if haploid and not ``.``, else if every other allele is."""
    if not elements:
        return False
    first = elements[0] & 1
    if len(elements) == 1:
        inferred = int(elements[0] >> 1 != 0)
    else:
        inferred = int(all(element & 1 for element in elements[1:]))
    return first in (0, inferred)


def _bcf_format_rules(
    data: bytes, key: int, kind: int, count: int, value: int, n_sample: int, problems: list[list[int]], record: _Record
) -> None:
    """The rules a FORMAT value is held to beyond its bytes: the Type its header line declares
    (GT: integers), the first allele's phase of GT where htslib does not print it (VCF before
    4.4), FORMAT/LEN gathered for ``rlen`` where an ALT allele is a reference block."""
    context = [record.row, BCF_FIELD_FORMAT, key]
    width = count * BCF_TYPE_SIZES[kind]
    span = [*context, 0, value, value + n_sample * width, width, kind]
    if key == record.gt:
        if kind not in BCF_GT_CODES:
            problems.append([*context, BCF_PROBLEM_DECLARED_TYPE, *span[4:]])
        elif kind and not record.phase_printed:
            end_marker = BCF_VECTOR_END[kind] - (1 << 8 * BCF_TYPE_SIZES[kind])
            for sample in range(n_sample):
                elements = _bcf_integers(data, value + sample * width, kind, count)
                if end_marker in elements:
                    elements = elements[: elements.index(end_marker)]
                if not _gt_canonical(elements):
                    problems.append([*context, BCF_PROBLEM_PHASE, *span[4:]])
                    break
    elif _off_declared(record.kinds, key, kind, BCF_KEY_FORMAT, BCF_DECLARED_FORMAT_SHIFT):
        problems.append([*context, BCF_PROBLEM_DECLARED_TYPE, *span[4:]])
    if key == record.length_key and record.block and kind in (1, 2, 3):
        record.length = max([record.length, *_bcf_integers(data, value, kind, count * n_sample)])


def _bcf_indiv(data: bytes, start: int, end: int, n_fmt: int, n_sample: int, record: _Record, problems: list[list[int]]) -> int:
    """Walk a record's FORMAT fields, each key's values for every sample. Returns where it stopped."""
    row, kinds = record.row, record.kinds
    at = start
    seen: set[int] = set()
    for _ in range(n_fmt):
        key, at = _bcf_key(data, at, end, problems, [row, BCF_FIELD_FORMAT, -1])
        context = [row, BCF_FIELD_FORMAT, key]
        kind, count, value = _bcf_typed(data, at, end, problems, context)
        width = count * BCF_TYPE_SIZES[kind]
        if value + n_sample * width > end:
            raise _Stop
        if not _declared(kinds, key, BCF_KEY_FORMAT):
            problems.append([*context, BCF_PROBLEM_UNDECLARED, value, value + n_sample * width, width, kind])
        elif key in seen:
            problems.append([*context, BCF_PROBLEM_REPEATED, value, value + n_sample * width, width, kind])
        seen.add(key)
        _bcf_values(data, value, kind, count, n_sample, problems, context)
        _bcf_format_rules(data, key, kind, count, value, n_sample, problems, record)
        at = value + n_sample * width
    return at


def _bcf_walk_part(walk: Any, data: bytes, start: int, end: int, tail: int, problems: list[list[int]], row: int, *fields: Any) -> bool:
    """One part of a record walked: its bytes after the last field are a problem (``tail``); so is a
    field that does not fit in the part or does not parse, with the whole part (the walk cannot
    tell where its fields lie), unless the walk found why (a type code) and stopped there.
    Returns whether the walk read every field."""
    try:
        at = walk(data, start, end, *fields, problems)
    except _Stop as stop:
        if not stop.args:
            problems.append([row, BCF_FIELD_RECORD, -1, BCF_PROBLEM_UNPARSED, start, end, end - start, 0])
        return False
    if at < end:
        problems.append([row, BCF_FIELD_RECORD, -1, tail, at, end, end - at, 0])
    return True


def _bcf_rlen(record: _Record) -> tuple[int, int]:
    """The ``rlen`` a VCF reader gives the record as htslib prints it: before htslib 1.22, END - POS
    where END is after POS, else REF's length; from 1.22 (``get_rlen``), the furthest of END,
    POS + the longest SVLEN of a measured ALT allele (else END) and POS + the longest FORMAT/LEN
    of a reference block (else END), at least REF's length. Positions 0-based, END 1-based."""
    pos, end = record.pos, record.end or 0
    before = end - pos if record.end is not None and end > pos else record.reference
    svlen = record.svlen or 0
    if not svlen and end:
        svlen = end - pos - 1 if end > pos else 0
    length = record.length
    if not length and end:
        length = end - pos if end > pos else 0
    furthest = max(end, pos + svlen + 1, pos + length)
    return before, max(record.reference, furthest - pos)


def bcf_records(data: bytes, start: int, samples: int, kinds: bytes, keys: tuple[int, int, int, int], phase_printed: bool) -> BcfRecords:
    """The whole BCF records of ``data[start:]`` (uncompressed, after the header) walked field by
    field through the layout of BCF 2.2 (VCF 4.3, section 6.3), each record's problems found: every
    byte htslib does not print must be the canonical filler (NUL after a string's first NUL,
    END_OF_VECTOR after a vector's first), each part must hold exactly its fields (``l_shared``,
    ``l_indiv``), the record's sample count must be the header's (``samples``), its INFO and FORMAT
    keys and FILTER values indexes the header declares so, each value of the type the header
    declares (``kinds``: ``BCF_KEY_*`` bits and ``BCF_DECLARED_*`` Types an index). What htslib
    prints of a record but not as stored must be what a VCF reader would store again: GT's first
    phase bit unless ``phase_printed`` (VCF 4.4 and htslib 1.22 or later), INFO/END, ``rlen``
    (``keys``: the dictionary indexes of GT, END, SVLEN and LEN, -1 for none; ``_bcf_rlen``).
    A field the walk cannot read is a problem too, never a reason to stop: a record's length is
    known from its first 8 bytes, so the next one is walked all the same."""
    if not 0 <= start <= len(data):
        raise IndexError("start outside the data")
    problems: list[list[int]] = []
    row = 0
    at = start
    while at + 8 <= len(data):
        shared_length = int.from_bytes(data[at : at + 4], "little")
        indiv_length = int.from_bytes(data[at + 4 : at + 8], "little")
        shared = at + 8
        indiv = shared + shared_length
        end = indiv + indiv_length
        if end > len(data):
            break
        if shared_length < 24:
            problems.append([row, BCF_FIELD_RECORD, -1, BCF_PROBLEM_UNPARSED, shared, end, end - shared, 0])
        else:
            quality = int.from_bytes(data[shared + 12 : shared + 16], "little")
            if quality & 0x7F800000 == 0x7F800000 and quality & 0x7FFFFF and quality not in BCF_NANS:
                problems.append([row, BCF_FIELD_QUAL, -1, BCF_PROBLEM_NAN_BITS, shared + 12, shared + 16, 4, 5])
            pos, rlen = (int.from_bytes(data[shared + offset : shared + offset + 4], "little", signed=True) for offset in (4, 8))
            n_info = int.from_bytes(data[shared + 16 : shared + 18], "little")
            n_allele = int.from_bytes(data[shared + 18 : shared + 20], "little")
            n_sample = int.from_bytes(data[shared + 20 : shared + 23], "little")
            n_fmt = data[shared + 23]
            if n_sample != samples:
                problems.append([row, BCF_FIELD_RECORD, -1, BCF_PROBLEM_SAMPLE_COUNT, shared + 20, shared + 23, 3, 0])
            record = _Record(row, kinds, keys, phase_printed, pos, rlen)
            read = _bcf_walk_part(_bcf_shared, data, shared + 24, indiv, BCF_PROBLEM_SHARED_TAIL, problems, row, n_info, n_allele, record)
            if n_fmt and n_sample and indiv_length:
                read &= _bcf_walk_part(_bcf_indiv, data, indiv, end, BCF_PROBLEM_INDIV_TAIL, problems, row, n_fmt, n_sample, record)
            else:  # htslib reads no FORMAT field then: every byte of the part passes unseen
                if n_fmt:
                    problems.append([row, BCF_FIELD_RECORD, -1, BCF_PROBLEM_FORMAT_WITHOUT_SAMPLES, shared + 23, shared + 24, 1, 0])
                if indiv_length:
                    problems.append([row, BCF_FIELD_RECORD, -1, BCF_PROBLEM_INDIV_TAIL, indiv, end, indiv_length, 0])
            if read and rlen not in _bcf_rlen(record):
                problems.append([row, BCF_FIELD_RLEN, -1, BCF_PROBLEM_RLEN, shared + 8, shared + 12, 4, 3])
        row += 1
        at = end
    table = np.asarray(problems, dtype=np.int64).reshape(-1, len(BCF_PROBLEM_FIELDS)).T.copy()
    return BcfRecords(row, at, table)
