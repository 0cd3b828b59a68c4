"""The benchmarks' scaled-up set stays true to its reference (tools/scale_up.py).

Checked with samtools and bcftools, not with the tiler's own reading: the BAM
passes quickcheck and calmd finds nothing to fix (so reads sit where the tiled
reference says), the VCFs' REF bases match the tiled reference, names stay
unique per template and match between FASTQ and BAM, and the same input gives
the same bytes.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import simulated_set
from tools.scale_up import Renamer, read_pairs, scale_up, vcf_records

COPIES = 3

pytestmark = pytest.mark.skipif(
    shutil.which("samtools") is None or shutil.which("bcftools") is None, reason="samtools/bcftools not installed"
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulated_set(tmp_path_factory, pairs=400)


@pytest.fixture(scope="module")
def scaled(base: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return scale_up(base, COPIES, tmp_path_factory.mktemp("scaled"))


def lines_of(*command: str) -> list[str]:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()


def test_every_record_is_tiled(base: Path, scaled: dict[str, Path]) -> None:
    assert read_pairs(scaled["bam"]) == COPIES * read_pairs(base / "tumour.bam")
    for name in ("germline", "population", "somatic", "germline_as_somatic"):
        assert vcf_records(scaled[name]) == COPIES * vcf_records(base / f"{name}.vcf.gz")
    with gzip.open(base / "tumour_R1.fastq.gz", "rt") as source:
        assert len(scaled["fastq"].read_text().splitlines()) == COPIES * sum(1 for _ in source)
    assert len(scaled["bed"].read_text().splitlines()) == COPIES * len((base / "repeats.bed").read_text().splitlines())


def test_bam_agrees_with_the_tiled_reference(scaled: dict[str, Path]) -> None:
    subprocess.run(["samtools", "quickcheck", str(scaled["bam"])], check=True)
    calmd = subprocess.run(["samtools", "calmd", "-b", str(scaled["bam"]), str(scaled["ref"])], capture_output=True, check=True)
    assert b"different" not in calmd.stderr, calmd.stderr[:500]  # calmd warns for every MD/NM it had to change
    lengths = dict(line.split("\t")[:2] for line in (scaled["ref"].parent / "ref.fa.fai").read_text().splitlines())
    header = "\n".join(lines_of("samtools", "view", "-H", str(scaled["bam"])))
    for contig, length in lengths.items():
        assert f"SN:{contig}\tLN:{length}" in header


def test_vcf_ref_bases_match_the_tiled_reference(scaled: dict[str, Path]) -> None:
    for name in ("germline", "population", "somatic", "germline_as_somatic"):
        subprocess.run(["bcftools", "norm", "-c", "e", "-f", str(scaled["ref"]), "-Ou", "-o", "/dev/null", str(scaled[name])], check=True)
    samples = lines_of("bcftools", "query", "-l", str(scaled["germline"]))
    assert len(samples) == 2  # the tumour joins its normal: a 2-sample call set


def test_names_are_unique_per_template_and_shared_with_the_fastq(scaled: dict[str, Path]) -> None:
    names = Counter(line.split("\t", 1)[0] for line in lines_of("samtools", "view", "-F", "0x900", str(scaled["bam"])))
    assert max(names.values()) == 2
    fastq = {line[1:].split(" ", 1)[0] for line in scaled["fastq"].read_text().splitlines()[0::4]}
    assert fastq == set(names)


def test_renamer_is_one_to_one() -> None:
    rename = Renamer(copies=12)
    names = ["M0:1:FC:1:1101:1000:1000", "M0:1:FC:1:1101:10001:1000", "M0:1:FC:1:1101:100:1000", "read7", "read7.1"]
    tiled = [rename(name, copy) for name in names for copy in range(12)]
    assert len(set(tiled)) == len(tiled)


def test_same_input_gives_the_same_bytes(base: Path, scaled: dict[str, Path], tmp_path: Path) -> None:
    again = scale_up(base, COPIES, tmp_path)
    for kind in ("bam", "germline", "population", "fastq", "bed", "ref"):
        assert again[kind].read_bytes() == scaled[kind].read_bytes(), kind


def test_refuses_contigs_longer_than_positions_allow(base: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="2\\^31"):
        scale_up(base, 10**6, tmp_path / "too-long")
    assert not (tmp_path / "too-long").exists()


def test_the_cohort_is_shaped_like_a_haplotypecaller_call_set(scaled: dict[str, Path]) -> None:
    """INFO AC matches the genotypes and AD sums to DP, as bcftools reads them."""
    rows = lines_of("bcftools", "query", "-f", "%INFO/AC\t%INFO/AN[\t%GT:%AD:%DP]\n", str(scaled["germline"]))
    assert rows
    for row in rows:
        count, number, *calls = row.split("\t")
        genotypes = [call.split(":")[0] for call in calls]
        assert int(count) == sum(allele not in ("0", ".") for genotype in genotypes for allele in genotype.replace("|", "/").split("/"))
        assert int(number) == 4
        for call in calls:
            _, depths, depth = call.split(":")
            assert sum(map(int, depths.split(","))) == int(depth)
