"""Header lines checked against the allowlists: SAM/BAM/CRAM headers and VCF meta lines.

Each line is parsed by the format's grammar (SAM 1.6, section 1.3; VCF 4.4, section 1.4)
and every field is looked up in ``audit_allowlist``: a line type, a tag or a field that
is not there, or a value that does not fit its grammar, is a metadata finding, located
by header line number and field name. Forbidden strings are searched in every header
line whole (``--forbid``), so a name hidden in a field the grammar does not know is
found too.

Names printed in findings are the format's own field names. A key or tag that is not
on the allowlist may itself be an identifier (``##S2301217T=...``): it is printed only
when it looks like a field name, holds no forbidden string and no number as long as a
date or a record number (``##KIM_19900101``, ``INFO/MRN12345678``), else as ``(a key)``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping

import numpy as np
from genoscrub.audit_allowlist import (
    DATE_WITH_MONTH_NAME,
    HELD_TO_THE_SAMPLE_RULE,
    PERSONAL_IN_CONTIG,
    PERSONAL_IN_REFERENCE,
    PERSONAL_IN_SAMPLE,
    PERSONAL_IN_SEQUENCE_NAME,
    PERSONAL_IN_TEXT,
    PLACE_IN_NAME,
    PLACE_IN_TEXT,
    PUBLIC_ACCESSION,
    SAM_HEADER_TAGS,
    SAM_REFERENCE_NAME,
    SAMPLE_PSEUDONYM,
    SQ_AN_ACCESSION_LIKE,
    SQ_AN_INSDC,
    SQ_AN_REFSEQ,
    VCF_PLAIN_KEYS,
    VCF_PROVENANCE_KEY,
    VCF_STRUCTURED_KEYS,
    VERSION,
    LazyPattern,
)
from genoscrub.audit_findings import Findings
from genoscrub.audit_forbid import ForbidList
from genoscrub.contigs import ContigMap
from genoscrub.report import InputError

SAM_TAGS = {kind: {tag: re.compile(grammar) for tag, grammar in tags.items()} for kind, tags in SAM_HEADER_TAGS.items()}
PROVENANCE = re.compile(VCF_PROVENANCE_KEY)
PROVENANCE_VALUE = re.compile(VERSION)
REFERENCE_NAME = re.compile(SAM_REFERENCE_NAME)
PRINTABLE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,39}")
NUMBER_IN_KEY = re.compile(r"[0-9](?:[_.-]?[0-9]){4,}")
"""Five digits or more, separators between them allowed: a date, a phone or record number in a key."""
MONTH_DATE_IN_KEY = LazyPattern(DATE_WITH_MONTH_NAME)
"""A date with a month's name in a key (``DOB01JAN1990``, ``Jan-01-90``): fewer than five digits in a row."""
SAM_FIELD = re.compile(r"([A-Za-z][A-Za-z0-9]):(.*)", re.DOTALL)
PLACE = re.compile(PLACE_IN_TEXT, re.IGNORECASE | re.ASCII)
ESCAPED = re.compile(r'\\(["\\])')
"""The escapes of a quoted VCF value, ``\\"`` and ``\\\\`` (VCF 4.4, 1.4): any other backslash is itself."""
PUBLIC_ACCESSIONS = re.compile(PUBLIC_ACCESSION)
CONTIG_PERSONAL = LazyPattern(PERSONAL_IN_CONTIG)
NAME_PLACE = LazyPattern(PLACE_IN_NAME)
"""A host or an IP address in a contig or reference name, also written onto letters (``ctg_10.0.0.1``)."""
REFERENCE_PERSONAL = re.compile(PERSONAL_IN_REFERENCE + "|" + PLACE_IN_NAME)
SEQUENCE_NAME_PERSONAL = re.compile(PERSONAL_IN_SEQUENCE_NAME + "|" + PLACE_IN_NAME)
TEXT_PERSONAL = LazyPattern(PERSONAL_IN_TEXT)
SAMPLE_PERSONAL = re.compile(PERSONAL_IN_SAMPLE)
KEYED_PSEUDONYM = re.compile(SAMPLE_PSEUDONYM)
LOCUS = re.compile(r"(.+):([0-9]{1,19})-([0-9]{1,19})")
VCF_STRUCTURED = re.compile(r'([A-Za-z0-9_.:-]+)=("(?:[^"\\]|\\.)*"|[^,"<>]*)(,|>$)', re.DOTALL)


