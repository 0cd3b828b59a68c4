"""vcf-scrub-header: pseudonymize a VCF's sample columns and strip its header to an allowlist.

A VCF header names people (``##SAMPLE``, ``##PEDIGREE``, sample columns such as
``S2301217N_20231029``), places and machines (``##reference=file:///data/...``,
contig URLs), dates (``##fileDate``) and whole command lines with patient paths
(``##GATKCommandLine``, ``##bcftools_callCommand``). The guideline (Park et al.
2024, Fig. 4A) replaces sample IDs by pseudonyms (``CMN001_00``) and deletes the
rest. This command fails closed (DESIGN.md, *vcf-scrub-header*): a header line
is kept only when its key is on the allowlist, and what is kept is scrubbed of
sample names, their stems and directory paths.

Records pass as the same bytes except the ID column, where only public database
IDs (``rs...``, ``COSV...``, ``COSM...``) survive. A 4 MiB block is never split
into lines: numpy locates the ID spans, decides ``.`` and ``rs`` IDs for the whole
block at once, and only other IDs reach Python (``IdScrubber.scrub``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer
from genoscrub import __version__, scan
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
from genoscrub.report import InputError, Report
from genoscrub.vcf import (
    DIGITS,
    STRUCTURED_FIELD,
    RecordBlock,
    TextBlocks,
    VcfHeader,
    VcfOutput,
    joined,
    meta_key,
    meta_value,
    opened_input,
    spans_within,
    split_header_text,
    structured_fields,
    text_blocks,
)

COMMAND = "vcf-scrub-header"
# Keys kept as they are (names and paths in their values still scrubbed); contig and
# reference are rebuilt (DESIGN.md, *vcf-scrub-header*).
KEPT_KEYS = frozenset({b"fileformat", b"INFO", b"FORMAT", b"FILTER", b"ALT"})
CONTIG_FIELDS = (b"ID", b"length", b"assembly")
PUBLIC_ID = re.compile(rb"(?:rs|COSV|COSM)[0-9]+")
# An ID column that stays as it is: "." or a list of public IDs.
KEPT_ID_COLUMN = re.compile(rb"\.|(?:(?:rs|COSV|COSM)[0-9]+;)*(?:rs|COSV|COSM)[0-9]+")
# Directories of an absolute path or file URL inside a kept value: only the base name stays.
DIRECTORIES = re.compile(rb'(?<![\w.~-])(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:/[^/\s",;<>=]+)+/')
STEM_SEPARATORS = re.compile(rb"[_.]")
MIN_STEM_LENGTH = 5

app = make_app()


def sample_stem(name: bytes) -> bytes | None:
    """``S2301217N`` of ``S2301217N_20231029``: the part a lab also writes alone.

    Only stems long enough and with a digit count, so a sample ``tumour_1``
    does not turn every "tumour" in a description into a pseudonym.
    """
    stem = STEM_SEPARATORS.split(name, 1)[0]
    if stem == name or len(stem) < MIN_STEM_LENGTH or not any(c in b"0123456789" for c in stem):
        return None
    return stem


class NameScrubber:
    """Replace sample names (and their stems, and every original of a ``--map``) in header text.

    Names are replaced as whole tokens (not inside a longer word or number), and only
    in values: never in the key, nor in the ID, Number or Type of an INFO, FORMAT,
    FILTER or ALT line (records refer to those IDs), so a sample called ``A`` or ``DP``
    cannot rename ``##FORMAT`` or ``INFO/DP``. In other kept lines (``--keep SAMPLE``)
    the ID is a sample name like any other.
    """

    PROTECTED_FIELDS = frozenset({b"ID", b"Number", b"Type"})

    def __init__(self, replacements: dict[bytes, bytes]) -> None:
        self.replacements = replacements
        names = sorted(replacements, key=len, reverse=True)
        alternatives = b"|".join(map(re.escape, names))
        self.pattern = re.compile(rb"(?<![A-Za-z0-9])(?:" + alternatives + rb")(?![A-Za-z0-9])") if names else None

    def scrub(self, text: bytes) -> bytes:
        """Directories and names out of one value."""
        text = DIRECTORIES.sub(b"", text)
        if self.pattern is None:
            return text
        return self.pattern.sub(lambda match: self.replacements[match.group(0)], text)

    def scrub_line(self, line: bytes) -> bytes:
        """A ``##key=value`` line with its value (or each unprotected field of ``<...>``) scrubbed."""
        key_end = line.find(b"=") + 1
        if key_end == 0:
            return line
        value = line[key_end:]
        if not (value.startswith(b"<") and value.endswith(b">")):
            return line[:key_end] + self.scrub(value)
        protected = self.PROTECTED_FIELDS if line[2 : key_end - 1] in KEPT_KEYS else frozenset()
        pieces, last = [line[: key_end + 1]], key_end + 1
        for field in STRUCTURED_FIELD.finditer(line, key_end + 1, len(line) - 1):
            pieces.append(line[last : field.start(2)])
            value_text = field.group(2)
            pieces.append(value_text if field.group(1) in protected else self.scrub(value_text))
            last = field.end(2)
        pieces.append(line[last:])
        return b"".join(pieces)


