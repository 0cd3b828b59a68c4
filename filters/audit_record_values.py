"""Identifiers in VCF record text: the values and IDs a hospital pipeline may have written there.

A pipeline can write a resident registration number, a record number, an e-mail address or
a path into a record (``NOTE=900101-1234567``, ``NM=kimjh@snuh.org``), or into a key or ID
(a FILTER ``MRN:12345678``, an INFO key, a symbolic ALT ``<김지현>``). vcf-scrub-header
removes these shapes and the audit reports them, by the same two rules, implemented here
apart from the scrubber so that the audit checks its output from outside
(ARCHITECTURE.md, *The audit*). The rules must not flag what the scrubber keeps (the
workflow's gate audits scrubbed output), so they are exactly these, no more, no less:

- VALUE RULE (``value_holds_identifier``): the value of an INFO item of Type String or
  Character or not declared, a sample's value of such a FORMAT key (not GT), and the values
  of Integer and Float keys but those known to hold large numbers, so ``BIRTH=19900101`` of
  Type Integer is found and ``BIRTH=12``, ``AF=1e-05`` pass. A value of a key known to hold
  large numbers (``audit_allowlist.LARGE_NUMBER_KEYS`` and ``LARGE_NUMBER_FAMILY``: positions,
  lengths, depths, a cohort's counts, dbSNP's rs; and one of the specification's numeric keys
  the header does not declare, if it is one of them) is read only when an element of it is off
  the VCF number grammar (``NUMBER_GRAMMAR``: the Float grammar with ``NaN`` and ``Inf``, ``.``;
  an Integer is one) or holds a run of 11 digits: then by the value rule, so ``END=1990-01-01``
  is found and ``END=123456789`` passes.
- ID RULE (``id_fails``): each FILTER ID, INFO key, FORMAT key and the ID of a symbolic ALT
  ``<...>`` must match the format's grammar for it and hold nothing of ``PERSONAL_IN_ID``; so
  must a breakend's mate written ``<ID>`` (``A[<ctg1>:5[``), which must also pass the contig
  rule (``audit_header.contig_holds_personal``).
  The missing values (FILTER, INFO or FORMAT ``.``, an empty INFO item) are no IDs.

A number is an identifier unless it is one of the shapes public annotations write
(``NUMBER_EXCEPTIONS``): a range, a variant ``POS_REF_ALT``, a position after a contig of
the header, an accession after a RefSeq prefix, dbSNP's GENEINFO. A number written alone
with an exponent (``1.9900101e7``, ``1e+06``) is one when it is 1,000,000 or more. Six digits
before a number's point pass whatever its fraction (``900101.1234567``: a documented limit).
A romanised name, a number written onto a word (``MRN12345678``), a relative path
``lab/x.bam`` or a host name is not recognised in a value.

Both rules read a value or ID as written and as percent-decoded (``audit_header.decoded_forms``):
VCF 4.3 (1.2) writes ``:;=%,`` and CR, LF and TAB in a value as ``%3A``..., and any writer may
escape any byte so, so ``DOB%3A19900101``, ``MRN%5F12345678`` and ``900101%2D1234567`` are
identifiers as their plain spellings are; VEP's ``p.Leu10%3D`` holds none either way.

Most records hold none of these shapes: ``RecordValues.lines_to_check`` finds, with one
search over a block of records, the lines that may (a superset); only those, and records
whose IDs or first sample value need it, are looked at value by value (``places``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
from genoscrub import scan
from genoscrub.audit_allowlist import (
    DATE_WITH_MONTH_NAME,
    LARGE_NUMBER_FAMILY,
    LARGE_NUMBER_KEYS,
    LISTED_DATE,
    MONTH_NAMES,
    PERSONAL_NUMBERS,
    PHONE_NUMBER,
    PLACE_IN_TEXT,
    TWO_DIGIT_YEAR_DATE,
    LazyPattern,
)
from genoscrub.audit_forbid import ForbidList
from genoscrub.audit_header import contig_holds_personal, decoded_forms, printable
from genoscrub.vcf_header import ALT_ID, FIELD_ID, FILTER_ID

KIND = "identifier in record value"
"""The metadata finding of a record holding one of these shapes (one per record)."""

PERSONAL_IN_ID = LazyPattern(rb"[\x80-\xff]|" + PERSONAL_NUMBERS.encode())
"""What an ID never holds: text that is not ASCII, or the personal numbers and dates of any text
(not the six-digit dates of header text alone)."""

DELIMITERS = rb"|,&:=() "
"""What separates the tokens of a value (VEP's ``|`` and ``&``, lists, ``key:value``, blanks)."""
SHAPES = LazyPattern(
    rb"[\x80-\xff]"  # V1: not ASCII
    rb"|%[89A-Fa-f][0-9A-Fa-f]"  # V2: a percent-encoded byte of text that is not ASCII
    rb"|&#[0-9xX]"  # V3: an HTML character reference, with or without its ``;`` (which ends an INFO item),
    rb"|&[A-Za-z][A-Za-z0-9]*;"  # or a named one with it (``&shy;``, ``&ZeroWidthSpace;``: VEP's ``&`` joins no ``;``),
    rb"|&(?i:shy|nbsp)"  # or an invisible one a browser reads without it (``&shyJ``, ``&nbspKIM``)
    rb"|\\|@|://"  # V4: a Windows or UNC path, an e-mail address, a URL
    rb"|(?:^|[|,&:=() ])[/~]|/[^|,&:=() ]*/"  # V5: a token that starts with / or ~, or holds two /
    rb"|(?<![A-Za-z0-9.])(?:[0-9]{4}(?:[-./] ?|[ _:])[0-9]{1,2}(?:[-./] ?|[ _:])[0-9]{1,2}"  # V7: a date, year first,
    rb"|[0-9]{1,2}[-/][0-9]{1,2}[-/][0-9]{2,4}"  # day or month first,
    rb"|[0-9]{1,2}(?:\.[0-9]{1,2}\.|[ _:][0-9]{1,2}[ _:])[0-9]{4}"  # day first with a four-digit year (01.01.1990);
    rb"|" + LISTED_DATE.encode()  # joined by a list's separator (1990|01|01, 01;01;1990);
    + rb"|" + PHONE_NUMBER.encode() + rb")(?![0-9])"  # V8: a phone number (02 1234 5678, 010~1234~5678)
    + rb"|" + TWO_DIGIT_YEAR_DATE.encode()  # V7 too: a date with a two-digit year (29.10.23, 23.10.29)
)
"""Every shape of the value rule but numbers (V6, ``holds_number``) and dates with a month's name (V9, ``month_date_in``)."""
NOT_ASCII = re.compile(rb"[\x80-\xff]")
NUMBER = re.compile(rb"(?<![A-Za-z0-9.])[0-9]+(?:-[0-9]+)*")
"""V6: a number written alone, digits joined by single hyphens, taken longest."""
NUMBER_DIGITS = 7
EXPONENT_NUMBER = re.compile(rb"(?<![A-Za-z0-9.])(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE]\+?[0-9]+")
"""V6 too: a number written alone with an exponent that is not negative (Java's ``1.9900101E7``,
C's ``1e+06``), an identifier from ``SEVEN_DIGIT_NUMBER`` up."""
SEVEN_DIGIT_NUMBER = 1_000_000
VARIANT_AFTER = re.compile(rb"[_-][ACGTN]")
CONTIG_BEFORE_COLON = re.compile(rb"[A-Za-z0-9._*+-]*\Z")
NAME_BEFORE_UNDERSCORE = re.compile(rb"[A-Za-z0-9.]*\Z")
ACCESSION_PREFIXES = frozenset(b"AC NC NG NT NW NZ NM NR NP XM XR XP AP YP WP GCA GCF".split())
"""RefSeq prefixes and the assembly accessions: ``NM_001009931``, ``GCA_000001405`` are public names."""
NUMBERS_ALLOWED_KEY = b"GENEINFO"
"""dbSNP's ``SYMBOL:EntrezID|...``: gene IDs, not checked for numbers."""
SUBFIELD_NAMES = re.compile(rb"[A-Za-z0-9_.+-]+(?: ?\| ?[A-Za-z0-9_.+-]+)+")
"""An annotation's subfields as its Description lists them (VEP's ``Format: Allele|...|Gene|...``)."""
GENE_ID_SUBFIELDS = frozenset({b"Gene", b"Gene_ID"})
"""Subfields that hold a gene's ID: an Entrez number (``102723996``) for RefSeq transcripts."""
MAX_SUBFIELDS = 64

STRING, NUMERIC, SKIPPED = 0, 1, 2
"""How a key's values are read: by the value rule; by the number grammar first; not."""
NUMBER_GRAMMAR = re.compile(rb"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?(?:inf|infinity|nan)|\.", re.IGNORECASE)
"""An element of an Integer or Float value (VCF 4.4, 1.3: the Float grammar, ``.`` missing). An
Integer's value is read by it too: a key known to hold large numbers tells no more by a fraction,
a sign or an exponent (``END=1234567.5``), and vcf-scrub-header keeps such a number."""
LONG_DIGIT_RUN = re.compile(rb"[0-9]{11}")
LEADING_ZERO = re.compile(rb"(?:^|,)[-+]?0[0-9]")
"""An element written with a leading zero (``AD=010,1234,5678``: a phone number as counts)."""
"""Eleven digits in a row: more than a 32-bit Integer holds, a registration or phone number."""
UNDECLARED_NUMERIC = {
    b"INFO": frozenset(b"AC AD ADF ADR AF AN BQ DP END MQ MQ0 NS SB SVLEN CIPOS CIEND HOMLEN DPADJ CN CNADJ CICN CICNADJ CILEN".split()),
    b"FORMAT": frozenset(b"AD ADF ADR DP EC GL GP GQ HQ MQ PL PQ PS CN CNQ CNL CNP NQ".split()),
}
"""The VCF specification's numeric reserved keys (VCF 4.4, 1.6.1 and 1.6.2; 3 and 5): not read
where a header uses them without declaring them (PS, a phase set, is a position)."""
MAX_RANGE_SPAN = 1000
LARGE_NUMBERS = frozenset(key.encode() for key in LARGE_NUMBER_KEYS)
LARGE_NUMBERS_FAMILY = re.compile(LARGE_NUMBER_FAMILY.encode())


def holds_large_numbers(key: bytes) -> bool:
    """Whether an INFO or FORMAT key's numbers may be large on purpose (``audit_allowlist.LARGE_NUMBER_KEYS``)."""
    return key in LARGE_NUMBERS or LARGE_NUMBERS_FAMILY.search(key) is not None


def reading(types: set[bytes] | None, numeric: bool = False, large: bool = True) -> int:
    """How the values of a key of these declared Types (None: undeclared; ``numeric``: one of the
    specification's numeric keys; ``large``: a key known to hold large numbers) are read: the
    numbers of a key not ``large`` by the value rule."""
    if types is None:
        return NUMERIC if numeric and large else STRING
    if types and types <= {b"Integer", b"Float"} and large:
        return NUMERIC
    return STRING  # String, Character, none that parses; and a Flag's value, which it never has


def number_holds_identifier(value: bytes, contigs: frozenset[bytes]) -> bool:
    """An Integer or Float value of a key known to hold large numbers: the value rule, when an element
    is off the number grammar, holds a run of 11 digits (``1990-01-01``, ``010-1234-5678``,
    ``9001011234567``) or an element with a leading zero (``010,1234,5678``)."""
    if (
        LONG_DIGIT_RUN.search(value) is None
        and LEADING_ZERO.search(value) is None
        and all(NUMBER_GRAMMAR.fullmatch(element) for element in value.split(b","))
    ):
        return False
    return value_holds_identifier(value, contigs)


def read_value(
    value: bytes, how: int, contigs: frozenset[bytes], numbers_allowed: bool = False, gene_ids: frozenset[int] = frozenset()
) -> bool:
    """Whether a value read ``how`` (``reading``) holds an identifier."""
    if how == STRING:
        return value_holds_identifier(value, contigs, numbers_allowed, gene_ids)
    if how == SKIPPED:
        return False
    return number_holds_identifier(value, contigs)


def gene_id_subfields(description: bytes) -> frozenset[int]:
    """The places of the gene ID subfields in the subfield list an INFO Description gives."""
    found = SUBFIELD_NAMES.search(description)
    if found is None:
        return frozenset()
    names = [name.strip() for name in found.group().split(b"|")]
    return frozenset(index for index, name in enumerate(names) if name in GENE_ID_SUBFIELDS and index < MAX_SUBFIELDS)


def both_spellings(contigs: Iterable[str]) -> frozenset[bytes]:
    """Contig names with and without ``chr``: ``1:12345678`` and ``chr1:12345678`` are one position."""
    names = {name.encode("latin-1") for name in contigs}
    return frozenset(names | {name[3:] if name.startswith(b"chr") else b"chr" + name for name in names})

RARE_IN_BLOCK = (
    (b"@", re.compile(rb"@")),
    (b"\\", re.compile(rb"\\")),
    (b"~", re.compile(rb"~")),
    (b")", re.compile(rb"0[0-9]{1,2}\)")),  # V8: an area code in parentheses, (02) 1234 5678, 02)1234-5678
    (b"+82", re.compile(rb"\+82")),  # V8: a phone number after the country's code
    (b"&", re.compile(rb"&(?:#|(?i:shy|nbsp)|[A-Za-z][A-Za-z0-9]*(?:;|%3[Bb]))")),
    (b"%", re.compile(rb"%(?:[89A-Fa-f]|[0-9A-Fa-f]{2}[0-9/~ ]|3[0-9]|2[356Ff]|40|5[Cc]|7[Ee]|[46][1-9A-Fa-f]|[57][0-9Aa])")),
)
"""Shapes of the value rule made of bytes most VCFs never hold (V2 to V5, V8's parentheses and
country code; a named HTML reference
also with its ``;`` percent-encoded, ``&shy%3B``): a block is searched for each only when its first
byte occurs in it at all. With ``%``: V2, and an escape whose decoding may make a shape the written
text lacks (before a digit, ``/``, ``~`` or a blank: a separator of a number, date or phone number,
``1990. 01%2e 01``, or a delimiter before a path; an encoded digit, ``#``, ``%``, ``&``, ``/``,
``@``, ``\\``, ``~``, or a letter: an exponent's ``e``, ``1%65+06``, a month's name). Written, the
public shapes are not read through an escape (a contig or an accession before a number), so no
other escape hides a shape."""
SLASH_IN_BLOCK = re.compile(rb"/(?:(?<=[|,&:=() ]/)|[^|,&:=() \t\n/]*/)")
"""V5's ``/`` in a block: one starting a token after a delimiter, or two in one token (a
genotype's ``0/1`` is neither). Tab-led tokens are a sample's first value (``FormatState``)."""
AFTER_NUMBER_BLOCKED = bytes(byte in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.\t\n" for byte in range(256))
"""Bytes after which a digit starts no V6 number or V7 date: letters, digits, ``.``; and tab and
newline (a value never starts a column but a sample's first, which ``FormatState`` sees to).
A translation table to 0 and 1: ``bytes.translate`` maps a block through it at memory speed."""


INFO_COLUMN = 7
"""The INFO column's index: a ``:`` there may separate a date's parts (``scan.date_junctions``)."""


MONTH_STARTS = tuple(name.encode() for name in MONTH_NAMES if len(name) == 3)
MONTH_IN_TEXT = re.compile(b"|".join(MONTH_STARTS))
DIGIT = re.compile(rb"[0-9]")
MONTH_DATE_NEAR = LazyPattern(DATE_WITH_MONTH_NAME.encode())
"""V9 itself, looked for only around a month's letters beside a digit (``MARCHF5`` is none)."""


MONTH_REACH = 8
"""How far before a month's letters a V9 date may start: a year and a separator (``1990-Jan``), a
day as an ordinal and one (``12th Jan``) or `` of `` (``12th of Jan``)."""


def month_names_by_digits(block: bytes) -> list[int]:
    """Offsets of a month's three letters with a digit just before them (``29-OCT``, ``1990JAN``,
    ``1st Jan``, ``1st of Jan``) or soon after (``Oct 29``, ``Dec. 1``): where a V9 date may stand. Most blocks hold no month's
    letters at all, found by twelve byte searches of the block in lower case."""
    lowered = block.lower()
    if not any(month in lowered for month in MONTH_STARTS):
        return []
    return [
        found.start()
        for found in MONTH_IN_TEXT.finditer(lowered)
        if (
            DIGIT.search(lowered, max(0, found.start() - MONTH_REACH + 1), found.start())
            or DIGIT.search(lowered, found.end(), found.end() + 12)
        )
        and MONTH_DATE_NEAR.search(lowered, max(0, found.start() - MONTH_REACH), found.end() + 20)
    ]


def month_date_in(value: bytes) -> bool:
    """V9, a date with a month's name, looked for only where a month's three letters occur (in
    ``SHAPES`` it doubled the cost of every value)."""
    lowered = value.lower()
    return any(month in lowered for month in MONTH_STARTS) and MONTH_DATE_NEAR.search(value) is not None


def numbers_and_dates(block: bytes) -> np.ndarray:
    """Offsets in ``block`` from which every V6 number and V7 date not led by a tab can be found
    (a superset): a run of seven digits or more, or of four followed by ``.`` or ``/`` and a
    digit, after a byte not in ``AFTER_NUMBER_BLOCKED``; a hyphen between digits (any number of
    hyphenated groups, a date with hyphens); an ``e`` or ``E`` after a digit or ``.`` and before
    a digit or ``+`` and a digit (an exponent that is not negative, ``EXPONENT_NUMBER``). A date
    with two slashes is a token with two slashes (V5): ``SLASH_IN_BLOCK`` finds it.
    Numpy over the block: regular expressions cost ten times as much here."""
    padded = b"\n" + block + bytes(8)  # a byte before the first, room after the last
    text = np.frombuffer(padded, dtype=np.uint8)
    digit = (text - 48) < 10
    blocked = np.frombuffer(padded.translate(AFTER_NUMBER_BLOCKED), dtype=bool)
    four = ~blocked[:-4] & digit[1:-3] & digit[2:-2] & digit[3:-1] & digit[4:]  # four digits after a free byte
    starts = np.flatnonzero(four) + 1
    separator = text[starts + 4]
    dated = ((separator == ord(".")) | (separator == ord("/"))) & digit[starts + 5]
    seven = digit[starts + 4] & digit[starts + 5] & digit[starts + 6]
    hyphens = np.flatnonzero(text == ord("-"))
    joined = hyphens[digit[hyphens - 1] & digit[hyphens + 1]]
    letters = np.flatnonzero((text | 0x20) == ord("e"))  # e and E; the byte before the block's first is its "\n"
    mantissa = digit[letters - 1] | (text[letters - 1] == ord("."))
    exponent = digit[letters + 1] | ((text[letters + 1] == ord("+")) & digit[letters + 2])
    return np.concatenate((starts[seven | dated], joined, letters[mantissa & exponent])) - 1


def id_fails(identifier: bytes, grammar: re.Pattern[bytes]) -> bool:
    """The ID RULE: an ID that does not match its grammar, or holds a personal number as written
    or percent-decoded (a FILTER ``MRN%3A1990%2D01%2D01``)."""
    if grammar.fullmatch(identifier) is None or PERSONAL_IN_ID.search(identifier) is not None:
        return True
    return b"%" in identifier and any(PERSONAL_IN_ID.search(form) is not None for form in decoded_forms(identifier))


BRACKETED_MATE = re.compile(rb"[\[\]]<([^<>]*)>:[0-9]*[\[\]]")
"""A breakend's mate written ``<ID>``: ``A[<ctg1>:5[``, ``]<ctg1>:5]A``."""


PLACE_IN_ALT_ID = re.compile(PLACE_IN_TEXT.encode(), re.IGNORECASE)
"""A place in a symbolic allele's ID, as in a Description: a host name (``DEL:kim.snuh.ac.kr``), an
IP address, a scheme (``http:``)."""


def alt_id_fails(identifier: bytes) -> bool:
    """The ID RULE over a symbolic allele's ID, which names no place either."""
    return id_fails(identifier, ALT_ID) or PLACE_IN_ALT_ID.search(identifier) is not None


def allele_fails(allele: bytes) -> bool:
    """The ID RULE over an ALT allele that holds ``<``: a symbolic allele's ID (``alt_id_fails``), or
    each mate ``<ID>`` of a breakend, which must pass the contig rule too (``audit_header.contig_holds_personal``)."""
    if allele[:1] == b"<" and allele[-1:] == b">":
        return alt_id_fails(allele[1:-1])
    mates = BRACKETED_MATE.findall(allele)
    return any(alt_id_fails(mate) or contig_holds_personal(mate.decode("latin-1")) for mate in mates)


def is_range(groups: list[bytes]) -> bool:
    """``1234567-1234570``, ``999-1000``: two groups without a leading zero, the second from the
    first to ``MAX_RANGE_SPAN`` above it (a local phone number ``1234-5678`` spans more)."""
    if len(groups) != 2 or max(len(groups[0]), len(groups[1])) > 18 or b"0" in (groups[0][:1], groups[1][:1]):
        return False
    return 0 <= int(groups[1]) - int(groups[0]) <= MAX_RANGE_SPAN


def holds_number(value: bytes, contigs: frozenset[bytes]) -> bool:
    """V6: a number of ``NUMBER_DIGITS`` digits or more that none of the public shapes explains, or
    one of ``SEVEN_DIGIT_NUMBER`` or more written with an exponent."""
    for found in NUMBER.finditer(value):
        number = found.group()
        if len(number) - number.count(b"-") < NUMBER_DIGITS:
            continue
        groups = number.split(b"-")
        if is_range(groups):
            continue
        start, end = found.span()
        if VARIANT_AFTER.match(value, end):
            continue
        before = value[start - 1 : start]
        if before == b":":
            name = CONTIG_BEFORE_COLON.search(value, 0, start - 1)
            if name is not None and name.group() in contigs:
                continue
        elif before == b"_":
            name = NAME_BEFORE_UNDERSCORE.search(value, 0, start - 1)
            if name is not None and (name.group() in contigs or name.group() in ACCESSION_PREFIXES):
                continue
        return True
    return any(float(found.group()) >= SEVEN_DIGIT_NUMBER for found in EXPONENT_NUMBER.finditer(value))


def value_holds_identifier(
    value: bytes, contigs: frozenset[bytes], numbers_allowed: bool = False, gene_ids: frozenset[int] = frozenset()
) -> bool:
    """The VALUE RULE over one value (``numbers_allowed``: GENEINFO's; ``gene_ids``: the places of an
    annotation's gene ID subfields, counted by ``|`` in each ``,`` part, where numbers are allowed),
    as written and percent-decoded: each subfield of an annotation decoded on its own, as its
    ``|`` and ``,`` are the annotation's own."""
    if written_value_holds_identifier(value, contigs, numbers_allowed, gene_ids):
        return True
    if b"%" not in value:
        return False
    if not gene_ids:
        return any(written_value_holds_identifier(form, contigs, numbers_allowed) for form in decoded_forms(value))
    return any(
        written_value_holds_identifier(form, contigs, numbers_allowed or index in gene_ids)
        for part in value.split(b",")
        for index, subfield in enumerate(part.split(b"|"))
        if b"%" in subfield
        for form in decoded_forms(subfield)
    )


def written_value_holds_identifier(
    value: bytes, contigs: frozenset[bytes], numbers_allowed: bool = False, gene_ids: frozenset[int] = frozenset()
) -> bool:
    """The VALUE RULE over one value as it is written."""
    if SHAPES.search(value) is not None or month_date_in(value):
        return True
    if numbers_allowed:
        return False
    if not gene_ids:
        return holds_number(value, contigs)
    subfields = (subfield for part in value.split(b",") for subfield in enumerate(part.split(b"|")))
    return any(index not in gene_ids and holds_number(subfield, contigs) for index, subfield in subfields)


class FormatState:
    """What a FORMAT column (``GT:AD:NOTE``) asks of the records that use it, worked out once."""

    def __init__(self, column: bytes, checked_types: dict[bytes, set[bytes]], forbid: ForbidList | None) -> None:
        self.column = column
        self.keys = column.split(b":") if column != b"." else []
        self.failing = [id_fails(key, FIELD_ID) for key in self.keys]
        self.checked = [
            SKIPPED if key == b"GT" else reading(checked_types.get(key), key in UNDECLARED_NUMERIC[b"FORMAT"], holds_large_numbers(key))
            for key in self.keys
        ]
        self.labels = [
            "FORMAT/" + ("(a key)" if failing else printable(key.decode("latin-1"), forbid))
            for key, failing in zip(self.keys, self.failing, strict=True)
        ]
        self.must_check = any(self.failing) or not self.checked or self.checked[0] != SKIPPED
        """Whether a record must be looked at value by value whatever the block search found: a
        key fails, or the first sample value (after a tab, where the search does not look) is
        read. So must a record whose FILTER fails or that has a symbolic ALT."""


class RecordValues:
    """The value and ID rules over the records of one VCF, with the header's types and contigs."""

    def __init__(
        self,
        info_types: dict[bytes, set[bytes]],
        format_types: dict[bytes, set[bytes]],
        contigs: Iterable[str],
        forbid: ForbidList | None,
        gene_subfields: dict[bytes, frozenset[int]] | None = None,
    ) -> None:
        self.info_types = info_types
        self.format_types = format_types
        self.contigs = both_spellings(contigs)
        self.gene_subfields = {
            key: found for key, found in (gene_subfields or {}).items() if found and reading(info_types.get(key)) == STRING
        }
        self.forbid = forbid
        self.passing_info_keys = frozenset(key for key in info_types if not id_fails(key, FIELD_ID))
        """Declared INFO keys that pass the ID rule: the records' keys are looked up here first."""
        self.info_key_failing: dict[bytes, bool] = {}
        self.info_readings: dict[bytes, int] = {}
        self.filter_failing: dict[bytes, bool] = {}
        self.allele_failing: dict[bytes, bool] = {}
        self.formats: dict[bytes, FormatState] = {}
        self.last_format: FormatState | None = None

    def format_state(self, column: bytes) -> FormatState:
        state = self.last_format
        if state is not None and column == state.column:  # most records share the one before's FORMAT
            return state
        state = self.formats.get(column)
        if state is None:
            if len(self.formats) > 10_000:  # a file whose every record has its own FORMAT: keep memory flat
                self.formats.clear()
            state = self.formats[column] = FormatState(column, self.format_types, self.forbid)
        self.last_format = state
        return state

    def info_reading(self, key: bytes) -> int:
        """How an INFO key's values are read (``reading``), worked out once a key."""
        how = self.info_readings.get(key)
        if how is None:
            if len(self.info_readings) > 10_000:
                self.info_readings.clear()
            how = self.info_readings[key] = reading(self.info_types.get(key), key in UNDECLARED_NUMERIC[b"INFO"], holds_large_numbers(key))
        return how

    def info_key_fails(self, key: bytes) -> bool:
        failing = self.info_key_failing.get(key)
        if failing is None:
            if len(self.info_key_failing) > 10_000:
                self.info_key_failing.clear()
            failing = self.info_key_failing[key] = id_fails(key, FIELD_ID)
        return failing

    def filter_fails(self, column: bytes) -> bool:
        failing = self.filter_failing.get(column)
        if failing is None:
            if len(self.filter_failing) > 10_000:
                self.filter_failing.clear()
            failing = self.filter_failing[column] = any(
                id_fails(name, FILTER_ID) for name in column.split(b";") if name not in (b"", b".", b"PASS")  # q10; is no ID
            )
        return failing

    def alleles_fail(self, column: bytes) -> bool:
        """Whether the ID of a symbolic ALT (``<DEL>``) or of a breakend's mate written ``<ID>``
        (``A[<ctg1>:5[``, which must pass the contig rule too) fails; bases are not checked."""
        for allele in column.split(b","):
            if b"<" in allele:
                failing = self.allele_failing.get(allele)
                if failing is None:
                    if len(self.allele_failing) > 10_000:
                        self.allele_failing.clear()
                    failing = self.allele_failing[allele] = allele_fails(allele)
                if failing:
                    return True
        return False

    def lines_to_check(self, lines: list[bytes], block: bytes | None = None) -> set[int]:
        """The lines of a block in which a value may hold an identifier: a superset, found with
        searches over the whole block (byte searches and numpy: a regular expression of many
        alternatives costs some 60 ns a byte, ten times these), then mapped to lines.
        ``block``: the lines joined by newlines, when the caller has them."""
        if block is None:
            block = b"\n".join(lines)
        hits: list[int] = []
        if not block.isascii():
            hits.extend(found.start() for found in NOT_ASCII.finditer(block))
        for first, pattern in RARE_IN_BLOCK:
            if first in block:
                hits.extend(found.start() for found in pattern.finditer(block))
        hits.extend(found.start() for found in SLASH_IN_BLOCK.finditer(block))
        hits.extend(month_names_by_digits(block))
        found = np.concatenate((numbers_and_dates(block), scan.date_junctions(block, INFO_COLUMN)))
        if not hits and not len(found):
            return set()
        ends = np.cumsum([len(line) + 1 for line in lines])
        return set(np.searchsorted(ends, np.concatenate((np.array(hits, dtype=np.int64), found)), side="right").tolist())

    def places(self, fields: list[bytes]) -> list[str]:
        """Where a record's columns (split at tabs) hold an identifier, by field name, in column
        order, each once: ``FILTER``, ``ALT``, ``INFO/NOTE``, ``FORMAT/(a key)``; [] for none."""
        found: list[str] = []
        if b"<" in fields[4] and self.alleles_fail(fields[4]):
            found.append("ALT")
        if self.filter_fails(fields[6]):
            found.append("FILTER")
        info = fields[7]
        if info != b".":
            for item in info.split(b";"):
                if not item:  # ``DP=5;;AF=0.5``, a trailing ``;``: no key, no value
                    continue
                key, equals, value = item.partition(b"=")
                failing = self.info_key_fails(key)
                how = self.info_reading(key)
                gene_ids = self.gene_subfields.get(key, frozenset())
                if failing or (equals and read_value(value, how, self.contigs, key == NUMBERS_ALLOWED_KEY, gene_ids)):
                    label = "INFO/" + ("(a key)" if failing else printable(key.decode("latin-1"), self.forbid))
                    if label not in found:
                        found.append(label)
        if len(fields) > 8:
            state = self.format_state(fields[8])
            for label, failing in zip(state.labels, state.failing, strict=True):
                if failing and label not in found:
                    found.append(label)
            keys = len(state.keys)
            for sample in fields[9:]:
                for index, value in enumerate(sample.split(b":")):
                    how = STRING
                    if index < keys:
                        how = state.checked[index]
                        if how == SKIPPED:
                            continue
                        label = state.labels[index]
                    else:
                        label = "FORMAT/(a value without a key)"
                    if label not in found and read_value(value, how, self.contigs):
                        found.append(label)
        return found
