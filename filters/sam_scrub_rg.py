"""sam-scrub-rg: identifier-free SAM/BAM headers, read groups, aux tags and read names.

The guideline (Fig. 4B) replaces the sample ``HD753_S1`` by ``CMT001_00`` and
``PU:MISEQ`` by ``PU:NGS``, and removes patient and specimen data from ``@RG``
and programs and paths from ``@PG``. Everything this command writes is rebuilt
from parsed, validated fields (fail closed):

- the header comes from the SAM header model (``genoscrub.sam_header``): @HD, @SQ
  and @RG tags checked against the spec's grammar, free text dropped; ``@RG`` ID,
  SM, LB become pseudonyms of the shared scheme (so SM here equals the VCF sample
  name vcf-scrub-header gives with the same map or key; ID and LB, which a lane or
  a pool shares between patients, are scoped to their SM: ``Pseudonyms.for_sample_member``),
  PU becomes ``NGS``;
  ``@PG``, ``@CO`` and unknown lines go and one ``@PG ID:sam-scrub-rg`` without a
  command line is added;
- records: optional fields not on the allowlist of ``genoscrub.aux_tags`` go
  (counted by tag; with ``--only-tags``, those off its list too), and so do kept
  ones whose value is off its grammar (``genoscrub.aux_values``: an identifier
  written into ``XA:Z`` or ``MD:Z``), and so do the
  second and later copies of a tag in a record (``aux_tags.without_repeats``);
  ``RG:Z`` follows the new IDs, ``PG:Z`` goes, and with ``--names`` QNAME becomes
  a pseudonym. The 11 mandatory columns pass as the same bytes.

Records are not split one by one where the block allows otherwise: the lines and
tags of a 1 MiB block of whole lines are located by column in one C pass
(``aux_tags.locate_tags`` over ``scan.line_fields``), the values of the kept ones
checked grammar by grammar (``TagPolicy.valid_values``), and only the spans to
change are visited: a dropped tag left out, an RG:Z tag replaced by its new one
(the whole tag is the key, so ``rg1`` never matches ``rg10``), and with a key or a
map each QNAME (from the line's start to its first tab) replaced by its pseudonym,
all in one splice of the block (``scan.splice_spans``). A block whose structure is
in doubt goes through the exact, field-by-field path, which names the faulty line
(ARCHITECTURE.md). Reading and writing run on their
own threads, so the decoder upstream and the encoder downstream never wait for
this process's CPU.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer
from genoscrub import scan
from genoscrub.alignments import AlignmentOutput, open_alignment_text
from genoscrub.aux_tags import (
    DROP,
    DROP_REPEAT,
    DROP_VALUE,
    KEEP,
    REMOVE_PG,
    REWRITE_RG,
    TAG_FIELD,
    TagLayout,
    TagPolicy,
    locate_tags,
    parse_tag_list,
    parse_tag_option,
    report_name,
    tag_name,
    without_repeats,
)
from genoscrub.cli import (
    InputArgument,
    KeyFileOption,
    MapOption,
    MapOutOption,
    OutputOption,
    QuietOption,
    ReportOption,
    make_app,
    open_pseudonyms,
    run,
)
from genoscrub.contigs import conventional_names
from genoscrub.fasta import Fasta
from genoscrub.fields import distinct_spans
from genoscrub.identifiers import personal_reference_name, personal_sequence_name
from genoscrub.one_by_one import one_by_one
from genoscrub.pseudonyms import ID_HASH_DIGITS, ID_KEYED_PREFIX, Pseudonyms, SampleMissing
from genoscrub.report import InputError, Report, UsageError
from genoscrub.sam_columns import ReadPlaces
from genoscrub.sam_header import HeaderLine, parse_header, program_line
from genoscrub.sam_stage import SamStage
from genoscrub.sequence_dict import read_sequence_dict
from genoscrub.streams import BackgroundWriter, background_reads, enlarge_pipe, keep_freed_chunks_in_the_heap, whole_line_blocks, workers

COMMAND = "sam-scrub-rg"
DEFAULT_PLATFORM_UNIT = "NGS"

PSEUDONYMIZED_RG_TAGS = (b"ID", b"SM", b"LB")
SAMPLE_MEMBER_TAGS = (b"ID", b"LB")
"""@RG tags whose value several samples can share (a lane, a pool): pseudonyms scoped to the SM."""
PRINTABLE = re.compile(rb"[ -~]+")
KEYED_PSEUDONYM = re.compile(b"%s[0-9A-F]{%d}" % (ID_KEYED_PREFIX.encode(), ID_HASH_DIGITS))
"""A keyed pseudonym (``S4903134303289D62``): hex digits, which may read as a number by chance, so
it is not held to the personal-data rule that a pseudonym of the map is (the audit sets it aside too)."""
PLATFORM_UNIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
"""What ``--platform-unit`` may be: an ID, as the audit holds ``@RG PU`` to."""
PRINTABLE_BYTES = bytes(range(ord(" "), ord("~") + 1))
"""What a SEQ or QUAL holds at most: printable ASCII (Phred+33 is ``!`` to ``~``; base codes, ``=``,
``.`` and ``*`` among them), no control byte or byte outside ASCII. A blank is no quality either,
but hts-specs' ``qual.fail1.sam`` holds one, and this command copied it: the audit finds it."""
OUTSIDE_PHRED_33 = "holds a control byte or a byte outside ASCII (no base code or Phred+33 quality)"
SEQ_AND_QUAL_BYTES = np.zeros(256, dtype=np.uint8)
SEQ_AND_QUAL_BYTES[list(PRINTABLE_BYTES + b"\t")] = 1
"""``PRINTABLE_BYTES`` and the tab between SEQ and QUAL: the table of the span from one to the other."""
LINE_STARTING_WITH_AT = re.compile(rb"\n@")  # sre finds this 2-byte needle faster than bytes.find
QNAME = re.compile(rb"(?m)^([^\t\n]*)")
CHUNK_SIZE = 1 << 20
FEW_READ_GROUPS = 16
"""Up to this many @RG lines, each RG:Z tag of a block is compared with each of their tags
(``scan.span_choices``); with more, a block's distinct tags are found first (``distinct_spans``)."""
UNNAMED = (b"*", b"")  # QNAME unavailable: nothing to hide, nothing to join on

