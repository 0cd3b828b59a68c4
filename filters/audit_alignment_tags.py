"""Alignments that aux tags place on the reference, held to the regions.

A read's own CIGAR is not the only alignment a record shows. ``MC`` is the mate's CIGAR at
RNEXT and PNEXT; ``SA`` lists the other parts of a chimeric read, ``XA`` and ``XB`` (bwa)
its alternative hits, ``OA`` its original alignments, ``OC`` and ``OP`` (GATK's
IndelRealigner) its CIGAR and position before a realignment, ``cg`` (minimap2) its CIGAR again;
``R2`` holds the mate's bases, ``E2``, ``CS`` and ``cs`` the read's own (``BASE_TAGS``).
Each places a CIGAR (or bases) on the reference, and an insertion or deletion there shows a
repeat's length whatever the record's own alignment and bases say. sam-mask-regions removes
``MC`` where the mate touches a region and ``SA``, ``XA`` and ``XB`` where an alignment they
list does; with ``--germline`` every one of these tags but ``MC`` is a finding of its own
(they copy sequence or an alignment). With regions, an alignment a tag places is judged as a
read's own CIGAR is (``audit_reads.length_shown_in_regions``: an indel whose widened span
meets a region, a skip, a clip junction in one), a region finding keyed ``(aux MC)`` and so
on; ``R2``, the mate's bases, is one where the mate's footprint overlaps a region, ``E2``, ``CS``
and ``cs`` where the read's does, and so is a place without a CIGAR.

The footprint of a CIGAR at a position is the reference its read may show something of: the
aligned span with its soft clips laid out beyond it, and the span of each insertion and
deletion of L bases widened by L on each side (at least 1; ``audit_reads.length_shown_in_regions``),
one base further, so a region it only meets overlaps it. Without a CIGAR (``R2`` without
``MC``, ``OA`` of an unmapped original, ``OP`` alone) the footprint is the place widened by
the read's length each way (fail closed).

Most records carry an ``MC`` (bwa mem writes one for every mapped pair), so the tags are
settled in bulk: each value's CIGAR lengths summed in one C pass (``scan.cigar_lengths``)
bound its footprint, and only those whose bound meets a region are read one by one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
from genoscrub import scan
from genoscrub.audit_aux import integers
from genoscrub.audit_reads import DELETION, INSERTION, SOFT_CLIP, AlignedRead, length_shown_in_regions
from genoscrub.audit_sites import CONTIG_SPACING, Region, RegionList
from genoscrub.contigs import HitContigs
from genoscrub.regions import overlap_mask

OPERATION_CODES = {letter: code for code, letter in enumerate(b"MIDNSHP=X")}
REFERENCE_OPERATIONS = frozenset(OPERATION_CODES[letter] for letter in b"MDN=X")
CIGAR_TEXT = re.compile(rb"(?:[0-9]{1,9}[MIDNSHP=X])+")
CIGAR_ITEM = re.compile(rb"([0-9]+)([MIDNSHP=X])")
ALL_OPERATIONS = np.zeros(256, dtype=bool)
ALL_OPERATIONS[list(b"MIDNSHP=X")] = True
LENGTH_OPERATIONS = np.zeros(256, dtype=bool)
LENGTH_OPERATIONS[list(b"IDNSH")] = True
ENTRY_NAME = rb"([^,;\t\n]+)"
LIST_ENTRIES = {
    # name, position, strand, CIGAR (SAMtags: SA, OA); name, strand and position, CIGAR (bwa: XA, XB)
    "SA": re.compile(ENTRY_NAME + rb",([0-9]{1,10}),[+-],([0-9A-Z=*]+),"),
    "OA": re.compile(ENTRY_NAME + rb",([0-9]{1,10}),[+-],([0-9A-Z=*]+),"),
    "XA": re.compile(ENTRY_NAME + rb",[+-]([0-9]{1,10}),([0-9A-Z=*]+),"),
    "XB": re.compile(ENTRY_NAME + rb",[+-]([0-9]{1,10}),([0-9A-Z=*]+),"),
}
"""The fields of one entry of each alignment list that place it (``entry;entry;...``)."""
BASE_TAGS = ("E2", "CS", "cs")
"""Tags holding the read's own bases beside SEQ: ``E2`` the second calls, ``CS`` the colour-space
read, minimap2's ``cs`` the differences from the reference (substituted and inserted bases, and
the length of every indel). Laid over the read's place, widened by its length (their CIGAR is
not read here): bases an all-N SEQ masked there, or an indel's length, may be in them."""
PLACING_TAGS = ("MC", "R2", "OC", "OP", "cg", *BASE_TAGS, *LIST_ENTRIES)


