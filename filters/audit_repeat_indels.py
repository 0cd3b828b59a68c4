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


class RepeatIndels:
    """One contig's listed insertions and deletions, as placements along their repeats."""

    def __init__(self) -> None:
        # key -> sorted [(start, bases on the right that agree)], and the same for bases on the left
        self.rightward: dict[RepeatKey, list[tuple[int, int]]] = {}
        self.leftward: dict[RepeatKey, list[tuple[int, int]]] = {}
        self.ready = True

    def add(self, record_start: int, record_ref: bytes, key: tuple[int, bytes, bytes]) -> None:
        """A trimmed indel ``key`` (0-based start, REF, ALT) of the list's record at ``record_start``."""
        placed = _placement(record_start, record_ref, key)
        if placed is None:
            return
        repeat, start, left, right = placed
        if right:
            self.rightward.setdefault(repeat, []).append((start, right))
        if left:
            self.leftward.setdefault(repeat, []).append((start, left))
        self.ready = False

    def __bool__(self) -> bool:
        return bool(self.rightward or self.leftward)

    def meets(self, record_start: int, record_ref: bytes, key: tuple[int, bytes, bytes]) -> bool:
        """Whether the record's trimmed indel ``key`` may be a listed one placed elsewhere in its repeat."""
        placed = _placement(record_start, record_ref, key)
        if placed is None:
            return False
        if not self.ready:
            for entries in (*self.rightward.values(), *self.leftward.values()):
                entries.sort()
            self.ready = True
        repeat, start, left, right = placed
        on_left = self.rightward.get(repeat, [])
        low, high = bisect_left(on_left, (start - left, -1)), bisect_left(on_left, (start, -1))
        if any(start - listed <= reach for listed, reach in on_left[low:high]):
            return True
        on_right = self.leftward.get(repeat, [])
        low, high = bisect_right(on_right, (start, REACH + 1)), bisect_right(on_right, (start + right, REACH + 1))
        return any(listed - start <= reach for listed, reach in on_right[low:high])


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