def printable(name: str, forbid: ForbidList | None) -> str:
    """A field name as it may be printed: itself when it looks like one and holds nothing forbidden."""
    if not PRINTABLE_KEY.fullmatch(name) or NUMBER_IN_KEY.search(name) or MONTH_DATE_IN_KEY.search(name):
        return "(a key)"
    if forbid is not None and any(True for _ in forbid.search_text(name.encode(errors="replace"))):
        return "(a key)"
    return name


def search_header(lines: Iterable[tuple[int, bytes]], label: str, forbid: ForbidList | None, findings: Findings) -> None:
    """Forbidden strings anywhere in header lines, located by line and the line's type."""
    if forbid is None:
        return
    for number, line in lines:
        for entry, _ in forbid.search_text(line):
            findings.forbidden.add(f"{label} (list line {entry.line})", f"header line {number}")


# --- SAM ---------------------------------------------------------------------------------------


def check_sam_header(
    text: bytes,
    references: list[tuple[str, int]],
    forbid: ForbidList | None,
    findings: Findings,
    allowed_types: frozenset[str] = frozenset(),
    sequence_md5: Callable[[str], str | None] | None = None,
) -> None:
    """The SAM header text of a SAM, BAM or CRAM file, and the binary reference list of a BAM;
    record types in ``allowed_types`` (``--allow-header``) are accepted whole. A value its
    grammar accepts is held to more where the grammar lets text through (``held_value``); with
    ``sequence_md5`` (``-r``: each reference's MD5 there, None where it has none), an ``@SQ M5``
    must be that MD5, as 32 hex digits may hold any digits."""
    lengths = dict(references)
    lines = text.decode("latin-1").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        kind = line[1:3] if line.startswith("@") and len(line) >= 3 else ""
        label = f"@{kind}" if re.fullmatch(r"[A-Za-z][A-Za-z]", kind) else "(a line)"
        if forbid is not None:
            searched = without_reference_checksums(line, sequence_md5) if kind == "SQ" and sequence_md5 is not None else line
            for entry, at in forbid.search_text(searched.encode("latin-1")):
                tag = _tag_at(line, at)
                findings.forbidden.add(f"header {label}{' ' + tag if tag else ''} (list line {entry.line})", f"header line {number}")
        allowed = SAM_TAGS.get(kind)
        where = f"header line {number}"
        if kind in allowed_types:
            continue
        if allowed is None:
            findings.metadata.add(f"header line {label}", where)
            continue
        if line[3:4] not in ("\t", ""):
            findings.metadata.add(f"header line {label} (does not parse)", where)
            continue
        if kind == "HD" and number != 1:  # SAM 1.6, section 1.3: @HD, if present, is the first line
            findings.metadata.add("header line @HD (not the first line)", where)
        seen: set[str] = set()
        values: dict[str, str] = {}  # the values that fit their grammar, the first of a repeated tag
        for field in line.split("\t")[1:]:
            match = SAM_FIELD.fullmatch(field)
            if match is None:
                findings.metadata.add(f"header line {label} (does not parse)", where)
                continue
            tag, value = match.groups()
            if tag in seen:  # a tag appears at most once in a line (section 1.3); readers keep one of the two
                findings.metadata.add(f"header tag {label} {tag} (repeated)", where)
            seen.add(tag)
            grammar = allowed.get(tag)
            if grammar is None:
                findings.metadata.add(f"header tag {label} {tag}", where)
            elif not grammar.fullmatch(value):
                findings.metadata.add(f"header value {label} {tag}", where)
            else:
                values.setdefault(tag, value)
                held = held_value(kind, tag, value, lengths)
                if held is not None:
                    findings.metadata.add(f"header value {label} {tag}{held}", where)
        checksum = values.get("M5")
        if kind == "SQ" and checksum is not None and sequence_md5 is not None and sequence_md5(values.get("SN", "")) != checksum.lower():
            findings.metadata.add(f"header value {label} M5 (not the reference's MD5)", where)
    for name, _ in references:
        if not REFERENCE_NAME.fullmatch(name):
            findings.metadata.add("reference name", "header references")
        elif reference_holds_personal(name):
            findings.metadata.add("reference name (holds personal data)", "header references")
        if forbid is not None:
            for entry, _ in forbid.search_text(name.encode("latin-1")):
                findings.forbidden.add(f"reference name (list line {entry.line})", "header references")