def code(tag: str) -> int:
    return (ord(tag[0]) << 8) | ord(tag[1])


CODES = {tag: code(tag) for tag in PLACING_TAGS}
PLACING_CODES = np.zeros(1 << 16, dtype=bool)
PLACING_CODES[list(CODES.values())] = True
FLAG_MATE_UNMAPPED = 0x8


def operations_of(cigar: bytes) -> list[tuple[int, int]] | None:
    """A CIGAR string as ``(operation, length)`` pairs, or None when it is not one (``*`` too)."""
    if not CIGAR_TEXT.fullmatch(cigar):
        return None
    return [(OPERATION_CODES[letter[0]], int(length)) for length, letter in CIGAR_ITEM.findall(cigar)]


def footprint(operations: list[tuple[int, int]]) -> tuple[int, int]:
    """``(bases before the position, end after it)`` of the reference a CIGAR's read may show
    something of: soft clips laid out beside the aligned span, each indel's span widened by its
    length on each side and one base further."""
    unclipped = [item for item in operations if item[0] != OPERATION_CODES[ord("H")]]
    lead = unclipped[0][1] if unclipped and unclipped[0][0] == SOFT_CLIP else 0
    trail = unclipped[-1][1] if len(unclipped) > 1 and unclipped[-1][0] == SOFT_CLIP else 0
    reference = 0
    low, high = -lead, 0
    for op, length in operations:
        widen = max(1, length)
        if op == INSERTION:
            low, high = min(low, reference - widen - 1), max(high, reference + widen + 1)
        elif op == DELETION:
            low, high = min(low, reference - widen - 1), max(high, reference + length + widen + 1)
        if op in REFERENCE_OPERATIONS:
            reference += length
    return -low, max(high, max(1, reference) + trail)


