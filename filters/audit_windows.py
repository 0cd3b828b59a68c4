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
    back. Offsets in ``bases``."""
    low, high = first, last
    longer = max(last - first, after - first)
    moved = last - after
    starts: list[tuple[int, int, int]] = []
    for skipped in range(max(after - first, 1)):
        if longer - 1 - skipped < 0:
            break
        starts += [(1, first + skipped, longer - 1 - skipped), (-1, after - 1 - skipped, longer - 1 - skipped)]
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
