"""One aligned read, looked at closely: which germline alleles it carries, which region bases it keeps.

Most reads are settled in bulk by ``audit_bam`` (array operations over a block of
records); the few whose CIGAR has an insertion, deletion, skip or clip near a site or a
region come here one at a time. Soft-clipped bases are laid out beside the alignment as
if aligned without gaps (SAM 1.6, section 1.4: a clip's bases are in SEQ, its place on
the reference is implied), so a germline allele or a repeat hidden in a clip is seen.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace

import numpy as np
from genoscrub.audit_sites import GermlineSites, Reference, Region

# CIGAR operations (SAM 1.6, section 1.4): which consume the reference, which the read.
MATCH, INSERTION, DELETION, SKIP, SOFT_CLIP, HARD_CLIP, PADDING, EQUAL, DIFFERENT = range(9)
CONSUMES_REFERENCE = frozenset({MATCH, DELETION, SKIP, EQUAL, DIFFERENT})
CONSUMES_QUERY = frozenset({MATCH, INSERTION, SOFT_CLIP, EQUAL, DIFFERENT})
ALIGNED = frozenset({MATCH, EQUAL, DIFFERENT})
N_RUNS = re.compile(b"N+")
WINDOW_LIMIT = 400
"""Bases compared on each side of an indel (a long read needs no more to tell the haplotypes
apart), and how far from the site a read's gap may write it along its repeat."""


@dataclass
class AlignedRead:
    """A read's place on the reference: ``blocks`` are ``(reference start, query start, length)``
    of aligned bases and of soft clips laid out beside them; ``insertions`` are
    ``(reference position before which, query start, length)``."""

    contig: str
    start: int
    end: int
    sequence: bytes
    blocks: list[tuple[int, int, int]]
    insertions: list[tuple[int, int, int]]
    operations: tuple[tuple[int, int], ...] = ()
    """The CIGAR as read, clips and padding included (``length_shown_in_regions``)."""

    @classmethod
    def from_cigar(cls, contig: str, start: int, cigar: list[tuple[int, int]], sequence: bytes) -> AlignedRead:
        blocks: list[tuple[int, int, int]] = []
        insertions: list[tuple[int, int, int]] = []
        reference, query = start, 0
        operations = [(op, length) for op, length in cigar if op not in (HARD_CLIP, PADDING)]
        for index, (op, length) in enumerate(operations):
            if op in ALIGNED:
                blocks.append((reference, query, length))
            elif op == SOFT_CLIP:
                if index == 0 and len(operations) > 1:
                    blocks.append((reference - length, query, length))  # laid out before the alignment
                else:
                    blocks.append((reference, query, length))
            elif op == INSERTION:
                insertions.append((reference, query, length))
            if op in CONSUMES_REFERENCE:
                reference += length
            if op in CONSUMES_QUERY:
                query += length
        return cls(contig, start, reference, sequence, blocks, insertions, tuple(cigar))

    def query_at(self, position: int) -> int | None:
        """The query offset of the base laid at reference ``position``, or None (deleted, outside,
        or beyond a SEQ shorter than its CIGAR says)."""
        for reference, query, length in self.blocks:
            if reference <= position < reference + length:
                offset = query + position - reference
                return offset if offset < len(self.sequence) else None
        return None

    @property
    def span(self) -> tuple[int, int]:
        """Reference span with the clips laid out."""
        starts = [reference for reference, _, _ in self.blocks] or [self.start]
        ends = [reference + length for reference, _, length in self.blocks] or [self.end]
        return min(min(starts), self.start), max(max(ends), self.end)


