"""Contig names joined across files (``contigs.ContigMap``): a chromosome spelled another way is
an error, never a contig whose records pass unchecked."""

from __future__ import annotations

from pathlib import Path

import pytest
from genoscrub.contigs import ContigMap
from genoscrub.report import InputError

from tests.conftest import run_command

CHR1, CHR2 = 248956422, 242193529  # GRCh38 (filters/presets/GRCh38.contigs.tsv)


def test_conventional_spellings_are_mapped() -> None:
    joined = ContigMap({"1": CHR1, "MT": 16569, "chrUn_JTFH01000001v1_decoy": 10000}, {"chr1": CHR1, "chrM": 16569}, "list", "l")
    assert joined.to_other == {"1": "chr1", "MT": "chrM"}


@pytest.mark.parametrize(
    ("input_contigs", "other"),
    [
        ({"NC_000001.11": CHR1, "chr2": CHR2}, {"chr1": CHR1, "chr2": CHR2}),  # RefSeq's chr1 beside chr2
        ({"seq_a": CHR1, "chr2": CHR2}, {"1": CHR1, "2": CHR2}),  # any other name of chr1's length
        ({"NC_000001.11": None, "chr2": None}, {"chr1": None, "chr2": None}),  # no lengths: the RefSeq name tells
        ({"NC_012920.1": None, "chr1": None}, {"chr1": None, "chrM": None}),
        ({"chr1": CHR1, "chr1_copy": CHR1}, {"chr1": CHR1}),  # a second contig of chr1's length passes nothing unchecked either
    ],
)
def test_a_chromosome_spelled_another_way_is_an_error(input_contigs: dict[str, int | None], other: dict[str, int | None]) -> None:
    with pytest.raises(InputError) as raised:
        ContigMap(input_contigs, other, "region list", "regions.bed")
    for name in input_contigs:
        if name not in other:
            assert name not in raised.value.message  # the input's contig names are not quoted


def test_other_contigs_of_other_lengths_pass() -> None:
    """Decoys, alternates and HLA contigs the other file lacks are other contigs: no error."""
    input_contigs = {"chr1": CHR1, "chr1_KI270706v1_random": 175055, "HLA-A*01:01:01:01": 3503, "chrEBV": 171823}
    assert ContigMap(input_contigs, {"chr1": CHR1, "chrEBV": None}, "list", "l").to_other == {"chr1": "chr1", "chrEBV": "chrEBV"}


def test_vcf_drop_regions_stops_on_a_chromosome_under_its_refseq_name(tmp_path: Path) -> None:
    """D1S1656 (a CODIS locus on chr1) under RefSeq's name beside a chr2 in UCSC's: before,
    the build was read from chr2 and the chr1 record passed with exit 0; the audit missed it too."""
    vcf = tmp_path / "mixed.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n"
        f"##contig=<ID=NC_000001.11,length={CHR1}>\n##contig=<ID=chr2,length={CHR2}>\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "NC_000001.11\t230769600\t.\tA\tG\t50\tPASS\t.\n"
        "chr2\t100\t.\tA\tG\t50\tPASS\t.\n"
    )
    dropped = run_command("vcf-drop-regions", "-q", "--preset", "codis-str", str(vcf))
    assert dropped.returncode == 1 and dropped.stdout == b""
    assert b"has the length of chr1" in dropped.stderr and b"NC_000001" not in dropped.stderr
    audited = run_command("genoscrub-audit", "-q", "--preset", "codis-str", str(vcf))
    assert audited.returncode != 0 and b"PASS" not in audited.stdout, audited.stdout
