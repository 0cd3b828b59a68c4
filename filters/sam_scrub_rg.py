"""sam-scrub-rg: identifier-free SAM/BAM headers, read groups and read names.

The guideline (Fig. 4B) replaces the sample ``HD753_S1`` by ``CMT001_00`` and
``PU:MISEQ`` by ``PU:NGS``, and removes patient and specimen data from ``@RG``
and programs and paths from ``@PG`` (DESIGN.md, *sam-scrub-rg*):

- ``@RG``: ID, SM, LB become pseudonyms of the shared scheme (so SM here equals
  the VCF sample name vcf-scrub-header gives with the same map or key); PU
  becomes ``NGS``; PL is kept; every other tag goes;
- ``@PG`` and ``@CO`` lines go and one ``@PG ID:sam-scrub-rg`` without a
  command line is added; ``@SQ`` keeps SN LN M5 AS SP TP AH AN; ``@HD`` keeps
  VN SO GO SS; unknown record types and unknown tags go (fail closed);
- records: ``RG:Z`` follows the new IDs, ``PG:Z`` goes, and with ``--names``
  QNAME becomes a pseudonym. Everything else passes as the same bytes.

Records are not parsed one by one where the block allows otherwise: a 1 MiB
block of whole lines is rewritten with ``bytes.replace``, one pass per read
group and program seen (patterns end in a tab or newline, so ``rg1`` never
matches ``rg10``), and the replaces must account for every ``G:Z:`` in the
block; any doubt sends the block through the exact, field-by-field path
(STYLE.md, *Code*). Reading and writing run on their own threads, so the
decoder upstream and the encoder downstream never wait for this process's CPU.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from genoscrub import __version__
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
from genoscrub.pseudonyms import Pseudonyms
from genoscrub.report import InputError, Report, UsageError
from genoscrub.streams import (
    AlignmentOutput,
    BackgroundWriter,
    background_reads,
    enlarge_pipe,
    keep_freed_chunks_in_the_heap,
    open_alignment_text,
    whole_line_blocks,
    workers,
)

COMMAND = "sam-scrub-rg"
DEFAULT_PLATFORM_UNIT = "NGS"

# Tags kept per header record type (SAM spec 1.6, section 1.3); all others go.
KEPT_TAGS: dict[bytes, frozenset[bytes]] = {
    b"HD": frozenset({b"VN", b"SO", b"GO", b"SS"}),
    b"SQ": frozenset({b"SN", b"LN", b"M5", b"AS", b"SP", b"TP", b"AH", b"AN"}),
    b"RG": frozenset({b"ID", b"SM", b"LB", b"PU", b"PL"}),
}
PSEUDONYMIZED_RG_TAGS = (b"ID", b"SM", b"LB")
REQUIRED_TAGS: dict[bytes, tuple[bytes, ...]] = {b"SQ": (b"SN", b"LN"), b"RG": (b"ID",)}
HEADER_TYPE = re.compile(rb"@[A-Za-z][A-Za-z](?:\t|$)")
HEADER_FIELD = re.compile(rb"[A-Za-z][A-Za-z0-9]:[^\t]+")
# An @SQ name that looks like an aux tag could be mistaken for one by the block
# rewrite (RNAME and RNEXT follow a tab); such files take the exact path.
TAG_LIKE = re.compile(rb"[A-Za-z][A-Za-z0-9]:[AifZHB]:")
LINE_STARTING_WITH_AT = re.compile(rb"\n@")  # sre finds this 2-byte needle faster than bytes.find
PROGRAM_ID = re.compile(rb"\tID:([^\t]+)")
RG_TAG = re.compile(rb"\tRG:Z:([^\t\n]*)")
QNAME = re.compile(rb"(?m)^([^\t\n]*)")
CHUNK_SIZE = 1 << 20
FEW_READ_GROUPS = 16  # up to this many, one bytes.replace per read group beats a regex callback
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


def scrub_stream(
    chunks: Iterable[tuple[int, int, bytes]], header: HeaderScrubber, records: RecordScrubber
) -> Iterator[bytes]:
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


# --- header ------------------------------------------------------------------


class HeaderScrubber:
    """Header lines in, the allowlisted and pseudonymized header out.

    Keeps ``read_groups`` (old ID -> new ID, as bytes) for the records, and
    notes whether an @SQ name looks like an aux tag (see TAG_LIKE).
    """

    def __init__(self, pseudonyms: Pseudonyms, platform_unit: str, path: str, report: Report) -> None:
        self.pseudonyms = pseudonyms
        self.platform_unit = platform_unit.encode()
        self.path = path
        self.report = report
        self.read_groups: dict[bytes, bytes] = {}
        self.programs: list[bytes] = []
        self.tag_like_reference_names = False

    def scrub(self, lines: list[bytes]) -> bytes:
        """The new header as one chunk, ending with genoscrub's own @PG line."""
        kept = [new for number, line in enumerate(lines, start=1) if (new := self.scrub_line(line, number)) is not None]
        kept.append(b"@PG\tID:%s\tPN:genoscrub\tVN:%s" % (COMMAND.encode(), __version__.encode()))
        self.report.add("header_lines", len(lines))
        self.report.add("read_groups", len(self.read_groups))
        return b"\n".join(kept) + b"\n"

    def scrub_line(self, line: bytes, number: int) -> bytes | None:
        """One header line scrubbed, or None when the whole line goes."""
        if not HEADER_TYPE.match(line):
            raise InputError("malformed header line (expected @ and a two-letter record type)", self.path, number)
        record_type = line[1:3]
        kept_tags = KEPT_TAGS.get(record_type)
        if kept_tags is None:
            if record_type == b"PG":
                self.programs.extend(PROGRAM_ID.findall(line))
            kind = {b"PG": "pg", b"CO": "co"}.get(record_type, "unknown")
            self.report.add(f"{kind}_header_lines_removed")
            return None
        fields = self.parse_fields(line, number)
        kept = [(tag, value) for tag, value in fields if tag in kept_tags]
        if len(kept) < len(fields):
            self.report.add("header_tags_removed", len(fields) - len(kept))
        if record_type == b"RG":
            kept = self.scrub_read_group(kept, number)
        elif record_type == b"SQ":
            name = dict(kept)[b"SN"]
            self.tag_like_reference_names |= TAG_LIKE.match(name) is not None
        return b"\t".join([line[:3], *(tag + b":" + value for tag, value in kept)])

    def parse_fields(self, line: bytes, number: int) -> list[tuple[bytes, bytes]]:
        """``[(tag, value)]`` of an @HD/@SQ/@RG line; malformed, repeated or missing tags are errors."""
        fields = line.split(b"\t")[1:]
        if not fields or not all(HEADER_FIELD.fullmatch(field) for field in fields):
            raise InputError("malformed header line (expected TAG:VALUE fields)", self.path, number)
        pairs = [(field[:2], field[3:]) for field in fields]
        tags = [tag for tag, _ in pairs]
        if len(set(tags)) < len(tags):
            raise InputError("header line gives a tag twice", self.path, number)
        for required in REQUIRED_TAGS.get(line[1:3], ()):
            if required not in tags:
                raise InputError(f"@{line[1:3].decode()} line without {required.decode()}", self.path, number)
        return pairs

    def scrub_read_group(self, fields: list[tuple[bytes, bytes]], number: int) -> list[tuple[bytes, bytes]]:
        """ID, SM, LB -> pseudonyms; PU -> the platform unit; record the ID mapping."""
        scrubbed = []
        for tag, value in fields:
            if tag in PSEUDONYMIZED_RG_TAGS:
                value = self.pseudonym(tag, value, number)
            elif tag == b"PU":
                value = self.platform_unit
            scrubbed.append((tag, value))
        original_id = dict(fields)[b"ID"]
        if original_id in self.read_groups:
            raise InputError("@RG ID given twice", self.path, number)
        self.read_groups[original_id] = dict(scrubbed)[b"ID"]
        return scrubbed

    def pseudonym(self, tag: bytes, value: bytes, number: int) -> bytes:
        try:
            original = value.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"@RG {tag.decode()} is not UTF-8 text", self.path, number) from None
        try:
            return self.pseudonyms.for_id(original).encode()
        except KeyError:
            message = f"@RG {tag.decode()} not in the map (give --key-file to hash IDs the map lacks)"
            raise InputError(message, self.path, number) from None


