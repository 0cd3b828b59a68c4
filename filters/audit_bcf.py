"""A BCF's records walked on their way to htslib: the bytes within a record it does not print.

The audit reads a BCF's records as the VCF text an htslib child makes of them
(``audit_formats``), so a byte of a record that htslib does not turn into text would pass
unseen: a string's bytes after its first NUL (``A\\0KIMJIHOON`` is printed ``A``), a vector's
values after its first END_OF_VECTOR, bytes after a record's last INFO or FORMAT field within
its ``l_shared`` or ``l_indiv``, the other bits of a NaN (printed ``nan``), the count bits of a
key's type descriptor (htslib reads the type alone), a whole sample part when the record says
it has no samples or no FORMAT key. This module walks every record of the decompressed
stream the audit hands its child (``checked_bcf``: one decompression), through the layout of
BCF 2.2 (VCF 4.3, section 6.3), in one C pass a piece (``scan.bcf_records``), and holds each
such byte to the canonical filler: NUL after a string's end, END_OF_VECTOR after a vector's,
nothing after the last field. It also holds what htslib refuses or misreads to the header: a
record's sample count, its INFO and FORMAT keys and FILTER values (indexes of the header's
dictionary, ``dictionary``), its type codes. An INFO or FORMAT key given twice in one record is a
finding too (the second and later values, searched for the forbid list's strings): VCF 4.3 (1.6.1)
allows no duplicate key, and while htslib prints both values (1.16 and 1.24), a reader through
its API gets the first only (``bcf_get_info_values``, ``bcf_get_fmt``, pysam's ``info[key]``), so
what the second holds is read by no program that uses the file. bcftools writes such a record only
from a VCF that has one (1.24 refuses a FORMAT key twice, 1.16 does not).

What htslib prints otherwise than stored is held to what a VCF reader would store again for
the printed text (the canonical encoding):

- a byte 0x07 of a string: htslib's ``bcf_str_missing``, printed ``.`` by htslib before 1.19
  (every one), and as a one-byte FORMAT value by some later versions (1.16 on PATH here prints
  ``.``, the 1.24 pysam bundles the byte itself);
- a value of a type code its header line's Type never gets from htslib's VCF parser (Integer:
  8, 16, 32-bit integers; Float: float; String, Character, and a Type htslib does not know:
  characters; Flag: none or characters, ``FL=1``; an empty value MISSING for any): a float for
  an Integer is printed to six digits (``1.99001e+07`` for 19900101), integers for a String as
  numbers; FORMAT/GT must be integers, as htslib formats it by its name;
- GT's first allele's phase bit, which htslib prints only for VCF 4.4 and later, and only from
  1.22 (``|0/1``, ``/0``; ``phase_printed``); otherwise it must be 0 (what htslib before 1.22
  stores for any text) or what 1.22 and later infer as VCF 4.4 does (phased when haploid and
  not ``.``, else when every other allele is); a GT with no allele (END_OF_VECTOR first), printed
  ``.``, is not canonical either;
- ``rlen``, which htslib does not print but from which pysam (the child writes each record
  through it) prints INFO/END = POS + rlen, or drops END when rlen is REF's length and no ALT
  is symbolic: it must be what htslib before 1.22 computes (END - POS where END is after POS,
  else REF's length) or what 1.22 to 1.24 compute (``get_rlen``: the furthest of END, POS + the
  longest SVLEN of a ``<DEL>``, ``<DUP>``, ``<CNV>``, ``<INV>`` allele, else END, and POS + the
  longest FORMAT/LEN of a ``<*>`` or ``<NON_REF>`` block, else END; at least REF's length; the
  8th, 16th, ... SVLEN element is read as htslib reads it, against the wrong allele);
- INFO/END, never printed as stored (pysam replaces or drops it, above): one integer, POS + rlen.

Each problem is a metadata finding located by record number and field name, never quoted; the
hidden bytes are searched for the forbid list's strings. A record the walk cannot read is a
finding too, never a skip: its length is in its first eight bytes, so the next record is
walked all the same.

Not checked: CHROM and POS beyond what htslib prints; a float's digits beyond the six htslib
prints (``%g``), which a VCF reader stores too, so they cannot be told from data; which
integer width a value is stored in (a bit or two a value): htslib's encoders pick the narrowest
(``bcf_enc_int1``, ``bcf_enc_vint``, ``bcf_enc_size``), but bcftools copies the bytes of a record
it does not change, so a BCF another writer made keeps its widths through bcftools, and a wider
width is no sign of hand-made bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from genoscrub import scan
from genoscrub.audit_containers import PIECE, CheckedStream, ContainerWatch, check_after_nul
from genoscrub.audit_header import VCF_STRUCTURED, printable
from genoscrub.scan import (
    BCF_DECLARED_FLAG,
    BCF_DECLARED_FLOAT,
    BCF_DECLARED_FORMAT_SHIFT,
    BCF_DECLARED_INFO_SHIFT,
    BCF_DECLARED_INTEGER,
    BCF_DECLARED_STRING,
    BCF_FIELD_ALLELE,
    BCF_FIELD_FILTER,
    BCF_FIELD_FORMAT,
    BCF_FIELD_ID,
    BCF_FIELD_INFO,
    BCF_FIELD_QUAL,
    BCF_FIELD_RLEN,
    BCF_KEY_FILTER,
    BCF_KEY_FORMAT,
    BCF_KEY_INFO,
    BCF_PROBLEM_AFTER_END,
    BCF_PROBLEM_AFTER_NUL,
    BCF_PROBLEM_DECLARED_TYPE,
    BCF_PROBLEM_END,
    BCF_PROBLEM_FORMAT_WITHOUT_SAMPLES,
    BCF_PROBLEM_INDIV_TAIL,
    BCF_PROBLEM_MISSING_CHAR,
    BCF_PROBLEM_NAN_BITS,
    BCF_PROBLEM_PHASE,
    BCF_PROBLEM_REPEATED,
    BCF_PROBLEM_RLEN,
    BCF_PROBLEM_SAMPLE_COUNT,
    BCF_PROBLEM_SHARED_TAIL,
    BCF_PROBLEM_TYPE,
    BCF_PROBLEM_UNDECLARED,
    BCF_PROBLEM_UNPARSED,
    BCF_TYPE_SIZES,
    BCF_VECTOR_END,
)
from pysam.version import __htslib_version__

KINDS = {b"FILTER": BCF_KEY_FILTER, b"INFO": BCF_KEY_INFO, b"FORMAT": BCF_KEY_FORMAT}
DECLARED_SHIFTS = {b"INFO": BCF_DECLARED_INFO_SHIFT, b"FORMAT": BCF_DECLARED_FORMAT_SHIFT}
DECLARED_TYPES = {b"Integer": BCF_DECLARED_INTEGER, b"Float": BCF_DECLARED_FLOAT, b"Flag": BCF_DECLARED_FLAG}
"""The Types htslib tells apart; String, Character, any other and none are a string to it."""
DICTIONARY_LINE = re.compile(rb"##(FILTER|INFO|FORMAT)=<(.*)>\s*")
LEADING_INTEGER = re.compile(rb"[ \t\n\v\f\r]*([+-]?[0-9]+)")
SPECIAL_KEYS = (b"GT", b"END", b"SVLEN", b"LEN")
"""The IDs whose dictionary indexes ``scan.bcf_records`` takes (``keys``): FORMAT/GT, printed as
alleles and phases; INFO/END, SVLEN and FORMAT/LEN, what htslib derives ``rlen`` from."""
VCF_DEFAULT_VERSION = 4_002_000
PREFIXED_PHASE_VERSION = 4_004_000
HTSLIB_PREFIXED_PHASE = (1, 22)
"""htslib prints a GT's first phase (``|0/1``, ``/0``) where VCF 4.4 needs it from 1.22; older
versions print none, for any VCF version."""

PROBLEMS = {
    BCF_PROBLEM_AFTER_NUL: "bytes after its NUL",
    BCF_PROBLEM_AFTER_END: "values after its vector end",
    BCF_PROBLEM_NAN_BITS: "a NaN carrying other bits",
    BCF_PROBLEM_TYPE: "type descriptor off the specification",
    BCF_PROBLEM_SHARED_TAIL: "bytes after its INFO fields",
    BCF_PROBLEM_INDIV_TAIL: "bytes after its sample fields",
    BCF_PROBLEM_SAMPLE_COUNT: "sample count not the header's",
    BCF_PROBLEM_UNPARSED: "does not parse",
    BCF_PROBLEM_FORMAT_WITHOUT_SAMPLES: "FORMAT keys counted without sample fields",
    BCF_PROBLEM_MISSING_CHAR: "a 0x07 byte htslib may print as '.'",
    BCF_PROBLEM_DECLARED_TYPE: "a type its header line does not declare",
    BCF_PROBLEM_PHASE: "a first allele's phase htslib does not print",
    BCF_PROBLEM_END: "not the end rlen gives, which htslib prints instead",
    BCF_PROBLEM_RLEN: "not what REF, END, SVLEN and LEN give",
    BCF_PROBLEM_REPEATED: "given twice in the record",
}
"""What each problem of ``scan.bcf_records`` is, in the words of a finding's key."""
UNDECLARED = {BCF_FIELD_FILTER: "BCF FILTER (not a ##FILTER index)", BCF_FIELD_INFO: "BCF INFO key (not an ##INFO index)",
              BCF_FIELD_FORMAT: "BCF FORMAT key (not a ##FORMAT index)"}  # fmt: skip
