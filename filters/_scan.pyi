"""The byte loops of the record commands, in C (filters/_scan.c).

Offsets go in as C-contiguous int64 buffers (numpy int64 arrays) and come back as
bytearrays of native int64, for ``numpy.frombuffer``; ``scan_compiled`` does both.
Every function takes its arguments by position only.
"""

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
from _typeshed import ReadableBuffer, WriteableBuffer

Text: TypeAlias = ReadableBuffer | npt.NDArray[np.uint8]
"""Bytes, or any buffer of them (a uint8 numpy array over a block)."""
Int64Buffer: TypeAlias = npt.NDArray[np.int64]
"""A C-contiguous int64 array (or another buffer of native int64); anything else raises TypeError."""
ByteTable: TypeAlias = ReadableBuffer | npt.NDArray[np.bool_] | npt.NDArray[np.uint8]
"""A lookup table, one byte an entry: nonzero where the byte (or tag name) is allowed."""

def vcf_columns(
    text: Text, column_count: int, tabs_kept: int, /
) -> tuple[int, bytearray, bytearray, bytearray, int, int, int]:
    """(count, starts, ends, tabs, bad_row, problem, columns_found) of a block of VCF record lines: check columns, CHROM, POS."""

def md_and_nm(
    position: int, operations: Sequence[tuple[int, int]], sequence: ReadableBuffer, reference: ReadableBuffer, reference_offset: int, /
) -> tuple[bytes, int]:
    """(MD, NM) of an alignment as samtools calmd computes them; ValueError where a run lies outside sequence or reference."""

def first_of_strings(text: Text, needles: list[bytes], /) -> int:
    """Where the first of needles (at most 64, none empty) starts in text, or -1."""

def count_lines(text: Text, /) -> int:
    """The number of newlines in text."""

def date_junctions(text: Text, info_column: int, /) -> bytearray:
    """int64 offsets where a date or phone number written with separators may start (a superset)."""

def keyed_name_hashes(text: Text, starts: Int64Buffer, ends: Int64Buffer, key: ReadableBuffer | npt.NDArray[np.uint64], /) -> bytearray:
    """Native uint64 keyed hashes of the spans (read names), one a span; ValueError for a span longer than the key covers."""

def spans_within(text: Text, starts: Int64Buffer, ends: Int64Buffer, allowed: ByteTable, /) -> bytearray:
    """1 for each span all of whose bytes are nonzero in allowed (256 bytes), else 0."""

def replace_spans(text: Text, starts: Int64Buffer, ends: Int64Buffer, replacement: ReadableBuffer, /) -> bytes:
    """text with each span (in order, not overlapping) replaced by replacement."""

def join_spans(text: Text, starts: Int64Buffer, ends: Int64Buffer, /) -> bytes:
    """The spans text[starts[i]:ends[i]] one after the other."""

def info_values(
    text: Text, info_starts: Int64Buffer, info_ends: Int64Buffer, key: ReadableBuffer, /
) -> tuple[bytearray, bytearray, bytearray]:
    """(found as 0/1 bytes, value starts, value ends) of the first key=value in each INFO span."""

def read_into(fd: int, buffer: WriteableBuffer, /) -> int:
    """Bytes read from file descriptor fd into buffer until it is full or the input ends (GIL released)."""

def fastq_scan(text: Text, /) -> tuple[int, int, bytes, int]:
    """(count, end, heads, plus_named) of the plain 4-line FASTQ records at the start of text."""

def fastq_kseq_block(lines: list[bytes], count: int, /) -> bool:
    """Whether lines[:4 * count] are count four-line FASTQ records as kseq reads them."""

def fastq_rebuild(text: Text, count: int, heads: ReadableBuffer, /) -> bytes:
    """text (count plain records) with each name line replaced by a line of heads and each + line by +."""

def sam_revert_matches(
    text: Text,
    line_starts: Int64Buffer,
    sequence_starts: Int64Buffer,
    sequence_ends: Int64Buffer,
    quality_ends: Int64Buffer,
    line_ends: Int64Buffer,
    reference: ReadableBuffer,
    offsets: Int64Buffer,
    keep_unchanged: ByteTable,
    keep_changed: ByteTable,
    /,
) -> tuple[list[bytes | None], int, int]:
    """(lines, reads changed, bases changed) of --all over one-M-run reads; None for a changed read over an N."""

def splice_lines(
    text: Text, line_starts: Int64Buffer, line_ends: Int64Buffer, rows: Int64Buffer, lines: list[bytes | None], /
) -> bytes:
    """text with line rows[k] replaced by lines[k], or removed with its newline where lines[k] is None."""

def bcf_records(
    data: Text, start: int, samples: int, kinds: ReadableBuffer, keys: tuple[int, int, int, int], phase_printed: bool, /
) -> tuple[int, int, bytearray]:
    """(count, stop, problems) of the whole BCF records of data[start:]: problems 8 int64 each, row by row."""

