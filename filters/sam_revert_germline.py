"""sam-revert-germline: alignments without germline alleles, still a valid alignment.

The guideline (Fig. 4B of the source paper): "germline mutations were either
replaced with reference sequences or removed if it was challenging to
pseudonymize while ensuring data integrity". Every read base at a germline site
listed in a VCF becomes the reference base; germline indels are reverted by
rewriting SEQ, QUAL and CIGAR; somatic variants (not listed) stay. ``--all``
reverts every difference from the reference (BAMboozle's behaviour);
``--all --keep`` (issue 11, tumour-only samples) spares the listed somatic
alleles, screened against a population resource with vcf-drop-rare's join.
DESIGN.md, *sam-revert-germline*; the per-read rules are in ``filters/revert.py``.

Records are handled a 4 MiB block at a time and most are never parsed beyond
FLAG, RNAME, POS and CIGAR: one regular expression pulls those four fields out
of the whole block, numpy finds which reads' spans (soft clips projected) touch
a revert window, and only those reads are split and rewritten. Everything else
passes as the same bytes (STYLE.md, *Code*).
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer

from filters import __version__
from filters.cli import OutputOption, QuietOption, ReportOption, make_app, run
from filters.contigs import ContigMap
from filters.report import InputError, Report, UsageError
from filters.revert import (
    CLIP_MARGIN,
    CigarShape,
    KeepAlleles,
    Window,
    format_cigar,
    md_and_nm,
    parse_cigar,
    revert_alignment,
    rewrite_mate_cigar,
)
from filters.streams import AlignmentOutput, line_blocks, open_alignment_text, open_input
from filters.vcf_drop_rare import SEQUENCE_ALLELE, TOLERANCE, PopulationJoin, UnsortedInput, normalised

COMMAND = "sam-revert-germline"
app = make_app()

REPEAT_LIMIT = 1000
"""How far an indel's window may grow over a repeat, each way (bases)."""

KEPT_TAGS = frozenset(
    b"RG LB PU PG MQ NH HI IH FI TC MI RX QX OX BX BC QT BZ CB CR CY UB UR UY".split()
)
"""Tags a rewritten record keeps untouched: read-group, mate mapping quality,
hit counts, UMI and cell barcodes. MD, NM and MC are recomputed; every other
tag (AS, XS, OQ, BQ, ...) could be stale or carry sequence and is removed."""

COPYING_TAGS = frozenset(b"R2 Q2 E2 U2 OA OC OP SA XA CS CQ".split())
"""Tags removed from every record, touched or not: they copy another record's
sequence or an alignment (CIGAR, NM) that may hold a germline indel."""

NEEDS_TAG_WORK = re.compile(rb"\t(?:(?:" + b"|".join(sorted(COPYING_TAGS)) + rb"):|MC:Z:[0-9MNSHP=X]*[ID])")
"""A tag to remove, or a mate CIGAR with an indel that may be reverted (then MC changes)."""
MATE_CIGAR_WITH_INDEL = re.compile(rb"\tMC:Z:[0-9MNSHP=X]*[ID]")
VCF_RECORD = re.compile(rb"^([^\t\n]+)\t([0-9]+)\t[^\t\n]*\t([^\t\n]+)\t([^\t\n]+)", re.M)
VCF_CONTIG = re.compile(rb"^##contig=<(?:.*,)?ID=([^,>]+)(?:.*,length=([0-9]+))?", re.M)
MATE_REMOVED = b""
"""What the mate's CIGAR becomes when the mate is removed."""
REMOVED = b"\0removed"
SYMBOLIC_REFERENCE_BLOCK = frozenset((b"<*>", b"<NON_REF>", b"<X>", b"."))
GERMLINE_AF = 0.001
"""Default ``--germline-af``: a keep allele seen in the population at 0.1% or more
is treated as germline. See the man page, TUMOUR-ONLY SAMPLES, for why."""


# --- the reference -----------------------------------------------------------


