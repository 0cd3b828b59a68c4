"""The VCF header: its lines read, and its meta-information parsed into typed fields.

Every VCF command reads the header with ``vcf.split_header_text`` into a ``VcfHeader``
and asks it what it needs (``contigs``, ``info_numbers``); vcf-scrub-header also writes its output header
from the typed definitions (``FieldDefinition``, ``Definition``, ``Contig``), never
from the input's text. A structured value (``<ID=DP,Number=1,...>``) is parsed by one
strict reader of the VCF 4.x grammar (``structured_fields``, VCF 4.3 section 1.4):
fields ``key=value`` separated by commas (blanks before a key tolerated, as htslib
does), a value quoted (``\\"`` and ``\\\\`` escaped) or plain (no comma, quote or
angle bracket), nothing after the ``>``, no key twice. A line that does not fit is
not guessed at: the caller drops it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from genoscrub.fields import unsigned_integer
from genoscrub.report import InputError

FIXED_COLUMNS = (b"#CHROM", b"POS", b"ID", b"REF", b"ALT", b"QUAL", b"FILTER", b"INFO")
FIELD_KEY = re.compile(rb"[A-Za-z0-9_]+")
PLAIN_VALUE = re.compile(rb'[^,"<>]*')
QUOTED_VALUE = re.compile(rb'"((?:[^"\\]|\\.)*)"', re.DOTALL)
ESCAPE = re.compile(rb"\\(.)", re.DOTALL)
META_KEY = re.compile(rb"[A-Za-z0-9_.:-]+")
BLANKS = b" \t"

# VCF 4.3, 1.4.2: an INFO/FORMAT ID; older files (ANNOVAR's ``1000g2015aug_all``, ``GERP++_RS``)
# also start with a digit or hold ``+`` and ``-``: accepted, nothing else (no ``/``, blank, quote).
FIELD_ID = re.compile(rb"[A-Za-z0-9_][A-Za-z0-9_.+-]*")
# VCF 4.3, 1.4.5 and 1.4.3: symbolic allele IDs (``DEL``, ``INS:ME:ALU``, ``*``), FILTER IDs.
ALT_ID = re.compile(rb"[A-Za-z0-9_.*+-]+(?::[A-Za-z0-9_.*+-]+)*")
FILTER_ID = re.compile(rb"[A-Za-z0-9_.+:%*-]+")
# VCF 4.3, 1.4.7: a contig ID.
CONTIG_ID = re.compile(rb"[0-9A-Za-z!#$%&+./:;?@^_|~-][0-9A-Za-z!#$%&*+./:;=?@^_|~-]*")
# VCF 4.4: Number is an integer, A, R, G, P (ploidy), M (4.5: base modifications) or ".".
NUMBER = re.compile(rb"[0-9]+|[ARGPM.]")
INFO_TYPES = frozenset({b"Integer", b"Float", b"Flag", b"Character", b"String"})
FORMAT_TYPES = frozenset({b"Integer", b"Float", b"Character", b"String"})
FILEFORMAT = re.compile(rb"VCFv4\.[0-5]")
MAX_LENGTH = (1 << 62) - 1  # a contig length htslib can hold
DEFINED_KEYS = (b"INFO", b"FORMAT", b"FILTER", b"ALT")


@dataclass(frozen=True)
class StructuredField:
    """One ``key=value`` of a structured meta line; ``value`` unescaped when it was quoted."""

    key: bytes
    value: bytes
    quoted: bool


def meta_key(line: bytes) -> bytes:
    """``INFO`` of ``##INFO=<...>``; the whole text after ``##`` when there is no ``=``."""
    return line[2:].split(b"=", 1)[0]


def meta_value(line: bytes) -> bytes:
    parts = line.split(b"=", 1)
    return parts[1] if len(parts) == 2 else b""


