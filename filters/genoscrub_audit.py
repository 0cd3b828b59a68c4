"""genoscrub-audit: prove a delivery is pseudonymized, independently of the commands that made it.

A privacy reviewer signs off a delivery on evidence. The commands' own reports say what
they did; this command checks what came out, reading each file on its own code path
(the ``audit_*`` modules share no logic with the scrubbers, only the format parsers of
htslib): forbidden strings in any text field, metadata the scrubbers would not write,
reads carrying germline alleles, VCF records with rare alleles, bases in forensic regions.
It prints one line per finding class and file, and a verdict; exit status 0 means
nothing was found.

This module only parses options and wires the audits together (ARCHITECTURE.md, *Layout*).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Optional

import typer
from genoscrub.audit_allowlist import AUX_TAGS
from genoscrub.audit_aux import AuxValueChecks, read_group_ids
from genoscrub.audit_bam import (
    ALL_BELOW_MAPQ,
    AllReference,
    BamAudit,
    CountedBlocks,
    ListedContigs,
    LowMappingQuality,
    RecordChecks,
    bgzf_blocks,
    default_jobs,
    read_header,
    tag_table,
)
from genoscrub.audit_bcf import REFUSED, holds_record_findings
from genoscrub.audit_checksums import SequenceDictionary
from genoscrub.audit_containers import ContainerWatch, check_after_nul, file_name
from genoscrub.audit_fastq import FastqAudit
from genoscrub.audit_findings import CLASSES, Findings
from genoscrub.audit_forbid import ForbidList
from genoscrub.audit_formats import FORMAT_NAMES, ConvertedStream, bcf_feed, cram_feed, peek, raw_stream, sniff, text_stream
from genoscrub.audit_header import ABSENT_CONTIG, check_reference_list, check_sam_header, contigs_absent
from genoscrub.audit_index import INDEX_KINDS, audit_index
from genoscrub.audit_sam_text import SamTextAudit, text_blocks
from genoscrub.audit_sites import (
    GermlineSites,
    Reference,
    RegionList,
    VariantList,
    check_reference_bases,
    read_variants,
    sequence_checksums,
)
from genoscrub.audit_vcf import GermlineAlleles, PopulationFrequencies, RecordFrequencies, RegionRequest, VcfAudit, VcfChecks
from genoscrub.cli import BedOption, BuildOption, PresetOption, QuietOption, ReportOption, make_app, run
from genoscrub.contigs import ContigMap
from genoscrub.regions import PRESETS
from genoscrub.report import EXIT_DATA, InputError, Report, UsageError, display_name
from genoscrub.streams import reading

COMMAND = "genoscrub-audit"
DEFAULT_MIN_AF = 0.01
ALIGNMENTS = ("bam", "sam", "cram")

app = make_app()


@dataclass
class Settings:
    """What to check, from the options; side files read once for all inputs."""

    forbid: ForbidList | None = None
    germline_path: str | None = None
    germline: VariantList | None = None
    germline_in_vcf: bool = False
    """Whether VCF records are checked against the germline list too (somatic call sets)."""
    all_reference: bool = False
    """``--all-reference``: every aligned base must be the reference's (reads reverted with ``--all``)."""
    all_below_mapq: int = ALL_BELOW_MAPQ
    """With ``--germline`` and ``-r``: a placed read of a MAPQ below this (or 255) must show no
    difference from the reference (sam-revert-germline ``--all-below-mapq``; 0: not checked)."""
    reference: Reference | None = None
    dictionary: SequenceDictionary | None = None
    """``--dict``: the sequences' MD5s, compared with ``@SQ M5`` instead of hashing ``-r``."""
    population: PopulationFrequencies | None = None
    record_frequencies: RecordFrequencies | None = None
    """``--af-key`` without ``--population``: each VCF record judged by its own frequencies."""
    population_missing_ok: bool = False
    """``--population-missing ok``: alleles the population lacks pass (``vcf-drop-rare --keep-missing``)."""
    germline_markers: bool = False
    """``--germline-markers``: a VCF record a caller marked germline is a finding."""
    max_samples: int | None = None
    """``--max-samples``: the sample columns a VCF or BCF may have."""
    regions: RegionRequest | None = None
    allowed_header: frozenset[str] = frozenset()
    allowed_tags: frozenset[str] = frozenset()
    only_tags: frozenset[str] | None = None
    """``--only-tags``: the aux tags a SAM, BAM or CRAM record may carry (None: any allowlisted one)."""
    forbid_contigs: tuple[str, ...] = ()
    """``--forbid-contigs``: patterns of contigs no record may lie on or point to."""
    jobs: int = 1
    sites_by_contigs: dict[tuple[tuple[str, int], ...], GermlineSites] = field(default_factory=dict, repr=False)
    regions_by_contigs: dict[tuple[tuple[str, int], ...], RegionList] = field(default_factory=dict, repr=False)
    vcf_germline: GermlineAlleles | None = field(default=None, repr=False)
    """Germline sites and region lists by the contigs they were joined with: built once for all
    the files that share a header's contigs (a tumour BAM and its normal)."""

    def germline_sites(self, references: list[tuple[str, int]]) -> GermlineSites | None:
        if self.germline is None:
            return None
        if self.reference is None:
            raise UsageError("--germline needs -r/--reference to check alignments (the reference the reads were aligned to)")
        assert self.germline_path is not None
        key = tuple(references)
        if key not in self.sites_by_contigs:
            self.sites_by_contigs[key] = GermlineSites(self.germline, self.germline_path, dict(references), self.reference)
        return self.sites_by_contigs[key]

    def germline_alleles(self) -> GermlineAlleles | None:
        """The germline list's alleles for VCF records (``--germline-in-vcf``), built once."""
        if not self.germline_in_vcf or self.germline is None:
            return None
        if self.vcf_germline is None:
            assert self.germline_path is not None
            self.vcf_germline = GermlineAlleles(self.germline, self.germline_path, self.reference)
        return self.vcf_germline

    def region_list(self, references: list[tuple[str, int]]) -> RegionList | None:
        if self.regions is None:
            return None
        key = tuple(references)
        if key not in self.regions_by_contigs:
            request = self.regions
            self.regions_by_contigs[key] = RegionList(request.beds, request.presets, request.build, request.flank, dict(references))
        return self.regions_by_contigs[key]

    def sequence_checksums(self, references: list[tuple[str, int]]) -> Callable[[str], str | None] | None:
        """With ``--dict``, each reference's MD5 there, else with ``-r`` its MD5 in the FASTA, by the
        audited file's names (``@SQ M5`` is compared with it)."""
        if self.dictionary is not None:
            return self.dictionary.checksums_for(references)
        return None if self.reference is None else sequence_checksums(self.reference, references)

    def absent_contigs(self, contigs: Mapping[str, int | None]) -> set[str]:
        """The contigs of a file that ``--dict`` or ``-r`` lacks (none without either): the reads
        or records on them are checked against no germline site and no region."""
        genomes: list[tuple[Mapping[str, int], str, str]] = []
        if self.dictionary is not None:
            genomes.append((self.dictionary.lengths, "sequence dictionary", self.dictionary.path))
        if self.reference is not None:
            genomes.append((self.reference.lengths, "reference", self.reference.path))
        return contigs_absent(contigs, genomes) if genomes else set()

    def reads_on_reference(self, references: list[tuple[str, int]]) -> AllReference | None:
        """With ``--all-reference``, each @SQ's name in ``-r`` (None where it has none, or for every
        one when the two cannot be joined: such reads are findings)."""
        if not self.all_reference or self.reference is None:
            return None
        return AllReference(self.reference, self.names_in_reference(references))

    def names_in_reference(self, references: list[tuple[str, int]]) -> list[str | None]:
        """Each @SQ's name in ``-r``: None where it has none, or for every one when the two cannot
        be joined (reads there are then findings)."""
        assert self.reference is not None
        reference = self.reference
        try:
            to_reference = ContigMap(dict(references), dict(reference.lengths), "reference", reference.path, require_overlap=False).to_other
        except InputError:
            to_reference = {}
        return [to_reference.get(name) for name, _ in references]

    def reads_of_low_mapq(self, references: list[tuple[str, int]]) -> LowMappingQuality | None:
        """With ``--germline``, ``-r`` and ``--all-below-mapq`` above 0, the rule for reads of a low
        MAPQ (``audit_bam.LowMappingQuality``), each @SQ's name in ``-r`` as ``reads_on_reference``
        joins them."""
        if self.germline is None or self.reference is None or not self.all_below_mapq:
            return None
        return LowMappingQuality(self.all_below_mapq, self.reference, self.names_in_reference(references))

    def describe(self) -> dict[str, Any]:
        """The settings for the report: what was checked, never a path or a forbidden string."""
        data: dict[str, Any] = {
            "forbid_strings": len(self.forbid.entries) if self.forbid else 0,
            "germline_records": len(self.germline) if self.germline is not None else None,
            "germline_in_vcf": self.germline_in_vcf,
            "population": self.population is not None,
        }
        if self.population is not None:
            data.update(af_key=self.population.af_key, min_af=self.population.min_af)
        elif self.record_frequencies is not None:
            data.update(af_key=self.record_frequencies.af_key, min_af=self.record_frequencies.min_af, population_in_records=True)
        if self.population is not None or self.record_frequencies is not None:
            data["population_missing"] = "ok" if self.population_missing_ok else "finding"
        data["germline_markers"] = self.germline_markers
        if self.germline is not None and self.reference is not None:
            data["all_below_mapq"] = self.all_below_mapq
        if self.max_samples is not None:
            data["max_samples"] = self.max_samples
        if self.regions is not None:
            data.update(presets=list(self.regions.presets), beds=len(self.regions.beds), flank=self.regions.flank)
        if self.allowed_header:
            data["allowed_header"] = sorted(self.allowed_header)
        if self.allowed_tags:
            data["allowed_tags"] = sorted(self.allowed_tags)
        if self.only_tags is not None:
            data["only_tags"] = sorted(self.only_tags)
        if self.forbid_contigs:
            data["forbid_contigs"] = list(self.forbid_contigs)
        return data


