"""Alleles as the join compares them: trimmed to their shortest form, upper case, encoded as keys.

Two records of one variant can be written differently: padded with shared bases
(``100 ATT AT`` and ``100 AT A``), split or joined with other alleles, in lower case
(VCF 4.3, 1.6.1: bases are case-insensitive). Both sides of a join (the input's
records and the population's) go through ``normalised``, so such records meet;
without the reference an indel cannot be left-aligned, so both files should be
normalised the same way (``bcftools norm -f ref.fa -m -``).

A trimmed allele is a key: SNV-shaped alleles (one base each side) are the int64
``POS<<16 | REF<<8 | ALT`` (``snv_key``), short indels a fixed-width text that sorts
by POS (``indel_key``), longer ones the allele itself. ``trimmed_alleles`` encodes
many alleles of a block at once with numpy, the same keys ``encoded(normalised(...))``
gives one by one.

An MNP (REF and ALT of one length, two bases or more, after trimming: ``TA>AC``) is the same
change as the SNVs it is made of (``T>A``, ``A>C`` at the next POS): one caller writes
adjacent changes as one record, another as two, ``bcftools norm -a`` the one as the other.
So an MNP is also keyed by its SNVs (``snv_parts``), on both sides of every join: the
population's MNP gives each of its SNVs its frequency, the input's MNP is also asked for
as its SNVs (``record_alleles``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import AnyStr

import numpy as np
from genoscrub.fields import spans_within

SEQUENCE_ALLELE = re.compile(rb"[ACGTNacgtn]+")
# A trimmed allele: POS, REF, ALT (``normalised``).
Allele = tuple[int, bytes, bytes]
SEQUENCE_BYTES = np.zeros(256, dtype=bool)
SEQUENCE_BYTES[list(b"ACGTNacgtn")] = True
UPPER = np.arange(256, dtype=np.uint8)
UPPER[ord("a") : ord("z") + 1] -= 32
UPPER_TABLE = bytes(UPPER.tolist())
# Alleles of up to ALLELE_WIDTH bases are trimmed by numpy (``trimmed_alleles``); longer ones by ``normalised``.
ALLELE_WIDTH = 16
# A trimmed indel whose REF and ALT have at most KEY_ALLELES bases is a fixed-width text key
# (``indel_key``: POS in POS_DIGITS digits, REF, ">", ALT), sorted by POS; a longer one a dict key.
KEY_ALLELES = 2 * ALLELE_WIDTH
POS_DIGITS = 12
TEXT_KEY, LONG_KEY = -1, -2
SITE_KEY = -3  # a record that names no sequence allele: a query for the site's REF frequency at its POS only
# A POS at or past this cannot be shifted into an ``snv_key`` (int64): such alleles are long keys.
SNV_KEY_LIMIT = 1 << 47
GREATER = ord(">")


def upper(allele: AnyStr) -> AnyStr:
    """An allele in upper case (bytes through one table, text through ``str.upper``)."""
    return allele.translate(UPPER_TABLE) if isinstance(allele, bytes) else allele.upper()  # type: ignore[return-value]


def normalised(pos: int, ref: AnyStr, alt: AnyStr) -> tuple[int, AnyStr, AnyStr]:
    """The shortest form of one allele, in upper case: shared trailing, then leading bases trimmed.

    ``100 ATT AT`` and ``100 AT A`` both become ``(101, "T", "")``, ``100 a g`` becomes
    ``(100, "A", "G")``; the same rule on both sides makes differently written records
    of one variant meet. (Without the reference this cannot left-align.)
    """
    ref, alt = upper(ref), upper(alt)
    if len(ref) == 1 and len(alt) == 1:
        return pos, ref, alt
    while ref and alt and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    start = 0
    limit = min(len(ref), len(alt))
    while start < limit and ref[start] == alt[start]:
        start += 1
    return pos + start, ref[start:], alt[start:]


def snv_key(pos: int, ref: bytes, alt: bytes) -> int:
    """POS<<16 | REF<<8 | ALT for a one-base REF and ALT (upper case)."""
    return (pos << 16) | (int(UPPER[ref[0]]) << 8) | int(UPPER[alt[0]])


def indel_key(pos: int, ref: bytes, alt: bytes) -> bytes:
    """A trimmed allele as text that sorts by POS: ``000000000101T>`` for ``(101, "T", "")``."""
    return b"%0*d%b>%b" % (POS_DIGITS, pos, ref, alt)


def encoded(allele: Allele) -> int | bytes | Allele:
    """A normalised allele's key: ``snv_key``, ``indel_key`` when short, else the allele itself."""
    pos, ref, alt = allele
    if len(ref) == 1 and len(alt) == 1 and 0 <= pos < SNV_KEY_LIMIT:
        return snv_key(pos, ref, alt)
    if len(ref) + len(alt) <= KEY_ALLELES and 0 <= pos < 10**POS_DIGITS:
        return indel_key(pos, ref, alt)
    return allele


