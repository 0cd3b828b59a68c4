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
import os
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import pairwise
from operator import ne
from pathlib import Path
from typing import Annotated, Any, AnyStr, Optional

import numpy as np
import typer

from filters import __version__
from filters.cli import InputArgument, OutputOption, QuietOption, ReportOption, make_app, run
from filters.contigs import ContigMap, conventional_names
from filters.report import InputError, Report, UsageError
from filters.vcf import (
    NEWLINE,
    TAB,
    RecordBlock,
    TextBlocks,
    VcfHeader,
    VcfOutput,
    contig_lengths,
    info_numbers,
    info_values,
    joined,
    opened_input,
    span_digits,
    span_floats,
    span_integers,
    spans_within,
    split_header_text,
    text_blocks,
)

COMMAND = "vcf-drop-rare"
DEFAULT_MIN_AF = 0.01
# Frequencies are decimal text; 0.01 written as "0.01" must count as 1 %, and 1 - 0.99 too.
TOLERANCE = 1e-9
SEQUENCE_ALLELE = re.compile(rb"[ACGTNacgtn]+")
# gVCF "any other allele" placeholders stand for no observed allele: they are not judged.
GVCF_PLACEHOLDERS = frozenset({b"<*>", b"<NON_REF>"})
# dbSNP SAO 1 (germline) or 3 (both), the INFO flag GERMLINE, VarDict's STATUS=Germline.
GERMLINE_WORDS = (b"SAO=", b"GERMLINE", b"Germline", b"germline")  # a block without them has no germline record
GERMLINE_INFO = re.compile(rb"(?:^|;)(?:SAO=[13]|GERMLINE|STATUS=Germline)(?=;|$)", re.M)
NO_ALLELE = frozenset({b"<*>", b"<NON_REF>", b"."})
# A trimmed allele: POS, REF, ALT (``normalised``).
Allele = tuple[int, bytes, bytes]
KEPT, RARE, MISSING, GERMLINE = "kept", "rare", "missing", "germline"
DOT = ord(".")
OUTCOME = np.dtype("<U8")  # an array of the verdicts above
SEQUENCE_BYTES = np.zeros(256, dtype=bool)
SEQUENCE_BYTES[list(b"ACGTNacgtn")] = True
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


# --- frequencies from a population VCF -----------------------------------------------------


def normalised(pos: int, ref: AnyStr, alt: AnyStr) -> tuple[int, AnyStr, AnyStr]:
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


