"""The alleles of a block's records, encoded as join keys, for every list they are joined with.

vcf-drop-rare joins a record's alleles with two lists: the population's frequencies
(``population.PopulationJoin``) and the matched normal's germline calls
(``germline_list.GermlineList``, ``--germline``). Both joins, and the reading of the
germline list itself, take their keys from ``record_alleles``, so an allele written
the same way meets itself whichever file it is in: CHROM (mapped by the caller), POS,
and REF and ALT trimmed of the bases they share and in upper case (``alleles``).

Most records are SNVs: a one-base REF and ALT is its ``snv_key`` computed by numpy for
the whole block; one short ALT of bases is trimmed by numpy (``alleles.trimmed_alleles``);
multi-allelic, long and symbolic records are split one by one, and every record with
``GENOSCRUB_ONE_BY_ONE=1`` (the tests compare the two).

A symbolic allele or breakend is no sequence: it is not sent to the population (whose
keys cannot name it; its frequency is unknown), but it has a key of its own for the
germline list (``symbolic_key``): POS and its type, not its span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from genoscrub.alleles import (
    SEQUENCE_BYTES,
    SITE_KEY,
    SNV_KEY_LIMIT,
    UPPER,
    Allele,
    encoded,
    encoded_arrays,
    normalised,
    short_alleles,
    trimmed_alleles,
)
from genoscrub.fields import span_integers
from genoscrub.one_by_one import one_by_one
from genoscrub.rarity import SEQUENCE, SYMBOLIC, allele_kind, alt_alleles

SYMBOLIC_TYPE = re.compile(rb"<([^:>]*)")
BREAKEND = b"BND"


def symbolic_key(pos: int, allele: bytes) -> Allele:
    """A symbolic allele's or breakend's key: ``(POS, "<", TYPE)``, TYPE the first part of its
    ID in upper case (``<DEL:ME:ALU>`` is ``DEL``) or ``BND`` for a breakend.

    Its span (END, SVLEN) and a breakend's mate are left out on purpose: two callers
    rarely agree on them, and a germline structural variant called again at its POS must
    not pass because its end differs by a base (fail closed)."""
    found = SYMBOLIC_TYPE.match(allele)
    kind = found.group(1).upper() if found is not None else BREAKEND
    return pos, b"<", kind


@dataclass
class RecordAlleles:
    """The alleles of a run of records on one contig, each record's in a row of ``keys``.

    ``keys`` holds ``snv_key`` values, ``TEXT_KEY`` where ``texts`` holds an ``indel_key``,
    ``LONG_KEY`` where ``indels`` holds the normalised allele, and ``SITE_KEY`` for a record
    with no sequence allele; ``owners`` says which record each key is of, ``offsets`` and
    ``counts`` where each record's keys are. ``symbolic`` marks the records naming a
    symbolic allele or breakend, whose keys are in ``structural`` as (record, key)."""

    positions: np.ndarray
    ref_lengths: np.ndarray
    owners: np.ndarray
    offsets: np.ndarray
    counts: np.ndarray
    keys: np.ndarray
    texts: np.ndarray
    indels: dict[int, Allele]
    symbolic: np.ndarray
    structural: list[tuple[int, Allele]]

    @property
    def count(self) -> int:
        return len(self.positions)


def record_alleles(
    data: np.ndarray,
    text: bytes,
    pos_spans: tuple[np.ndarray, np.ndarray],
    ref_spans: tuple[np.ndarray, np.ndarray],
    alt_spans: tuple[np.ndarray, np.ndarray],
) -> RecordAlleles:
    """Encode the alleles of records on one contig, given where their POS, REF and ALT are
    in ``text`` (``data`` its bytes as numpy)."""
    positions = span_integers(data, text, *pos_spans)
    ref_start, ref_end = ref_spans
    alt_start, alt_end = alt_spans
    count = len(positions)
    if one_by_one():
        snv = short = np.zeros(count, dtype=bool)
    else:
        snv = (ref_end - ref_start == 1) & (alt_end - alt_start == 1) & SEQUENCE_BYTES[data[alt_start]]
        snv &= positions < SNV_KEY_LIMIT
        short = ~snv & short_alleles(data, text, positions, ref_start, ref_end, alt_start, alt_end)
    counts = np.ones(count, dtype=np.int64)
    symbolic = np.zeros(count, dtype=bool)
    structural: list[tuple[int, Allele]] = []
    others = np.flatnonzero(~snv & ~short).tolist()
    other_codes: list[list[int | bytes | Allele]] = []
    for row in others:
        pos, ref = int(positions[row]), text[ref_start[row] : ref_end[row]]
        codes: list[int | bytes | Allele] = []
        for alt in alt_alleles(text[alt_start[row] : alt_end[row]]):
            kind = allele_kind(alt)
            if kind == SEQUENCE:
                codes.append(encoded(normalised(pos, ref, alt)))
            elif kind == SYMBOLIC:
                symbolic[row] = True
                structural.append((row, symbolic_key(pos, alt)))
        other_codes.append(codes or [SITE_KEY])
        counts[row] = len(other_codes[-1])
    owners = np.repeat(np.arange(count), counts)
    offsets = np.cumsum(counts) - counts
    keys = np.empty(len(owners), dtype=np.int64)
    keys[offsets[snv]] = (positions[snv] << 16) | (UPPER[data[ref_start[snv]]].astype(np.int64) << 8) | UPPER[data[alt_start[snv]]]
    short_keys, short_texts = trimmed_alleles(data, positions[short], ref_start[short], ref_end[short], alt_start[short], alt_end[short])
    keys[offsets[short]] = short_keys
    other_keys, other_texts, other_indels = encoded_arrays([code for codes in other_codes for code in codes])
    other_indexes = np.repeat(offsets[others], counts[others]) + (
        np.arange(len(other_keys)) - np.repeat(np.cumsum(counts[others]) - counts[others], counts[others])
    )
    keys[other_indexes] = other_keys
    widths = [texts.dtype.itemsize for texts in (short_texts, other_texts) if len(texts)]
    texts = np.zeros(len(owners), dtype=f"S{max(widths, default=1)}")
    texts[offsets[short]] = short_texts
    texts[other_indexes] = other_texts
    indels = {int(other_indexes[index]): allele for index, allele in other_indels.items()}
    return RecordAlleles(positions, ref_end - ref_start, owners, offsets, counts, keys, texts, indels, symbolic, structural)
