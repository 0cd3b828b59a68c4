"""Benchmark sam-scrub-rg in the pipe the issue names, against the same pipe without it.

    python tests/bench_sam_scrub_rg.py [--scale small|full] [--runs N]

Baseline: ``samtools view -h x.bam | samtools view -b -o /dev/null -``; the
filter goes in the middle. ``full`` is the issue's size (2M read pairs, 2 read
groups, coordinate-sorted, every record carrying RG:Z and a Picard-style PG:Z);
``small`` is 200k pairs. Figures are ratios to the baseline measured in the same
run. Peak RSS of ``--names`` (counter, the one scheme that keeps a table) is
measured on half and all of the input to show it does not grow with the input.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runnable as ``python tests/bench_sam_scrub_rg.py``

from tests.benchlib import measure, table  # noqa: E402

COMMAND = ROOT / "bin" / "sam-scrub-rg"
SIZES = {"small": 200_000, "full": 2_000_000}
READ_LENGTH = 150
STEP = 50  # a pair starts every STEP bases; the mate starts INSERT - READ_LENGTH later
INSERT = 350
HEADER = (
    "@HD\tVN:1.6\tSO:coordinate\n"
    "@SQ\tSN:chr1\tLN:{length}\tUR:file:///data/ref/hg38.fa\n"
    "@RG\tID:HD753_S1.L001\tSM:HD753_S1\tLB:HD753_lib1\tPL:ILLUMINA\tPU:MISEQ.L001\tCN:SeoulHospital\tDT:2023-10-29\n"
    "@RG\tID:HD753_S1.L002\tSM:HD753_S1\tLB:HD753_lib1\tPL:ILLUMINA\tPU:MISEQ.L002\tCN:SeoulHospital\tDT:2023-10-29\n"
    "@PG\tID:bwa\tPN:bwa\tVN:0.7.17\tCL:bwa mem -t 8 /data/ref/hg38.fa /home/kim/HD753_S1_R1.fastq.gz\n"
    "@PG\tID:MarkDuplicates\tPN:MarkDuplicates\tPP:bwa\tCL:MarkDuplicates I=/home/kim/HD753.bam\n"
    "@CO\tpatient HD753, specimen 2023-10-29\n"
)


def sam_lines(pairs: int, seed: int = 11) -> Iterator[str]:
    """Coordinate-sorted pairs: at each position, the mate of an earlier pair, then a new pair."""
    rng = random.Random(seed)
    sequences = ["".join(rng.choice("ACGT") for _ in range(READ_LENGTH)) for _ in range(64)]
    qualities = ["".join(rng.choice("#-7<AFJ") for _ in range(READ_LENGTH)) for _ in range(64)]
    lag = (INSERT - READ_LENGTH) // STEP
    mate_start = INSERT - READ_LENGTH

    def record(index: int, second: bool) -> str:
        start = 1 + index * STEP
        position, mate = (start + mate_start, start) if second else (start, start + mate_start)
        flag, length = (147, -INSERT) if second else (99, INSERT)
        group = 1 + index % 2
        name = f"M04123:123:000000000-ABCDE:1:{1101 + index // 100_000}:{index % 30_000}:{index % 977}"
        return (
            f"{name}\t{flag}\tchr1\t{position}\t60\t{READ_LENGTH}M\t=\t{mate}\t{length}\t{sequences[index % 64]}\t"
            f"{qualities[(index + second) % 64]}\tNM:i:0\tMD:Z:{READ_LENGTH}\tMC:Z:{READ_LENGTH}M\tAS:i:{READ_LENGTH}\t"
            f"XS:i:0\tRG:Z:HD753_S1.L00{group}\tPG:Z:MarkDuplicates\n"
        )

    for index in range(pairs + lag):
        if index >= lag:
            yield record(index - lag, True)
        if index < pairs:
            yield record(index, False)


def write_bam(path: Path, pairs: int) -> None:
    """SAM text generated here, encoded by samtools into a BAM (kept between runs)."""
    length = pairs * STEP + INSERT + 1000
    with subprocess.Popen(["samtools", "view", "-b", "--no-PG", "-o", str(path), "-"], stdin=subprocess.PIPE) as encoder:
        assert encoder.stdin is not None
        encoder.stdin.write(HEADER.format(length=length).encode())
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


def peak_rss_kib(source: Path, flags: str, workdir: Path) -> int:
    """Peak RSS of sam-scrub-rg alone, fed by samtools."""
    measured = workdir / "peak_rss.txt"
    command = f"samtools view -h {source} | /usr/bin/time -f %M -o {measured} {COMMAND} -q {flags} > /dev/null"
    subprocess.run(["bash", "-o", "pipefail", "-c", command], check=True)
    return int(measured.read_text().strip().splitlines()[-1])


def cpu_seconds(command: str) -> float:
    """User + system CPU of every process of one pipeline run.

    On a shared machine wall time depends on what else runs; CPU time hardly
    does, and on a machine with no spare core the pipe's wall time follows it.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["bash", "-o", "pipefail", "-c", command], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=sorted(SIZES), default="small")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench-out")
    options = parser.parse_args()
    pairs = SIZES[options.scale]
    options.workdir.mkdir(exist_ok=True)
    bam = options.workdir / f"bench_sam_scrub_rg_{pairs}.bam"
    half = options.workdir / f"bench_sam_scrub_rg_{pairs // 2}.bam"
    for path, count in ((bam, pairs), (half, pairs // 2)):
        if not path.exists():
            write_bam(path, count)
    key = options.workdir / "bench.key"
    key.write_bytes(b"bench key, not a secret, 32 byte")
    key.chmod(0o600)
    decode = f"samtools view -h {bam}"
    encode = "samtools view -b -o /dev/null -"
    pipelines = {
        "samtools view -h | samtools view -b": f"{decode} | {encode}",
        "... | sam-scrub-rg | ...": f"{decode} | {COMMAND} -q | {encode}",
        "... | sam-scrub-rg --names --key-file | ...": f"{decode} | {COMMAND} -q --names --key-file {key} | {encode}",
        "... | sam-scrub-rg --names (counter) | ...": f"{decode} | {COMMAND} -q --names | {encode}",
    }
    medians = measure(pipelines, options.runs)
    megabytes = int(subprocess.run(f"{decode} | wc -c", shell=True, capture_output=True, text=True, check=True).stdout) / 1e6
    print(table("sam-scrub-rg", medians, "samtools view -h | samtools view -b", pairs * 2, megabytes))
    cpu = {name: min(cpu_seconds(command) for _ in range(2)) for name, command in pipelines.items()}
    baseline_cpu = cpu["samtools view -h | samtools view -b"]
    for name, seconds in cpu.items():
        print(f"CPU (user+sys, all processes) {name:<44}{seconds:>8.2f} s {seconds / baseline_cpu:>6.2f}")
    for label, flags in (("", ""), ("--names (counter) ", "--names"), ("--names --key-file ", f"--names --key-file {key}")):
        sizes = [peak_rss_kib(path, flags, options.workdir) // 1024 for path in (half, bam)]
        print(f"peak RSS of sam-scrub-rg {label}: {sizes[0]} MiB on {pairs:,} reads, {sizes[1]} MiB on {pairs * 2:,}")


if __name__ == "__main__":
    main()
