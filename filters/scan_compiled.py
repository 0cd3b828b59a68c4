"""The compiled byte loops (``_scan.c``) with the signatures of ``scan``.

``_scan`` hands offsets back as bytearrays of int64 (so it builds with a C compiler and
the Python headers alone, without numpy's C API) and takes int64 offsets only as
contiguous buffers. Each function here turns the one into numpy arrays and makes the
other, so that it takes and returns exactly what its twin in ``scan_python`` does.
Importing this module raises ImportError where ``_scan.c`` was not built.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Relative, so that mypy checks these calls against _scan.pyi under either package name.
from . import _scan
from .scan_python import (
    BAM_RECORD_FIELDS,
    BAM_TAG_FIELDS,
    BCF_PROBLEM_FIELDS,
    BamRecords,
    BcfRecords,
    FastqRecords,
    LineFields,
    RevertedMatches,
    VcfColumns,
)


def _int64(buffer: bytearray) -> np.ndarray:
    return np.frombuffer(buffer, dtype=np.int64)


def md_and_nm(
    position: int, operations: Sequence[tuple[int, int]], sequence: bytes, reference: bytes, reference_offset: int
) -> tuple[bytes, int]:
    """MD and NM of an alignment as ``samtools calmd`` computes them; see ``cigar.md_and_nm``."""
    return _scan.md_and_nm(position, operations, sequence, reference, reference_offset)


def first_of_strings(text: bytes, needles: list[bytes]) -> int:
    """Where the first of ``needles`` starts in ``text``, or -1; see ``scan_python.first_of_strings``."""
    return _scan.first_of_strings(text, needles)


def count_lines(text: bytes) -> int:
    """The number of newlines in ``text``."""
    return _scan.count_lines(text)


def vcf_columns(text: bytes, column_count: int, tabs_kept: int) -> VcfColumns:
    """Locate a block's VCF record lines and their first tabs, in one pass; see ``scan_python.vcf_columns``."""
    count, starts, ends, tabs, bad_row, problem, columns_found = _scan.vcf_columns(text, column_count, tabs_kept)
    return VcfColumns(count, _int64(starts), _int64(ends), _int64(tabs).reshape(count, tabs_kept), bad_row, problem, columns_found)


def date_junctions(text: bytes, info_column: int) -> np.ndarray:
    """Where dates written with separators may start in a block of VCF lines; see ``scan_python.date_junctions``."""
    return _int64(_scan.date_junctions(text, info_column))


