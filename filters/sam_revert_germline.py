"""sam-revert-germline: alignments without germline alleles, still a valid alignment.

The guideline (Fig. 4B of the source paper): "germline mutations were either
replaced with reference sequences or removed if it was challenging to
pseudonymize while ensuring data integrity". Every read base at a germline site
listed in a VCF becomes the reference base; germline indels are reverted by
rewriting SEQ, QUAL and CIGAR; somatic variants (not listed) stay. ``--all``
reverts every difference from the reference (BAMboozle's behaviour);
``--all --keep`` (tumour-only samples) spares the listed somatic alleles,
screened against a population resource.

This module is the options and the wiring. What flows through it:

- the reference (filters/fasta.py), the germline sites (filters/germline_sites.py)
  or the keep list (filters/keep_list.py) are read before the input;
- the input's header is checked against them (same genome, or stop) and the
  reverter built with everything it needs: the site table with windows read from
  the input's own contigs, the keep alleles per input contig;
- blocks of records go through filters/block_reverter.py (bulk), which hands
  what it cannot settle to filters/record_reverter.py (one record at a time), which
  applies the per-read rules of filters/revert.py.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Annotated, Optional

import typer
from genoscrub.alignments import AlignmentOutput, open_alignment_text
from genoscrub.block_reverter import BlockReverter, CoordinateOrder
from genoscrub.cigar import ShapeCache
from genoscrub.cli import OutputOption, QuietOption, ReportOption, make_app, run
from genoscrub.contigs import ContigMap
from genoscrub.fasta import Fasta
from genoscrub.germline_sites import GermlineSites
from genoscrub.keep_list import GERMLINE_AF, KeepList, read_keep_list, screen_keep_list
from genoscrub.one_by_one import one_by_one as one_record_path_forced
from genoscrub.pseudonyms import read_key
from genoscrub.record_reverter import (
    ALL_BELOW_MAPQ,
    DROPPED_ON_LISTED,
    MATE_REMOVED_COUNT,
    SUPPLEMENTARY_REMOVED,
    UNMAPPED_MATE_AT_INSERTION,
    EveryDifference,
    GermlineWindows,
    RecordReverter,
    RevertOptions,
)
from genoscrub.report import InputError, Report, UsageError
from genoscrub.revert import MOVED_TOO_FAR, NO_ALIGNED_BASE, PROCESS_QUALITY_KEY, SKIP_AT_DELETION, ClipRule, quality_draw_key
from genoscrub.sam_columns import ReadPlaces
from genoscrub.sam_header import program_ids, program_line, sequence_dictionary
from genoscrub.sam_stage import SamStage
from genoscrub.streams import BackgroundWriter, background_reads, whole_line_blocks, workers

COMMAND = "sam-revert-germline"
app = make_app()

REMOVALS = (
    NO_ALIGNED_BASE.reason, SKIP_AT_DELETION.reason, MOVED_TOO_FAR.reason, MATE_REMOVED_COUNT, SUPPLEMENTARY_REMOVED,
    "reads_dropped_unknown_contig", DROPPED_ON_LISTED, UNMAPPED_MATE_AT_INSERTION,
)
"""The report's counts of records not written: ``reads_out`` is ``reads_in`` less them (the
workflow checks a gathered BAM's records against it)."""

READ_SIZE = 1 << 20
"""Bytes per read from the decoder: small enough that the processes before and
after this one start early and stay busy, large enough for numpy's per-block work."""


# --- the header ------------------------------------------------------------------


def input_contigs(header: list[bytes], path: str) -> dict[str, int]:
    """The input's contigs and lengths (the SAM header model's @SQ dictionary), or stop:
    without them the reads cannot be checked against the reference."""
    contigs = sequence_dictionary(header, path)
    if not contigs:
        raise InputError("no @SQ header lines: cannot check that the reads match the reference", path)
    return contigs