CUT_SHORT = "BCF record (cut short)"
REFUSED = "BCF records htslib refuses (the rest not read)"
"""A BCF the walk found records off the specification in and the htslib child then refused: a
finding with the walk's, where the audit would otherwise stop at an error and print none."""
SEARCHED = 1 << 20
"""Hidden bytes of one problem searched for the forbid list's strings at most (the finding stands for all)."""


@dataclass(frozen=True)
class Dictionary:
    """What a BCF's records index (VCF 4.3, section 6.2.1): the header's FILTER, INFO and FORMAT
    IDs in one dictionary, PASS first, an ID given again (INFO and FORMAT ``DP``) at its first
    index, ``IDX`` where the line gives one (htslib writes it into every BCF header), the Type of
    each ID's first INFO and first FORMAT line (htslib ignores the next); the number of samples of
    the ``#CHROM`` line; the VCF version of ``##fileformat``, as htslib reads it."""

    kinds: bytes
    """``BCF_KEY_*`` bits an index (what the header declares it as, 0: nothing) and its declared
    Types (``BCF_DECLARED_*``, from ``BCF_DECLARED_INFO_SHIFT`` and ``BCF_DECLARED_FORMAT_SHIFT``)."""
    names: dict[int, str]
    samples: int
    keys: tuple[int, int, int, int] = scan.BCF_NO_KEYS
    """The indexes of ``SPECIAL_KEYS`` (-1: not in the header)."""
    version: int = VCF_DEFAULT_VERSION
    """major * 1000000 + minor * 1000; every ``##fileformat`` line's lowest."""

    @property
    def phase_printed(self) -> bool:
        """Whether the htslib child prints a GT's first phase (``HTSLIB_PREFIXED_PHASE``)."""
        return self.version >= PREFIXED_PHASE_VERSION and htslib_version() >= HTSLIB_PREFIXED_PHASE

    @classmethod
    def read(cls, text: bytes) -> Dictionary:
        """From a BCF header's text (up to its NUL), as htslib's ``bcf_hdr_parse`` numbers it."""
        indexes: dict[bytes, int] = {b"PASS": 0}
        kinds: dict[int, int] = {0: BCF_KEY_FILTER}
        size = 1
        samples = 0
        versions = []
        for line in text.split(b"\n"):
            if line.startswith(b"#CHROM"):
                samples = max(0, len(line.rstrip(b"\r").split(b"\t")) - 9)
                break
            if line.startswith(b"##fileformat="):
                versions.append(vcf_version(line.rstrip(b"\r")[len(b"##fileformat=") :]))
                continue
            match = DICTIONARY_LINE.fullmatch(line)
            if match is None:
                continue
            fields = structured_fields(match[2])
            identifier = fields.get(b"ID")
            if not identifier:
                continue
            if identifier in indexes:
                index = indexes[identifier]
            else:
                index = size
                if b"IDX" in fields:
                    if not fields[b"IDX"].isdigit():
                        continue  # htslib skips the line
                    index = int(fields[b"IDX"])
                indexes[identifier] = index
                size = max(size, index + 1)
            kind = kinds.get(index, 0)
            if not kind & KINDS[match[1]] and match[1] in DECLARED_SHIFTS:
                kind |= DECLARED_TYPES.get(fields.get(b"Type", b""), BCF_DECLARED_STRING) << DECLARED_SHIFTS[match[1]]
            kinds[index] = kind | KINDS[match[1]]
        table = bytearray(size)
        for index, kind in kinds.items():
            table[index] = kind
        names = {index: identifier.decode("latin-1") for identifier, index in indexes.items()}
        keys = tuple(indexes.get(identifier, -1) for identifier in SPECIAL_KEYS)
        return cls(bytes(table), names, samples, (keys[0], keys[1], keys[2], keys[3]), min(versions, default=VCF_DEFAULT_VERSION))


