"""Where sam-revert-germline -v turns reads back into the reference, read by the audit itself: the
windows around the germline list's sites, for the calls of a somatic VCF (``--germline-in-vcf``
with ``-r``). vcf-drop-rare ``--germline-windows`` drops a call whose allele touches one: the
delivered reads no longer show it, so kept beside them it says a germline site lies within a few
bases, and where the delivered germline VCF lists none there, a rare or private one.

The rule is the one sam-revert-germline(1) states, written here apart from its code (which the
audit never imports): each ALT of a germline record is placed at the left end of its repeat when it
is an insertion or deletion (not moved off the contig's first base); its window is its REF span
widened, after trimming, over every stretch beside it that repeats with a period up to 6 bases or
the allele's length (in the reference, or in the ALT haplotype) up to ``REPEAT_REACH`` each way,
by one base, the length change and ``GAP_ROOM`` more (``FARTHEST`` at most) for an allele that
changes the length, and as far as a read of the ALT haplotype that begins or ends at the allele,
placed a few bases along, keeps in step with the reference (``placed_read_reach``). A symbolic
allele with END or SVLEN is windowed over what it spans. A call touches a window when its REF span,
widened each side by its largest change of length, overlaps one.

A whole-genome germline list holds millions of records and a somatic call set a few thousand:
the windows are drawn only for the records near a call, once each, when a call first asks; the
few long or symbolic records are drawn when the list is read, with every structural allele's
breakpoints (``audit_sites.structural_breakpoints``: 50 bases each side, CIPOS/CIEND, a breakend's
mate's place). ``tests/test_reverted_records.py``
holds the audit's answer to vcf-drop-rare's.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable

import numpy as np
from genoscrub.audit_sites import Reference, VariantList

REPEAT_REACH = 1000
"""How far a repeat beside an allele widens its window, each way (bases), and how far an
insertion or deletion is carried left along its repeat."""
SHORT_UNIT = 6
"""The longest repeat unit an allele is widened over whatever its own length (STRs)."""
GAP_ROOM = 4
FARTHEST = 50
"""An allele changing the length by L reaches 1 + min(L + ``GAP_ROOM``, ``FARTHEST``) bases past its
repeat: an aligner that opens no gap near a read's end writes it as mismatches there."""
LONG = 1000
"""Records whose alleles hold more bases (and symbolic ones) are windowed when the list is read."""
NEAR = 2 * REPEAT_REACH + LONG + 64
"""How far beyond its REF span the window of a record of at most ``LONG`` bases can reach, and the
bases it reads there: carried left along its repeat (``REPEAT_REACH``), a read placed up to its
allele's length along (less than ``LONG``), its run of matches (``REPEAT_REACH``); rightwards less."""
PIECE = 1 << 18
"""Reference bases fetched at once around the calls."""
NO_ALLELE = frozenset((b"<*>", b"<NON_REF>", b"<X>", b"."))
DELETING = frozenset((b"DEL", b"CNV"))
NO_WINDOW = (0, 0)
"""A reference block's: touches nothing."""


def trim(position: int, ref: bytes, alt: bytes) -> tuple[int, bytes, bytes]:
    """REF and ALT without the bases they share, the last ones first (one base each: as written)."""
    if len(ref) == 1 and len(alt) == 1:
        return position, ref, alt
    while ref and alt and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    shared = 0
    while shared < min(len(ref), len(alt)) and ref[shared] == alt[shared]:
        shared += 1
    return position + shared, ref[shared:], alt[shared:]


def carried_left(bases: bytes, offset: int, position: int, ref: bytes, alt: bytes) -> tuple[int, bytes, bytes]:
    """An insertion or deletion at the left end of its repeat (at most ``REPEAT_REACH`` bases along),
    written with the base before it (``bcftools norm``'s spelling); any other allele, and one that
    would reach the contig's first base, as written. ``bases`` is the contig from ``offset`` on."""
    start, trimmed_ref, trimmed_alt = trim(position, ref, alt)
    if bool(trimmed_ref) == bool(trimmed_alt):
        return position, ref, alt
    unit = trimmed_ref or trimmed_alt
    at = start
    while at > 0 and start - at < REPEAT_REACH and bases[at - 1 - offset] == unit[-1]:
        unit = unit[-1:] + unit[:-1]
        at -= 1
    if at == 0:
        return position, ref, alt
    anchor = bases[at - 1 - offset : at - offset]
    return (at - 1, anchor + unit, anchor) if trimmed_ref else (at - 1, anchor, anchor + unit)