def audit_file(path: str, settings: Settings) -> tuple[str, Findings]:
    """The format of one file and what was found in it: in its content, in the bytes its
    container carries beside the content (``audit_containers``, ``audit_cram``) and in its name."""
    findings = Findings()
    kind = sniff(peek(path))
    if not kind:
        raise InputError("not a FASTQ, SAM, BAM, CRAM, VCF or BCF file, nor an index of one", path)
    mark_checked(findings, kind, settings)
    check_file_name(path, settings.forbid, findings)
    watch = ContainerWatch(settings.forbid)
    if kind in INDEX_KINDS:
        audit_index(path, kind, settings.forbid, findings, watch)
    elif kind in ALIGNMENTS:
        audit_alignments(path, kind, settings, findings, watch)
    elif kind in ("vcf", "bcf"):
        checks = VcfChecks(
            path,
            settings.forbid,
            settings.allowed_header,
            settings.population,
            settings.regions,
            settings.germline_alleles(),
            settings.absent_contigs if settings.reference is not None or settings.dictionary is not None else None,
            settings.record_frequencies,
            settings.population_missing_ok,
            settings.germline_markers,
            settings.max_samples,
            settings.forbid_contigs,
        )
        if kind == "bcf":
            audit_bcf_text(path, checks, findings, watch)
        else:
            with reading(text_stream(path, watch)) as stream:
                VcfAudit(checks, findings).run(stream)
    else:
        with reading(text_stream(path, watch)) as stream:
            FastqAudit(path, settings.forbid, findings).run(stream)
    findings.merge(watch.findings)
    findings.settle()
    return FORMAT_NAMES[kind], findings


