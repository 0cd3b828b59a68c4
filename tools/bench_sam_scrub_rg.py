"""Benchmark sam-scrub-rg in the pipe its man page shows, against the same pipe without it.

    python tools/bench_sam_scrub_rg.py [--scale small|full] [--runs N]

Baseline: ``samtools view -h x.bam | samtools view -b -o /dev/null -``; the
filter goes in the middle. The input is the simulated tumour BAM
(tools/simulate.py: 100k pairs of 150 bp, 2 read groups, coordinate-sorted,
every record carrying RG:Z, some a PG:Z, a header full of identifiers) tiled by
tools/scale_up.py: 20 copies for ``full``, the README's bench size (2M read pairs),
2 for ``small``. Figures are ratios to the baseline measured in the same
run. Peak RSS of ``--names`` (counter, the one scheme that keeps a table) is
measured on half and all of the input to show it does not grow with the input.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runnable as ``python tools/bench_sam_scrub_rg.py``

from tools.benchlib import measure, table  # noqa: E402
from tools.scale_up import base_set, read_pairs, scale_up  # noqa: E402

COMMAND = ROOT / "bin" / "sam-scrub-rg"
COPIES = {"small": 2, "full": 20}
"""Copies of the simulated tumour BAM (100k pairs)."""


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
    parser.add_argument("--scale", choices=sorted(COPIES), default="small")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench-out")
    options = parser.parse_args()
    copies = COPIES[options.scale]
    options.workdir.mkdir(exist_ok=True)
    base = base_set(options.workdir)
    bam, half = (scale_up(base, count, options.workdir / f"scaled_{count}", ["bam"])["bam"] for count in (copies, copies // 2))
    pairs = read_pairs(bam)
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
