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
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
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


def indel_window(reference: bytes, offset: int, position: int, reference_allele: bytes, alternate: bytes) -> Window:
    """The stretch where an aligner may place this indel: its REF span widened
    over the repeat it lies in (an STR unit change can sit anywhere in the STR).

    ``reference`` is the contig from ``offset`` on, wide enough around the site.
    """
    shared = 0
    while shared < min(len(reference_allele), len(alternate)) and reference_allele[shared] == alternate[shared]:
        shared += 1
    start = position + shared
    if len(reference_allele) > len(alternate) and shared == len(alternate):
        unit, span = reference_allele[shared:], len(reference_allele) - shared
    elif len(alternate) > len(reference_allele) and shared == len(reference_allele):
        unit, span = alternate[shared:], 0
    else:  # complex: widen by the longer allele each way
        reach = max(len(reference_allele), len(alternate))
        return position - reach, position + len(reference_allele) + reach
    size = len(unit)
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
    return start - 1 - left, start + span + right + 1


def is_sequence_allele(allele: bytes) -> bool:
    """An ALT written as bases, not ``<DEL>`` or a breakend."""
    return not allele.startswith(b"<") and b"[" not in allele and b"]" not in allele


def record_window(contig: str, start: int, ref: bytes, alternates: list[bytes], reference: ContigReference) -> Window:
    """The window of one multi-base or multi-allelic record (the union over its ALTs);
    ``contig`` is the input's name for the record's contig."""
    window_start, window_end = start, start + len(ref)
    indels = [allele for allele in alternates if is_sequence_allele(allele) and len(allele) != len(ref)]
    if indels and contig in reference:
        margin = REPEAT_LIMIT + 2 * max(len(ref), *(len(a) for a in indels))
        offset = max(0, start - margin)
        context = reference.fetch(contig, offset, start + len(ref) + margin)
        for allele in indels:
            indel_start, indel_end = indel_window(context, offset, start, ref, allele)
            window_start, window_end = min(window_start, indel_start), max(window_end, indel_end)
    return max(0, window_start), window_end


# --- the VCF ---------------------------------------------------------------------------------


@dataclass
class ContigSites:
    """One VCF contig's records: single-base sites as window starts, the others as alleles."""

    points: list[np.ndarray] = field(default_factory=list)
    """0-based positions of single-base records, one array per block (window ``[p, p + 1)``)."""
    positions: list[int] = field(default_factory=list)
    """0-based positions of the other records..."""
    alleles: list[tuple[bytes, list[bytes]]] = field(default_factory=list)
    """...and their REF and ALTs (uppercase; reference blocks removed)."""

    def count(self) -> int:
        return sum(len(points) for points in self.points) + len(self.positions)


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
        fields = VCF_RECORD.findall(text)
        if len(fields) != text.count(b"\n"):
            fields = list(self._records_or_error(first_line, text))
        points: dict[bytes, list[int]] = {}
        for chrom, pos, ref, alt in fields:
            start = int(pos) - 1
            contig_points = points.setdefault(chrom, [])
            if len(ref) == 1 and len(alt) == 1:
                if alt == b".":
                    self.report.add("reference_blocks_skipped")
                    continue
                contig_points.append(start)
                continue
            alternates = [allele for allele in alt.upper().split(b",") if allele not in SYMBOLIC_REFERENCE_BLOCK]
            if not alternates:
                self.report.add("reference_blocks_skipped")
                continue
            if not all(map(is_sequence_allele, alternates)):
                self.report.add("symbolic_alleles_at_ref_span")
            sites = self._contig(chrom)
            sites.positions.append(start)
            sites.alleles.append((ref.upper(), alternates))
        for chrom, starts in points.items():
            self._contig(chrom).points.append(np.array(starts, dtype=np.int64))

    def _contig(self, chrom: bytes) -> ContigSites:
        name = chrom.decode(errors="replace")
        sites = self.by_contig.get(name)
        if sites is None:
            sites = self.by_contig[name] = ContigSites()
        return sites

    def _records_or_error(self, first_line: int, text: bytes) -> Iterator[tuple[bytes, bytes, bytes, bytes]]:
        """The records of a block with a line the block-wide expression did not read:
        blank lines pass, anything else is an error naming its line."""
        for index, line in enumerate(text.split(b"\n")[:-1]):
            match = VCF_RECORD.match(line)
            if match is not None:
                yield match.group(1), match.group(2), match.group(3), match.group(4)
            elif line:
                raise InputError("not a VCF record (need CHROM, POS, ID, REF, ALT)", self.path, first_line + index)

    def table(self, vcf_to_input: dict[str, str], reference: ContigReference) -> SiteTable:
        """The windows per input contig; ``vcf_to_input`` maps the VCF's contig names to
        the input's, ``reference`` is read by the input's names."""
        table = SiteTable()
        for vcf_name, sites in self.by_contig.items():
            input_name = vcf_to_input.get(vcf_name)
            if input_name is None:
                continue
            starts = [*sites.points]
            ends = [points + 1 for points in sites.points]
            if sites.positions:
                windows = [
                    record_window(input_name, start, ref, alternates, reference)
                    for start, (ref, alternates) in zip(sites.positions, sites.alleles, strict=True)
                ]
                starts.append(np.array([start for start, _ in windows], dtype=np.int64))
                ends.append(np.array([end for _, end in windows], dtype=np.int64))
            table.add_contig(input_name, np.concatenate(starts), np.concatenate(ends))
        return table
