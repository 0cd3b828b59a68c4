"""The SAM header model: the one parser and the one writer of @HD, @SQ, @RG, @PG and @CO.

Every SAM command reads its header here (SAM spec 1.6, section 1.3), so a header
line means the same thing to all of them: the same @SQ dictionary for the
same-genome check, with a bad ``LN`` refused the same way everywhere, and the same
genoscrub ``@PG`` line.

Parsing is fail closed. A header line is split into ``TAG:VALUE`` fields and each
value a command keeps is checked against the spec's grammar: ``VN`` a version
(1.0 to 1.6 so far: one or two digits each side of the dot), ``SO``/``GO``/``TP`` their
enums, ``SS`` a sort order with a sub-sort from a short list, ``M5`` 32 hexadecimal
digits (and, given the reference, its sequence's MD5: ``SamHeader.keep_checksums_of``),
``PL`` a platform of the spec's list, ``LN`` a length from 1 to 2^31-1; each name of
``AN`` a spelling of ``SN`` or an accession that passes ``SN``'s own rules, no name twice and one
accession a database at most. Free-text
tags (``AS``, ``SP``) are kept only when their value is on a documented list
(``ASSEMBLIES``, ``SPECIES``); ``UR``, ``DS`` and every tag not named here are dropped.
What is dropped is counted by kind (``SamHeader.removed_lines``, ``removed_tags``), never
quoted. Structural faults (no record type, a field without a colon, a tag twice, an @SQ
without a usable ``SN``/``LN``, an @RG without ``ID``) are errors with the line number: a
header the records depend on cannot be guessed at.

The output header is written from the model field by field (``SamHeader.text``):
``@HD`` first, always with a valid ``VN``; then the kept @SQ and @RG lines in input
order, their kept tags in input order; then genoscrub's own ``@PG``. Nothing is
copied as text because its tag was allowed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from genoscrub import __version__
from genoscrub.contigs import conventional_names
from genoscrub.identifiers import personal_sequence_name
from genoscrub.report import InputError

SAM_VERSION = b"1.6"
"""``@HD VN`` written when the input's @HD has none that parses."""

MAX_LENGTH = (1 << 63) - 1
"""The largest ``LN``: the SAM spec says ``2^31-1``, but htslib reads longer references
in SAM text (64-bit positions; BAM cannot hold them, and encoding one fails)."""

# Value lists (SAM spec 1.6, section 1.3). The free-text lists are ours and documented
# in man/sam-scrub-rg.md: a value not on them may name a lab, a person or a path.
SORT_ORDERS = (b"unknown", b"unsorted", b"queryname", b"coordinate")
GROUPINGS = (b"none", b"query", b"reference")
SUB_SORTS = (b"natural", b"lexicographical", b"template-coordinate", b"coordinate", b"queryname")
TOPOLOGIES = (b"linear", b"circular")
PLATFORMS = (
    b"CAPILLARY", b"DNBSEQ", b"ELEMENT", b"HELICOS", b"ILLUMINA", b"IONTORRENT",
    b"LS454", b"ONT", b"PACBIO", b"SINGULAR", b"SOLID", b"ULTIMA",
)  # fmt: skip
ASSEMBLIES = (
    b"GRCh37", b"GRCh38", b"hg18", b"hg19", b"hg38", b"hs37d5", b"hs38DH", b"b37", b"NCBI36",
    b"T2T-CHM13", b"CHM13", b"chm13v2.0", b"GRCm38", b"GRCm39", b"mm10", b"mm39",
)  # fmt: skip
SPECIES = (b"Homo sapiens", b"Mus musculus", b"human", b"mouse")

