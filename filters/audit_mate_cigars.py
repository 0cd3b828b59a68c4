"""A mate's CIGAR (``MC``), and minimap2's own (``cg``), held to the germline list.

``MC`` is the mate's CIGAR, placed at RNEXT and PNEXT. sam-revert-germline rewrites the CIGAR
of a read that carries a germline insertion or deletion and the ``MC`` of its mate with it; a
step that changed the one and not the other (or copied ``MC`` from the raw file) leaves
``MC:Z:38M2D62M`` beside a mate now written ``100M``: the record still says that the mate
deletes those bases, the germline allele. With ``--germline``, every ``MC`` with an insertion,
deletion or skip is laid at its mate's place and held to the list's indels as a read's own
CIGAR is (``audit_reads.cigar_carries_indel``: the same kind and length at one of the allele's
placements along its repeat); one that writes one is a germline finding keyed by the site and
``(aux MC)``. An ``X`` (a base that differs from the reference, minimap2 ``--eqx``) over a
position where a listed SNV or MNP's ALT differs from REF marks the carrier as the read's own
``X`` does (``audit_reads.mismatch_marked``): ``MC:Z:20=1X29=`` for a mate over the SNV. ``cg``
(minimap2's CIGAR of the record, placed at its own RNAME and POS) is held to both rules the same
way, keyed ``(aux cg)``. Most values are one aligned run (``100M``): one C pass over the block's
values (``scan.cigar_lengths``) settles them; only those with an indel, skip or ``X`` near a
listed site are read one by one. A clip in ``MC`` or ``cg`` whose bases, laid beside the
alignment, cover a site is held to the clip rule of the read's own CIGAR
(``audit_bam.CLIP_AT_SITE``, keyed ``(aux MC)`` or ``(aux cg)``): the mate's record may have left
the file while its ``MC`` stayed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
from genoscrub import scan
from genoscrub.audit_alignment_tags import ALL_OPERATIONS, operations_of
from genoscrub.audit_reads import (
    CONSUMES_QUERY,
    CONSUMES_REFERENCE,
    HARD_CLIP,
    SOFT_CLIP,
    WINDOW_LIMIT,
    AlignedRead,
    cigar_carries_indel,
    mismatch_marked,
)
from genoscrub.audit_sites import CONTIG_SPACING, GermlineSites
from genoscrub.regions import overlap_mask

MATE_CIGAR = (ord("M") << 8) | ord("C")
MINIMAP2_CIGAR = (ord("c") << 8) | ord("g")
INDEL_OPERATIONS = np.zeros(256, dtype=bool)
INDEL_OPERATIONS[list(b"IDN")] = True
MISMATCH_OPERATIONS = np.zeros(256, dtype=bool)
MISMATCH_OPERATIONS[ord("X")] = True
CLIP_OPERATIONS = np.zeros(256, dtype=bool)
CLIP_OPERATIONS[list(b"SH")] = True
CLIPS = (SOFT_CLIP, HARD_CLIP)


def placed_values(
    chosen: np.ndarray, records: np.ndarray, mates: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], sites: GermlineSites
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Of the ``chosen`` tag values, those ``mates`` places on a contig of ``sites``: the values,
    their records' rows, the contig indexes and the 0-based places."""
    rows = records[chosen]
    if not len(rows):
        return chosen, rows, rows, rows
    on, place = mates(rows)
    placed = (on >= 0) & (on < len(sites.names)) & (place >= 0)
    return chosen[placed], rows[placed], on[placed], place[placed]


