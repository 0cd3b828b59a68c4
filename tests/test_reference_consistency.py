"""Never filter against the wrong genome, for every command that joins
its input with a reference or a site/region file: sam-revert-germline,
vcf-drop-rare --population, sam-mask-regions and vcf-drop-regions.

- a contig length that differs (another build): exit 1, nothing on stdout;
- names that differ by convention (chr1/1, chrM/MT) with equal lengths: mapped,
  and ``--report`` says so;
- a site/region file that matches none of the input's contigs: exit 1;
- a read on a contig the reference lacks: exit 1 unless --drop-unknown-contigs
  (sam-revert-germline), which drops and counts it.

Checked from outside: exit status, stdout, and the JSON report.
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pysam
import pytest

from tests.conftest import run_command

LENGTHS = {"chr1": 400, "chrM": 200}
VCF_HEADER = (
    "##fileformat=VCFv4.2\n{contigs}##INFO=<ID=AF,Number=A,Type=Float,Description=\"AF\">\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
)


def fasta(path: Path, lengths: dict[str, int], sequences: dict[str, str]) -> Path:
    with open(path, "w") as out:
        for name, length in lengths.items():
            out.write(f">{name}\n{sequences[name][:length].ljust(length, 'A')}\n")
    pysam.faidx(str(path))
    return path


def vcf(path: Path, contigs: dict[str, int], records: list[tuple[str, int, str, str, str]], compress: bool = False) -> Path:
    header = VCF_HEADER.format(contigs="".join(f"##contig=<ID={n},length={n_len}>\n" for n, n_len in contigs.items()))
    body = "".join(f"{c}\t{p}\t.\t{r}\t{a}\t.\tPASS\t{info}\n" for c, p, r, a, info in records)
    path.write_text(header + body)
    if compress:
        pysam.tabix_index(str(path), preset="vcf", force=True)
        return Path(str(path) + ".gz")
    return path


@pytest.fixture(scope="module")
def genome(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A reference (chr1, chrM), one of another build (chr1 longer), and a SAM on the first."""
    here = tmp_path_factory.mktemp("consistency")
    rng = random.Random(11)
    sequences = {name: "".join(rng.choice("ACGT") for _ in range(600)) for name in LENGTHS}
    files = {
        "ref": fasta(here / "ref.fa", LENGTHS, sequences),
        "other_build": fasta(here / "other.fa", {"chr1": 500, "chrM": 200}, sequences),
    }
    chr1 = sequences["chr1"]
    # a read on chr1 carrying the site's ALT at 101, one on chrM
    read = chr1[90:100] + ("T" if chr1[100] != "T" else "G") + chr1[101:130]
    sam = "@HD\tVN:1.6\tSO:coordinate\n" + "".join(f"@SQ\tSN:{n}\tLN:{n_len}\n" for n, n_len in LENGTHS.items())
    sam += f"r1\t0\tchr1\t91\t60\t40M\t*\t0\t0\t{read}\t{'I' * 40}\n"
    sam += f"r2\t0\tchrM\t11\t60\t40M\t*\t0\t0\t{sequences['chrM'][10:50]}\t{'I' * 40}\n"
    (here / "in.sam").write_text(sam)
    files["sam"] = here / "in.sam"
    unknown = sam.replace("@SQ\tSN:chrM\tLN:200\n", "@SQ\tSN:chrM\tLN:200\n@SQ\tSN:chrUn\tLN:100\n")
    unknown += f"r3\t0\tchrUn\t5\t60\t40M\t*\t0\t0\t{'A' * 40}\t{'I' * 40}\n"
    (here / "unknown.sam").write_text(unknown)
    files["unknown_sam"] = here / "unknown.sam"
    alt = read[10]
    files["sites_chr"] = vcf(here / "sites_chr.vcf", LENGTHS, [("chr1", 101, chr1[100], alt, "AF=0.3")])
    files["sites_plain"] = vcf(here / "sites_plain.vcf", {"1": 400, "MT": 200},
                               [("1", 101, chr1[100], alt, "AF=0.3"), ("MT", 20, sequences["chrM"][19], "C", "AF=0.3")])
    # chrZ: a length no contig of the reference has (one of equal length is refused as the same genome renamed)
    files["sites_nowhere"] = vcf(here / "sites_nowhere.vcf", {"chrZ": 999}, [("chrZ", 101, "A", "T", "AF=0.3")])
    files["sites_other_build"] = vcf(here / "sites_other_build.vcf", {"chr1": 500}, [("chr1", 101, chr1[100], alt, "AF=0.3")])
    files["population_plain"] = vcf(here / "population_plain.vcf", {"1": 400, "MT": 200},
                                    [("1", 101, chr1[100], alt, "AF=0.3")], compress=True)
    files["population_other_build"] = vcf(here / "population_other_build.vcf", {"chr1": 500},
                                          [("chr1", 101, chr1[100], alt, "AF=0.3")], compress=True)
    files["population_nowhere"] = vcf(here / "population_nowhere.vcf", {"chrZ": 400}, [("chrZ", 101, "A", "T", "AF=0.3")], compress=True)
    (here / "plain.bed").write_text("1\t95\t110\nMT\t10\t20\n")
    (here / "nowhere.bed").write_text("chrZ\t95\t110\n")
    files["bed_plain"], files["bed_nowhere"] = here / "plain.bed", here / "nowhere.bed"
    files["dir"] = here
    return files