def snv_parts(allele: Allele) -> list[int]:
    """The ``snv_key`` of each base an MNP changes (a trimmed allele whose REF and ALT have
    the same length, 2 or more): ``(1000, "TA", "AC")`` gives the keys of ``1000 T>A`` and
    ``1001 A>C``; a base REF and ALT share in the middle gives none. Empty for any other allele."""
    pos, ref, alt = allele
    if len(ref) != len(alt) or len(ref) < 2 or not 0 <= pos < SNV_KEY_LIMIT - len(ref):
        return []
    return [snv_key(pos + at, ref[at : at + 1], alt[at : at + 1]) for at in range(len(ref)) if ref[at] != alt[at]]


def mnp_texts(texts: np.ndarray) -> np.ndarray:
    """Which ``indel_key`` texts name an MNP (REF and ALT of one length, 2 or more), by numpy."""
    if not len(texts):
        return np.zeros(0, dtype=bool)
    width = texts.dtype.itemsize
    rows = np.ascontiguousarray(texts).view(np.uint8).reshape(len(texts), width)
    greater = np.argmax(rows == GREATER, axis=1)
    length = np.count_nonzero(rows, axis=1)
    ref_length = greater - POS_DIGITS
    return (ref_length >= 2) & (length - greater - 1 == ref_length)  # an empty text: no '>', argmax 0, no MNP


