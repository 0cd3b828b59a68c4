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

Kept records pass as the same bytes; a record is split only up to its INFO column.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from itertools import chain, compress, groupby, islice, repeat
from operator import add, itemgetter
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer

from filters import __version__
from filters.cli import InputArgument, OutputOption, QuietOption, ReportOption, make_app, run
from filters.contigs import ContigMap, conventional_names
from filters.report import InputError, Report, UsageError
from filters.streams import line_blocks
from filters.vcf import (
    Blocks,
    VcfHeader,
    VcfOutput,
    check_records,
    contig_lengths,
    info_numbers,
    joined,
    opened_input,
    split_header,
)

COMMAND = "vcf-drop-rare"
DEFAULT_MIN_AF = 0.01
# Frequencies are decimal text; 0.01 written as "0.01" must count as 1 %, and 1 - 0.99 too.
TOLERANCE = 1e-9
SEQUENCE_ALLELE = re.compile(rb"[ACGTNacgtn]+")
# gVCF "any other allele" placeholders stand for no observed allele: they are not judged.
GVCF_PLACEHOLDERS = frozenset({b"<*>", b"<NON_REF>"})
# dbSNP SAO 1 (germline) or 3 (both), the INFO flag GERMLINE, VarDict's STATUS=Germline.
GERMLINE_INFO = re.compile(rb"(?:^|;)(?:SAO=[13]|GERMLINE|STATUS=Germline)(?=;|$)", re.M)
NO_ALLELE = frozenset({"<*>", "<NON_REF>", "."})
GVCF_OR_NO_ALT = re.compile(r"<\*>|<NON_REF>|^\.$", re.M)
NOT_ONE_SEQUENCE_ALLELE = re.compile(rb"[^ACGTNacgtn\n]|^$", re.M)
KEPT, RARE, MISSING, GERMLINE = "kept", "rare", "missing", "germline"
# Seek the population file (one tabix query) rather than read through a gap this long.
SEEK_GAP = 100_000
POPULATION_TABLE_START = 4096

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


def float_or_nan(text: bytes) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


