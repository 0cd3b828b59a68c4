"""Tab-separated fields located in bulk, and the numbers in them parsed strictly.

Every record command locates the columns it needs in a block of whole lines at once
(numpy over the bytes, or the C loops of ``_scan.c`` through ``scan``) instead of
splitting each line, and reads the few numbers it needs (POS, an INFO value, a BED
coordinate) with the parsers here. They are the only number parsers of the VCF
commands and ``regions``: strict where Python is lenient (``float("0.0_1")`` is
0.01, ``int(" 12")`` is 12; bcftools reads both differently), so a number either
means what every other tool reads or the line is an error.

Two kinds of helpers live here:

- spans: ``text[start:end]`` given as arrays of offsets (``spans_within``,
  ``span_digits``, ``span_floats``, ``info_values``), for blocks whose lines are
  already located (``vcf.RecordBlock``);
- ``BlockColumns``: the first tabs of each line of a block given as a list of
  lines, for the SAM side of ``regions``' callers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from genoscrub import scan
from genoscrub.scan_python import windows

NEWLINE, TAB, SEMICOLON, COMMA, DOT = 10, 9, 59, 44, 46
DIGITS = np.zeros(256, dtype=bool)
DIGITS[list(b"0123456789")] = True

# POS as htslib reads VCF text: 0 (a telomere) to 2^63 - 1 (hts_str2uint of 63 bits; longer
# is its "Position value is too large" error). Positions past 2^31 - 1 (contigs of more than
# 2 Gb) are read, as htslib does, but cannot go into BCF.
MAX_POS = (1 << 63) - 1
MAX_POS_TEXT = b"%d" % MAX_POS
MAX_POS_DIGITS = len(MAX_POS_TEXT)

# VCF 4.3, 1.3: the Float grammar (a C double as strtod reads it, without hex, blanks or underscores).
FLOAT_TEXT = re.compile(rb"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
SPECIAL_FLOAT = re.compile(rb"[-+]?(?:inf|infinity|nan)", re.IGNORECASE)
UNSIGNED_TEXT = re.compile(rb"[0-9]+")


# --- one number at a time -------------------------------------------------------------------


def vcf_float(text: bytes) -> float:
    """A VCF Float, or ValueError: no underscores, blanks or hex (Python's ``float``
    takes ``0.0_1`` and `` 1``; htslib reads ``0.0_1`` as 0)."""
    if FLOAT_TEXT.fullmatch(text) is None and SPECIAL_FLOAT.fullmatch(text) is None:
        raise ValueError("not a VCF Float")
    return float(text)


def unsigned_integer(text: bytes, limit: int) -> int:
    """Digits only, at most ``limit``, or ValueError (no sign, blank, underscore or wrap)."""
    if UNSIGNED_TEXT.fullmatch(text) is None or len(text.lstrip(b"0")) > len(str(limit)):
        raise ValueError("not an unsigned integer")
    value = int(text)
    if value > limit:
        raise ValueError("integer out of range")
    return value


def vcf_position(text: bytes) -> int:
    """A VCF POS: 0 to ``MAX_POS``, digits only, or ValueError."""
    return unsigned_integer(text, MAX_POS)


# --- spans of a block -------------------------------------------------------------------------


def spans_within(data: np.ndarray, text: bytes, starts: np.ndarray, ends: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """For each span ``data[start:end]``: is every byte of it in ``allowed`` (a 256-entry table)?
    An empty span is within anything. ``scan.spans_within``, which reads the spans from
    ``data``; ``text`` (the same bytes) is not needed."""
    return scan.spans_within(data, starts, ends, allowed)


def span_integers(data: np.ndarray, text: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Spans of digits (checked before, at most ``MAX_POS``) as int64: numpy for up to 18
    digits, Python for the rare longer ones; a value past int64 raises ValueError."""
    lengths = ends - starts
    values = np.zeros(len(starts), dtype=np.int64)
    if not len(starts):
        return values
    long_rows = np.flatnonzero(lengths > 18)
    width = int(lengths.max()) if not len(long_rows) else int(np.where(lengths > 18, 0, lengths).max())
    for offset in range(width):
        inside = offset < lengths
        digits = data[np.minimum(starts + offset, len(data) - 1)].astype(np.int64) - 48
        values = np.where(inside, values * 10 + digits, values)
    for row in long_rows.tolist():
        value = int(text[starts[row] : ends[row]])
        if value > MAX_POS:
            raise ValueError("integer past 64 bits")
        values[row] = value
    return values


