"""The audit's own rule for an indel the germline list places elsewhere in its repeat, without ``-r``.

vcf-drop-rare ``--germline`` without a reference drops a record whose insertion or deletion
could be one of the list's written at another place along a repeat; the audit finds what it would
drop, by its own code (the scrubber's is ``nearby_indels``). Two trimmed indels, the list's at
``p`` (0-based) and the record's at ``q``, may be one haplotype only when:

- both delete, or both insert, the same number L of bases, and the record's sequence is the
  list's turned by ``q - p`` (``turned``): the bases between them repeat it. Each sequence is held
  under its least rotation (``smallest_turn``, by Duval's Lyndon factorisation) and the phase
  ``(p + turn) mod period`` (``repeat_key``), so placements of one indel share a key;
- they lie at most ``REACH`` bases apart (longer repeat tracts need ``-r``);
- the bases each record shows beside its trimmed indel (REF's padding, the bases after a
  deletion), where they lie between the two placements, repeat the sequence
  (``agreeing_bases``); a base other than ``ACGT`` agrees with any.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

REACH = 1000
"""The farthest two placements of one indel are compared without a reference (as vcf-drop-rare's)."""
KNOWN = b"ACGT"

RepeatKey = tuple[str, bytes, int]
"""``"del"`` or ``"ins"``, the least rotation of the sequence, the phase of the placement."""


def smallest_turn(bases: bytes) -> int:
    """Where the lexicographically least rotation of ``bases`` starts (Duval's algorithm)."""
    size = len(bases)
    twice = bases + bases
    at = best = 0
    while at < size:
        best = at
        ahead, compare = at + 1, at
        while ahead < 2 * size and twice[compare] <= twice[ahead]:
            compare = at if twice[compare] < twice[ahead] else compare + 1
            ahead += 1
        while at <= compare:
            at += ahead - compare
    return best


def turned(bases: bytes, by: int) -> bytes:
    """``bases`` rotated left by ``by``: the sequence a placement ``by`` bases to the right writes."""
    by %= len(bases)
    return bases[by:] + bases[:by]


def repeat_key(start: int, deletion: bool, bases: bytes) -> RepeatKey:
    """The key every placement of one indel along a repeat of ``bases`` shares."""
    size = len(bases)
    period = next(step for step in range(1, size + 1) if size % step == 0 and turned(bases, step) == bases)
    turn = smallest_turn(bases)
    return ("del" if deletion else "ins"), turned(bases, turn), (start + turn) % period


def agreeing_bases(shown: bytes, bases: bytes, leftwards: bool) -> int:
    """How many of the ``shown`` bases, from the indel outwards, repeat ``bases`` as the reference
    between two placements must; ``REACH`` when every one does (the other may lie past them)."""
    size = len(bases)
    ordered = shown[::-1] if leftwards else shown
    for count, base in enumerate(ordered):
        want = bases[size - 1 - count % size] if leftwards else bases[count % size]
        if base != want and base in KNOWN and want in KNOWN:
            return count
    return REACH


def agrees(shown: int, wanted: int) -> bool:
    return shown == wanted or shown not in KNOWN or wanted not in KNOWN


class RepeatIndels:
    """One contig's listed insertions and deletions. Each is read as a placement along its repeat
    (``_placement``: the rotation, the bases its record shows) only when a record's indel lies
    within ``REACH`` of it and the two could be the left and the right one: a record whose base
    before its indel does not continue it (left-aligned) can only be the left one."""

    def __init__(self) -> None:
        self.listed: list[tuple[int, int, bytes, tuple[int, bytes, bytes]]] = []  # start, record start, REF, key
        self.starts: list[int] = []
        self.open_starts: list[int] = []  # the starts of those that may be the right one of two
        self.placements: dict[int, tuple[RepeatKey, int, int, int] | None] = {}
        self.ready = True

    def add(self, record_start: int, record_ref: bytes, key: tuple[int, bytes, bytes]) -> None:
        """A trimmed indel ``key`` (0-based start, REF, ALT) of the list's record at ``record_start``."""
        start, ref, alt = key
        if bool(ref) == bool(alt) or ref == b"<":
            return
        self.listed.append((start, record_start, record_ref.upper(), key))
        self.ready = False

    def __bool__(self) -> bool:
        return bool(self.listed)

    def _index(self) -> None:
        self.listed.sort()
        self.starts = [start for start, _, _, _ in self.listed]
        self.open_starts = [start for start, record_start, record_ref, key in self.listed if open_before(record_start, record_ref, key)]
        self.placements = {}
        self.ready = True

    def _listed(self, index: int) -> tuple[RepeatKey, int, int, int] | None:
        if index not in self.placements:
            _, record_start, record_ref, key = self.listed[index]
            self.placements[index] = _placement(record_start, record_ref, key)
        return self.placements[index]

    def meets(self, record_start: int, record_ref: bytes, key: tuple[int, bytes, bytes]) -> bool:
        """Whether the record's trimmed indel ``key`` may be a listed one placed elsewhere in its repeat."""
        start, ref, alt = key
        if bool(ref) == bool(alt) or ref == b"<":
            return False
        if not self.ready:
            self._index()
        record_ref = record_ref.upper()
        left_near = open_before(record_start, record_ref, key) and bisect_left(self.starts, start - REACH) < bisect_left(self.starts, start)
        right_near = bisect_right(self.open_starts, start) < bisect_right(self.open_starts, start + REACH)
        if not (left_near or right_near):
            return False
        placed = _placement(record_start, record_ref, key)
        assert placed is not None
        repeat, _, left, right = placed
        for index in range(bisect_left(self.starts, start - left), bisect_right(self.starts, start + right)):
            listed = self._listed(index)
            if listed is None or listed[0] != repeat:
                continue
            _, listed_start, listed_left, listed_right = listed
            if listed_start < start <= listed_start + listed_right or start < listed_start <= start + listed_left:
                return True
        return False


def open_before(record_start: int, record_ref: bytes, key: tuple[int, bytes, bytes]) -> bool:
    """Whether the base a record shows just before its trimmed indel (if any) continues the
    indel's sequence leftwards: only then may it be the right one of two placements."""
    start, ref, alt = key
    offset = start - record_start
    return offset == 0 or agrees(record_ref[offset - 1], (ref or alt)[-1])


def _placement(record_start: int, record_ref: bytes, key: tuple[int, bytes, bytes]) -> tuple[RepeatKey, int, int, int] | None:
    """An indel's key, start, and how far another placement may lie on its left and on its right."""
    start, ref, alt = key
    if bool(ref) == bool(alt) or ref == b"<":
        return None
    bases = ref or alt
    offset = start - record_start
    record_ref = record_ref.upper()
    left = agreeing_bases(record_ref[:offset], bases, True)
    right = agreeing_bases(record_ref[offset + len(ref) :], bases, False)
    return repeat_key(start, bool(ref), bases), start, left, right
