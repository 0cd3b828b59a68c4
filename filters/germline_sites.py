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
from dataclasses import dataclass, field

import numpy as np
from genoscrub.fasta import ContigReference
from genoscrub.population import normalised
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
    """Revert windows per input contig: sorted numpy arrays, no object per site.

    ``starts`` is sorted; ``reach[i]`` is the largest window end among the first
    ``i + 1`` windows, so one ``searchsorted`` tells whether a span touches any.
    """

    def __init__(self) -> None:
        self.starts: dict[str, np.ndarray] = {}
        self.ends: dict[str, np.ndarray] = {}
        self.reach: dict[str, np.ndarray] = {}

    def add_contig(self, name: str, starts: np.ndarray, ends: np.ndarray) -> None:
        order = np.argsort(starts, kind="stable")
        self.starts[name] = starts[order]
        self.ends[name] = ends[order]
        self.reach[name] = np.maximum.accumulate(self.ends[name]) if len(order) else self.ends[name]

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

    def windows(self, name: str, start: int, end: int, index: int | None = None) -> list[Window]:
        """The windows touching ``[start, end)``; ``index``, when known, is
        ``searchsorted`` of ``end`` in the window starts."""
        window_starts = self.starts.get(name)
        if window_starts is None:
            return []
        index = (int(window_starts.searchsorted(end)) if index is None else index) - 1
        found: list[Window] = []
        ends, reach = self.ends[name], self.reach[name]
        while index >= 0 and reach.item(index) > start:
            window_end = ends.item(index)
            if window_end > start:
                found.append((window_starts.item(index), window_end))
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


def periodic_left(text: bytes, offset: int, point: int, period: int) -> int:
    """How many bases left of ``point`` repeat the base ``period`` after them (at most
    ``REPEAT_LIMIT``): how far a gap of ``period`` bases can slide left of ``point``."""
    count = 0
    index = point - 1 - offset
    while count < REPEAT_LIMIT and index >= 0 and index + period < len(text) and text[index] == text[index + period]:
        count += 1
        index -= 1
    return count


def periodic_right(text: bytes, offset: int, point: int, period: int) -> int:
    """How many bases from ``point`` on repeat the base ``period`` before them (at most ``REPEAT_LIMIT``)."""
    count = 0
    index = point - offset
    while count < REPEAT_LIMIT and period <= index < len(text) and text[index] == text[index - period]:
        count += 1
        index += 1
    return count


def shift_left(text: bytes, offset: int, point: int, period: int) -> int:
    """How many bases left of ``point`` repeat the base ``period`` before them (at most
    ``REPEAT_LIMIT``): how far a read's bases left of an allele can be shifted by ``period``
    and still match, carrying the allele's differences that far left."""
    count = 0
    index = point - 1 - offset
    while count < REPEAT_LIMIT and period <= index < len(text) and text[index] == text[index - period]:
        count += 1
        index -= 1
    return count


def shift_right(text: bytes, offset: int, point: int, period: int) -> int:
    """The same, right of ``point``: bases that repeat the base ``period`` after them."""
    count = 0
    index = point - offset
    while count < REPEAT_LIMIT and index >= 0 and index + period < len(text) and text[index] == text[index + period]:
        count += 1
        index += 1
    return count


