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

Records are handled a block of whole lines at a time and most are never parsed
beyond FLAG, RNAME, POS and CIGAR: numpy locates the fields of every line of the
block at once, finds which reads' spans (soft clips projected) touch a revert
window and which carry a tag to fix, and every other record passes as a slice
of the block, the same bytes (STYLE.md, *Code*). The common record that does
need work, one ``M`` run, is rewritten without being split into fields; with
``--all`` its bases are compared with the reference and its line rebuilt in C
(``filters/_scan.c``; a numpy pass per block where it is not built), and the
block is spliced in C too. Anything else goes through :meth:`Reverter.rewrite_record`.
"""

from __future__ import annotations

import contextlib
import mmap
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Annotated, Optional

import numpy as np
import typer
from genoscrub import __version__, scan
from genoscrub.cli import OutputOption, QuietOption, ReportOption, make_app, run
from genoscrub.contigs import ContigMap
from genoscrub.population import SEQUENCE_ALLELE, TOLERANCE, PopulationJoin, UnsortedInput, normalised
from genoscrub.report import InputError, Report, UsageError
from genoscrub.revert import (
    CLIP_MARGIN,
    CigarShape,
    KeepAlleles,
    M,
    Window,
    format_cigar,
    md_and_nm,
    parse_cigar,
    revert_alignment,
    revert_single_match,
    rewrite_mate_cigar,
)
from genoscrub.streams import (
    AlignmentOutput,
    BackgroundWriter,
    background_reads,
    line_blocks,
    open_alignment_text,
    open_input,
    whole_line_blocks,
    workers,
)

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

MATE_CIGAR_WITH_INDEL = re.compile(rb"\tMC:Z:[0-9MNSHP=X]*[ID]")
VCF_RECORD = re.compile(rb"^([^\t\n]+)\t([0-9]+)\t[^\t\n]*\t([^\t\n]+)\t([^\t\n]+)", re.M)
VCF_CONTIG = re.compile(rb"^##contig=<(?:.*,)?ID=([^,>]+)(?:.*,length=([0-9]+))?", re.M)
MATE_REMOVED = b""
"""What the mate's CIGAR becomes when the mate is removed."""
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


FIELD_TABS = 10
"""Tabs located per record: the ten between the eleven mandatory fields."""
COPYING_CODES = np.array([(tag[0] << 8) | tag[1] for tag in sorted(COPYING_TAGS)], dtype=np.uint16)
MATE_CIGAR_CODE = (ord("M") << 8) | ord("C")
READ_SIZE = 1 << 20
"""Bytes per read from the decoder: small enough that the processes before and
after this one start early and stay busy, large enough for numpy's per-block work."""
def tag_codes(names: Iterable[bytes]) -> np.ndarray:
    """A table of the 65536 two-letter tag names, 1 where a tag named in ``names`` is kept (filters/_scan.c)."""
    table = np.zeros(1 << 16, dtype=np.uint8)
    table[[(name[0] << 8) | name[1] for name in names]] = 1
    return table


KEEP_UNCHANGED_CODES = tag_codes(KEPT_TAGS | {b"MD", b"NM", b"MC"})
KEEP_CHANGED_CODES = tag_codes(KEPT_TAGS | {b"MC"})

UPPERCASE = np.frombuffer(bytes(range(256)).upper(), dtype=np.uint8)
"""``bytes.upper`` as a lookup table, for reads compared in bulk."""
REGION_LIMIT = 1 << 24
"""Widest reference stretch fetched at once for a block's reads (16 MiB)."""
REGION_PER_READ = 2048
"""...and at most this many bases per read in it: one fetch per read costs about
as much as slicing 2 kb more of a shared stretch (unsorted or sparse input)."""
MATE_CIGAR_WIDTH = 24
"""Bytes of an MC value looked at in bulk; a longer one is decided per record."""


