"""VCF records and header audited as text: what a recipient of the file would read.

VCF and bgzipped VCF are read as text (BCF is turned into VCF text by htslib first, see
``audit_formats``). Each record is split into its columns here, by this module's own
reading of VCF 4.4 (section 1.6), never by the scrubbers' code:

- metadata: header lines against the allowlist (``audit_header``); a sample name holding a
  path, an address, a personal number or date or text outside ASCII (``PERSONAL_IN_SAMPLE``; the
  scrubbers' pseudonyms pass); an ID column other than public database IDs and linked record
  IDs; an empty INFO item (``DP=5;;AF=0.5``, a trailing ``;``: the specification has none);
  INFO and FORMAT keys the header does not declare (the header's declarations were rebuilt
  by the scrubbers; an undeclared key was not); a record whose
  String values, keys, FILTER or symbolic ALT IDs hold an identifier's shape (a personal
  number, a date, a path, an address: ``audit_record_values``), one finding a record; an
  annotation entry naming an allele that is not one of the record's ALTs, and GATK's
  FORMAT/PID and PGT (``audit_allele_fields``: vcf-drop-rare removes them from every record
  whatever its options, so they are found whether or not rarity is judged);
- forbidden strings: in every column but POS, REF and a base ALT, located by column
  (``INFO/KEY``, ``sample 2 FORMAT/KEY``), as written and percent-decoded (each INFO item and
  sample value on its own, ``search_decoded``), and in the ``#CHROM`` sample names likewise;
- population (``--population FILE --af-key K``): a record with an allele rarer than
  ``--min-af`` in the population, or absent from it (matched by position and the
  allele trimmed of shared bases), or whose REF is that rare (1 - the sum of the ALT
  frequencies the population lists at that position); with ``--population-missing ok`` an
  allele the population lacks (or whose REF frequency it leaves unknown) passes, as
  ``vcf-drop-rare --keep-missing`` keeps it, and a rare one stays a finding;
- regions (``--bed``/``--preset``): a record whose span overlaps one: its REF, its INFO/END,
  and for a symbolic ALT other than ``<INS>`` POS + |INFO/SVLEN|; where an allele changes the
  length by L (an ALT of bases L longer or shorter than REF, a symbolic ``<DEL>``, ``<INS>``,
  ``<DUP>`` or ``<CNV>`` by its SVLEN), that span widened by L on each side, and a region it
  only meets counts too (``judged_span``): a normaliser places an indel in a repeat at its
  left end, up to about its own length before the repeat's first catalogued base. A record
  naming a place in one for a breakpoint of its own (a breakend's mate, an SV's other end:
  ``audit_record_traces.NamedPlaces``) counts too, located at the record.
- germline (``--germline FILE --germline-in-vcf``, for somatic call sets): a record carrying an
  allele of the matched normal's germline calls (``GermlineAlleles``), located and keyed by the
  record's site, never by the allele. An allele is compared whichever way a caller wrote it
  (``germline_keys``): an MNP also as the SNVs it is made of, a deletion or insertion of
  ``STRUCTURAL_BASES`` or more written with its bases also as the ``<DEL>`` or ``<INS>`` at its POS;
  with ``-r``, an insertion or deletion at the left end of its repeat (``leftmost``), wherever
  either file placed it; with ``-r`` also a record inside a window where sam-revert-germline
  reverts reads (``audit_windows``), which vcf-drop-rare --germline-windows drops. With
  ``--germline-markers`` (call sets ``vcf-drop-rare --drop-germline`` ran on), a record a caller
  marked germline (``audit_germline_markers``: Mutect2's FILTER ``germline``, Strelka2's
  ``NT=het``...), located by its site, the marker never shown;
- sample columns (``--max-samples N``): a ``#CHROM`` line with more than N, a metadata finding
  counted by the columns past N (a joint-called relative's genotypes), naming no sample.
"""

from __future__ import annotations

import math
import os
import re
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import numpy as np
import pysam
from genoscrub.audit_allele_fields import AlleleFields, csq_allele_field, lines_to_read
from genoscrub.audit_allowlist import PERSONAL_IN_SAMPLE, SAMPLE_PSEUDONYM, VCF_ID_COLUMN
from genoscrub.audit_findings import Findings
from genoscrub.audit_forbid import ForbidList
from genoscrub.audit_germline_markers import MARKED, marked_germline, may_hold_marker
from genoscrub.audit_header import (
    ABSENT_CONTIG,
    check_vcf_meta,
    contig_holds_personal,
    decoded_forms,
    forbidden_when_decoded,
    printable,
    structured,
)
from genoscrub.audit_record_traces import DeliveredTraces, NamedPlaces
from genoscrub.audit_record_values import KIND, RecordValues, gene_id_subfields
from genoscrub.audit_repeat_indels import RepeatIndels
from genoscrub.audit_sites import CONTIG_SPACING, Reference, Region, RegionList, VariantList, is_sequence_allele
from genoscrub.audit_vcf_columns import FAULTS, ColumnGrammar, is_sequence
from genoscrub.audit_windows import RevertWindows, call_span
from genoscrub.contigs import ContigMap, conventional_names, names_in
from genoscrub.one_by_one import one_by_one
from genoscrub.report import InputError, UsageError
from genoscrub.streams import line_blocks

ID_COLUMN = re.compile(VCF_ID_COLUMN.encode())
ID_NUMBER_FINDING = "ID column (a number past its database's)"
ID_OFF_ITS_DIGITS = re.compile(rb"(?:^|;)(?:rs(?:0|[0-9]{11})|COS[VM](?:0|[0-9]{10})|id0)")
"""An ID of the ID column's grammar whose number no database gives: a leading zero, an rs number of
11 digits or more (dbSNP's have at most 10), a COSV or COSM number of 10 or more (COSMIC's at most
9): a 13-digit registration number or a phone number written as one (``rs01012345678``)."""
LINKS_PER_RECORD = 8
"""How many linked-record IDs (``id1``...) vcf-scrub-header may have given per record read so far: it
numbers a record's own ID and the MATEID, EVENT and PARID it names, in order of first use."""
LINK_ID = re.compile(rb"(?:^|;)id([0-9]+)")


def id_past_its_numbers(column: bytes, records: int) -> bool:
    """Whether an ID column of the ID grammar (``VCF_ID_COLUMN``) holds a number no database or
    vcf-scrub-header gives (``ID_OFF_ITS_DIGITS``), or a linked-record ID past
    ``LINKS_PER_RECORD`` times the ``records`` read so far (``id9001011234567``)."""
    if ID_OFF_ITS_DIGITS.search(column) is not None:
        return True
    return b"id" in column and any(int(number) > LINKS_PER_RECORD * records for number in LINK_ID.findall(column))
SAMPLE_PERSONAL = re.compile(PERSONAL_IN_SAMPLE)
PSEUDONYM = re.compile(SAMPLE_PSEUDONYM)
SAMPLE_NAME_FINDING = "sample name (holds personal data)"
EMPTY_INFO_ITEM = "INFO (an empty item)"
ABSENT_RECORD = "CHROM (a contig the reference or dictionary lacks)"
"""A record no germline site or region of ``-r``/``--dict``'s genome can be joined with."""
EMPTY_LINE = "record line (empty)"
IN_GERMLINE_WINDOW = "call in a germline window"
"""A germline finding (``--germline-in-vcf`` with -r): a record whose allele lies where
sam-revert-germline -v reverts reads (``audit_windows``), which vcf-drop-rare --germline-windows drops."""
SPACE, ZERO = ord(" "), ord("0")
SAMPLE_TWICE = "sample name (given twice)"
ABSENT_ALLELE = "allele absent from the population"
DECLARED = re.compile(rb"^##(INFO|FORMAT|FILTER)=<ID=([^,>]+)")
FIXED_COLUMNS = ("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")
COLUMN_NAMES = ("CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT")
NO_ALLELE = frozenset({b".", b"<*>", b"<NON_REF>"})
"""ALTs that name no allele (no call, gVCF reference blocks): nothing to judge."""
ACGT = frozenset(b"ACGT")
TOLERANCE = 1e-9
LISTED_CONTIG_RECORD = "record on a listed contig"
"""A VCF record on a ``--forbid-contigs`` contig, as alignments' (``audit_bam.LISTED_CONTIG``), located by line."""
POPULATION_MARGIN = 100
"""How far before a record a population record may start and still trim to the same allele."""


def trimmed(start: int, ref: bytes, alt: bytes) -> tuple[int, bytes, bytes]:
    """An allele with the bases it shares with REF trimmed, last bases first, so that
    differently padded records of one variant compare equal."""
    while ref and alt and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    shared = 0
    while shared < min(len(ref), len(alt)) and ref[shared] == alt[shared]:
        shared += 1
    return start + shared, ref[shared:], alt[shared:]


SYMBOLIC_ID = re.compile(rb"<([^:>]*)")
NO_GERMLINE_ALLELE = frozenset({b".", b"*", b"<*>", b"<NON_REF>", b"<X>"})
"""ALTs that name no allele of the person's: no call, a deletion upstream, reference blocks."""