def periodic_run(text: bytes, index: int, step: int, partner: int) -> int:
    """How many bases from ``index`` on (``step`` 1 rightwards, -1 leftwards) equal the base
    ``partner`` away, ``REPEAT_REACH`` at most; the text's ends stop it."""
    count, size = 0, len(text)
    while count < REPEAT_REACH and 0 <= index < size and 0 <= index + partner < size and text[index] == text[index + partner]:
        count += 1
        index += step
    return count


def length_reach(change: int) -> int:
    return 1 + min(change + GAP_ROOM, FARTHEST) if change else 0


def allele_window(bases: bytes, offset: int, position: int, ref: bytes, alt: bytes) -> tuple[int, int]:
    """The window of one sequence ALT placed at ``position`` (0-based) with ``ref``; ``bases`` is the
    contig from ``offset`` on, reaching past every run the window can hold (or to the contig's ends)."""
    low, high = position, position + len(ref)
    start, trimmed_ref, trimmed_alt = trim(position, ref, alt)
    if not trimmed_ref and not trimmed_alt:
        return low, high
    first = start - offset
    last, after = first + len(trimmed_ref), first + len(trimmed_alt)
    haplotype = bases[:first] + trimmed_alt + bases[last:]
    left = right = 0
    for unit in range(1, max(len(trimmed_ref), len(trimmed_alt), SHORT_UNIT) + 1):
        # a gap sliding along the reference or the ALT haplotype, or the allele carried a unit along
        left = max(left, periodic_run(bases, first - 1, -1, unit), periodic_run(haplotype, first - 1, -1, unit))
        left = max(left, periodic_run(bases, first - 1, -1, -unit))
        right = max(right, periodic_run(bases, last, 1, -unit), periodic_run(haplotype, after, 1, -unit))
        right = max(right, periodic_run(bases, last, 1, unit))
    pad = length_reach(abs(len(trimmed_ref) - len(trimmed_alt)))
    low, high = min(low, start - left - pad), max(high, start + len(trimmed_ref) + right + pad)
    placed_low, placed_high = placed_read_reach(bases, haplotype, first, last, after)
    return min(low, offset + placed_low), max(high, offset + placed_high)


def placed_read_reach(bases: bytes, haplotype: bytes, first: int, last: int, after: int) -> tuple[int, int]:
    """Where a read of the ALT haplotype (``haplotype[first:after]`` stands for ``bases[first:last]``)
    that begins or ends at the allele's ``k``-th base (fewer differences to spare per base it
    lacks: the allele's longer side less one, less ``k``) puts its differences when an aligner places
    it ``d`` bases along (``|d|`` up to 6 or the allele's length): its run of bases in step with the
    reference, past the differences it may spare, and one base more for the gap that brings it
    back. Offsets in ``bases``.

    Each read's run is a walk from its end base (rightwards or leftwards) that spends at most its
    spare differences, ``REPEAT_REACH`` bases at most, and stops at a base past either string.
    Walked base by base that is cubic in the allele's length (an insertion of 400 bases: 18 to 20 CPU s),
    so an allele longer than ``WALKED`` bases compares the haplotype with the shifted reference once
    a shift (numpy, ``_counted_reach``) and reads each walk's end off the differences' running
    count: the walk from ``b`` with ``s`` to spare stops at the nearest of its ``s + 1``-th difference,
    the first base past a string and ``b + REPEAT_REACH`` (the walk counts its bases before it
    looks at one); it kept a base in step when it walked more bases than it met differences. Of a
    shift's walks only a few can reach furthest (``_leading_walks``). The same bases compared, the
    same ends, the same reach: tests/test_reverted_records.py holds it to the walks."""
    if max(after - first, last - first) <= WALKED:
        return _walked_reach(bases, haplotype, first, last, after)
    return _counted_reach(bases, haplotype, first, last, after)


WALKED = 20
"""Alleles of up to this many bases are walked base by base (numpy costs more a shift there)."""


def _read_starts(first: int, after: int, longer: int) -> list[tuple[int, int, int]]:
    """``(step, end base, differences to spare)`` of each read ``placed_read_reach`` places: one
    beginning (``step`` 1) and one ending (-1) at each ALT base, the ``k``-th sparing ``longer - 1 - k``."""
    starts: list[tuple[int, int, int]] = []
    for skipped in range(max(after - first, 1)):
        if longer - 1 - skipped < 0:
            break
        starts += [(1, first + skipped, longer - 1 - skipped), (-1, after - 1 - skipped, longer - 1 - skipped)]
    return starts


