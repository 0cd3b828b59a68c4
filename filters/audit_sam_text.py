"""What htslib reads from SAM text without keeping its text: the audit reads those fields itself.

SAM text reaches the record checks as BAM made by an htslib child (``audit_formats``), and
htslib, reading a record, keeps a few fields as values rather than text. The text stays in
the delivered file, but the BAM the checks read no longer holds it:

- an RNAME that no @SQ line declares becomes ``*`` (the read "unmapped"), an RNEXT that
  none declares becomes ``*``: a contig named after a sample, or a path, would pass;
- a number aux value (types ``i``, ``f``, ``B``) keeps the number its text starts with
  (``NM:i:0KIMJ`` is read as ``NM:i:0``; ``NM:i:KIMJ`` as 0; ``de:f:nan(KIMJ)`` as NaN),
  an ``A`` value its first character, and the two colons of an aux field are not read;
- a SEQ letter outside BAM's sixteen base codes becomes ``N`` (``KIMJ`` is read as
  ``KNMN``; a digit may even become a base): a name written into SEQ would pass;
- a QUAL byte outside ``!`` to ``~`` (a control byte, a blank) makes htslib refuse the whole
  file, so the rest of it would go unchecked;
- a header line's text ends at a NUL byte: what follows it is never checked.

A BAM or CRAM cannot hold the first two (and a BAM's header text is read by ``audit_bam``
itself), so only SAM text (plain or compressed, a path or stdin) goes through here.
``SamTextAudit.checked_blocks`` reads the text, as whole-line blocks, on its way to the
htslib child: each record whose RNAME or RNEXT is not declared (nor ``*``, nor ``=`` for
RNEXT) is a metadata finding and its name is searched for the forbid list's strings; each
aux field whose value htslib would not read whole is a metadata
finding, searched whole; so is each SEQ holding a character that is not a base, each QUAL
holding a byte outside ``!`` to ``~`` (handed to htslib as ``*``), and each line holding a NUL
byte. Nothing is quoted: findings are located by line number.

An undeclared name is handed to htslib as ``*``, what htslib makes of it anyway, so htslib
neither reads nor warns about it (its warning would quote the name), and a SAM file
without @SQ lines is audited rather than refused.

Most blocks hold none of this: the lines are located by one C loop (``scan.line_fields``),
the names compared as a set, the number values checked with numpy; ``GENOSCRUB_ONE_BY_ONE=1``
reads each line by ``line_findings`` instead, the reference the bulk path is tested against.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import IO

import numpy as np
from genoscrub import scan
from genoscrub.audit_allowlist import AUX_VALUES, FLOAT_DIGITS, FLOAT_EXPONENT_DIGITS, FLOAT_ZEROS
from genoscrub.audit_bam import AUX_VALUE_OFF_GRAMMAR
from genoscrub.audit_findings import Findings
from genoscrub.audit_forbid import ForbidList
from genoscrub.one_by_one import one_by_one
from genoscrub.streams import BLOCK_SIZE, whole_line_blocks

MANDATORY_TABS = 10
"""The tabs between SAM's 11 mandatory columns; optional (aux) fields follow further tabs."""
RNAME_COLUMN, RNEXT_COLUMN, SEQ_COLUMN, QUAL_COLUMN = 2, 6, 9, 10
BASE_TEXT = b"=ACMGRSVTWYHKDBNacmgrsvtwyhkdbn.Uu"
"""What htslib keeps of a SEQ (SAM 1.6, section 4.2.3): the sixteen codes, in either case (the
case alone is lost), ``.`` (read as N) and ``U`` (read as T, as RNA writes it). ``*`` alone
means no SEQ."""
BASES = np.zeros(256, dtype=bool)
BASES[list(BASE_TEXT)] = True
NO_SEQUENCE = b"*"
QUALITY_TEXT = bytes(range(ord("!"), ord("~") + 1))
"""A QUAL's bytes (SAM 1.6, section 1.4: Phred+33): htslib refuses a record with another."""
QUALITIES = np.zeros(256, dtype=bool)
QUALITIES[list(QUALITY_TEXT)] = True
UNPLACED = frozenset({b"*"})
MATE_UNPLACED = frozenset({b"*", b"="})