# --- records -----------------------------------------------------------------


class RecordScrubber:
    """Record chunks in, chunks with RG:Z rewritten, PG:Z removed (and names replaced) out."""

    def __init__(self, names: ReadNamer | None, path: str, report: Report) -> None:
        self.names = names
        self.path = path
        self.report = report
        self.read_groups: dict[bytes, bytes] = {}
        self.rg_replacements: list[tuple[bytes, bytes]] = []
        self.pg_removals: list[tuple[bytes, bytes]] = []
        self.tag_operations: list[tuple[bytes, bytes]] = []
        self.exact_only = False

    def use_header(self, header: HeaderScrubber) -> None:
        """Take the read-group mapping and program IDs; decide whether the block rewrite is safe."""
        self.read_groups = header.read_groups
        self.rg_replacements = [
            (b"\tRG:Z:%s%s" % (old, end), b"\tRG:Z:%s%s" % (new, end))
            for end in (b"\t", b"\n")
            for old, new in self.read_groups.items()
        ]
        self.pg_removals = [(b"\tPG:Z:%s%s" % (program, end), end) for end in (b"\t", b"\n") for program in header.programs]
        self.tag_operations = self.pg_removals + self.rg_replacements
        chained = not set(self.read_groups.values()).isdisjoint(self.read_groups)
        self.exact_only = header.tag_like_reference_names or chained

    def scrub(self, chunk: bytes, first_line: int, count: int) -> bytes:
        self.refuse_header_lines(chunk, first_line)
        self.report.add("records", count)
        scrubbed = None if self.exact_only else self.scrub_tags_in_block(chunk)
        if scrubbed is None:
            self.report.notes["chunks_checked_field_by_field"] = self.report.notes.get("chunks_checked_field_by_field", 0) + 1
            scrubbed = self.scrub_tags_by_field(chunk, first_line)
        if self.names is not None:
            scrubbed = self.names.rename(scrubbed, first_line)
        return scrubbed

    def refuse_header_lines(self, chunk: bytes, first_line: int) -> None:
        """A header line after the first record is an error (SAM spec 1.3: the header comes first).

        QNAME cannot start with ``@``; QUAL often holds one, so the cheap test
        for any ``@`` comes first.
        """
        if chunk.startswith(b"@"):
            raise InputError("header line after the first record", self.path, first_line)
        found = LINE_STARTING_WITH_AT.search(chunk) if b"@" in chunk else None
        if found:
            line = first_line + chunk.count(b"\n", 0, found.start()) + 1
            raise InputError("header line after the first record", self.path, line)

    def scrub_tags_in_block(self, chunk: bytes) -> bytes | None:
        """The fast path: whole-block replaces; None unless every tag is accounted for.

        Every RG:Z and PG:Z tag holds ``G:Z:``; the block is done when the
        replaces have consumed as many tags as the block holds ``G:Z:``. Each
        replace consumes one tag of the input (a new ID is never an old one,
        see ``use_header``), so equal counts mean none was missed.
        """
        if len(self.read_groups) > FEW_READ_GROUPS:
            return self.scrub_tags_with_regex(chunk)
        total = chunk.count(b"G:Z:")
        if not total:
            return chunk
        chunk, found = replace_until(chunk, self.tag_operations, total)
        if sum(found.values()) != total:
            return None
        self.report.add("pg_tags_removed", found[b"PG"])
        self.report.add("rg_tags_rewritten", found[b"RG"])
        return chunk

    def scrub_tags_with_regex(self, chunk: bytes) -> bytes | None:
        """Many read groups: one regex pass with a table beats one replace per group."""
        total = chunk.count(b"PG:Z:")
        if total:
            chunk, found = replace_until(chunk, self.pg_removals, total)
            if found[b"PG"] != total:
                return None
            self.report.add("pg_tags_removed", total)
        total = chunk.count(b"RG:Z:")
        if not total:
            return chunk
        try:
            chunk, rewritten = RG_TAG.subn(self._rewrite_rg_tag, chunk)
        except KeyError:
            return None
        if rewritten != total:
            return None
        self.report.add("rg_tags_rewritten", rewritten)
        return chunk

    def _rewrite_rg_tag(self, match: re.Match[bytes]) -> bytes:
        return b"\tRG:Z:" + self.read_groups[match.group(1)]

    def learn_programs(self, programs: Iterable[bytes]) -> None:
        """PG:Z values with no @PG line: removed by the fast path from the next chunk on."""
        for program in programs:
            for end in (b"\t", b"\n"):
                removal = (b"\tPG:Z:%s%s" % (program, end), end)
                if removal not in self.pg_removals:
                    self.pg_removals.append(removal)
                    self.tag_operations.append(removal)

    def scrub_tags_by_field(self, chunk: bytes, first_line: int) -> bytes:
        """The exact path: aux fields (12 on) of each line, one by one; reports unknown read groups."""
        if not chunk:
            return chunk
        lines = chunk[:-1].split(b"\n")
        for index, line in enumerate(lines):
            if b"G:Z:" not in line:
                continue
            fields = line.split(b"\t")
            if len(fields) < 11:  # a tag in a short line is in no column we scrub: fail closed
                raise InputError("record has fewer than the 11 mandatory SAM columns", self.path, first_line + index)
            tags = fields[11:]
            kept = [tag for tag in tags if not tag.startswith(b"PG:Z:")]
            if len(kept) < len(tags):
                self.report.add("pg_tags_removed", len(tags) - len(kept))
                self.learn_programs(tag[5:] for tag in tags if tag.startswith(b"PG:Z:"))
            for position, tag in enumerate(kept):
                if tag.startswith(b"RG:Z:"):
                    new = self.read_groups.get(tag[5:])
                    if new is None:
                        raise InputError("RG:Z names a read group with no @RG header line", self.path, first_line + index)
                    kept[position] = b"RG:Z:" + new
                    self.report.add("rg_tags_rewritten")
            lines[index] = b"\t".join(fields[:11] + kept)
        lines.append(b"")
        return b"\n".join(lines)