def spans_within(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """For each span ``data[start:end]``: is every byte of it in ``allowed``?"""
    within = _scan.spans_within(data, np.ascontiguousarray(starts), np.ascontiguousarray(ends), allowed)
    return np.frombuffer(within, dtype=bool)


def keyed_name_hashes(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, key: np.ndarray) -> np.ndarray:
    """A keyed 64-bit hash of each span (a read name); see ``scan_python.keyed_name_hashes``."""
    hashes = _scan.keyed_name_hashes(data, np.ascontiguousarray(starts), np.ascontiguousarray(ends), np.ascontiguousarray(key, dtype="<u8"))
    return np.frombuffer(hashes, dtype=np.uint64)


def info_values(text: bytes, info_starts: np.ndarray, info_ends: np.ndarray, key: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the value of INFO ``key`` is in each span: ``(found, value_starts, value_ends)``."""
    found, value_starts, value_ends = _scan.info_values(text, np.ascontiguousarray(info_starts), np.ascontiguousarray(info_ends), key)
    return np.frombuffer(found, dtype=bool), _int64(value_starts), _int64(value_ends)


def replace_spans(text: bytes, starts: np.ndarray, ends: np.ndarray, replacement: bytes) -> bytes:
    """``text`` with each span (in order, not overlapping) replaced by ``replacement``."""
    return _scan.replace_spans(text, np.ascontiguousarray(starts), np.ascontiguousarray(ends), replacement)


def join_spans(text: bytes, starts: np.ndarray, ends: np.ndarray) -> bytes:
    """The spans one after the other."""
    return _scan.join_spans(text, np.ascontiguousarray(starts), np.ascontiguousarray(ends))


def read_into(descriptor: int, buffer: bytearray | memoryview) -> int:
    """Read from ``descriptor`` until ``buffer`` is full or the input ends, without the GIL."""
    return _scan.read_into(descriptor, buffer)


def fastq_scan(text: bytes | memoryview) -> FastqRecords:
    """The plain 4-line FASTQ records at the start of ``text``."""
    return FastqRecords(*_scan.fastq_scan(text))


def fastq_kseq_block(lines: list[bytes], count: int) -> bool:
    """Whether ``lines[:4 * count]`` are ``count`` four-line FASTQ records as kseq reads them."""
    return _scan.fastq_kseq_block(lines, count)


def fastq_rebuild(text: bytes | memoryview, count: int, heads: bytes) -> bytes:
    """``text`` (``count`` plain records) with new name lines and ``+`` lines."""
    return _scan.fastq_rebuild(text, count, heads)


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
    """sam-revert-germline ``--all`` for records of one M run, lines built in C."""
    lines, changed, bases = _scan.sam_revert_matches(
        text,
        np.ascontiguousarray(line_starts),
        np.ascontiguousarray(sequence_starts),
        np.ascontiguousarray(sequence_ends),
        np.ascontiguousarray(quality_ends),
        np.ascontiguousarray(line_ends),
        reference,
        np.ascontiguousarray(offsets),
        keep_unchanged,
        keep_changed,
    )
    return RevertedMatches(lines, changed, bases)


def splice_lines(text: bytes, line_starts: np.ndarray, line_ends: np.ndarray, rows: np.ndarray, lines: list[bytes | None]) -> bytes:
    """``text`` with line ``rows[k]`` replaced by ``lines[k]``, or removed where it is None."""
    return _scan.splice_lines(text, np.ascontiguousarray(line_starts), np.ascontiguousarray(line_ends), np.ascontiguousarray(rows), lines)


def bcf_records(data: bytes, start: int, samples: int, kinds: bytes, keys: tuple[int, int, int, int], phase_printed: bool) -> BcfRecords:
    """The whole BCF records of ``data[start:]`` walked field by field, their problems found; see ``scan_python.bcf_records``."""
    count, stop, problems = _scan.bcf_records(data, start, samples, kinds, keys, phase_printed)
    return BcfRecords(count, stop, np.ascontiguousarray(_int64(problems).reshape(-1, len(BCF_PROBLEM_FIELDS)).T))


def bam_records(data: bytes, start: int) -> BamRecords:
    """The whole BAM records of ``data[start:]`` and their aux fields, walked once; see ``scan_python.bam_records``."""
    count, stop, records, tags = _scan.bam_records(data, start)
    return BamRecords(count, stop, _int64(records).reshape(len(BAM_RECORD_FIELDS), count), _int64(tags).reshape(len(BAM_TAG_FIELDS), -1))


def find_strings(text: bytes, needles: list[bytes], table: bytes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every occurrence of each needle in ``text``, in one pass; see ``scan_python.find_strings``."""
    _, indexes, starts = _scan.find_strings(text, needles) if table is None else _scan.find_strings(text, needles, table)
    return _int64(indexes), _int64(starts)


def any_strings(text: bytes, needles: list[bytes], table: bytes | None = None) -> bool:
    """Whether ``find_strings`` finds an occurrence; see ``scan_python.any_strings``."""
    return _scan.any_strings(text, needles) if table is None else _scan.any_strings(text, needles, table)


def find_spread_strings(text: bytes, needles: list[bytes], skipped: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every occurrence of each needle in ``text`` read without ``skipped``; see ``scan_python.find_spread_strings``."""
    _, indexes, starts, ends = _scan.find_spread_strings(text, needles, skipped)
    return _int64(indexes), _int64(starts), _int64(ends)


def line_fields(text: bytes, tabs_kept: int) -> LineFields:
    """The lines of a block, their first tabs and the fields after them, in one pass; see ``scan_python.line_fields``."""
    count, starts, ends, tabs, extra_starts, extra_ends, extra_counts, bad_row = _scan.line_fields(text, tabs_kept)
    return LineFields(
        count, _int64(starts), _int64(ends), _int64(tabs).reshape(count, tabs_kept), _int64(extra_starts), _int64(extra_ends),
        _int64(extra_counts), bad_row,
    )  # fmt: skip


def splice_spans(text: bytes, starts: np.ndarray, ends: np.ndarray, pieces: list[bytes], choices: np.ndarray) -> bytes:
    """``text`` with each span (in order, not overlapping) replaced by ``pieces[choices[i]]``."""
    return _scan.splice_spans(text, np.ascontiguousarray(starts), np.ascontiguousarray(ends), pieces, np.ascontiguousarray(choices))


def md_lengths(text: bytes, starts: np.ndarray, ends: np.ndarray, letters: np.ndarray) -> np.ndarray:
    """The reference bases each MD string describes, -1 off the grammar; see ``scan_python.md_lengths``."""
    table = np.ascontiguousarray(letters, dtype=np.uint8)
    return _int64(_scan.md_lengths(text, np.ascontiguousarray(starts), np.ascontiguousarray(ends), table))


def md_bases_at(text: bytes, starts: np.ndarray, ends: np.ndarray, letters: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """What each MD string says at its offset; see ``scan_python.md_bases_at``."""
    table = np.ascontiguousarray(letters, dtype=np.uint8)
    contiguous = np.ascontiguousarray
    return _int64(_scan.md_bases_at(text, contiguous(starts), contiguous(ends), table, contiguous(offsets)))


def span_list(text: bytes, starts: np.ndarray, ends: np.ndarray) -> list[bytes]:
    """The spans as a list of bytes (one C loop)."""
    return _scan.span_list(text, np.ascontiguousarray(starts), np.ascontiguousarray(ends))


def cigar_lengths(text: bytes, starts: np.ndarray, ends: np.ndarray, operations: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """The counted operations' lengths of each CIGAR span, -1 off the grammar; see ``scan_python.cigar_lengths``."""
    tables = np.ascontiguousarray(operations, dtype=np.uint8), np.ascontiguousarray(counted, dtype=np.uint8)
    return _int64(_scan.cigar_lengths(text, np.ascontiguousarray(starts), np.ascontiguousarray(ends), *tables))


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
    """For each span (a record from its ALT column on): may it hold what ``record_values`` removes?
    See ``scan_python.vcf_identifier_candidates``."""
    found = _scan.vcf_identifier_candidates(
        text,
        np.ascontiguousarray(starts),
        np.ascontiguousarray(ends),
        info_unchecked,
        format_unchecked,
        layout_keys,
        layout_masks,
        colon_names,
        underscore_names,
        link_keys,
        definitions,
        info_defined or [],
        format_defined or [],
        filters_declared or [],
    )
    return np.frombuffer(found, dtype=bool)


def tag_codes(text: bytes, starts: np.ndarray, ends: np.ndarray, types: bytes) -> np.ndarray | None:
    """The code of each optional field, None when one is not ``\tXX:T:``; see ``scan_python.tag_codes``."""
    codes = _scan.tag_codes(text, np.ascontiguousarray(starts), np.ascontiguousarray(ends), types)
    return None if codes is None else _int64(codes)


def span_choices(text: bytes, starts: np.ndarray, ends: np.ndarray, values: list[bytes]) -> np.ndarray:
    """For each span, the index in ``values`` of the first one equal to it, or -1; see ``scan_python.span_choices``."""
    return _int64(_scan.span_choices(text, np.ascontiguousarray(starts), np.ascontiguousarray(ends), values))
def span_numbers(text: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Each span's value as a FLAG or POS (1 to 10 digits), else -1; see ``scan_python.span_numbers``."""
    return _int64(_scan.span_numbers(text, np.ascontiguousarray(starts), np.ascontiguousarray(ends)))


def sam_tag_lines(
    text: bytes, tag_tabs: np.ndarray, tag_counts: np.ndarray, codes: np.ndarray, letters: np.ndarray, width: int
) -> np.ndarray:
    """A byte a line: a named tag, an MC value to look at; see ``scan_python.sam_tag_lines``."""
    tables = np.ascontiguousarray(codes, dtype=np.uint8), np.ascontiguousarray(letters, dtype=np.uint8)
    found = _scan.sam_tag_lines(text, np.ascontiguousarray(tag_tabs), np.ascontiguousarray(tag_counts), *tables, width)
    return np.frombuffer(found, dtype=np.uint8)


def repeated_tags(text: bytes, starts: np.ndarray, ends: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """A byte a field: 1 where its line had its name before; see ``scan_python.repeated_tags``."""
    contiguous = np.ascontiguousarray
    return np.frombuffer(_scan.repeated_tags(text, contiguous(starts), contiguous(ends), contiguous(counts)), dtype=np.uint8)


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
    """sam-revert-germline ``-v`` for one-M-run records on windows, lines built in C; see ``scan_python.sam_revert_windows``."""
    contiguous = np.ascontiguousarray
    lines, changed, bases = _scan.sam_revert_windows(
        text, contiguous(line_starts), contiguous(sequence_starts), contiguous(sequence_ends), contiguous(quality_ends),
        contiguous(line_ends), contiguous(positions), reference, contiguous(offsets), contiguous(window_starts),
        contiguous(window_ends), contiguous(window_counts), contiguous(keep_changed, dtype=np.uint8),
    )
    return RevertedMatches(lines, changed, bases)