HEADER_TYPE = re.compile(rb"@[A-Za-z][A-Za-z](?:\t|$)")
HEADER_FIELD = re.compile(rb"[A-Za-z][A-Za-z0-9]:[^\t]+")
VERSION = re.compile(rb"[0-9]{1,2}\.[0-9]{1,2}")
"""``@HD VN``: the spec's two numbers and a dot held to the versions there are (1.0 to 1.6), so
that no date or number of a person (``19900101.9001011234567``) fits in it."""
MD5 = re.compile(rb"[0-9A-Fa-f]{32}")
# A reference name as htslib reads it: printable ASCII, not starting with * or = (the SAM
# spec's grammar, 1.2.1, also excludes \,"'()[]{}<>, which real files use: chr1,chr3).
REFERENCE_NAME = re.compile(rb"[!-)+-<>-~][!-~]*")
LOCUS = re.compile(rb"(.+):([0-9]+)-([0-9]+)")
ACCESSION = re.compile(rb"(?P<refseq>[A-Z]{2}_(?:[0-9]{6}|[0-9]{9}))\.[0-9]{1,3}|(?:[A-Z][0-9]{5}|[A-Z]{2}[0-9]{6})\.[0-9]{1,3}")
"""A sequence database accession in ``@SQ AN``, in the shapes the databases give: RefSeq's two
letters, ``_`` and 6 or 9 digits (``NC_000001.11``, ``NW_003315905.1``; group ``refseq``), or
INSDC's (GenBank, ENA, DDBJ) one letter and 5 digits or two and 6 (``J01415.2``, ``CM000663.2``,
``KI270706.1``), with a version."""

REQUIRED = {b"SQ": (b"SN", b"LN"), b"RG": (b"ID",)}
PARSED_TYPES = (b"HD", b"SQ", b"RG")


def _one_of(values: Sequence[bytes], ignore_case: bool = False) -> Callable[[bytes], bytes | None]:
    """A rule keeping a value of ``values`` (written in the list's spelling)."""
    table = {value.lower() if ignore_case else value: value for value in values}
    return lambda value: table.get(value.lower() if ignore_case else value)


def _version(value: bytes) -> bytes | None:
    return value if VERSION.fullmatch(value) else None


def _sub_sort(value: bytes) -> bytes | None:
    order, colon, sub_sort = value.partition(b":")
    return value if colon and order in SORT_ORDERS and sub_sort in SUB_SORTS else None


def _md5(value: bytes) -> bytes | None:
    return value.lower() if MD5.fullmatch(value) else None


Rule = Callable[[bytes], "bytes | None"]

# The tags each record type keeps, with the rule that validates (and may respell) a value;
# None: the value is checked elsewhere (names, lengths) or replaced by the command (@RG IDs).
RULES: dict[bytes, dict[bytes, Rule | None]] = {
    b"HD": {
        b"VN": _version,
        b"SO": _one_of(SORT_ORDERS),
        b"GO": _one_of(GROUPINGS),
        b"SS": _sub_sort,
    },
    b"SQ": {
        b"SN": None,
        b"LN": None,
        b"M5": _md5,
        b"AS": _one_of(ASSEMBLIES, ignore_case=True),
        b"SP": _one_of(SPECIES, ignore_case=True),
        b"TP": _one_of(TOPOLOGIES),
        b"AH": None,
        b"AN": None,
    },
    b"RG": {
        b"ID": None,
        b"SM": None,
        b"LB": None,
        b"PU": None,
        b"PL": _one_of(PLATFORMS, ignore_case=True),
    },
}


@dataclass
class HeaderLine:
    """One kept header line: its record type and its kept fields, in input order."""

    record_type: bytes
    fields: dict[bytes, bytes]
    number: int
    """1-based line number in the input, for messages."""

    def text(self) -> bytes:
        return b"\t".join([b"@" + self.record_type, *(tag + b":" + value for tag, value in self.fields.items())])


@dataclass
class SamHeader:
    """A parsed, validated SAM header.

    ``lines`` are the kept @HD/@SQ/@RG lines (at most one @HD); ``programs`` the
    IDs of the input's @PG lines (they are never written, but records name them in
    ``PG:Z``). What was dropped is counted by kind, never quoted: ``removed_lines``
    by record type (``@PG``, ``@CO``, ``@XY``, a second ``@HD``), ``removed_tags``
    by record type and tag (``@SQ UR``), ``rebuilt`` what was written in place of a
    missing or invalid value (``@HD VN``).
    """

    lines: list[HeaderLine] = field(default_factory=list)
    programs: list[bytes] = field(default_factory=list)
    removed_lines: Counter[str] = field(default_factory=Counter)
    removed_tags: Counter[str] = field(default_factory=Counter)
    rebuilt: Counter[str] = field(default_factory=Counter)
    line_count: int = 0

    def of_type(self, record_type: bytes) -> list[HeaderLine]:
        return [line for line in self.lines if line.record_type == record_type]

    def sequence_lengths(self) -> dict[str, int]:
        """``{SN: LN}`` of the @SQ lines, in order: the dictionary of the same-genome check."""
        return {line.fields[b"SN"].decode("ascii"): int(line.fields[b"LN"]) for line in self.of_type(b"SQ")}

    def keep_checksums_of(self, sequence_md5: Callable[[str], str | None]) -> None:
        """Keep an ``@SQ M5`` only where it is ``sequence_md5`` of its ``SN`` (the MD5 of the
        reference's sequence, None where the reference has none of that name); drop and count
        the others. 32 hexadecimal digits can hold any digits (``19900101900101123456701012345678``),
        so only the reference can tell an MD5 from a number written in its place."""
        for line in self.of_type(b"SQ"):
            checksum = line.fields.get(b"M5")
            if checksum is not None and sequence_md5(line.fields[b"SN"].decode("ascii")) != checksum.decode("ascii"):
                del line.fields[b"M5"]
                self.removed_tags["@SQ M5"] += 1

    def text(self, extra: Iterable[bytes] = ()) -> bytes:
        """The header as SAM text: @HD first, the other kept lines in input order, then ``extra``."""
        ordered = self.of_type(b"HD") + [line for line in self.lines if line.record_type != b"HD"]
        return b"".join(line + b"\n" for line in [*(kept.text() for kept in ordered), *extra])


