"""Rewriting one alignment so it carries no germline allele (sam-revert-germline's per-read rules).

Everything here is a pure function over a record's fields, a slice of the
reference and the revert windows that overlap the record, so it can be tested
without files and reused by the tumour-only mode (``--all --keep``), which only
adds a keep list to :func:`revert_alignment`. CIGAR shapes and MD/NM are in
filters/cigar.py.

Coordinates are 0-based, half-open. A *window* ``(start, end)`` is a stretch of
reference where every difference from the reference is reverted: a germline
SNV/MNP's REF span, an indel's REF span widened over the repeat in which the
aligner may have placed it, or the whole read for ``--all``.

Rules (SAM v1 section 1.4 and 1.5 for CIGAR, MD and NM):

- aligned bases (``M``/``=``/``X``) in a window become the reference base;
- a deletion (``D``) touching a window is filled with reference bases and
  becomes ``M``; the filled bases get the lower quality of the two aligned bases
  beside the deletion, so a filled deletion does not stand out by its quality;
- an insertion (``I``) whose anchor (the reference base before it) lies in a
  window is removed, bases and qualities;
- soft-clipped bases (``S``) whose projection onto the reference (plus
  ``CLIP_MARGIN``) touches a window are masked: base ``N``, quality
  ``MASKED_QUALITY``; the CIGAR keeps the clip, so POS, TLEN and the mate's
  view of the read stay valid;
- ``N``, ``H`` and ``P`` operations are kept.

Reverting never moves POS nor the end of the alignment (``D`` and ``M`` consume
the same reference), so TLEN and the mate's PNEXT stay right.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate

from genoscrub.cigar import (
    ALIGNED,
    CONSUMES_REFERENCE,
    DEL,
    DIFF,
    EQUAL,
    HARD,
    INS,
    SKIP,
    SOFT,
    CigarShape,
    M,
    Operations,
    append_operation,
    differences,
    format_cigar,
    parse_cigar,
    split_match_mismatch,
    without_padding,
)

CLIP_MARGIN = 10
"""Bases beyond a soft clip's projection that still count as touching a window:
an indel inside the clip would shift where its bases really belong."""
MASKED_QUALITY = ord("#")
"""Quality 2 (``#``), Illumina's "do not trust" mark, for masked clip bases."""

Window = tuple[int, int]
KeepAllele = Callable[[int, bytes, bytes], bool]
"""The keep list of ``--all --keep``: ``keep(reference position, reference allele, read allele)``."""


class KeepAlleles:
    """The keep list for one contig: exact alleles that ``--all`` spares.

    Alleles are keyed as ``population.normalised`` leaves them, 0-based:
    ``(position, REF, ALT)`` with shared bases trimmed, so an insertion is
    ``(base after its anchor, b"", inserted)`` and a deletion ``(first deleted
    base, deleted, b"")``. Anything else a read carries at a keep site is not
    an exact match and is reverted (fail closed). ``kept`` counts spared
    observations for ``--report``.
    """


    def __init__(self, alleles: set[tuple[int, bytes, bytes]]) -> None:
        self.alleles = alleles
        self.mnp_lengths = sorted({len(ref) for _, ref, alt in alleles if len(ref) == len(alt) > 1})
        self.kept = 0

    def __call__(self, position: int, reference_allele: bytes, read_allele: bytes) -> bool:
        """Whether a read's allele is on the list (an insertion comes with its anchor's position)."""
        if not reference_allele:
            position += 1
        if (position, reference_allele, read_allele) in self.alleles:
            self.kept += 1
            return True
        return False

    def spares_base(self, read: bytearray | bytes, reference: bytes, reference_start: int, offset: int) -> bool:
        """Whether the mismatch at ``offset`` of an aligned run is a kept SNV or part of a kept MNP
        the read carries whole."""
        if (reference_start + offset, reference[offset : offset + 1], bytes(read[offset : offset + 1])) in self.alleles:
            self.kept += 1
            return True
        for length in self.mnp_lengths:
            for start in range(max(0, offset - length + 1), min(offset, len(read) - length) + 1):
                key = (reference_start + start, reference[start : start + length], bytes(read[start : start + length]))
                if key in self.alleles:
                    self.kept += 1
                    return True
        return False


@dataclass
class Reverted:
    """A record's new alignment fields and what was done to them."""

    operations: Operations
    sequence: bytes
    qualities: bytes
    bases_reverted: int = 0
    indels_reverted: int = 0
    clip_bases_masked: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.bases_reverted or self.indels_reverted or self.clip_bases_masked)