def _walked_reach(bases: bytes, haplotype: bytes, first: int, last: int, after: int) -> tuple[int, int]:
    """``placed_read_reach`` walked base by base: for short alleles."""
    low, high = first, last
    longer = max(last - first, after - first)
    moved = last - after
    starts = _read_starts(first, after, longer)
    read_size, reference_size = len(haplotype), len(bases)
    for distance in range(1, max(longer, SHORT_UNIT) + 1):
        for shift in (distance, -distance):
            for step, begin, spare in starts:
                matched = count = 0
                at = begin
                while count < REPEAT_REACH:
                    there = at + shift + (moved if at >= after else 0)
                    if not (0 <= at < read_size and 0 <= there < reference_size):
                        break
                    if haplotype[at] == bases[there]:
                        matched += 1
                    elif spare:
                        spare -= 1
                    else:
                        break
                    count += 1
                    at += step
                if matched:
                    placed = begin + shift + (moved if begin >= after else 0)
                    low = min(low, placed if step > 0 else placed - count)
                    high = max(high, placed + count + 1 if step > 0 else placed + 1)
    return low, high


def _counted_reach(bases: bytes, haplotype: bytes, first: int, last: int, after: int) -> tuple[int, int]:
    """``placed_read_reach`` from the differences' running counts, a shift at a time: for long alleles.

    Every base a walk may look at (and one more each way) is laid out from ``origin``: the
    haplotype's (-2 past it) beside the reference base it faces shifted (-1 past it); a base is a
    difference where both are bases and differ, an edge where either is past its string."""
    low, high = first, last
    longer = max(last - first, after - first)
    moved = last - after
    starts = _read_starts(first, after, longer)
    if not starts:
        return low, high
    limit = REPEAT_REACH
    forward = np.array([begin for step, begin, _ in starts if step > 0], dtype=np.int64)
    backward = np.array([begin for step, begin, _ in starts if step < 0], dtype=np.int64)
    spare = np.array([spare for step, _, spare in starts if step > 0], dtype=np.int64)
    lowest = min(int(forward.min()), int(backward.min()))
    highest = max(int(forward.max()), int(backward.max()))
    origin = lowest - limit - 1
    width = highest + limit + 2 - origin
    positions = np.arange(origin, origin + width, dtype=np.int64)
    inside = (positions >= 0) & (positions < len(haplotype))
    read_bases = np.full(width, -2, dtype=np.int16)
    read_bases[inside] = np.frombuffer(haplotype, dtype=np.uint8)[positions[inside]]
    unshifted = np.where(positions < after, positions, positions + moved)  # the base each faces at shift 0
    distances = max(longer, SHORT_UNIT)
    padding = 2 * distances + 2  # a base this far past the reference, shifted, is still past it
    reference_bases = np.full(len(bases) + 2 * padding, -1, dtype=np.int16)
    reference_bases[padding : padding + len(bases)] = np.frombuffer(bases, dtype=np.uint8)
    faced_at = np.clip(unshifted, -distances - 1, len(bases) + distances) + padding
    forward_at, backward_at = forward - origin, backward - origin
    forward_placed = np.where(forward < after, forward, forward + moved)
    backward_placed = np.where(backward < after, backward, backward + moved)
    far = origin + 2 * width  # beyond every walk's end, either way
    for distance in range(1, distances + 1):
        for shift in (distance, -distance):
            faced = reference_bases[faced_at + shift]
            edge = (faced < 0) | (read_bases < 0)
            differs = (read_bases != faced) & ~edge
            counts = np.zeros(width + 1, dtype=np.int64)  # differences before each laid-out base
            np.cumsum(differs.view(np.uint8), out=counts[1:])
            differs_at = np.flatnonzero(differs) + origin
            edges_at = np.flatnonzero(edge) + origin
            total = len(differs_at)
            differs_then_far = np.concatenate((differs_at, (far,)))
            near_then_differs = np.concatenate(((-far,), differs_at))
            edges_then_far = np.concatenate((edges_at, (far,)))
            near_then_edges = np.concatenate(((-far,), edges_at))
            own_edges = np.searchsorted(edges_at, (lowest, highest + 1))
            if own_edges[0] == own_edges[1]:  # no read's end base past a string: a few walks tell
                in_step_at = np.flatnonzero(~(differs | edge)) + origin
                reach = _leading_walks(
                    shift, counts, origin, differs_then_far, near_then_differs, in_step_at,
                    int(edges_then_far[own_edges[1]]), int(near_then_edges[own_edges[0]]),
                    first, after, longer - 1, len(forward), limit, forward_placed, backward_placed,
                )
                low, high = min(low, reach[0]), max(high, reach[1])
                continue
            # reads beginning at the allele, walking right: every walk's end
            stop = differs_then_far[np.minimum(counts[forward_at] + spare, total)]
            end = np.minimum(np.minimum(stop, edges_then_far[np.searchsorted(edges_at, forward)]), forward + limit)
            count = end - forward
            matched = count > counts[end - origin] - counts[forward_at]
            if matched.any():
                placed = forward_placed[matched] + shift
                low = min(low, int(placed.min()))
                high = max(high, int((placed + count[matched]).max()) + 1)
            # reads ending at the allele, walking left
            stop = near_then_differs[np.maximum(counts[backward_at + 1] - spare, 0)]
            end = np.maximum(np.maximum(stop, near_then_edges[np.searchsorted(edges_at, backward, side="right")]), backward - limit)
            count = backward - end
            matched = count > counts[backward_at + 1] - counts[end + 1 - origin]
            if matched.any():
                placed = backward_placed[matched] + shift
                low = min(low, int((placed - count[matched]).min()))
                high = max(high, int(placed.max()) + 1)
    return low, high