FLAG_PAIRED = 0x1
FLAG_SECONDARY = 0x100
FLAG_SUPPLEMENTARY = 0x800

app = make_app()


class OutputFormat(str, Enum):
    sam = "sam"
    bam = "bam"
    cram = "cram"


# --- input and output ---------------------------------------------------------


def end_of_header(chunk: bytes) -> int:
    """Offset of the first line not starting with ``@``, or -1 if every line does."""
    if not chunk.startswith(b"@"):
        return 0
    match = re.search(rb"\n[^@]", chunk)
    return match.start() + 1 if match else -1


def scrub_stream(chunks: Iterable[tuple[int, int, bytes]], header: HeaderScrubber, records: RecordScrubber) -> Iterator[bytes]:
    """Yield output chunks: the scrubbed header with the first records, then records.

    The header goes out together with the first chunk of records, so a bad
    record near the start leaves no output at all.
    """
    header_lines: list[bytes] = []
    new_header = b""
    for first_line, count, chunk in chunks:
        if not new_header:
            end = end_of_header(chunk)
            if end < 0:
                header_lines.extend(chunk[:-1].split(b"\n"))
                continue
            if end:
                header_lines.extend(chunk[: end - 1].split(b"\n"))
            new_header = header.scrub(header_lines)
            records.use_header(header)
            count -= len(header_lines) + 1 - first_line
            first_line = len(header_lines) + 1
            yield new_header + records.scrub(chunk[end:], first_line, count)
            continue
        yield records.scrub(chunk, first_line, count)
    if not new_header:
        yield header.scrub(header_lines)


def scrub_stage(
    report: Report,
    path: str,
    *,
    names: bool = False,
    platform_unit: str = DEFAULT_PLATFORM_UNIT,
    keep_tags: list[str] | None = None,
    drop_tags: list[str] | None = None,
    only_tags: str | None = None,
    map_path: Path | None = None,
    key_file: Path | None = None,
    map_out: Path | None = None,
    map_out_read_names: bool = True,
    reference: Path | None = None,
    dictionary: Path | None = None,
) -> SamStage:
    """The command's work, its options checked and its pseudonyms opened (keyword names are
    the options' own, see ``main``): what ``main`` runs between its reader and writer, and
    the cohort workflow in one process with the next commands (``genoscrub.sam_stage``)."""
    check_platform_unit(platform_unit)
    policy = TagPolicy(
        keep=[parse_tag_option(tag, "--keep-tag") for tag in keep_tags or []],
        drop=[parse_tag_option(tag, "--drop-tag") for tag in drop_tags or []],
        only=None if only_tags is None else parse_tag_list(only_tags, "--only-tags"),
    )
    pseudonyms = open_pseudonyms(map_path, key_file, map_out, map_out_read_names)
    report.notes["scheme"] = pseudonyms.scheme
    namer: ReadNamer | None = None
    if names:
        counting = pseudonyms.table is None and pseudonyms.scheme == "counter"
        namer = (CountingReadNamer if counting else ReadNamer)(pseudonyms, path, report)
    checksums = read_sequence_dict(str(dictionary)) if dictionary is not None else None
    header = HeaderScrubber(pseudonyms, platform_unit, path, report, reference, checksums)
    records = RecordScrubber(namer, path, report, policy)
    return SamStage(COMMAND, lambda blocks: scrub_stream(blocks, header, records), close=pseudonyms.close)


# --- header ------------------------------------------------------------------


