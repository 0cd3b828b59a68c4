#!/usr/bin/env python3
"""Speed of vcf-scrub-header and vcf-drop-rare in the pipes users run (issue 3).

    python tests/bench_vcf.py [--scale small|full] [--runs 3] [--keep DIR]

Writes a deterministic synthetic cohort VCF (2 samples, a GATK-like header with
identifying lines, INFO AF; SNVs, MNPs, indels, some multi-allelic records) and a
population VCF (INFO AF, AF_eas; most input sites plus population-only sites),
bgzips and indexes both, then times, alternating runs (benchlib):

- ``bcftools view x.vcf.gz | FILTER | bgzip`` against the same pipe without FILTER,
  for vcf-scrub-header and vcf-drop-rare --af-key AF (target: ratio <= 1.10);
- ``bcftools view x.vcf.gz | vcf-drop-rare --population pop.vcf.gz --af-key AF_eas | bgzip``
  against ``bcftools annotate -a pop.vcf.gz -c INFO/AF_eas x.vcf.gz | bcftools view -i ... | bgzip``
  (target: ratio <= 1.00).

``full`` is the issue's size (1,000,000 records); ``small`` (100,000) takes about a minute.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.benchlib import measure, table  # noqa: E402

SCALES = {"small": 100_000, "full": 1_000_000}
CONTIG_LENGTH = 248_956_422
BASES = np.array([b"A", b"C", b"G", b"T"])
HEADER = """##fileformat=VCFv4.2
##fileDate=20231029
##source=HaplotypeCaller
##reference=file:///data/hospital/ref/GRCh38.fa
##contig=<ID=chr1,length=248956422,assembly=GRCh38,URL=file:///data/hospital/ref/GRCh38.fa>
##contig=<ID=chr2,length=242193529,assembly=GRCh38,URL=file:///data/hospital/ref/GRCh38.fa>
##FILTER=<ID=PASS,Description="All filters passed">
##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count">
##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">
##INFO=<ID=AN,Number=1,Type=Integer,Description="Allele number">
##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">
##FORMAT=<ID=PL,Number=G,Type=Integer,Description="Phred-scaled likelihoods">
##GATKCommandLine=<ID=HaplotypeCaller,CommandLine="HaplotypeCaller --input /home/kimjh/S2301217N_20231029.bam",Date="Oct 29">
##SAMPLE=<ID=S2301217N_20231029,Description="Normal blood of patient Kim J.H.">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS2301217N_20231029\tS2301217T_20231029
"""
POPULATION_HEADER = """##fileformat=VCFv4.2
##contig=<ID=chr1,length=248956422>
##contig=<ID=chr2,length=242193529>
##INFO=<ID=AF,Number=A,Type=Float,Description="Alternate allele frequency">
##INFO=<ID=AF_eas,Number=A,Type=Float,Description="Alternate allele frequency, East Asian">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO
"""


def frequencies(rng: np.random.Generator, count: int) -> np.ndarray:
    """Allele frequencies shaped like a population's: most rare, many common."""
    return np.round(np.where(rng.random(count) < 0.45, rng.uniform(0.0001, 0.01, count), rng.uniform(0.01, 0.6, count)), 5)