INTEGER = re.compile(rb"[-+]?[0-9]{1,10}")
"""An ``i`` value htslib reads whole (more digits are out of its range: refused by htslib)."""
_FLOAT = rb"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
NUMBER_VALUES = {
    ord("f"): re.compile(_FLOAT),
    ord("B"): re.compile(rb"[cCsSiI](?:,[-+]?[0-9]+)*|f(?:," + _FLOAT + rb")*"),
}
"""``f`` and ``B`` values read whole (SAM 1.6, section 1.5); ``nan``, ``inf`` and ``nan(...)``
are read by strtod but are no SAM numbers, so they are findings too. A float is read whole only
when a float32 holds what its text writes (``float_text_kept``)."""
FEW_DIGIT_FLOATS = {
    tag: value for tag, values in AUX_VALUES.items() for value in values if value.type == "f" and value.digits < FLOAT_DIGITS
}
"""The grammar of each allowlisted ``f`` tag written with fewer significant digits than a float32
carries (de and dv: 6), by name: more is off that grammar, though htslib keeps it."""
TAG_NAME = re.compile(rb"[A-Za-z][A-Za-z0-9]")
PRINTABLE = np.zeros(256, dtype=bool)
PRINTABLE[ord("!") : ord("~") + 1] = True


def tag_label(tag: bytes) -> str:
    """A tag as it may be printed: two letters or digits are the format's own names, anything else is not."""
    return tag.decode("ascii") if TAG_NAME.fullmatch(tag) else "(a tag)"


def significant_digits(number: bytes) -> int:
    """The significant digits a float's text (on the SAM number grammar) is written with: those of
    its mantissa from the first that is not 0; more than a float32 carries when it is padded with
    more than ``FLOAT_ZEROS`` zeros before them or has an exponent of more than
    ``FLOAT_EXPONENT_DIGITS`` digits, as such a text holds more than the number it reads as."""
    mantissa, _, exponent = number.lstrip(b"+-").lower().partition(b"e")
    digits = mantissa.replace(b".", b"")
    zeros = len(digits) - len(digits.lstrip(b"0"))
    if zeros > FLOAT_ZEROS or len(exponent.lstrip(b"+-")) > FLOAT_EXPONENT_DIGITS:
        return FLOAT_DIGITS + 1
    return len(digits) - zeros


def float_text_kept(number: bytes) -> bool:
    """Whether a float32 holds what a float's text writes: at most ``FLOAT_DIGITS`` significant
    digits, without padding or a long exponent (``0.9001011234567`` and ``1e-19900101`` are read
    as numbers whose text no reader keeps)."""
    return significant_digits(number) <= FLOAT_DIGITS


def aux_value_whole(field: bytes) -> bool:
    """Whether htslib reads this aux field (``TG:T:value``) without dropping text: ``Z`` and
    ``H`` values are kept as text; an ``A`` value is one printable character; numbers are
    read whole, floats with no more digits than a float32 holds."""
    if len(field) < 5 or field[2:3] != b":" or field[4:5] != b":":
        return False
    kind, value = field[3], field[5:]
    if kind == ord("i"):
        return INTEGER.fullmatch(value) is not None
    if kind == ord("A"):
        return len(value) == 1 and bool(PRINTABLE[value[0]])
    grammar = NUMBER_VALUES.get(kind)
    if grammar is None:
        return True  # Z, H (kept as text) or a type htslib refuses
    if grammar.fullmatch(value) is None:
        return False
    if kind == ord("f"):
        return float_text_kept(value)
    return not value.startswith(b"f") or all(float_text_kept(number) for number in value.split(b",")[1:])