class HeaderScrubber:
    """Header lines in, the validated and pseudonymized header out (``sam_header``).

    Keeps ``read_groups`` (old ID -> new ID, as bytes) for the records. With ``reference``
    (``--reference``), an ``@SQ M5`` is kept only where it is the MD5 of its sequence there;
    with ``checksums`` (``--dict``: ``{SN: M5}`` of a sequence dictionary), only where it is
    the dictionary's, and the reference is not hashed.
    """

    def __init__(
        self,
        pseudonyms: Pseudonyms,
        platform_unit: str,
        path: str,
        report: Report,
        reference: Path | None = None,
        checksums: dict[str, str] | None = None,
    ) -> None:
        self.pseudonyms = pseudonyms
        self.platform_unit = platform_unit.encode()
        self.path = path
        self.report = report
        self.reference = reference
        self.checksums = checksums
        self.read_groups: dict[bytes, bytes] = {}
        self.references: dict[bytes, int] = {}

    def scrub(self, lines: list[bytes]) -> bytes:
        """The new header as one chunk, ending with genoscrub's own @PG line."""
        header = parse_header(lines, self.path)
        for reference in header.of_type(b"SQ"):  # copied into every record's RNAME: refused, never rewritten here
            if personal_sequence_name(reference.fields[b"SN"]):
                raise InputError(
                    "@SQ SN holds a path, an address or personal data: rename the reference (samtools reheader; "
                    "for SAM text, its RNAME and RNEXT too)",
                    self.path,
                    reference.number,
                )
        if self.checksums is not None:
            header.keep_checksums_of(self.checksums.get)
        elif self.reference is not None and any(b"M5" in line.fields for line in header.of_type(b"SQ")):
            header.keep_checksums_of(Fasta(str(self.reference)).sequence_md5)
        self.references = {line.fields[b"SN"]: int(line.fields[b"LN"]) for line in header.of_type(b"SQ")}
        for read_group in header.of_type(b"RG"):
            self.scrub_read_group(read_group)
        self.report.add("header_lines", len(lines))
        self.report.add("read_groups", len(self.read_groups))
        for kind, count in header.removed_lines.items():
            self.report.add({"@PG": "pg", "@CO": "co"}.get(kind, "unknown") + "_header_lines_removed", count)
        if header.removed_tags:
            self.report.add("header_tags_removed", sum(header.removed_tags.values()))
        self.report.notes["header_lines_removed_by_type"] = dict(header.removed_lines)
        self.report.notes["header_tags_removed_by_tag"] = dict(header.removed_tags)
        if header.rebuilt:
            self.report.notes["header_values_rebuilt"] = dict(header.rebuilt)
        return header.text([program_line(COMMAND)])

    def scrub_read_group(self, line: HeaderLine) -> None:
        """ID, SM, LB -> pseudonyms (ID and LB scoped to the line's SM); PU -> the platform
        unit; record the ID mapping."""
        original_id = line.fields[b"ID"]
        sample = line.fields.get(b"SM")
        for tag, value in line.fields.items():
            if tag in PSEUDONYMIZED_RG_TAGS:
                line.fields[tag] = self.pseudonym(tag, value, line.number, sample if tag in SAMPLE_MEMBER_TAGS else b"")
            elif tag == b"PU":
                line.fields[tag] = self.platform_unit
        new_id = line.fields[b"ID"]
        if new_id in self.read_groups.values():
            raise InputError("two @RG IDs get the same pseudonym (check the map)", self.path, line.number)
        self.read_groups[original_id] = new_id

    def pseudonym(self, tag: bytes, value: bytes, number: int, sample: bytes | None = b"") -> bytes:
        """The pseudonym of an @RG value: of a member (ID, LB) of ``sample`` (the line's SM, None
        when it has none), or, with ``sample`` ``b""``, of the SM itself."""
        for name, text in ((tag, value), (b"SM", sample or b"")):
            if not text.isascii() and not is_utf8(text):
                raise InputError(f"@RG {name.decode()} is not UTF-8 text", self.path, number)
        original = value.decode("utf-8")
        scope = None if sample is None else sample.decode("utf-8")
        try:
            member = scope != ""
            new = (self.pseudonyms.for_sample_member(original, scope) if member else self.pseudonyms.for_id(original)).encode()
        except SampleMissing:
            message = f"@RG without SM: with a key its {tag.decode()} needs the sample, or samples sharing it would share its pseudonym"
            raise InputError(message, self.path, number) from None
        except KeyError:
            message = f"@RG {tag.decode()} not in the map (give --key-file to hash IDs the map lacks)"
            raise InputError(message, self.path, number) from None
        if not PRINTABLE.fullmatch(new):
            raise InputError(f"the pseudonym of @RG {tag.decode()} is not printable ASCII (check the map)", self.path, number)
        if not KEYED_PSEUDONYM.fullmatch(new) and personal_reference_name(new):
            message = f"the pseudonym of @RG {tag.decode()} holds a path, an address or personal data (check the map)"
            raise InputError(message, self.path, number)
        return new


def is_utf8(text: bytes) -> bool:
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- records -----------------------------------------------------------------


