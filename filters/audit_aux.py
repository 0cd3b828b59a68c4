"""The values of allowlisted aux tags, checked a block of BAM records at once.

An allowlisted tag name says nothing of what the tag holds: ``MQ:i:19900101`` or
``XA:Z:900101-1234567`` carries an identifier under a name the audit accepts. Each value is
checked against its tag's grammar (``audit_allowlist.AUX_VALUES``), in bulk:

- integers are decoded from their BAM type (c, C, s, S, i, I) with numpy and compared with
  their tag's range, floats read as float32, ``A`` values and array subtypes looked up;
- text values are checked by a byte class over their spans (``scan.spans_within``); only
  the values that also need a grammar are matched by a regular expression, once for each
  distinct value of the block; MD strings are read by ``scan.md_lengths``;
- ties to the rest of the record (as long as SEQ, the MD string against the CIGAR, a
  barcode's qualities against its bases, names of the header) are compared as arrays.

A value is never copied into a finding: the caller counts the tag by name and place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from genoscrub import scan
from genoscrub.audit_allowlist import (
    ALIGNMENT_ENTRIES,
    AUX_TAGS,
    AUX_VALUES,
    CIGAR_OPERATION_TEXT,
    CIGAR_VALUE,
    NUCLEOTIDES,
    PLACES_ON_CONTIG,
    AuxValue,
)

BAM_TYPES = "cCsSiIfAZHB"
"""The BAM type letters of aux values (SAM 1.6, 4.2.4): BAM stores a SAM ``i`` value in the
smallest of c, C, s, S, i and I that holds it."""
BAM_INTEGER_RANGES = {"c": (-(1 << 7), (1 << 7) - 1), "C": (0, (1 << 8) - 1), "s": (-(1 << 15), (1 << 15) - 1),
                      "S": (0, (1 << 16) - 1), "i": (-(1 << 31), (1 << 31) - 1), "I": (0, (1 << 32) - 1)}  # fmt: skip
INTEGER_TYPE = np.zeros(256, dtype=bool)
INTEGER_TYPE[list(b"cCsSiI")] = True
TYPE_SLOT = np.full(256, len(BAM_TYPES), dtype=np.int64)
TYPE_SLOT[list(BAM_TYPES.encode())] = np.arange(len(BAM_TYPES))
SLOTS = len(BAM_TYPES) + 1
NOT_CHECKED, OFF_GRAMMAR = -1, 0
"""Rule numbers: a tag the audit does not check the value of (not allowlisted: its name is the
finding; or allowed by ``--allow-tag``), and a type its tag may not have."""
MD_LETTERS = np.zeros(256, dtype=bool)
MD_LETTERS[list(NUCLEOTIDES.encode())] = True
SPACE, HYPHEN = ord(" "), ord("-")
CIGAR_OPERATIONS = np.zeros(256, dtype=bool)
CIGAR_OPERATIONS[list(CIGAR_OPERATION_TEXT.encode())] = True
NO_SPACE = np.ones(256, dtype=bool)
NO_SPACE[SPACE] = False
NO_HYPHEN = np.ones(256, dtype=bool)
NO_HYPHEN[HYPHEN] = False


FEW_READ_GROUPS = 64
"""Up to this many @RG IDs, each RG:Z value is compared with them in one C pass (a 303k-record
chunk: 3 ms against 32 for a bytes object a value); more, and each distinct value is looked up."""


class Records(Protocol):
    """The fields of a block of BAM records the value checks read (``audit_bam.RecordBlock``)."""

    buffer: bytes
    data: np.ndarray
    offsets: np.ndarray
    ref_id: np.ndarray
    pos: np.ndarray
    sequence_lengths: np.ndarray
    reference_lengths: np.ndarray
    cigar_starts: np.ndarray
    cigar_counts: np.ndarray
    next_ref_id: np.ndarray
    next_pos: np.ndarray


def byte_table(characters: str) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    table[list(characters.encode())] = True
    return table


@dataclass(frozen=True)
class Rule:
    """One ``AuxValue`` of one tag, with its tables made once."""

    tag: str
    value: AuxValue
    characters: np.ndarray
    pattern: re.Pattern[bytes] | None
    entry: re.Pattern[bytes] | None
    """One entry of an alignment list (``ALIGNMENT_ENTRIES``), for the names and numbers it holds."""


class AuxValueChecks:
    """The grammar of every allowlisted tag, as lookup tables by tag code and BAM type.

    ``references`` are the header's ``(name, length)`` pairs and ``read_groups`` its @RG
    IDs: the names a value may use. ``unchecked`` are tags allowed by ``--allow-tag``,
    whose values the scrubber keeps by the SAM grammar alone (``--keep-tag``)."""

    def __init__(self, references: Iterable[tuple[str, int]], read_groups: Iterable[bytes], unchecked: Iterable[str] = ()) -> None:
        self.lengths: Mapping[bytes, int] = {name.encode(): length for name, length in references}
        self.contig_lengths = np.array(list(self.lengths.values()), dtype=np.int64)
        """Each contig's LN by reference id: where a mate's alignment (``MC``) must end."""
        self.read_groups = frozenset(read_groups)
        self.few_read_groups = sorted(self.read_groups) if len(self.read_groups) <= FEW_READ_GROUPS else None
        self.rules: list[Rule | None] = [None]  # OFF_GRAMMAR
        self.rule_of = np.full((1 << 16) * SLOTS, NOT_CHECKED, dtype=np.int16)
        skipped = set(unchecked)
        for tag in sorted(AUX_TAGS - skipped):
            code = (ord(tag[0]) << 8) | ord(tag[1])
            self.rule_of[code * SLOTS : (code + 1) * SLOTS] = OFF_GRAMMAR
            for value in AUX_VALUES[tag]:
                pattern = re.compile(value.pattern.encode()) if value.pattern is not None else None
                entry = re.compile(ALIGNMENT_ENTRIES[tag].encode()) if value.tie == "alignments" else None
                for bam_type in BAM_INTEGER_RANGES if value.type == "i" else value.type:
                    low, high = BAM_INTEGER_RANGES.get(bam_type, (0, 0))
                    always = value.type == "i" and value.low <= low and high <= value.high  # a C value is always a valid count
                    self.rule_of[code * SLOTS + BAM_TYPES.index(bam_type)] = NOT_CHECKED if always else len(self.rules)
                self.rules.append(Rule(tag, value, byte_table(value.characters), pattern, entry))
        self.tag_codes = {tag: (ord(tag[0]) << 8) | ord(tag[1]) for tag in AUX_TAGS}
        self.place_codes = np.zeros(1 << 16, dtype=bool)
        self.place_codes[[self.tag_codes[tag] for tag in sorted(PLACES_ON_CONTIG - skipped)]] = True
        """By tag code, ``OP`` and ``CP``: positions held to their record's contig (``places_within_contig``)."""
        # By rule number, with one more entry at the end for NOT_CHECKED (-1): integer rules and their
        # ranges, checked together; the other rules, one at a time.
        values = [rule.value if rule is not None else None for rule in self.rules] + [None]
        self.numeric = np.array([value is not None and value.type == "i" for value in values])
        self.other = np.array([value is not None and value.type != "i" for value in values])
        self.low = np.array([int(value.low) if value is not None and value.type == "i" else 0 for value in values], dtype=np.int64)
        self.high = np.array([int(value.high) if value is not None and value.type == "i" else 0 for value in values], dtype=np.int64)

    def off_grammar(self, block: Records, records: np.ndarray, codes: np.ndarray, types: np.ndarray, starts: np.ndarray,
                    ends: np.ndarray) -> np.ndarray:  # fmt: skip
        """For each aux field of ``block`` (its record, code, BAM type and value span): is its
        value off its tag's grammar? Integer values are checked together, the others rule by rule."""
        rule_ids = self.rule_of[codes * SLOTS + TYPE_SLOT[types]]
        off = rule_ids == OFF_GRAMMAR
        numeric = np.flatnonzero(self.numeric[rule_ids])  # one pass for every integer tag (most of them)
        if len(numeric):
            numbers = integers(block.data, types[numeric], starts[numeric])
            numeric_rules = rule_ids[numeric]
            off[numeric] = (numbers < self.low[numeric_rules]) | (numbers > self.high[numeric_rules])
        placed = np.flatnonzero(self.place_codes[codes] & INTEGER_TYPE[types] & ~off)
        if len(placed):  # of any integer type: a C or S value is within POSITION's range without a look
            numbers = integers(block.data, types[placed], starts[placed])
            off[placed] = ~places_within_contig(block, records[placed], numbers, self.contig_lengths)
        others = np.flatnonzero(self.other[rule_ids])
        if not len(others):
            return off
        other_rules = rule_ids[others]
        by_rule = others[np.argsort(other_rules, kind="stable")]  # each rule's fields one slice, in file order
        counts = np.bincount(other_rules, minlength=len(self.rules))
        ends_of = np.cumsum(counts)
        motifs = []
        for rule_id in np.flatnonzero(counts).tolist():
            rule = self.rules[rule_id]
            assert rule is not None
            fields = by_rule[int(ends_of[rule_id] - counts[rule_id]) : int(ends_of[rule_id])]
            fits = self.fits(rule, block, records[fields], types[fields], starts[fields], ends[fields], records, codes, starts, ends)
            off[fields] = ~fits
            if rule.value.tie in ("junctions", "vG"):
                motifs.append((rule.value.tie, fields))
        for tie, fields in motifs:  # held to the jI and vG verdicts, all given by now
            if tie == "vG":
                off[fields] |= ~variants_agree(block, fields, records, codes, types, starts, ends, off)
            else:
                off[fields] |= ~motifs_agree(block, fields, records, codes, types, starts, ends, off, self.contig_lengths)
        return off

    def fits(self, rule: Rule, block: Records, rows: np.ndarray, types: np.ndarray, starts: np.ndarray, ends: np.ndarray,
             all_records: np.ndarray, all_codes: np.ndarray, all_starts: np.ndarray, all_ends: np.ndarray) -> np.ndarray:  # fmt: skip
        """Which of these values (one rule's, of records ``rows``) fit the rule."""
        value = rule.value
        data = block.data
        if value.type == "i":
            numbers = integers(data, types, starts)
            return (numbers >= value.low) & (numbers <= value.high)
        if value.type == "f":
            numbers = floats(data, starts)
            with np.errstate(invalid="ignore"):
                return np.isfinite(numbers) & (numbers >= value.low) & (numbers <= value.high)
        if value.type == "A":
            return rule.characters[data[starts]]
        if value.type == "B":
            ok = byte_table(value.subtypes)[data[starts]]
            if value.elements:
                ok &= elements_among(data, starts, ends, value.elements)
            if value.tie in ALIGNMENT_TIES:
                placed = (all_records, all_codes, all_starts, all_ends, self.contig_lengths)
                ok &= alignments_agree(value.tie, block, rows, starts, ends, *placed)
            elif value.tie in ("junctions", "vG"):
                pass  # against the record's jI or vG, once its verdict is given (off_grammar: motifs_agree, variants_agree)
            elif tie := value.tie:
                ok &= calls_agree(block, rows, starts, ends, all_records, all_codes, all_starts, all_ends, self.tag_codes[tie])
            return ok
        tie = value.tie
        if tie == "cigar":  # the MD loop reads the grammar, bytes included
            return self.md_fits_cigar(block, rows, starts, ends)
        if value.pattern == CIGAR_VALUE:  # one C pass over CIGAR strings, the commonest text values
            # -1 off the grammar whatever is summed: MC's sum is the reference bases its mate spans
            summed = SPANNING_OPERATIONS if rule.tag == "MC" else CIGAR_OPERATIONS
            described = np.asarray(scan.cigar_lengths(block.buffer, starts, ends, CIGAR_OPERATIONS, summed), dtype=np.int64)
            if tie == "aligned cigar":  # minimap2's cg: the record's CIGAR, or one of its lengths
                return (described >= 0) & cigar_lengths_agree(tie, block, rows, starts, ends)
            ok = (described >= 0) | ((ends - starts == 1) & (data[starts] == ord("*")))
            return ok & mates_within_contig(block, rows, described, self.contig_lengths) if rule.tag == "MC" else ok
        if tie == "read group":  # a name of the header: compared in C when they are few, else one look-up a distinct value
            if self.few_read_groups is not None:
                return np.asarray(scan.span_choices(block.buffer, starts, ends, self.few_read_groups), dtype=np.int64) >= 0
            return self.distinct_fit(rule, block.buffer, starts, ends)
        ok = np.asarray(scan.spans_within(data, starts, ends, rule.characters), dtype=bool)
        lengths = ends - starts
        if value.longest:
            ok &= lengths <= value.longest
        if tie == "seq":
            ok &= (lengths == block.sequence_lengths[rows]) & (lengths > 0)
        elif len(tie) == 2:
            ok &= partner_agrees(data, rows, starts, ends, all_records, all_codes, all_starts, all_ends, self.tag_codes[tie])
        if rule.pattern is not None or tie in ("reference", "alignments"):
            candidates = np.flatnonzero(ok)
            ok[candidates] = self.distinct_fit(rule, block.buffer, starts[candidates], ends[candidates])
        if tie == "differences":
            candidates = np.flatnonzero(ok)
            ok[candidates] = cigar_lengths_agree(tie, block, rows[candidates], starts[candidates], ends[candidates])
        if tie == "alignments":
            candidates = np.flatnonzero(ok)
            ok[candidates] = entries_within_reads(block, rows[candidates], starts[candidates], ends[candidates])
        if tie == "modified bases":
            candidates = np.flatnonzero(ok)
            sequences = block.sequence_lengths[rows[candidates]]
            ok[candidates] = modified_bases_within(block.buffer, starts[candidates], ends[candidates], sequences)
        return ok

    def distinct_fit(self, rule: Rule, buffer: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """``text_fits`` of each span, asked once for each distinct value (a chunk holds few)."""
        values = scan.span_list(buffer, starts, ends)
        verdicts = {text: self.text_fits(rule, text) for text in set(values)}
        if all(verdicts.values()):
            return np.ones(len(values), dtype=bool)
        return np.fromiter(map(verdicts.__getitem__, values), dtype=bool, count=len(values))

    def text_fits(self, rule: Rule, text: bytes) -> bool:
        """One distinct text value against its pattern and its names (the byte class passed)."""
        tie = rule.value.tie
        if tie == "reference":
            return text == b"=" or text in self.lengths
        if tie == "read group":
            return text in self.read_groups
        assert rule.pattern is not None
        if rule.pattern.fullmatch(text) is None:
            return False
        if tie == "alignments":
            return self.alignments_fit(rule, text)
        return True

    def alignments_fit(self, rule: Rule, text: bytes) -> bool:
        """Each entry of an alignment list names an @SQ of the header, at a position within it
        (OA's ``*,0``: an unmapped original), with a mapping quality of at most 255."""
        entry = rule.entry
        if entry is None or not text.endswith(b";"):
            return True  # XA's other form (TMAP's algorithm name) has no entries
        for part in text[:-1].split(b";"):
            match = entry.fullmatch(part)
            if match is None:
                return False
            groups = match.groupdict()
            name, position = groups["name"], int(groups["pos"])
            if rule.tag == "OA" and name == b"*":
                if position != 0:
                    return False
            elif not 1 <= position <= self.lengths.get(name, 0):
                return False
            if groups.get("mapq") is not None and int(groups["mapq"]) > 255:
                return False
            if groups.get("cigar") is not None and laid_length(groups["cigar"], b"MDN=X") > self.lengths.get(name, 0):
                return False  # 19900101M on a contig of 2000 bases
        return True

    def md_fits_cigar(self, block: Records, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """MD strings on the MD grammar that describe as many reference bases as their CIGAR's
        M, D, = and X operations: compared with the record's reference length first (which also
        counts N), then, for the few records where those differ, with the CIGAR read again."""
        described = np.asarray(scan.md_lengths(block.buffer, starts, ends, MD_LETTERS), dtype=np.int64)
        ok = (described >= 0) & (described == block.reference_lengths[rows])
        for index in np.flatnonzero((described >= 0) & ~ok).tolist():
            row = int(rows[index])
            start, count = int(block.cigar_starts[row]), int(block.cigar_counts[row])
            words = np.frombuffer(block.buffer[start : start + 4 * count], dtype="<u4").astype(np.int64)
            aligned = np.isin(words & 0xF, (0, 2, 7, 8))  # M, D, =, X (not N: skipped introns have no MD)
            ok[index] = count > 0 and int((words >> 4)[aligned].sum()) == int(described[index])
        return ok


def integers(data: np.ndarray, types: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The integer at each start, of its BAM type (little-endian, SAM 1.6, 4.2.4). Most are
    one unsigned byte (C), read as such; the others are assembled from their bytes."""
    numbers = data[starts].astype(np.int64)
    wider = np.flatnonzero(types != ord("C"))
    if not len(wider):
        return numbers
    kinds, at = types[wider], starts[wider]
    last = len(data) - 1
    octets = [data[np.minimum(at + shift, last)].astype(np.int64) for shift in range(4)]
    unsigned = octets[0] | (octets[1] << 8) | (octets[2] << 16) | (octets[3] << 24)
    half = octets[0] | (octets[1] << 8)
    wide = np.where(kinds == ord("c"), (octets[0] ^ 0x80) - 0x80, unsigned)
    wide = np.where(kinds == ord("S"), half, wide)
    wide = np.where(kinds == ord("s"), (half ^ 0x8000) - 0x8000, wide)
    numbers[wider] = np.where(kinds == ord("i"), (unsigned ^ 0x80000000) - 0x80000000, wide)
    return numbers


def floats(data: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The float32 at each start."""
    gathered = data[starts[:, None] + np.arange(4)]
    return np.ascontiguousarray(gathered).view("<f4").ravel().astype(np.float64)


def partner_agrees(data: np.ndarray, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, all_records: np.ndarray,
                   all_codes: np.ndarray, all_starts: np.ndarray, all_ends: np.ndarray, partner_code: int) -> np.ndarray:  # fmt: skip
    """Barcode qualities against their bases (SAMtags, Barcodes): the record has the partner
    tag once, as long as the value, with a space in the value exactly where the partner has
    a ``-``. Lengths in bulk; the few values with a space or a ``-`` byte by byte."""
    partners = np.flatnonzero(all_codes == partner_code)
    if not len(partners):
        return np.zeros(len(rows), dtype=bool)
    record_count = int(max(int(all_records.max()), int(rows.max()))) + 1
    given = np.bincount(all_records[partners], minlength=record_count)
    partner_start = np.full(record_count, -1, dtype=np.int64)
    partner_end = np.full(record_count, -1, dtype=np.int64)
    partner_start[all_records[partners]] = all_starts[partners]
    partner_end[all_records[partners]] = all_ends[partners]
    ok = (given[rows] == 1) & (ends - starts == partner_end[rows] - partner_start[rows])
    paired = np.flatnonzero(ok)
    spaced = ~np.asarray(scan.spans_within(data, starts[paired], ends[paired], NO_SPACE), dtype=bool)
    spaced |= ~np.asarray(scan.spans_within(data, partner_start[rows[paired]], partner_end[rows[paired]], NO_HYPHEN), dtype=bool)
    for index in paired[spaced].tolist():
        value = data[starts[index] : ends[index]]
        partner = data[partner_start[rows[index]] : partner_end[rows[index]]]
        ok[index] = bool(((value == SPACE) == (partner == HYPHEN)).all())
    return ok


MODIFICATION_ENTRY = re.compile(rb"[ACGTUN][-+]([mhfcgeboan]+|[ACGTUN]|[0-9]{1,7})[.?]?((?:,[0-9]{1,10})*);")
"""One entry of an ``MM`` value (its grammar in ``AUX_VALUES``): its modification codes, then the
skips of the bases it calls."""


def modification_calls(text: bytes) -> int:
    """How many likelihoods an ``ML`` array gives for this ``MM`` value (SAMtags, Base
    modifications): the bases each entry calls (one skip each), times the entry's codes
    (``C+mh`` calls two modifications at each base; a ChEBI number or a base is one code).
    -1 for a value off the grammar."""
    calls, at = 0, 0
    while at < len(text):
        entry = MODIFICATION_ENTRY.match(text, at)
        if entry is None:
            return -1
        codes, skips = entry.groups()
        calls += skips.count(b",") * (len(codes) if codes.islower() else 1)
        at = entry.end()
    return calls


def elements_among(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, elements: frozenset[int]) -> np.ndarray:
    """B arrays of one-byte numbers (c or C; 5 bytes of subtype and count, then a byte a number)
    whose every number is one of ``elements``, read as the subtype at ``starts`` says: one byte
    class a subtype, over the numbers' bytes."""
    ok = np.zeros(len(starts), dtype=bool)
    for subtype, low, high in (("C", 0, 255), ("c", -128, 127)):
        table = np.zeros(256, dtype=bool)
        table[[number & 0xFF for number in elements if low <= number <= high]] = True
        rows = np.flatnonzero(data[starts] == ord(subtype))
        ok[rows] = np.asarray(scan.spans_within(data, starts[rows] + 5, ends[rows], table), dtype=bool)
    return ok


def modification_reach(text: bytes) -> int:
    """How far into SEQ an ``MM`` value on its grammar reaches: the most bases one entry skips
    and calls (each skip, then the base called); 0 for a value that calls none."""
    reach = 0
    for skips in MODIFICATION_ENTRY.findall(text):
        numbers = skips[1].split(b",")[1:]
        reach = max(reach, sum(map(int, numbers)) + len(numbers))
    return reach


def modifications_within(text: bytes, reach: int, sequence_length: int) -> bool:
    """An ``MM`` value that reaches ``reach`` bases calls bases within a SEQ of that length
    (a record without SEQ, length 0 in BAM, calls none, not even an empty entry)."""
    return not text or (sequence_length > 0 and reach <= sequence_length)


ENTRY_CIGAR = re.compile(rb",((?:[0-9]{1,9}[MIDNSHPX=])+)(?=,)")
"""An alignment list entry's CIGAR: the one of its fields with operation letters."""
ENTRY_OPERATION = re.compile(rb"([0-9]+)([MIDNSHPX=])")
READ_CODES = (0, 1, 4, 5, 7, 8)
"""CIGAR operation codes that lay out the read, hard clips included: M, I, S, H, =, X."""


def laid_length(cigar: bytes, operations: bytes) -> int:
    """The summed lengths of ``operations`` of a CIGAR in text."""
    return sum(int(length) for length, letter in ENTRY_OPERATION.findall(cigar) if letter in operations)


def cigar_operations(block: Records, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The operations of each row's CIGAR (the one readers see), read from the BAM words at once:
    ``(counts a row, the row of each operation, its code, its length)``."""
    counts = block.cigar_counts[rows].astype(np.int64)
    firsts = block.cigar_starts[rows].astype(np.int64)
    owner = np.repeat(np.arange(len(rows)), counts)
    offsets = np.repeat(firsts - 4 * (np.cumsum(counts) - counts), counts) + 4 * np.arange(int(counts.sum()), dtype=np.int64)
    words = np.ascontiguousarray(block.data[offsets[:, None] + np.arange(4)]).view("<u4").ravel().astype(np.int64)
    return counts, owner, words & 0xF, words >> 4


def read_lengths(block: Records, rows: np.ndarray) -> np.ndarray:
    """Each record's whole read, as its alignment lists count it: SEQ and the hard clips of the
    CIGAR readers see; without SEQ (length 0) what that CIGAR lays out; -1 when neither tells."""
    counts, owner, codes, lengths = cigar_operations(block, rows)
    hard = np.bincount(owner, weights=np.where(codes == 5, lengths, 0), minlength=len(rows)).astype(np.int64)
    laid = np.bincount(owner, weights=np.where(np.isin(codes, READ_CODES), lengths, 0), minlength=len(rows)).astype(np.int64)
    sequences = block.sequence_lengths[rows].astype(np.int64)
    return np.where(sequences > 0, sequences + hard, np.where(counts > 0, laid, -1))


def entries_within_reads(block: Records, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Alignment lists (on their grammar) whose every entry's CIGAR lays out at most the record's
    whole read (``read_lengths``; a read of no known length, any): ``SA:Z:chr1,500,+,19900101M,60,0;``
    on a 10-base read is a number, not an alignment of it. Each distinct list's longest entry is
    read once."""
    values = scan.span_list(block.buffer, starts, ends)
    longest = {text: max((laid_length(cigar, b"MIS=XH") for cigar in ENTRY_CIGAR.findall(text)), default=0) for text in set(values)}
    laid = np.fromiter(map(longest.__getitem__, values), dtype=np.int64, count=len(values))
    lengths = read_lengths(block, rows)
    return (lengths < 0) | (laid <= lengths)


CS_OPERATIONS = np.zeros(256, dtype=bool)
CS_OPERATIONS[list(b":*+-=~")] = True
CS_DIGITS = np.zeros(256, dtype=bool)
CS_DIGITS[list(b"0123456789")] = True
CIGAR_READ_TABLE = byte_table("MI=X")
CIGAR_SPAN_TABLE = byte_table("MDN=X")


def record_aligned_lengths(block: Records, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The read bases each record's CIGAR (the one readers see) aligns (M, I, =, X) and the
    reference it spans (M, D, N, =, X); -1 both for a record without one."""
    counts, owner, codes, lengths = cigar_operations(block, rows)
    read = np.bincount(owner, weights=np.where(np.isin(codes, (0, 1, 7, 8)), lengths, 0), minlength=len(rows)).astype(np.int64)
    span = np.bincount(owner, weights=np.where(np.isin(codes, SPANNING_CODES), lengths, 0), minlength=len(rows)).astype(np.int64)
    return np.where(counts > 0, read, -1), np.where(counts > 0, span, -1)


def cs_lengths(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The read and reference bases of ``cs`` strings on their grammar (``:n`` n of both, ``*xy`` one
    of both, ``+seq`` read, ``-seq`` reference, ``=seq`` both, ``~xxNyy`` N of the reference), with
    arrays: minimap2 writes one on every read. Each byte belongs to the operation letter before it;
    an operation's number is its digits, each weighted by the digits after it."""
    if not len(starts):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    lengths = ends - starts
    where = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(int(lengths.sum()), dtype=np.int64)
    text = data[where]
    string_of = np.repeat(np.arange(len(starts)), lengths)
    letter = CS_OPERATIONS[text]
    heads = np.flatnonzero(letter)
    operation_of = np.cumsum(letter) - 1
    digit = CS_DIGITS[text]
    seen = np.cumsum(digit)
    tails = np.append(heads[1:], len(text)) - 1
    power = np.minimum(seen[tails][operation_of] - seen, 18)
    number = np.bincount(operation_of, weights=np.where(digit, (text.astype(np.int64) - 48) * 10**power, 0), minlength=len(heads))
    bases = np.bincount(operation_of, weights=(~digit & ~letter).astype(np.int64), minlength=len(heads))
    kind = text[heads]
    colon, star, plus, minus, equal, tilde = (kind == ord(byte) for byte in ":*+-=~")
    read = np.where(colon, number, 0) + star + np.where(plus | equal, bases, 0)
    reference = np.where(colon | tilde, number, 0) + star + np.where(minus | equal, bases, 0)
    owner = string_of[heads]
    return (
        np.bincount(owner, weights=read, minlength=len(starts)).astype(np.int64),
        np.bincount(owner, weights=reference, minlength=len(starts)).astype(np.int64),
    )


def cigar_lengths_agree(tie: str, block: Records, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """minimap2's ``cs`` (``tie`` ``differences``) or ``cg`` (``aligned cigar``), on their grammar,
    against their record's CIGAR: as many read bases as it aligns and reference bases as it spans.
    Without a CIGAR they describe no alignment of the read: a free number (``cs:Z::19900101``,
    ``cg:Z:19900101M`` on a ``10M`` read)."""
    read, span = record_aligned_lengths(block, rows)
    if tie == "differences":
        value_read, value_span = cs_lengths(block.data, starts, ends)
    else:
        value_read = np.asarray(scan.cigar_lengths(block.buffer, starts, ends, CIGAR_OPERATIONS, CIGAR_READ_TABLE), dtype=np.int64)
        value_span = np.asarray(scan.cigar_lengths(block.buffer, starts, ends, CIGAR_OPERATIONS, CIGAR_SPAN_TABLE), dtype=np.int64)
    return (read >= 0) & (value_read == read) & (value_span == span)


def modified_bases_within(buffer: bytes, starts: np.ndarray, ends: np.ndarray, sequence_lengths: np.ndarray) -> np.ndarray:
    """``MM`` values (on their grammar) that call bases within SEQ: a skip count past its end
    is a number the read cannot hold (``C+m,19900101;``), and a record without SEQ (length 0
    in BAM) calls none, not even an empty entry (``C+m;``)."""
    values = scan.span_list(buffer, starts, ends)
    reach = {text: modification_reach(text) for text in set(values)}
    within = (modifications_within(text, reach[text], length) for text, length in zip(values, sequence_lengths.tolist(), strict=True))
    return np.fromiter(within, dtype=bool, count=len(values))


def calls_agree(block: Records, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, all_records: np.ndarray,
                all_codes: np.ndarray, all_starts: np.ndarray, all_ends: np.ndarray, partner_code: int) -> np.ndarray:  # fmt: skip
    """Base modification likelihoods (``ML``, an array of C numbers: 5 bytes of subtype and
    count, then a byte a number) against their ``MM``: the record has it once, on its grammar
    and within SEQ (as its own check wants it), and it calls as many modifications as the array
    has numbers. Without it the array is free bytes. One value at a time: only long reads carry
    them, one array a read."""
    partners = np.flatnonzero(all_codes == partner_code)
    ok = np.zeros(len(rows), dtype=bool)
    if not len(partners):
        return ok
    given: dict[int, int] = {}
    for partner in partners.tolist():
        record = int(all_records[partner])
        given[record] = -1 if record in given else partner
    for index, row in enumerate(rows.tolist()):
        partner = given.get(row, -1)
        if partner >= 0:
            text = block.buffer[int(all_starts[partner]) : int(all_ends[partner])]
            within = modifications_within(text, modification_reach(text), int(block.sequence_lengths[row]))
            ok[index] = within and modification_calls(text) == int(ends[index] - starts[index]) - 5
    return ok


ALIGNMENT_TIES = ("introns", "span")
MATE_CIGAR_CODE = (ord("M") << 8) | ord("C")
MATE_CIGAR_TEXT = re.compile(rb"(?:[0-9]+[MIDNSHP=X])+")
MATE_CIGAR_OPERATION = re.compile(rb"([0-9]+)([MIDNSHP=X])")
BAM_CIGAR_LETTERS = "MIDNSHP=X"
"""The CIGAR operations in the order of their BAM codes, 0 to 8."""
SPANNING_CODES = (0, 2, 3, 7, 8)
"""CIGAR operation codes that consume reference bases: M, D, N, =, X (SAM 1.6, 1.4.6)."""
ARRAY_FORMATS = {ord("i"): "<i4", ord("I"): "<u4"}


def alignments_agree(tie: str, block: Records, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, all_records: np.ndarray,
                     all_codes: np.ndarray, all_starts: np.ndarray, all_ends: np.ndarray, lengths: np.ndarray) -> np.ndarray:  # fmt: skip
    """STAR's ``jI`` (``tie`` ``introns``) and ``vG`` (``span``) against the alignments they can
    describe: the record's own (POS and the CIGAR readers see) and its mate's (``MC``, given once,
    from PNEXT, where the mate lies on the record's contig). A ``jI`` is ``-1`` or ascending
    distinct pairs, each the first and last base (1-based) of one of their skips; a ``vG`` holds
    ascending positions, each within one of the two alignments. Free numbers there could spell a
    name (``jI:B:i,75,73,77,...``). One value at a time: most ``jI`` of a STAR file are ``-1``,
    settled at once."""
    ok = np.zeros(len(rows), dtype=bool)
    buffer, data = block.buffer, block.data
    counts = np.frombuffer(data[(starts[:, None] + np.arange(1, 5)).ravel()].tobytes(), dtype="<u4") if len(rows) else np.zeros(0)
    if tie == "introns":  # i,-1: one element of subtype i, all bits set
        last = data[np.minimum(starts + 5, len(data) - 1)] if len(data) else np.zeros(0, dtype=np.uint8)
        ok = (counts == 1) & (data[starts] == ord("i")) & (ends - starts == 9) & (last == 0xFF)
        ok[ok] = [buffer[start + 5 : start + 9] == b"\xff\xff\xff\xff" for start in starts[ok].tolist()]
    mates = mate_cigar_fields(all_records, all_codes)
    integers = np.isin(data[starts], list(ARRAY_FORMATS)) & (ends - starts == 5 + 4 * counts.astype(np.int64))
    for index in np.flatnonzero(~ok & integers).tolist():
        row, start = int(rows[index]), int(starts[index])
        numbers = np.frombuffer(buffer, dtype=ARRAY_FORMATS[buffer[start]], count=int(counts[index]), offset=start + 5).tolist()
        placed = placed_alignments(block, row, mates, all_starts, all_ends, lengths)
        if tie == "introns":
            pairs = list(zip(numbers[::2], numbers[1::2], strict=False))
            skips = {skip for _, _, found in placed for skip in found}
            ok[index] = numbers == [-1] or (len(numbers) % 2 == 0 and pairs == sorted(set(pairs)) and all(pair in skips for pair in pairs))
        else:
            ok[index] = numbers == sorted(numbers) and all(any(first <= number <= last for first, last, _ in placed) for number in numbers)
    return ok


def mate_cigar_fields(all_records: np.ndarray, all_codes: np.ndarray) -> dict[int, int]:
    """Each record's ``MC`` field, by record: -1 for a record that has two (which is its mate's CIGAR?)."""
    mates: dict[int, int] = {}
    for tag in np.flatnonzero(all_codes == MATE_CIGAR_CODE).tolist():
        record = int(all_records[tag])
        mates[record] = -1 if record in mates else tag
    return mates


def placed_alignments(
    block: Records, row: int, mates: dict[int, int], all_starts: np.ndarray, all_ends: np.ndarray, lengths: np.ndarray
) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """A record's alignment and its mate's (``MC``, given once, from PNEXT), those that lie somewhere:
    each one's first and last reference base and its skips."""
    alignments = [own_alignment(block, row)]
    mate = mates.get(row, -1)
    if mate >= 0:
        alignments.append(mate_alignment(block, row, block.buffer[int(all_starts[mate]) : int(all_ends[mate])], lengths))
    return [found for found in alignments if found is not None]


INTRONS_CODE = (ord("j") << 8) | ord("I")
NO_MOTIF = 0xFF
"""-1 as a ``c`` number: STAR's ``jM`` of no junction."""
SOME_MOTIF = np.ones(256, dtype=bool)
SOME_MOTIF[NO_MOTIF] = False


def motifs_agree(block: Records, fields: np.ndarray, records: np.ndarray, codes: np.ndarray, types: np.ndarray, starts: np.ndarray,
                 ends: np.ndarray, off: np.ndarray, lengths: np.ndarray) -> np.ndarray:  # fmt: skip
    """STAR's ``jM`` (``fields``, their subtype and codes checked) against the junctions it gives a
    motif for: STAR writes one for each junction of the pair, in ``jI``'s order, and ``-1`` alone
    when there is none. With the record's ``jI`` (its first copy, a ``B`` array its rule passed:
    ``off`` holds its verdict), one motif for each of its pairs, or ``-1`` alone for its ``-1``;
    without one, ``-1`` alone or at most one motif for each skip of the record's CIGAR and its
    mate's (``MC``, as ``jI`` is read). A motif beyond the junctions is a free number
    (``jM:B:c,2,0,0,1,0,6,1,5`` spells 20010615 on a read with no skip). Most records carry ``c,-1``
    beside ``i,-1``, or a ``jM`` and ``jI`` of as many junctions: settled with arrays; only a
    ``jM`` without a valid ``jI`` is laid on its alignments, one at a time."""
    data = block.data
    last = len(data) - 1
    rows, at, to = records[fields], starts[fields], ends[fields]

    def array_lengths(where: np.ndarray) -> np.ndarray:
        gathered = data[np.minimum(where[:, None] + np.arange(1, 5), last)]
        return np.ascontiguousarray(gathered).view("<u4").ravel().astype(np.int64)

    motifs = array_lengths(at)
    plain = (motifs == 1) & (data[np.minimum(at + 5, last)] == NO_MOTIF)
    some = np.asarray(scan.spans_within(data, at + 5, to, SOME_MOTIF), dtype=bool)  # no -1 among them
    named = np.flatnonzero(codes == INTRONS_CODE)
    introns = named[np.unique(records[named], return_index=True)[1]]  # each record's first copy, as readers take it
    introns = introns[(types[introns] == ord("B")) & ~off[introns]]
    junctions = np.full(len(rows), -1, dtype=np.int64)  # -1: no valid jI; else its numbers' count
    if len(introns):
        where = np.minimum(np.searchsorted(records[introns], rows), len(introns) - 1)
        paired = records[introns][where] == rows
        junctions[paired] = array_lengths(starts[introns[where[paired]]])
    ok = np.where(junctions == 1, plain, some & ~plain & (2 * motifs == junctions))  # a valid jI of one number is -1
    ok |= plain & (junctions < 0)
    alone = np.flatnonzero(some & (junctions < 0))
    mates = mate_cigar_fields(records, codes) if len(alone) else {}
    for index in alone.tolist():
        placed = placed_alignments(block, int(rows[index]), mates, starts, ends, lengths)
        ok[index] = int(motifs[index]) <= sum(len(skips) for _, _, skips in placed)
    return ok


VARIANTS_CODE = (ord("v") << 8) | ord("G")


def variants_agree(block: Records, fields: np.ndarray, records: np.ndarray, codes: np.ndarray, types: np.ndarray, starts: np.ndarray,
                   ends: np.ndarray, off: np.ndarray) -> np.ndarray:  # fmt: skip
    """STAR's ``vA`` (``fields``, their subtype and elements checked) against the ``vG`` it gives
    an allele for: STAR writes one allele for each variant position of ``vG``. So the record has
    one ``vG`` (a ``B`` array its rule passed: ``off`` holds its verdict) of as many numbers.
    Without it, or with more or fewer alleles, ``vA`` is free numbers of 1 to 3 (a base-3
    spelling of anything). Settled with arrays: counts are read from the BAM arrays' headers."""
    data = block.data
    last = len(data) - 1
    rows = records[fields]

    def array_lengths(where: np.ndarray) -> np.ndarray:
        gathered = data[np.minimum(where[:, None] + np.arange(1, 5), last)]
        return np.ascontiguousarray(gathered).view("<u4").ravel().astype(np.int64)

    named = np.flatnonzero(codes == VARIANTS_CODE)
    given = np.bincount(records[named], minlength=int(records.max()) + 1 if len(records) else 0)
    named = named[(given[records[named]] == 1) & (types[named] == ord("B")) & ~off[named]]
    ok = np.zeros(len(rows), dtype=bool)
    if not len(named) or not len(rows):
        return ok
    where = np.minimum(np.searchsorted(records[named], rows), len(named) - 1)
    paired = records[named][where] == rows
    ok[paired] = array_lengths(starts[fields[paired]]) == array_lengths(starts[named[where[paired]]])
    return ok


def own_alignment(block: Records, row: int) -> tuple[int, int, list[tuple[int, int]]] | None:
    """A record's first and last reference base (1-based) and its skips' first and last bases, by
    the CIGAR readers see; None unplaced, without a CIGAR or with an operation off the grammar."""
    position, count = int(block.pos[row]), int(block.cigar_counts[row])
    if position < 0 or count == 0:
        return None
    start = int(block.cigar_starts[row])
    words = np.frombuffer(block.buffer, dtype="<u4", count=count, offset=start).tolist()
    return laid_skips(position + 1, [(word & 0xF, word >> 4) for word in words])


def mate_alignment(block: Records, row: int, mate_cigar: bytes, lengths: np.ndarray) -> tuple[int, int, list[tuple[int, int]]] | None:
    """The mate's place as the record gives it: ``MC`` from PNEXT, where RNEXT is the record's contig
    (``lengths``: each contig's LN), and the mate's alignment ends there (else ``MC`` is a finding)."""
    offset = int(block.offsets[row])
    next_ref, next_pos = np.frombuffer(block.buffer, dtype="<i4", count=2, offset=offset + 24).tolist()
    placed = next_ref == int(block.ref_id[row]) and next_ref >= 0 and next_pos >= 0 and int(block.pos[row]) >= 0
    if not placed or MATE_CIGAR_TEXT.fullmatch(mate_cigar) is None:
        return None
    operations = [(BAM_CIGAR_LETTERS.index(letter.decode()), int(length)) for length, letter in MATE_CIGAR_OPERATION.findall(mate_cigar)]
    laid = laid_skips(next_pos + 1, operations)
    return laid if laid is not None and (next_ref >= len(lengths) or laid[1] <= int(lengths[next_ref])) else None


SPANNING_OPERATIONS = byte_table("MDN=X")
"""The CIGAR letters that consume reference bases, as a table."""


def places_within_contig(block: Records, rows: np.ndarray, numbers: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """For each ``OP`` or ``CP`` value (``numbers``, of records ``rows``): is it at most twice the LN of
    the record's contig (the longest for none) and its read (SEQ's length), the bound POS is held to?
    ``OP:i:19900101`` on a contig of 5,000 is not; sam-scrub-rg removes such a value."""
    ref_ids = block.ref_id[rows]
    known = (ref_ids >= 0) & (ref_ids < len(lengths))
    longest = int(lengths.max()) if len(lengths) else 0
    length = np.where(known, lengths[np.where(known, ref_ids, 0)] if len(lengths) else 0, longest)
    return (numbers >= 0) & (numbers <= 2 * length + block.sequence_lengths[rows].astype(np.int64))


def mates_within_contig(block: Records, rows: np.ndarray, spanned: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """For each ``MC`` value (of records ``rows``; ``spanned``: the reference bases its CIGAR
    spans, -1 off the grammar): does the mate's alignment, from PNEXT on RNEXT's contig, end
    within it (LN)? A mate placed nowhere (RNEXT ``*`` or PNEXT 0) is within; the scrubbers
    remove an ``MC`` past the end (its CIGAR's skips are free numbers: ``5M19900101N5M``)."""
    next_ref_id, next_pos = block.next_ref_id[rows], block.next_pos[rows]
    known = (next_ref_id >= 0) & (next_ref_id < len(lengths))
    length = np.where(known, lengths[np.where(known, next_ref_id, 0)] if len(lengths) else 0, -1)
    return (length < 0) | (next_pos < 0) | (spanned < 0) | (next_pos + spanned <= length)


def laid_skips(first: int, operations: list[tuple[int, int]]) -> tuple[int, int, list[tuple[int, int]]] | None:
    """From the first base and ``(code, length)`` operations: the last base and the skips."""
    if any(code > 8 for code, _ in operations):
        return None
    at = first
    skips: list[tuple[int, int]] = []
    for code, length in operations:
        if code == 3:
            skips.append((at, at + length - 1))
        if code in SPANNING_CODES:
            at += length
    return first, at - 1, skips


MANY_TAGS = 16
"""Records with more aux fields than this are compared field by field (a few, if any); the
others, every field with the ones before it in its record, as arrays."""


def repeated_fields(records: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Each aux field whose tag (``codes``: its two bytes, first << 8 | second) an earlier
    field of its record has (``records``: the record of each field, in file order).

    SAM allows a tag once a record (SAM 1.6, 1.5), yet htslib writes every copy it reads, and
    a reader takes the first (``bam_aux_get``): a second ``MC`` or ``NM`` is held to nothing
    and shown by no tool. The fields of a record lie together, so each is compared with the
    few before it, as whole arrays; only a record with more than ``MANY_TAGS`` is read alone.
    """
    repeated = np.zeros(len(codes), dtype=bool)
    if len(codes) < 2:
        return repeated
    per_record = np.bincount(records)
    for back in range(1, min(int(per_record.max()), MANY_TAGS)):
        repeated[back:] |= (codes[back:] == codes[:-back]) & (records[back:] == records[:-back])
    for record in np.flatnonzero(per_record > MANY_TAGS).tolist():
        first = int(np.searchsorted(records, record))
        seen: set[int] = set()
        for index, code in enumerate(codes[first : first + int(per_record[record])].tolist(), start=first):
            repeated[index] = code in seen
            seen.add(code)
    return repeated


def read_group_ids(header_text: bytes) -> list[bytes]:
    """The ``ID`` of each ``@RG`` line of a SAM header text."""
    found: list[bytes] = []
    for line in header_text.split(b"\n"):
        if line.startswith(b"@RG\t"):
            found.extend(field[3:] for field in line.split(b"\t")[1:] if field.startswith(b"ID:"))
    return found