def report_of(genome: dict[str, Path], command: str, *args: str) -> tuple[subprocess.CompletedProcess[bytes], dict[str, object]]:
    report = genome["dir"] / f"{command}.json"
    report.unlink(missing_ok=True)
    result = run_command(command, *args, "--report", str(report), "-q")
    return result, (json.loads(report.read_text()) if report.exists() else {})


def assert_refused(result: subprocess.CompletedProcess[bytes], words: bytes = b"") -> None:
    assert result.returncode == 1, result.stderr.decode()
    assert result.stdout == b"", "nothing may be written before the genome check"
    assert words in result.stderr


def records_of(stdout: bytes, marker: bytes) -> list[bytes]:
    return [line for line in stdout.splitlines() if line and not line.startswith(marker)]


# --- sam-revert-germline ---------------------------------------------------------------------


def test_revert_refuses_another_build_of_reference(genome: dict[str, Path]) -> None:
    result = run_command("sam-revert-germline", "-r", str(genome["other_build"]), "-v", str(genome["sites_chr"]), str(genome["sam"]))
    assert_refused(result, b"another genome build")
    result = run_command("sam-revert-germline", "-r", str(genome["other_build"]), "--all", str(genome["sam"]))
    assert_refused(result, b"another genome build")


def test_revert_refuses_sites_of_another_build(genome: dict[str, Path]) -> None:
    result = run_command("sam-revert-germline", "-r", str(genome["ref"]), "-v", str(genome["sites_other_build"]), str(genome["sam"]))
    assert_refused(result, b"another genome build")


def test_revert_maps_chrless_sites_and_reports_it(genome: dict[str, Path]) -> None:
    result, report = report_of(genome, "sam-revert-germline", "-r", str(genome["ref"]), "-v", str(genome["sites_plain"]),
                               str(genome["sam"]))
    assert result.returncode == 0, result.stderr.decode()
    assert report["contigs_renamed_for_variants"] == {"chr1": "1", "chrM": "MT"}
    counts = report["counts"]
    assert isinstance(counts, dict) and counts["bases_reverted"] == 1, "the site must be found through the mapping"


def test_revert_keep_list_chrless_is_mapped(genome: dict[str, Path]) -> None:
    result, report = report_of(genome, "sam-revert-germline", "-r", str(genome["ref"]), "--all", "--keep", str(genome["sites_plain"]),
                               str(genome["sam"]))
    assert result.returncode == 0, result.stderr.decode()
    assert report["contigs_renamed_for_keep_list"] == {"chr1": "1", "chrM": "MT"}
    counts = report["counts"]
    assert isinstance(counts, dict) and counts["keep_allele_observations_kept"] == 1


def test_revert_refuses_sites_matching_no_contig(genome: dict[str, Path]) -> None:
    for option in ("-v", "--keep"):
        extra = ["--all"] if option == "--keep" else []
        sites = str(genome["sites_nowhere"])
        result = run_command("sam-revert-germline", "-r", str(genome["ref"]), *extra, option, sites, str(genome["sam"]))
        assert_refused(result, b"another genome build")


def test_revert_read_on_unknown_contig(genome: dict[str, Path]) -> None:
    for mode in (["--all"], ["-v", str(genome["sites_chr"])]):
        result = run_command("sam-revert-germline", "-r", str(genome["ref"]), *mode, str(genome["unknown_sam"]))
        assert result.returncode == 1 and b"reference lacks" in result.stderr
        result, report = report_of(genome, "sam-revert-germline", "-r", str(genome["ref"]), *mode, "--drop-unknown-contigs",
                                   str(genome["unknown_sam"]))
        assert result.returncode == 0, result.stderr.decode()
        counts = report["counts"]
        assert isinstance(counts, dict) and counts["reads_dropped_unknown_contig"] == 1 and counts["reads_out"] == 2
        names = [line.split(b"\t")[0] for line in records_of(result.stdout, b"@")]
        assert names == [b"r1", b"r2"]


