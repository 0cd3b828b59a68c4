"""The grammar of a VCF record's columns that hold sequence, numbers or declared names.

A pipeline can write a sample name or a path where the format expects something else: a
CHROM, a REF or an ALT of letters that are not bases, a QUAL that is not a number, a FILTER
the header never declared, a GT that is not a genotype. The header's declarations were
rebuilt by the scrubbers from parsed fields; these columns were not. Read here by the
audit's own reading of VCF 4.4 (sections 1.4 and 1.6), apart from the scrubbers
(ARCHITECTURE.md, *The audit*):

- CHROM: declared by a ``##contig`` line, when the header has any; without them, a name that
  passes the contig rule (``audit_header.contig_holds_personal``: no path, address, personal
  number or date);
- REF: IUPAC nucleotide codes (``ACGTURYKMSWBDHVN``, either case);
- ALT: ``.`` alone, or alleles (comma-separated) each of IUPAC codes, ``*``, a symbolic
  ``<ID>`` (printable ASCII but ``<``, ``>`` and ``,``) or a breakend (``t[p[``, ``t]p]``,
  ``]p]t``, ``[p[t``, ``.t``, ``t.``; the mate's contig declared like CHROM (or passing the
  contig rule when none is), or ``<ID>``, whose ID ``audit_record_values`` judges);
- QUAL: ``.`` or a Float as the specification and bcftools write it (``1e+06``, ``inf``,
  ``nan``, either case); a QUAL of a million or more has at most 6 significant digits, as
  bcftools (``%g``) prints one: no caller writes ``19850314`` or ``9001011234567`` (``QUAL_DIGITS``);
- FILTER: ``.`` or IDs (separated by ``;``) each ``PASS`` or declared by a ``##FILTER`` line;
- GT: ``.`` or allele numbers joined by ``/`` or ``|``, a phase marker in front allowed; each
  number an allele the record has (at most its ALT count, ALT ``.`` counted as one as htslib's
  test files call ``0/1`` there; no leading zero: ``0/19850314`` on a record of one ALT is a date,
  not a genotype), at most ``MAX_PLOIDY`` of them;
- FORMAT: no key twice (``GT:GT`` with ``0/1:19850314``: htslib refuses it in BCF, and a reader
  of the text takes the first).

Each column off its grammar is one metadata finding of its record (``FAULTS``); its value is
never printed, and it is text, not sequence, to the forbid search.

CHROM and FILTER are read for every record (a set lookup, the location needs CHROM anyway).
The others are settled for a whole block (``ColumnGrammar.lines_to_check``): byte classes
over the column spans with the C loops, numpy over the GT's first bytes; only the records
it selects, a superset of those off the grammar, are read column by column
(``record_faults``, the one-record reference that ``GENOSCRUB_ONE_BY_ONE=1`` applies to every
record).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np
from genoscrub import scan
from genoscrub.audit_header import contig_holds_personal

IUPAC = b"ACGTURYKMSWBDHVNacgturykmswbdhvn"
BASES = b"[" + IUPAC + b"]+"
SYMBOLIC = re.compile(rb"<[\x21-\x2b\x2d-\x3b\x3d\x3f-\x7e]+>")
"""A symbolic allele: printable ASCII but ``<``, ``>`` and ``,`` between angle brackets."""
MATE = rb"([\x21-\x5a\x5c\x5e-\x7e]+):[0-9]+"
"""A breakend's mate ``chr:pos`` (a contig name holds no ``[`` or ``]``; it may hold ``:``)."""
BREAKEND = re.compile(BASES + rb"([\[\]])" + MATE + rb"\1|([\[\]])" + MATE + rb"\3" + BASES + rb"|\." + BASES + rb"|" + BASES + rb"\.")
SEQUENCE = re.compile(BASES)
QUAL = re.compile(rb"\.|[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf|infinity|nan)", re.IGNORECASE)
GT = re.compile(rb"[|/]?(?:[0-9]+|\.)(?:[|/](?:[0-9]+|\.))*")

