"""Germline sites: the VCF of sites to revert, read once, and their revert windows.

A *window* ``[start, end)`` (0-based, half-open) is a stretch of reference where
sam-revert-germline reverts every difference from the reference: an SNV's base, an
MNP's span, an indel's span widened over the repeat in which an aligner may have
placed it (filters/revert.py applies them to reads).

Reading and windowing are two steps on purpose. The VCF is read first and every
record classified (:class:`GermlineSites`): single-base sites become their window
at once, other records are kept as their alleles. Their windows are computed only
once the input's header has said which contigs it has (:meth:`GermlineSites.table`),
with the reference looked up by the *input's* contig names through the input's
contig map (filters/fasta.py): the repeat an indel is widened over is read from
the same contig the reads are compared with, whatever the VCF calls it.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field

import numpy as np
from genoscrub.alleles import AGREEING, agrees_with_reference, normalised
from genoscrub.fasta import ContigReference
from genoscrub.report import InputError, Report
from genoscrub.revert import Window
from genoscrub.streams import open_input
from genoscrub.vcf import contig_lengths, split_header_text, text_blocks

REPEAT_LIMIT = 1000
"""How far an indel's window may grow over a repeat, each way (bases)."""

VCF_RECORD = re.compile(rb"^([^\t\n]+)\t([0-9]+)\t[^\t\n]*\t([^\t\n]+)\t([^\t\n]+)", re.M)
"""CHROM, POS, REF and ALT of every record line of a block at once (the rest is not read)."""

SYMBOLIC_REFERENCE_BLOCK = frozenset((b"<*>", b"<NON_REF>", b"<X>", b"."))
"""ALT values of gVCF reference blocks: no variant there."""


# --- the table the reads are checked against ------------------------------------------------


