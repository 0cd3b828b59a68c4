"""Without the reference: an insertion or deletion that may be a listed one placed elsewhere in its repeat.

A caller may write an indel at any place along the repeat it lies in that gives the same
haplotype: ``1990 GCA G`` (left-aligned) and ``2004 ACA A`` (right-aligned) delete one ``CA``
of ``G(CA)8``. With the reference, vcf-drop-rare ``--germline -r`` moves both to the left end
(``record_alleles.left_aligned_indels``). Without it, the two could still be one haplotype, and a
germline indel would pass as somatic; so a record is taken to carry the list's indel when it
*could* be the same one (``NearbyIndels.meets``), a necessary condition, never a sufficient one:

- the same kind (both deletions or both insertions) and length L, and the sequence S' of the one
  at ``q`` is S of the one at ``p`` rotated by ``q - p`` (``S'[i] == S[(i + q - p) % L]``): the
  bases between them then repeat S, as they must. Every S is keyed by its least rotation and
  ``(p + a) % P`` (``placement_key``: ``a`` where the least rotation starts in S, P the
  smallest period of S), so two placements of one indel share a key;
- ``|q - p|`` at most ``REPEAT_REACH`` bases: longer tracts need ``-r``;
- the bases the records show beside their trimmed alleles (a REF's padding and its bases after a
  deletion, which are the reference's) agree with the repeat between them: the right one's
  bases before it, and the left one's bases after it, up to the other one, repeat S (``reach``).
  A left-aligned record, whose padding base differs from its indel's last base, can be the left
  one only. A base other than ``ACGT`` shown there agrees with anything (fail closed).

Nothing else is asked of the bases between the two (they are not in the records), so a nearby
indel of the same rotated sequence, in another repeat or in none, also meets: the safe direction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from genoscrub.alleles import GREATER, LONG_KEY, POS_DIGITS, TEXT_KEY, UPPER, Allele, indel_texts, upper
from genoscrub.record_alleles import RecordAlleles

REPEAT_REACH = 1000
"""How far apart (bases) two placements of one indel may be and still meet without the reference:
the span of a repeat tract a short-read caller can place an indel along (reads of 150 to 250 bases
must span it to place the indel at all; catalogued STRs are almost all shorter than 1 kb)."""
ANY_BASE = frozenset(b"ACGT")
SHORT_ROTATIONS = 32  # up to this length the least rotation is found by comparing every rotation

PlacementKey = tuple[bool, bytes, int]
"""A deletion or not, the least rotation of its sequence, and its phase (``placement_key``)."""


def least_rotation(bases: bytes) -> int:
    """Where the lexicographically least rotation of ``bases`` starts (Booth's algorithm, O(L))."""
    doubled = bases + bases
    failure = [-1] * len(doubled)
    start = 0
    for at in range(1, len(doubled)):
        base = doubled[at]
        back = failure[at - start - 1]
        while back != -1 and base != doubled[start + back + 1]:
            if base < doubled[start + back + 1]:
                start = at - back - 1
            back = failure[back]
        if base != doubled[start + back + 1]:
            if base < doubled[start]:  # back == -1 here
                start = at
            failure[at - start] = -1
        else:
            failure[at - start] = back + 1
    return start


def placement_key(position: int, bases: bytes, deletion: bool) -> PlacementKey:
    """One key for every placement of an indel along a repeat of its sequence: ``bases`` at
    ``position`` and ``bases`` rotated by d at ``position + d`` give the same key."""
    period = (bases + bases).find(bases, 1)  # the smallest rotation giving ``bases`` again (divides L)
    if len(bases) <= SHORT_ROTATIONS:
        start = min(range(len(bases)), key=lambda at: bases[at:] + bases[:at]) if period > 1 else 0
    else:
        start = least_rotation(bases)
    return deletion, bases[start:] + bases[:start], (position + start) % period


def reach(shown: bytes, bases: bytes, backwards: bool) -> int:
    """How far the other placement may lie on the side of ``shown`` (bases a record shows next to
    its trimmed indel, on its left when ``backwards``): the number of shown bases, from the indel
    outwards, that continue ``bases`` repeated; ``REPEAT_REACH`` when all of them do."""
    length = len(bases)
    count = len(shown)
    for step in range(count):
        base = shown[count - 1 - step] if backwards else shown[step]
        expected = bases[(-1 - step) % length] if backwards else bases[step % length]
        if base != expected and base in ANY_BASE and expected in ANY_BASE:
            return step
    return REPEAT_REACH


@dataclass(frozen=True)
class Placement:
    """A trimmed insertion or deletion as the nearby rule reads it: its key, its POS (the first
    base deleted, or the base the insertion goes before) and how far another placement of it may
    lie on its left and on its right, by the bases its record shows (``reach``)."""

    key: PlacementKey
    position: int
    left: int
    right: int


def placement(allele: Allele, record_pos: int, record_ref: bytes) -> Placement:
    """The placement of a trimmed indel ``allele`` of the record at ``record_pos`` with REF ``record_ref`` (upper case)."""
    position, ref, alt = allele
    bases = ref or alt
    head = position - record_pos
    before, after = record_ref[:head], record_ref[head + len(ref) :]
    return Placement(placement_key(position, bases, bool(ref)), position, reach(before, bases, True), reach(after, bases, False))


def text_positions(texts: np.ndarray) -> np.ndarray:
    """The POS of many ``indel_key`` texts at once, by numpy."""
    if not len(texts):
        return np.empty(0, dtype=np.int64)
    rows = np.ascontiguousarray(texts).view(np.uint8).reshape(len(texts), texts.dtype.itemsize)[:, :POS_DIGITS]
    return (rows.astype(np.int64) - ord("0")) @ (10 ** np.arange(POS_DIGITS - 1, -1, -1, dtype=np.int64))


ACGT = np.zeros(256, dtype=bool)
ACGT[list(b"ACGT")] = True


def open_on_left(texts: np.ndarray, heads: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Which ``indel_key`` texts may be the right one of two placements (``Placement.left > 0``),
    by numpy: their record shows no base before them (``heads``, how many bases of REF precede the
    trimmed indel, is 0), or the base it shows just before (``before``, upper case) continues the
    indel's sequence leftwards: it is the sequence's last base, or one of them is no ``ACGT``."""
    if not len(texts):
        return np.zeros(0, dtype=bool)
    rows = np.ascontiguousarray(texts).view(np.uint8).reshape(len(texts), texts.dtype.itemsize)
    greater = np.argmax(rows == GREATER, axis=1)
    length = np.count_nonzero(rows, axis=1)
    last = rows[np.arange(len(rows)), np.where(greater > POS_DIGITS, greater, length) - 1]
    return (heads == 0) | (before == last) | ~ACGT[before] | ~ACGT[last]


def text_allele(text: bytes) -> Allele:
    ref, _, alt = text[POS_DIGITS:].partition(b">")
    return int(text[:POS_DIGITS]), ref, alt


def indel_rows(alleles: RecordAlleles) -> tuple[np.ndarray, list[int]]:
    """Where ``alleles``' insertions and deletions (REF or ALT empty once trimmed) are among its
    keys: short ones as texts (found by numpy), long ones in ``indels``."""
    keys = alleles.keys
    rows = np.flatnonzero(keys == TEXT_KEY)
    rows = rows[indel_texts(alleles.texts[rows])]
    long_rows = [index for index, (_, ref, alt) in alleles.indels.items() if keys[index] == LONG_KEY and bool(ref) != bool(alt)]
    return rows, long_rows


SHOWN_WIDTH = 16  # a listed record's REF of up to this many bases is kept in a numpy row, a longer one as bytes


class NearbyIndels:
    """A contig's listed insertions and deletions, sorted by POS, each read as a ``Placement`` only
    when an input indel lies within ``REPEAT_REACH`` of it: most input records are SNVs, and most
    input indels have no listed indel that near, so the list is not read twice (numpy keeps the
    listed indels' texts, REF and POS; only the candidates are read in Python)."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []  # POS, text, record POS, REF
        self.long: list[tuple[Allele, int, bytes]] = []
        self.positions = np.empty(0, dtype=np.int64)
        self.texts = np.empty(0, dtype="S1")
        self.record_positions = np.empty(0, dtype=np.int64)
        self.refs = np.empty(0, dtype="S1")
        self.where = np.empty(0, dtype=np.int64)  # per sorted entry: its row in the arrays, or -1 - its index in ``long``
        self.open_positions = np.empty(0, dtype=np.int64)  # the POS of the entries open on their left (``open_on_left``)
        self.placements: dict[int, Placement] = {}

    def add(self, alleles: RecordAlleles, data: np.ndarray, text: bytes, ref_start: np.ndarray, ref_end: np.ndarray) -> None:
        """The indels of a run of listed records (``ref_start``/``ref_end``: each record's REF in ``text``)."""
        rows, long_rows = indel_rows(alleles)
        owners = alleles.owners
        if len(rows):
            owner = owners[rows]
            starts, lengths = ref_start[owner], ref_end[owner] - ref_start[owner]
            short = lengths <= SHOWN_WIDTH
            for index in rows[~short].tolist():
                row = int(owners[index])
                self.add_allele(text_allele(bytes(alleles.texts[index])), int(alleles.positions[row]), text[ref_start[row] : ref_end[row]])
            rows, starts, lengths = rows[short], starts[short], lengths[short]
            offsets = np.arange(SHOWN_WIDTH)
            # REF as written (upper-cased when read), zeros after its end
            bases = data[np.minimum(starts[:, None] + offsets, len(data) - 1)] * (offsets < lengths[:, None])
            refs = np.ascontiguousarray(bases, dtype=np.uint8).view(f"S{SHOWN_WIDTH}").ravel()
            texts = alleles.texts[rows]
            self.parts.append((text_positions(texts), texts, alleles.positions[owners[rows]], refs))
        for index in long_rows:
            row = int(owners[index])
            self.add_allele(alleles.indels[index], int(alleles.positions[row]), text[ref_start[row] : ref_end[row]])

    def add_allele(self, allele: Allele, record_pos: int, record_ref: bytes) -> None:
        """One trimmed indel of the listed record at ``record_pos`` with REF ``record_ref``."""
        self.long.append((allele, record_pos, upper(record_ref)))

    def sort(self) -> None:
        """Index what was added (call once, after the last ``add``)."""
        parts = self.parts
        positions = np.concatenate([part[0] for part in parts] + [np.array([allele[0] for allele, _, _ in self.long], dtype=np.int64)])
        if parts:
            width = max(part[1].dtype.itemsize for part in parts)
            self.texts = np.concatenate([part[1].astype(f"S{width}") for part in parts])
            self.record_positions = np.concatenate([part[2] for part in parts])
            self.refs = np.concatenate([part[3] for part in parts])
        where = np.concatenate((np.arange(len(self.texts), dtype=np.int64), -1 - np.arange(len(self.long), dtype=np.int64)))
        order = np.argsort(positions, kind="stable")
        self.positions, self.where = positions[order], where[order]
        self.parts = []
        heads = positions[: len(self.texts)] - self.record_positions
        refs = np.ascontiguousarray(self.refs.astype(f"S{SHOWN_WIDTH}")).view(np.uint8).reshape(len(self.refs), SHOWN_WIDTH)
        before = UPPER[refs[np.arange(len(refs)), np.clip(heads - 1, 0, SHOWN_WIDTH - 1)]] if len(refs) else np.zeros(0, dtype=np.uint8)
        is_open = np.concatenate((open_on_left(self.texts, heads, before), [placement(*entry).left > 0 for entry in self.long]))
        self.open_positions = np.sort(positions[is_open.astype(bool)])

    def __bool__(self) -> bool:
        return bool(len(self.positions))

    def _placement(self, entry: int) -> Placement:
        found = self.placements.get(entry)
        if found is None:
            at = int(self.where[entry])
            if at >= 0:
                found = placement(text_allele(bytes(self.texts[at])), int(self.record_positions[at]), upper(bytes(self.refs[at])))
            else:
                found = placement(*self.long[-1 - at])
            self.placements[entry] = found
        return found

    def meets(self, found: Placement) -> bool:
        """Whether a listed indel could be ``found`` placed elsewhere in its repeat (module docstring)."""
        position = found.position
        low = int(np.searchsorted(self.positions, position - found.left, "left"))
        high = int(np.searchsorted(self.positions, position + found.right, "right"))
        for entry in range(low, high):
            listed = self._placement(entry)
            if listed.key != found.key:
                continue
            shift = position - listed.position
            if (shift > 0 and listed.right >= shift) or (shift < 0 and listed.left >= -shift):
                return True
        return False

    def meeting(self, alleles: RecordAlleles, data: np.ndarray, text: bytes, ref_start: np.ndarray, ref_end: np.ndarray) -> np.ndarray:
        """Which records of a run carry an indel that may be a listed one placed elsewhere in its
        repeat. numpy keeps only the indels that have a listed one within ``REPEAT_REACH`` on their
        left while open on their left themselves, or a listed one open on its left within reach on
        their right (``open_on_left``: two left-aligned calls never meet); only those are read as
        placements."""
        meeting = np.zeros(alleles.count, dtype=bool)
        if not self:
            return meeting
        rows, long_rows = indel_rows(alleles)
        texts = alleles.texts[rows]
        positions = text_positions(texts)
        owners = alleles.owners[rows]
        heads = positions - alleles.positions[owners]
        before = UPPER[data[np.maximum(ref_start[owners] + heads - 1, 0)]] if len(rows) else np.zeros(0, dtype=np.uint8)
        on_left = np.searchsorted(self.positions, positions - REPEAT_REACH, "left") < np.searchsorted(self.positions, positions, "left")
        on_right = np.searchsorted(self.open_positions, positions, "right") < np.searchsorted(
            self.open_positions, positions + REPEAT_REACH, "right"
        )
        near = (on_left & open_on_left(texts, heads, before)) | on_right
        candidates = [(index, text_allele(bytes(alleles.texts[index]))) for index in rows[near].tolist()]
        candidates += [(index, alleles.indels[index]) for index in long_rows]
        for index, allele in candidates:
            row = int(alleles.owners[index])
            if not meeting[row]:
                record_ref = upper(text[int(ref_start[row]) : int(ref_end[row])])
                meeting[row] = self.meets(placement(allele, int(alleles.positions[row]), record_ref))
        return meeting