@dataclass
class RevertSetup:
    """Everything read before the input: the reverter is built from it once the
    input's header has been checked against it."""

    fasta: Fasta
    sites: GermlineSites | None
    """The germline sites (``-v``), or None for ``--all``."""
    keep: KeepList | None
    options: RevertOptions
    path: str
    report: Report
    one_by_one: bool = field(default_factory=one_record_path_forced)
    """Every record down the one-record path (``GENOSCRUB_ONE_BY_ONE=1``)."""
    quality_key: bytes = field(default=PROCESS_QUALITY_KEY, repr=False)
    """The key of the draw of the qualities a reverted indel's added bases get (``revert.quality_draw_key``;
    the command gives it, ``revert.PROCESS_QUALITY_KEY`` is for the tests that build a setup)."""

    def reverter(self, header: list[bytes]) -> BlockReverter:
        """Same genome, or stop: @SQ against the reference, the germline VCF and the
        keep list before any record; then the reverter for this input."""
        contigs = input_contigs(header, self.path)
        report = self.report
        reference_map = ContigMap(contigs, self.fasta.lengths, "reference", self.fasta.path)
        report.notes["contigs_renamed_for_reference"] = reference_map.report_note()
        reference = self.fasta.through(reference_map)
        shapes = ShapeCache()
        windows: GermlineWindows | EveryDifference = EveryDifference()
        if self.sites is not None:
            vcf_map = ContigMap(contigs, self.sites.contigs, "variant file", self.sites.path)
            report.notes["contigs_renamed_for_variants"] = vcf_map.report_note()
            for input_name in vcf_map.to_other:
                if input_name not in reference:
                    raise InputError(f"contig {input_name} has germline sites but is not in the reference", self.fasta.path)
            vcf_to_input: dict[str, list[str]] = {}
            for input_name, vcf_names in vcf_map.to_others.items():  # every spelling, both ways (chrM and MT)
                for vcf_name in vcf_names:
                    vcf_to_input.setdefault(vcf_name, []).append(input_name)
            tables = self.sites.table(vcf_to_input, reference)
            report.notes["germline_windows_used"] = len(tables.windows)
            windows = GermlineWindows(tables, shapes)
        if self.keep is not None:
            self.keep.use_for_input(contigs, report)
        places = ReadPlaces({name.encode(): length for name, length in contigs.items()})
        records = RecordReverter(
            reference, windows, self.keep, self.options, shapes, self.path, report, contigs, places, quality_key=self.quality_key
        )
        order = None
        if any(line.startswith(b"@HD\t") and b"\tSO:coordinate" in line for line in header):
            order = CoordinateOrder([name.encode() for name in contigs], windows.sites if isinstance(windows, GermlineWindows) else None)
        return BlockReverter(records, places, self.one_by_one, order)


# --- the stream ------------------------------------------------------------------


def record_chunks(stream: IO[bytes], path: str) -> Iterator[bytes]:
    """Blocks of whole lines, each ending in a newline (``streams.whole_line_blocks``):
    most records leave as slices of the block they came in."""
    return (chunk for _, _, chunk in whole_line_blocks(background_reads(stream, READ_SIZE), path))


HEADER_END = re.compile(rb"\n[^@]")


def revert_stream(chunks: Iterable[bytes], setup: RevertSetup) -> Iterator[bytes]:
    """Header (checked, our @PG added) then reverted record chunks."""
    header: list[bytes] = []
    reverter: BlockReverter | None = None
    line_number = 1
    try:
        for whole in chunks:
            blank_end = whole.endswith(b"\n\n") or whole == b"\n"  # one blank line at a chunk's end passes
            chunk = whole[:-1] if blank_end else whole
            if reverter is None:
                cut = 0
                if chunk.startswith(b"@"):
                    match = HEADER_END.search(chunk)
                    cut = match.start() + 1 if match else len(chunk)
                header.extend(chunk[:cut].split(b"\n")[:-1])
                line_number += chunk.count(b"\n", 0, cut)
                chunk = chunk[cut:]
                if chunk:
                    reverter = setup.reverter(header)
                    yield b"\n".join([*header, program_line(COMMAND, program_ids(header))]) + b"\n"
            if chunk:
                assert reverter is not None
                for out in reverter.reverted(chunk, line_number):
                    if out:
                        yield out
                line_number += reverter.block_lines
            line_number += blank_end
        if reverter is not None:
            yield from reverter.remaining()
        else:
            setup.reverter(header)
            yield b"\n".join([*header, program_line(COMMAND, program_ids(header))]) + b"\n"
    finally:
        if reverter is not None:
            reverter.close()