class Placed:
    """The alignments a block's tags place: record row, tag code, global position, CIGAR span
    in the block (-1 without one) and, without a CIGAR, how far the place is widened."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(
        self, rows: np.ndarray, codes: np.ndarray, places: np.ndarray, starts: np.ndarray, ends: np.ndarray, widths: np.ndarray
    ) -> None:
        if len(rows):
            self.parts.append((rows, codes, places, starts, ends, widths))

    def arrays(self) -> tuple[np.ndarray, ...]:
        return tuple(np.concatenate([part[index] for part in self.parts]).astype(np.int64) for index in range(6))


def alignments_in_regions(
    buffer: bytes,
    data: np.ndarray,
    references: list[str],
    fields: dict[str, np.ndarray],
    mates: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    tags: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    regions: RegionList,
) -> list[tuple[int, str, Region | None]]:
    """``(row, tag, region)`` of each record's tag whose alignment overlaps a region (the first);
    region None for an ``R2`` whose mapped mate's place is not given, and for a list's entry on a
    contig the header cannot place under any spelling (``contigs.HitContigs``; fail closed).

    ``fields`` are the block's fixed fields by name (``ref_id``, ``pos``, ``flag``,
    ``sequence_lengths``, ``reference_lengths``), ``mates`` gives RNEXT and PNEXT of the rows
    asked for; ``tags`` are its aux fields (record, code, type, value start and end)."""
    records, codes, types, starts, ends = tags
    wanted = PLACING_CODES[codes]
    if not wanted.any():
        return []
    index_of = {name: index for index, name in enumerate(references)}
    ref_id, pos = fields["ref_id"].astype(np.int64), fields["pos"].astype(np.int64)
    lengths = fields["sequence_lengths"].astype(np.int64)
    count = len(references)
    placed = Placed()
    text = types == ord("Z")
    mc = np.flatnonzero(wanted & text & (codes == CODES["MC"]))

    def at(rows: np.ndarray, tag: str, on: np.ndarray, place: np.ndarray, cigar: np.ndarray | None, width: np.ndarray) -> None:
        keep = (on >= 0) & (on < count) & (place >= 0)
        rows, on, place, width = rows[keep], on[keep], place[keep], width[keep]
        cigar_starts = starts[cigar[keep]] if cigar is not None else np.full(len(rows), -1, dtype=np.int64)
        cigar_ends = ends[cigar[keep]] if cigar is not None else cigar_starts
        if cigar is not None:
            missing = cigar[keep] < 0
            cigar_starts, cigar_ends = np.where(missing, -1, cigar_starts), np.where(missing, -1, cigar_ends)
        placed.add(rows, np.full(len(rows), CODES[tag]), (on << 32) + place, cigar_starts, cigar_ends, width)

    if len(mc):  # most records have one, most of them one aligned run (100M): it shows no length
        shown = mc[np.asarray(scan.cigar_lengths(buffer, starts[mc], ends[mc], ALL_OPERATIONS, LENGTH_OPERATIONS)) != 0]
        rows = records[shown]
        at(rows, "MC", *mates(rows), shown, lengths[rows])
    r2 = np.flatnonzero(wanted & (codes == CODES["R2"]))
    unknown: list[tuple[int, str, Region | None]] = []
    if len(r2):  # the mate's bases: at RNEXT and PNEXT by its MC; an unmapped mate's beside this read (SAM places it so)
        rows = records[r2]
        next_ref_id, next_pos = mates(rows)
        mate_cigar = np.full(len(ref_id), -1, dtype=np.int64)  # the tag index of each record's first MC:Z
        mate_cigar[records[mc][::-1]] = mc[::-1]
        mate_unmapped = (fields["flag"][rows] & FLAG_MATE_UNMAPPED) != 0
        mate_placed = (next_ref_id >= 0) & ~mate_unmapped
        erased = ~mate_placed & ~mate_unmapped  # a mapped mate whose place is not given (sam-mask-regions clears it in a region)
        unknown = [(row, "R2", None) for row in rows[erased].tolist()]
        width = np.maximum(ends[r2] - starts[r2], lengths[rows])
        on, place = np.where(mate_placed, next_ref_id, ref_id[rows]), np.where(mate_placed, next_pos, pos[rows])
        at(rows[~erased], "R2", on[~erased], place[~erased], np.where(mate_placed, mate_cigar[rows], -1)[~erased], width[~erased])
    oc = np.flatnonzero(wanted & text & (codes == CODES["OC"]))
    op = np.flatnonzero(wanted & (codes == CODES["OP"]) & (types != ord("Z")) & (types != ord("B")) & (types != ord("f")))
    original_pos = pos.copy()
    if len(op):  # the BAM integer types, read as the value checks read them
        original_pos[records[op][::-1]] = integers(data, types[op], starts[op])[::-1] - 1
    rows = records[oc]
    at(rows, "OC", ref_id[rows], original_pos[rows], oc, lengths[rows])
    lone = records[op][~np.isin(records[op], records[oc])]  # OP without OC: the CIGAR before is unknown
    at(lone, "OP", ref_id[lone], original_pos[lone], None, lengths[lone] + np.maximum(fields["reference_lengths"][lone], 0))
    cg = np.flatnonzero(wanted & text & (codes == CODES["cg"]))  # minimap2's CIGAR of the read, at its own POS
    rows = records[cg]
    at(rows, "cg", ref_id[rows], pos[rows], cg, lengths[rows])
    for tag in BASE_TAGS:
        rows = records[np.flatnonzero(wanted & (codes == CODES[tag]))]
        at(rows, tag, ref_id[rows], pos[rows], None, lengths[rows] + np.maximum(fields["reference_lengths"][rows], 0))
    hits = HitContigs(name.encode("latin-1") for name in references)
    for tag, pattern in LIST_ENTRIES.items():  # a few records list other alignments: each entry read by a pattern
        listed = np.flatnonzero(wanted & text & (codes == CODES[tag]))
        entries: list[tuple[int, int, int, int, int]] = []
        for index, record in zip(listed.tolist(), records[listed].tolist(), strict=True):
            for match in pattern.finditer(buffer, int(starts[index]), int(ends[index])):
                if match.group(1) == b"*":  # OA of an unmapped original: no place
                    continue
                on_contigs = hits.places(match.group(1))  # ``1`` in a ``chr1`` header, as samtools reheader leaves it
                if on_contigs is None:  # a contig the header cannot place: fail closed
                    unknown.append((record, tag, None))
                    continue
                for name in on_contigs:
                    entries.append((record, index_of[name.decode("latin-1")], int(match.group(2)) - 1, match.start(3), match.end(3)))
        if entries:
            rows, on, place, cigar_starts, cigar_ends = np.asarray(entries, dtype=np.int64).T
            keep = on >= 0
            placed.add(rows[keep], np.full(int(keep.sum()), CODES[tag]), (on[keep] << 32) + place[keep], cigar_starts[keep],
                       cigar_ends[keep], lengths[rows[keep]])  # fmt: skip
    if not placed.parts:
        return unknown
    rows, tag_codes, places, cigar_starts, cigar_ends, widths = placed.arrays()
    with_cigar = cigar_starts >= 0
    summed = np.zeros(len(rows), dtype=np.int64)
    shows = np.ones(len(rows), dtype=bool)  # whether an alignment may show a length (or the tag place bases)
    if with_cigar.any():
        spans = (buffer, cigar_starts[with_cigar], cigar_ends[with_cigar])
        summed[with_cigar] = np.asarray(scan.cigar_lengths(*spans, ALL_OPERATIONS, ALL_OPERATIONS))
        # a CIGAR without an insertion, deletion, skip or clip (100M, most MC values) shows no length
        length_bases = np.asarray(scan.cigar_lengths(*spans, ALL_OPERATIONS, LENGTH_OPERATIONS))
        shows[with_cigar] = (length_bases != 0) | (tag_codes[with_cigar] == CODES["R2"])
    reach = np.where(with_cigar & (summed >= 0), 2 * summed + 2, widths + 1)  # a bound of each footprint
    near = shows & overlap_mask(regions.merged_starts, regions.merged_ends, places - reach, places + reach + 1)
    found = unknown
    chosen = [array[near].tolist() for array in (rows, tag_codes, places, cigar_starts, cigar_ends, widths)]
    for row, tag_code, place, first, last, width in zip(*chosen, strict=True):
        operations = operations_of(buffer[first:last]) if first >= 0 else None
        lead, extent = footprint(operations) if operations else (width, width + 1)
        nearby = regions.regions_between(place - lead - 1, place + extent + 1)
        if operations and tag_code != CODES["R2"]:  # an alignment: the length its CIGAR shows, as a read's own
            local = place & (CONTIG_SPACING - 1)
            nearby = length_shown_in_regions(AlignedRead.from_cigar("", local, operations, b""), nearby)
        else:  # bases, or a place without a CIGAR: any overlap
            nearby = [region for region in nearby if region.end > (place & (CONTIG_SPACING - 1)) - lead
                      and region.start < (place & (CONTIG_SPACING - 1)) + extent]  # fmt: skip
        for region in nearby[:1]:
            found.append((row, bytes([tag_code >> 8, tag_code & 0xFF]).decode("latin-1"), region))
    return found


ALTERNATIVE_HITS = ("XA", "XB")
"""bwa's alternative hits: the read may come from any of them as well as from where it lies."""