class BlockFields:
    """Where the mandatory fields of every record of a block lie, found with numpy
    (no per-line split): ``tabs[i, k]`` is the offset of line ``i``'s tab after field ``k + 1``."""

    def __init__(self, text: bytes, buffer: np.ndarray, line_starts: np.ndarray, line_ends: np.ndarray,
                 all_tabs: np.ndarray, columns: np.ndarray) -> None:
        self.text = text
        self.buffer = buffer
        self.line_starts = line_starts
        self.line_ends = line_ends
        self.all_tabs = all_tabs
        self.columns = columns
        self.tabs = all_tabs[columns]

    def values(self, field: int) -> list[bytes]:
        """Field ``field`` (0-based, 1 to 9) of every line, as bytes."""
        starts = (self.tabs[:, field - 1] + 1).tolist()
        return list(map(self.text.__getitem__, map(slice, starts, self.tabs[:, field].tolist())))

    def value(self, row: int, field: int) -> bytes:
        """Field ``field`` (0-based, 1 to 9) of line ``row``."""
        return self.text[int(self.tabs[row, field - 1]) + 1 : int(self.tabs[row, field])]

    def same_everywhere(self, field: int) -> bool:
        """Whether every line has the same bytes in field ``field`` (sorted input: one RNAME per block)."""
        starts, ends = self.tabs[:, field - 1] + 1, self.tabs[:, field]
        sizes = ends - starts
        width = int(sizes[0])
        if width > 256 or (sizes != width).any():
            return False
        cells = self.buffer[starts[:, None] + np.arange(width)]
        return bool((cells == cells[0]).all())

    def quality_ends(self) -> np.ndarray:
        """Where QUAL ends on each line: the next tab on the line, or the line's end."""
        following = self.columns[:, -1] + 1
        inside = following < len(self.all_tabs)
        ends = self.line_ends.copy()
        next_tab = self.all_tabs[np.minimum(following, len(self.all_tabs) - 1)]
        use = inside & (next_tab < self.line_ends)
        ends[use] = next_tab[use]
        return ends

    def tag_work_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Lines that carry a tag to remove, and lines with a mate CIGAR with an
        indel (may over-select, never under-select: the record is then looked at whole)."""
        is_tag = np.ones(len(self.all_tabs), dtype=bool)
        is_tag[self.columns.ravel()] = False
        tag_tabs = self.all_tabs[is_tag]
        if not len(tag_tabs):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        buffer, last = self.buffer, len(self.buffer) - 1

        def at(shift: int) -> np.ndarray:
            return buffer[np.minimum(tag_tabs + shift, last)]

        code = (at(1).astype(np.uint16) << 8) | at(2)
        colon = at(3) == 58
        copying = np.isin(code, COPYING_CODES)
        mate = tag_tabs[colon & (code == MATE_CIGAR_CODE) & (at(4) == 90) & (at(5) == 58)]
        cells = buffer[np.minimum(mate[:, None] + 6 + np.arange(MATE_CIGAR_WIDTH), last)]
        inside = np.cumsum((cells == 9) | (cells == 10), axis=1) == 0
        indel = (((cells == 73) | (cells == 68)) & inside).any(axis=1) | inside[:, -1]
        return (
            np.searchsorted(self.line_starts, tag_tabs[copying], side="right") - 1,
            np.searchsorted(self.line_starts, mate[indel], side="right") - 1,
        )


class CigarColumn:
    """The CIGAR of every line of a block as an index into its distinct strings,
    found with numpy (a CIGAR of up to 8 characters is one 64-bit key): what a
    record's CIGAR implies is then looked up once per distinct string."""

    WIDTH = 8

    def __init__(self, table: BlockFields) -> None:
        starts, ends = table.tabs[:, 4] + 1, table.tabs[:, 5]
        sizes = ends - starts
        places = np.arange(self.WIDTH)
        cells = table.buffer[np.minimum(starts[:, None] + places, len(table.buffer) - 1)]
        cells[places >= sizes[:, None]] = 0
        keys = np.ascontiguousarray(cells).view(np.uint64)[:, 0]
        short = np.flatnonzero(sizes <= self.WIDTH)
        _, first, inverse = np.unique(keys[short], return_index=True, return_inverse=True)
        text = table.text
        firsts = short[first]
        self.strings: list[bytes] = [text[a:b] for a, b in zip(starts[firsts].tolist(), ends[firsts].tolist(), strict=True)]
        self.ids = np.empty(len(sizes), dtype=np.int64)
        self.ids[short] = inverse
        if len(short) < len(sizes):
            known = {string: index for index, string in enumerate(self.strings)}
            for row in np.flatnonzero(sizes > self.WIDTH).tolist():
                string = text[int(starts[row]) : int(ends[row])]
                index = known.get(string)
                if index is None:
                    index = known[string] = len(self.strings)
                    self.strings.append(string)
                self.ids[row] = index

    def __getitem__(self, row: int) -> bytes:
        return self.strings[int(self.ids[row])]

    def each(self, values: Mapping[bytes, int]) -> np.ndarray:
        """``values[cigar]`` for every line."""
        return np.array([values[string] for string in self.strings], dtype=np.int64)[self.ids]

    def rows_with(self, cigar: bytes) -> np.ndarray:
        """The lines whose CIGAR is ``cigar``."""
        if cigar not in self.strings:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(self.ids == self.strings.index(cigar))


