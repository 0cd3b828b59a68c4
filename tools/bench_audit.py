"""Benchmark genoscrub-audit on a BAM against ``samtools view`` decoding the same BAM.

    python tools/bench_audit.py [--scale small|full] [--runs N]

The README's target: a BAM is audited at least as fast as ``samtools view`` decodes it
(to SAM text, ``> /dev/null``). The BAM is what the audit sees in practice, a
delivery: the simulated tumour BAM (tools/simulate.py, 100k pairs of 150 bp) tiled by
tools/scale_up.py (2 copies for ``small``, 20 for ``full``) and put through
sam-scrub-rg --names and sam-revert-germline once, as the pipeline does. Figures are
ratios of median wall times measured side by side, alternating, and of CPU seconds
(all processes: the audit uses one worker per CPU, ``samtools view`` one thread). Peak
RSS is measured on half and all of the input to show that it does not grow.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runnable as ``python tools/bench_audit.py``

from tools.bench_sam_scrub_rg import cpu_seconds  # noqa: E402
from tools.benchlib import measure, peak_rss_mib, table  # noqa: E402
from tools.scale_up import base_set, read_pairs, scale_up  # noqa: E402

BIN = ROOT / "bin"
COPIES = {"small": 2, "full": 20}


def code_stamp() -> str:
    """A digest of the commands' sources: a delivery cached by another version of them is stale
    (the audit would judge what older scrubbers wrote, and may rightly fail it)."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "filters").glob("*.[pc]*")):
        if path.suffix in (".py", ".c"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def delivered(scaled: dict[str, Path], workdir: Path) -> Path:
    """The scaled tumour BAM after sam-scrub-rg --names and sam-revert-germline, made again
    whenever the commands' sources changed (:func:`code_stamp`)."""
    out = workdir / "delivered.bam"
    stamp = workdir / "delivered.stamp"
    current = code_stamp()
    if not out.exists() or not stamp.exists() or stamp.read_text() != current:
        out.unlink(missing_ok=True)
        key = workdir / "bench.key"
        key.write_bytes(b"bench key, not a secret, 32 byte")
        key.chmod(0o600)
        command = (
            f"samtools view -h --no-PG {scaled['bam']} | {BIN}/sam-scrub-rg -q --key-file {key} --names "
            f"| {BIN}/sam-revert-germline -q -r {scaled['ref']} -v {scaled['germline']} | samtools view -b --no-PG -o {out}.part -"
        )
        subprocess.run(["bash", "-o", "pipefail", "-c", command], check=True)
        Path(f"{out}.part").rename(out)
        stamp.write_text(current)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=sorted(COPIES), default="small")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench-out")
    options = parser.parse_args()
    copies = COPIES[options.scale]
    options.workdir.mkdir(exist_ok=True)
    base = base_set(options.workdir)
    work = options.workdir / f"audit_{copies}"
    work.mkdir(exist_ok=True)
    scaled = scale_up(base, copies, options.workdir / f"scaled_{copies}", ["bam", "vcf", "ref"])
    bam = delivered(scaled, work)
    half_scaled = scale_up(base, max(1, copies // 2), options.workdir / f"scaled_{max(1, copies // 2)}", ["bam", "vcf", "ref"])
    half_work = options.workdir / f"audit_{max(1, copies // 2)}"
    half_work.mkdir(exist_ok=True)
    half = delivered(half_scaled, half_work)
    forbid = base / "forbidden.txt"
    audit = f"{BIN}/genoscrub-audit -q"
    germline = f"--germline {scaled['germline']} -r {scaled['ref']}"
    pipelines = {
        "samtools view x.bam > /dev/null": f"samtools view {bam} > /dev/null",
        "genoscrub-audit (metadata)": f"{audit} {bam}",
        "genoscrub-audit --forbid": f"{audit} --forbid {forbid} {bam}",
        "genoscrub-audit --forbid --germline": f"{audit} --forbid {forbid} {germline} {bam}",
        "genoscrub-audit -j 1 (metadata)": f"{audit} -j 1 {bam}",
    }
    medians = measure(pipelines, options.runs)
    records = read_pairs(bam) * 2
    megabytes = bam.stat().st_size / 1e6
    print(table("genoscrub-audit on a delivered BAM", medians, "samtools view x.bam > /dev/null", records, megabytes))
    cpu = {name: min(cpu_seconds(command) for _ in range(2)) for name, command in pipelines.items()}
    baseline = cpu["samtools view x.bam > /dev/null"]
    for name, seconds in cpu.items():
        print(f"CPU (user+sys, all processes) {name:<44}{seconds:>8.2f} s {seconds / baseline:>6.2f}")
    for label, with_germline in (("", False), ("--forbid --germline ", True)):
        sizes = []
        for path, files in ((half, half_scaled), (bam, scaled)):
            flags = f"--forbid {forbid} --germline {files['germline']} -r {files['ref']}" if with_germline else ""
            sizes.append(peak_rss_mib(f"{audit} -j 1 {flags} {path}"))
        print(f"peak RSS of genoscrub-audit -j 1 {label}: {sizes[0]} MiB on half the BAM, {sizes[1]} MiB on all of it")


if __name__ == "__main__":
    main()