def write_data(directory: Path, records: int, seed: int = 1) -> tuple[Path, Path, int]:
    """The cohort VCF and the population VCF, bgzipped and indexed, and the cohort's text size;
    the same bytes for the same seed."""
    rng = np.random.default_rng(seed)
    per_contig = [records * 2 // 3, records - records * 2 // 3]
    cohort: list[str] = []
    population: list[str] = []
    for contig, count in zip(("chr1", "chr2"), per_contig, strict=True):
        positions = 10_000 + np.cumsum(rng.integers(1, 300, count))
        refs = BASES[rng.integers(0, 4, count)]
        alts = BASES[(rng.integers(1, 4, count) + np.searchsorted(BASES, refs)) % 4]
        kinds = rng.random(count)
        afs = frequencies(rng, count)
        eas = frequencies(rng, count)
        in_population = rng.random(count) < 0.85
        depth = rng.integers(10, 60, count)
        for i in range(count):
            ref, alt = refs[i].decode(), alts[i].decode()
            if kinds[i] < 0.06:
                alt = ref + "TG"  # insertion
            elif kinds[i] < 0.12:
                ref, alt = ref + "CA", ref  # deletion
            elif kinds[i] < 0.14:
                alt = alt + ",*" if kinds[i] < 0.13 else alt + "," + ("C" if alt != "C" and ref != "C" else "G")
            n_alts = alt.count(",") + 1
            af = ",".join([f"{afs[i]:g}"] * n_alts) if n_alts == 1 else f"{afs[i]:g},{afs[i] / 3:.5f}"
            ident = f"rs{positions[i]}" if kinds[i] > 0.5 else ("." if kinds[i] > 0.2 else f"HOSP_VAR_{i:06d}")
            pl = "0,30,300" if n_alts == 1 else "0,30,300,30,300,300"
            ad = ",".join(["10"] * (n_alts + 1))
            cohort.append(
                f"{contig}\t{positions[i]}\t{ident}\t{ref}\t{alt}\t{depth[i] * 31.7:.2f}\tPASS\t"
                f"AC=1;AF={af};AN=4;DP={depth[i]}\tGT:AD:DP:GQ:PL\t0/1:{ad}:{depth[i]}:99:{pl}\t0/0:{ad}:{depth[i]}:60:{pl}"
            )
            if in_population[i] and "*" not in alt:
                pop_af = ",".join(f"{eas[i]:g}" for _ in range(n_alts))
                population.append(f"{contig}\t{positions[i]}\t.\t{ref}\t{alt}\t.\tPASS\tAF={af};AF_eas={pop_af}")
            if kinds[i] > 0.7:  # a population-only SNV nearby, as gnomAD has many more sites than a cohort
                extra = positions[i] + 1 + int(kinds[i] * 10)
                if i + 1 == count or extra < positions[i + 1]:
                    population.append(f"{contig}\t{extra}\t.\tA\tG\t.\tPASS\tAF=0.02;AF_eas=0.03")
    cohort_path, population_path = directory / "cohort.vcf.gz", directory / "population.vcf.gz"
    size = len(HEADER) + sum(map(len, cohort)) + len(cohort)
    for path, header, lines in ((cohort_path, HEADER, cohort), (population_path, POPULATION_HEADER, population)):
        text = path.with_suffix("")
        text.write_text(header + "\n".join(lines) + "\n")
        subprocess.run(["bgzip", "-f", str(text)], check=True)
        subprocess.run(["tabix", "-f", "-p", "vcf", str(path)], check=True)
    return cohort_path, population_path, size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the data here and keep it")
    args = parser.parse_args(argv)
    records = SCALES[args.scale]
    directory = args.keep or Path(tempfile.mkdtemp(prefix="bench_vcf."))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        cohort, population, size = write_data(directory, records)
        megabytes = size / 1e6
        scrub, drop = ROOT / "bin" / "vcf-scrub-header", ROOT / "bin" / "vcf-drop-rare"
        out = directory / "out.vcf.gz"
        view = f"bcftools view {cohort}"
        filters = {
            "bcftools view | bgzip": f"{view} | bgzip > {out}",
            "bcftools view | vcf-scrub-header | bgzip": f"{view} | {scrub} -q | bgzip > {out}",
            "bcftools view | vcf-drop-rare --af-key AF | bgzip": f"{view} | {drop} -q --af-key AF | bgzip > {out}",
        }
        print(table("filters in a pipe", measure(filters, args.runs), "bcftools view | bgzip", records, megabytes))
        rule = "'MIN(INFO/AF_eas)>=0.01 && 1-SUM(INFO/AF_eas)>=0.01'"
        join = {
            "bcftools annotate | bcftools view -i": f"bcftools annotate -a {population} -c INFO/AF_eas {cohort} | "
            f"bcftools view -i {rule} | bgzip > {out}",
            "bcftools view | vcf-drop-rare --population": f"{view} | {drop} -q --population {population} --af-key AF_eas | bgzip > {out}",
        }
        print()
        print(table("population join", measure(join, args.runs), "bcftools annotate | bcftools view -i", records, megabytes))
    finally:
        if args.keep is None:
            shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