def mate_cigars_carrying_indels(
    buffer: bytes,
    tags: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    mates: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    sites: GermlineSites,
    code: int = MATE_CIGAR,
) -> list[tuple[int, int]]:
    """``(row, site)`` of each record whose ``MC:Z`` (or the tag of ``code``) writes a germline
    insertion or deletion of ``sites``, or marks an SNV or MNP base of one with ``X``, at the
    place ``mates`` gives for the rows asked for (RNEXT and PNEXT for ``MC``; RNAME and POS for
    ``cg``); ``tags`` are the block's aux fields (record, code, type, value start and end)."""
    records, codes, types, starts, ends = tags
    mc = np.flatnonzero((codes == code) & (types == ord("Z")))
    if not len(mc):
        return []
    # one pass over every value first (most, 100M, have neither); a value off the CIGAR grammar (-1) is the grammar check's finding
    mc = mc[np.asarray(scan.cigar_lengths(buffer, starts[mc], ends[mc], ALL_OPERATIONS, INDEL_OPERATIONS | MISMATCH_OPERATIONS)) > 0]
    indel_bases = np.asarray(scan.cigar_lengths(buffer, starts[mc], ends[mc], ALL_OPERATIONS, INDEL_OPERATIONS))
    marked = np.asarray(scan.cigar_lengths(buffer, starts[mc], ends[mc], ALL_OPERATIONS, MISMATCH_OPERATIONS))
    mc = mc[((indel_bases > 0) & bool(sites.is_indel.any())) | ((marked > 0) & bool(len(sites.snv_positions)))]
    mc, rows, on, place = placed_values(mc, records, mates, sites)
    if not len(mc):
        return []
    spans = np.asarray(scan.cigar_lengths(buffer, starts[mc], ends[mc], ALL_OPERATIONS, ALL_OPERATIONS))
    reach = np.maximum(spans, 0) + WINDOW_LIMIT + 1  # a gap may write the allele up to WINDOW_LIMIT from its site
    low = (on << 32) + place - WINDOW_LIMIT - 1
    near = overlap_mask(sites.span_starts, sites.span_ends, low, (on << 32) + place + reach)
    found: list[tuple[int, int]] = []
    for index, row, contig, start in zip(mc[near].tolist(), rows[near].tolist(), on[near].tolist(), place[near].tolist(), strict=True):
        operations = operations_of(buffer[starts[index] : ends[index]])
        if operations is None:
            continue
        name = sites.names[contig]
        reference_contig = sites.reference_names.get(name)
        mate = AlignedRead.from_cigar(name, start, operations, b"N" * sum(length for op, length in operations if op in CONSUMES_QUERY))
        global_start = contig * CONTIG_SPACING + start
        candidates = sites.sites_between(global_start - WINDOW_LIMIT - 1, global_start + (mate.end - start) + WINDOW_LIMIT + 1)
        for site_index in candidates:
            site = sites.site(site_index)
            if any(mismatch_marked(mate, site.start, site.ref, alt) for alt in site.alts):
                found.append((row, site_index))
                break
            if not sites.is_indel[site_index] or reference_contig is None:
                continue
            if any(cigar_carries_indel(mate, reference_contig, sites.reference, site.start, site.ref, alt) for alt in site.alts):
                found.append((row, site_index))
                break
    return found


def mate_cigar_clips_at_sites(
    buffer: bytes,
    tags: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    mates: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    sites: GermlineSites,
    code: int = MATE_CIGAR,
) -> list[int]:
    """The rows whose ``MC:Z`` (or the tag of ``code``) clips, at either end, bases that laid
    beside the alignment it places (``mates``) cover a site's span or a long symbolic allele's
    breakpoint (``GermlineSites.clip_starts``): the read's own clip rule on the mate's CIGAR.
    Values without a clip are settled by one C pass (``scan.cigar_lengths``)."""
    records, codes, types, starts, ends = tags
    mc = np.flatnonzero((codes == code) & (types == ord("Z")))
    if not len(mc) or not len(sites.clip_starts):
        return []
    clipped = np.asarray(scan.cigar_lengths(buffer, starts[mc], ends[mc], ALL_OPERATIONS, CLIP_OPERATIONS))
    mc = mc[clipped > 0]  # a value off the CIGAR grammar (-1) is the grammar check's finding
    mc, rows, on, place = placed_values(mc, records, mates, sites)
    if not len(mc):
        return []
    reach = np.maximum(np.asarray(scan.cigar_lengths(buffer, starts[mc], ends[mc], ALL_OPERATIONS, ALL_OPERATIONS)), 0) + 1
    at = on * CONTIG_SPACING + place
    near = overlap_mask(sites.clip_starts, sites.clip_ends, at - reach, at + reach)  # a bound of where its clips lie
    laid: list[tuple[int, int, int, int, int]] = []  # row, first and last reference base, clipped bases before and after
    chosen = (mc[near].tolist(), rows[near].tolist(), on[near].tolist(), place[near].tolist())
    for index, row, contig, start in zip(*chosen, strict=True):
        operations = operations_of(buffer[starts[index] : ends[index]]) or []
        first_aligned, last_aligned = 0, len(operations) - 1
        while first_aligned <= last_aligned and operations[first_aligned][0] in CLIPS:
            first_aligned += 1
        while last_aligned >= first_aligned and operations[last_aligned][0] in CLIPS:
            last_aligned -= 1
        if first_aligned > last_aligned:
            continue  # all clip (or unreadable): no alignment to lay them beside
        lead = sum(length for _, length in operations[:first_aligned])
        trail = sum(length for _, length in operations[last_aligned + 1 :])
        begin = contig * CONTIG_SPACING + start
        laid.append((row, begin, begin + sum(length for op, length in operations if op in CONSUMES_REFERENCE), lead, trail))
    if not laid:
        return []
    row_of, first, last, leading, trailing = (np.array(column, dtype=np.int64) for column in zip(*laid, strict=True))
    at_site = partial(overlap_mask, sites.clip_starts, sites.clip_ends)
    hit = ((leading > 0) & at_site(first - leading, first)) | ((trailing > 0) & at_site(last, last + trailing))
    return row_of[hit].tolist()
