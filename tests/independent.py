"""Checks made with independent tools (bcftools, pysam's pileup), not with our own
parsers: what several test modules ask of the commands' outputs."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import pysam


def variant_records(path: Path) -> list[tuple[str, int, str, str]]:
    with gzip.open(path, "rt") as vcf:
        return [
            (fields[0], int(fields[1]), fields[3], fields[4])
            for fields in (line.split("\t") for line in vcf if not line.startswith("#"))
        ]


def called_sites(bam: Path, reference: Path) -> set[tuple[str, int]]:
    pileup = subprocess.run(["bcftools", "mpileup", "-f", str(reference), "-a", "AD", str(bam)], capture_output=True, check=True)
    calls = subprocess.run(["bcftools", "call", "-mv"], input=pileup.stdout, capture_output=True, check=True)
    return {(f[0], int(f[1])) for f in (line.split("\t") for line in calls.stdout.decode().splitlines() if not line.startswith("#"))}


def alt_observations(bam: Path, chrom: str, pos: int, ref: str, alt: str) -> int:
    """Reads carrying the ALT at a site, counted by pysam's pileup (independent of our parser)."""
    count = 0
    with pysam.AlignmentFile(str(bam)) as alignments:
        for column in alignments.pileup(chrom, pos - 1, pos, truncate=True, stepper="nofilter", ignore_orphans=False,
                                        min_base_quality=0, ignore_overlaps=False):
            for read in column.pileups:
                sequence = read.alignment.query_sequence
                if len(ref) == len(alt) == 1:
                    if not read.is_del and not read.is_refskip and sequence and sequence[read.query_position or 0] == alt:
                        count += 1
                elif len(alt) != len(ref) and read.indel == len(alt) - len(ref):
                    count += 1
    return count