class Reference:
    """Uppercase reference slices, read through pyfaidx's index.

    A plain FASTA is memory-mapped and sliced directly (a per-read pyfaidx call
    would cost more than the revert); a BGZF FASTA goes through pyfaidx itself.
    """

    def __init__(self, path: str) -> None:
        import pyfaidx

        self.path = path
        try:
            self._faidx = pyfaidx.Faidx(path, sequence_always_upper=True, rebuild=False)
        except (OSError, ValueError, pyfaidx.FastaIndexingError) as error:
            raise InputError(f"cannot read the reference: {type(error).__name__}", path) from None
        self.index = self._faidx.index
        self.lengths: dict[str, int | None] = {name: record.rlen for name, record in self.index.items()}
        self._map: mmap.mmap | None = None
        with open(path, "rb") as handle:
            compressed = handle.read(2) == b"\x1f\x8b"
            if not compressed:
                self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)

    def fetch(self, name: str, start: int, end: int) -> bytes:
        """Bases ``[start, end)`` of contig ``name``, clamped to the contig."""
        record = self.index[name]
        start = max(0, start)
        end = min(record.rlen, end)
        if start >= end:
            return b""
        if self._map is None:
            return self._faidx.fetch(name, start + 1, end).seq.encode().upper()
        per_line, line_bytes = record.lenc, record.lenb
        first = record.offset + (start // per_line) * line_bytes + start % per_line
        last = record.offset + ((end - 1) // per_line) * line_bytes + (end - 1) % per_line
        raw = self._map[first : last + 1]
        if line_bytes != per_line:
            raw = raw.replace(b"\n", b"").replace(b"\r", b"")
        return raw.upper()


# --- germline sites ------------------------------------------------------------


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

    def windows(self, name: str, start: int, end: int) -> list[Window]:
        """The windows touching ``[start, end)``."""
        window_starts = self.starts.get(name)
        if window_starts is None:
            return []
        index = int(window_starts.searchsorted(end)) - 1
        found: list[Window] = []
        ends, reach = self.ends[name], self.reach[name]
        while index >= 0 and reach.item(index) > start:
            window_end = ends.item(index)
            if window_end > start:
                found.append((window_starts.item(index), window_end))
            index -= 1
        found.reverse()
        return found


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


def read_sites(path: str, reference: Reference, report: Report) -> tuple[dict[str, dict[str, list[np.ndarray]]], dict[str, int | None]]:
    """Windows per VCF contig (lists of numpy blocks) and the VCF's contigs with lengths.

    Every record is a site, whatever its genotypes or FILTER (fail closed);
    reference blocks (ALT ``<*>``/``<NON_REF>`` only) are not variants and are skipped.
    """
    contigs: dict[str, int | None] = {}
    blocks: dict[str, dict[str, list[np.ndarray]]] = {}
    with open_input(path) as stream:
        for first_line, lines in line_blocks(stream, path):
            header = 0
            while header < len(lines) and lines[header].startswith(b"#"):
                for name, length in VCF_CONTIG.findall(lines[header]):
                    contigs[name.decode(errors="replace")] = int(length) if length else None
                header += 1
            records = lines[header:]
            if records and not records[-1]:
                records = records[:-1]
            if not records:
                continue
            fields = VCF_RECORD.findall(b"\n".join(records))
            if len(fields) != len(records):
                bad = next(i for i, line in enumerate(records) if not VCF_RECORD.match(line))
                raise InputError("not a VCF record (need CHROM, POS, ID, REF, ALT)", path, first_line + header + bad)
            _add_site_block(fields, reference, contigs, blocks, report)
    return blocks, contigs


def _add_site_block(
    fields: list[tuple[bytes, bytes, bytes, bytes]],
    reference: Reference,
    contigs: dict[str, int | None],
    blocks: dict[str, dict[str, list[np.ndarray]]],
    report: Report,
) -> None:
    by_contig: dict[bytes, tuple[list[int], list[int]]] = {}
    for chrom, pos, ref, alt in fields:
        start = int(pos) - 1
        starts, ends = by_contig.setdefault(chrom, ([], []))
        if len(ref) == 1 and len(alt) == 1:
            if alt == b".":
                report.add("reference_blocks_skipped")
                continue
            starts.append(start)
            ends.append(start + 1)
            continue
        window = _record_window(chrom.decode(errors="replace"), start, ref.upper(), alt.upper(), reference, report)
        if window is not None:
            starts.append(window[0])
            ends.append(window[1])
    for chrom, (starts, ends) in by_contig.items():
        name = chrom.decode(errors="replace")
        contigs.setdefault(name, None)
        store = blocks.setdefault(name, {"starts": [], "ends": []})
        store["starts"].append(np.array(starts, dtype=np.int64))
        store["ends"].append(np.array(ends, dtype=np.int64))


def _record_window(
    chrom: str, start: int, ref: bytes, alt: bytes, reference: Reference, report: Report
) -> Window | None:
    """The window of one multi-base or multi-allelic record (the union over its ALTs)."""
    alternates = [allele for allele in alt.split(b",") if allele not in SYMBOLIC_REFERENCE_BLOCK]
    if not alternates:
        report.add("reference_blocks_skipped")
        return None
    window_start, window_end = start, start + len(ref)
    sequence_alleles = [allele for allele in alternates if not allele.startswith(b"<") and b"[" not in allele and b"]" not in allele]
    if len(sequence_alleles) < len(alternates):
        report.add("symbolic_alleles_at_ref_span")
    indels = [allele for allele in sequence_alleles if len(allele) != len(ref)]
    if indels and chrom in reference.index:
        margin = REPEAT_LIMIT + 2 * max(len(ref), *(len(a) for a in indels))
        offset = max(0, start - margin)
        context = reference.fetch(chrom, offset, start + len(ref) + margin)
        for allele in indels:
            indel_start, indel_end = indel_window(context, offset, start, ref, allele)
            window_start, window_end = min(window_start, indel_start), max(window_end, indel_end)
    return max(0, window_start), window_end


def build_site_table(blocks: dict[str, dict[str, list[np.ndarray]]], vcf_to_input: dict[str, str]) -> SiteTable:
    table = SiteTable()
    for vcf_name, store in blocks.items():
        input_name = vcf_to_input.get(vcf_name)
        if input_name is None:
            continue
        table.add_contig(input_name, np.concatenate(store["starts"]), np.concatenate(store["ends"]))
    return table


# --- the keep list (issue 11, tumour-only samples) ----------------------------------


class KeepList:
    """The somatic alleles ``--all --keep`` spares, per keep-list contig, screened
    against a population resource; built before any record is written."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.contigs: dict[str, int | None] = {}
        self.alleles: dict[str, set[tuple[int, bytes, bytes]]] = {}
        self.by_input: dict[str, KeepAlleles] = {}
        self.spans = SiteTable()

    def use_for_input(self, input_contigs: dict[str, int | None], report: Report) -> None:
        """Map the keep list's contigs to the input's (same genome, or stop) and index the spans."""
        contig_map = ContigMap(input_contigs, self.contigs, "keep list", self.path)
        report.notes["contigs_renamed_for_keep_list"] = contig_map.report_note()
        for input_name, keep_name in contig_map.to_other.items():
            alleles = self.alleles.get(keep_name)
            if not alleles:
                continue
            self.by_input[input_name] = KeepAlleles(alleles)
            starts = np.array([position - 1 for position, _, _ in alleles], dtype=np.int64)
            ends = np.array([position + len(ref) + 1 for position, ref, _ in alleles], dtype=np.int64)
            self.spans.add_contig(input_name, starts, ends)

    def kept_observations(self) -> int:
        return sum(keeper.kept for keeper in self.by_input.values())


def read_keep_list(path: str, reference: Reference, report: Report) -> tuple[KeepList, list[tuple[str, int, bytes, bytes, int]]]:
    """Every sequence ALT of the keep VCF, checked against the reference.

    A record whose REF is not the reference's bases there is an error naming
    its line: it cannot be matched, and skipping it silently would revert the
    somatic allele the user meant to keep, or worse hide a wrong build.
    Returns the list and the alleles in file order (CHROM, POS, REF, ALT, line) for screening.
    """
    keep = KeepList(path)
    listed: list[tuple[str, int, bytes, bytes, int]] = []
    records: list[tuple[str, int, bytes, bytes, int]] = []
    with open_input(path) as stream:
        for first_line, lines in line_blocks(stream, path):
            for index, line in enumerate(lines):
                if not line:
                    continue
                if line.startswith(b"#"):
                    for name, length in VCF_CONTIG.findall(line):
                        keep.contigs[name.decode(errors="replace")] = int(length) if length else None
                    continue
                match = VCF_RECORD.match(line)
                if match is None:
                    raise InputError("not a VCF record (need CHROM, POS, ID, REF, ALT)", path, first_line + index)
                chrom, pos, ref, alt = match.groups()
                records.append((chrom.decode(errors="replace"), int(pos), ref.upper(), alt.upper(), first_line + index))
    if not records:
        raise InputError("no keep records: --all --keep needs the somatic alleles to keep", path)
    for chrom, *_ in records:
        keep.contigs.setdefault(chrom, None)
    to_reference = ContigMap(keep.contigs, reference.lengths, "reference", reference.path, require_overlap=False)
    if not to_reference.to_other:
        raise InputError("no contig of the keep list matches a contig of the reference: another genome build?", path)
    report.notes["contigs_renamed_keep_list_to_reference"] = to_reference.report_note()
    for chrom, pos, ref, alt, line_number in records:
        reference_name = to_reference.get(chrom)
        if reference_name is None:
            raise InputError(f"keep record on contig {chrom}, which the reference lacks", path, line_number)
        if reference.fetch(reference_name, pos - 1, pos - 1 + len(ref)) != ref:
            raise InputError("keep record's REF differs from the reference: another build, or not normalised", path, line_number)
        for allele in alt.split(b","):
            if SEQUENCE_ALLELE.fullmatch(allele) is None:
                report.add("keep_alleles_symbolic_ignored")
                continue
            listed.append((chrom, pos, ref, allele, line_number))
    report.notes["keep_records"] = len(records)
    return keep, listed


def screen_keep_list(
    keep: KeepList,
    listed: list[tuple[str, int, bytes, bytes, int]],
    population: str | None,
    af_key: str,
    germline_af: float,
    report: Report,
) -> None:
    """Keep the listed alleles, except those the population resource shows at
    ``germline_af`` or more: a tumour-only caller's somatic list holds germline
    variants, and those are reverted. The join is vcf-drop-rare's (issue 3)."""
    frequencies = np.full(len(listed), np.nan)
    if population is not None:
        join = PopulationJoin(population, af_key, keep.contigs)
        try:
            start = 0
            while start < len(listed):
                chrom = listed[start][0]
                stop = start
                while stop < len(listed) and listed[stop][0] == chrom:
                    stop += 1
                batch = listed[start:stop]
                try:
                    frequencies[start:stop] = join.allele_frequencies(
                        chrom, [item[1] for item in batch], [item[2].decode() for item in batch], [item[3].decode() for item in batch]
                    )
                except UnsortedInput as error:
                    raise InputError(f"{error}", keep.path, batch[error.index][4]) from None
                start = stop
            report.notes["contigs_renamed_keep_list_to_population"] = join.contig_map.report_note()
        finally:
            join.close()
    screened = frequencies >= germline_af - TOLERANCE
    for (chrom, pos, ref, alt, _), germline in zip(listed, screened.tolist(), strict=True):
        if germline:
            continue
        position, trimmed_ref, trimmed_alt = normalised(pos, ref.decode(), alt.decode())
        keep.alleles.setdefault(chrom, set()).add((position - 1, trimmed_ref.encode(), trimmed_alt.encode()))
    report.notes["keep_alleles_listed"] = len(listed)
    report.notes["keep_alleles_screened_out_as_germline"] = int(screened.sum())
    report.notes["keep_alleles_kept"] = len(listed) - int(screened.sum())
    if population is not None:
        report.notes["keep_alleles_not_in_population"] = int(np.isnan(frequencies).sum())
    report.notes["germline_af"] = germline_af


# --- the SAM stream ------------------------------------------------------------


class ShapeCache(dict[bytes, Optional[CigarShape]]):
    """CIGAR string -> shape, parsed once per distinct string (bounded)."""

    def __missing__(self, cigar: bytes) -> CigarShape | None:
        if len(self) > 100_000:
            self.clear()
        shape = parse_cigar(cigar)
        self[cigar] = shape
        return shape


def field_table(text: bytes, lines: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Offsets of the first six tabs of every line of a block, found with numpy
    (no per-line split): FLAG, RNAME, POS and CIGAR lie between them.
    None when a line has fewer than seven fields."""
    buffer = np.frombuffer(text, dtype=np.uint8)
    lengths = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
    line_ends = np.cumsum(lengths + 1) - 1
    line_starts = line_ends - lengths
    tabs = np.flatnonzero(buffer == 9)
    first = np.searchsorted(tabs, line_starts)
    columns = first[:, None] + np.arange(6)
    if columns.max(initial=0) >= len(tabs):
        return None
    offsets = tabs[columns]
    if (offsets[:, 5] >= line_ends).any():
        return None
    return offsets, buffer, line_starts


def rows_by_contig(names: list[bytes], unmapped: np.ndarray) -> Iterator[tuple[bytes, np.ndarray]]:
    """Mapped rows of a block grouped by RNAME: one group for sorted input, a
    dictionary pass (not one scan per contig) for any other order."""
    mapped = ~unmapped
    if names.count(names[0]) == len(names):
        yield names[0], np.flatnonzero(mapped)
        return
    groups: dict[bytes, list[int]] = {}
    for index, name in enumerate(names):
        groups.setdefault(name, []).append(index)
    for name, rows in groups.items():
        selected = np.array(rows, dtype=np.int64)
        yield name, selected[mapped[selected]]


def parse_numbers(buffer: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int = 10) -> np.ndarray | None:
    """Decimal numbers in ``buffer[starts[i]:ends[i]]``, all at once; None if one is not a number."""
    sizes = ends - starts
    if not len(sizes):
        return np.zeros(0, dtype=np.int64)
    if sizes.min() < 1 or sizes.max() > width:
        return None
    places = np.arange(width)
    index = np.minimum(starts[:, None] + places, len(buffer) - 1)
    digits = buffer[index].astype(np.int64) - 48
    inside = places < sizes[:, None]
    if ((digits < 0) | (digits > 9))[inside].any():
        return None
    powers = np.where(inside, 10 ** np.clip(sizes[:, None] - 1 - places, 0, None), 0)
    return (digits * powers).sum(axis=1)


class SpanEdge(dict[bytes, int]):
    """CIGAR string -> where the reference a read touches starts (side 0) or ends
    (side 1), relative to POS: the aligned span plus soft clips projected with
    ``CLIP_MARGIN``."""

    def __init__(self, shapes: ShapeCache, side: int) -> None:
        super().__init__()
        self.shapes = shapes
        self.side = side

    def __missing__(self, cigar: bytes) -> int:
        if len(self) > 100_000:
            self.clear()
        shape = self.shapes[cigar]
        if shape is None:
            edge = 1 if self.side else 0
        elif self.side:
            edge = shape.reference_length + (shape.right_clip + CLIP_MARGIN if shape.right_clip else 0)
        else:
            edge = -(shape.left_clip + CLIP_MARGIN) if shape.left_clip else 0
        self[cigar] = edge
        return edge


class Reverter:
    """Header checks, then blocks of SAM records in, blocks of SAM text out."""

    def __init__(
        self,
        reference: Reference,
        sites: SiteTable | None,
        input_path: str,
        report: Report,
        keep_unmapped: bool,
        revert_all: bool,
        keep: KeepList | None = None,
        drop_unknown_contigs: bool = False,
    ) -> None:
        self.keep = keep
        self.drop_unknown_contigs = drop_unknown_contigs
        self.known_contigs: set[bytes] = set()
        self.reference = reference
        self.sites = sites
        self.revert_all = revert_all
        self.path = input_path
        self.report = report
        self.keep_unmapped = keep_unmapped
        self.shapes = ShapeCache()
        self.span_starts = SpanEdge(self.shapes, 0)
        self.span_ends = SpanEdge(self.shapes, 1)
        self.to_reference: dict[str, str] = {}
        self.contig_lengths: dict[str, int] = {}

    # header -------------------------------------------------------------

    def check_header(self, header: list[bytes], vcf_contigs: dict[str, int | None] | None, vcf_path: str) -> dict[str, str]:
        """Same genome, or stop: @SQ against the reference and the VCF before any record.

        Returns how VCF contig names map to input names.
        """
        input_contigs: dict[str, int | None] = {}
        for line in header:
            if line.startswith(b"@SQ\t"):
                fields = dict(field.split(b":", 1) for field in line.split(b"\t")[1:] if b":" in field)
                if b"SN" not in fields or not fields.get(b"LN", b"").isdigit():
                    raise InputError("@SQ line without SN and a numeric LN", self.path)
                input_contigs[fields[b"SN"].decode(errors="replace")] = int(fields[b"LN"])
        if not input_contigs:
            raise InputError("no @SQ header lines: cannot check that the reads match the reference", self.path)
        self.contig_lengths = {name: length or 0 for name, length in input_contigs.items()}
        reference_map = ContigMap(input_contigs, self.reference.lengths, "reference", self.reference.path)
        self.to_reference = dict(reference_map.to_other)
        self.report.notes["contigs_renamed_for_reference"] = reference_map.report_note()
        vcf_to_input: dict[str, str] = {}
        if vcf_contigs is not None:
            vcf_map = ContigMap(input_contigs, vcf_contigs, "variant file", vcf_path)
            vcf_to_input = {vcf_name: input_name for input_name, vcf_name in vcf_map.to_other.items()}
            self.report.notes["contigs_renamed_for_variants"] = vcf_map.report_note()
            for input_name in vcf_map.to_other:
                if input_name not in self.to_reference:
                    raise InputError(f"contig {input_name} has germline sites but is not in the reference", self.reference.path)
        if self.keep is not None:
            self.keep.use_for_input(input_contigs, self.report)
        self.known_contigs = {name.encode() for name in self.to_reference}
        return vcf_to_input

    @staticmethod
    def program_line(header: list[bytes]) -> bytes:
        """Our @PG line, with an ID no other @PG line uses (never a command line or a path)."""
        taken = {field[3:] for line in header if line.startswith(b"@PG") for field in line.split(b"\t") if field.startswith(b"ID:")}
        name = COMMAND.encode()
        identifier, number = name, 1
        while identifier in taken:
            identifier = b"%s.%d" % (name, number)
            number += 1
        return b"@PG\tID:%s\tPN:genoscrub\tVN:%s" % (identifier, __version__.encode())

    # records ------------------------------------------------------------

    def revert_block(self, lines: list[bytes], first_line: int) -> bytes:
        """One block of records in, the same block as SAM text out (ends with a newline)."""
        text = b"\n".join(lines)
        self.report.add("reads_in", len(lines))
        selected, touched = self._select(lines, text, first_line)
        if not selected:
            return text + b"\n"
        removed = False
        for index in sorted(selected):
            new_line = self.rewrite_record(lines[index], first_line + index, self.revert_all or index in touched)
            if new_line is None:
                removed = True
                new_line = REMOVED
            lines[index] = new_line
        if removed:
            lines = [line for line in lines if line is not REMOVED]
        if not lines:
            return b""
        return b"\n".join(lines) + b"\n"

    def _select(self, lines: list[bytes], text: bytes, first_line: int) -> tuple[set[int], set[int]]:
        """Indexes of the records that need rewriting, and of those among them
        that touch a window; the rest pass as the same bytes.

        Only FLAG, RNAME, POS and CIGAR are looked at (one split per line);
        the overlap with the windows is computed for the whole block at once.
        """
        table = field_table(text, lines)
        if table is None:
            bad = next(i for i, line in enumerate(lines) if line.count(b"\t") < 10)
            raise InputError("not a SAM record (fewer than 11 tab-separated fields)", self.path, first_line + bad)
        tabs, buffer, line_starts = table
        flags = parse_numbers(buffer, tabs[:, 0] + 1, tabs[:, 1])
        positions = parse_numbers(buffer, tabs[:, 2] + 1, tabs[:, 3])
        if flags is None or positions is None:
            bad = next(i for i, line in enumerate(lines) if not all(map(bytes.isdigit, line.split(b"\t", 4)[1:4:2])))
            raise InputError("FLAG and POS must be numbers", self.path, first_line + bad)
        positions -= 1
        names = list(map(text.__getitem__, map(slice, (tabs[:, 1] + 1).tolist(), tabs[:, 2].tolist())))
        cigars = list(map(text.__getitem__, map(slice, (tabs[:, 4] + 1).tolist(), tabs[:, 5].tolist())))
        unmapped = (flags & 4) != 0
        selected: set[int] = set()
        touched: set[int] = set()
        if unknown := set(names) - self.known_contigs - {b"*"}:
            unknown_rows = [i for i, name in enumerate(names) if name in unknown]
            if not self.drop_unknown_contigs:
                message = "read on a contig the reference lacks (--drop-unknown-contigs drops such reads)"
                raise InputError(message, self.path, first_line + unknown_rows[0])
            selected.update(unknown_rows)
        if not self.keep_unmapped:
            selected.update(np.flatnonzero(unmapped).tolist())
            if b"*" in cigars:  # CIGAR '*' on a mapped record: htslib reads it as unmapped
                selected.update(i for i, cigar in enumerate(cigars) if cigar == b"*")
        if self.revert_all:
            selected.update(np.flatnonzero(~unmapped).tolist())
        else:
            assert self.sites is not None
            starts = positions + np.fromiter(map(self.span_starts.__getitem__, cigars), dtype=np.int64, count=len(cigars))
            ends = positions + np.fromiter(map(self.span_ends.__getitem__, cigars), dtype=np.int64, count=len(cigars))
            for name, rows in rows_by_contig(names, unmapped):
                contig = name.decode(errors="replace")
                if contig not in self.sites.starts:
                    continue
                hit = self.sites.touching(contig, starts[rows], ends[rows])
                touched.update(rows[hit].tolist())
            selected |= touched
        offsets = [match.start() for match in NEEDS_TAG_WORK.finditer(text)]
        if offsets:
            selected.update((np.searchsorted(line_starts, offsets, side="right") - 1).tolist())
        return selected, touched

    def rewrite_record(self, line: bytes, line_number: int, touched: bool = True) -> bytes | None:
        """One record that needs work: reverted, tags fixed; None when it must go.

        ``touched``: the record's span may touch a window (False: only its tags need work).
        """
        fields = line.split(b"\t")
        if self.drop_unknown_contigs and len(fields) > 2 and fields[2] != b"*" and fields[2] not in self.known_contigs:
            self.report.add("reads_dropped_unknown_contig")  # only reached with --drop-unknown-contigs
            return None
        if len(fields) < 11:
            raise InputError("not a SAM record (fewer than 11 tab-separated fields)", self.path, line_number)
        flag = int(fields[1])
        tags = fields[11:]
        kept_tags = [tag for tag in tags if tag[:2] not in COPYING_TAGS]
        sa_windows = self._supplementary_touches(tags) if len(kept_tags) != len(tags) else False
        mate = self._mate_update(fields, kept_tags) if MATE_CIGAR_WITH_INDEL.search(line) else None
        if mate == MATE_REMOVED:
            self.report.add("mates_removed")
            _make_single(fields)
            kept_tags = [tag for tag in kept_tags if not tag.startswith(b"MC:")]
        elif mate is not None:
            kept_tags = [b"MC:Z:" + mate if tag.startswith(b"MC:") else tag for tag in kept_tags]
        if flag & 4:
            if not self.keep_unmapped and fields[9] != b"*" and fields[9].strip(b"N"):
                self.report.add("unmapped_reads_masked")
                fields[9] = b"N" * len(fields[9])
            return _join(fields, kept_tags)
        name = fields[2].decode(errors="replace")
        shape = self.shapes[fields[5]]
        if shape is None:  # CIGAR '*': htslib reads it as unmapped, so is it treated here
            if not self.keep_unmapped and fields[9] != b"*" and fields[9].strip(b"N"):
                self.report.add("unmapped_reads_masked")
                fields[9] = b"N" * len(fields[9])
            return _join(fields, kept_tags)
        if fields[9] != b"*" and len(fields[9]) != shape.query_length:
            raise InputError("CIGAR and SEQ lengths differ", self.path, line_number)
        if fields[10] != b"*" and len(fields[10]) != len(fields[9]):
            raise InputError("SEQ and QUAL lengths differ", self.path, line_number)
        position = int(fields[3]) - 1
        windows = self._windows(name, position, shape, fields[5]) if touched else []
        if not windows and not sa_windows:
            return _join(fields, kept_tags)
        reference_name = self.to_reference.get(name)
        if reference_name is None:
            raise InputError(f"contig {name} is not in the reference", self.path, line_number)
        reference_end = position + shape.reference_length
        reference = self.reference.fetch(reference_name, position, reference_end)
        if len(reference) < shape.reference_length:
            self.report.add("reads_past_contig_end")
            reference += b"N" * (shape.reference_length - len(reference))  # no reference there: reverted to N
        return self._revert(fields, kept_tags, shape, position, reference, windows, bool(sa_windows), name)

    def _keep_for(self, name: str, start: int, end: int) -> KeepAlleles | None:
        """The keep-list of this contig when a keep allele lies under the read (else the fast path)."""
        if self.keep is None or name not in self.keep.by_input or not self.keep.spans.windows(name, start, end):
            return None
        return self.keep.by_input[name]

    def _revert(
        self,
        fields: list[bytes],
        tags: list[bytes],
        shape: CigarShape,
        position: int,
        reference: bytes,
        windows: list[Window],
        mask_clips: bool,
        name: str = "",
    ) -> bytes | None:
        if self.revert_all and not shape.has_indel and not shape.left_clip and not shape.right_clip:
            sequence = fields[9]
            if sequence == b"*" or sequence.upper() == reference:
                return _join(fields, [tag for tag in tags if tag[:2] in KEPT_TAGS or tag[:2] in (b"MD", b"NM", b"MC")])
        keep = self._keep_for(name, position, position + shape.reference_length)
        result = revert_alignment(
            position,
            shape.operations,
            fields[9],
            fields[10],
            reference,
            position,
            windows,
            True if mask_clips or self.revert_all else None,
            keep,
        )
        if result is None:
            self.report.add("reads_removed_no_aligned_base")
            return None
        if result.changed:
            counts = self.report.counts
            counts["reads_changed"] += 1
            counts["bases_reverted"] += result.bases_reverted
            counts["indels_reverted"] += result.indels_reverted
            counts["clip_bases_masked"] += result.clip_bases_masked
        fields[5] = format_cigar(result.operations)
        fields[9] = result.sequence
        fields[10] = result.qualities
        names = [tag[:2] for tag in tags]
        new_tags = [tag for tag, name in zip(tags, names, strict=True) if name in KEPT_TAGS or name == b"MC"]
        if result.sequence != b"*" and (b"MD" in names or b"NM" in names):
            md, distance = md_and_nm(position, result.operations, result.sequence, reference, position)
            if b"MD" in names:
                new_tags.append(b"MD:Z:" + md)
            if b"NM" in names:
                new_tags.append(b"NM:i:%d" % distance)
        return _join(fields, new_tags)

    def _windows(self, name: str, position: int, shape: CigarShape, cigar: bytes) -> list[Window]:
        if self.revert_all:
            return [(position - 1, position + shape.reference_length + 1)]
        assert self.sites is not None
        return self.sites.windows(name, position + self.span_starts[cigar], position + self.span_ends[cigar])

    def _supplementary_touches(self, tags: list[bytes]) -> bool:
        """Whether another part of a chimeric read (SA tag) lies on a window: then this
        record's soft clips hold those bases, and are masked."""
        for tag in tags:
            if not tag.startswith(b"SA:Z:"):
                continue
            if self.revert_all:
                return True
            assert self.sites is not None
            for segment in tag[5:].split(b";"):
                parts = segment.split(b",")
                if len(parts) < 4 or not parts[1].isdigit():
                    continue
                shape = self.shapes[parts[3]]
                start = int(parts[1]) - 1
                end = start + (shape.reference_length if shape else 1)
                if self.sites.windows(parts[0].decode(errors="replace"), start, end):
                    return True
        return False

    def _mate_update(self, fields: list[bytes], tags: list[bytes]) -> bytes | None:
        """The mate's new CIGAR for MC (same rules, from MC alone), MATE_REMOVED, or None (no change)."""
        mate_cigar = next((tag[5:] for tag in tags if tag.startswith(b"MC:Z:")), None)
        if mate_cigar is None or (b"I" not in mate_cigar and b"D" not in mate_cigar):
            return None
        mate_name = fields[6] if fields[6] != b"=" else fields[2]
        if mate_name == b"*" or not fields[7].isdigit():
            return None
        mate_position = int(fields[7]) - 1
        shape = self.shapes[mate_cigar]
        if shape is None:
            return None
        name = mate_name.decode(errors="replace")
        if self.revert_all:
            windows = [(mate_position - 1, mate_position + shape.reference_length + 1)]
        else:
            assert self.sites is not None
            windows = self.sites.windows(name, mate_position - 1, mate_position + shape.reference_length + 1)
        if not windows:
            return None
        new_cigar = rewrite_mate_cigar(mate_position, mate_cigar, windows)
        if new_cigar is None:
            return MATE_REMOVED
        return None if new_cigar == mate_cigar else new_cigar


def _make_single(fields: list[bytes]) -> None:
    """The mate was removed: this record stands alone (SAM v1 1.4: flags 0x1, 0x2,
    0x8, 0x20, 0x40, 0x80 cleared; RNEXT, PNEXT, TLEN unset)."""
    fields[1] = b"%d" % (int(fields[1]) & ~(0x1 | 0x2 | 0x8 | 0x20 | 0x40 | 0x80))
    fields[6], fields[7], fields[8] = b"*", b"0", b"0"


def _join(fields: list[bytes], tags: list[bytes]) -> bytes:
    return b"\t".join(fields[:11] + tags)


def revert_stream(
    blocks: Iterable[tuple[int, list[bytes]]],
    reverter: Reverter,
    vcf_contigs: dict[str, int | None] | None,
    vcf_path: str,
    site_blocks: dict[str, dict[str, list[np.ndarray]]] | None,
) -> Iterator[bytes]:
    """Header (checked, our @PG added) then reverted record blocks."""
    header: list[bytes] = []
    started = False
    for first_line, lines in blocks:
        if lines and not lines[-1]:
            lines = lines[:-1]
        if not started:
            cut = 0
            while cut < len(lines) and lines[cut].startswith(b"@"):
                cut += 1
            header.extend(lines[:cut])
            if cut == len(lines):
                continue
            yield _start(header, reverter, vcf_contigs, vcf_path, site_blocks)
            started = True
            first_line += cut
            lines = lines[cut:]
        if lines:
            yield reverter.revert_block(lines, first_line)
    if not started:
        yield _start(header, reverter, vcf_contigs, vcf_path, site_blocks)


def _start(
    header: list[bytes],
    reverter: Reverter,
    vcf_contigs: dict[str, int | None] | None,
    vcf_path: str,
    site_blocks: dict[str, dict[str, list[np.ndarray]]] | None,
) -> bytes:
    vcf_to_input = reverter.check_header(header, vcf_contigs, vcf_path)
    if site_blocks is not None:
        reverter.sites = build_site_table(site_blocks, vcf_to_input)
        reverter.report.notes["germline_windows_used"] = len(reverter.sites)
    return b"\n".join([*header, Reverter.program_line(header)]) + b"\n"


@app.command(
    help="Revert germline alleles in reads to the reference; somatic variants stay, --all reverts every difference, "
    "MD, NM and MC are recomputed and the output stays a valid alignment."
)
def main(
    input: Annotated[str, typer.Argument(metavar="INPUT", help="SAM text, BAM or CRAM; - for stdin (default).")] = "-",
    reference_path: Annotated[
        Optional[str], typer.Option("-r", "--reference", metavar="FASTA", help="Reference FASTA of the alignment (.fai used or built).")
    ] = None,
    variants: Annotated[
        Optional[str],
        typer.Option("-v", "--variants", metavar="VCF", help="Germline sites (VCF: SNVs, MNPs, indels), e.g. the normal's calls."),
    ] = None,
    revert_all: Annotated[bool, typer.Option("--all", help="Revert every mismatch and indel against the reference (no VCF).")] = False,
    keep_path: Annotated[
        Optional[str],
        typer.Option("--keep", metavar="VCF", help="With --all: somatic alleles to keep (exact CHROM, POS, REF, ALT after normalisation)."),
    ] = None,
    population: Annotated[
        Optional[str],
        typer.Option("--population", metavar="VCF", help="Population VCF (bgzipped, tabix-indexed) to screen --keep for germline alleles."),
    ] = None,
    af_key: Annotated[str, typer.Option("--af-key", metavar="KEY", help="INFO key of the population frequency (default AF).")] = "AF",
    germline_af: Annotated[
        float,
        typer.Option("--germline-af", metavar="AF", help="Population AF from which a keep allele is germline, reverted (default 0.001)."),
    ] = GERMLINE_AF,
    drop_unknown_contigs: Annotated[
        bool, typer.Option("--drop-unknown-contigs", help="Drop (and count) reads on contigs the reference lacks instead of failing.")
    ] = False,
    keep_unmapped: Annotated[
        bool, typer.Option("--keep-unmapped", help="Keep the sequence of unmapped reads (default: masked to N).")
    ] = False,
    output: OutputOption = None,
    output_format: Annotated[
        str, typer.Option("-O", "--output-fmt", metavar="FORMAT", help="sam (default), bam or cram.")
    ] = "sam",
    report_path: ReportOption = None,
    quiet: QuietOption = False,
) -> None:
    def job(report: Report) -> None:
        if reference_path is None:
            raise UsageError("give the reference with -r/--reference")
        if revert_all == (variants is not None):
            raise UsageError("give exactly one of -v/--variants and --all")
        if output_format not in ("sam", "bam", "cram"):
            raise UsageError("--output-fmt must be sam, bam or cram")
        if keep_path is not None and not revert_all:
            raise UsageError("--keep needs --all (it lists the alleles --all spares)")
        if population is not None and keep_path is None:
            raise UsageError("--population screens --keep: give --keep")
        if not 0.0 <= germline_af <= 1.0:
            raise UsageError("--germline-af must be between 0 and 1")
        reference = Reference(reference_path)
        keep = None
        if keep_path is not None:
            keep, listed = read_keep_list(keep_path, reference, report)
            screen_keep_list(keep, listed, population, af_key, germline_af, report)
        site_blocks = vcf_contigs = None
        if variants is not None:
            site_blocks, vcf_contigs = read_sites(variants, reference, report)
            if not site_blocks:
                raise InputError("no variant records: nothing to revert (an empty germline list is refused)", variants)
            report.notes["germline_records"] = int(sum(sum(len(a) for a in store["starts"]) for store in site_blocks.values()))
        report.notes["mode"] = ("all-keep" if keep is not None else "all") if revert_all else "germline"
        reverter = Reverter(reference, None, input, report, keep_unmapped, revert_all, keep, drop_unknown_contigs)
        sink = AlignmentOutput(output, output_format, reference_path if output_format == "cram" else None)
        try:
            source = open_alignment_text(input, reference_path)
            try:
                for chunk in revert_stream(line_blocks(source, input), reverter, vcf_contigs, variants or "-", site_blocks):
                    sink.write(chunk)
            finally:
                source.close()
            sink.close()
        except BaseException:
            sink.abort()
            raise
        removed = report.counts["reads_removed_no_aligned_base"] + report.counts["reads_dropped_unknown_contig"]
        report.counts["reads_out"] = report.counts["reads_in"] - removed
        if keep is not None:
            report.counts["keep_allele_observations_kept"] = keep.kept_observations()

    run(COMMAND, job, Path(report_path) if report_path else None, quiet)


if __name__ == "__main__":
    app()
