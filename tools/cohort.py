"""Make the bundled example cohort for the workflow: two simulated patients, tumour and normal.

    python tools/cohort.py --out DIR [--pairs N]

Calls tools/simulate.py twice. Both patients share one seed, because the seed also draws the
reference genome and a cohort is aligned to one reference; they differ in their germline
variants (``--germline-per-kb`` 1.0 and 1.5), hence in their reads and call sets. The simulator
plants one fixed set of sample names, so the second patient's are renamed here
(``S2301217`` -> ``S2301388`` in BAM headers and ``RG:Z`` tags, VCF headers, the guideline map
and the forbidden list; pseudonyms ``CMx001`` -> ``CMx002``). Its files are named after its
sample IDs (``S2301388/S2301388T_20231029.bam``), as hospital files are, so a run's logs are
tested for leaking input file names too.

DIR then holds ``ref.fa``, ``population.vcf.gz`` (both patients' sites), ``ids.tsv`` (both
maps), ``forbidden.txt`` (both lists), ``samples.tsv`` (the sheet of
workflow/samples.example.tsv), ``private/site.key`` (mode 600, in a 0700 folder) and the
patients' folders. workflow/config.example.yaml runs on it from DIR.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

try:
    from tools.simulate import simulate
except ModuleNotFoundError:  # run as a script: python tools/cohort.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tools.simulate import simulate

FIRST, SECOND = "S2301217", "S2301388"
SHEET_HEADER = ["sample", "tumour_bam", "normal_bam", "germline_vcf", "somatic_vcf", "fastq_r1", "fastq_r2"]


def renamed(text: str) -> str:
    return text.replace(FIRST, SECOND)


def rename_bam(source: Path, target: Path) -> None:
    """Sample names live in the header and in RG:Z tags; SEQ and QUAL are left alone."""
    text = subprocess.run(["samtools", "view", "-h", "--no-PG", str(source)], check=True, capture_output=True).stdout.decode()
    lines = []
    for line in text.splitlines():
        if line.startswith("@"):
            lines.append(renamed(line))
        else:
            fields = line.split("\t")
            lines.append("\t".join(fields[:11] + [renamed(tag) for tag in fields[11:]]))
    subprocess.run(["samtools", "view", "-b", "--no-PG", "-o", str(target), "-"], input=("\n".join(lines) + "\n").encode(), check=True)
    subprocess.run(["samtools", "index", str(target)], check=True)


def rename_vcf(source: Path, target: Path) -> None:
    text = subprocess.run(["bcftools", "view", "--no-version", str(source)], check=True, capture_output=True).stdout.decode()
    lines = [renamed(line) if line.startswith("#") else line for line in text.splitlines()]
    with open(target, "wb") as out:
        subprocess.run(["bgzip", "-c"], input=("\n".join(lines) + "\n").encode(), stdout=out, check=True)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(target)], check=True)


def second_patient(raw: Path, folder: Path) -> dict[str, Path]:
    """The second patient's files, renamed, under hospital-style names."""
    folder.mkdir(parents=True, exist_ok=True)
    tumour, normal = f"{SECOND}T_20231029", f"{SECOND}N_20231029"
    files = {
        "tumour_bam": folder / f"{tumour}.bam",
        "normal_bam": folder / f"{normal}.bam",
        "germline_vcf": folder / f"{normal}.germline.vcf.gz",
        "somatic_vcf": folder / f"{tumour}.somatic.vcf.gz",
        "fastq_r1": folder / f"{tumour}_R1.fastq.gz",
        "fastq_r2": folder / f"{tumour}_R2.fastq.gz",
    }
    rename_bam(raw / "tumour.bam", files["tumour_bam"])
    rename_bam(raw / "normal.bam", files["normal_bam"])
    rename_vcf(raw / "germline.vcf.gz", files["germline_vcf"])
    rename_vcf(raw / "somatic.vcf.gz", files["somatic_vcf"])
    shutil.copyfile(raw / "tumour_R1.fastq.gz", files["fastq_r1"])
    shutil.copyfile(raw / "tumour_R2.fastq.gz", files["fastq_r2"])
    shutil.copyfile(raw / "truth.tsv", folder / "truth.tsv")
    return files


def make_cohort(out: Path, pairs: int | None = None) -> dict[str, dict[str, Path]]:
    """Write the cohort into ``out``; return {sample ID: {sheet column: path}}."""
    out.mkdir(parents=True, exist_ok=True)
    first = out / "patient1"
    simulate(first, seed=1, pairs=pairs, germline_per_kb=1.0)
    raw = out / "raw2"
    simulate(raw, seed=1, pairs=pairs, germline_per_kb=1.5)
    samples = {
        FIRST: {
            "tumour_bam": first / "tumour.bam",
            "normal_bam": first / "normal.bam",
            "germline_vcf": first / "germline.vcf.gz",
            "somatic_vcf": first / "somatic.vcf.gz",
            "fastq_r1": first / "tumour_R1.fastq.gz",
            "fastq_r2": first / "tumour_R2.fastq.gz",
        },
        SECOND: second_patient(raw, out / SECOND),
    }
    for name in ("ref.fa", "ref.fa.fai", "repeats.bed"):
        shutil.copyfile(first / name, out / name)
    population = out / "population.vcf.gz"
    subprocess.run(
        [
            "bcftools",
            "concat",
            "--no-version",
            "-a",
            "-D",
            "-Oz",
            "-o",
            str(population),
            str(first / "population.vcf.gz"),
            str(raw / "population.vcf.gz"),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(["tabix", "-f", "-p", "vcf", str(population)], check=True)
    second_ids = renamed((raw / "ids.tsv").read_text()).replace("001_", "002_")
    (out / "ids.tsv").write_text((first / "ids.tsv").read_text() + second_ids)
    (out / "ids.tsv").chmod(0o600)  # the map links originals to pseudonyms: the workflow refuses it readable by others
    forbidden = (first / "forbidden.txt").read_text().splitlines()
    forbidden += [line for line in map(renamed, forbidden) if line not in forbidden]
    (out / "forbidden.txt").write_text("".join(f"{line}\n" for line in forbidden))
    shutil.rmtree(raw)
    rows = ["\t".join(SHEET_HEADER)]
    for sample, files in samples.items():
        rows.append("\t".join([sample] + [str(files[column].relative_to(out)) for column in SHEET_HEADER[1:]]))
    (out / "samples.tsv").write_text("\n".join(rows) + "\n")
    private = out / "private"
    private.mkdir(mode=0o700, exist_ok=True)
    os.chmod(private, 0o700)
    key = private / "site.key"
    if not key.exists():
        descriptor = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(os.urandom(32))
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output directory (created if missing)")
    parser.add_argument("--pairs", type=int, default=None, help="read pairs per sample (default: about 30x)")
    args = parser.parse_args(argv)
    make_cohort(args.out, args.pairs)
    print(f"cohort: 2 patients -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
