"""The matched normal's germline calls as a list of alleles: which records carry one.

A somatic call set keeps calls absent from the population (a somatic mutation is), so a
private germline variant mis-called as somatic would pass every frequency rule. The
normal's own germline VCF names such variants; vcf-drop-rare ``--germline`` drops every
record carrying one of its alleles (``GermlineList.carried``).

The list is read once, whole (plain, gzip or BGZF; a 30x genome has ~5M records), in
4 MiB blocks located by numpy (``vcf.RecordBlock``), and its alleles encoded by the same
function as the input's (``record_alleles``): CHROM through the input's contig map (the
same answer for ``chr1``/``1``, ``chrM``/``MT``), POS, and REF and ALT trimmed of shared
bases and in upper case, one key per allele of a multi-allelic record. It is held per
contig as sorted numpy arrays (SNV keys as int64, short indels as fixed-width text) and a
set for the few long indels and symbolic alleles: about 8 bytes an SNV, and a lookup is one
``searchsorted`` for a whole block.

With a reference (``-r``), every insertion and deletion of both files is moved to the left
end of its repeat before it is keyed (``record_alleles.left_aligned_indels``, as ``bcftools
norm -f`` places it), so a list and an input that place an indel differently meet. Without
it, an input indel that could be a listed one placed elsewhere in its repeat is reported apart
(``nearby_indels``, ARCHITECTURE.md *Indels along a repeat*), and dropped too.

Every record counts, whatever its FILTER or genotype (fail closed). Reference blocks
(ALT ``.``, ``<*>``, ``<NON_REF>``) and ``*`` name no allele of the person's. A symbolic
allele or breakend matches one of the same type at the same POS, whatever its span
(``record_alleles.symbolic_key``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from itertools import pairwise
from operator import ne

import numpy as np
from genoscrub.alleles import GREATER, POS_DIGITS, TEXT_KEY, UPPER, Allele, encoded, left_aligned, normalised
from genoscrub.contigs import ContigMap, names_in
from genoscrub.fasta import ContigReference, Fasta
from genoscrub.nearby_indels import NearbyIndels
from genoscrub.record_alleles import RecordAlleles, left_aligned_indels, record_alleles
from genoscrub.report import InputError
from genoscrub.vcf import RecordBlock, opened_input, split_header_text, text_blocks

LABEL = "germline list"
CHROM_WIDTH = 64


class ContigAlleles:
    """One contig's germline alleles, sorted for ``searchsorted``."""

    def __init__(self) -> None:
        self.snv_parts: list[np.ndarray] = []
        self.text_parts: list[np.ndarray] = []
        self.snvs = np.empty(0, dtype=np.int64)
        self.texts = np.empty(0, dtype="S1")
        self.others: set[Allele] = set()
        self.long_lengths: set[tuple[int, bytes, int]] = set()  # (padding POS, DEL or INS, length) of the long indels in ``others``
        self.nearby = NearbyIndels()  # the indels not left-aligned by a reference (``nearby_indels``)

    def add(self, alleles: RecordAlleles) -> None:
        keys = alleles.keys
        self.snv_parts.append(keys[keys >= 0])
        self.text_parts.append(alleles.texts[keys == TEXT_KEY])
        self.others.update(alleles.indels.values())
        self.others.update(key for _, key in alleles.structural)
        self.long_lengths.update(
            (pos - 1, b"DEL" if ref else b"INS", len(ref or alt)) for pos, ref, alt in alleles.indels.values() if bool(ref) != bool(alt)
        )

    def sort(self) -> None:
        if self.snv_parts:
            self.snvs = sorted_once(np.concatenate([self.snvs, *self.snv_parts]))
        texts = [part for part in self.text_parts if len(part)]
        if texts:
            self.texts = sorted_once(np.concatenate([self.texts, *texts]) if len(self.texts) else np.concatenate(texts))
        self.snv_parts, self.text_parts = [], []

    def __len__(self) -> int:
        return len(self.snvs) + len(self.texts) + len(self.others)


RecordRefs = tuple[np.ndarray, bytes, np.ndarray, np.ndarray]
"""A block's bytes (as numpy and as bytes) and where each record of a run has its REF in them (start, end)."""