class SiteTable:
    """Revert windows per input contig: sorted int64 tables, no object per site.

    ``starts`` is sorted; ``reach[i]`` is the largest window end among the first
    ``i + 1`` windows, so one ``searchsorted`` tells whether a span touches any.
    One read's question (:meth:`windows`) reads them through memoryviews of the same
    memory: ``bisect`` and item reads give Python ints without numpy's per-call cost.
    """

    def __init__(self) -> None:
        self.starts: dict[str, np.ndarray] = {}
        self.ends: dict[str, np.ndarray] = {}
        self.reach: dict[str, np.ndarray] = {}
        self.items: dict[str, tuple[memoryview, memoryview, memoryview]] = {}
        """Per contig, ``starts``, ``ends`` and ``reach`` seen through memoryviews (no copy)."""

    def add_contig(self, name: str, starts: np.ndarray, ends: np.ndarray) -> None:
        order = np.argsort(starts, kind="stable")
        self.starts[name] = np.ascontiguousarray(starts[order], dtype=np.int64)
        self.ends[name] = np.ascontiguousarray(ends[order], dtype=np.int64)
        self.reach[name] = np.maximum.accumulate(self.ends[name]) if len(order) else self.ends[name]
        self.items[name] = (self.starts[name].data, self.ends[name].data, self.reach[name].data)

    def __len__(self) -> int:
        return sum(len(starts) for starts in self.starts.values())

    def touching(self, name: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Which spans ``[starts[i], ends[i])`` touch a window (vectorised)."""
        window_starts = self.starts.get(name)
        if window_starts is None or not len(window_starts):
            return np.zeros(len(starts), dtype=bool)
        index = np.searchsorted(window_starts, ends, side="left")
        before = np.maximum(index - 1, 0)
        return (index > 0) & (self.reach[name][before] > starts)

    def windows_of_spans(self, name: str, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`windows` for many spans at once: for each window a span touches, the
        span's index, the window's start and its end; by span, then as :meth:`windows`
        lists them (vectorised: one step back through the tables for every span at once)."""
        window_starts = self.starts.get(name)
        if window_starts is None or not len(starts):
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        window_ends, reach = self.ends[name], self.reach[name]
        index = np.searchsorted(window_starts, ends, side="left") - 1
        spans = np.arange(len(starts))
        found_spans: list[np.ndarray] = []
        found_windows: list[np.ndarray] = []
        while len(spans):
            at = index[spans]
            live = at >= 0
            live[live] = reach[at[live]] > starts[spans[live]]
            spans, at = spans[live], at[live]
            touching = window_ends[at] > starts[spans]
            found_spans.append(spans[touching])
            found_windows.append(at[touching])
            index[spans] = at - 1
        span_of = np.concatenate(found_spans) if found_spans else np.zeros(0, dtype=np.int64)
        window_of = np.concatenate(found_windows) if found_windows else np.zeros(0, dtype=np.int64)
        order = np.lexsort((window_of, span_of))
        span_of, window_of = span_of[order].astype(np.int64), window_of[order]
        return span_of, window_starts[window_of], window_ends[window_of]

    def windows(self, name: str, start: int, end: int, index: int | None = None) -> list[Window]:
        """The windows touching ``[start, end)``; ``index``, when known, is
        ``searchsorted`` of ``end`` in the window starts."""
        tables = self.items.get(name)
        if tables is None:
            return []
        window_starts, ends, reach = tables
        index = (bisect_left(window_starts, end) if index is None else index) - 1
        if index < 0 or reach[index] <= start:
            return []
        found: list[Window] = []
        while index >= 0 and reach[index] > start:
            window_end = ends[index]
            if window_end > start:
                found.append((window_starts[index], window_end))
            index -= 1
        found.reverse()
        return found


# --- windows of one record ------------------------------------------------------------------

GAP_BAR = 4
REACH_LIMIT = 50
"""An indel's window reaches its own length and ``GAP_BAR`` more bases past its repeat, each
way, up to this many bases: an aligner that may not open a gap near a read's end (bowtie2,
within ``GAP_BAR`` bases) writes the indel and the bases after it as mismatches instead."""


def indel_reach(size: int) -> int:
    """How far past its repeat the window of an allele that changes the length by ``size`` reaches."""
    return 1 + min(size + GAP_BAR, REACH_LIMIT) if size else 0


def repeat_extent(reference: bytes, offset: int, start: int, span: int, unit: bytes) -> tuple[int, int]:
    """How far the repeat of ``unit`` goes on left of ``start`` and right of ``start + span``
    (at most ``REPEAT_LIMIT`` each way): an aligner may place the indel of ``unit``
    anywhere in it. ``reference`` is the contig from ``offset`` on."""
    size = len(unit)
    if not size:
        return 0, 0
    right = 0
    while right < REPEAT_LIMIT and 0 <= start + span + right - offset < len(reference):
        if reference[start + span + right - offset] != unit[right % size]:
            break
        right += 1
    left = 0
    while left < REPEAT_LIMIT and 0 <= start - 1 - left - offset < len(reference):
        if reference[start - 1 - left - offset] != unit[(size - 1 - left) % size]:
            break
        left += 1
    return left, right


def deletion_window(reference: bytes, offset: int, start: int, deleted: bytes) -> Window:
    """Where a deletion of ``deleted`` at ``start`` may be placed or spelled: its span widened
    over its repeat and by :func:`indel_reach` each way."""
    left, right = repeat_extent(reference, offset, start, len(deleted), deleted)
    pad = indel_reach(len(deleted))
    return start - left - pad, start + len(deleted) + right + pad


def union(first: Window, second: Window) -> Window:
    return min(first[0], second[0]), max(first[1], second[1])


STR_UNIT = 6
"""The longest repeat unit an allele is widened over, whatever its own length (STRs have
units of 1 to 6 bases): a read that starts or ends at the allele and runs into a repeat
beside it may be placed a unit or more along the repeat, the allele then a mismatch there."""


def allele_window(
    reference: bytes, offset: int, position: int, reference_allele: bytes, alternate: bytes, hopeless: bool = False
) -> tuple[Window, bool]:
    """:func:`indel_window`, and whether ``reference`` was wide enough to tell it (False: a
    repeat beside the allele runs to its end). With ``hopeless``, a ``reference`` sure to be too
    narrow whatever its bases (:func:`shifted_ends_outside`) gives False at once, no window."""
    window = position, position + len(reference_allele)
    start, ref, alt = normalised(position, reference_allele, alternate)
    if not ref and not alt:
        return window, True
    end = start + len(ref)
    first, last = start - offset, end - offset
    if hopeless and shifted_ends_outside(len(reference), first, last, first + len(alt), max(len(ref), len(alt)) - 1):
        return window, False
    haplotype = reference[:first] + alt + reference[last:]
    counts = [0, 0]
    complete = True
    after = first + len(alt)
    for period in range(1, max(len(ref), len(alt), STR_UNIT) + 1):
        for side, text, index, step, partner in (
            (0, reference, first - 1, -1, period),  # a gap sliding left in the reference
            (0, haplotype, first - 1, -1, period),  # ...or in the ALT haplotype
            (0, reference, first - 1, -1, -period),  # the allele carried a period left
            (1, reference, last, 1, -period),
            (1, haplotype, after, 1, -period),
            (1, reference, last, 1, period),
        ):
            size = len(text)
            count = 0
            while count < REPEAT_LIMIT:  # inline, not a function: it runs millions of times
                other = index + partner
                if not (0 <= index < size and 0 <= other < size):
                    complete = False
                    break
                if text[index] != text[other]:
                    break
                count += 1
                index += step
            if count > counts[side]:
                counts[side] = count
    left, right = counts
    pad = indel_reach(abs(len(ref) - len(alt)))
    window = union(window, (start - left - pad, end + right + pad))
    (low, high), shifted_complete = shifted_window(reference, haplotype, first, last, after, max(len(ref), len(alt)) - 1)
    return union(window, (offset + low, offset + high)), complete and shifted_complete


def shifted_window(reference: bytes, haplotype: bytes, first: int, last: int, after: int, mismatches: int) -> tuple[Window, bool]:
    """Where a read of the ALT haplotype that begins or ends at the allele may put its
    differences when an aligner places it ``d`` bases along (``|d|`` up to ``STR_UNIT`` or
    the allele's length), as offsets in ``reference``.

    Placed ``d`` along, such a read keeps in step with the reference as far as the haplotype
    matches the reference ``d`` bases over (a repeat the ALT allele itself may make: ``CG``
    written before ``CGGGG``), then needs a gap of ``|d|`` to come back in step. An aligner
    prefers that to the allele's own spelling only while it writes fewer mismatches than the
    allele has bases (``mismatches`` of them at most); it may put the gap anywhere up to there
    (a gap bar pushes it past the mismatches), even at the far end of a repeat (an SNV that
    extends a repeat by a base: the read ending at it placed a unit back, the unit inserted at
    the repeat's start). The window reaches one base past the read's bases in step: a gap
    there touches it by the indel rules of filters/revert.py. The allele is
    ``reference[first:last]``, its ALT ``haplotype[first:after]``. Also returns whether the
    strings were wide enough to tell.

    Each read end walks from its base (forward or back) while it spends at most ``spare``
    mismatches, up to ``REPEAT_LIMIT`` bases, and stops short at a base past either string.
    Walked base by base that was cubic in the allele's length (a 400-base insertion took half a
    minute), so each shift compares the haplotype with the shifted reference once (numpy) and
    finds a walk's end from the mismatches' prefix counts: the walk from ``b`` with ``s`` to
    spare stops at the first of the ``s + 1``-th mismatch from ``b``, the first base past a
    string (then the strings were not wide enough) and ``b + REPEAT_LIMIT`` (checked first, as
    the walk checks its count before it looks at a base); it matched a base if it walked more
    bases than it met mismatches. Only a few walks a shift can set the window
    (:func:`_dominant_walks`); where a read end's own base lies past a string, every walk's end
    is found at once. The same bases compared, the same ends: the same window and flag as the
    walks (tests/test_sam_revert_germline_windows.py holds it to them). Alleles up to
    ``WALKED`` bases are still walked: numpy's cost a shift is more there.
    """
    if max(after - first, last - first) <= WALKED:
        return _walked_window(reference, haplotype, first, last, after, mismatches)
    return _counted_window(reference, haplotype, first, last, after, mismatches)


WALKED = 20
"""Alleles up to this long are walked base by base (numpy's cost a shift is more there)."""


def _walked_window(reference: bytes, haplotype: bytes, first: int, last: int, after: int, mismatches: int) -> tuple[Window, bool]:
    """:func:`shifted_window` walked base by base: for short alleles."""
    low, high = first, last
    complete = True
    read_size, reference_size = len(haplotype), len(reference)
    moved = last - after  # a haplotype base after the allele is this far from its reference base
    ends = _read_ends(first, after, mismatches)
    for distance in range(1, max(after - first, last - first, STR_UNIT) + 1):
        for shift in (distance, -distance):
            for step, begin, spare in ends:
                matched = count = 0
                read_at = begin
                while count < REPEAT_LIMIT:  # inline, not a function: it runs for every allele
                    reference_at = read_at + shift if read_at < after else read_at + moved + shift
                    if not (0 <= read_at < read_size and 0 <= reference_at < reference_size):
                        complete = False
                        break
                    if haplotype[read_at] == reference[reference_at]:
                        matched += 1
                    elif spare:
                        spare -= 1
                    else:
                        break
                    count += 1
                    read_at += step
                if not matched:
                    continue
                placed = begin + shift if begin < after else begin + moved + shift  # where the read's end lands
                if step > 0:  # its bases on [placed, placed + count), the gap at most at the end
                    low, high = min(low, placed), max(high, placed + count + 1)
                else:
                    low, high = min(low, placed - count), max(high, placed + 1)
    return (low, high), complete


def _counted_window(reference: bytes, haplotype: bytes, first: int, last: int, after: int, mismatches: int) -> tuple[Window, bool]:
    """:func:`shifted_window` from the mismatches' prefix counts, shift by shift: for long alleles."""
    low, high = first, last
    complete = True
    read_size, reference_size = len(haplotype), len(reference)
    moved = last - after  # a haplotype base after the allele is this far from its reference base
    ends = _read_ends(first, after, mismatches)
    if not ends:
        return (low, high), complete
    limit = REPEAT_LIMIT
    forward = np.array([begin for step, begin, _ in ends if step > 0], dtype=np.int64)
    backward = np.array([begin for step, begin, _ in ends if step < 0], dtype=np.int64)
    spare = np.array([spare for step, _, spare in ends if step > 0], dtype=np.int64)
    # every base a walk may look at, and one more each way: [origin, origin + width)
    origin = min(int(forward.min()), int(backward.min())) - limit - 1
    width = max(int(forward.max()), int(backward.max())) + limit + 2 - origin
    positions = np.arange(origin, origin + width, dtype=np.int64)
    read_placed = (positions >= 0) & (positions < read_size)
    read_bases = np.full(width, -2, dtype=np.int16)  # -2: past the haplotype
    read_bases[read_placed] = np.frombuffer(haplotype, dtype=np.uint8)[positions[read_placed]]
    in_step = np.where(positions < after, positions, positions + moved)  # the reference base each faces unshifted
    distances = max(after - first, last - first, STR_UNIT)
    padding = 2 * distances + 2  # a base this far past the reference, shifted, is still past it
    reference_bases = np.full(reference_size + 2 * padding, -1, dtype=np.int16)  # -1: past the reference
    reference_bases[padding : padding + reference_size] = np.frombuffer(reference, dtype=np.uint8)
    faced_at = np.clip(in_step, -distances - 1, reference_size + distances) + padding
    forward_at, backward_at = forward - origin, backward - origin
    forward_placed = np.where(forward < after, forward, forward + moved)
    backward_placed = np.where(backward < after, backward, backward + moved)
    far = origin + 2 * width  # past every walk's end, either way
    lowest, highest = min(int(forward.min()), int(backward.min())), max(int(forward.max()), int(backward.max()))
    for distance in range(1, distances + 1):
        for shift in (distance, -distance):
            faced = reference_bases[faced_at + shift]
            past = (faced < 0) | (read_bases < 0)
            mismatched = (read_bases != faced) & ~past
            counts = np.zeros(width + 1, dtype=np.int64)
            np.cumsum(mismatched.view(np.uint8), out=counts[1:])  # (a bool cumsum is slower)
            mismatch_at = np.flatnonzero(mismatched) + origin
            past_at = np.flatnonzero(past) + origin
            total = len(mismatch_at)
            mismatches_then_far = np.concatenate((mismatch_at, (far,)))
            near_then_mismatches = np.concatenate(((-far,), mismatch_at))
            edges_then_far = np.concatenate((past_at, (far,)))
            near_then_edges = np.concatenate(((-far,), past_at))
            begins_past = np.searchsorted(past_at, (lowest, highest + 1))
            if begins_past[0] == begins_past[1]:  # no read end's own base past a string: the few walks that tell
                matches_at = np.flatnonzero(~(mismatched | past)) + origin
                found = _dominant_walks(shift, counts, origin, mismatches_then_far, near_then_mismatches, matches_at,
                                        int(edges_then_far[begins_past[1]]), int(near_then_edges[begins_past[0]]),
                                        first, after, mismatches, len(forward), limit, forward_placed, backward_placed)
                low, high = min(low, found[0]), max(high, found[1])
                complete = complete and found[2]
                continue
            # reads that begin at the allele, walking right
            nth = counts[forward_at] + spare
            stop = mismatches_then_far[np.minimum(nth, total)]
            edge = edges_then_far[np.searchsorted(past_at, forward)]
            reach = forward + limit
            end = np.minimum(np.minimum(stop, edge), reach)
            if np.any((edge < stop) & (edge < reach)):
                complete = False
            count = end - forward
            matched = count > counts[end - origin] - counts[forward_at]
            if matched.any():
                placed = forward_placed[matched] + shift
                low = min(low, int(placed.min()))
                high = max(high, int((placed + count[matched]).max()) + 1)
            # reads that end at the allele, walking left
            nth = counts[backward_at + 1] - 1 - spare
            stop = near_then_mismatches[np.maximum(nth + 1, 0)]
            edge = near_then_edges[np.searchsorted(past_at, backward, side="right")]
            reach = backward - limit
            end = np.maximum(np.maximum(stop, edge), reach)
            if np.any((edge > stop) & (edge > reach)):
                complete = False
            count = backward - end
            matched = count > counts[backward_at + 1] - counts[end + 1 - origin]
            if matched.any():
                placed = backward_placed[matched] + shift
                low = min(low, int((placed - count[matched]).min()))
                high = max(high, int(placed.max()) + 1)
    return (low, high), complete


def shifted_ends_outside(reference_size: int, first: int, last: int, after: int, mismatches: int) -> bool:
    """Whether a read end of :func:`shifted_window`, placed the farthest along, has its own base
    past ``reference`` (then its flag is False whatever the bases: each walk looks at its
    first base before anything else). A long insertion's reads placed its length along leave
    the bases fetched near it (:func:`sequence_window`'s first try) at once."""
    if REPEAT_LIMIT < 1:
        return False
    moved = last - after
    farthest = max(after - first, last - first, STR_UNIT)
    for _, begin, _ in _read_ends(first, after, mismatches):
        placed = begin if begin < after else begin + moved
        if placed + farthest >= reference_size or placed - farthest < 0:
            return True
    return False


def _dominant_walks(
    shift: int, counts: np.ndarray, origin: int, mismatches_then_far: np.ndarray, near_then_mismatches: np.ndarray,
    matches_at: np.ndarray, edge_right: int, edge_left: int, first: int, after: int, mismatches: int, ends: int,
    limit: int, forward_placed: np.ndarray, backward_placed: np.ndarray,
) -> tuple[int, int, bool]:
    """The reach of :func:`shifted_window`'s walks at one shift when no read end's own base lies
    past a string (``edge_right``, ``edge_left``: the nearest base past one, right of the ends and
    left of them), from the few walks that can tell (O(log) of them, not every end).

    Walking right, the read end ``k`` begins at ``first + k`` with ``mismatches - k`` to spare.
    If walk ``k`` stops short of ``REPEAT_LIMIT`` (``limit``), so does every later one, and
    no later than it: it looks at the bases after walk ``k``'s first with one mismatch less,
    so it meets its last mismatch, or the same edge, at or before walk ``k``'s end; and if walk
    ``k`` matched no base, nor does a later one (the bases it looks at are walk ``k``'s, all
    mismatches). So the walks that run the whole limit come first (found by bisection); among
    them a walk matched a base where one lies within its reach, so the first and the last such
    reaches come from the first and last match there; of the rest only the first can reach
    further or leave the strings. The same mirrored walking left. ``counts`` are the mismatches
    before each base from ``origin``; the arrays of mismatches and matches hold their places."""
    low, high, complete = 1 << 62, -(1 << 62), True
    total = len(mismatches_then_far) - 1
    for step in (1, -1):
        def begin(k: int, step: int = step) -> int:
            return first + k if step > 0 else after - 1 - k

        def stop(k: int, step: int = step) -> int:  # where walk k meets the mismatch it cannot spare (or far)
            if step > 0:
                return int(mismatches_then_far[min(int(counts[begin(k) - origin]) + mismatches - k, total)])
            return int(near_then_mismatches[max(int(counts[begin(k) - origin + 1]) - mismatches + k, 0)])

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
            last = bottom - 1
            if step > 0:
                index = int(np.searchsorted(matches_at, begin(0)))
                if index < len(matches_at):  # the first walk whose reach holds the first match
                    match = int(matches_at[index])
                    k = max(0, match - limit + 1 - first)
                    if k <= min(last, match - first):
                        low = min(low, int(placed[k]) + shift)
                index = int(np.searchsorted(matches_at, begin(last) + limit)) - 1
                if index >= 0 and int(matches_at[index]) >= begin(0):  # the last walk whose reach holds the last match
                    k = min(last, int(matches_at[index]) - first)
                    high = max(high, int(placed[k]) + shift + limit + 1)
            else:
                index = int(np.searchsorted(matches_at, begin(0), side="right")) - 1
                if index >= 0:
                    match = int(matches_at[index])
                    k = begin(0) - min(begin(0), match + limit - 1)
                    if k <= last and match > begin(k) - limit:
                        high = max(high, int(placed[k]) + shift + 1)
                index = int(np.searchsorted(matches_at, begin(last) - limit, side="right"))
                if index < len(matches_at) and int(matches_at[index]) <= begin(0):
                    k = begin(0) - max(begin(last), int(matches_at[index]))
                    low = min(low, int(placed[k]) + shift - limit)
        if bottom < ends:  # the first walk that stops short
            k, at = bottom, begin(bottom)
            if step > 0:
                end = min(edge_right, stop(k))
                count = end - at
                met = int(counts[end - origin]) - int(counts[at - origin])
                complete = complete and not edge_right < stop(k)
                if count > met:
                    low, high = min(low, int(placed[k]) + shift), max(high, int(placed[k]) + shift + count + 1)
            else:
                end = max(edge_left, stop(k))
                count = at - end
                met = int(counts[at - origin + 1]) - int(counts[end - origin + 1])
                complete = complete and not edge_left > stop(k)
                if count > met:
                    low, high = min(low, int(placed[k]) + shift - count), max(high, int(placed[k]) + shift + 1)
    return low, high, complete


def _read_ends(first: int, after: int, mismatches: int) -> list[tuple[int, int, int]]:
    """``(step, end base, mismatches)`` of each read end :func:`shifted_window` tries: a read that
    begins at each base of the ALT allele (``step`` 1) or ends at each (``step`` -1), and the
    mismatches its shifted spelling may write (one fewer per allele base it does not carry)."""
    ends = []
    for skipped in range(max(after - first, 1)):
        spare = mismatches - skipped
        if spare < 0:
            break
        ends += [(1, first + skipped, spare), (-1, after - 1 - skipped, spare)]
    return ends


def indel_window(reference: bytes, offset: int, position: int, reference_allele: bytes, alternate: bytes) -> Window:
    """The stretch where an aligner may place or spell this allele (REF and ALT of sequence
    bases): its REF span, widened over every repeat it could be moved along.

    An aligner may write any allele with gaps (an SNV as ``1I1D``, an MNP or a complex
    allele as a deletion here and an insertion there) and may slide a gap of ``g`` bases
    anywhere in a stretch that repeats with period ``g``, in the reference (a deletion) or
    in the ALT haplotype (an insertion); and a read that begins or ends near the allele,
    in a repeat of period ``g``, may be placed ``g`` bases (or a multiple) along it, the
    allele carried there as mismatches. So the allele's trimmed span is widened, each way,
    by the longest stretch beside it that repeats with a period up to ``STR_UNIT`` (or the
    allele's length); a length change adds one base, its length and ``GAP_BAR``
    (``REACH_LIMIT`` at most) each way, for the mismatches an aligner writes near a read's
    end instead of a gap; and every allele reaches where a read that begins or ends at it,
    placed a few bases along, puts its differences (:func:`shifted_window`). ``reference`` is the contig from ``offset`` on, wide enough
    around the site (``REPEAT_LIMIT`` and the allele each way).
    """
    return allele_window(reference, offset, position, reference_allele, alternate)[0]


NEAR = 64
"""Bases fetched each side of an allele first; where a repeat runs further, ``REPEAT_LIMIT``."""


def sequence_window(reference: ContigReference, contig: str, position: int, ref: bytes, alternate: bytes) -> Window:
    """:func:`indel_window` of one allele on the input's contig ``contig``: the reference
    around it read near first, widely only where a repeat beside it runs further."""
    for attempt, margin in enumerate((NEAR + len(ref) + len(alternate), REPEAT_LIMIT + 2 * (len(ref) + len(alternate) + STR_UNIT))):
        offset = max(0, position - margin)
        context = reference.fetch(contig, offset, position + len(ref) + margin)
        # a near try sure to fall short ends at once: its window would not be used
        window, complete = allele_window(context, offset, position, ref, alternate, hopeless=attempt == 0)
        if complete:
            break
    return window


RUN_REACH = 24
"""Bases gathered each side of an SNV for its repeats (a longer one: the SNV is windowed alone)."""


def _comparisons() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Column pairs compared for the runs of :func:`allele_window`, for every period, on the
    ``2 * RUN_REACH + 1`` bases around an SNV: ``(left, left partners, right, right partners)``,
    one row per (period, kind), ``RUN_REACH`` columns outward; a pair past the gathered bases
    compares a column with itself (always equal: the run then reaches the edge)."""
    centre, width = RUN_REACH, 2 * RUN_REACH + 1
    rows: dict[str, list[list[int]]] = {"left": [], "left_partner": [], "right": [], "right_partner": []}
    for period in range(1, STR_UNIT + 1):
        for partner in (period, -period):
            columns = [centre - 1 - i for i in range(RUN_REACH)]
            partners = [c + partner if 0 <= c + partner < width else c for c in columns]
            rows["left"].append(columns)
            rows["left_partner"].append(partners)
            columns = [centre + 1 + i for i in range(RUN_REACH)]
            partners = [c - partner if 0 <= c - partner < width else c for c in columns]
            rows["right"].append(columns)
            rows["right_partner"].append(partners)
    return tuple(np.array(rows[key], dtype=np.int64) for key in ("left", "left_partner", "right", "right_partner"))  # type: ignore[return-value]


LEFT, LEFT_PARTNER, RIGHT, RIGHT_PARTNER = _comparisons()
CENTRE_PAIRS = [(row, period - 1, RUN_REACH - period, RUN_REACH + period) for row, period in enumerate(
    period for period in range(1, STR_UNIT + 1) for _ in (0, 1)) if row % 2 == 0]
"""The comparisons that involve the SNV's own base: (row, column, left partner, right partner)."""


def runs(equal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``equal`` (rows, kinds, columns): the longest run of leading True over the
    kinds, and whether one ran through every column."""
    first_false = np.argmin(equal, axis=2)
    through = np.take_along_axis(equal, first_false[..., None], axis=2)[..., 0]
    counts = np.where(through, equal.shape[2], first_false)
    return counts.max(axis=1), np.asarray(through.any(axis=1))


class ReferenceDisagrees(Exception):
    """A germline record's REF is not the reference's bases at its POS: ``index`` is the record's
    among those windowed (the caller finds its line)."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


def snv_windows(
    reference: ContigReference, contig: str, positions: np.ndarray, alternates: np.ndarray, references: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`indel_window` of many SNVs at once (0-based positions, ALT bases as byte values),
    with numpy over the ``RUN_REACH`` bases each side of every SNV; an SNV in a longer repeat
    (or by a contig's end) is windowed alone. With ``references`` (each SNV's REF base), an SNV
    whose REF does not agree with the reference there (``alleles.AGREEING``) raises
    :class:`ReferenceDisagrees` naming the first."""
    starts, ends = positions.copy(), positions + 1
    if not len(positions) or contig not in reference:
        return starts, ends
    for first in range(0, len(positions), 1 << 13):
        chunk = slice(first, first + (1 << 13))
        bases = reference.around(contig, positions[chunk], RUN_REACH)
        alternate = alternates[chunk]
        if references is not None:
            disagreeing = np.flatnonzero(~AGREEING[references[chunk], bases[:, RUN_REACH]])
            if len(disagreeing):
                raise ReferenceDisagrees(first + int(disagreeing[0]))
        equal = bases[:, LEFT] == bases[:, LEFT_PARTNER]
        left, longer = runs(equal)
        for row, column, partner, _ in CENTRE_PAIRS:  # the ALT haplotype differs only at the SNV
            equal[:, row, column] = bases[:, partner] == alternate
        count, through = runs(equal)
        left, longer = np.maximum(left, count), longer | through
        equal = bases[:, RIGHT] == bases[:, RIGHT_PARTNER]
        right, through = runs(equal)
        longer |= through
        for row, column, _, partner in CENTRE_PAIRS:
            equal[:, row, column] = bases[:, partner] == alternate
        count, through = runs(equal)
        right, longer = np.maximum(right, count), longer | through
        placed = bases[:, RUN_REACH] != 0  # an SNV past the contig's end touches no read
        low, high, through = shifted_snv_reach(bases, alternate)
        longer |= through
        starts[chunk] -= np.where(placed, np.maximum(left, low), 0)
        ends[chunk] += np.where(placed, np.maximum(right, high), 0)
        for row in np.flatnonzero(longer & placed).tolist():
            index = first + row
            position = int(positions[index])
            reference_allele = bytes((int(bases[row, RUN_REACH]),))
            starts[index], ends[index] = sequence_window(reference, contig, position, reference_allele, bytes((int(alternates[index]),)))
    return starts, ends


def shifted_snv_reach(bases: np.ndarray, alternate: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`shifted_window` of many SNVs at once, on the ``RUN_REACH`` bases each side of each
    (rows of ``bases``, the SNV in the middle column): how far it reaches left of the SNV and
    right of its base, and whether a run met the gathered bases' edge (then the SNV is windowed
    alone). An SNV has no mismatch to spare: a read that begins or ends at it, placed ``d``
    along, needs the ALT base to equal the reference ``d`` bases over, then keeps in step as
    far as the reference repeats with period ``|d|`` from there; the reach ends one base past
    that (the gap that brings it back in step touches it)."""
    centre = RUN_REACH
    rows = len(bases)
    low = np.zeros(rows, dtype=np.int64)
    high = np.zeros(rows, dtype=np.int64)
    through = np.zeros(rows, dtype=bool)
    for distance in range(1, STR_UNIT + 1):
        for shift in (distance, -distance):
            hit = bases[:, centre + shift] == alternate
            if not hit.any():
                continue
            width = RUN_REACH - max(shift, 0)  # right of the SNV: column k against k + shift
            right_columns = np.arange(centre + 1, centre + 1 + width)
            right_run, right_through = runs((bases[:, right_columns] == bases[:, right_columns + shift])[:, None])
            width = RUN_REACH - max(-shift, 0)  # left of it: column -k against -k + shift
            left_columns = np.arange(centre - 1, centre - 1 - width, -1)
            left_run, left_through = runs((bases[:, left_columns] == bases[:, left_columns + shift])[:, None])
            # from the SNV: the read that begins at it reaches [shift, shift + 1 + run + 1),
            # the read that ends at it [shift - 1 - run, shift + 1)
            reach_right = shift + 1 + right_run
            reach_left = 1 + left_run - shift
            high = np.where(hit, np.maximum(high, reach_right), high)
            low = np.where(hit, np.maximum(low, reach_left), low)
            through |= hit & (right_through | left_through)
    return low, high, through


def shortens(reference_allele: bytes, alternate: bytes) -> bool:
    """Whether an allele deletes reference bases (a deletion, or a complex allele shorter than REF)."""
    if is_sequence_allele(alternate):
        return len(alternate) < len(reference_allele)
    return symbolic_kind(alternate) in DELETING_KINDS


def is_sequence_allele(allele: bytes) -> bool:
    """An ALT written as bases, not ``<DEL>`` or a breakend (a single one, ``G.`` or ``.G``, too)."""
    if len(allele) > 1 and (allele.startswith(b".") or allele.endswith(b".")):
        return False
    return not allele.startswith(b"<") and b"[" not in allele and b"]" not in allele


DELETING_KINDS = frozenset((b"DEL", b"CNV"))
"""Symbolic ALTs (VCF 4.4, 1.4.5) that may remove reference bases."""

INSERTING_KINDS = frozenset((b"INS", b"DUP", b"MEI", b"CNV"))
"""Symbolic ALTs that may add bases (``<INS>``, ``<INS:ME:ALU>``, ``<DUP:TANDEM>``, ``<MEI>``, a
``<CNV>`` gain): a read of the added bases may have no place on the reference."""

INSERTION_MATE_REACH = 1000
"""Bases each side of a germline insertion's REF span where a pair with an unmapped mate goes
(:func:`inserts`, ``RecordReverter.unmapped_pair_at_insertion``). A carrier's read that lies
wholly (or nearly) in the inserted bases has no place on the reference: it is unmapped and placed
at its mate, which lies within a fragment of the inserted bases (its POS up to an insert size less
a read from the point, each side), and the mate is flagged mate-unmapped. Read length alone is not
enough: the mates of a 400-base ``<INS>``'s reads start up to 250 bases before the point in a
library of 350-base fragments. 1000 bases, about the longest insert of a paired-end library, is the
reach sam-mask-regions gives an unmapped read placed beside a region."""


def inserts(reference_allele: bytes, alternate: bytes) -> bool:
    """Whether an ALT adds bases the reference lacks: a sequence allele longer than REF (an
    insertion, a complex allele that grows), a symbolic one of ``INSERTING_KINDS``, a single
    breakend (``G.``, ``.G``: joined to sequence with no place here) and a breakend with bases
    between REF's and the join (``GAAC[chr2:5000[``)."""
    if alternate.startswith(b"<"):
        return symbolic_kind(alternate) in INSERTING_KINDS
    if len(alternate) > 1 and (alternate.startswith(b".") or alternate.endswith(b".")):
        return True
    if b"[" in alternate or b"]" in alternate:
        return len(BREAKEND_MATE.sub(b"", alternate)) > len(reference_allele)
    return len(alternate) > len(reference_allele) and alternate != b"*"


def symbolic_kind(allele: bytes) -> bytes:
    """``DEL`` of ``<DEL>`` or ``<DEL:ME:ALU>``; empty for a breakend."""
    if allele.startswith(b"<") and allele.endswith(b">"):
        return allele[1:-1].split(b":", 1)[0]
    return b""


NUMBER = re.compile(rb"-?[0-9]{1,12}")
"""An INFO number as the windows read it (``--5``, ``+5`` or ``5e3`` is none: left out)."""


def info_numbers(value: bytes) -> list[int]:
    """The numbers of a comma-separated INFO value (``-150,150``), those off ``NUMBER`` left out."""
    return [int(part) for part in value.split(b",") if NUMBER.fullmatch(part)]


def info_span(info: bytes) -> tuple[int | None, int | None]:
    """INFO ``END`` (1-based, last base of the REF span) and the largest ``|SVLEN|``, where given;
    a key written twice (malformed: htslib reads the first copy, GATK the last) by its largest
    value, whatever the order, as the VCF commands and the audit read it (fail closed)."""
    end = length = None
    for item in info.split(b";"):
        key, _, value = item.partition(b"=")
        if key == b"END" and value.isdigit():
            end = max(end or 0, int(value))
        elif key == b"SVLEN":
            lengths = [abs(number) for number in info_numbers(value)]
            if lengths:
                length = max(length or 0, *lengths)
    return end, length


BREAKPOINT_REACH = 50
"""Bases windowed each side of a structural allele's breakpoint (a breakend's, an SV's ends): a
read across the junction is clipped there, or aligned on past it as far as the other side's
bases happen to match the reference (a base in 4 by chance, a run of them rarer by 4 each base;
a local aligner also runs on through a mismatch or two where the clip would cost more): every
clip edge of a carrier's read lies within a few bases of the breakpoint, and all within this
many bases (as ``REACH_LIMIT`` bounds an indel's reach). A clip whose edge lies in the window is
removed by the clip rule of filters/revert.py, whichever way it points."""

IMPRECISE_REACH = 500
"""Bases windowed each side of the breakpoints of an ``IMPRECISE`` record that gives no
``CIPOS``/``CIEND``: SV callers write such a POS or END as an estimate (Manta's, DELLY's and
LUMPY's intervals run to a few hundred bases), the junction the reads show lies near it."""

BREAKEND_MATE = re.compile(rb"[\[\]]([^\[\]]+):([0-9]{1,12})[\[\]]")
"""A breakend's mate place in ALT (``G[chr2:321682[``, ``]chr13:123456]T``; VCF 4.3, 5.4)."""

MATE_PLACE_KEYS = (b"POS2", b"END2", b"MATEPOS")
"""INFO keys naming an SV's other breakpoint (DELLY, the SV mergers): a POS on CHR2's contig (the
record's own without one), or ``chr:pos``; and Delly's ``END`` where CHR2 is given."""


def _interval_reach(values: list[bytes], imprecise: bool) -> int:
    """The widest a confidence interval (``CIPOS=-150,150``) reaches, each way, over every copy
    of the key; ``IMPRECISE_REACH`` for an IMPRECISE record without one."""
    numbers = [abs(number) for value in values for number in info_numbers(value)]
    if numbers:
        return max(numbers)
    return IMPRECISE_REACH if imprecise else 0


def breakpoint_windows(chrom: bytes, position: int, alternates: list[bytes], info: bytes) -> list[tuple[bytes, int, int]]:
    """The windows of the breakpoints of a record's structural alleles (symbolic ALTs, breakends),
    ``(contig as the VCF names it, start, end)``, 0-based half-open, where a carrier's reads are
    clipped or split: each reaches a base each side of its junction, ``BREAKPOINT_REACH`` bases
    more each way, and the confidence interval around it (CIPOS at POS, CIEND at END or SVLEN's
    end, the wider of them at a mate's place; ``IMPRECISE`` without them ``IMPRECISE_REACH``).

    The breakpoints: POS (a breakend joins after POS, ``t[p[``, or before it, ``]p]t``; the
    base before and after are covered), END, POS plus each ``|SVLEN|`` of a span allele (both,
    where END and SVLEN disagree), a breakend's mate place from its ALT, and the places INFO
    names for the other end (``CHR2`` with ``POS2``, ``END2``, ``MATEPOS`` or Delly's ``END``):
    a one-record breakend, or a pair whose other record is missing, leaves its mate's side to
    these. An ``<INS>`` has its POS alone. Keys are read whether or not the header declares
    them (fail closed). ``position`` is 0-based POS."""
    structural = [allele for allele in alternates if not is_sequence_allele(allele)]
    if not structural:
        return []
    items: dict[bytes, list[bytes]] = {}
    for item in info.split(b";"):
        key, _, value = item.partition(b"=")
        items.setdefault(key, []).append(value)
    imprecise = b"IMPRECISE" in items
    start_reach = BREAKPOINT_REACH + _interval_reach(items.get(b"CIPOS", []), imprecise)
    end_reach = BREAKPOINT_REACH + _interval_reach(items.get(b"CIEND", []), imprecise)
    mate_reach = max(start_reach, end_reach)

    def around(contig: bytes, base: int, reach: int) -> tuple[bytes, int, int]:
        """The window of a junction beside 0-based ``base`` (after or before it)."""
        return contig, max(0, base - 1 - reach), base + 2 + reach

    found = [around(chrom, position, start_reach)]
    ends = [int(value) - 1 for value in items.get(b"END", []) if value.isdigit() and len(value) <= 12]
    spans = [abs(number) for value in items.get(b"SVLEN", []) for number in info_numbers(value)]
    found += [around(chrom, end, end_reach) for end in ends if end > position]
    if any(symbolic_kind(allele.upper()) not in (b"", b"INS") for allele in structural):  # an <INS>'s SVLEN is no span
        found += [around(chrom, position + length, end_reach) for length in spans if length]
    seconds = [value or chrom for value in items.get(b"CHR2", [])]
    places: list[tuple[bytes, int]] = []
    for allele in structural:
        places += [(contig, int(number)) for contig, number in BREAKEND_MATE.findall(allele) if contig[:1] != b"<"]
    for key in (*MATE_PLACE_KEYS, *((b"END",) if seconds else ())):
        for value in b",".join(items.get(key, [])).split(b","):
            contig, _, number = value.rpartition(b":")
            if number.isdigit() and len(number) <= 12 and contig[:1] != b"<":
                places += [(contig, int(number))] if contig else [(second, int(number)) for second in seconds or [chrom]]
    found += [around(contig, number - 1, mate_reach) for contig, number in places if number > 0]
    return found


def symbolic_window(reference: ContigReference, contig: str, position: int, ref: bytes, allele: bytes, info: bytes) -> Window | None:
    """The window of a symbolic ALT with a span (``END`` or ``SVLEN``; both where they disagree,
    the union of POS..END and POS..POS+|SVLEN|: VCF 4.4 makes SVLEN the authority, older writers
    END): a deletion (``<DEL>``, ``<CNV>``) like a sequence deletion of those reference bases,
    widened over its repeat; an insertion (``<INS>``) around its point, reaching its length;
    others (``<DUP>``, ``<INV>``, ...) their span and one base each way. None: no span given (a
    breakend). Its breakpoints get windows of their own besides (:func:`breakpoint_windows`)."""
    kind = symbolic_kind(allele)
    end, length = info_span(info)
    if not kind:
        return None
    if kind == b"INS":
        pad = indel_reach(length or 1)
        return position + 1 - pad, position + 1 + pad
    by_end = end if end is not None and end > position else None
    lasts = sorted({last for last in (by_end, position + 1 + length if length else None) if last})
    if not lasts:
        return None
    window = position - 1, max(lasts) + 1
    if kind in DELETING_KINDS and contig in reference:
        for last in lasts:  # END and SVLEN disagreeing: the deletion of each span (fail closed)
            deleted_start = position + 1
            margin = REPEAT_LIMIT + 2
            context = reference.fetch(contig, max(0, deleted_start - margin), last + margin)
            offset = max(0, deleted_start - margin)
            deleted = context[deleted_start - offset : last - offset]
            if len(deleted) == last - deleted_start:
                window = union(window, deletion_window(context, offset, deleted_start, deleted))
    return window


def left_aligned(reference: ContigReference, contig: str, position: int, ref: bytes, alternate: bytes) -> tuple[int, bytes, bytes]:
    """An insertion's or deletion's leftmost placement along its repeat, as ``bcftools norm``
    writes it: ``606 C CGCGC`` in ``(GC)3`` at 601-606 becomes ``600 A AGCGC``. Callers and
    unnormalised lists write one allele at either end of its repeat, or with more bases than
    it needs (``1982 CCC C`` for ``1981 TCC T``); its window and its exact span
    (:func:`length_change`) are made from this one spelling, so every spelling gives one
    answer. Any other allele (an SNV, an MNP, a complex one) comes back as written (0-based
    ``position``)."""
    start, trimmed_ref, trimmed_alt = normalised(position, ref, alternate)
    if bool(trimmed_ref) == bool(trimmed_alt) or contig not in reference:
        return position, ref, alternate
    bases = trimmed_ref or trimmed_alt
    moved = chunk_start = start
    before = b""
    while moved > 0 and start - moved < REPEAT_LIMIT:
        if moved == chunk_start:  # the bases before the chunk read so far
            chunk_start = max(0, moved - NEAR)
            before = reference.fetch(contig, chunk_start, moved).upper()
            if len(before) != moved - chunk_start:  # not in the reference: as written
                return position, ref, alternate
        if before[moved - 1 - chunk_start] != bases[-1]:
            break
        bases = bases[-1:] + bases[:-1]
        moved -= 1
    if moved == 0:  # at the contig's first base: no base to anchor it
        return position, ref, alternate
    if moved == chunk_start:
        chunk_start, before = moved - 1, reference.fetch(contig, moved - 1, moved).upper()
    anchor = before[moved - 1 - chunk_start : moved - chunk_start]
    if trimmed_ref:
        return moved - 1, anchor + bases, anchor
    return moved - 1, anchor, anchor + bases


def placements(contig: str, start: int, ref: bytes, alternates: list[bytes], reference: ContigReference) -> list[tuple[int, bytes, bytes]]:
    """Each ALT of a record as ``(start, REF, ALT)``: an indel at its leftmost placement
    (:func:`left_aligned`), any other allele as written."""
    return [
        left_aligned(reference, contig, start, ref, allele) if is_sequence_allele(allele) and allele != ref else (start, ref, allele)
        for allele in alternates
    ]


def record_window(
    contig: str, start: int, ref: bytes, placed: list[tuple[int, bytes, bytes]], info: bytes, reference: ContigReference
) -> Window:
    """The window of one multi-base, multi-allelic or symbolic record at ``start`` (the union
    over its ALTs, each as :func:`placements` places it); ``contig`` is the input's name for the
    record's contig."""
    window = start, start + len(ref)
    for allele_start, allele_ref, allele in placed:
        if contig not in reference:
            break
        if is_sequence_allele(allele):
            if allele != allele_ref:
                window = union(window, sequence_window(reference, contig, allele_start, allele_ref, allele))
        else:
            symbolic = symbolic_window(reference, contig, start, ref, allele, info)
            if symbolic is not None:
                window = union(window, symbolic)
    return max(0, window[0]), window[1]


# --- the VCF ---------------------------------------------------------------------------------

REFERENCE_DISAGREES = "germline record's REF differs from the reference: another build, or not normalised"
"""A germline list of another build (without ``##contig`` lengths to tell it) would window the
wrong places and protect nothing: each record's REF is compared with the reference as its
windows are made (nucleotide codes as the sets of bases they stand for), and the first that
differs stops the command, naming its line, as a keep record does."""


class DisagreeingRecord(Exception):
    """A record (0-based ``start``, its ``ref`` as the list holds it) whose REF the reference disagrees with."""

    def __init__(self, start: int, ref: bytes) -> None:
        super().__init__(start)
        self.start = start
        self.ref = ref


@dataclass
class ContigSites:
    """One VCF contig's records: single-base sites as window starts, the others as alleles."""

    points: list[np.ndarray] = field(default_factory=list)
    """0-based positions of SNVs (one base, one ALT), one array per block..."""
    point_alternates: list[np.ndarray] = field(default_factory=list)
    """...their ALT bases (byte values, uppercase)..."""
    point_references: list[np.ndarray] = field(default_factory=list)
    """...and their REF bases (byte values, as written), checked against the reference."""
    positions: list[np.ndarray] = field(default_factory=list)
    """0-based positions of the other records, one array per block..."""
    alleles: list[bytes] = field(default_factory=list)
    """...and ``REF<TAB>ALTs<TAB>INFO`` of each (uppercase ALTs without reference blocks, comma-separated;
    INFO only where an ALT is symbolic): one bytes object a record, a few dozen bytes, for
    the millions of records of a whole-genome call set."""

    def count(self) -> int:
        return sum(len(points) for points in self.points) + len(self.alleles)


ContigWindows = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[tuple[int, int, int]], np.ndarray, np.ndarray]
"""One VCF contig's windows on an input contig (``GermlineSites._contig_windows``)."""


@dataclass
class GermlineTables:
    """The windows of an input's contigs: all of them, and those of germline deletions
    (a skip with an edge in one may be the deletion written as an intron)."""

    windows: SiteTable
    deletions: SiteTable
    length_changes: dict[str, LengthChanges] = field(default_factory=dict)
    """The alleles that change the length, each at its exact span, per input contig: where a
    carrier's read clipped before one starts (``revert.clip_start``)."""
    insertions: SiteTable = field(default_factory=SiteTable)
    """Where a pair with an unmapped mate marks a carrier of an insertion (``INSERTION_MATE_REACH``)."""


class LengthChanges:
    """One contig's alleles that change the length (a deletion, an insertion, a complex allele
    of another length, a symbolic deletion with its END), each at its exact span: REF and ALT
    trimmed of the bases they share, as ``(start, end, ALT bases)`` sorted by ``end``."""

    def __init__(self, spans: list[tuple[int, int, int]]) -> None:
        spans.sort(key=lambda span: (span[1], span[0], span[2]))
        self.spans = spans
        self.ends = [end for _, end, _ in spans]

    def ending_before(self, position: int, reach: int) -> list[tuple[int, int, int]]:
        """The spans ending in ``[position - reach, position]``, the nearest end first."""
        first = bisect_left(self.ends, position - reach)
        last = bisect_left(self.ends, position + 1)
        return self.spans[first:last][::-1]


def length_change(start: int, ref: bytes, allele: bytes, info: bytes) -> tuple[int, int, int] | None:
    """The exact span of an allele that changes the length, ``(start, end, ALT bases)`` with REF
    and ALT trimmed of the bases they share (``ACGT`` to ``A`` at 99: ``(100, 103, 0)``; give
    an indel its leftmost placement first, :func:`left_aligned`); a symbolic deletion over its
    END, or without one over its ``|SVLEN|`` as :func:`symbolic_window` reads it (``<DEL>`` at
    99 with END=200 or SVLEN=-101: ``(100, 200, 0)``); a symbolic insertion of SVLEN bases as
    the sequence insertion it stands for (``<INS>`` at 99 with SVLEN=60: ``(100, 100, 60)``, as
    ``A`` to ``A`` and 60 bases), so a clip is placed across it the same whichever way the list
    writes it; None for any other allele (an ``<INS>`` of unknown length among them)."""
    if is_sequence_allele(allele):
        if len(allele) == len(ref) or allele.strip(b"ACGTN") or ref.strip(b"ACGTN"):
            return None  # no length change, or no bases (``*``, ``.``)
        head = 0
        while head < min(len(ref), len(allele)) and ref[head] == allele[head]:
            head += 1
        tail = 0
        while tail < min(len(ref), len(allele)) - head and ref[len(ref) - 1 - tail] == allele[len(allele) - 1 - tail]:
            tail += 1
        return start + head, start + len(ref) - tail, len(allele) - head - tail
    end, length = info_span(info)
    last = end if end is not None and end > start else (start + 1 + length if length else None)
    kind = symbolic_kind(allele)
    if kind in DELETING_KINDS and last is not None and last > start + 1:
        return start + 1, last, 0
    if kind == b"INS" and length:
        return start + 1, start + 1, length
    return None


def length_change_spans(start: int, ref: bytes, allele: bytes, info: bytes) -> list[tuple[int, int, int]]:
    """:func:`length_change`, and for a symbolic deletion whose ``|SVLEN|`` disagrees with its END
    the span SVLEN gives too (VCF 4.4 makes SVLEN the authority; a clip at either end is placed
    across its deletion)."""
    change = length_change(start, ref, allele, info)
    if change is None:
        return []
    _, length = info_span(info)
    if not is_sequence_allele(allele) and symbolic_kind(allele) in DELETING_KINDS and length and start + 1 + length != change[1]:
        return [change, (start + 1, start + 1 + length, 0)]
    return [change]


class GermlineSites:
    """Every record of the germline VCF is a site, whatever its genotypes or FILTER
    (fail closed); reference blocks (ALT ``<*>``/``<NON_REF>`` only) are not variants
    and are skipped. ``contigs``: the VCF's contigs with their lengths (``##contig``
    lines, then the names its records use)."""

    def __init__(self, path: str, report: Report) -> None:
        self.path = path
        self.report = report
        self.contigs: dict[str, int | None] = {}
        self.by_contig: dict[str, ContigSites] = {}
        self.breakpoints: dict[str, list[Window]] = {}
        """The windows of structural alleles' breakpoints (:func:`breakpoint_windows`) by the VCF's
        name of their contig, a breakend's mate's among them."""
        with open_input(path) as stream:
            header, blocks = split_header_text(text_blocks(stream, path), path)
            self.contigs.update(contig_lengths(header.meta))
            for first_line, text in blocks:
                self._add_block(first_line, text)
        for name in (*self.by_contig, *self.breakpoints):  # a mate's contig may have no record
            self.contigs.setdefault(name, None)

    def __len__(self) -> int:
        """Sites kept (records minus reference blocks)."""
        return sum(sites.count() for sites in self.by_contig.values())

    def _add_block(self, first_line: int, text: bytes) -> None:
        fields: list[tuple[bytes, bytes, bytes, bytes]] = VCF_RECORD.findall(text)
        lines: list[bytes] | None = None
        if len(fields) != text.count(b"\n"):
            fields, lines = self._records_or_error(first_line, text)
        points: dict[bytes, tuple[list[int], list[bytes], list[bytes]]] = {}
        others: dict[bytes, tuple[list[int], list[bytes]]] = {}
        for index, (chrom, pos, ref, alt) in enumerate(fields):
            start = int(pos) - 1
            contig_points, contig_alternates, contig_references = points.setdefault(chrom, ([], [], []))
            if len(ref) == 1 and len(alt) == 1:
                if alt == b".":
                    self.report.add("reference_blocks_skipped")
                    continue
                contig_points.append(start)
                contig_alternates.append(alt)
                contig_references.append(ref)
                continue
            alternates = [allele for allele in alt.upper().split(b",") if allele not in SYMBOLIC_REFERENCE_BLOCK]
            if not alternates:
                self.report.add("reference_blocks_skipped")
                continue
            info = b""
            if not all(map(is_sequence_allele, alternates)):
                if lines is None:
                    lines = text.split(b"\n")
                columns = lines[index].split(b"\t", 8)
                info = columns[7] if len(columns) > 7 else b""
                self._count_symbolic(alternates, info)
                # as written: a mate's contig keeps its case
                written = [allele for allele in alt.split(b",") if allele.upper() not in SYMBOLIC_REFERENCE_BLOCK]
                for contig, window_start, window_end in breakpoint_windows(chrom, start, written, info):
                    self.breakpoints.setdefault(contig.decode(errors="replace"), []).append((window_start, window_end))
            other_starts, other_alleles = others.setdefault(chrom, ([], []))
            other_starts.append(start)
            other_alleles.append(b"\t".join((ref.upper(), b",".join(alternates), info)))
        for chrom, (starts, alternates, references) in points.items():
            sites = self._contig(chrom)
            sites.points.append(np.array(starts, dtype=np.int64))
            sites.point_alternates.append(np.frombuffer(b"".join(alternates).upper(), dtype=np.uint8))
            sites.point_references.append(np.frombuffer(b"".join(references), dtype=np.uint8))
        for chrom, (starts, alleles) in others.items():
            sites = self._contig(chrom)
            sites.positions.append(np.array(starts, dtype=np.int64))
            sites.alleles.extend(alleles)

    def _line_of(self, chrom: str, start: int, ref: bytes) -> int | None:
        """The line of the first record at ``chrom`` and 0-based ``start`` with REF ``ref`` (any
        case), read again from the file (only to name it in an error)."""
        try:
            with open_input(self.path) as stream:
                _, blocks = split_header_text(text_blocks(stream, self.path), self.path)
                for first_line, text in blocks:
                    for index, line in enumerate(text.split(b"\n")):
                        match = VCF_RECORD.match(line)
                        if match is None or match.group(1).decode(errors="replace") != chrom or int(match.group(2)) != start + 1:
                            continue
                        if match.group(3).upper() == ref.upper():
                            return first_line + index
        except (OSError, InputError):
            pass  # a pipe read once: the error names the file alone
        return None

    def _count_symbolic(self, alternates: list[bytes], info: bytes) -> None:
        """A symbolic ALT with a span (END, SVLEN; ``<INS>``) is windowed over it, and a breakend
        at its mate's place too; one without (a single breakend ``G.``, a ``<DUP>`` without END
        or SVLEN) only at POS, and counted so."""
        end, length = info_span(info)
        for allele in alternates:
            if is_sequence_allele(allele):
                continue
            kind = symbolic_kind(allele)
            spanned = kind == b"INS" or (bool(kind) and (end is not None or length is not None)) or bool(BREAKEND_MATE.search(allele))
            self.report.add("symbolic_alleles_windowed" if spanned else "symbolic_alleles_at_ref_span")

    def _contig(self, chrom: bytes) -> ContigSites:
        name = chrom.decode(errors="replace")
        sites = self.by_contig.get(name)
        if sites is None:
            sites = self.by_contig[name] = ContigSites()
        return sites

    def _records_or_error(self, first_line: int, text: bytes) -> tuple[list[tuple[bytes, bytes, bytes, bytes]], list[bytes]]:
        """The records of a block with a line the block-wide expression did not read, and
        their lines: blank lines pass, anything else is an error naming its line."""
        records: list[tuple[bytes, bytes, bytes, bytes]] = []
        lines: list[bytes] = []
        for index, line in enumerate(text.split(b"\n")[:-1]):
            match = VCF_RECORD.match(line)
            if match is not None:
                records.append((match.group(1), match.group(2), match.group(3), match.group(4)))
                lines.append(line)
            elif line:
                raise InputError("not a VCF record (need CHROM, POS, ID, REF, ALT)", self.path, first_line + index)
        return records, lines

    def table(self, vcf_to_input: dict[str, list[str]], reference: ContigReference) -> GermlineTables:
        """The windows per input contig; ``vcf_to_input`` maps each of the VCF's contig names to
        every input contig that spells it (a header may declare ``chrM`` and ``MT``, or a VCF
        hold ``chr1`` and ``1``: each input contig gets the windows of every VCF contig that
        names it, fail closed), ``reference`` is read by the input's names. The sites are let
        go as their windows are made (memory stays near one copy of them): a table is made once."""
        found: dict[str, list[ContigWindows]] = {}
        no_windows = np.zeros(0, dtype=np.int64)
        for vcf_name, windows in self.breakpoints.items():
            breakpoint_starts = np.array([start for start, _ in windows], dtype=np.int64)
            breakpoint_ends = np.array([end for _, end in windows], dtype=np.int64)
            for input_name in vcf_to_input.get(vcf_name, []):
                found.setdefault(input_name, []).append(
                    (breakpoint_starts, breakpoint_ends, no_windows, no_windows, [], no_windows, no_windows)
                )
        self.breakpoints = {}
        for vcf_name in list(self.by_contig):
            sites = self.by_contig.pop(vcf_name)
            for input_name in vcf_to_input.get(vcf_name, []):
                try:
                    found.setdefault(input_name, []).append(self._contig_windows(sites, input_name, reference))
                except DisagreeingRecord as error:
                    raise InputError(REFERENCE_DISAGREES, self.path, self._line_of(vcf_name, error.start, error.ref)) from None
            del sites
        tables = GermlineTables(SiteTable(), SiteTable())
        for input_name, parts in found.items():
            tables.windows.add_contig(input_name, *(np.concatenate([part[k] for part in parts]) for k in (0, 1)))
            tables.deletions.add_contig(input_name, *(np.concatenate([part[k] for part in parts]) for k in (2, 3)))
            tables.insertions.add_contig(input_name, *(np.concatenate([part[k] for part in parts]) for k in (5, 6)))
            spans = [span for part in parts for span in part[4]]
            if spans:
                tables.length_changes[input_name] = LengthChanges(spans)
        return tables

    def _contig_windows(self, sites: ContigSites, input_name: str, reference: ContigReference) -> ContigWindows:
        """The windows of one VCF contig's sites on input contig ``input_name``: all of them
        (starts, ends), then those of its deletions, then the exact spans of its alleles that
        change the length (:func:`length_change`), then (starts, ends) the reach of its insertions'
        mates (:func:`inserts`, ``INSERTION_MATE_REACH`` each side of the REF span as written)."""
        positions = np.concatenate(sites.points)
        try:
            point_starts, point_ends = snv_windows(
                reference, input_name, positions, np.concatenate(sites.point_alternates), np.concatenate(sites.point_references)
            )
        except ReferenceDisagrees as error:
            references = np.concatenate(sites.point_references)
            raise DisagreeingRecord(int(positions[error.index]), bytes(references[error.index : error.index + 1])) from None
        starts, ends = [point_starts], [point_ends]
        deletion_starts: list[int] = []
        deletion_ends: list[int] = []
        changes: list[tuple[int, int, int]] = []
        insertion_starts: list[int] = []
        insertion_ends: list[int] = []
        if sites.alleles:
            window_starts: list[int] = []
            window_ends: list[int] = []
            for start, record in zip(np.concatenate(sites.positions).tolist(), sites.alleles, strict=True):
                ref, alternate_field, info = record.split(b"\t")
                if not agrees_with_reference(ref, reference.fetch(input_name, start, start + len(ref))):
                    raise DisagreeingRecord(start, ref)
                alternates = alternate_field.split(b",")
                if any(inserts(ref, allele) for allele in alternates):
                    insertion_starts.append(start - INSERTION_MATE_REACH)
                    insertion_ends.append(start + len(ref) + INSERTION_MATE_REACH)
                placed = placements(input_name, start, ref, alternates, reference)
                window_start, window_end = record_window(input_name, start, ref, placed, info, reference)
                window_starts.append(window_start)
                window_ends.append(window_end)
                if any(shortens(ref, allele) for allele in alternates):
                    deletion_starts.append(window_start)
                    deletion_ends.append(window_end)
                for allele_placed in placed:
                    changes += length_change_spans(*allele_placed, info)
            starts.append(np.array(window_starts, dtype=np.int64))
            ends.append(np.array(window_ends, dtype=np.int64))
        return (
            np.concatenate(starts), np.concatenate(ends),
            np.array(deletion_starts, dtype=np.int64), np.array(deletion_ends, dtype=np.int64), changes,
            np.array(insertion_starts, dtype=np.int64), np.array(insertion_ends, dtype=np.int64),
        )  # fmt: skip
