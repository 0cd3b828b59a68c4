"""The cohort workflow (workflow/Snakefile), end to end on the bundled two-patient cohort.

One Snakemake run (made once a test session, shared by the pytest-xdist workers) on tools/cohort.py's
cohort with workflow/config.example.yaml,
each BAM scattered by chromosome, MultiQC run on the result, then every check with
samtools/bcftools: outputs valid and indexed, one pseudonym per sample across BAM, VCF and FASTQ,
no planted identifier in any output, work file, MultiQC file, Snakemake log or message, every read
accounted for, germline alleles and rare variants gone, linkage table private, every output
audited by the final gate with the checks the config implies. A second run on a copy of the same
files (same key) keeps each BAM whole and writes the FASTQ pair from the reverted BAM: its records
must equal the first run's, and its FASTQ must hold no germline allele. Small VCF-only runs show a
finding failing its sample. The scatter/gather planning, the bookkeeping steps, the gate's forbid
list and delivery and the FASTQ join are tested on their own (with hypothesis where there is an
invariant).
"""

from __future__ import annotations

import fcntl
import gzip
import io
import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pysam
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import load_workflow_script, run_snakemake
from tools.cohort import FIRST, SECOND, make_cohort

ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = ROOT / "workflow" / "Snakefile"
EXAMPLE_CONFIG = ROOT / "workflow" / "config.example.yaml"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
PAIRS = 1500  # per sample; enough for variant calling at ~6x, small enough for a fast run
TEST_CONFIG = ["scatter=[chr1]", "part_threads=1", "deliver_germline_vcf=true"]  # chr2 and chrM then share the "other" part
SCATTERED = ["scatter_min_mb=0", "multiqc=report"]  # the example's BAMs are far below the default: cut them anyway
WHOLE_FROM_BAM = [  # the default threshold: one part per BAM; FASTQ and BAM levels other than the example's and the tools'
    "scatter_min_mb=4000", "fastq=from_reverted_bam", "multiqc=content", "fastq_compression_level=4", "bam_compression_level=1",
    "deliver_germline_vcf=false",  # the example's: the germline VCF an input only
]  # fmt: skip


scatter = load_workflow_script("scatter")
reports = load_workflow_script("reports")
fastq_from_bam = load_workflow_script("fastq_from_bam")
gate = load_workflow_script("gate")


def run(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, check=check, timeout=300)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Held across the test processes (pytest -n) by whoever works in ``path``: the cohort's
    folders are shared, so one Snakemake at a time runs in each, and never while a test reads
    its .snakemake."""
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield  # closing the file lets go


def snakemake(
    cohort: Path, *args: str, config: list[str] | None = None, program: bool = False, lock: bool = True
) -> subprocess.CompletedProcess[str]:
    """Snakemake in ``cohort`` (conftest.run_snakemake: a dry run forked from a preloaded Snakemake
    unless ``program``), holding its lock unless ``lock`` is False: for a config the Snakefile
    refuses before it writes anything (its checks above the making of work/), which then reads
    nothing of the folder that another run writes."""
    command = ["--snakefile", str(SNAKEFILE), "--configfile", str(EXAMPLE_CONFIG), "--cores", "2", *args]
    command += ["--config", *TEST_CONFIG, *SCATTERED, *(config or [])]  # a later key=value wins
    if not lock:
        return run_snakemake(command, cwd=cohort, program=program)
    with locked(cohort):
        return run_snakemake(command, cwd=cohort, program=program)


class Cohort:
    def __init__(self, path: Path, messages: str) -> None:
        self.path = path
        self.messages = messages
        self.results = path / "results"
        self.linkage = {
            original: pseudonym
            for original, pseudonym in (line.split("\t") for line in (path / "private" / "links.tsv").read_text().splitlines())
        }
        self.forbidden = [line for line in (path / "forbidden.txt").read_text().splitlines() if line]

    def sample(self, original: str) -> Path:
        return self.results / self.linkage[original]

    def output(self, original: str, kind: str) -> Path:
        pseudonym = self.linkage[original]
        return self.results / pseudonym / f"{pseudonym}.{kind}"

    def private(self, original: str, kind: str) -> Path:
        """The site's own copy in work/ (the full sample or audit report: every count)."""
        pseudonym = self.linkage[original]
        return self.path / "work" / pseudonym / f"{pseudonym}.{kind}"


def shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test session's temporary folder, above each pytest-xdist worker's own."""
    folder = tmp_path_factory.getbasetemp()
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return folder.parent if worker and folder.name == f"popen-{worker}" else folder


def shared_run(path: Path, make: Callable[[Path], subprocess.CompletedProcess[str]]) -> Cohort:
    """The Snakemake run ``make(path)`` in ``path``, made once a test session: by the first test
    process that asks, while the others wait; every test after reads its files, written once.
    Its messages are kept beside the folder; a failed run fails every test that asks again."""
    messages, failure = path.with_name(path.name + ".messages"), path.with_name(path.name + ".failed")
    with locked(path.with_name(path.name + ".setup")):
        if not messages.exists() and not failure.exists():
            try:
                result = make(path)
                text = result.stdout + result.stderr
                (messages if result.returncode == 0 else failure).write_text(text)
            except BaseException as error:
                failure.write_text(f"{type(error).__name__}: {error}")
                raise
    if failure.exists():
        pytest.fail(failure.read_text(), pytrace=False)
    return Cohort(path, messages.read_text())


@pytest.fixture(scope="session")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Cohort:
    if not SNAKEMAKE.exists():
        pytest.skip("snakemake not installed: pip install -e '.[test]'")
    for tool in ("samtools", "bcftools", "bgzip", "tabix"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed")

    def make(path: Path) -> subprocess.CompletedProcess[str]:
        path.mkdir()
        make_cohort(path, pairs=PAIRS)
        shutil.copytree(path, path.with_name(path.name + "-whole"))  # for the second run: the same key and inputs
        return snakemake(path, "--printshellcmds")  # not quiet: the logs then name every input, output and command

    return shared_run(shared_folder(tmp_path_factory) / "cohort", make)


@pytest.fixture(scope="session")
def whole(cohort: Cohort) -> Cohort:
    """The same cohort, each BAM one part, the FASTQ pair written from the reverted BAM."""
    return shared_run(
        cohort.path.with_name(cohort.path.name + "-whole"), lambda path: snakemake(path, "--printshellcmds", config=WHOLE_FROM_BAM)
    )


def bam_text(path: Path) -> str:
    return run("samtools", "view", "-h", "--no-PG", str(path)).stdout


def readable(path: Path) -> str:
    """A file's content as text, decompressed the way a recipient would read it."""
    if path.suffix in (".bam", ".cram"):
        return bam_text(path)
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("latin-1")


def sample_names(bam: Path) -> set[str]:
    header = run("samtools", "view", "-H", str(bam)).stdout
    return {field[3:] for line in header.splitlines() if line.startswith("@RG") for field in line.split("\t") if field.startswith("SM:")}


# --- outputs ------------------------------------------------------------------------------


def test_delivered_md5s_are_the_references_as_samtools_dict_writes_them(cohort: Cohort) -> None:
    """The cohort's sequence dictionary is written once (samtools dict) and every BAM part's
    sam-scrub-rg and every audit compare @SQ M5 with it: the simulator's correct M5s are
    delivered, each the one samtools computes from the reference."""
    expected = {
        fields["SN"]: fields["M5"]
        for line in run("samtools", "dict", str(cohort.path / "ref.fa")).stdout.splitlines()
        if line.startswith("@SQ")
        for fields in [dict(field.split(":", 1) for field in line.split("\t")[1:])]
    }
    assert (cohort.path / "work" / "reference.dict").is_file()
    chains = [line for line in cohort.messages.splitlines() if "sam_chain.py" in line]
    assert chains and all("--dict" in line for line in chains)  # a planted M5 goes (tests/test_sam_scrub_rg.py)
    for original in (FIRST, SECOND):
        for kind in ("tumour", "normal"):
            header = run("samtools", "view", "-H", str(cohort.output(original, f"{kind}.bam"))).stdout
            delivered = {
                fields["SN"]: fields["M5"]
                for line in header.splitlines()
                if line.startswith("@SQ")
                for fields in [dict(field.split(":", 1) for field in line.split("\t")[1:])]
            }
            assert delivered == expected


@pytest.mark.parametrize("original", [FIRST, SECOND])
def test_every_output_is_valid_and_indexed(cohort: Cohort, original: str) -> None:
    for kind in ("tumour", "normal"):
        bam = cohort.output(original, f"{kind}.bam")
        run("samtools", "quickcheck", "-v", str(bam))
        assert Path(f"{bam}.bai").is_file()
        run("samtools", "view", "-c", str(bam), "chr1:1-100")  # the index answers a region query
        assert "chr1" in run("samtools", "idxstats", str(bam)).stdout
    for kind in ("germline", "somatic"):
        vcf = cohort.output(original, f"{kind}.vcf.gz")
        run("bcftools", "view", "-H", str(vcf))
        assert Path(f"{vcf}.tbi").is_file()
        run("bcftools", "view", "-H", "-r", "chr1", str(vcf))  # tabix index answers
    for mate in ("R1", "R2"):
        lines = gzip.decompress(cohort.output(original, f"{mate}.fastq.gz").read_bytes()).splitlines()
        assert len(lines) == 4 * PAIRS
        assert all(line.startswith(b"@") for line in lines[0::4])


def test_outputs_are_named_by_pseudonym_only(cohort: Cohort) -> None:
    assert sorted(path.name for path in cohort.results.iterdir()) == sorted(
        [cohort.linkage[FIRST], cohort.linkage[SECOND], "cohort_summary.tsv", "multiqc"]
    )
    pseudonym = cohort.linkage[SECOND]
    assert sorted(path.name for path in cohort.sample(SECOND).iterdir()) == sorted(
        [f"{pseudonym}.{suffix}"
         for suffix in (
            "tumour.bam", "tumour.bam.bai", "normal.bam", "normal.bam.bai", "germline.vcf.gz", "germline.vcf.gz.tbi",
            "somatic.vcf.gz", "somatic.vcf.gz.tbi", "R1.fastq.gz", "R2.fastq.gz", "report.json", "audit.json",
        )] + [".snakemake_timestamp"]  # Snakemake's time stamp of the folder the gate delivers whole
    )  # fmt: skip


@pytest.mark.parametrize("original", [FIRST, SECOND])
def test_one_pseudonym_per_sample_across_bam_vcf_and_fastq(cohort: Cohort, original: str) -> None:
    tumour, normal = cohort.linkage[f"{original}T_20231029"], cohort.linkage[f"{original}N_20231029"]
    assert sample_names(cohort.output(original, "tumour.bam")) == {tumour}
    assert sample_names(cohort.output(original, "normal.bam")) == {normal}
    assert run("bcftools", "query", "-l", str(cohort.output(original, "germline.vcf.gz"))).stdout.split() == [normal]
    assert run("bcftools", "query", "-l", str(cohort.output(original, "somatic.vcf.gz"))).stdout.split() == [tumour, normal]
    # FASTQ names are the keyed pseudonyms of the same templates as in the BAM, but those the
    # reverter removed whole (a pair with an unmapped mate near a germline insertion: 2 records)
    records = run("samtools", "view", str(cohort.output(original, "tumour.bam"))).stdout.splitlines()
    bam_names = {line.split("\t", 1)[0] for line in records}
    counts = json.loads(cohort.private(original, "report.json").read_text())["files"][cohort.output(original, "tumour.bam").name]
    removed = counts["sam-revert-germline"]["counts"].get("reads_removed_unmapped_pair_at_insertion", 0)
    for mate in ("R1", "R2"):
        lines = gzip.decompress(cohort.output(original, f"{mate}.fastq.gz").read_bytes()).decode().splitlines()
        fastq_names = {line[1:].split()[0].removesuffix("/1").removesuffix("/2") for line in lines[0::4]}
        assert len(fastq_names - bam_names) <= removed // 2 and len(fastq_names & bam_names) > len(fastq_names) // 2
    assert cohort.sample(original).name == cohort.linkage[original]


# --- privacy ------------------------------------------------------------------------------