def revert_stage(
    report: Report,
    path: str,
    *,
    reference_path: str | None,
    variants: str | None = None,
    revert_all: bool = False,
    keep_path: str | None = None,
    population: str | None = None,
    af_key: str = "AF",
    germline_af: float = GERMLINE_AF,
    drop_unknown_contigs: bool = False,
    drop_contigs: list[str] | None = None,
    keep_unmapped: bool = False,
    keep_secondary_seq: bool = False,
    keep_clips_off_sites: bool = False,
    keep_alignment_lists: bool = False,
    key_file: Path | None = None,
    all_below_mapq: int = ALL_BELOW_MAPQ,
) -> SamStage:
    """The command's work, its options checked and the reference, germline sites and keep
    list read (keyword names are the options' own, see ``main``): what ``main`` runs
    between its reader and writer, and the cohort workflow in one process with the
    commands around it (``genoscrub.sam_stage``)."""
    if reference_path is None:
        raise UsageError("give the reference with -r/--reference")
    if revert_all == (variants is not None):
        raise UsageError("give exactly one of -v/--variants and --all")
    if keep_path is not None and not revert_all:
        raise UsageError("--keep needs --all (it lists the alleles --all spares)")
    if population is not None and keep_path is None:
        raise UsageError("--population screens --keep: give --keep")
    if not 0.0 <= germline_af <= 1.0:
        raise UsageError("--germline-af must be between 0 and 1")
    if not 0 <= all_below_mapq <= 256:
        raise UsageError("--all-below-mapq must be between 0 (off) and 256")
    if keep_clips_off_sites and variants is None:
        raise UsageError("--keep-clips-off-sites needs -v/--variants (with --all every clip is removed)")
    quality_key = quality_draw_key(read_key(key_file) if key_file is not None else None)
    fasta = Fasta(reference_path)
    keep = None
    if keep_path is not None:
        keep, listed = read_keep_list(keep_path, fasta, report)
        screen_keep_list(keep, listed, population, af_key, germline_af, report)
    sites = None
    if variants is not None:
        sites = GermlineSites(variants, report)
        if not sites.by_contig:
            raise InputError("no variant records: nothing to revert (an empty germline list is refused)", variants)
        report.notes["germline_records"] = len(sites)
    report.notes["mode"] = ("all-keep" if keep is not None else "all") if revert_all else "germline"
    options = RevertOptions(
        keep_unmapped=keep_unmapped,
        drop_unknown_contigs=drop_unknown_contigs,
        drop_contigs=tuple(drop_contigs or ()),
        keep_secondary_seq=keep_secondary_seq,
        clips=ClipRule.NEAR_WINDOWS if keep_clips_off_sites else ClipRule.DIFFERING,
        keep_alignment_lists=keep_alignment_lists,
        all_below_mapq=all_below_mapq,
    )
    setup = RevertSetup(fasta, sites, keep, options, path, report, quality_key=quality_key)

    def finish() -> None:
        removed = sum(report.counts[key] for key in REMOVALS)
        report.counts["reads_out"] = report.counts["reads_in"] - removed
        if keep is not None:
            report.counts["keep_allele_observations_kept"] = keep.kept_observations()

    return SamStage(COMMAND, lambda blocks: revert_stream((text for _, _, text in blocks), setup), finish=finish)


