"""Benchmark sam-mask-regions and vcf-drop-regions in their pipes, against the same pipes without them.

    python tests/bench_regions.py [--scale small|full] [--runs N]

SAM baseline: ``samtools view -h x.bam | samtools view -b -o /dev/null -``, the
filter in the middle, with ``--preset codis-str`` (GRCh38 header; reads tile
chr13 around D13S317, so most reads pass untouched and some are masked), and
with ``--drop``. VCF baseline: ``bcftools view x.vcf.gz`` into /dev/null, the
filter after it with every STR preset, and ``bcftools view -T ^regions.bed``
(bcftools' own region filter) for comparison. ``full`` is 2M read pairs and
5M VCF records (the size of the other SAM benchmarks); ``small`` a tenth.
Figures are ratios to the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runnable as ``python tests/bench_regions.py``

from filters.regions import build_contig_lengths, preset_path  # noqa: E402
from tests.benchlib import measure, table  # noqa: E402

SAM_COMMAND = ROOT / "bin" / "sam-mask-regions"
VCF_COMMAND = ROOT / "bin" / "vcf-drop-regions"
SIZES = {"small": (200_000, 500_000), "full": (2_000_000, 5_000_000)}
READ_LENGTH = 150
INSERT = 350
LOCUS = 82_147_986  # D13S317, GRCh38 (filters/presets/codis-str.GRCh38.bed)
LENGTHS = build_contig_lengths("GRCh38")


def sam_lines(pairs: int, seed: int = 11) -> Iterator[str]:
    """Coordinate-sorted pairs on chr13, the locus in the middle; a pair every ``step`` bases."""
    rng = random.Random(seed)
    sequences = ["".join(rng.choice("ACGT") for _ in range(READ_LENGTH)) for _ in range(64)]
    qualities = ["".join(rng.choice("#-7<AFJ") for _ in range(READ_LENGTH)) for _ in range(64)]
    step = 3  # about 100x coverage: reads over the locus are a realistic share
    first = LOCUS - pairs * step // 2
    lag = (INSERT - READ_LENGTH) // step
    mate_start = INSERT - READ_LENGTH

    def record(index: int, second: bool) -> str:
        start = first + index * step
        position, mate = (start + mate_start, start) if second else (start, start + mate_start)
        flag, length = (147, -INSERT) if second else (99, INSERT)
        return (
            f"r{index}\t{flag}\tchr13\t{position}\t60\t{READ_LENGTH}M\t=\t{mate}\t{length}\t{sequences[index % 64]}\t"
            f"{qualities[(index + second) % 64]}\tNM:i:0\tMD:Z:{READ_LENGTH}\tMC:Z:{READ_LENGTH}M\tAS:i:{READ_LENGTH}\tRG:Z:g1\n"
        )

    for index in range(pairs + lag):
        if index >= lag:
            yield record(index - lag, True)
        if index < pairs:
            yield record(index, False)


def write_bam(path: Path, pairs: int) -> None:
    header = "@HD\tVN:1.6\tSO:coordinate\n" + "".join(f"@SQ\tSN:{name}\tLN:{length}\n" for name, length in LENGTHS.items())
    header += "@RG\tID:g1\tSM:s\tPL:ILLUMINA\n"
    with subprocess.Popen(["samtools", "view", "-b", "--no-PG", "-o", str(path), "-"], stdin=subprocess.PIPE) as encoder:
        assert encoder.stdin is not None
        encoder.stdin.write(header.encode())
        batch: list[str] = []
        for line in sam_lines(pairs):
            batch.append(line)
            if len(batch) == 20_000:
                encoder.stdin.write("".join(batch).encode())
                batch.clear()
        encoder.stdin.write("".join(batch).encode())
        encoder.stdin.close()
    if encoder.returncode:
        raise SystemExit("samtools could not write the benchmark BAM")


def write_vcf(path: Path, records: int, seed: int = 5) -> None:
    """Sorted SNVs on chr1..chr22, about one per 600 bases, bgzipped."""
    rng = random.Random(seed)
    autosomes = [f"chr{number}" for number in range(1, 23)]
    per_contig = records // len(autosomes) + 1
    header = ["##fileformat=VCFv4.2", *(f"##contig=<ID={name},length={length}>" for name, length in LENGTHS.items())]
    header += ['##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">', "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1"]
    with subprocess.Popen(["bgzip", "-c"], stdin=subprocess.PIPE, stdout=open(path, "wb")) as packer:
        assert packer.stdin is not None
        packer.stdin.write(("\n".join(header) + "\n").encode())
        written = 0
        for name in autosomes:
            step = max(1, (LENGTHS[name] - 1000) // per_contig)
            batch = []
            for index in range(per_contig):
                if written == records:
                    break
                batch.append(f"{name}\t{1 + index * step}\t.\tA\t{rng.choice('CGT')}\t50\tPASS\t.\tGT\t0/1\n")
                written += 1
            packer.stdin.write("".join(batch).encode())
        packer.stdin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=sorted(SIZES), default="small")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench-out")
    options = parser.parse_args()
    pairs, records = SIZES[options.scale]
    options.workdir.mkdir(exist_ok=True)
    bam = options.workdir / f"bench_regions_{pairs}.bam"
    vcf = options.workdir / f"bench_regions_{records}.vcf.gz"
    if not bam.exists():
        write_bam(bam, pairs)
    if not vcf.exists():
        write_vcf(vcf, records)
    strs = options.workdir / "bench_regions_strs.bed"
    strs.write_text("".join(preset_path(name, "GRCh38").read_text() for name in ("forensic-str", "y-str")))

    decode = f"samtools view -h {bam}"
    encode = "samtools view -b -o /dev/null -"
    sam_pipelines = {
        "samtools view -h | samtools view -b": f"{decode} | {encode}",
        "... | sam-mask-regions --preset codis-str | ...": f"{decode} | {SAM_COMMAND} -q --preset codis-str | {encode}",
        "... | sam-mask-regions --drop --preset codis-str": f"{decode} | {SAM_COMMAND} -q --drop --preset codis-str | {encode}",
    }
    medians = measure(sam_pipelines, options.runs)
    megabytes = bam.stat().st_size / 1e6
    print(table("sam-mask-regions (BAM in, BAM out)", medians, "samtools view -h | samtools view -b", 2 * pairs, megabytes), flush=True)

    view = f"bcftools view {vcf}"
    vcf_pipelines = {
        "bcftools view": f"{view} > /dev/null",
        "bcftools view | vcf-drop-regions (STR presets)": f"{view} | {VCF_COMMAND} -q --preset forensic-str --preset y-str > /dev/null",
        "bcftools view -T ^strs.bed": f"bcftools view -T ^{strs} {vcf} > /dev/null",
    }
    medians = measure(vcf_pipelines, options.runs)
    print(table("vcf-drop-regions (bgzipped VCF in)", medians, "bcftools view", records, vcf.stat().st_size / 1e6), flush=True)


if __name__ == "__main__":
    main()