def is_position(field: bytes) -> bool:
    """A FLAG or POS as the SAM spec allows it: digits, at most 2^31-1."""
    return field.isdigit() and int(field) < 1 << 31


def block_fields(text: bytes) -> BlockFields | None:
    """The field table of a block of whole lines (each ending in a newline);
    None when a line has fewer than eleven fields."""
    buffer = np.frombuffer(text, dtype=np.uint8)
    line_ends = np.flatnonzero(buffer == 10)
    line_starts = np.empty_like(line_ends)
    line_starts[:1] = 0
    line_starts[1:] = line_ends[:-1] + 1
    all_tabs = np.flatnonzero(buffer == 9)
    first = np.searchsorted(all_tabs, line_starts)
    columns = first[:, None] + np.arange(FIELD_TABS)
    if columns.max(initial=0) >= len(all_tabs):
        return None
    if (all_tabs[columns[:, -1]] >= line_ends).any():
        return None
    return BlockFields(text, buffer, line_starts, line_ends, all_tabs, columns)


def rows_by_contig(names: list[bytes], unmapped: np.ndarray) -> Iterator[tuple[bytes, np.ndarray]]:
    """Mapped rows of a block grouped by RNAME: one group for sorted input, a
    dictionary pass (not one scan per contig) for any other order."""
    mapped = ~unmapped
    if len(names) == 1 or names.count(names[0]) == len(names):
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
    width = int(sizes.max())
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