class BlockEdits:
    """Spans of a block to replace, in order: span ``k`` by ``pieces[choices[k]]`` (``scan.splice_spans``)."""

    def __init__(self, starts: np.ndarray, ends: np.ndarray, pieces: list[bytes], choices: np.ndarray) -> None:
        self.starts = starts
        self.ends = ends
        self.pieces = pieces
        self.choices = choices

    @classmethod
    def none(cls) -> BlockEdits:
        empty = np.zeros(0, dtype=np.int64)
        return cls(empty, empty, [b""], empty)

    def with_names(self, name_starts: np.ndarray, name_ends: np.ndarray, names: list[bytes]) -> BlockEdits:
        """These edits and each line's QNAME replaced by ``names[line]``, merged in text order
        (a line's QNAME comes before its tags, after the tags of the line before). Both lists are
        in text order already: each edit's place in the merged one is its own index and the
        number of the other list's spans that start before it (a QNAME before a tag at its start,
        as a stable sort of the two lists joined, QNAMEs first, places them)."""
        count, edits = len(name_starts), len(self.starts)
        name_places = np.arange(count) + np.searchsorted(self.starts, name_starts, side="left")
        edit_places = np.arange(edits) + np.searchsorted(name_starts, self.starts, side="right")
        starts = np.empty(count + edits, dtype=np.int64)
        ends = np.empty(count + edits, dtype=np.int64)
        choices = np.empty(count + edits, dtype=np.int64)
        starts[name_places], starts[edit_places] = name_starts, self.starts
        ends[name_places], ends[edit_places] = name_ends, self.ends
        choices[name_places] = np.arange(len(self.pieces), len(self.pieces) + count, dtype=np.int64)
        choices[edit_places] = self.choices
        return BlockEdits(starts, ends, self.pieces + names, choices)


def with_other_spellings(references: dict[bytes, int]) -> dict[bytes, int]:
    """The header's ``{SN: LN}`` and each other spelling of one of its names that the header does not
    declare (``contigs.conventional_names``: ``1`` for ``chr1``), with that contig's length.
    ``samtools reheader`` renames @SQ but no tag, so a BAM renamed from ``1`` to ``chr1`` lists
    its ``SA``/``XA`` hits on ``1``: kept, the region and clip rules of the commands after this
    one read them through the same spellings (``contigs.HitContigs``), as they read a hit on
    ``chr1``; dropped, they would judge the read without them. A spelling two contigs share is left
    out (the value naming it is dropped)."""
    spelled: dict[bytes, set[bytes]] = {}
    for name in references:
        for other in conventional_names(name.decode("ascii", errors="replace")):
            spelled.setdefault(other.encode(), set()).add(name)
    aliases = {other: references[next(iter(names))] for other, names in spelled.items() if len(names) == 1 and other not in references}
    return {**references, **aliases}