def _leading_walks(
    shift: int, counts: np.ndarray, origin: int, differs_then_far: np.ndarray, near_then_differs: np.ndarray,
    in_step_at: np.ndarray, edge_right: int, edge_left: int, first: int, after: int, differences: int, ends: int,
    limit: int, forward_placed: np.ndarray, backward_placed: np.ndarray,
) -> tuple[int, int]:
    """The reach of ``_counted_reach``'s walks at one shift when no read's end base lies past a
    string (``edge_right``, ``edge_left``: the nearest base past one right of the ends, and left),
    from O(log) of the walks rather than all of them.

    Rightwards, walk ``k`` begins at ``first + k`` with ``differences - k`` to spare. If walk ``k``
    stops short of ``limit``, so does every later one, at or before walk ``k``'s end: it looks at
    walk ``k``'s bases from the second on with one difference less to spare, so it meets its last
    one (or the same edge) no later; and if walk ``k`` kept no base in step, nor does a later one
    (it looks only at walk ``k``'s bases, all differences). So the walks that run the whole limit
    come first (found by bisection); among them one kept a base in step where one lies within its
    run, so the lowest and highest reach come from the first and last such base; of the others
    only the first can reach further. Leftwards the same, mirrored. ``counts`` are the differences
    before each base from ``origin``; the arrays hold the places of the differences and of the
    bases in step."""
    low, high = 1 << 62, -(1 << 62)
    total = len(differs_then_far) - 1
    for step in (1, -1):

        def begin(k: int, step: int = step) -> int:
            return first + k if step > 0 else after - 1 - k

        def stop(k: int, step: int = step) -> int:  # the difference walk k cannot spare (or far)
            if step > 0:
                return int(differs_then_far[min(int(counts[begin(k) - origin]) + differences - k, total)])
            return int(near_then_differs[max(int(counts[begin(k) - origin + 1]) - differences + k, 0)])

        def whole(k: int, step: int = step) -> bool:  # walk k runs the whole limit
            if step > 0:
                return min(edge_right, stop(k)) >= begin(k) + limit
            return max(edge_left, stop(k)) <= begin(k) - limit

        bottom, top = 0, ends
        while bottom < top:
            middle = (bottom + top) // 2
            if whole(middle):
                bottom = middle + 1
            else:
                top = middle
        placed = forward_placed if step > 0 else backward_placed
        if bottom:  # walks 0 .. bottom - 1 ran the whole limit
            final = bottom - 1
            if step > 0:
                index = int(np.searchsorted(in_step_at, begin(0)))
                if index < len(in_step_at):  # the first walk whose run holds the first base in step
                    at = int(in_step_at[index])
                    k = max(0, at - limit + 1 - first)
                    if k <= min(final, at - first):
                        low = min(low, int(placed[k]) + shift)
                index = int(np.searchsorted(in_step_at, begin(final) + limit)) - 1
                if index >= 0 and int(in_step_at[index]) >= begin(0):  # the last walk whose run holds the last
                    k = min(final, int(in_step_at[index]) - first)
                    high = max(high, int(placed[k]) + shift + limit + 1)
            else:
                index = int(np.searchsorted(in_step_at, begin(0), side="right")) - 1
                if index >= 0:
                    at = int(in_step_at[index])
                    k = begin(0) - min(begin(0), at + limit - 1)
                    if k <= final and at > begin(k) - limit:
                        high = max(high, int(placed[k]) + shift + 1)
                index = int(np.searchsorted(in_step_at, begin(final) - limit, side="right"))
                if index < len(in_step_at) and int(in_step_at[index]) <= begin(0):
                    k = begin(0) - max(begin(final), int(in_step_at[index]))
                    low = min(low, int(placed[k]) + shift - limit)
        if bottom < ends:  # the first walk that stops short
            k, at = bottom, begin(bottom)
            if step > 0:
                end = min(edge_right, stop(k))
                if end - at > int(counts[end - origin]) - int(counts[at - origin]):
                    low, high = min(low, int(placed[k]) + shift), max(high, int(placed[k]) + shift + end - at + 1)
            else:
                end = max(edge_left, stop(k))
                if at - end > int(counts[at - origin + 1]) - int(counts[end - origin + 1]):
                    low, high = min(low, int(placed[k]) + shift - at + end), max(high, int(placed[k]) + shift + 1)
    return low, high


