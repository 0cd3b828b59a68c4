"""vcf-drop-regions: drop VCF records that overlap forensic loci or any BED regions.

The guideline asks for short tandem repeats (the NIST/CODIS forensic loci) to
be deleted unless the research needs them (DESIGN.md, item 3); identity SNPs,
Y-STRs and mitochondrial control-region variants identify a person or a
family line the same way. A record is dropped when any base of its REF
allele, or of its ``INFO/END`` span, lies in a region widened by ``--flank``.

Records are streamed in blocks and split only as far as CHROM, POS and REF
(STYLE.md, *Don't parse what you don't change*); kept records pass as the
same bytes. ``INFO/END`` is read only from lines that contain ``END=`` (gVCF
reference blocks and symbolic alleles span more than their REF base).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path

import numpy as np
from genoscrub import __version__
from genoscrub.cli import (
    BedOption,
    BuildOption,
    FlankOption,
    InputArgument,
    OutputOption,
    PresetOption,
    QuietOption,
    ReportOption,
    make_app,
    run,
)
from genoscrub.regions import (
    AUTO_BUILD,
    DEFAULT_FLANK,
    LONGEST,
    RegionIndex,
    RegionRequest,
    block_columns,
    distinct,
    field_bounds,
    field_values,
    load_regions,
    overlap_mask,
    parse_digits,
)
from genoscrub.report import InputError, Report
from genoscrub.streams import line_blocks, open_input, open_output, reading

COMMAND = "vcf-drop-regions"
CONTIG_LINE = re.compile(rb"##contig=<(.*)>\s*$")
CONTIG_ID = re.compile(rb"(?:^|,)ID=([^,>]+)")
CONTIG_LENGTH = re.compile(rb"(?:^|,)length=(\d+)")
INFO_END = re.compile(rb"(?:^|;)END=(\d+)(?:;|$)")
LAST_POS = (1 << 31) - 1  # VCF 4.x, 1.6.1: POS is a 32-bit integer (0 for a telomere)

app = make_app()



def contig_header(line: bytes) -> tuple[str, int | None] | None:
    """``(ID, length)`` of a ``##contig`` line, or None when it names no ID."""
    match = CONTIG_LINE.match(line)
    if match is None:
        return None
    found_id = CONTIG_ID.search(match.group(1))
    if found_id is None:
        return None
    found_length = CONTIG_LENGTH.search(match.group(1))
    return found_id.group(1).decode("ascii", errors="replace"), int(found_length.group(1)) if found_length else None


