"""Population allele frequencies joined with a sorted stream of sites.

vcf-drop-rare judges records by these frequencies; sam-revert-germline's tumour-only
screen asks the same join whether a listed somatic allele is common. The join reads a
bgzipped, tabix-indexed population VCF contig by contig in one ordered pass
(``PopulationJoin``), decompressed on a second thread (``PopulationText``); alleles are
matched on CHROM, POS, REF and ALT after trimming shared bases and upper-casing
(``alleles.normalised``).

Besides each allele's frequency the join knows each population site's REF frequency
(``rarity``: the Number=R value, or 1 minus every ALT frequency of the records at that
POS), so a REF made rare by alleles the input does not name is seen.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from genoscrub.alleles import (  # noqa: F401 - normalised, SEQUENCE_ALLELE: re-exported for sam-revert-germline
    ALLELE_WIDTH,
    LONG_KEY,
    POS_DIGITS,
    SEQUENCE_ALLELE,
    SEQUENCE_BYTES,
    SNV_KEY_LIMIT,
    TEXT_KEY,
    UPPER,
    Allele,
    encoded,
    encoded_arrays,
    indel_key,
    mnp_texts,
    normalised,
    short_alleles,
    snv_parts,
    text_snv_parts,
    trimmed_alleles,
)
from genoscrub.contigs import ContigMap, names_in
from genoscrub.fields import (
    COMMA,
    MAX_POS,
    NEWLINE,
    TAB,
    info_values,
    repeated_info_values,
    span_digits,
    span_floats,
    vcf_float,
)
from genoscrub.one_by_one import one_by_one
from genoscrub.rarity import PLACEHOLDER, SYMBOLIC, TOLERANCE, allele_kind, alt_alleles  # noqa: F401 - TOLERANCE re-exported
from genoscrub.record_alleles import structural_key, symbolic_key
from genoscrub.report import InputError, UsageError
from genoscrub.streams import check_bgzf_end
from genoscrub.vcf_header import contig_lengths, info_numbers

# Seek the population file (one tabix query) rather than read through a gap this long.
SEEK_GAP = 100_000
POPULATION_TABLE_START = 4096
BAD = 2.0  # a population value that is not a frequency: an error if an input record meets it


class JoinError(Exception):
    """A site the join cannot answer for; ``index`` is the first such one in the batch given."""

    def __init__(self, message: str, index: int = 0) -> None:
        super().__init__(message)
        self.index = index


class UnsortedInput(JoinError):
    """Sites came out of order."""


class UnknownContig(JoinError):
    """A site on a contig the population file lacks, where no contig lengths proved the genome the same."""


@dataclass
class SortedAlleles:
    """Population alleles (or sites) keyed and sorted: each key's frequency, and the REF frequency
    of the site it came from (at most ``bounds``; exactly so where ``exact``)."""

    keys: np.ndarray
    values: np.ndarray
    bounds: np.ndarray
    exact: np.ndarray

    @classmethod
    def empty(cls, dtype: Any) -> SortedAlleles:
        return cls(np.empty(0, dtype=dtype), np.empty(0), np.empty(0), np.empty(0, dtype=bool))

    def add(self, keys: list[np.ndarray], values: list[np.ndarray], bounds: list[np.ndarray], exact: list[np.ndarray]) -> None:
        """Merge new entries in; a key listed twice keeps the rarer value and the lower bound."""
        if not any(len(part) for part in keys):
            return
        all_keys = np.concatenate([self.keys, *keys])
        order = np.argsort(all_keys, kind="stable")
        all_keys = all_keys[order]
        all_values = np.concatenate([self.values, *values])[order]
        all_bounds = np.concatenate([self.bounds, *bounds])[order]
        all_exact = np.concatenate([self.exact, *exact])[order]
        repeated = np.flatnonzero(all_keys[1:] == all_keys[:-1])
        if len(repeated):
            keep = np.ones(len(all_keys), dtype=bool)
            for index in repeated[::-1].tolist():  # rare: fold each repeat into the first of its run
                all_values[index] = rarer(float(all_values[index]), float(all_values[index + 1]))
                all_bounds[index] = rarer(float(all_bounds[index]), float(all_bounds[index + 1]), bound=True)
                all_exact[index] &= all_exact[index + 1]
                keep[index + 1] = False
            all_keys, all_values, all_bounds, all_exact = all_keys[keep], all_values[keep], all_bounds[keep], all_exact[keep]
        self.keys, self.values, self.bounds, self.exact = all_keys, all_values, all_bounds, all_exact

    def forget_before(self, key: Any) -> None:
        behind = int(np.searchsorted(self.keys, key))
        self.keys, self.values = self.keys[behind:], self.values[behind:]
        self.bounds, self.exact = self.bounds[behind:], self.exact[behind:]

    def looked_up(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Value, bound and exactness of each key; NaN, NaN, True where it is not there."""
        if not len(self.keys):
            return np.full(len(keys), np.nan), np.full(len(keys), np.nan), np.ones(len(keys), dtype=bool)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        hit = self.keys[at] == keys
        return (np.where(hit, self.values[at], np.nan), np.where(hit, self.bounds[at], np.nan), np.where(hit, self.exact[at], True))

    def lowest_between(self, low: Any, high: Any) -> tuple[float, bool]:
        """The lowest bound of the keys in ``[low, high]``, and whether every one is exact; NaN,
        True where there are none (a reference block's span: ``PopulationJoin.encoded_alleles``)."""
        first, last = int(np.searchsorted(self.keys, low, side="left")), int(np.searchsorted(self.keys, high, side="right"))
        if last <= first:
            return math.nan, True
        bounds = self.bounds[first:last]
        known = bounds[~np.isnan(bounds)]
        return (float(known.min()) if len(known) else math.nan), bool(self.exact[first:last].all())

    def lowest_betweens(self, lows: np.ndarray, highs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``lowest_between`` of many spans at once: by numpy where a span holds at most one key
        (most: a short deletion's REF), one by one where it holds more."""
        first, last = np.searchsorted(self.keys, lows, side="left"), np.searchsorted(self.keys, highs, side="right")
        lowest, exact = np.full(len(lows), np.nan), np.ones(len(lows), dtype=bool)
        single = np.flatnonzero(last - first == 1)
        lowest[single], exact[single] = self.bounds[first[single]], self.exact[first[single]]
        for index in np.flatnonzero(last - first > 1).tolist():
            lowest[index], exact[index] = self.lowest_between(lows[index], highs[index])
        return lowest, exact

    def __len__(self) -> int:
        return len(self.keys)


class PopulationJoin:
    """Population allele frequencies for a sorted stream of sites, in one ordered pass.

    Ask ``frequencies(chrom, pos, ref, alts)`` for one site, or
    ``allele_frequencies(chrom, positions, refs, alts)`` for a batch of alleles, in
    the input's order (contig by contig, POS non-decreasing): each allele's frequency
    in the population file, or None / NaN where the population has no such allele.
    ``encoded_alleles`` answers for alleles already encoded and adds, for each, the REF
    frequency of the population site it came from and of the site at the query's POS.
    Multi-allelic population records are split into their alleles; a key written twice
    in one record (``AF=0.5;AF=0.00001``) counts by its rarer value.

    Each contig is read once, start to end: the tabix index finds where it starts,
    then htslib decompresses the text from there on another thread
    (``PopulationText``) and batches of lines are located by numpy (``_add``); a new
    tabix query is made only to skip a gap of more than ``SEEK_GAP`` bases. A batch is
    parsed up to its last POS, whose records wait for the next batch (``carry``), so
    that every site is whole when its REF frequency is computed. Memory holds the
    population alleles between the current input site and the end of the last batch
    read. Contig names are mapped (``chr1``/``1``) and lengths compared (``ContigMap``)
    when the join is made, before any record is written; with ``every_contig`` and no
    lengths to compare, a site on a contig the population lacks is an error
    (``UnknownContig``), not a site without frequencies.
    """

    BATCH = 65536  # lines per parse; fewer, larger numpy calls (measured: 4096 and 16384 cost more CPU)

    def __init__(self, path: str, af_key: str, input_contigs: Mapping[str, int | None], every_contig: bool = False) -> None:
        import pysam

        self.path = path
        self.af_key = af_key
        index = next((path + suffix for suffix in (".tbi", ".csi") if os.path.exists(path + suffix)), None)  # CSI: contigs past 2^29
        check_bgzf_end(path)  # cut between blocks and indexed again, it would read short: its lost alleles "missing"
        try:
            self.tabix = pysam.TabixFile(path, parser=None, index=index)  # type: ignore[arg-type]
            self.text = PopulationText(pysam.BGZFile(path, "rb", index=None))
        except (OSError, ValueError):
            raise UsageError(f"cannot open population file {path} as bgzipped VCF with a tabix index (tabix -p vcf FILE)") from None
        header = [line.encode(errors="surrogateescape") for line in self.tabix.header]
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
        self.every_contig = every_contig and self.contig_map.lengths_compared == 0
        self.contig: str | None = None
        self.finished_contigs: set[str] = set()
        self.last_pos = 0
        self._reset(None)

    # population side: alleles kept as three tables, each sorted or hashed once per batch read.
    # SNV-shaped alleles (one base each side, after trimming) are int64 keys POS<<16|REF<<8|ALT in a
    # sorted array, looked up by np.searchsorted; short indels are fixed-width texts (``indel_key``)
    # in another sorted array; long ones in a dict of normalised keys; sites by POS in a fourth.
    # A value is a float: NaN for missing, BAD for text that is not a frequency.

    def _reset(self, population_contig: str | None, start: int = 0) -> None:
        self.population_contig = population_contig
        self.snvs = SortedAlleles.empty(np.int64)
        self.short_indels = SortedAlleles.empty("S1")
        self.indels: dict[Allele, tuple[float, float, bool]] = {}
        self.sites = SortedAlleles.empty(np.int64)
        self.indel_limit = POPULATION_TABLE_START
        self.read_until = -1  # every population record at a POS up to this one is in the tables
        self.carry = b""  # the records at the last POS of the last batch, waiting for the rest of that POS
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
        return len(self.snvs) + len(self.short_indels) + len(self.indels)

    def _read_through(self, limit: int) -> None:
        """Take every population record at a POS up to ``limit`` into the tables."""
        while not self.exhausted and self.read_until < limit:
            text, ends = self.text.lines(self.BATCH)
            if not text:
                self.exhausted = True
                text, ends = self.carry, newlines(self.carry)
                self.carry = b""
                if text:
                    self._add(text, ends, final=True)
                break
            if self.carry:
                text, ends = self.carry + text, np.concatenate((newlines(self.carry), ends + len(self.carry)))
                self.carry = b""
            self._add(text, ends, final=False)
        if self.exhausted:
            self.read_until = max(self.read_until, limit)

    def _add(self, text: bytes, ends: np.ndarray, final: bool) -> None:
        """Parse a batch of population lines at once (numpy over the text) into the tables.

        The first line of another contig ends the contig. Unless the batch is the last,
        the records at its last POS are kept back (``carry``) for the next one. A record
        needs 8 columns and a POS of digits up to ``fields.MAX_POS``.
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
            self.exhausted = final = True
            self.text.stop()
            starts, ends, first_tab, tab_count = starts[:last], ends[:last], first_tab[:last], tab_count[:last]
        if not len(starts):
            return
        if (tab_count < 7).any():
            raise InputError("population record has fewer than 8 columns", self.path)
        columns = tabs[first_tab[:, None] + np.arange(7)]
        positions, digits = span_digits(data, columns[:, 0] + 1, columns[:, 1])
        if not digits.all() or int(positions.max()) > MAX_POS:
            raise InputError(f"population record's POS is not an integer from 0 to {MAX_POS}", self.path)
        if not final:
            waiting = positions == positions[-1]
            if waiting.all():  # one POS fills the whole batch: read on
                self.carry = text
                return
            cut = int(np.argmax(waiting))
            self.carry = text[int(starts[cut]) :]
            self.read_until = max(self.read_until, int(positions[-1]) - 1)
            starts, ends, first_tab, tab_count, columns, positions = (
                part[:cut] for part in (starts, ends, first_tab, tab_count, columns, positions)
            )
        else:
            self.read_until = max(self.read_until, int(positions[-1]))
        info_end = np.where(tab_count >= 8, tabs[np.minimum(first_tab + 7, len(tabs) - 1)], ends)
        self._add_records(text, data, starts, columns, positions, info_end)

    def _add_records(
        self, text: bytes, data: np.ndarray, starts: np.ndarray, columns: np.ndarray, positions: np.ndarray, info_end: np.ndarray
    ) -> None:
        """The records' alleles into the tables, each with the REF frequency of its site.

        One base REF and ALT with one plain number go straight in as keys; records whose
        ALTs are all short runs of bases, with a plain number each, are trimmed by numpy
        (``trimmed_alleles``); the rest (REF-first values, missing or repeated values, long
        or symbolic alleles) one by one (``_record_alleles``), and every record with
        ``GENOSCRUB_ONE_BY_ONE=1``. Then the records of each POS make one site.
        """
        count = len(positions)
        key = self.af_key.encode()
        found, value_start, value_end = info_values(text, data, starts, key, columns[:, 6] + 1, info_end)
        more_values: dict[int, list[bytes]] = {}
        for row, start, end in repeated_info_values(text, data, key, info_end, found, value_end):
            more_values.setdefault(row, []).append(text[start:end])
        ref_start, ref_end, alt_start, alt_end = columns[:, 2] + 1, columns[:, 3], columns[:, 3] + 1, columns[:, 4]
        fast = found.copy()
        if more_values:
            fast[list(more_values)] = False
        if self.ref_first or one_by_one():
            fast[:] = False
        alt_sums, ref_given = np.zeros(count), np.full(count, np.nan)
        unknown, bad, ambiguous = np.zeros(count, dtype=bool), np.zeros(count, dtype=bool), np.zeros(count, dtype=bool)
        # one-base REF and ALT, one plain number
        snv = fast & (ref_end - ref_start == 1) & (alt_end - alt_start == 1) & SEQUENCE_BYTES[data[alt_start]] & (positions < SNV_KEY_LIMIT)
        values, plain = span_floats(data, value_start[snv], value_end[snv])
        snv[snv] = plain
        snv_rows, snv_values = np.flatnonzero(snv), values[plain]
        alt_sums[snv_rows] = snv_values
        bad[snv_rows] = (snv_values < 0.0) | (snv_values > 1.0)
        snv_keys = (positions[snv] << 16) | (UPPER[data[ref_start[snv]]].astype(np.int64) << 8) | UPPER[data[alt_start[snv]]]
        # every ALT a short run of bases, one plain number each
        short = fast & ~snv
        owner, alt_starts, alt_ends, value_starts, value_ends, matched = split_alleles(
            data, np.flatnonzero(short), alt_start, alt_end, value_start, value_end
        )
        short[np.flatnonzero(short)[~matched]] = False
        fits = short_alleles(data, text, positions[owner], ref_start[owner], ref_end[owner], alt_starts, alt_ends)
        piece_values, plain = span_floats(data, value_starts, value_ends)
        short[owner[~(fits & plain)]] = False
        whole = short[owner]
        owner, piece_values = owner[whole], piece_values[whole]
        trimmed, texts = trimmed_alleles(data, positions[owner], ref_start[owner], ref_end[owner], alt_starts[whole], alt_ends[whole])
        alt_sums += np.bincount(owner, weights=piece_values, minlength=count)
        bad |= np.bincount(owner, weights=(piece_values < 0.0) | (piece_values > 1.0), minlength=count) > 0
        # the rest, one by one
        slow: list[tuple[int, int | bytes | Allele, float]] = []
        for row in np.flatnonzero(~snv & ~short).tolist():
            value_texts = ([text[value_start[row] : value_end[row]]] if found[row] else []) + more_values.get(row, [])
            ref, alt_field = text[ref_start[row] : ref_end[row]], text[alt_start[row] : alt_end[row]]
            alleles, alt_sums[row], unknown[row], ref_given[row], bad[row], ambiguous[row] = self._record_alleles(
                int(positions[row]), ref, alt_field, value_texts
            )
            slow.extend((row, code, value) for code, value in alleles)
        # the records of one POS are one site
        group_starts = np.flatnonzero(np.diff(positions, prepend=-1))
        site_given = np.fmin.reduceat(ref_given, group_starts)
        site_bounds = np.fmin(site_given, 1.0 - np.add.reduceat(alt_sums, group_starts))
        site_bounds[np.logical_or.reduceat(bad, group_starts)] = BAD
        site_exact = (~np.isnan(site_given) | ~np.logical_or.reduceat(unknown, group_starts)) & ~np.logical_or.reduceat(
            ambiguous, group_starts
        )
        group = np.repeat(np.arange(len(group_starts)), np.diff(np.append(group_starts, count)))
        row_bounds, row_exact = site_bounds[group], site_exact[group]
        self.sites.add([positions[group_starts]], [np.full(len(group_starts), np.nan)], [site_bounds], [site_exact])
        one_base = trimmed >= 0
        one_base_owner = owner[one_base]
        snv_tables = (
            [snv_keys, trimmed[one_base]],
            [snv_values, piece_values[one_base]],
            [row_bounds[snv_rows], row_bounds[one_base_owner]],
            [row_exact[snv_rows], row_exact[one_base_owner]],
        )
        text_owner = owner[~one_base]
        text_tables = ([texts[~one_base]], [piece_values[~one_base]], [row_bounds[text_owner]], [row_exact[text_owner]])
        # an MNP's SNVs, each with the MNP's value (``alleles.snv_parts``)
        mnp_pieces = np.flatnonzero(~one_base)[mnp_texts(texts[~one_base])]
        if len(mnp_pieces):
            which, mnp_keys = text_snv_parts(texts[mnp_pieces])
            pieces = mnp_pieces[which]
            snv_tables[0].append(mnp_keys)
            snv_tables[1].append(piece_values[pieces])
            snv_tables[2].append(row_bounds[owner[pieces]])
            snv_tables[3].append(row_exact[owner[pieces]])
        if slow:
            one_base_slow = [(row, code, value) for row, code, value in slow if isinstance(code, int)]
            fixed_slow = [(row, code, value) for row, code, value in slow if isinstance(code, bytes)]
            for parts, items in ((snv_tables, one_base_slow), (text_tables, fixed_slow)):
                if items:
                    rows = np.array([row for row, _, _ in items], dtype=np.int64)
                    parts[0].append(np.array([code for _, code, _ in items]))
                    parts[1].append(np.array([value for _, _, value in items], dtype=np.float64))
                    parts[2].append(row_bounds[rows])
                    parts[3].append(row_exact[rows])
            for row, code, value in slow:
                if isinstance(code, tuple):
                    entry = (value, float(row_bounds[row]), bool(row_exact[row]))
                    self.indels[code] = folded(self.indels[code], entry) if code in self.indels else entry
        self.snvs.add(*snv_tables)
        self.short_indels.add(*text_tables)

    def _record_alleles(
        self, pos: int, ref: bytes, alt_field: bytes, value_texts: list[bytes]
    ) -> tuple[list[tuple[int | bytes | Allele, float]], float, bool, float, bool, bool]:
        """One population record: its sequence alleles (encoded) with their values, the sum of
        its ALT frequencies, whether one is unknown, its REF value (Number=R, NaN if none),
        whether a value is not a frequency, and whether its values are ambiguous. A key written
        twice counts by its rarer values. Ambiguous (its site's REF frequency then not known, so
        an allele of it that is not rare counts as missing, fail closed): an array shorter than
        the record's alleles (REF's value included for Number=R), whose values are read in order
        but may belong to other alleles; a key written twice that gives an allele a value once and
        none (``.``) the other time."""
        alts = alt_alleles(alt_field)
        per_alt = [math.nan] * len(alts)
        ref_value = math.nan
        offset = 1 if self.ref_first else 0
        ambiguous = False
        for value_text in value_texts:
            values = value_text.split(b",")
            ambiguous |= len(values) < len(alts) + offset
            if len(value_texts) > 1:
                ambiguous |= any(math.isnan(text_float(value)) for value in values)
            if self.ref_first:
                ref_value = rarer(ref_value, text_float(values[0]))
            for index in range(len(alts)):
                position = index + offset
                per_alt[index] = rarer(per_alt[index], text_float(values[position]) if position < len(values) else math.nan)
        kinds = [allele_kind(alt) for alt in alts]
        counted = [value for value, kind in zip(per_alt, kinds, strict=True) if kind != PLACEHOLDER]
        bad = any(value == BAD for value in [*per_alt, ref_value])
        alt_sum = sum(value for value in counted if not math.isnan(value) and value != BAD)
        unknown = any(math.isnan(value) for value in counted)
        alleles: list[tuple[int | bytes | Allele, float]] = []
        for alt, value, kind in zip(alts, per_alt, kinds, strict=True):
            if kind == "sequence":
                allele = normalised(pos, ref, alt)
                alleles.append((encoded(allele), value))
                alleles += [(code, value) for code in snv_parts(allele)]  # an MNP's SNVs, each with its value
                structural = structural_key(pos, allele)  # a long indel written with its bases: also as <DEL>/<INS>
                if structural is not None:
                    alleles.append((structural, value))
            elif kind == SYMBOLIC:  # by its type at POS: only ever makes an input allele rare (``STRUCTURAL``)
                alleles.append((symbolic_key(pos, alt), value))
        return alleles, alt_sum, unknown, ref_value, bad, ambiguous

    def _forget_before(self, pos: int) -> None:
        """Drop population alleles and sites no later site can match (their trimmed POS is behind)."""
        self.snvs.forget_before(min(pos, SNV_KEY_LIMIT) << 16)
        if 0 <= pos < 10**POS_DIGITS:
            self.short_indels.forget_before(b"%0*d" % (POS_DIGITS, pos))
        self.sites.forget_before(pos)
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
        """The population contig whose records give ``chrom``'s frequencies: of the names the file
        gives it (``contig_map``, or its spellings for a CHROM no ##contig line declares), the one
        with records. A file with records under two of them (``chrM`` and ``MT``) stops the
        command: read from one, an allele listed rare under the other would count as missing,
        which the somatic settings (``--keep-missing``) keep."""
        names = self.contig_map.to_others.get(chrom) if chrom in self.contig_map.to_other else names_in(chrom, self.population_contigs)
        with_records = [name for name in names or [] if name in self.indexed]
        if len(with_records) > 1:
            raise InputError(
                f"the population file has records of one contig under {len(with_records)} names ({', '.join(with_records)}): "
                "their frequencies would be read from one of them; rename its contigs (bcftools annotate --rename-chrs)",
                self.path,
            )
        return with_records[0] if with_records else None

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
        """``allele_frequencies`` for alleles already encoded (see ``encoded_alleles``)."""
        return self.encoded_alleles(chrom, positions, ends, keys, texts, indels, sites=False)[0]

    def encoded_alleles(
        self,
        chrom: str,
        positions: np.ndarray,
        ends: np.ndarray,
        keys: np.ndarray,
        texts: np.ndarray,
        indels: Mapping[int, Allele],
        sites: bool = True,
        site_ends: np.ndarray | None = None,
        site_positions: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For alleles already encoded (``alleles.encoded_arrays``) at POS ``positions`` with
        POS + len(REF) ``ends``: each allele's frequency (NaN: not in the population), the REF
        frequency bound and exactness of the site it came from (NaN, True where it did not
        match), and those of the population site at its POS (NaN, True where there is none).
        ``keys`` are ``snv_key`` values, TEXT_KEY where ``texts`` holds an ``indel_key``,
        LONG_KEY where ``indels`` holds the normalised allele, SITE_KEY for a site-only query.
        A value that is not a frequency is an error where a query meets it: its allele's, or
        with ``sites`` any at the sites asked about (their REF frequency cannot be known).
        ``site_ends``: the last POS each query's site covers (a gVCF reference block's END, which
        says the REF allele is carried at every population site up to it; a REF's last base, as a
        record carrying REF carries each of its bases): its site values are
        then the lowest REF bound of the population sites from POS to there (``ends`` must reach
        past it). ``site_positions``: the POS whose site each query asks about, where it is not
        the query's own (an MNP's SNV asks about its own base, at or after the query's POS and
        before its end)."""
        count = len(positions)
        values, bounds, site_bounds = np.full(count, np.nan), np.full(count, np.nan), np.full(count, np.nan)
        exact, site_exact = np.ones(count, dtype=bool), np.ones(count, dtype=bool)
        if not count:
            return values, bounds, exact, site_bounds, site_exact
        if chrom != self.contig:
            self._enter_contig(chrom)
        steps = np.diff(positions, prepend=self.last_pos)
        if (steps < 0).any():
            raise UnsortedInput("POS goes backwards: sort the input (bcftools sort)", int(np.argmax(steps < 0)))
        self.last_pos = int(positions[-1])
        if self.population_contig is None:
            if self.every_contig:
                raise UnknownContig(
                    "record on a contig the population file lacks; with no contig lengths to compare, every contig must be in "
                    "the population file (another genome build?)"
                )
            return values, bounds, exact, site_bounds, site_exact
        text_indexes = np.flatnonzero(keys == TEXT_KEY)
        long_indexes = np.fromiter(sorted(indels), dtype=np.int64, count=len(indels))
        for start in range(0, count, self.BATCH):
            stop = min(start + self.BATCH, count)
            first = int(positions[start])
            if first - self.read_until > SEEK_GAP:
                self._reset(self.population_contig, max(0, first - 2))  # an insertion at first-1 trims to first
            self._forget_before(first)
            self._read_through(int(ends[start:stop].max()))
            part = slice(start, stop)
            values[part], bounds[part], exact[part] = self.snvs.looked_up(keys[part])
            low, high = np.searchsorted(text_indexes, [start, stop])
            if high > low:
                rows = text_indexes[low:high]
                values[rows], bounds[rows], exact[rows] = self.short_indels.looked_up(texts[rows])
            low, high = np.searchsorted(long_indexes, [start, stop])
            for index in long_indexes[low:high].tolist():
                found = self.indels.get(indels[index])
                if found is not None:
                    values[index], bounds[index], exact[index] = found
            _, site_bounds[part], site_exact[part] = self.sites.looked_up((positions if site_positions is None else site_positions)[part])
            if site_ends is not None:
                spans = np.flatnonzero(site_ends[part] > positions[part]) + start
                site_bounds[spans], site_exact[spans] = self.sites.lowest_betweens(positions[spans], site_ends[spans])
            bad = (values[part] < 0.0) | (values[part] > 1.0)
            if sites:
                bad |= (bounds[part] > 1.0) | (site_bounds[part] > 1.0)
            if bad.any():
                raise InputError(f"population INFO/{self.af_key} value is not a frequency between 0 and 1", self.path)
        return values, bounds, exact, site_bounds, site_exact

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


def text_float(text: bytes) -> float:
    """A population value: ``.``, empty or ``nan`` is missing (NaN); a value that is not a VCF
    Float (``0.0_1``, ``x``) or not between 0 and 1 is BAD."""
    if text in (b"", b"."):
        return math.nan
    try:
        value = vcf_float(text)
    except ValueError:
        return BAD
    if math.isnan(value):
        return math.nan
    return value if 0.0 <= value <= 1.0 else BAD


def rarer(first: float, second: float, bound: bool = False) -> float:
    """The value of an allele listed twice: the lower frequency (NaN where neither is known); a value
    outside [0, 1] or not a number stays an error. ``bound``: REF bounds, which may be below 0."""
    if first == BAD or second == BAD:
        return BAD
    if not bound and not (0.0 <= first <= 1.0 or math.isnan(first)) or not bound and not (0.0 <= second <= 1.0 or math.isnan(second)):
        return BAD
    return float(np.fmin(first, second))


def folded(first: tuple[float, float, bool], second: tuple[float, float, bool]) -> tuple[float, float, bool]:
    """Two entries of one long allele: the rarer value, the lower REF bound, exact only if both are."""
    return rarer(first[0], second[0]), rarer(first[1], second[1], bound=True), first[2] and second[2]


def merged(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keys sorted with their values; an allele listed twice keeps the rarer value (``rarer``)."""
    table = SortedAlleles.empty(keys.dtype)
    table.add([keys], [values], [np.full(len(keys), np.nan)], [np.ones(len(keys), dtype=bool)])
    return table.keys, table.values


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