def test_no_planted_identifier_in_any_output_work_file_or_log(cohort: Cohort) -> None:
    scanned = 0
    leaks = []
    with locked(cohort.path):  # no Snakemake writes in .snakemake meanwhile
        for folder in ("results", "work", ".snakemake"):
            for path in sorted((cohort.path / folder).rglob("*")):
                if path.is_symlink():
                    leaks += [f"{path}: symlink"]
                if not path.is_file() or path.is_symlink():
                    continue
                text = readable(path) + "\n" + str(path.relative_to(cohort.path))
                leaks += [f"{path.relative_to(cohort.path)}: {word}" for word in cohort.forbidden if word in text]
                scanned += 1
    leaks += [f"snakemake messages: {word}" for word in cohort.forbidden if word in cohort.messages]
    assert scanned > 50
    assert not leaks


def test_the_cohort_does_plant_identifiers_in_the_inputs(cohort: Cohort) -> None:
    """Control for the test above: the inputs and their file names do carry them."""
    assert all(word in readable(cohort.path / "patient1" / "normal.bam") for word in (FIRST, "SeoulHospital", "kimjh"))
    assert SECOND in (cohort.path / "samples.tsv").read_text()


def test_linkage_table_is_private_complete_and_outside_the_results(cohort: Cohort) -> None:
    table = cohort.path / "private" / "links.tsv"
    assert stat.S_IMODE(table.stat().st_mode) == 0o600
    for folder in ("links.tsv.parts", "links.tsv.inputs"):
        assert stat.S_IMODE((cohort.path / "private" / folder).stat().st_mode) == 0o700
    originals = {FIRST, SECOND} | {f"{sample}{kind}_20231029" for sample in (FIRST, SECOND) for kind in "TN"}
    assert originals <= cohort.linkage.keys()
    assert len(set(cohort.linkage.values())) == len(cohort.linkage)  # one-to-one
    map_rows = dict(line.split("\t") for line in (cohort.path / "ids.tsv").read_text().splitlines())
    assert all(cohort.linkage[original] == pseudonym for original, pseudonym in map_rows.items())
    assert cohort.linkage[FIRST].startswith("S") and len(cohort.linkage[FIRST]) == 17  # keyed, not in the map


# --- sequence measures --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["tumour", "normal"])
def test_every_read_accounted_for_and_unplaced_reads_masked(cohort: Cohort, kind: str, tmp_path: Path) -> None:
    source = cohort.path / "patient1" / f"{kind}.bam"
    output = cohort.output(FIRST, f"{kind}.bam")
    report = json.loads(cohort.private(FIRST, "report.json").read_text())["files"][output.name]
    gather = report["gather"]["counts"]
    assert gather["records_in_input"] == int(run("samtools", "view", "-c", str(source)).stdout)
    assert gather["records_written"] == int(run("samtools", "view", "-c", str(output)).stdout)
    dropped = report["sam-revert-germline"]["counts"]["reads_in"] - report["sam-revert-germline"]["counts"]["reads_out"]
    dropped += report["sam-mask-regions"]["counts"]["reads_in"] - report["sam-mask-regions"]["counts"]["reads_out"]
    assert gather["records_written"] == gather["records_in_input"] - dropped
    # its 3 parts, scrubbed in separate processes, gave one @RG ID each read group, which every RG:Z tag names
    header_ids = re.findall(r"^@RG\tID:(\S+)", str(pysam.samtools.view("-H", "--no-PG", str(output))), flags=re.MULTILINE)
    tags = re.findall(r"\tRG:Z:(\S+)", str(pysam.samtools.view("--no-PG", str(output))))
    assert len(header_ids) == 2 and set(tags) == set(header_ids) and len(tags) == gather["records_written"]
    unplaced = run("samtools", "view", str(output), "*").stdout.splitlines()
    assert len(unplaced) == int(run("samtools", "view", "-c", str(source), "*").stdout) > 0
    assert all(set(line.split("\t")[9]) <= {"N"} for line in unplaced)
    assert report["sam-scrub-rg"]["parts"] == 3 and report["gather"]["gathered_by"] == "samtools cat"
    assert report["gather"]["indexed_by"] == "the parts' indexes, shifted"  # no record decoded again (bam_index.py)
    run("samtools", "index", "-o", str(tmp_path / "check.bai"), str(output))
    assert (tmp_path / "check.bai").read_bytes() == Path(f"{output}.bai").read_bytes()


def germline_truth(cohort: Cohort, folder: str, category: str | None = None) -> set[tuple[str, int]]:
    rows = (cohort.path / folder / "truth.tsv").read_text().splitlines()[1:]
    fields = [row.split("\t") for row in rows]
    return {(f[0], int(f[1])) for f in fields if f[4] == "germline" and f[5] == "snv" and (category is None or f[8] == category)}


def called_sites(cohort: Cohort, bam: Path) -> set[tuple[str, int]]:
    reference = cohort.path / "ref.fa"
    pipe = f"bcftools mpileup -Ou -f {reference} {bam} 2>/dev/null | bcftools call -mv -Ov 2>/dev/null"
    calls = run("bash", "-o", "pipefail", "-c", pipe).stdout
    return {(line.split("\t")[0], int(line.split("\t")[1])) for line in calls.splitlines() if not line.startswith("#")}


def test_germline_alleles_are_gone_from_the_reads(cohort: Cohort) -> None:
    truth = germline_truth(cohort, "patient1")
    before = called_sites(cohort, cohort.path / "patient1" / "normal.bam") & truth
    after = called_sites(cohort, cohort.output(FIRST, "normal.bam")) & truth
    assert len(before) > len(truth) // 2  # control: the input's germline SNVs are callable
    assert not after


def test_alternative_hits_are_gone_from_the_reads(cohort: Cohort) -> None:
    """bwa's XA (and mem -u's XB) list alternative hits whose CIGAR may hold a germline indel:
    sam-revert-germline removes them from every record (with regions, sam-mask-regions does, once
    it has judged the reads by them), and the gate's --germline audit would hold back a BAM that
    kept one."""

    def alternative_hits(path: Path) -> int:
        with pysam.AlignmentFile(str(path)) as bam:
            return sum(1 for read in bam.fetch(until_eof=True) if read.has_tag("XA") or read.has_tag("XB"))

    assert alternative_hits(cohort.path / "patient1" / "normal.bam") > 0  # control: the simulated input has some
    for kind in ("normal.bam", "tumour.bam"):
        assert alternative_hits(cohort.output(FIRST, kind)) == 0


def test_rare_variants_are_gone_from_the_vcfs(cohort: Cohort) -> None:
    for original, folder in ((FIRST, "patient1"), (SECOND, SECOND)):
        rare = germline_truth(cohort, folder, "rare")
        kept = run("bcftools", "query", "-f", "%CHROM\t%POS\n", str(cohort.output(original, "germline.vcf.gz"))).stdout
        sites = {(line.split("\t")[0], int(line.split("\t")[1])) for line in kept.splitlines()}
        assert rare and not (rare & sites)
        assert sites  # common variants stay


# --- reports ------------------------------------------------------------------------------


def test_sample_report_and_cohort_summary(cohort: Cohort) -> None:
    pseudonym = cohort.linkage[FIRST]
    report = json.loads(cohort.output(FIRST, "report.json").read_text())
    assert report["sample"] == pseudonym
    assert set(report["files"]) == {
        f"{pseudonym}.{suffix}"
        for suffix in ("tumour.bam", "normal.bam", "germline.vcf.gz", "somatic.vcf.gz", "R1.fastq.gz", "R2.fastq.gz")
    }
    assert report["files"][f"{pseudonym}.tumour.bam"]["sam-scrub-rg"]["counts"]["read_groups"] == 2  # header counts not summed over parts
    assert report["files"][f"{pseudonym}.R1.fastq.gz"]["fastq-scrub-names"]["counts"]
    rows = [line.split("\t") for line in (cohort.results / "cohort_summary.tsv").read_text().splitlines()]
    assert rows[0] == ["sample", "file", "step", "count", "value"]
    assert {row[0] for row in rows[1:]} == {cohort.linkage[FIRST], cohort.linkage[SECOND]}
    assert [row[0] for row in rows[1:]] == sorted(row[0] for row in rows[1:])  # by pseudonym, not the sheet's order
    records = {(row[0], row[1], row[2], row[3]): int(row[4]) for row in rows[1:]}
    assert records[(pseudonym, f"{pseudonym}.tumour.bam", "gather", "records_written")] == int(
        run("samtools", "view", "-c", str(cohort.output(FIRST, "tumour.bam"))).stdout
    )
    germline = f"{pseudonym}.germline.vcf.gz"
    assert records[(pseudonym, germline, "vcf-drop-regions", "records_out")] == records_in(cohort.output(FIRST, "germline.vcf.gz"))
    # only counts a delivered file shows itself: what the steps removed describes the person's genotype
    assert {(row[2], row[3]) for row in rows[1:]} == DELIVERED_COUNTS
    assert "germline_records" not in report["files"][f"{pseudonym}.tumour.bam"]["sam-revert-germline"]
    assert set(report["files"][germline]) == {"vcf-scrub-header", "vcf-drop-rare", "vcf-drop-regions"}  # each step ran


DELIVERED_COUNTS = {
    ("sam-scrub-rg", "read_groups"), ("gather", "records_written"), ("vcf-scrub-header", "samples_renamed"),
    ("vcf-drop-regions", "records_out"), ("fastq-scrub-names", "records"),
}  # fmt: skip


def records_in(vcf: Path) -> int:
    return len(run("bcftools", "view", "-H", str(vcf)).stdout.splitlines())


def test_the_full_counts_stay_with_the_site(cohort: Cohort) -> None:
    """The site's copies in work/ (0600, in the 0700 work folder) hold every step's counts: the
    germline variants dropped as rare or private, the bases reverted, which the delivery leaves out."""
    for original in (FIRST, SECOND):
        pseudonym = cohort.linkage[original]
        path = cohort.private(original, "report.json")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        files = json.loads(path.read_text())["files"]
        assert files[f"{pseudonym}.germline.vcf.gz"]["vcf-drop-rare"]["counts"]["dropped_rare"] > 0
        assert files[f"{pseudonym}.normal.bam"]["sam-revert-germline"]["counts"]["bases_reverted"] > 0
        assert files[f"{pseudonym}.normal.bam"]["sam-revert-germline"]["germline_records"] > 0
    summary = cohort.path / "work" / "cohort_summary.tsv"
    assert stat.S_IMODE(summary.stat().st_mode) == 0o600
    rows = [line.split("\t") for line in summary.read_text().splitlines()]
    assert {row[0] for row in rows[1:]} == {cohort.linkage[FIRST], cohort.linkage[SECOND]}
    assert [row[0] for row in rows[1:]] == sorted(row[0] for row in rows[1:])  # by pseudonym, not the sheet's order
    assert {(row[2], row[3]) for row in rows[1:]} > DELIVERED_COUNTS | {
        ("vcf-drop-rare", "dropped_rare"),
        ("sam-revert-germline", "bases_reverted"),
    }
    delivered = "".join(path.read_text() for path in cohort.results.rglob("*.json")) + (cohort.results / "cohort_summary.tsv").read_text()
    assert not {"dropped_rare", "dropped_missing", "dropped_germline", "bases_reverted", "germline_records", "germline_alleles"} & set(
        word.strip('"') for word in delivered.replace("\t", " ").replace(":", " ").split()
    )


# --- the final gate: the audit of every output ----------------------------------------------------


def checked_classes(report: dict[str, Any]) -> dict[str, set[str]]:
    """{kind of output (tumour.bam): classes the audit checked in it}."""
    return {
        Path(entry["file"]).name.split(".", 1)[1]: {name for name, found in entry["findings"].items() if found["checked"]}
        for entry in report["files"]
    }