class PopulationJoin:
    """Population allele frequencies for a sorted stream of sites, in one ordered pass.

    Ask ``frequencies(chrom, pos, ref, alts)`` for one site, or
    ``allele_frequencies(chrom, positions, refs, alts)`` for a batch of alleles, in
    the input's order (contig by contig, POS non-decreasing). The answer is each
    allele's frequency in the population file, or None / NaN where the population
    has no such allele. Alleles are matched on CHROM, POS, REF and ALT after
    trimming shared bases (``normalised``), with multi-allelic population records
    split into their alleles.

    Each contig is read once, start to end: the tabix index finds where it starts,
    then htslib decompresses the text from there on another thread
    (``PopulationText``) and batches of lines are located by numpy (``_add``); a
    new tabix query is made only to skip a gap of more than ``SEEK_GAP`` bases.
    Memory holds the population alleles between the current input site and the
    end of the last batch read. Contig names are mapped (``chr1``/``1``) and
    lengths compared (``ContigMap``) when the join is made, before any record is
    written.
    """

    BATCH = 65536  # lines per parse; fewer, larger numpy calls (measured: 4096 and 16384 cost more CPU)

    def __init__(self, path: str, af_key: str, input_contigs: Mapping[str, int | None]) -> None:
        import pysam

        self.path = path
        self.af_key = af_key
        index = next((path + suffix for suffix in (".tbi", ".csi") if os.path.exists(path + suffix)), None)  # CSI: contigs past 2^29
        try:
            self.tabix = pysam.TabixFile(path, parser=None, index=index)  # type: ignore[arg-type]
            self.text = PopulationText(pysam.BGZFile(path, "rb", index=None))
        except (OSError, ValueError):
            raise UsageError(f"cannot open population file {path} as bgzipped VCF with a tabix index (tabix -p vcf FILE)") from None
        header = [line.encode() for line in self.tabix.header]
        numbers = info_numbers(header)
        if af_key.encode() not in numbers:
            raise InputError(f"INFO/{af_key} (--af-key) is not defined in the population file's header", path)
        self.ref_first = numbers[af_key.encode()] == b"R" or af_key == "CAF"
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

    # population side: alleles kept as three tables, each sorted or hashed once per batch read.
    # SNV-shaped alleles (one base each side, after trimming) are int64 keys POS<<16|REF<<8|ALT in a
    # sorted array, looked up by np.searchsorted; short indels are fixed-width texts (``indel_key``)
    # in another sorted array; long ones in a dict of normalised keys.
    # A value is a float: NaN for missing, BAD for text that is not a number.

    def _reset(self, population_contig: str | None, start: int = 0) -> None:
        self.population_contig = population_contig
        self.snv_keys = np.empty(0, dtype=np.int64)
        self.snv_values = np.empty(0)
        self.indel_keys = np.empty(0, dtype="S1")
        self.indel_values = np.empty(0)
        self.indels: dict[Allele, float] = {}
        self.indel_limit = POPULATION_TABLE_START
        self.read_until = -1  # POS of the last population record read: all before it are in the table
        self.exhausted = True
        self.chrom = (population_contig or "").encode(errors="surrogateescape")
        if population_contig is None:
            self.text.stop()
            return
        lines = self.tabix.fetch(population_contig, start)
        first = next(lines, None)
        if first is None:
            self.text.stop()
            return
        # tabix found the first record; the lines after it are read straight from the BGZF file.
        self.text.start(first.encode(errors="surrogateescape") + b"\n", self.tabix.tell())
        self.exhausted = False

    def held_alleles(self) -> int:
        """How many population alleles are in memory (bounded: tests check it)."""
        return len(self.snv_keys) + len(self.indel_keys) + len(self.indels)

    def _read_through(self, limit: int) -> None:
        """Take population records at least up to POS ``limit`` into the table."""
        while not self.exhausted and self.read_until <= limit:  # more records may share the POS of the last one read
            text, ends = self.text.lines(self.BATCH)
            if not text:
                self.exhausted = True
                break
            self._add(text, ends)
        if self.exhausted:
            self.read_until = max(self.read_until, limit)

    def _add(self, text: bytes, ends: np.ndarray) -> None:
        """Parse a batch of population lines at once (numpy over the text) into the tables.

        A line counts when it has a POS of digits, at least 8 columns and the key in
        INFO; the first line of another contig ends the contig. One base REF and ALT
        go straight in as keys, one ALT of up to ``ALLELE_WIDTH`` bases with a plain
        number is trimmed by numpy (``trimmed_alleles``), the rest (multi-allelic,
        REF-first values, long or symbolic alleles) one by one through ``_add_alleles``.
        """
        data = np.frombuffer(text, dtype=np.uint8)
        starts = np.concatenate(([0], ends[:-1] + 1))
        tabs = np.flatnonzero(data == TAB)
        first_tab = np.searchsorted(tabs, starts)
        tab_count = np.searchsorted(tabs, ends) - first_tab
        chrom_end = tabs[np.minimum(first_tab, len(tabs) - 1)] if len(tabs) else ends
        other_contig = (tab_count > 0) & (data[starts] != ord("#")) & ~spans_equal(data, starts, chrom_end, self.chrom)
        if other_contig.any():
            last = int(np.argmax(other_contig))
            self.exhausted = True
            self.text.stop()
            starts, ends, first_tab, tab_count = starts[:last], ends[:last], first_tab[:last], tab_count[:last]
        rows = np.flatnonzero(tab_count >= 7)
        if not len(rows):
            return
        columns = tabs[first_tab[rows, None] + np.arange(7)]
        info_end = np.where(tab_count[rows] >= 8, tabs[np.minimum(first_tab[rows] + 7, len(tabs) - 1)], ends[rows])
        found, value_start, value_end = info_values(text, data, starts[rows], self.af_key.encode(), columns[:, 6] + 1, info_end)
        positions, digits = span_digits(data, columns[:, 0] + 1, columns[:, 1])
        if digits.any():
            self.read_until = max(self.read_until, int(positions[digits][-1]))
        found &= digits
        if not found.any():
            return
        columns, value_start, value_end, positions = columns[found], value_start[found], value_end[found], positions[found]
        ref_start, ref_end, alt_start, alt_end = columns[:, 2] + 1, columns[:, 3], columns[:, 3] + 1, columns[:, 4]
        ref_length, alt_length = ref_end - ref_start, alt_end - alt_start
        snv = (ref_length == 1) & (alt_length == 1) & SEQUENCE_BYTES[data[alt_start]]
        if self.ref_first:
            snv[:] = False
        values, plain = span_floats(data, value_start[snv], value_end[snv])
        snv[snv] = plain  # "0.1,0.2", ".", "x": one by one, as a multi-allelic record's values
        keys = (positions[snv] << 16) | (data[ref_start[snv]].astype(np.int64) << 8) | data[alt_start[snv]]
        snv_keys, snv_values = [keys], [values[plain]]
        indel_keys, indel_values = [self.indel_keys], [self.indel_values]
        short = np.zeros(len(positions), dtype=bool) if self.ref_first else ~snv
        pieces = split_alleles(data, np.flatnonzero(short), alt_start, alt_end, value_start, value_end)
        owner, alt_starts, alt_ends, value_starts, value_ends, matched = pieces
        short[np.flatnonzero(short)[~matched]] = False
        fits = short_alleles(data, text, positions[owner], ref_start[owner], ref_end[owner], alt_starts, alt_ends)
        values, plain = span_floats(data, value_starts, value_ends)
        short[owner[~(fits & plain)]] = False
        whole = short[owner]  # a record goes whole, through numpy or one by one
        if whole.any():
            owner, values = owner[whole], values[whole]
            trimmed, texts = trimmed_alleles(data, positions[owner], ref_start[owner], ref_end[owner], alt_starts[whole], alt_ends[whole])
            snv_keys.append(trimmed[trimmed >= 0])
            snv_values.append(values[trimmed >= 0])
            indel_keys.append(texts[trimmed < 0])
            indel_values.append(values[trimmed < 0])
        others = np.flatnonzero(~snv & ~short).tolist()
        if others:
            table: dict[Allele, float] = {}
            for row in others:
                ref, alt_field = text[ref_start[row] : ref_end[row]], text[alt_start[row] : alt_end[row]]
                self._add_alleles(table, int(positions[row]), ref, alt_field, text[value_start[row] : value_end[row]])
            one_base, fixed = [], []
            for key, value in table.items():
                code = encoded(key)
                if isinstance(code, int):
                    one_base.append((code, value))
                elif isinstance(code, bytes):
                    fixed.append((code, value))
                else:
                    self.indels[key] = rarer(value, self.indels[key]) if key in self.indels else value
            if one_base:
                snv_keys.append(np.array([key for key, _ in one_base], dtype=np.int64))
                snv_values.append(np.array([value for _, value in one_base]))
            if fixed:
                indel_keys.append(np.array([key for key, _ in fixed]))
                indel_values.append(np.array([value for _, value in fixed]))
        self.snv_keys, self.snv_values = merged(np.concatenate([self.snv_keys, *snv_keys]), np.concatenate([self.snv_values, *snv_values]))
        if len(indel_keys) > 1:
            self.indel_keys, self.indel_values = merged(np.concatenate(indel_keys), np.concatenate(indel_values))

    def _add_alleles(self, table: dict[Allele, float], pos: int, ref: bytes, alt_field: bytes, value: bytes) -> None:
        """Split a multi-allelic or padded population record into trimmed alleles; the rarer of two values counts."""
        values = value.split(b",")
        for index, alt in enumerate(alt_field.split(b",")):
            if not SEQUENCE_ALLELE.fullmatch(alt):
                continue
            position = index + 1 if self.ref_first else index
            number = text_float(values[position] if position < len(values) else b".")
            key = normalised(pos, ref, alt)
            table[key] = rarer(number, table[key]) if key in table else number

    def _forget_before(self, pos: int) -> None:
        """Drop population alleles no later site can match (their trimmed POS is behind)."""
        behind = int(np.searchsorted(self.snv_keys, pos << 16))
        self.snv_keys, self.snv_values = self.snv_keys[behind:], self.snv_values[behind:]
        if 0 <= pos < 10**POS_DIGITS:
            behind = int(np.searchsorted(self.indel_keys, b"%0*d" % (POS_DIGITS, pos)))
            self.indel_keys, self.indel_values = self.indel_keys[behind:], self.indel_values[behind:]
        if len(self.indels) > self.indel_limit:
            self.indels = {key: value for key, value in self.indels.items() if key[0] >= pos}
            self.indel_limit = max(POPULATION_TABLE_START, 2 * len(self.indels))

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
        codes = [
            encoded(normalised(pos, ref.encode(errors="surrogateescape"), alt.encode(errors="surrogateescape")))
            for pos, ref, alt in zip(positions, refs, alts, strict=True)
        ]
        ends = np.asarray(positions, dtype=np.int64) + np.fromiter(map(len, refs), dtype=np.int64, count=len(refs))
        return self.encoded_frequencies(chrom, np.asarray(positions, dtype=np.int64), ends, *encoded_arrays(codes))

    def encoded_frequencies(
        self, chrom: str, positions: np.ndarray, ends: np.ndarray, keys: np.ndarray, texts: np.ndarray, indels: Mapping[int, Allele]
    ) -> np.ndarray:
        """``allele_frequencies`` for alleles already encoded (``encoded_arrays``): POS,
        POS + len(REF), the key (``snv_key``; TEXT_KEY where ``texts`` holds the allele's
        ``indel_key``, LONG_KEY where ``indels`` holds its normalised form)."""
        if not len(positions):
            return np.empty(0)
        if chrom != self.contig:
            self._enter_contig(chrom)
        steps = np.diff(positions, prepend=self.last_pos)
        if (steps < 0).any():
            raise UnsortedInput("POS goes backwards: sort the input (bcftools sort)", int(np.argmax(steps < 0)))
        self.last_pos = int(positions[-1])
        result = np.full(len(positions), np.nan)
        if self.population_contig is None:
            return result
        text_indexes = np.flatnonzero(keys == TEXT_KEY)
        long_indexes = np.fromiter(sorted(indels), dtype=np.int64, count=len(indels))
        for start in range(0, len(positions), self.BATCH):
            stop = min(start + self.BATCH, len(positions))
            first = int(positions[start])
            if first - self.read_until > SEEK_GAP:
                self._reset(self.population_contig, max(0, first - 2))  # an insertion at first-1 trims to first
            self._forget_before(first)
            self._read_through(int(ends[start:stop].max()))
            chunk = keys[start:stop]
            result[start:stop] = looked_up(self.snv_keys, self.snv_values, chunk)
            low, high = np.searchsorted(text_indexes, [start, stop])
            if high > low:
                rows = text_indexes[low:high]
                result[rows] = looked_up(self.indel_keys, self.indel_values, texts[rows])
            low, high = np.searchsorted(long_indexes, [start, stop])
            for index in long_indexes[low:high].tolist():
                result[index] = self.indels.get(indels[index], np.nan)
            values = result[start:stop]
            if ((values < 0.0) | (values > 1.0)).any():
                raise InputError(f"population INFO/{self.af_key} value is not a frequency between 0 and 1", self.path)
        return result

    def frequencies(self, chrom: str, pos: int, ref: str, alts: list[str]) -> list[float | None]:
        """Each ALT's population frequency at one site (None: not in the population)."""
        found = self.allele_frequencies(chrom, [pos] * len(alts), [ref] * len(alts), alts) if alts else np.empty(0)
        return [None if math.isnan(value) else float(value) for value in found]

    def close(self) -> None:
        self.text.close()
        self.tabix.close()


