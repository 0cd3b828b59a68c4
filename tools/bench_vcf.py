#!/usr/bin/env python3
"""Speed of vcf-scrub-header and vcf-drop-rare in the pipes users run.

    python tools/bench_vcf.py [--scale small|full] [--runs 3] [--workdir DIR]

The inputs are the simulated set (tools/simulate.py) scaled up by tools/scale_up.py:
its germline VCF tiled into a 2-sample cohort shaped as HaplotypeCaller writes one
(a header with identifying lines, private variant IDs, SNVs and indels, INFO AC/AF/AN
and rank sums, FORMAT GT:AD:DP:GQ:PL; about 250 bytes a record) and its population
VCF (INFO AF, AF_eas; most cohort sites plus population-only sites), plus the cohort
annotated with the population's AF fields by ``bcftools annotate`` for ``--af-key``.
Then it times, alternating runs (benchlib):

- ``bcftools view x.vcf.gz | FILTER | bgzip`` against the same pipe without FILTER,
  for vcf-scrub-header and vcf-drop-rare --af-key AF_eas (target: ratio <= 1.10);
- ``bcftools view x.vcf.gz | vcf-drop-rare --population pop.vcf.gz --af-key AF_eas | bgzip``
  against ``bcftools annotate -a pop.vcf.gz -c INFO/AF_eas x.vcf.gz | bcftools view -i ... | bgzip``
  (target: ratio <= 1.00);
- the same join with the workflow's somatic settings, with and without ``--germline`` (a list as
  large as the input: its calls moved one base along, so almost none match and the output stays).

``full`` is the README's bench size (1,000,000 records); ``small`` (100,000) takes about a minute.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.benchlib import measure, table  # noqa: E402
from tools.scale_up import base_set, scale_up, vcf_records  # noqa: E402

SCALES = {"small": 100_000, "full": 1_000_000}


def write_data(workdir: Path, records: int) -> tuple[Path, Path, Path, int]:
    """The tiled cohort (2 samples), the same annotated with the population's AF and AF_eas
    (as a VEP/bcftools-annotated file carries them, for --af-key), the tiled population VCF,
    and how many cohort records there are; cached in ``workdir``."""
    base = base_set(workdir)
    copies = math.ceil(records / vcf_records(base / "germline.vcf.gz"))
    paths = scale_up(base, copies, workdir / f"scaled_{copies}", ["vcf"])
    cohort, population = paths["germline"], paths["population"]
    annotated = cohort.with_name("germline.af.vcf.gz")
    if not annotated.exists():
        subprocess.run(["bcftools", "annotate", "--no-version", "-a", str(population), "-c", "INFO/AF,INFO/AF_eas",
                        "-Oz", "-o", str(annotated), str(cohort)], check=True)
    return cohort, annotated, population, vcf_records(cohort)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench-out")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    cohort, annotated, population, records = write_data(args.workdir, SCALES[args.scale])
    megabytes = int(subprocess.run(f"bcftools view {cohort} | wc -c", shell=True, capture_output=True, text=True, check=True).stdout) / 1e6
    scrub, drop = ROOT / "bin" / "vcf-scrub-header", ROOT / "bin" / "vcf-drop-rare"
    out = args.workdir / "bench_vcf.out.vcf.gz"
    view = f"bcftools view {cohort}"
    filters = {
        "bcftools view | bgzip": f"{view} | bgzip > {out}",
        "bcftools view | vcf-scrub-header | bgzip": f"{view} | {scrub} -q | bgzip > {out}",
    }
    print(table("filters in a pipe", measure(filters, args.runs), "bcftools view | bgzip", records, megabytes))
    annotated_view = f"bcftools view {annotated}"
    af_key = {
        "bcftools view | bgzip (annotated)": f"{annotated_view} | bgzip > {out}",
        "bcftools view | vcf-drop-rare --af-key AF_eas | bgzip": f"{annotated_view} | {drop} -q --af-key AF_eas | bgzip > {out}",
    }
    print()
    print(table("vcf-drop-rare on an annotated file", measure(af_key, args.runs), "bcftools view | bgzip (annotated)", records, megabytes))
    rule = "'MIN(INFO/AF_eas)>=0.01 && 1-SUM(INFO/AF_eas)>=0.01'"
    join = {
        "bcftools annotate | bcftools view -i": f"bcftools annotate -a {population} -c INFO/AF_eas {cohort} | "
        f"bcftools view -i {rule} | bgzip > {out}",
        "bcftools view | vcf-drop-rare --population": f"{view} | {drop} -q --population {population} --af-key AF_eas | bgzip > {out}",
    }
    print()
    print(table("population join", measure(join, args.runs), "bcftools annotate | bcftools view -i", records, megabytes))
    # --germline: the list read whole, then one lookup a block. The list is the cohort's calls moved
    # one base along: as many records as the input, SNVs and indels alike, almost none matching, so
    # the output (and bgzip's work) stays the same and the difference is reading and looking up.
    listed = cohort.with_name("germline_list.vcf.gz")  # beside its cohort: a scale's genome is its own
    if not listed.exists():
        moved = "awk 'BEGIN {OFS=\"\\t\"} /^#/ {print; next} {$2 = $2 + 1; print}'"
        subprocess.run(f"bcftools view {cohort} | {moved} | bgzip > {listed}", shell=True, check=True)
    somatic = f"{view} | {drop} -q --population {population} --af-key AF_eas --drop-germline --keep-missing"
    germline = {
        "vcf-drop-rare --population (somatic settings)": f"{somatic} | bgzip > {out}",
        "the same with --germline (list as large as the input)": f"{somatic} --germline {listed} | bgzip > {out}",
    }
    print()
    print(table("germline list", measure(germline, args.runs), "vcf-drop-rare --population (somatic settings)", records, megabytes))
    out.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
