"""A record's mate fields held to its mate: TLEN to both reads' spans, PNEXT to the mate record, the mate's presence.

sam-revert-germline moves a read's start (a left clip given back) and its end (the length rule),
and TLEN, PNEXT and the mate's ``MC`` follow; a read it removes takes its mate's pairing with it
(the mate unpaired). Each shows the genotype where a step did not follow: a TLEN off by the
allele's length, a PNEXT at the old clipped start (where only carriers' reads start), a read left
paired with a mate record that is not in the file (the carriers' fragments at a site). So, for
the primary records of pairs (FLAG 0x1, neither 0x100 nor 0x800):

- TLEN (``template_length_misses``), a check of one record: where the record and its mate are
  mapped on one contig and ``MC`` gives the mate's CIGAR, |TLEN| must be the template's outer span,
  leftmost aligned base to rightmost (SAM 1.6, section 1.4, field 9), the mate's from PNEXT and
  ``MC``; aligners that measure from the reads' 5' ends (bwa, ``samtools fixmate``) give the same
  for a pair facing each other, and their value is taken too for other orientations. TLEN 0
  (unavailable) passes.
- PNEXT and the mate's presence (``MateJoin``), a join by read name in bounded memory: each record
  is reduced to a 64-bit keyed hash of its name (one C pass, ``scan.keyed_name_hashes``; a fresh
  random key each run, so no delivery can be made to cancel), its segment (0x40, 0x80), its place
  and the place it gives its mate (RNEXT, PNEXT). The two records of a pair in one block of records
  are joined there, by sorting the hashes in numpy; a record
  whose mate is in another block and near (on its contig within ``NEAR`` bases, or whose mate's
  place was made unavailable, RNEXT ``*`` with 0x8 unset) waits in a table until its mate comes
  (in a coordinate-sorted file, within the next block); the rest (mates on other contigs, or far)
  go into a sum of keyed hashes per pair of contigs (the record's and its mate's), each record
  adding what it is and taking away what it says of its mate, which is 0 at the end where every
  claim meets its record. A PNEXT that is not the mate record's POS is a finding at the record; a
  record with ``MC`` whose mate is absent (left waiting at the end) is one too, and a sum not 0 is
  one at its pair of contigs, where the file holds records on both (a file cut to one chromosome
  has the mates of its pairs across contigs elsewhere). A record without
  ``MC`` may be left paired by the reverter (it cannot learn that its mate went) and is not held
  to its mate's presence; one whose mate's place was made unavailable has no PNEXT to hold.

And a base written ``=`` (BAM code 0): sam-revert-germline writes every read plain, so reads left
``=`` beside plain ones would mark the reads it rewrote (``NO_EQUALS_PAIRS``, for the C pass over
SEQ that ``audit_bam`` shares with the forbid search).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
from genoscrub import scan

FLAG_PAIRED = 0x1
FLAG_UNMAPPED = 0x4
FLAG_MATE_UNMAPPED = 0x8
FLAG_REVERSE = 0x10
FLAG_MATE_REVERSE = 0x20
SEGMENTS = 0xC0
NOT_PRIMARY = 0x900
MATE_CIGAR = (ord("M") << 8) | ord("C")
NEAR = 1 << 20
"""How far (bases, on one contig) a record's mate may lie for the two to be joined by name; farther
mates, and mates on another contig, are held by the sums."""

ALL_OPERATIONS = np.zeros(256, dtype=bool)
ALL_OPERATIONS[list(b"MIDNSHP=X")] = True
REFERENCE_SPAN = np.zeros(256, dtype=bool)
REFERENCE_SPAN[list(b"MDN=X")] = True

TEMPLATE_LENGTH = "TLEN (not the outer span of the read and its mate's MC)"
MATE_PLACE = "PNEXT (not the mate record's POS)"
MATE_ABSENT = "paired read whose mate record is absent"
MATE_SUM = "mate fields not met by a mate record (RNEXT/PNEXT)"
EQUALS_BASE = "SEQ base written = (the scrubbers write every base)"

WORD = (1 << 64) - 1
EXAMPLES = 3
KEY_WORDS = 40  # the length and a name of up to 254 bytes (32 words), then the finalizers of names and of records
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


def run_key() -> np.ndarray:
    """A fresh key for one run: odd 64-bit multipliers, from the system's random source."""
    return np.frombuffer(os.urandom(8 * KEY_WORDS), dtype=np.uint64) | np.uint64(1)


def mix(values: np.ndarray, multiplier: np.uint64) -> np.ndarray:
    """A keyed 64-bit mixing step (a multiply by a secret odd word, then MurmurHash3's finalizer):
    a bijection each call, so two different inputs never meet in one step. Arrays wrap silently."""
    values = values * multiplier
    values ^= values >> _S33
    values *= _M1
    values ^= values >> _S33
    values *= _M2
    values ^= values >> _S33
    return values