ExtraSpans = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""Where each record of a run has its ALT and its INFO in the block's text (start, end, start, end)."""
ACGT = frozenset(b"ACGT")
ACGT_BYTES = np.zeros(256, dtype=bool)
ACGT_BYTES[list(ACGT)] = True
SEQUENCE = re.compile(rb"[ACGTNacgtn]+")
SVLEN = re.compile(rb"(?:^|;)SVLEN=-?([0-9]{1,9})")
END = re.compile(rb"(?:^|;)END=([0-9]{1,10})")


def complex_parts(allele: Allele) -> list[Allele]:
    """The parts of a normalised complex allele (REF and ALT of different lengths, neither empty:
    ``T>CA``, ``TA>C``) as ``bcftools norm --atomize`` and a caller that splits it write them:
    anchored at the left, the SNV of each base both share a place in, then the indel of the rest
    (``T>C``, ``A`` inserted after it); anchored at the right, the same from the other end (``T>A``,
    ``C`` inserted before it). A haplotype caller writes a germline SNV beside a somatic indel as one
    such allele. None for any other allele."""
    pos, ref, alt = allele
    if not ref or not alt or len(ref) == len(alt):
        return []
    common = min(len(ref), len(alt))
    parts = [(pos + at, ref[at : at + 1], alt[at : at + 1]) for at in range(common) if ref[at] != alt[at]]
    parts.append((pos + common, ref[common:], alt[common:]))
    ref_rest, alt_rest = len(ref) - common, len(alt) - common
    parts += [
        (pos + ref_rest + at, ref[ref_rest + at : ref_rest + at + 1], alt[alt_rest + at : alt_rest + at + 1])
        for at in range(common)
        if ref[ref_rest + at] != alt[alt_rest + at]
    ]
    parts.append((pos, ref[:ref_rest], alt[:alt_rest]))
    return parts


def complex_texts(texts: np.ndarray) -> np.ndarray:
    """Which ``indel_key`` texts name a complex allele (REF and ALT of different lengths, neither
    empty), by numpy."""
    if not len(texts):
        return np.zeros(0, dtype=bool)
    width = texts.dtype.itemsize
    rows = np.ascontiguousarray(texts).view(np.uint8).reshape(len(texts), width)
    greater = np.argmax(rows == GREATER, axis=1)
    ref_length = greater - POS_DIGITS
    alt_length = np.count_nonzero(rows, axis=1) - greater - 1
    return (ref_length >= 1) & (alt_length >= 1) & (ref_length != alt_length)


def symbolic_length(alt: bytes, info: bytes, pos: int) -> tuple[bytes, int] | None:
    """A symbolic ``<DEL>`` or ``<INS>`` (any subtype) by its type and length: SVLEN's first value,
    or a deletion's END less POS; None for another allele or without a length."""
    upper = alt.upper()
    kind = b"DEL" if upper.startswith(b"<DEL") else b"INS" if upper.startswith(b"<INS") else None
    if kind is None:
        return None
    found = SVLEN.search(info)
    if found is not None:
        length = int(found.group(1))
    elif kind == b"DEL" and (end := END.search(info)) is not None:
        length = int(end.group(1)) - pos
    else:
        return None
    return (kind, length) if length > 0 else None


def contig_holds(contig: ContigAlleles, allele: Allele) -> bool:
    """Whether one normalised allele is in a contig's list (by its ``encoded`` key)."""
    key = encoded(allele)
    if isinstance(key, int):
        return bool(sorted_hits(contig.snvs, np.array([key], dtype=np.int64))[0])
    if isinstance(key, bytes):
        return len(key) <= contig.texts.dtype.itemsize and bool(sorted_hits(contig.texts, np.array([key], dtype=contig.texts.dtype))[0])
    return key in contig.others