class RecordScrubber:
    """Record chunks in, chunks with tags off the allowlist or off their value's grammar
    dropped, RG:Z rewritten, PG:Z removed (and names replaced) out.

    ``references`` (the header's ``{SN: LN}``) are the reference names a kept value
    (``SA``, ``XA``, ``CC``, ...) may name.
    """

    def __init__(self, names: ReadNamer | None, path: str, report: Report, policy: TagPolicy | None = None) -> None:
        self.names = names
        self.path = path
        self.report = report
        self.policy = policy or TagPolicy()
        self.read_groups: dict[bytes, bytes] = {}
        self.rewritten_tags: dict[bytes, bytes] = {}
        self.old_tags: list[bytes] = []
        self.new_tags: list[bytes] = []
        self.references: dict[bytes, int] = {}
        self.value_references: dict[bytes, int] = {}
        """The references a kept value may name: the header's, and each other spelling of one of them
        (``with_other_spellings``)."""
        self.places = ReadPlaces((), numbers=False)
        """The mandatory columns copied as they are, checked as every SAM command checks them (set by the header)."""
        self.removed_by_tag: Counter[str] = Counter()
        self.removed_by_value: Counter[str] = Counter()
        self.removed_by_repeat: Counter[str] = Counter()
        report.notes["aux_tags_removed_by_tag"] = self.removed_by_tag
        report.notes["aux_tags_removed_by_value"] = self.removed_by_value
        report.notes["aux_tags_removed_by_repeat"] = self.removed_by_repeat

    def use_header(self, header: HeaderScrubber) -> None:
        """Take the read-group mapping: ``\tRG:Z:old`` -> ``\tRG:Z:new``, as the block path slices tags."""
        self.read_groups = header.read_groups
        self.references = header.references
        self.value_references = with_other_spellings(header.references)
        self.places = ReadPlaces(header.references, numbers=False)
        self.rewritten_tags = {b"\tRG:Z:" + old: b"\tRG:Z:" + new for old, new in self.read_groups.items()}
        self.old_tags, self.new_tags = list(self.rewritten_tags), list(self.rewritten_tags.values())

    def scrub(self, chunk: bytes, first_line: int, count: int) -> bytes:
        layout = None if one_by_one() else locate_tags(chunk)
        self.refuse_header_lines(chunk, first_line, layout)
        far_mates = self.check_places(chunk, first_line, layout)
        self.refuse_bytes_outside_phred(chunk, first_line, layout)
        self.report.add("records", count)
        edits = None if layout is None or far_mates else self.block_edits(chunk, layout)
        if edits is None:
            self.report.notes["chunks_checked_field_by_field"] = self.report.notes.get("chunks_checked_field_by_field", 0) + 1
            scrubbed = self.scrub_by_field(chunk, first_line)
            return scrubbed if self.names is None else self.names.rename(scrubbed, first_line)
        assert layout is not None
        if self.names is not None and not self.names.reads_tags:
            edits = edits.with_names(*layout.names(), self.names.new_names(chunk, *layout.names(), first_line))
        scrubbed = scan.splice_spans(chunk, edits.starts, edits.ends, edits.pieces, edits.choices) if len(edits.starts) else chunk
        if self.names is not None and self.names.reads_tags:
            scrubbed = self.names.rename(scrubbed, first_line)
        return scrubbed

    def refuse_header_lines(self, chunk: bytes, first_line: int, layout: TagLayout | None = None) -> None:
        """A header line after the first record is an error (SAM spec 1.3: the header comes first).

        QNAME cannot start with ``@``. With the block's lines located, their first
        bytes are looked at; otherwise the block is searched (QUAL often holds an
        ``@``, so the cheap test for any ``@`` comes first).
        """
        if layout is not None and chunk.endswith(b"\n"):
            starting = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8)[layout.line_starts] == 64)
            if len(starting):
                raise InputError("header line after the first record", self.path, first_line + int(starting[0]))
            return
        if chunk.startswith(b"@"):
            raise InputError("header line after the first record", self.path, first_line)
        found = LINE_STARTING_WITH_AT.search(chunk) if b"@" in chunk else None
        if found:
            line = first_line + chunk.count(b"\n", 0, found.start()) + 1
            raise InputError("header line after the first record", self.path, line)

    def check_places(self, chunk: bytes, first_line: int, layout: TagLayout | None) -> bool:
        """RNAME and RNEXT name contigs of the header, and FLAG, POS, MAPQ, CIGAR, PNEXT and TLEN
        hold only their characters, or stop (``sam_columns.ReadPlaces``, as in every SAM
        command): these columns are copied, so text nothing has read does not pass. Whether a
        located block has a PNEXT past its contig (its mate's place is then made unavailable on the
        one-record path, ``scrub_by_field``)."""
        if layout is not None:
            return bool(self.places.check_block(chunk, layout.column, self.path, first_line).any())
        for index, line in enumerate(chunk[:-1].split(b"\n") if chunk else ()):
            fields = line.split(b"\t", 11)
            if len(fields) < 11:
                raise InputError("record has fewer than the 11 mandatory SAM columns", self.path, first_line + index)
            if message := self.places.fault(fields):
                raise InputError(message, self.path, first_line + index)
        return False

    def refuse_bytes_outside_phred(self, chunk: bytes, first_line: int, layout: TagLayout | None) -> None:
        """Stop at a SEQ or QUAL holding a control byte or a byte outside ASCII: no base code or
        Phred+33 quality is one (SAM 1.6, section 1.4), and such bytes are copied into the output unread:
        bytes outside ASCII (a BAM's qualities over 93 print so) spell text, a name in UTF-8, and
        control bytes (qualities of 224 to 254 print as 0x01 to 0x1F, 94 as 0x7F) text
        samtools cannot read again. With the block located, one C pass over each line's
        SEQ and QUAL (``scan.spans_within``, the tab between them allowed); the lines are read
        one by one only where it finds one. Aux values are held to their own rules."""
        if layout is not None:
            within = scan.spans_within(np.frombuffer(chunk, dtype=np.uint8), layout.column(9)[0], layout.quality_ends(), SEQ_AND_QUAL_BYTES)
            if bool(within.all()):
                return
        for index, line in enumerate(chunk.split(b"\n")):
            fields = line.split(b"\t", 11)
            for column, name in ((9, "SEQ"), (10, "QUAL")):
                if len(fields) > column and fields[column].translate(None, PRINTABLE_BYTES):
                    raise InputError(f"{name} {OUTSIDE_PHRED_33}", self.path, first_line + index)

    def scrub_block(self, chunk: bytes) -> bytes | None:
        """The fast path without names: the block with its tags edited, or None when
        anything needs the exact path (see ``block_edits``)."""
        layout = locate_tags(chunk)
        edits = None if layout is None else self.block_edits(chunk, layout)
        if edits is None:
            return None
        return scan.splice_spans(chunk, edits.starts, edits.ends, edits.pieces, edits.choices) if len(edits.starts) else chunk

    def block_edits(self, chunk: bytes, layout: TagLayout) -> BlockEdits | None:
        """The fast path: the tags of the whole block decided by their layout codes and
        the kept ones' values checked grammar by grammar; the spans to replace (a
        dropped tag or PG:Z by nothing, an RG:Z by the tag of its new ID), or None when
        anything needs the exact path (which names the line). A tag's second and later
        copies in a record go first (``aux_tags.without_repeats``): the rest of the
        record is decided as if they were not there."""
        if not len(layout.codes):
            return BlockEdits.none()
        status = self.policy.status[layout.codes]
        rule_ids = self.policy.rule_of[layout.codes]
        repeated = scan.repeated_tags(chunk, layout.starts, layout.ends, layout.tags_per_line).view(bool)
        if repeated.any():
            status[repeated] = DROP_REPEAT
            rule_ids[repeated] = 0  # no rule: neither checked nor anyone's partner
        status[~self.policy.valid_values(chunk, layout, rule_ids, self.value_references)] = DROP_VALUE
        edited = np.flatnonzero(status)  # KEEP is 0
        if not len(edited):
            return BlockEdits.none()
        kinds = status[edited]
        starts, ends = layout.starts[edited], layout.ends[edited]
        choices = np.zeros(len(edited), dtype=np.int64)  # pieces[0]: nothing
        pieces = [b""]
        rewrite = np.flatnonzero(kinds == REWRITE_RG)
        if len(rewrite) and len(self.old_tags) <= FEW_READ_GROUPS:
            named = scan.span_choices(chunk, starts[rewrite], ends[rewrite], self.old_tags)
            if (named < 0).any():
                return None  # an RG:Z naming no @RG line: the exact path names it
            pieces += self.new_tags
            choices[rewrite] = 1 + named
        elif len(rewrite):
            originals, which = distinct_spans(chunk, starts[rewrite], ends[rewrite])
            new = [self.rewritten_tags.get(original) for original in originals]
            if None in new:
                return None  # an RG:Z naming no @RG line: the exact path names it
            pieces += new  # type: ignore[arg-type]
            choices[rewrite] = 1 + which
        rg_count = len(rewrite)
        pg_count = int(np.count_nonzero(kinds == REMOVE_PG))
        if rg_count:
            self.report.add("rg_tags_rewritten", rg_count)
        if pg_count:
            self.report.add("pg_tags_removed", pg_count)
        self.count_removed(layout.codes[edited[kinds == DROP]], self.removed_by_tag, "aux_tags_removed")
        self.count_removed(layout.codes[edited[kinds == DROP_VALUE]], self.removed_by_value, "aux_values_removed")
        self.count_removed(layout.codes[edited[kinds == DROP_REPEAT]], self.removed_by_repeat, "aux_repeats_removed")
        return BlockEdits(starts, ends, pieces, choices)

    def count_removed(self, codes: np.ndarray, by_tag: Counter[str], total: str) -> None:
        if not len(codes):
            return
        unique, counts = np.unique(codes, return_counts=True)
        for code, count in zip(unique.tolist(), counts.tolist(), strict=True):
            by_tag[tag_name(code)] += count
        self.report.add(total, len(codes))

    def scrub_by_field(self, chunk: bytes, first_line: int) -> bytes:
        """The exact path, one record at a time: the reference the fast path must equal."""
        if not chunk:
            return chunk
        lines = chunk[:-1].split(b"\n")
        rg_count = pg_count = 0
        dropped: Counter[str] = Counter()
        invalid: Counter[str] = Counter()
        repeats: Counter[str] = Counter()
        for index, line in enumerate(lines):
            fields = line.split(b"\t")
            if len(fields) < 11:
                raise InputError("record has fewer than the 11 mandatory SAM columns", self.path, first_line + index)
            mate_cleared = self.places.mate_past_contig(fields)
            if mate_cleared:  # the mate's place, unavailable (SAM 1.4): PNEXT held no place, and MC is read from it
                fields[6:9] = [b"*", b"0", b"0"]
                self.report.add("mate_places_cleared")
                lines[index] = b"\t".join(fields)
            if len(fields) == 11:
                continue
            if not all(TAG_FIELD.match(tag) for tag in fields[11:]):
                raise InputError("optional field is not TAG:TYPE:VALUE", self.path, first_line + index)
            tags, repeated = without_repeats(fields[11:])
            repeats.update(map(report_name, repeated))
            kept: list[bytes | None] = list(fields[:11])
            values: list[tuple[bytes, bytes, bytes]] = []
            places: list[int] = []
            for tag in tags:
                name, tag_type = tag[:2], tag[3:4]  # TAG_FIELD: two bytes, a colon, the type
                status = self.policy.decide(name, tag_type)
                if status == KEEP and mate_cleared and name == b"MC":
                    invalid[report_name(name)] += 1
                elif status == KEEP:
                    values.append((name, tag_type, tag[5:]))
                    places.append(len(kept))
                    kept.append(tag)
                elif status == REWRITE_RG:
                    new = self.read_groups.get(tag[5:])
                    if new is None:
                        raise InputError("RG:Z names a read group with no @RG header line", self.path, first_line + index)
                    kept.append(b"RG:Z:" + new)
                    rg_count += 1
                elif status == REMOVE_PG:
                    pg_count += 1
                else:
                    dropped[report_name(name)] += 1
            if values:
                verdicts = self.policy.valid_record_values(values, fields[9], fields[5], self.value_references, fields)
                for place, (tag_name_bytes, _, _), verdict in zip(places, values, verdicts, strict=True):
                    if not verdict:
                        kept[place] = None
                        invalid[report_name(tag_name_bytes)] += 1
            lines[index] = b"\t".join(field for field in kept if field is not None)
        self.removed_by_tag.update(dropped)
        self.removed_by_value.update(invalid)
        self.removed_by_repeat.update(repeats)
        counts = (("rg_tags_rewritten", rg_count), ("pg_tags_removed", pg_count), ("aux_tags_removed", sum(dropped.values())),
                  ("aux_values_removed", sum(invalid.values())), ("aux_repeats_removed", sum(repeats.values())))  # fmt: skip
        for key, count in counts:
            if count:
                self.report.add(key, count)
        lines.append(b"")
        return b"\n".join(lines)