def audit_bcf_text(path: str, checks: VcfChecks, findings: Findings, watch: ContainerWatch) -> None:
    """A BCF as the VCF text an htslib child makes of it, its records walked on their way there
    (``audit_bcf``). When the walk found a record off the specification and the child then refuses
    the file, what was found is the answer (``audit_bcf.REFUSED``), not an error."""
    stream = ConvertedStream("bcf", path, None, bcf_feed(path, watch))
    try:
        with reading(stream):  # type: ignore[type-var]
            VcfAudit(checks, findings).run(stream)
    except InputError:
        if stream.feed_error is not None or not holds_record_findings(watch):
            raise
        watch.findings.metadata.add(REFUSED)


FILE_NAME = "file name"


def check_file_name(path: str, forbid: ForbidList | None, findings: Findings) -> None:
    """The delivered file's own name (not the folders above it, which are the auditor's) against
    the forbid list: ``gzip`` and htslib copy it into the file, and it travels with the file."""
    if forbid is None or path == "-":
        return
    for line in sorted({entry.line for entry, _ in forbid.search_text(file_name(path))}):
        findings.forbidden.add(f"{FILE_NAME} (list line {line})", FILE_NAME)


def audit_alignments(path: str, kind: str, settings: Settings, findings: Findings, watch: ContainerWatch) -> None:
    if kind == "sam":
        # SAM text reaches htslib through this process: the fields htslib does not keep as text are read on the way
        text = SamTextAudit(path, settings.forbid, settings.allowed_tags)
        with reading(text_stream(path, watch)) as source:
            converted = ConvertedStream(kind, path, None, text.checked_blocks(text_blocks(source)))
            audit_bam_records(path, converted, kind, settings, findings, watch)
        findings.merge(text.findings)
        return
    if kind == "bam":
        audit_bam_records(path, raw_stream(path), kind, settings, findings, watch)
        return
    reference = settings.reference.path if settings.reference else None
    feed = cram_feed(path, watch, settings.reference)
    audit_bam_records(path, ConvertedStream(kind, path, reference, feed), kind, settings, findings, watch)