def info_span(info: bytes) -> tuple[int | None, int | None]:
    """INFO's END and largest |SVLEN| (a key given twice: its largest value)."""
    end = length = None
    for item in info.split(b";"):
        key, _, value = item.partition(b"=")
        if key == b"END" and value.isdigit():
            end = max(end or 0, int(value))
        elif key == b"SVLEN":
            for part in value.split(b","):
                if part.lstrip(b"-").isdigit():
                    length = max(length or 0, abs(int(part)))
    return end, length


def symbolic_window(bases_of: Callable[[int, int], bytes], start: int, alt: bytes, info: bytes) -> tuple[int, int] | None:
    """The window of a symbolic ALT with a span (END and POS plus |SVLEN|, both where they
    disagree): a deletion (``<DEL>``, ``<CNV>``) as the deletion of those bases widened over their
    repeat; an insertion around its point, reaching its SVLEN; any other over its span and a base
    each way. None without a span. Its breakpoints are windowed apart (``structural_breakpoints``)."""
    kind = alt[1:-1].split(b":", 1)[0] if alt[:1] == b"<" and alt[-1:] == b">" else b""
    if not kind:
        return None
    end, length = info_span(info)
    if kind == b"INS":
        reach = length_reach(length or 1)
        return start + 1 - reach, start + 1 + reach
    stops = sorted({stop for stop in (end if end is not None and end > start else None, start + 1 + length if length else None) if stop})
    if not stops:
        return None
    low, high = start - 1, stops[-1] + 1
    for stop in stops if kind in DELETING else ():  # END and SVLEN disagreeing: the deletion of each span
        offset = max(0, start + 1 - REPEAT_REACH - 2)
        bases = bases_of(offset, stop + REPEAT_REACH + 2)
        first, size = start + 1 - offset, stop - start - 1
        deleted = bases[first : first + size]
        if len(deleted) == size:
            right = left = 0
            while size and right < REPEAT_REACH and first + size + right < len(bases):
                if bases[first + size + right] != deleted[right % size]:
                    break
                right += 1
            while size and left < REPEAT_REACH and first - 1 - left >= 0 and bases[first - 1 - left] == deleted[(size - 1 - left) % size]:
                left += 1
            reach = length_reach(size)
            low, high = min(low, start + 1 - left - reach), max(high, stop + right + reach)
    return low, high


def is_base_allele(alt: bytes) -> bool:
    """Bases, not a symbolic ALT or a breakend (a single one, ``G.`` or ``.G``, too)."""
    if len(alt) > 1 and (alt[:1] == b"." or alt[-1:] == b"."):
        return False
    return alt[:1] != b"<" and b"[" not in alt and b"]" not in alt


