"""CIGAR strings and the MD/NM tags computed from them (SAM v1, sections 1.4.6 and 1.5).

The only place that parses a CIGAR or computes MD and NM: sam-revert-germline and
sam-mask-regions both rewrite alignments and must describe them the way
``samtools calmd`` would, so they share these functions instead of keeping copies
that drift. Operations are ``(operation byte, length)`` pairs, coordinates 0-based.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Optional

import numpy as np

CIGAR_OPERATION = re.compile(rb"([0-9]+)([MIDNSHP=X])")
CIGAR_WHOLE = re.compile(rb"(?:[0-9]+[MIDNSHP=X])+")
CONSUMES_REFERENCE = frozenset(b"MDN=X")
CONSUMES_QUERY = frozenset(b"MIS=X")
ALIGNED = frozenset(b"M=X")
READS_REFERENCE = frozenset(b"MD=X")
"""The operations whose reference bases MD spells (a skip's, ``N``, it does not)."""
M, INS, DEL, SKIP, SOFT, HARD, PAD, EQUAL, DIFF = b"MIDNSHP=X"

MAX_CIGAR_LENGTH = (1 << 28) - 1
"""BAM stores an operation's length in 28 bits; htslib refuses longer ones."""

Operations = list[tuple[int, int]]


@dataclass(frozen=True)
class CigarShape:
    """What the commands need of a CIGAR, computed once per distinct string.

    ``left_clip``/``right_clip`` are the soft-clipped bases before and after the
    aligned part (hard clips hold no bases and are skipped over). ``length_change_start``
    and ``length_change_end`` (relative to POS; both 0 without an insertion or deletion)
    bound the reference spans of its insertions and deletions, each widened by its length
    on each side (``widened_length_changes``).
    """

    operations: tuple[tuple[int, int], ...]
    reference_length: int
    query_length: int
    left_clip: int
    right_clip: int
    has_indel: bool
    has_aligned: bool
    has_skip: bool = False
    length_change_start: int = 0
    length_change_end: int = 0
    has_clip: bool = False
    """A soft or hard clip anywhere (``S`` or ``H``, of any length)."""
    inserted: int = 0
    """The bases of its insertions (``I``)."""
    clipped: int = 0
    """The bases of its soft and hard clips (``S`` and ``H``)."""

    @cached_property
    def match_op(self) -> int:
        """How the record spells an aligned base equal to the reference (``match_op``), found once."""
        return match_op(self.operations)


def match_op(operations: Iterable[tuple[int, int]]) -> int:
    """How a record spells an aligned base equal to the reference: ``=`` where it writes one, else
    ``M`` where it writes one (an aligner writing mismatches ``X`` beside ``M``), else ``=`` (``X``
    alone). A base the reverter writes back is spelled so: an ``=`` among ``M`` runs would mark
    the carriers of the allele and where it lies."""
    has_match = has_mismatch = False
    for op, _ in operations:  # a loop, not a set: a few operations a record, read for each
        if op == EQUAL:
            return EQUAL
        if op == M:
            has_match = True
        elif op == DIFF:
            has_mismatch = True
    return EQUAL if has_mismatch and not has_match else M


def parse_cigar(cigar: bytes) -> CigarShape | None:
    """The shape of a CIGAR string, or None when it is not one (``*`` included)."""
    if not CIGAR_WHOLE.fullmatch(cigar):
        return None
    operations = tuple((op[0], int(length)) for length, op in CIGAR_OPERATION.findall(cigar))
    if any(length > MAX_CIGAR_LENGTH for _, length in operations):
        return None
    reference_length = sum(length for op, length in operations if op in CONSUMES_REFERENCE)
    query_length = sum(length for op, length in operations if op in CONSUMES_QUERY)
    left_clip = right_clip = 0
    inner = [op for op, _ in operations if op not in (HARD, PAD)]
    unclipped = [item for item in operations if item[0] != HARD]
    if unclipped and unclipped[0][0] == SOFT:
        left_clip = unclipped[0][1]
    if len(unclipped) > 1 and unclipped[-1][0] == SOFT:
        right_clip = unclipped[-1][1]
    widened = widened_length_changes(operations)
    return CigarShape(
        operations,
        reference_length,
        query_length,
        left_clip,
        right_clip,
        has_indel=INS in inner or DEL in inner,
        has_aligned=any(op in ALIGNED for op in inner),
        has_skip=SKIP in inner,
        length_change_start=min((start for start, _ in widened), default=0),
        length_change_end=max((end for _, end in widened), default=0),
        has_clip=any(op in (SOFT, HARD) for op, _ in operations),
        inserted=sum(length for op, length in operations if op == INS),
        clipped=sum(length for op, length in operations if op in (SOFT, HARD)),
    )


def widened_length_changes(operations: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The reference span (relative to POS) of each insertion and deletion, widened by its
    length L on each side (at least 1): ``[r - L, r + L]`` for an insertion before reference
    offset r, ``[r - L, r + 2L]`` for a deletion of ``[r, r + L)``.

    An indel in a repeat may be placed anywhere along it (the aligner's choice, or the
    normaliser's: left-aligned, one unit can move past the repeat's first base), so it can
    sit up to about its own length outside a repeat's catalogued edges and still be that
    repeat's allele length. A skip (``N``, an intron) is not a change of length.
    """
    widened: list[tuple[int, int]] = []
    reference = 0
    for op, length in operations:
        if op in (INS, DEL):
            widen = max(1, length)
            widened.append((reference - widen, reference + (length if op == DEL else 0) + widen))
        if op in CONSUMES_REFERENCE:
            reference += length
    return widened


def reference_length(operations: Iterable[tuple[int, int]]) -> int:
    """The reference bases an alignment spans (its ``M``, ``D``, ``N``, ``=`` and ``X``)."""
    length = 0
    for op, count in operations:
        if op in CONSUMES_REFERENCE:
            length += count
    return length


def query_length(operations: Iterable[tuple[int, int]]) -> int:
    """The bases of the read an alignment holds (its ``M``, ``I``, ``S``, ``=`` and ``X``)."""
    length = 0
    for op, count in operations:
        if op in CONSUMES_QUERY:
            length += count
    return length


def format_cigar(operations: Sequence[tuple[int, int]]) -> bytes:
    if len(operations) == 1:  # the common reverted read, 150M: no join
        op, length = operations[0]
        return b"%d%c" % (length, op)
    return b"".join([b"%d%c" % (length, op) for op, length in operations])


CACHE_LIMIT = 100_000
"""Distinct CIGAR strings remembered; past this a cache starts again (long-read input)."""


class ShapeCache(dict[bytes, Optional[CigarShape]]):
    """CIGAR string -> shape, parsed once per distinct string (``150M`` repeats a lot)."""

    def __missing__(self, cigar: bytes) -> CigarShape | None:
        if len(self) > CACHE_LIMIT:
            self.clear()
        shape = parse_cigar(cigar)
        self[cigar] = shape
        return shape


class CigarTable(dict[bytes, int]):
    """CIGAR string -> a number read from its shape (``value``), found once per distinct string
    and forgotten past ``CACHE_LIMIT`` strings, so that new CIGARs without end keep memory flat."""

    def __init__(self, shapes: ShapeCache) -> None:
        super().__init__()
        self.shapes = shapes

    def __missing__(self, cigar: bytes) -> int:
        if len(self) > CACHE_LIMIT:
            self.clear()
        found = self[cigar] = self.value(cigar, self.shapes[cigar])
        return found

    def value(self, cigar: bytes, shape: CigarShape | None) -> int:
        """The number for ``cigar``; ``shape`` is None when it does not parse."""
        raise NotImplementedError


def append_operation(operations: Operations, op: int, length: int) -> None:
    """Append a CIGAR operation, merging it with an equal one before it."""
    if length <= 0:
        return
    if operations and operations[-1][0] == op:
        operations[-1] = (op, operations[-1][1] + length)
    else:
        operations.append((op, length))


def without_padding(operations: Sequence[tuple[int, int]]) -> Operations:
    """Drop ``P`` operations: once an insertion is gone, padding lines up nothing (SAM v1 1.4.6)."""
    result: Operations = []
    for op, length in operations:
        if op != PAD:
            append_operation(result, op, length)
    return result


def split_match_mismatch(
    operations: Sequence[tuple[int, int]], sequence: bytes, reference: bytes, position: int, reference_offset: int
) -> Operations:
    """Rewrite ``M`` runs as ``=``/``X`` for a record whose CIGAR used them."""
    result: Operations = []
    reference_position = position
    query_position = 0
    for op, length in operations:
        if op == M:
            for i in range(length):
                read_base = sequence[query_position + i]
                reference_base = reference[reference_position - reference_offset + i]
                same = read_base == ord("=") or bases_match(read_base, reference_base)
                append_operation(result, EQUAL if same else DIFF, 1)
        else:
            append_operation(result, op, length)
        if op in CONSUMES_REFERENCE:
            reference_position += length
        if op in CONSUMES_QUERY:
            query_position += length
    return result


def bases_match(read_base: int, reference_base: int) -> bool:
    """samtools calmd's rule: equal ignoring case, and neither is N."""
    read_upper = read_base & 0xDF
    return read_upper == reference_base & 0xDF and read_upper != ord("N")


def md_and_nm(
    position: int, operations: Sequence[tuple[int, int]], sequence: bytes, reference: bytes, reference_offset: int
) -> tuple[bytes, int]:
    """MD and NM of an alignment, exactly as ``samtools calmd`` computes them (SAM v1 1.5).

    ``reference`` is the uppercase reference from ``reference_offset`` on; a read
    ``N`` counts as a mismatch, ``=`` as a match, case does not matter. A run that lies
    outside ``sequence`` or ``reference`` is a ValueError.

    The twin of the compiled loop (``scan.md_and_nm``, which the commands call); the
    ``mismatches`` rule below is the one both follow.
    """
    parts: list[bytes] = []
    matches = 0
    distance = 0
    reference_position = position - reference_offset
    query_position = 0
    for op, length in operations:
        if (
            length < 0
            or (op in CONSUMES_QUERY and query_position + length > len(sequence))
            or (op in READS_REFERENCE and (reference_position < 0 or reference_position + length > len(reference)))
        ):
            raise ValueError("a CIGAR run lies outside the sequence or the reference")
        if op in ALIGNED:
            read = sequence[query_position : query_position + length].upper()
            expected = reference[reference_position : reference_position + length]
            if read == expected and b"N" not in read:
                matches += length
            else:
                last = -1
                for offset in mismatches(read, expected):
                    parts.append(b"%d%c" % (matches + offset - last - 1, expected[offset]))
                    matches = 0
                    last = offset
                    distance += 1
                matches += length - last - 1
            reference_position += length
            query_position += length
        elif op == DEL:
            parts.append(b"%d^%s" % (matches, reference[reference_position : reference_position + length]))
            matches = 0
            distance += length
            reference_position += length
        elif op == INS:
            distance += length
            query_position += length
        elif op == SOFT:
            query_position += length
        elif op == SKIP:
            reference_position += length
    parts.append(b"%d" % matches)
    return b"".join(parts), distance


NONZERO = bytes([0] + [1] * 255)
MANY = 16
"""Differences past which :func:`differences` hands over to numpy."""


def differences(read: bytes, expected: bytes) -> list[int]:
    """Offsets where two equal-length byte strings differ, found in C: the XOR of
    the two as big integers is zero exactly where the bytes agree."""
    if read == expected:
        return []
    size = len(read)
    marks = (int.from_bytes(read, "big") ^ int.from_bytes(expected, "big")).to_bytes(size, "big").translate(NONZERO)
    if marks.count(1) > MANY:  # a masked read: numpy finds them faster than a loop
        return np.flatnonzero(np.frombuffer(marks, dtype=np.uint8)).tolist()
    found = []
    offset = marks.find(1)
    while offset >= 0:
        found.append(offset)
        offset = marks.find(1, offset + 1)
    return found


def mismatches(read: bytes, expected: bytes) -> list[int]:
    """Offsets where an (uppercase) read differs from the reference by calmd's rule."""
    found = differences(read, expected)
    if b"=" in read:
        found = [offset for offset in found if read[offset] != 61]
    if b"N" in read and b"N" in expected:  # an N facing an N is a mismatch too
        found = sorted(set(found) | {offset for offset, base in enumerate(read) if base == 78})
    return found