class PopulationText:
    """Whole lines of the population file from a virtual offset on, decompressed by htslib on
    another thread (``BGZFile.read`` releases the GIL), so the join's parsing overlaps it.

    The reading thread also cuts each read at its last newline and finds the newlines
    (numpy releases the GIL too), so the join takes batches of lines as slices of one
    chunk. Reads start small after each seek (a seek over a gap may need a few lines)
    and double up to ``READ_SIZE``; one read is ahead at most.
    """

    FIRST_READ = 1 << 16
    READ_SIZE = 1 << 22

    def __init__(self, bgzf: Any) -> None:
        self.bgzf = bgzf
        self.executor = ThreadPoolExecutor(max_workers=1)
        self.pending: Future[tuple[bytes, np.ndarray, bool]] | None = None
        self.chunk = b""
        self.newlines = np.empty(0, dtype=np.int64)  # offsets of the chunk's newlines
        self.taken = 0  # lines of the chunk already taken
        self.tail = b""  # the end of the last read after its last newline (the reading thread's)
        self.size = self.FIRST_READ

    def start(self, first: bytes, offset: int) -> None:
        """Lines are ``first`` and then the file's text from virtual offset ``offset``."""
        self.stop()
        self.bgzf.seek(offset)
        self.tail, self.size = b"", self.FIRST_READ
        self.chunk, self.newlines, self.taken = first, newlines(first), 0
        self._read_ahead()

    def stop(self) -> None:
        """No more lines wanted: wait for the read under way, if any."""
        if self.pending is not None:
            self.pending.result()
            self.pending = None
        self.chunk, self.newlines, self.taken = b"", np.empty(0, dtype=np.int64), 0

    def lines(self, count: int) -> tuple[bytes, np.ndarray]:
        """The next ``count`` whole lines or fewer (the rest of a chunk), each ending in a newline
        (b"" at the end), and where their newlines are."""
        while self.taken == len(self.newlines):
            if self.pending is None:
                return b"", self.newlines[:0]
            chunk, found, end = self.pending.result()
            self.pending = None
            if not end:
                self._read_ahead()
            self.chunk, self.newlines, self.taken = chunk, found, 0
        first = self.taken
        self.taken = min(first + count, len(self.newlines))
        start = int(self.newlines[first - 1]) + 1 if first else 0
        stop = int(self.newlines[self.taken - 1]) + 1
        return self.chunk[start:stop], self.newlines[first : self.taken] - start

    def _read_ahead(self) -> None:
        self.pending = self.executor.submit(self._read, self.size)
        self.size = min(2 * self.size, self.READ_SIZE)

    def _read(self, size: int) -> tuple[bytes, np.ndarray, bool]:
        """On the reading thread: the whole lines of the next read, where their newlines are,
        and whether the file ended."""
        data = self.bgzf.read(size)
        if not data:
            text, self.tail = self.tail, b""
            if text and not text.endswith(b"\n"):
                text += b"\n"  # a last line without a newline still counts
            return text, newlines(text), True
        data = self.tail + data if self.tail else data
        cut = data.rfind(b"\n") + 1
        text, self.tail = data[:cut], data[cut:]
        return text, newlines(text), False

    def close(self) -> None:
        self.stop()
        self.executor.shutdown()
        self.bgzf.close()