@app.command(
    help="Revert germline alleles in reads to the reference; somatic variants stay, --all reverts every difference, "
    "MD, NM and MC are recomputed and the output stays a valid alignment."
)
def main(
    input: Annotated[str, typer.Argument(metavar="INPUT", help="SAM text, BAM or CRAM; - for stdin (default).")] = "-",
    reference_path: Annotated[
        Optional[str], typer.Option("-r", "--reference", metavar="FASTA", help="Reference FASTA of the alignment (.fai used or built).")
    ] = None,
    variants: Annotated[
        Optional[str],
        typer.Option("-v", "--variants", metavar="VCF", help="Germline sites (VCF: SNVs, MNPs, indels), e.g. the normal's calls."),
    ] = None,
    revert_all: Annotated[bool, typer.Option("--all", help="Revert every mismatch and indel against the reference (no VCF).")] = False,
    keep_path: Annotated[
        Optional[str],
        typer.Option("--keep", metavar="VCF", help="With --all: somatic alleles to keep (exact CHROM, POS, REF, ALT after normalisation)."),
    ] = None,
    population: Annotated[
        Optional[str],
        typer.Option("--population", metavar="VCF", help="Population VCF (bgzipped, tabix-indexed) to screen --keep for germline alleles."),
    ] = None,
    af_key: Annotated[str, typer.Option("--af-key", metavar="KEY", help="INFO key of the population frequency (default AF).")] = "AF",
    germline_af: Annotated[
        float,
        typer.Option("--germline-af", metavar="AF", help="Population AF from which a keep allele is germline, reverted (default 0.001)."),
    ] = GERMLINE_AF,
    drop_unknown_contigs: Annotated[
        bool, typer.Option("--drop-unknown-contigs", help="Drop (and count) reads on contigs the reference lacks instead of failing.")
    ] = False,
    drop_contigs: Annotated[
        Optional[list[str]],
        typer.Option(
            "--drop-contigs",
            metavar="PATTERN",
            help="Remove every record on the @SQ contigs matching this shell pattern (repeatable; e.g. 'HLA-*', '*_alt'), "
            "their mates left unpaired: where a read lies on an allele contig is the genotype.",
        ),
    ] = None,
    keep_unmapped: Annotated[
        bool, typer.Option("--keep-unmapped", help="Keep the sequence of unmapped reads (default: masked to N).")
    ] = False,
    keep_secondary_seq: Annotated[
        bool, typer.Option("--keep-secondary-seq", help="Keep SEQ and QUAL of secondary records (default: both become *).")
    ] = False,
    keep_clips_off_sites: Annotated[
        bool,
        typer.Option(
            "--keep-clips-off-sites",
            help="With -v: keep soft clips that touch no germline site (default: a clip that differs from the reference is masked).",
        ),
    ] = False,
    keep_alignment_lists: Annotated[
        bool,
        typer.Option(
            "--keep-alignment-lists",
            help="Leave SA, XA and XB for sam-mask-regions --drop-alignment-lists piped after this command, which judges reads "
            "by them and then removes them all (the cohort workflow). Never on its own: they may show germline indels.",
        ),
    ] = False,
    all_below_mapq: Annotated[
        int,
        typer.Option(
            "--all-below-mapq",
            metavar="N",
            help="With -v: revert every difference from the reference of a placed read whose MAPQ is below N or 255 "
            "(a germline allele may have sent it to a paralogous copy); 0 turns it off (default 30).",
        ),
    ] = ALL_BELOW_MAPQ,
    key_file: Annotated[
        Optional[Path],
        typer.Option(
            "--key-file",
            metavar="FILE",
            help="The site's secret key (mode 600), as sam-scrub-rg takes it: the qualities of the bases a reverted indel adds "
            "are drawn by a keyed hash, the same on every run with the key. Without it a secret of this run: the output "
            "differs between runs there.",
        ),
    ] = None,
    output: OutputOption = None,
    output_format: Annotated[
        str, typer.Option("-O", "--output-fmt", metavar="FORMAT", help="sam (default), bam or cram.")
    ] = "sam",
    report_path: ReportOption = None,
    quiet: QuietOption = False,
) -> None:
    def job(report: Report) -> None:
        if output_format not in ("sam", "bam", "cram"):
            raise UsageError("--output-fmt must be sam, bam or cram")
        stage = revert_stage(
            report,
            input,
            reference_path=reference_path,
            variants=variants,
            revert_all=revert_all,
            keep_path=keep_path,
            population=population,
            af_key=af_key,
            germline_af=germline_af,
            drop_unknown_contigs=drop_unknown_contigs,
            drop_contigs=drop_contigs,
            keep_unmapped=keep_unmapped,
            keep_secondary_seq=keep_secondary_seq,
            keep_clips_off_sites=keep_clips_off_sites,
            keep_alignment_lists=keep_alignment_lists,
            key_file=key_file,
            all_below_mapq=all_below_mapq,
        )
        sink = AlignmentOutput(output, output_format, reference_path if output_format == "cram" else None)
        writer = BackgroundWriter(sink)  # the encoder downstream never waits for this process's CPU
        try:
            source = open_alignment_text(input, reference_path)
            try:
                for chunk in stage.transform(whole_line_blocks(background_reads(source, READ_SIZE), input)):
                    writer.write(chunk)
            finally:
                workers.close(source)
            writer.close()
            sink.close()
        except InputError:
            with contextlib.suppress(Exception):
                writer.close()  # what came before the bad record goes out, as it would without the writer thread
            sink.abort()
            raise
        except BaseException:
            writer.abort()
            sink.abort()
            raise
        stage.finish()

    run(COMMAND, job, Path(report_path) if report_path else None, quiet)


if __name__ == "__main__":
    app()
