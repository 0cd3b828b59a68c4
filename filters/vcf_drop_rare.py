"""vcf-drop-rare: keep only VCF records whose every allele is common in the population.

A rare variant (minor allele frequency below 1 % in the relevant population, East
Asian for Korean cohorts) narrows a cohort down to a family or a person; the
guideline (Park et al. 2024) removes them, and germline-flagged variants with them
unless the study needs them. A record is kept only when every allele at the site
has a population frequency of at least ``--min-af``: each ALT by its AF, REF by
1 - sum(AF) (DESIGN.md, *vcf-drop-rare*). No frequency means rare: fail closed.

Frequencies come from an INFO key of the record itself (``--af-key``; dbSNP ``CAF``
and ``COMMON`` understood) or from a bgzipped, tabix-indexed population VCF
(``--population``), joined with the input in one ordered pass per contig, not one
random lookup per record. The join, ``PopulationJoin``, knows nothing of argv or
of this command's output: sam-revert-germline's tumour-only screen uses it too.

Kept records pass as the same bytes: a 4 MiB block is never split into lines, its
columns are located by numpy (``vcf.RecordBlock``), records are judged in bulk
(one-base REF/ALT sites by int64 keys, short indels trimmed by numpy into
fixed-width text keys, multi-allelic and odd records one by one) and the kept ones
are written as slices of the block. The population file is decompressed on a
second thread (``PopulationText``) and parsed the same way, batch by batch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from itertools import pairwise
from operator import ne
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer
from genoscrub import __version__
from genoscrub.cli import InputArgument, OutputOption, QuietOption, ReportOption, make_app, run
from genoscrub.population import (
    SEQUENCE_ALLELE,
    SEQUENCE_BYTES,
    TOLERANCE,
    Allele,
    PopulationJoin,
    UnsortedInput,
    encoded,
    encoded_arrays,
    normalised,
    short_alleles,
    trimmed_alleles,
)
from genoscrub.report import InputError, Report, UsageError
from genoscrub.vcf import (
    RecordBlock,
    TextBlocks,
    VcfHeader,
    VcfOutput,
    contig_lengths,
    info_numbers,
    info_values,
    joined,
    opened_input,
    span_floats,
    span_integers,
    spans_within,
    split_header_text,
    text_blocks,
)

COMMAND = "vcf-drop-rare"
DEFAULT_MIN_AF = 0.01
# gVCF "any other allele" placeholders stand for no observed allele: they are not judged.
GVCF_PLACEHOLDERS = frozenset({b"<*>", b"<NON_REF>"})
# dbSNP SAO 1 (germline) or 3 (both), the INFO flag GERMLINE, VarDict's STATUS=Germline.
GERMLINE_WORDS = (b"SAO=", b"GERMLINE", b"Germline", b"germline")  # a block without them has no germline record
GERMLINE_INFO = re.compile(rb"(?:^|;)(?:SAO=[13]|GERMLINE|STATUS=Germline)(?=;|$)", re.M)
NO_ALLELE = frozenset({b"<*>", b"<NON_REF>", b"."})
KEPT, RARE, MISSING, GERMLINE = "kept", "rare", "missing", "germline"
DOT = ord(".")
OUTCOME = np.dtype("<U8")  # an array of the verdicts above

app = make_app()


# --- the rule ------------------------------------------------------------------------------


def judge_alleles(alt_afs: list[float | None], min_af: float, ref_af: float | None = None) -> str:
    """``kept``, ``rare`` or ``missing`` for one site from its ALT frequencies.

    Every allele must reach ``min_af``: each ALT by its AF, REF by ``ref_af`` when
    the source gives it (dbSNP CAF) or else 1 - sum(AF). A known rare allele makes
    the site rare even when another allele's frequency is unknown.
    """
    threshold = min_af - TOLERANCE
    known = [af for af in alt_afs if af is not None]
    if any(af < threshold for af in known):
        return RARE
    if ref_af is not None and ref_af < threshold:
        return RARE
    if len(known) < len(alt_afs):
        return MISSING
    if ref_af is None and 1.0 - sum(known) < threshold:
        return RARE
    return KEPT


def judged_alts(alt_field: bytes) -> tuple[list[bytes], list[int]]:
    """The ALT alleles of a record and their indexes, without gVCF placeholders and ``.``."""
    if alt_field == b".":
        return [], []
    alts = alt_field.split(b",")
    if not GVCF_PLACEHOLDERS.intersection(alts):
        return alts, list(range(len(alts)))
    indexes = [i for i, alt in enumerate(alts) if alt not in GVCF_PLACEHOLDERS]
    return [alts[i] for i in indexes], indexes


def is_sequence_allele(allele: bytes) -> bool:
    """Symbolic alleles (``<DEL>``), breakends (``N[chr2:1[``) and ``*`` have no population AF."""
    return SEQUENCE_ALLELE.fullmatch(allele) is not None


def frequency(text: bytes) -> float | None:
    """A frequency from INFO text; ``.`` is missing; not a number in [0, 1] raises ValueError."""
    if text == b".":
        return None
    value = float(text)
    if not 0.0 <= value <= 1.0 or math.isnan(value):
        raise ValueError("not a frequency")
    return value


class BadRecord(Exception):
    """A record of a block that cannot be judged; ``index`` says which."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


# --- frequencies from the record's own INFO ------------------------------------------------


class InfoFrequencies:
    """Per-allele frequencies from an INFO key: Number=A or 1 (one per ALT), R or dbSNP CAF
    (REF first), or dbSNP COMMON (1: the site is common at 1 %, 0: it is not)."""

    def __init__(self, key: str, header: VcfHeader, path: str) -> None:
        self.key = key
        numbers = info_numbers(header.meta)
        number = numbers.get(key.encode())
        if number is None:
            raise InputError(f"INFO/{key} (--af-key) is not defined in the header", path, header.column_line_number)
        if key == "COMMON":
            self.kind = "common"
        elif key == "CAF" or number == b"R":
            self.kind = "ref-first"
        elif number in (b"A", b"1", b"."):  # "." in VCF 4.0-era files: one value per ALT checked per record
            self.kind = "per-alt"
        else:
            message = f"INFO/{key} has Number={number.decode(errors='replace')}; --af-key needs Number=A, R, 1 or ."
            raise InputError(message, path, header.column_line_number)
        self.count_declared = number != b"."  # Number=. (VCF 4.0 era): a count that does not fit is missing, not an error
        self.pattern = re.compile(rb"(?:^|;)" + re.escape(key.encode()) + rb"=([^;]*)")
        # One match per line of a block's joined INFO column: the key's value, or b"" where absent.
        self.block_pattern = re.compile(rb"^(?:(?:[^\n;]*;)*?" + re.escape(key.encode()) + rb"=([^;\n]*))?", re.M)

    def outcomes(self, block: RecordBlock, min_af: float) -> np.ndarray:
        """The verdict of every record of a block (an array of KEPT, RARE, MISSING).

        Bi-allelic records with one number are judged together: the key's values
        located for the whole block (``info_values``), read as floats by numpy,
        compared at once. The others (multi-allelic, symbolic, missing or bad
        values) go one by one.
        """
        info_start, info_end = block.column(7)
        alt_start, alt_end = block.column(4)
        if self.kind != "per-alt":
            outcomes, undecided = np.full(block.count, MISSING, dtype=OUTCOME), np.arange(block.count)
        else:
            outcomes, undecided = self._bi_allelic_outcomes(block, info_start, info_end, alt_start, alt_end, min_af)
        for index in undecided.tolist():
            info, alt = block.text[info_start[index] : info_end[index]], block.text[alt_start[index] : alt_end[index]]
            try:
                outcomes[index] = self.verdict(info, alt, min_af)
            except ValueError as error:
                message = str(error) if str(error).startswith("INFO/") else f"INFO/{self.key} is not a frequency between 0 and 1"
                raise BadRecord(index, message) from None
        return outcomes

    def _bi_allelic_outcomes(
        self, block: RecordBlock, info_start: np.ndarray, info_end: np.ndarray, alt_start: np.ndarray, alt_end: np.ndarray, min_af: float
    ) -> tuple[np.ndarray, np.ndarray]:
        found, value_start, value_end = info_values(block.text, block.data, block.starts, self.key.encode(), info_start, info_end)
        afs = np.full(block.count, np.nan)
        afs[found] = span_floats(block.data, value_start[found], value_end[found])[0]
        sequence = (alt_end > alt_start) & spans_within(block.data, block.text, alt_start, alt_end, SEQUENCE_BYTES)
        decided = sequence & (afs >= 0.0) & (afs <= 1.0)  # False for NaN: missing, several values, not a number
        absent = sequence & ~found  # one ALT of bases and no key: MISSING, as ``verdict`` says
        threshold = min_af - TOLERANCE
        rare = (afs < threshold) | (1.0 - afs < threshold)
        return np.where(absent, MISSING, np.where(rare, RARE, KEPT)).astype(OUTCOME), np.flatnonzero(~(decided | absent))

    def verdict(self, info: bytes, alt_field: bytes, min_af: float) -> str:
        """Raises ValueError for a value that is not a frequency or a wrong count of values."""
        alts, indexes = judged_alts(alt_field)
        if not alts:
            return KEPT  # a reference-only site: nothing but REF, which is everybody's allele
        match = self.pattern.search(info)
        if match is None:
            return MISSING
        text = match.group(1)
        if self.kind == "common":
            return {b"1": KEPT, b"0": RARE}.get(text, MISSING)
        values = text.split(b",")
        all_alts = alt_field.count(b",") + 1
        if self.kind == "ref-first":
            if len(values) != all_alts + 1:
                raise ValueError(f"INFO/{self.key} needs one value for REF and one per ALT")
            ref_af = frequency(values[0])
            alt_afs = [frequency(values[i + 1]) for i in indexes]
        elif len(values) == all_alts:
            ref_af = None
            alt_afs = [frequency(values[i]) for i in indexes]
        elif len(values) == 1:
            frequency(values[0])
            return MISSING  # one value for several ALTs: which allele it describes is unknown
        elif not self.count_declared:
            return MISSING
        else:
            raise ValueError(f"INFO/{self.key} needs one value per ALT allele")
        alt_afs = [af if is_sequence_allele(alt) else None for af, alt in zip(alt_afs, alts, strict=True)]
        return judge_alleles(alt_afs, min_af, ref_af)


class PopulationFrequencies:
    """The population join as the command's frequency source: verdicts for a block of records."""

    def __init__(self, join: PopulationJoin) -> None:
        self.join = join

    def outcomes(self, block: RecordBlock, min_af: float) -> np.ndarray:
        chrom_start, chrom_end = block.column(0)
        chroms = block.spans(chrom_start, chrom_end)
        changes = np.fromiter(map(ne, chroms[1:], chroms[:-1]), dtype=bool, count=max(0, block.count - 1))
        bounds = [0, *(np.flatnonzero(changes) + 1).tolist(), block.count]
        outcomes = np.empty(block.count, dtype=OUTCOME)
        for start, stop in pairwise(bounds):
            chrom = chroms[start]
            try:
                outcomes[start:stop] = self._contig_outcomes(chrom.decode(errors="replace"), block, start, stop, min_af)
            except UnsortedInput as error:
                raise BadRecord(start + error.index, str(error)) from None
        return outcomes

    def _contig_outcomes(self, chrom: str, block: RecordBlock, start: int, stop: int, min_af: float) -> np.ndarray:
        """Verdicts of records ``start:stop`` of a block, all on one contig.

        A record with one base REF and one base ALT is one query, encoded by numpy;
        so is one with one short ALT of bases (``trimmed_alleles``); the others
        (multi-allelic, long or symbolic alleles, ``.``, gVCF placeholders) are split
        into their alleles one by one.
        """
        count = stop - start
        data, text = block.data, block.text
        pos_start, pos_end = (column[start:stop] for column in block.column(1))
        ref_start, ref_end = (column[start:stop] for column in block.column(3))
        alt_start, alt_end = (column[start:stop] for column in block.column(4))
        try:
            positions = span_integers(data, text, pos_start, pos_end)
        except ValueError:
            raise BadRecord(start + int(np.argmax(pos_end - pos_start > 18)), "POS is not a non-negative integer") from None
        snv = (ref_end - ref_start == 1) & (alt_end - alt_start == 1) & (data[alt_start] != DOT)
        short = ~snv & short_alleles(data, text, positions, ref_start, ref_end, alt_start, alt_end)
        counts = np.ones(count, dtype=np.int64)
        others = np.flatnonzero(~snv & ~short).tolist()
        other_codes: list[list[int | bytes | Allele]] = []
        for row in others:
            pos, ref = int(positions[row]), text[ref_start[row] : ref_end[row]]
            alts = text[alt_start[row] : alt_end[row]].split(b",")
            other_codes.append([encoded(normalised(pos, ref, alt)) for alt in alts if alt not in NO_ALLELE])
            counts[row] = len(other_codes[-1])
        owners = np.repeat(np.arange(count), counts)
        offsets = np.cumsum(counts) - counts
        keys = np.empty(len(owners), dtype=np.int64)
        keys[offsets[snv]] = (positions[snv] << 16) | (data[ref_start[snv]].astype(np.int64) << 8) | data[alt_start[snv]]
        spans = (ref_start[short], ref_end[short], alt_start[short], alt_end[short])
        short_keys, short_texts = trimmed_alleles(data, positions[short], *spans)
        keys[offsets[short]] = short_keys
        other_keys, other_texts, other_indels = encoded_arrays([code for codes in other_codes for code in codes])
        other_indexes = np.repeat(offsets[others], counts[others]) + (
            np.arange(len(other_keys)) - np.repeat(np.cumsum(counts[others]) - counts[others], counts[others])
        )
        keys[other_indexes] = other_keys
        widths = [texts.dtype.itemsize for texts in (short_texts, other_texts) if len(texts)]
        texts = np.zeros(len(owners), dtype=f"S{max(widths, default=1)}")
        texts[offsets[short]] = short_texts
        texts[other_indexes] = other_texts
        indels = {int(other_indexes[index]): allele for index, allele in other_indels.items()}
        query_positions = positions[owners]
        ends = query_positions + (ref_end - ref_start)[owners]
        try:
            afs = self.join.encoded_frequencies(chrom, query_positions, ends, keys, texts, indels)
        except UnsortedInput as error:
            raise UnsortedInput(str(error), int(owners[error.index]) if len(owners) else 0) from None
        threshold = min_af - TOLERANCE
        missing = np.isnan(afs)
        any_rare = np.bincount(owners, weights=(afs < threshold), minlength=count) > 0
        any_missing = np.bincount(owners, weights=missing, minlength=count) > 0
        ref_af = 1.0 - np.bincount(owners, weights=np.where(missing, 0.0, afs), minlength=count)
        rare = any_rare | (~any_missing & (ref_af < threshold))
        return np.where(rare, RARE, np.where(any_missing, MISSING, KEPT)).astype(OUTCOME)


# --- the command ---------------------------------------------------------------------------


def is_germline(filter_field: bytes, info: bytes) -> bool:
    """dbSNP SAO 1 or 3, FILTER germline, INFO flag GERMLINE or STATUS=Germline (SAO=2 is somatic)."""
    return GERMLINE_INFO.search(info) is not None or b"germline" in filter_field.split(b";")


class RareVariantFilter:
    """Decide, block by block, which records stay; count why the others went."""

    def __init__(
        self,
        source: InfoFrequencies | PopulationFrequencies,
        min_af: float,
        keep_missing: bool,
        drop_germline: bool,
        report: Report,
        path: str,
    ) -> None:
        self.source = source
        self.min_af = min_af
        self.keep_missing = keep_missing
        self.drop_germline = drop_germline
        self.report = report
        self.path = path
        self.kept_outcomes = frozenset({KEPT, MISSING}) if keep_missing else frozenset({KEPT})

    def outcomes(self, block: RecordBlock) -> np.ndarray:
        """``kept``, ``rare``, ``missing`` or ``germline`` for each record of a block."""
        try:
            outcomes = self.source.outcomes(block, self.min_af)
        except BadRecord as error:
            raise InputError(str(error), self.path, block.first_line + error.index) from None
        if self.drop_germline and any(word in block.text for word in GERMLINE_WORDS):
            filter_start, filter_end = block.column(6)
            info_start, info_end = block.column(7)
            text = block.text
            for index in range(block.count):
                if is_germline(text[filter_start[index] : filter_end[index]], text[info_start[index] : info_end[index]]):
                    outcomes[index] = GERMLINE
        return outcomes

    def count(self, outcomes: np.ndarray) -> None:
        counts = {outcome: int(np.count_nonzero(outcomes == outcome)) for outcome in (KEPT, RARE, MISSING, GERMLINE)}
        self.report.add("kept", int(counts[KEPT] + (counts[MISSING] if self.keep_missing else 0)))
        self.report.add("dropped_rare", int(counts[RARE]))
        self.report.add("kept_missing" if self.keep_missing else "dropped_missing", int(counts[MISSING]))
        if self.drop_germline:
            self.report.add("dropped_germline", int(counts[GERMLINE]))

    def filter_records(self, body: TextBlocks, column_count: int) -> Iterable[bytes]:
        """Yield the text of the records kept, block by block, as slices of the input."""
        for first_line, text in body:
            block = RecordBlock(first_line, text, self.path, column_count)
            self.report.add("records", block.count)
            outcomes = self.outcomes(block)
            self.count(outcomes)
            kept = block.kept_text(np.isin(outcomes, list(self.kept_outcomes)))
            if kept:
                yield kept


def output_header(header: VcfHeader) -> bytes:
    """The input's header with one provenance line, no command line, no path."""
    lines = [*header.meta, f"##genoscrub_{COMMAND}={__version__}".encode(), b"\t".join(header.columns)]
    return joined(lines)


def input_contig_lengths(header: VcfHeader) -> dict[str, int | None]:
    return contig_lengths(header.meta)


@app.command(
    help="Drop rare variants from a VCF; a record stays only if every allele has a population frequency of at least --min-af, "
    "and, with --drop-germline, if it is not marked germline."
)
def main(
    input: InputArgument = "-",
    output: OutputOption = None,
    output_type: Annotated[
        Optional[str],
        typer.Option("-O", "--output-type", metavar="v|z", help="v: VCF text (default); z: bgzipped VCF (BGZF, indexable by tabix)."),
    ] = None,
    af_key: Annotated[
        str,
        typer.Option(
            "--af-key",
            metavar="KEY",
            help="INFO key holding allele frequencies (Number=A or 1; R and dbSNP CAF list REF first; dbSNP COMMON). "
            "With --population, the key in that file.",
        ),
    ] = "AF",
    population: Annotated[
        Optional[str],
        typer.Option(
            "--population",
            metavar="FILE",
            help="Bgzipped, tabix-indexed population VCF to take --af-key from, joined on CHROM, POS, REF, ALT.",
        ),
    ] = None,
    min_af: Annotated[
        float, typer.Option("--min-af", metavar="FLOAT", help="Keep a record only if every allele has at least this frequency.")
    ] = DEFAULT_MIN_AF,
    keep_missing: Annotated[
        bool, typer.Option("--keep-missing", help="Keep records with no frequency (default: dropped as rare).")
    ] = False,
    drop_germline: Annotated[
        bool,
        typer.Option(
            "--drop-germline",
            help="Also drop records marked germline: dbSNP SAO 1 or 3, FILTER germline, INFO GERMLINE, STATUS=Germline.",
        ),
    ] = False,
    report_path: ReportOption = None,
    quiet: QuietOption = False,
) -> None:
    def job(report: Report) -> None:
        if not 0.0 <= min_af <= 1.0:
            raise UsageError("--min-af must be between 0 and 1")
        if af_key == "COMMON" and population is None and min_af != DEFAULT_MIN_AF:
            raise UsageError("dbSNP COMMON marks frequencies of 1 %: it cannot judge another --min-af")
        report.notes["min_af"] = min_af
        report.notes["af_key"] = af_key
        sink = VcfOutput(output, output_type)
        join: PopulationJoin | None = None
        try:
            with opened_input(input) as source:
                header, body = split_header_text(text_blocks(source, input), input)
                frequencies: InfoFrequencies | PopulationFrequencies
                if population is not None:
                    join = PopulationJoin(population, af_key, input_contig_lengths(header))
                    report.notes["contigs_renamed"] = join.contig_map.report_note()
                    frequencies = PopulationFrequencies(join)
                else:
                    frequencies = InfoFrequencies(af_key, header, input)
                records = RareVariantFilter(frequencies, min_af, keep_missing, drop_germline, report, input)
                sink.write(output_header(header))
                for chunk in records.filter_records(body, len(header.columns)):
                    sink.write(chunk)
            sink.close()
        except BaseException:
            sink.abort()
            raise
        finally:
            if join is not None:
                join.close()

    run(COMMAND, job, Path(report_path) if report_path else None, quiet)


if __name__ == "__main__":
    app()