def contig_holds_length(contig: ContigAlleles, pos: int, kind: bytes, length: int) -> bool:
    """Whether a contig's list has a deletion (``kind`` DEL) or insertion of ``length`` bases whose
    padding base is at ``pos``: the short ones by their ``indel_key`` texts of that POS (found by
    ``searchsorted``), the long ones in ``long_lengths``."""
    if (pos, kind, length) in contig.long_lengths:
        return True
    texts = contig.texts
    if not len(texts):
        return False
    prefix = b"%0*d" % (POS_DIGITS, pos + 1)
    first, last = np.searchsorted(texts, [prefix, prefix + b"\xff"])
    for text in texts[first:last].tolist():
        ref, _, alt = text[POS_DIGITS:].partition(b">")
        if (ref if kind == b"DEL" else alt) and not (alt if kind == b"DEL" else ref) and len(ref or alt) == length:
            return True
    return False


def sorted_once(keys: np.ndarray) -> np.ndarray:
    """Keys sorted, each once (``np.unique`` hashes, several times slower on millions of keys)."""
    keys = np.sort(keys, kind="stable")
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys


def contig_bounds(block: RecordBlock) -> list[int]:
    """Where CHROM changes in a block (and its two ends), compared as byte rows by numpy: one
    Python object per record would cost more than reading the list."""
    start, end = block.column(0)
    lengths = end - start
    width = int(lengths.max()) if block.count else 0
    if width > CHROM_WIDTH:  # a long name somewhere: rows that wide would cost more than the names
        chroms = block.spans(start, end)
        changes = np.fromiter(map(ne, chroms[1:], chroms[:-1]), dtype=bool, count=max(0, block.count - 1))
    else:
        offsets = np.arange(width)
        rows = np.where(offsets < lengths[:, None], block.data[np.minimum(start[:, None] + offsets, len(block.data) - 1)], 0)
        changes = (lengths[1:] != lengths[:-1]) | (rows[1:] != rows[:-1]).any(axis=1)
    return [0, *(np.flatnonzero(changes) + 1).tolist(), block.count]