class RevertWindows:
    """The germline list's windows, per contig of the list; ``reference_name`` gives the reference's
    name for a list contig (None: not in the reference, windowed over its REF spans only)."""

    def __init__(self, variants: VariantList, reference: Reference, reference_name: Callable[[str], str | None]) -> None:
        self.variants = variants
        self.reference = reference
        self.reference_name = reference_name
        self.piece: tuple[str, int, bytes] = ("", 0, b"")
        self.drawn: dict[int, tuple[int, int]] = {}
        self.records: dict[str, np.ndarray] = {}  # per list contig, its short records by start...
        self.starts: dict[str, np.ndarray] = {}  # ...and their starts
        self.long_starts: dict[str, np.ndarray] = {}  # the long and symbolic records' windows, by start
        self.long_reach: dict[str, np.ndarray] = {}  # the farthest end among the first i + 1 of them
        sizes = np.diff(variants.bounds)
        long = sizes > LONG
        if variants.infos:
            long[np.fromiter(variants.infos, dtype=np.int64)] = True
        breakpoints: dict[str, list[tuple[int, int]]] = {}  # a structural allele's breakpoints, a mate's place among them
        for contig, low, high in variants.structural_breakpoints:
            breakpoints.setdefault(contig, []).append((low, high))
        empty = np.zeros(0, dtype=np.int64)
        mates_only = sorted(breakpoints.keys() - set(variants.names))  # a mate's contig without a record of its own
        for index, name in [*enumerate(variants.names), *((-1, name) for name in mates_only)]:
            rows = np.flatnonzero(variants.contig_of == index) if index >= 0 else empty
            rows = rows[np.argsort(variants.starts[rows], kind="stable")]
            short = rows[~long[rows]]
            self.records[name], self.starts[name] = short, variants.starts[short]
            windows = [window for row in rows[long[rows]].tolist() if (window := self.record_window(row)) != NO_WINDOW]
            windows += breakpoints.get(name, [])
            windows.sort()
            self.long_starts[name] = np.array([low for low, _ in windows], dtype=np.int64)
            self.long_reach[name] = np.maximum.accumulate(np.array([high for _, high in windows], dtype=np.int64))

    def bases(self, contig: str, start: int, end: int) -> bytes:
        """The reference's bases of ``[start, end)`` (clipped to the contig), from a piece read around the calls."""
        name, piece_start, piece = self.piece
        start, end = max(0, start), min(end, self.reference.lengths.get(contig, 0))
        if name != contig or start < piece_start or end > piece_start + len(piece):
            piece_start, piece = start, self.reference.fetch(contig, start, max(end, start + PIECE))
            self.piece = (contig, piece_start, piece)
        return piece[start - piece_start : max(end, start) - piece_start]

    def record_window(self, row: int) -> tuple[int, int]:
        """The window of list record ``row`` (``NO_WINDOW`` for a reference block), drawn once."""
        window = self.drawn.get(row)
        if window is not None:
            return window
        contig, start, ref, alts = self.variants.record(row)
        alts = [alt for alt in alts if alt not in NO_ALLELE]
        if not alts:
            self.drawn[row] = NO_WINDOW
            return NO_WINDOW
        low, high = start, start + len(ref)
        name = self.reference_name(contig)
        if name is not None:
            info = self.variants.infos.get(row, b"")
            near = NEAR + len(ref) + max(map(len, alts))
            offset = max(0, start - near)
            bases = self.bases(name, offset, start + len(ref) + near)
            for alt in alts:
                if not is_base_allele(alt):
                    span = symbolic_window(lambda begin, end: self.bases(name, begin, end), start, alt, info)
                elif alt != ref:
                    span = allele_window(bases, offset, *carried_left(bases, offset, start, ref, alt))
                else:
                    continue
                if span is not None:
                    low, high = min(low, span[0]), max(high, span[1])
        self.drawn[row] = window = (max(0, low), high)
        return window

    def touched(self, contig: str, start: int, end: int) -> bool:
        """Whether ``[start, end)`` of the list's contig ``contig`` touches a window."""
        long_starts = self.long_starts.get(contig)
        if long_starts is None:
            return False
        at = int(np.searchsorted(long_starts, end, side="left"))
        if at and self.long_reach[contig][at - 1] > start:
            return True  # a window starting before ``end`` reaches past ``start``
        starts, records = self.starts[contig], self.records[contig]
        first = bisect_left(starts.data, start - NEAR - LONG)  # type: ignore[arg-type]
        last = bisect_left(starts.data, end + NEAR)  # type: ignore[arg-type]
        drawn = self.drawn
        for row in records[first:last].tolist():
            window = drawn.get(row) or self.record_window(row)
            if window[0] < end and window[1] > start:
                return True
        return False


def call_span(start: int, ref: bytes, alts: list[bytes]) -> tuple[int, int]:
    """A call's REF span widened each side by the largest change of length among its ALTs of bases
    (an indel of L bases is reverted when it or the L bases each side of it touch a window)."""
    reach = max((abs(len(alt) - len(ref)) for alt in alts if alt not in (b".", b"*") and is_base_allele(alt)), default=0)
    return start - reach, start + len(ref) + reach