def bam_records(data: Text, start: int, /) -> tuple[int, int, bytearray, bytearray]:
    """(count, stop, records, tags) of the whole BAM records of data[start:]: fixed fields and aux fields, field-major int64."""

def find_strings(text: Text, needles: list[bytes], table: Text = ..., /) -> tuple[int, bytearray, bytearray]:
    """(count, needle indexes, starts) of each needle's occurrences in text (read through table), either case, by needle then start."""

def any_strings(text: Text, needles: list[bytes], table: Text = ..., /) -> bool:
    """Whether find_strings(text, needles, table) finds an occurrence, looking at every (m - 1)th position (m: the shortest needle)."""

def find_spread_strings(text: Text, needles: list[bytes], skipped: Text, /) -> tuple[int, bytearray, bytearray, bytearray]:
    """(count, needle indexes, starts, ends) of every occurrence of each needle in text read without the skipped bytes."""

def line_fields(
    text: Text, tabs_kept: int, /
) -> tuple[int, bytearray, bytearray, bytearray, bytearray, bytearray, bytearray, int]:
    """(count, starts, ends, tabs, extra_starts, extra_ends, extra_counts, bad_row) of the lines of text."""

def splice_spans(text: Text, starts: Int64Buffer, ends: Int64Buffer, pieces: list[bytes], choices: Int64Buffer, /) -> bytes:
    """text with each span (in order, not overlapping) replaced by pieces[choices[i]]."""

def md_lengths(text: Text, starts: Int64Buffer, ends: Int64Buffer, letters: ByteTable, /) -> bytearray:
    """The reference bases each MD string span describes (int64), -1 off the MD grammar with letters L."""

def md_bases_at(text: Text, starts: Int64Buffer, ends: Int64Buffer, letters: ByteTable, offsets: Int64Buffer, /) -> bytearray:
    """What each MD string span says at its offset (int64): 0 a match, a mismatch's letter, 256 + a deleted letter, -1 outside."""

def span_list(text: Text, starts: Int64Buffer, ends: Int64Buffer, /) -> list[bytes]:
    """The spans text[starts[i]:ends[i]] as a list of bytes."""

def cigar_lengths(text: Text, starts: Int64Buffer, ends: Int64Buffer, operations: ByteTable, counted: ByteTable, /) -> bytearray:
    """The summed lengths of the counted operations of each CIGAR span (int64), -1 off the CIGAR grammar."""

def vcf_identifier_candidates(
    text: Text,
    starts: Int64Buffer,
    ends: Int64Buffer,
    info_unchecked: list[bytes],
    format_unchecked: list[bytes],
    layout_keys: list[bytes],
    layout_masks: list[int],
    colon_names: list[bytes],
    underscore_names: list[bytes],
    link_keys: list[bytes],
    definitions: bool,
    info_defined: list[bytes],
    format_defined: list[bytes],
    filters_declared: list[bytes],
    /,
) -> bytearray:
    """1 for each span (a VCF record from ALT to its line's end) that may hold an identifier record_values removes,
    or, with definitions, a key or FILTER ID the header does not define or a GT off its grammar."""

def tag_codes(text: Text, starts: Int64Buffer, ends: Int64Buffer, types: ReadableBuffer, /) -> bytearray | None:
    """The code of each optional field (int64: its tag's bytes, then types[TYPE]); None when one is not a \\tXX:T: field."""

def span_choices(text: Text, starts: Int64Buffer, ends: Int64Buffer, values: list[bytes], /) -> bytearray:
    """For each span, the index in values of the first one equal to it, or -1 (int64)."""
def span_numbers(text: Text, starts: Int64Buffer, ends: Int64Buffer, /) -> bytearray:
    """Each span's value (int64) when it is 1 to 10 ASCII digits, else -1."""

def sam_tag_lines(
    text: Text, tag_tabs: Int64Buffer, tag_counts: Int64Buffer, codes: ByteTable, letters: ByteTable, width: int, /
) -> bytearray:
    """A byte a line: bit 1 a tag named in codes, bit 2 an MC:Z value with a letter in its first width bytes or longer."""

def repeated_tags(text: Text, starts: Int64Buffer, ends: Int64Buffer, counts: Int64Buffer, /) -> bytearray:
    """A byte a field (counts[k] to line k): 1 where an earlier field of its line starts with the same two bytes."""

def sam_revert_windows(
    text: Text,
    line_starts: Int64Buffer,
    sequence_starts: Int64Buffer,
    sequence_ends: Int64Buffer,
    quality_ends: Int64Buffer,
    line_ends: Int64Buffer,
    positions: Int64Buffer,
    reference: ReadableBuffer,
    offsets: Int64Buffer,
    window_starts: Int64Buffer,
    window_ends: Int64Buffer,
    window_counts: Int64Buffer,
    keep_changed: ByteTable,
    /,
) -> tuple[list[bytes | None], int, int]:
    """(lines, reads changed, bases reverted) of one-M-run records whose bases in their windows become the reference."""