def structured_fields(value: bytes) -> list[StructuredField] | None:
    """The fields of ``<key=value,...>``, or None when the text is not one (see the module)."""
    if len(value) < 2 or value[:1] != b"<" or value[-1:] != b">":
        return None
    fields: list[StructuredField] = []
    seen: set[bytes] = set()
    position, end = 1, len(value) - 1
    if position == end:
        return fields
    while True:
        while position < end and value[position] in BLANKS:  # "<ID=AF, Number=1, ...>" (VCF 4.0 era, as htslib reads it)
            position += 1
        key = FIELD_KEY.match(value, position, end)
        if key is None or key.end() >= end or value[key.end()] != ord("="):
            return None
        position = key.end() + 1
        quoted = QUOTED_VALUE.match(value, position, end)
        if quoted is not None:
            text, position = ESCAPE.sub(_unescaped, quoted.group(1)), quoted.end()
        else:
            plain = PLAIN_VALUE.match(value, position, end)
            assert plain is not None  # matches the empty string at least
            text, position = plain.group(0), plain.end()
        if key.group(0) in seen:
            return None
        seen.add(key.group(0))
        fields.append(StructuredField(key.group(0), text, quoted is not None))
        if position == end:
            return fields
        if value[position] != ord(","):
            return None
        position += 1


def _unescaped(match: re.Match[bytes]) -> bytes:
    """``\\"`` and ``\\\\`` are escapes; a backslash before anything else is itself (``C:\\Users``)."""
    character = match.group(1)
    return character if character in (b'"', b"\\") else match.group(0)


def quoted(text: bytes) -> bytes:
    """``text`` as a quoted VCF header value."""
    return b'"' + text.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def structured_line(key: bytes, fields: list[tuple[bytes, bytes, bool]]) -> bytes:
    """``##key=<k=v,...>`` from ``(k, v, quote)`` triples."""
    parts = [name + b"=" + (quoted(value) if quote else value) for name, value, quote in fields]
    return b"##" + key + b"=<" + b",".join(parts) + b">"


# --- typed definitions ----------------------------------------------------------------------


@dataclass(frozen=True)
class FieldDefinition:
    """An ``##INFO`` or ``##FORMAT`` line: ID, Number, Type, Description (VCF 4.3, 1.4.2 and 1.4.4)."""

    kind: bytes
    id: bytes
    number: bytes
    type: bytes
    description: bytes
    dropped_fields: int = 0  # Source, Version, IDX and unknown fields not written back

    def line(self, description: bytes | None = None) -> bytes:
        text = self.description if description is None else description
        fields = [(b"ID", self.id, False), (b"Number", self.number, False), (b"Type", self.type, False), (b"Description", text, True)]
        return structured_line(self.kind, fields)


@dataclass(frozen=True)
class Definition:
    """An ``##FILTER`` or ``##ALT`` line: ID and Description (VCF 4.3, 1.4.3 and 1.4.5)."""

    kind: bytes
    id: bytes
    description: bytes
    dropped_fields: int = 0

    def line(self, description: bytes | None = None, identifier: bytes | None = None) -> bytes:
        text = self.description if description is None else description
        return structured_line(self.kind, [(b"ID", identifier or self.id, False), (b"Description", text, True)])


@dataclass(frozen=True)
class Contig:
    """A ``##contig`` line as written back: its ID and, when given as digits, its length."""

    id: bytes
    length: int | None
    dropped_fields: int = 0

    def line(self) -> bytes:
        fields = [(b"ID", self.id, False)]
        if self.length is not None:
            fields.append((b"length", b"%d" % self.length, False))
        return structured_line(b"contig", fields)


def field_definition(kind: bytes, value: bytes) -> FieldDefinition | None:
    """An INFO/FORMAT definition, or None when its structure or a required field does not fit."""
    fields = structured_fields(value)
    if fields is None:
        return None
    found = {item.key: item for item in fields}
    try:
        identifier, number, kind_type, description = (found[key] for key in (b"ID", b"Number", b"Type", b"Description"))
    except KeyError:
        return None
    types = INFO_TYPES if kind == b"INFO" else FORMAT_TYPES
    if identifier.quoted or number.quoted or kind_type.quoted or FIELD_ID.fullmatch(identifier.value) is None:
        return None
    if NUMBER.fullmatch(number.value) is None or kind_type.value not in types:
        return None
    count = number.value
    if count.isdigit():
        try:
            count = b"%d" % unsigned_integer(count, (1 << 31) - 1)
        except ValueError:
            return None
    if kind_type.value == b"Flag" and count != b"0":
        return None
    return FieldDefinition(kind, identifier.value, count, kind_type.value, description.value, len(fields) - 4)