def aux_value_too_precise(field: bytes, unchecked: frozenset[str] = frozenset()) -> bool:
    """Whether an ``f`` field read whole (``aux_value_whole``) of an allowlisted tag is written with
    more significant digits than its grammar allows (``de:f:19900101e-8``, ``dv:f:0.19900101``:
    6) while its number lies within its range, so the BAM's float32 passes the value check: off
    the tag's grammar, found only here. ``unchecked`` are the tags ``--allow-tag`` accepts."""
    tag = field[:2].decode("ascii", errors="replace")
    value = FEW_DIGIT_FLOATS.get(tag)
    if value is None or tag in unchecked or field[2:5] != b":f:" or NUMBER_VALUES[ord("f")].fullmatch(field[5:]) is None:
        return False
    if significant_digits(field[5:]) <= value.digits:
        return False
    with np.errstate(over="ignore"):
        number = float(np.float32(float(field[5:])))  # as htslib stores it
    return value.low <= number <= value.high


def sequence_kept(value: bytes) -> bool:
    """Whether htslib keeps a SEQ as its text says (but for case): ``*``, or bases only."""
    return value == NO_SEQUENCE or not value.strip(BASE_TEXT)


def quality_kept(value: bytes) -> bool:
    """Whether htslib reads a QUAL: ``*``, or Phred+33 bytes only (an empty QUAL is left to htslib)."""
    return not value.translate(None, QUALITY_TEXT)


def quality_ends(located: scan.LineFields) -> np.ndarray:
    """Where QUAL ends on each located line: its first aux field's tab, or the line's end."""
    counts = located.extra_counts
    if not len(located.extra_starts):
        return np.asarray(located.ends).copy()
    first = np.minimum(np.cumsum(counts) - counts, len(located.extra_starts) - 1)
    return np.where(counts > 0, located.extra_starts[first], located.ends)


def line_findings(
    line: bytes, names: frozenset[bytes], unchecked: frozenset[str] = frozenset()
) -> tuple[list[tuple[str, int, bytes]], list[tuple[int, int]]]:
    """One record line (no newline) read field by field: ``(kind, column, text)`` of each
    finding (``kind`` ``RNAME``, ``RNEXT``, ``SEQ``, ``QUAL``, ``aux`` (not read whole) or ``digits``
    (read whole, more digits than its tag's grammar: ``aux_value_too_precise``); ``column`` the
    field's offset in the line) and the spans of the names and QUAL htslib is handed as ``*``. The one-record
    reference of ``SamTextAudit.check_records``; a line with fewer than 11 columns is left to
    htslib, which refuses it."""
    fields = line.split(b"\t")
    if len(fields) <= MANDATORY_TABS:
        return [], []
    offsets = [0]
    for value in fields[:-1]:
        offsets.append(offsets[-1] + len(value) + 1)
    found: list[tuple[str, int, bytes]] = []
    spans: list[tuple[int, int]] = []
    for column, key, extra in ((RNAME_COLUMN, "RNAME", UNPLACED), (RNEXT_COLUMN, "RNEXT", MATE_UNPLACED)):
        value = fields[column]
        if value not in names and value not in extra:
            found.append((key, offsets[column], value))
            spans.append((offsets[column], offsets[column] + len(value)))
    if not sequence_kept(fields[SEQ_COLUMN]):
        found.append(("SEQ", offsets[SEQ_COLUMN], fields[SEQ_COLUMN]))
    if not quality_kept(fields[QUAL_COLUMN]):
        found.append(("QUAL", offsets[QUAL_COLUMN], fields[QUAL_COLUMN]))
        spans.append((offsets[QUAL_COLUMN], offsets[QUAL_COLUMN] + len(fields[QUAL_COLUMN])))
    for column in range(MANDATORY_TABS + 1, len(fields)):
        value = fields[column]
        if value and not aux_value_whole(value):
            found.append(("aux", offsets[column], value))
        elif aux_value_too_precise(value, unchecked):
            found.append(("digits", offsets[column], value))
    return found, spans