def audit_bam_records(
    path: str, stream: BinaryIO | ConvertedStream, kind: str, settings: Settings, findings: Findings, watch: ContainerWatch
) -> None:
    """A BAM file, or the BAM an htslib child makes of SAM or CRAM: its header, then its records.
    A BAM's own BGZF block headers and header bytes are checked into ``watch`` (a child's BAM is
    htslib's, not the file's: what its input carried beside the records was checked on the way)."""
    own = watch if kind == "bam" else None
    try:
        blocks = CountedBlocks(bgzf_blocks(stream, path, own))  # type: ignore[arg-type]
        header, rest = read_header(blocks, path)
        check_sam_header(
            header.text,
            header.references,
            settings.forbid,
            findings,
            settings.allowed_header,
            settings.sequence_checksums(header.references),
        )
        check_reference_list(header.text, header.references, findings)
        absent = settings.absent_contigs(dict(header.references))
        if absent:
            findings.metadata.add(ABSENT_CONTIG, "header references", len(absent))
        if own is not None:
            check_after_nul(header.after_nul, "header", own)
        checks = RecordChecks(
            path,
            [name for name, _ in header.references],
            forbid=settings.forbid,
            allowed_tags=tag_table(AUX_TAGS | settings.allowed_tags),
            listed_tags=tag_table(settings.only_tags) if settings.only_tags is not None else None,
            germline=settings.germline_sites(header.references),
            regions=settings.region_list(header.references),
            aux_values=AuxValueChecks(header.references, read_group_ids(header.text), settings.allowed_tags),
            lengths=[length for _, length in header.references],
            all_reference=settings.reads_on_reference(header.references),
            low_mapq=settings.reads_of_low_mapq(header.references),
            listed=ListedContigs.matching([name for name, _ in header.references], settings.forbid_contigs),
        )
        private = stream.private_descriptors() if isinstance(stream, ConvertedStream) else []
        audit = BamAudit(checks, findings, settings.jobs, private)
        if kind == "bam" and path != "-" and stat.S_ISREG(os.stat(path).st_mode):
            audit.run_file(path, blocks.consumed, rest, own, blocks.count)  # workers read their part of the file themselves
        else:
            audit.run(blocks, rest)
    finally:
        if path != "-" or kind != "bam":
            stream.close()


def mark_checked(findings: Findings, kind: str, settings: Settings) -> None:
    """Which classes apply to this file, and why the others do not."""
    findings.metadata.checked = True
    if settings.forbid is not None:
        findings.forbidden.checked = True
    else:
        findings.forbidden.reason = "no --forbid list"
    if kind in ALIGNMENTS:
        findings.germline.checked = settings.germline_path is not None or settings.all_reference or bool(settings.forbid_contigs)
        findings.germline.reason = "no --germline list"
        findings.regions.checked = settings.regions is not None
        findings.regions.reason = "no --bed or --preset"
        findings.population.reason = "not a VCF"
    elif kind in ("vcf", "bcf"):
        findings.germline.checked = settings.germline_in_vcf or settings.germline_markers or bool(settings.forbid_contigs)
        findings.germline.reason = "not alignments"
        findings.population.checked = settings.population is not None or settings.record_frequencies is not None
        findings.population.reason = "no --population"
        findings.regions.checked = settings.regions is not None
        findings.regions.reason = "no --bed or --preset"
    elif kind in INDEX_KINDS:
        findings.germline.reason = findings.regions.reason = findings.population.reason = "an index"
    else:
        findings.germline.reason = findings.regions.reason = "not aligned"
        findings.population.reason = "not a VCF"