# --- read names --------------------------------------------------------------


class ReadNamer:
    """QNAME -> pseudonym; every record of a template gets the same one.

    With a key (or map) the name is a function of QNAME alone: both mates,
    secondary and supplementary records, and the same read in its FASTQ
    (fastq-scrub-names hashes the same template name) agree, in any order,
    with no table. ``*`` and empty names stay: they hold nothing to hide.
    """

    reads_tags = False
    """Whether a record's new name depends on its scrubbed tags (then it is renamed after them)."""

    def __init__(self, pseudonyms: Pseudonyms, path: str, report: Report) -> None:
        self.pseudonyms = pseudonyms
        self.path = path
        self.report = report

    def rename(self, chunk: bytes, first_line: int) -> bytes:
        """``chunk`` with each QNAME replaced (the one-record path: names found by a regex)."""
        parts = QNAME.split(chunk)
        del parts[-2:]  # the empty match after the last newline
        names = parts[1::2]
        renamed = self.renamed(names, first_line)
        parts[1::2] = map(renamed.get, names, names)
        self.report.add("names_replaced", len(names))
        return b"".join(parts)

    def new_names(self, chunk: bytes, starts: np.ndarray, ends: np.ndarray, first_line: int) -> list[bytes]:
        """The new QNAME of each line, given where each line's QNAME is (the block path)."""
        names = scan.span_list(chunk, starts, ends)
        renamed = self.renamed(names, first_line)
        self.report.add("names_replaced", len(names))
        return list(map(renamed.get, names, names))

    def renamed(self, names: list[bytes], first_line: int) -> dict[bytes, bytes]:
        """Each distinct name of a block (but ``*`` and empty ones) -> its pseudonym,
        hashed once however many mates share it, in order of first appearance."""
        unique = dict.fromkeys(names)
        for unnamed in UNNAMED:
            unique.pop(unnamed, None)
        originals = list(unique)
        try:
            return dict(zip(originals, self.pseudonyms.read_names(originals), strict=True))
        except KeyError:
            raise self.missing_from_map(names, first_line) from None

    def missing_from_map(self, names: list[bytes], first_line: int) -> InputError:
        table = self.pseudonyms.table or {}
        index = next((i for i, name in enumerate(names) if name not in UNNAMED and name.decode(errors="replace") not in table), 0)
        return InputError("read name not in the map (give --key-file to hash names the map lacks)", self.path, first_line + index)