def positions_beyond_limit(data: np.ndarray, text: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Which spans of digits are a POS past ``MAX_POS`` (leading zeros aside, only spans of
    19 or more digits are looked at, one by one)."""
    lengths = ends - starts
    beyond = np.zeros(len(starts), dtype=bool)
    for row in np.flatnonzero(lengths >= MAX_POS_DIGITS).tolist():
        digits = text[starts[row] : ends[row]].lstrip(b"0")
        beyond[row] = len(digits) > MAX_POS_DIGITS or (len(digits) == MAX_POS_DIGITS and digits > MAX_POS_TEXT)
    return beyond


def span_digits(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each span read as an integer, and whether it is one: 1 to 18 digits (0 where it is not)."""
    lengths = ends - starts
    valid = (lengths >= 1) & (lengths <= 18)
    values = np.zeros(len(starts), dtype=np.int64)
    if not valid.any():
        return values, valid
    width = int(lengths[valid].max())
    inside = np.arange(width) < lengths[:, None]
    digits = windows(data, starts, width) - np.uint8(48)  # a non-digit wraps past 9
    valid &= ((digits <= 9) | ~inside).all(axis=1)
    places = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    values[valid] = (np.where(inside[valid], digits[valid], 0).astype(np.int64) @ places) // places[lengths[valid] - 1]
    return values, valid


NUMBER_BYTES = np.zeros(256, dtype=bool)
NUMBER_BYTES[list(b"0123456789.eE+-")] = True
FLOAT_WIDTH = 24


def span_floats(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each span read as a float, and where that was done: spans of up to 24 digits, ``.``,
    ``e``, ``+``, ``-`` (not ``.`` alone) are gathered into one fixed-width bytes array that
    numpy converts at once; the others (``0.1,0.2``, ``.``, ``0.0_1``, empty) are NaN and not
    done, for the caller's one-by-one path. On these bytes numpy's conversion accepts what
    the VCF Float grammar accepts (``vcf_float``).
    """
    lengths = ends - starts
    done = (lengths > 0) & (lengths <= FLOAT_WIDTH) & ~((lengths == 1) & (data[np.minimum(starts, len(data) - 1)] == DOT))
    values = np.full(len(starts), np.nan)
    if not done.any():
        return values, done
    done[done] = spans_within(data, b"", starts[done], ends[done], NUMBER_BYTES)
    rows = np.flatnonzero(done)
    if not len(rows):
        return values, done
    width = int(lengths[rows].max())
    gathered = windows(data, starts[rows], width)
    gathered[np.arange(width) >= lengths[rows, None]] = 0
    decimal, parsed = decimal_floats(gathered, lengths[rows])
    values[rows[parsed]] = decimal
    rows, gathered = rows[~parsed], gathered[~parsed]
    if not len(rows):
        return values, done
    texts = np.ascontiguousarray(gathered).view(f"S{width}").ravel()
    try:
        values[rows] = texts.astype(np.float64)
    except ValueError:  # "1.2.3", "e", "-": one by one, and not done
        values[rows] = [_float_or_nan(text) for text in texts.tolist()]
        done[rows] = ~np.isnan(values[rows])
    return values, done


POWERS_OF_TEN = 10 ** np.arange(16, dtype=np.int64)


def decimal_floats(gathered: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Numbers written ``D`` or ``D.ddd`` (one digit, then at most 14 decimals: ``0.00013``, as
    bcftools and most annotators write frequencies) read by integer arithmetic, and which rows
    were: mantissa / 10**k with both exact is one correctly rounded division, the same float
    as ``float(text)``. The rest (``6e-05``, signs, long numbers) are left to ``astype``."""
    decimals = np.maximum(lengths - 2, 0)
    digit = (gathered >= 48) & (gathered <= 57)
    dot = gathered[:, 1] == DOT if gathered.shape[1] > 1 else np.zeros(len(gathered), dtype=bool)
    parsed = digit[:, 0] & ((lengths == 1) | (dot & (decimals <= 14)))
    width = min(gathered.shape[1] - 2, 14)
    if width > 0:
        inside = np.arange(width) < decimals[:, None]
        parsed &= (digit[:, 2 : 2 + width] | ~inside).all(axis=1)
        places = POWERS_OF_TEN[width - 1 :: -1][:width]
        fraction = np.where(inside, gathered[:, 2 : 2 + width] - 48, 0).astype(np.int64) @ places
        fraction //= POWERS_OF_TEN[width - np.minimum(decimals, width)]
    else:
        fraction = np.zeros(len(gathered), dtype=np.int64)
    scale = POWERS_OF_TEN[np.minimum(decimals, 15)]
    mantissa = (gathered[:, 0].astype(np.int64) - 48) * scale + fraction
    return (mantissa[parsed] / scale[parsed]).astype(np.float64), parsed


def _float_or_nan(text: bytes) -> float:
    try:
        return vcf_float(text)
    except ValueError:
        return float("nan")


def info_values(
    text: bytes, data: np.ndarray, line_starts: np.ndarray, key: bytes, info_start: np.ndarray, info_end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the value of INFO ``key`` is in each line: (found, start, end) offsets in ``text``.

    The first ``key=`` at the start of the INFO column or after a ``;``, as the regex
    ``(?:^|;)key=([^;]*)`` finds it (``scan.info_values``, over the INFO spans alone:
    ``data`` and ``line_starts`` are not needed). A key written twice is found by
    ``repeated_info_values``.
    """
    return scan.info_values(text, info_start, info_end, key)


def repeated_info_values(
    text: bytes, data: np.ndarray, key: bytes, info_end: np.ndarray, found: np.ndarray, value_end: np.ndarray
) -> list[tuple[int, int, int]]:
    """``(row, start, end)`` of every value of ``key`` after the first (``info_values``) in the
    rows where it was found: a key written twice (``AF=0.5;AF=0.00001``). Cheap when there
    are none: one count of ``key=`` over the block says so."""
    needle = key + b"="
    if text.count(needle) <= int(np.count_nonzero(found)):
        return []
    repeats: list[tuple[int, int, int]] = []
    rows = np.flatnonzero(found)
    after = value_end[rows] + 1  # past the ";" that ended the value
    while len(rows):
        inside = after < info_end[rows]
        rows, after = rows[inside], after[inside]
        if not len(rows):
            break
        more, starts, ends = scan.info_values(text, after, info_end[rows], key)  # the rest of each INFO
        rows, starts, ends = rows[more], starts[more], ends[more]
        repeats.extend(zip(rows.tolist(), starts.tolist(), ends.tolist(), strict=True))
        after = ends + 1
    return repeats


# --- the first tabs of each line of a block (lines given as a list) -----------------------------


@dataclass
class BlockColumns:
    """Where the first ``count`` tabs of each line of a block are."""

    data: np.ndarray  # the block as bytes
    line_starts: np.ndarray
    tabs: list[np.ndarray]  # tabs[k][i]: offset of the (k+1)-th tab of line i
    tab_counts: np.ndarray  # tabs on each line (so a caller can check the column count)


def block_columns(block: bytes, lines: list[bytes], count: int) -> BlockColumns | None:
    """Tab offsets of ``block`` (``lines`` joined by newlines), or None if a line has fewer than ``count`` tabs.

    One pass of ``scan.line_fields`` over the block (given a final newline)."""
    if not lines:
        return None
    located = scan.line_fields(block + b"\n", count)
    if located.bad_row >= 0 or located.line_count != len(lines):
        return None
    columns = list(np.ascontiguousarray(located.tabs.T))
    return BlockColumns(np.frombuffer(block, dtype=np.uint8), located.starts, columns, located.extra_counts + count)


def field_bounds(columns: BlockColumns, field: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of column ``field`` (0-based) on every line."""
    begin = columns.line_starts if field == 0 else columns.tabs[field - 1] + 1
    return begin, columns.tabs[field]


def field_values(block: bytes, columns: BlockColumns, field: int, widest: int = 64) -> np.ndarray:
    """Column ``field`` as a bytes array, gathered with array indexing (fields are short and hold no NUL)."""
    begin, end = field_bounds(columns, field)
    return gathered_spans(block, columns.data, begin, end, widest)


def gathered_spans(text: bytes, data: np.ndarray, begin: np.ndarray, end: np.ndarray, widest: int = 64) -> np.ndarray:
    """The spans ``text[begin:end]`` as a fixed-width bytes array (NUL-padded: spans must hold no NUL)."""
    widths = end - begin
    width = int(widths.max()) if len(widths) else 0
    if not 0 < width <= widest:
        return np.array([text[start:stop] for start, stop in zip(begin.tolist(), end.tolist(), strict=True)])
    offsets = np.arange(width)
    inside = offsets[None, :] < widths[:, None]
    index = np.where(inside, begin[:, None] + offsets[None, :], 0)
    gathered = np.where(inside, data[index], 0).astype(np.uint8)
    return np.ascontiguousarray(gathered).view(f"S{width}").ravel()


def distinct(values: np.ndarray) -> set[bytes]:
    """The distinct values of a bytes array; one comparison when all are equal (the usual block)."""
    if len(values) and bool((values == values[0]).all()):
        return {bytes(values[0])}
    return set(values.tolist())


SPAN_KEY_MIXER = np.uint64(0x9E3779B97F4A7C15)


def distinct_spans(text: bytes, starts: np.ndarray, ends: np.ndarray) -> tuple[list[bytes], np.ndarray]:
    """The distinct values of the spans ``text[starts[i]:ends[i]]`` and, for each span, the
    index of its value among them: a block's RG:Z values, many spans and few values.

    Each span gets a key from its length and its first and last 8 bytes (read in place,
    unaligned), the keys are sorted once, and the answer is then checked byte for byte
    (every span against its value, in one join); should two values share a key, the spans
    are looked up one by one instead. A block whose spans all hold one value (the common case:
    RNEXT ``=``, the RNAME of a sorted block) is settled by one comparison of each span with it.
    """
    if not len(starts):
        return [], np.zeros(0, dtype=np.int64)
    head = text[int(starts[0]) : int(ends[0])]
    if not scan.span_choices(text, starts, ends, [head]).any():  # one value (RNEXT '=', a sorted block's RNAME): one C pass
        return [head], np.zeros(len(starts), dtype=np.int64)
    lengths = ends - starts
    if len(text) >= 8 and int(starts.max()) <= len(text) - 8:
        words = np.ndarray(shape=(len(text) - 7,), dtype="<u8", buffer=text, strides=(1,))
        short = lengths < 8  # only the span's own bytes go into its key
        own_bytes = (np.uint64(1) << (np.minimum(lengths, 7) * 8).astype(np.uint64)) - np.uint64(1)
        head = words[starts] & np.where(short, own_bytes, ~np.uint64(0))
        tail = np.where(short, np.uint64(0), words[np.clip(ends - 8, 0, len(words) - 1)])
        keys = (head * SPAN_KEY_MIXER) ^ tail ^ lengths.astype(np.uint64)
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1).astype(np.int64)
        values = [text[start:end] for start, end in zip(starts[first].tolist(), ends[first].tolist(), strict=True)]
        sizes = lengths[first]
        offsets = np.cumsum(sizes) - sizes
        expected = scan.join_spans(b"".join(values), offsets[inverse], (offsets + sizes)[inverse])
        if (sizes[inverse] == lengths).all() and expected == scan.join_spans(text, starts, ends):
            return values, inverse
    spans = scan.span_list(text, starts, ends)
    index = {value: number for number, value in enumerate(dict.fromkeys(spans))}
    return list(index), np.fromiter(map(index.__getitem__, spans), dtype=np.int64, count=len(spans))