REFERENCE_LIST = "reference list (not the @SQ lines)"


def check_reference_list(text: bytes, references: list[tuple[str, int]], findings: Findings) -> None:
    """A BAM's binary reference list against its text's @SQ lines (SAM 1.6, section 4.2): readers
    name a record's reference from the list, print the text, and keep one of the two where they
    differ. So where the text has @SQ lines they must be the list, name for name and length for
    length; a file without @SQ lines has only the list, whose names are checked as names. One
    finding per entry that differs."""
    declared = []
    for line in text.split(b"\n"):
        if line.startswith(b"@SQ\t"):
            fields = dict(field.split(b":", 1) for field in line.split(b"\t")[1:] if b":" in field)
            length = fields.get(b"LN", b"")
            declared.append((fields.get(b"SN", b"").decode("latin-1"), int(length) if length.isdigit() else -1))
    if not declared:
        return
    differing = sum(1 for ours, theirs in zip(declared, references, strict=False) if ours != theirs)
    differing += abs(len(declared) - len(references))
    if differing:
        findings.metadata.add(REFERENCE_LIST, "header references", differing)


ABSENT_CONTIG = "reference name (a contig the reference or dictionary lacks)"
"""A contig the reads or records lie on that ``-r``/``--dict``, the genome they were aligned to,
does not hold under any spelling (``chr1_random``, a decoy or HLA contig added to the header):
nothing there is checked against germline sites or regions, and a recipient realigns its bases."""


def contigs_absent(contigs: Mapping[str, int | None], genomes: Iterable[tuple[Mapping[str, int], str, str]]) -> set[str]:
    """The names of ``contigs`` that one of ``genomes`` (lengths by name, label, path: the
    reference, the sequence dictionary) holds under none of its spellings (``contigs.ContigMap``);
    every name when a genome cannot be joined with them at all (another build)."""
    absent: set[str] = set()
    for lengths, label, path in genomes:
        try:
            joined = ContigMap(contigs, lengths, label, path, require_overlap=False).to_other
        except InputError:
            joined = {}
        absent.update(name for name in contigs if name not in joined)
    return absent


def without_reference_checksums(line: str, sequence_md5: Callable[[str], str | None]) -> str:
    """An ``@SQ`` line as the forbid list searches it: an ``M5`` that is its sequence's MD5 in the
    reference (``-r``) or the dictionary (``--dict``) written as NUL bytes, which no listed string
    holds or spans. Such an M5 is the reference's, not the person's, and its 32 random hex digits
    hold a listed 3-character hex string (``c10``, ``b44``, initials such as ``CDE``) with a chance
    of 0.7 %: a GRCh38 header of 195 ``@SQ`` lines would fail ~3 BAMs of 4. An M5 the reference
    does not give (one that could hold a number) is searched as written."""
    fields = line.split("\t")
    names = [field[3:] for field in fields[1:] if field.startswith("SN:")]
    checksum = sequence_md5(names[0]) if len(names) == 1 else None
    if checksum is None:
        return line
    return "\t".join(
        field[:3] + "\0" * (len(field) - 3) if field.startswith("M5:") and field[3:].lower() == checksum else field for field in fields
    )


def _tag_at(line: str, at: int) -> str:
    """The tag of the field of a header line in which offset ``at`` lies ("" for the record type)."""
    index = line.count("\t", 0, at)
    if index == 0:
        return ""
    tag = line.split("\t")[index][:2]
    return tag if re.fullmatch(r"[A-Za-z][A-Za-z0-9]", tag) else "(a tag)"