@pytest.mark.parametrize("original", [FIRST, SECOND])
def test_every_output_passed_the_audit_with_the_checks_the_config_implies(cohort: Cohort, original: str) -> None:
    report = json.loads(cohort.output(original, "audit.json").read_text())
    assert report["verdict"] == "pass" and report["sample"] == cohort.linkage[original]
    assert report["counts"] == dict.fromkeys(("forbidden", "metadata", "germline", "population", "regions"), 0)
    alignments = {"forbidden", "metadata", "germline", "regions"}
    germline_vcf = {"forbidden", "metadata", "germline", "population", "regions"}  # germline: no record on a drop_contigs contig
    assert checked_classes(report) == {
        "tumour.bam": alignments, "normal.bam": alignments, "germline.vcf.gz": germline_vcf,
        "somatic.vcf.gz": {"forbidden", "metadata", "germline", "population", "regions"}, "R1.fastq.gz": {"forbidden", "metadata"},
        "R2.fastq.gz": {"forbidden", "metadata"},
        # the indexes too, each held to the data file beside it
        "tumour.bam.bai": {"forbidden", "metadata"}, "normal.bam.bai": {"forbidden", "metadata"},
        "germline.vcf.gz.tbi": {"forbidden", "metadata"}, "somatic.vcf.gz.tbi": {"forbidden", "metadata"},
    }  # fmt: skip
    assert [run["settings"]["germline_in_vcf"] for run in report["runs"]] == [False, True]  # the normal's alleles, in the somatic run only
    # rt15 F2, F3, F7: the somatic VCF's rare calls are findings, its absent ones kept on purpose (somatic_keep_missing);
    # a call its caller marked germline is one (vcf-drop-rare --drop-germline ran on it only); columns as rules/vcf.smk allows
    somatic_settings = report["runs"][1]["settings"]
    assert (somatic_settings["population"], somatic_settings["population_missing"], somatic_settings["min_af"]) == (True, "ok", 0.01)
    assert [run["settings"]["germline_markers"] for run in report["runs"]] == [False, True]
    assert [run["settings"]["max_samples"] for run in report["runs"]] == [1, 2]
    settings = report["runs"][0]["settings"]
    assert settings["population_missing"] == "finding"
    assert (settings["af_key"], settings["min_af"], settings["beds"], settings["flank"]) == ("AF_eas", 0.01, 1, 0)
    defaults = ["HLA-*", "*_alt", "*_decoy", "chrEBV", "hs37d5", "NC_007605*", "*_hap[0-9]*", "*HSCHR*"]
    assert settings["forbid_contigs"] == defaults  # drop_contigs' default: no read on an allele contig
    # all_below_mapq's default: a read below MAPQ 30 that the reverter reverted whole (it may lie on a paralog) shows nothing
    assert [run["settings"]["all_below_mapq"] for run in report["runs"]] == [30, 30]
    # the size of the patient's germline list is theirs: in the site's copy only (work/, 0600)
    assert "germline_records" not in settings and "forbid_strings" not in settings
    private = json.loads(cohort.private(original, "audit.json").read_text())
    assert stat.S_IMODE(cohort.private(original, "audit.json").stat().st_mode) == 0o600
    assert private["runs"][0]["settings"]["germline_records"] > 0 and private["runs"][0]["settings"]["forbid_strings"] > 10
    assert private["files"] == report["files"] and private["verdict"] == "pass"
    assert not list((cohort.path / "work").rglob("staged/*"))  # delivered, and the staged files removed


def record_tags(bam: Path) -> Counter[str]:
    """How many records of a BAM carry each tag (samtools, the independent decoder)."""
    return Counter(field[:2] for line in run("samtools", "view", str(bam)).stdout.splitlines() for field in line.split("\t")[11:])


@pytest.mark.parametrize("original", [FIRST, SECOND])
def test_every_delivered_record_carries_tags_of_one_list_and_the_gate_holds_it_to_that(
    cohort: Cohort, original: str, tmp_path: Path
) -> None:
    """Red team 11 F3: the reads over a germline window kept only the reverter's tags while the
    others kept AS, OQ, ..., so a run of reads without them marked the sites, the rare ones those
    the delivered germline VCF does not list. Every delivered record now carries tags of the
    reverter's list alone (sam-scrub-rg --only-tags), and the gate's audit holds the BAMs to it
    (genoscrub-audit --only-tags): a BAM with an AS on some records is held back."""
    from genoscrub.record_reverter import TAGS_KEPT_AT_WINDOWS

    listed = sorted(tag.decode() for tag in TAGS_KEPT_AT_WINDOWS)
    folder = cohort.path / "patient1" if original == FIRST else cohort.path / SECOND
    raw = record_tags(folder / ("tumour.bam" if original == FIRST else f"{SECOND}T_20231029.bam"))
    assert {"AS", "OQ"} <= set(raw)  # the inputs carry them
    for kind in ("tumour.bam", "normal.bam"):
        delivered = record_tags(cohort.output(original, kind))
        assert set(delivered) <= set(listed) and {"RG", "MD", "NM", "MC"} <= set(delivered)
    report = json.loads(cohort.output(original, "audit.json").read_text())
    assert report["runs"][0]["settings"]["only_tags"] == listed  # the list the gate's audit was given
    # The gate, given that list, holds back a BAM whose records away from the sites keep AS.
    marked = tmp_path / "staged" / f"{cohort.linkage[original]}.tumour.bam"
    marked.parent.mkdir()
    source = pysam.AlignmentFile(str(cohort.output(original, "tumour.bam")))
    with source, pysam.AlignmentFile(str(marked), "wb", template=source) as target:
        for number, read in enumerate(source):
            if number % 2:
                read.set_tag("AS", 90)
            target.write(read)
    spec: dict[str, Any] = {
        "sample": "P1",
        "deliver": [[str(marked), str(tmp_path / "results" / "P1" / marked.name)]],
        "sample_report": {"out": str(tmp_path / "results" / "P1" / "P1.report.json"), "files": {}, "settings": {}},
        "audit": {
            "command": str(ROOT / "bin" / "genoscrub-audit"), "threads": 1, "forbid_list": str(tmp_path / "private" / "P1.txt"),
            "fragments": [], "inputs": str(tmp_path / "no-links"), "extra_forbid": [],
            "runs": [{"files": [str(marked)], "options": ["--only-tags", ",".join(listed)], "reasons": {}}],
            "log": str(tmp_path / "audit.log"), "report": str(tmp_path / "results" / "P1" / "P1.audit.json"),
            "failed_report": str(tmp_path / "failed.json"),
        },
    }  # fmt: skip
    assert gate.gate(spec) == 1 and not (tmp_path / "results").exists()
    failed = json.loads((tmp_path / "failed.json").read_text())
    records = int(str(pysam.samtools.view("-c", str(marked))).strip())
    assert failed["files"][0]["findings"]["metadata"]["by_key"] == {"aux tag AS (off --only-tags)": records // 2}
    shutil.copyfile(cohort.output(original, "tumour.bam"), marked)  # a copy: delivering links the file and touches it
    assert gate.gate(spec) == 0 and (tmp_path / "results" / "P1" / marked.name).is_file()  # the delivered one passes


def test_forbid_list_is_private_and_holds_the_sample_ids_and_input_names(cohort: Cohort) -> None:
    folder = cohort.path / "private" / "links.tsv.forbid"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    second = folder / f"{cohort.linkage[SECOND]}.txt"
    assert stat.S_IMODE(second.stat().st_mode) == 0o600
    strings = second.read_text().splitlines()
    tumour = f"{SECOND}T_20231029"
    assert {SECOND, tumour, f"{SECOND}N_20231029", f"LIB-{SECOND}T", f"{tumour}.L001", f"{tumour}.bam", f"{tumour}_R1.fastq.gz"} <= set(
        strings
    )
    assert str((cohort.path / SECOND / f"{tumour}.bam").resolve()) in strings
    assert FIRST in strings  # every list forbids the whole sheet's IDs (a VCF may name another patient)
    first = (folder / f"{cohort.linkage[FIRST]}.txt").read_text().splitlines()
    assert {FIRST, "patient1"} <= set(first)
    assert not {"tumour", "normal", "germline", "somatic"} & set(first)  # plain words: the outputs' descriptions hold them
    # stock labels as file names: the audit searches the delivered names, which end so (P1.tumour.bam)
    assert not {"tumour.bam", "germline.vcf.gz"} & set(first)


def multiqc_text(path: Path) -> str:
    """A file MultiQC wrote, as text: a parquet table decoded (its strings may be compressed)."""
    if path.suffix == ".parquet":
        import polars

        return polars.read_parquet(path).write_csv()
    return path.read_bytes().decode("latin-1")


def test_multiqc_shows_the_genoscrub_section_with_the_numbers_of_the_reports(cohort: Cohort) -> None:
    folder = cohort.results / "multiqc"
    data = json.loads((folder / "multiqc_data" / "multiqc_data.json").read_text())
    raw = data["report_saved_raw_data"]
    table = raw["multiqc_genoscrub_summary_table"]
    assert set(table) == {cohort.linkage[FIRST], cohort.linkage[SECOND]}
    for original in (FIRST, SECOND):
        pseudonym = cohort.linkage[original]
        files = json.loads(cohort.output(original, "report.json").read_text())["files"]
        renamed = sum(
            files[f"{pseudonym}.{kind}.vcf.gz"]["vcf-scrub-header"]["counts"]["samples_renamed"] for kind in ("germline", "somatic")
        )
        assert renamed > 0 and table[pseudonym]["renamed"] == renamed
        assert (table[pseudonym]["audit"], table[pseudonym]["findings"]) == ("PASS", 0)
        # made of the delivered reports: no count of what the steps removed, reverted or dropped
        assert not {"removed", "reverted", "dropped"} & set(table[pseudonym])
    assert not [name for name in raw if "revert" in name or "drop_rare" in name]
    assert "genoscrub" in (folder / "multiqc_report.html").read_text()
    leaks = []
    written = [path for path in folder.rglob("*") if path.is_file()]
    for path in written:
        text = multiqc_text(path).lower() + str(path.relative_to(folder)).lower()
        leaks += [f"{path.relative_to(folder)}: {word}" for word in cohort.forbidden if word.lower() in text]
    assert len(written) >= 10 and not leaks  # its parquet table is not delivered: a creation time on every row
    assert not (folder / "multiqc_data" / "multiqc.parquet").exists() and data["report_creation_date"] == ""


def test_multiqc_content_only_by_default(whole: Cohort) -> None:
    folder = whole.results / "multiqc"
    assert {path.name for path in folder.iterdir()} >= {"genoscrub_summary_mqc.yaml"}
    assert not (folder / "multiqc_report.html").exists()
    assert all(path.name.endswith("_mqc.yaml") or path.name == ".snakemake_timestamp" for path in folder.iterdir())


def add_contig(folder: Path, contig: str, rng: random.Random, length: int = 3000) -> str:
    """A contig of random bases appended to the run folder's ref.fa (its index made again): an
    HLA allele contig beside the example's genome. Its bases."""
    bases = "".join(rng.choice("ACGT") for _ in range(length))
    with open(folder / "ref.fa", "a") as fasta:
        fasta.write(f">{contig}\n" + "\n".join(bases[i : i + 60] for i in range(0, length, 60)) + "\n")
    (folder / "ref.fa.fai").unlink()
    pysam.faidx(str(folder / "ref.fa"))
    return bases


def vcf_only_cohort(cohort: Cohort, folder: Path, germline: dict[str, Path]) -> Path:
    """A sheet of germline VCFs only (fast), beside copies of the cohort's shared files and key."""
    folder.mkdir()
    for name in ("ref.fa", "ref.fa.fai", "population.vcf.gz", "population.vcf.gz.tbi", "ids.tsv", "repeats.bed"):
        shutil.copyfile(cohort.path / name, folder / name)
    (folder / "ids.tsv").chmod(0o600)  # the map: the workflow refuses it readable by others
    (folder / "private").mkdir(mode=0o700)
    shutil.copy(cohort.path / "private" / "site.key", folder / "private" / "site.key")
    rows = ["sample\tgermline_vcf", *(f"{original}\t{path}" for original, path in germline.items())]
    (folder / "samples.tsv").write_text("\n".join(rows) + "\n")
    return folder


def test_an_identifier_surviving_the_scrub_fails_its_sample_and_only_it(cohort: Cohort, tmp_path: Path) -> None:
    """A lab's caller wrote a batch label made of the sample ID into every record (INFO/BATCH):
    no scrubber touches INFO values, the sheet's ID is on the gate's forbid list."""
    planted = tmp_path / SECOND / f"{SECOND}N_20231029.germline.vcf.gz"
    planted.parent.mkdir()
    text = run("bcftools", "view", "--no-version", str(cohort.path / SECOND / f"{SECOND}N_20231029.germline.vcf.gz")).stdout
    lines = []
    for line in text.splitlines():
        if line.startswith("#CHROM"):
            lines.append('##INFO=<ID=BATCH,Number=1,Type=String,Description="Sequencing batch">')
        fields = line.split("\t")
        lines.append(line if line.startswith("#") else "\t".join([*fields[:7], f"{fields[7]};BATCH={SECOND}_B1", *fields[8:]]))
    planted.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    folder = vcf_only_cohort(cohort, tmp_path / "run", {FIRST: cohort.path / "patient1" / "germline.vcf.gz", SECOND: planted})
    result = snakemake(folder, "--keep-going")
    messages = result.stdout + result.stderr
    first, second = cohort.linkage[FIRST], cohort.linkage[SECOND]
    kept = len(run("bcftools", "view", "-H", str(cohort.output(SECOND, "germline.vcf.gz"))).stdout.splitlines())
    assert result.returncode != 0
    assert f"sample {second} held back: genoscrub-audit found forbidden {kept} ({second}.germline.vcf.gz {kept})" in messages
    assert not (folder / "results" / second).exists()  # nothing of it delivered
    assert (folder / "work" / second / "staged" / f"{second}.germline.vcf.gz").is_file()  # kept for a look
    assert (folder / "results" / first / f"{first}.germline.vcf.gz").is_file()  # the other sample passed
    failed = json.loads((folder / "work" / second / "audit.failed.json").read_text())
    assert failed["verdict"] == "fail" and failed["counts"]["forbidden"] == kept
    assert failed["files"][0]["findings"]["forbidden"]["by_key"] == {"INFO/BATCH (list line 1)": kept}  # line 1: the sheet ID
    shown = messages + json.dumps(failed) + (folder / "work" / "logs" / second / "audit.log").read_text()
    assert not [word for word in cohort.forbidden + [planted.name] if word in shown]


@pytest.mark.slow  # a workflow run of its own: make test-slow (CI runs it after make test)
def test_regions_the_site_checks_fail_a_sample_whose_masking_is_off(cohort: Cohort, tmp_path: Path) -> None:
    """The site's panel is checked by the gate (audit_regions) while someone turned masking off."""
    record = run("bcftools", "view", "-H", str(cohort.output(FIRST, "germline.vcf.gz"))).stdout.splitlines()[0].split("\t")
    panel = tmp_path / "site-panel.bed"
    panel.write_text(f"{record[0]}\t{int(record[1]) - 1}\t{int(record[1])}\tSITE1\n")
    folder = vcf_only_cohort(cohort, tmp_path / "run", {FIRST: cohort.path / "patient1" / "germline.vcf.gz"})
    result = snakemake(folder, config=["regions={presets: [], beds: []}", f"audit_regions={{beds: [{panel}]}}"])
    pseudonym = cohort.linkage[FIRST]
    assert result.returncode != 0
    assert f"sample {pseudonym} held back: genoscrub-audit found regions 1 ({pseudonym}.germline.vcf.gz 1)" in result.stdout + result.stderr
    assert not (folder / "results" / pseudonym).exists()
    masked = snakemake(folder, config=[f"regions={{beds: [{panel}]}}", f"audit_regions={{beds: [{panel}]}}"])
    assert masked.returncode == 0, masked.stdout + masked.stderr  # masked as the site asks: delivered
    assert (folder / "results" / pseudonym / f"{pseudonym}.germline.vcf.gz").is_file()


def test_default_allele_contig_patterns_name_grch37_and_grch38_alleles_and_no_primary_contig() -> None:
    """`drop_contigs`' default, as the example config writes it: GRCh38's allele contigs and decoys,
    and GRCh37's (hs37d5's decoy and EBV, hg19's and Ensembl's MHC haplotypes); never a primary
    chromosome, the mitochondrion or an unplaced scaffold, in either naming."""
    import fnmatch

    line = next(line for line in EXAMPLE_CONFIG.read_text().splitlines() if line.startswith("drop_contigs:"))
    patterns = json.loads(line.split(":", 1)[1])
    allele = ["HLA-A*02:01:01:01", "chr6_GL000250v2_alt", "chrUn_JTFH01000001v1_decoy", "chrEBV", "hs37d5", "NC_007605",
              "chr6_cox_hap2", "chr17_ctg5_hap1", "HSCHR6_MHC_COX", "CHR_HSCHR6_MHC_COX_CTG1"]  # fmt: skip
    primary = ["chr1", "1", "chrX", "X", "chrM", "MT", "chr6", "6", "GL000192.1", "chrUn_gl000211", "chr1_KI270706v1_random"]
    assert all(any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns) for name in allele)
    assert not any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns for name in primary)