STR_UNIT = 6
"""The longest repeat unit an allele is widened over, whatever its own length (STRs have
units of 1 to 6 bases): a read that starts or ends at the allele and runs into a repeat
beside it may be placed a unit or more along the repeat, the allele then a mismatch there."""


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
    end instead of a gap. ``reference`` is the contig from ``offset`` on, wide enough
    around the site.
    """
    window = position, position + len(reference_allele)
    start, ref, alt = normalised(position, reference_allele, alternate)
    if not ref and not alt:
        return window
    end = start + len(ref)
    haplotype = reference[: max(0, start - offset)] + alt + reference[max(0, end - offset) :]
    left = right = 0
    for period in range(1, max(len(ref), len(alt), STR_UNIT) + 1):
        left = max(
            left,
            periodic_left(reference, offset, start, period),
            periodic_left(haplotype, offset, start, period),
            shift_left(reference, offset, start, period),
        )
        right = max(
            right,
            periodic_right(reference, offset, end, period),
            periodic_right(haplotype, offset, start + len(alt), period),
            shift_right(reference, offset, end, period),
        )
    pad = indel_reach(abs(len(ref) - len(alt)))
    return union(window, (start - left - pad, end + right + pad))


RUN_REACH = 48
"""Bases gathered each side of an SNV for its repeats (a longer one: the SNV is windowed alone)."""


def runs(compared: np.ndarray) -> np.ndarray:
    """Per row, how many leading columns are True."""
    return np.cumprod(compared, axis=1).sum(axis=1) if compared.shape[1] else np.zeros(len(compared), dtype=np.int64)


def snv_windows(reference: ContigReference, contig: str, positions: np.ndarray, alternates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`indel_window` of many SNVs at once (0-based positions, ALT bases as byte values),
    with numpy over the ``RUN_REACH`` bases each side of every SNV; an SNV in a longer repeat
    is windowed alone."""
    starts, ends = positions.copy(), positions + 1
    if not len(positions) or contig not in reference:
        return starts, ends
    centre = RUN_REACH
    for first in range(0, len(positions), 1 << 13):
        chunk = slice(first, first + (1 << 13))
        bases = reference.around(contig, positions[chunk], RUN_REACH)
        haplotype = bases.copy()
        haplotype[:, centre] = alternates[chunk]
        left = np.zeros(len(bases), dtype=np.int64)
        right = np.zeros(len(bases), dtype=np.int64)
        longer = np.zeros(len(bases), dtype=bool)
        for period in range(1, STR_UNIT + 1):
            before = np.arange(centre - 1, -1, -1)  # columns left of the SNV, outward
            after = np.arange(centre + 1, 2 * RUN_REACH + 1)  # right of it, outward
            for text in (bases, haplotype):
                inside = before[before + period <= 2 * RUN_REACH]
                counted = runs(text[:, inside] == text[:, inside + period])
                longer |= counted == len(inside)
                left = np.maximum(left, counted)
                inside = after[after - period >= 0]
                counted = runs(text[:, inside] == text[:, inside - period])
                longer |= counted == len(inside)
                right = np.maximum(right, counted)
            inside = before[before - period >= 0]
            counted = runs(bases[:, inside] == bases[:, inside - period])
            longer |= counted == len(inside)
            left = np.maximum(left, counted)
            inside = after[after + period <= 2 * RUN_REACH]
            counted = runs(bases[:, inside] == bases[:, inside + period])
            longer |= counted == len(inside)
            right = np.maximum(right, counted)
        starts[chunk] -= left
        ends[chunk] += right
        for row in np.flatnonzero(longer).tolist():  # a repeat past the gathered bases, or a contig's end
            index = first + row
            position = int(positions[index])
            offset = max(0, position - REPEAT_LIMIT - 2 * STR_UNIT)
            text = reference.fetch(contig, offset, position + REPEAT_LIMIT + 2 * STR_UNIT)
            reference_allele = text[position - offset : position - offset + 1]
            starts[index], ends[index] = indel_window(text, offset, position, reference_allele, bytes((int(alternates[index]),)))
    return starts, ends


def shortens(reference_allele: bytes, alternate: bytes) -> bool:
    """Whether an allele deletes reference bases (a deletion, or a complex allele shorter than REF)."""
    if is_sequence_allele(alternate):
        return len(alternate) < len(reference_allele)
    return symbolic_kind(alternate) in DELETING_KINDS


def is_sequence_allele(allele: bytes) -> bool:
    """An ALT written as bases, not ``<DEL>`` or a breakend."""
    return not allele.startswith(b"<") and b"[" not in allele and b"]" not in allele


