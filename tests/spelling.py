"""Reads carrying a germline allele, spelled the ways aligners spell it.

A tiny semi-global aligner with affine gaps (Gotoh; its tables filled a row at
a time in numpy) whose scores, gap bar and tie-breaking are parameters: with a
high mismatch cost an SNV comes out as ``1I1D`` or ``1D1I``, with a gap bar
(bowtie2 forbids gaps within 4 bases of a read's end) an indel near an end
comes out as mismatches, with a clip penalty the read is soft-clipped at the
allele, and the tie-break puts a gap at the left or the right end of its
repeat. Used by the property tests of sam-revert-germline
(tests/test_germline_spellings.py); independent of the
command's own CIGAR code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
    tables = fill(read, reference, scoring)
    i, j, state = best_end(*tables[:2], len(read), scoring)
    match, insertion, deletion = (table.tolist() for table in tables)
    opening = scoring.gap_open + scoring.gap_extend

    def start(i: int) -> int:
        if i == 0:
            return 0
        return NEGATIVE if scoring.clip is None else -scoring.clip

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


def best_end(match: np.ndarray, insertion: np.ndarray, read_length: int, scoring: Scoring) -> tuple[int, int, str]:
    """Where the best alignment ends, ``(i, j, state)``: the highest score over the cells in the
    order ``i``, ``j``, M before I, taking the first cell that reaches it, or with
    ``gaps_right`` the last I cell that equals it (ties then end in a gap); an end before read
    base ``read_length`` pays the clip. ``(0, 0, "M")`` when no cell scores above ``NEGATIVE``."""
    clipped = NEGATIVE if scoring.clip is None else -scoring.clip
    tails = np.full(read_length, clipped, dtype=np.int64)
    tails[-1] = 0
    scores = (np.stack((match[1:, 1:], insertion[1:, 1:]), axis=2) + tails[:, None, None]).ravel()  # i, j, M then I
    if not scores.size:
        return 0, 0, "M"
    top = int(scores.max())
    if scoring.gaps_right and (gaps := np.flatnonzero(scores[1::2] == top)).size and top >= NEGATIVE:
        cell, state = int(gaps[-1]), "I"
    elif top > NEGATIVE:
        first = int(np.flatnonzero(scores == top)[0])
        cell, state = first // 2, "MI"[first % 2]
    else:
        return 0, 0, "M"
    columns = match.shape[1] - 1
    return cell // columns + 1, cell % columns + 1, state


def fill(read: str, reference: str, scoring: Scoring) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Gotoh tables (match, insertion, deletion; rows the read, columns the reference),
    a row at a time in numpy: cell ``[i][j]`` is the best score of an alignment of the read's
    first ``i`` bases ending at reference base ``j`` in that state, ``NEGATIVE`` where none
    may (the same integers a cell-by-cell loop of the recurrences gives; ``align`` reads its
    path back from them). A deletion continues along its own row, so that row is a running
    maximum: ``D[j] = max(D[j-1] - extend, Y[j-1])`` with ``Y = max(M, I) - open`` is
    ``max(D[0] - j*extend, max over k < j of Y[k] - (j-1-k)*extend)``."""
    rows, columns = len(read) + 1, len(reference) + 1
    match = np.full((rows, columns), NEGATIVE, dtype=np.int64)
    insertion = np.full((rows, columns), NEGATIVE, dtype=np.int64)
    deletion = np.full((rows, columns), NEGATIVE, dtype=np.int64)
    opening, extend = scoring.gap_open + scoring.gap_extend, scoring.gap_extend
    clipped = NEGATIVE if scoring.clip is None else -scoring.clip
    bases = np.array([ord(base) for base in reference], dtype=np.int64)
    steps = np.arange(columns, dtype=np.int64) * extend
    allowed = [scoring.gap_bar <= i <= len(read) - scoring.gap_bar for i in range(rows)]  # no gap this near an end
    for i in range(1, rows):
        begin = 0 if i == 1 else clipped  # starting at read base i (after a clip of i - 1 bases)
        scores = np.where(bases == ord(read[i - 1]), scoring.match, -scoring.mismatch)
        before = np.maximum(np.maximum(match[i - 1, :-1], insertion[i - 1, :-1]), np.maximum(deletion[i - 1, :-1], begin))
        match[i, 1:] = before + scores
        if allowed[i - 1] and allowed[i]:
            insertion[i, 1:] = np.maximum(
                np.maximum(match[i - 1, 1:] - opening, insertion[i - 1, 1:] - extend),
                np.maximum(deletion[i - 1, 1:] - opening, begin - opening),
            )
        if allowed[i]:
            opened = np.maximum(match[i, :-1], insertion[i, :-1]) - opening + steps[:-1]
            deletion[i, 1:] = np.maximum(NEGATIVE - steps[1:], np.maximum.accumulate(opened) - steps[:-1])
    return match, insertion, deletion


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