def name_hashes(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray, key: np.ndarray) -> np.ndarray:
    """A keyed 64-bit hash of each read name (``lengths`` bytes from ``starts`` in ``data``), in
    one C pass (``scan.keyed_name_hashes``: each 8 bytes of a name mixed in with its own secret
    multiplier, the whole finished by MurmurHash3's finalizer); a name hashes alike in any block."""
    return scan.keyed_name_hashes(data, starts, starts + lengths, key)


def place_numbers(ref_id: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """RNAME and POS (or RNEXT and PNEXT) as one number; -1 and -1 (unplaced) as 0."""
    return (((ref_id.astype(np.int64) + 1) << 32) + (pos.astype(np.int64) + 1)).astype(np.uint64)


def described(names: np.ndarray, segments: np.ndarray, at: np.ndarray, key: np.ndarray) -> np.ndarray:
    """A keyed hash of a record as its mate should see it: name, segment and place."""
    return mix(mix(names ^ segments.astype(np.uint64), key[KEY_WORDS - 2]) ^ at, key[KEY_WORDS - 1])


def mate_segments(segments: np.ndarray) -> np.ndarray:
    """The segment flags (0x40, 0x80) a record's mate has: the two swapped."""
    return ((segments & 0x40) << 1) | ((segments & 0x80) >> 1)


@dataclass
class MateJoin:
    """What the blocks leave of the join: records waiting for a mate in another block (columns:
    name hash, segment, own place, place given the mate, place made unavailable, has ``MC``,
    RNAME and POS to report at), PNEXTs found missing their mate when joined late, the sums per
    pair of contigs (a record's and its mate's, both records of a pair adding to one) and the
    contigs the file holds records on. Workers fill their own; the parent merges them
    (``merge``) and settles the file at its end (``settle``)."""

    waiting: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    found: list[tuple[int, int]] = field(default_factory=list)
    sums: dict[int, int] = field(default_factory=dict)
    contigs: set[int] = field(default_factory=set)

    def add_waiting(self, columns: tuple[np.ndarray, ...]) -> None:
        if len(columns[0]):
            self.waiting.append(columns)
        if len(self.waiting) > 64:
            self.waiting = self.join_waiting()

    def add_contigs(self, ref_id: np.ndarray) -> None:
        """The contigs of a block's records (read where they change: a sorted block has few)."""
        if len(ref_id):
            self.contigs.update(ref_id[np.r_[0, np.flatnonzero(ref_id[1:] != ref_id[:-1]) + 1]].tolist())

    def add_sums(self, contigs: np.ndarray, mate_contigs: np.ndarray, values: np.ndarray) -> None:
        """``values`` summed by the pair of contigs each is given with (in either order)."""
        if not len(contigs):
            return
        low, high = np.minimum(contigs, mate_contigs) + 1, np.maximum(contigs, mate_contigs) + 1
        keys = (low << 32) | high
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], values[order]
        firsts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        totals = np.add.reduceat(values, firsts)
        for key, total in zip(keys[firsts].tolist(), totals.tolist(), strict=True):
            self.sums[key] = (self.sums.get(key, 0) + total) & WORD

    def merge(self, other: MateJoin) -> None:
        self.found.extend(other.found)
        self.contigs |= other.contigs
        for key, total in other.sums.items():
            self.sums[key] = (self.sums.get(key, 0) + total) & WORD
        for columns in other.waiting:
            self.add_waiting(columns)

    def join_waiting(self) -> list[tuple[np.ndarray, ...]]:
        """The waiting records joined among themselves: pairs met are held to each other (a PNEXT
        that misses kept in ``found``); the rest wait on, as one set of columns."""
        if not self.waiting:
            return []
        columns = [np.concatenate(parts) for parts in zip(*self.waiting, strict=True)]
        rest, misses = pair_up(*columns[:5])
        self.found.extend(zip(columns[6][misses].tolist(), columns[7][misses].tolist(), strict=True))
        return [tuple(column[rest] for column in columns)] if len(rest) else []

    def settle(self) -> list[tuple[str, list[tuple[int, int]], int]]:
        """The file is read: its findings, each a key, the first places (RNAME and POS; for a sum,
        the pair of contigs as ``(contig, -2 - mate's contig)``) and a count: PNEXTs found missing
        their mate, records with ``MC`` still waiting (their mate absent), and sums not 0 over two
        contigs the file holds records on (a file cut to some contigs has its mates elsewhere)."""
        waiting = self.join_waiting()
        found: list[tuple[str, list[tuple[int, int]], int]] = []
        if self.found:
            found.append((MATE_PLACE, self.found[:EXAMPLES], len(self.found)))
        if waiting:
            with_mate_cigar, ref_id, pos = waiting[0][5], waiting[0][6], waiting[0][7]
            if with_mate_cigar.any():
                first = np.flatnonzero(with_mate_cigar)[:EXAMPLES]
                examples = list(zip(ref_id[first].tolist(), pos[first].tolist(), strict=True))
                found.append((MATE_ABSENT, examples, int(with_mate_cigar.sum())))
        unmet = []
        for key, total in sorted(self.sums.items()):
            low, high = (key >> 32) - 1, (key & 0xFFFFFFFF) - 1
            if total and low in self.contigs and high in self.contigs:
                unmet.append((low, -2 - high))
        if unmet:
            found.append((MATE_SUM, unmet[:EXAMPLES], len(unmet)))
        self.waiting, self.found, self.sums, self.contigs = [], [], {}, set()
        return found