# --- VCF ----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=128)
def vcf_fields(key: str) -> dict[str, re.Pattern[str]] | None:
    """The grammars of the fields of a structured meta line (``VCF_STRUCTURED_KEYS``), None for
    another key; compiled when a file first has the key (the audit of a BAM has none)."""
    fields = VCF_STRUCTURED_KEYS.get(key)
    return None if fields is None else {name: re.compile(grammar) for name, grammar in fields.items()}


@functools.lru_cache(maxsize=128)
def vcf_value(key: str) -> re.Pattern[str] | None:
    """The grammar of a meta line of one value (``VCF_PLAIN_KEYS``), None for another key; compiled when first asked for."""
    grammar = VCF_PLAIN_KEYS.get(key)
    return None if grammar is None else re.compile(grammar)


def check_vcf_meta(number: int, line: str, allowed_keys: frozenset[str], forbid: ForbidList | None, findings: Findings) -> None:
    """One ``##`` line of a VCF header."""
    where = f"header line {number}"
    key, equals, value = line[2:].partition("=")
    label = "##" + printable(key, forbid)
    if forbid is not None:
        written = line.encode("utf-8", errors="surrogateescape")
        for entry, _ in forbid.search_text(written):
            findings.forbidden.add(f"header {label} (list line {entry.line})", where)
        for list_line in forbidden_when_decoded(forbid, written):
            findings.forbidden.add(f"header {label} (list line {list_line})", where)
    if key in allowed_keys:
        return
    if not equals:
        findings.metadata.add(f"header line {label} (does not parse)", where)
        return
    fields = vcf_fields(key)
    if fields is not None:
        parsed = structured(value)
        if parsed is None:
            findings.metadata.add(f"header line {label} (does not parse)", where)
            return
        seen: set[str] = set()
        for name, field_value in parsed:
            if name in seen:  # a field given twice: a reader keeps one, the other is text nobody reads
                findings.metadata.add(f"header field {label} {printable(name, forbid)} (repeated)", where)
            seen.add(name)
            grammar = fields.get(name)
            if grammar is None:
                findings.metadata.add(f"header field {label} {printable(name, forbid)}", where)
            elif (
                not grammar.fullmatch(field_value)
                or (name == "Description" and names_a_place(field_value))
                or (key == "contig" and name == "ID" and contig_holds_personal(field_value))
            ):
                findings.metadata.add(f"header value {label} {name}", where)
        return
    grammar = vcf_value(key)
    if grammar is not None:
        if not grammar.fullmatch(value):
            findings.metadata.add(f"header value {label}", where)
        return
    if PROVENANCE.fullmatch(key):
        if not PROVENANCE_VALUE.fullmatch(value):
            findings.metadata.add(f"header value {label}", where)
        return
    findings.metadata.add(f"header line {label}", where)


ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")
"""A percent-encoded byte (VCF 4.3, 1.2: how a value writes ``:;=%,``, CR, LF and TAB; any writer
may escape any byte so)."""
DECODINGS = 4
"""How often text is decoded again while escapes remain (``%253A`` is ``%3A``, then ``:``)."""


LONG_TEXT = 4096
"""From this length (a block of records) text is decoded with numpy (``decoded_once``)."""
HEX_DIGITS = np.full(256, -1, dtype=np.int16)
for _digits, _first in ((b"0123456789", 0), (b"abcdef", 10), (b"ABCDEF", 10)):
    HEX_DIGITS[np.frombuffer(_digits, dtype=np.uint8)] = np.arange(_first, _first + len(_digits))


def decoded_forms(text: bytes) -> list[bytes]:
    """The audit's own percent-decoding of ``text``: each form, decoded once, then again while it
    holds escapes (at most ``DECODINGS`` times); [] when ``text`` holds none. Text holds what any
    of its forms shows, so each is judged as the written text is."""
    forms: list[bytes] = []
    while len(forms) < DECODINGS and ESCAPE.search(text) is not None:
        text = decoded_once(text) if len(text) >= LONG_TEXT else ESCAPE.sub(lambda escape: bytes((int(escape.group(1), 16),)), text)
        forms.append(text)
    return forms


