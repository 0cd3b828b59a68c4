"""Population allele frequencies joined with a sorted stream of sites, and the allele
normalisation both sides of the join share.

vcf-drop-rare judges records by these frequencies; sam-revert-germline's
tumour-only screen asks the same join whether a listed somatic allele is common.
The join reads a bgzipped, tabix-indexed population VCF contig by contig in one
ordered pass (``PopulationJoin``), decompressed on a second thread
(``PopulationText``); alleles are matched on CHROM, POS, REF and ALT after
trimming shared bases (``normalised``).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, AnyStr

import numpy as np
from genoscrub.contigs import ContigMap, conventional_names
from genoscrub.report import InputError, UsageError
from genoscrub.vcf import NEWLINE, TAB, contig_lengths, info_numbers, info_values, span_digits, span_floats, spans_within

# Frequencies are decimal text; 0.01 written as "0.01" must count as 1 %, and 1 - 0.99 too.
TOLERANCE = 1e-9
SEQUENCE_ALLELE = re.compile(rb"[ACGTNacgtn]+")
# A trimmed allele: POS, REF, ALT (``normalised``).
Allele = tuple[int, bytes, bytes]
SEQUENCE_BYTES = np.zeros(256, dtype=bool)
SEQUENCE_BYTES[list(b"ACGTNacgtn")] = True
# Seek the population file (one tabix query) rather than read through a gap this long.
SEEK_GAP = 100_000
POPULATION_TABLE_START = 4096


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