@pytest.mark.slow  # a workflow run of its own: make test-slow (CI runs it after make test)
def test_reads_on_allele_contigs_leave_no_trace_in_the_delivered_bam(cohort: Cohort, tmp_path: Path) -> None:
    """A reference with an HLA allele contig (GRCh38's full analysis set has ~525): the normal's
    pairs there, and the chr1 reads whose mate lies there, would type the patient's HLA by where
    they align, with no base differing from the contig and no germline VCF listing it. By default
    (`drop_contigs`) the delivered BAM keeps the @SQ line and no record on the contig or pointing
    at it (samtools idxstats, pysam), and the gate checked it (--forbid-contigs)."""
    folder = vcf_only_cohort(cohort, tmp_path / "run", {})
    contig, rng = "HLA-A*02:01:01:01", random.Random(9)
    allele = add_contig(folder, contig, rng)  # rng drawn on after it, as before
    chr1 = pysam.FastaFile(str(folder / "ref.fa")).fetch("chr1")
    raw = cohort.path / "patient1" / "normal.bam"
    header = run("samtools", "view", "-H", str(raw)).stdout.splitlines()
    last_sq = max(number for number, line in enumerate(header) if line.startswith("@SQ"))
    header.insert(last_sq + 1, f"@SQ\tSN:{contig}\tLN:3000")
    group = next(line for line in header if line.startswith("@RG")).split("\t")[1][3:]
    lines = [*header, *run("samtools", "view", str(raw)).stdout.splitlines()]
    for number in range(120):
        name, first, second = f"M04123:123:000000000-ABCDE:1:2201:{1000 + number}:2000", rng.randrange(1, 2600), rng.randrange(1, 2600)
        tags = f"{'I' * 100}\tMC:Z:100M\tMQ:i:60\tRG:Z:{group}"  # QUAL and the tags
        if number % 6:  # both mates on the allele contig
            lines.append(f"{name}\t99\t{contig}\t{first}\t60\t100M\t=\t{second}\t0\t{allele[first - 1 : first + 99]}\t{tags}")
            lines.append(f"{name}\t147\t{contig}\t{second}\t60\t100M\t=\t{first}\t0\t{allele[second - 1 : second + 99]}\t{tags}")
        else:  # one mate on chr1: it names the contig in RNEXT
            lines.append(f"{name}\t97\tchr1\t{first}\t60\t100M\t{contig}\t{second}\t0\t{chr1[first - 1 : first + 99]}\t{tags}")
            lines.append(f"{name}\t145\t{contig}\t{second}\t60\t100M\tchr1\t{first}\t0\t{allele[second - 1 : second + 99]}\t{tags}")
    (folder / "normal_hla.sam").write_text("\n".join(lines) + "\n")
    run("samtools", "sort", "-o", str(folder / "normal_hla.bam"), str(folder / "normal_hla.sam"))
    run("samtools", "index", str(folder / "normal_hla.bam"))
    germline = cohort.path / "patient1" / "germline.vcf.gz"
    (folder / "samples.tsv").write_text(f"sample\tnormal_bam\tgermline_vcf\n{FIRST}\tnormal_hla.bam\t{germline}\n")
    result = snakemake(folder, config=["regions={presets: [], beds: []}"])
    assert result.returncode == 0, result.stdout + result.stderr
    pseudonym = cohort.linkage[FIRST]
    delivered = folder / "results" / pseudonym / f"{pseudonym}.normal.bam"
    stats = {line.split("\t")[0]: line.split("\t")[2:] for line in run("samtools", "idxstats", str(delivered)).stdout.splitlines()}
    assert stats[contig] == ["0", "0"] and int(stats["chr1"][0]) > 0
    with pysam.AlignmentFile(str(delivered)) as alignments:
        assert contig in alignments.references
        assert not [read for read in alignments if contig in (read.reference_name, read.next_reference_name)]
    audit = json.loads((folder / "results" / pseudonym / f"{pseudonym}.audit.json").read_text())
    assert audit["verdict"] == "pass" and audit["runs"][0]["settings"]["forbid_contigs"][0] == "HLA-*"


@pytest.mark.slow  # a workflow run of its own: make test-slow (CI runs it after make test)
def test_a_somatic_call_on_an_allele_contig_is_not_delivered(cohort: Cohort, tmp_path: Path) -> None:
    """Red team 17 F4: a somatic caller run on every contig of the reference (Strelka2 without
    --callRegions) calls on an HLA allele contig, whose name is the genotype, and on chrEBV (an
    infection). No population lists those contigs, so somatic_keep_missing kept the calls as
    missing, and the gate passed them: `drop_contigs` held only the BAMs. The VCF step now drops the
    records on those contigs (bcftools norm -T ^work/dropped_contigs.bed, each matching contig
    whole) and the gate finds one left (--forbid-contigs). The other calls are delivered, the
    ##contig line kept."""
    folder = vcf_only_cohort(cohort, tmp_path / "run", {})
    contig = "HLA-A*02:01:01:01"
    allele = add_contig(folder, contig, random.Random(17))
    text = run("bcftools", "view", "--no-version", str(cohort.path / "patient1" / "germline_as_somatic.vcf.gz")).stdout
    header = [line for line in text.splitlines() if line.startswith("#")]
    header.insert(len(header) - 1, f"##contig=<ID={contig},length=3000>")
    columns = len(header[-1].split("\t")) - 9
    base = allele[1499]
    call = f"{contig}\t1500\t.\t{base}\t{'A' if base != 'A' else 'C'}\t50\tPASS\tSOMATIC\tGT:AF" + "\t0/1:0.300" * columns
    body = [line for line in text.splitlines() if not line.startswith("#")]
    (folder / "somatic.vcf").write_text("\n".join([*header, *body, call]) + "\n")
    germline = cohort.path / "patient1" / "germline.vcf.gz"
    (folder / "samples.tsv").write_text(f"sample\tgermline_vcf\tsomatic_vcf\n{FIRST}\t{germline}\tsomatic.vcf\n")
    result = snakemake(folder, config=["regions={presets: [], beds: []}"])
    assert result.returncode == 0, result.stdout + result.stderr
    pseudonym = cohort.linkage[FIRST]
    delivered = run("bcftools", "view", "--no-version", str(folder / "results" / pseudonym / f"{pseudonym}.somatic.vcf.gz")).stdout
    records = [line.split("\t")[0] for line in delivered.splitlines() if not line.startswith("#")]
    assert records and contig not in records and f"##contig=<ID={contig},length=3000>" in delivered
    assert (folder / "work" / "dropped_contigs.bed").read_text() == f"{contig}\t0\t3000\nchr{contig}\t0\t3000\n"  # either spelling
    audit = json.loads((folder / "results" / pseudonym / f"{pseudonym}.audit.json").read_text())
    assert audit["verdict"] == "pass"


