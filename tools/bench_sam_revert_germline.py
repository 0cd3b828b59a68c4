"""Benchmark sam-revert-germline against the bare samtools pipe and BAMboozle.

    python tools/bench_sam_revert_germline.py [--scale small|full] [--runs N]

``full`` is the README's bench size: 2M 150 bp pairs (4M records) at ~30x, about one
germline site per kb — the simulated set (tools/simulate.py, 100k pairs, 1 Mb
chr1) tiled 20 times by tools/scale_up.py; ``small`` is the simulated set itself. Every figure is a ratio
to pipelines measured side by side in the same run (tools/benchlib.py):

- the man page's pipe without the filter, ``samtools view -h | samtools view -b``
  (the baseline; the README's target lets the filter add at most 25 %);
- the same pipe with ``sam-revert-germline -v``, with ``--all``, and with
  ``--all --keep`` (the simulator's tumour-only keep list, screened
  with its population resource);
- BAMboozle 0.5.0 (``--p 1``), which reverts every difference, from a separate
  virtualenv (bench only, never a dependency): ``--bamboozle PATH`` or
  ``$BAMBOOZLE``; skipped with a note when absent;
- the filter alone, SAM text in and out, for its own throughput.

Then the peak memory for a 5-million-site germline VCF.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pysam

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.benchlib import measure, peak_rss_mib, table  # noqa: E402
from tools.scale_up import base_set, scale_up  # noqa: E402

COMMAND = ROOT / "bin" / "sam-revert-germline"
SCALES = {"small": 1, "full": 20}
"""Copies of the simulated set (100k pairs): about 30x either way."""


def big_germline_vcf(path: Path, reference: Path, sites: int) -> None:
    """Up to ``sites`` records over the simulated contigs (one a base at most): 90 % SNVs, 10 % 1-2 bp indels, each REF the
    reference's bases there (sam-revert-germline refuses a list whose REF differs)."""
    lengths = [(line.split("\t")[0], int(line.split("\t")[1])) for line in Path(f"{reference}.fai").read_text().splitlines()]
    fasta = pysam.FastaFile(str(reference))
    with path.open("w") as vcf:
        vcf.write("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        per_contig = sites // len(lengths)
        for name, length in lengths:
            bases = fasta.fetch(name).upper()
            step = max(1, (length - 20) / per_contig)
            rows = []
            for i in range(per_contig):
                position = 10 + int(i * step)
                if position >= length:  # a short contig holds fewer sites than its share
                    break
                base, after = bases[position - 1], bases[position]
                other = "G" if base != "G" else "A"
                alleles = (f"{base}\t{base}T" if i % 20 == 0 else f"{base}{after}\t{base}") if i % 10 == 0 else f"{base}\t{other}"
                rows.append(f"{name}\t{position}\t.\t{alleles}\t.\t.\t.\n")
                if len(rows) == 100_000:
                    vcf.write("".join(rows))
                    rows.clear()
            vcf.write("".join(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench-out")
    parser.add_argument("--bamboozle", default=os.environ.get("BAMBOOZLE") or shutil.which("BAMboozle"))
    options = parser.parse_args()
    copies = SCALES[options.scale]
    options.workdir.mkdir(exist_ok=True)
    data = base_set(options.workdir)
    if copies > 1:
        scale_up(data, copies, options.workdir / f"scaled_{copies}", ["ref", "bam", "vcf"])
        data = options.workdir / f"scaled_{copies}"
    bam, ref, germline = data / "tumour.bam", data / "ref.fa", data / "germline.vcf.gz"
    keep = f"--keep {data / 'germline_as_somatic.vcf.gz'} --population {data / 'population.vcf.gz'}"
    sam = data / "tumour.sam"
    if not sam.exists():
        subprocess.run(f"samtools view -h {bam} > {sam}", shell=True, check=True)
    out = options.workdir / "revert.out.bam"
    records = int(subprocess.run(["samtools", "view", "-c", str(bam)], capture_output=True, check=True).stdout)
    pipelines = {
        "samtools view -h | samtools view -b": f"samtools view -h {bam} | samtools view -b -o {out} -",
        "same pipe + sam-revert-germline -v": f"samtools view -h {bam} | {COMMAND} -q -r {ref} -v {germline} | samtools view -b -o {out} -",
        "same pipe + sam-revert-germline --all": f"samtools view -h {bam} | {COMMAND} -q -r {ref} --all | samtools view -b -o {out} -",
        "same pipe + sam-revert-germline --all --keep": (
            f"samtools view -h {bam} | {COMMAND} -q -r {ref} --all {keep} | samtools view -b -o {out} -"
        ),
        "sam-revert-germline -v, SAM to SAM": f"{COMMAND} -q -r {ref} -v {germline} {sam} > /dev/null",
        "sam-revert-germline --all, SAM to SAM": f"{COMMAND} -q -r {ref} --all {sam} > /dev/null",
        "sam-revert-germline --all --keep, SAM to SAM": f"{COMMAND} -q -r {ref} --all {keep} {sam} > /dev/null",
    }
    if options.bamboozle:
        bamboozle_out = options.workdir / "bamboozle.bam"
        pipelines["BAMboozle 0.5.0 --p 1"] = f"{options.bamboozle} --bam {bam} --out {bamboozle_out} --fa {ref} --p 1 > /dev/null"
    medians = measure(pipelines, options.runs)
    megabytes = sam.stat().st_size / 1e6
    print(table(f"sam-revert-germline, {options.scale}", medians, "samtools view -h | samtools view -b", records, megabytes))
    if options.bamboozle:
        bamboozle = medians["BAMboozle 0.5.0 --p 1"]
        for name in (
            "same pipe + sam-revert-germline -v",
            "same pipe + sam-revert-germline --all",
            "same pipe + sam-revert-germline --all --keep",
            "sam-revert-germline -v, SAM to SAM",
            "sam-revert-germline --all, SAM to SAM",
            "sam-revert-germline --all --keep, SAM to SAM",
        ):
            print(f"throughput vs BAMboozle: {name}: {bamboozle / medians[name]:.2f}x")
    else:
        print("BAMboozle not found: pip install bamboozle==0.5.0 into a separate venv and pass --bamboozle PATH")
    big = ref.with_name("germline_5M_on_reference.vcf")  # beside its reference: a scale's genome is its own
    if not big.exists():
        big_germline_vcf(big, ref, 5_000_000)
    head = options.workdir / "head.sam"
    subprocess.run(f"samtools view -h {bam} | head -n 20000 > {head}", shell=True, check=True)
    with big.open() as vcf:
        sites = sum(1 for line in vcf if not line.startswith("#"))
    big_rss = peak_rss_mib(f"{COMMAND} -q -r {ref} -v {big} {head} > /dev/null")
    print(f"peak RSS with a {sites:,}-site germline VCF (a site at most every base): {big_rss} MiB; "
          f"with the simulated VCF on all {records:,} reads: {peak_rss_mib(f'{COMMAND} -q -r {ref} -v {germline} {sam} > /dev/null')} MiB")


if __name__ == "__main__":
    main()
