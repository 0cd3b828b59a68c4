"""The cohort workflow through SLURM gives what it gives locally (`make test-cluster`).

`make test-cluster` starts a one-node SLURM cluster (tools/slurm_cluster.py) and sets
GENOSCRUB_TEST_CLUSTER=1; elsewhere this module skips with one line. With the variable set and
no cluster answering, it fails: a cluster test that cannot reach its cluster has not passed.

The bundled two-patient cohort runs twice from one copy of its files (same key, same inputs):
locally with workflow/profiles/local, and through snakemake-executor-plugin-slurm with
workflow/profiles/slurm. Every output must be the same, read back by samtools, bcftools and
gzip, and the reports, audit reports, cohort summary, MultiQC content and linkage table byte
for byte. The run uses the BAM scatter and the FASTQ pair written from the reverted BAM, so every
rule runs on the cluster; the final gate audits every output in the sample's SLURM job.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools.cohort import make_cohort

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
PAIRS = 1500
CONFIG = ["scatter=[chr1]", "scatter_min_mb=0", "part_threads=1", "fastq=from_reverted_bam"]
SLURM_OPTIONS = ["--slurm-status-command", "squeue", "--slurm-no-account", "--slurm-init-seconds-before-status-checks", "5"]

pytestmark = [
    pytest.mark.skipif(os.environ.get("GENOSCRUB_TEST_CLUSTER") != "1", reason="needs the one-node SLURM cluster: make test-cluster"),
    pytest.mark.timeout(1800),
]


def snakemake(folder: Path, profile: str, *options: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(SNAKEMAKE), "--snakefile", str(ROOT / "workflow" / "Snakefile"),
        "--configfile", str(ROOT / "workflow" / "config.example.yaml"),
        "--workflow-profile", str(ROOT / "workflow" / "profiles" / profile), *options, "--config", *CONFIG,
    ]  # fmt: skip
    # umask 002, as on many clusters' login nodes: the workflow must make its files private itself,
    # in the jobs SLURM starts as in the run that submits them
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=1500, umask=0o002)


class Runs:
    def __init__(self, local: Path, cluster: Path, cluster_messages: str, seconds: float) -> None:
        self.local, self.cluster, self.cluster_messages, self.seconds = local, cluster, cluster_messages, seconds


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    sinfo = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    if sinfo.returncode != 0 or not sinfo.stdout.strip():
        pytest.fail("GENOSCRUB_TEST_CLUSTER=1 but no SLURM cluster answers sinfo (start one: python tools/slurm_cluster.py start)")
    base = tmp_path_factory.mktemp("cluster")
    make_cohort(base / "local", pairs=PAIRS)
    shutil.copytree(base / "local", base / "cluster", symlinks=True)  # the same key and inputs
    local = snakemake(base / "local", "local", "--cores", "2")
    assert local.returncode == 0, local.stdout[-3000:] + local.stderr[-3000:]
    started = time.monotonic()
    cluster = snakemake(base / "cluster", "slurm", *SLURM_OPTIONS)
    seconds = time.monotonic() - started
    assert cluster.returncode == 0, cluster.stdout[-5000:] + cluster.stderr[-5000:]
    return Runs(base / "local", base / "cluster", cluster.stdout + cluster.stderr, seconds)


def text_of(path: Path) -> str:
    """A result as its reader sees it: records by samtools/bcftools, FASTQ decompressed."""
    name = path.name
    if name.endswith(".bam"):
        return subprocess.run(["samtools", "view", "-h", "--no-PG", str(path)], capture_output=True, text=True, check=True).stdout
    if name.endswith(".vcf.gz"):
        return subprocess.run(["bcftools", "view", "--no-version", str(path)], capture_output=True, text=True, check=True).stdout
    if name.endswith(".fastq.gz"):
        return gzip.decompress(path.read_bytes()).decode()
    return path.read_text()


def result_files(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in (folder / "results").rglob("*") if path.is_file())


def test_the_jobs_ran_through_slurm_one_job_per_sample(runs: Runs) -> None:
    submitted = [line for line in runs.cluster_messages.splitlines() if "has been submitted with SLURM jobid" in line]
    samples = [path for path in (runs.cluster / "results").iterdir() if path.is_dir() and path.name != "multiqc"]
    assert len(samples) == 2
    per_sample = [line for line in submitted if "/group_sample_" in line]
    assert len(per_sample) == len(samples)  # every per-sample rule in the sample's group job
    cohort_wide = [line for line in submitted if line not in per_sample]
    assert len(cohort_wide) == 1 and "sequence_dict" in cohort_wide[0]  # the reference's dictionary, once for the cohort
    print(f"\nSLURM run: {runs.seconds:.0f} s wall for {len(samples)} samples, {len(submitted)} SLURM jobs")


def test_every_output_equals_the_local_run(runs: Runs) -> None:
    files = result_files(runs.local)
    assert files == result_files(runs.cluster)
    per_sample = [name for name in files if name.count("/") == 2 and not name.startswith("results/multiqc/")]
    # 8 data and index files (the germline VCF is not delivered: deliver_germline_vcf), the sample
    # report, the audit report, Snakemake's time stamp
    assert len(per_sample) == 2 * 11
    assert "results/cohort_summary.tsv" in files and "results/multiqc/genoscrub_summary_mqc.yaml" in files
    for name in files:
        if name.endswith((".bai", ".tbi")):
            continue  # checked below by what they answer
        assert text_of(runs.cluster / name) == text_of(runs.local / name), name


def test_indexes_answer_the_same_region_queries(runs: Runs) -> None:
    for name in result_files(runs.local):
        if name.endswith(".bam"):
            counts = [
                subprocess.run(
                    ["samtools", "view", "-c", str(folder / name), "chr1:1-5000"], capture_output=True, text=True, check=True
                ).stdout
                for folder in (runs.local, runs.cluster)
            ]
        elif name.endswith(".vcf.gz"):
            counts = [
                subprocess.run(
                    ["bcftools", "view", "-H", "-r", "chr1", str(folder / name)], capture_output=True, text=True, check=True
                ).stdout
                for folder in (runs.local, runs.cluster)
            ]
        else:
            continue
        assert counts[0] == counts[1], name


def test_the_gate_audited_every_output_on_the_cluster(runs: Runs) -> None:
    reports = sorted((runs.cluster / "results").glob("*/*.audit.json"))
    assert len(reports) == 2
    for path in reports:
        report = json.loads(path.read_text())
        assert report["verdict"] == "pass" and len(report["files"]) == 8  # 2 BAMs, the somatic VCF, their indexes, the FASTQ pair


def test_linkage_tables_are_the_same_and_private(runs: Runs) -> None:
    local, cluster = (folder / "private" / "links.tsv" for folder in (runs.local, runs.cluster))
    assert cluster.read_bytes() == local.read_bytes()
    assert cluster.stat().st_mode & 0o077 == 0


def test_every_file_the_jobs_wrote_is_private_under_a_group_writable_umask(runs: Runs) -> None:
    """results/ holds the person's genome under a pseudonym, work/ and private/ the same before the
    gate and the linkage: the jobs SLURM ran (under the submitter's umask 002) left nothing that
    group or others may read, and every folder of results/ is 0700."""
    opened = []
    for folder in ("results", "work", "private"):
        for path in [runs.cluster / folder, *(runs.cluster / folder).rglob("*")]:
            if not path.is_symlink() and path.stat().st_mode & 0o077:
                opened.append(f"{path.relative_to(runs.cluster)}: {oct(path.stat().st_mode & 0o777)}")
    assert not opened
    assert {oct(path.stat().st_mode & 0o777) for path in (runs.cluster / "results").rglob("*") if path.is_dir()} == {"0o700"}


def test_no_planted_identifier_in_the_cluster_run_or_its_logs(runs: Runs) -> None:
    forbidden = [line for line in (runs.cluster / "forbidden.txt").read_text().splitlines() if line]
    leaks = [f"snakemake messages: {word}" for word in forbidden if word in runs.cluster_messages]
    for folder in ("work", ".snakemake"):
        for path in (runs.cluster / folder).rglob("*"):
            if path.is_file() and not path.name.endswith((".bam", ".bai", ".gz")):
                text = path.read_text(errors="replace") + str(path.relative_to(runs.cluster))
                leaks += [f"{path.relative_to(runs.cluster)}: {word}" for word in forbidden if word in text]
    assert not leaks