def finding_lines(label: str, findings: Findings) -> list[str]:
    return [f"{label}: {name}: {findings[name].line()}" for name in CLASSES]


def verdict_line(results: list[tuple[str, str, Findings]]) -> str:
    failing = [(label, found) for label, _, found in results if found.total]
    files = f"{len(results)} file{'s' if len(results) != 1 else ''}"
    if not failing:
        return f"{COMMAND}: PASS: {files}, no findings"
    total = sum(found.total for _, found in failing)
    which = ", ".join(f"{label} {found.total}" for label, found in failing)
    return f"{COMMAND}: FAIL: {files}, {total} finding{'s' if total != 1 else ''} ({which})"


def report_data(results: list[tuple[str, str, Findings]], settings: Settings) -> dict[str, Any]:
    return {
        "verdict": "fail" if any(found.total for _, _, found in results) else "pass",
        "settings": settings.describe(),
        "files": [
            {
                "file": label,
                "format": kind,
                "records": found.records,
                "verdict": "fail" if found.total else "pass",
                "findings": found.as_dict(),
            }
            | ({"keyed_names": {"searched": found.keyed_names.names, "within_chance": found.within_chance}} if found.within_chance else {})
            for label, kind, found in results
        ],
    }


@app.command(
    help="Audit pseudonymized files for leftover identifiers; FASTQ, SAM, BAM, CRAM, VCF or BCF, "
    "exit 1 when anything the scrubbers must have removed is found."
)
def main(
    files: Annotated[
        Optional[list[str]],
        typer.Argument(metavar="FILE...", help="Files to audit (paths, or - for stdin once); the format is told by content."),
    ] = None,
    forbid: Annotated[
        Optional[Path],
        typer.Option("--forbid", metavar="FILE", help="Strings (one a line) that must not occur in any non-sequence field, in any case."),
    ] = None,
    germline: Annotated[
        Optional[str],
        typer.Option("--germline", metavar="VCF", help="Germline sites: reads carrying one of their alleles are findings (needs -r)."),
    ] = None,
    germline_in_vcf: Annotated[
        bool,
        typer.Option(
            "--germline-in-vcf",
            help="Check VCF records against --germline too: a record carrying one of its alleles is a finding, "
            "and with -r one inside the windows sam-revert-germline reverts reads in. "
            "For somatic call sets; never audit the germline VCF itself in such a run.",
        ),
    ] = False,
    all_reference: Annotated[
        bool,
        typer.Option(
            "--all-reference",
            help="Reads were reverted with sam-revert-germline --all: any aligned base but the reference's or N, "
            "and any indel, clip or skip under 50 bases, is a germline finding (needs -r).",
        ),
    ] = False,
    all_below_mapq: Annotated[
        int,
        typer.Option(
            "--all-below-mapq",
            metavar="N",
            help="With --germline and -r: a placed read of a MAPQ below N (or 255) showing any difference from the reference "
            "(a base, an indel, a short skip, a soft clip with a base but N) is a germline finding, as "
            "sam-revert-germline --all-below-mapq reverts such reads whole; 0 turns it off (default 30).",
        ),
    ] = ALL_BELOW_MAPQ,
    reference: Annotated[
        Optional[str],
        typer.Option(
            "-r",
            "--reference",
            metavar="FASTA",
            help="Reference genome (for --germline, and to decode CRAM); an @SQ M5 must be the MD5 of that sequence in it.",
        ),
    ] = None,
    dictionary: Annotated[
        Optional[str],
        typer.Option(
            "--dict",
            metavar="DICT",
            help="Sequence dictionary (samtools dict): an @SQ M5 must be the dictionary's for its sequence (instead of hashing -r).",
        ),
    ] = None,
    population: Annotated[
        Optional[str],
        typer.Option(
            "--population",
            metavar="VCF",
            help="Population frequencies (tabix-indexed): VCF records with a rarer or absent allele are findings.",
        ),
    ] = None,
    af_key: Annotated[
        Optional[str],
        typer.Option(
            "--af-key",
            metavar="KEY",
            help="INFO key of the population frequency, e.g. AF_eas: in --population, or without it in each VCF record itself.",
        ),
    ] = None,
    min_af: Annotated[float, typer.Option("--min-af", metavar="F", help="Alleles rarer than this are findings.")] = DEFAULT_MIN_AF,
    population_missing: Annotated[
        str,
        typer.Option(
            "--population-missing",
            metavar="finding|ok",
            help="An allele absent from the population (or a REF of unknown frequency there): a finding (the default), "
            "or ok, as vcf-drop-rare --keep-missing keeps it for a somatic call set; a rare allele or REF stays a finding.",
        ),
    ] = "finding",
    germline_markers: Annotated[
        bool,
        typer.Option(
            "--germline-markers",
            help="A VCF record a caller marked germline (Mutect2 FILTER germline, Strelka2 NT=het, VarScan SS=1...) is a "
            "finding: for call sets vcf-drop-rare --drop-germline ran on.",
        ),
    ] = False,
    max_samples: Annotated[
        Optional[int],
        typer.Option(
            "--max-samples",
            metavar="N",
            help="A VCF or BCF with more than N sample columns is a finding (a joint-called relative's genotypes), "
            "as vcf-scrub-header --max-samples refuses it.",
        ),
    ] = None,
    preset: PresetOption = None,
    bed: BedOption = None,
    build: BuildOption = "auto",
    flank: Annotated[int, typer.Option("--flank", metavar="N", help="Widen every region by N bases on each side.")] = 0,
    allow_header: Annotated[
        Optional[list[str]],
        typer.Option(
            "--allow-header", metavar="KEY", help="Also accept ##KEY VCF lines or @KEY SAM lines, as kept with --keep (repeatable)."
        ),
    ] = None,
    allow_tag: Annotated[
        Optional[list[str]],
        typer.Option("--allow-tag", metavar="TAG", help="Also accept this aux tag, as kept with --keep-tag (repeatable)."),
    ] = None,
    only_tags: Annotated[
        Optional[str],
        typer.Option(
            "--only-tags",
            metavar="TAGS",
            help="Accept only these aux tags (comma-separated, such as RG,MD,NM, as kept with sam-scrub-rg --only-tags): "
            "any other on any record is a finding, counted by tag.",
        ),
    ] = None,
    forbid_contigs: Annotated[
        Optional[list[str]],
        typer.Option(
            "--forbid-contigs",
            metavar="PATTERN",
            help="A record on an @SQ contig matching this shell pattern, or whose mate or SA/XA/XB/OA entry is on one, "
            "is a finding, and so is a VCF record on such a contig (repeatable; e.g. 'HLA-*', '*_alt', as "
            "sam-revert-germline --drop-contigs).",
        ),
    ] = None,
    jobs: Annotated[
        Optional[int],
        typer.Option("-j", "--jobs", metavar="N", help="Processes reading BAM records (default: the CPUs available, up to 8)."),
    ] = None,
    report_path: ReportOption = None,
    quiet: QuietOption = False,
) -> None:
    def job(report: Report) -> None:
        settings = prepare(
            files or [],
            forbid,
            germline,
            germline_in_vcf,
            reference,
            dictionary,
            population,
            af_key,
            min_af,
            preset,
            bed,
            build,
            flank,
            allow_header,
            allow_tag,
            jobs,
            all_reference=all_reference,
            only_tags=only_tags,
            forbid_contigs=forbid_contigs,
            population_missing=population_missing,
            germline_markers=germline_markers,
            max_samples=max_samples,
            all_below_mapq=all_below_mapq,
        )
        results = []
        try:
            for path in files or []:
                kind, found = audit_file(path, settings)
                results.append((display_name(path), kind, found))
        finally:
            if settings.population is not None:
                settings.population.close()
        lines = [line for label, _, found in results for line in finding_lines(label, found)]
        lines.append(verdict_line(results))
        if not quiet:
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()
        for name in CLASSES:
            report.add(name, sum(found[name].total for _, _, found in results))
        report.notes.update(report_data(results, settings))
        if report_path is not None:
            report.write(report_path)
        if any(found.total for _, _, found in results):
            raise SystemExit(EXIT_DATA)

    run(COMMAND, job, None, quiet=True)


