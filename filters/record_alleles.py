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
germline list (``symbolic_key``): POS and its type, not its span. A deletion or insertion
written with its bases, of ``STRUCTURAL_LENGTH`` bases or more, is one an SV caller writes
as ``<DEL>`` or ``<INS>`` at the same POS: it has that key too (``structural_key``).

An MNP's keys are followed by the keys of the SNVs it is made of (``alleles.snv_parts``;
``parts`` says which key each belongs to), so the germline list and the population meet
it whichever way either file wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from genoscrub.alleles import (
    LONG_KEY,
    POS_DIGITS,
    SEQUENCE_BYTES,
    SITE_KEY,
    SNV_KEY_LIMIT,
    TEXT_KEY,
    UPPER,
    Allele,
    encoded,
    encoded_arrays,
    indel_key,
    indel_texts,
    left_aligned,
    mnp_texts,
    normalised,
    short_alleles,
    snv_parts,
    text_snv_parts,
    trimmed_alleles,
)
from genoscrub.fields import span_integers
from genoscrub.one_by_one import one_by_one
from genoscrub.rarity import SEQUENCE, SYMBOLIC, allele_kind, alt_alleles

SYMBOLIC_TYPE = re.compile(rb"<([^:>]*)")
BREAKEND = b"BND"
STRUCTURAL_LENGTH = 50
"""A deletion or insertion of this many bases or more is a structural variant (the usual SV
threshold): written with its bases, it is also keyed as the ``<DEL>`` or ``<INS>`` an SV caller
writes for it (``structural_key``)."""


def symbolic_key(pos: int, allele: bytes) -> Allele:
    """A symbolic allele's or breakend's key: ``(POS, "<", TYPE)``, TYPE the first part of its
    ID in upper case (``<DEL:ME:ALU>`` is ``DEL``) or ``BND`` for a breakend.

    Its span (END, SVLEN) and a breakend's mate are left out on purpose: two callers
    rarely agree on them, and a germline structural variant called again at its POS must
    not pass because its end differs by a base (fail closed)."""
    found = SYMBOLIC_TYPE.match(allele)
    kind = found.group(1).upper() if found is not None else BREAKEND
    return pos, b"<", kind


def structural_key(pos: int, allele: Allele) -> Allele | None:
    """The symbolic key (``symbolic_key``) of a deletion or insertion written with its bases,
    ``allele`` trimmed, that changes the length by ``STRUCTURAL_LENGTH`` bases or more: ``(POS,
    "<", "DEL")`` or ``"INS"`` at the record's POS, the padding base an SV caller's ``<DEL>``
    (END or SVLEN) is written at; None for a shorter change."""
    change = len(allele[2]) - len(allele[1])
    if change <= -STRUCTURAL_LENGTH:
        return pos, b"<", b"DEL"
    if change >= STRUCTURAL_LENGTH:
        return pos, b"<", b"INS"
    return None


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
    parts: np.ndarray

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
                allele = normalised(pos, ref, alt)
                codes.append(encoded(allele))
                structural_allele = structural_key(pos, allele)
                if structural_allele is not None:
                    structural.append((row, structural_allele))
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
    return with_snv_parts(
        RecordAlleles(
            positions, ref_end - ref_start, owners, offsets, counts, keys, texts, indels, symbolic, structural, np.full(len(keys), -1)
        )
    )


def left_aligned_indels(alleles: RecordAlleles, fetch: Callable[[int, int], bytes]) -> RecordAlleles:
    """``alleles`` with every insertion and deletion key moved to the left end of its repeat
    (``alleles.left_aligned``; ``fetch`` the contig's reference bases), for vcf-drop-rare
    ``--germline -r``: a list and an input that place an indel differently in a repeat meet."""
    keys = alleles.keys
    text_rows = np.flatnonzero(keys == TEXT_KEY)
    text_rows = text_rows[indel_texts(alleles.texts[text_rows])]
    long_rows = [index for index, (_, ref, alt) in alleles.indels.items() if keys[index] == LONG_KEY and not (ref and alt)]
    if not len(text_rows) and not long_rows:
        return alleles
    texts = alleles.texts.copy()
    for index in text_rows.tolist():
        text = bytes(texts[index])
        ref, _, alt = text[POS_DIGITS:].partition(b">")
        texts[index] = indel_key(*left_aligned((int(text[:POS_DIGITS]), ref, alt), fetch))  # as long as before: same width
    indels = dict(alleles.indels)
    for index in long_rows:
        indels[index] = left_aligned(indels[index], fetch)
    return replace(alleles, texts=texts, indels=indels)


def with_snv_parts(alleles: RecordAlleles) -> RecordAlleles:
    """``alleles`` with the keys of every MNP's SNVs (``alleles.snv_parts``) after the MNP's own
    key, in its record's keys; the same ``alleles`` when none is an MNP (found by numpy)."""
    keys = alleles.keys
    text_rows = np.flatnonzero(keys == TEXT_KEY)
    text_mnps = text_rows[mnp_texts(alleles.texts[text_rows])]
    long_mnps = [index for index, allele in alleles.indels.items() if keys[index] == LONG_KEY and snv_parts(allele)]
    if not len(text_mnps) and not long_mnps:
        return alleles
    owner, text_keys = text_snv_parts(alleles.texts[text_mnps])
    part_of: list[int] = []
    part_keys: list[int] = []
    for index in long_mnps:
        found = snv_parts(alleles.indels[index])
        part_of += [index] * len(found)
        part_keys += found
    parents = np.concatenate((text_mnps[owner], np.array(part_of, dtype=np.int64)))
    part_keys_array = np.concatenate((text_keys, np.array(part_keys, dtype=np.int64)))
    order = np.lexsort(
        (
            np.concatenate((np.zeros(len(keys), dtype=np.int64), np.ones(len(parents), dtype=np.int64))),
            np.concatenate((np.arange(len(keys)), parents)),
        )
    )
    moved = np.empty(len(order), dtype=np.int64)
    moved[order] = np.arange(len(order))  # where each key (old ones first, then the parts) went
    parts = np.full(len(order), -1, dtype=np.int64)
    parts[moved[len(keys) :]] = moved[parents]
    counts = alleles.counts + np.bincount(alleles.owners[parents], minlength=alleles.count)
    return RecordAlleles(
        alleles.positions,
        alleles.ref_lengths,
        np.repeat(np.arange(alleles.count), counts),
        np.cumsum(counts) - counts,
        counts,
        np.concatenate((keys, part_keys_array))[order],
        np.concatenate((alleles.texts, np.zeros(len(parents), dtype=alleles.texts.dtype)))[order],
        {int(moved[index]): allele for index, allele in alleles.indels.items()},
        alleles.symbolic,
        alleles.structural,
        parts,
    )