class MatchLength(dict[bytes, int]):
    """CIGAR string -> its length when it is one ``M`` run written plainly (``150M``), else -1."""

    def __init__(self, shapes: ShapeCache) -> None:
        super().__init__()
        self.shapes = shapes

    def __missing__(self, cigar: bytes) -> int:
        if len(self) > 100_000:
            self.clear()
        shape = self.shapes[cigar]
        length = -1
        if shape is not None and len(shape.operations) == 1 and shape.operations[0][0] == M:
            length = shape.operations[0][1]
            if cigar != b"%dM" % length:
                length = -1
        self[cigar] = length
        return length


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
        self.match_lengths = MatchLength(self.shapes)
        self.to_reference: dict[str, str] = {}
        self.reference_names: dict[bytes, str] = {}
        self.block_lines = 0
        """Lines of the last block, for the next block's line numbers."""
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
        self.reference_names = {name.encode(): reference_name for name, reference_name in self.to_reference.items()}
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

    def revert_block(self, text: bytes, first_line: int) -> bytes:
        """One block of whole records (each line ending in a newline) in, the
        same block as SAM text out: untouched records pass as slices of it."""
        table = block_fields(text)
        if table is None:
            bad = next(i for i, line in enumerate(text.split(b"\n")) if line.count(b"\t") < FIELD_TABS)
            raise InputError("not a SAM record (fewer than 11 tab-separated fields)", self.path, first_line + bad)
        self.block_lines = len(table.line_starts)
        self.report.add("reads_in", self.block_lines)
        selected, touched, simple = self._select(table, first_line)
        if not selected:
            return text
        starts, ends = table.line_starts.tolist(), table.line_ends.tolist()
        if scan.native is not None:
            revert_all = self.revert_all
            lines: list[bytes | None] = []
            for row in selected:
                new_line = simple.get(row)
                if new_line is None:
                    start, end = starts[row], ends[row]
                    new_line = self.rewrite_record(text[start:end], first_line + row, revert_all or row in touched)
                lines.append(new_line)
            return scan.native.splice_lines(text, table.line_starts, table.line_ends, np.array(selected, dtype=np.int64), lines)
        pieces: list[bytes] = []
        previous = 0
        for row in selected:
            start, end = starts[row], ends[row]
            new_line = simple.get(row)
            if new_line is None:
                new_line = self.rewrite_record(text[start:end], first_line + row, self.revert_all or row in touched)
            if start > previous:
                pieces.append(text[previous:start])
            if new_line is not None:
                pieces.append(new_line)
                pieces.append(b"\n")
            previous = end + 1
        pieces.append(text[previous:])
        return b"".join(pieces)

    def _select(self, table: BlockFields, first_line: int) -> tuple[list[int], set[int], dict[int, bytes]]:
        """The rows that need rewriting (sorted), those among them that touch a
        window, and the new text of those the ``--all`` fast path settled; the
        rest pass as the same bytes.

        Only FLAG, RNAME, POS and CIGAR are looked at (RNEXT with
        ``--drop-unknown-contigs``); the overlap with the windows is computed
        for the whole block at once.
        """
        buffer, tabs = table.buffer, table.tabs
        flags = parse_numbers(buffer, tabs[:, 0] + 1, tabs[:, 1])
        positions = parse_numbers(buffer, tabs[:, 2] + 1, tabs[:, 3])
        if flags is None or positions is None:
            lines = table.text.split(b"\n")
            bad = next((i for i, line in enumerate(lines) if not all(map(is_position, line.split(b"\t", 4)[1:4:2]))), 0)
            raise InputError("FLAG and POS must be numbers (at most 2^31-1)", self.path, first_line + bad)
        positions -= 1
        count = len(flags)
        names = [table.value(0, 2)] if table.same_everywhere(2) else table.values(2)
        cigars = CigarColumn(table)
        unmapped = (flags & 4) != 0
        selected = np.zeros(count, dtype=bool)
        touched: set[int] = set()
        if unknown := set(names) - self.known_contigs - {b"*"}:
            unknown_rows = [i for i, name in enumerate(names) if name in unknown] if len(names) > 1 else list(range(count))
            if not self.drop_unknown_contigs:
                message = "read on a contig the reference lacks (--drop-unknown-contigs drops such reads)"
                raise InputError(message, self.path, first_line + unknown_rows[0])
            selected[unknown_rows] = True
        if self.drop_unknown_contigs:  # the mate of a dropped read: RNEXT names a contig the reference lacks
            known = self.known_contigs | {b"=", b"*"}
            selected[[i for i, name in enumerate(table.values(6)) if name not in known]] = True
        if not self.keep_unmapped:
            selected |= unmapped
            selected[cigars.rows_with(b"*")] = True  # CIGAR '*' on a mapped record: htslib reads it as unmapped
            invalid = [index for index, string in enumerate(cigars.strings) if self.shapes[string] is None]
            if invalid:  # a CIGAR that cannot be read hides where the read lies: treated like '*' (fail closed)
                selected[np.isin(cigars.ids, invalid)] = True
        copying_rows, mate_rows = table.tag_work_rows()
        fast = ~selected & ~unmapped
        tags_only = np.zeros(count, dtype=bool)
        tags_only[copying_rows] = True
        tags_only[mate_rows] = True
        tags_only &= ~selected
        fast[mate_rows] = False
        if not self.revert_all:  # --all keeps only KEPT_TAGS, MD, NM and MC on a record anyway
            fast[copying_rows] = False
        if self.revert_all:
            selected |= ~unmapped
        else:
            assert self.sites is not None
            starts = positions + cigars.each(self.span_starts)
            ends = positions + cigars.each(self.span_ends)
            hits = np.zeros(count, dtype=bool)
            for name, rows in rows_by_contig(names, unmapped):
                contig = name.decode(errors="replace")
                if contig in self.sites.starts:
                    hits[rows[self.sites.touching(contig, starts[rows], ends[rows])]] = True
            fast &= hits
            tags_only &= ~hits
            selected |= hits
            touched = set(np.flatnonzero(hits).tolist())
        selected |= tags_only
        simple = self._revert_simple_rows(table, fast, positions, names, cigars)
        if not self.revert_all:
            simple.update(self._tags_only_rows(table, tags_only, cigars))
        return np.flatnonzero(selected).tolist(), touched, simple

    def _revert_simple_rows(
        self, table: BlockFields, fast: np.ndarray, positions: np.ndarray, names: list[bytes], cigars: CigarColumn
    ) -> dict[int, bytes]:
        """The common record, one ``M`` run with SEQ and no tag to fix: its new
        text, by the same rules as :meth:`rewrite_record` without building its
        fields. ``fast`` marks the candidates; anything unusual (a keep allele
        under the read, a read past the contig's end, a length that does not
        add up) is left to the general path."""
        lengths = cigars.each(self.match_lengths)
        tabs = table.tabs
        sequence_starts = tabs[:, 8] + 1
        sequence_ends = tabs[:, 9]
        quality_ends = table.quality_ends()
        quality_sizes = quality_ends - sequence_ends - 1
        fast &= (lengths > 0) & (sequence_ends - sequence_starts == lengths) & ((quality_sizes == lengths) | (quality_sizes == 1))
        if self.keep is not None and fast.any():
            for name, group in rows_by_contig(names, ~fast):
                contig = name.decode(errors="replace")
                if contig in self.keep.spans.starts:
                    fast[group[self.keep.spans.touching(contig, positions[group], positions[group] + lengths[group])]] = False
        rows = np.flatnonzero(fast)
        results: dict[int, bytes] = {}
        if self.revert_all and len(rows):
            rows = self._revert_all_in_bulk(table, rows, positions, lengths, names, quality_ends, results)
        if not len(rows):
            return results
        indexes = np.zeros(len(rows), dtype=np.int64)
        if not self.revert_all:
            assert self.sites is not None
            row_names = [names[0]] if len(names) == 1 else [names[row] for row in rows.tolist()]
            for name, group in rows_by_contig(row_names, np.zeros(len(rows), dtype=bool)):
                window_starts = self.sites.starts.get(name.decode(errors="replace"))
                if window_starts is not None:
                    found = rows[group]
                    indexes[group] = np.searchsorted(window_starts, positions[found] + lengths[found])
        regions = self._reference_regions(names, rows, positions, lengths)
        text = table.text
        fetch = self.reference.fetch
        site_windows = self.sites.windows if self.sites is not None else None
        counts = self.report.counts
        single_name = names[0] if len(names) == 1 else None
        revert_all = self.revert_all
        keep_all = KEPT_TAGS | {b"MD", b"NM", b"MC"}
        keep_changed = KEPT_TAGS | {b"MC"}
        for row, start, sequence_start, sequence_end, quality_end, end, position, length, index in zip(
            rows.tolist(), table.line_starts[rows].tolist(), sequence_starts[rows].tolist(), sequence_ends[rows].tolist(),
            quality_ends[rows].tolist(), table.line_ends[rows].tolist(), positions[rows].tolist(), lengths[rows].tolist(),
            indexes.tolist(), strict=True,
        ):
            sequence = text[sequence_start:sequence_end]
            if sequence == b"*" or (quality_end - sequence_end == 2 and text[sequence_end + 1] != 42 and length != 1):
                continue
            name = single_name if single_name is not None else names[row]
            reference_name = self.reference_names.get(name)
            if reference_name is None:
                continue
            if revert_all:
                windows = [(position - 1, position + length + 1)]
            else:
                assert site_windows is not None
                windows = site_windows(name.decode(errors="replace"), position, position + length, index)
                if not windows:
                    results[row] = text[start:end]
                    continue
            region = regions.get(name)
            if region is not None:
                reference = region[1][position - region[0] : position - region[0] + length]
            else:
                reference = fetch(reference_name, position, position + length)
            if len(reference) < length:
                continue
            tags = text[quality_end + 1 : end].split(b"\t") if quality_end < end else []
            if revert_all and sequence.upper() == reference:
                results[row] = b"\t".join([text[start:quality_end], *[tag for tag in tags if tag[:2] in keep_all]])
                continue
            result = revert_single_match(position, length, sequence, b"", reference, position, windows)
            if result.bases_reverted:
                counts["reads_changed"] += 1
                counts["bases_reverted"] += result.bases_reverted
            prefixes = [tag[:2] for tag in tags]
            kept = [tag for tag, prefix in zip(tags, prefixes, strict=True) if prefix in keep_changed]
            if b"MD" in prefixes or b"NM" in prefixes:
                md, distance = md_and_nm(position, [(M, length)], result.sequence, reference, position)
                if b"MD" in prefixes:
                    kept.append(b"MD:Z:" + md)
                if b"NM" in prefixes:
                    kept.append(b"NM:i:%d" % distance)
            results[row] = b"\t".join([text[start:sequence_start] + result.sequence + text[sequence_end:quality_end], *kept])
        _same_report_keys(counts)
        return results

    def _revert_all_in_bulk(
        self,
        table: BlockFields,
        rows: np.ndarray,
        positions: np.ndarray,
        lengths: np.ndarray,
        names: list[bytes],
        quality_ends: np.ndarray,
        results: dict[int, bytes],
    ) -> np.ndarray:
        """``--all`` for one-``M``-run records: every read base compared with the
        reference per contig, in C (``scan.native.sam_revert_matches``, which also
        builds the lines) or else in one numpy pass, so a record only costs the
        rewriting of its tags. A read that differs becomes the reference
        (MD ``<length>``, NM 0). Returns the rows left to the per-record path
        (no reference region, an N in the reference, SEQ or QUAL ``*``)."""
        left: list[np.ndarray] = []
        regions = self._reference_regions(names, rows, positions, lengths)
        row_names = [names[0]] if len(names) == 1 else [names[row] for row in rows.tolist()]
        buffer, text = table.buffer, table.text
        counts = self.report.counts
        keep_all = KEPT_TAGS | {b"MD", b"NM", b"MC"}
        keep_changed = KEPT_TAGS | {b"MC"}
        for name, group in rows_by_contig(row_names, np.zeros(len(rows), dtype=bool)):
            found = rows[group]
            region = regions.get(name)
            if region is None:
                left.append(found)
                continue
            region_start, bases = region
            sizes = lengths[found]
            offsets = positions[found] - region_start
            sequence_starts = table.tabs[found, 8] + 1
            sequence_ends = table.tabs[found, 9]
            usable = (offsets + sizes <= len(bases)) & ~((sizes == 1) & (buffer[sequence_starts] == 42))
            usable &= ~((quality_ends[found] - sequence_ends == 2) & (sizes != 1) & (buffer[sequence_ends + 1] != 42))
            if not usable.all():
                left.append(found[~usable])
                found, sizes, offsets = found[usable], sizes[usable], offsets[usable]
                sequence_starts, sequence_ends = sequence_starts[usable], sequence_ends[usable]
            if not len(found):
                continue
            if scan.native is not None:  # the same comparison and lines, in C
                lines, changed_reads, changed_bases = scan.native.sam_revert_matches(
                    text, table.line_starts[found], sequence_starts, sequence_ends, quality_ends[found], table.line_ends[found],
                    bases, offsets, KEEP_UNCHANGED_CODES, KEEP_CHANGED_CODES,
                )
                if changed_reads:
                    counts["reads_changed"] += changed_reads
                    counts["bases_reverted"] += changed_bases
                unknown_rows = [row for row, line in zip(found.tolist(), lines, strict=True) if line is None]
                if unknown_rows:  # calmd counts an N as a mismatch: MD and NM need the general rule
                    left.append(np.array(unknown_rows, dtype=np.int64))
                    results.update((row, line) for row, line in zip(found.tolist(), lines, strict=True) if line is not None)
                else:
                    results.update(zip(found.tolist(), lines, strict=True))
                continue
            firsts = np.cumsum(sizes) - sizes
            within = np.arange(int(sizes.sum())) - np.repeat(firsts, sizes)
            read = buffer[np.repeat(sequence_starts, sizes) + within]
            reference = np.frombuffer(bases, dtype=np.uint8)[np.repeat(offsets, sizes) + within]
            raw = np.add.reduceat((read != reference).view(np.uint8), firsts, dtype=np.int64)
            changed = np.add.reduceat((UPPERCASE[read] != reference).view(np.uint8), firsts, dtype=np.int64) > 0
            unknown = np.add.reduceat((reference == 78).view(np.uint8), firsts, dtype=np.int64) > 0
            for row, start, sequence_start, sequence_end, quality_end, end, offset, size, differences_, is_changed, has_n in zip(
                found.tolist(), table.line_starts[found].tolist(), sequence_starts.tolist(), sequence_ends.tolist(),
                quality_ends[found].tolist(), table.line_ends[found].tolist(), offsets.tolist(), sizes.tolist(),
                raw.tolist(), changed.tolist(), unknown.tolist(), strict=True,
            ):
                tags = text[quality_end + 1 : end].split(b"\t") if quality_end < end else []
                if not is_changed:
                    results[row] = b"\t".join([text[start:quality_end], *[tag for tag in tags if tag[:2] in keep_all]])
                    continue
                if has_n:  # calmd counts an N as a mismatch: MD and NM need the general rule
                    left.append(np.array([row]))
                    continue
                counts["reads_changed"] += 1
                counts["bases_reverted"] += differences_
                prefixes = [tag[:2] for tag in tags]
                kept = [tag for tag, prefix in zip(tags, prefixes, strict=True) if prefix in keep_changed]
                if b"MD" in prefixes:
                    kept.append(b"MD:Z:%d" % size)
                if b"NM" in prefixes:
                    kept.append(b"NM:i:0")
                line = text[start:sequence_start] + bases[offset : offset + size] + text[sequence_end:quality_end]
                results[row] = b"\t".join([line, *kept])
        _same_report_keys(counts)
        return np.sort(np.concatenate(left)) if left else np.zeros(0, dtype=np.int64)

    def _tags_only_rows(self, table: BlockFields, rows: np.ndarray, cigars: CigarColumn) -> dict[int, bytes]:
        """Records on no window that carry a tag to remove: their new text, by the
        rules of :meth:`rewrite_record` (an SA tag or a mate CIGAR with an indel,
        or lengths that do not add up, leave the record to it)."""
        results: dict[int, bytes] = {}
        selected = np.flatnonzero(rows)
        if not len(selected):
            return results
        text = table.text
        shapes = self.shapes
        tabs = table.tabs
        quality_ends = table.quality_ends()
        for row, start, sequence_start, sequence_end, quality_end, end in zip(
            selected.tolist(), table.line_starts[selected].tolist(), (tabs[selected, 8] + 1).tolist(),
            tabs[selected, 9].tolist(), quality_ends[selected].tolist(), table.line_ends[selected].tolist(), strict=True,
        ):
            shape = shapes[cigars[row]]
            sequence_size = sequence_end - sequence_start
            quality_size = quality_end - sequence_end - 1
            if shape is not None and sequence_size != shape.query_length and text[sequence_start:sequence_end] != b"*":
                continue
            if quality_size != sequence_size and text[sequence_end + 1 : quality_end] != b"*":
                continue
            tags = text[quality_end + 1 : end].split(b"\t")
            prefixes = [tag[:2] for tag in tags]
            if b"SA" in prefixes:
                continue
            kept = [tag for tag, prefix in zip(tags, prefixes, strict=True) if prefix not in COPYING_TAGS]
            if b"MC" in prefixes and MATE_CIGAR_WITH_INDEL.search(text, quality_end, end):
                mate_fields = [b"", b"", table.value(row, 2), b"", b"", b"", table.value(row, 6), table.value(row, 7)]
                mate = self._mate_update(mate_fields, kept)
                if mate == MATE_REMOVED:
                    continue
                if mate is not None:
                    kept = [b"MC:Z:" + mate if tag.startswith(b"MC:") else tag for tag in kept]
            results[row] = b"\t".join([text[start:quality_end], *kept])
        return results

    def _reference_regions(
        self, names: list[bytes], rows: np.ndarray, positions: np.ndarray, lengths: np.ndarray
    ) -> dict[bytes, tuple[int, bytes]]:
        """Per contig, the reference under all of these rows in one fetch
        (``(start, bases)``), when they lie close together (sorted input); one
        slice per read then replaces a fetch per read."""
        regions: dict[bytes, tuple[int, bytes]] = {}
        row_names = [names[0]] if len(names) == 1 else [names[row] for row in rows.tolist()]
        for name, group in rows_by_contig(row_names, np.zeros(len(rows), dtype=bool)):
            reference_name = self.reference_names.get(name)
            if reference_name is None:
                continue
            found = rows[group]
            start = int(positions[found].min())
            end = int((positions[found] + lengths[found]).max())
            if end - start <= min(REGION_LIMIT, REGION_PER_READ * len(found)):
                regions[name] = (start, self.reference.fetch(reference_name, start, end))
        return regions

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
        if self.drop_unknown_contigs and fields[6] not in (b"=", b"*") and fields[6] not in self.known_contigs:
            self.report.add("mates_dropped_unknown_contig")  # the mate is dropped: this record stands alone
            _make_single(fields)
            kept_tags = _without_mate_tags(kept_tags)
            mate = None
        else:
            mate = self._mate_update(fields, kept_tags) if MATE_CIGAR_WITH_INDEL.search(line) else None
        if mate == MATE_REMOVED:
            self.report.add("mates_removed")
            _make_single(fields)
            kept_tags = _without_mate_tags(kept_tags)
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
        new_cigar = rewrite_mate_cigar(mate_position, mate_cigar, windows, shape)
        if new_cigar is None:
            return MATE_REMOVED
        return None if new_cigar == mate_cigar else new_cigar