FAULTS = {
    "CHROM": "CHROM (no ##contig line declares it)",
    "CHROM_NAME": "CHROM (holds personal data)",
    "REF": "REF (not IUPAC bases)",
    "ALT": "ALT (an allele off its grammar)",
    "QUAL": "QUAL (not a number)",
    "QUAL_DIGITS": "QUAL (a million or more, of more than 6 significant digits)",
    "FILTER": "FILTER (no ##FILTER line declares it)",
    "GT": "FORMAT/GT (off its grammar)",
    "GT_ALLELE": "FORMAT/GT (an allele the record lacks)",
    "FORMAT_TWICE": "FORMAT (a key given twice)",
    "VALUES": "FORMAT (a sample with more values than keys)",
}
"""The metadata finding of each column off its grammar, by column."""

MAX_PLOIDY = 8
"""The most alleles a GT names: a human sample's calls have one or two (a tumour's, a pool's a few more)."""
GT_NUMBER = re.compile(rb"[0-9]+")

CACHED = 10_000
"""Distinct column values remembered as settled (ALT, FILTER, GT, FORMAT): memory stays flat."""
FORMATS_IN_BULK = 32
"""Distinct FORMAT columns the block path tells apart (the first met); a record with another is read whole."""


def byte_table(allowed: bytes) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    table[list(allowed)] = True
    return table


IUPAC_BYTES = byte_table(IUPAC)
QUAL_BYTES = byte_table(b"0123456789.")
ALLELE, SEPARATOR, END = 1, 2, 4
GT_CLASSES = np.zeros(256, dtype=np.uint8)
GT_CLASSES[list(b"0123456789.")] = ALLELE
GT_CLASSES[list(b"/|")] = SEPARATOR
GT_CLASSES[list(b":\t\n")] = END
"""A GT's first bytes by class: allele (one digit or ``.``), separator, and what ends the GT."""


NO_GT, GT_FIRST, GT_ELSEWHERE = 0, 1, 2
DIPLOID = int.from_bytes(bytes([ALLELE, SEPARATOR, ALLELE, END]), "little")
HAPLOID = int.from_bytes(bytes([ALLELE, END]), "little")
"""Four (two) classes of a GT's first bytes read as one little-endian uint32 (its low half)."""


QUAL_SIGNIFICANT = 6
"""The significant digits of a QUAL of a million or more: bcftools prints QUAL with ``%g``."""
SIGNIFICAND = re.compile(rb"[+-]?([0-9]*)\.?([0-9]*)")


def qual_holds_digits(qual: bytes) -> bool:
    """Whether a QUAL of the grammar is a million or more and has more than ``QUAL_SIGNIFICANT``
    significant digits (leading and trailing zeros of its digits aside): ``19850314``,
    ``1.9850314e7``; ``1e+06``, ``1.23457e+06`` and ``10000000`` are not."""
    try:
        value = float(qual)
    except ValueError:
        return False
    if not math.isfinite(value) or abs(value) < 1e6:
        return False
    found = SIGNIFICAND.match(qual)
    digits = (found.group(1) + found.group(2)).strip(b"0") if found is not None else b""
    return len(digits) > QUAL_SIGNIFICANT


def gt_value_fault(value: bytes, alts: int) -> str:
    """A GT value's fault on a record of ``alts`` ALTs: ``GT`` off the grammar, ``GT_ALLELE`` an
    allele number past ``alts`` or with a leading zero, or more than ``MAX_PLOIDY`` alleles; ``""``
    for none. htslib reads each number as an index into the record's alleles, which a number past
    them is not: it is free digits (``0/19850314``, ``0|10|1234|5678``)."""
    if GT.fullmatch(value) is None:
        return "GT"
    numbers = GT_NUMBER.findall(value)
    if len(value.lstrip(b"/|").replace(b"|", b"/").split(b"/")) > MAX_PLOIDY:
        return "GT_ALLELE"
    if any(len(number) > 1 and number[:1] == b"0" or int(number) > alts for number in numbers):
        return "GT_ALLELE"
    return ""


def is_sequence(text: bytes) -> bool:
    """IUPAC codes only (a REF, a base ALT allele): sequence, not text, to the forbid search."""
    return SEQUENCE.fullmatch(text) is not None