def prepare(
    files: list[str],
    forbid: Path | None,
    germline: str | None,
    germline_in_vcf: bool,
    reference: str | None,
    dictionary: str | None,
    population: str | None,
    af_key: str | None,
    min_af: float,
    presets: list[str] | None,
    beds: list[str] | None,
    build: str,
    flank: int,
    allow_header: list[str] | None,
    allow_tag: list[str] | None,
    jobs: int | None,
    all_reference: bool = False,
    only_tags: str | None = None,
    forbid_contigs: list[str] | None = None,
    population_missing: str = "finding",
    germline_markers: bool = False,
    max_samples: int | None = None,
    all_below_mapq: int = ALL_BELOW_MAPQ,
) -> Settings:
    """Check the options and read the side files (usage errors before any input is read)."""
    if not files:
        raise UsageError("give at least one FILE (or - for stdin)")
    if files.count("-") > 1:
        raise UsageError("stdin (-) can be given only once")
    if germline is not None and reference is None and not germline_in_vcf:
        raise UsageError("--germline needs -r/--reference (the reference the reads were aligned to)")
    if all_reference and reference is None:
        raise UsageError("--all-reference needs -r/--reference (the reference the reads were aligned to)")
    if germline_in_vcf and germline is None:
        raise UsageError("--germline-in-vcf needs --germline (the matched normal's germline calls)")
    if population is not None and not af_key:
        raise UsageError("--population needs --af-key (the INFO key of the frequency, e.g. AF_eas)")
    if population_missing not in ("finding", "ok"):
        raise UsageError("--population-missing is finding or ok")
    if population_missing == "ok" and not af_key:
        raise UsageError("--population-missing ok needs --af-key (and --population, or each record's own frequencies)")
    if max_samples is not None and max_samples < 0:
        raise UsageError("--max-samples must be 0 or more")
    if not 0.0 <= min_af <= 1.0:
        raise UsageError("--min-af must be between 0 and 1")
    if flank < 0:
        raise UsageError("--flank must be 0 or more")
    if not 0 <= all_below_mapq <= 256:
        raise UsageError("--all-below-mapq must be between 0 (off) and 256")
    if jobs is not None and jobs < 1:
        raise UsageError("--jobs must be 1 or more")
    for name in presets or []:
        if name not in PRESETS:
            raise UsageError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    for tag in allow_tag or []:
        if len(tag) != 2 or not tag.isascii() or not tag.isalnum():
            raise UsageError(f"--allow-tag {tag!r}: an aux tag is two letters or digits")
    listed = None if only_tags is None else (only_tags.split(",") if only_tags else [])
    for tag in listed or []:
        if len(tag) != 2 or not tag.isascii() or not tag.isalnum():
            raise UsageError("--only-tags: each aux tag is two letters or digits, the tags separated by commas")
    settings = Settings(
        forbid=ForbidList.read(forbid) if forbid is not None else None,
        allowed_header=frozenset(allow_header or []),
        allowed_tags=frozenset(allow_tag or []),
        only_tags=None if listed is None else frozenset(listed),
        germline_in_vcf=germline_in_vcf,
        all_reference=all_reference,
        forbid_contigs=tuple(forbid_contigs or ()),
        population_missing_ok=population_missing == "ok",
        germline_markers=germline_markers,
        max_samples=max_samples,
        all_below_mapq=all_below_mapq,
        jobs=jobs or default_jobs(),
    )
    if reference is not None:
        settings.reference = Reference(reference)
    if dictionary is not None:
        settings.dictionary = SequenceDictionary.read(dictionary)
    if germline is not None:
        settings.germline_path = germline
        settings.germline = read_variants(germline, "germline list")
        if settings.reference is not None:  # another build's sites would be checked in the wrong places
            check_reference_bases(settings.germline, germline, settings.reference)
    if population is not None:
        assert af_key is not None
        settings.population = PopulationFrequencies(population, af_key, min_af)
    elif af_key:
        settings.record_frequencies = RecordFrequencies(af_key, min_af)
    if presets or beds:
        settings.regions = RegionRequest(list(beds or []), list(presets or []), build, flank)
    return settings


if __name__ == "__main__":
    app()