@pytest.mark.slow  # two workflow runs of their own: make test-slow (CI runs it after make test)
def test_a_vcf_spelling_its_contigs_otherwise_than_the_reference_gets_the_same_records(cohort: Cohort, tmp_path: Path) -> None:
    """The VCF step's bcftools norm -f looks a contig up by its name as written: a germline VCF
    writing ``1`` beside the reference's ``chr1``, which every command joins, stopped its job.
    It reads the reference under each contig's other spellings (scatter.py reference-aliases),
    so the same calls spelled either way deliver the same records, each in its own spelling."""
    source = cohort.path / "patient1" / "germline.vcf.gz"
    text = run("bcftools", "view", "--no-version", str(source)).stdout
    bare = tmp_path / "bare.vcf"
    bare.write_text(re.sub(r"^chr", "", re.sub(r"##contig=<ID=chr", "##contig=<ID=", text), flags=re.MULTILINE))
    delivered = {}
    for spelling, path in (("chr", source), ("bare", bare)):
        folder = vcf_only_cohort(cohort, tmp_path / spelling, {FIRST: path})
        result = snakemake(folder, config=["regions={presets: [], beds: []}"])
        assert result.returncode == 0, result.stdout + result.stderr
        pseudonym = cohort.linkage[FIRST]
        out = run("bcftools", "view", "--no-version", "-H", str(folder / "results" / pseudonym / f"{pseudonym}.germline.vcf.gz")).stdout
        delivered[spelling] = out.splitlines()
    assert delivered["chr"] and all(line.startswith("chr") for line in delivered["chr"])
    assert [line.removeprefix("chr") for line in delivered["chr"]] == delivered["bare"]


@pytest.mark.slow  # a workflow run of its own: make test-slow (CI runs it after make test)
def test_without_the_audit_the_outputs_are_delivered_unchecked(cohort: Cohort, tmp_path: Path) -> None:
    folder = vcf_only_cohort(cohort, tmp_path / "run", {FIRST: cohort.path / "patient1" / "germline.vcf.gz"})
    result = snakemake(folder, config=["regions={presets: [], beds: []}", "audit=false"])
    assert result.returncode == 0, result.stdout + result.stderr
    pseudonym = cohort.linkage[FIRST]
    delivered = folder / "results" / pseudonym
    assert (delivered / f"{pseudonym}.germline.vcf.gz").is_file() and not (delivered / f"{pseudonym}.audit.json").exists()
    assert json.loads((delivered / f"{pseudonym}.report.json").read_text())["settings"]["audit"] is False
    assert not (folder / "private" / "links.tsv.forbid" / f"{pseudonym}.txt").exists()


# --- the gate's parts -------------------------------------------------------------------------


def test_name_variants_drop_extensions_and_read_numbers() -> None:
    forms = ["S2301388T_20231029_R1.fastq.gz", "S2301388T_20231029_R1", "S2301388T_20231029"]
    assert gate.name_variants("S2301388T_20231029_R1.fastq.gz") == forms
    assert gate.name_variants("Kim_Jihoon_S1_L001_R1_001.fastq.gz") == [
        "Kim_Jihoon_S1_L001_R1_001.fastq.gz", "Kim_Jihoon_S1_L001_R1_001", "Kim_Jihoon_S1_L001", "Kim_Jihoon",
    ]  # fmt: skip: bcl2fastq's sample number and lane go after the read number
    assert "S2301388N_20231029" in gate.name_variants("S2301388N_20231029.germline.vcf.gz")
    assert "KR0042" in gate.name_variants("KR0042.sorted.markdup.bam")


def test_forbid_strings_keep_ids_and_names_once_and_leave_out_plain_words() -> None:
    strings = gate.forbid_strings(
        ["S2301217", "s2301217", "LIB-1", "1", "tumour", "KimJiHoon"],
        ["/data/KR0042/tumour.bam", "/data/KR0042/KR0042_R1.fastq.gz", "/data/Kim/reads.bam"],
        ["Kim J.H.", "", "ab"],
    )
    assert strings == ["S2301217", "LIB-1", "KimJiHoon", "/data/KR0042/tumour.bam", "KR0042",
                       "/data/KR0042/KR0042_R1.fastq.gz", "KR0042_R1.fastq.gz", "KR0042_R1", "/data/Kim/reads.bam",
                       "Kim J.H."]  # fmt: skip
    # an ID the commands replaced stays even as a plain word (a name in SM); a stock label does not; a file
    # name that is a stock label with extensions (tumour.bam, reads.bam) does not either: the outputs are named so


@given(
    originals=st.lists(st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=12), max_size=5),
    names=st.lists(st.from_regex(r"[A-Za-z0-9_.-]{1,20}", fullmatch=True), max_size=5),
)
def test_forbid_strings_are_usable_by_the_audit(originals: list[str], names: list[str]) -> None:
    """Every string is one genoscrub-audit accepts (three characters at least), each once whatever its case;
    every ID that is not a stock label is on the list."""
    strings = gate.forbid_strings(originals, [f"/data/{name}" for name in names], [])
    assert all(len(text) >= 3 for text in strings)
    assert len({text.lower() for text in strings}) == len(strings)
    listed = {text.lower() for text in strings}
    assert all(original.strip().lower() in listed for original in originals if gate.identifying_original(original.strip()))


def audit_entry(name: str, **counts: int) -> dict[str, Any]:
    findings = {klass: {"checked": True, "count": counts.get(klass, 0)} for klass in gate.CLASSES}
    return {"file": f"work/P1/staged/{name}", "verdict": "fail" if any(counts.values()) else "pass", "findings": findings}


def test_merged_audit_names_the_sample_and_each_class_by_count() -> None:
    first = {
        "version": "x",
        "settings": {"population": True},
        "files": [audit_entry("P1.tumour.bam", germline=2), audit_entry("P1.R1.fastq.gz")],
    }
    somatic = audit_entry("P1.somatic.vcf.gz", forbidden=1, regions=4)
    somatic["findings"]["population"] = {"checked": False, "count": 0, "reason": "no --population"}
    second = {"version": "x", "settings": {"population": False}, "files": [somatic]}
    report = gate.merge_audits("P1", [(first, {}), (second, {"population": "kept on purpose"})])
    assert report["verdict"] == "fail" and report["counts"] == {"forbidden": 1, "metadata": 0, "germline": 2, "population": 0, "regions": 4}
    assert report["files"][2]["findings"]["population"]["reason"] == "kept on purpose"
    assert [run["files"] for run in report["runs"]] == [["P1.tumour.bam", "P1.R1.fastq.gz"], ["P1.somatic.vcf.gz"]]
    assert gate.failure_line(report) == (
        "sample P1 held back: genoscrub-audit found forbidden 1 (P1.somatic.vcf.gz 1); germline 2 (P1.tumour.bam 2); "
        "regions 4 (P1.somatic.vcf.gz 4)"
    )


def test_an_audit_that_cannot_check_delivers_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Bad input or usage is no verdict: the sample is held back with the audit's own one line."""
    audit = tmp_path / "genoscrub-audit"
    audit.write_text("#!/bin/sh\necho 'genoscrub-audit: work/P1/staged/P1.tumour.bam: truncated BGZF block' >&2\nexit 1\n")
    audit.chmod(0o755)
    staged = tmp_path / "work" / "P1" / "staged" / "P1.tumour.bam"
    staged.parent.mkdir(parents=True)
    staged.write_bytes(b"BAM")
    fragment = tmp_path / "P1.sample.tsv"
    fragment.write_text("S2301217\tP1\n")
    spec: dict[str, Any] = {
        "sample": "P1",
        "deliver": [[str(staged), str(tmp_path / "results" / "P1" / "P1.tumour.bam")]],
        "sample_report": {"out": str(tmp_path / "results" / "P1" / "P1.report.json"), "files": {}, "settings": {}},
        "audit": {
            "command": str(audit), "threads": 1, "forbid_list": str(tmp_path / "private" / "P1.txt"), "fragments": [str(fragment)],
            "inputs": str(tmp_path / "no-links"), "extra_forbid": [], "runs": [{"files": [str(staged)], "options": [], "reasons": {}}],
            "log": str(tmp_path / "audit.log"), "report": str(tmp_path / "results" / "P1" / "P1.audit.json"),
            "failed_report": str(tmp_path / "work" / "P1" / "audit.failed.json"),
        },
    }  # fmt: skip
    assert gate.gate(spec) == 1
    assert not (tmp_path / "results").exists()
    assert capsys.readouterr().err == (
        "genoscrub workflow: sample P1: genoscrub-audit could not check its outputs: "
        "genoscrub-audit: work/P1/staged/P1.tumour.bam: truncated BGZF block\n"
    )
    assert (tmp_path / "private" / "P1.txt").read_text() == "S2301217\n"
    assert stat.S_IMODE((tmp_path / "private" / "P1.txt").stat().st_mode) == 0o600
    spec["audit"]["command"] = str(tmp_path / "no-such-audit")
    assert gate.gate(spec) == 1 and "cannot start genoscrub-audit" in capsys.readouterr().err


def test_delivery_links_data_before_indexes_and_leaves_none_older_than_its_data(tmp_path: Path) -> None:
    staged = tmp_path / "staged"
    staged.mkdir()
    for name in ("P1.tumour.bam.bai", "P1.tumour.bam"):
        (staged / name).write_text(name)
        os.utime(staged / name, (1, 1))
    pairs = [(staged / name, tmp_path / "results" / "P1" / name) for name in ("P1.tumour.bam.bai", "P1.tumour.bam")]
    gate.deliver(pairs)
    data, index = (tmp_path / "results" / "P1" / name for name in ("P1.tumour.bam", "P1.tumour.bam.bai"))
    assert data.read_text() == "P1.tumour.bam" and os.path.samefile(data, staged / "P1.tumour.bam")  # a link, not a copy
    assert index.stat().st_mtime >= data.stat().st_mtime > 1


# --- runs, config errors ------------------------------------------------------------------


def test_a_second_run_has_nothing_to_do(cohort: Cohort) -> None:
    result = snakemake(cohort.path, "-n", program=True)  # the program itself, once
    assert result.returncode == 0 and "Nothing to be done" in result.stdout + result.stderr


def test_local_profile_is_accepted(cohort: Cohort) -> None:
    result = snakemake(cohort.path, "-n", "--workflow-profile", str(ROOT / "workflow" / "profiles" / "local"))
    assert result.returncode == 0 and "Nothing to be done" in result.stdout + result.stderr


def test_a_sample_vcf_of_other_people_is_refused(cohort: Cohort) -> None:
    """A joint-called family or cohort VCF given as a sample's would deliver other people's
    genotypes in its folder: each VCF job passes vcf-scrub-header ``--max-samples``, one column
    for the germline VCF (the normal's), two for the somatic (tumour and normal)."""
    result = snakemake(cohort.path, "-n", "--forceall", "--printshellcmds")
    assert result.returncode == 0
    lines = [line for line in result.stdout.splitlines() if "vcf-scrub-header -q" in line]
    germline = [line for line in lines if ".germline.vcf.gz" in line.rsplit("bgzip", 1)[-1]]
    somatic = [line for line in lines if ".somatic.vcf.gz" in line.rsplit("bgzip", 1)[-1]]
    assert germline and somatic and len(germline) + len(somatic) == len(lines)
    assert all("--max-samples 1 " in line for line in germline) and all("--max-samples 2 " in line for line in somatic)


def test_unplaced_reads_left_out_when_configured(cohort: Cohort) -> None:
    keep = snakemake(cohort.path, "-n", "--forceall")
    drop = snakemake(cohort.path, "-n", "--forceall", config=["unmapped=drop"])
    assert keep.returncode == 0 and drop.returncode == 0

    def part_jobs(text: str) -> int:
        return next(int(line.split()[-1]) for line in text.splitlines() if line.split()[:1] == ["bam_part"])

    assert part_jobs(keep.stdout) == 4 * 3 and part_jobs(drop.stdout) == 4 * 2


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (["linkage=results/links.tsv"], "'linkage' must lie outside"),
        (["unmapped=keep"], "'unmapped' must be"),
        (["key_file="], "'key_file' is required"),
        (["audit=sometimes"], "'audit' must be true or false"),
        (["somatic_keep_missing=perhaps"], "'somatic_keep_missing' must be true or false"),
        (["multiqc=always"], "'multiqc' must be"),
        (["audit_forbid=[no-such-list.txt]"], "a file of 'audit_forbid' was not found"),
        (["fastq_compression_level=10"], "'fastq_compression_level' must be a whole number from 0"),
        (["fastq_compression_level=-1"], "'fastq_compression_level' must be a whole number from 0"),
        (["fastq_compression_level=fast"], "'fastq_compression_level' must be a whole number from 0"),
        (["fastq_compression_level=1.5"], "'fastq_compression_level' must be a whole number from 0"),
        (["fastq_compression_level=true"], "'fastq_compression_level' must be a whole number from 0"),
        (["bam_compression_level=10"], "'bam_compression_level' must be a whole number from 0"),
        (["bam_compression_level=fast"], "'bam_compression_level' must be a whole number from 0"),
        (["drop_contigs=HLA-*"], "'drop_contigs' must be a list of contig name patterns"),
        (["drop_contigs=[HLA-*, '']"], "'drop_contigs' must be a list of contig name patterns"),
        (["all_below_mapq=-1"], "'all_below_mapq' must be a whole number from 0"),
        (["all_below_mapq=high"], "'all_below_mapq' must be a whole number from 0"),
    ],
)
def test_bad_config_is_refused(cohort: Cohort, config: list[str], message: str) -> None:
    result = snakemake(cohort.path, "-n", config=config, lock=False)
    assert result.returncode != 0 and message in result.stdout + result.stderr
    assert not [word for word in cohort.forbidden if word in result.stdout + result.stderr]