DELETING_KINDS = frozenset((b"DEL", b"CNV"))
"""Symbolic ALTs (VCF 4.4, 1.4.5) that may remove reference bases."""


def symbolic_kind(allele: bytes) -> bytes:
    """``DEL`` of ``<DEL>`` or ``<DEL:ME:ALU>``; empty for a breakend."""
    if allele.startswith(b"<") and allele.endswith(b">"):
        return allele[1:-1].split(b":", 1)[0]
    return b""


def info_span(info: bytes) -> tuple[int | None, int | None]:
    """INFO ``END`` (1-based, last base of the REF span) and the largest ``|SVLEN|``, where given."""
    end = length = None
    for item in info.split(b";"):
        key, _, value = item.partition(b"=")
        if key == b"END" and value.isdigit():
            end = int(value)
        elif key == b"SVLEN":
            lengths = [abs(int(part)) for part in value.split(b",") if part.lstrip(b"-").isdigit()]
            length = max(lengths) if lengths else None
    return end, length


def symbolic_window(reference: ContigReference, contig: str, position: int, ref: bytes, allele: bytes, info: bytes) -> Window | None:
    """The window of a symbolic ALT with a span (``END`` or ``SVLEN``): a deletion (``<DEL>``,
    ``<CNV>``) like a sequence deletion of those reference bases, widened over its repeat;
    an insertion (``<INS>``) around its point, reaching its length; others (``<DUP>``,
    ``<INV>``, ...) their span and one base each way. None: no span given (a breakend)."""
    kind = symbolic_kind(allele)
    end, length = info_span(info)
    if not kind:
        return None
    if kind == b"INS":
        pad = indel_reach(length or 1)
        return position + 1 - pad, position + 1 + pad
    last = end if end is not None and end > position else (position + 1 + length if length else None)
    if last is None:
        return None
    if kind in DELETING_KINDS and contig in reference:
        deleted_start = position + 1
        margin = REPEAT_LIMIT + 2
        context = reference.fetch(contig, max(0, deleted_start - margin), last + margin)
        offset = max(0, deleted_start - margin)
        deleted = context[deleted_start - offset : last - offset]
        if len(deleted) == last - deleted_start:
            return deletion_window(context, offset, deleted_start, deleted)
    return position - 1, last + 1


def record_window(contig: str, start: int, ref: bytes, alternates: list[bytes], info: bytes, reference: ContigReference) -> Window:
    """The window of one multi-base, multi-allelic or symbolic record (the union over its ALTs);
    ``contig`` is the input's name for the record's contig."""
    window = start, start + len(ref)
    sequence_alleles = [allele for allele in alternates if is_sequence_allele(allele)]
    indels = [allele for allele in sequence_alleles if allele != ref]
    if indels and contig in reference:
        margin = REPEAT_LIMIT + 2 * max(len(ref), *(len(a) for a in indels)) + 2 * REACH_LIMIT
        offset = max(0, start - margin)
        context = reference.fetch(contig, offset, start + len(ref) + margin)
        for allele in indels:
            window = union(window, indel_window(context, offset, start, ref, allele))
    for allele in alternates:
        if not is_sequence_allele(allele):
            symbolic = symbolic_window(reference, contig, start, ref, allele, info)
            if symbolic is not None:
                window = union(window, symbolic)
    return max(0, window[0]), window[1]


# --- the VCF ---------------------------------------------------------------------------------


@dataclass
class ContigSites:
    """One VCF contig's records: single-base sites as window starts, the others as alleles."""

    points: list[np.ndarray] = field(default_factory=list)
    """0-based positions of SNVs (one base, one ALT), one array per block..."""
    point_alternates: list[np.ndarray] = field(default_factory=list)
    """...and their ALT bases (byte values, uppercase)."""
    positions: list[int] = field(default_factory=list)
    """0-based positions of the other records..."""
    alleles: list[tuple[bytes, list[bytes], bytes]] = field(default_factory=list)
    """...and their REF, ALTs (uppercase; reference blocks removed) and, for a symbolic ALT, INFO."""

    def count(self) -> int:
        return sum(len(points) for points in self.points) + len(self.positions)