class SamTextAudit:
    """The fields of a SAM text htslib does not keep as text, checked on the text's way to htslib.

    ``checked_blocks`` is run by the thread that feeds the htslib child; ``findings`` are
    complete once it has ended (the caller merges them into the file's).
    """

    def __init__(self, path: str, forbid: ForbidList | None, unchecked: frozenset[str] = frozenset()) -> None:
        self.path = path
        self.forbid = forbid
        self.unchecked = unchecked
        """Tags accepted by ``--allow-tag``: their values are not held to a grammar."""
        self.findings = Findings()
        self.names: set[bytes] = set()
        self.in_header = True

    def checked_blocks(self, blocks: Iterable[bytes]) -> Iterator[bytes]:
        """The text of ``blocks`` as whole lines, checked, each undeclared name replaced by ``*``."""
        for first_line, _, text in whole_line_blocks(blocks, self.path):
            yield self.check_text(first_line, text)

    def check_text(self, first_line: int, text: bytes) -> bytes:
        """A block of whole lines: the header's @SQ names while the header lasts, then records."""
        if b"\0" in text:
            self.add_nul_lines(first_line, text)
        if not self.in_header:
            return self.check_records(first_line, text)
        at = 0
        while at < len(text) and text[at] == ord("@"):
            end = text.index(b"\n", at) + 1
            self.read_header_line(text[at:end])
            at = end
            first_line += 1
        if at == len(text):
            return text
        self.in_header = False
        return text[:at] + self.check_records(first_line, text[at:])

    def read_header_line(self, line: bytes) -> None:
        """An @SQ line's SN (htslib refuses a file whose @SQ lines repeat one or lack SN)."""
        if line.startswith(b"@SQ\t"):
            for field in line.rstrip(b"\r\n").split(b"\t")[1:]:
                if field.startswith(b"SN:"):
                    self.names.add(field[3:])

    def check_records(self, first_line: int, text: bytes) -> bytes:
        """Record lines, in runs between lines of fewer than 11 columns (left to htslib, which refuses them)."""
        if one_by_one():
            return self.check_lines_one_by_one(first_line, text)
        pieces = []
        while text:
            located = scan.line_fields(text, MANDATORY_TABS)
            done = int(located.ends[-1]) + 1 if located.line_count else 0
            pieces.append(self.check_located(first_line, text[:done] if located.bad_row >= 0 else text, located))
            if located.bad_row < 0:
                break
            bad_end = text.index(b"\n", done) + 1
            pieces.append(text[done:bad_end])
            text = text[bad_end:]
            first_line += located.line_count + 1
        return b"".join(pieces)

    def check_located(self, first_line: int, text: bytes, located: scan.LineFields) -> bytes:
        """The located lines of ``text``: names compared as a set, aux values by their type in bulk."""
        count = located.line_count
        if not count:
            return text
        cuts: list[tuple[int, int]] = []
        for column, key, extra in ((RNAME_COLUMN, "RNAME", UNPLACED), (RNEXT_COLUMN, "RNEXT", MATE_UNPLACED)):
            starts = located.tabs[:, column - 1] + 1
            ends = located.tabs[:, column]
            values = scan.span_list(text, starts, ends)
            undeclared = set(values).difference(self.names, extra)
            if not undeclared:
                continue
            rows = [row for row, value in enumerate(values) if value in undeclared]
            self.add_names(key, [(first_line + row, values[row]) for row in rows])
            cuts.extend((int(starts[row]), int(ends[row])) for row in rows)
        self.check_sequences(first_line, text, located)
        cuts.extend(self.check_qualities(first_line, text, located))
        self.check_aux(first_line, text, located)
        if not cuts:
            return text
        cuts.sort()
        starts_array = np.array([start for start, _ in cuts], dtype=np.int64)
        ends_array = np.array([end for _, end in cuts], dtype=np.int64)
        return scan.splice_spans(text, starts_array, ends_array, [b"*"], np.zeros(len(cuts), dtype=np.int64))

    def check_sequences(self, first_line: int, text: bytes, located: scan.LineFields) -> None:
        """SEQ columns holding a character htslib does not keep (``sequence_kept``), found in bulk."""
        starts, ends = located.tabs[:, SEQ_COLUMN - 1] + 1, located.tabs[:, SEQ_COLUMN]
        rows = np.flatnonzero(~scan.spans_within(np.frombuffer(text, dtype=np.uint8), starts, ends, BASES))
        if not len(rows):
            return
        values = scan.span_list(text, starts[rows], ends[rows])
        self.add_sequences([(first_line + row, value) for row, value in zip(rows.tolist(), values, strict=True) if value != NO_SEQUENCE])

    def check_qualities(self, first_line: int, text: bytes, located: scan.LineFields) -> list[tuple[int, int]]:
        """QUAL columns holding a byte outside ``!`` to ``~`` (``quality_kept``), found in bulk:
        their spans, handed to htslib as ``*``."""
        starts, ends = located.tabs[:, QUAL_COLUMN - 1] + 1, quality_ends(located)
        rows = np.flatnonzero(~scan.spans_within(np.frombuffer(text, dtype=np.uint8), starts, ends, QUALITIES))
        if not len(rows):
            return []
        values = scan.span_list(text, starts[rows], ends[rows])
        self.add_qualities([(first_line + row, value) for row, value in zip(rows.tolist(), values, strict=True)])
        return [(int(starts[row]), int(ends[row])) for row in rows.tolist()]

    def check_aux(self, first_line: int, text: bytes, located: scan.LineFields) -> None:
        """Aux fields whose value htslib would not read whole (``aux_value_whole``), found in bulk."""
        tabs = located.extra_starts
        if not len(tabs):
            return
        data = np.frombuffer(text, dtype=np.uint8)
        starts, ends = tabs + 1, located.extra_ends
        lengths = ends - starts
        bad = (lengths > 0) & (lengths < 5)
        long = np.flatnonzero(lengths >= 5)
        kinds = np.zeros(len(tabs), dtype=np.uint8)
        kinds[long] = data[starts[long] + 3]
        bad[long] |= (data[starts[long] + 2] != ord(":")) | (data[starts[long] + 4] != ord(":"))
        integers = np.flatnonzero(kinds == ord("i"))
        if len(integers):
            values = starts[integers] + 5
            signed = (lengths[integers] > 5) & np.isin(data[np.minimum(values, len(data) - 1)], (ord("+"), ord("-")))
            bad[integers] |= scan.span_numbers(text, values + signed, ends[integers]) < 0
        letters = np.flatnonzero(kinds == ord("A"))
        if len(letters):
            bad[letters] |= (lengths[letters] != 6) | ~PRINTABLE[data[np.minimum(starts[letters] + 5, len(data) - 1)]]
        numbers = np.flatnonzero((kinds == ord("f")) | (kinds == ord("B")))
        precise = np.zeros(len(tabs), dtype=bool)
        if len(numbers):
            fields = scan.span_list(text, starts[numbers], ends[numbers])
            verdicts = {field: (aux_value_whole(field), aux_value_too_precise(field, self.unchecked)) for field in set(fields)}
            bad[numbers[[not verdicts[field][0] for field in fields]]] = True
            precise[numbers[[verdicts[field][0] and verdicts[field][1] for field in fields]]] = True
        for found, add in ((bad, self.add_aux), (precise, self.add_digits)):
            rows = np.flatnonzero(found)
            if len(rows):
                owners = np.repeat(np.arange(located.line_count), located.extra_counts)
                fields = scan.span_list(text, starts[rows], ends[rows])
                add([(first_line + int(owners[row]), field) for row, field in zip(rows.tolist(), fields, strict=True)])

    def check_lines_one_by_one(self, first_line: int, text: bytes) -> bytes:
        """``check_records`` by ``line_findings``, a line at a time."""
        out = []
        names = frozenset(self.names)
        for number, line in enumerate(text.split(b"\n")[:-1], start=first_line):
            found, spans = line_findings(line, names, self.unchecked)
            for key, _, value in found:
                if key == "aux":
                    self.add_aux([(number, value)])
                elif key == "digits":
                    self.add_digits([(number, value)])
                elif key == "SEQ":
                    self.add_sequences([(number, value)])
                elif key == "QUAL":
                    self.add_qualities([(number, value)])
                else:
                    self.add_names(key, [(number, value)])
            for start, end in reversed(spans):
                line = line[:start] + b"*" + line[end:]
            out.append(line + b"\n")
        return b"".join(out)

    def add_nul_lines(self, first_line: int, text: bytes) -> None:
        """Lines holding a NUL byte, a finding each, searched whole: htslib keeps a header line's text
        only up to it (what follows is never checked) and refuses a record that holds one."""
        found = []
        at = text.find(b"\0")
        while at >= 0:
            start = text.rfind(b"\n", 0, at) + 1
            end = text.index(b"\n", at)
            number = first_line + text.count(b"\n", 0, start)
            found.append((number, text[start:end]))
            self.findings.metadata.add("line holds a NUL byte", f"line {number}")
            at = text.find(b"\0", end)
        self.search("line with a NUL byte", found)

    def add_names(self, key: str, found: list[tuple[int, bytes]]) -> None:
        """Records whose RNAME (or RNEXT) no @SQ declares: ``(line, name)`` in file order."""
        self.findings.metadata.add_all(f"{key} not declared by @SQ", [f"line {line}" for line, _ in found], len(found))
        self.search(key, found)

    def add_sequences(self, found: list[tuple[int, bytes]]) -> None:
        """SEQ columns with a character that is not a base: ``(line, SEQ)`` in file order, a finding each."""
        if not found:
            return
        self.findings.metadata.add_all("SEQ holds a character that is not a base", [f"line {line}" for line, _ in found], len(found))
        self.search("SEQ", found)

    def add_qualities(self, found: list[tuple[int, bytes]]) -> None:
        """QUAL columns with a byte outside ``!`` to ``~``: ``(line, QUAL)`` in file order, a finding each."""
        self.findings.metadata.add_all("QUAL holds a byte outside ! to ~", [f"line {line}" for line, _ in found], len(found))
        self.search("QUAL", found)

    def add_aux(self, found: list[tuple[int, bytes]]) -> None:
        """Aux fields htslib would not read whole: ``(line, field)`` in file order, a finding each."""
        for line, field in found:
            self.findings.metadata.add(f"aux value does not parse {tag_label(field[:2])}", f"line {line}")
        for line, field in found:
            self.search(f"aux {tag_label(field[:2])}", [(line, field)])

    def add_digits(self, found: list[tuple[int, bytes]]) -> None:
        """Floats written with more digits than their tag's grammar allows, read whole by htslib:
        ``(line, field)`` in file order, a finding each, keyed as the BAM's value checks key theirs."""
        for line, field in found:
            self.findings.metadata.add(f"{AUX_VALUE_OFF_GRAMMAR} {tag_label(field[:2])}", f"line {line}")
        for line, field in found:
            self.search(f"aux {tag_label(field[:2])}", [(line, field)])

    def search(self, label: str, found: list[tuple[int, bytes]]) -> None:
        """The forbid list's strings in texts htslib does not hand on, each distinct text searched once."""
        if self.forbid is None:
            return
        lines_of: dict[bytes, list[int]] = defaultdict(list)
        for line, text in found:
            lines_of[text].append(line)
        hits: dict[int, list[int]] = defaultdict(list)
        for text, lines in lines_of.items():
            for entry in {entry.line for entry, _ in self.forbid.search_text(text)}:
                hits[entry].extend(lines)
        for entry_line, lines in sorted(hits.items()):
            lines.sort()
            self.findings.forbidden.add_all(f"{label} (list line {entry_line})", [f"line {line}" for line in lines], len(lines))


def text_blocks(stream: IO[bytes], size: int = BLOCK_SIZE) -> Iterator[bytes]:
    """``stream.read(size)`` until it ends."""
    while block := stream.read(size):
        yield block