# --- vcf-drop-rare --population ------------------------------------------------------------


def test_drop_rare_refuses_population_of_another_build(genome: dict[str, Path]) -> None:
    population = str(genome["population_other_build"])
    result = run_command("vcf-drop-rare", "--population", population, "--min-af", "0.01", str(genome["sites_chr"]))
    assert_refused(result, b"another genome build")


def test_drop_rare_maps_chrless_population_and_reports_it(genome: dict[str, Path]) -> None:
    result, report = report_of(genome, "vcf-drop-rare", "--population", str(genome["population_plain"]), "--min-af", "0.01",
                               str(genome["sites_chr"]))
    assert result.returncode == 0, result.stderr.decode()
    assert report["contigs_renamed"] == {"chr1": "1", "chrM": "MT"}
    assert len(records_of(result.stdout, b"#")) == 1, "the common site is found through the mapping and kept"


def test_drop_rare_refuses_population_matching_no_contig(genome: dict[str, Path]) -> None:
    result = run_command("vcf-drop-rare", "--population", str(genome["population_nowhere"]), str(genome["sites_chr"]))
    assert_refused(result, b"another genome build")


# --- sam-mask-regions ----------------------------------------------------------------------


def test_mask_refuses_reference_of_another_build(genome: dict[str, Path]) -> None:
    result = run_command("sam-mask-regions", "--bed", str(genome["bed_plain"]), "-r", str(genome["other_build"]), str(genome["sam"]))
    assert_refused(result, b"another genome build")


def test_mask_maps_chrless_regions_and_reports_it(genome: dict[str, Path]) -> None:
    result, report = report_of(genome, "sam-mask-regions", "--bed", str(genome["bed_plain"]), "-r", str(genome["ref"]), str(genome["sam"]))
    assert result.returncode == 0, result.stderr.decode()
    assert report["contigs_renamed"] == {"chr1": "1", "chrM": "MT"}
    masked = [line for line in records_of(result.stdout, b"@") if b"NNNN" in line.split(b"\t")[9]]
    assert len(masked) == 2, "both reads lie in a region found through the mapping"


def test_mask_refuses_regions_matching_no_contig(genome: dict[str, Path]) -> None:
    result = run_command("sam-mask-regions", "--bed", str(genome["bed_nowhere"]), str(genome["sam"]))
    assert_refused(result)


def test_mask_read_on_contig_missing_from_reference(genome: dict[str, Path]) -> None:
    result = run_command("sam-mask-regions", "--bed", str(genome["bed_plain"]), "-r", str(genome["ref"]), str(genome["unknown_sam"]))
    assert result.returncode == 1 and b"reference lacks" in result.stderr
    result, report = report_of(genome, "sam-mask-regions", "--bed", str(genome["bed_plain"]), "-r", str(genome["ref"]),
                               "--drop-unknown-contigs", str(genome["unknown_sam"]))
    assert result.returncode == 0, result.stderr.decode()
    counts = report["counts"]
    assert isinstance(counts, dict) and counts["reads_dropped_unknown_contig"] == 1 and counts["reads_in"] == 3 and counts["reads_out"] == 2
    assert [line.split(b"\t")[0] for line in records_of(result.stdout, b"@")] == [b"r1", b"r2"]


# --- vcf-drop-regions ------------------------------------------------------------------------


def test_drop_regions_maps_chrless_regions_and_reports_it(genome: dict[str, Path]) -> None:
    result, report = report_of(genome, "vcf-drop-regions", "--bed", str(genome["bed_plain"]), str(genome["sites_chr"]))
    assert result.returncode == 0, result.stderr.decode()
    assert report["contigs_renamed"] == {"chr1": "1", "chrM": "MT"}
    assert records_of(result.stdout, b"#") == [], "the site lies in a region found through the mapping"


def test_drop_regions_refuses_regions_matching_no_contig(genome: dict[str, Path]) -> None:
    result = run_command("vcf-drop-regions", "--bed", str(genome["bed_nowhere"]), str(genome["sites_chr"]))
    assert_refused(result)


def test_drop_regions_refuses_preset_of_another_build(genome: dict[str, Path]) -> None:
    """The VCF's chr1 is 400 bases: no shipped build has that length."""
    result = run_command("vcf-drop-regions", "--preset", "codis-str", "--build", "GRCh38", str(genome["sites_chr"]))
    assert_refused(result)