class CountingReadNamer(ReadNamer):
    """``READ1``, ``READ2``... in order of appearance: needs a table of open templates.

    Mates in a coordinate-sorted file can be far apart, so a template's name is
    kept until all its primary records (two if FLAG 0x1, else one) and the
    supplementary records its primaries list in ``SA:Z`` have been seen, then
    forgotten. What stays in the table: templates whose mate is absent from the
    input, and nothing else; a secondary record (0x100) that comes after all of
    its template's primary and supplementary records gets a new number.
    """

    reads_tags = True  # the SA:Z tags kept

    def __init__(self, pseudonyms: Pseudonyms, path: str, report: Report) -> None:
        super().__init__(pseudonyms, path, report)
        self.open_templates: dict[bytes, OpenTemplate] = {}
        self.peak_open = 0

    def rename(self, chunk: bytes, first_line: int) -> bytes:
        lines = chunk[:-1].split(b"\n")
        for index, line in enumerate(lines):
            name, _, rest = line.partition(b"\t")
            if name in UNNAMED:
                continue
            lines[index] = self.name_for(name, rest, first_line + index) + b"\t" + rest
        self.report.add("names_replaced", len(lines))
        self.peak_open = max(self.peak_open, len(self.open_templates))
        self.report.notes["open_templates_peak"] = self.peak_open
        self.report.notes["open_templates_at_end"] = len(self.open_templates)
        lines.append(b"")
        return b"\n".join(lines)

    def name_for(self, name: bytes, rest: bytes, line_number: int) -> bytes:
        flag_text = rest[: rest.find(b"\t")]
        if not flag_text.isdigit():
            raise InputError("FLAG is not a number", self.path, line_number)
        flag = int(flag_text)
        template = self.open_templates.get(name)
        if template is None:
            template = OpenTemplate(self.pseudonyms.read_name(name), 2 if flag & FLAG_PAIRED else 1)
        if flag & FLAG_SUPPLEMENTARY:
            template.supplementaries_left -= 1
        elif not flag & FLAG_SECONDARY:
            template.primaries_left -= 1
            template.supplementaries_left += supplementary_count(rest)
        if template.primaries_left <= 0 and template.supplementaries_left <= 0:
            self.open_templates.pop(name, None)
        else:
            self.open_templates[name] = template
        return template.pseudonym


class OpenTemplate:
    """A template's counter name and the records of it still to come."""

    __slots__ = ("pseudonym", "primaries_left", "supplementaries_left")

    def __init__(self, pseudonym: bytes, primaries: int) -> None:
        self.pseudonym = pseudonym
        self.primaries_left = primaries
        self.supplementaries_left = 0