def newlines(text: bytes) -> np.ndarray:
    return np.flatnonzero(np.frombuffer(text, dtype=np.uint8) == NEWLINE)


BAD = 2.0  # a population value that is not a number: an error if an input allele meets it
# Alleles of up to ALLELE_WIDTH bases are trimmed by numpy (``trimmed_alleles``); longer ones by ``normalised``.
ALLELE_WIDTH = 16
# A trimmed indel whose REF and ALT have at most KEY_ALLELES bases is a fixed-width text key
# (``indel_key``: POS in POS_DIGITS digits, REF, ">", ALT), sorted by POS; a longer one a dict key.
KEY_ALLELES = 2 * ALLELE_WIDTH
POS_DIGITS = 12
TEXT_KEY, LONG_KEY = -1, -2
UPPER = np.arange(256, dtype=np.uint8)
UPPER[ord("a") : ord("z") + 1] -= 32
GREATER, COMMA = ord(">"), ord(",")


def text_float(text: bytes) -> float:
    """A population value: ``.``, empty or ``nan`` is missing (NaN); not a number is BAD."""
    if text in (b"", b"."):
        return math.nan
    try:
        return float(text)
    except ValueError:
        return BAD


def rarer(first: float, second: float) -> float:
    """The value of an allele listed twice: the lower frequency; a value outside [0, 1] or not a number stays an error."""
    if first == BAD or second == BAD or not (0.0 <= first <= 1.0 or math.isnan(first)) or not (0.0 <= second <= 1.0 or math.isnan(second)):
        return BAD
    return float(np.fmin(first, second))