def germline_key(start: int, ref: bytes, alt: bytes) -> tuple[int, bytes, bytes] | None:
    """How the audit compares an allele with the germline list: trimmed and in upper case for
    bases; a symbolic allele or breakend by its type (``<DEL:ME>`` is DEL, a breakend BND) at its
    position, whatever its span or mate (a germline SV called again with another END still
    counts); None for an ALT that names no allele."""
    alt = alt.upper()
    if alt in NO_GERMLINE_ALLELE:
        return None
    if is_sequence_allele(alt):
        return trimmed(start, ref.upper(), alt)
    if alt.isalpha():  # N, or a run of N: no base to compare
        return None
    symbolic = SYMBOLIC_ID.match(alt)
    return start, b"<", symbolic.group(1) if symbolic is not None else b"BND"


def mnp_snvs(key: tuple[int, bytes, bytes]) -> list[tuple[int, bytes, bytes]]:
    """The SNVs a trimmed MNP (REF and ALT of one length, 2 or more: ``TAG>CAT``) is made of, one a
    base it changes (``T>C``, and two bases on ``G>T``); none for any other allele."""
    at, ref, alt = key
    if ref == b"<" or len(ref) != len(alt) or len(ref) < 2:
        return []
    return [(at + offset, ref[offset : offset + 1], alt[offset : offset + 1]) for offset in range(len(ref)) if ref[offset] != alt[offset]]


def complex_parts(key: tuple[int, bytes, bytes]) -> list[tuple[int, bytes, bytes]]:
    """The parts of a trimmed complex allele (REF and ALT of different lengths, neither empty:
    ``T>CA``, ``TA>C``), as ``bcftools norm --atomize`` and a caller that splits it write them:
    anchored at the left, the SNV of each base both share a place in and the indel of the rest
    after them (``T>C``, then ``A`` inserted); anchored at the right, the same from the other end
    (``T>A``, ``C`` inserted before it). A haplotype caller writes a germline SNV beside a somatic
    indel as one such allele. None for any other allele."""
    at, ref, alt = key
    if ref == b"<" or not ref or not alt or len(ref) == len(alt):
        return []
    common = min(len(ref), len(alt))
    left = [(at + offset, ref[offset : offset + 1], alt[offset : offset + 1]) for offset in range(common) if ref[offset] != alt[offset]]
    left.append((at + common, ref[common:], alt[common:]))
    ref_rest, alt_rest = len(ref) - common, len(alt) - common
    right = [
        (at + ref_rest + offset, ref[ref_rest + offset : ref_rest + offset + 1], alt[alt_rest + offset : alt_rest + offset + 1])
        for offset in range(common)
        if ref[ref_rest + offset] != alt[alt_rest + offset]
    ]
    right.append((at, ref[:ref_rest], alt[:alt_rest]))
    return left + right


SVLEN = re.compile(rb"(?:^|;)SVLEN=-?([0-9]{1,9})")
END = re.compile(rb"(?:^|;)END=([0-9]{1,10})")


def symbolic_span_key(start: int, alt: bytes, info: bytes) -> tuple[int, bytes, bytes] | None:
    """A symbolic ``<DEL>`` or ``<INS>`` (any subtype) at 0-based ``start`` (its padding base) by
    its type and length, ``(start, "<", "DEL/41")``: the length from SVLEN (its first value), or a
    deletion's from END; the key every listed deletion or insertion has at its padding base
    (``length_key``), whatever its length, so an SV caller's ``<DEL>`` of a listed 41-base or 3-base
    deletion meets it. None for another allele or no length."""
    upper = alt.upper()
    kind = b"DEL" if upper.startswith(b"<DEL") else b"INS" if upper.startswith(b"<INS") else None
    if kind is None:
        return None
    found = SVLEN.search(info)
    if found is not None:
        length = int(found.group(1))
    elif kind == b"DEL" and (end := END.search(info)) is not None:
        length = int(end.group(1)) - 1 - start
    else:
        return None
    return (start, b"<", kind + b"/%d" % length) if length > 0 else None


def length_key(key: tuple[int, bytes, bytes]) -> tuple[int, bytes, bytes] | None:
    """A trimmed deletion's or insertion's key as a symbolic allele of its length at its padding
    base (``symbolic_span_key``); None for any other allele."""
    at, ref, alt = key
    if ref == b"<" or bool(ref) == bool(alt):
        return None
    return (at - 1, b"<", b"DEL/%d" % len(ref)) if ref else (at - 1, b"<", b"INS/%d" % len(alt))


STRUCTURAL_BASES = 50
"""A deletion or insertion of this many bases or more, written with its bases, is also compared as
the symbolic ``<DEL>`` or ``<INS>`` an SV caller writes at the same POS."""


def germline_keys(start: int, ref: bytes, alt: bytes) -> list[tuple[int, bytes, bytes]]:
    """Every key an allele meets the germline list by (none for an ALT that names no allele):
    its ``germline_key``; for an MNP (REF and ALT of one length, 2 or more, once trimmed: ``TA>AC``)
    also the SNV of each base it changes (``T>A``, and ``A>C`` a base on), as another caller or
    ``bcftools norm -a`` writes it; for a deletion or insertion of ``STRUCTURAL_BASES`` or more
    written with its bases also ``(start, "<", "DEL")`` or ``"INS"``, the key of the symbolic
    allele an SV caller writes at the same POS (its padding base)."""
    key = germline_key(start, ref, alt)
    if key is None:
        return []
    keys = [key]
    _, ref_bases, alt_bases = key
    if ref_bases == b"<":
        return keys
    keys += mnp_snvs(key)
    keys += complex_parts(key)
    if len(ref_bases) - len(alt_bases) >= STRUCTURAL_BASES:
        keys.append((start, b"<", b"DEL"))
    elif len(alt_bases) - len(ref_bases) >= STRUCTURAL_BASES:
        keys.append((start, b"<", b"INS"))
    return keys


def structural_shape(start: int, ref: bytes, alt: bytes) -> tuple[int, bytes, bytes] | None:
    """How the population check compares a structural variant: a symbolic allele or breakend by its
    type at its position (``germline_key``), a deletion or insertion of ``STRUCTURAL_BASES`` or more
    written with its bases as the ``<DEL>`` or ``<INS>`` there; None for any other allele. Such a
    match can only make an allele rare (a common ``<DEL>`` there may span other bases)."""
    key = germline_key(start, ref, alt)
    if key is None:
        return None
    _, ref_bases, alt_bases = key
    if ref_bases == b"<":
        return key
    if len(ref_bases) - len(alt_bases) >= STRUCTURAL_BASES:
        return start, b"<", b"DEL"
    if len(alt_bases) - len(ref_bases) >= STRUCTURAL_BASES:
        return start, b"<", b"INS"
    return None


REF_WINDOW = 1 << 16
"""Reference bases read at a time to hold records' REF to (``GermlineAlleles.ref_differs``): records come in order."""
REFERENCE_STEP = 64
"""Reference bases read at a time before an indel moved left (``leftmost``)."""


def leftmost(key: tuple[int, bytes, bytes], bases_before: Callable[[int, int], bytes]) -> tuple[int, bytes, bytes]:
    """A trimmed insertion or deletion (0-based start, REF or ALT empty) at the left end of the
    repeat it lies in: while the reference base before it equals its last base, it moves a base
    left, keeping the haplotype (a ``CA`` deleted at the end of ``G(CA)8`` is the ``CA`` after
    ``G``), as ``bcftools norm -f`` places it. ``bases_before(start, end)``: the reference's upper-case
    bases of ``[start, end)``. Any other key is returned as it is."""
    start, ref, alt = key
    if bool(ref) == bool(alt) or ref == b"<":
        return key
    unit = ref or alt
    while start > 0:
        before = bases_before(max(0, start - REFERENCE_STEP), start)
        shift = 0
        while shift < len(before) and before[len(before) - 1 - shift] == unit[-1]:
            unit = before[len(before) - 1 - shift : len(before) - shift] + unit[:-1]
            shift += 1
        start -= shift
        if shift < len(before) or not before:
            break
    return (start, unit, b"") if ref else (start, b"", unit)