def parse_header(lines: Sequence[bytes], path: str, first_line: int = 1) -> SamHeader:
    """Parse and validate SAM header lines (without their line ends).

    Raises InputError (with the line number) for what makes the header
    unreadable; drops and counts what fails a value's grammar.
    """
    header = SamHeader(line_count=len(lines))
    names: dict[bytes, int] = {}
    read_groups: set[bytes] = set()
    alternates: list[tuple[HeaderLine, bytes]] = []
    for number, line in enumerate(lines, start=first_line):
        if not HEADER_TYPE.match(line):
            raise InputError("malformed header line (expected @ and a two-letter record type)", path, number)
        record_type = line[1:3]
        if record_type not in PARSED_TYPES:
            if record_type == b"PG":
                identifier = program_id(line)
                if identifier is not None:
                    header.programs.append(identifier)
            header.removed_lines["@" + record_type.decode("ascii")] += 1
            continue
        fields = _fields(line, path, number)
        if record_type == b"HD":
            if header.of_type(b"HD"):
                header.removed_lines["@HD"] += 1  # a second @HD: the spec allows one, the first wins
                continue
            kept = _kept(record_type, fields, header.removed_tags)
            if b"VN" not in kept:
                kept = {b"VN": SAM_VERSION, **kept}
                header.rebuilt["@HD VN"] += 1
            header.lines.append(HeaderLine(record_type, kept, number))
            continue
        for required in REQUIRED[record_type]:
            if required not in fields:
                raise InputError(f"@{record_type.decode()} line without {required.decode()}", path, number)
        kept = _kept(record_type, fields, header.removed_tags)
        if record_type == b"SQ":
            name = fields[b"SN"]
            if not REFERENCE_NAME.fullmatch(name):
                raise InputError("@SQ SN is not a reference name (printable, not starting with * or =)", path, number)
            if name in names:
                raise InputError("@SQ SN given twice", path, number)
            names[name] = _length(fields[b"LN"], path, number)
            kept[b"LN"] = b"%d" % names[name]
            _check_alternative_names(name, kept, header.removed_tags)
        else:
            if fields[b"ID"] in read_groups:
                raise InputError("@RG ID given twice", path, number)
            read_groups.add(fields[b"ID"])
        parsed = HeaderLine(record_type, kept, number)
        if b"AH" in kept:
            alternates.append((parsed, kept[b"AH"]))
        header.lines.append(parsed)
    for parsed, locus in alternates:  # AH names a locus of the primary assembly: an @SQ of this header
        if not _is_locus(locus, names):
            del parsed.fields[b"AH"]
            header.removed_tags["@SQ AH"] += 1
    return header


def _fields(line: bytes, path: str, number: int) -> dict[bytes, bytes]:
    """``{tag: value}`` of an @HD/@SQ/@RG line in input order; malformed or repeated tags are errors."""
    fields = line.split(b"\t")[1:]
    if not fields or not all(HEADER_FIELD.fullmatch(field) for field in fields):
        raise InputError("malformed header line (expected TAG:VALUE fields)", path, number)
    pairs = {field[:2]: field[3:] for field in fields}
    if len(pairs) < len(fields):
        raise InputError("header line gives a tag twice", path, number)
    return pairs