class BadRecord(Exception):
    """A record of a block that cannot be judged; ``index`` says which."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


Fields = list[list[bytes]]


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

    def outcomes(self, fields: Fields, min_af: float) -> list[str]:
        """The verdict of every record of a block.

        Bi-allelic records with one number are judged together: one regex over
        the joined INFO column, ``float`` mapped in C, numpy comparisons. The
        others (multi-allelic, symbolic, missing or bad values) go one by one.
        """
        count = len(fields)
        undecided: list[int]
        if self.kind != "per-alt":
            outcomes, undecided = [MISSING] * count, list(range(count))
        else:
            outcomes, undecided = self._bi_allelic_outcomes(fields, min_af)
        for index in undecided:
            record = fields[index]
            try:
                outcomes[index] = self.verdict(record[7], record[4], min_af)
            except ValueError as error:
                message = str(error) if str(error).startswith("INFO/") else f"INFO/{self.key} is not a frequency between 0 and 1"
                raise BadRecord(index, message) from None
        return outcomes

    def _bi_allelic_outcomes(self, fields: Fields, min_af: float) -> tuple[list[str], list[int]]:
        count = len(fields)
        values = self.block_pattern.findall(b"\n".join(map(itemgetter(7), fields)))
        if len(values) != count:  # cannot happen with one INFO per line; be safe
            return [MISSING] * count, list(range(count))
        try:
            afs = np.array(list(map(float, values)), dtype=np.float64)
        except ValueError:
            afs = np.array(list(map(float_or_nan, values)), dtype=np.float64)
        decided = (afs >= 0.0) & (afs <= 1.0)  # False for NaN: missing, several values, not a number
        alts = b"\n".join(map(itemgetter(4), fields))
        if NOT_ONE_SEQUENCE_ALLELE.search(alts) is not None:
            alt_list = alts.split(b"\n")
            decided &= np.fromiter(map(bool, map(SEQUENCE_ALLELE.fullmatch, alt_list)), dtype=bool, count=count)
        threshold = min_af - TOLERANCE
        rare = (afs < threshold) | (1.0 - afs < threshold)
        outcomes: list[str] = np.where(rare, RARE, KEPT).tolist()
        return outcomes, np.flatnonzero(~decided).tolist()

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


# --- frequencies from a population VCF -----------------------------------------------------


def normalised(pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """The shortest form of one allele: shared trailing, then leading bases trimmed.

    ``100 ATT AT`` and ``100 AT A`` both become ``(101, "T", "")``; the same rule on
    both sides makes differently padded records of one variant meet. (Without the
    reference this cannot left-align; both files should be normalised the same way.)
    """
    if len(ref) == 1 and len(alt) == 1:
        return pos, ref, alt
    ref, alt = ref.upper(), alt.upper()
    while ref and alt and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    start = 0
    limit = min(len(ref), len(alt))
    while start < limit and ref[start] == alt[start]:
        start += 1
    return pos + start, ref[start:], alt[start:]


class UnsortedInput(Exception):
    """Sites came out of order; ``index`` is the first one out of place in the batch given."""

    def __init__(self, message: str, index: int = 0) -> None:
        super().__init__(message)
        self.index = index


def frequency_text(text: str) -> float | None:
    """A population value: ``.`` or empty is missing; not a number in [0, 1] raises ValueError."""
    return frequency(text.encode()) if text not in ("", ".") else None


class PopulationJoin:
    """Population allele frequencies for a sorted stream of sites, in one ordered pass.

    Ask ``frequencies(chrom, pos, ref, alts)`` for one site, or
    ``allele_frequencies(chrom, positions, refs, alts)`` for a batch of alleles, in
    the input's order (contig by contig, POS non-decreasing). The answer is each
    allele's frequency in the population file, or None / NaN where the population
    has no such allele. Alleles are matched on CHROM, POS, REF and ALT after
    trimming shared bases (``normalised``), with multi-allelic population records
    split into their alleles.

    Each contig is read from the tabix index once, start to end, in batches of
    lines parsed by one regex each; a new tabix query is made only to skip a gap
    of more than ``SEEK_GAP`` bases. Memory holds the population alleles between
    the current input site and the end of the last batch read. Contig names are
    mapped (``chr1``/``1``) and lengths compared (``ContigMap``) when the join
    is made, before any record is written.
    """

    BATCH = 4096

    def __init__(self, path: str, af_key: str, input_contigs: Mapping[str, int | None]) -> None:
        import pysam

        self.path = path
        self.af_key = af_key
        try:
            self.tabix = pysam.TabixFile(path, parser=None)  # type: ignore[arg-type]
        except (OSError, ValueError):
            raise UsageError(f"cannot open population file {path} as bgzipped VCF with a tabix index (tabix -p vcf FILE)") from None
        header = [line.encode() for line in self.tabix.header]
        numbers = info_numbers(header)
        if af_key.encode() not in numbers:
            raise InputError(f"INFO/{af_key} (--af-key) is not defined in the population file's header", path)
        self.ref_first = numbers[af_key.encode()] == b"R" or af_key == "CAF"
        # One match per population line that has the key: POS, REF, ALT and the key's value.
        self.row = re.compile(
            r"^[^\t\n]*\t([0-9]+)\t[^\t\n]*\t([^\t\n]*)\t([^\t\n]*)\t[^\t\n]*\t[^\t\n]*\t(?:[^\t\n;]*;)*?"
            + re.escape(af_key)
            + r"=([^;\t\n]*)",
            re.M,
        )
        indexed = set(self.tabix.contigs)
        population_contigs: dict[str, int | None] = dict.fromkeys(indexed)
        population_contigs.update(contig_lengths(header))
        self.indexed = indexed
        self.population_contigs = population_contigs
        self.contig_map = ContigMap(input_contigs, population_contigs, "population file", path)
        self.contig: str | None = None
        self.finished_contigs: set[str] = set()
        self.last_pos = 0
        self._reset(None)

    # population side

    def _reset(self, population_contig: str | None, start: int = 0) -> None:
        self.population_contig = population_contig
        self.table: dict[tuple[int, str, str], str] = {}
        self.table_limit = POPULATION_TABLE_START
        self.iterator = iter(self.tabix.fetch(population_contig, start)) if population_contig else iter(())
        self.read_until = -1  # POS of the last population record read: all before it are in the table
        self.exhausted = population_contig is None

    def _read_through(self, limit: int) -> None:
        """Take population records at least up to POS ``limit`` into the table."""
        while not self.exhausted and self.read_until <= limit:  # more records may share the POS of the last one read
            lines = list(islice(self.iterator, self.BATCH))
            if len(lines) < self.BATCH:
                self.exhausted = True
            if lines:
                self._add(lines)
                self.read_until = int(lines[-1].split("\t", 2)[1])
        if self.exhausted:
            self.read_until = max(self.read_until, limit)

    def _add(self, lines: list[str]) -> None:
        rows = self.row.findall("\n".join(lines))
        if not rows:
            return
        positions = list(map(int, map(itemgetter(0), rows)))
        refs, alts, values = list(map(itemgetter(1), rows)), list(map(itemgetter(2), rows)), list(map(itemgetter(3), rows))
        keys = list(zip(positions, refs, alts, strict=True))
        new = dict(zip(keys, values, strict=True))
        complex_rows = [i for i, key in enumerate(keys) if len(key[1]) != 1 or len(key[2]) != 1]
        if len(new) < len(keys) or self.ref_first:  # an allele listed twice, or REF-first values: one by one
            new = {}
            complex_rows = list(range(len(keys)))
        for index in complex_rows:
            new.pop(keys[index], None)
            self._add_alleles(new, positions[index], refs[index], alts[index], values[index])
        for key in new.keys() & self.table.keys():
            new[key] = self._rarer(new[key], self.table[key])
        self.table.update(new)

    def _add_alleles(self, table: dict[tuple[int, str, str], str], pos: int, ref: str, alt_field: str, value: str) -> None:
        """Split a multi-allelic or padded population record into trimmed alleles; the rarer of two values counts."""
        values = value.split(",")
        for index, alt in enumerate(alt_field.split(",")):
            if not SEQUENCE_ALLELE.fullmatch(alt.encode()):
                continue
            position = index + 1 if self.ref_first else index
            text = values[position] if position < len(values) else "."
            key = normalised(pos, ref, alt)
            table[key] = self._rarer(text, table[key]) if key in table else text

    def _rarer(self, first: str, second: str) -> str:
        known = [(value, text) for text in (first, second) if (value := self._parse(text)) is not None]
        return min(known)[1] if known else "."

    def _parse(self, text: str) -> float | None:
        if text == "nan":
            return None
        try:
            return frequency_text(text)
        except ValueError:
            raise InputError(f"population INFO/{self.af_key} value is not a frequency between 0 and 1", self.path) from None

    def _forget_before(self, pos: int) -> None:
        """Drop population alleles no later site can match (their trimmed POS is behind)."""
        if len(self.table) <= self.table_limit:
            return
        self.table = {key: value for key, value in self.table.items() if key[0] >= pos}
        self.table_limit = max(POPULATION_TABLE_START, 2 * len(self.table))

    # input side

    def _enter_contig(self, chrom: str) -> None:
        if chrom in self.finished_contigs:
            raise UnsortedInput(f"records of contig {chrom} are not together: sort the input (bcftools sort)")
        if self.contig is not None:
            self.finished_contigs.add(self.contig)
        self.contig = chrom
        self.last_pos = 0
        self._reset(self._population_name(chrom))

    def _population_name(self, chrom: str) -> str | None:
        name = self.contig_map.get(chrom)
        if name is None and chrom not in self.contig_map.to_other:
            name = next((n for n in [chrom, *conventional_names(chrom)] if n in self.population_contigs), None)
        return name if name in self.indexed else None

    def allele_frequencies(self, chrom: str, positions: list[int], refs: list[str], alts: list[str]) -> np.ndarray:
        """The population frequency of each allele (NaN: not in the population), as float64.

        ``positions`` must not decrease, and continue where the last call on this
        contig stopped; a contig seen before another must not come back.
        """
        if not positions:
            return np.empty(0)
        if chrom != self.contig:
            self._enter_contig(chrom)
        steps = np.diff(np.asarray([self.last_pos, *positions], dtype=np.int64))
        if (steps < 0).any():
            raise UnsortedInput("POS goes backwards: sort the input (bcftools sort)", int(np.argmax(steps < 0)))
        self.last_pos = positions[-1]
        result = np.full(len(positions), np.nan)
        if self.population_contig is None:
            return result
        for start in range(0, len(positions), self.BATCH):
            stop = min(start + self.BATCH, len(positions))
            result[start:stop] = self._lookup(positions[start:stop], refs[start:stop], alts[start:stop])
        return result

    def _lookup(self, positions: list[int], refs: list[str], alts: list[str]) -> np.ndarray:
        first = positions[0]
        if first - self.read_until > SEEK_GAP:
            self._reset(self.population_contig, max(0, first - 2))  # an insertion at first-1 trims to first
        self._forget_before(first)
        self._read_through(max(map(add, positions, map(len, refs))))
        found = list(map(self.table.get, map(normalised, positions, refs, alts)))
        texts = ["nan" if text is None else text for text in found]
        try:
            values = np.array(texts, dtype=np.float64)
        except ValueError:  # "." or not a number: one by one, to say which
            values = np.array([math.nan if (value := self._parse(text)) is None else value for text in texts], dtype=np.float64)
        if ((values < 0.0) | (values > 1.0)).any():
            raise InputError(f"population INFO/{self.af_key} value is not a frequency between 0 and 1", self.path)
        return values

    def frequencies(self, chrom: str, pos: int, ref: str, alts: list[str]) -> list[float | None]:
        """Each ALT's population frequency at one site (None: not in the population)."""
        found = self.allele_frequencies(chrom, [pos] * len(alts), [ref] * len(alts), alts) if alts else np.empty(0)
        return [None if math.isnan(value) else float(value) for value in found]

    def close(self) -> None:
        self.tabix.close()


