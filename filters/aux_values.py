"""What a kept aux tag may hold: one grammar per value, checked one at a time or a block at once.

The allowlist (``aux_tags.KEPT_TAGS``) says which tags may stay; the grammars here
say what each may hold, so a tool that wrote a sample name into ``XA:Z``, a path
into ``MD:Z`` or a patient's name into ``SA:Z`` loses that tag (never the record).
They follow the SAM tags specification (SAMtags, 2024) and the tools that write
the tags (bwa, Bowtie2, minimap2, STAR, fgbio, GATK/Picard).

Each grammar answers one question two ways that must agree:

- ``valid(value, seq_length, references)``: one value, for the one-record path;
  it is the reference;
- ``valid_spans(spans)``: every value of a block at once. Most records carry only
  ``MD``, ``MC``, ``NM``, ``AS``, ``XS``, with the commonest forms (``100``,
  ``100M``, ``0``): those are byte classes checked in bulk (``fields.spans_within``,
  the C loop) and numbers read in numpy; CIGAR and MD strings are read by their
  own C loops (``scan.cigar_lengths``, ``scan.md_lengths``); the less common forms
  of a block are checked by one regular-expression pass over them all, joined
  (``all_valid``), and read one by one only when that finds a value off the
  grammar. Grammars of the few complex values (``MM``, ...) call ``valid`` for
  each value; alignment lists (``SA``, ``XA``) are matched at once and their
  entries looked up together.

``seq_length`` is the length of the record's SEQ (-1 when SEQ is ``*``) and
``references`` the header's ``{SN: LN}``: the reference names a value may name.

A value can also be tied to the rest of its record (``Tie``): qualities to the
length of SEQ, ``MD`` to the reference length of the CIGAR, ``QX`` to ``RX``.
``aux_tags`` applies the ties; they are defined here with their one-value checks.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from genoscrub import scan
from genoscrub.cigar import CIGAR_OPERATION
from genoscrub.fields import distinct_spans, spans_within, windows

IUPAC = b"ACGTUNRYKMSWBDHV"
"""Nucleotide codes (IUPAC): the letters a sequence or a reference base may be."""
CIGAR_OPERATIONS = b"MIDNSHPX="
"""A CIGAR length or an MD run: at most 9 digits (BAM holds 28 bits, under 2^28)."""
INT_MIN, INT_MAX = -(1 << 31), (1 << 32) - 1
"""The range of an ``i`` value: what BAM can hold (int32 or uint32), as htslib reads it."""
FLOAT_MAX = 3.4028234663852886e38
"""The largest ``f`` value: a float32."""
FLOAT_ROUNDS_TO_INFINITY = 2.0**128 - 2.0**103
"""The smallest number a float32 cast makes infinite: below it, a text reads as at most
``FLOAT_MAX`` (its shortest form, ``3.4028235e+38``, is a little above it)."""
ARRAY_RANGES = {
    ord("c"): (-(1 << 7), (1 << 7) - 1),
    ord("C"): (0, (1 << 8) - 1),
    ord("s"): (-(1 << 15), (1 << 15) - 1),
    ord("S"): (0, (1 << 16) - 1),
    ord("i"): (-(1 << 31), (1 << 31) - 1),
    ord("I"): (0, (1 << 32) - 1),
}
"""The range of each integer element type of a ``B`` array."""
POWERS_OF_TEN = 10 ** np.arange(19, dtype=np.int64)


def byte_table(allowed: bytes) -> np.ndarray:
    """A 256-entry lookup table: True for the bytes of ``allowed``."""
    table = np.zeros(256, dtype=bool)
    table[list(allowed)] = True
    return table


def byte_range(first: str, last: str) -> bytes:
    return bytes(range(ord(first), ord(last) + 1))


DIGITS = b"0123456789"
DIGIT_TABLE = byte_table(DIGITS)
PRINTABLE = byte_range(" ", "~")
"""The SAM grammar of a ``Z`` value: printable ASCII and space."""
QUALITY = byte_range("!", "~")
"""A quality as QUAL holds it: Phred + 33, ``!`` to ``~``."""
SEQUENCE = IUPAC + IUPAC.lower() + b"=."
"""SEQ's alphabet (SAM 1.4: ``[A-Za-z=.]``) narrowed to nucleotide codes."""
BARCODE = IUPAC + b"-"
"""Barcode and UMI bases; a ``-`` between the barcodes of several reads (SAMtags, Barcodes)."""
BARCODE_LONGEST = 32
"""The most bytes a kept barcode (RX, OX, CR, UB, UR; CB before its ``-1``) may have: UMIs have 6
to 12 bases, cell barcodes 16, two barcodes of 8 to 10 with a ``-`` 21. A longer one may hold the
read's own bases (an STR allele masked in SEQ, a reverted germline allele): it goes."""


def span_values(text: bytes, starts: np.ndarray, ends: np.ndarray) -> list[bytes]:
    return scan.span_list(text, starts, ends)


@dataclass
class Spans:
    """The values of one grammar in a block: ``text[starts[i]:ends[i]]``, with each one's
    record's SEQ length (-1 for ``*``) and the header's references."""

    text: bytes
    data: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    seq_lengths: np.ndarray
    references: Mapping[bytes, int]

    def __len__(self) -> int:
        return len(self.starts)

    def values(self) -> Iterable[bytes]:
        return span_values(self.text, self.starts, self.ends)

    def subset(self, rows: np.ndarray) -> Spans:
        return Spans(self.text, self.data, self.starts[rows], self.ends[rows], self.seq_lengths[rows], self.references)


class Grammar:
    """What one value may be. ``label`` says it in the man page's words."""

    label = ""

    def valid(self, value: bytes, seq_length: int, references: Mapping[bytes, int]) -> bool:
        raise NotImplementedError

    def valid_spans(self, spans: Spans) -> np.ndarray:
        """Every value of ``spans`` at once; by default one at a time (the complex grammars)."""
        return one_at_a_time(self, spans)


def one_at_a_time(grammar: Grammar, spans: Spans) -> np.ndarray:
    seq_lengths = spans.seq_lengths.tolist()
    references = spans.references
    return np.fromiter(
        (grammar.valid(value, seq_length, references) for value, seq_length in zip(spans.values(), seq_lengths, strict=True)),
        dtype=bool,
        count=len(spans),
    )


# --- many spans at once ----------------------------------------------------------------


SEPARATORS = byte_table(b"\t\n")


