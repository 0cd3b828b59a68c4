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
  smallest period of S), so two placements of one indel share a key and a lookup is a bisection;
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

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import numpy as np
from genoscrub.alleles import LONG_KEY, POS_DIGITS, TEXT_KEY, Allele, indel_texts, upper
from genoscrub.record_alleles import RecordAlleles

REPEAT_REACH = 1000
"""How far apart (bases) two placements of one indel may be and still meet without the reference:
the span of a repeat tract a short-read caller can place an indel along (reads of 150 to 250 bases
must span it to place the indel at all; catalogued STRs are almost all shorter than 1 kb)."""
ANY_BASE = frozenset(b"ACGT")
SHORT_ROTATIONS = 32  # up to this length the least rotation is found by comparing every rotation

Entries = tuple[list[int], np.ndarray, np.ndarray]
"""Listed placements of one key: positions sorted (a list to bisect, an array to compare) and reaches."""
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


def indel_alleles(alleles: RecordAlleles) -> list[tuple[int, Allele]]:
    """The insertions and deletions (REF or ALT empty once trimmed) among ``alleles``' keys, each
    with the record it is of: short ones from their texts (found by numpy), long ones as they are."""
    keys = alleles.keys
    rows = np.flatnonzero(keys == TEXT_KEY)
    rows = rows[indel_texts(alleles.texts[rows])]
    found: list[tuple[int, Allele]] = []
    owners = alleles.owners
    for index in rows.tolist():
        text = bytes(alleles.texts[index])
        ref, _, alt = text[POS_DIGITS:].partition(b">")
        found.append((int(owners[index]), (int(text[:POS_DIGITS]), ref, alt)))
    for index, allele in alleles.indels.items():
        if keys[index] == LONG_KEY and bool(allele[1]) != bool(allele[2]):
            found.append((int(owners[index]), allele))
    return found


def record_placements(alleles: RecordAlleles, text: bytes, ref_start: np.ndarray, ref_end: np.ndarray) -> list[tuple[int, Placement]]:
    """Each indel of a run of records (``indel_alleles``) as a ``Placement``, with its record's row;
    ``ref_start``/``ref_end``: where each record's REF is in ``text``."""
    found = indel_alleles(alleles)
    if not found:
        return []
    positions = alleles.positions
    return [
        (row, placement(allele, int(positions[row]), upper(text[int(ref_start[row]) : int(ref_end[row])])))
        for row, allele in found
    ]


class NearbyIndels:
    """A contig's listed indels by ``placement_key``: their positions sorted, with how far each may
    meet another placement to its right (every one) and to its left (only those that can be the
    right one of a pair: few in a left-aligned list)."""

    def __init__(self) -> None:
        self.added: list[Placement] = []
        self.as_left: dict[PlacementKey, Entries] = {}
        self.as_right: dict[PlacementKey, Entries] = {}

    def add(self, placements: list[tuple[int, Placement]]) -> None:
        self.added.extend(found for _, found in placements)

    def sort(self) -> None:
        """Index what was added (call once, after the last ``add``)."""
        left: dict[PlacementKey, list[tuple[int, int]]] = {}
        right: dict[PlacementKey, list[tuple[int, int]]] = {}
        for found in self.added:
            if found.right > 0:
                left.setdefault(found.key, []).append((found.position, found.right))
            if found.left > 0:
                right.setdefault(found.key, []).append((found.position, found.left))
        self.as_left = {key: _sorted(entries) for key, entries in left.items()}
        self.as_right = {key: _sorted(entries) for key, entries in right.items()}
        self.added = []

    def __bool__(self) -> bool:
        return bool(self.as_left or self.as_right)

    def meets(self, found: Placement) -> bool:
        """Whether a listed indel could be ``found`` placed elsewhere in its repeat (module docstring)."""
        position = found.position
        if found.left > 0:  # a listed one on the left, within the reach of both
            entries = self.as_left.get(found.key)
            if entries is not None:
                places, place_array, reaches = entries
                low, high = bisect_left(places, position - found.left), bisect_left(places, position)
                if low < high and (reaches[low:high] >= position - place_array[low:high]).any():
                    return True
        if found.right > 0:  # a listed one on the right
            entries = self.as_right.get(found.key)
            if entries is not None:
                places, place_array, reaches = entries
                low, high = bisect_right(places, position), bisect_right(places, position + found.right)
                if low < high and (reaches[low:high] >= place_array[low:high] - position).any():
                    return True
        return False


def _sorted(entries: list[tuple[int, int]]) -> Entries:
    entries.sort()
    places = [place for place, _ in entries]
    return places, np.array(places, dtype=np.int64), np.array([reach for _, reach in entries], dtype=np.int64)