class GermlineAlleles:
    """The alleles of the germline list (as htslib read it, ``audit_sites.read_variants``), per
    contig: records of one-base REF and ALT as sorted int64 keys (``start << 16 | REF << 8 | ALT``,
    made by numpy: a whole genome's millions in 8 bytes each), the alleles of the other records
    as a set of ``germline_keys`` values (an MNP's SNVs, a long indel's symbolic type too)."""

    def __init__(self, variants: VariantList, path: str, reference: Reference | None = None) -> None:
        self.path = path
        self.contigs = variants.contigs
        self.reference = reference  # with -r: indels of both files compared at the left end of their repeat
        self.reference_names: dict[str, str | None] = {}
        self.window: tuple[str, int, bytes] = ("", 0, b"")  # the reference's bases REF is held to, read ``REF_WINDOW`` at a time
        if reference is not None:  # another build's bases would move indels anywhere: stop
            to_reference = ContigMap(self.contigs, reference.lengths, "reference", reference.path, require_overlap=False)
            self.reference_names.update(to_reference.to_other)
        self.windows = RevertWindows(variants, reference, self.reference_name) if reference is not None else None
        """With -r: where sam-revert-germline -v reverts reads around the list's sites (``in_window``)."""
        # one-base REF and ALT ("A,G" in the list's buffer) as keys by numpy; the rest one by one
        data = np.frombuffer(variants.alleles, dtype=np.uint8)
        first, sizes = variants.bounds[:-1], np.diff(variants.bounds)
        snv = sizes == 3
        at = first[snv]
        ref, comma, alt = data[at], data[at + 1], data[at + 2]
        letters = (ref >= ord("A")) & (ref <= ord("Z")) & (alt >= ord("A")) & (alt <= ord("Z")) & (ref != alt)
        snv[snv] = letters & (comma == ord(",")) & (alt != ord("N"))
        at = first[snv]
        keys = (variants.starts[snv] << 16) | (data[at].astype(np.int64) << 8) | data[at + 2]
        contigs = variants.contig_of[snv]
        order = np.lexsort((keys, contigs))  # by contig, then key (np.unique hashes: several times slower)
        keys, contigs = keys[order], contigs[order]
        once = np.concatenate(([True], (keys[1:] != keys[:-1]) | (contigs[1:] != contigs[:-1])))[: len(keys)]  # none: a list of no SNV
        keys, contigs = keys[once], contigs[once]
        edges = np.searchsorted(contigs, np.arange(len(variants.names) + 1))
        self.snvs = {name: keys[edges[index] : edges[index + 1]] for index, name in enumerate(variants.names)}
        self.others: dict[str, set[tuple[int, bytes, bytes]]] = {}
        self.repeats: dict[str, RepeatIndels] = {}  # indels not moved left by a reference (``audit_repeat_indels``)
        for index in np.flatnonzero(~snv).tolist():
            contig, start, ref_allele, alts = variants.record(index)
            for allele in alts:
                unmoved = germline_keys(start, ref_allele, allele)
                keys_of_allele = self.placed(contig, unmoved)
                if keys_of_allele:  # an SNV of a multi-allelic or padded record, or of an MNP, too: ``carried`` looks here after the array
                    self.others.setdefault(contig, set()).update(keys_of_allele)
                if unmoved and keys_of_allele is unmoved:  # not left-aligned: placed anywhere in its repeat
                    self.repeats.setdefault(contig, RepeatIndels()).add(start, ref_allele, unmoved[0])
                symbolic = length_key(unmoved[0]) if unmoved else None
                if symbolic is not None:  # as an SV caller writes it at the same POS, any length
                    self.others.setdefault(contig, set()).add(symbolic)

    def placed(self, contig: str, keys: list[tuple[int, bytes, bytes]]) -> list[tuple[int, bytes, bytes]]:
        """``keys`` of contig ``contig`` (the list's name) with indels moved to the left end of their
        repeat (``leftmost``) when a reference is given and has the contig (by a spelling of it)."""
        reference = self.reference
        if reference is None or not keys:
            return keys
        name = self.reference_name(contig)
        if name is None:
            return keys
        return [leftmost(key, lambda begin, end: reference.fetch(name, begin, end)) for key in keys]

    def reference_name(self, contig: str) -> str | None:
        """The reference's name for the list's contig ``contig`` (by a spelling of it), None
        without a reference or where it lacks the contig."""
        reference = self.reference
        if reference is None:
            return None
        if contig not in self.reference_names:
            spellings = (contig, *conventional_names(contig))
            self.reference_names[contig] = next((name for name in spellings if name in reference.lengths), None)
        return self.reference_names[contig]

    def ref_differs(self, contig: str, start: int, ref: bytes) -> bool:
        """Whether a record's REF (at 0-based ``start`` of the list's contig ``contig``) differs from
        the reference (``-r``) at a base both write as A, C, G or T: a REF written as a germline ALT
        (``C>G`` where the reference has ``T``) carries the normal's allele in its REF column."""
        name = self.reference_name(contig)
        if name is None or self.reference is None:
            return False
        window_name, window_start, window = self.window
        if window_name != name or not window_start <= start or start + len(ref) > window_start + len(window):
            window_start = start
            window = self.reference.fetch(name, start, start + max(REF_WINDOW, len(ref)))
            self.window = (name, start, window)
        bases = window[start - window_start : start - window_start + len(ref)]
        return any(
            written != base and written in ACGT and base in ACGT for written, base in zip(ref.upper(), bases, strict=False)
        )

    def symbolic_deletion(self, contig: str, start: int, key: tuple[int, bytes, bytes]) -> tuple[int, bytes, bytes] | None:
        """A symbolic deletion's ``symbolic_span_key`` as the deletion of the reference's bases it
        spans (with ``-r``), for ``placed`` to move to the left end of its repeat as the list's."""
        name = self.reference_name(contig)
        if name is None or self.reference is None or not key[2].startswith(b"DEL/"):
            return None
        length = int(key[2][4:])
        bases = self.reference.fetch(name, start + 1, start + 1 + length)
        return (start + 1, bases, b"") if len(bases) == length else None

    def in_window(self, contig: str, start: int, ref: bytes, alts: list[bytes]) -> bool:
        """Whether a record (``contig`` named as in the list) touches a window where sam-revert-germline
        -v turns reads back into the reference (with -r; ``audit_windows``): the reads delivered beside
        it no longer show its allele, which vcf-drop-rare ``--germline-windows`` drops."""
        if self.windows is None:
            return False
        low, high = call_span(start, ref, alts)
        return self.windows.touched(contig, low, high)

    def carried(self, contig: str, start: int, ref: bytes, alts: list[bytes], info: bytes = b".") -> bool:
        """Whether a record (``contig`` named as in the list) carries an allele of the list, or an
        insertion or deletion that may be one of the list's placed elsewhere in its repeat (where
        no reference moved the list's to the left end: ``audit_repeat_indels``). A symbolic ``<DEL>``
        or ``<INS>`` meets a listed deletion or insertion of its length at its POS
        (``symbolic_span_key``), and with ``-r`` a ``<DEL>`` also as the bases it spans."""
        snvs, others = self.snvs.get(contig), self.others.get(contig, set())
        every = [key for alt in alts for key in germline_keys(start, ref, alt)]
        for alt in alts:
            if alt.startswith(b"<"):
                span = symbolic_span_key(start, alt, info)
                if span is not None:
                    every.append(span)
                    deleted = self.symbolic_deletion(contig, start, span)
                    if deleted is not None:
                        every.append(deleted)
        for key in self.placed(contig, every):
            if snvs is not None and len(key[1]) == 1 and len(key[2]) == 1 and key[1] != b"<":
                code = (key[0] << 16) | (key[1][0] << 8) | key[2][0]
                at = bisect_left(snvs.data, code)
                if at < len(snvs) and snvs[at] == code:
                    return True
            if key in others:
                return True
        repeats = self.repeats.get(contig)
        if repeats and any(len(alt) != len(ref) for alt in alts):  # an indel changes the length
            for alt in alts:
                allele = germline_key(start, ref, alt)
                if allele is not None and repeats.meets(start, ref, allele):
                    return True
        return False


class NameMap:
    """The audited file's contig names -> another file's, by ``ContigMap``; names met only in
    records (no ``##contig`` line) are mapped when first seen."""

    def __init__(self, declared: Mapping[str, int | None], other: Mapping[str, int | None], label: str, path: str) -> None:
        self.other = other
        self.label = label
        self.path = path
        joined = ContigMap(declared, other, label, path).to_others if declared else {}
        self.names: dict[str, list[str]] = {name: list(others) for name, others in joined.items()}
        self.matched = bool(self.names)

    def every(self, name: str) -> list[str]:
        """Every name the other file gives contig ``name``: a list may hold ``chrM`` and ``MT`` at once,
        and a site under either is the contig's (``contigs.names_in``)."""
        if name not in self.names:
            self.names[name] = names_in(name, self.other)
        found = self.names[name]
        if found:
            self.matched = True
        return found

    def get(self, name: str) -> str | None:
        """The first of ``every``: where a site missing under one name is a finding anyway (the population)."""
        found = self.every(name)
        return found[0] if found else None


def block_end(info: bytes) -> int:
    """A record's INFO/END as a 0-based exclusive end (the largest, where END is written twice); 0 without one."""
    ends = [int(item[4:]) for item in info.split(b";") if item[:4] == b"END=" and item[4:].isdigit() and len(item) <= 14]
    return max(ends, default=0)


@dataclass
class PopulationRecord:
    """A population record as the check reads it: each ALT's frequency (None: ``.``, or past the end
    of a short array), REF's where the key is Number=R (or ``CAF``), whether REF's frequency at its
    POS is not known (``inexact``) and whether a value is not a frequency (``bad``)."""

    start: int
    ref: bytes
    alts: list[bytes]
    afs: list[float | None]
    given: float | None
    inexact: bool
    bad: bool


NOT_A_FREQUENCY = 2.0
"""A value that is not a frequency (``x``, ``1.5``): an error where a record needs it."""
VCF_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?(?i:inf|infinity|nan)")