def vcf_version(value: bytes) -> int:
    """A ``##fileformat`` value's version as htslib's ``bcf_get_version`` reads it: the numbers
    after ``VCFv`` and after the next ``.`` (as ``strtol`` reads them, 0 for none), VCF 4.2 when
    either is not there."""
    at = value.find(b"VCFv")
    if at < 0:
        return VCF_DEFAULT_VERSION
    major = value[at + 4 :]
    dot = major.find(b".")
    if dot < 0:
        return VCF_DEFAULT_VERSION
    numbers = [LEADING_INTEGER.match(text) for text in (major, major[dot + 1 :])]
    major_number, minor_number = (int(number[1]) if number else 0 for number in numbers)
    return major_number * 1_000_000 + minor_number * 1_000


def htslib_version() -> tuple[int, ...]:
    """The version of the htslib pysam bundles, which the audit's child prints a BCF with."""
    text = str(__htslib_version__)
    return tuple(int(number) for number in re.findall(r"\d+", text)[:2])


def structured_fields(body: bytes) -> dict[bytes, bytes]:
    """The ``key=value`` fields of a structured meta line's ``<...>`` (the first of each key), as far as they parse."""
    fields: dict[bytes, bytes] = {}
    text = body.decode("latin-1") + ">"
    at = 0
    while at < len(text):
        match = VCF_STRUCTURED.match(text, at)
        if match is None:
            break
        fields.setdefault(match[1].encode("latin-1"), match[2].encode("latin-1"))
        at = match.end()
    return fields