class RegionDropper:
    """Drops the records of a block whose span overlaps a region."""

    def __init__(self, regions: RegionIndex, declared: set[bytes], columns: int, path: str, report: Report) -> None:
        self.regions = regions
        self.declared = declared
        self.columns = columns  # the #CHROM line's: a record cut short (a truncated stream) is an error, not a record
        self.path = path
        self.report = report

    def spans(self, lines: list[bytes], first_line: int) -> tuple[list[bytes], np.ndarray, np.ndarray]:
        """CHROM, 0-based start and end of every record (REF, or INFO/END when longer)."""
        chroms: list[bytes] = []
        starts = np.empty(len(lines), dtype=np.int64)
        ends = np.empty(len(lines), dtype=np.int64)
        for index, line in enumerate(lines):
            fields = line.split(b"\t", 5)
            if len(fields) < 6 or line.startswith(b"#") or line.count(b"\t") + 1 != self.columns:
                raise self.bad_record(line, first_line + index)
            try:
                start = int(fields[1]) - 1
            except ValueError:
                start = LAST_POS  # not a number: the same error as out of range
            if not -1 <= start < LAST_POS:
                raise InputError(f"POS is not an integer from 0 to {LAST_POS}", self.path, first_line + index)
            end = start + max(1, len(fields[3]))
            if b"END=" in fields[5]:
                end = max(end, self.info_end(fields[5], end))
            chroms.append(fields[0])
            starts[index] = start
            ends[index] = end
        return chroms, starts, ends

    def bad_record(self, line: bytes, number: int) -> InputError:
        if line.startswith(b"#"):
            return InputError("header line after the #CHROM line", self.path, number)
        found = line.count(b"\t") + 1
        if found == self.columns:  # the #CHROM line itself has fewer than the 8 fixed columns
            return InputError("record has too few tab-separated columns", self.path, number)
        return InputError(f"record has {found} columns, the header has {self.columns}", self.path, number)

    @staticmethod
    def info_end(rest: bytes, default: int) -> int:
        """INFO/END (1-based, inclusive, so already a half-open 0-based end)."""
        parts = rest.split(b"\t", 3)
        if len(parts) < 3:
            return default
        match = INFO_END.search(parts[2])
        return min(int(match.group(1)), LONGEST) if match else default  # an END past any contig reaches its end

    def fast_spans(self, lines: list[bytes], first_line: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CHROM, start and end of every record, found with array operations over the block.

        The first four tabs of each line delimit CHROM, POS and REF; POS is
        parsed digit by digit across the block. Anything unusual (a line
        with another column count than the header's, a header-like line, a
        long POS, ``END=`` anywhere) takes the line-by-line reader, which
        names a bad line.
        """
        block = b"\n".join(lines)
        if b"\0" in block:  # CHROM is gathered as a NUL-padded string, which would drop it
            index = next(index for index, line in enumerate(lines) if b"\0" in line)
            raise InputError("record holds a NUL byte", self.path, first_line + index)
        unusual = b"END=" in block or block.startswith(b"#") or b"\n#" in block
        columns = None if unusual else block_columns(block, lines, 4)
        if columns is not None and bool((columns.tab_counts != self.columns - 1).any()):
            columns = None
        positions = parse_digits(columns, 1) if columns else None
        if positions is not None and len(positions) and int(positions.max()) > LAST_POS:
            positions = None  # the line-by-line reader names the line
        if columns is None or positions is None:
            names, starts, ends = self.spans(lines, first_line)
            return np.array(names), starts, ends
        reference_start, reference_end = field_bounds(columns, 3)
        starts = positions - 1
        return field_values(block, columns, 0), starts, starts + np.maximum(reference_end - reference_start, 1)

    def keep(self, lines: list[bytes], first_line: int) -> list[bytes]:
        chroms, starts, ends = self.fast_spans(lines, first_line)
        dropped = np.zeros(len(lines), dtype=bool)
        for chrom in distinct(chroms):
            if chrom not in self.declared:
                index = int(np.flatnonzero(chroms == chrom)[0])
                raise InputError("record on a contig the header does not declare (##contig)", self.path, first_line + index)
            intervals = self.regions.intervals(chrom)
            if intervals is None:
                continue
            selected = chroms == chrom
            dropped[selected] = overlap_mask(intervals[0], intervals[1], starts[selected], ends[selected])
        count = int(dropped.sum())
        self.report.add("records_in", len(lines))
        self.report.add("records_dropped", count)
        if not count:
            return lines
        return [line for line, drop in zip(lines, dropped.tolist(), strict=True) if not drop]


def read_header(blocks: Iterator[tuple[int, list[bytes]]], path: str) -> tuple[list[bytes], list[tuple[int, list[bytes]]]]:
    """The header lines up to and including ``#CHROM``, and the record lines after it."""
    header: list[bytes] = []
    for first_line, lines in blocks:
        for index, line in enumerate(lines):
            if line.startswith(b"##"):
                header.append(line)
                continue
            if line.startswith(b"#CHROM"):
                header.append(line)
                rest = lines[index + 1 :]
                return header, ([(first_line + index + 1, rest)] if rest else [])
            raise InputError("expected a VCF header line (## or #CHROM)", path, first_line + index)
    raise InputError("no #CHROM header line: not a VCF", path, len(header) + 1 if header else None)


def drop_regions(source: Iterable[tuple[int, list[bytes]]], request: RegionRequest, path: str, report: Report) -> Iterator[bytes]:
    """Yield output chunks: the header with one provenance line, then the kept records."""
    blocks = iter(source)
    header, pending = read_header(blocks, path)
    contigs: dict[str, int | None] = {}
    for line in header:
        parsed = contig_header(line) if line.startswith(b"##contig") else None
        if parsed is not None:
            contigs[parsed[0]] = parsed[1]
    if not contigs:
        raise InputError(
            "the header has no ##contig lines, so the regions cannot be checked against its genome "
            "(add them, e.g. bcftools reheader --fai ref.fa.fai)",
            path,
            len(header),
        )
    regions = load_regions(request, contigs, path)
    report.notes.update(regions.report_notes())
    provenance = b"##genoscrub_%s=%s" % (COMMAND.encode(), __version__.encode())
    yield b"\n".join([*header[:-1], provenance, header[-1]]) + b"\n"
    dropper = RegionDropper(regions, {name.encode() for name in contigs}, header[-1].count(b"\t") + 1, path, report)
    for first_line, lines in chain(pending, blocks):
        kept = dropper.keep(lines, first_line)
        if kept:
            yield b"\n".join(kept) + b"\n"
    report.add("records_out", report.counts["records_in"] - report.counts["records_dropped"])


@app.command(
    help="Drop VCF records that overlap forensic loci or BED regions; other records pass unchanged. "
    "Presets: CODIS and kit STRs, Y-STRs, identity SNPs, the mitochondrial control region."
)
def main(
    input: InputArgument = "-",
    output: OutputOption = None,
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
        with reading(open_input(input)) as source:
            sink = open_output(output)
            try:
                for chunk in drop_regions(line_blocks(source, input), request, input, report):
                    sink.write(chunk)
            finally:
                if output:
                    sink.close()

    run(COMMAND, job, Path(report_path) if report_path else None, quiet)


if __name__ == "__main__":
    app()
