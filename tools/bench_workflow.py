"""Cost of the cohort workflow per sample and per BAM read, and what 1M genomes at 30x would cost.

    python tools/bench_workflow.py [--scale small full] [--runs N] [--by-process]

One simulated patient (tumour BAM, normal BAM, germline and somatic VCF, tumour FASTQ pair;
150 bp reads, ~30x over a genome of ``--contig-length`` x 1.5 + chrM) run these ways, alternated:

- ``samtools view -h | samtools view -b``, both BAMs: decoding and encoding alone (the baseline);
- the genoscrub BAM pipes by hand, one BAM after the other, no scatter, no FASTQ, no VCF;
- the same three commands in one process, as the workflow runs them (workflow/sam_chain.py);
- the workflow, ``snakemake --cores 2``, everything (BAMs, VCFs, FASTQ pair, reports, linkage):
  with its defaults (BAMs this small are one part each), with every BAM cut by chromosome
  (``scatter_min_mb=0``, as a 30x genome is), with ``fastq: from_reverted_bam``, and with a
  region list masking the share of reads GRCh38's five presets mask (``PRESET_SHARE_REGIONS`` of
  the simulated repeats: ~0.05 % of the reads, where the example's whole repeat list masks ~7 %),
  and that again with the BAMs written at BGZF level 1 (``bam_compression_level``);
- ``snakemake -n``: Snakemake's start and planning, paid once per run, not per sample (a cohort
  of N samples shares it); the bench's one-sample runs include it;
- at the small scale, the workflow with its defaults on a cohort of three samples (the same
  patient's files under three sample IDs): what one more sample costs in a cohort, with the
  run's start and planning left out.

With ``--by-process`` (root: tools/process_cpu.py switches on the kernel's process accounting),
each scale's folder also runs the workflow's defaults once more, after the timed runs, and
prints its CPU by step (the SAM filters, BAM encoding and decoding, the gate's audit, Snakemake,
...); given both scales, each step's CPU per BAM read and fixed CPU too: where the workflow's
cost beyond the baseline goes.

It prints CPU seconds (the children's user+sys, the figure that scales to a cluster; wall time
on a shared 2-core machine says little). Given both scales, it also prints each pipeline's
marginal CPU per BAM read, (full - small) / (reads full - reads small), its ratio to the
baseline's, and its fixed CPU per sample, small - marginal x reads small (the run's planning
included); and the fixed CPU of one more sample in a cohort, (cohort of 3 - one sample) / 2 -
marginal x reads small: the figures the README's table and 1M-genome estimate are made of.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shlex
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

try:
    from tools.benchlib import table, time_pipeline
    from tools.process_cpu import Process, accounted, by_label
    from tools.simulate import simulate
except ModuleNotFoundError:  # run as a script: python tools/bench_workflow.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tools.benchlib import table, time_pipeline
    from tools.process_cpu import Process, accounted, by_label
    from tools.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
SCALES = {"small": 100_000, "full": 1_000_000}  # chr1 length; chr2 is half, plus chrM
READS_30X_WGS = 3.1e9 * 30 / 150
GENOMES = 1_000_000
BASELINE = "samtools view -h | samtools view -b"
PLANNING = "snakemake -n: start and planning, once a run"
DEFAULTS = "workflow, defaults (BAMs whole)"
COHORT = "workflow, defaults, cohort of 3 samples"
COHORT_SIZE = 3
PRESET_SHARE_REGIONS = 4
"""Simulated repeats masked by the preset-share run. Each masks ~37 of a full-scale BAM's 303k
reads (the 596 of the example mask 7.3 %), so 4 mask ~0.05 %: the share that codis-str,
forensic-str, y-str, identity-snp and mt-control (~190 loci, ~66 kb with their 100 bp flanks,
most reads of them on chrM's control region) mask in a 30x GRCh38 genome, chrM reads taken as
~0.5 % of all."""
PRESET_SHARE = "workflow, regions: a GRCh38 preset's share"
PRESET_SHARE_FAST_BAM = "the same, bam_compression_level: 1"


def cohort_of_one(folder: Path, contig_length: int) -> int:
    """One patient, the example config's layout; returns the reads in both BAMs."""
    result = simulate(folder / "patient1", seed=1, contig_length=contig_length, read_length=150)
    for name in ("ref.fa", "ref.fa.fai", "repeats.bed", "population.vcf.gz", "population.vcf.gz.tbi", "ids.tsv"):
        shutil.copyfile(folder / "patient1" / name, folder / name)
    (folder / "ids.tsv").chmod(0o600)  # the map: the workflow refuses it readable by others
    columns = ["tumour_bam", "normal_bam", "germline_vcf", "somatic_vcf", "fastq_r1", "fastq_r2"]
    files = ["tumour.bam", "normal.bam", "germline.vcf.gz", "somatic.vcf.gz", "tumour_R1.fastq.gz", "tumour_R2.fastq.gz"]
    row = "\t".join(f"patient1/{f}" for f in files)
    (folder / "samples.tsv").write_text("sample\t" + "\t".join(columns) + "\nS2301217\t" + row + "\n")
    cohort = "".join(f"S230121{7 + k}\t{row}\n" for k in range(COHORT_SIZE))
    (folder / "cohort.tsv").write_text("sample\t" + "\t".join(columns) + "\n" + cohort)
    repeats = (folder / "repeats.bed").read_text().splitlines(keepends=True)
    (folder / "preset_share.bed").write_text("".join(repeats[:PRESET_SHARE_REGIONS]))
    (folder / "preset_share.yaml").write_text("regions:\n  presets: []\n  beds: [preset_share.bed]\n  flank: 0\n")
    private = folder / "private"
    private.mkdir(mode=0o700)
    key = private / "site.key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o600)
    return 4 * int(result["counts"]["pairs"])


def workflow_run(folder: Path, config: str, options: str = "", configfile: str = "") -> str:
    """``configfile``: one more, over the example's."""
    return (
        f"cd {folder} && rm -rf results work private/links.tsv* .snakemake && {Path(sys.executable).parent}/snakemake -q {options}"
        f" --snakefile {ROOT}/workflow/Snakefile --configfile {ROOT}/workflow/config.example.yaml {configfile} --cores 2"
        f" --config 'scatter=[chr1,chr2]' {config} >/dev/null 2>&1"
    )


def pipelines(folder: Path, cohort: bool) -> dict[str, str]:
    bin_ = ROOT / "bin"
    patient = folder / "patient1"
    ids = f"--key-file {folder}/private/site.key --map {folder}/ids.tsv"
    baseline = " && ".join(
        f"samtools view -h --no-PG {patient}/{b}.bam | samtools view -b --no-PG -o /dev/null -" for b in ("tumour", "normal")
    )
    steps = [
        f"sam-scrub-rg -q --names {ids}",
        f"sam-revert-germline -q -r {folder}/ref.fa -v {patient}/germline.vcf.gz --keep-alignment-lists",
        f"sam-mask-regions -q -r {folder}/ref.fa --bed {folder}/repeats.bed --flank 0 --drop-alignment-lists",
    ]
    piped = " | ".join(f"{bin_}/{step}" for step in steps)
    bam = " && ".join(
        f"samtools view -h --no-PG {patient}/{b}.bam | {piped} | samtools view -b --no-PG -o /dev/null -" for b in ("tumour", "normal")
    )
    chain = " && ".join(
        f"samtools view -h --no-PG {patient}/{b}.bam | {sys.executable} {ROOT}/workflow/sam_chain.py {' '.join(map(shlex.quote, steps))}"
        " | samtools view -b --no-PG -o /dev/null -"
        for b in ("tumour", "normal")
    )
    return {
        BASELINE: baseline,
        "genoscrub BAM pipes, no scatter": bam,
        "the same in one process (sam_chain.py)": chain,
        DEFAULTS: workflow_run(folder, ""),
        "workflow, BAMs cut by chromosome": workflow_run(folder, "scatter_min_mb=0"),
        "workflow, fastq: from_reverted_bam": workflow_run(folder, "fastq=from_reverted_bam"),
        PRESET_SHARE: workflow_run(folder, "", configfile=f"{folder}/preset_share.yaml"),
        PRESET_SHARE_FAST_BAM: workflow_run(folder, "bam_compression_level=1", configfile=f"{folder}/preset_share.yaml"),
        PLANNING: workflow_run(folder, "", "-n"),
    } | ({COHORT: workflow_run(folder, "samples=cohort.tsv")} if cohort else {})


def workflow_step(process: Process) -> str:
    """The workflow's step a process belongs to, from its command line."""
    words = process.command.split()
    names = [Path(word).name for word in words]
    if "sam_chain.py" in names:
        return "SAM filters (workflow/sam_chain.py)"
    if "-c" in words and any(word.endswith("/filters") for word in words):  # a bin/ wrapper: the command after the package
        command = names[[word.endswith("/filters") for word in words].index(True) + 1]
        if command.startswith("vcf-"):
            return "VCF filters (vcf-*)"
        return f"{command} (the gate)" if command == "genoscrub-audit" else command
    if names and names[0] == "samtools" and "view" in words:
        return "samtools view -b: BAM encoding" if "-b" in words else "samtools view: BAM decoding"
    if any(name == "snakemake" for name in names):
        return "Snakemake: planning, scheduling"
    if names and names[0] in ("bgzip", "tabix", "bcftools"):
        return "bgzip, tabix, bcftools"
    script = next((name for name in names if name.endswith(".py")), None)
    return f"workflow/{script}" if script else "shells and the rest"


def by_process(folder: Path) -> dict[str, float]:
    """CPU seconds by step of one run of the workflow's defaults (tools/process_cpu.py)."""
    try:
        status, processes = accounted(workflow_run(folder, ""))
    except PermissionError as error:
        raise SystemExit(f"bench_workflow: --by-process: {error.strerror}") from None
    if status:
        raise SystemExit(f"bench_workflow: the workflow failed (exit {status}) under process accounting")
    return by_label(processes, workflow_step)


def print_steps(title: str, steps: dict[str, float], reads: int) -> None:
    total = sum(steps.values())
    print(f"\n{title:<44}{'CPU s':>9}{'share':>8}{'CPU us/read':>14}")
    for name, seconds in sorted(steps.items(), key=lambda item: -item[1]):
        print(f"{name:<44}{seconds:>9.2f}{seconds / total:>8.1%}{seconds / reads * 1e6:>14.1f}")
    print(f"{'all':<44}{total:>9.2f}{1:>8.1%}{total / reads * 1e6:>14.1f}")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure_scale(scale: str, runs: int, steps: dict[str, dict[str, float]] | None) -> tuple[int, dict[str, float]]:
    """Reads in both BAMs and the median CPU seconds of each pipeline at one scale; with
    ``steps`` given (``--by-process``), the workflow's CPU by step at this scale goes in it."""
    with tempfile.TemporaryDirectory(prefix="bench_workflow.") as temporary:
        folder = Path(temporary)
        reads = cohort_of_one(folder, SCALES[scale])
        megabytes = sum((folder / "patient1" / f"{b}.bam").stat().st_size for b in ("tumour", "normal")) / 1e6
        commands = pipelines(folder, cohort=scale == "small")
        walls: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, command in commands.items():
                before = cpu_seconds()
                walls[name].append(time_pipeline(command)[0])
                cpus[name].append(cpu_seconds() - before)
        if steps is not None:  # after the timed runs: the sampler of /proc costs CPU of its own
            steps[scale] = by_process(folder)
    if not runs:  # --runs 0 --by-process: the steps alone
        if steps is not None:
            print_steps(f"{DEFAULTS}, by step ({scale})", steps[scale], reads)
        return reads, {}
    medians = {name: statistics.median(values) for name, values in walls.items()}
    print(table(f"one sample, tumour + normal BAM, {scale}", medians, BASELINE, reads, megabytes))
    cpu = {name: statistics.median(values) for name, values in cpus.items()}
    print(f"\n{'pipeline':<44}{'CPU s':>9}{'CPU us/read':>14}{'ratio':>8}")
    for name, seconds in cpu.items():
        print(f"{name:<44}{seconds:>9.1f}{seconds / reads * 1e6:>14.1f}{seconds / cpu[BASELINE]:>8.2f}")
    if steps is not None:
        print_steps(f"{DEFAULTS}, by step ({scale})", steps[scale], reads)
    print()
    return reads, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=SCALES, nargs="+", default=["full"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--by-process", action="store_true", help="the workflow's CPU by step too (root: process accounting)")
    options = parser.parse_args()
    for folder in ("filters", "workflow"):  # as an install has them (make's install step writes them too)
        compileall.compile_dir(ROOT / folder, quiet=1)
    steps: dict[str, dict[str, float]] | None = {} if options.by_process else None
    measured = {scale: measure_scale(scale, options.runs, steps) for scale in options.scale}
    if {"small", "full"} <= measured.keys():
        (small_reads, small), (full_reads, full) = measured["small"], measured["full"]
        marginal = {name: (full[name] - small[name]) / (full_reads - small_reads) for name in full}
        if marginal:  # none with --runs 0
            print(f"{'marginal and fixed cost':<44}{'CPU us/read':>14}{'ratio':>8}{'fixed CPU s':>13}{'CPU-h, 1M x 30x WGS':>22}")
        for name, per_read in marginal.items():
            fixed = small[name] - per_read * small_reads
            print(
                f"{name:<44}{per_read * 1e6:>14.1f}{per_read / marginal[BASELINE]:>8.2f}{fixed:>13.1f}"
                f"{per_read * READS_30X_WGS * GENOMES / 3600:>22,.0f}"
            )
        if steps:
            print(f"\n{DEFAULTS + ', by step':<44}{'CPU us/read':>14}{'fixed CPU s':>13}")
            for name in sorted(steps["full"].keys() | steps["small"].keys(), key=lambda name: -steps["full"].get(name, 0.0)):
                per_read = (steps["full"].get(name, 0.0) - steps["small"].get(name, 0.0)) / (full_reads - small_reads)
                print(f"{name:<44}{per_read * 1e6:>14.1f}{steps['small'].get(name, 0.0) - per_read * small_reads:>13.1f}")
        if COHORT in small:
            another = (small[COHORT] - small[DEFAULTS]) / (COHORT_SIZE - 1) - marginal[DEFAULTS] * small_reads
            print(f"\nfixed CPU s of one more sample in a cohort (defaults, the run's planning shared): {another:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