def pair_up(
    names: np.ndarray, segments: np.ndarray, own: np.ndarray, claimed: np.ndarray, cleared: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Records joined by name hash: a name with one record of each segment is a pair, each held to
    the other (its PNEXT the mate's place, unless its own was made unavailable). Returns the rows
    left unjoined and the rows whose PNEXT misses their mate."""
    count = len(names)
    if count < 2:
        return np.arange(count), np.zeros(0, dtype=np.int64)
    order = np.argsort(names)
    ordered = names[order]
    same = np.zeros(count + 1, dtype=bool)
    same[1:-1] = ordered[1:] == ordered[:-1]  # same[i]: record i of the order shares its name with record i - 1
    first = np.flatnonzero(same[1:-1] & ~same[:-2] & ~same[2:])  # two records with one name, no third
    a, b = order[first], order[first + 1]
    pair = mate_segments(segments[a]) == segments[b]
    a, b = a[pair], b[pair]
    joined = np.zeros(count, dtype=bool)
    joined[a] = True
    joined[b] = True
    a_misses = a[(claimed[a] != own[b]) & ~cleared[a]]
    b_misses = b[(claimed[b] != own[a]) & ~cleared[b]]
    return np.flatnonzero(~joined), np.concatenate([a_misses, b_misses])


def template_length_misses(
    buffer: bytes, flag: np.ndarray, ref_id: np.ndarray, pos: np.ndarray, reference_lengths: np.ndarray,
    next_ref_id: np.ndarray, next_pos: np.ndarray, template_lengths: np.ndarray, mate_cigars: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> np.ndarray:
    """Rows whose TLEN is neither the outer span of the read and its mate (PNEXT and ``MC``) nor the
    distance of their 5' ends, for the primary records of pairs mapped on one contig with an ``MC``
    (``mate_cigars``: the rows, and the value spans in ``buffer``). TLEN 0 passes."""
    rows, starts, ends = mate_cigars
    if not len(rows):
        return rows
    flags, own_ref = flag[rows], ref_id[rows]
    chosen = ((flags & (FLAG_PAIRED | FLAG_UNMAPPED | FLAG_MATE_UNMAPPED | NOT_PRIMARY)) == FLAG_PAIRED) & (own_ref >= 0)
    chosen &= (next_ref_id[rows] == own_ref) & (template_lengths[rows] != 0)
    rows, starts, ends = rows[chosen], starts[chosen], ends[chosen]
    if not len(rows):
        return rows
    mate_span = np.asarray(scan.cigar_lengths(buffer, starts, ends, ALL_OPERATIONS, REFERENCE_SPAN))
    own_start, mate_start = pos[rows], next_pos[rows]
    own_end = own_start + np.maximum(reference_lengths[rows], 1)
    mate_end = mate_start + mate_span
    length = np.abs(template_lengths[rows])
    outer = np.maximum(own_end, mate_end) - np.minimum(own_start, mate_start)
    odd = (length != outer) & (mate_span > 0)  # an MC off the grammar (-1) is that check's finding
    if not odd.any():
        return rows[:0]
    columns = (rows, own_start, own_end, mate_start, mate_end, length)
    rows, own_start, own_end, mate_start, mate_end, length = (column[odd] for column in columns)
    own_five = np.where(flag[rows] & FLAG_REVERSE, own_end - 1, own_start)
    mate_five = np.where(flag[rows] & FLAG_MATE_REVERSE, mate_end - 1, mate_start)
    apart = np.abs(mate_five - own_five)
    return rows[length != np.where(apart > 0, apart + 1, 0)]


NO_EQUALS_PAIRS = np.array([(byte >> 4) != 0 and (byte & 0xF) != 0 for byte in range(256)], dtype=np.uint8)
"""The packed bytes of two bases neither of which is ``=`` (code 0), for ``audit_bam.sequences_off``."""