def equals_resolved(read: AlignedRead, reference: Reference, reference_contig: str) -> AlignedRead:
    """The read with every ``=`` in SEQ laid on the reference (aligned, or in a clip laid beside
    the alignment) replaced by the reference base there.

    SAM 1.6, section 1.4 (field 10): ``=`` is a base identical to the reference base; ``samtools
    calmd -e`` writes every matching base so, and BAM stores it as base code 0. Compared byte for
    byte it fits neither haplotype of an indel, so a read of a germline deletion written that
    way would carry nothing; read as the base it stands for it gives the findings the same read
    written with its bases gives. An ``=`` with no reference base under it (an insertion, past
    the contig's end) stays, a kept base that matches nothing."""
    if b"=" not in read.sequence:
        return read
    sequence = bytearray(read.sequence)
    for reference_start, query, length in read.blocks:
        at = sequence.find(b"=", query, query + length)
        if at < 0:
            continue
        low = max(reference_start, 0)
        bases = reference.fetch(reference_contig, low, reference_start + length)
        while at >= 0:
            position = reference_start + at - query
            if low <= position < low + len(bases):
                sequence[at] = bases[position - low]
            at = sequence.find(b"=", at + 1, query + length)
    return replace(read, sequence=bytes(sequence))


def mismatches(read: bytes, haplotype: bytes) -> int:
    """Positions where two equal-length strings differ, an N in the read matching anything.

    Every difference is counted at once: the two read as one integer each, XORed, and the bytes
    of the result that are not zero counted (a few calls into C, where a loop over the bytes
    pairs took 20 to 40 us for a read); then, for each run of Ns in the read (a masked region: a
    few runs at most), the differences it was counted for are taken back."""
    length = min(len(read), len(haplotype))
    differences = int.from_bytes(read[:length], "little") ^ int.from_bytes(haplotype[:length], "little")
    found = length - differences.to_bytes(length, "little").count(0)
    if 78 in read:
        for run in N_RUNS.finditer(read, 0, length):
            found -= run.end() - run.start() - haplotype.count(b"N", run.start(), run.end())
    return found


def trimmed(start: int, ref: bytes, alt: bytes) -> tuple[int, bytes, bytes]:
    """REF and ALT less the bases they share at the start, then at the end, and where what is
    left of them starts: ``(1000, TC, T)`` is ``(1001, C, "")``, the deletion of a C."""
    shared = 0
    while shared < min(len(ref), len(alt)) and ref[shared] == alt[shared]:
        shared += 1
    ref, alt = ref[shared:], alt[shared:]
    tail = 0
    while tail < min(len(ref), len(alt)) and ref[-1 - tail] == alt[-1 - tail]:
        tail += 1
    return start + shared, ref[: len(ref) - tail], alt[: len(alt) - tail]


def same_bases(read: bytes, expected: bytes) -> bool:
    """Equal, an N in the read matching anything (a masked base hides no length), and an N of
    the allele too (a symbolic ``<INS>``'s bases, unknown: ``audit_sites.VariantList.sequence_record``)."""
    return len(read) == len(expected) and all(a == b or a == 78 or b == 78 for a, b in zip(read, expected, strict=True))


@dataclass(frozen=True)
class Gap:
    """One insertion, deletion or skip of a read's CIGAR: ``position`` is the reference
    position before which it inserts, or where it starts deleting; ``query`` the query
    offset there (of its first base, for an insertion)."""

    op: int
    position: int
    query: int
    length: int


def gaps(read: AlignedRead) -> list[Gap]:
    """The insertions, deletions and skips of the read's CIGAR, in order."""
    found = []
    reference, query = read.start, 0
    for op, length in read.operations:
        if op in (INSERTION, DELETION, SKIP):
            found.append(Gap(op, reference, query, length))
        if op in CONSUMES_REFERENCE:
            reference += length
        if op in CONSUMES_QUERY:
            query += length
    return found


def slide(bases: bytes, at: int, size: int, inserted: bytes) -> tuple[int, int]:
    """How far a trimmed indel at ``bases[at]`` (deleting ``size`` bases, or inserting
    ``inserted``) may move left and right along its repeat and write one haplotype: the
    placements an aligner may choose."""
    left = right = 0
    if inserted:
        turn = inserted
        while at - 1 - left >= 0 and bases[at - 1 - left] == turn[-1]:
            turn = turn[-1:] + turn[:-1]
            left += 1
        turn = inserted
        while at + right < len(bases) and bases[at + right] == turn[0]:
            turn = turn[1:] + turn[:1]
            right += 1
        return left, right
    while at - 1 - left >= 0 and at + size - 1 - left < len(bases) and bases[at - 1 - left] == bases[at + size - 1 - left]:
        left += 1
    while at + size + right < len(bases) and bases[at + size + right] == bases[at + right]:
        right += 1
    return left, right


