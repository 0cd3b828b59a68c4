"""vcf-drop-rare: keep only VCF records whose every allele is common in the population.

A rare variant (minor allele frequency below 1 % in the relevant population, East
Asian for Korean cohorts) narrows a cohort down to a family or a person; the
guideline (Park et al. 2024) removes them, and germline-flagged variants with them
unless the study needs them. A record is kept only when every allele it names, REF
included, has a population frequency of at least ``--min-af`` (``rarity``: the allele
model of a site). No frequency means rare: fail closed.

Frequencies come from an INFO key of the record itself (``--af-key``; dbSNP ``CAF``
and ``COMMON`` understood) or from a bgzipped, tabix-indexed population VCF
(``--population``), joined with the input in one ordered pass per contig, not one
random lookup per record (``population.PopulationJoin``, which sam-revert-germline's
tumour-only screen uses too).

Kept records pass as the same bytes: a 4 MiB block is never split into lines, its
columns are located by numpy (``vcf.RecordBlock``), records are judged in bulk
(one-base REF/ALT sites by int64 keys, short indels trimmed by numpy into
fixed-width text keys, multi-allelic and odd records one by one; every record one
by one with ``GENOSCRUB_ONE_BY_ONE=1``) and the kept ones are written as slices of
the block, but for what names or points at a dropped record (``allele_annotations``,
``record_traces``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from itertools import pairwise
from operator import ne
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer
from genoscrub import __version__
from genoscrub.allele_annotations import AlleleAnnotations, changed_lines
from genoscrub.alleles import LONG_KEY, POS_DIGITS, SEQUENCE_BYTES, SITE_KEY, SNV_KEY_LIMIT, TEXT_KEY, Allele, encoded, encoded_arrays
from genoscrub.cli import InputArgument, OutputOption, QuietOption, ReportOption, VcfOutputTypeOption, make_app, run
from genoscrub.fasta import Fasta
from genoscrub.fields import info_values, repeated_info_values, span_floats, spans_within, vcf_float
from genoscrub.germline_list import GermlineList, complex_parts, complex_texts
from genoscrub.one_by_one import one_by_one
from genoscrub.population import JoinError, PopulationJoin
from genoscrub.rarity import (
    GERMLINE,
    KEPT,
    MISSING,
    OUTCOME,
    PLACEHOLDER,
    RARE,
    TOLERANCE,
    allele_kind,
    alt_alleles,
    is_germline,
    may_hold_germline_marker,
    reference_frequency,
    verdict,
)
from genoscrub.record_alleles import RecordAlleles, record_alleles
from genoscrub.record_traces import RecordTraces
from genoscrub.report import InputError, Report, UsageError
from genoscrub.reverted_records import RevertWindows
from genoscrub.vcf import (
    RecordBlock,
    TextBlocks,
    VcfHeader,
    VcfOutput,
    joined,
    opened_input,
    split_header_text,
    text_blocks,
    whole_sites,
)
from genoscrub.vcf_columns import RecordColumns

COMMAND = "vcf-drop-rare"
LISTED = "listed"  # an outcome: the record carries an allele of the --germline list
NEARBY = "nearby"  # an outcome: it carries an indel that may be one of the list's placed elsewhere in its repeat
IN_WINDOW = "window"  # an outcome: its allele lies where sam-revert-germline reverts reads (--germline-windows)
DEFAULT_MIN_AF = 0.01

app = make_app()


def frequency(text: bytes) -> float | None:
    """A frequency from INFO text; ``.`` is missing; not a VCF Float in [0, 1] raises ValueError."""
    if text == b".":
        return None
    value = vcf_float(text)
    if not 0.0 <= value <= 1.0 or math.isnan(value):
        raise ValueError("not a frequency")
    return value


def rarest(first: float | None, second: float | None) -> float | None:
    """Two values of one allele (a key written twice): the lower, or the one known."""
    if first is None:
        return second
    return first if second is None else min(first, second)


def reference_block_end(info: bytes, last: int) -> int:
    """The last POS a record without an allele covers: its INFO END (the largest, where END is
    written twice), or ``last`` (its REF's last base). A gVCF reference block says the person
    carries the REF allele at every site up to there; a REF rare at one of them is a rare
    genotype, so the block is judged by every population site it spans."""
    ends = [int(value) for item in info.split(b";") if item[:4] == b"END=" and (value := item[4:]).isdigit() and len(value) <= 10]
    return max([last, *ends])


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
        number = header.info_numbers.get(key.encode())
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
        self.repeated = 0  # records with the key written twice or more, judged by the rarest values

    def outcomes(self, block: RecordBlock, min_af: float) -> np.ndarray:
        """The verdict of every record of a block (an array of KEPT, RARE, MISSING).

        Bi-allelic records with one number are judged together: the key's values
        located for the whole block (``info_values``), read as floats by numpy,
        compared at once. The others (multi-allelic, symbolic, missing, repeated or
        bad values) go one by one (``record_verdict``), and all of them with
        ``GENOSCRUB_ONE_BY_ONE=1``.
        """
        info_start, info_end = block.column(7)
        alt_start, alt_end = block.column(4)
        if self.kind != "per-alt" or one_by_one():
            outcomes, undecided = np.full(block.count, MISSING, dtype=OUTCOME), np.arange(block.count)
        else:
            outcomes, undecided = self._bi_allelic_outcomes(block, info_start, info_end, alt_start, alt_end, min_af)
        for index in undecided.tolist():
            info, alt = block.text[info_start[index] : info_end[index]], block.text[alt_start[index] : alt_end[index]]
            try:
                outcomes[index] = self.record_verdict(info, alt, min_af)
            except ValueError as error:
                message = str(error) if str(error).startswith("INFO/") else f"INFO/{self.key} is not a frequency between 0 and 1"
                raise BadRecord(index, message) from None
        self.judge_sites_together(block, outcomes, min_af)
        return outcomes

    def _bi_allelic_outcomes(
        self, block: RecordBlock, info_start: np.ndarray, info_end: np.ndarray, alt_start: np.ndarray, alt_end: np.ndarray, min_af: float
    ) -> tuple[np.ndarray, np.ndarray]:
        key = self.key.encode()
        found, value_start, value_end = info_values(block.text, block.data, block.starts, key, info_start, info_end)
        repeated = np.zeros(block.count, dtype=bool)
        for row, _, _ in repeated_info_values(block.text, block.data, key, info_end, found, value_end):
            repeated[row] = True
        afs = np.full(block.count, np.nan)
        afs[found] = span_floats(block.data, value_start[found], value_end[found])[0]
        sequence = (alt_end > alt_start) & spans_within(block.data, block.text, alt_start, alt_end, SEQUENCE_BYTES) & ~repeated
        decided = sequence & (afs >= 0.0) & (afs <= 1.0)  # False for NaN: missing, several values, not a number
        absent = sequence & ~found  # one ALT of bases and no key: MISSING, as ``record_verdict`` says
        threshold = min_af - TOLERANCE
        rare = (afs < threshold) | (1.0 - afs < threshold)
        return np.where(absent, MISSING, np.where(rare, RARE, KEPT)).astype(OUTCOME), np.flatnonzero(~(decided | absent))

    def record_verdict(self, info: bytes, alt_field: bytes, min_af: float) -> str:
        """One record's verdict (``rarity.verdict``); a key written twice counts by its rarest values.

        Raises ValueError for a value that is not a frequency or a wrong count of values."""
        alts = alt_alleles(alt_field)
        kinds = [allele_kind(alt) for alt in alts]
        texts = self.pattern.findall(info)
        if len(texts) > 1:
            self.repeated += 1
        if all(kind == PLACEHOLDER for kind in kinds):
            return KEPT  # a reference-only site: nothing but REF, which is everybody's allele
        if self.kind == "common":
            if b"0" in texts:
                return RARE
            return KEPT if texts and all(text == b"1" for text in texts) else MISSING
        per_alt, given = self.allele_values(texts, len(alts))
        return verdict(per_alt, kinds, reference_frequency(per_alt, kinds, given), min_af)

    def allele_values(self, texts: list[bytes], alt_count: int) -> tuple[list[float | None], float | None]:
        """Each ALT's frequency from the key's values ``texts`` (the rarest where written twice), and
        REF's where the key lists it first. Raises ValueError as ``record_verdict`` says."""
        per_alt: list[float | None] = [None] * alt_count
        given: float | None = None
        for text in texts:
            values = text.split(b",")
            if self.kind == "ref-first":
                if len(values) != alt_count + 1:
                    raise ValueError(f"INFO/{self.key} needs one value for REF and one per ALT")
                given = rarest(given, frequency(values[0]))
                values = values[1:]
            elif len(values) != alt_count:
                if len(values) == 1:
                    frequency(values[0])  # one value for several ALTs: which allele it describes is unknown
                    continue
                if not self.count_declared:
                    continue
                raise ValueError(f"INFO/{self.key} needs one value per ALT allele")
            per_alt = [rarest(old, frequency(value)) for old, value in zip(per_alt, values, strict=True)]
        return per_alt, given

    def judge_sites_together(self, block: RecordBlock, outcomes: np.ndarray, min_af: float) -> None:
        """Records next to each other at one CHROM and POS are one site, as a multi-allelic record
        split by ``bcftools norm -m-`` is (each of its records holding one ALT's frequency): REF is
        judged by 1 minus the frequencies of every ALT of them (and the lowest Number=R value), each
        record's ALTs by their own. So ``100 A C,G AF=0.6,0.395`` and its split records agree: REF
        is 0.005, rare. (The site's REF bound is never above a record's own: only drops are added.)
        ``whole_sites`` keeps such records in one block."""
        if self.kind == "common" or block.count < 2:
            return
        pos_start, pos_end = block.column(1)
        data, lengths = block.data, pos_end - pos_start
        # records whose POS may equal the next one's: as long, ending in the same two digits (a few), then compared whole
        may = (lengths[1:] == lengths[:-1]) & (data[pos_end[1:] - 1] == data[pos_end[:-1] - 1])
        may &= data[np.maximum(pos_end[1:] - 2, pos_start[1:])] == data[np.maximum(pos_end[:-1] - 2, pos_start[:-1])]
        pairs = np.flatnonzero(may)
        if not len(pairs):
            return
        chrom_start, _ = block.column(0)
        text = block.text
        same = [text[chrom_start[row] : pos_end[row]] == text[chrom_start[row + 1] : pos_end[row + 1]] for row in pairs.tolist()]
        joined = pairs[same]
        if not len(joined):
            return
        info_start, info_end = block.column(7)
        alt_start, alt_end = block.column(4)
        run_starts = joined[np.concatenate(([True], joined[1:] != joined[:-1] + 1))]
        run_ends = joined[np.concatenate((joined[1:] != joined[:-1] + 1, [True]))] + 2
        for first, stop in zip(run_starts.tolist(), run_ends.tolist(), strict=True):
            records = []
            for row in range(first, stop):
                alts = alt_alleles(text[alt_start[row] : alt_end[row]])
                kinds = [allele_kind(alt) for alt in alts]
                try:
                    per_alt, given = self.allele_values(self.pattern.findall(text[info_start[row] : info_end[row]]), len(alts))
                except ValueError as error:
                    message = str(error) if str(error).startswith("INFO/") else f"INFO/{self.key} is not a frequency between 0 and 1"
                    raise BadRecord(row, message) from None
                records.append((row, per_alt, kinds, given))
            site_values = [value for _, per_alt, _, _ in records for value in per_alt]
            site_kinds = [kind for _, _, kinds, _ in records for kind in kinds]
            givens = [given for _, _, _, given in records if given is not None]
            reference = reference_frequency(site_values, site_kinds, min(givens) if givens else None)
            for row, per_alt, kinds, _ in records:
                if not all(kind == PLACEHOLDER for kind in kinds):
                    outcomes[row] = verdict(per_alt, kinds, reference, min_af)


def reference_block_ends(block: RecordBlock, start: int, alleles: RecordAlleles) -> np.ndarray | None:
    """For each key of a run (records ``start:`` of ``block``): the last POS its site query
    covers, the END of a record that names no allele (``reference_block_end``) and its REF's
    last base for the rest; None when no record of the run reaches past its POS.

    A record of a REF of several bases (a deletion, an MNP, any allele written with more
    padding) says a person carrying REF (a GT with 0) carries each of those bases: REF is
    judged at every population site it spans, as a reference block's is to its END, so
    ``98 AAGAA A`` (0/1) goes where the population's REF G at 100 is rare, as ``100 G A``
    (0/1) would. A symbolic allele's END is not read here (its span may be megabases)."""
    offsets, owners, positions = alleles.offsets, alleles.owners, alleles.positions
    last_bases = np.minimum(positions + np.maximum(alleles.ref_lengths, 1) - 1, SNV_KEY_LIMIT)
    site_ends = np.where(alleles.symbolic, positions, last_bases)[owners]
    rows = np.flatnonzero((alleles.keys[offsets] == SITE_KEY) & (alleles.counts == 1) & ~alleles.symbolic)
    if len(rows):
        info_start, info_end = block.column(7)
        text = block.text
        for row in rows.tolist():
            pos = int(positions[row])
            end = reference_block_end(text[info_start[start + row] : info_end[start + row]], pos + int(alleles.ref_lengths[row]) - 1)
            site_ends[offsets[row]] = min(end, SNV_KEY_LIMIT)
    if not (site_ends > positions[owners]).any():
        return None
    return site_ends


ContigRun = tuple[str, int, int, RecordAlleles]
"""Records ``start:stop`` of a block, all on contig ``chrom``, and their alleles as join keys."""


def contig_runs(block: RecordBlock) -> list[ContigRun]:
    """A block cut where CHROM changes, each run's alleles encoded once for every list they
    are joined with (the population, the germline list)."""
    chrom_start, chrom_end = block.column(0)
    chroms = block.spans(chrom_start, chrom_end)
    changes = np.fromiter(map(ne, chroms[1:], chroms[:-1]), dtype=bool, count=max(0, block.count - 1))
    bounds = [0, *(np.flatnonzero(changes) + 1).tolist(), block.count]
    columns = [block.column(index) for index in (1, 3, 4)]
    runs = []
    for start, stop in pairwise(bounds):
        pos_spans, ref_spans, alt_spans = ((begin[start:stop], end[start:stop]) for begin, end in columns)
        alleles = record_alleles(block.data, block.text, pos_spans, ref_spans, alt_spans)
        runs.append((chroms[start].decode(errors="surrogateescape"), start, stop, alleles))
    return runs


class PopulationFrequencies:
    """The population join as the command's frequency source: verdicts for a block of records."""

    def __init__(self, join: PopulationJoin) -> None:
        self.join = join
        self.reference_rare = np.zeros(0, dtype=bool)
        """For the last block judged: the records whose REF is known rare (``record_traces`` covers no such site)."""

    def outcomes(self, block: RecordBlock, min_af: float, runs: list[ContigRun]) -> np.ndarray:
        outcomes = np.empty(block.count, dtype=OUTCOME)
        self.reference_rare = np.zeros(block.count, dtype=bool)
        for chrom, start, stop, alleles in runs:
            try:
                outcomes[start:stop], self.reference_rare[start:stop] = self._contig_outcomes(chrom, alleles, min_af, block, start)
            except JoinError as error:
                raise BadRecord(start + error.index, str(error)) from None
        return outcomes

    def _contig_outcomes(
        self, chrom: str, alleles: RecordAlleles, min_af: float, block: RecordBlock, start: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Verdicts of a run of records on one contig, and which of them have a REF known rare.

        Each record asks the join for its sequence alleles (``record_alleles``: a one-base
        REF and ALT is one query encoded by numpy, one short ALT of bases another, the rest
        split one by one), or for the site alone when it names none. REF is judged by the
        lowest REF frequency of the population sites involved: the one at the record's POS
        and those its alleles came from; a record naming no allele (a gVCF reference block)
        by every site to its END (``reference_block_ends``). A symbolic allele's frequency is
        unknown. An MNP is asked for whole and as its SNVs (``record_alleles``), each SNV with
        the REF of the site at its own POS: it is rare when the whole or one of its SNVs is (or
        a REF is), and its frequency is unknown only when the whole is and one of its SNVs is
        too (the SNVs written as records would leave that one missing). ``start``: the run's
        first record in ``block``.
        """
        count, owners, offsets, keys = alleles.count, alleles.owners, alleles.offsets, alleles.keys
        query_positions = alleles.positions[owners]
        ends = np.minimum(query_positions, SNV_KEY_LIMIT) + alleles.ref_lengths[owners]  # past any contig: no overflow
        site_ends = reference_block_ends(block, start, alleles)
        if site_ends is not None:
            ends = np.maximum(ends, site_ends + 1)
        parts = alleles.parts
        part = parts >= 0
        site_positions = None
        if part.any():  # an MNP's SNV asks about the site at its own POS
            site_positions = query_positions.copy()
            site_positions[part] = keys[part] >> 16
        threshold = min_af - TOLERANCE
        structural_rare = np.zeros(count, dtype=bool)
        # symbolic alleles and long indels also asked for as <DEL>/<INS> at POS, complex alleles as their parts (``structural_values``)
        extra_queries: list[tuple[int, int | bytes | Allele]] = [*alleles.structural, *complex_queries(alleles)]
        if extra_queries:
            values, bounds, exact, site_bounds, site_exact, structural_rows, structural_found = structural_values(
                self.join, chrom, alleles, query_positions, ends, site_ends, site_positions, extra_queries
            )
            structural_rare[structural_rows[structural_found < threshold]] = True
        else:
            try:
                values, bounds, exact, site_bounds, site_exact = self.join.encoded_alleles(
                    chrom, query_positions, ends, keys, alleles.texts, alleles.indels, site_ends=site_ends, site_positions=site_positions
                )
            except JoinError as error:
                error.index = int(owners[error.index]) if len(owners) else 0
                raise
        allele = keys != SITE_KEY
        unknown = np.isnan(values)
        if site_positions is not None:  # an MNP is known whole, or by every one of its SNVs
            parts_unknown = np.bincount(parts[part], weights=unknown[part], minlength=len(keys)) > 0
            unknown &= parts_unknown | (np.bincount(parts[part], minlength=len(keys)) == 0)
            unknown[part] = False
        any_rare = np.bincount(owners, weights=allele & (values < threshold), minlength=count) > 0
        any_missing = (np.bincount(owners, weights=allele & unknown, minlength=count) > 0) | alleles.symbolic
        ref_bound = np.fmin(np.fmin.reduceat(bounds, offsets), np.fmin.reduceat(site_bounds, offsets))
        inexact = (~np.isnan(bounds) & ~exact) | (~np.isnan(site_bounds) & ~site_exact)
        ref_exact = np.bincount(owners, weights=inexact, minlength=count) == 0
        ref_bound[np.isnan(ref_bound)] = 1.0  # no population record here: no other allele is known, REF is everyone's
        rare = any_rare | (ref_bound < threshold) | structural_rare
        missing = any_missing | ~ref_exact
        return np.where(rare, RARE, np.where(missing, MISSING, KEPT)).astype(OUTCOME), ref_bound < threshold


def structural_values(
    join: PopulationJoin,
    chrom: str,
    alleles: RecordAlleles,
    query_positions: np.ndarray,
    ends: np.ndarray,
    site_ends: np.ndarray | None,
    site_positions: np.ndarray | None,
    queries: list[tuple[int, int | bytes | Allele]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``encoded_alleles`` of a run's keys, and besides, in the same ordered pass, the population
    value of each extra query (record, key): a structural key (``alleles.structural``: a symbolic
    allele's type at POS, a long indel's ``<DEL>``/``<INS>``) or a complex allele's part
    (``complex_queries``), with the record it is of. Such a key only ever makes a record rare: a
    population ``<DEL>`` at the same POS may span other bases, so its being common says nothing,
    but a rare one (or the same deletion written with its bases, rare) is the record's allele or
    rarer (fail closed); a complex allele's part rare is a rare allele the record carries."""
    keys, owners = alleles.keys, alleles.owners
    count = len(keys)
    rows = np.array([row for row, _ in queries], dtype=np.int64)
    extra_keys, extra_texts, extra_indels = encoded_arrays([key for _, key in queries])
    extra = np.concatenate((np.zeros(count, dtype=np.int64), np.ones(len(rows), dtype=np.int64)))
    order = np.lexsort((extra, np.concatenate((owners, rows))))
    place = np.empty(len(order), dtype=np.int64)
    place[order] = np.arange(len(order))  # where each query (the run's keys, then the structural ones) goes
    record_positions = alleles.positions[rows]

    def merged(first: np.ndarray, extra: np.ndarray) -> np.ndarray:
        return np.concatenate((first, extra.astype(first.dtype)))[order]

    merged_indels = {int(place[index]): allele for index, allele in alleles.indels.items()}
    merged_indels.update({int(place[count + at]): key for at, key in extra_indels.items()})
    try:
        results = join.encoded_alleles(
            chrom,
            merged(query_positions, record_positions),
            merged(ends, record_positions + alleles.ref_lengths[rows]),
            merged(keys, extra_keys),
            np.concatenate((alleles.texts, extra_texts))[order],  # numpy widens to the longer text
            merged_indels,
            site_ends=None if site_ends is None else merged(site_ends, record_positions),
            site_positions=None if site_positions is None else merged(site_positions, record_positions),
        )
    except JoinError as error:
        error.index = int(np.concatenate((owners, rows))[order][error.index])
        raise
    values, bounds, exact, site_bounds, site_exact = (result[place[:count]] for result in results)
    return values, bounds, exact, site_bounds, site_exact, rows, results[0][place[count:]]


def complex_queries(alleles: RecordAlleles) -> list[tuple[int, int | bytes | Allele]]:
    """Each complex allele's parts (REF and ALT of different lengths, neither empty once
    trimmed: ``A>GT``), as ``bcftools norm --atomize`` and a caller that splits it write them
    (``germline_list.complex_parts``, anchored at either end), keyed for the population join, with
    the record each is of. A haplotype caller writes a germline SNV beside an indel as one such
    allele: ``100 AT GTT`` carries ``100 A G``; split, that SNV's record is judged on its own, so
    joined, its part rare makes the record rare (it never makes one known: the other anchoring's
    parts are not alleles the person need carry). Found by numpy; none in most runs."""
    keys = alleles.keys
    text_rows = np.flatnonzero(keys == TEXT_KEY)
    found: list[tuple[int, int | bytes | Allele]] = []
    for index in text_rows[complex_texts(alleles.texts[text_rows])].tolist():
        text = bytes(alleles.texts[index])
        ref, _, alt = text[POS_DIGITS:].partition(b">")
        found += [(int(alleles.owners[index]), encoded(part)) for part in complex_parts((int(text[:POS_DIGITS]), ref, alt))]
    for index, allele in sorted(alleles.indels.items()):
        if keys[index] == LONG_KEY and allele[1] != b"<":
            found += [(int(alleles.owners[index]), encoded(part)) for part in complex_parts(allele)]
    return found


# --- the command ---------------------------------------------------------------------------


class RareVariantFilter:
    """Decide, block by block, which records stay; count why the others went."""

    def __init__(
        self,
        source: InfoFrequencies | PopulationFrequencies,
        min_af: float,
        keep_missing: bool,
        drop_germline: bool,
        columns: RecordColumns,
        annotations: AlleleAnnotations,
        report: Report,
        path: str,
        traces: RecordTraces,
        germline: GermlineList | None = None,
        windows: RevertWindows | None = None,
    ) -> None:
        self.source = source
        self.windows = windows
        self.traces = traces
        self.annotations = annotations
        self.columns = columns
        self.min_af = min_af
        self.keep_missing = keep_missing
        self.drop_germline = drop_germline
        self.germline = germline
        self.report = report
        self.path = path
        self.kept_outcomes = frozenset({KEPT, MISSING}) if keep_missing else frozenset({KEPT})

    def outcomes(self, block: RecordBlock) -> np.ndarray:
        """``kept``, ``rare``, ``missing``, ``germline``, ``listed`` or ``nearby`` for each record of a block.

        A record carrying an allele of the germline list (``--germline``) is ``listed``
        whatever its frequencies: the matched normal carries it, so it is the person's; one
        carrying an indel that may be one of the list's placed elsewhere in its repeat is
        ``nearby`` (without ``-r``: ``nearby_indels``)."""
        population = isinstance(self.source, PopulationFrequencies)
        runs = contig_runs(block) if population or self.germline is not None or self.windows is not None else []
        try:
            if isinstance(self.source, PopulationFrequencies):
                outcomes = self.source.outcomes(block, self.min_af, runs)
            else:
                outcomes = self.source.outcomes(block, self.min_af)
        except BadRecord as error:
            raise InputError(str(error), self.path, block.first_line + error.index) from None
        if self.drop_germline and may_hold_germline_marker(block.text):
            filter_start, filter_end = block.column(6)
            info_start, info_end = block.column(7)
            text = block.text
            for index in range(block.count):
                if is_germline(text[filter_start[index] : filter_end[index]], text[info_start[index] : info_end[index]]):
                    outcomes[index] = GERMLINE
        if self.germline is not None:
            ref_start, ref_end = block.column(3)
            alt_start, alt_end = block.column(4)
            info_start, info_end = block.column(7)
            for chrom, start, stop, alleles in runs:
                listed, nearby = self.germline.carried(
                    chrom,
                    alleles,
                    (block.data, block.text, ref_start[start:stop], ref_end[start:stop]),
                    (alt_start[start:stop], alt_end[start:stop], info_start[start:stop], info_end[start:stop]),
                )
                outcomes[start:stop][listed] = LISTED
                outcomes[start:stop][nearby] = NEARBY
        if self.windows is not None:
            for chrom, start, stop, _ in runs:
                touched = self.windows.touched(block, chrom, start, stop)
                outcomes[start:stop][touched & (outcomes[start:stop] != LISTED)] = IN_WINDOW
        return outcomes

    def count(self, outcomes: np.ndarray) -> None:
        outcome_names = (KEPT, RARE, MISSING, GERMLINE, LISTED, NEARBY, IN_WINDOW)
        counts = {outcome: int(np.count_nonzero(outcomes == outcome)) for outcome in outcome_names}
        self.report.add("kept", int(counts[KEPT] + (counts[MISSING] if self.keep_missing else 0)))
        self.report.add("dropped_rare", int(counts[RARE]))
        self.report.add("kept_missing" if self.keep_missing else "dropped_missing", int(counts[MISSING]))
        if self.drop_germline:
            self.report.add("dropped_germline", int(counts[GERMLINE]))
        if self.germline is not None:
            self.report.add("dropped_germline_listed", int(counts[LISTED]))
            self.report.add("dropped_germline_listed_nearby", int(counts[NEARBY]))
        if self.windows is not None:
            self.report.add("dropped_in_germline_windows", int(counts[IN_WINDOW]))

    def filter_records(self, body: TextBlocks, column_count: int) -> Iterable[bytes]:
        """Yield the text of the records kept, block by block, as slices of the input; a kept
        record naming another record's allele in a String field loses it (``allele_annotations``),
        and what a dropped record leaves in the kept ones goes (``record_traces``)."""
        for first_line, text in body:
            block = RecordBlock(first_line, text, self.path, column_count)
            self.columns.check(block)
            self.report.add("records", block.count)
            outcomes = self.outcomes(block)
            self.count(outcomes)
            keep = np.isin(outcomes, list(self.kept_outcomes))
            self.report.add("kept", -self.traces.complete_drops(block, keep))
            removed: Counter[str] = Counter()
            changed = changed_lines(self.annotations, block, keep, removed)
            for name, amount in sorted(removed.items()):
                self.report.add(name, amount)
            reference_rare = self.source.reference_rare if isinstance(self.source, PopulationFrequencies) else None
            kept = self.traces.kept_text(block, keep, changed, reference_rare)
            if kept:
                yield kept
        held = self.traces.finish()
        if held:
            yield held


def output_header(header: VcfHeader) -> bytes:
    """The input's header with one provenance line (replacing an earlier one of this command), no command line, no path."""
    provenance = f"##genoscrub_{COMMAND}={__version__}".encode()
    return joined([*header.provenance_replaced(provenance), b"\t".join(header.columns)])


@app.command(
    help="Drop rare variants from a VCF; a record stays only if every allele has a population frequency of at least --min-af, "
    "and, with --drop-germline, if it is not marked germline, and with --germline, if it carries no allele of the normal's germline calls."
)
def main(
    input: InputArgument = "-",
    output: OutputOption = None,
    output_type: VcfOutputTypeOption = None,
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
            help="Also drop records a caller marked germline: dbSNP SAO, Mutect2 and DeepSomatic FILTER, Strelka2 NT, VarScan SS, "
            "VarDict STATUS, DRAGEN GermlineStatus, INFO GERMLINE (see the man page).",
        ),
    ] = False,
    germline: Annotated[
        Optional[str],
        typer.Option(
            "--germline",
            metavar="FILE",
            help="The matched normal's germline VCF: drop every record carrying one of its alleles, whatever its frequencies "
            "and --keep-missing (matched on CHROM, POS, REF, ALT as --population is).",
        ),
    ] = None,
    reference: Annotated[
        Optional[str],
        typer.Option(
            "-r",
            "--reference",
            metavar="FASTA",
            help="With --germline: left-align the insertions and deletions of both files against this reference before "
            "matching them (as bcftools norm -f places them), so an indel placed elsewhere in its repeat still meets.",
        ),
    ] = None,
    germline_windows: Annotated[
        bool,
        typer.Option(
            "--germline-windows",
            help="With --germline and -r: also drop every record whose allele lies where sam-revert-germline -v, given the "
            "same germline VCF, reverts reads (its windows around the germline sites), as the reads will not show it.",
        ),
    ] = False,
    report_path: ReportOption = None,
    quiet: QuietOption = False,
) -> None:
    def job(report: Report) -> None:
        if not 0.0 <= min_af <= 1.0:
            raise UsageError("--min-af must be between 0 and 1")
        if reference is not None and germline is None:
            raise UsageError("-r/--reference is used only with --germline")
        if germline_windows and (germline is None or reference is None):
            raise UsageError("--germline-windows needs --germline and -r (the windows are drawn on the reference)")
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
                    join = PopulationJoin(population, af_key, header.contigs, every_contig=True)
                    report.notes["contigs_renamed"] = join.contig_map.report_note()
                    report.notes["genome_check"] = join.contig_map.genome_check
                    frequencies = PopulationFrequencies(join)
                else:
                    frequencies = InfoFrequencies(af_key, header, input)
                germline_list: GermlineList | None = None
                if germline is not None:
                    germline_list = GermlineList(germline, header.contigs, Fasta(reference) if reference is not None else None)
                    report.notes["germline_alleles"] = germline_list.alleles()
                    report.notes["germline_contigs_renamed"] = germline_list.contig_map.report_note()
                    report.notes["germline_genome_check"] = germline_list.contig_map.genome_check
                windows = None
                if germline_windows and germline is not None and reference is not None:
                    windows = RevertWindows(germline, Fasta(reference), header.contigs, report)
                records = RareVariantFilter(
                    frequencies,
                    min_af,
                    keep_missing,
                    drop_germline,
                    RecordColumns(header.contig_ids()),
                    AlleleAnnotations.of_header(header),
                    report,
                    input,
                    RecordTraces(header, report, reference_blocks=True, mate_verdicts=True),
                    germline_list,
                    windows,
                )
                sink.write(output_header(header))
                for chunk in records.filter_records(whole_sites(body), len(header.columns)):
                    sink.write(chunk)
                if germline_list is not None:
                    germline_list.check_matched(report.counts["records"])
                if isinstance(frequencies, InfoFrequencies) and frequencies.repeated:
                    report.add("repeated_af_key", frequencies.repeated)
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