class BcfRecordWalk:
    """The records of one BCF, fed in pieces of the decompressed stream after the header; a
    record cut between two pieces is walked with the next."""

    def __init__(self, dictionary: Dictionary, watch: ContainerWatch) -> None:
        self.dictionary = dictionary
        self.watch = watch
        self.pending = b""
        self.records = 0

    def feed(self, piece: bytes) -> None:
        data = self.pending + piece if self.pending else piece
        dictionary = self.dictionary
        walked = scan.bcf_records(data, 0, dictionary.samples, dictionary.kinds, dictionary.keys, dictionary.phase_printed)
        if walked.problems.shape[1]:
            self.report(data, walked.problems)
        self.records += walked.record_count
        self.pending = data[walked.stop :]

    def finish(self) -> None:
        """The end of the stream: bytes of a record not whole are a finding (htslib refuses them too)."""
        if self.pending:
            self.watch.found(CUT_SHORT, f"record {self.records + 1}", self.pending[:SEARCHED])
            self.pending = b""

    def report(self, data: bytes, problems: np.ndarray) -> None:
        """One metadata finding a problem (``key``, ``record N``), its hidden bytes searched."""
        for column in problems.T.tolist():
            row, field, key, problem, start, end, width, kind = column
            where = f"record {self.records + row + 1}"
            self.watch.found(self.key(field, key, problem), where, hidden(data, problem, start, end, width, kind))

    def key(self, field: int, key: int, problem: int) -> str:
        if problem == BCF_PROBLEM_UNDECLARED:
            return UNDECLARED[field]
        return f"BCF {self.label(field, key, problem)} ({PROBLEMS[problem]})"

    def label(self, field: int, key: int, problem: int) -> str:
        """The field's name: ``ID``, ``REF``, ``ALT``, ``QUAL``, ``FILTER``, ``INFO/DP``, ``FORMAT/AD``
        (a key's name as ``audit_header.printable`` allows; ``INFO key`` before the key is read)."""
        if field == BCF_FIELD_ID:
            return "ID"
        if field == BCF_FIELD_ALLELE:
            return "REF" if key == 0 else "ALT"
        if field == BCF_FIELD_QUAL:
            return "QUAL"
        if field == BCF_FIELD_RLEN:
            return "rlen"
        if field == BCF_FIELD_FILTER:
            return "FILTER"
        if field in (BCF_FIELD_INFO, BCF_FIELD_FORMAT):
            prefix = "INFO" if field == BCF_FIELD_INFO else "FORMAT"
            name = self.dictionary.names.get(key)
            kind = BCF_KEY_INFO if field == BCF_FIELD_INFO else BCF_KEY_FORMAT
            if name is None or not 0 <= key < len(self.dictionary.kinds) or not self.dictionary.kinds[key] & kind:
                return f"{prefix} key"
            return f"{prefix}/{printable(name, self.watch.forbid)}"
        return "record"