def _kept(record_type: bytes, fields: dict[bytes, bytes], removed: Counter[str]) -> dict[bytes, bytes]:
    """The fields whose tag is kept and whose value passes its rule; the rest counted as removed."""
    rules = RULES[record_type]
    kept: dict[bytes, bytes] = {}
    for tag, value in fields.items():
        if tag not in rules:
            removed[f"@{record_type.decode()} {tag.decode()}"] += 1
            continue
        rule = rules[tag]
        checked = value if rule is None else rule(value)
        if checked is None:
            removed[f"@{record_type.decode()} {tag.decode()}"] += 1
            continue
        kept[tag] = checked
    return kept


def _length(value: bytes, path: str, number: int) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_LENGTH:
        raise InputError("@SQ LN is not a length of 1 or more", path, number)
    return int(value)


def _check_alternative_names(name: bytes, kept: dict[bytes, bytes], removed: Counter[str]) -> None:
    """``AN`` stays only when every name in it is a conventional spelling of ``SN``
    (``chrM``/``MT``) or a sequence accession: any other text could be anything. Each is a
    name of the reference, so it is held to ``SN``'s rules too (``alternative_name``)."""
    value = kept.get(b"AN")
    if value is None:
        return
    spellings = {other.encode() for other in conventional_names(name.decode("ascii"))}
    aliases = value.split(b",")
    if not all(alternative_name(alias, spellings) for alias in aliases) or not one_accession_a_database(aliases):
        del kept[b"AN"]
        removed["@SQ AN"] += 1


def one_accession_a_database(aliases: list[bytes]) -> bool:
    """Whether ``AN`` names no name twice and at most one accession of each database (RefSeq's,
    INSDC's): a sequence has one in each (``AN:1,CM000663.2,NC_000001.11``). Each name is judged
    alone, so two of a kind could spell a number between them (``AN:AB900101.1,CM123456.7``,
    900101-1234567), and a name given again a count."""
    if len(set(aliases)) != len(aliases):
        return False
    kinds = [match.group("refseq") is not None for alias in aliases if (match := ACCESSION.fullmatch(alias))]
    return len(kinds) == len(set(kinds))


def alternative_name(alias: bytes, spellings: set[bytes]) -> bool:
    """One name of ``AN``: a spelling of ``SN`` or an accession in shape (``NC_000001.11``),
    which is also a reference name (the grammar) and holds no path, address or personal data
    (``identifiers.personal_sequence_name``): ``KJ_19900101.1`` has an accession's shape and
    a date of birth."""
    if alias not in spellings and not ACCESSION.fullmatch(alias):
        return False
    return REFERENCE_NAME.fullmatch(alias) is not None and not personal_sequence_name(alias)


def _is_locus(value: bytes, names: dict[bytes, int]) -> bool:
    """``*``, an @SQ name, or ``name:start-end`` within it."""
    if value == b"*" or value in names:
        return True
    match = LOCUS.fullmatch(value)
    if not match or match.group(1) not in names:
        return False
    start, end = int(match.group(2)), int(match.group(3))
    return 1 <= start <= end <= names[match.group(1)]


def program_id(line: bytes) -> bytes | None:
    """The ``ID`` of an @PG line, or None."""
    for field_text in line.split(b"\t")[1:]:
        if field_text.startswith(b"ID:"):
            return field_text[3:]
    return None


def sequence_dictionary(lines: Sequence[bytes], path: str, first_line: int = 1) -> dict[str, int]:
    """``{SN: LN}`` of a header's @SQ lines, validated as every SAM command validates them."""
    return parse_header(lines, path, first_line).sequence_lengths()


def program_line(command: str, taken: Iterable[bytes] = ()) -> bytes:
    """genoscrub's one ``@PG`` line: the command and version, never a command line or a path.

    Its ID is the command's name, or ``name.1``, ``name.2``... when a line the
    output keeps already uses it (``taken``).
    """
    used = set(taken)
    name = command.encode()
    identifier, suffix = name, 1
    while identifier in used:
        identifier = b"%s.%d" % (name, suffix)
        suffix += 1
    return b"@PG\tID:%s\tPN:genoscrub\tVN:%s" % (identifier, __version__.encode())


def program_ids(lines: Sequence[bytes]) -> list[bytes]:
    """The IDs of the @PG lines among header lines (kept as text by a command that
    passes its header on), for ``program_line``'s ``taken``."""
    return [identifier for line in lines if line.startswith(b"@PG") and (identifier := program_id(line)) is not None]