def alternative_hits_in_regions(
    buffer: bytes,
    references: list[str],
    tags: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    regions: RegionList,
    names: tuple[str, ...] = ALTERNATIVE_HITS,
) -> list[tuple[int, str, Region]]:
    """``(row, tag, region)`` of each record with an ``XA`` or ``XB`` hit whose aligned span, its
    soft clips laid beside it, overlaps a region (the first such hit): the read may come from the
    region, so sam-mask-regions masks every base of it (its rule for alternative hits, judged
    there over a footprint at least this wide). The caller keeps the rows that kept a base.
    With ``names`` ``("SA",)``: the parts of a chimeric read, whose bases lie in the record's soft
    clips (sam-mask-regions masks the clips)."""
    records, codes, types, starts, ends = tags
    index_of = {name: index for index, name in enumerate(references)}
    hits = HitContigs(name.encode("latin-1") for name in references)
    found: list[tuple[int, str, Region]] = []
    for tag in names:
        listed = np.flatnonzero((codes == CODES[tag]) & (types == ord("Z")))
        for index, record in zip(listed.tolist(), records[listed].tolist(), strict=True):
            region = first_hit_in_regions(buffer, int(starts[index]), int(ends[index]), LIST_ENTRIES[tag], hits, index_of, regions)
            if region is not None:
                found.append((record, tag, region))
    return found


def first_hit_in_regions(
    buffer: bytes, start: int, end: int, pattern: re.Pattern[bytes], hits: HitContigs, index_of: dict[str, int], regions: RegionList
) -> Region | None:
    """The first region that a hit of the list at ``buffer[start:end]`` overlaps with its aligned
    span and soft clips (a hit no spelling places is ``alignments_in_regions``' finding)."""
    for match in pattern.finditer(buffer, start, end):
        on_contigs = hits.places(match.group(1))
        operations = operations_of(match.group(3))
        if on_contigs is None or operations is None:
            continue
        unclipped = [item for item in operations if item[0] != OPERATION_CODES[ord("H")]]
        lead = unclipped[0][1] if unclipped and unclipped[0][0] == SOFT_CLIP else 0
        trail = unclipped[-1][1] if len(unclipped) > 1 and unclipped[-1][0] == SOFT_CLIP else 0
        span = sum(length for op, length in operations if op in REFERENCE_OPERATIONS)
        place = int(match.group(2)) - 1
        for name in on_contigs:
            at = index_of[name.decode("latin-1")] * CONTIG_SPACING + place
            overlapping = regions.regions_between(at - lead, at + span + trail)
            if overlapping:
                return overlapping[0]
    return None