def frequency_text(text: str) -> float | None:
    """One value as written: None for ``.``, nothing or NaN; ``NOT_A_FREQUENCY`` off the VCF Float
    grammar or outside 0 to 1."""
    if text in ("", "."):
        return None
    if VCF_FLOAT.fullmatch(text) is None:
        return NOT_A_FREQUENCY
    value = float(text)
    if math.isnan(value):
        return None
    return value if 0.0 <= value <= 1.0 else NOT_A_FREQUENCY


def rarer_value(first: float | None, second: float | None) -> float | None:
    """An allele's value given twice: the lower, a value over none, and a bad value over any."""
    if first is None or second is None:
        return second if first is None else first
    return NOT_A_FREQUENCY if NOT_A_FREQUENCY in (first, second) else min(first, second)


def population_record(start: int, ref: bytes, alts: list[bytes], listings: list[list[float | None]], ref_first: bool) -> PopulationRecord:
    """A record from every listing of its key (a key written twice, ``AF=0.5;AF=0.0001``, counts
    by its rarer values; htslib's readers see the first only). Each listing's values belong to the
    alleles in order (REF's first where ``ref_first``). REF's frequency at the record's POS is not
    known (fail closed: an allele there that is not rare counts as missing, as vcf-drop-rare drops
    it) where an ALT has no value and no REF value is given, where a listing is shorter than the
    alleles (its values may be other alleles'), and where the key written twice gives an allele a
    value once and none the other time."""
    afs: list[float | None] = [None] * len(alts)
    given: float | None = None
    ambiguous = False
    offset = 1 if ref_first else 0
    for values in listings:
        ambiguous |= len(values) < len(alts) + offset or len(listings) > 1 and None in values
        if ref_first:
            given = rarer_value(given, values[0] if values else None)
        for index in range(len(alts)):
            at = index + offset
            afs[index] = rarer_value(afs[index], values[at] if at < len(values) else None)
    unknown = any(af is None for af, alt in zip(afs, alts, strict=True) if alt not in PLACEHOLDERS)
    bad = NOT_A_FREQUENCY in (*afs, given)
    return PopulationRecord(start, ref, alts, afs, given, ambiguous or unknown and given is None, bad)


PLACEHOLDERS = frozenset({b"<*>", b"<NON_REF>"})
"""gVCF placeholders, which stand for no allele: a frequency missing there leaves REF known."""
UNKNOWN_REF = "REF frequency unknown in the population"
"""A record whose REF frequency the population leaves unknown (an ALT at the site without a
value, or a short array), and none of its alleles rare: vcf-drop-rare drops it as missing."""


@dataclass
class PopulationSite:
    """The population records at one POS, whatever their REF, as vcf-drop-rare joins them: REF's
    frequency is at most 1 less every ALT frequency listed there (gVCF placeholders aside) and at
    most the lowest Number=R REF value; not known exactly where one of them is ``inexact``."""

    alt_sum: float = 0.0
    given: float | None = None
    inexact: bool = False
    bad: bool = False

    def add(self, record: PopulationRecord) -> None:
        self.alt_sum += sum(af for af, alt in zip(record.afs, record.alts, strict=True) if af is not None and alt not in PLACEHOLDERS)
        self.given = rarer_value(self.given, record.given)
        self.inexact |= record.inexact
        self.bad |= record.bad

    def bound(self) -> float:
        return min(1.0 - self.alt_sum, 1.0 if self.given is None else self.given)


TWO_NAMES = "population file holds the contig under two names"
"""A population check's reason where the file has records of the record's contig under two of its
names (``chrM`` and ``MT``): vcf-drop-rare stops on such a file, so a delivery has not been judged by it."""


class PopulationFrequencies:
    """Allele frequencies from a tabix-indexed population VCF (``--af-key``), read with htslib
    in step with the audited file: a window of records around the current position."""

    def __init__(self, path: str, af_key: str, min_af: float) -> None:
        self.path = path
        self.af_key = af_key
        self.min_af = min_af
        try:
            self.variants = pysam.VariantFile(path)
        except (OSError, ValueError):
            raise InputError("cannot read the population file (a VCF or BCF file htslib can parse)", path) from None
        if af_key not in self.variants.header.info:
            raise UsageError(f"the population file declares no INFO/{af_key} (--af-key)")
        if self.variants.index is None:
            raise InputError("the population file has no index (tabix -p vcf, or bcftools index)", path)
        self.ref_first = self.variants.header.info[af_key].number == "R" or af_key == "CAF"
        """Whether the key's first value is REF's (Number=R, and dbSNP's ``CAF``), as vcf-drop-rare reads it."""
        self.lines: pysam.TabixFile | None = None
        """A VCF's records are read as text, every value of the key found by a byte search (a key
        written twice too), at no more cost than htslib's parsing of every INFO field (1M records of
        about 70 INFO keys: 11.5 CPU s against 12.6), where finding a key written twice through
        pysam (every key's name) cost 6 CPU us a record more; a BCF's through htslib."""
        if self.variants.format == "VCF":
            index = next((path + suffix for suffix in (".tbi", ".csi") if os.path.exists(path + suffix)), None)
            try:
                self.lines = pysam.TabixFile(path, parser=None, index=index)  # type: ignore[arg-type]
            except (OSError, ValueError):
                raise InputError("the population file has no index (tabix -p vcf, or bcftools index)", path) from None
        self.contigs: dict[str, int | None] = {str(name): contig.length for name, contig in self.variants.header.contigs.items()}
        self.with_records = frozenset(str(name) for name in self.variants.index)
        """The contigs the index holds records of: of the names the file gives a contig (a header
        may declare ``chrM`` and ``MT`` and hold records under one), the one to read."""
        for name in self.with_records:
            self.contigs.setdefault(name, None)
        self.contig: str | None = None
        self.records: Iterator[Any] = iter(())
        self.window: list[PopulationRecord] = []
        self.read_to = -1
        self.low = -1

    def near(self, contig: str, start: int, end: int) -> list[PopulationRecord]:
        """Population records starting in ``[start - margin, end]`` (0-based)."""
        low = max(0, start - POPULATION_MARGIN)
        if contig != self.contig or low < self.low:
            self.contig, self.low, self.window, self.read_to = contig, low, [], low - 1
            try:
                self.records = self.lines.fetch(contig, low) if self.lines is not None else self.variants.fetch(contig, low)
            except ValueError:
                self.records = iter(())
        self.low = low
        while self.read_to <= end:
            record = next(self.records, None)
            if record is None:
                self.read_to = 1 << 62
                break
            entry = self.text_record(record) if self.lines is not None else self.bcf_record(record)
            self.window.append(entry)
            self.read_to = entry.start
        self.window = [entry for entry in self.window if entry.start >= low]
        return [entry for entry in self.window if entry.start <= end]

    def text_record(self, line: str) -> PopulationRecord:
        """A VCF record's line: CHROM to INFO, and every value of the key in INFO."""
        fields = line.split("\t", 8)
        if len(fields) < 8 or not fields[1].isdigit():
            raise InputError("population record with fewer than 8 columns or a POS that is not a number", self.path)
        info, key = fields[7], self.af_key + "="
        starts = [0] if info.startswith(key) else []
        at = info.find(";" + key)
        while at >= 0:
            starts.append(at + 1)
            at = info.find(";" + key, at + 1)
        listings = []
        for begin in starts:
            value_end = info.find(";", begin)
            value = info[begin + len(key) : value_end if value_end >= 0 else len(info)]
            listings.append([frequency_text(text) for text in value.split(",")])
        alts = [] if fields[4] == "." else [alt.upper().encode() for alt in fields[4].split(",")]
        return population_record(int(fields[1]) - 1, fields[3].upper().encode(), alts, listings, self.ref_first)

    def bcf_record(self, record: pysam.VariantRecord) -> PopulationRecord:
        """A BCF record through htslib: every value of the key (``items``, a key written twice too)."""
        listings = []
        for name, values in record.info.items():
            if name != self.af_key:
                continue
            listings.append(
                [
                    None if value is None or math.isnan(value) else value if 0.0 <= value <= 1.0 else NOT_A_FREQUENCY
                    for value in (values if isinstance(values, tuple) else (values,))
                ]
            )
        alts = [alt.upper().encode() for alt in record.alts or ()]
        return population_record(record.start, (record.ref or "").upper().encode(), alts, listings, self.ref_first)

    def judge(self, contig: str, start: int, ref: bytes, alts: list[bytes], end: int = 0) -> list[str]:
        """Why a record's alleles are not common enough: ``[]`` when every allele reaches min-af.
        A record that names no allele (ALT ``.``, a gVCF reference block) says the person carries
        REF over its span, to ``end`` (0-based, exclusive: its INFO/END) where that is longer."""
        judged = [alt.upper() for alt in alts if alt not in NO_ALLELE]
        if not judged:
            return self.judge_block(contig, start, max(end, start + len(ref)))
        ref = ref.upper()
        nearby = self.near(contig, start, start + len(ref))
        known: dict[tuple[int, bytes, bytes], float | None] = {}
        sources: dict[tuple[int, bytes, bytes], set[int]] = {}  # an allele's key -> the POS of each record listing it
        in_mnps: dict[tuple[int, bytes, bytes], float] = {}  # the SNVs of the population's MNPs: the rarest MNP's value
        structural: dict[tuple[int, bytes, bytes], float] = {}  # an SV's type at its POS -> the rarest value
        sites: dict[int, PopulationSite] = {}  # every record at a POS is one site, whatever its REF
        for other in nearby:
            site = sites.setdefault(other.start, PopulationSite())
            site.add(other)
            for other_alt, af in zip(other.alts, other.afs, strict=True):
                if is_sequence_allele(other_alt):
                    population_key = trimmed(other.start, other.ref, other_alt)
                    known[population_key] = rarer_value(known.get(population_key), af)  # listed twice: the rarer
                    for each in (population_key, *mnp_snvs(population_key)):
                        sources.setdefault(each, set()).add(other.start)
                if af is None:
                    continue
                shape = structural_shape(other.start, other.ref, other_alt)
                if shape is not None:
                    structural[shape] = min(af, structural.get(shape, af))
                for part in mnp_snvs(population_key) if is_sequence_allele(other_alt) else []:
                    in_mnps[part] = min(af, in_mnps.get(part, af))

        def frequency(key: tuple[int, bytes, bytes]) -> float | None:
            """An allele's frequency, listed on its own or within an MNP (the rarer of the two)."""
            values = [value for value in (known.get(key), in_mnps.get(key)) if value is not None]
            return min(values) if values else None

        reasons = []
        threshold = self.min_af - TOLERANCE
        asked = {start}  # the sites REF is judged at: POS, where each allele (and an MNP's SNVs) came from, the SNVs' own
        # and every site REF spans: a person carrying REF (98 AAGAA A, 0/1) carries each of its bases, as a block does
        asked |= {at for at in sites if start <= at < start + len(ref)}
        for alt in judged:
            shape = structural_shape(start, ref, alt)
            if shape is not None and structural.get(shape, 1.0) < threshold:  # a rare SV of its type at its POS
                reasons.append(f"allele rarer than {self.min_af:g}")
                continue
            key = trimmed(start, ref, alt) if is_sequence_allele(alt) else None
            af = frequency(key) if key is not None else None
            parts = mnp_snvs(key) if key is not None else []
            for each in [key, *parts] if key is not None else []:
                asked |= sources.get(each, set())
            asked |= {part_start for part_start, _, _ in parts}
            pieces = complex_parts(key) if key is not None else []  # a complex allele's parts, either anchoring
            if NOT_A_FREQUENCY in (af, *(frequency(part) for part in [*parts, *pieces])):
                raise InputError(f"population INFO/{self.af_key} value is not a frequency between 0 and 1", self.path)
            if any(value is not None and value < threshold for value in map(frequency, pieces)):
                reasons.append(f"allele rarer than {self.min_af:g}")  # 100 AT GTT carries a rare 100 A G
                continue
            if parts:  # an MNP: whole and as its SNVs, as their own records would be judged
                values = [frequency(part) for part in parts]
                if any(value is not None and value < threshold for value in [af, *values]):
                    reasons.append(f"allele rarer than {self.min_af:g}")
                elif af is None and None in values:
                    reasons.append(ABSENT_ALLELE)
            elif af is None:
                reasons.append(ABSENT_ALLELE)
            elif af < threshold:
                reasons.append(f"allele rarer than {self.min_af:g}")
        asked_sites = [sites[at] for at in asked if at in sites]
        if any(site.bad for site in asked_sites):
            raise InputError(f"population INFO/{self.af_key} value is not a frequency between 0 and 1", self.path)
        if min((site.bound() for site in asked_sites), default=1.0) < threshold:
            reasons.append(f"REF rarer than {self.min_af:g}")
        if not reasons and any(site.inexact for site in asked_sites):
            reasons.append(UNKNOWN_REF)
        return sorted(set(reasons))

    def judge_block(self, contig: str, start: int, end: int) -> list[str]:
        """A reference block says the person carries the REF allele at every base of
        ``[start, end)``: rare where the population's REF frequency at one of its sites (1 less
        the ALT frequencies listed there, or its Number=R REF value) is below min-af, and a finding
        too where a site's REF frequency is not known (``PopulationSite``), as vcf-drop-rare judges it."""
        sites: dict[int, PopulationSite] = {}
        for other in self.near(contig, start, end - 1):
            if start <= other.start < end:
                sites.setdefault(other.start, PopulationSite()).add(other)
        if any(site.bad for site in sites.values()):
            raise InputError(f"population INFO/{self.af_key} value is not a frequency between 0 and 1", self.path)
        threshold = self.min_af - TOLERANCE
        if any(site.bound() < threshold for site in sites.values()):
            return [f"REF rarer than {self.min_af:g} in a reference block"]
        return [UNKNOWN_REF] if any(site.inexact for site in sites.values()) else []

    def rare_reference_at(self, contig: str, start: int, length: int) -> bool:
        """Whether the population site at ``start`` (0-based) has a REF rarer than min-af
        (``PopulationSite``, known exactly) written ``length`` bases long by one of its records:
        vcf-drop-rare drops every call there and covers no such site (``record_traces``), so a
        gVCF of anyone called there has a hole of that REF."""
        site = PopulationSite()
        lengths = set()
        for other in self.near(contig, start, start):
            if other.start == start:
                site.add(other)
                lengths.add(len(other.ref))
        return length in lengths and not site.bad and not site.inexact and site.bound() < self.min_af - TOLERANCE

    def close(self) -> None:
        self.variants.close()
        if self.lines is not None:
            self.lines.close()