def cigar_writes_allele(
    read: AlignedRead, read_gaps: list[Gap], bases: bytes, offset: int, at: int, deleted: bytes, inserted: bytes
) -> bool:
    """Whether one of the read's gaps writes the trimmed indel (``deleted`` or ``inserted``
    at ``at``) at one of its placements along the repeat: the same kind and length, and the
    haplotype it makes the allele's (inserted bases compared, an N matching any). A skip
    counts as a deletion: an RNA aligner writes a long germline deletion so. ``bases`` are
    the reference from ``offset``. The read shows the allele so whatever its bases say."""
    for gap in read_gaps:
        if abs(gap.position - at) > WINDOW_LIMIT:
            continue
        if inserted and gap.op == INSERTION and gap.length == len(inserted):
            low, high = min(gap.position, at) - offset, max(gap.position, at) - offset
            if low < 0 or high > len(bases):
                continue
            if gap.position == at and (gap.query == 0 or gap.query + gap.length >= len(read.sequence)):
                return True  # at a read's end no aligned base anchors the inserted ones: the length says it, as without SEQ
            shown = read.sequence[gap.query : gap.query + gap.length]
            written = bases[low : gap.position - offset] + shown + bases[gap.position - offset : high]
            allele = bases[low : at - offset] + inserted + bases[at - offset : high]
            if same_bases(written, allele):
                return True
        elif deleted and gap.op in (DELETION, SKIP) and gap.length == len(deleted):
            size = len(deleted)
            low, high = min(gap.position, at) - offset, max(gap.position, at) + size - offset
            if low < 0 or high > len(bases):
                continue
            written = bases[low : gap.position - offset] + bases[gap.position - offset + size : high]
            if written == bases[low : at - offset] + bases[at - offset + size : high]:
                return True
    return False


def cigar_carries_indel(read: AlignedRead, reference_contig: str, reference: Reference, start: int, ref: bytes, alt: bytes) -> bool:
    """Whether the read's CIGAR alone writes the insertion or deletion ``ref`` > ``alt`` at one of
    its placements along the repeat (``cigar_writes_allele``): for an alignment known only by its
    CIGAR, such as a mate's in ``MC`` (a read of N bases: inserted bases match any)."""
    at, deleted, inserted = trimmed(start, ref, alt)
    if bool(deleted) == bool(inserted):
        return False
    offset = max(0, start - 2 * WINDOW_LIMIT - len(alt))
    bases = reference.fetch(reference_contig, offset, start + len(ref) + 2 * WINDOW_LIMIT)
    return cigar_writes_allele(read, gaps(read), bases, offset, at, deleted, inserted)


def supports_alternate(read: AlignedRead, reference_contig: str, reference: Reference, start: int, ref: bytes, alt: bytes) -> bool:
    """Whether the read carries an insertion, deletion or complex allele: its CIGAR writes the
    indel at one of its placements along the repeat (``cigar_writes_allele``), or its bases
    beside the variant fit its ALT haplotype better than the REF one (``bases_fit_alternate``:
    a read that writes the allele as mismatches or in a clip)."""
    at, deleted, inserted, bases, offset, guard = allele_context(reference, reference_contig, start, ref, alt)
    read_gaps = gaps(read)
    if bool(deleted) != bool(inserted) and cigar_writes_allele(read, read_gaps, bases, offset, at, deleted, inserted):
        return True
    return bases_fit_alternate(read, read_gaps, (bases, offset), start, ref, alt, guard)