def test_bad_compression_level_is_one_line(cohort: Cohort) -> None:
    result = snakemake(cohort.path, "-n", config=["fastq_compression_level=12"], program=True, lock=False)  # as the program shows it
    shown = [line for line in (result.stdout + result.stderr).splitlines() if "fastq_compression_level" in line]
    assert result.returncode != 0
    message = "config: 'fastq_compression_level' must be a whole number from 0 (stored, fastest) to 9 (smallest)"
    assert shown == [f"genoscrub workflow: {message}"]


def bgzip(data: bytes, *options: str) -> bytes:
    return subprocess.run(["bgzip", "-c", *options], input=data, capture_output=True, check=True, timeout=300).stdout


@pytest.mark.parametrize(("run_name", "level"), [("cohort", 1), ("whole", 4)])  # rename: the example's 1; from_reverted_bam: 4
def test_fastq_pair_is_bgzf_at_the_configured_level(request: pytest.FixtureRequest, run_name: str, level: int) -> None:
    folder: Cohort = request.getfixturevalue(run_name)
    for original in (FIRST, SECOND):
        for mate in ("R1", "R2"):
            path = folder.output(original, f"{mate}.fastq.gz")
            run("bgzip", "-t", str(path))
            run("gzip", "-t", str(path))
            data = path.read_bytes()
            text = gzip.decompress(data)
            written = PAIRS  # rename: every read; from_reverted_bam: the templates the BAM holds (fastq_from_bam.py)
            if run_name == "whole":
                report = json.loads(folder.private(original, "report.json").read_text())["files"][path.name]
                written = report["fastq-from-reverted-bam"]["counts"]["templates_written"]
            assert text.count(b"\n") == 4 * written  # reads back whole
            assert data == bgzip(text, "-l", str(level))  # bgzip at that level, byte for byte: the level reached it
            assert data != bgzip(text)  # control: bgzip's default level gives other bytes


def encoded(bam: Path, *options: str) -> bytes:
    """The BAM's header and records encoded again by samtools view, with ``options``."""
    text = subprocess.run(["samtools", "view", "-h", "--no-PG", str(bam)], capture_output=True, check=True, timeout=300).stdout
    command = ["samtools", "view", "--no-PG", *options, "-o", "-", "-"]
    return subprocess.run(command, input=text, capture_output=True, check=True, timeout=300).stdout


@pytest.mark.parametrize(("run_name", "level"), [("cohort", None), ("whole", 1)])  # the example's htslib default; the whole run's 1
def test_bams_are_bgzf_at_the_configured_level(request: pytest.FixtureRequest, run_name: str, level: int | None) -> None:
    folder: Cohort = request.getfixturevalue(run_name)
    for kind in ("tumour.bam", "normal.bam"):
        data = folder.output(FIRST, kind).read_bytes()
        fast = encoded(folder.output(FIRST, kind), "--output-fmt", "bam,level=1")
        if level == 1:  # one part, moved into place: samtools view's bytes at that level
            assert data == fast
            assert data != encoded(folder.output(FIRST, kind), "-b")  # control: htslib's default level gives other bytes
        else:  # cut by chromosome and joined by samtools cat (the parts' blocks as encoded), at htslib's default level
            assert len(data) < len(fast)


def test_fastq_from_bam_refuses_a_level_bgzip_lacks(capsys: pytest.CaptureFixture[str]) -> None:
    required = ["--bam", "b", "--r1", "1", "--r2", "2", "--scrub", "s", "--pseudonyms", "", "--out-r1", "o1", "--out-r2", "o2"]
    with pytest.raises(SystemExit) as exit_status:
        fastq_from_bam.main([*required, "--report", "r", "--temporary", "t", "--compression-level", "10"])
    assert exit_status.value.code == 2 and "--compression-level" in capsys.readouterr().err


def test_public_key_file_is_refused(cohort: Cohort, tmp_path: Path) -> None:
    key = tmp_path / "public.key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o644)
    result = snakemake(cohort.path, "-n", config=[f"key_file={key}"])
    assert result.returncode != 0 and "chmod 600" in result.stdout + result.stderr


def test_bad_sample_sheet_names_the_line_not_the_sample(cohort: Cohort) -> None:
    sheet = (cohort.path / "samples.tsv").read_text().splitlines()
    broken = cohort.path / "broken-samples.tsv"  # paths in a sheet are relative to its folder
    broken.write_text("\n".join([*sheet, sheet[2].replace(".bam", ".missing.bam", 1)]) + "\n")
    result = snakemake(cohort.path, "-n", config=[f"samples={broken}"])
    assert result.returncode != 0 and "sample sheet line 4" in result.stdout + result.stderr
    assert SECOND not in result.stdout + result.stderr


def test_a_tumour_only_somatic_vcf_is_refused_unless_its_absent_calls_are_chosen(cohort: Cohort, tmp_path: Path) -> None:
    """A somatic VCF without the sample's germline VCF would keep every call absent from the
    population, the private germline variants a tumour-only caller reports as somatic among
    them: the sheet is refused (its line named, not its sample), unless the config chooses."""
    header, first, *_ = (cohort.path / "samples.tsv").read_text().splitlines()
    columns = header.split("\t")
    fields = first.split("\t")
    fields[columns.index("germline_vcf")] = "."
    sheet = cohort.path / "tumour-only-samples.tsv"
    sheet.write_text(f"{header}\n" + "\t".join(fields) + "\n")
    refused = snakemake(cohort.path, "-n", config=[f"samples={sheet}"], lock=False)
    assert refused.returncode != 0 and "sample sheet line 2: a somatic VCF without a germline VCF" in refused.stdout + refused.stderr
    assert FIRST not in refused.stdout + refused.stderr
    for choice in ("tumour_only_keep_missing=true", "somatic_keep_missing=false"):
        chosen = snakemake(cohort.path, "-n", config=[f"samples={sheet}", choice, f"results={tmp_path / 'results'}"])  # not the cohort's
        assert chosen.returncode == 0 and "a somatic VCF without" not in chosen.stdout + chosen.stderr


def test_example_sample_sheet_is_the_cohort_makers(cohort: Cohort) -> None:
    assert (ROOT / "workflow" / "samples.example.tsv").read_text() == (cohort.path / "samples.tsv").read_text()


# --- scatter and gather plans -------------------------------------------------------------


def test_part_regions_cover_each_contig_once() -> None:
    contigs = ["chr1", "chr2", "chrM", "HLA-A*01:01:01:01"]
    assert scatter.part_regions(contigs, ["chr1", "chrX"], "chr1") == ["{chr1}"]
    assert scatter.part_regions(contigs, ["chr1", "chrX"], "chrX") == []  # header only
    assert scatter.part_regions(contigs, ["chr1", "chrX"], "other") == ["{chr2}", "{chrM}", "{HLA-A*01:01:01:01}"]
    assert scatter.part_regions(contigs, ["chr1"], "unplaced") == ["*"]


def test_gather_uses_cat_only_when_parts_follow_the_header() -> None:
    groups = scatter.part_groups(["chr1", "chr2"], keep_unplaced=True)
    assert scatter.gather_plan(["chr1", "chr2", "chrM", "chrUn"], ["chr1", "chr2"], groups) == (
        ["chr1", "chr2", "other", "unplaced"],
        "cat",
    )
    assert scatter.gather_plan(["chrM", "chr1", "chr2"], ["chr1", "chr2"], groups) == (["other", "chr1", "chr2", "unplaced"], "cat")
    assert scatter.gather_plan(["chr1", "chrM", "chr2", "chrUn"], ["chr1", "chr2"], groups)[1] == "merge"


def test_only_merge_encodes_again_at_the_configured_level() -> None:
    merged = ["samtools", "merge", "--no-PG", "-l", "1", "-o", "o.bam", "a.bam", "b.bam"]
    assert scatter.join_command("merge", ["a.bam", "b.bam"], "o.bam", 1) == merged
    assert scatter.join_command("merge", ["a.bam"], "o.bam", None) == ["samtools", "merge", "--no-PG", "-o", "o.bam", "a.bam"]
    assert scatter.join_command("cat", ["a.bam"], "o.bam", 1) == ["samtools", "cat", "--no-PG", "-o", "o.bam", "a.bam"]


@given(
    header=st.lists(st.sampled_from([f"c{i}" for i in range(8)]), unique=True, min_size=1),
    named=st.sets(st.sampled_from([f"c{i}" for i in range(10)])),
    keep_unplaced=st.booleans(),
)
def test_gather_plan_keeps_coordinate_order_when_it_cats(header: list[str], named: set[str], keep_unplaced: bool) -> None:
    listed = sorted(named)
    groups = scatter.part_groups(listed, keep_unplaced)
    order, method = scatter.gather_plan(header, listed, groups)
    assert sorted(order) == sorted(groups)  # every part exactly once
    assert (order[-1] == "unplaced") == keep_unplaced
    covered = [contig for group in order if group != "unplaced" for contig in scatter.part_regions(header, listed, group)]
    assert sorted(covered) == sorted("{" + contig + "}" for contig in header)  # every contig in exactly one part
    if method == "cat":
        assert covered == ["{" + contig + "}" for contig in header]  # concatenation is in header order


# --- a BAM kept whole: the same records as cut by chromosome ---------------------------------


@pytest.mark.parametrize("original", [FIRST, SECOND])
def test_whole_bam_holds_the_records_of_the_scattered_one(cohort: Cohort, whole: Cohort, original: str) -> None:
    assert whole.linkage == cohort.linkage  # same key, same inputs: same pseudonyms
    for kind in ("tumour.bam", "normal.bam"):
        assert bam_text(whole.output(original, kind)) == bam_text(cohort.output(original, kind))
    assert readable(whole.output(original, "somatic.vcf.gz")) == readable(cohort.output(original, "somatic.vcf.gz"))


def test_the_germline_vcf_is_an_input_only_unless_delivered(cohort: Cohort, whole: Cohort) -> None:
    """Red team 11 F11: every sample's germline VCF was delivered, the patient's genotype at every
    common site beside reads reverted at exactly those sites. With deliver_germline_vcf false (the
    example's) the reads are reverted at its sites, the somatic VCF held to it and the gate audits
    with it, and no file, report, summary or MultiQC table names a germline VCF."""
    for original in (FIRST, SECOND):
        pseudonym = whole.linkage[original]
        assert sorted(path.name for path in whole.sample(original).iterdir() if "germline" in path.name) == []
        assert cohort.output(original, "germline.vcf.gz").is_file()  # deliver_germline_vcf: true
        report = json.loads(whole.private(original, "report.json").read_text())
        assert f"{pseudonym}.germline.vcf.gz" not in report["files"] and report["settings"]["deliver_germline_vcf"] is False
        assert report["files"][f"{pseudonym}.normal.bam"]["sam-revert-germline"]["germline_records"] > 0  # reverted at its sites
        assert report["files"][f"{pseudonym}.somatic.vcf.gz"]["vcf-drop-rare"]["germline_alleles"] > 0  # --germline
        audit = json.loads(whole.private(original, "audit.json").read_text())
        assert [run["settings"]["germline_in_vcf"] for run in audit["runs"]] == [False, True]
        assert audit["runs"][0]["settings"]["germline_records"] > 0
        assert not list((whole.path / "work" / pseudonym).rglob("germline.*.json"))  # no germline VCF job ran
    assert "germline.vcf" not in (whole.results / "cohort_summary.tsv").read_text()
    assert all("germline.vcf" not in path.read_text() for path in (whole.results / "multiqc").glob("*_mqc.yaml"))
    assert "germline.vcf" in (cohort.results / "cohort_summary.tsv").read_text()