@dataclass
class RegionRequest:
    beds: list[str]
    presets: list[str]
    build: str
    flank: int


RECORD_RARE = "allele rarer than --min-af (its record's --af-key)"
RECORD_MISSING = "allele without a frequency (its record's --af-key)"
MISSING_REASONS = frozenset({ABSENT_ALLELE, UNKNOWN_REF, RECORD_MISSING})
"""The population findings of an allele whose frequency is not known, none of a rare one: with
``--population-missing ok`` they are none, as ``vcf-drop-rare --keep-missing`` keeps such records
(a somatic mutation is absent from every population resource)."""
PLACEHOLDER_ALLELES = frozenset({b"<*>", b"<NON_REF>"})


class RecordFrequencies:
    """``--af-key`` without ``--population``: each VCF record judged by the frequencies its own INFO
    gives, as vcf-drop-rare judges them without a population file (the audit's own copy of its rule,
    ``rarity``): an allele whose value is below ``--min-af``, or REF whose frequency (the Number=R or
    CAF value, else 1 less the ALTs') is, is rare; an allele with no value (the key absent, ``.``, one
    value for several ALTs, a count that does not fit) is missing, as is REF beside such an allele.
    ``<*>`` and ``<NON_REF>`` are no allele; ``*`` counts only with a value. Judged record by record:
    vcf-drop-rare also judges REF over a split site's records, which finds no more here (REF's
    frequency a record leaves is at least its site's). dbSNP's COMMON: 0 is rare, anything but 1
    missing."""

    def __init__(self, af_key: str, min_af: float) -> None:
        self.af_key = af_key
        self.min_af = min_af
        self.pattern = re.compile(rb"(?:^|;)" + re.escape(af_key.encode()) + rb"=([^;]*)")

    def judge(self, info: bytes, alts: list[bytes], number: bytes | None) -> list[str]:
        """The population findings of one record (none, ``RECORD_RARE`` or ``RECORD_MISSING``)."""
        if all(alt in PLACEHOLDER_ALLELES for alt in alts):
            return []  # nothing but REF, everybody's allele
        texts = self.pattern.findall(info)
        if self.af_key == "COMMON":
            if b"0" in texts:
                return [RECORD_RARE]
            return [] if texts and all(text == b"1" for text in texts) else [RECORD_MISSING]
        ref_first = self.af_key == "CAF" or number == b"R"
        per_alt: list[float | None] = [None] * len(alts)
        given: float | None = None
        malformed = False
        for text in texts:
            values = [frequency_text(value.decode("latin-1")) for value in text.split(b",")]
            if ref_first:
                if len(values) != len(alts) + 1:
                    malformed = True
                    continue
                given = rarer_value(given, values[0]) if given is not None else values[0]
                values = values[1:]
            elif len(values) != len(alts):
                malformed = malformed or len(values) != 1
                continue
            per_alt = [rarer_value(old, new) if old is not None else new for old, new in zip(per_alt, values, strict=True)]
        threshold = self.min_af - TOLERANCE
        pairs = list(zip(per_alt, alts, strict=True))
        judged = [value for value, alt in pairs if alt not in PLACEHOLDER_ALLELES and not (alt == b"*" and value is None)]
        unknown = any(value is None and alt not in PLACEHOLDER_ALLELES and alt != b"*" for value, alt in pairs)
        reference = 1.0 - sum(value for value in per_alt if value is not None)
        if given is not None:
            reference, unknown = min(reference, given), False
        if any(value is not None and value < threshold for value in judged) or reference < threshold:
            return [RECORD_RARE]
        if malformed or unknown or any(value is None for value in judged):
            return [RECORD_MISSING]
        return []