class Windows:
    """Sorted windows with the running maximum of their ends, so a read with
    thousands of CIGAR operations over thousands of windows (a long read) asks
    each question with one bisection."""

    def __init__(self, windows: Sequence[Window]) -> None:
        self.windows = sorted(windows)
        self.starts = [start for start, _ in self.windows]
        self.reach = list(accumulate((end for _, end in self.windows), max))

    def overlapping(self, start: int, end: int) -> list[Window]:
        index = bisect_left(self.starts, end) - 1
        found = []
        while index >= 0 and self.reach[index] > start:
            if self.windows[index][1] > start:
                found.append(self.windows[index])
            index -= 1
        return found

    def touches(self, start: int, end: int) -> bool:
        index = bisect_left(self.starts, end) - 1
        return index >= 0 and self.reach[index] > start


def _touches(windows: Windows, start: int, end: int) -> bool:
    return windows.touches(start, end)


def _revert_aligned(read: bytearray, reference: bytes, reference_start: int, windows: Windows, keep: KeepAllele | None) -> int:
    """Set the bases of an aligned run that lie in a window to the reference; count the changes.

    ``read`` holds the run's bases and starts at reference position ``reference_start``.
    """
    changed = 0
    run_end = reference_start + len(read)
    for window_start, window_end in windows.overlapping(reference_start, run_end):
        start = max(window_start, reference_start) - reference_start
        end = min(window_end, run_end) - reference_start
        if start >= end:
            continue
        expected = reference[start:end]
        if read[start:end] == expected:
            continue
        for offset in differences(bytes(read[start:end]), expected):
            offset += start
            base = read[offset]
            target = expected[offset - start]
            if keep is not None and _spared(keep, read, reference, reference_start, offset, target, base):
                continue
            read[offset] = target
            changed += 1
    return changed


def _spared(keep: KeepAllele, read: bytearray, reference: bytes, reference_start: int, offset: int, target: int, base: int) -> bool:
    """A keep-list decision for one mismatching base (MNPs need the whole run)."""
    if isinstance(keep, KeepAlleles):
        return keep.spares_base(read, reference, reference_start, offset)
    return keep(reference_start + offset, bytes((target,)), bytes((base,)))


def revert_alignment(
    position: int,
    operations: Sequence[tuple[int, int]],
    sequence: bytes,
    qualities: bytes,
    reference: bytes,
    reference_offset: int,
    windows: Sequence[Window] | Windows,
    mask_clips: bool | None = None,
    keep: KeepAllele | None = None,
) -> Reverted | None:
    """Revert every difference from the reference that lies in a window.

    ``reference`` is the uppercase reference from ``reference_offset`` on and
    covers at least the aligned span. ``sequence``/``qualities`` may be ``*``
    (secondary records): then only the CIGAR is rewritten. ``mask_clips``
    forces (True) or forbids (False) masking soft clips; None decides by the
    clip's projection. ``keep`` (tumour-only mode) spares exact alleles.
    Returns None when no aligned base would remain (the record must go).
    """
    if len(operations) == 1 and operations[0][0] == M and keep is None and sequence != b"*" and not isinstance(windows, Windows):
        return revert_single_match(position, operations[0][1], sequence, qualities, reference, reference_offset, windows)
    windows = Windows(windows) if not isinstance(windows, Windows) else windows
    has_sequence = sequence != b"*"
    has_qualities = qualities != b"*" and has_sequence
    new_sequence = bytearray()
    new_qualities = bytearray()
    new_operations: Operations = []
    result = Reverted(new_operations, b"", b"")
    reference_position = position
    query_position = 0
    uses_match_mismatch = any(op in (EQUAL, DIFF) for op, _ in operations)
    unclipped = [i for i, (op, _) in enumerate(operations) if op != HARD]
    for index, (op, length) in enumerate(operations):
        if op in ALIGNED:
            if has_sequence:
                run = bytearray(sequence[query_position : query_position + length])
                start = reference_position - reference_offset
                result.bases_reverted += _revert_aligned(
                    run, reference[start : start + length], reference_position, windows, keep
                )
                new_sequence += run
                if has_qualities:
                    new_qualities += qualities[query_position : query_position + length]
            append_operation(new_operations, M, length)
            reference_position += length
            query_position += length
        elif op == INS:
            anchor = reference_position - 1
            inserted = sequence[query_position : query_position + length] if has_sequence else b""
            in_window = _touches(windows, anchor, anchor + 1)
            if in_window and not (keep is not None and keep(anchor, b"", inserted)):
                result.indels_reverted += 1
            else:
                if has_sequence:
                    new_sequence += inserted
                    if has_qualities:
                        new_qualities += qualities[query_position : query_position + length]
                append_operation(new_operations, INS, length)
            query_position += length
        elif op == DEL:
            start = reference_position - reference_offset
            deleted = reference[start : start + length]
            in_window = _touches(windows, reference_position, reference_position + length)
            if in_window and not (keep is not None and keep(reference_position, deleted, b"")):
                result.indels_reverted += 1
                if has_sequence:
                    new_sequence += deleted
                    if has_qualities:
                        new_qualities += bytes((_fill_quality(qualities, query_position),)) * length
                append_operation(new_operations, M, length)
            else:
                append_operation(new_operations, DEL, length)
            reference_position += length
        elif op == SOFT:
            if has_sequence:
                clip = sequence[query_position : query_position + length]
                leading = bool(unclipped) and index == unclipped[0]
                if leading:
                    projection = (reference_position - length - CLIP_MARGIN, reference_position)
                else:
                    projection = (reference_position, reference_position + length + CLIP_MARGIN)
                mask = _touches(windows, *projection) if mask_clips is None else mask_clips
                if mask and clip.strip(b"N"):
                    result.clip_bases_masked += length - clip.count(b"N")
                    new_sequence += b"N" * length
                    if has_qualities:
                        new_qualities += bytes((MASKED_QUALITY,)) * length
                else:
                    new_sequence += clip
                    if has_qualities:
                        new_qualities += qualities[query_position : query_position + length]
            append_operation(new_operations, SOFT, length)
            query_position += length
        else:  # N, H, P
            append_operation(new_operations, op, length)
            if op == SKIP:
                reference_position += length
    if not any(op in ALIGNED for op, _ in new_operations):
        return None
    if result.indels_reverted:
        new_operations[:] = without_padding(new_operations)
    result.sequence = bytes(new_sequence) if has_sequence else b"*"
    result.qualities = bytes(new_qualities) if has_qualities else b"*"
    if uses_match_mismatch and has_sequence:
        result.operations = split_match_mismatch(new_operations, result.sequence, reference, position, reference_offset)
    return result


