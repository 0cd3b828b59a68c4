"""The fixed VCF columns every VCF command copies without rewriting them: CHROM, REF, ALT, QUAL.

vcf-scrub-header, vcf-drop-rare and vcf-drop-regions keep a record as the same bytes, so
whatever a column holds beyond its grammar is text nothing has read: ``KIMJ`` as a REF, a
QUAL or a contig no ``##contig`` line declares would be copied into the delivery. Each
column is held to its grammar here, alike for the three commands, and a record off it is
refused (exit 1, the line and the column named, never the value):

- CHROM: a contig a ``##contig`` line declares; a header without ``##contig`` lines (many
  real files have none) declares nothing to compare with, and CHROM is then held to the
  VCF contig-ID grammar (``vcf_header.CONTIG_ID``, or such an ID in angle brackets,
  VCF 4.3's contig of an assembly file) and to the rule a ``##contig`` ID is held to
  (``identifiers.personal_contig``: no path, address or number or date shape, so no
  ``ctg_19900101``), which vcf-scrub-header's ``##contig`` lines meet already;
- REF: IUPAC nucleotide codes, either case (hg19 holds IUPAC codes such as ``M`` and ``R``);
- ALT: ``.``, or alleles separated by ``,``, each IUPAC codes, ``*``, a symbolic allele
  ``<...>`` or a breakend (VCF 4.4, 5.4: ``G]chr2:321682]``, ``]chr1:100]T``, ``C.``,
  ``.C``), whose contig is declared like CHROM's; what a symbolic allele's ID or a
  breakend's names may hold is vcf-scrub-header's rule (``record_values``);
- QUAL: ``.`` or a VCF Float (``fields.FLOAT_TEXT``), or the words bcftools reads as an
  infinite or undefined QUAL (``inf``, ``Inf``, ``-infinity``, ``nan``...); no other word.

``RecordColumns.check`` decides a whole ``vcf.RecordBlock`` with numpy and the C loops
(``scan.spans_within`` over REF and ALT, ``scan.span_choices`` over CHROM against the
contigs seen lately, ``fields.span_floats`` over QUAL; the few spans these do not settle,
symbolic and breakend alleles and unusual QUALs, looked at once per distinct value), and
``RecordColumns.fault`` one record, the reference the bulk path must agree with. A block
that fails is read again record by record (``first_fault``), so both paths, and the three
commands, name the same line with the same words. ``GENOSCRUB_ONE_BY_ONE=1`` checks every
record that way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import numpy as np
from genoscrub import scan
from genoscrub.fields import FLOAT_TEXT, distinct_spans, span_floats
from genoscrub.identifiers import personal_contig
from genoscrub.one_by_one import one_by_one
from genoscrub.report import InputError
from genoscrub.vcf import RecordBlock
from genoscrub.vcf_header import CONTIG_ID

UNDECLARED_CHROM = "record on a contig the header does not declare (##contig)"
CHROM_OFF_GRAMMAR = "CHROM is not a contig name of the VCF grammar"
CHROM_PERSONAL = "CHROM holds a path or personal data (no ##contig line declares it); rename the contig before scrubbing"
REF_OFF_GRAMMAR = "REF is empty or holds a character that is not an IUPAC nucleotide code"
ALT_OFF_GRAMMAR = "ALT holds an allele that is not bases, *, a symbolic allele or a breakend"
ALT_UNDECLARED = "ALT names a breakend on a contig the header does not declare (##contig)"
QUAL_OFF_GRAMMAR = "QUAL is not . or a number"

IUPAC = b"ACGTURYKMSWBDHVNacgturykmswbdhvn"
"""The IUPAC nucleotide codes REF and ALT bases are written in."""
QUAL_WORDS = re.compile(rb"[-+]?(?:inf|infinity|nan)", re.IGNORECASE)
"""A QUAL that is no finite number, as bcftools reads it (``Inf``, ``NaN``, ``infinity``; it writes
``inf``, ``-inf``, ``nan``): words that spell no name; any other word is refused."""
BASES = rb"[ACGTURYKMSWBDHVNacgturykmswbdhvn]+"
BREAKEND = re.compile(
    rb"(?P<before>" + BASES + rb")?(?P<open>[\[\]])(?P<contig><[^<>\[\]]+>|[^<>\[\],:]+):[0-9]+(?P=open)(?P<after>" + BASES + rb")?"
)
"""A breakend with a mate (VCF 4.4, 5.4): bases on exactly one side of the bracketed place."""
SINGLE_BREAKEND = re.compile(rb"\." + BASES + rb"|" + BASES + rb"\.")
SYMBOLIC = re.compile(rb"<[^<>,\s]*>")
"""A symbolic allele; its ID is vcf-scrub-header's to judge (an empty or unsafe one becomes ``<*>``)."""
SEQUENCE = re.compile(BASES + rb"|\*")


def character_table(characters: bytes) -> np.ndarray:
    """A 256-entry table, 1 for each of ``characters`` (``scan.spans_within``)."""
    table = np.zeros(256, dtype=np.uint8)
    table[list(characters)] = 1
    return table


REF_BYTES = character_table(IUPAC)
PLAIN_ALT_BYTES = character_table(IUPAC + b",")
"""ALTs of bases only, the common case, settled in bulk (their commas checked apart)."""
DOT, COMMA = ord("."), ord(",")


