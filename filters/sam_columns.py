"""The mandatory columns of a block of SAM records, located with numpy, never split.

Most records of a SAM stream pass a filter unchanged, and building an object (or
even a list of fields) per record costs more than the work itself. So a block of
whole lines is looked at as one byte array: numpy finds every newline and tab at
once, a column of every record is then a pair of offset arrays, FLAG and POS are
read as numbers in bulk, and a record's CIGAR is an index into the block's
distinct CIGAR strings, so what a CIGAR implies is worked out once per string
(:class:`CigarColumn`, :class:`SpanEdge`, :class:`MatchLength`). Only the records
a filter must change are ever cut out of the block.

Fields are numbered from 0 as in the SAM spec's table (0 QNAME ... 10 QUAL).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping

import numpy as np
from genoscrub import scan
from genoscrub.aux_values import Spans, place_within_contig, places_within_contigs
from genoscrub.cigar import DEL, HARD, INS, SOFT, CigarShape, CigarTable, M, ShapeCache
from genoscrub.fields import distinct_spans
from genoscrub.report import InputError

FIELD_TABS = 10
"""Tabs located per record: the ten between the eleven mandatory fields."""



def tag_code(name: bytes) -> int:
    """A two-letter tag name as one number (first letter << 8 | second)."""
    return (name[0] << 8) | name[1]


def tag_codes(names: Iterable[bytes]) -> np.ndarray:
    """A table of the 65536 two-letter tag names, 1 where a tag named in ``names`` is kept (filters/_scan.c)."""
    table = np.zeros(1 << 16, dtype=np.uint8)
    table[[tag_code(name) for name in names]] = 1
    return table


class BlockFields:
    """Where the mandatory fields of every record of a block lie, found in one pass
    (``scan.line_fields``, no per-line split): ``tabs[i, k]`` is the offset of line
    ``i``'s tab after field ``k``; the optional fields' tabs are ``located.extra_starts``."""

    def __init__(self, text: bytes, located: scan.LineFields) -> None:
        self.text = text
        self.buffer = np.frombuffer(text, dtype=np.uint8)
        self.line_starts = located.starts
        self.line_ends = located.ends
        self.tabs = located.tabs
        self.located = located
        self._quality_ends: np.ndarray | None = None
        self._first_fields: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.line_starts)

    def spans(self, field: int) -> tuple[np.ndarray, np.ndarray]:
        """Start and end offsets of field ``field`` (1 to 10) on every line."""
        return self.tabs[:, field - 1] + 1, self.tabs[:, field]

    def values(self, field: int) -> list[bytes]:
        """Field ``field`` (1 to 9) of every line, as bytes."""
        return scan.span_list(self.text, self.tabs[:, field - 1] + 1, self.tabs[:, field])

    def value(self, row: int, field: int) -> bytes:
        """Field ``field`` (1 to 9) of line ``row``."""
        return self.text[int(self.tabs[row, field - 1]) + 1 : int(self.tabs[row, field])]

    def line(self, row: int) -> bytes:
        return self.text[int(self.line_starts[row]) : int(self.line_ends[row])]

    def mandatory(self, row: int) -> list[bytes]:
        """Fields 0 to 8 (QNAME to TLEN) of line ``row``, as a split line has them (its first nine
        fields hold no tab: cut at its ninth tab and split there, no array read per field)."""
        return self.text[int(self.line_starts[row]) : int(self.tabs[row, 8])].split(b"\t")

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
        """Where QUAL ends on each line: the line's first optional field's tab, or the line's end.
        Found once a block (read only: the reverter's steps each ask for it)."""
        if self._quality_ends is None:
            counts = self.located.extra_counts
            if not len(self.located.extra_starts):
                ends = self.line_ends.copy()
            else:
                first = np.minimum(self.first_fields(), len(self.located.extra_starts) - 1)
                ends = np.where(counts > 0, self.located.extra_starts[first], self.line_ends)
            ends.flags.writeable = False
            self._quality_ends = ends
        return self._quality_ends

    def first_fields(self) -> np.ndarray:
        """The index (in ``located.extra_starts``) of each line's first optional field, where the
        line has one: the sum of the optional fields of the lines before it. Found once a block
        (read only)."""
        if self._first_fields is None:
            counts = self.located.extra_counts
            firsts = np.cumsum(counts) - counts
            firsts.flags.writeable = False
            self._first_fields = firsts
        return self._first_fields


def block_fields(text: bytes) -> BlockFields | None:
    """The field table of a block of whole lines (each ending in a newline);
    None when a line has fewer than eleven fields, or the block holds no line and no tab."""
    located = scan.line_fields(text, FIELD_TABS)
    if located.bad_row >= 0 or (not located.line_count and b"\t" not in text):
        return None
    return BlockFields(text, located)


def first_short_line(text: bytes) -> int:
    """The 0-based number of the first line of ``text`` with fewer than eleven fields."""
    return next(i for i, line in enumerate(text.split(b"\n")) if line.count(b"\t") < FIELD_TABS)


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

    def rows_where(self, test: Mapping[bytes, bool]) -> np.ndarray:
        """A mask of the lines whose CIGAR string passes ``test``."""
        chosen = [index for index, string in enumerate(self.strings) if test[string]]
        if not chosen:
            return np.zeros(len(self.ids), dtype=bool)
        return np.isin(self.ids, chosen)


SAM_NUMBER_LIMIT = 1 << 31
"""FLAG, POS and PNEXT are below this (SAM 1.4: POS ``[0, 2^31-1]``; BAM holds them in 32 bits):
a larger one names no place, and every command refuses it alike."""

SAM_NUMBER_DIGITS = 10
"""FLAG, POS and PNEXT have at most this many digits (2^31-1 has 10): htslib reads any number
of leading zeros, every command here refuses them past ten, alike, in bulk and one record at a time."""


def is_position(field: bytes) -> bool:
    """A FLAG, POS or PNEXT as every SAM command reads it: 1 to 10 digits, at most 2^31-1
    (the one-record twin of :func:`sam_numbers`)."""
    return 0 < len(field) <= SAM_NUMBER_DIGITS and field.isdigit() and int(field) < SAM_NUMBER_LIMIT


def sam_numbers(text: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray | None:
    """The spans ``text[starts[i]:ends[i]]`` (a FLAG, POS or PNEXT column) as numbers, in one
    ``scan.span_numbers`` pass; None when one fails :func:`is_position`."""
    values = scan.span_numbers(text, starts, ends)
    if len(values) and (int(values.min()) < 0 or int(values.max()) >= SAM_NUMBER_LIMIT):
        return None
    return values


BAD_NUMBER = "FLAG, POS or PNEXT is not a number of 1 to 10 digits, at most 2^31-1"
COLUMN_NAMES = {1: "FLAG", 3: "POS", 4: "MAPQ", 5: "CIGAR", 7: "PNEXT", 8: "TLEN"}


def off_grammar(field: int) -> str:
    """The message for a checked column that is empty or holds a character it may not."""
    return f"{COLUMN_NAMES[field]} is empty or holds a character off its grammar"
UNDECLARED_RNAME = "record on a contig the header does not declare (@SQ)"
UNDECLARED_RNEXT = "mate on a contig the header does not declare (@SQ)"
PAST_CONTIG_END = "POS and CIGAR place the read past its contig's end (LN) by more than the contig and a read"
TEMPLATE_PAST_CONTIG = "TLEN is longer than twice its contig (LN), a read and the distance to the mate"
CIGAR_PART = re.compile(rb"([0-9]{1,9})([MIDNSHP=X])")
CIGAR_WHOLE = re.compile(rb"(?:[0-9]{1,9}[MIDNSHP=X])+")
LONG_DIGITS = 18
"""The digits a position or TLEN may have when held to its contig (an @SQ LN may pass 2^31)."""


def cigar_spans(cigar: bytes) -> tuple[int, int]:
    """A CIGAR's reference length and the part of it its skips (``N``) make: (0, 0) for ``*``
    or a CIGAR off the grammar (no alignment to place)."""
    if CIGAR_WHOLE.fullmatch(cigar) is None:
        return 0, 0
    reference = skipped = 0
    for length, operation in CIGAR_PART.findall(cigar):
        if operation in b"MD=XN":
            reference += int(length)
            if operation == b"N":
                skipped += int(length)
    return reference, skipped


def signed_value(field: bytes) -> int | None:
    """A POS, PNEXT or TLEN as a number (a sign, then 1 to 18 digits; 0 for a field of no digit,
    ``-``, which holds no number), else None: the twin of :func:`signed_numbers`."""
    if not field.strip(b"-"):
        return 0
    digits = field[1:] if field[:1] == b"-" else field
    if not 0 < len(digits) <= LONG_DIGITS or not digits.isdigit():
        return None
    return -int(digits) if digits is not field else int(digits)


def signed_numbers(text: bytes, starts: np.ndarray, ends: np.ndarray, signs_rare: bool = False) -> np.ndarray:
    """The spans as :func:`signed_value` reads them, in one ``scan.span_numbers`` pass (the rare
    span of more than 10 digits read alone); a span it cannot read becomes ``UNREAD``.

    ``signs_rare`` (POS and PNEXT, nearly always 1 to 10 digits): the spans are read as digits
    first, and where every one is, that is the answer (no span holds a sign or needs reading
    alone), in two array passes instead of seven; else they are read again as below."""
    if not len(starts):
        return np.zeros(0, dtype=np.int64)
    if signs_rare:
        digits = scan.span_numbers(text, starts, ends)
        if int(digits.min()) >= 0:
            return digits
    data = np.frombuffer(text, dtype=np.uint8)
    negative = (ends > starts) & (data[np.minimum(starts, len(data) - 1)] == ord("-"))
    values = scan.span_numbers(text, starts + negative, ends)
    values = np.where(negative, -values, values)
    for row in np.flatnonzero((values == -1) | (values == 1) & negative).tolist():
        value = signed_value(text[int(starts[row]) : int(ends[row])])
        values[row] = UNREAD if value is None else value
    return values


UNREAD = 1 << 62
"""What :func:`signed_numbers` gives a span it cannot read: past every contig's end."""
PLACE_NUMBERS = (1, 3, 7)
"""FLAG, POS and PNEXT."""
DIGITS, SIGNED, CIGAR_CHARACTERS = b"0123456789", b"-0123456789", b"0123456789MIDNSHP=X*"
COPIED_COLUMNS = ((4, DIGITS), (5, CIGAR_CHARACTERS), (8, SIGNED))
"""MAPQ, CIGAR and TLEN, which every SAM command copies, and the characters each may hold:
an identifier cannot be spelled in them (CIGAR's grammar is left to the commands that read it)."""
UNPLACED_COLUMNS = ((1, DIGITS), (3, DIGITS), (7, SIGNED))
"""FLAG, POS and PNEXT as a command that places no read copies them (htslib writes a negative
PNEXT for some mates)."""


def character_table(characters: bytes) -> np.ndarray:
    """A 256-entry table, 1 for each of ``characters`` (``scan.spans_within``)."""
    table = np.zeros(256, dtype=np.uint8)
    table[list(characters)] = 1
    return table


CIGAR_LETTERS = character_table(b"MIDNSHP=X")
REFERENCE_LETTERS = character_table(b"MD=XN")
SKIP_LETTER = character_table(b"N")
"""The CIGAR letters, those that consume reference bases, and the skip: ``scan.cigar_lengths`` tables."""


class ReadPlaces:
    """The mandatory columns every SAM command copies without rewriting them, as every one
    reads them: RNAME ``*`` or an @SQ ``SN`` of the header, RNEXT that or ``=``; MAPQ, CIGAR
    and TLEN not empty and of their characters (``COPIED_COLUMNS``); FLAG, POS and PNEXT
    numbers (:func:`is_position`) for the commands that place reads on the reference
    (``numbers``), else of their characters (sam-scrub-rg copies them as htslib reads them,
    a negative PNEXT or a position past 2^31 included). A record off these is refused, alike
    by every command, in bulk and one record at a time: what a column holds beyond its
    grammar is text nothing has read, and a name no @SQ declares can be a sample's. A header
    without @SQ lines declares no contig.

    A block's names are checked with ``scan.span_choices`` against ``*``, ``=`` and the
    contigs seen lately (sorted input names one contig for long runs); only the spans not
    among them are collected and looked up (``fields.distinct_spans``). When anything is
    refused, the block is read again one record at a time (:meth:`fault`) for the first
    line and its message, so both paths name the same line with the same words.
    """

    RECENT = 8
    """How many declared names the bulk check tries first (after ``*`` and ``=``)."""

    def __init__(self, declared: Iterable[bytes] | Mapping[bytes, int], numbers: bool = True) -> None:
        self.declared = frozenset(declared)
        self.lengths: dict[bytes, int] | None = dict(declared) if isinstance(declared, Mapping) else None
        """``{SN: LN}`` when the header's lengths are given: POS, the CIGAR, PNEXT and TLEN are then
        held to them (:meth:`length_fault`)."""
        self.longest = max(self.lengths.values(), default=0) if self.lengths is not None else 0
        """What ``*`` is held to: the longest contig (0 without @SQ lines)."""
        self.numbers = numbers
        self.recent: list[bytes] = [b"*", b"="]
        self.columns = COPIED_COLUMNS if numbers else (*UNPLACED_COLUMNS, *COPIED_COLUMNS)
        """The columns checked by their characters, and those characters."""
        self.tables = [(field, character_table(characters)) for field, characters in self.columns]

    def fault(self, fields: list[bytes]) -> str | None:
        """What is wrong with one record (its fields, at least the first nine), or None."""
        if self.numbers and not all(is_position(fields[field]) for field in PLACE_NUMBERS):
            return BAD_NUMBER
        for field, characters in self.columns:
            if not fields[field] or fields[field].translate(None, characters):
                return off_grammar(field)
        if fields[2] != b"*" and fields[2] not in self.declared:
            return UNDECLARED_RNAME
        if fields[6] not in (b"*", b"=") and fields[6] not in self.declared:
            return UNDECLARED_RNEXT
        return self.length_fault(fields) if self.lengths is not None else None

    def length_fault(self, fields: list[bytes]) -> str | None:
        """What places a record far past its contig's end, or None (a record on ``*`` is held to
        nothing). A read may run past its contig's end (a circular chrM's reads do; test files
        cut a genome's header to a region): POS plus the CIGAR's reference length less one at most
        twice the contig's length (LN) and a read (SEQ's length, or the CIGAR's aligned bases
        without its skips); |TLEN| at most twice the contig's length, a read (SEQ, or the CIGAR's
        reference length) and, for a mate placed on the same contig, the distance from POS to PNEXT
        (files cut to a region keep a TLEN beside an RNEXT of ``*``).
        PNEXT is not held to RNEXT's LN: files whose header was cut to a region name mates far past it."""
        assert self.lengths is not None
        if fields[2] == b"*":
            return None
        length = self.lengths.get(fields[2], 0)
        position, mate_position, template = (signed_value(fields[field]) for field in (3, 7, 8))
        reference, skipped = cigar_spans(fields[5])
        seq = fields[9].split(b"\t", 1)[0] if len(fields) > 9 else b""
        read = len(seq) if seq != b"*" else 0
        if position is None or (position > 0 and position + reference - 1 > 2 * length + max(read, reference - skipped)):
            return PAST_CONTIG_END
        apart = 0
        if mate_position is not None and position > 0 and mate_position > 0 and fields[6] in (b"=", fields[2]):
            apart = abs(mate_position - position)
        if template is None or abs(template) > 2 * length + max(read, reference) + apart:
            return TEMPLATE_PAST_CONTIG
        return None

    def mate_past_contig(self, fields: list[bytes]) -> bool:
        """Whether PNEXT lies past twice the LN of the mate's contig and a read, the bound POS is held
        to (:meth:`length_fault`): RNEXT's contig, the record's own for ``=``, the longest for ``*``
        (or an RNAME of ``*`` with ``=``); the read is the record's own (SEQ, or the CIGAR's aligned
        bases without its skips). PNEXT is read as its magnitude (htslib writes a negative one for
        some mates), and a PNEXT that cannot be read lies past. ``PNEXT:19900101`` on a contig of
        5,000 does; htslib's range.bam, its header cut to 5,000, names mates at 2,894,519: where a
        PNEXT lies past, sam-scrub-rg makes the mate's place unavailable (``*``, 0, 0) rather than
        stopping."""
        if self.lengths is None:
            return False
        mate = fields[2] if fields[6] == b"=" else fields[6]
        length = self.longest if mate == b"*" else self.lengths.get(mate, 0)
        mate_position = signed_value(fields[7])
        if mate_position is None:
            return True
        reference, skipped = cigar_spans(fields[5])
        seq = fields[9].split(b"\t", 1)[0] if len(fields) > 9 else b""
        read = len(seq) if seq != b"*" else 0
        return abs(mate_position) > 2 * length + max(read, reference - skipped)

    def places_kept(self, tags: list[bytes], rname: bytes, seq: bytes) -> tuple[list[bytes], int]:
        """A record's optional fields without each ``PLACE_TAGS`` field that is not ``CP:i:`` and a
        position within twice the LN of RNAME's contig and a read (``aux_values.place_within_contig``,
        the rule sam-scrub-rg holds ``CP`` and ``OP`` to: ``CP:i:19900101`` on a contig of 5,000
        goes), and how many went; nothing goes without the header's lengths. The block twin is
        :meth:`places_past`."""
        if self.lengths is None or not any(tag[:2] in PLACE_TAGS for tag in tags):
            return tags, 0
        read = len(seq) if seq != b"*" else -1
        kept = [
            tag for tag in tags
            if tag[:2] not in PLACE_TAGS or (tag[2:5] == b":i:" and place_within_contig(tag[5:].rstrip(b"\r"), rname, read, self.lengths))
        ]  # fmt: skip
        return kept, len(tags) - len(kept)

    def places_past(
        self, text: bytes, tabs: np.ndarray, ends: np.ndarray, rows: np.ndarray, spans: Callable[[int], tuple[np.ndarray, np.ndarray]]
    ) -> np.ndarray:
        """For each optional field named in ``PLACE_TAGS`` (``tabs``: the tab before it, ``ends``: the
        tab or newline after it, ``rows``: its line), whether :meth:`places_kept` may remove it: a
        type other than ``i``, or a value that is not 1 to 10 digits within the bound, in array
        passes (``aux_values.places_within_contigs``). A superset: a value the C loop cannot read
        (more than 10 digits, a CR after it) is left to the one-record path, which reads it as
        :meth:`places_kept` does."""
        if self.lengths is None or not len(tabs):
            return np.zeros(len(tabs), dtype=bool)
        data = np.frombuffer(text, dtype=np.uint8)
        last = len(data) - 1
        typed = (data[np.minimum(tabs + 3, last)] == ord(":")) & (data[np.minimum(tabs + 4, last)] == ord("i"))
        typed &= (data[np.minimum(tabs + 5, last)] == ord(":")) & (ends - tabs > 5)
        rname_starts, rname_ends = spans(2)
        seq_starts, seq_ends = spans(9)
        reads = seq_ends[rows] - seq_starts[rows]
        reads[(reads == 1) & (data[seq_starts[rows]] == ord("*"))] = -1
        values = Spans(text, data, np.minimum(tabs + 6, ends), ends, reads, self.lengths)
        return ~(typed & places_within_contigs(text, rname_starts[rows], rname_ends[rows], values))

    def first_fault(self, text: bytes, path: str, first_line: int) -> InputError:
        """The error for the first record of ``text`` that :meth:`fault` refuses (lines with
        fewer than nine fields are left to the caller's own check)."""
        for index, line in enumerate(text.split(b"\n")):
            fields = line.split(b"\t", 9)
            if len(fields) > 9 and (message := self.fault(fields)):
                return InputError(message, path, first_line + index)
        return InputError("malformed record", path, first_line)  # the bulk check refuses nothing more

    def read_block(
        self, text: bytes, spans: Callable[[int], tuple[np.ndarray, np.ndarray]], path: str, first_line: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """FLAG, POS and PNEXT of every line of a block as numbers, its RNAME and RNEXT
        checked (``spans(field)``: start and end offsets of a column on every line), and the
        lines whose PNEXT lies past its contig (:meth:`check_block`); or the error
        :meth:`first_fault` names."""
        flags, positions, mate_positions = (sam_numbers(text, *spans(field)) for field in PLACE_NUMBERS)
        if flags is None or positions is None or mate_positions is None:
            raise self.first_fault(text, path, first_line)
        return flags, positions, mate_positions, self.check_block(text, spans, path, first_line, (positions, mate_positions))

    def check_block(
        self, text: bytes, spans: Callable[[int], tuple[np.ndarray, np.ndarray]], path: str, first_line: int,
        places: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Every line of a block checked but for the numbers :meth:`read_block` reads, or the
        error :meth:`first_fault` names; the lines whose PNEXT lies past its contig
        (:meth:`mate_past_contig`, read from the same arrays; none without the header's lengths).
        ``places``: POS and PNEXT as :meth:`read_block` read them, not read again; RNAME's and
        RNEXT's names, matched here against the recent ones, not matched again where they all
        were (the list of recent names then stays as it was for both)."""
        name_keys: list[np.ndarray] = []
        mate_keys: list[np.ndarray] = []
        if not (
            self.all_within(text, spans)
            and self.all_declared(text, *spans(2), mate=False, keys=name_keys)
            and self.all_declared(text, *spans(6), mate=True, keys=mate_keys)
        ):
            raise self.first_fault(text, path, first_line)
        if self.lengths is None:
            return np.zeros(len(spans(2)[0]), dtype=bool)
        keys = (name_keys[0], mate_keys[0]) if name_keys and mate_keys else None
        past, far_mates = self.places_on_contigs(text, spans, places, keys)
        if past:
            raise self.first_fault(text, path, first_line)
        return far_mates

    def all_within(self, text: bytes, spans: Callable[[int], tuple[np.ndarray, np.ndarray]]) -> bool:
        """Whether every checked column of every line is not empty and holds only its characters."""
        data = np.frombuffer(text, dtype=np.uint8)
        for field, table in self.tables:
            starts, ends = spans(field)
            if not (bool((ends > starts).all()) and bool(scan.spans_within(data, starts, ends, table).all())):
                return False
        return True

    def contig_keys(
        self, text: bytes, starts: np.ndarray, ends: np.ndarray, matched: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each span: a key of the name it holds (0 ``*``, 1 ``=``; equal keys, equal names) and
        the LN of that contig (-1 for ``*`` and ``=``). The names seen lately are matched in C
        (``scan.span_choices``; ``matched``: that match, made against the recent names as they
        are now); only the others are collected (``fields.distinct_spans``)."""
        assert self.lengths is not None
        found = scan.span_choices(text, starts, ends, self.recent) if matched is None else matched
        keys = np.asarray(found, dtype=np.int64)
        table = np.array([-1, -1, *(self.lengths.get(name, -1) for name in self.recent[2:])], dtype=np.int64)
        lengths = table[np.maximum(keys, 0)]
        unknown = np.flatnonzero(keys < 0)
        if len(unknown):
            names, index = distinct_spans(text, starts[unknown], ends[unknown])
            keys[unknown] = len(self.recent) + index
            lengths[unknown] = np.array([self.lengths.get(name, -1) for name in names], dtype=np.int64)[index]
        return keys, lengths

    def places_on_contigs(
        self, text: bytes, spans: Callable[[int], tuple[np.ndarray, np.ndarray]], places: tuple[np.ndarray, np.ndarray] | None = None,
        matched: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[bool, np.ndarray]:
        """Whether any line of a block fails :meth:`length_fault` (its names already checked), and
        :meth:`mate_past_contig` of each line, in array passes: the CIGAR's reference length and
        skips in two ``scan.cigar_lengths`` passes, shared by the two. ``places``: POS and PNEXT
        already read as :func:`sam_numbers` reads them (numbers of 1 to 10 digits, which
        :func:`signed_numbers` reads alike), else read here. ``matched``: RNAME's and RNEXT's
        ``scan.span_choices`` against the recent names as they are now (:meth:`all_declared`)."""
        keys, lengths = self.contig_keys(text, *spans(2), None if matched is None else matched[0])
        mate_keys, mate_lengths = self.contig_keys(text, *spans(6), None if matched is None else matched[1])
        placed = keys != 0
        if places is None:
            places = (signed_numbers(text, *spans(3), signs_rare=True), signed_numbers(text, *spans(7), signs_rare=True))
        positions, mate_positions = places
        templates = signed_numbers(text, *spans(8))
        cigar_starts, cigar_ends = spans(5)
        references = np.maximum(scan.cigar_lengths(text, cigar_starts, cigar_ends, CIGAR_LETTERS, REFERENCE_LETTERS), 0)
        if len(keys) and self.within_shortest(lengths, mate_keys, mate_lengths, positions, references, templates, mate_positions):
            return False, np.zeros(len(keys), dtype=bool)
        skipped = np.maximum(scan.cigar_lengths(text, cigar_starts, cigar_ends, CIGAR_LETTERS, SKIP_LETTER), 0)
        seq_starts, seq_ends = spans(9)
        reads = seq_ends - seq_starts
        reads[(reads == 1) & (np.frombuffer(text, dtype=np.uint8)[seq_starts] == ord("*"))] = 0
        ends = positions + references - 1
        past = placed & ((positions == UNREAD) | ((positions > 0) & (ends > 2 * lengths + np.maximum(reads, references - skipped))))
        same = (mate_keys == 1) | (mate_keys == keys)
        near = same & (positions > 0) & (mate_positions > 0) & (mate_positions != UNREAD)
        apart = np.where(near, np.abs(mate_positions - positions), 0)
        past |= placed & ((templates == UNREAD) | (np.abs(templates) > 2 * lengths + np.maximum(reads, references) + apart))
        mate_lengths = np.where(mate_keys == 1, lengths, mate_lengths)  # '=': the record's own contig
        mate_lengths = np.where((mate_keys == 0) | ((mate_keys == 1) & ~placed), self.longest, np.maximum(mate_lengths, 0))
        read_bound = np.maximum(reads, references - skipped)
        far_mates = (mate_positions == UNREAD) | (np.abs(mate_positions) > 2 * mate_lengths + read_bound)
        return bool(past.any()), far_mates

    @staticmethod
    def within_shortest(
        lengths: np.ndarray,
        mate_keys: np.ndarray,
        mate_lengths: np.ndarray,
        positions: np.ndarray,
        references: np.ndarray,
        templates: np.ndarray,
        mate_positions: np.ndarray,
    ) -> bool:
        """Whether no line of a block can fail :meth:`places_on_contigs`, by one bound for all, as in
        nearly every block: each bound a line is held to is twice a contig's LN plus lengths that are
        never negative, so ends (the largest POS plus the longest reference length), |TLEN| and
        |PNEXT| within twice the shortest LN the lines are held to fail none (an unread number lies
        past every LN; a line on ``*`` or a contig without LN makes the bound negative). It takes a
        third of the array passes, in a block each of the three SAM filters checks."""
        shortest = int(lengths.min())
        named_mates = mate_keys > 1  # '*' is held to the longest LN, '=' to the record's own
        if named_mates.any():
            shortest = min(shortest, int(mate_lengths[named_mates].min()))
        bound = 2 * shortest
        return (
            int(positions.max()) + int(references.max()) - 1 <= bound  # the furthest alignment end, or beyond it
            and max(int(templates.max()), -int(templates.min())) <= bound
            and max(int(mate_positions.max()), -int(mate_positions.min())) <= bound
        )

    def all_declared(
        self, text: bytes, starts: np.ndarray, ends: np.ndarray, mate: bool, keys: list[np.ndarray] | None = None
    ) -> bool:
        """Whether every span is ``*`` (``=`` too when ``mate``) or a declared contig. Where every
        span is one of the recent names, their ``scan.span_choices`` is appended to ``keys``
        (the recent names are then left as they are)."""
        found = scan.span_choices(text, starts, ends, self.recent)
        if not mate and bool((found == 1).any()):
            return False  # '=' names no contig as RNAME
        unknown = np.flatnonzero(found < 0)
        if not len(unknown):
            if keys is not None:
                keys.append(found)
            return True
        values, _ = distinct_spans(text, starts[unknown], ends[unknown])
        if any(value not in self.declared for value in values):
            return False
        self.recent[2:2] = [value for value in values if value not in self.recent]
        del self.recent[2 + self.RECENT :]
        return True


PLACE_TAGS = frozenset([b"CP"])
"""Positions a record's optional fields give on RNAME's contig that sam-mask-regions and
sam-revert-germline copy: ``CP``, the next hit's leftmost position, held to its contig as POS is
(:meth:`ReadPlaces.places_kept`); ``OP``, the other, both remove from every record."""
UNAVAILABLE_MATE = [b"*", b"0", b"0"]
"""RNEXT, PNEXT and TLEN of a mate whose place is unavailable (SAM 1.4): what a PNEXT past its
contig (:meth:`ReadPlaces.mate_past_contig`) becomes in every SAM command."""


def rows_by_contig(names: list[bytes], unmapped: np.ndarray) -> Iterator[tuple[bytes, np.ndarray]]:
    """Mapped rows of a block grouped by RNAME: one group for sorted input, a
    dictionary pass (not one scan per contig) for any other order. ``names`` has
    one entry per row, or a single one when every row has it."""
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


class SpanEdge(CigarTable):
    """CIGAR string -> where the reference a read touches starts (side 0) or ends
    (side 1), relative to POS: the aligned span, soft clips projected with
    ``clip_margin`` more bases (``hard_clips``: hard clips too, beyond them), and the
    reach of its longest indel (an insertion or deletion of ``L`` bases touches the
    ``L`` bases each side of it, so one near a read's first or last base reaches past
    the aligned span)."""

    def __init__(self, shapes: ShapeCache, side: int, clip_margin: int, hard_clips: bool = False) -> None:
        super().__init__(shapes)
        self.side = side
        self.clip_margin = clip_margin
        self.hard_clips = hard_clips

    def value(self, cigar: bytes, shape: CigarShape | None) -> int:
        if shape is None:
            return 1 if self.side else 0
        reach = max((length for op, length in shape.operations if op in (INS, DEL)), default=0)
        left, right = shape.left_clip, shape.right_clip
        if self.hard_clips:
            left, right = clipped_at_ends(shape.operations)
        if self.side:
            return shape.reference_length + (right + self.clip_margin if right else 0) + reach
        return -(left + self.clip_margin if left else 0) - reach


def clipped_at_ends(operations: tuple[tuple[int, int], ...]) -> tuple[int, int]:
    """The bases clipped, soft or hard, before the aligned part and after it."""
    left = right = 0
    for op, length in operations:
        if op not in (SOFT, HARD):
            break
        left += length
    if left == sum(length for _, length in operations):
        return left, 0
    for op, length in reversed(operations):
        if op not in (SOFT, HARD):
            break
        right += length
    return left, right


class MatchLength(CigarTable):
    """CIGAR string -> its length when it is one ``M`` run written plainly (``150M``), else -1."""

    def value(self, cigar: bytes, shape: CigarShape | None) -> int:
        if shape is None or len(shape.operations) != 1 or shape.operations[0][0] != M:
            return -1
        length = shape.operations[0][1]
        return length if cigar == b"%dM" % length else -1


def tag_lines(
    table: BlockFields, codes: np.ndarray, mate_cigar_letters: bytes, mate_cigar_width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """In one ``scan.sam_tag_lines`` pass, each once: lines
    that carry a tag whose name is nonzero in ``codes`` (a :func:`tag_codes` table), lines
    whose ``MC:Z`` value holds one of ``mate_cigar_letters`` within its first
    ``mate_cigar_width`` bytes or is longer, and lines that carry one of ``PLACE_TAGS``."""
    letters = np.zeros(256, dtype=np.uint8)
    letters[list(mate_cigar_letters)] = 1
    codes = codes.copy()
    for name in PLACE_TAGS:
        codes[tag_code(name)] |= scan.TAG_LINE_PLACE
    located = table.located
    found = scan.sam_tag_lines(table.text, located.extra_starts, located.extra_counts, codes, letters, mate_cigar_width)
    return (
        np.flatnonzero(found & scan.TAG_LINE_NAMED), np.flatnonzero(found & scan.TAG_LINE_MATE_CIGAR),
        np.flatnonzero(found & scan.TAG_LINE_PLACE),
    )  # fmt: skip


def place_fields(located: scan.LineFields, rows: np.ndarray, text: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The optional fields named in ``PLACE_TAGS`` on ``rows`` (sorted lines that hold one, as
    :func:`tag_lines` finds them): the tab before each, the tab or newline after it, its line."""
    counts = located.extra_counts[rows]
    firsts = (np.cumsum(located.extra_counts) - located.extra_counts)[rows]
    index = np.repeat(firsts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    tabs, ends, owners = located.extra_starts[index], located.extra_ends[index], np.repeat(rows, counts)
    data = np.frombuffer(text, dtype=np.uint8)
    last = len(data) - 1
    named = np.zeros(len(tabs), dtype=bool)
    for name in PLACE_TAGS:
        named |= (data[np.minimum(tabs + 1, last)] == name[0]) & (data[np.minimum(tabs + 2, last)] == name[1])
    return tabs[named], ends[named], owners[named]


def lines_with_repeated_tags(text: bytes, located: scan.LineFields) -> np.ndarray:
    """The lines (sorted, each once) of a located block that give a tag twice: an optional
    field whose first two bytes an earlier field of the line starts with too (a field shorter
    than that names nothing), the copies ``aux_tags.without_repeats`` leaves out."""
    repeated = located.extra_starts[scan.repeated_tags(text, located.extra_starts, located.extra_ends, located.extra_counts) != 0]
    if not len(repeated):
        return repeated
    return np.unique(np.searchsorted(located.starts, repeated, side="right") - 1)