def text_snv_parts(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``snv_parts`` of many MNPs' ``indel_key`` texts (``mnp_texts``) at once, by numpy: the index
    of the text each SNV key comes from (in order) and the keys."""
    if not len(texts):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    width = texts.dtype.itemsize
    rows = np.ascontiguousarray(texts).view(np.uint8).reshape(len(texts), width).astype(np.int64)
    ref_length = np.argmax(rows == GREATER, axis=1) - POS_DIGITS
    positions = (rows[:, :POS_DIGITS] - ord("0")) @ (10 ** np.arange(POS_DIGITS - 1, -1, -1, dtype=np.int64))
    offsets = np.arange(int(ref_length.max()))
    inside = offsets < ref_length[:, None]
    ref = np.take_along_axis(rows, np.minimum(POS_DIGITS + offsets, width - 1)[None, :].repeat(len(rows), axis=0), axis=1)
    alt = np.take_along_axis(rows, np.minimum(POS_DIGITS + ref_length[:, None] + 1 + offsets, width - 1), axis=1)
    owner, offset = np.nonzero(inside & (ref != alt) & (positions[:, None] + offsets < SNV_KEY_LIMIT))
    return owner, ((positions[owner] + offset) << 16) | (ref[owner, offset] << 8) | alt[owner, offset]


LEFT_ALIGN_STEP = 64  # reference bases fetched at a time before an indel being left-aligned


def left_aligned(allele: Allele, fetch: Callable[[int, int], bytes]) -> Allele:
    """A trimmed insertion or deletion moved to the left end of the repeat it lies in, as
    ``bcftools norm -f`` places it: while the base before it is the indel's last base, the
    indel moves one base left (``(2004, "CA", "")`` in ``G(CA)8`` becomes ``(1990, "CA", "")``).
    ``fetch(start, end)``: the reference's bases ``[start, end)``, 0-based, upper case. Any other
    allele (an SNV, an MNP, a complex allele) is returned as it is."""
    pos, ref, alt = allele
    if (ref and alt) or not (ref or alt):
        return allele
    bases = ref or alt
    start = pos - 1  # 0-based: the first base deleted, or the base the insertion goes before
    while start > 0:
        window = fetch(max(0, start - LEFT_ALIGN_STEP), start)
        moved = 0
        for base in reversed(window):
            if base != bases[-1]:
                break
            bases = bytes((base,)) + bases[:-1]
            moved += 1
        start -= moved
        if not window or moved < len(window):
            break
    return (start + 1, bases, b"") if ref else (start + 1, b"", bases)


def indel_texts(texts: np.ndarray) -> np.ndarray:
    """Which ``indel_key`` texts name an insertion or deletion (REF or ALT empty), by numpy."""
    if not len(texts):
        return np.zeros(0, dtype=bool)
    rows = np.ascontiguousarray(texts).view(np.uint8).reshape(len(texts), texts.dtype.itemsize)
    greater = np.argmax(rows == GREATER, axis=1)
    length = np.count_nonzero(rows, axis=1)
    return (greater >= POS_DIGITS) & ((greater == POS_DIGITS) | (length == greater + 1)) & (length > POS_DIGITS + 1)


def encoded_arrays(codes: list[int | bytes | Allele]) -> tuple[np.ndarray, np.ndarray, dict[int, Allele]]:
    """``encoded`` keys as the join takes them: int64 keys, texts, long alleles by index."""
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
    raw = (ref_length == 1) & (alt_length == 1)  # ``normalised`` does not trim these (an A>A record stays A>A)
    tail = np.where(raw, 0, run(both & (gathered(ref_start, ref_length, True) == gathered(alt_start, alt_length, True))))
    ref_length, alt_length = ref_length - tail, alt_length - tail
    ref, alt = gathered(ref_start, ref_length, False), gathered(alt_start, alt_length, False)
    head = np.where(raw, 0, run((offsets < ref_length[:, None]) & (offsets < alt_length[:, None]) & (ref == alt)))
    ref_length, alt_length, positions = ref_length - head, alt_length - head, positions + head
    rows = np.arange(count)
    first = np.minimum(head, width - 1)
    keys = np.full(count, TEXT_KEY, dtype=np.int64)
    snv = (ref_length == 1) & (alt_length == 1)
    keys[snv] = (positions[snv] << 16) | (ref[rows, first][snv].astype(np.int64) << 8) | alt[rows, first][snv]
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


IUPAC_BASES = {
    "A": "A", "C": "C", "G": "G", "T": "T", "U": "T", "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT", "M": "AC",
    "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT",
}  # fmt: skip
"""The bases each nucleotide code stands for (IUPAC), upper case."""
AGREEING = np.zeros((256, 256), dtype=bool)
"""``AGREEING[a, b]``: codes ``a`` and ``b`` (either case) share a base. A byte that is no code
(``0`` past a contig's end, ``*``, ``.``) agrees with nothing."""
for _first, _bases in IUPAC_BASES.items():
    for _second, _others in IUPAC_BASES.items():
        if set(_bases) & set(_others):
            for _a in (ord(_first), ord(_first.lower())):
                AGREEING[_a, [ord(_second), ord(_second.lower())]] = True


def agrees_with_reference(allele: bytes, reference: bytes) -> bool:
    """Whether a REF allele is the reference's bases there, each code taken as the set of bases it
    stands for (a REF ``N`` or ``R`` over an ``A`` agrees, a reference ``N`` agrees with any base).
    ``reference`` shorter than the allele (the contig ends) does not agree."""
    if len(reference) != len(allele):
        return False
    if allele.upper() == reference.upper():
        return True
    return bool(AGREEING[np.frombuffer(allele, dtype=np.uint8), np.frombuffer(reference, dtype=np.uint8)].all())
