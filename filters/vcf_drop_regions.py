"""vcf-drop-regions: drop VCF records that overlap forensic loci or any BED regions.

The guideline asks for short tandem repeats (the NIST/CODIS forensic loci) to
be deleted unless the research needs them; identity SNPs, Y-STRs and
mitochondrial control-region variants identify a person or a family line the
same way. A record is dropped when any base of its REF allele, of its
``INFO/END`` span, or of the span ``INFO/SVLEN`` gives a symbolic allele, lies in
a region widened by ``--flank``; and a record with an allele that changes the length
by L bases (an ALT of bases L longer or shorter than REF; a symbolic ``<DEL>``,
``<INS>``, ``<DUP>`` or ``<CNV>``, L its SVLEN) when that span widened by L on each
side overlaps or meets such a region: a normaliser places an indel in a repeat at its
left end, which can be up to about its own length before the repeat's catalogued
first base (``bcftools norm`` writes ``chr1 14199 A ATCTTTCTTTCTT`` for an insertion
of CTTT units into a repeat that starts at 14201). A record also goes when a place it
names for its breakend's mate, or its SV's other end (``breakend_mates``), lies in a
region (``records_mate_in_region``): a kept record would show a breakpoint there.

The header and the records are read by the shared VCF modules (``vcf``,
``vcf_header``): records come as located blocks (``RecordBlock``), whose CHROM, POS,
REF and ALT are read in bulk; records with ``END=`` or ``SVLEN=`` in the line, and
records whose REF or ALT is longer than one base and that lie near a region (within
the longer of the two, a bound on any length change), are split, one by one (every
record with ``GENOSCRUB_ONE_BY_ONE=1``). Kept records pass as the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from genoscrub import __version__
from genoscrub.breakend_mates import MateReader
from genoscrub.cli import (
    BedOption,
    BuildOption,
    FlankOption,
    InputArgument,
    OutputOption,
    PresetOption,
    QuietOption,
    ReportOption,
    VcfOutputTypeOption,
    make_app,
    run,
)
from genoscrub.contigs import names_in
from genoscrub.fields import distinct, gathered_spans, span_integers, unsigned_integer, vcf_position
from genoscrub.one_by_one import one_by_one
from genoscrub.record_traces import RecordTraces
from genoscrub.regions import AUTO_BUILD, DEFAULT_FLANK, LONGEST, RegionIndex, RegionRequest, load_regions, overlap_mask
from genoscrub.report import InputError, Report
from genoscrub.vcf import RecordBlock, TextBlocks, VcfHeader, VcfOutput, joined, opened_input, split_header_text, text_blocks, whole_sites
from genoscrub.vcf_columns import RecordColumns

COMMAND = "vcf-drop-regions"
SPAN_KEYS = (b"END=", b"SVLEN=")  # INFO keys that make a record span more than its REF
LENGTH_CHANGING_SYMBOLS = (b"<DEL", b"<INS", b"<DUP", b"<CNV")
"""Symbolic alleles (and their subtypes, ``<DEL:ME>``, ``<CNV:TR>``) that make the sequence
longer or shorter, by their SVLEN (VCF 4.4, 5.3); ``<INV>``, ``<*>``, breakends do not."""
BASES = re.compile(rb"[A-Za-z]+")
MATE_DROPS = "records_mate_in_region"
"""Records dropped because the place they name for a breakend's mate (or an SV's other end) lies in a region."""

app = make_app()


def record_span(line: bytes) -> tuple[bytes, int, int]:
    """CHROM and the 0-based, half-open span one record line is judged over.

    Its REF, or more where INFO says: ``INFO/END`` (1-based, inclusive: already a
    half-open end) reaches its position; for a symbolic ALT other than an insertion,
    ``INFO/SVLEN`` reaches POS + |SVLEN| (VCF 4.4, 5.3). An END or SVLEN past any contig
    reaches its end. Where an allele changes the length by L (``length_change``), that
    span widened by L on each side and by one base more, so that a region the widened
    span only meets overlaps it. Raises ValueError (with the message for the user) for
    an END or SVLEN that is not an integer.
    """
    fields = line.split(b"\t", 8)
    start = min(vcf_position(fields[1]) - 1, LONGEST)
    end = start + max(1, len(fields[3]))
    info = fields[7]
    lengths: list[int] = []
    if b"END=" in info or b"SVLEN=" in info:
        symbolic_span = b"<" in fields[4] and b"<INS" not in fields[4]
        for item in info.split(b";"):
            key, _, value = item.partition(b"=")
            if key == b"END":
                end = max(end, _clamped(value, "INFO/END is not an integer"))
            elif key == b"SVLEN" and b"<" in fields[4]:
                for length in value.split(b","):
                    if length != b".":
                        lengths.append(_clamped(length.lstrip(b"-"), "INFO/SVLEN is not an integer"))
                        if symbolic_span:
                            end = max(end, min(start + 1 + lengths[-1], LONGEST))
    widen = length_change(fields[3], fields[4], lengths, end - start - 1)
    if widen:
        return fields[0], start - widen - 1, min(end + widen + 1, LONGEST)
    return fields[0], start, end


def length_change(ref: bytes, alt: bytes, lengths: list[int], span_after_anchor: int) -> int:
    """The most any allele of ``alt`` changes the length by, or 0: an ALT of bases by how
    much longer or shorter than REF it is; a symbolic ``LENGTH_CHANGING_SYMBOLS`` allele by
    the largest SVLEN (``lengths``), without one by the span after its first base (a
    ``<DEL>`` with only END), and by at least 1 either way. ``*``, ``.``, ``<INV>``, ``<*>``
    and breakends change nothing."""
    widen = 0
    for allele in alt.split(b","):
        if BASES.fullmatch(allele):
            widen = max(widen, abs(len(allele) - len(ref)))
        elif allele.upper().startswith(LENGTH_CHANGING_SYMBOLS):
            widen = max(widen, max(lengths, default=span_after_anchor), 1)
    return widen


def _clamped(text: bytes, message: str) -> int:
    """Digits as an integer, clamped to ``regions.LONGEST`` (past any contig)."""
    if not text.isdigit():
        raise ValueError(message)
    return LONGEST if len(text.lstrip(b"0")) > len(str(LONGEST)) else unsigned_integer(text, LONGEST)


class RegionDropper:
    """Drops the records of a block whose span overlaps a region."""

    def __init__(self, regions: RegionIndex, path: str, report: Report, mates: MateReader, contigs: Iterable[str] = ()) -> None:
        self.regions = regions
        self.path = path
        self.report = report
        self.mates = mates
        self.contigs = frozenset(contigs)
        """The header's ``##contig`` IDs: a place INFO names (``CHR2=13`` in a ``chr13`` file) is
        read through their spellings (``mate_contigs``), as the audit reads it."""

    def spans(self, block: RecordBlock) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """CHROM, 0-based start and end of every record of a block, and which spans are exact.

        CHROM, POS, REF and ALT are read in bulk (``RecordBlock`` checked POS). A record
        whose REF and ALT are one base each (an SNV, or no ALT) is judged over its REF; for
        any other the span is a bound: REF widened on each side by the longer of the REF
        and ALT columns and one base, which no length change of its alleles can pass
        (``record_span``), and ``dropped`` judges such a record exactly only where that
        bound reaches a region. The lines that hold ``END=`` or ``SVLEN=``, and every line
        with ``GENOSCRUB_ONE_BY_ONE=1``, go through ``record_span`` here.
        """
        text = block.text
        if b"\0" in text:  # CHROM is gathered as a NUL-padded string, which would drop it
            index = int(np.searchsorted(block.starts, text.index(b"\0"), side="right")) - 1
            raise InputError("record holds a NUL byte", self.path, block.first_line + index)
        slow = np.ones(block.count, dtype=bool) if one_by_one() else self._span_lines(block)
        chroms = gathered_spans(text, block.data, *block.column(0))
        starts = np.minimum(span_integers(block.data, text, *block.column(1)) - 1, LONGEST)  # past any region: no overflow
        ref_start, ref_end = block.column(3)
        alt_start, alt_end = block.column(4)
        ref_lengths, alt_lengths = ref_end - ref_start, alt_end - alt_start
        ends = starts + np.maximum(ref_lengths, 1)
        exact = slow | ((ref_lengths == 1) & (alt_lengths == 1))
        bound = np.where(exact, 0, np.maximum(ref_lengths, alt_lengths) + 1)
        starts, ends = starts - bound, ends + bound
        if slow.any():
            chroms = chroms.astype(object)
            for index in np.flatnonzero(slow).tolist():
                chroms[index], starts[index], ends[index] = self.record_span(block, index)
            chroms = np.array(chroms.tolist())
        return chroms, starts, ends, exact

    def record_span(self, block: RecordBlock, index: int) -> tuple[bytes, int, int]:
        """``record_span`` of one line of a block, its error located."""
        try:
            return record_span(block.line(index))
        except ValueError as error:
            raise InputError(str(error), self.path, block.first_line + index) from None

    @staticmethod
    def _span_lines(block: RecordBlock) -> np.ndarray:
        """Which lines hold ``END=`` or ``SVLEN=`` (anywhere: ``record_span`` reads INFO)."""
        lines = np.zeros(block.count, dtype=bool)
        for key in SPAN_KEYS:
            at = block.text.find(key)
            while at >= 0:
                row = int(np.searchsorted(block.starts, at, side="right")) - 1
                lines[row] = True
                at = block.text.find(key, int(block.ends[row]))
        return lines

    def dropped(self, block: RecordBlock) -> np.ndarray:
        """Which records of a block overlap a region."""
        chroms, starts, ends, exact = self.spans(block)
        dropped = np.zeros(block.count, dtype=bool)
        for chrom in distinct(chroms):  # each declared: vcf_columns checked the block
            intervals = self.regions.intervals(chrom)
            if intervals is None:
                continue
            selected = chroms == chrom
            dropped[selected] = overlap_mask(intervals[0], intervals[1], starts[selected], ends[selected])
        for index in np.flatnonzero(dropped & ~exact).tolist():  # near a region by its bound: judged exactly
            chrom, start, end = self.record_span(block, index)
            dropped[index] = self.regions.overlaps(chrom, start, end)
        for index in self.mates.rows(block).tolist():  # a breakend's mate, or an SV's other end, in a region
            if not dropped[index] and self.mate_in_region(block.line(index)):
                dropped[index] = True
                self.report.add(MATE_DROPS)
        return dropped

    def mate_in_region(self, line: bytes) -> bool:
        """Whether a place a record names for its mate (``breakend_mates``) lies in a region, by
        the rule of its own POS: that one base overlapping one."""
        named = self.mates.mates(line)
        return any(
            self.regions.overlaps(contig, pos - 1, pos)
            for chrom, pos in (*named.alt_places, *named.info_places)
            for contig in self.mate_contigs(chrom)
        )

    def mate_contigs(self, chrom: bytes) -> list[bytes]:
        """The header's contigs a named place's contig is (``contigs.names_in``): itself where the
        header declares it, else its spellings there (``13``, ``chrM``/``MT``): ``CHR2`` and
        ``MATEPOS`` are free text no column check holds to the header (an ALT mate's contig is)."""
        if not self.contigs:
            return [chrom]
        name = chrom.decode(errors="surrogateescape")  # as the header's names are read (``VcfHeader.contig_ids``)
        return [chrom] if name in self.contigs else [other.encode(errors="surrogateescape") for other in names_in(name, self.contigs)]


def output_header(header: VcfHeader) -> bytes:
    """The input's header with one provenance line (replacing an earlier one of this command)."""
    provenance = b"##genoscrub_%s=%s" % (COMMAND.encode(), __version__.encode())
    return joined([*header.provenance_replaced(provenance), b"\t".join(header.columns)])


def drop_regions(blocks: TextBlocks, request: RegionRequest, path: str, report: Report) -> Iterator[bytes]:
    """Yield output chunks: the header with one provenance line, then the kept records."""
    header, body = split_header_text(blocks, path)
    if not header.contigs:
        raise InputError(
            "the header has no ##contig lines, so the regions cannot be checked against its genome "
            "(add them, e.g. bcftools reheader --fai ref.fa.fai)",
            path,
            header.column_line_number,
        )
    regions = load_regions(request, header.contigs, path)
    report.notes.update(regions.report_notes())
    yield output_header(header)
    dropper = RegionDropper(regions, path, report, MateReader(header), header.contigs)
    traces = RecordTraces(header, report, reference_blocks=False)
    columns = RecordColumns(header.contig_ids())
    for first_line, text in whole_sites(body):
        block = RecordBlock(first_line, text, path, len(header.columns))
        columns.check(block)
        keep = ~dropper.dropped(block)
        report.add("records_in", block.count)
        report.add("records_dropped", block.count - int(keep.sum()) + traces.complete_drops(block, keep))
        kept = traces.kept_text(block, keep, {})
        if kept:
            yield kept
    report.add("records_out", report.counts["records_in"] - report.counts["records_dropped"])


def write_all(chunks: Iterable[bytes], sink: VcfOutput) -> None:
    for chunk in chunks:
        sink.write(chunk)


@app.command(
    help="Drop VCF records that overlap forensic loci or BED regions; other records pass unchanged. "
    "Presets: CODIS and kit STRs, Y-STRs, identity SNPs, the mitochondrial control region."
)
def main(
    input: InputArgument = "-",
    output: OutputOption = None,
    output_type: VcfOutputTypeOption = None,
    bed: BedOption = None,
    preset: PresetOption = None,
    build: BuildOption = AUTO_BUILD,
    flank: FlankOption = DEFAULT_FLANK,
    report_path: ReportOption = None,
    quiet: QuietOption = False,
) -> None:
    request = RegionRequest(beds=bed or [], presets=preset or [], build=build, flank=flank)

    def job(report: Report) -> None:
        request.check()
        sink = VcfOutput(output, output_type)
        try:
            with opened_input(input) as source:
                write_all(drop_regions(text_blocks(source, input), request, input, report), sink)
            sink.close()
        except BaseException:
            sink.abort()
            raise

    run(COMMAND, job, Path(report_path) if report_path else None, quiet)


if __name__ == "__main__":
    app()