def name_replacements(samples: list[bytes], pseudonyms: list[bytes], table: dict[str, str] | None) -> dict[bytes, bytes]:
    """Original -> pseudonym for every name that must not survive in a kept header value."""
    replacements: dict[bytes, bytes] = {}
    for original_text, pseudonym_text in (table or {}).items():
        replacements[original_text.encode()] = pseudonym_text.encode()
    for sample, pseudonym in zip(samples, pseudonyms, strict=True):
        replacements[sample] = pseudonym
        stem = sample_stem(sample)
        if stem is not None:
            replacements.setdefault(stem, pseudonym)
    return replacements


def rename_samples(header: VcfHeader, pseudonyms: Pseudonyms, path: str) -> list[bytes]:
    """Pseudonyms for the sample columns, in order; a name twice or missing from a map is an error."""
    if len(set(header.samples)) != len(header.samples):
        raise InputError("the #CHROM line names a sample twice", path, header.column_line_number)
    renamed = []
    for index, sample in enumerate(header.samples, start=1):
        try:
            renamed.append(pseudonyms.for_id(sample.decode(errors="surrogateescape")).encode())
        except KeyError:
            message = f"sample {index} is not in the map (give --key-file to hash IDs the map lacks)"
            raise InputError(message, path, header.column_line_number) from None
    return renamed


def scrub_contig(value: bytes) -> bytes | None:
    """``<ID=chr1,length=248956422,assembly=GRCh38>``: URL, md5, species and the rest go."""
    fields = dict(structured_fields(value) or [])
    if b"ID" not in fields:
        return None
    kept = [key + b"=" + fields[key] for key in CONTIG_FIELDS if key in fields]
    return b"<" + b",".join(kept) + b">"


def scrub_reference(value: bytes) -> bytes | None:
    """A reference path or URL reduced to its base name (``GRCh38.fa``), or a build name as it is."""
    name = re.split(rb"[/\\]", value.rstrip(b"/\\"))[-1]
    return name or None


def scrub_meta_line(line: bytes, keep: frozenset[bytes], names: NameScrubber) -> bytes | None:
    """The line to write for one ``##`` line, or None to remove it (allowlist, fail closed)."""
    key = meta_key(line)
    if key == b"fileformat":
        return line
    if key == b"contig" and key not in keep:
        contig = scrub_contig(meta_value(line))
        return b"##contig=" + contig if contig else None
    if key == b"reference" and key not in keep:
        reference = scrub_reference(names.scrub(meta_value(line)))
        return b"##reference=" + names.scrub(reference) if reference else None
    if key in KEPT_KEYS or key in keep:
        return names.scrub_line(line)
    return None


def scrub_header(header: VcfHeader, new_samples: list[bytes], keep: frozenset[bytes], names: NameScrubber, report: Report) -> bytes:
    """The whole new header: allowlisted meta lines, the provenance line, renamed columns."""
    lines = []
    for line in header.meta:
        scrubbed = scrub_meta_line(line, keep, names)
        if scrubbed is None:
            report.add("header_lines_removed")
        else:
            lines.append(scrubbed)
    lines.append(f"##genoscrub_{COMMAND}={__version__}".encode())
    lines.append(b"\t".join(header.columns[:9] + new_samples))
    return joined(lines)


