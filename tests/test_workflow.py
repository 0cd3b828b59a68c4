"""The cohort workflow (workflow/Snakefile), end to end on the bundled two-patient cohort.

One Snakemake run (module fixture) on tools/cohort.py's cohort with workflow/config.example.yaml,
each BAM scattered by chromosome, then every check with samtools/bcftools: outputs valid and
indexed, one pseudonym per sample across BAM, VCF and FASTQ, no planted identifier in any output,
work file, Snakemake log or message, every read accounted for, germline alleles and rare variants
gone, linkage table private. A second run on a copy of the same files (same key) keeps each BAM
whole and writes the FASTQ pair from the reverted BAM: its records must equal the first run's,
and its FASTQ must hold no germline allele. The scatter/gather planning, the bookkeeping steps
and the FASTQ join are tested on their own (with hypothesis where there is an invariant).
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.cohort import FIRST, SECOND, make_cohort

ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = ROOT / "workflow" / "Snakefile"
EXAMPLE_CONFIG = ROOT / "workflow" / "config.example.yaml"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
PAIRS = 1500  # per sample; enough for variant calling at ~6x, small enough for a fast run
TEST_CONFIG = ["scatter=[chr1]", "part_threads=1"]  # chr2 and chrM then share the "other" part
SCATTERED = ["scatter_min_mb=0"]  # the example's BAMs are far below the default: cut them anyway
WHOLE_FROM_BAM = ["scatter_min_mb=4000", "fastq=from_reverted_bam"]  # the default threshold: one part per BAM


def load_workflow_script(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"workflow_{name}", ROOT / "workflow" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


scatter = load_workflow_script("scatter")
reports = load_workflow_script("reports")
fastq_from_bam = load_workflow_script("fastq_from_bam")


def run(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, check=check, timeout=300)


def snakemake(cohort: Path, *args: str, config: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(SNAKEMAKE), "--snakefile", str(SNAKEFILE), "--configfile", str(EXAMPLE_CONFIG), "--cores", "2", *args]
    command += ["--config", *TEST_CONFIG, *SCATTERED, *(config or [])]  # a later key=value wins
    return subprocess.run(command, cwd=cohort, capture_output=True, text=True, timeout=600)


class Cohort:
    def __init__(self, path: Path, result: subprocess.CompletedProcess[str]) -> None:
        self.path = path
        self.messages = result.stdout + result.stderr
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


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Cohort:
    if not SNAKEMAKE.exists():
        pytest.skip("snakemake not installed: pip install -e '.[test]'")
    for tool in ("samtools", "bcftools", "bgzip", "tabix"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed")
    path = tmp_path_factory.mktemp("cohort")
    make_cohort(path, pairs=PAIRS)
    shutil.copytree(path, path.with_name(path.name + "-whole"))  # for the second run: the same key and inputs
    result = snakemake(path, "--printshellcmds")  # not quiet: the logs then name every input, output and command
    assert result.returncode == 0, result.stdout + result.stderr
    return Cohort(path, result)


@pytest.fixture(scope="module")
def whole(cohort: Cohort) -> Cohort:
    """The same cohort, each BAM one part, the FASTQ pair written from the reverted BAM."""
    path = cohort.path.with_name(cohort.path.name + "-whole")
    result = snakemake(path, "--printshellcmds", config=WHOLE_FROM_BAM)
    assert result.returncode == 0, result.stdout + result.stderr
    return Cohort(path, result)


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
        [cohort.linkage[FIRST], cohort.linkage[SECOND], "cohort_summary.tsv"]
    )
    pseudonym = cohort.linkage[SECOND]
    assert sorted(path.name for path in cohort.sample(SECOND).iterdir()) == sorted(
        f"{pseudonym}.{suffix}"
        for suffix in (
            "tumour.bam", "tumour.bam.bai", "normal.bam", "normal.bam.bai", "germline.vcf.gz", "germline.vcf.gz.tbi",
            "somatic.vcf.gz", "somatic.vcf.gz.tbi", "R1.fastq.gz", "R2.fastq.gz", "report.json",
        )
    )  # fmt: skip


@pytest.mark.parametrize("original", [FIRST, SECOND])
def test_one_pseudonym_per_sample_across_bam_vcf_and_fastq(cohort: Cohort, original: str) -> None:
    tumour, normal = cohort.linkage[f"{original}T_20231029"], cohort.linkage[f"{original}N_20231029"]
    assert sample_names(cohort.output(original, "tumour.bam")) == {tumour}
    assert sample_names(cohort.output(original, "normal.bam")) == {normal}
    assert run("bcftools", "query", "-l", str(cohort.output(original, "germline.vcf.gz"))).stdout.split() == [normal]
    assert run("bcftools", "query", "-l", str(cohort.output(original, "somatic.vcf.gz"))).stdout.split() == [tumour, normal]
    # FASTQ names are the keyed pseudonyms of the same templates as in the BAM
    records = run("samtools", "view", str(cohort.output(original, "tumour.bam"))).stdout.splitlines()
    bam_names = {line.split("\t", 1)[0] for line in records}
    for mate in ("R1", "R2"):
        lines = gzip.decompress(cohort.output(original, f"{mate}.fastq.gz").read_bytes()).decode().splitlines()
        fastq_names = {line[1:].split()[0].removesuffix("/1").removesuffix("/2") for line in lines[0::4]}
        assert fastq_names <= bam_names
    assert cohort.sample(original).name == cohort.linkage[original]


# --- privacy ------------------------------------------------------------------------------


def test_no_planted_identifier_in_any_output_work_file_or_log(cohort: Cohort) -> None:
    scanned = 0
    leaks = []
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
def test_every_read_accounted_for_and_unplaced_reads_masked(cohort: Cohort, kind: str) -> None:
    source = cohort.path / "patient1" / f"{kind}.bam"
    output = cohort.output(FIRST, f"{kind}.bam")
    report = json.loads(cohort.output(FIRST, "report.json").read_text())["files"][output.name]
    gather = report["gather"]["counts"]
    assert gather["records_in_input"] == int(run("samtools", "view", "-c", str(source)).stdout)
    assert gather["records_written"] == int(run("samtools", "view", "-c", str(output)).stdout)
    dropped = report["sam-revert-germline"]["counts"]["reads_in"] - report["sam-revert-germline"]["counts"]["reads_out"]
    dropped += report["sam-mask-regions"]["counts"]["reads_in"] - report["sam-mask-regions"]["counts"]["reads_out"]
    assert gather["records_written"] == gather["records_in_input"] - dropped
    unplaced = run("samtools", "view", str(output), "*").stdout.splitlines()
    assert len(unplaced) == int(run("samtools", "view", "-c", str(source), "*").stdout) > 0
    assert all(set(line.split("\t")[9]) <= {"N"} for line in unplaced)
    assert report["sam-scrub-rg"]["parts"] == 3 and report["gather"]["gathered_by"] == "samtools cat"


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
    records = {(row[0], row[1], row[2], row[3]): int(row[4]) for row in rows[1:]}
    assert records[(pseudonym, f"{pseudonym}.tumour.bam", "gather", "records_written")] == int(
        run("samtools", "view", "-c", str(cohort.output(FIRST, "tumour.bam"))).stdout
    )


# --- runs, config errors ------------------------------------------------------------------


def test_a_second_run_has_nothing_to_do(cohort: Cohort) -> None:
    result = snakemake(cohort.path, "-n")
    assert result.returncode == 0 and "Nothing to be done" in result.stdout + result.stderr


def test_local_profile_is_accepted(cohort: Cohort) -> None:
    result = snakemake(cohort.path, "-n", "--workflow-profile", str(ROOT / "workflow" / "profiles" / "local"))
    assert result.returncode == 0 and "Nothing to be done" in result.stdout + result.stderr


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
    ],
)
def test_bad_config_is_refused(cohort: Cohort, config: list[str], message: str) -> None:
    result = snakemake(cohort.path, "-n", config=config)
    assert result.returncode != 0 and message in result.stdout + result.stderr
    assert not [word for word in cohort.forbidden if word in result.stdout + result.stderr]


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
    for kind in ("germline.vcf.gz", "somatic.vcf.gz"):
        assert readable(whole.output(original, kind)) == readable(cohort.output(original, kind))


def test_whole_bam_is_one_part_moved_with_the_index_written_while_encoding(whole: Cohort) -> None:
    for kind in ("tumour", "normal"):
        output = whole.output(FIRST, f"{kind}.bam")
        report = json.loads(whole.output(FIRST, "report.json").read_text())["files"][output.name]
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
        assert len(reverted) == len(renamed) == PAIRS  # read counts match the input
        assert [name for name, _ in reverted] == [name for name, _ in renamed]  # same keyed names, the input's order
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
    masked = same = 0
    for number, mate in ((1, "R1"), (2, "R2")):
        for name, sequence in fastq_records(whole.output(original, f"{mate}.fastq.gz")):
            key = f"{name[1:].split()[0]}/{number}"
            if key in from_bam:
                assert sequence == from_bam[key]
                same += 1
            else:
                assert set(sequence) == {"N"}  # a read the BAM lost is shared without a base
                masked += 1
            if key[:-2] in unplaced:
                assert set(sequence) == {"N"}  # unplaced reads: masked in the BAM, so here too
    report = json.loads(whole.output(original, "report.json").read_text())["files"][whole.output(original, "R1.fastq.gz").name]
    counts = report["fastq-from-reverted-bam"]["counts"]
    assert counts["reads_masked_not_in_bam"] == masked and same == len(from_bam) and counts["templates_written"] == PAIRS
    assert unplaced  # control: the cohort has unplaced pairs


def order_lines(*templates: tuple[str, int, int]) -> list[bytes]:
    """Sorted step-1 rows for (key, length 1, length 2) in FASTQ order."""
    rows = [f"{key}\t{position}\t@{key} 1:N:0\t@{key} 2:N:0\t{one}\t{two}\n".encode() for position, (key, one, two) in enumerate(templates)]
    return sorted(rows)


def test_fastq_join_restores_order_masks_lost_mates_and_appends_bam_only_pairs() -> None:
    order = order_lines(("b", 3, 3), ("a", 2, 2), ("c", 4, 1))
    reads = sorted(
        [b"a\t1\tAC\tII\n", b"a\t2\tGT\tII\n", b"b\t1\tAAA\tIII\n", b"d\t1\tC\tI\n", b"d\t2\tG\tI\n", b"e\t1\tT\tI\n"]
    )  # b lost its mate 2, c is absent, d and e are only in the BAM, e without its mate
    counts = dict.fromkeys(fastq_from_bam.COUNTS, 0)
    joined = sorted(fastq_from_bam.merge_join(iter(order), iter(reads), counts), key=lambda line: int(line.split(b"\t")[0]))
    records = [line.rstrip(b"\n").split(b"\t")[1:] for line in joined]
    assert records == [
        [b"@b 1:N:0", b"AAA", b"III", b"@b 2:N:0", b"NNN", b"###"],
        [b"@a 1:N:0", b"AC", b"II", b"@a 2:N:0", b"GT", b"II"],
        [b"@c 1:N:0", b"NNNN", b"####", b"@c 2:N:0", b"N", b"#"],
        [b"@d/1", b"C", b"I", b"@d/2", b"G", b"I"],
    ]
    assert counts == {
        "templates_in_fastq": 3,
        "templates_written": 0,  # counted by the writer, after the sort
        "templates_only_in_bam": 2,
        "templates_incomplete_only_in_bam": 1,
        "reads_masked_not_in_bam": 3,
    }


@given(st.lists(st.tuples(st.integers(1, 5), st.booleans(), st.booleans()), max_size=30))
def test_fastq_join_writes_every_fastq_template_in_order(templates: list[tuple[int, bool, bool]]) -> None:
    keys = [f"{index:04x}" for index in range(len(templates))][::-1]  # FASTQ order is not name order
    order = order_lines(*((key, length, length) for key, (length, _, _) in zip(keys, templates, strict=True)))
    reads = sorted(
        f"{key}\t{mate}\t{'A' * length}\t{'I' * length}\n".encode()
        for key, (length, one, two) in zip(keys, templates, strict=True)
        for mate, present in ((1, one), (2, two))
        if present
    )
    counts = dict.fromkeys(fastq_from_bam.COUNTS, 0)
    joined = sorted(fastq_from_bam.merge_join(iter(order), iter(reads), counts), key=lambda line: int(line.split(b"\t")[0]))
    assert [line.split(b"\t")[1] for line in joined] == [f"@{key} 1:N:0".encode() for key in keys]
    assert counts["reads_masked_not_in_bam"] == sum((not one) + (not two) for _, one, two in templates)


def test_fastq_pair_out_of_sync_is_refused_without_quoting_a_name() -> None:
    def rows(*lines: bytes) -> io.BytesIO:
        return io.BytesIO(b"".join(line + b"\t3\n" for line in lines))

    assert list(fastq_from_bam.order_rows(rows(b"@k1/1", b"@k2 1:N:0"), rows(b"@k1/2", b"@k2 2:N:0"))) == [
        b"k1\t0\t@k1/1\t@k1/2\t3\t3\n",
        b"k2\t1\t@k2 1:N:0\t@k2 2:N:0\t3\t3\n",
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
    bogus = snakemake(cohort.path, "-n", config=["fastq=germline_free"])
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
