"""Benchmark fastq-scrub-names against cat, the equivalent mawk one-liner and seqkit.

    python tests/bench_fastq_scrub_names.py [--scale small|full] [--runs N]

``full`` renames 2M Illumina-named records (the issue's size); ``small`` 200k.
Figures are ratios to pipelines measured side by side in the same run.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
from pathlib import Path

from tests.benchlib import measure, table

ROOT = Path(__file__).resolve().parents[1]
COMMAND = ROOT / "bin" / "fastq-scrub-names"
SIZES = {"small": 200_000, "full": 2_000_000}


def write_fastq(path: Path, records: int, seed: int = 7) -> None:
    """Deterministic 150 bp Casava-named records, written a block at a time."""
    rng = random.Random(seed)
    sequences = ["".join(rng.choice("ACGT") for _ in range(150)) for _ in range(64)]
    qualities = ["".join(rng.choice("#-7<AFJ") for _ in range(150)) for _ in range(64)]
    with path.open("w") as out:
        for start in range(0, records, 10_000):
            out.write(
                "".join(
                    f"@M04123:123:000000000-ABCDE:1:{1101 + i // 50_000}:{i % 30_000}:{i % 977} 1:N:0:ATCACGAT+GTACTGCA\n"
                    f"{sequences[i % 64]}\n+\n{qualities[i % 64]}\n"
                    for i in range(start, min(start + 10_000, records))
                )
            )


def peak_rss_kib(command: str) -> int:
    result = subprocess.run(["/usr/bin/time", "-f", "%M", "bash", "-c", command], capture_output=True, text=True, check=True)
    return int(result.stderr.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=sorted(SIZES), default="small")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench-out")
    options = parser.parse_args()
    records = SIZES[options.scale]
    options.workdir.mkdir(exist_ok=True)
    fastq = options.workdir / f"bench_{records}.fastq"
    if not fastq.exists():
        write_fastq(fastq, records)
    key = options.workdir / "bench.key"
    key.write_bytes(b"bench key, not a secret, 32 byte")
    key.chmod(0o600)
    awk = "'NR%4==1{print \"@READ\" (NR+3)/4 \" 1:N:0\"; next} NR%4==3{print \"+\"; next} {print}'"
    pipelines = {
        "cat": f"cat {fastq} > /dev/null",
        "mawk one-liner (counter names)": f"mawk {awk} {fastq} > /dev/null",
        "fastq-scrub-names (counter)": f"{COMMAND} -q {fastq} > /dev/null",
        "fastq-scrub-names --key-file (HMAC)": f"{COMMAND} -q --key-file {key} {fastq} > /dev/null",
    }
    if shutil.which("seqkit"):
        pipelines["seqkit replace (counter names)"] = f"seqkit replace -p '^.+$' -r 'READ{{nr}}' {fastq} > /dev/null"
    medians = measure(pipelines, options.runs)
    megabytes = fastq.stat().st_size / 1e6
    print(table("fastq-scrub-names", medians, "mawk one-liner (counter names)", records, megabytes))
    half = options.workdir / "bench_half.fastq"
    with fastq.open("rb") as source, half.open("wb") as target:
        target.write(b"".join(source.readlines()[: (records // 2) * 4]))
    print(f"peak RSS: {peak_rss_kib(f'{COMMAND} -q {half} > /dev/null') // 1024} MiB on {records // 2:,} records, "
          f"{peak_rss_kib(f'{COMMAND} -q {fastq} > /dev/null') // 1024} MiB on {records:,}")
    half.unlink()


if __name__ == "__main__":
    main()
