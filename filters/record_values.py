"""Identifiers written into VCF records: which values, keys and IDs vcf-scrub-header removes.

A hospital pipeline writes into records what it knows: ``NOTE=900101-1234567`` (a
resident registration number), a sample's ``NM:Z`` with a date of birth, a FILTER named
after a ward's record number, ``ORIGIN=/data/kimjh/run1``. Two rules find them
(ARCHITECTURE.md, "Record values"):

- the ID rule, for what the header defines (FILTER IDs, INFO and FORMAT keys, the ID of
  a symbolic ALT allele): the header's own rule for a definition's ID (``unsafe_id``), so
  that a record never keeps what the header removed;
- the value rule, for the values of String and Character keys, of keys the header does
  not define, and of Integer and Float keys but those known to hold large numbers: text
  outside ASCII, the same percent-encoded or as HTML references (``&#44608;``, and named ones
  with their ``;``: ``&shy;``, ``&ZeroWidthSpace;``, or the invisible ones without it: ``&shyJ``,
  ``&nbspKIM``),
  a backslash, ``@`` or ``://``, a path (a ``/`` or ``~`` starting a token, or two ``/``
  in one), a date, and a number of 7 digits or more written alone (``19900101``,
  ``MRN:12345678``, ``010-1234-5678``), except where the format writes long numbers on
  purpose: after a letter, digit or ``.`` (``rs76717221``, ``ENSG00000227232``,
  ``c.1234567A>G``, ``0.0001997``), a range of at most 1000 (``999-1000``,
  ``1234567-1234570``), a position before its
  bases (``16050036_A_C``), after a contig of the header (``chr1:12345678``), a RefSeq or
  assembly accession (``NM_001009931``), dbSNP's ``GENEINFO`` gene IDs, and an
  annotation's gene ID subfield (VEP's ``Gene``, SnpEff's ``Gene_ID``: an Entrez number
  for RefSeq transcripts, found by the subfield list of the key's Description).
  The dates include ``01.01.1990``, ``1990. 01. 01.``, ``1990 01 01``, ``2023_10_29``,
  ``1990:01:01``, ``01 01 1990``, with a two-digit year ``29.10.23``, ``23.10.29``, ``29_10_23``
(``identifiers.TWO_DIGIT_YEAR_DATE``) and, joined by a list's separator, ``1990|01|01``, ``01;01;1990``
  and ``1990,01,01`` (``identifiers.DELIMITED_DATE``), and phone numbers ``02 1234 5678``,
  ``010.1234.5678``, ``010~1234~5678``, ``010|1234|5678`` and ``010 - 1234 - 5678``
  (``identifiers``); six digits alone (``OMIM:600101``) stay. A number
  written alone with an exponent goes when it is 1,000,000 or more (``1.9900101e7``,
  ``1e+06``: ``EXPONENT``), as its 7 digits would.

Both rules judge a value or ID as written and as percent-decoded (``identifiers.percent_decodings``):
VCF 4.3 (1.2) writes ``:;=%,`` and CR, LF and TAB of a value as ``%3A``..., and any writer may
escape any byte so; an identifier is one in either spelling (``DOB%3A19900101``,
``MRN%5F12345678``, ``900101%2D1234567``), while VEP's ``p.Leu10%3D`` stays. A block holding
no ``%`` needs no decoding; in one that does, ``PERCENT_CANDIDATE`` picks the records where a
decoded escape could make a shape.

Integer and Float values are held to the value rule too, so a date of birth written as an
Integer (``BIRTH=19900101``), a registration number cut in two (``900101,1234567``) or a
phone number that lost its leading 0 (``1012345678``) goes; small numbers (``12``, ``-3``,
``999999.5``, ``0.12345678``, ``1e-05``, ``NaN``) stay. Only the keys known to hold large
numbers on purpose (``large_numbers``: positions such as ``END`` and ``PS``, lengths, depths
and counts, dbSNP's ``RS``) are not checked while each of their comma-separated elements is
``.`` or a number of the VCF grammar (``numbers_fit``) that fits a 32-bit Integer; a value of
theirs off the grammar (``1990-01-01``, ``010-1234-5678``, ``01/01/1990``) is held to the
value rule. A number whose integer part has six digits or fewer passes, whatever its
fraction: ``900101.1234567`` (a YYMMDD date with a registration number's second half
written as the fraction) is a documented limit. A GT value is held to the genotype grammar
instead (below).

A breakend whose mate is written ``<ID>`` (``A[<ctg1>:5[``, a contig of an assembly file)
has that ID held to the symbolic-allele rule and to the contig rule
(``identifiers.personal_contig``); a failing one becomes ``<*>``, as a symbolic allele does.
An INFO column's empty item (a ``;`` at its end, or ``;;``) goes: the VCF has no empty item.

With the header's definitions (``RecordDefinitions``), vcf-scrub-header's output holds no
record text its header does not explain, as ``genoscrub-audit`` requires: an INFO key or a
FORMAT key no kept ``##INFO``/``##FORMAT`` line defines goes with its values (a FORMAT key
from FORMAT and every sample), a FILTER ID no kept ``##FILTER`` line declares (``PASS``
always is) leaves the list, and a GT value off the genotype grammar (``.`` or at most
``MAX_PLOIDY`` allele numbers up to the record's ALT count, none with a leading zero, joined
by ``/`` or ``|``, a phase marker may lead) becomes ``.``, one per allele where its
separators are plain (``0/KIMJ``, ``01/1`` -> ``./.``). A FORMAT key given twice keeps its
first copy, the one htslib and the audit read (``GT:PS:PS`` with ``0|1:1010:1000`` ->
``GT:PS`` with ``0|1:1010``: vcf-drop-rare then renames the one phase set a reader sees),
with or without the definitions (``repeated_keys``). Each is counted by kind
(``RecordValues.removed``).

``RecordValues.scrub`` applies these rules to one record (the one-record path);
``scan.vcf_identifier_candidates`` finds, in C over a whole block, the records that may
hold one (a superset of both rules), so that only those are split.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
from genoscrub import scan
from genoscrub.fields import FLOAT_TEXT
from genoscrub.identifiers import (
    DAY_FIRST,
    DELIMITED_DATE,
    INVISIBLE_LEGACY_REFERENCE,
    MONTH_DATE,
    PATHS,
    PERSONAL,
    PHONE,
    PHONE_MARK,
    TWO_DIGIT_YEAR_DATE,
    YEAR_FIRST_SEPARATOR,
    percent_decodings,
    personal_contig,
)
from genoscrub.large_numbers import holds_large_numbers
from genoscrub.vcf import RecordBlock
from genoscrub.vcf_header import ALT_ID, FIELD_ID, FILTER_ID

NUMBER_GROUP = "number"
VALUE_SHAPES = re.compile(
    rb"[\x80-\xff]"  # text outside ASCII
    rb"|%[89A-Fa-f][0-9A-Fa-f]"  # the same, percent-encoded (VEP's %3D is ASCII: fine)
    rb"|&#[0-9xX]"  # the same, as an HTML character reference (its ; ends an INFO item: not required)
    rb"|&[A-Za-z][A-Za-z0-9]*;"  # or a named one (&shy;, &ZeroWidthSpace;: in a FORMAT value; VEP's & joins no ;)
    rb"|&" + INVISIBLE_LEGACY_REFERENCE  # or an invisible one without it (&shyJ, &nbspKIM: browsers read them so)
    + rb"|[\\@]|://"  # a Windows or UNC path, an escape, an e-mail address, a URL
    + rb"|(?:^|[|,&:=() ])[/~]|/[^|,&:=() ]*/"  # a path: / or ~ starting a token, or two / in one
    rb"|(?<![A-Za-z0-9.])(?:[0-9]{4}" + YEAR_FIRST_SEPARATOR + rb"[0-9]{1,2}" + YEAR_FIRST_SEPARATOR + rb"[0-9]{1,2}"
    rb"|[0-9]{1,2}[-/][0-9]{1,2}[-/][0-9]{2,4}|" + DAY_FIRST + rb"|" + DELIMITED_DATE  # a date,
    + rb"|" + PHONE + rb")(?![0-9])"  # a phone number
    + rb"|" + TWO_DIGIT_YEAR_DATE  # a date with a two-digit year (29.10.23, 23.10.29)
    + rb"|(?<![A-Za-z0-9.])(?=(?:[0-9]-?){6}[0-9])(?P<number>[0-9]+(?:-[0-9]+)*)"  # 7+ digits written alone
)
"""What the value rule finds; a ``number`` match is then weighed by ``RecordValues.number_is_public``."""
PERCENT_CANDIDATE = re.compile(
    rb"%[0-9A-Fa-f]{2}(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"  # %3BJan-01-90: decoded, the month starts a token
    rb"|%(?:[0-9A-Fa-f]{2}[0-9/~ ]|3[0-9]|2[356Ff]|40|5[Cc]|7[Ee]|[46][1-9A-Fa-f]|[57][0-9Aa]|(?P<semicolon>3[Bb]))"
)
"""An escape whose decoding may make a shape of the value rule the written text lacks: one before
a digit, ``/``, ``~`` or a blank (a separator of a number, date or phone number, or a delimiter
before a path: ``DOB%3A19900101``, ``1990%2D01%2D01``, ``1990. 01%2e 01``, ``x%3A/home``), an encoded digit, ``#``, ``%``,
``&``, ``/``, ``@``, ``\\``, ``~``, or a letter (an exponent's ``e``, ``1%65+06``; a month's name,
``29-%4FCT-2023``), an escape before a month's name (``%3BJan-01-90``: decoded, the month starts a
token, as written it follows a letter), or a ``;`` after a named HTML reference's name (``&shy%3B``: a ``semicolon``
match, kept where ``REFERENCE_NAME_BEFORE`` ends at it). Written, a shape is broken by an escape
where it lies (a contig or an accession before a number is not read through one), so no other
escape hides one; non-ASCII escapes are a shape as written. The records of a block holding one are
read one by one."""
REFERENCE_NAME_BEFORE = re.compile(rb"(?:&[A-Za-z]|\A)[A-Za-z0-9]*\Z")
"""What a named HTML reference has before its ``;``, read in the ``REFERENCE_REACH`` bytes before a
``%3B`` (a run of letters and digits filling them may be a longer name: picked too). Looked for only
at a ``%3B``: a search of its own over the block cost a VEP block with ``%3D`` a sixth more."""
REFERENCE_REACH = 40
EXPONENT = re.compile(rb"(?<![A-Za-z0-9.])(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE]\+?[0-9]+")
"""A number written alone with an exponent that is not negative (``1.9900101e7``, ``1e+06``, as Java
and C's ``%g`` write large values): the value rule removes it when it is ``LARGE`` or more."""
LARGE = 1_000_000.0
"""The smallest number of seven digits."""
CONTIG_BEFORE_COLON = re.compile(rb"[A-Za-z0-9._*+-]+\Z")
NAME_BEFORE_UNDERSCORE = re.compile(rb"[A-Za-z0-9.]+\Z")
ACCESSION_PREFIXES = frozenset(
    {b"AC", b"NC", b"NG", b"NT", b"NW", b"NZ", b"NM", b"NR", b"NP", b"XM", b"XR", b"XP", b"AP", b"YP", b"WP", b"GCA", b"GCF"}
)
"""RefSeq prefixes (``NM_001009931``) and assembly accessions (``GCA_000001405``): public numbers after ``_``."""
GENE_IDS_KEY = b"GENEINFO"
EVERY_SUBFIELD = frozenset(range(64))
MAX_RANGE_SPAN = 1000
"""A range's most: a local phone number (``1234-5678``) and a registration number span more."""
MAX_RANGE_DIGITS = 18
GENOTYPE_KEY = b"GT"
SYMBOLIC_REMOVED = b"<*>"
NUMERIC_TYPES = frozenset({b"Integer", b"Float"})
"""Types whose values go unchecked while they are numbers, for the keys of ``large_numbers`` (a Flag has no
value: one written is checked)."""
NUMBER_TEXT = re.compile(rb"[0-9.,+eE/|-]*")
"""The bytes of a genotype's numbers (a GT value of a numeric FORMAT list is held to these)."""
NUMBER_ELEMENT = re.compile(rb"\.|" + FLOAT_TEXT.pattern + rb"|[-+]?(?i:inf|infinity|nan)")
"""One element of an Integer or Float value (VCF 4.4, 1.3): ``.``, a Float (an Integer is one), ``Inf``, ``NaN``."""
BEYOND_INTEGER = re.compile(rb"(?<![0-9.])[0-9]{11}")
"""More digits than a 32-bit Integer has (10), but a fraction's."""
LEADING_ZERO = re.compile(rb"(?:^|,)[-+]?0[0-9]")
"""An element written with a leading zero (``AD=010,1234,5678``, a phone number as counts): no
program writes a number so, and the value rule reads it then."""
BREAKEND_MATE = re.compile(rb"[\[\]]<([^<>\[\]]*)>:")
"""The mate of a breakend written ``<ID>`` (VCF 4.4, 5.4: a contig of an assembly file)."""
# The VCF specification's numeric reserved keys (VCF 4.4, 1.6.1 and 1.6.2; structural variants, 3 and 5):
# those of large_numbers go unchecked where a file uses them without defining them (PS, a phase set, is a
# position); the others' values are held to the value rule, as a defined Integer's are.
SPECIFIED_NUMERIC = {
    b"INFO": frozenset({b"AC", b"AD", b"ADF", b"ADR", b"AF", b"AN", b"BQ", b"DP", b"END", b"MQ", b"MQ0", b"NS", b"SB", b"SVLEN",
                        b"CIPOS", b"CIEND", b"HOMLEN", b"DPADJ", b"CN", b"CNADJ", b"CICN", b"CICNADJ", b"CILEN"}),
    b"FORMAT": frozenset({b"AD", b"ADF", b"ADR", b"DP", b"EC", b"GL", b"GP", b"GQ", b"HQ", b"MQ", b"PL", b"PQ", b"PS", b"CN", b"CNQ",
                          b"CNL", b"CNP", b"NQ"}),
}  # fmt: skip
# An annotation's subfields, as its Description lists them: VEP's "Format: Allele|Consequence|...",
# SnpEff's "Functional annotations: 'Allele | Annotation | ...'", bcftools csq's "Format: Consequence|gene|...".
SUBFIELD_LIST = re.compile(rb"[A-Za-z0-9_.+-]+(?: ?\| ?[A-Za-z0-9_.+-]+)+")
PUBLIC_NUMBER_SUBFIELDS = frozenset({b"Gene", b"Gene_ID"})
"""Subfields holding a gene's ID, which for RefSeq annotations is an Entrez number (``102723996``)."""


GENOTYPE = re.compile(rb"[/|]?(?:[0-9]{1,9}|\.)(?:[/|](?:[0-9]{1,9}|\.))*")
"""The GT grammar (VCF 4.4, 1.6.2): alleles (at most 9 digits) or ``.``, ``/`` unphased, ``|`` phased."""
GENOTYPE_PARTS = re.compile(rb"[/|]?[^/|]+(?:[/|][^/|]+)*")
"""A GT whose separators are plain: off the grammar, it keeps its ploidy as ``.`` alleles."""
GENOTYPE_NUMBER = re.compile(rb"[0-9]+")
MAX_PLOIDY = 8
"""The most alleles a GT names: a human sample's calls have one or two (a tumour's, a pool's a few
more); ``0|10|1234|5678`` is a phone number, not a genotype."""
PASS = b"PASS"


def numbers_fit(value: bytes) -> bool:
    """Whether a numeric key's value is numbers of the VCF grammar that fit: each comma-separated
    element ``.`` or a number (``NUMBER_ELEMENT``) without a leading zero (``LEADING_ZERO``), and no
    run of more digits than an Integer has."""
    return (
        all(NUMBER_ELEMENT.fullmatch(element) for element in value.split(b","))
        and BEYOND_INTEGER.search(value) is None
        and LEADING_ZERO.search(value) is None
    )


def unsafe_alt_id(identifier: bytes) -> bool:
    """Whether a symbolic allele's ID must go: the ID rule (``unsafe_id``), or it names a place
    (``identifiers.PATHS`` within the ALT grammar: a host name ``DEL:kim.snuh.ac.kr``, an IP address,
    ``http:`` and the like), in a record's ALT and in an ``##ALT`` line alike."""
    return unsafe_id(ALT_ID, identifier) or PATHS.search(identifier) is not None


def unsafe_allele(allele: bytes) -> bool:
    """Whether an ALT allele names what must go: a symbolic allele's ID failing ``unsafe_alt_id``,
    or a breakend's ``<ID>`` mate failing that rule or the contig rule."""
    if allele[:1] == b"<" and allele[-1:] == b">":
        return unsafe_alt_id(allele[1:-1])
    mate = BREAKEND_MATE.search(allele)
    return mate is not None and (unsafe_alt_id(mate.group(1)) or personal_contig(mate.group(1)))


def genotype_ploidy(value: bytes) -> int:
    """How many alleles a GT names: its separators, less a leading phase marker, and one."""
    return value.count(b"/") + value.count(b"|") + 1 - (value[:1] in (b"/", b"|"))


def genotype_off_grammar(value: bytes, alleles: int) -> bool:
    """Whether a GT value is off the GT grammar, or names an allele the record lacks: past its
    ``alleles`` ALTs or written with a leading zero (``0/19850314``, ``01/1``: free digits, not an
    index into the record's alleles), or more than ``MAX_PLOIDY`` alleles."""
    if GENOTYPE.fullmatch(value) is None or genotype_ploidy(value) > MAX_PLOIDY:
        return True
    return any(int(number) > alleles or number[:1] == b"0" and len(number) > 1 for number in GENOTYPE_NUMBER.findall(value))


def missing_genotype(value: bytes) -> bytes:
    """What a GT off its grammar becomes: ``.`` for each allele where its separators are plain and
    there are at most ``MAX_PLOIDY`` (``01/1`` -> ``./.``), else ``.``."""
    if GENOTYPE_PARTS.fullmatch(value) is None or genotype_ploidy(value) > MAX_PLOIDY:
        return b"."
    return re.sub(rb"[^/|]+", b".", value)


def repeated_keys(keys: list[bytes]) -> frozenset[int]:
    """The indexes of a FORMAT's keys given before (``GT:PS:PS``: 2): a reader takes the first copy
    (htslib, and the audit's checks), so a later one is a value nothing reads as its key's
    (``0|1:1010:1000``, a phase set naming a dropped record; ``GT:GT`` with ``0/1:19850314``)."""
    if len(set(keys)) == len(keys):
        return frozenset()
    return frozenset(index for index, key in enumerate(keys) if key in keys[:index])


@dataclass(frozen=True)
class RecordDefinitions:
    """What the output header defines, which a record may use: INFO and FORMAT keys, FILTER IDs."""

    info: frozenset[bytes]
    format: frozenset[bytes]
    filters: frozenset[bytes]


def unchecked_keys(kind: bytes, types: dict[bytes, set[bytes]]) -> frozenset[bytes]:
    """The ``kind`` (INFO, FORMAT) keys whose record values are not checked while they are numbers
    (``RecordValues.checked``): the keys known to hold large numbers (``large_numbers.holds_large_numbers``)
    every definition of which is Integer or Float, or which are the specification's numeric keys and a
    header leaves undefined. Every other key's values are held to the value rule."""
    defined = frozenset(key for key, found in types.items() if found <= NUMERIC_TYPES)
    return frozenset(key for key in defined | (SPECIFIED_NUMERIC[kind] - types.keys()) if holds_large_numbers(key))


def public_number_subfields(description: bytes) -> frozenset[int]:
    """The indexes of an annotation's gene ID subfields, from the list of subfields its Description gives."""
    found = SUBFIELD_LIST.search(description)
    if found is None:
        return frozenset()
    names = [name.strip() for name in found.group(0).split(b"|")]
    return frozenset(index for index, name in enumerate(names) if name in PUBLIC_NUMBER_SUBFIELDS)


def unsafe_id(grammar: re.Pattern[bytes], identifier: bytes) -> bool:
    """Whether a header-defined ID (of a definition, or its use in a record) must go: off its
    grammar, or holding personal data (``identifiers.PERSONAL``) as written or percent-decoded
    (a FILTER ``MRN%3A1990%2D01%2D01``)."""
    if grammar.fullmatch(identifier) is None or PERSONAL.search(identifier) is not None:
        return True
    return b"%" in identifier and any(PERSONAL.search(form) is not None for form in percent_decodings(identifier))


def with_and_without_chr(contigs: frozenset[bytes]) -> frozenset[bytes]:
    """Contig names in both spellings, so that ``1:12345678`` and ``chr1:12345678`` are one decision."""
    other = {name[3:] if name.startswith(b"chr") else b"chr" + name for name in contigs}
    return contigs | frozenset(other)


class RecordValues:
    """The ID rule and the value rule over one record's ALT, FILTER, INFO, FORMAT and samples.

    ``numeric_info`` and ``numeric_format`` are the keys whose values are not checked while
    they are numbers (``unchecked_keys``: numeric keys known to hold large numbers); ``contigs``
    the header's contig IDs; ``layouts`` the INFO keys whose ``|`` subfields hold gene IDs, with
    those subfields' indexes; ``link_keys`` the INFO keys that make ``candidate_rows`` pick a
    record whatever it holds.
    """

    def __init__(
        self,
        numeric_info: frozenset[bytes],
        numeric_format: frozenset[bytes],
        contigs: frozenset[bytes],
        layouts: dict[bytes, frozenset[int]] | None = None,
        link_keys: frozenset[bytes] = frozenset(),
        definitions: RecordDefinitions | None = None,
    ) -> None:
        self.definitions = definitions
        self.removed: Counter[str] = Counter()
        """Removals of undefined things, by kind (``info_keys_undefined``, ...): the command reports them."""
        self.numeric_info = numeric_info
        self.numeric_format = numeric_format | {GENOTYPE_KEY}
        self.contigs = with_and_without_chr(contigs)
        self.underscore_names = self.contigs | ACCESSION_PREFIXES
        self.link_keys = link_keys
        found = {key: indexes for key, indexes in (layouts or {}).items() if indexes}
        self.layouts = {**found, GENE_IDS_KEY: EVERY_SUBFIELD}  # dbSNP's gene symbol:Entrez ID pairs
        self.layout_keys = sorted(self.layouts)
        self.layout_masks = [sum(1 << index for index in self.layouts[key] if index < 64) for key in self.layout_keys]
        # what candidate_rows hands the C loop, made once
        self.loop_lists = (sorted(self.numeric_info), sorted(self.numeric_format), self.layout_keys, self.layout_masks,
                           sorted(self.contigs), sorted(self.underscore_names), sorted(self.link_keys))  # fmt: skip
        self.definition_lists = (
            (True, sorted(definitions.info), sorted(definitions.format), sorted(definitions.filters))
            if definitions is not None else (False, [], [], [])
        )  # fmt: skip

    def holds_identifier(self, value: bytes, key: bytes) -> bool:
        """Whether a String value of ``key`` holds something the value rule finds (an annotation's
        gene ID subfields may hold numbers: each subfield is weighed alone)."""
        public = self.layouts.get(key)
        if public is None:
            return self.text_holds_identifier(value, key, False)
        return any(
            self.text_holds_identifier(subfield, key, index in public)
            for part in value.split(b",")
            for index, subfield in enumerate(part.split(b"|"))
        )

    def text_holds_identifier(self, value: bytes, key: bytes, numbers_public: bool) -> bool:
        """The value rule over a value, or a subfield of one, as written and percent-decoded."""
        if self.shape_in_text(value, numbers_public):
            return True
        return b"%" in value and any(self.shape_in_text(form, numbers_public) for form in percent_decodings(value))

    def shape_in_text(self, value: bytes, numbers_public: bool) -> bool:
        if month_date_in(value):
            return True
        for match in VALUE_SHAPES.finditer(value):
            if match.group(NUMBER_GROUP) is None:
                return True
            if not numbers_public and not self.number_is_public(value, match):
                return True
        return not numbers_public and any(float(found.group(0)) >= LARGE for found in EXPONENT.finditer(value))

    def number_is_public(self, value: bytes, match: re.Match[bytes]) -> bool:
        """Whether a number of 7+ digits is one the format writes on purpose (see the module)."""
        number, start, end = match.group(NUMBER_GROUP), match.start(), match.end()
        groups = number.split(b"-")
        plain = len(groups) == 2 and max(map(len, groups)) <= MAX_RANGE_DIGITS and b"0" not in (groups[0][:1], groups[1][:1])
        if plain and 0 <= int(groups[1]) - int(groups[0]) <= MAX_RANGE_SPAN:  # a range: VEP's 999-1000, 1234567-1234570
            return True
        if value[end : end + 1] in (b"_", b"-") and value[end + 1 : end + 2] in (b"A", b"C", b"G", b"T", b"N"):
            return True  # POS_REF_ALT
        before = value[: max(start - 1, 0)]
        if value[start - 1 : start] == b":":
            found = CONTIG_BEFORE_COLON.search(before)
            return found is not None and found.group(0) in self.contigs
        if value[start - 1 : start] == b"_":
            found = NAME_BEFORE_UNDERSCORE.search(before)
            return found is not None and found.group(0) in self.underscore_names
        return False

    def undefined(self, kind: str, key: bytes) -> bool:
        """Whether ``key`` (of ``info``, ``format``, ``filters``) is one the header does not define."""
        if self.definitions is None:
            return False
        return key not in getattr(self.definitions, kind) and not (kind == "filters" and key == PASS)

    def scrub(self, fields: list[bytes]) -> bool:
        """Remove, in place, what either rule finds in a record's fields, and what the header does not
        define; whether an identifier went (the undefined are counted in ``removed``).

        A symbolic allele becomes ``<*>``, a FILTER ID leaves the list (``.`` when none is
        left), an INFO item holding one goes whole (key and value, as if the record never had
        it: ``KEY=.`` would mark the records that held something; a Flag written with a value
        too), a FORMAT key goes with its values, a sample's value becomes ``.`` (its key is the
        other samples' too), and a sample's values beyond its FORMAT keys go.
        """
        changed = False
        if b"<" in fields[4]:
            changed |= self.scrub_alt(fields)
        if fields[6] not in (b".", PASS):
            filters = fields[6].split(b";")
            kept = [identifier for identifier in filters if not identifier or not unsafe_id(FILTER_ID, identifier)]
            if len(kept) < len(filters):
                changed = True
            declared = [identifier for identifier in kept if not identifier or not self.undefined("filters", identifier)]
            self.removed["filter_ids_undeclared"] += len(kept) - len(declared)
            if len(declared) < len(filters):
                fields[6] = b";".join(identifier for identifier in declared if identifier) or b"."
        if fields[7] != b".":
            changed |= self.scrub_info(fields)
        if len(fields) > 8 and fields[8] != b".":
            changed |= self.scrub_samples(fields)
        return changed

    def scrub_alt(self, fields: list[bytes]) -> bool:
        alleles = fields[4].split(b",")
        new = [SYMBOLIC_REMOVED if unsafe_allele(allele) else allele for allele in alleles]
        if new == alleles:
            return False
        fields[4] = b",".join(new)
        return True

    def scrub_info(self, fields: list[bytes]) -> bool:
        items = fields[7].split(b";")
        new: list[bytes] = []
        changed = False
        for item in items:
            key, equals, value = item.partition(b"=")
            if not item:  # a ; at the end, or ;;: the VCF has no empty item
                self.removed["info_empty_items"] += 1
                continue
            if unsafe_id(FIELD_ID, key):
                changed = True
                continue
            if self.undefined("info", key):
                self.removed["info_keys_undefined"] += 1
                continue
            if equals and self.checked(value, key, self.numeric_info) and self.holds_identifier(value, key):
                changed = True  # the item goes whole: a record left with KEY=. stays marked as one that held a value
                continue
            new.append(item)
        if new != items:
            fields[7] = b";".join(new) or b"."
        return changed

    @staticmethod
    def checked(value: bytes, key: bytes, numeric: frozenset[bytes], genotype: bool = False) -> bool:
        """Whether the value rule applies: the value of a key not in ``numeric`` (a String key's, or an
        Integer's not known to hold large numbers), or a ``numeric`` key's value that is not numbers of
        the VCF grammar that fit an Integer (``DP=kimjh``, ``DP=9001011234567``, ``DP=1990-01-01``:
        ``numbers_fit``). A ``genotype`` (FORMAT GT) is looked at when it holds more than a genotype's
        bytes; its grammar is the definitions rule's."""
        if key not in numeric:
            return True
        if genotype:
            return NUMBER_TEXT.fullmatch(value) is None or BEYOND_INTEGER.search(value) is not None
        return not numbers_fit(value)

    def scrub_samples(self, fields: list[bytes]) -> bool:
        keys = fields[8].split(b":")
        repeated = repeated_keys(keys)
        self.removed["format_keys_repeated"] += len(repeated)
        safe = [index for index, key in enumerate(keys) if index not in repeated and not unsafe_id(FIELD_ID, key)]
        changed = len(safe) < len(keys) - len(repeated)
        kept = [index for index in safe if not self.undefined("format", keys[index])]
        self.removed["format_keys_undefined"] += len(safe) - len(kept)
        genotype = keys.index(GENOTYPE_KEY) if self.definitions is not None and GENOTYPE_KEY in keys else -1
        alleles = 0 if fields[4] == b"." else fields[4].count(b",") + 1
        for column in range(9, len(fields)):
            values = fields[column].split(b":")
            if len(values) > len(keys):  # values no key names: the format has no place for them
                del values[len(keys) :]
                changed = True
            if genotype in kept and genotype < len(values) and genotype_off_grammar(values[genotype], alleles):
                values[genotype] = missing_genotype(values[genotype])
                self.removed["genotypes_off_grammar"] += 1
            for index in kept:
                if index < len(values) and self.checked(values[index], keys[index], self.numeric_format, keys[index] == GENOTYPE_KEY) \
                        and self.holds_identifier(values[index], keys[index]):
                    values[index] = b"."
                    changed = True
            if len(kept) < len(keys):
                values = [values[index] for index in kept if index < len(values)]
            fields[column] = b":".join(values) or b"."
        if len(kept) < len(keys):
            fields[8] = b":".join(keys[index] for index in kept) or b"."
        return changed

    def candidate_rows(self, block: RecordBlock) -> np.ndarray:
        """The rows of a block that may hold something either rule finds (a superset, in C), an empty
        INFO item, and those that link to others (an INFO key of ``link_keys``, a breakend ALT), whose
        IDs the one-record path gives pseudonyms."""
        found = scan.vcf_identifier_candidates(block.text, block.column(4)[0], block.ends, *self.loop_lists, *self.definition_lists)
        if b"%" in block.text:  # one byte search: most blocks hold no escape
            found = found.astype(bool) | escaped_rows(block.text, block.ends)
        if b")" in block.text or b"+82" in block.text:  # a phone number's area code in parentheses, its country's code
            found = found.astype(bool) | phone_mark_rows(block.text, block.ends)
        return np.flatnonzero(found)


MONTH_DATE_SHAPE = re.compile(MONTH_DATE)
MONTH_LETTERS = (b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec")


def month_date_in(value: bytes) -> bool:
    """Whether a value holds a date with a month's name (``MONTH_DATE``), looked for only where a
    month's three letters occur: in ``VALUE_SHAPES`` it doubled the cost of every value."""
    lowered = value.lower()
    return any(month in lowered for month in MONTH_LETTERS) and MONTH_DATE_SHAPE.search(value) is not None


def phone_mark_rows(text: bytes, ends: np.ndarray) -> np.ndarray:
    """For each line of a block (``ends``: where each ends), whether it holds an ``identifiers.PHONE_MARK``."""
    rows = np.zeros(len(ends), dtype=bool)
    offsets = [found.start() for found in PHONE_MARK.finditer(text)]
    if offsets:
        rows[np.searchsorted(ends, np.asarray(offsets, dtype=np.int64), side="right")] = True
    return rows


def escaped_rows(text: bytes, ends: np.ndarray) -> np.ndarray:
    """For each line of a block (``ends``: where each ends), whether it holds a ``PERCENT_CANDIDATE``."""
    rows = np.zeros(len(ends), dtype=bool)
    offsets = [
        found.start()
        for found in PERCENT_CANDIDATE.finditer(text)
        if found.group("semicolon") is None or REFERENCE_NAME_BEFORE.search(text[max(0, found.start() - REFERENCE_REACH) : found.start()])
    ]
    if offsets:
        rows[np.searchsorted(ends, np.asarray(offsets, dtype=np.int64), side="right")] = True
    return rows