class IdScrubber:
    """ID column: public database IDs stay, private ones (``HOSP_VAR_0001``) become ``.``."""

    def __init__(self) -> None:
        self.removed = 0

    @staticmethod
    def public_ids(column: bytes) -> bytes:
        return b";".join(part for part in column.split(b";") if PUBLIC_ID.fullmatch(part)) or b"."

    def new_column(self, column: bytes) -> bytes | None:
        """The ID column to write instead of ``column``, or None to leave it."""
        if b"rs" not in column and b"COS" not in column:  # the common case: nothing public to keep
            return None if column == b"." else b"."
        if KEPT_ID_COLUMN.fullmatch(column):
            return None
        return self.public_ids(column)

    def scrub(self, block: RecordBlock) -> bytes:
        """The block's text with every private ID column rewritten.

        Which IDs stay (``.``, a lone ``rs`` ID) and which become ``.`` (no ``r`` and no
        ``C``, so no public ID inside) is decided for the whole block at once, by numpy
        over the ID spans; only the other IDs reach Python. The text between the
        changed IDs is copied as slices of the block.
        """
        starts, ends = block.column(2)
        data, text = block.data, block.text
        lengths = ends - starts
        last = len(data) - 1
        dot = (lengths == 1) & (data[starts] == DOT)
        dbsnp = (lengths > 2) & (data[starts] == LETTER_R) & (data[np.minimum(starts + 1, last)] == LETTER_S)
        dbsnp[dbsnp] = spans_within(data, text, starts[dbsnp] + 2, ends[dbsnp], DIGITS)
        others = np.flatnonzero(~(dot | dbsnp))
        if not len(others):
            return text
        private = spans_within(data, text, starts[others], ends[others], NO_PUBLIC_ID_LETTER)
        replacements: list[bytes | None] = [b"."] * len(others)
        for index in np.flatnonzero(~private).tolist():
            row = others[index]
            replacements[index] = self.new_column(text[starts[row] : ends[row]])
        if not private.all():
            changed = np.fromiter((r is not None for r in replacements), dtype=bool, count=len(others))
            others = others[changed]
            replacements = [r for r in replacements if r is not None]
        if not len(others):
            return text
        self.removed += len(others)
        if private.all() and scan.native is not None:
            return scan.native.replace_spans(text, starts[others], ends[others], b".")
        segment_starts = [0, *ends[others].tolist()]
        segment_ends = [*starts[others].tolist(), len(text)]
        segments = [text[start:end] for start, end in zip(segment_starts, segment_ends, strict=True)]
        if private.all():
            return b".".join(segments)
        pieces = [piece for pair in zip(segments, replacements, strict=False) for piece in pair]
        pieces.append(segments[-1])
        return b"".join(pieces)  # type: ignore[arg-type]


DOT, LETTER_R, LETTER_S = ord("."), ord("r"), ord("s")
# An ID column with none of these letters holds no rs, COSV or COSM ID.
NO_PUBLIC_ID_LETTER = np.ones(256, dtype=bool)
NO_PUBLIC_ID_LETTER[[ord("r"), ord("C")]] = False


def scrub_records(body: TextBlocks, column_count: int, ids: IdScrubber | None, path: str, report: Report) -> Iterable[bytes]:
    """Yield record text: checked, the same bytes except the ID column."""
    for first_line, text in body:
        block = RecordBlock(first_line, text, path, column_count)
        report.add("records", block.count)
        yield ids.scrub(block) if ids is not None else text


@app.command(
    help="Pseudonymize VCF samples and allowlist the header; private IDs become '.', records otherwise pass unchanged."
)
def main(
    input: InputArgument = "-",
    output: OutputOption = None,
    output_type: Annotated[
        Optional[str],
        typer.Option("-O", "--output-type", metavar="v|z", help="v: VCF text (default); z: bgzipped VCF (BGZF, indexable by tabix)."),
    ] = None,
    map_path: MapOption = None,
    key_file: KeyFileOption = None,
    map_out: MapOutOption = None,
    keep: Annotated[
        Optional[list[str]],
        typer.Option("--keep", metavar="KEY", help="Also keep ##KEY lines (repeatable); sample names and paths in them are still replaced.",
        ),
    ] = None,
    ids: Annotated[
        str,
        typer.Option(
            "--ids", metavar="scrub|keep", help="scrub (default): IDs other than rs, COSV, COSM become '.'; keep: leave the ID column."
        ),
    ] = "scrub",
    report_path: ReportOption = None,
    quiet: QuietOption = False,
) -> None:
    def job(report: Report) -> None:
        if ids not in ("scrub", "keep"):
            from genoscrub.report import UsageError

            raise UsageError("--ids must be scrub or keep")
        kept_keys = frozenset(key.encode() for key in keep or [])
        pseudonyms = open_pseudonyms(map_path, key_file, map_out)
        report.notes["scheme"] = pseudonyms.scheme
        sink = VcfOutput(output, output_type)
        try:
            with opened_input(input) as source:
                header, body = split_header_text(text_blocks(source, input), input)
                new_samples = rename_samples(header, pseudonyms, input)
                report.add("samples_renamed", len(new_samples))
                names = NameScrubber(name_replacements(header.samples, new_samples, pseudonyms.table))
                sink.write(scrub_header(header, new_samples, kept_keys, names, report))
                id_scrubber = IdScrubber() if ids == "scrub" else None
                for chunk in scrub_records(body, len(header.columns), id_scrubber, input, report):
                    sink.write(chunk)
                if id_scrubber is not None:
                    report.add("ids_removed", id_scrubber.removed)
            sink.close()
        except BaseException:
            sink.abort()
            raise
        finally:
            pseudonyms.close()

    run(COMMAND, job, Path(report_path) if report_path else None, quiet)


if __name__ == "__main__":
    app()