def sorted_hits(table: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Which ``keys`` are in the sorted array ``table``."""
    if not len(table) or not len(keys):
        return np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(table, keys), len(table) - 1)
    return table[at] == keys


def aligned(bases: ContigReference | None, chrom: str, alleles: RecordAlleles) -> RecordAlleles:
    """``alleles`` of contig ``chrom`` with their indels left-aligned against ``bases`` (a name no
    ``##contig`` line declared is looked up by its spellings when first met); as they are without
    a reference, or on a contig it lacks."""
    if bases is None or not bases.knows(chrom):
        return alleles
    return left_aligned_indels(alleles, lambda start, end: bases.fetch(chrom, start, end))


class GermlineList:
    """The alleles of a germline VCF, joined with the input's contigs.

    ``input_contigs`` are the input's ``##contig`` names and lengths: a contig of equal
    name (or of another convention's name) and different length stops the command
    before any record is read (``ContigMap``, *Same genome, or stop*). A CHROM no
    ``##contig`` line declares is looked up by its name and its other spellings.
    """

    def __init__(self, path: str, input_contigs: Mapping[str, int | None], reference: Fasta | None = None) -> None:
        self.path = path
        self.by_contig: dict[str, ContigAlleles] = {}
        self.records = 0
        self.input_bases: ContigReference | None = None  # by the input's contig names
        self.list_bases: ContigReference | None = None  # by the list's
        if reference is not None:  # same genome, or stop: the input's contigs against the reference's
            self.input_bases = reference.through(ContigMap(input_contigs, reference.lengths, "reference", reference.path))
        with opened_input(path) as stream:
            header, body = split_header_text(text_blocks(stream, path), path)
            contigs: dict[str, int | None] = dict(header.contigs)
            if reference is not None:
                to_reference = ContigMap(contigs, reference.lengths, "reference", reference.path, require_overlap=False)
                self.list_bases = reference.through(to_reference)
            for first_line, text in body:
                self._add_block(RecordBlock(first_line, text, path, len(header.columns)))
        for alleles in self.by_contig.values():
            alleles.sort()
            alleles.nearby.sort()
        for name in self.by_contig:
            contigs.setdefault(name, None)
        self.contigs = contigs
        self.contig_map = ContigMap(input_contigs, contigs, LABEL, path)
        self.names: dict[str, list[str]] = {name: list(others) for name, others in self.contig_map.to_others.items()}
        self.matched = bool(self.names)

    def _add_block(self, block: RecordBlock) -> None:
        self.records += block.count
        chrom_start, chrom_end = block.column(0)
        columns = [block.column(index) for index in (1, 3, 4)]
        for start, stop in pairwise(contig_bounds(block)):
            pos_spans, ref_spans, alt_spans = ((begin[start:stop], end[start:stop]) for begin, end in columns)
            name = block.text[chrom_start[start] : chrom_end[start]].decode(errors="surrogateescape")
            contig = self.by_contig.get(name)
            if contig is None:
                contig = self.by_contig[name] = ContigAlleles()
            alleles = record_alleles(block.data, block.text, pos_spans, ref_spans, alt_spans)
            if self.list_bases is None or not self.list_bases.knows(name):  # no reference to left-align with
                contig.nearby.add(alleles, block.data, block.text, *ref_spans)
            contig.add(aligned(self.list_bases, name, alleles))
            if len(contig.snv_parts) > 64:  # keep the parts few: merge them as they come
                contig.sort()

    def alleles(self) -> int:
        """How many distinct alleles the list holds."""
        return sum(len(contig) for contig in self.by_contig.values())

    def _contigs(self, chrom: str) -> list[ContigAlleles]:
        """The list's alleles of input contig ``chrom``: under every name the list gives it (a list
        may hold ``chrM`` and ``MT`` at once, or ``chr1`` and ``1`` after a partial rename; reading
        one would pass the other's alleles, a germline leak that depends on a spelling)."""
        if chrom not in self.names:  # a CHROM no ##contig line declared
            self.names[chrom] = names_in(chrom, self.contigs)
        names = self.names[chrom]
        if names:
            self.matched = True
        return [self.by_contig[name] for name in names if name in self.by_contig]

    def carried(
        self, chrom: str, alleles: RecordAlleles, refs: RecordRefs, extra: ExtraSpans | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Which records of a run on ``chrom`` carry an allele of the list (one bool a record), and
        which others carry an insertion or deletion that may be one of the list's placed elsewhere
        in its repeat (``nearby_indels``: without a reference to left-align both with). With
        ``extra`` (the records' ALT and INFO spans), a complex allele's parts and a symbolic
        deletion's or insertion's length count too (``_carried_as_parts``), and, with ``-r``, a REF
        off the reference's bases (``_ref_off_reference``)."""
        carried = np.zeros(alleles.count, dtype=bool)
        nearby = np.zeros(alleles.count, dtype=bool)
        contigs = self._contigs(chrom)
        left_aligned = aligned(self.input_bases, chrom, alleles) if contigs else alleles
        for contig in contigs:
            contig_carried, contig_nearby = self._carried_in(contig, left_aligned, alleles, refs)
            carried |= contig_carried
            nearby |= contig_nearby
        if contigs and extra is not None:
            bases = self.input_bases if self.input_bases is not None and self.input_bases.knows(chrom) else None
            fetch = None if bases is None else (lambda start, end: bases.fetch(chrom, start, end))
            carried |= self._carried_as_parts(contigs, alleles, refs, extra, fetch)
            if bases is not None:
                carried |= self._ref_off_reference(bases, chrom, alleles, refs)
        return carried, nearby & ~carried

    @staticmethod
    def _ref_off_reference(bases: ContigReference, chrom: str, alleles: RecordAlleles, refs: RecordRefs) -> np.ndarray:
        """Which records' REF differs from the reference at a base both write as A, C, G or T: a REF
        written as the normal's ALT (``C>G`` where the reference has ``T``) carries its allele. The
        first base by numpy for the run, the rest of a longer REF one by one."""
        data, text, ref_start, ref_end = refs
        positions = alleles.positions - 1
        first = bases.around(chrom, positions, 0)[:, 0] if len(positions) else np.zeros(0, dtype=np.uint8)
        written = UPPER[data[ref_start]]
        off = ACGT_BYTES[written] & ACGT_BYTES[first] & (written != first)
        for row in np.flatnonzero(~off & (ref_end - ref_start > 1)).tolist():
            ref = text[ref_start[row] : ref_end[row]].upper()
            reference = bases.fetch(chrom, int(positions[row]), int(positions[row]) + len(ref))
            off[row] = any(one != other and one in ACGT and other in ACGT for one, other in zip(ref, reference, strict=False))
        return off

    @staticmethod
    def _carried_as_parts(
        contigs: list[ContigAlleles],
        alleles: RecordAlleles,
        refs: RecordRefs,
        extra: ExtraSpans,
        fetch: Callable[[int, int], bytes] | None,
    ) -> np.ndarray:
        """Which records carry a listed allele as a part of a complex allele (``complex_parts``:
        ``T>CA`` holds the SNV ``T>C``), or as a symbolic ``<DEL>`` or ``<INS>`` of a listed indel's
        length at its padding base (SVLEN, or a deletion's END; with ``-r`` a ``<DEL>`` also as the
        reference bases it spans, left-aligned): an SV caller writes a 41-base deletion so. Only the
        records of a complex or symbolic allele (found by numpy) are read."""
        carried = np.zeros(alleles.count, dtype=bool)
        keys, texts = alleles.keys, alleles.texts
        rows = set(alleles.owners[keys == TEXT_KEY][complex_texts(texts[keys == TEXT_KEY])].tolist())
        rows.update(int(alleles.owners[index]) for index, (_, ref, alt) in alleles.indels.items() if ref and alt and len(ref) != len(alt))
        rows.update(np.flatnonzero(alleles.symbolic).tolist())
        if not rows:
            return carried
        _, text, ref_start, ref_end = refs
        alt_start, alt_end, info_start, info_end = extra
        for row in sorted(rows):
            pos, ref = int(alleles.positions[row]), text[ref_start[row] : ref_end[row]]
            info = text[info_start[row] : info_end[row]]
            wanted: list[Allele] = []
            lengths: list[tuple[int, bytes, int]] = []
            for alt in text[alt_start[row] : alt_end[row]].split(b","):
                if alt.startswith(b"<"):
                    span = symbolic_length(alt, info, pos)
                    if span is not None:
                        lengths.append((pos, *span))
                        if span[0] == b"DEL" and fetch is not None:
                            deleted = fetch(pos, pos + span[1])
                            if len(deleted) == span[1]:
                                wanted.append(left_aligned((pos + 1, deleted, b""), fetch))
                elif SEQUENCE.fullmatch(alt):
                    for part in complex_parts(normalised(pos, ref, alt)):
                        wanted.append(left_aligned(part, fetch) if fetch is not None and bool(part[1]) != bool(part[2]) else part)
            carried[row] = any(contig_holds(contig, allele) for contig in contigs for allele in wanted) or any(
                contig_holds_length(contig, *length) for contig in contigs for length in lengths
            )
        return carried

    @staticmethod
    def _carried_in(
        contig: ContigAlleles, alleles: RecordAlleles, unaligned: RecordAlleles, refs: RecordRefs
    ) -> tuple[np.ndarray, np.ndarray]:
        """``carried`` against the alleles the list holds under one of its names for a contig
        (``alleles`` left-aligned where a reference was given, ``unaligned`` as written)."""
        keys = alleles.keys
        hit = np.zeros(len(keys), dtype=bool)
        snv = keys >= 0
        hit[snv] = sorted_hits(contig.snvs, keys[snv])
        text = keys == TEXT_KEY
        hit[text] = sorted_hits(contig.texts, alleles.texts[text])
        for index, allele in alleles.indels.items():
            hit[index] = allele in contig.others
        carried = np.bincount(alleles.owners, weights=hit, minlength=alleles.count) > 0
        for row, key in alleles.structural:
            carried[row] |= key in contig.others
        # the list's indels of this contig were not left-aligned: the input's, as written, may meet them nearby
        nearby = contig.nearby.meeting(unaligned, *refs) & ~carried if contig.nearby else np.zeros(alleles.count, dtype=bool)
        return carried, nearby

    def check_matched(self, records: int) -> None:
        """After the input: records were read, the list has alleles, and no contig of the input
        was found in it (neither file declared its contigs to compare): another naming or
        build, and every record would have passed unchecked. Fail closed."""
        if records and self.alleles() and not self.matched:
            raise InputError(f"no contig of the {LABEL} matches a contig of the input: another genome build?", self.path)