@dataclass
class GermlineTables:
    """The windows of an input's contigs: all of them, and those of germline deletions
    (a skip with an edge in one may be the deletion written as an intron)."""

    windows: SiteTable
    deletions: SiteTable


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
        with open_input(path) as stream:
            header, blocks = split_header_text(text_blocks(stream, path), path)
            self.contigs.update(contig_lengths(header.meta))
            for first_line, text in blocks:
                self._add_block(first_line, text)
        for name in self.by_contig:
            self.contigs.setdefault(name, None)

    def __len__(self) -> int:
        """Sites kept (records minus reference blocks)."""
        return sum(sites.count() for sites in self.by_contig.values())

    def _add_block(self, first_line: int, text: bytes) -> None:
        fields: list[tuple[bytes, bytes, bytes, bytes]] = VCF_RECORD.findall(text)
        lines: list[bytes] | None = None
        if len(fields) != text.count(b"\n"):
            fields, lines = self._records_or_error(first_line, text)
        points: dict[bytes, tuple[list[int], list[bytes]]] = {}
        for index, (chrom, pos, ref, alt) in enumerate(fields):
            start = int(pos) - 1
            contig_points, contig_alternates = points.setdefault(chrom, ([], []))
            if len(ref) == 1 and len(alt) == 1:
                if alt == b".":
                    self.report.add("reference_blocks_skipped")
                    continue
                contig_points.append(start)
                contig_alternates.append(alt)
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
            sites = self._contig(chrom)
            sites.positions.append(start)
            sites.alleles.append((ref.upper(), alternates, info))
        for chrom, (starts, alternates) in points.items():
            sites = self._contig(chrom)
            sites.points.append(np.array(starts, dtype=np.int64))
            sites.point_alternates.append(np.frombuffer(b"".join(alternates).upper(), dtype=np.uint8))

    def _count_symbolic(self, alternates: list[bytes], info: bytes) -> None:
        """A symbolic ALT with a span (END, SVLEN; ``<INS>``) is windowed over it; one without
        (a breakend) only over its REF span, and counted so."""
        end, length = info_span(info)
        for allele in alternates:
            if is_sequence_allele(allele):
                continue
            kind = symbolic_kind(allele)
            spanned = kind == b"INS" or (bool(kind) and (end is not None or length is not None))
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

    def table(self, vcf_to_input: dict[str, str], reference: ContigReference) -> GermlineTables:
        """The windows per input contig; ``vcf_to_input`` maps the VCF's contig names to
        the input's, ``reference`` is read by the input's names."""
        tables = GermlineTables(SiteTable(), SiteTable())
        for vcf_name, sites in self.by_contig.items():
            input_name = vcf_to_input.get(vcf_name)
            if input_name is None:
                continue
            point_starts, point_ends = snv_windows(
                reference, input_name, np.concatenate(sites.points), np.concatenate(sites.point_alternates)
            )
            starts, ends = [point_starts], [point_ends]
            deletion_starts: list[int] = []
            deletion_ends: list[int] = []
            if sites.positions:
                window_starts: list[int] = []
                window_ends: list[int] = []
                for start, (ref, alternates, info) in zip(sites.positions, sites.alleles, strict=True):
                    window_start, window_end = record_window(input_name, start, ref, alternates, info, reference)
                    window_starts.append(window_start)
                    window_ends.append(window_end)
                    if any(shortens(ref, allele) for allele in alternates):
                        deletion_starts.append(window_start)
                        deletion_ends.append(window_end)
                starts.append(np.array(window_starts, dtype=np.int64))
                ends.append(np.array(window_ends, dtype=np.int64))
            tables.windows.add_contig(input_name, np.concatenate(starts), np.concatenate(ends))
            tables.deletions.add_contig(input_name, np.array(deletion_starts, dtype=np.int64), np.array(deletion_ends, dtype=np.int64))
        return tables
