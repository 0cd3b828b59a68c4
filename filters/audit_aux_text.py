"""Aux values that are not text, as the text the forbid list is searched in.

``--forbid`` searches read names and text aux values (Z, H). A value of another type holds a
listed string just as well, and its tag's grammar may allow it (``jI``, ``vG`` and ``CG`` take
any numbers; a position in ``CP`` or a molecule number in ``MI`` any integer):

- a B array of one-byte numbers (c, C) is a string of bytes: ``jI:B:C,75,73,77,...`` is
  ``KIM...``, verbatim in the record. Its bytes are searched as they are stored;
- a wider array (s, S, i, I, f) is searched as stored too (a B:S array of Hangul is UTF-16
  text), and an integer array also read one byte a number, where its number is a byte
  (-128 to 255; another number ends the text there): ``jI:B:i,75,73,77,...``;
- an integer, scalar or array element, that has as many digits as some all-digit string of the
  list (``MI:i:20231029``, ``CP:i:12345678``) is searched as its decimal text, and so is a float
  value holding a whole number that large.

``value_texts`` gathers these for a block of records (numpy over every field; most hold small
numbers, which are no text and are never formatted), each text tied to its record and tag, so
the caller searches them with the text fields and counts a hit by field as it counts theirs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from genoscrub.audit_aux import floats, integers

B_TYPE = ord("B")
BYTE_SUBTYPES = b"cC"
INTEGER_SUBTYPES = b"cCsSiI"
ELEMENT_SIZES = np.zeros(256, dtype=np.int64)
ELEMENT_SIZES[list(b"cC")] = 1
ELEMENT_SIZES[list(b"sS")] = 2
ELEMENT_SIZES[list(b"iIf")] = 4
LARGEST = {ord("c"): 127, ord("C"): 255, ord("s"): 32767, ord("S"): 65535, ord("i"): (1 << 31) - 1, ord("I"): (1 << 32) - 1}
"""What each BAM integer type can hold, as a magnitude: a type that cannot reach the digits
a listed number has is not decoded."""
ARRAY_HEAD = 5
"""A B value's subtype and count (SAM 1.6, 4.2.4), before its numbers."""


@dataclass
class ValueTexts:
    """Texts made of aux values, each ended by NUL (so no match spans two), with the record and
    tag code of each."""

    text: bytes
    lengths: np.ndarray  # of each text, its NUL included
    rows: np.ndarray
    codes: np.ndarray


def member(types: np.ndarray, letters: bytes) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    table[list(letters)] = True
    return table[types]


def gathered(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The spans one after the other, each followed by a NUL, and each one's length with it."""
    lengths = ends - starts
    out_lengths = lengths + 1
    out = np.zeros(int(out_lengths.sum()), dtype=np.uint8)
    if len(starts):
        placed = np.cumsum(out_lengths) - out_lengths
        within = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        out[np.repeat(placed, lengths) + within] = data[np.repeat(starts, lengths) + within]
    return out, out_lengths


def decimal_texts(values: list[int]) -> tuple[np.ndarray, np.ndarray]:
    texts = [b"%d\0" % value for value in values]
    return np.frombuffer(b"".join(texts), dtype=np.uint8), np.array([len(text) for text in texts], dtype=np.int64)


def value_texts(data: np.ndarray, records: np.ndarray, codes: np.ndarray, types: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                least: int | None) -> ValueTexts:  # fmt: skip
    """The texts of the non-text aux fields of a block (``AuxTags``' arrays; ``starts`` at a value,
    at its subtype for a B array): arrays' bytes, and, where ``least`` is given (the smallest
    magnitude that has as many digits as the shortest all-digit string of the list), the decimal
    text of every integer or whole float at least that large."""
    parts: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    tags: list[np.ndarray] = []

    def add(text: np.ndarray, text_lengths: np.ndarray, fields: np.ndarray) -> None:
        parts.append(text)
        lengths.append(text_lengths)
        rows.append(records[fields])
        tags.append(codes[fields])

    arrays = np.flatnonzero(types == B_TYPE)
    subtypes = data[starts[arrays]] if len(arrays) else np.zeros(0, dtype=np.uint8)
    if len(arrays):  # every array as stored
        add(*gathered(data, starts[arrays] + ARRAY_HEAD, ends[arrays]), arrays)
    wide = arrays[member(subtypes, b"sSiI")]
    if len(wide):  # their numbers, each a number
        wide_types = data[starts[wide]]
        counts = (ends[wide] - starts[wide] - ARRAY_HEAD) // ELEMENT_SIZES[wide_types]
        owner = np.repeat(np.arange(len(wide)), counts)
        index = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        element_types = wide_types[owner]
        numbers = integers(data, element_types, starts[wide][owner] + ARRAY_HEAD + index * ELEMENT_SIZES[element_types])
        # one byte a number, a NUL where the number is no byte and after each array
        places = np.arange(len(numbers)) + owner
        as_bytes = np.zeros(len(numbers) + len(wide), dtype=np.uint8)
        is_byte = (numbers >= -128) & (numbers <= 255)
        as_bytes[places[is_byte]] = (numbers[is_byte] & 0xFF).astype(np.uint8)
        add(as_bytes, counts + 1, wide)
        if least is not None:
            large = np.flatnonzero(np.abs(numbers) >= least)
            if len(large):
                add(*decimal_texts(numbers[large].tolist()), wide[owner[large]])
    if least is not None:
        reach = np.array([LARGEST.get(code, 0) >= least for code in range(256)])
        scalars = np.flatnonzero(reach[types])
        if len(scalars):
            numbers = integers(data, types[scalars], starts[scalars])
            large = scalars[np.abs(numbers) >= least]
            if len(large):
                add(*decimal_texts(integers(data, types[large], starts[large]).tolist()), large)
        real = np.flatnonzero(types == ord("f"))
        if len(real):
            values = floats(data, starts[real])
            with np.errstate(invalid="ignore"):
                whole = np.isfinite(values) & (np.abs(values) >= least) & (values == np.round(values)) & (np.abs(values) < 1e18)
            if whole.any():
                add(*decimal_texts(values[whole].astype(np.int64).tolist()), real[whole])
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return ValueTexts(b"", empty, empty, empty)
    return ValueTexts(np.concatenate(parts).tobytes(), np.concatenate(lengths), np.concatenate(rows), np.concatenate(tags))
