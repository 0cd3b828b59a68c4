"""Benchmark sam-mask-regions and vcf-drop-regions in their pipes, against the same pipes without them.

    python tools/bench_regions.py [--scale small|full] [--runs N]

Inputs: the simulated set (tools/simulate.py) tiled by tools/scale_up.py, with
its planted tandem repeats (repeats.bed, tiled alike) as the regions: the same
code path as the STR presets, whose GRCh38 coordinates the simulated genome
does not have: every planted repeat (about one per 1.5 kb, a worst case), and a
panel of one repeat in a hundred (still far denser than a forensic panel). SAM baseline: ``samtools view -h x.bam | samtools view -b -o
/dev/null -``, the filter in the middle masking, and with ``--drop``. VCF
baseline: ``bcftools view x.vcf.gz`` into /dev/null, the filter after it, and
``bcftools view -T ^repeats.bed`` (bcftools' own region filter) for comparison.
``full`` is 2M read pairs (20 copies of the simulated tumour) and 1M VCF
records (the VCF benchmark's cohort); ``small`` a tenth. Figures are
ratios to the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runnable as ``python tools/bench_regions.py``

from tools.benchlib import measure, table  # noqa: E402
from tools.scale_up import base_set, read_pairs, scale_up, vcf_records  # noqa: E402

SAM_COMMAND = ROOT / "bin" / "sam-mask-regions"
VCF_COMMAND = ROOT / "bin" / "vcf-drop-regions"
SIZES = {"small": (2, 100_000), "full": (20, 1_000_000)}
"""Copies of the simulated tumour BAM (100k pairs); VCF records."""


def panel(repeats: Path, every: int = 100) -> Path:
    """One planted repeat in ``every``: a locus list about as sparse as a forensic STR panel
    can be on a genome this small (the presets hold tens of loci on 3 Gb)."""
    path = repeats.with_name("panel.bed")
    path.write_text("".join(repeats.read_text().splitlines(keepends=True)[::every]))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=sorted(SIZES), default="small")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench-out")
    options = parser.parse_args()
    copies, wanted = SIZES[options.scale]
    options.workdir.mkdir(exist_ok=True)
    base = base_set(options.workdir)
    sam_set = scale_up(base, copies, options.workdir / f"scaled_{copies}", ["bam", "bed"])
    bam, bam_repeats = sam_set["bam"], sam_set["bed"]
    pairs = read_pairs(bam)
    vcf_copies = math.ceil(wanted / vcf_records(base / "germline.vcf.gz"))
    vcf_set = scale_up(base, vcf_copies, options.workdir / f"scaled_{vcf_copies}", ["vcf", "bed"])
    vcf, strs = vcf_set["germline"], vcf_set["bed"]
    records = vcf_records(vcf)

    decode = f"samtools view -h {bam}"
    encode = "samtools view -b -o /dev/null -"
    bam_panel = panel(bam_repeats)
    sam_pipelines = {
        "samtools view -h | samtools view -b": f"{decode} | {encode}",
        "... | sam-mask-regions --bed panel.bed | ...": f"{decode} | {SAM_COMMAND} -q --bed {bam_panel} | {encode}",
        "... | sam-mask-regions --drop --bed panel.bed": f"{decode} | {SAM_COMMAND} -q --drop --bed {bam_panel} | {encode}",
        "... | sam-mask-regions --bed repeats.bed | ...": f"{decode} | {SAM_COMMAND} -q --bed {bam_repeats} | {encode}",
    }
    medians = measure(sam_pipelines, options.runs)
    megabytes = bam.stat().st_size / 1e6
    print(table("sam-mask-regions (BAM in, BAM out)", medians, "samtools view -h | samtools view -b", 2 * pairs, megabytes), flush=True)

    view = f"bcftools view {vcf}"
    vcf_panel = panel(strs)
    vcf_pipelines = {
        "bcftools view": f"{view} > /dev/null",
        "bcftools view | vcf-drop-regions --bed panel.bed": f"{view} | {VCF_COMMAND} -q --bed {vcf_panel} > /dev/null",
        "bcftools view -T ^panel.bed": f"bcftools view -T ^{vcf_panel} {vcf} > /dev/null",
        "bcftools view | vcf-drop-regions --bed repeats.bed": f"{view} | {VCF_COMMAND} -q --bed {strs} > /dev/null",
        "bcftools view -T ^repeats.bed": f"bcftools view -T ^{strs} {vcf} > /dev/null",
    }
    medians = measure(vcf_pipelines, options.runs)
    print(table("vcf-drop-regions (bgzipped VCF in)", medians, "bcftools view", records, vcf.stat().st_size / 1e6), flush=True)


if __name__ == "__main__":
    main()