@functools.lru_cache(maxsize=1 << 12)
def allele_context(
    reference: Reference, reference_contig: str, start: int, ref: bytes, alt: bytes
) -> tuple[int, bytes, bytes, bytes, int, tuple[int, int]]:
    """What ``supports_alternate`` holds every read to for one site and allele, made once: the
    trimmed allele (``trimmed``), the reference bases about it and where they start, and the span
    where a gap may be the allele written along its repeat (``slide``, widened by the allele's
    length: an aligner may put it about that far past the repeat, with mismatches), or a complex
    allele's span widened by its length. Every read over an indel asks for the same few."""
    at, deleted, inserted = trimmed(start, ref, alt)
    offset = max(0, start - 2 * WINDOW_LIMIT - len(alt))
    bases = reference.fetch(reference_contig, offset, start + len(ref) + 2 * WINDOW_LIMIT)
    if bool(deleted) != bool(inserted):
        left, right = slide(bases, at - offset, len(deleted), inserted)
        reach = len(deleted) + len(inserted) + 1
        return at, deleted, inserted, bases, offset, (at - left - reach, at + len(deleted) + right + reach)
    reach = max(len(ref), len(alt)) + 1
    return at, deleted, inserted, bases, offset, (start - reach, start + len(ref) + reach)


def bases_fit_alternate(
    read: AlignedRead, read_gaps: list[Gap], reference: tuple[bytes, int], start: int, ref: bytes, alt: bytes, guard: tuple[int, int]
) -> bool:
    """Whether the read's bases beside a variant fit its ALT haplotype better than the REF one.

    Read rightwards from the variant's first base and leftwards from the first base after
    its REF span, base for base; either side decides if the two haplotypes differ there.
    Each side ends at the read's first gap outside ``guard`` (the reference span where a gap
    may be this allele written along its repeat): past another indel the read's bases are
    shifted against both haplotypes, and the longer side would win by that shift, not by the
    allele. ``reference``: its bases from an offset.
    """
    bases, offset = reference
    low, high = guard
    anchor = read.query_at(start)
    if anchor is not None:
        stop = min([gap.query for gap in read_gaps if gap.position >= high and gap.query >= anchor], default=len(read.sequence))
        count = min(stop - anchor, WINDOW_LIMIT)
        context = bases[start - offset : start - offset + len(ref) + count]
        if context:
            ref_side = context[:count]
            alt_side = (alt + context[len(ref) :])[:count]
            observed = read.sequence[anchor : anchor + count]
            count = min(len(observed), len(ref_side), len(alt_side))
            observed, ref_side, alt_side = observed[:count], ref_side[:count], alt_side[:count]
            if count and ref_side != alt_side and mismatches(observed, alt_side) < mismatches(observed, ref_side):
                return True
    after = start + len(ref)
    end_query = read.query_at(after)
    if end_query is None and read.span[1] == after:
        end_query = len(read.sequence)  # the read ends with the variant's last base
    if end_query:
        ends = [gap.query + (gap.length if gap.op == INSERTION else 0) for gap in read_gaps]
        begin = max([end for gap, end in zip(read_gaps, ends, strict=True) if end <= end_query and gap_end(gap) <= low], default=0)
        count = min(end_query - begin, WINDOW_LIMIT)
        context = bases[max(0, after - count - len(alt) - offset) : after - offset]
        if count > 0 and len(context) >= count:
            ref_side = context[-count:]
            alt_side = (context[: len(context) - len(ref)] + alt)[-count:]
            observed = read.sequence[end_query - count : end_query]
            if len(alt_side) == count and ref_side != alt_side:
                return mismatches(observed, alt_side) < mismatches(observed, ref_side)
    return False