def _make_single(fields: list[bytes]) -> None:
    """The mate was removed: this record stands alone (SAM v1 1.4: flags 0x1, 0x2,
    0x8, 0x20, 0x40, 0x80 cleared; RNEXT, PNEXT, TLEN unset)."""
    fields[1] = b"%d" % (int(fields[1]) & ~(0x1 | 0x2 | 0x8 | 0x20 | 0x40 | 0x80))
    fields[6], fields[7], fields[8] = b"*", b"0", b"0"


def _same_report_keys(counts: Counter[str]) -> None:
    """A changed read counts its indels and masked clips too, even at zero: the
    report lists the same keys, in the same order, whichever path changed it."""
    if "reads_changed" in counts:
        counts["indels_reverted"] += 0
        counts["clip_bases_masked"] += 0


def _without_mate_tags(tags: list[bytes]) -> list[bytes]:
    """Tags without MC and MQ, which describe a mate that is no longer in the output."""
    return [tag for tag in tags if tag[:3] not in (b"MC:", b"MQ:")]


def _join(fields: list[bytes], tags: list[bytes]) -> bytes:
    return b"\t".join(fields[:11] + tags)


def record_chunks(stream: IO[bytes], path: str) -> Iterator[bytes]:
    """Blocks of whole lines, each ending in a newline (``streams.whole_line_blocks``):
    most records leave as slices of the block they came in."""
    return (chunk for _, _, chunk in whole_line_blocks(background_reads(stream, READ_SIZE), path))