def hidden(data: bytes, problem: int, start: int, end: int, width: int, kind: int) -> bytes:
    """The bytes a problem hides, for the forbid list: each value's bytes after its first NUL or
    END_OF_VECTOR, or the span itself (the rest of a part, a value of an undeclared key, numbers
    of another type than declared, whose bytes are printed as numbers, an END never printed).
    Text printed as text (a string of a wrong type, one with a 0x07) is searched in the text."""
    if problem in (BCF_PROBLEM_NAN_BITS, BCF_PROBLEM_SAMPLE_COUNT, BCF_PROBLEM_FORMAT_WITHOUT_SAMPLES, BCF_PROBLEM_PHASE, BCF_PROBLEM_RLEN,
                   BCF_PROBLEM_MISSING_CHAR) or (problem == BCF_PROBLEM_DECLARED_TYPE and kind == 7):  # fmt: skip
        return b""
    if problem not in (BCF_PROBLEM_AFTER_NUL, BCF_PROBLEM_AFTER_END) or width <= 0:
        return data[start : min(end, start + SEARCHED)]
    pieces = []
    size = BCF_TYPE_SIZES.get(kind, 1) or 1
    marker = b"\0" if kind == 7 else BCF_VECTOR_END.get(kind, 0).to_bytes(size, "little")
    for slot in range(start, end, width):
        value = data[slot : slot + width]
        for at in range(0, len(value), size):
            if value[at : at + size] == marker:
                rest = value[at + size :]
                if rest != marker * (len(rest) // size):
                    pieces.append(rest)
                break
        if sum(map(len, pieces)) >= SEARCHED:
            break
    return b"\n".join(pieces)[:SEARCHED]


def checked_bcf(stream: CheckedStream, watch: ContainerWatch) -> Iterator[bytes]:
    """An uncompressed BCF for htslib to read: the decompressed content of ``stream``, its header's
    text after the NUL (``audit_containers.check_after_nul``) and its records (``BcfRecordWalk``)
    checked on the way (BCF 2.2: magic, ``l_text``, text, records)."""
    head = b""
    while len(head) < 9:
        more = stream.read(PIECE)
        if not more:
            yield head
            return
        head += more
    text_end = 9 + int.from_bytes(head[5:9], "little")
    while len(head) < text_end:
        more = stream.read(max(PIECE, text_end - len(head)))
        if not more:
            break
        head += more
    text, _, after = head[9:text_end].partition(b"\0")
    check_after_nul(after, "header", watch)
    if len(head) < text_end:
        yield head
        return  # a header cut short: htslib refuses it
    walk = BcfRecordWalk(Dictionary.read(text), watch)
    walk.feed(head[text_end:])  # each piece walked before htslib has it: if the child stops at a record, it was walked
    yield head
    while more := stream.read(PIECE):
        walk.feed(more)
        yield more
    walk.finish()


def holds_record_findings(watch: ContainerWatch) -> bool:
    """Whether the walk found a record off the specification: htslib may then refuse the BCF, and
    the audit reports what it found (``REFUSED``) rather than an error."""
    return any(key.startswith("BCF ") for key in watch.findings.metadata.counts)