@dataclass
class VcfChecks:
    path: str
    forbid: ForbidList | None
    allowed_keys: frozenset[str]
    population: PopulationFrequencies | None
    regions: RegionRequest | None
    germline: GermlineAlleles | None = None
    absent_contigs: Callable[[Mapping[str, int | None]], set[str]] | None = None
    """With ``-r``/``--dict``: which of the file's contigs the genome lacks (``Settings.absent_contigs``)."""
    record_frequencies: RecordFrequencies | None = None
    population_missing_ok: bool = False
    """``--population-missing ok``: an allele the population lacks passes; a rare one stays a finding."""
    germline_markers: bool = False
    """``--germline-markers``: a record a caller marked germline is a finding (``audit_germline_markers``)."""
    max_samples: int | None = None
    """``--max-samples``: more sample columns than this is a finding (another person's genotypes)."""
    forbid_contigs: tuple[str, ...] = ()
    """``--forbid-contigs``: patterns of contigs no record may lie on (an HLA allele contig's name is the
    genotype; chrEBV, an infection), shell-style with case kept, as for alignments."""


class VcfAudit:
    """One VCF text stream, header then records."""

    def __init__(self, checks: VcfChecks, findings: Findings) -> None:
        self.checks = checks
        self.findings = findings
        self.declared: dict[bytes, set[bytes]] = {b"INFO": set(), b"FORMAT": set(), b"FILTER": set()}
        self.types: dict[bytes, dict[bytes, set[bytes]]] = {b"INFO": {}, b"FORMAT": {}}
        self.numbers: dict[bytes, bytes] = {}  # INFO keys' Number (``RecordFrequencies``)
        self.gene_subfields: dict[bytes, frozenset[int]] = {}
        self.csq_description: str | None = None
        self.allele_fields: AlleleFields | None = None
        self.record_values: RecordValues | None = None
        self.grammar: ColumnGrammar | None = None
        self.places: dict[bytes, str] = {}
        self.contigs: dict[str, int | None] = {}
        self.contig_lines: dict[str, int] = {}
        self.absent: set[bytes] = set()  # CHROMs the reference or dictionary lacks
        self.columns = 0
        self.regions: RegionList | None = None
        self.region_names: NameMap | None = None
        self.named_places: NamedPlaces | None = None
        self.population_names: NameMap | None = None
        self.germline_names: NameMap | None = None
        self.traces = DeliveredTraces(findings.metadata, self.common_gap)
        self.listed_contigs: dict[bytes, bool] = {}  # CHROM -> on a --forbid-contigs contig

    def run(self, stream: object) -> None:
        header_done = False
        for first, lines in line_blocks(stream, self.checks.path):  # type: ignore[arg-type]
            at = 0
            if not header_done:
                while at < len(lines) and lines[at].startswith(b"#"):
                    self.header_line(first + at, lines[at])
                    if lines[at].startswith(b"#CHROM"):
                        header_done = True
                        at += 1
                        break
                    at += 1
                if not header_done:
                    if at < len(lines):
                        raise InputError("VCF record before the #CHROM line", self.checks.path, first + at)
                    continue
                self.start_records()
            if at < len(lines):
                self.records(first + at, lines[at:])
        if not header_done:
            raise InputError("no #CHROM line: not a VCF file", self.checks.path)
        self.traces.finish()
        if self.findings.records:
            for names, label in (
                (self.region_names, "region list"),
                (self.population_names, "population file"),
                (self.germline_names, "germline list"),
            ):
                if names is not None and not names.matched:
                    raise InputError(f"no contig of the {label} matches a contig of the input: another genome build?", self.checks.path)

    def header_line(self, number: int, line: bytes) -> None:
        if line.startswith(b"##"):
            text = line.decode("utf-8", errors="surrogateescape")
            check_vcf_meta(number, text, self.checks.allowed_keys, self.checks.forbid, self.findings)
            declared = DECLARED.match(line)
            if declared:
                self.declared[declared.group(1)].add(declared.group(2))
                if declared.group(1) != b"FILTER":
                    self.declare_type(declared.group(1), declared.group(2), text)
            if line.startswith(b"##contig=<"):
                fields = dict(re.findall(rb"([A-Za-z0-9_.:-]+)=([^,>]*)", line[10:]))
                if b"ID" in fields:
                    length = fields.get(b"length", b"")
                    self.contigs[fields[b"ID"].decode("latin-1")] = int(length) if length.isdigit() else None
                    self.contig_lines.setdefault(fields[b"ID"].decode("latin-1"), number)
            return
        columns = line.split(b"\t")
        if tuple(column.decode("latin-1") for column in columns[:8]) != FIXED_COLUMNS or (len(columns) > 8 and columns[8] != b"FORMAT"):
            raise InputError("the #CHROM line must name the 8 fixed columns (and FORMAT), separated by tabs", self.checks.path, number)
        self.columns = len(columns)
        most = self.checks.max_samples
        if most is not None and len(columns[9:]) > most:  # counted by column, never named
            self.findings.metadata.add(f"sample columns (more than --max-samples {most})", f"header line {number}", len(columns[9:]) - most)
        for index, sample in enumerate(columns[9:], start=1):
            self.check_sample_name(number, index, sample)
        if len(set(columns[9:])) < len(columns[9:]):  # htslib refuses the header ("Duplicated sample name")
            self.findings.metadata.add(SAMPLE_TWICE, f"header line {number}")

    def check_sample_name(self, number: int, index: int, sample: bytes) -> None:
        """A ``#CHROM`` sample name, as written and percent-decoded (``decoded_forms``: ``KIM%5FJIHYUN``,
        ``%2Fhome%2Fkim``; VCF 4.3, 1.2 lets any text be written so, and a file the scrubber did not
        write may): a personal shape (``PERSONAL_IN_SAMPLE``) in any form, or a forbidden string."""
        forms = [sample, *decoded_forms(sample)]
        written_pseudonym = PSEUDONYM.fullmatch(sample.decode("latin-1")) is not None
        if not written_pseudonym and any(SAMPLE_PERSONAL.search(form.decode("latin-1")) is not None for form in forms):
            self.findings.metadata.add(SAMPLE_NAME_FINDING, f"header line {number} sample {index}")
        forbid = self.checks.forbid
        if forbid is not None:
            written = [entry.line for entry, _ in forbid.search_text(sample)]
            for line in written + forbidden_when_decoded(forbid, sample):  # an entry only the decoded name shows counts once
                self.findings.forbidden.add(f"sample name {index} (list line {line})", f"header line {number}")

    def declare_type(self, kind: bytes, key: bytes, line: str) -> None:
        """The Type of an INFO or FORMAT definition (none when the line does not parse: such a
        key's values are read as String's)."""
        types = self.types[kind].setdefault(key, set())
        fields = structured(line.partition("=")[2])
        for name, value in fields or []:
            if name == "Type":
                types.add(value.encode("utf-8", errors="surrogateescape"))
            elif name == "Number" and kind == b"INFO":
                self.numbers[key] = value.encode("utf-8", errors="surrogateescape")
            elif name == "Description" and kind == b"INFO":
                self.gene_subfields[key] = gene_id_subfields(value.encode("utf-8", errors="surrogateescape"))
                if key == b"CSQ":
                    self.csq_description = value

    def start_records(self) -> None:
        """Join the side files with the contigs the header declares (or, with no ``##contig``
        lines, with the names the records use, as they come)."""
        self.record_values = RecordValues(self.types[b"INFO"], self.types[b"FORMAT"], self.contigs, self.checks.forbid, self.gene_subfields)
        self.grammar = ColumnGrammar((name.encode("latin-1") for name in self.contigs), self.declared[b"FILTER"])
        self.allele_fields = AlleleFields(csq_allele_field(self.csq_description))
        if self.checks.absent_contigs is not None and self.contigs:
            for name in self.checks.absent_contigs(self.contigs):
                self.absent.add(name.encode("latin-1"))
                self.findings.metadata.add(ABSENT_CONTIG, f"header line {self.contig_lines[name]}")
        request = self.checks.regions
        if request is not None:
            self.regions = RegionList(request.beds, request.presets, request.build, request.flank, self.contigs or None)
            where = ", ".join([*request.beds, *(f"preset {name}" for name in request.presets)])
            self.region_names = NameMap(self.contigs, dict.fromkeys(self.regions.contig_index), "region list", where)
            self.named_places = NamedPlaces(self.declared[b"INFO"])
        population = self.checks.population
        if population is not None:
            self.population_names = NameMap(self.contigs, population.contigs, "population file", population.path)
        germline = self.checks.germline
        if germline is not None:
            self.germline_names = NameMap(self.contigs, germline.contigs, "germline list", germline.path)

    def records(self, first: int, lines: list[bytes]) -> None:
        checks, findings = self.checks, self.findings
        info_declared, format_declared = self.declared[b"INFO"], self.declared[b"FORMAT"]
        values, grammar, allele_fields = self.record_values, self.grammar, self.allele_fields
        assert values is not None and grammar is not None and allele_fields is not None
        every_record = one_by_one()
        block = b"" if every_record else b"\n".join(lines)  # the block searches share one copy
        searched = self.lines_to_search(lines, block)
        value_lines = None if every_record else values.lines_to_check(lines, block)
        grammar_lines = None if every_record else grammar.lines_to_check(block, len(lines), max(self.columns, 8))
        allele_lines = None if every_record else lines_to_read(lines, block, max(self.columns, 8), allele_fields.csq_allele)
        self.traces.look(block, every_record, b"MATEID" in info_declared, b"HP" in format_declared)
        if self.named_places is not None:
            self.named_places.look(block, every_record)
        look_for_markers = checks.germline_markers and (every_record or may_hold_marker(block))
        missing_ok = checks.population_missing_ok
        passing_contigs, passing_filters = grammar.passing_contigs, grammar.passing_filters
        good_keys = values.passing_info_keys
        for number, line in enumerate(lines, start=first):
            if not line or (line[0] <= SPACE and not line.strip()):  # htslib stops there ("Broken VCF record")
                findings.metadata.add(EMPTY_LINE, f"line {number}")
                continue
            fields = line.split(b"\t")
            if len(fields) < 8 or (self.columns > 8 and len(fields) != self.columns):
                raise InputError("VCF record with a wrong number of columns", checks.path, number)
            chrom, pos_text, record_id, ref, alt, _, _, info = fields[:8]
            try:
                pos = int(pos_text)
            except ValueError:
                raise InputError("VCF POS is not a number", checks.path, number) from None
            contig = chrom.decode("latin-1")
            place = self.places.get(chrom)
            if place is None:
                place = self.place_of(chrom)
            where = f"{place}:{pos}" if place else f"line {number}"
            findings.records += 1
            if chrom in self.absent:
                findings.metadata.add(ABSENT_RECORD, where)
            if not ID_COLUMN.fullmatch(record_id):
                findings.metadata.add("ID column", where)
            elif record_id != b"." and (len(record_id) > 12 or record_id[:2] != b"rs" or record_id[2] == ZERO) and id_past_its_numbers(
                record_id, findings.records
            ):  # one rs ID of at most 10 digits, no leading zero (most IDs of a germline VCF), is told by length and two bytes
                findings.metadata.add(ID_NUMBER_FINDING, where)
            if grammar_lines is None or number - first in grammar_lines:
                for fault in grammar.record_faults(fields):
                    findings.metadata.add(FAULTS[fault], where)
                if checks.forbid is not None:
                    self.search_qual_number(fields[5], where)
            elif chrom not in passing_contigs or fields[6] not in passing_filters:
                for fault in grammar.named_faults(fields):
                    findings.metadata.add(FAULTS[fault], where)
            check_values = (
                every_record
                or number - first in value_lines  # type: ignore[operator]
                or (b"<" in alt and values.alleles_fail(alt))
                or (fields[6] != b"PASS" and values.filter_fails(fields[6]))
                or (len(fields) > 8 and values.format_state(fields[8]).must_check)
            )
            if info != b".":
                for item in info.split(b";"):
                    key = item.split(b"=", 1)[0]
                    if not item:
                        findings.metadata.add(EMPTY_INFO_ITEM, where)
                    elif key not in good_keys:
                        if key not in info_declared:
                            findings.metadata.add(f"INFO/{printable(key.decode('latin-1'), checks.forbid)} (not in the header)", where)
                        check_values = check_values or values.info_key_fails(key)
            if len(fields) > 8 and fields[8] != b".":  # "." is a FORMAT with no key (what the scrubber writes when none is defined)
                for key in fields[8].split(b":"):
                    if key not in format_declared:
                        findings.metadata.add(f"FORMAT/{printable(key.decode('latin-1'), checks.forbid)} (not in the header)", where)
            if check_values:
                places = values.places(fields)
                if places:
                    findings.metadata.add(KIND, f"line {number} {' and '.join(places)}")
            if allele_lines is None or (allele_lines and number - first in allele_lines):
                for named in allele_fields.keys(fields):
                    findings.metadata.add(named, where)
            if checks.forbid is not None and (searched is None or number - first in searched):
                self.search_record(fields, where)
            alts = alt.split(b",") if alt != b"." else []
            self.traces.record(chrom, pos, ref, alts, info, fields, where)
            if checks.population is not None and self.population_names is not None:
                read_under = [name for name in self.population_names.every(contig) if name in checks.population.with_records]
                other = read_under[0] if read_under else None
                if len(read_under) > 1:  # vcf-drop-rare stops on such a file: which name's frequencies hold is not known
                    reasons = [TWO_NAMES] if any(alt not in NO_ALLELE for alt in alts) else []
                elif other is not None:
                    reasons = checks.population.judge(other, pos - 1, ref, alts, block_end(info))
                else:  # a contig the population does not cover: every allele is unknown there
                    reasons = [ABSENT_ALLELE] if any(alt not in NO_ALLELE for alt in alts) else []
                for reason in reasons:
                    if not (missing_ok and reason in MISSING_REASONS):
                        findings.population.add(reason, where)
            if checks.record_frequencies is not None:
                for reason in checks.record_frequencies.judge(info, alts, self.numbers.get(checks.record_frequencies.af_key.encode())):
                    if not (missing_ok and reason in MISSING_REASONS):
                        findings.population.add(reason, where)
            if look_for_markers and marked_germline(fields[6], info):
                findings.germline.add(MARKED, where)
            if checks.forbid_contigs and self.on_listed_contig(chrom):
                findings.germline.add(LISTED_CONTIG_RECORD, f"line {number}")  # never the contig's name: the allele
            if self.regions is not None and self.region_names is not None:
                self.check_regions(contig, chrom, pos - 1, ref, alt, info, where)
            if checks.germline is not None and self.germline_names is not None:
                listed = self.germline_names.every(contig)
                if any(checks.germline.carried(name, pos - 1, ref, alts, info) for name in listed):
                    findings.germline.add(where)  # keyed by the site, as in alignments: never the allele
                elif any(checks.germline.ref_differs(name, pos - 1, ref) for name in listed):
                    findings.germline.add(where)  # a REF written as the normal's allele, not the reference's
                elif any(checks.germline.in_window(name, pos - 1, ref, alts) for name in listed):
                    findings.germline.add(IN_GERMLINE_WINDOW, where)

    def common_gap(self, chrom: bytes, first: int, last: int) -> bool:
        """Whether a gVCF gap (``audit_record_traces``: bases ``first`` to ``last``, 1-based) is one
        the scrubbers leave in every person's gVCF there, which says nothing of this one:

        - one overlapping a region of --bed/--preset (widened by --flank): vcf-drop-regions drops
          every record overlapping it, the blocks reaching past its edges whole, so the gap is the
          region and its blocks' ends, which show in any gVCF. With --population, not where a site
          of the gap has a REF rare or unknown there (``judge_block``): a dropped block over it
          would say the person carries that REF;
        - with --population, one exactly the REF of a site whose REF is rarer than --min-af
          (``rare_reference_at``: a call there is dropped whatever its genotype, and no block is
          stretched over it; a person homozygous for the common allele leaves it).

        A contig the population holds under two names excuses nothing."""
        contig = chrom.decode("latin-1")
        population, names = self.checks.population, self.population_names
        read_under = [name for name in names.every(contig) if name in population.with_records] if population and names else []
        if len(read_under) > 1:
            return False
        other = read_under[0] if read_under else None
        if self.regions is not None and self.region_names is not None:
            name = self.region_names.get(contig)
            if name is not None:
                base = int(self.regions.offsets[self.regions.contig_index[name]])
                if self.regions.regions_between(base + first - 1, base + min(last, CONTIG_SPACING)):
                    return population is None or other is None or not population.judge_block(other, first - 1, last)
        return population is not None and other is not None and population.rare_reference_at(other, first - 1, last - first + 1)

    def on_listed_contig(self, chrom: bytes) -> bool:
        """Whether CHROM matches a ``--forbid-contigs`` pattern (``fnmatchcase``), once per name."""
        listed = self.listed_contigs.get(chrom)
        if listed is None:
            name = chrom.decode("latin-1")
            listed = self.listed_contigs[chrom] = any(fnmatchcase(name, pattern) for pattern in self.checks.forbid_contigs)
        return listed

    def place_of(self, chrom: bytes) -> str:
        """How a record's CHROM locates it: the name, when a ``##contig`` line declares it and it
        holds no forbidden string and passes the contig rule; else ``""`` (the record is located by
        its line): a CHROM no header line declares may be anything, a sample name too."""
        if len(self.places) > 10_000:
            self.places.clear()
        name = chrom.decode("latin-1")
        forbid = self.checks.forbid
        printed = (
            name in self.contigs
            and not contig_holds_personal(name)
            and (forbid is None or not any(True for _ in forbid.search_text(chrom)))
        )
        self.places[chrom] = place = name if printed else ""
        if name not in self.contigs and self.checks.absent_contigs is not None and self.checks.absent_contigs({name: None}):
            self.absent.add(chrom)  # no ##contig line: the genome is asked of the name as records use it
        return place

    def lines_to_search(self, lines: list[bytes], block: bytes) -> set[int] | None:
        """The lines of a block in which a forbid string occurs anywhere, found by one search over
        the block (None: every line, with ``GENOSCRUB_ONE_BY_ONE=1``). Only those are searched
        column by column: a string found in a column is found in its line, so the findings are
        those of searching every record, at a fraction of the cost (most records hold none)."""
        forbid = self.checks.forbid
        if forbid is None or one_by_one():
            return None
        ends = np.cumsum([len(line) + 1 for line in lines])
        hits = [at for _, at in forbid.search(block)]
        found = set(np.searchsorted(ends, hits, side="right").tolist()) if hits else set()
        if b"%" in block and forbid.escapes.search(block) is not None:  # most blocks hold no escape (one byte search)
            found |= self.lines_found_decoded(lines, block, ends, found)
        return found

    def lines_found_decoded(self, lines: list[bytes], block: bytes, ends: np.ndarray, found: set[int]) -> set[int]:
        """The lines of a block holding an escape of ``ForbidList.escapes`` whose percent-decoded text
        shows a forbid string (a superset of what ``search_decoded`` finds in their values); none at
        once when the decoded block shows none (a line's decoded text is a piece of the block's)."""
        forbid = self.checks.forbid
        assert forbid is not None
        if not any(True for form in decoded_forms(block) for _ in forbid.search(form)):
            return set()
        escapes = [escape.start() for escape in forbid.escapes.finditer(block)]
        candidates = set(np.searchsorted(ends, escapes, side="right").tolist()) - found
        return {index for index in candidates if any(True for form in decoded_forms(lines[index]) for _ in forbid.search(form))}

    def search_qual_number(self, qual: bytes, where: str) -> None:
        """A QUAL written with an exponent (``1.9900101e7``) is the number it stands for, as a
        reader takes it: as long as a listed number of digits only, its decimal text is searched
        too (a QUAL of digits is searched as written; the block path sends every QUAL but those
        of digits and a point here)."""
        forbid = self.checks.forbid
        assert forbid is not None
        least = forbid.least_number
        if least is None or b"e" not in qual.lower():
            return
        try:
            value = float(qual)
        except ValueError:
            return
        if not math.isfinite(value) or value != int(value) or abs(value) < least:
            return
        written = {entry.line for entry, _ in forbid.search_text(qual)}  # found as written already (``19900101e0``)
        for line in sorted({entry.line for entry, _ in forbid.search_text(b"%d" % abs(int(value)))} - written):
            self.findings.forbidden.add(f"QUAL (list line {line})", where)

    def search_record(self, fields: list[bytes], where: str) -> None:
        forbid = self.checks.forbid
        assert forbid is not None
        for index, column in enumerate(fields):
            if index == 1 or (index == 3 and is_sequence(column)):  # POS, REF of bases
                continue
            if index == 4:  # the alleles that are not bases
                column = b",".join(allele for allele in column.split(b",") if not is_sequence(allele))
            if not column:
                continue
            for entry, at in forbid.search_text(column):
                if index >= 7 and holds_position(fields, index, at):
                    continue
                self.findings.forbidden.add(f"{self.field_name(fields, index, at)} (list line {entry.line})", where)
            if b"%" in column:
                self.search_decoded(fields, index, column, where)

    def search_decoded(self, fields: list[bytes], index: int, column: bytes, where: str) -> None:
        """A column's values percent-decoded, each on its own as a reader decodes it (an INFO item's, a
        sample's value of each FORMAT key; VCF 4.3, 1.2), searched for what their written text does not
        show (``forbidden_when_decoded``), named as ``field_name`` names them."""
        forbid = self.checks.forbid
        assert forbid is not None
        separator = b";" if index == 7 else b":" if index >= 9 else None
        end = -1
        for part in column.split(separator) if separator is not None else [column]:
            end += len(part) + 1  # the part's end: field_name reads the key before it
            for line in forbidden_when_decoded(forbid, part):
                self.findings.forbidden.add(f"{self.field_name(fields, index, end)} (list line {line})", where)

    def field_name(self, fields: list[bytes], index: int, at: int) -> str:
        """``INFO/KEY``, ``sample 2 FORMAT/KEY`` or the column's name."""
        forbid = self.checks.forbid
        if index == 7:
            key = fields[7][:at].rsplit(b";", 1)[-1].split(b"=", 1)[0]
            return f"INFO/{printable(key.decode('latin-1'), forbid)}"
        if index >= 9:
            keys = fields[8].split(b":")
            position = fields[index][:at].count(b":")
            name = keys[position].decode("latin-1") if position < len(keys) else "?"
            return f"sample {index - 8} FORMAT/{printable(name, forbid)}"
        return COLUMN_NAMES[index]

    def check_regions(self, contig: str, chrom: bytes, start: int, ref: bytes, alt: bytes, info: bytes, where: str) -> None:
        """The regions a record's span (``judged_span``) overlaps, and those holding a place it names
        for a breakpoint elsewhere (``NamedPlaces``: its base overlapping one, as a POS would), each
        region once a record. A place's contig is read through the spellings of the header's
        (``chr13`` and ``13`` alike); one the list lacks, or an assembly's ``<ctg1>``, is in none."""
        assert self.regions is not None and self.region_names is not None
        name = self.region_names.get(contig)
        regions: list[Region] = []
        if name is not None:
            low, high = judged_span(start, ref, alt, info)
            base = int(self.regions.offsets[self.regions.contig_index[name]])
            regions = self.regions.regions_between(base + max(0, low), base + min(high, CONTIG_SPACING))
        named = self.named_places
        if named is not None and named.in_block:  # a block holding a bracket or a declared key's name
            places = self.regions_at(named.of(chrom, alt, info))
            if places:
                regions = list({id(region): region for region in [*regions, *places]}.values())
        for region in regions:
            self.findings.regions.add(region.label + (f" {region.name}" if region.name else ""), where)

    def regions_at(self, places: list[tuple[bytes, int]]) -> list[Region]:
        """The regions holding one of ``places`` (a contig as written, a 1-based position)."""
        assert self.regions is not None and self.region_names is not None
        found: list[Region] = []
        for contig, place in places:
            name = self.region_names.get(contig.decode("latin-1"))
            if name is not None and 0 < place <= CONTIG_SPACING:
                base = int(self.regions.offsets[self.regions.contig_index[name]])
                found += self.regions.regions_between(base + place - 1, base + place)
        return found