def alternate_may_fit(
    reference: Reference, reference_contig: str, site: tuple[int, bytes, bytes], read_start: int, length: int, bound: int
) -> bool:
    """Whether ``bases_fit_alternate`` may find a read of one match (``length`` bases from
    ``read_start``, as many as it aligns) fitting the ALT of ``site`` (start, REF, ALT) better than
    its REF, by a bound: ``bound`` is twice the read's bases that differ from the reference plus
    its Ns. Where the two haplotypes differ, a base other than N matches one of them at most, so
    a side whose compared bases hold ``bound`` such places or more fits REF at least as well
    (``haplotype_differences``). True when not bounded (the reference ends before REF does, a
    context shorter than REF)."""
    start, ref, alt = site
    differences = haplotype_differences(reference, reference_contig, start, ref, alt)
    if differences is None:
        return True
    rightwards, leftwards, before = differences
    anchor = start - read_start
    if 0 <= anchor < length:
        count = min(length - anchor, len(rightwards) - 1)
        if count and rightwards[count] < bound:
            return True
    end_query = start + len(ref) - read_start
    if 0 < end_query <= length:
        count = min(end_query, WINDOW_LIMIT)
        context = min(before, count + len(alt))
        if before >= count:
            if context < len(ref):
                return True
            if context - len(ref) + len(alt) >= count and leftwards[count] < bound:
                return True
    return False


def alternates_may_fit_pairs(
    alleles: list[tuple[Reference, str, tuple[int, bytes, bytes]]],
    allele: np.ndarray,
    read_starts: np.ndarray,
    lengths: np.ndarray,
    bounds: np.ndarray,
) -> np.ndarray:
    """``alternate_may_fit`` of many pairs of read and allele at once: pair ``i`` holds the read
    of ``lengths[i]`` bases from ``read_starts[i]`` (bound ``bounds[i]``) to ``alleles[allele[i]]``
    (reference, its contig, and the site: start, REF, ALT). Each allele's ``haplotype_differences``
    are read once and laid end to end, so the pairs are compared as arrays, by the same rule."""
    size = len(allele)
    may_fit = np.zeros(size, dtype=bool)
    if not size:
        return may_fit
    starts, ref_lengths, alt_lengths, befores, right_at, right_counts, left_at = (np.zeros(len(alleles), dtype=np.int64) for _ in range(7))
    unbounded = np.zeros(len(alleles), dtype=bool)
    sides: list[np.ndarray] = [np.zeros(1, dtype=np.int64)]
    placed = 1
    for index, (reference, contig, (start, ref, alt)) in enumerate(alleles):
        differences = haplotype_difference_arrays(reference, contig, start, ref, alt)
        starts[index], ref_lengths[index], alt_lengths[index] = start, len(ref), len(alt)
        if differences is None:
            unbounded[index] = True
            continue
        both, right_counts[index], befores[index] = differences
        right_at[index], left_at[index] = placed, placed + right_counts[index]
        sides.append(both)
        placed += len(both)
    differing = np.concatenate(sides)
    last = placed - 1
    start, ref_length, alt_length, before = starts[allele], ref_lengths[allele], alt_lengths[allele], befores[allele]
    # rightwards from the site's first base, when the read holds it
    anchor = start - read_starts
    count = np.minimum(lengths - anchor, right_counts[allele] - 1)
    rightwards = differing[np.clip(right_at[allele] + count, 0, last)]
    may_fit |= (anchor >= 0) & (anchor < lengths) & (count != 0) & (rightwards < bounds)
    # leftwards from the base after REF, when the read holds the base before it
    end_query = start + ref_length - read_starts
    count = np.minimum(end_query, WINDOW_LIMIT)
    context = np.minimum(before, count + alt_length)
    leftwards = differing[np.clip(left_at[allele] + count, 0, last)]
    compared = (end_query > 0) & (end_query <= lengths) & (before >= count)
    may_fit |= compared & ((context < ref_length) | ((context - ref_length + alt_length >= count) & (leftwards < bounds)))
    may_fit |= unbounded[allele]
    return may_fit


