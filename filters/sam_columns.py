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

from collections.abc import Iterable, Iterator, Mapping

import numpy as np
from genoscrub import scan
from genoscrub.cigar import DEL, INS, CigarShape, CigarTable, M, ShapeCache

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

    def __len__(self) -> int:
        return len(self.line_starts)

    def values(self, field: int) -> list[bytes]:
        """Field ``field`` (1 to 9) of every line, as bytes."""
        return scan.span_list(self.text, self.tabs[:, field - 1] + 1, self.tabs[:, field])

    def value(self, row: int, field: int) -> bytes:
        """Field ``field`` (1 to 9) of line ``row``."""
        return self.text[int(self.tabs[row, field - 1]) + 1 : int(self.tabs[row, field])]

    def line(self, row: int) -> bytes:
        return self.text[int(self.line_starts[row]) : int(self.line_ends[row])]

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
        """Where QUAL ends on each line: the line's first optional field's tab, or the line's end."""
        counts = self.located.extra_counts
        if not len(self.located.extra_starts):
            return self.line_ends.copy()
        first = np.minimum(np.cumsum(counts) - counts, len(self.located.extra_starts) - 1)
        return np.where(counts > 0, self.located.extra_starts[first], self.line_ends)


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


def is_position(field: bytes) -> bool:
    """A FLAG or POS as the SAM spec allows it: digits, at most 2^31-1."""
    return field.isdigit() and int(field) < SAM_NUMBER_LIMIT


def within_sam_limit(*columns: np.ndarray) -> bool:
    """Whether every value of the parsed numeric columns is below ``SAM_NUMBER_LIMIT``."""
    return all(not len(column) or int(column.max()) < SAM_NUMBER_LIMIT for column in columns)


def first_bad_number(text: bytes) -> int:
    """The 0-based number of the first line whose FLAG or POS is not such a number."""
    lines = text.split(b"\n")
    return next((i for i, line in enumerate(lines) if not all(map(is_position, line.split(b"\t", 4)[1:4:2]))), 0)


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
    ``clip_margin`` more bases, and the reach of its longest indel (an insertion
    or deletion of ``L`` bases touches the ``L`` bases each side of it, so one near
    a read's first or last base reaches past the aligned span)."""

    def __init__(self, shapes: ShapeCache, side: int, clip_margin: int) -> None:
        super().__init__(shapes)
        self.side = side
        self.clip_margin = clip_margin

    def value(self, cigar: bytes, shape: CigarShape | None) -> int:
        if shape is None:
            return 1 if self.side else 0
        reach = max((length for op, length in shape.operations if op in (INS, DEL)), default=0)
        if self.side:
            return shape.reference_length + (shape.right_clip + self.clip_margin if shape.right_clip else 0) + reach
        return -(shape.left_clip + self.clip_margin if shape.left_clip else 0) - reach


class MatchLength(CigarTable):
    """CIGAR string -> its length when it is one ``M`` run written plainly (``150M``), else -1."""

    def value(self, cigar: bytes, shape: CigarShape | None) -> int:
        if shape is None or len(shape.operations) != 1 or shape.operations[0][0] != M:
            return -1
        length = shape.operations[0][1]
        return length if cigar == b"%dM" % length else -1


def number_column(table: BlockFields, field: int) -> np.ndarray | None:
    """Field ``field`` (1 to 9) of every line as a number, in one ``scan.span_numbers``
    pass; None if one is not 1 to 10 digits."""
    values = scan.span_numbers(table.text, table.tabs[:, field - 1] + 1, table.tabs[:, field])
    return None if len(values) and int(values.min()) < 0 else values


def tag_lines(table: BlockFields, codes: np.ndarray, mate_cigar_letters: bytes, mate_cigar_width: int) -> tuple[np.ndarray, np.ndarray]:
    """In one ``scan.sam_tag_lines`` pass, each once: lines
    that carry a tag whose name is nonzero in ``codes`` (a :func:`tag_codes` table), and lines
    whose ``MC:Z`` value holds one of ``mate_cigar_letters`` within its first
    ``mate_cigar_width`` bytes or is longer."""
    letters = np.zeros(256, dtype=np.uint8)
    letters[list(mate_cigar_letters)] = 1
    located = table.located
    found = scan.sam_tag_lines(table.text, located.extra_starts, located.extra_counts, codes, letters, mate_cigar_width)
    return np.flatnonzero(found & scan.TAG_LINE_NAMED), np.flatnonzero(found & scan.TAG_LINE_MATE_CIGAR)