POSITION_KEYS = frozenset({b"END", b"END2", b"POS2", b"SVEND", b"MATEPOS", b"RSPOS", b"AVG_START", b"AVG_END"})
"""INFO keys whose value is a position, as FORMAT/PS is: searched as POS is, that is not when the
value is a number (a genome's gVCF blocks end at every position, so one ends at a listed number
now and then); a value of other bytes is searched (``END=KIM2301217``)."""


def holds_position(fields: list[bytes], index: int, at: int) -> bool:
    """Whether the hit at ``at`` of column ``index`` (INFO or a sample) lies in a position key's value of digits only."""
    column = fields[index]
    separator = b";" if index == 7 else b":"
    start = column.rfind(separator, 0, at) + 1
    end = column.find(separator, at)
    value = column[start : end if end >= 0 else len(column)]
    if index == 7:
        key, equals, value = value.partition(b"=")
        return bool(equals) and key in POSITION_KEYS and value.isdigit()
    keys = fields[8].split(b":")
    place = column[:at].count(b":")
    return place < len(keys) and keys[place] == b"PS" and value.isdigit()


INFO_INTEGER = re.compile(rb"(?:^|;)(END|SVLEN)=([^;]*)")
RESIZING_SYMBOLS = (b"<DEL", b"<INS", b"<DUP", b"<CNV")
"""Symbolic alleles (their subtypes too: ``<DEL:ME>``, ``<CNV:TR>``) that make the sequence longer
or shorter by their SVLEN (VCF 4.4, section 5.3)."""