def test_whole_bam_is_one_part_moved_with_the_index_written_while_encoding(whole: Cohort) -> None:
    for kind in ("tumour", "normal"):
        output = whole.output(FIRST, f"{kind}.bam")
        report = json.loads(whole.private(FIRST, "report.json").read_text())["files"][output.name]
        assert report["gather"]["gathered_by"] == "one part, moved" and report["sam-scrub-rg"]["parts"] == 1
        assert report["gather"]["counts"]["records_written"] == int(run("samtools", "view", "-c", str(output)).stdout)
        run("samtools", "quickcheck", "-v", str(output))
        by_index = run("samtools", "view", "-c", str(output), "chr2:1-100000").stdout
        by_scan = sum(
            1 for line in bam_text(output).splitlines() if line.split("\t")[2:3] == ["chr2"] and int(line.split("\t")[3]) <= 100000
        )
        assert int(by_index) == by_scan > 0  # the index written while encoding answers like a scan
    assert not list((whole.path / "work").rglob("*.whole.bam"))  # the parts were moved, not copied


# --- FASTQ written from the reverted BAM -------------------------------------------------------


def fastq_records(path: Path) -> list[tuple[str, str]]:
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    return list(zip(lines[0::4], lines[1::4], strict=True))


def reverse_complement(sequence: str) -> str:
    return sequence[::-1].translate(str.maketrans("ACGTN", "TGCAN"))


def germline_alt_kmers(cohort: Cohort, folder: str, flank: int = 12) -> dict[tuple[str, int], set[str]]:
    """Each germline variant's allele with `flank` reference bases on either side, both strands;
    sites whose k-mer also occurs in the reference are left out (they prove nothing)."""
    reference: dict[str, str] = {}
    for block in (cohort.path / "ref.fa").read_text().split(">")[1:]:
        name, *lines = block.splitlines()
        reference[name.split()[0]] = "".join(lines).upper()
    genome = "\n".join(reference.values())
    kmers = {}
    for row in (cohort.path / folder / "truth.tsv").read_text().splitlines()[1:]:
        chrom, position, ref, alt, kind = row.split("\t")[:5]
        start = int(position) - 1
        contig = reference[chrom]
        kmer = contig[start - flank : start] + alt.upper() + contig[start + len(ref) : start + len(ref) + flank]
        if kind == "germline" and kmer not in genome and reverse_complement(kmer) not in genome:
            kmers[(chrom, int(position))] = {kmer, reverse_complement(kmer)}
    return kmers


def sites_seen(reads: list[str], kmers: dict[tuple[str, int], set[str]]) -> set[tuple[str, int]]:
    text = "\n".join(reads)
    return {site for site, alleles in kmers.items() if any(allele in text for allele in alleles)}


def test_fastq_from_reverted_bam_carries_no_germline_allele(cohort: Cohort, whole: Cohort) -> None:
    kmers = germline_alt_kmers(cohort, "patient1")
    source = [gzip.decompress((cohort.path / "patient1" / f"tumour_{mate}.fastq.gz").read_bytes()).decode() for mate in ("R1", "R2")]
    renamed = [sequence for mate in ("R1", "R2") for _, sequence in fastq_records(cohort.output(FIRST, f"{mate}.fastq.gz"))]
    reverted = [sequence for mate in ("R1", "R2") for _, sequence in fastq_records(whole.output(FIRST, f"{mate}.fastq.gz"))]
    in_source = sites_seen(source, kmers)
    assert len(in_source) > len(kmers) // 2  # control: the sequenced reads carry most germline alleles
    assert sites_seen(renamed, kmers) == in_source  # renaming leaves every one of them
    assert not sites_seen(reverted, kmers)


def test_the_bam_the_fastq_is_written_from_has_no_callable_germline_allele(cohort: Cohort, whole: Cohort) -> None:
    """With the test below (each read is samtools fastq's of this BAM), bcftools' word for the FASTQ."""
    truth = germline_truth(cohort, "patient1")
    assert len(called_sites(cohort, cohort.path / "patient1" / "tumour.bam") & truth) > len(truth) // 2  # control
    assert not called_sites(whole, whole.output(FIRST, "tumour.bam")) & truth


@pytest.mark.parametrize("original", [FIRST, SECOND])
def test_fastq_from_reverted_bam_keeps_order_names_and_counts(cohort: Cohort, whole: Cohort, original: str) -> None:
    for mate in ("R1", "R2"):
        renamed = fastq_records(cohort.output(original, f"{mate}.fastq.gz"))
        reverted = fastq_records(whole.output(original, f"{mate}.fastq.gz"))
        assert len(renamed) == PAIRS and PAIRS - 50 < len(reverted) <= PAIRS  # less the templates the BAM lost whole
        names = [name for name, _ in reverted]
        assert names == sorted(names) and set(names) <= {name for name, _ in renamed}  # the same keyed names, in their order
    first, second = (fastq_records(whole.output(original, f"{mate}.fastq.gz")) for mate in ("R1", "R2"))
    assert [name.split()[0] for name, _ in first] == [name.split()[0] for name, _ in second]  # pairs in sync


def samtools_fastq(bam: Path) -> dict[str, str]:
    """name/mate -> sequence, as samtools itself turns the BAM's primary reads back into FASTQ."""
    lines = run("samtools", "fastq", "-N", "-F", "0x900", str(bam)).stdout.splitlines()
    return {name[1:]: sequence for name, sequence in zip(lines[0::4], lines[1::4], strict=True)}


@pytest.mark.parametrize("original", [FIRST, SECOND])
def test_fastq_from_reverted_bam_holds_the_reverted_reads_and_masks_the_rest(whole: Cohort, original: str) -> None:
    from_bam = samtools_fastq(whole.output(original, "tumour.bam"))
    unplaced = {line.split("\t")[0] for line in run("samtools", "view", str(whole.output(original, "tumour.bam")), "*").stdout.splitlines()}
    templates_in_bam = {key[:-2] for key in from_bam}
    masked = same = 0
    for number, mate in ((1, "R1"), (2, "R2")):
        for name, sequence in fastq_records(whole.output(original, f"{mate}.fastq.gz")):
            key = f"{name[1:].split()[0]}/{number}"
            assert key[:-2] in templates_in_bam  # a template the BAM lost whole is left out: its count is the reads lost
            if key in from_bam:
                assert sequence == from_bam[key]
                same += 1
            else:
                assert set(sequence) == {"N"}  # a read the BAM lost, its mate kept, is shared without a base
                masked += 1
            if key[:-2] in unplaced:
                assert set(sequence) == {"N"}  # unplaced reads: masked in the BAM, so here too
    report = json.loads(whole.private(original, "report.json").read_text())["files"][whole.output(original, "R1.fastq.gz").name]
    counts = report["fastq-from-reverted-bam"]["counts"]
    assert counts["reads_masked_not_in_bam"] == masked and same == len(from_bam)
    assert counts["templates_written"] == len(templates_in_bam) == PAIRS - counts["templates_left_out_not_in_bam"]
    assert counts["templates_left_out_not_in_bam"] > 0  # control: the cohort has pairs removed at a germline insertion
    assert unplaced  # control: the cohort has unplaced pairs


def order_lines(*templates: tuple[str, int, int]) -> list[bytes]:
    """Sorted step-1 rows for (key, length 1, length 2) in FASTQ order."""
    return sorted(f"{key}\t@{key} 1:N:0\t@{key} 2:N:0\t{one}\t{two}\n".encode() for key, one, two in templates)


def test_fastq_join_writes_names_in_order_masks_lost_mates_and_keeps_bam_only_pairs() -> None:
    order = order_lines(("b", 3, 3), ("a", 2, 2), ("c", 4, 1))
    reads = sorted(
        [b"a\t1\tAC\tII\n", b"a\t2\tGT\tII\n", b"b\t1\tAAA\tIII\n", b"d\t1\tC\tI\n", b"d\t2\tG\tI\n", b"e\t1\tT\tI\n"]
    )  # b lost its mate 2, c is absent, d and e are only in the BAM, e without its mate
    counts = dict.fromkeys(fastq_from_bam.COUNTS, 0)
    records = [line.rstrip(b"\n").split(b"\t") for line in fastq_from_bam.merge_join(iter(order), iter(reads), counts)]
    assert records == [  # by name: the FASTQ's order would show which reads the reverter moved
        [b"@a 1:N:0", b"AC", b"II", b"@a 2:N:0", b"GT", b"II"],
        [b"@b 1:N:0", b"AAA", b"III", b"@b 2:N:0", b"NNN", b"###"],
        [b"@d/1", b"C", b"I", b"@d/2", b"G", b"I"],
    ]  # c left out: written masked, the count of such templates is the reads the BAM lost (chrEBV's, an insertion's)
    assert counts == {
        "templates_in_fastq": 3,
        "templates_written": 0,  # counted by the writer
        "templates_only_in_bam": 2,
        "templates_incomplete_only_in_bam": 1,
        "templates_left_out_not_in_bam": 1,
        "reads_masked_not_in_bam": 1,
    }


@given(st.lists(st.tuples(st.integers(1, 5), st.booleans(), st.booleans()), max_size=30))
def test_fastq_join_writes_every_template_the_bam_holds_in_name_order(templates: list[tuple[int, bool, bool]]) -> None:
    keys = [f"{index:04x}" for index in range(len(templates))][::-1]  # FASTQ order is not name order
    order = order_lines(*((key, length, length) for key, (length, _, _) in zip(keys, templates, strict=True)))
    reads = sorted(
        f"{key}\t{mate}\t{'A' * length}\t{'I' * length}\n".encode()
        for key, (length, one, two) in zip(keys, templates, strict=True)
        for mate, present in ((1, one), (2, two))
        if present
    )
    counts = dict.fromkeys(fastq_from_bam.COUNTS, 0)
    joined = list(fastq_from_bam.merge_join(iter(order), iter(reads), counts))
    in_bam = [key for key, (_, one, two) in zip(keys, templates, strict=True) if one or two]
    assert [line.split(b"\t")[0] for line in joined] == [f"@{key} 1:N:0".encode() for key in sorted(in_bam)]
    assert counts["reads_masked_not_in_bam"] == sum(one != two for _, one, two in templates)
    assert counts["templates_left_out_not_in_bam"] == len(templates) - len(in_bam)
    for line in joined:  # no template without a base: its count would be the reads the BAM lost
        fields = line.rstrip(b"\n").split(b"\t")
        assert not (set(fields[1]) == {ord("N")} and set(fields[4]) == {ord("N")})


def test_fastq_pair_out_of_sync_is_refused_without_quoting_a_name() -> None:
    def rows(*lines: bytes) -> io.BytesIO:
        return io.BytesIO(b"".join(line + b"\t3\n" for line in lines))

    assert list(fastq_from_bam.order_rows(rows(b"@k1/1", b"@k2 1:N:0"), rows(b"@k1/2", b"@k2 2:N:0"))) == [
        b"k1\t@k1/1\t@k1/2\t3\t3\n",
        b"k2\t@k2 1:N:0\t@k2 2:N:0\t3\t3\n",
    ]
    for first, second in ((rows(b"@k1/1"), rows(b"@k9/2")), (rows(b"@k1/1", b"@k2/1"), rows(b"@k1/2")), (rows(b"k1"), rows(b"k1"))):
        with pytest.raises(fastq_from_bam.FastqFromBamError) as error:
            list(fastq_from_bam.order_rows(first, second))
        assert "k1" not in str(error.value) and "k9" not in str(error.value)


def test_fastq_from_reverted_bam_needs_a_pair_and_a_bam(cohort: Cohort) -> None:
    sheet = (cohort.path / "samples.tsv").read_text().splitlines()
    single = cohort.path / "single-end-samples.tsv"
    single.write_text("\n".join(line.rsplit("\t", 1)[0] for line in sheet) + "\n")  # no fastq_r2 column
    result = snakemake(cohort.path, "-n", config=[f"samples={single}", "fastq=from_reverted_bam"])
    assert result.returncode != 0 and "sample sheet line 2: fastq: from_reverted_bam" in result.stdout + result.stderr
    bogus = snakemake(cohort.path, "-n", config=["fastq=germline_free"], lock=False)
    assert bogus.returncode != 0 and "'fastq' must be" in bogus.stdout + bogus.stderr