def decoded_once(text: bytes) -> bytes:
    """Every escape of ``text`` decoded, with numpy over the bytes (a block of records: a quarter of
    the regular expression's time); the same bytes as ``ESCAPE.sub`` (a test holds them equal).
    Escapes never overlap: a hex digit is never ``%``."""
    data = np.frombuffer(text, dtype=np.uint8)
    at = np.flatnonzero(data[:-2] == ord("%"))
    high, low = HEX_DIGITS[data[at + 1]], HEX_DIGITS[data[at + 2]]
    escape = (high >= 0) & (low >= 0)
    at = at[escape]
    decoded = data.copy()
    decoded[at] = (high[escape] * 16 + low[escape]).astype(np.uint8)
    keep = np.ones(len(data), dtype=bool)
    keep[at + 1] = False
    keep[at + 2] = False
    return decoded[keep].tobytes()


def forbidden_when_decoded(forbid: ForbidList, text: bytes) -> list[int]:
    """The list lines of the forbidden strings ``text`` shows only percent-decoded (``decoded_forms``:
    ``KIM%255FJIHYUN``, ``%4B%49%4D...``, which the other spellings of an entry do not cover), each
    once, in order; [] at once for text holding no escape of a byte a searched string has, or of ``%``
    (``ForbidList.escapes``: VEP's ``%3D`` is none)."""
    if b"%" not in text or forbid.escapes.search(text) is None:
        return []
    written = {found.line for found, _ in forbid.search(text)}
    decoded = {found.line for form in decoded_forms(text) for found, _ in forbid.search(form)}
    return sorted(decoded - written)


def decoded_texts(text: str) -> list[str]:
    """``decoded_forms`` of latin-1 text (header lines are read as latin-1: one byte, one character)."""
    if "%" not in text:
        return []
    return [form.decode("latin-1") for form in decoded_forms(text.encode("latin-1", errors="replace"))]


def names_a_place(description: str) -> bool:
    """A quoted Description that names a path, URL, address or host (``PLACE_IN_TEXT``), unescaped
    as the specification unescapes it: only ``\\"`` and ``\\\\``, so ``C:\\Users\\kim`` keeps its
    backslashes and ``1990\\-01\\-01`` or ``1\\9\\9\\0`` is a backslash before text (a finding).
    Percent-decoded too (``%2Fhome%2Fkimjh``), and then it holds no personal number or date
    either (``PERSONAL_IN_TEXT``, which the Description's grammar holds the written text to)."""
    text = ESCAPED.sub(r"\1", description[1:-1])
    if PLACE.search(text) is not None:
        return True
    return any(PLACE.search(form) is not None or TEXT_PERSONAL.search(form) is not None for form in decoded_texts(text))


AN_ACCESSION_LIKE = re.compile(SQ_AN_ACCESSION_LIKE)
AN_DATABASES = (re.compile(SQ_AN_REFSEQ), re.compile(SQ_AN_INSDC))


def alternative_names_spell_more(names: list[str]) -> bool:
    """Whether the names of an ``@SQ AN`` could spell more between them than each does alone: a
    name given twice, a name written as an accession but off its database's shapes
    (``A1234567.1``), or two accessions of one database (``AN:AB900101.1,CM123456.7``), where a
    sequence has one (``audit_allowlist.SQ_AN_REFSEQ``)."""
    if len(set(names)) != len(names):
        return True
    counts = [0, 0]
    for name in names:
        if AN_ACCESSION_LIKE.fullmatch(name) is None:
            continue
        kind = next((index for index, shape in enumerate(AN_DATABASES) if shape.fullmatch(name)), None)
        if kind is None:
            return True
        counts[kind] += 1
    return max(counts) > 1


def reference_holds_personal(name: str) -> bool:
    """An ``@SQ`` name holding a path, an address, a host or an IP address (``PLACE_IN_NAME``), text
    outside ASCII, a date or a registration or phone number, or seven significant digits or more
    (``PERSONAL_IN_SEQUENCE_NAME``), its public accessions set aside, as written and percent-decoded:
    a run of digits judged as ``contig_holds_personal`` judges it (``tig00000001`` passes,
    ``tig19900101`` and ``ctg1234567`` do not). sam-scrub-rg refuses such a name."""
    return any(SEQUENCE_NAME_PERSONAL.search(PUBLIC_ACCESSIONS.sub("A", form)) is not None for form in (name, *decoded_texts(name)))