def judged_span(start: int, ref: bytes, alt: bytes, info: bytes) -> tuple[int, int]:
    """The 0-based, half-open span a record is judged over for regions.

    REF; INFO/END (1-based, inclusive: a half-open end); for a symbolic ALT other than an
    insertion, POS + |SVLEN|. Where an allele changes the length by L, the span widened by
    L + 1 on each side: L because an indel's place along a repeat is the normaliser's
    choice (left-aligned, it can sit up to its own length before the repeat's first base),
    one more so that a region the L-widened span meets is overlapped. L is how much longer
    or shorter an ALT of bases is than REF; for ``RESIZING_SYMBOLS``, the largest |SVLEN|,
    or without one the span after POS, and at least 1.
    """
    end = start + max(1, len(ref))
    lengths: list[int] = []
    for key, value in INFO_INTEGER.findall(info):
        if key == b"END":
            if value.isdigit():
                end = max(end, int(value))
        else:
            lengths += [int(item.lstrip(b"-")) for item in value.split(b",") if item.lstrip(b"-").isdigit()]
    if lengths and b"<" in alt and b"<INS" not in alt:
        end = max(end, start + 1 + max(lengths))
    change = 0
    for allele in alt.split(b","):
        if allele.isalpha():
            change = max(change, abs(len(allele) - len(ref)))
        elif allele.upper().startswith(RESIZING_SYMBOLS):
            change = max(change, max(lengths, default=end - start - 1), 1)
    if change:
        return start - change - 1, end + change + 1
    return start, end