# --- bookkeeping steps ----------------------------------------------------------------------


def test_merge_reports_sums_counts_and_takes_header_counts_once() -> None:
    parts = [
        {"command": "x", "counts": {"reads_in": 3, "read_groups": 2}, "mode": "a"},
        {"counts": {"reads_in": 4, "read_groups": 2}, "mode": "b"},
    ]
    assert reports.merge_reports(parts) == {"parts": 2, "counts": {"read_groups": 2, "reads_in": 7}, "mode": ["a", "b"]}
    assert list(reports.merge_reports(parts)["counts"]) == ["read_groups", "reads_in"]  # sorted: the same bytes in every process


def test_linkage_rows_refuse_a_table_that_is_not_one_to_one() -> None:
    assert reports.linkage_rows(["b\tP2\na\tP1\n", "a\tP1\n"]) == [("a", "P1"), ("b", "P2")]
    with pytest.raises(reports.LinkageError):
        reports.linkage_rows(["a\tP1\n", "a\tP2\n"])
    with pytest.raises(reports.LinkageError):
        reports.linkage_rows(["a\tP1\n", "b\tP1\n"])


def test_whole_part_reads_the_file_front_to_back() -> None:
    assert scatter.part_groups(["chr1"], keep_unplaced=True, cut=False) == ["whole"]
    assert scatter.part_groups(["chr1"], keep_unplaced=False, cut=False) == ["placed"]
    assert scatter.part_regions(["chr1", "chr2"], ["chr1"], "whole") is None
    assert scatter.part_regions(["chr1", "chr2"], ["chr1"], "placed") == ["{chr1}", "{chr2}"]
    assert scatter.gather_plan(["chr1", "chr2"], ["chr1"], ["whole"]) == (["whole"], "cat")


@pytest.mark.parametrize(
    ("name", "listed"),
    [("tumour.bam", False), ("normal_R1.fastq.gz", False), ("R1.fastq.gz", False), ("germline.vcf.gz", False),
     ("reads.bam", False), ("KR0042.bam", True), ("S2301217T_R1.fastq.gz", True), ("kimjh.bam", True)],
)  # fmt: skip
def test_a_plain_word_file_name_is_not_forbidden_as_the_outputs_are_named_so(name: str, listed: bool) -> None:
    """genoscrub-audit searches a delivered file's own name (``P1.tumour.bam``): an input named ``tumour.bam``
    names no one, and listing it would hold back every sample; ``kimjh.bam`` names someone."""
    assert (name in gate.forbid_strings([], [f"/data/x/{name}"], [])) == listed


# --- what the delivered reports keep (F10 of red team 4) ----------------------------------------


def step_report(counts: dict[str, int], **fields: Any) -> dict[str, Any]:
    return {"parts": 1, "version": "0.1.0", **fields, "counts": counts}


def test_delivered_report_keeps_only_allowlisted_counts_and_fields() -> None:
    """Two patients whose delivered VCFs are identical differ in how many rare germline variants
    vcf-drop-rare removed (on a panel: carrier status). The delivered report keeps what the files
    show themselves (the last step's records out), which steps ran and with which settings."""
    full = {
        "sample": "P1",
        "settings": {"min_af": 0.01},
        "files": {
            "P1.germline.vcf.gz": {
                "vcf-scrub-header": step_report({"records": 50, "samples_renamed": 1, "header_lines_removed": 3}, scheme="key"),
                "vcf-drop-rare": step_report(
                    {"records": 50, "kept": 45, "dropped_rare": 3, "dropped_missing": 2}, af_key="AF", germline_alleles=9
                ),
                "vcf-drop-regions": step_report({"records_in": 45, "records_out": 44, "records_dropped": 1}, regions=20),
            },
            "P1.somatic.vcf.gz": {
                "vcf-scrub-header": step_report({"records": 9}),
                "vcf-drop-rare": step_report({"kept": 7, "dropped_germline_listed": 2}),
            },
            "P1.normal.bam": {
                "sam-scrub-rg": step_report({"records": 100, "read_groups": 2, "aux_tags_removed": 4}),
                "sam-revert-germline": step_report(
                    {"reads_in": 100, "reads_out": 99, "bases_reverted": 70}, mode="germline", germline_records=70
                ),
                "gather": step_report({"records_in_input": 100, "records_written": 99}, gathered_by="samtools cat"),
            },
            "P1.R1.fastq.gz": {"fastq-scrub-names": step_report({"records": 50, "plus_lines_cleared": 50})},
            "P1.other": {"a-new-step": step_report({"records": 5, "something": 1}, new_field="x")},
        },
    }  # fmt: skip
    delivered = reports.delivered_report(full)
    files = delivered["files"]
    assert delivered["sample"] == "P1" and delivered["settings"] == full["settings"] and delivered["counts_delivered"]
    assert files["P1.germline.vcf.gz"] == {
        "vcf-scrub-header": {"parts": 1, "version": "0.1.0", "scheme": "key", "counts": {"samples_renamed": 1}},
        "vcf-drop-rare": {"parts": 1, "version": "0.1.0", "af_key": "AF", "counts": {}},  # kept: a later step drops more
        "vcf-drop-regions": {"parts": 1, "version": "0.1.0", "regions": 20, "counts": {"records_out": 44}},
    }
    assert files["P1.somatic.vcf.gz"]["vcf-drop-rare"]["counts"] == {"kept": 7}  # the file's last step: its records out
    assert files["P1.normal.bam"]["sam-scrub-rg"]["counts"] == {"read_groups": 2}
    assert files["P1.normal.bam"]["sam-revert-germline"] == {"parts": 1, "version": "0.1.0", "mode": "germline", "counts": {}}
    assert files["P1.normal.bam"]["gather"]["counts"] == {"records_written": 99}
    assert files["P1.R1.fastq.gz"]["fastq-scrub-names"]["counts"] == {"records": 50}
    assert files["P1.other"] == {"a-new-step": {"parts": 1, "version": "0.1.0", "counts": {}}}  # unknown: fail closed
    # the panel case: one more rare variant removed, the same delivered file, the same delivered report
    other = json.loads(json.dumps(full))
    other["files"]["P1.germline.vcf.gz"]["vcf-drop-rare"]["counts"].update(records=51, dropped_rare=4)
    other["files"]["P1.germline.vcf.gz"]["vcf-scrub-header"]["counts"]["records"] = 51
    assert reports.delivered_report(other) == delivered


def test_cohort_summary_rows_follow_the_pseudonyms_not_the_sheet() -> None:
    """A sheet is often sorted by registration number or enrolment date: rows in its order would
    pair the keyed pseudonyms with the IDs behind them, for anyone holding an ordered list."""
    counts = {"f": {"step": {"counts": {"records": 1}}}}
    rows = reports.summary_rows([{"sample": "SF0", "files": counts}, {"sample": "S0A", "files": counts}])
    assert [row.split("\t")[0] for row in rows[1:]] == ["S0A", "SF0"]


def test_delivered_audit_leaves_out_the_size_of_the_germline_list() -> None:
    report: dict[str, Any] = {
        "verdict": "pass",
        "runs": [{
            "files": ["P1.normal.bam"],
            "settings": {"germline_records": 70, "forbid_strings": 31, "population": True, "flank": 0, "new": 1},
        }],
        "files": [{"file": "P1.normal.bam", "records": 99, "verdict": "pass", "findings": {}}],
    }  # fmt: skip
    delivered = gate.delivered_audit(report)
    assert delivered["runs"] == [{"files": ["P1.normal.bam"], "settings": {"population": True, "flank": 0}}]
    somatic = {"population": True, "population_missing": "ok", "germline_markers": True, "max_samples": 2, "germline_records": 70}
    report["runs"].append({"files": ["P1.somatic.vcf.gz"], "settings": somatic})
    assert gate.delivered_audit(report)["runs"][1]["settings"] == {  # what was checked in the somatic VCF, and how
        "population": True, "population_missing": "ok", "germline_markers": True, "max_samples": 2,
    }  # fmt: skip
    assert delivered["files"] == report["files"] and delivered["verdict"] == "pass"
    assert report["runs"][0]["settings"]["germline_records"] == 70  # the site's copy is left whole


def test_delivered_audit_leaves_out_the_forbid_list_lines_found_in_keyed_names() -> None:
    """A passing audit may list, per file, the forbid list's lines whose strings turned up in keyed
    read names within chance, with hit and expected counts (``keyed_names``): the expected count
    tells a string's length, the line which patient it is. The delivered report keeps each file's
    entry and each class of findings by an allowlist: none of that, and no examples."""
    entry = {
        "file": "P1.tumour.bam", "format": "BAM", "records": 99, "verdict": "pass",
        "findings": {
            "read_names": {"checked": True, "count": 0, "examples": {"QNAME": ["x"]}},
            "germline": {"checked": False, "count": 0, "reason": "r"},
        },
        "keyed_names": {"searched": 99, "within_chance": {"QNAME (list line 1)": {"hits": 7, "expected": 6.1}}},
        "new": 1,
    }  # fmt: skip
    delivered = gate.delivered_audit({"verdict": "pass", "runs": [], "files": [entry]})
    assert delivered["files"] == [{
        "file": "P1.tumour.bam", "format": "BAM", "records": 99, "verdict": "pass",
        "findings": {"read_names": {"checked": True, "count": 0}, "germline": {"checked": False, "count": 0, "reason": "r"}},
    }]  # fmt: skip
    assert "keyed_names" in entry  # the site's copy is left whole


def test_forbid_list_gets_the_read_group_id_of_a_scoped_original(tmp_path: Path) -> None:
    """sam-scrub-rg writes a read group's ID as ``ID@<sample pseudonym>`` (its pseudonym is scoped
    to the sample): the gate forbids the ID itself, never the pseudonym the delivery holds."""
    from genoscrub.pseudonyms import SCOPE_SEPARATOR

    assert gate.SCOPE_SEPARATOR == SCOPE_SEPARATOR
    fragment = tmp_path / "P1.normal.tsv"
    fragment.write_text("S2301217N\tSAAAA\nHK2VMDSXY.2@SAAAA\tSBBBB\nLIB@7@SAAAA\tSCCCC\n")
    originals = gate.fragment_originals([fragment])
    assert {"S2301217N", "HK2VMDSXY.2", "LIB", "LIB@7"} <= set(originals)
    assert "SAAAA" not in originals


def test_the_reference_aliases_name_each_contig_by_its_other_spellings_too(tmp_path: Path) -> None:
    """bcftools norm -f finds a VCF's contig by its name as written: the aliased index gives each
    contig's other spellings (the commands' own, genoscrub.contigs) at the same offsets, and
    leaves a name the reference itself holds to its own line."""
    fai = tmp_path / "ref.fa.fai"
    fai.write_text("chr1\t100\t6\t60\t61\nchrM\t50\t120\t60\t61\n1\t30\t200\t60\t61\n")
    lines = scatter.aliased_fai(str(fai)).splitlines()
    assert lines[:3] == fai.read_text().splitlines()  # the reference's own lines first, as they were
    assert "MT\t50\t120\t60\t61" in lines and "M\t50\t120\t60\t61" in lines and "26\t50\t120\t60\t61" in lines
    assert [line for line in lines if line.startswith("1\t")] == ["1\t30\t200\t60\t61"]  # its own, not chr1's


def test_the_dropped_contigs_bed_names_each_contig_by_its_other_spellings_too(tmp_path: Path) -> None:
    dictionary = tmp_path / "reference.dict"
    dictionary.write_text("@HD\tVN:1.0\n@SQ\tSN:chr1\tLN:100\n@SQ\tSN:chrEBV\tLN:171823\n@SQ\tSN:HLA-A*01:01:01:01\tLN:3503\n")
    bed = scatter.dropped_contigs_bed(str(dictionary), ["HLA-*", "chrEBV"]).splitlines()
    assert bed == ["chrEBV\t0\t171823", "EBV\t0\t171823", "HLA-A*01:01:01:01\t0\t3503", "chrHLA-A*01:01:01:01\t0\t3503"]
