"""A split read's supplementary record held to its primary's place: with ``--germline``.

An aligner splits a carrier's read through a germline insertion of bases copied from elsewhere
(a dispersed duplication, a retrocopy, a mobile element), a long deletion or another structural
allele: one part at the site, the other where its bases align, which for an insertion is the
copy's source, away from every germline site. A non-carrier's reads there are whole. So a
supplementary record (FLAG 0x800) whose primary record (same read name and segment, neither
0x100 nor 0x800) lies at such a site, its clips laid beside it, is a germline finding
(``SPLIT_AT_SITE``), placed at the supplementary record: sam-revert-germline removes the
supplementary records of a read split at a germline site, reading the parts in ``SA``. The sites
are those where an allele changes the length or is structural (``GermlineSites.split_starts``):
an aligner does not split a read at an SNV.

The join is by a keyed 64-bit hash of the name and segment (``audit_mates.name_hashes``, the
file's own random key), never by the names: each block adds the hashes of its supplementary
records (with their places, to report) and of its primary records at such sites; the file's
end meets them. The parts of a split read may lie on any contig, so nothing is settled early:
memory is 8 bytes a primary record at such a site (a few per cent of a genome's reads) and
24 a supplementary record. What the audit cannot see: a primary left at the source whose
supplementary record at the site was removed (a read of one record, whose clip at the source is
no site's), and the parts named by an ``SA`` the reverter removed (``SA`` left in the file is a
finding of its own with ``--germline``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from genoscrub.audit_mates import KEY_WORDS, SEGMENTS, mix, name_hashes

SUPPLEMENTARY = 0x800
NOT_PRIMARY = 0x900
UNMAPPED = 0x4
SPLIT_AT_SITE = "supplementary record of a read split at a germline site"
"""The germline finding of a supplementary record whose primary lies at a germline site where an
allele changes the length or is structural."""
SEGMENT_WORD = KEY_WORDS - 4
"""The key's word that mixes the segment in: one no name hash (the words of a name, then
``KEY_WORDS - 3``) nor ``audit_mates.described`` (the last two) uses."""
COMPACT_AT = 1 << 22
"""Hashes of primary records held in pieces before they are joined into one sorted array."""


@dataclass
class SplitJoin:
    """What the blocks leave of the join of supplementary records with their primaries: the
    supplementary records' hashes and places (RNAME index, POS), and the hashes of the primary
    records at a site where a read may be split. Workers fill their own; the parent merges them
    (``merge``) and settles the file at its end (``settle``)."""

    supplementary: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    at_sites: list[np.ndarray] = field(default_factory=list)
    held: int = 0

    def add(self, supplementary: tuple[np.ndarray, np.ndarray, np.ndarray], at_sites: np.ndarray) -> None:
        if len(supplementary[0]):
            self.supplementary.append(supplementary)
        if len(at_sites):
            self.at_sites.append(at_sites)
            self.held += len(at_sites)
            if self.held > COMPACT_AT and len(self.at_sites) > 1:
                self.at_sites = [np.unique(np.concatenate(self.at_sites))]
                self.held = len(self.at_sites[0])

    def merge(self, other: SplitJoin) -> None:
        for columns in other.supplementary:
            self.add(columns, np.zeros(0, dtype=np.uint64))
        for hashes in other.at_sites:
            self.add((np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)), hashes)

    def settle(self, examples: int) -> tuple[list[tuple[int, int]], int]:
        """The file is read: the first ``examples`` places (RNAME index, POS) of the supplementary
        records whose primary lies at such a site, and their count."""
        found: tuple[list[tuple[int, int]], int] = ([], 0)
        if self.supplementary and self.at_sites:
            hashes, ref_id, pos = (np.concatenate(parts) for parts in zip(*self.supplementary, strict=True))
            met = np.isin(hashes, np.concatenate(self.at_sites))
            first = np.flatnonzero(met)[:examples]
            found = (list(zip(ref_id[first].tolist(), pos[first].tolist(), strict=True)), int(met.sum()))
        self.supplementary, self.at_sites, self.held = [], [], 0
        return found


def keyed_parts(data: np.ndarray, name_starts: np.ndarray, name_lengths: np.ndarray, flags: np.ndarray, key: np.ndarray) -> np.ndarray:
    """A keyed hash of each record's read name and segment (0x40, 0x80): the parts of one read
    share it, its mate's parts have another."""
    names = name_hashes(data, name_starts, name_lengths, key)
    return mix(names ^ (flags & SEGMENTS).astype(np.uint64), key[SEGMENT_WORD])


def split_parts(
    data: np.ndarray, flags: np.ndarray, name_starts: np.ndarray, name_lengths: np.ndarray, ref_id: np.ndarray, pos: np.ndarray,
    at_site: np.ndarray, key: np.ndarray,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """A block's part of the join: the supplementary records (mapped) with their places, and the
    primary records ``at_site`` (a mask: mapped, footprint over a site where a read may split)."""
    flags = flags.astype(np.int64)
    mapped = (flags & UNMAPPED) == 0
    supplementary = np.flatnonzero(mapped & ((flags & SUPPLEMENTARY) != 0))
    primary = np.flatnonzero(at_site & mapped & ((flags & NOT_PRIMARY) == 0))
    rows = np.concatenate([supplementary, primary])
    hashes = keyed_parts(data, name_starts[rows], name_lengths[rows], flags[rows], key) if len(rows) else np.zeros(0, dtype=np.uint64)
    count = len(supplementary)
    return (hashes[:count], ref_id[supplementary].astype(np.int64), pos[supplementary].astype(np.int64)), hashes[count:]
