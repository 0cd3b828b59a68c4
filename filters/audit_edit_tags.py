"""MD and NM held to SEQ and the reference at germline sites.

``MD`` spells where a read differs from the reference and ``NM`` counts its edits; a step
that reverts a germline allele in SEQ but leaves them as the aligner wrote them (no
``samtools calmd``) keeps the allele in them: ``MD:Z:82C17 NM:i:1`` on a read whose bases
all match says it differed at the site, which on a biallelic site is the ALT.
sam-revert-germline and sam-mask-regions recompute both. For each read over a germline
site (with ``--germline``), the audit reads MD at each SNV or MNP position of the read
(``scan.md_bases_at``: one C pass over the pairs of read and site) and flags a mismatch
or deleted base there that SEQ does not show (its base is the reference's), or a mismatch
naming another reference base; for a read whose bases lie without gaps, a deletion in MD
(its CIGAR has none) is a finding too. NM may count no more edits than MD's letters and the
CIGAR's insertions (or, without MD, than SEQ's differences from the reference and the CIGAR's
indels: an N counts, as samtools calmd counts it) show: more, and it counted an allele SEQ no
longer holds. Fewer is no finding (an aligner may leave N out). Elsewhere MD and NM are not
compared: a step that forgot to recompute them left them stale at every changed read, so the
sites find it.
"""

from __future__ import annotations

import numpy as np
from genoscrub import scan
from genoscrub.audit_allowlist import NUCLEOTIDES
from genoscrub.audit_reads import DELETION, INSERTION, AlignedRead
from genoscrub.audit_sites import BASE_CODES

MD_CODE = (ord("M") << 8) | ord("D")
NM_CODE = (ord("N") << 8) | ord("M")
INTEGER_TYPES = np.zeros(256, dtype=bool)
INTEGER_TYPES[list(b"cCsSiI")] = True
MD_LETTERS = np.zeros(256, dtype=np.uint8)
MD_LETTERS[list((NUCLEOTIDES + NUCLEOTIDES.lower()).encode())] = 1
NO_CARET = np.ones(256, dtype=bool)
NO_CARET[ord("^")] = False
UPPER_CODES = BASE_CODES.copy()
UPPER_CODES[list(NUCLEOTIDES.lower().encode())] = BASE_CODES[list(NUCLEOTIDES.encode())]
DELETED = 256

MD_AT_SITE = "aux MD (a mismatch at a germline site SEQ does not show)"
MD_DELETION = "aux MD (a deletion its CIGAR does not have)"
NM_EDITS = "aux NM (more edits than MD, CIGAR and SEQ show)"


def first_of_each(records: np.ndarray, wanted: np.ndarray, count: int) -> np.ndarray:
    """For each of ``count`` records, the index of its first field ``wanted`` marks, -1 without."""
    first = np.full(count, -1, dtype=np.int64)
    marked = np.flatnonzero(wanted)
    first[records[marked][::-1]] = marked[::-1]
    return first


def said_at_sites(buffer: bytes, md_starts: np.ndarray, md_ends: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """What MD says at each offset (``scan.md_bases_at``): 0 a match, a letter, ``DELETED`` + a letter, -1 outside."""
    return np.asarray(scan.md_bases_at(buffer, md_starts, md_ends, MD_LETTERS, offsets), dtype=np.int64)


def stale_at_sites(said: np.ndarray, read_codes: np.ndarray, reference_codes: np.ndarray) -> np.ndarray:
    """Which pairs of read and site have an MD that says more than SEQ: a deleted base, a
    mismatch where the read has the reference base (``=`` included), or a mismatch naming a
    base the reference does not have there."""
    mismatch = (said > 0) & (said < DELETED)
    named = UPPER_CODES[np.where(mismatch, said, 0) & 0xFF]
    return (said >= DELETED) | (mismatch & ((read_codes == reference_codes) | (read_codes == 0) | (named != reference_codes)))


def mismatch_counts(buffer: bytes, data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The letters of each MD span: its mismatched and deleted bases."""
    lengths = ends - starts
    joined = np.frombuffer(scan.join_spans(buffer, starts, ends), dtype=np.uint8)
    totals = np.concatenate([[0], np.cumsum(MD_LETTERS[joined], dtype=np.int64)])
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    return totals[bounds[1:]] - totals[bounds[:-1]]


def md_offset(read: AlignedRead, position: int) -> int | None:
    """The offset of reference ``position`` among the bases the read's MD describes (its aligned
    and deleted bases, from POS), or None where the CIGAR aligns no base there (a deleted one
    is MD's ``^`` as the CIGAR says)."""
    reference, described = read.start, 0
    for op, length in read.operations:
        if op in (0, 7, 8, DELETION):  # M, =, X and D: the bases MD spells
            if reference <= position < reference + length:
                return described + position - reference if op != DELETION else None
            described += length
        if op in (0, 2, 3, 7, 8):
            reference += length
    return None


def edits(read: AlignedRead) -> int:
    """The inserted bases of the read's CIGAR (NM counts them beside MD's letters)."""
    return sum(length for op, length in read.operations if op == INSERTION)


def counted_edits(read: AlignedRead, reference: bytes) -> int:
    """The read's edits against ``reference`` (the bases from its POS on): aligned bases that
    differ (an N on either side counts, as samtools calmd counts it; ``=`` matches), and
    inserted and deleted bases. What NM may count at most."""
    count, at, query = 0, 0, 0
    sequence = read.sequence
    for op, length in read.operations:
        if op in (0, 7, 8):  # M, =, X
            for offset in range(length):
                base = sequence[query + offset : query + offset + 1].upper()
                expected = reference[at + offset : at + offset + 1].upper()
                if base != b"=" and (base != expected or base == b"N" or not base):
                    count += 1
            at += length
            query += length
        elif op in (INSERTION, 4):  # I, S
            count += length if op == INSERTION else 0
            query += length
        elif op in (DELETION, 3):  # D, N
            count += length if op == DELETION else 0
            at += length
    return count