def flat_positions(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where every byte of every span is (in order) and the span each belongs to."""
    lengths = ends - starts
    owner = np.repeat(np.arange(len(starts)), lengths)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()), dtype=np.int64), owner


def commas_of(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The commas of each span: the numbers of a ``B`` value."""
    positions, owner = flat_positions(starts, ends)
    return np.bincount(owner[data[positions] == ord(",")], minlength=len(starts))


def joined(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> bytes | None:
    """The spans one after the other, each with the tab or newline after it, as one bytes
    object for one regular-expression pass; None when a span is not followed by one (in
    a block of records every value is)."""
    if not len(starts):
        return b""
    if int(ends.max()) >= len(data) or not SEPARATORS[data[ends]].all():
        return None
    positions, _ = flat_positions(starts, ends + 1)
    return data[positions].tobytes()


def all_valid(block_pattern: re.Pattern[bytes], data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> bool:
    """Whether every span matches: ``block_pattern`` is ``(?:value[\\t\\n])*``, run once over them all."""
    text = joined(data, starts, ends)
    return text is not None and block_pattern.fullmatch(text) is not None


def values_block(pattern: bytes) -> re.Pattern[bytes]:
    return re.compile(rb"(?:" + pattern + rb"[\t\n])*")


# --- byte classes ------------------------------------------------------------------------


class Characters(Grammar):
    """Every byte from a set, ``shortest`` to ``longest`` bytes long."""

    def __init__(self, label: str, allowed: bytes, shortest: int = 0, longest: int | None = None) -> None:
        self.label = label
        self.allowed = allowed
        self.table = byte_table(allowed)
        self.shortest = shortest
        self.longest = longest

    def valid(self, value: bytes, seq_length: int, references: Mapping[bytes, int]) -> bool:
        if len(value) < self.shortest or (self.longest is not None and len(value) > self.longest):
            return False
        return not value.translate(None, self.allowed)

    def valid_spans(self, spans: Spans) -> np.ndarray:
        lengths = spans.ends - spans.starts
        ok = lengths >= self.shortest
        if self.longest is not None:
            ok &= lengths <= self.longest
        return ok & spans_within(spans.data, spans.text, spans.starts, spans.ends, self.table)


class OneOf(Grammar):
    """One value of a short list (an enumeration: ``YT`` ``UU``, ``CP``, ...)."""

    def __init__(self, label: str, values: Iterable[bytes]) -> None:
        self.label = label
        self.values = frozenset(values)
        self.width = max(map(len, self.values))
        assert self.width <= 7
        self.keys = np.array([self._key(value) for value in self.values], dtype=np.uint64)

    @staticmethod
    def _key(value: bytes) -> int:
        return int.from_bytes(value.ljust(7, b"\0"), "little") | (len(value) << 56)

    def valid(self, value: bytes, seq_length: int, references: Mapping[bytes, int]) -> bool:
        return value in self.values

    def valid_spans(self, spans: Spans) -> np.ndarray:
        lengths = spans.ends - spans.starts
        short = lengths <= self.width
        gathered = windows(spans.data, spans.starts, 8)
        gathered[np.arange(8) >= np.minimum(lengths, 8)[:, None]] = 0
        keys = gathered.view("<u8").ravel() & np.uint64((1 << 56) - 1)
        keys |= np.minimum(lengths, 255).astype(np.uint64) << np.uint64(56)
        return short & np.isin(keys, self.keys)


class Character(Grammar):
    """An ``A`` value: one character of a set (printable by default)."""

    def __init__(self, label: str, allowed: bytes = byte_range("!", "~")) -> None:
        self.label = label
        self.allowed = allowed
        self.table = byte_table(allowed)

    def valid(self, value: bytes, seq_length: int, references: Mapping[bytes, int]) -> bool:
        return len(value) == 1 and value[0] in self.allowed

    def valid_spans(self, spans: Spans) -> np.ndarray:
        lengths = spans.ends - spans.starts
        first = spans.data[np.minimum(spans.starts, len(spans.data) - 1)]
        return (lengths == 1) & self.table[first]


# --- numbers -----------------------------------------------------------------------------


INTEGER_TEXT = re.compile(rb"[-+]?[0-9]{1,10}")


class Integer(Grammar):
    """An ``i`` value: an optional sign and 1 to 10 digits, from ``low`` to ``high``; by default
    -2^31 to 2^32-1, what BAM holds. A tag whose values are counts, scores or qualities gets a
    narrower range (``aux_tags``), so it cannot carry a date or a record number."""

    def __init__(self, low: int = INT_MIN, high: int = INT_MAX, label: str = "integer, -2^31 to 2^32-1") -> None:
        self.low, self.high, self.label = low, high, label
        self.plain_digits = len(str(high)) - 1 if low <= 0 else 0
        """Digits a value may have and be valid by its bytes alone: below ``high`` whatever they are."""

    def valid(self, value: bytes, seq_length: int, references: Mapping[bytes, int]) -> bool:
        return INTEGER_TEXT.fullmatch(value) is not None and self.low <= int(value) <= self.high

    def valid_spans(self, spans: Spans) -> np.ndarray:
        """Most values are a few digits, fewer than ``high`` has: valid by their bytes. The others
        (signed, longer) are read."""
        starts, ends = spans.starts, spans.ends
        lengths = ends - starts
        ok = (lengths >= 1) & (lengths <= self.plain_digits) & spans_within(spans.data, spans.text, starts, ends, DIGIT_TABLE)
        rest = np.flatnonzero(~ok & (lengths >= 1) & (lengths <= 11))
        if len(rest):
            ok[rest] = one_at_a_time(self, spans.subset(rest))
        return ok


FLOAT_TEXT = re.compile(rb"[-+]?(?P<mantissa>[0-9]*\.?[0-9]+)(?:[eE][-+]?[0-9]{1,2})?")
"""The SAM spec's ``[-+]?[0-9]*\\.?[0-9]+([eE][-+]?[0-9]+)?`` with an exponent of at most 2 digits:
a float32 needs no more (printf writes ``1e-05``, Java ``1.0E-5``); ``1e-19900101`` is 0 to a
reader and a date to anyone who reads the text."""
FLOAT_DIGITS = 9
"""Significant digits a float32 carries (its shortest round-trip form, Java's, has at most 9;
htslib writes 6): a SAM text with more holds digits no BAM keeps (``0.9001011234567``)."""
FRACTION_DIGITS = 6
"""Significant digits of a divergence: htslib writes 6, minimap2 4 decimals. A date of 8 digits
(``19900101e-8``, ``0.19900101``) has more."""
LEADING_ZEROS = 7
"""Zeros a float may be written with before its first significant digit: printf's ``%f`` writes
``0.000000``; a longer run is padding, whose length can be a number."""
DECIMALS = values_block(rb"(?=[0-9.]{1,8}[\t\n])(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
"""Plain decimals of at most 8 characters (``0.0123``): always a float32 of at most 8 significant
digits and 7 leading zeros."""


def float_value(text: bytes, digits: int = FLOAT_DIGITS) -> float | None:
    """An ``f`` value as the SAM spec writes it (``FLOAT_TEXT``) with at most ``digits``
    significant digits (from the first that is not 0, trailing zeros included) and at most
    ``LEADING_ZEROS`` zeros before them, finite and within float32, or None."""
    match = FLOAT_TEXT.fullmatch(text)
    if match is None:
        return None
    written = match.group("mantissa").replace(b".", b"")
    significant = written.lstrip(b"0")
    if len(significant) > digits or len(written) - len(significant) > LEADING_ZEROS:
        return None
    number = float(text)
    return number if abs(number) < FLOAT_ROUNDS_TO_INFINITY else None


class Float(Grammar):
    """An ``f`` value. In bulk, a block of plain decimals (``0.0123``, what minimap2
    writes) is valid by one pattern; otherwise each value is read."""

    label = "float (float32, at most 9 significant digits)"

    def valid(self, value: bytes, seq_length: int, references: Mapping[bytes, int]) -> bool:
        return float_value(value) is not None

    def valid_spans(self, spans: Spans) -> np.ndarray:
        if all_valid(DECIMALS, spans.data, spans.starts, spans.ends):
            return np.ones(len(spans), dtype=bool)
        return one_at_a_time(self, spans)


FRACTIONS = values_block(rb"(?:0(?:\.[0-9]{1,6})?|1(?:\.0{1,5})?|\.[0-9]{1,6})")
"""Plain decimals from 0 to 1 of at most 6 significant digits (``0.0123``, ``1``, ``.5``), as the
SAM grammar writes them: a point has a digit after it (``0.`` and ``1.`` are off the grammar, as
``float_value`` finds)."""


class Fraction(Float):
    """An ``f`` value from 0 to 1 (a divergence, a proportion) of at most 6 significant digits:
    no room for a date or a number."""

    label = "float from 0 to 1, at most 6 significant digits"

    def valid(self, value: bytes, seq_length: int, references: Mapping[bytes, int]) -> bool:
        number = float_value(value, FRACTION_DIGITS)
        return number is not None and 0 <= number <= 1

    def valid_spans(self, spans: Spans) -> np.ndarray:
        if all_valid(FRACTIONS, spans.data, spans.starts, spans.ends):
            return np.ones(len(spans), dtype=bool)
        return one_at_a_time(self, spans)


ARRAY_TEXT = re.compile(rb"([cCsSiIf])((?:,[^,]*)*)")


class NumericArray(Grammar):
    """A ``B`` value: an element type, then comma-separated numbers of that type in its range
    and, where ``allowed`` is given, among those numbers (the codes a tool writes: no room
    for the character codes of a name)."""

    def __init__(self, element_types: bytes = b"cCsSiIf", allowed: Collection[int] | None = None, label: str = "") -> None:
        self.element_types = element_types
        self.allowed = frozenset(allowed) if allowed is not None else None
        assert self.allowed is None or b"f" not in element_types
        self.label = label or ("array of numbers" if len(element_types) > 1 else f"array of {element_types.decode()} numbers")

    def valid(self, value: bytes, seq_length: int, references: Mapping[bytes, int]) -> bool:
        match = ARRAY_TEXT.fullmatch(value)
        if match is None or match.group(1)[0] not in self.element_types:
            return False
        elements = match.group(2).split(b",")[1:]
        element_type = match.group(1)[0]
        if element_type == ord("f"):
            return all(float_value(element) is not None for element in elements)
        low, high = ARRAY_RANGES[element_type]
        if not all(INTEGER_TEXT.fullmatch(element) is not None and low <= int(element) <= high for element in elements):
            return False
        return self.allowed is None or all(int(element) in self.allowed for element in elements)


HEX_TEXT = re.compile(rb"(?:[0-9A-Fa-f]{2})*")


class Hex(Grammar):
    """An ``H`` value: pairs of hexadecimal digits."""

    label = "hexadecimal byte array"

    def valid(self, value: bytes, seq_length: int, references: Mapping[bytes, int]) -> bool:
        return HEX_TEXT.fullmatch(value) is not None


# --- alignment strings: CIGAR and MD -----------------------------------------------------


CIGAR_TEXT = re.compile(rb"(?:[0-9]{1,9}[MIDNSHPX=])+")
CIGAR_OPERATION_BYTES = byte_table(CIGAR_OPERATIONS)
REFERENCE_OPERATIONS = byte_table(b"MDX=")
"""The CIGAR operations an MD string describes: aligned bases and deletions (not N, the skips)."""


class Cigar(Grammar):
    """A CIGAR (``MC``, ``OC``, ``cg``): ``*`` or ``([0-9]+[MIDNSHPX=])+``, lengths of at most 9 digits."""

    label = "CIGAR or *"

    def valid(self, value: bytes, seq_length: int, references: Mapping[bytes, int]) -> bool:
        return value == b"*" or CIGAR_TEXT.fullmatch(value) is not None

    def valid_spans(self, spans: Spans) -> np.ndarray:
        data, starts, ends = spans.data, spans.starts, spans.ends
        first = data[np.minimum(starts, len(data) - 1)]
        return ((ends - starts == 1) & (first == ord("*"))) | (cigar_reference_lengths(data, spans.text, starts, ends) >= 0)


def cigar_reference_length(cigar: bytes) -> int:
    """The reference bases an MD string of this CIGAR describes (M, D, X, =), or -1 for no CIGAR."""
    if CIGAR_TEXT.fullmatch(cigar) is None:
        return -1
    return sum(int(length) for length, operation in CIGAR_OPERATION.findall(cigar) if operation in b"MDX=")


SPAN_OPERATIONS = b"MDN=X"
"""The operations of an alignment list entry's CIGAR that lay it along the reference."""
READ_OPERATIONS = b"MIS=XH"
"""The operations of an alignment list entry's CIGAR that lay out the read, hard clips included:
``SA`` and ``OA`` hard-clip what the other alignment leaves, so with them it counts the whole read."""


def cigar_span(cigar: bytes, operations: bytes = SPAN_OPERATIONS) -> int:
    """The summed lengths of ``operations`` in a CIGAR on its grammar."""
    return sum(int(length) for length, operation in CIGAR_OPERATION.findall(cigar) if operation in operations)


ENTRY_CIGARS = re.compile(rb",(" + CIGAR_TEXT.pattern + rb")(?=,)")
"""The CIGAR of each entry of an alignment list: the one field of an entry on a CIGAR's grammar
(a name follows a ``;``, positions, strands, qualities and counts hold no operation letter)."""
HARD_CLIPS = byte_table(b"H")
READ_BYTES = byte_table(READ_OPERATIONS)


def full_read_length(seq_length: int, cigar: bytes) -> int:
    """The read's whole length, as the entries of its alignment lists count it: SEQ and the hard
    clips of its CIGAR; without SEQ (``*``, -1) what its CIGAR lays out; -1 when neither tells."""
    if CIGAR_TEXT.fullmatch(cigar) is None:
        return seq_length
    if seq_length >= 0:
        return seq_length + cigar_span(cigar, b"H")
    return cigar_span(cigar, READ_OPERATIONS)


def alignment_hits(value: bytes, name: bytes) -> list[tuple[bytes, int, bytes]] | None:
    """The alignments an alignment list names, each ``(contig as written, 0-based POS, CIGAR)``:
    ``SA``'s entries are ``rname,pos,strand,CIGAR,mapQ,NM;``, ``XA``'s ``rname,[+-]pos,CIGAR,NM;``
    and ``XB``'s (bwa mem -u) the same with a score and a MAPQ after. None when an entry cannot be
    read: the callers judge such a list as touching what they protect. The one reader of a hit's
    place, for sam-mask-regions (an ``XA`` hit in a region) and sam-revert-germline (an ``XA`` hit
    on a germline window)."""
    hits = []
    for entry in filter(None, value.split(b";")):
        items = entry.split(b",")
        try:
            if name == b"SA":
                hits.append((items[0], int(items[1]) - 1, items[3]))
            else:
                hits.append((items[0], abs(int(items[1])) - 1, items[2]))
        except (IndexError, ValueError):
            return None
    return hits


def entries_within_read(value: bytes, read_length: int) -> bool:
    """Each entry's CIGAR of an alignment list (its grammar passed) lays out at most the read's
    whole length (``full_read_length``; -1: not known, any): ``SA:Z:chr1,500,+,19900101M,60,0;``
    on a 10-base read is a number, not an alignment of it."""
    return read_length < 0 or all(cigar_span(cigar, READ_OPERATIONS) <= read_length for cigar in ENTRY_CIGARS.findall(value))


def lists_within_reads(data: np.ndarray, text: bytes, starts: np.ndarray, ends: np.ndarray, seq_lengths: np.ndarray,
                       cigar_starts: np.ndarray, cigar_ends: np.ndarray) -> np.ndarray:  # fmt: skip
    """``entries_within_read`` of many alignment lists (``starts``, ``ends``), each beside its
    record's SEQ length and CIGAR column: the records' lengths and the entries' CIGARs counted in
    C, the entries found by one pattern over the lists joined."""
    hard = np.asarray(scan.cigar_lengths(text, cigar_starts, cigar_ends, CIGAR_OPERATION_BYTES, HARD_CLIPS), dtype=np.int64)
    laid = np.asarray(scan.cigar_lengths(text, cigar_starts, cigar_ends, CIGAR_OPERATION_BYTES, READ_BYTES), dtype=np.int64)
    lengths = np.where(hard < 0, seq_lengths, np.where(seq_lengths >= 0, seq_lengths + hard, laid))
    ok = np.ones(len(starts), dtype=bool)
    known = np.flatnonzero(lengths >= 0)
    joined_text = joined(data, starts[known], ends[known])
    if joined_text is None:
        for index in known.tolist():
            ok[index] = entries_within_read(text[int(starts[index]) : int(ends[index])], int(lengths[index]))
        return ok
    found = [match.span(1) for match in ENTRY_CIGARS.finditer(joined_text)]
    if not found:
        return ok
    spans = np.array(found, dtype=np.int64)
    laid_out = np.asarray(scan.cigar_lengths(joined_text, spans[:, 0], spans[:, 1], CIGAR_OPERATION_BYTES, READ_BYTES), dtype=np.int64)
    value_ends = np.cumsum(ends[known] - starts[known] + 1)
    owners = np.searchsorted(value_ends, spans[:, 0], side="right")
    longest = np.full(len(known), -1, dtype=np.int64)
    np.maximum.at(longest, owners, laid_out)
    ok[known] = longest <= lengths[known]
    return ok


ALIGNED_READ = b"MI=X"
"""The CIGAR operations that align read bases (clips aside): what ``cs`` and ``cg`` describe of the read."""
ALIGNED_READ_BYTES = byte_table(ALIGNED_READ)
SPAN_BYTES = byte_table(SPAN_OPERATIONS)
DIFFERENCE = re.compile(rb"([:*+=~-])([^:*+=~-]*)")
"""One operation of a ``cs`` string (its grammar passed): its letter and what follows it."""
DIFFERENCE_LETTERS = byte_table(b":*+-=~")
DIGIT_BYTES = byte_table(b"0123456789")
CS_BASES = byte_table(IUPAC + IUPAC.lower())
NOT_DIGITS = ~DIGIT_BYTES
"""The bases of a ``cs`` string's ``+``, ``-`` and ``=`` (and ``*``'s and ``~``'s, not counted there)."""


def aligned_lengths(cigar: bytes) -> tuple[int, int] | None:
    """The read bases a CIGAR aligns (M, I, =, X: no clips) and the reference it spans (M, D, N,
    =, X), or None for no CIGAR."""
    if CIGAR_TEXT.fullmatch(cigar) is None:
        return None
    return cigar_span(cigar, ALIGNED_READ), cigar_span(cigar, SPAN_OPERATIONS)


def difference_lengths(value: bytes) -> tuple[int, int]:
    """The read and reference bases a ``cs`` string (on its grammar) walks: ``:n`` n of both,
    ``*xy`` one of both, ``+seq`` its bases of the read, ``-seq`` of the reference, ``=seq`` of
    both, ``~xxNyy`` N of the reference (an intron)."""
    read = reference = 0
    for operation, rest in DIFFERENCE.findall(value):
        if operation == b":":
            read, reference = read + int(rest), reference + int(rest)
        elif operation == b"*":
            read, reference = read + 1, reference + 1
        elif operation == b"+":
            read += len(rest)
        elif operation == b"-":
            reference += len(rest)
        elif operation == b"=":
            read, reference = read + len(rest), reference + len(rest)
        else:
            reference += int(rest[2:-2])
    return read, reference


def lengths_agree(tie: Tie, value: bytes, cigar: bytes) -> bool:
    """minimap2's ``cs`` (``tie`` ``differences``) or ``cg`` (``same cigar``), its grammar passed,
    against the record's CIGAR: as many read bases as it aligns and as many reference bases as it
    spans. Without it (``*``) neither tells anything of this read: a free number (``cs:Z::19900101``,
    ``cg:Z:19900101M`` on a ``10M`` read)."""
    aligned = aligned_lengths(cigar)
    if aligned is None:
        return False
    return (difference_lengths(value) if tie == ALIGNED_DIFFERENCES else aligned_lengths(value)) == aligned


def differences_lengths(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``difference_lengths`` of many ``cs`` strings (each on its grammar: it begins with an
    operation), as arrays over the strings joined: the operation letters found once, each
    operation's bases counted (``reduceat``) and its number read from the digits after it (at
    most 9: a window of 9 bytes an operation), summed by string. minimap2 writes ``cs`` on every
    read: no Python loop over them, and no array of a byte's position."""
    text = joined(data, starts, ends)
    if text is None or not len(starts):
        return np.zeros(len(starts), dtype=np.int64), np.zeros(len(starts), dtype=np.int64)
    joined_data = np.frombuffer(text + bytes(12), dtype=np.uint8)
    operations = np.flatnonzero(DIFFERENCE_LETTERS[joined_data])
    bases = np.add.reduceat(CS_BASES[joined_data].view(np.uint8), operations, dtype=np.int64)
    digits = np.add.reduceat(DIGIT_BYTES[joined_data].view(np.uint8), operations, dtype=np.int64)
    kinds = joined_data[operations]
    first = operations + np.where(kinds == ord("~"), 3, 1)
    # An operation's digits and the byte after them read as one CIGAR operation of any letter, in C.
    numbers = np.maximum(np.asarray(scan.cigar_lengths(text, first, first + digits + 1, NOT_DIGITS, NOT_DIGITS), dtype=np.int64), 0)
    star = kinds == ord("*")
    read = np.select([kinds == ord(":"), star, (kinds == ord("+")) | (kinds == ord("="))], [numbers, 1, bases], 0)
    spanned = [(kinds == ord(":")) | (kinds == ord("~")), star, (kinds == ord("-")) | (kinds == ord("="))]
    reference = np.select(spanned, [numbers, 1, bases], 0)
    owners = np.searchsorted(np.cumsum(ends - starts + 1), operations, side="right")
    return (
        np.bincount(owners, weights=read, minlength=len(starts)).astype(np.int64),
        np.bincount(owners, weights=reference, minlength=len(starts)).astype(np.int64),
    )


def lengths_agree_in_bulk(tie: Tie, data: np.ndarray, text: bytes, starts: np.ndarray, ends: np.ndarray, cigar_starts: np.ndarray,
                          cigar_ends: np.ndarray) -> np.ndarray:  # fmt: skip
    """``lengths_agree`` of many values (each on its grammar) with their records' CIGAR columns:
    the CIGARs' and ``cg``'s lengths counted in C, ``cs``'s with arrays."""
    read = np.asarray(scan.cigar_lengths(text, cigar_starts, cigar_ends, CIGAR_OPERATION_BYTES, ALIGNED_READ_BYTES), dtype=np.int64)
    reference = np.asarray(scan.cigar_lengths(text, cigar_starts, cigar_ends, CIGAR_OPERATION_BYTES, SPAN_BYTES), dtype=np.int64)
    if tie == ALIGNED_DIFFERENCES:
        value_read, value_reference = differences_lengths(data, starts, ends)
    else:
        value_read = np.asarray(scan.cigar_lengths(text, starts, ends, CIGAR_OPERATION_BYTES, ALIGNED_READ_BYTES), dtype=np.int64)
        value_reference = np.asarray(scan.cigar_lengths(text, starts, ends, CIGAR_OPERATION_BYTES, SPAN_BYTES), dtype=np.int64)
    return (read >= 0) & (value_read == read) & (value_reference == reference)


def cigar_reference_lengths(data: np.ndarray, text: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``cigar_reference_length`` of many spans at once (-1 where one is no CIGAR): ``scan.cigar_lengths``, one C pass."""
    return scan.cigar_lengths(text, starts, ends, CIGAR_OPERATION_BYTES, REFERENCE_OPERATIONS)


MD_TEXT = re.compile(rb"[0-9]{1,9}(?:(?:[%s]|\^[%s]+)[0-9]{1,9})*" % (IUPAC, IUPAC))
MD_LETTERS = byte_table(IUPAC)


def md_reference_length(value: bytes) -> int:
    """The reference bases an MD string describes (its numbers, its mismatches and deleted
    bases), or -1 when it is off the MD grammar."""
    if MD_TEXT.fullmatch(value) is None:
        return -1
    return sum(int(number) for number in re.findall(rb"[0-9]+", value)) + sum(value.count(bytes([base])) for base in IUPAC)


def md_reference_lengths(data: np.ndarray, text: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``md_reference_length`` of many spans at once (``scan.md_lengths``: one pass in C)."""
    return scan.md_lengths(text, starts, ends, MD_LETTERS)


def md_matches_cigar(
    data: np.ndarray, text: bytes, starts: np.ndarray, ends: np.ndarray, cigar_starts: np.ndarray, cigar_ends: np.ndarray
) -> np.ndarray:
    """Which MD strings are valid and describe as many reference bases as their record's
    CIGAR aligns (``md_reference_length(md) == cigar_reference_length(cigar) >= 0``):
    both lengths read in one C pass each."""
    described = md_reference_lengths(data, text, starts, ends)
    return (described >= 0) & (described == cigar_reference_lengths(data, text, cigar_starts, cigar_ends))


class MismatchString(Grammar):
    """``MD``: ``[0-9]+(([A-Z]|\\^[A-Z]+)[0-9]+)*`` with nucleotide codes for letters."""

    label = "MD string"

    def valid(self, value: bytes, seq_length: int, references: Mapping[bytes, int]) -> bool:
        return md_reference_length(value) >= 0

    def valid_spans(self, spans: Spans) -> np.ndarray:
        return md_reference_lengths(spans.data, spans.text, spans.starts, spans.ends) >= 0


# --- values checked one at a time: alignments, modifications, identifiers -----------------


POSITION = rb"[0-9]{1,10}"
MAPPING_QUALITY = rb"[0-9]{1,3}"
CIGAR = rb"(?:[0-9]{1,9}[MIDNSHPX=])+"
ENTRY_CIGAR = rb"(?P<cigar>" + CIGAR + rb")"
EDIT_DISTANCE = rb"[0-9]{1,6}"
"""An entry's NM: a count, held to 6 digits as the count tags are (``aux_tags.COUNT``): 7 or more
is a date or a record number (``SA:Z:chr1,500,+,10M,60,19900101;``), no read's edit count."""
SCORE = rb"-?[0-9]{1,6}"
"""XB's alignment score: at most 6 digits, as the score tags (``AS``, ``XS``)."""


class Alignments(Grammar):
    """A list of alignments, each ``field,field,...;`` (``SA``, ``OA``, ``XA``, ``XB``).

    ``entry`` names its reference ``name``, position ``pos`` and mapping quality
    ``mapq`` (if any): the reference must be an @SQ name of the header and the
    position within it (``OA`` may hold ``*`` at position 0: an unmapped original),
    a mapping quality at most 255. In bulk, one pattern checks the form of all the
    values of a block and finds their entries; the names and numbers are then
    looked up together.
    """

    def __init__(self, label: str, entry: bytes, unmapped: bool = False) -> None:
        self.label = label
        self.entry = re.compile(entry)
        self.entries = re.compile(entry + rb";")
        self.block = values_block(rb"(?:" + entry + rb";)+")
        self.unmapped = unmapped

    def valid(self, value: bytes, seq_length: int, references: Mapping[bytes, int]) -> bool:
        if not value.endswith(b";"):
            return False
        for entry in value[:-1].split(b";"):
            match = self.entry.fullmatch(entry)
            if match is None:
                return False
            name, position, mapping_quality, cigar = entry_groups(match)
            if self.unmapped and name == b"*":
                if int(position) != 0:
                    return False
            elif not 1 <= int(position) <= references.get(name, 0):
                return False
            if mapping_quality is not None and int(mapping_quality) > 255:
                return False
            if cigar is not None and cigar_span(cigar) > references.get(name, 0):
                return False
        return True

    def valid_spans(self, spans: Spans) -> np.ndarray:
        """One pattern over all the values; then each entry's name, position and mapping
        quality checked at once, and a value valid when all its entries are."""
        text = joined(spans.data, spans.starts, spans.ends)
        if text is None or self.block.fullmatch(text) is None:
            return one_at_a_time(self, spans)
        found = list(self.entries.finditer(text))
        if not found:
            return np.ones(len(spans), dtype=bool)
        entries_ok = self.entries_on_references([entry_groups(match) for match in found], spans.references)
        value_ends = np.cumsum(spans.ends - spans.starts + 1)  # each value and its tab or newline, in ``text``
        owners = np.searchsorted(value_ends, np.array([match.start() for match in found], dtype=np.int64), side="right")
        ok = np.ones(len(spans), dtype=bool)
        ok[owners[~entries_ok]] = False
        return ok

    def entries_on_references(self, entries: list[EntryGroups], references: Mapping[bytes, int]) -> np.ndarray:
        """Which entries (their ``name``, ``pos``, ``mapq`` and ``cigar`` groups, in that order,
        None where the entry has none) lie on a reference of the header, with a mapping quality
        of at most 255 and a CIGAR spanning at most the reference's length: what ``valid`` asks
        of each entry, asked of all at once."""
        columns = list(zip(*entries, strict=True))
        names = columns[0]
        positions = np.array(columns[1]).astype(np.int64)
        lengths = np.array([references.get(name, 0) for name in names], dtype=np.int64)
        on = (positions >= 1) & (positions <= lengths)
        if self.unmapped:
            on |= (np.array(names) == b"*") & (positions == 0)
        qualities = np.array([-1 if quality is None else int(quality) for quality in columns[2]], dtype=np.int64)
        on &= qualities <= 255
        spans = {cigar: cigar_span(cigar) for cigar in set(columns[3]) if cigar is not None}
        on &= np.array([0 if cigar is None else spans[cigar] for cigar in columns[3]], dtype=np.int64) <= lengths
        return on


EntryGroups = tuple[bytes, bytes, bytes | None, bytes | None]


def entry_groups(match: re.Match[bytes]) -> EntryGroups:
    """An entry's ``name``, ``pos``, ``mapq`` and ``cigar`` groups, None for those it has not."""
    groups = match.groupdict()
    return groups["name"], groups["pos"], groups.get("mapq"), groups.get("cigar")


NAME = rb"(?P<name>[^,;\t\n]+)"
STRAND_POSITION = rb"[+-](?P<pos>" + POSITION + rb")"
SUPPLEMENTARY = Alignments(
    "rname,pos,strand,CIGAR,mapQ,NM; repeated",
    NAME + rb",(?P<pos>" + POSITION + rb"),[+-]," + ENTRY_CIGAR + rb",(?P<mapq>" + MAPPING_QUALITY + rb")," + EDIT_DISTANCE,
)
ORIGINAL = Alignments(
    "rname,pos,strand,CIGAR,mapQ,NM; repeated (NM may be empty; *,0 for unmapped)",
    NAME + rb",(?P<pos>" + POSITION + rb"),[+-],(?:" + ENTRY_CIGAR + rb"|\*),(?P<mapq>" + MAPPING_QUALITY + rb"),"
    + rb"(?:" + EDIT_DISTANCE + rb")?",
    unmapped=True,
)
BWA_HITS = Alignments("rname,[+-]pos,CIGAR,NM; repeated", NAME + b"," + STRAND_POSITION + b"," + ENTRY_CIGAR + b"," + EDIT_DISTANCE)
SCORED_HITS = Alignments(
    "rname,[+-]pos,CIGAR,NM,score,mapQ; repeated",
    NAME + b"," + STRAND_POSITION + b"," + ENTRY_CIGAR + b"," + EDIT_DISTANCE + b"," + SCORE + rb",(?P<mapq>" + MAPPING_QUALITY + rb")",
)


class Either(Grammar):
    """A value of one grammar or of another (two tools' forms of one tag)."""

    def __init__(self, first: Grammar, second: Grammar) -> None:
        self.first, self.second = first, second
        self.label = f"{first.label}; or {second.label}"

    def valid(self, value: bytes, seq_length: int, references: Mapping[bytes, int]) -> bool:
        return self.first.valid(value, seq_length, references) or self.second.valid(value, seq_length, references)

    def valid_spans(self, spans: Spans) -> np.ndarray:
        ok = self.first.valid_spans(spans)
        rest = np.flatnonzero(~ok)
        if len(rest):
            ok[rest] = self.second.valid_spans(spans.subset(rest))
        return ok


class ReferenceName(Grammar):
    """``CC``: an @SQ name of the header, or ``=`` for the record's own."""

    label = "an @SQ name of the header, or ="

    def valid(self, value: bytes, seq_length: int, references: Mapping[bytes, int]) -> bool:
        return value == b"=" or value in references


MODIFICATION = re.compile(rb"[ACGTUN][-+]([mhfcgeboan]+|[ACGTUN]|[0-9]{1,7})[.?]?((?:,[0-9]{1,10})*)")
"""One entry of ``MM``: its modification codes (group 1) and its skips (group 2)."""


class BaseModifications(Grammar):
    """``MM``: ``([ACGTUN][-+]([a-z]+|[0-9]+)[.?]?(,[0-9]+)*;)*`` (SAMtags, Base modifications)
    with the codes of the spec's table (or a ChEBI number, or an ambiguity code), and the
    skipped bases of each modification within SEQ (a record without SEQ has none)."""

    label = "base modifications within SEQ"

    def valid(self, value: bytes, seq_length: int, references: Mapping[bytes, int]) -> bool:
        if not value:
            return True
        if not value.endswith(b";") or seq_length < 0:
            return False
        for entry in value[:-1].split(b";"):
            match = MODIFICATION.fullmatch(entry)
            if match is None:
                return False
            skips = match.group(2).split(b",")[1:]
            if sum(map(int, skips)) + len(skips) > seq_length:
                return False
        return True


def modification_calls(value: bytes) -> int:
    """How many likelihoods ``ML`` gives for an ``MM`` value on its grammar (SAMtags, Base
    modifications): one for each base an entry lists (its skips), for each of its codes
    (``C+mh`` calls two modifications at each base; a ChEBI number or an ambiguity code is one)."""
    calls = 0
    for entry in value[:-1].split(b";") if value else ():
        match = MODIFICATION.fullmatch(entry)
        assert match is not None, "the caller checked the MM grammar"
        codes = match.group(1)
        calls += match.group(2).count(b",") * (len(codes) if codes.isalpha() and codes.islower() else 1)
    return calls


class Pattern(Grammar):
    """A value matching a regular expression, checked one at a time; values made only of
    ``simple`` bytes (when given) are valid without it, in bulk."""

    def __init__(self, label: str, pattern: bytes, simple: bytes | None = None, simple_longest: int | None = None) -> None:
        self.label = label
        self.pattern = re.compile(pattern)
        self.simple = byte_table(simple) if simple is not None else None
        self.simple_longest = simple_longest  # values of ``simple`` bytes valid in bulk up to this length
        if simple is not None:
            assert all(self.pattern.fullmatch(bytes([byte])) for byte in simple)

    def valid(self, value: bytes, seq_length: int, references: Mapping[bytes, int]) -> bool:
        return self.pattern.fullmatch(value) is not None

    def valid_spans(self, spans: Spans) -> np.ndarray:
        if self.simple is None:
            return one_at_a_time(self, spans)
        ok = spans_within(spans.data, spans.text, spans.starts, spans.ends, self.simple) & (spans.ends > spans.starts)
        if self.simple_longest is not None:
            ok &= spans.ends - spans.starts <= self.simple_longest
        rest = np.flatnonzero(~ok)
        if len(rest):
            ok[rest] = one_at_a_time(self, spans.subset(rest))
        return ok


IUPAC_BOTH = IUPAC + IUPAC.lower()
CELL_BARCODE = Pattern(
    f"barcode bases (at most {BARCODE_LONGEST}), then -1 to -999 (a library number)",
    rb"[%s\-]{0,%d}(?:-[0-9]{1,3})?" % (IUPAC, BARCODE_LONGEST),
    simple=BARCODE,
    simple_longest=BARCODE_LONGEST,
)
MOLECULE = Pattern("a number or one letter, then / and one letter or digit (fgbio: 12/A)", rb"(?:[0-9]{1,10}|[A-Za-z])(?:/[A-Za-z0-9])?")
ENSEMBL_GENE = rb"ENS(?:[A-Z]{3,4})?G00000[0-9]{6}(?:\.[0-9]{1,3})?(?:_PAR_Y)?"
"""An Ensembl gene's stable ID: ``ENS``, the species' prefix of 3 or 4 letters (none for human:
``ENSG``; ``ENSMUSG``, ``ENSDARG``, ``ENSCSAVG``), ``G`` and 11 digits, which begin with ``00000``
in every release so far (the largest human one is near ``ENSG00000310000``, mouse's
``ENSMUSG00000118000``, zebrafish's ``ENSDARG00000116000``), then its version and ``_PAR_Y``
(GENCODE's copy on Y). Free letters and digits beyond that shape would hold initials and a date
(``ENSKIMJHG19900101123``); the 6 free digits are as many as any other number of a kept tag
may hold, 7 would hold a date (``ENSG00001990010``)."""
GENE_IDS = Pattern("Ensembl gene IDs separated by ;, or -", rb"-|" + ENSEMBL_GENE + rb"(?:;" + ENSEMBL_GENE + rb")*")
DIFFERENCES = Pattern(
    "minimap2 cs string",
    rb"(?::[0-9]{1,9}|\*[%s]{2}|[-+][%s]+|=[%s]+|~[%s]{2}[0-9]{1,9}[%s]{2})+" % ((IUPAC_BOTH,) * 5),
)
ALTERNATIVE_HITS = Either(BWA_HITS, Pattern("TMAP's mapping algorithm (map2-1)", rb"map(?:[1-4]|all|vsw)-[0-9]{1,2}"))
COLOURS = Pattern("primer base, then colours 0-3", rb"[ACGTN][0-3.]*")


# --- ties to the rest of the record ------------------------------------------------------

TIE_LABELS = {
    "seq": "as long as SEQ",
    "introns": "-1, or the first and last base of skips (N) of the CIGAR or of the mate's (MC), in order",
    "span": "positions within the alignment or the mate's (MC), in order",
    "cigar": "as many reference bases as the CIGAR aligns",
    "mate": "from PNEXT, ending within the contig of RNEXT (LN)",
    "place": "at most twice the LN of RNAME's contig and a read",
    "calls": "one number for each call of {partner} in the same record",
    "differences": "as many read and reference bases as the CIGAR aligns (M, I, =, X; M, D, N, =, X)",
    "same cigar": "the CIGAR or one of its read and reference lengths (M, I, =, X; M, D, N, =, X)",
    "read": "each entry's CIGAR at most as long as the read (SEQ and its hard clips) and its reference",
    "count": "one number for each position of {partner} in the same record",
    "junctions": (
        "one for each junction of jI (-1 for its -1); without jI, -1 or at most one for each skip (N) of the CIGAR and the mate's (MC)"
    ),
}
"""Each kind of ``Tie`` as the man page states it (``{partner}``: the tag it is tied to); a
``partner`` tie's is the default, ``Tie.label``."""


@dataclass(frozen=True)
class Tie:
    """A value that must agree with another part of its record.

    ``kind`` is ``seq`` (as long as SEQ, which is not ``*``), ``cigar`` (an MD string
    describing as many reference bases as the record's CIGAR aligns), ``partner``
    (as long as the kept, valid ``partner`` tag of the record, given once, with a
    space exactly where the partner has a ``-``: QX and RX, SAMtags, Barcodes) or
    ``calls`` (an array with one number for each modification call of the kept, valid
    ``partner`` tag, given once: ML and MM, SAMtags, Base modifications), ``introns``
    (STAR's ``jI``: ``-1``, or the 1-based first and last reference base of skips of the
    record's CIGAR or of its mate's, ``MC`` from PNEXT), ``span`` (STAR's ``vG``: positions
    within the record's alignment or its mate's, in order; ``agrees_with_alignment``) or
    ``junctions`` (STAR's ``jM``: one motif for each junction of the kept, valid ``partner``
    ``jI``, or without one for at most each skip of those alignments; ``motifs_agree``) or
    ``count`` (STAR's ``vA``: one number for each position of the kept, valid ``partner``
    ``vG``, given once; without it, none). A tie to a
    partner tag is what keeps a value from outliving what gives it a meaning: ``ML``
    without its ``MM`` is a free array of bytes, which can spell a name; so do ``jI``, ``jM``,
    ``vA`` and ``vG`` as free numbers (``jI:B:i,75,73,77,...``, ``jM:B:c,2,0,0,1,0,6,1,5``, a
    ``vA`` of any length spells any number in base 3), and a tie
    to the alignment leaves them only the numbers the alignment gives.
    """

    kind: str
    partner: bytes = b""
    partner_type: bytes = b"Z"

    @property
    def label(self) -> str:
        """The tie as the man page states it (``{partner}``: the tag it is tied to)."""
        return TIE_LABELS.get(self.kind, "as long as {partner} in the same record").format(partner=self.partner.decode())

    @property
    def has_partner(self) -> bool:
        return self.kind in ("partner", "calls", "junctions", "count")

    def agrees(self, value: bytes, partner: bytes) -> bool:
        """The one-value check of a tie to a partner tag (the caller found it given once, valid)."""
        if self.kind == "calls":
            return value.count(b",") == modification_calls(partner)
        if self.kind == "count":
            return value.count(b",") == partner.count(b",")
        return partner_agrees(value, partner)

    def agree(
        self, data: np.ndarray, text: bytes, starts: np.ndarray, ends: np.ndarray, partner_starts: np.ndarray, partner_ends: np.ndarray
    ) -> np.ndarray:
        """``agrees`` of many values at once (partner offsets are -1 where there is none)."""
        if self.kind == "partner":
            return partners_agree(data, text, starts, ends, partner_starts, partner_ends)
        if self.kind == "count":  # vA on every read at a WASP site: counted as arrays (commas, a number each)
            ok = partner_starts >= 0
            given = np.flatnonzero(ok)
            ok[given] = commas_of(data, starts[given], ends[given]) == commas_of(data, partner_starts[given], partner_ends[given])
            return ok
        # One ML array to a read, and only long reads carry them: one value at a time is enough.
        ok = partner_starts >= 0
        for row in np.flatnonzero(ok).tolist():
            partner = text[int(partner_starts[row]) : int(partner_ends[row])]
            ok[row] = self.agrees(text[int(starts[row]) : int(ends[row])], partner)
        return ok


AS_LONG_AS_SEQ = Tie("seq")
MATCHING_CIGAR = Tie("cigar")
MODIFICATION_LIKELIHOODS = Tie("calls", b"MM")
CIGAR_INTRONS = Tie("introns")
WITHIN_ALIGNMENT = Tie("span")
INTRON_MOTIFS = Tie("junctions", b"jI", b"B")
MATE_ON_CONTIG = Tie("mate")
"""``MC``: from PNEXT, the mate's alignment ends on the contig of RNEXT (``=``: RNAME), at its LN
(``mate_within_contig``); else ``MC`` goes, and ``jI``, ``jM`` and ``vG`` are held to no mate."""
PLACE_ON_CONTIG = Tie("place")
"""``OP`` and ``CP``: a position at most twice the LN of RNAME's contig (the longest for ``*``) and
the read (SEQ's length), the bound POS is held to (``sam_columns.ReadPlaces``): ``OP:i:19900101``
on a contig of 5,000 holds a date (``place_within_contig``)."""
VARIANT_COUNT = Tie("count", b"vG", b"B")
WITHIN_READ = Tie("read")
ALIGNED_DIFFERENCES = Tie("differences")
SAME_ALIGNMENT = Tie("same cigar")
CIGAR_TIES = (ALIGNED_DIFFERENCES, SAME_ALIGNMENT)
"""The ties of minimap2's ``cs`` and ``cg`` to the record's CIGAR (``lengths_agree``)."""
ALIGNMENT_TIES = (CIGAR_INTRONS, WITHIN_ALIGNMENT)
"""The ties that read the record's POS and CIGAR (``agrees_with_alignment``)."""
NO_INTRONS = b"i,-1"
"""STAR's ``jI`` of a read without a skip."""
NO_MOTIFS = b"c,-1"
"""STAR's ``jM`` of a read without a skip."""
SPANNING_OPERATIONS = b"MDN=X"
"""The CIGAR operations that consume reference bases (SAM 1.6, 1.4.6)."""


def array_numbers(value: bytes) -> list[int] | None:
    """The integers of a ``B`` value of an integer subtype (``i,100,200``), or None."""
    match = ARRAY_TEXT.fullmatch(value)
    if match is None or match.group(1) == b"f":
        return None
    elements = match.group(2).split(b",")[1:]
    if not all(INTEGER_TEXT.fullmatch(element) for element in elements):
        return None
    return [int(element) for element in elements]


Alignment = tuple[bytes, bytes, bytes, bytes, bytes, bytes | None]
"""A record's RNAME, POS, CIGAR, RNEXT and PNEXT columns and its ``MC`` value (None without one,
or with two): what ``jI`` and ``vG`` are held to."""


def placed_skips(pos: bytes, cigar: bytes) -> tuple[int, int, list[tuple[int, int]]] | None:
    """Where an alignment lies (its first and last reference base, 1-based) and the first and
    last base of each of its skips (``N``); None for no alignment (POS 0, CIGAR ``*``, or a
    CIGAR off the grammar)."""
    if not pos.isdigit() or int(pos) == 0 or CIGAR_TEXT.fullmatch(cigar) is None:
        return None
    start = at = int(pos)
    skips: list[tuple[int, int]] = []
    for length_text, operation in CIGAR_OPERATION.findall(cigar):
        length = int(length_text)
        if operation == b"N":
            skips.append((at, at + length - 1))
        if operation in SPANNING_OPERATIONS:
            at += length
    return start, at - 1, skips


SPANNING_OPERATION_BYTES = byte_table(SPANNING_OPERATIONS)


def mate_within_contig(alignment: Alignment, references: Mapping[bytes, int]) -> bool:
    """Whether the record's ``MC`` (None: none) placed from PNEXT (1 to 10 digits; else unplaced)
    ends within the contig of RNEXT (``=``: RNAME) that ``references`` gives a length; a mate
    placed nowhere (RNEXT ``*``, PNEXT 0, a contig without a length) is within."""
    rname, _, _, rnext, pnext, mate_cigar = alignment
    length = references.get(rname if rnext == b"=" else rnext, -1)
    if mate_cigar is None or length < 0 or not (0 < len(pnext) <= 10 and pnext.isdigit()) or int(pnext) == 0:
        return True
    placed = placed_skips(pnext, mate_cigar)
    return placed is None or placed[1] <= length


def place_within_contig(value: bytes, rname: bytes, seq_length: int, references: Mapping[bytes, int]) -> bool:
    """Whether a position (``OP``, ``CP``; its grammar passed) lies at most twice the LN of RNAME's
    contig (the longest of ``references`` for ``*`` or a name without a length) and a read
    (``seq_length``, -1 for ``*``) from the start."""
    length = references.get(rname, -1)
    if length < 0:
        length = max(references.values(), default=0)
    return value.isdigit() and int(value) <= 2 * length + max(seq_length, 0)


def places_within_contigs(
    text: bytes, rname_starts: np.ndarray, rname_ends: np.ndarray, spans: Spans
) -> np.ndarray:
    """``place_within_contig`` of many values (``spans``), each with its line's RNAME span."""
    references = spans.references
    longest = max(references.values(), default=0)
    names, index = distinct_spans(text, rname_starts, rname_ends)
    lengths = np.array([references.get(name, longest) for name in names], dtype=np.int64)[index] if names else np.zeros(0, dtype=np.int64)
    values = scan.span_numbers(text, spans.starts, spans.ends)
    return (values >= 0) & (values <= 2 * lengths + np.maximum(spans.seq_lengths, 0))


def placed_alignments(alignment: Alignment) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """The record's alignment and, where RNEXT places the mate on the record's contig (``=`` or its
    name; the record placed there, at a POS: htslib reads a POS of 0 as unplaced) and ``MC`` gives
    its CIGAR, its mate's: each as ``placed_skips`` gives it, those that lie somewhere."""
    rname, pos, cigar, rnext, pnext, mate_cigar = alignment
    placed = [placed_skips(pos, cigar)]
    if mate_cigar is not None and rnext in (b"=", rname) and rname != b"*" and pos.isdigit() and int(pos) > 0:  # as htslib places it
        placed.append(placed_skips(pnext, mate_cigar))
    return [found for found in placed if found is not None]


def motifs_agree(value: bytes, introns: bytes | None, alignment: Alignment) -> bool:
    """STAR's ``jM`` (its grammar passed) against the junctions it gives a motif for. STAR writes one
    motif for each junction of the pair, in ``jI``'s order, and ``-1`` alone when there is none
    (``jI:B:i,-1``). So: with the record's kept, valid ``jI`` (``introns``), one motif for each of
    its pairs, or ``-1`` alone for its ``-1``; without one, ``-1`` alone or at most one motif for
    each skip (``N``) of the record's CIGAR and its mate's (``placed_alignments``). A motif beyond
    the junctions is a free number (``jM:B:c,2,0,0,1,0,6,1,5`` spells 20010615 on a ``10M`` read)."""
    motifs = array_numbers(value)
    if motifs is None:
        return False
    junctions = array_numbers(introns) if introns is not None else None
    if motifs == [-1]:
        return junctions is None or junctions == [-1]
    if -1 in motifs:
        return False
    if junctions is not None:
        return junctions != [-1] and 2 * len(motifs) == len(junctions)
    return len(motifs) <= sum(len(skips) for _, _, skips in placed_alignments(alignment))


def agrees_with_alignment(tie: Tie, value: bytes, alignment: Alignment) -> bool:
    """A ``jI`` or ``vG`` value (``tie``, its grammar passed) against the alignments of its record
    and of its mate. STAR writes the junctions and WASP variants of the pair in both mates'
    records, so a mate's skips and span count where RNEXT places the mate on the record's contig
    (``=`` or its name; the record placed there, at a POS: htslib reads a POS of 0 as unplaced)
    and ``MC`` gives its CIGAR. ``jI``: ``-1``, or ascending distinct pairs,
    each the first and last base of one of those skips; ``vG``: ascending positions, each within
    one of the two alignments."""
    numbers = array_numbers(value)
    if numbers is None:
        return False
    alignments = placed_alignments(alignment)
    if tie == CIGAR_INTRONS:
        if numbers == [-1]:
            return True
        skips = {skip for _, _, found in alignments for skip in found}
        pairs = list(zip(numbers[::2], numbers[1::2], strict=False))
        return len(numbers) % 2 == 0 and all(pair in skips for pair in pairs) and pairs == sorted(set(pairs))
    spans = [(start, end) for start, end, _ in alignments]
    return numbers == sorted(numbers) and all(any(start <= number <= end for start, end in spans) for number in numbers)


def partner_agrees(value: bytes, partner: bytes) -> bool:
    """The one-value check of a partner tie (the caller found the partner given once)."""
    if len(value) != len(partner):
        return False
    return all((byte == 32) == (other == 45) for byte, other in zip(value, partner, strict=True))


NO_SPACE = byte_table(bytes(byte for byte in range(256) if byte != 32))
NO_HYPHEN = byte_table(bytes(byte for byte in range(256) if byte != 45))


def partners_agree(
    data: np.ndarray, text: bytes, starts: np.ndarray, ends: np.ndarray, partner_starts: np.ndarray, partner_ends: np.ndarray
) -> np.ndarray:
    """``partner_agrees`` of many values at once (partner offsets are -1 where there is none):
    equal lengths, and byte by byte only where a value has a space or its partner a ``-``."""
    ok = (partner_starts >= 0) & (ends - starts == partner_ends - partner_starts)
    rows = np.flatnonzero(ok)
    separated = ~spans_within(data, text, starts[rows], ends[rows], NO_SPACE)
    separated |= ~spans_within(data, text, partner_starts[rows], partner_ends[rows], NO_HYPHEN)
    rows = rows[separated]
    positions, owner = flat_positions(starts[rows], ends[rows])
    partner_bytes = data[positions + (partner_starts[rows] - starts[rows])[owner]]
    mismatch = (data[positions] == 32) != (partner_bytes == 45)
    ok[rows[np.unique(owner[mismatch])]] = False
    return ok