class PopulationFrequencies:
    """The population join as the command's frequency source: verdicts for a block of records."""

    def __init__(self, join: PopulationJoin) -> None:
        self.join = join

    def outcomes(self, fields: Fields, min_af: float) -> list[str]:
        outcomes: list[str] = []
        start = 0
        for chrom, records in groupby(map(itemgetter(0), fields)):
            stop = start + sum(1 for _ in records)
            try:
                outcomes += self._contig_outcomes(chrom.decode(errors="replace"), fields[start:stop], min_af)
            except UnsortedInput as error:
                raise BadRecord(start + error.index, str(error)) from None
            start = stop
        return outcomes

    def _contig_outcomes(self, chrom: str, fields: Fields, min_af: float) -> list[str]:
        count = len(fields)
        positions = list(map(int, map(itemgetter(1), fields)))
        refs = list(map(bytes.decode, map(itemgetter(3), fields)))
        alt_fields = list(map(bytes.decode, map(itemgetter(4), fields)))
        if "," not in "".join(alt_fields) and not GVCF_OR_NO_ALT.search("\n".join(alt_fields)):
            owners = np.arange(count)
            query_positions, query_refs, query_alts = positions, refs, alt_fields
        else:  # one query per ALT allele, in record order; placeholders and "." are no allele
            alt_lists = [alt_field.split(",") for alt_field in alt_fields]
            counts = list(map(len, alt_lists))
            owners = np.repeat(np.arange(count), counts)
            query_positions = list(chain.from_iterable(map(repeat, positions, counts)))
            query_refs = list(chain.from_iterable(map(repeat, refs, counts)))
            query_alts = list(chain.from_iterable(alt_lists))
            judged = [alt not in NO_ALLELE for alt in query_alts]
            if not all(judged):
                owners = owners[np.asarray(judged, dtype=bool)]
                query_positions = list(compress(query_positions, judged))
                query_refs = list(compress(query_refs, judged))
                query_alts = list(compress(query_alts, judged))
        try:
            afs = self.join.allele_frequencies(chrom, query_positions, query_refs, query_alts)
        except UnsortedInput as error:
            raise UnsortedInput(str(error), int(owners[error.index]) if len(owners) else 0) from None
        threshold = min_af - TOLERANCE
        missing = np.isnan(afs)
        any_rare = np.bincount(owners, weights=(afs < threshold), minlength=count) > 0
        any_missing = np.bincount(owners, weights=missing, minlength=count) > 0
        ref_af = 1.0 - np.bincount(owners, weights=np.where(missing, 0.0, afs), minlength=count)
        rare = any_rare | (~any_missing & (ref_af < threshold))
        return np.where(rare, RARE, np.where(any_missing, MISSING, KEPT)).tolist()


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

    def outcomes(self, fields: Fields, first_line: int) -> list[str]:
        """``kept``, ``rare``, ``missing`` or ``germline`` for each record of a block (split on 8 tabs)."""
        try:
            outcomes = self.source.outcomes(fields, self.min_af)
        except BadRecord as error:
            raise InputError(str(error), self.path, first_line + error.index) from None
        if self.drop_germline:
            filters = b"\n".join(map(itemgetter(6), fields))
            if b"germline" in filters or GERMLINE_INFO.search(b"\n".join(map(itemgetter(7), fields))):
                for index, record in enumerate(fields):
                    if is_germline(record[6], record[7]):
                        outcomes[index] = GERMLINE
        return outcomes

    def count(self, outcomes: list[str]) -> None:
        counts = Counter(outcomes)
        self.report.add("kept", counts[KEPT] + (counts[MISSING] if self.keep_missing else 0))
        self.report.add("dropped_rare", counts[RARE])
        self.report.add("kept_missing" if self.keep_missing else "dropped_missing", counts[MISSING])
        if self.drop_germline:
            self.report.add("dropped_germline", counts[GERMLINE])

    def filter_records(self, body: Blocks, column_count: int) -> Iterable[bytes]:
        """Yield the text of the records kept, block by block, as the same bytes."""
        for first_line, lines in body:
            fields = list(map(bytes.split, lines, repeat(b"\t"), repeat(8)))
            check_records(lines, first_line, self.path, column_count, fields)
            self.report.add("records", len(lines))
            outcomes = self.outcomes(fields, first_line)
            self.count(outcomes)
            kept = list(compress(lines, map(self.kept_outcomes.__contains__, outcomes)))
            if kept:
                yield joined(kept)


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
                header, body = split_header(line_blocks(source, input), input)
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
        finally:
            if join is not None:
                join.close()

    run(COMMAND, job, Path(report_path) if report_path else None, quiet)


if __name__ == "__main__":
    app()
