"""Benchmark fastq-scrub-names against cat, the equivalent mawk one-liner and seqkit.

    python tools/bench_fastq_scrub_names.py [--scale small|full] [--runs N]

``full`` renames 2M Illumina-named 150 bp records (the README's bench size): R1 of the
simulated tumour (tools/simulate.py, 100k pairs) tiled 20 times by
tools/scale_up.py; ``small`` tiles it twice (200k records).
Figures are ratios to pipelines measured side by side in the same run.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from tools.benchlib import measure, peak_rss_mib, table
from tools.scale_up import base_set, scale_up

ROOT = Path(__file__).resolve().parents[1]
COMMAND = ROOT / "bin" / "fastq-scrub-names"
COPIES = {"small": 2, "full": 20}
"""Copies of the simulated R1 (100k records)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=sorted(COPIES), default="small")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench-out")
    options = parser.parse_args()
    copies = COPIES[options.scale]
    options.workdir.mkdir(exist_ok=True)
    fastq = scale_up(base_set(options.workdir), copies, options.workdir / f"scaled_{copies}", ["fastq"])["fastq"]
    with fastq.open("rb") as lines:
        records = sum(1 for _ in lines) // 4
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
    print(f"peak RSS: {peak_rss_mib(f'{COMMAND} -q {half} > /dev/null')} MiB on {records // 2:,} records, "
          f"{peak_rss_mib(f'{COMMAND} -q {fastq} > /dev/null')} MiB on {records:,}")
    half.unlink()


if __name__ == "__main__":
    main()