class ColumnGrammar:
    """The column grammars over the records of one VCF, with its header's contigs and FILTERs."""

    def __init__(self, contigs: Iterable[bytes], filters: Iterable[bytes]) -> None:
        self.contigs = frozenset(contigs)
        """Declared contigs; none: CHROM and breakend mates are not checked."""
        self.filters = frozenset(filters) | {b"PASS"}
        self.passing_contigs = set(self.contigs)
        """CHROM values that pass: the declared ones, or, with none declared, those met so far."""
        self.passing_filters = self.filters | {b"."}
        """FILTER columns of one ID that pass: others are read by ``filter_fails``."""
        self.alt_failing: dict[bytes, bool] = {}
        self.filter_failing: dict[bytes, bool] = {b"PASS": False, b".": False}
        self.gt_failing: dict[tuple[bytes, int], str] = {}
        self.format_repeating: dict[bytes, bool] = {}
        self.gt_places: dict[bytes, int | None] = {}
        self.bulk_formats: list[bytes] = []
        self.bulk_gt: list[int] = []
        """Of each FORMAT in ``bulk_formats``: ``NO_GT``, ``GT_FIRST`` or ``GT_ELSEWHERE``."""

    # --- one record ------------------------------------------------------------------------

    def contig_fault(self, chrom: bytes) -> str | None:
        """``CHROM`` when no ``##contig`` line declares it; without any, ``CHROM_NAME`` when the
        name fails the contig rule."""
        if not self.contigs:
            if chrom in self.passing_contigs:
                return None
            if contig_holds_personal(chrom.decode("latin-1")):
                return "CHROM_NAME"
            if len(self.passing_contigs) < CACHED:
                self.passing_contigs.add(chrom)
            return None
        return "CHROM" if chrom not in self.contigs else None

    def filter_fails(self, column: bytes) -> bool:
        failing = self.filter_failing.get(column)
        if failing is None:
            if len(self.filter_failing) > CACHED:
                self.filter_failing = {b"PASS": False, b".": False}
            names = column.split(b";")
            failing = self.filter_failing[column] = any(name not in self.filters for name in names if name)
        return failing

    def alt_fails(self, column: bytes) -> bool:
        failing = self.alt_failing.get(column)
        if failing is None:
            if len(self.alt_failing) > CACHED:
                self.alt_failing.clear()
            failing = self.alt_failing[column] = column != b"." and not all(map(self.allele_fits, column.split(b",")))
        return failing

    def allele_fits(self, allele: bytes) -> bool:
        if allele == b"*" or SEQUENCE.fullmatch(allele) or SYMBOLIC.fullmatch(allele):
            return True
        breakend = BREAKEND.fullmatch(allele)
        if breakend is None:
            return False
        mate = breakend.group(2) or breakend.group(4)
        if mate is None or SYMBOLIC.fullmatch(mate) is not None:
            return True
        return mate in self.contigs if self.contigs else not contig_holds_personal(mate.decode("latin-1"))

    def gt_place(self, format_column: bytes) -> int | None:
        """Where GT is among a FORMAT column's keys (None: not there)."""
        if format_column not in self.gt_places:
            if len(self.gt_places) > CACHED:
                self.gt_places.clear()
            keys = format_column.split(b":")
            self.gt_places[format_column] = keys.index(b"GT") if b"GT" in keys else None
        return self.gt_places[format_column]

    def format_repeats(self, format_column: bytes) -> bool:
        """Whether a FORMAT column names a key twice."""
        repeats = self.format_repeating.get(format_column)
        if repeats is None:
            if len(self.format_repeating) > CACHED:
                self.format_repeating.clear()
            keys = format_column.split(b":")
            repeats = self.format_repeating[format_column] = len(set(keys)) != len(keys)
        return repeats

    def gt_fault(self, fields: list[bytes]) -> str | None:
        """``GT`` when a sample's GT (a sample without one, or with fewer values, has none) is off its
        grammar, ``GT_ALLELE`` when it names an allele the record lacks (past its ALT count, written
        with a leading zero) or more than ``MAX_PLOIDY``; else None."""
        place = self.gt_place(fields[8])
        if place is None:
            return None
        alts = fields[4].count(b",") + 1  # "." as one: htslib's and the specification's own test files call 0/1 there
        for sample in fields[9:]:
            values = sample.split(b":", place + 1)
            if len(values) <= place:
                continue
            value = values[place]
            fault = self.gt_failing.get((value, alts))
            if fault is None:
                if len(self.gt_failing) > CACHED:
                    self.gt_failing.clear()
                fault = self.gt_failing[value, alts] = gt_value_fault(value, alts)
            if fault:
                return fault
        return None

    def record_faults(self, fields: list[bytes]) -> list[str]:
        """The columns of one record (split at tabs, 8 or more) off their grammar, in column order."""
        found = []
        chrom = self.contig_fault(fields[0])
        if chrom is not None:
            found.append(chrom)
        if SEQUENCE.fullmatch(fields[3]) is None:
            found.append("REF")
        if self.alt_fails(fields[4]):
            found.append("ALT")
        if QUAL.fullmatch(fields[5]) is None:
            found.append("QUAL")
        elif qual_holds_digits(fields[5]):
            found.append("QUAL_DIGITS")
        if self.filter_fails(fields[6]):
            found.append("FILTER")
        if len(fields) > 9:
            gt = self.gt_fault(fields)
            if gt is not None:
                found.append(gt)
        if len(fields) > 8 and self.format_repeats(fields[8]):
            found.append("FORMAT_TWICE")
        if len(fields) > 9 and max(sample.count(b":") for sample in fields[9:]) > fields[8].count(b":"):
            found.append("VALUES")  # a value without a key: no check reads it as what it is (0/1:01:01:1990 under GT:NM)
        self.learn_format(fields)
        return found

    def named_faults(self, fields: list[bytes]) -> list[str]:
        """CHROM and FILTER alone: what the block path leaves to each record."""
        found = []
        chrom = self.contig_fault(fields[0])
        if chrom is not None:
            found.append(chrom)
        if self.filter_fails(fields[6]):
            found.append("FILTER")
        return found

    def learn_format(self, fields: list[bytes]) -> None:
        """Remember a FORMAT column for the block path (the first ``FORMATS_IN_BULK`` met)."""
        if (
            len(fields) > 9
            and len(self.bulk_formats) < FORMATS_IN_BULK
            and fields[8] not in self.bulk_formats
            and not self.format_repeats(fields[8])  # read whole, each time
        ):
            place = self.gt_place(fields[8])
            self.bulk_formats.append(fields[8])
            self.bulk_gt.append(NO_GT if place is None else GT_FIRST if place == 0 else GT_ELSEWHERE)

    # --- a block ---------------------------------------------------------------------------

    def lines_to_check(self, block: bytes, count: int, columns: int) -> set[int] | None:
        """The lines of a block (``count`` lines joined by newlines) whose REF, ALT, QUAL or GT
        may be off the grammar: a superset; None: every line (a block the column locator
        refuses: a wrong column count, an empty line, a POS not of digits; each record says
        which when it is read). The last line, which has no newline to end it, is always read.

        Settled here: a REF and an ALT of IUPAC codes; a QUAL of digits and at most one ``.``;
        a GT of one or two alleles of one digit or ``.`` (``0/1``, ``.|.``, ``1``) where the
        FORMAT column is one met before with GT first, or without GT. Everything else (``*``,
        several alleles, symbols, ``1e+06``, ``10/12``, a new FORMAT) is read whole."""
        located = scan.vcf_columns(block, columns, columns - 1)
        if located.problem or located.line_count != count - 1:
            return None
        tabs = located.tabs
        data = np.frombuffer(block, dtype=np.uint8)
        fits = np.ones(count - 1, dtype=bool)
        for start, end in ((tabs[:, 2] + 1, tabs[:, 3]), (tabs[:, 3] + 1, tabs[:, 4])):  # REF, ALT
            fits &= (end > start) & scan.spans_within(data, start, end, IUPAC_BYTES)
        quals_start, quals_end = tabs[:, 4] + 1, tabs[:, 5]
        fits &= (quals_end > quals_start) & scan.spans_within(data, quals_start, quals_end, QUAL_BYTES)
        lengths = quals_end - quals_start
        quals = np.frombuffer(scan.join_spans(block, quals_start, quals_end), dtype=np.uint8)
        dots = np.concatenate(([0], np.cumsum(quals == ord("."))))
        ends = np.cumsum(lengths)
        fits &= dots[ends] - dots[ends - lengths] <= 1
        # a QUAL of 7 digits or more before its point (no "." among its first 7 bytes) is read whole (``qual_holds_digits``)
        firsts = ends - lengths
        fits &= (lengths <= QUAL_SIGNIFICANT) | (dots[np.minimum(firsts + QUAL_SIGNIFICANT + 1, len(quals))] > dots[firsts])
        if columns > 9:
            fits &= self.gts_fit(block, tabs)
            fits &= self.values_fit(data, tabs, located.ends[: count - 1])
        return {*np.flatnonzero(~fits).tolist(), count - 1}

    @staticmethod
    def values_fit(data: np.ndarray, tabs: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Per line: no sample holds more colons than its FORMAT (a value without a key, which
        vcf-scrub-header removes). The colons are found once and counted between the columns'
        tabs by ``searchsorted``."""
        colons = np.flatnonzero(data[: int(ends[-1]) + 1] == ord(":")) if len(ends) else np.zeros(0, dtype=np.int64)
        bounds = np.concatenate((tabs[:, 7:], ends[:, None]), axis=1)  # FORMAT, then each sample, ends at the next tab
        counts = np.diff(np.searchsorted(colons, bounds), axis=1)
        return np.all(counts[:, 1:] <= counts[:, :1], axis=1)

    def gts_fit(self, block: bytes, tabs: np.ndarray) -> np.ndarray:
        """Per line: its FORMAT is one met before, and every sample's GT is settled (or there is none).

        A GT-first sample's first four bytes are gathered (one C loop) and read by class: an
        allele and an end (``1:``), or allele, separator, allele, end (``0/1:``, ``./.\t``)."""
        if not self.bulk_formats:
            return np.zeros(len(tabs), dtype=bool)
        chosen = scan.span_choices(block, tabs[:, 7] + 1, tabs[:, 8], self.bulk_formats)
        state = np.array(self.bulk_gt)[np.maximum(chosen, 0)]
        known = (chosen >= 0) & (state != GT_ELSEWHERE)  # GT elsewhere: such records are read whole
        gt_first = known & (state == GT_FIRST)
        starts = tabs[gt_first][:, 8:] + 1  # each sample's first byte
        room = starts + 4 <= len(block)  # a line ends with a newline and one line follows: only its last bytes lack room
        windows = np.where(room, starts, 0).ravel()
        raw = np.frombuffer(scan.join_spans(block, windows, windows + 4), dtype=np.uint8)
        classes = GT_CLASSES[raw]
        codes = classes.view("<u4").reshape(starts.shape)
        # the alleles named (one digit each, "." none) against the record's ALT count (commas in ALT + 1)
        settled = known.copy()
        settled[gt_first] = (room & ((codes == DIPLOID) | ((codes & 0xFFFF) == HAPLOID))).all(axis=1)
        # an allele of 2 or more (one digit, settled above) is held to the record's ALT count (every record has one ALT at least)
        windows_bytes = raw.reshape((*starts.shape, 4))
        first, third = windows_bytes[..., 0], windows_bytes[..., 2]
        two_or_more = (first >= ord("2")) & (first <= ord("9")) | (codes == DIPLOID) & (third >= ord("2")) & (third <= ord("9"))
        beyond = np.flatnonzero(two_or_more.any(axis=1))
        if len(beyond):
            rows = np.flatnonzero(gt_first)[beyond]
            alt_spans = zip((tabs[rows, 3] + 1).tolist(), tabs[rows, 4].tolist(), strict=True)
            alts = np.array([block.count(b",", start, end) + 1 for start, end in alt_spans])
            named = np.maximum(first[beyond], np.where(codes[beyond] == DIPLOID, third[beyond], 0)).astype(np.int64) - ord("0")
            settled[rows[(named > alts[:, None]).any(axis=1)]] = False
        return settled
