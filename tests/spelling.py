"""Reads carrying a germline allele, spelled the ways aligners spell it.

A tiny semi-global aligner with affine gaps (Gotoh) whose scores, gap bar and
tie-breaking are parameters: with a high mismatch cost an SNV comes out as
``1I1D`` or ``1D1I``, with a gap bar (bowtie2 forbids gaps within 4 bases of
a read's end) an indel near an end comes out as mismatches, with a clip
penalty the read is soft-clipped at the allele, and the tie-break puts a gap
at the left or the right end of its repeat. Used by the property tests of
sam-revert-germline (tests/test_germline_spellings.py); independent of the
command's own CIGAR code.
"""

from __future__ import annotations

from dataclasses import dataclass

NEGATIVE = -(10**9)


@dataclass(frozen=True)
class Scoring:
    match: int = 2
    mismatch: int = 4
    gap_open: int = 5
    gap_extend: int = 2
    gap_bar: int = 0
    """No gap within this many read bases of either end."""
    clip: int | None = None
    """Cost of soft-clipping a read end (None: no clipping)."""
    gaps_right: bool = False
    """Place a gap at the right end of its repeat instead of the left."""


def align(read: str, reference: str, scoring: Scoring) -> tuple[int, list[tuple[str, int]]]:
    """The best alignment of all of ``read`` to a stretch of ``reference``: (0-based start in
    ``reference``, CIGAR as ``[(op, length)]`` with M, I, D, S)."""
    rows, columns = len(read) + 1, len(reference) + 1
    match = [[NEGATIVE] * columns for _ in range(rows)]
    insertion = [[NEGATIVE] * columns for _ in range(rows)]
    deletion = [[NEGATIVE] * columns for _ in range(rows)]
    opening = scoring.gap_open + scoring.gap_extend

    def start(i: int) -> int:
        if i == 0:
            return 0
        return NEGATIVE if scoring.clip is None else -scoring.clip

    def gap_allowed(i: int) -> bool:
        return scoring.gap_bar <= i <= len(read) - scoring.gap_bar

    for i in range(1, rows):
        for j in range(1, columns):
            score = scoring.match if read[i - 1] == reference[j - 1] else -scoring.mismatch
            match[i][j] = max(match[i - 1][j - 1], insertion[i - 1][j - 1], deletion[i - 1][j - 1], start(i - 1)) + score
            if gap_allowed(i - 1) and gap_allowed(i):
                insertion[i][j] = max(
                    match[i - 1][j] - opening,
                    insertion[i - 1][j] - scoring.gap_extend,
                    deletion[i - 1][j] - opening,
                    start(i - 1) - opening,
                )
            if gap_allowed(i) and i > 0:
                deletion[i][j] = max(match[i][j - 1] - opening, deletion[i][j - 1] - scoring.gap_extend, insertion[i][j - 1] - opening)
    best = (NEGATIVE, 0, 0, "M")
    for i in range(1, rows):
        tail = 0 if i == len(read) else (NEGATIVE if scoring.clip is None else -scoring.clip)
        for j in range(1, columns):
            for state, table in (("M", match), ("I", insertion)):
                score = table[i][j] + tail
                if score > best[0] or (score == best[0] and scoring.gaps_right and state == "I"):
                    best = (score, i, j, state)
    _, i, j, state = best
    operations: list[tuple[str, int]] = []
    if i < len(read):
        operations.append(("S", len(read) - i))
    while i > 0:
        if state == "M":
            operations.append(("M", 1))
            score = scoring.match if read[i - 1] == reference[j - 1] else -scoring.mismatch
            previous = match[i][j] - score
            i, j = i - 1, j - 1
            options = [("I", insertion[i][j]), ("D", deletion[i][j]), ("M", match[i][j])]
            if not scoring.gaps_right:
                options.reverse()
            state = next((name for name, value in options if value == previous and value > NEGATIVE // 2), "start")
            if state == "start":
                break
        elif state == "I":
            operations.append(("I", 1))
            value = insertion[i][j]
            i -= 1
            options = [("I", insertion[i][j] - scoring.gap_extend), ("M", match[i][j] - opening), ("D", deletion[i][j] - opening)]
            if scoring.gaps_right:
                options = [options[1], options[2], options[0]]
            options.append(("start", start(i) - opening))
            state = next(name for name, candidate in options if candidate == value)
            if state == "start":
                break
        else:
            operations.append(("D", 1))
            value = deletion[i][j]
            j -= 1
            options = [("D", deletion[i][j] - scoring.gap_extend), ("M", match[i][j] - opening), ("I", insertion[i][j] - opening)]
            if scoring.gaps_right:
                options = [options[1], options[2], options[0]]
            state = next(name for name, candidate in options if candidate == value)
    if i > 0:
        operations.append(("S", i))
    operations.reverse()
    merged: list[tuple[str, int]] = []
    for op, length in operations:
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + length)
        else:
            merged.append((op, length))
    return j, merged


def cigar_text(operations: list[tuple[str, int]]) -> str:
    return "".join(f"{length}{op}" for op, length in operations)


def match_mismatch(operations: list[tuple[str, int]], read: str, reference: str, position: int) -> list[tuple[str, int]]:
    """The same alignment with ``M`` spelled ``=``/``X``."""
    result: list[tuple[str, int]] = []
    query, target = 0, position
    for op, length in operations:
        if op == "M":
            for offset in range(length):
                letter = "=" if read[query + offset] == reference[target + offset] else "X"
                if result and result[-1][0] == letter:
                    result[-1] = (letter, result[-1][1] + 1)
                else:
                    result.append((letter, 1))
        else:
            result.append((op, length))
        query += length if op in "MIS" else 0
        target += length if op in "MD" else 0
    return result