def replace_until(chunk: bytes, replacements: list[tuple[bytes, bytes]], total: int) -> tuple[bytes, Counter[bytes]]:
    """Apply ``replacements`` in turn until ``total`` matches are replaced.

    Returns the chunk and the matches per tag (``RG``, ``PG``: bytes 1-2 of a
    pattern). The count comes from the change in length where it differs (no
    second scan); the pairs that matched move to the front, so in a file whose
    tags look alike from record to record the first passes usually do it.
    """
    found: Counter[bytes] = Counter()
    replaced = 0
    hits = []
    for old, new in replacements:
        if len(old) != len(new):
            before = len(chunk)
            chunk = chunk.replace(old, new)
            matches = (before - len(chunk)) // (len(old) - len(new))
        else:
            matches = chunk.count(old)
            if matches:
                chunk = chunk.replace(old, new)
        if matches:
            found[old[1:3]] += matches
            replaced += matches
            hits.append((old, new))
            if replaced >= total:
                break
    replacements[:] = hits + [pair for pair in replacements if pair not in hits]
    return chunk, found


# --- read names --------------------------------------------------------------


class ReadNamer:
    """QNAME -> pseudonym; every record of a template gets the same one.

    With a key (or map) the name is a function of QNAME alone: both mates,
    secondary and supplementary records, and the same read in its FASTQ
    (fastq-scrub-names hashes the same template name) agree, in any order,
    with no table. ``*`` and empty names stay: they hold nothing to hide.
    """

    def __init__(self, pseudonyms: Pseudonyms, path: str, report: Report) -> None:
        self.pseudonyms = pseudonyms
        self.path = path
        self.report = report

    def rename(self, chunk: bytes, first_line: int) -> bytes:
        parts = QNAME.split(chunk)
        del parts[-2:]  # the empty match after the last newline
        names = parts[1::2]
        unique = dict.fromkeys(names)  # mates in one chunk are hashed once
        for unnamed in UNNAMED:
            unique.pop(unnamed, None)
        originals = list(unique)
        try:
            renamed = dict(zip(originals, self.pseudonyms.read_names(originals), strict=True))
        except KeyError:
            raise self.missing_from_map(names, first_line) from None
        parts[1::2] = map(renamed.get, names, names)
        self.report.add("names_replaced", len(names))
        return b"".join(parts)

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
    """How many other alignments a primary record lists in ``SA:Z`` (entries end in ``;``)."""
    start = rest.find(b"\tSA:Z:")
    if start < 0:
        return 0
    end = rest.find(b"\t", start + 1)
    value = rest[start + 6 : end if end >= 0 else len(rest)]
    return value.count(b";") + (0 if value.endswith(b";") or not value else 1)