def haplotype_differences(
    reference: Reference, reference_contig: str, start: int, ref: bytes, alt: bytes
) -> tuple[list[int], list[int], int] | None:
    """What ``bases_fit_alternate`` compares in a read without gaps, once a site and allele: for
    each count ``c`` of bases compared, how many of them the REF and ALT haplotypes differ at,
    read rightwards from ``start`` (the first list) and leftwards from the base after REF (the
    second; the ALT haplotype there is the bases before REF, then ALT), up to ``WINDOW_LIMIT``, the
    reference fetched as ``supports_alternate`` fetches it; then how many bases before the one
    after REF it holds. None when the reference ends before REF does."""
    differences = haplotype_difference_arrays(reference, reference_contig, start, ref, alt)
    if differences is None:
        return None
    both, rightwards, before = differences
    return both[:rightwards].tolist(), both[rightwards:].tolist(), before


@functools.lru_cache(maxsize=1 << 14)
def haplotype_difference_arrays(
    reference: Reference, reference_contig: str, start: int, ref: bytes, alt: bytes
) -> tuple[np.ndarray, int, int] | None:
    """``haplotype_differences`` as arrays, made once a site and allele: its two lists laid end to
    end in one array (read-only: callers share it), the length of the first, and its count of
    bases before the one after REF."""
    offset = max(0, start - 2 * WINDOW_LIMIT - len(alt))
    bases = reference.fetch(reference_contig, offset, start + len(ref) + 2 * WINDOW_LIMIT)
    at = start - offset
    if len(bases) < at + len(ref):
        return None
    before = bases[: at + len(ref)]
    sides = []
    for one, other in (
        (bases[at : at + WINDOW_LIMIT], alt + bases[at + len(ref) : at + len(ref) + WINDOW_LIMIT]),
        (before[::-1], (before[: at] + alt)[::-1]),
    ):
        count = min(len(one), len(other), WINDOW_LIMIT)
        differs = np.frombuffer(one[:count], dtype=np.uint8) != np.frombuffer(other[:count], dtype=np.uint8)
        side = np.zeros(count + 1, dtype=np.int64)
        np.cumsum(differs, out=side[1:])
        sides.append(side)
    both = np.concatenate(sides)
    both.flags.writeable = False
    return both, len(sides[0]), len(before)


def gap_end(gap: Gap) -> int:
    """The reference position after a gap (where an insertion is, after a deletion or skip)."""
    return gap.position + (gap.length if gap.op in (DELETION, SKIP) else 0)


def replaced_base(read: AlignedRead, position: int) -> bytes | None:
    """The read's bases standing for a reference base it deletes beside an insertion (``1I1D``,
    ``1D1I``: how some aligners write a mismatch; a skip counts as a deletion, ``1N1I``, as in
    ``cigar_writes_allele``): the deleted bases of a run of adjacent insertions, deletions and
    skips are replaced by its inserted bases, base for base when they are as many, else all of
    them for each (fail closed); None when the base is not so replaced."""
    operations = [(op, length) for op, length in read.operations if op not in (HARD_CLIP, PADDING)]
    reference, query = read.start, 0
    runs: list[list[tuple[int, int, int, int]]] = [[]]
    for op, length in operations:
        if op in (INSERTION, DELETION, SKIP):
            runs[-1].append((op, reference, query, length))
        elif runs[-1]:
            runs.append([])
        if op in CONSUMES_REFERENCE:
            reference += length
        if op in CONSUMES_QUERY:
            query += length
    for run in runs:
        deleted = [(at, length) for op, at, _, length in run if op != INSERTION]
        inserted = b"".join(read.sequence[at : at + length] for op, _, at, length in run if op == INSERTION)
        if not deleted or not inserted:
            continue
        first = deleted[0][0]
        last = deleted[-1][0] + deleted[-1][1]
        if first <= position < last:
            return inserted[position - first : position - first + 1] if len(inserted) == last - first else inserted
    return None


def mismatch_marked(read: AlignedRead, start: int, ref: bytes, alt: bytes) -> bool:
    """Whether the read's CIGAR marks with ``X`` (SAM 1.6, section 1.4: a base that differs from
    the reference) a position where an SNV or MNP's ALT differs from REF: the aligner's record
    that the read carries the allele there, whatever its bases say now (minimap2 ``--eqx``,
    pbmm2 and calmd-style tools write ``=`` and ``X``)."""
    if len(ref) != len(alt):
        return False
    positions = [start + at for at, (ref_base, alt_base) in enumerate(zip(ref, alt, strict=True)) if ref_base != alt_base]
    reference = read.start
    for op, length in read.operations:
        if op == DIFFERENT and any(reference <= position < reference + length for position in positions):
            return True
        if op in CONSUMES_REFERENCE:
            reference += length
    return False