class RecordColumns:
    """CHROM, REF, ALT and QUAL of records as the VCF commands read them (see the module).

    ``contigs`` are the header's ``##contig`` IDs: empty, CHROM and breakend contigs are
    held to the contig-ID grammar and to ``personal`` (a ``##contig`` ID's rule: vcf-scrub-header's
    sets the sample names it replaces aside) instead of a list.
    """

    RECENT = 8
    """How many contig names the bulk check tries first (sorted input names one for long runs)."""

    def __init__(self, contigs: Iterable[bytes], personal: Callable[[bytes], bool] = personal_contig) -> None:
        self.declared = frozenset(contigs)
        self.personal = personal
        self.recent: list[bytes] = []

    # --- one record ------------------------------------------------------------------------

    def contig_known(self, name: bytes) -> bool:
        if self.declared:
            return name in self.declared
        return self.contig_valid(name) and not self.personal(self.bare(name))

    @staticmethod
    def bare(name: bytes) -> bytes:
        """A contig name without the angle brackets of an assembly file's contig (``<ctg1>``)."""
        return name[1:-1] if name[:1] == b"<" and name[-1:] == b">" else name

    def contig_valid(self, name: bytes) -> bool:
        """Whether an undeclared contig name is one of the VCF contig-ID grammar."""
        return CONTIG_ID.fullmatch(self.bare(name)) is not None

    def alt_fault(self, alt: bytes) -> str | None:
        """What is wrong with an ALT column, or None."""
        if alt == b".":
            return None
        for allele in alt.split(b","):
            if SEQUENCE.fullmatch(allele) or SYMBOLIC.fullmatch(allele) or SINGLE_BREAKEND.fullmatch(allele):
                continue
            found = BREAKEND.fullmatch(allele)
            if found is None or (found.group("before") is None) == (found.group("after") is None):
                return ALT_OFF_GRAMMAR
            contig = found.group("contig")
            if contig[:1] != b"<" and not self.contig_known(contig):
                return ALT_UNDECLARED
        return None

    @staticmethod
    def qual_fault(qual: bytes) -> str | None:
        if qual == b"." or QUAL_WORDS.fullmatch(qual) or FLOAT_TEXT.fullmatch(qual):
            return None
        return QUAL_OFF_GRAMMAR

    def fault(self, fields: list[bytes]) -> str | None:
        """What is wrong with one record (its fields, at least the first six), or None."""
        if not self.contig_known(fields[0]):
            return UNDECLARED_CHROM if self.declared else CHROM_OFF_GRAMMAR if not self.contig_valid(fields[0]) else CHROM_PERSONAL
        if not fields[3] or fields[3].translate(None, IUPAC):
            return REF_OFF_GRAMMAR
        return self.alt_fault(fields[4]) or self.qual_fault(fields[5])

    def first_fault(self, block: RecordBlock) -> InputError | None:
        """The error for the first record of a block that :meth:`fault` refuses, or None."""
        for index, line in enumerate(block.lines()):
            if message := self.fault(line.split(b"\t", 6)):
                return InputError(message, block.path, block.first_line + index)
        return None

    # --- a block ---------------------------------------------------------------------------

    def check(self, block: RecordBlock) -> None:
        """Every record of a block checked, in bulk; or the error :meth:`first_fault` names."""
        if not block.count:
            return
        if one_by_one():
            fault = self.first_fault(block)
        elif not (self.chroms_known(block) and self.refs_within(block) and self.alts_valid(block) and self.quals_valid(block)):
            fault = self.first_fault(block) or InputError("malformed record", block.path, block.first_line)
        else:
            return
        if fault is not None:
            raise fault

    def chroms_known(self, block: RecordBlock) -> bool:
        starts, ends = block.column(0)
        found = scan.span_choices(block.text, starts, ends, self.recent)
        unknown = np.flatnonzero(found < 0)
        if not len(unknown):
            return True
        values, _ = distinct_spans(block.text, starts[unknown], ends[unknown])
        if not all(self.contig_known(value) for value in values):
            return False
        self.recent[:0] = [value for value in values if value not in self.recent]
        del self.recent[self.RECENT :]
        return True

    @staticmethod
    def refs_within(block: RecordBlock) -> bool:
        starts, ends = block.column(3)
        return bool((ends > starts).all()) and bool(scan.spans_within(block.data, starts, ends, REF_BYTES).all())

    def alts_valid(self, block: RecordBlock) -> bool:
        """Bases-only ALTs in bulk (no empty allele: no comma at an end, none doubled); the
        rest (``.``, ``*``, symbolic, breakends) once per distinct value."""
        starts, ends = block.column(4)
        data, text = block.data, block.text
        filled = ends > starts
        if not filled.all():
            return False
        plain = scan.spans_within(data, starts, ends, PLAIN_ALT_BYTES).astype(bool)
        plain &= (data[starts] != COMMA) & (data[ends - 1] != COMMA)
        at = text.find(b",,")
        while at >= 0:
            row = int(np.searchsorted(block.starts, at, side="right")) - 1
            if starts[row] <= at < ends[row]:
                plain[row] = False
            at = text.find(b",,", at + 2)
        others = np.flatnonzero(~plain)
        if not len(others):
            return True
        values, _ = distinct_spans(text, starts[others], ends[others])
        return all(self.alt_fault(value) is None for value in values)

    def quals_valid(self, block: RecordBlock) -> bool:
        """Numbers in bulk (``fields.span_floats``: what it reads is the VCF Float grammar), the
        others (``.``, a word) once per distinct value."""
        starts, ends = block.column(5)
        data = block.data
        dot = (ends - starts == 1) & (data[starts] == DOT)
        rows = np.flatnonzero(~dot)
        if not len(rows):
            return True
        _, done = span_floats(data, starts[rows], ends[rows])
        others = rows[~done]
        if not len(others):
            return True
        values, _ = distinct_spans(block.text, starts[others], ends[others])
        return all(self.qual_fault(value) is None for value in values)