# --- command -----------------------------------------------------------------


def check_platform_unit(value: str) -> str:
    if not value or not all(" " <= c <= "~" for c in value):
        raise UsageError("--platform-unit must be printable ASCII without tabs")
    return value


@app.command(
    help="De-identify SAM/BAM headers, read groups and read names; all other record fields pass unchanged."
)
def main(
    input: InputArgument = "-",
    output: OutputOption = None,
    output_format: Annotated[
        OutputFormat, typer.Option("-O", "--output-fmt", help="Output format: SAM text, or BAM/CRAM encoded by htslib.")
    ] = OutputFormat.sam,
    reference: Annotated[
        Optional[Path], typer.Option("-T", "--reference", metavar="FASTA", help="Reference for CRAM input or output.")
    ] = None,
    names: Annotated[
        bool, typer.Option("--names", help="Replace read names too: keyed hashes with --key-file, else READ1, READ2...")
    ] = False,
    platform_unit: Annotated[
        str, typer.Option("--platform-unit", metavar="TEXT", help="Value for @RG PU (the guideline's NGS).")
    ] = DEFAULT_PLATFORM_UNIT,
    map_path: MapOption = None,
    key_file: KeyFileOption = None,
    map_out: MapOutOption = None,
    report_path: ReportOption = None,
    quiet: QuietOption = False,
) -> None:
    def job(report: Report) -> None:
        check_platform_unit(platform_unit)
        pseudonyms = open_pseudonyms(map_path, key_file, map_out)
        report.notes["scheme"] = pseudonyms.scheme
        namer: ReadNamer | None = None
        if names:
            counting = pseudonyms.table is None and pseudonyms.scheme == "counter"
            namer = (CountingReadNamer if counting else ReadNamer)(pseudonyms, input, report)
        header = HeaderScrubber(pseudonyms, platform_unit, input, report)
        records = RecordScrubber(namer, input, report)
        fasta = str(reference) if reference else None
        keep_freed_chunks_in_the_heap()
        enlarge_pipe(0)
        enlarge_pipe(1)
        try:
            source = open_alignment_text(input, fasta)
            sink = AlignmentOutput(output, output_format.value, fasta)
            writer = BackgroundWriter(sink)
            try:
                chunks = whole_line_blocks(background_reads(source), input)
                for chunk in scrub_stream(chunks, header, records):
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
            pseudonyms.close()

    run(COMMAND, job, Path(report_path) if report_path else None, quiet)


if __name__ == "__main__":
    app()