HEADER_END = re.compile(rb"\n[^@]")


def revert_stream(
    chunks: Iterable[bytes],
    reverter: Reverter,
    vcf_contigs: dict[str, int | None] | None,
    vcf_path: str,
    site_blocks: dict[str, dict[str, list[np.ndarray]]] | None,
) -> Iterator[bytes]:
    """Header (checked, our @PG added) then reverted record chunks."""
    header: list[bytes] = []
    started = False
    line_number = 1
    for whole in chunks:
        blank_end = whole.endswith(b"\n\n") or whole == b"\n"  # one blank line at a chunk's end passes
        chunk = whole[:-1] if blank_end else whole
        if not started:
            cut = 0
            if chunk.startswith(b"@"):
                match = HEADER_END.search(chunk)
                cut = match.start() + 1 if match else len(chunk)
            header.extend(chunk[:cut].split(b"\n")[:-1])
            line_number += chunk.count(b"\n", 0, cut)
            chunk = chunk[cut:]
            if chunk:
                yield _start(header, reverter, vcf_contigs, vcf_path, site_blocks)
                started = True
        if chunk:
            yield reverter.revert_block(chunk, line_number)
            line_number += reverter.block_lines
        line_number += blank_end
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
        writer = BackgroundWriter(sink)  # the encoder downstream never waits for this process's CPU
        try:
            source = open_alignment_text(input, reference_path)
            try:
                for chunk in revert_stream(record_chunks(source, input), reverter, vcf_contigs, variants or "-", site_blocks):
                    writer.write(chunk)
            finally:
                workers.close(source)
            writer.close()
            sink.close()
        except InputError:
            with contextlib.suppress(Exception):
                writer.close()  # what came before the bad record goes out, as it would without the writer thread
            sink.abort()
            raise
        except BaseException:
            writer.abort()
            sink.abort()
            raise
        removed = report.counts["reads_removed_no_aligned_base"] + report.counts["reads_dropped_unknown_contig"]
        report.counts["reads_out"] = report.counts["reads_in"] - removed
        if keep is not None:
            report.counts["keep_allele_observations_kept"] = keep.kept_observations()

    run(COMMAND, job, Path(report_path) if report_path else None, quiet)


if __name__ == "__main__":
    app()