def merged(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keys sorted with their values; an allele listed twice keeps the rarer value (``rarer``)."""
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    repeated = np.flatnonzero(keys[1:] == keys[:-1])
    if len(repeated):
        keep = np.ones(len(keys), dtype=bool)
        for index in repeated[::-1].tolist():  # rare: fold each repeat into the first of its run
            values[index] = rarer(float(values[index]), float(values[index + 1]))
            keep[index + 1] = False
        keys, values = keys[keep], values[keep]
    return keys, values


def looked_up(table_keys: np.ndarray, table_values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The value of each key in a sorted table, NaN where it is not there."""
    if not len(table_keys):
        return np.full(len(keys), np.nan)
    at = np.minimum(np.searchsorted(table_keys, keys), len(table_keys) - 1)
    return np.where(table_keys[at] == keys, table_values[at], np.nan)


def snv_key(pos: int, ref: bytes, alt: bytes) -> int:
    """POS<<16 | REF<<8 | ALT for a one-base REF and ALT."""
    return (pos << 16) | (ref[0] << 8) | alt[0]


def indel_key(pos: int, ref: bytes, alt: bytes) -> bytes:
    """A trimmed allele as text that sorts by POS: ``000000000101T>`` for ``(101, "T", "")``."""
    return b"%0*d%b>%b" % (POS_DIGITS, pos, ref, alt)


def encoded(allele: Allele) -> int | bytes | Allele:
    """A normalised allele's key: ``snv_key``, ``indel_key`` when short, else the allele itself."""
    pos, ref, alt = allele
    if len(ref) == 1 and len(alt) == 1:
        return snv_key(pos, ref, alt)
    if len(ref) + len(alt) <= KEY_ALLELES and 0 <= pos < 10**POS_DIGITS:
        return indel_key(pos, ref, alt)
    return allele


def encoded_arrays(codes: list[int | bytes | Allele]) -> tuple[np.ndarray, np.ndarray, dict[int, Allele]]:
    """``encoded`` keys as ``encoded_frequencies`` takes them: int64 keys, texts, long alleles by index."""
    keys = np.empty(len(codes), dtype=np.int64)
    texts: list[bytes] = []
    indels: dict[int, Allele] = {}
    for index, code in enumerate(codes):
        if isinstance(code, int):
            keys[index] = code
            texts.append(b"")
        elif isinstance(code, bytes):
            keys[index] = TEXT_KEY
            texts.append(code)
        else:
            keys[index] = LONG_KEY
            texts.append(b"")
            indels[index] = code
    return keys, np.array(texts, dtype=bytes) if texts else np.empty(0, dtype="S1"), indels


def spans_equal(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, word: bytes) -> np.ndarray:
    """For each span: is it exactly ``word``?"""
    same = ends - starts == len(word)
    if len(word) and same.any():
        rows = np.flatnonzero(same)
        same[rows] = (data[starts[rows, None] + np.arange(len(word))] == np.frombuffer(word, dtype=np.uint8)).all(axis=1)
    return same


def split_alleles(
    data: np.ndarray, rows: np.ndarray, alt_start: np.ndarray, alt_end: np.ndarray, value_start: np.ndarray, value_end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ALT alleles of records ``rows`` and their values, split at commas: the record of each
    allele, its ALT span and its value span. Only records with as many values as ALTs are split
    (``matched``, one per row); the others go one by one."""
    commas = np.flatnonzero(data == COMMA)
    alt_first, value_first = np.searchsorted(commas, alt_start[rows]), np.searchsorted(commas, value_start[rows])
    alt_commas = np.searchsorted(commas, alt_end[rows]) - alt_first
    matched = alt_commas == np.searchsorted(commas, value_end[rows]) - value_first
    rows, counts = rows[matched], alt_commas[matched] + 1
    owner = np.repeat(rows, counts)
    piece = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    last = piece == np.repeat(counts - 1, counts)
    bounds = np.append(commas, len(data))

    def pieces(first: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        at = np.repeat(first[matched], counts) + piece  # the comma after this piece, unless it is the last
        return np.where(piece == 0, starts[owner], bounds[np.maximum(at - 1, 0)] + 1), np.where(last, ends[owner], bounds[at])

    return owner, *pieces(alt_first, alt_start, alt_end), *pieces(value_first, value_start, value_end), matched


def short_alleles(
    data: np.ndarray,
    text: bytes,
    positions: np.ndarray,
    ref_start: np.ndarray,
    ref_end: np.ndarray,
    alt_start: np.ndarray,
    alt_end: np.ndarray,
) -> np.ndarray:
    """Which records ``trimmed_alleles`` takes: one ALT of bases, REF and ALT of 1 to ALLELE_WIDTH bytes."""
    ref_length, alt_length = ref_end - ref_start, alt_end - alt_start
    short = (ref_length >= 1) & (ref_length <= ALLELE_WIDTH) & (alt_length >= 1) & (alt_length <= ALLELE_WIDTH)
    short &= positions < 10**POS_DIGITS - ALLELE_WIDTH
    short[short] = spans_within(data, text, alt_start[short], alt_end[short], SEQUENCE_BYTES)
    return short


def trimmed_alleles(
    data: np.ndarray, positions: np.ndarray, ref_start: np.ndarray, ref_end: np.ndarray, alt_start: np.ndarray, alt_end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``encoded(normalised(...))`` of many alleles at once (REF and ALT of 1 to ALLELE_WIDTH bytes):
    each allele's ``snv_key`` (TEXT_KEY for the others) and the texts of the others (``indel_key``)."""
    count = len(positions)
    if not count:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype="S1")
    ref_length, alt_length = ref_end - ref_start, alt_end - alt_start
    width = int(max(ref_length.max(), alt_length.max()))
    offsets = np.arange(width)
    last = len(data) - 1

    def gathered(starts: np.ndarray, lengths: np.ndarray, backwards: bool) -> np.ndarray:
        index = (starts + lengths - 1)[:, None] - offsets if backwards else starts[:, None] + offsets
        return np.where(offsets < lengths[:, None], UPPER[data[np.clip(index, 0, last)]], 0)

    def run(same: np.ndarray) -> np.ndarray:
        return np.where(same.all(axis=1), width, same.argmin(axis=1))

    both = (offsets < ref_length[:, None]) & (offsets < alt_length[:, None])
    tail = run(both & (gathered(ref_start, ref_length, True) == gathered(alt_start, alt_length, True)))
    ref_length, alt_length = ref_length - tail, alt_length - tail
    ref, alt = gathered(ref_start, ref_length, False), gathered(alt_start, alt_length, False)
    head = run((offsets < ref_length[:, None]) & (offsets < alt_length[:, None]) & (ref == alt))
    ref_length, alt_length, positions = ref_length - head, alt_length - head, positions + head
    rows = np.arange(count)
    first = np.minimum(head, width - 1)
    keys = np.full(count, TEXT_KEY, dtype=np.int64)
    snv = (ref_length == 1) & (alt_length == 1)
    keys[snv] = (positions[snv] << 16) | (ref[rows, first][snv].astype(np.int64) << 8) | alt[rows, first][snv]
    raw = (ref_end - ref_start == 1) & (alt_end - alt_start == 1)  # ``normalised`` leaves these as they are (no upper case)
    keys[raw] = (positions[raw] << 16) | (data[ref_start[raw]].astype(np.int64) << 8) | data[alt_start[raw]]
    size = int((ref_length + alt_length).max()) + 1
    column = np.arange(size)
    ref_part = np.take_along_axis(ref, np.minimum(head[:, None] + column, width - 1), axis=1)
    alt_part = np.take_along_axis(alt, np.clip(head[:, None] + column - ref_length[:, None] - 1, 0, width - 1), axis=1)
    body = np.where(column < ref_length[:, None], ref_part, np.where(column == ref_length[:, None], GREATER, alt_part))
    body = np.where(column <= (ref_length + alt_length)[:, None], body, 0)
    key_text = np.zeros((count, POS_DIGITS + size), dtype=np.uint8)
    remaining = positions.copy()
    for digit in range(POS_DIGITS - 1, -1, -1):
        key_text[:, digit] = 48 + remaining % 10
        remaining //= 10
    key_text[:, POS_DIGITS:] = body
    return keys, np.ascontiguousarray(key_text).view(f"S{POS_DIGITS + size}").ravel()


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