def held_value(kind: str, tag: str, value: str, lengths: dict[str, int]) -> str | None:
    """What a SAM header value its grammar accepts still holds, as the finding key's suffix ("" for
    a value off its rule), or None: each name of ``@SQ AN`` a reference name's personal data
    (``reference_holds_personal``: ``AN:KJ_19900101.1``), and the names together no more
    (``alternative_names_spell_more``: ``AN:AB900101.1,CM123456.7``); ``@SQ AH`` not ``*``, a reference of
    the header or a locus within one (SAM 1.6, 1.3: ``AH:KIM_19900101`` names no reference); a
    value of ``HELD_TO_THE_SAMPLE_RULE`` (``@RG`` ID, SM, LB, PU, ``@PG`` ID, VN) a sample name's
    (``identifier_holds_personal``). sam-scrub-rg writes none of these: it drops such an AN or AH,
    and writes pseudonyms, its platform unit and its own version."""
    if kind == "SQ" and tag == "AN":
        names = value.split(",")
        held = any(reference_holds_personal(name) for name in names) or alternative_names_spell_more(names)
        return " (holds personal data)" if held else None
    if kind == "SQ" and tag == "AH":
        return None if names_a_locus(value, lengths) else ""
    if (kind, tag) in HELD_TO_THE_SAMPLE_RULE and identifier_holds_personal(value):
        return " (holds personal data)"
    return None


def names_a_locus(value: str, lengths: dict[str, int]) -> bool:
    """``*``, a reference of the header, or ``name:start-end`` within one."""
    if value == "*" or value in lengths:
        return True
    match = LOCUS.fullmatch(value)
    if match is None or match.group(1) not in lengths:
        return False
    start, end = int(match.group(2)), int(match.group(3))
    return 1 <= start <= end <= lengths[match.group(1)]


def identifier_holds_personal(value: str) -> bool:
    """A pseudonym or an ID written in a header holding what a VCF sample name never holds
    (``PERSONAL_IN_SAMPLE``: a path, an address, text outside ASCII, a date, a registration or
    phone number) nor a reference name (``PERSONAL_IN_REFERENCE``: a registration number with
    ``_``, ``.`` or ``:`` between its halves, as sam-scrub-rg refuses it in a map's pseudonym or
    --platform-unit), as written or percent-decoded; the keyed pseudonym (``S`` and 16 upper-case
    hex digits, which may read as a number) set aside, as in a sample name (``audit_vcf``)."""
    if KEYED_PSEUDONYM.fullmatch(value) is not None:
        return False
    return any(
        SAMPLE_PERSONAL.search(form) is not None or REFERENCE_PERSONAL.search(form.replace(" ", "_")) is not None
        for form in (value, *decoded_texts(value))
    )


def contig_holds_personal(name: str) -> bool:
    """A contig name (``##contig`` ID, CHROM, a breakend's mate; latin-1 text) holding a path, an
    address, a personal number or date or text outside printable ASCII (``PERSONAL_IN_CONTIG``),
    once the public accessions in it (``NC_000001.11``, ``KI270706v1``, HLA alleles) are set aside;
    as written and percent-decoded (``KIM%5F19900101``); nor a host name or an IP address
    (``PLACE_IN_TEXT``: ``ctg.snuh.ac.kr``; ``PLACE_IN_NAME``: written onto letters, ``ctg_10.0.0.1``),
    which vcf-scrub-header refuses as a path."""
    return any(
        CONTIG_PERSONAL.search(PUBLIC_ACCESSIONS.sub("A", form)) is not None
        or PLACE.search(form) is not None
        or NAME_PLACE.search(form) is not None
        for form in (name, *decoded_texts(name))
    )


def structured(value: str) -> list[tuple[str, str]] | None:
    """``[(name, value)]`` of ``<ID=x,Number=1,...>``, quotes kept; None unless the whole value parses."""
    if not value.startswith("<") or not value.endswith(">"):
        return None
    fields = []
    at = 1
    while at < len(value):
        match = VCF_STRUCTURED.match(value, at)
        if match is None:
            return None
        fields.append((match.group(1), match.group(2)))
        at = match.end()
    return fields if at == len(value) and fields else None