def carried_sites(read: AlignedRead, sites: GermlineSites, candidates: list[int], with_snvs: bool) -> list[int]:
    """The candidate sites whose germline allele the read carries."""
    carried = []
    reference_contig = sites.reference_names.get(read.contig)
    for index in candidates:
        site = sites.site(index)
        for alt in site.alts:
            if len(alt) == len(site.ref):
                if not with_snvs:
                    continue
                hit = any(ref_base != alt_base and base_carried(read, site.start + offset, alt_base)
                          for offset, (ref_base, alt_base) in enumerate(zip(site.ref, alt, strict=True)))  # fmt: skip
            elif reference_contig is None:
                hit = False
            else:
                hit = supports_alternate(read, reference_contig, sites.reference, site.start, site.ref, alt)
            if hit:
                carried.append(index)
                break
    return carried


def base_carried(read: AlignedRead, position: int, alt_base: int) -> bool:
    """Whether the read has ``alt_base`` at reference ``position``: aligned or laid out in a
    clip, or inserted beside the deletion of that base (``replaced_base``)."""
    query = read.query_at(position)
    if query is not None:
        return read.sequence[query] == alt_base
    replaced = replaced_base(read, position)
    return replaced is not None and alt_base in replaced


def unmasked_regions(read: AlignedRead, regions: list[Region]) -> list[Region]:
    """The regions in which the read keeps a base other than N: aligned, clipped or inserted."""
    found = []
    for region in regions:
        kept = False
        for reference, query, length in read.blocks:
            low, high = max(reference, region.start), min(reference + length, region.end)
            if low < high and read.sequence[query + low - reference : query + high - reference].strip(b"N"):
                kept = True
                break
        if not kept:
            for position, query, length in read.insertions:
                if region.start <= position <= region.end and read.sequence[query : query + length].strip(b"N"):
                    kept = True
                    break
        if kept:
            found.append(region)
    return found


def length_shown_in_regions(read: AlignedRead, regions: list[Region]) -> list[Region]:
    """The regions in which the read's alignment shows a length whatever its bases say: an
    insertion or deletion whose span, widened by its length L on each side, overlaps the region
    or meets its edge (an aligner places an indel anywhere along a repeat, up to about its own
    length outside the repeat's catalogued edges), a skip that overlaps the region or meets its
    edge, or a clip (soft or hard) whose junction with the aligned bases lies in it or at its
    edge. A repeat's length is the distance between its flanks, and each of these moves with
    it, so masking the bases to N does not hide it."""
    points: list[int] = []
    gaps: list[tuple[int, int]] = []
    operations = read.operations
    if operations and operations[0][0] in (SOFT_CLIP, HARD_CLIP):
        points.append(read.start)
    if operations and operations[-1][0] in (SOFT_CLIP, HARD_CLIP) and len(operations) > 1:
        points.append(read.end)
    reference = read.start
    for op, length in operations:
        widen = max(1, length)
        if op == INSERTION:
            gaps.append((reference - widen, reference + widen))
        elif op == DELETION:
            gaps.append((reference - widen, reference + length + widen))
        elif op == SKIP:
            gaps.append((reference, reference + length))
        if op in CONSUMES_REFERENCE:
            reference += length
    return [
        region
        for region in regions
        if any(region.start <= point <= region.end for point in points)
        or any(low <= region.end and high >= region.start for low, high in gaps)
    ]


def length_change_reach(read: AlignedRead) -> int:
    """How far past the read's aligned span ``length_shown_in_regions`` may find a region: its
    longest insertion or deletion (at least 1 when it has one), 0 without."""
    return max((max(1, length) for op, length in read.operations if op in (INSERTION, DELETION)), default=0)