def definition(kind: bytes, value: bytes) -> Definition | None:
    """A FILTER or ALT definition, or None when it does not fit."""
    fields = structured_fields(value)
    if fields is None:
        return None
    found = {item.key: item for item in fields}
    if b"ID" not in found or b"Description" not in found or found[b"ID"].quoted:
        return None
    grammar = ALT_ID if kind == b"ALT" else FILTER_ID
    if grammar.fullmatch(found[b"ID"].value) is None:
        return None
    return Definition(kind, found[b"ID"].value, found[b"Description"].value, len(fields) - 2)


def contig(value: bytes) -> Contig | None:
    """A ``##contig``: its ID (VCF 4.3 grammar) and its length if that is digits; None without a valid ID.

    Fields are found in any order (``<length=100,ID=chr1>``)."""
    fields = structured_fields(value)
    if fields is None:
        return None
    found = {item.key: item for item in fields}
    identifier = found.get(b"ID")
    if identifier is None or CONTIG_ID.fullmatch(identifier.value) is None:
        return None
    length: int | None = None
    if b"length" in found:
        try:
            length = unsigned_integer(found[b"length"].value, MAX_LENGTH)
        except ValueError:
            length = None
    kept = 1 + (length is not None)
    return Contig(identifier.value, length, len(fields) - kept)


def contig_lengths(meta: list[bytes]) -> dict[str, int | None]:
    """Contig name -> length (None when not given) from ``##contig`` lines.

    Names are decoded losslessly (``surrogateescape``), so a name of other bytes
    still matches the same name in the records."""
    contigs: dict[str, int | None] = {}
    for line in meta:
        if meta_key(line) != b"contig":
            continue
        found = contig(meta_value(line))
        if found is not None:
            contigs[found.id.decode(errors="surrogateescape")] = found.length
    return contigs


def info_numbers(meta: list[bytes]) -> dict[bytes, bytes]:
    """INFO ID -> its Number (``A``, ``R``, ``1``, ``.``, ...) from the ``##INFO`` lines that parse."""
    numbers: dict[bytes, bytes] = {}
    for line in meta:
        if meta_key(line) != b"INFO":
            continue
        found = field_definition(b"INFO", meta_value(line))
        if found is not None:
            numbers[found.id] = found.number
    return numbers


# --- the header ----------------------------------------------------------------------------------


@dataclass
class VcfHeader:
    """The meta lines (``##...``), the column line and where it was; the typed model on demand."""

    meta: list[bytes]
    columns: list[bytes]
    column_line_number: int
    first_line_number: int = 1
    samples: list[bytes] = field(init=False)

    def __post_init__(self) -> None:
        self.samples = self.columns[9:]

    @cached_property
    def contigs(self) -> dict[str, int | None]:
        return contig_lengths(self.meta)

    def contig_ids(self) -> frozenset[bytes]:
        """The IDs ``##contig`` lines declare (``vcf_columns`` holds CHROM to them)."""
        return frozenset(name.encode(errors="surrogateescape") for name in self.contigs)

    @cached_property
    def info_numbers(self) -> dict[bytes, bytes]:
        return info_numbers(self.meta)

    @cached_property
    def info_descriptions(self) -> dict[bytes, bytes]:
        """INFO ID -> its Description, from the ``##INFO`` lines that parse (the first of an ID)."""
        descriptions: dict[bytes, bytes] = {}
        for line in self.meta:
            if meta_key(line) == b"INFO" and (found := field_definition(b"INFO", meta_value(line))) is not None:
                descriptions.setdefault(found.id, found.description)
        return descriptions

    def provenance_replaced(self, line: bytes) -> list[bytes]:
        """The meta lines with ``line`` (``##genoscrub_<command>=VERSION``) last, any earlier one of
        the same command removed: running a command twice writes one line, not two."""
        key = meta_key(line)
        return [meta for meta in self.meta if meta_key(meta) != key] + [line]


def check_column_line(line: bytes, path: str, number: int) -> list[bytes]:
    """The columns of the ``#CHROM`` line; the eight fixed ones, tab-separated, then FORMAT and samples."""
    columns = line.split(b"\t")
    if tuple(columns[:8]) != FIXED_COLUMNS:
        raise InputError("the #CHROM line must name the 8 fixed columns, separated by tabs", path, number)
    if len(columns) > 8 and columns[8] != b"FORMAT":
        raise InputError("the 9th column of the #CHROM line must be FORMAT", path, number)
    if b"" in columns[9:]:
        raise InputError("the #CHROM line has an empty sample name", path, number)
    return columns