def revert_single_match(
    position: int, length: int, sequence: bytes, qualities: bytes, reference: bytes, reference_offset: int, windows: Sequence[Window]
) -> Reverted:
    """The common case, a CIGAR of one ``M`` run: the same rules as the general
    walk (the property tests check they agree), without building it."""
    reverted = 0
    start = position - reference_offset
    expected = reference[start : start + length]
    for window_start, window_end in windows:
        first = max(window_start, position) - position
        last = min(window_end, position + length) - position
        if first >= last or sequence[first:last] == expected[first:last]:
            continue
        reverted += len(differences(sequence[first:last], expected[first:last]))
        sequence = sequence[:first] + expected[first:last] + sequence[last:]
    return Reverted([(M, length)], sequence, qualities, bases_reverted=reverted)


def _fill_quality(qualities: bytes, query_position: int) -> int:
    """Quality for bases filled into a deletion: the lower of the two neighbours."""
    neighbours = [qualities[i] for i in (query_position - 1, query_position) if 0 <= i < len(qualities)]
    return min(neighbours) if neighbours else MASKED_QUALITY


def rewrite_mate_cigar(
    position: int, mate_cigar: bytes, windows: Sequence[Window] | Windows, shape: CigarShape | None = None
) -> bytes | None:
    """What the mate's CIGAR becomes under the same rules, from its MC tag alone.

    Which indels are reverted depends only on the CIGAR, POS and the windows,
    never on the bases, so a record can update ``MC`` without seeing its mate
    (no second pass). Returns None when the mate will be removed.
    """
    shape = shape or parse_cigar(mate_cigar)
    if shape is None:
        return mate_cigar
    windows = Windows(windows) if not isinstance(windows, Windows) else windows
    operations: Operations = []
    reference_position = position
    reverted = False
    for op, length in shape.operations:
        if op == INS:
            if _touches(windows, reference_position - 1, reference_position):
                reverted = True
            else:
                append_operation(operations, INS, length)
        elif op == DEL:
            touched = _touches(windows, reference_position, reference_position + length)
            reverted = reverted or touched
            append_operation(operations, (EQUAL if shape.uses_match_mismatch else M) if touched else DEL, length)
            reference_position += length
        elif op == DIFF:
            for offset in range(length):
                base = reference_position + offset
                append_operation(operations, EQUAL if _touches(windows, base, base + 1) else DIFF, 1)
            reference_position += length
        else:
            append_operation(operations, op, length)
            if op in CONSUMES_REFERENCE:
                reference_position += length
    if not any(op in ALIGNED for op, _ in operations):
        return None
    if reverted:
        operations = without_padding(operations)
    return format_cigar(operations)