def supplementary_count(rest: bytes) -> int:
    """How many other alignments a primary record lists in ``SA:Z`` (entries end in ``;``).

    ``rest`` is the record after QNAME; the tag is looked for from column 12 on,
    never in QUAL.
    """
    if b"\tSA:Z:" not in rest:
        return 0
    columns = rest.split(b"\t", 10)
    if len(columns) < 11:
        return 0
    for tag in columns[10].split(b"\t"):
        if tag.startswith(b"SA:Z:"):
            value = tag[5:]
            return value.count(b";") + (0 if value.endswith(b";") or not value else 1)
    return 0


# --- command -----------------------------------------------------------------


def check_platform_unit(value: str) -> str:
    if not PLATFORM_UNIT.fullmatch(value):  # the audit's grammar of an ID (audit_allowlist.TOKEN)
        raise UsageError("--platform-unit must be letters, digits and _ . : - (no blank), starting with a letter or digit")
    if personal_reference_name(value.encode()):  # written into every @RG: the audit would find it in each delivery
        raise UsageError("--platform-unit holds a path, an address or personal data (a date, a registration or phone number)")
    return value


@app.command(
    help=(
        "De-identify SAM/BAM/CRAM headers, read groups, record tags and read names; the 11 mandatory record fields pass"
        " unchanged, but for a PNEXT past its contig, whose mate's place is made unavailable."
    )
)
def main(
    input: InputArgument = "-",
    output: OutputOption = None,
    output_format: Annotated[
        OutputFormat, typer.Option("-O", "--output-fmt", help="Output format: SAM text, or BAM/CRAM encoded by htslib.")
    ] = OutputFormat.sam,
    reference: Annotated[
        Optional[Path],
        typer.Option(
            "-T",
            "--reference",
            metavar="FASTA",
            help="Reference for CRAM input or output; an @SQ M5 is kept only where it is the MD5 of that sequence in it.",
        ),
    ] = None,
    dictionary: Annotated[
        Optional[Path],
        typer.Option(
            "--dict",
            metavar="DICT",
            help="Sequence dictionary (samtools dict): an @SQ M5 is kept only where it is the dictionary's for its SN "
            "(instead of hashing --reference).",
        ),
    ] = None,
    names: Annotated[
        bool, typer.Option("--names", help="Replace read names too: keyed hashes with --key-file, else READ1, READ2...")
    ] = False,
    platform_unit: Annotated[
        str, typer.Option("--platform-unit", metavar="TEXT", help="Value for @RG PU (the guideline's NGS).")
    ] = DEFAULT_PLATFORM_UNIT,
    keep_tags: Annotated[
        Optional[list[str]],
        typer.Option(
            "--keep-tag",
            metavar="TAG",
            help="Keep this record tag too, any type, its value checked only against its type's SAM grammar; may be repeated.",
        ),
    ] = None,
    drop_tags: Annotated[
        Optional[list[str]],
        typer.Option("--drop-tag", metavar="TAG", help="Drop this record tag although the allowlist keeps it; may be repeated."),
    ] = None,
    only_tags: Annotated[
        Optional[str],
        typer.Option(
            "--only-tags",
            metavar="TAGS",
            help="Keep only these record tags (comma-separated, such as RG,MD,NM) of those the allowlist, --keep-tag and "
            "--drop-tag keep; the others are removed and counted as tags off the allowlist.",
        ),
    ] = None,
    map_path: MapOption = None,
    key_file: KeyFileOption = None,
    map_out: MapOutOption = None,
    map_out_read_names: Annotated[
        bool,
        typer.Option(
            "--map-out-read-names/--no-map-out-read-names",
            help="With --names, write read names to --map-out too (the default); --no-map-out-read-names writes the "
            "header's IDs only: keyed read names can be computed again from the key and the original file.",
        ),
    ] = True,
    report_path: ReportOption = None,
    quiet: QuietOption = False,
) -> None:
    def job(report: Report) -> None:
        stage = scrub_stage(
            report,
            input,
            names=names,
            platform_unit=platform_unit,
            keep_tags=keep_tags,
            drop_tags=drop_tags,
            only_tags=only_tags,
            map_path=map_path,
            key_file=key_file,
            map_out=map_out,
            map_out_read_names=map_out_read_names,
            reference=reference,
            dictionary=dictionary,
        )
        fasta = str(reference) if reference else None
        keep_freed_chunks_in_the_heap()
        enlarge_pipe(0)
        enlarge_pipe(1)
        try:
            source = open_alignment_text(input, fasta)
            sink = AlignmentOutput(output, output_format.value, fasta)
            writer = BackgroundWriter(sink)
            try:
                for chunk in stage.transform(whole_line_blocks(background_reads(source), input)):
                    writer.write(chunk)
                writer.close()
                sink.close()  # the encoder's failure too leaves no -o file behind (abort below)
            except BaseException:
                writer.abort()
                sink.abort()
                raise
            finally:
                workers.close(source)
        finally:
            stage.close()

    run(COMMAND, job, Path(report_path) if report_path else None, quiet)


if __name__ == "__main__":
    app()
