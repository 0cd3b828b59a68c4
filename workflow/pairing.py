"""The cohort workflow's check of the sheet's pairing: is a BAM one person, and the germline VCF's?

Called by the rule `pairing` (workflow/rules/bam.smk) once per sample and BAM, before any part of
that BAM is reverted, as ``python workflow/pairing.py --bam B [--germline V] --reference R --kind
tumour --line 3 --output J --log L``. sam-revert-germline -v and the gate's genoscrub-audit
--germline look for germline alleles only at the sites of the germline VCF the sheet names for the
sample; nothing else ties the two files to one person. So one slip of the sheet delivers a
whole genome's germline alleles, and the gate passes it:

1. **One sample per BAM.** The BAM's @RG lines must name exactly one ``SM``. Two (a merged BAM, a
   lane of another patient under this one's name) ship the second person's reads, reverted at
   the first person's sites only. A BAM without @RG, or an @RG without ``SM``, names no one to
   check and fails too (with the key, sam-scrub-rg refuses such an @RG anyway).
2. **The germline VCF's alleles in the BAM's reads** (when the sample has a germline VCF; without
   one the reads are reverted with --all and the audit holds every base to the reference). Up
   to :data:`MOST_SITES` of the VCF's homozygous ALT SNVs (every sample column ``1/1``, ``1|1``
   or a haploid ``1``; FILTER not read), spread over its first :data:`MOST_RECORDS` records, are looked up in the
   indexed BAM: reads of mapping quality 20 or more, bases of quality 13 or more, no duplicate,
   secondary, supplementary, QC-failed or unmapped record, a template counted once. A person's
   own BAM (normal, or tumour: a loss of heterozygosity leaves a homozygous site homozygous)
   shows the ALT in nearly every read there; another person's only where they are homozygous
   too (about half of such sites for an unrelated person, a common allele's share). A site with
   :data:`MIN_DEPTH` reads or more *carries* the ALT when at least :data:`SITE_ALT_SHARE` of them
   show it; the check passes when at least :data:`MIN_SHARE` of those sites carry it, over at
   least :data:`MIN_SITES` sites (:data:`MIN_SITES_FEW` when the whole VCF holds fewer than
   :data:`MIN_SITES` such SNVs: a panel, the bundled example). Fewer sites with reads fail
   closed: the BAM may cover another region or be another person's. A VCF with fewer than
   :data:`MIN_SITES_FEW` homozygous ALT SNVs in all (a small panel, a sites-only VCF) cannot be
   checked: the verdict is ``unchecked``, said in the log, and the sample goes on (README,
   *The sheet's pairing*).
3. **A relative's VCF** (normal BAMs only). A sibling, parent or child is homozygous ALT at most
   of a person's homozygous ALT sites (a common allele's are shared by descent or by chance), so
   rule 2 may pass them. Heterozygous sites tell them apart whatever the allele's frequency: the
   person shows both alleles at their own heterozygous SNVs (FILTER PASS or ``.``); a sibling
   shares both alleles at a site with a quarter of the genome, one allele with half (where the
   other one must then differ: half the time), none with the rest (heterozygous there at most
   half the time by chance), so at most 0.25 + 0.25 + 0.125 = 62.5 % of the VCF's heterozygous
   sites; a parent or child 50 %, an unrelated person at most 50 %. A site with
   :data:`MIN_DEPTH_HET` reads or more *shows both* when each allele has at least one read and
   at least :data:`SITE_MINOR_SHARE` of them; the check asks :data:`MIN_HET_SHARE` of those sites,
   over as many sites as rule 2. A tumour BAM is not held to it: a loss of heterozygosity takes
   one allele from whole chromosome arms of a tumour, which is one person still.

A check that fails exits 1 with one line naming the sheet line and the file kind, never a value
of the files: no part of the BAM is reverted, and the gate refuses a sample whose verdicts are
not all ``pass`` or ``unchecked``. htslib reads the raw inputs here and its warnings quote them, so
its stderr is counted into the log, never kept (as ``reports.py stderr-count`` does for the
programs the rules run). The verdict (counts, no value) is written to ``--output`` on a pass, and
beside it as ``*.failed.json`` otherwise, in the private work folder.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

try:
    from reports import load_genoscrub, write_private
except ModuleNotFoundError:  # loaded by file path (tests): the script's folder is not on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from reports import load_genoscrub, write_private

load_genoscrub()

import pysam  # noqa: E402
from genoscrub.contigs import names_in  # noqa: E402

MOST_SITES = 300
"""Sites looked up at most, homozygous and heterozygous (a tumour BAM: homozygous only) together, as
the VCF holds them (about 1 in 3 homozygous in a genome's): a few hundred seeks into the BAM, and
enough to tell two people apart beyond doubt (an unrelated person carries about half of the
homozygous ones: 80 of 100 by chance is ~1e-9)."""
MOST_RECORDS = 100_000
"""Germline VCF records read at most: reading a record and its genotypes costs pysam ~3 CPU us
(2.8 s for a million), so a 30x genome's 5M would cost ~14 CPU s a BAM, twice a sample, where
its first 100,000 (about 60 Mb of chr1, 0.3 s) already hold thousands of homozygous ALT SNVs,
more than :data:`MOST_SITES` spread over them."""
GROUP_SITES = 5
"""Sites read in one fetch at most (:func:`spread`)."""
GROUP_REACH = 10_000
"""How far after a group's first site the others may lie: within one 16 kb window of a .bai."""
MIN_DEPTH = 4
"""Reads a site needs to count (all four must show the ALT; one of five may not)."""
SITE_ALT_SHARE = 0.8
"""The share of a site's reads that must show the ALT for the site to carry it: a heterozygous
person's site shows about half, a homozygous one's all but sequencing errors."""
MIN_SHARE = 0.8
"""The share of the sites with reads that must carry the ALT."""
MIN_SITES = 30
"""Sites with reads needed for a verdict: below it, chance decides too often."""
MIN_SITES_FEW = 10
"""The same for a VCF holding fewer than :data:`MIN_SITES` homozygous ALT SNVs in all; a VCF with
fewer than this in all cannot be checked."""
MIN_DEPTH_HET = 6
"""Reads a heterozygous site needs to count: a person's own site then shows one allele only in 2
of 64 draws."""
SITE_MINOR_SHARE = 0.1
"""The share of a heterozygous site's reads each allele needs (and one read at least): a
sequencing error gives a homozygous site's other base about one read in a few hundred."""
MIN_HET_SHARE = 0.8
"""The share of the heterozygous sites with reads that must show both alleles: a person's own
normal BAM shows them at nearly all, a relative at 62.5 % at most."""
SKIPPED_FLAGS = 0x4 | 0x100 | 0x200 | 0x400 | 0x800  # unmapped, secondary, QC-failed, duplicate, supplementary
MIN_MAPPING_QUALITY = 20
MIN_BASE_QUALITY = 13
BASES = frozenset("ACGT")


@dataclass(frozen=True)
class Site:
    contig: str
    position: int  # 0-based
    ref: str
    alt: str
    het: bool = False  # heterozygous (rule 3); homozygous ALT otherwise


@dataclass
class Verdict:
    """What the check found: counts and a verdict, never a value of the files."""

    verdict: str  # pass, fail, unchecked
    reason: str
    samples_named: int = 0
    sites_listed: int = 0  # the VCF's homozygous ALT SNVs, all of them
    sites_looked_up: int = 0
    sites_with_reads: int = 0
    sites_carrying_alt: int = 0
    het_sites_listed: int = 0  # the VCF's heterozygous SNVs (FILTER PASS or .), all of them
    het_sites_looked_up: int = 0
    het_sites_with_reads: int = 0
    het_sites_showing_both: int = 0


class PairingError(Exception):
    """An input the check cannot read (said without its content)."""


def read_group_samples(header: dict[str, Any]) -> tuple[int, set[str]]:
    """The number of @RG lines without ``SM``, and the distinct ``SM`` values of the others."""
    groups = header.get("RG", []) or []
    return sum(1 for group in groups if not group.get("SM")), {str(group["SM"]) for group in groups if group.get("SM")}


def one_sample_fault(kind: str, header: dict[str, Any]) -> str | None:
    """Why a BAM's header does not name exactly one sample, or None."""
    unnamed, samples = read_group_samples(header)
    if not header.get("RG"):
        return f"the {kind} BAM has no @RG line, so names no sample (SM) to check against the sheet"
    if unnamed:
        return f"{unnamed} @RG line{'s' if unnamed > 1 else ''} of the {kind} BAM name{'' if unnamed > 1 else 's'} no sample (SM)"
    if len(samples) > 1:
        return f"the {kind} BAM's @RG lines name {len(samples)} samples, not one (a merged BAM, a mislabelled lane?)"
    return None


def spread(
    sites: Iterable[Site], most: int = MOST_SITES, size: int = GROUP_SITES, reach: int = GROUP_REACH
) -> tuple[int, list[list[Site]]]:
    """How many sites there are, and at most ``most`` of them in groups evenly spaced in the order
    given (a VCF's: over every contig), in one pass and bounded memory. A group is a site and up
    to ``size - 1`` of the sites after it on its contig within ``reach`` bases: one fetch reads
    them all, where each fetch decodes the reads of a whole window of the index (16 kb for a
    .bai, ~3,000 reads at 30x) whatever it returns. One group begins in each run of ``stride``
    sites, and the stride doubles (one group kept of each run of the new stride) whenever twice
    the groups needed are held."""
    most_groups = max(1, most // size)
    groups: list[tuple[int, list[Site]]] = []  # (the index of its first site, the group)
    growing: list[Site] | None = None
    stride = 1
    total = 0
    for index, site in enumerate(sites):
        total = index + 1
        near = growing is not None and site.contig == growing[0].contig and 0 <= site.position - growing[0].position < reach
        if growing is not None and near and len(growing) < size:
            growing.append(site)
            continue
        growing = None
        if groups and index // stride == groups[-1][0] // stride:
            continue
        growing = [site]
        groups.append((index, growing))
        if len(groups) >= 2 * most_groups:
            stride *= 2
            thinned = [groups[0]]
            for start, group in groups[1:]:
                if start // stride != thinned[-1][0] // stride:
                    thinned.append((start, group))
            groups = thinned
            growing = growing if groups[-1][1] is growing else None
    if len(groups) > most_groups:
        groups = [groups[index * len(groups) // most_groups] for index in range(most_groups)]
    return total, [group for _, group in groups]


PLACEHOLDERS = frozenset(("<NON_REF>", "<*>"))
"""A gVCF's ALT that stands for any other allele: every GATK gVCF call is ``C,<NON_REF>``."""


def genotyped_snvs(records: Iterable[Any]) -> Iterator[Site]:
    """The biallelic SNVs of ``records`` (pysam.VariantRecord) whose every called genotype is all
    ALT (``1/1``, ``1|1``, a haploid ``1``; FILTER not read), or whose every called genotype holds
    REF and the ALT once each (``0/1``, ``1|0``) and FILTER is PASS or ``.`` (a filtered
    heterozygous call is as often a homozygous site misread); at least one called. A gVCF's
    placeholder ALT (``<NON_REF>``) is no allele: ``C,<NON_REF>`` with ``1/1`` is one."""
    for record in records:
        alts = [(index, alt) for index, alt in enumerate(record.alts or (), start=1) if alt not in PLACEHOLDERS]
        if len(alts) != 1 or len(record.ref) != 1 or len(alts[0][1]) != 1:
            continue
        (number, alt), ref = alts[0], record.ref.upper()
        alt = alt.upper()
        if ref not in BASES or alt not in BASES or ref == alt:
            continue
        called = [tuple(sample.get("GT") or ()) for sample in record.samples.values()]
        called = [genotype for genotype in called if genotype and None not in genotype]
        if not called:
            continue
        if all(allele == number for genotype in called for allele in genotype):
            yield Site(record.chrom, record.pos - 1, ref, alt)
        elif all(sorted(genotype) == [0, number] for genotype in called) and set(record.filter.keys()) <= {"PASS"}:
            yield Site(record.chrom, record.pos - 1, ref, alt, het=True)


def query_position(cigar: list[tuple[int, int]], start: int, position: int) -> int | None:
    """The read's base aligned to reference ``position`` (0-based), by its CIGAR; None inside a
    deletion or skip. A fetch and this cost about a fifth of pysam's pileup, which decodes every
    column of the index's window before the one asked for."""
    reference, query = start, 0
    for operation, length in cigar:
        if operation in (0, 7, 8):  # M, =, X
            if reference <= position < reference + length:
                return query + position - reference
            reference += length
            query += length
        elif operation in (1, 4):  # I, S
            query += length
        elif operation in (2, 3):  # D, N
            if reference <= position < reference + length:
                return None
            reference += length
    return None


def allele_reads(alignments: Any, contig: str, group: list[Site]) -> list[tuple[int, int]]:
    """Templates showing each site's ALT and its REF, by the filters above, in one fetch."""
    alt: list[set[str]] = [set() for _ in group]
    ref: list[set[str]] = [set() for _ in group]
    first = min(site.position for site in group)
    for record in alignments.fetch(contig, first, max(site.position for site in group) + 1):
        if record.flag & SKIPPED_FLAGS or record.mapping_quality < MIN_MAPPING_QUALITY or not record.cigartuples:
            continue
        start, end = record.reference_start, record.reference_end
        for index, site in enumerate(group):
            if not start <= site.position < end:
                continue
            place = query_position(record.cigartuples, start, site.position)
            qualities = record.query_qualities
            if place is None or qualities is None or qualities[place] < MIN_BASE_QUALITY:
                continue
            base = record.query_sequence[place].upper()
            name = record.query_name
            if base == site.alt and name not in ref[index]:
                alt[index].add(name)
            elif base == site.ref and name not in alt[index]:
                ref[index].add(name)
    return [(len(shows_alt), len(shows_ref)) for shows_alt, shows_ref in zip(alt, ref, strict=True)]


MATE_CIGAR_SAMPLE = 10_000
"""Records read from a BAM's start to see whether its pairs carry ``MC``."""
MATE_CIGAR_MISSING = 0.01
"""The share of those records' mapped pairs that may lack ``MC``."""


def mate_cigar_fault(alignments: Any, kind: str) -> str | None:
    """Why a BAM whose pairs lack ``MC`` (no ``samtools fixmate -m``, as ``bwa mem | samtools sort``
    leaves it) cannot go on: without its mate's CIGAR, sam-revert-germline cannot know whether
    a mate near a germline window moved, and clears the mate's place of those records only, so
    the delivered BAM would mark every germline site, the rare ones the delivered VCF leaves out
    among them, by where mates go missing (about a quarter of the reads there, none elsewhere)."""
    paired = missing = 0
    for record in itertools.islice(alignments.fetch(until_eof=True), MATE_CIGAR_SAMPLE):
        if record.flag & 0x1 and not record.flag & 0x90C:  # paired, mapped, mate mapped, primary
            paired += 1
            missing += not record.has_tag("MC")
    if paired and missing > MATE_CIGAR_MISSING * paired:
        return (
            f"the {kind} BAM's pairs lack the MC tag ({missing} of the first {paired} mapped pairs' records): run"
            " samtools fixmate -m on it (name-collated, then sorted again) or Picard FixMateInformation first"
        )
    return None


def judge(
    listed: int, counts: list[tuple[int, int]], kind: str, het_listed: int = 0, het_counts: list[tuple[int, int]] | None = None
) -> Verdict:
    """The verdict from the VCF's number of homozygous ALT SNVs and the (ALT, REF) template counts
    of the ``kind`` BAM at those looked up (rule 2), then, for a normal BAM, the same of its
    heterozygous SNVs (rule 3)."""
    het_counts = het_counts or []
    with_reads = [(alt, ref) for alt, ref in counts if alt + ref >= MIN_DEPTH]
    carrying = sum(1 for alt, ref in with_reads if alt >= SITE_ALT_SHARE * (alt + ref))
    het_with_reads = [(alt, ref) for alt, ref in het_counts if alt + ref >= MIN_DEPTH_HET]
    both = sum(1 for alt, ref in het_with_reads if min(alt, ref) >= max(1, SITE_MINOR_SHARE * (alt + ref)))
    found = {
        "sites_listed": listed, "sites_looked_up": len(counts), "sites_with_reads": len(with_reads), "sites_carrying_alt": carrying,
        "het_sites_listed": het_listed, "het_sites_looked_up": len(het_counts), "het_sites_with_reads": len(het_with_reads),
        "het_sites_showing_both": both,
    }  # fmt: skip
    seen = f"{carrying} of {len(with_reads)} homozygous ALT sites seen"
    if listed < MIN_SITES_FEW:
        reason = (
            f"the germline VCF holds {listed} homozygous ALT SNVs, fewer than {MIN_SITES_FEW}:"
            f" its pairing with the {kind} BAM cannot be checked by them"
        )
        return Verdict("unchecked", reason, **found)
    needed = MIN_SITES if len(counts) >= MIN_SITES else MIN_SITES_FEW
    if len(with_reads) < needed:
        reason = (
            f"the {kind} BAM has {MIN_DEPTH} reads or more at only {len(with_reads)} of the {len(counts)} homozygous ALT sites of the"
            f" germline VCF looked up ({needed} needed to tell whether the two are one person; is the sheet's pairing right?)"
        )
        return Verdict("fail", reason, **found)
    if carrying < MIN_SHARE * len(with_reads):
        reason = f"the {kind} BAM's reads do not carry the germline VCF's alleles ({seen}; is the sheet's pairing right?)"
        return Verdict("fail", reason, **found)
    if kind != "normal":
        return Verdict("pass", f"the {kind} BAM's reads carry the germline VCF's alleles ({seen})", **found)
    if het_listed < MIN_SITES_FEW:
        reason = (
            f"the {kind} BAM's reads carry the germline VCF's alleles ({seen}); its {het_listed} heterozygous SNVs, fewer than"
            f" {MIN_SITES_FEW}, cannot tell a relative's VCF from the person's"
        )
        return Verdict("pass", reason, **found)
    het_needed = MIN_SITES if len(het_counts) >= MIN_SITES else MIN_SITES_FEW
    het_seen = f"{both} of {len(het_with_reads)} heterozygous sites showing both alleles"
    if len(het_with_reads) < het_needed:
        reason = (
            f"the {kind} BAM has {MIN_DEPTH_HET} reads or more at only {len(het_with_reads)} of the {len(het_counts)} heterozygous"
            f" sites of the germline VCF looked up ({het_needed} needed to tell the person from a relative; is the sheet's pairing right?)"
        )
        return Verdict("fail", reason, **found)
    if both < MIN_HET_SHARE * len(het_with_reads):
        reason = (
            f"the {kind} BAM's reads miss one allele at too many of the germline VCF's heterozygous sites ({het_seen}):"
            " the VCF may be a relative's; is the sheet's pairing right?"
        )
        return Verdict("fail", reason, **found)
    return Verdict("pass", f"the {kind} BAM's reads carry the germline VCF's alleles ({seen}; {het_seen})", **found)


def check(bam: Path, germline: Path | None, reference: Path | None, kind: str) -> Verdict:
    """All three checks of one BAM. Raises PairingError when a file cannot be read."""
    try:
        alignments = pysam.AlignmentFile(str(bam), reference_filename=str(reference) if reference else None)
    except (OSError, ValueError):
        raise PairingError(f"the {kind} BAM cannot be read by htslib") from None
    with alignments:
        header = alignments.header.to_dict()
        fault = one_sample_fault(kind, header)
        samples = len(read_group_samples(header)[1])
        if fault:
            return Verdict("fail", fault, samples_named=samples)
        if germline is None:
            return Verdict("pass", "no germline VCF: the reads are reverted with --all", samples_named=samples)
        fault = mate_cigar_fault(alignments, kind)
        if fault:
            return Verdict("fail", fault, samples_named=samples)
        listed = {False: 0, True: 0}

        def counted(sites: Iterator[Site]) -> Iterator[Site]:
            for site in sites:
                listed[site.het] += 1
                yield site

        # a tumour BAM is not held to rule 3: its heterozygous sites are not looked up
        wanted = (lambda site: True) if kind == "normal" else (lambda site: not site.het)
        try:
            # opened by Python: htslib, given no name, looks for no index (an unindexed VCF's
            # "could not retrieve index file" in every log otherwise)
            with open(germline, "rb") as handle, pysam.VariantFile(handle) as variants:
                _, groups = spread(filter(wanted, counted(genotyped_snvs(itertools.islice(variants, MOST_RECORDS)))))
        except (OSError, ValueError):
            raise PairingError("the germline VCF cannot be read by htslib") from None
        contigs = set(alignments.references)
        counts: dict[bool, list[tuple[int, int]]] = {False: [], True: []}
        try:
            for group in groups:
                spelled = names_in(group[0].contig, contigs)
                found = allele_reads(alignments, spelled[0], group) if spelled else [(0, 0)] * len(group)
                for site, count in zip(group, found, strict=True):
                    counts[site.het].append(count)
        except (OSError, ValueError):
            raise PairingError(f"the {kind} BAM cannot be read at the germline VCF's sites (is it indexed?)") from None
    verdict = judge(listed[False], counts[False], kind, listed[True], counts[True])
    verdict.samples_named = samples
    return verdict


@contextlib.contextmanager
def stderr_counted(log: Path, name: str = "pairing (htslib)") -> Iterator[None]:
    """htslib's messages on file descriptor 2 held in an unnamed file beside the log (the private
    work folder) and counted into the log, never written there: they quote the raw input."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(dir=log.parent) as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            lines = held.read().count(b"\n")
            if lines:
                with open(log, "a", encoding="utf-8") as out:
                    what = "line" if lines == 1 else "lines"
                    out.write(f"{name}: {lines} {what} on stderr not kept (they can quote names and header lines of the input)\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pairing.py", description="check that a BAM is one person, the germline VCF's")
    parser.add_argument("--bam", type=Path, required=True)
    parser.add_argument("--germline", type=Path, help="the sample's germline VCF (absent: the reads are reverted with --all)")
    parser.add_argument("--reference", type=Path, help="the reference (for CRAM)")
    parser.add_argument("--kind", required=True, help="tumour or normal")
    parser.add_argument("--line", type=int, required=True, help="the sample's line in the sheet")
    parser.add_argument("--output", type=Path, required=True, help="the verdict (JSON), written on a pass")
    parser.add_argument("--log", type=Path, required=True)
    options = parser.parse_args(argv)
    options.log.parent.mkdir(parents=True, exist_ok=True)
    where = f"genoscrub workflow: sample on sheet line {options.line}"
    try:
        with stderr_counted(options.log):
            verdict = check(options.bam, options.germline, options.reference, options.kind)
    except PairingError as error:
        verdict = Verdict("fail", str(error))
    except Exception as error:  # a bug, or pysam's own words about an input: never a traceback (it could quote a header)
        verdict = Verdict("fail", f"the check of the {options.kind} BAM stopped ({type(error).__name__}), so it fails closed")
    with open(options.log, "a", encoding="utf-8") as out:
        out.write(f"pairing: {options.kind} BAM: {verdict.verdict}: {verdict.reason}\n")
    data = json.dumps({"kind": options.kind, **asdict(verdict)}, indent=2) + "\n"
    failed = options.output.with_name(options.output.name.removesuffix(".json") + ".failed.json")
    failed.unlink(missing_ok=True)
    if verdict.verdict == "fail":
        write_private(failed, data)
        print(f"{where}: {verdict.reason}; nothing of the sample is reverted or delivered", file=sys.stderr)
        return 1
    if verdict.verdict == "unchecked":
        print(f"{where}: the {options.kind} BAM's pairing with the germline VCF is not checked: {verdict.reason}", file=sys.stderr)
    write_private(options.output, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
