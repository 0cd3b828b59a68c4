"""Hostile input for every command: truncations and mutated bytes end in exit 0 or 1.

Runs in-process (typer's CliRunner) so that hundreds of inputs take seconds. A
command may accept a prefix (a shorter valid file) or reject it with one line;
it may never raise, hang or print a traceback.
"""

from __future__ import annotations

import importlib
import random
from dataclasses import dataclass
from pathlib import Path

import pysam
import pytest
from typer.testing import CliRunner


@dataclass(frozen=True)
class Case:
    module: str
    args: tuple[str, ...]
    sample: bytes


REFERENCE = b">chr1\n" + b"ACGTTGCAAC" * 10 + b"\n"
GERMLINE_VCF = (
    b"##fileformat=VCFv4.2\n##contig=<ID=chr1,length=100>\n"
    b"##INFO=<ID=AF,Number=A,Type=Float,Description=\"AF\">\n"
    b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    b"chr1\t3\t.\tG\tA\t.\tPASS\tAF=0.2\n"
)
SAM = (
    b"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:100\n@RG\tID:S2301217T.L1\tSM:S2301217T\tPU:MISEQ\n"
    b"@PG\tID:bwa\tCL:bwa mem /home/kimjh/x.fq\n@CO\tpatient\n"
    b"r1\t99\tchr1\t1\t60\t2S6M\t=\t5\t12\tACATTGCA\tIIIIIIII\tRG:Z:S2301217T.L1\tPG:Z:bwa\tMD:Z:6\tNM:i:0\n"
    b"r1\t147\tchr1\t5\t60\t3M1I4M\t=\t1\t-12\tTGCTAACG\tIIIIIIII\tRG:Z:S2301217T.L1\tOQ:Z:IIIIIIII\n"
)
VCF = (
    b"##fileformat=VCFv4.2\n##fileDate=20231029\n##source=caller /home/kimjh\n##contig=<ID=chr1,length=100>\n"
    b"##INFO=<ID=AF,Number=A,Type=Float,Description=\"AF\">\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"GT\">\n"
    b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS2301217N_20231029\n"
    b"chr1\t3\tHOSP_1\tG\tA,T\t50\tPASS\tAF=0.2,0.001\tGT\t0/1\n"
    b"chr1\t9\trs12\tA\tAC\t50\tPASS\tAF=0.3\tGT\t1/1\n"
)


def write_side_files(folder: Path) -> Path:
    """The reference (indexed), germline sites (bgzipped, indexed) and regions the
    genome-checking commands join with, written into ``folder``."""
    (folder / "ref.fa").write_bytes(REFERENCE)
    pysam.faidx(str(folder / "ref.fa"))
    (folder / "germline.vcf").write_bytes(GERMLINE_VCF)
    pysam.tabix_index(str(folder / "germline.vcf"), preset="vcf", force=True)
    (folder / "regions.bed").write_bytes(b"chr1\t6\t10\tSTR_test\n")
    return folder


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    folder = write_side_files(tmp_path_factory.mktemp("hostile"))
    regions = str(folder / "regions.bed")
    germline = str(folder / "germline.vcf.gz")
    reference = str(folder / "ref.fa")
    return {
        "fastq-scrub-names": Case(
            "filters.fastq_scrub_names",
            ("-q",),
            b"@M04123:1:FC:1:1101:5:7 1:N:0:ACGT\nACGTN\n+M04123\nII#II\n@M04123:1:FC:1:1101:5:8/2\nAC\n+\nII\n",
        ),
        "sam-scrub-rg": Case("filters.sam_scrub_rg", ("-q", "--names"), SAM),
        "sam-revert-germline": Case("filters.sam_revert_germline", ("-q", "-r", reference, "-v", germline), SAM),
        "vcf-scrub-header": Case("filters.vcf_scrub_header", ("-q",), VCF),
        "vcf-drop-rare": Case("filters.vcf_drop_rare", ("-q", "--af-key", "AF"), VCF),
        "vcf-drop-regions": Case("filters.vcf_drop_regions", ("-q", "--bed", regions, "--flank", "2"), VCF),
        "sam-mask-regions": Case("filters.sam_mask_regions", ("-q", "--bed", regions, "--flank", "2", "-r", reference), SAM),
        "vcf-drop-rare --population": Case("filters.vcf_drop_rare", ("-q", "--population", germline, "--af-key", "AF"), VCF),
    }


COMMANDS = [
    "fastq-scrub-names",
    "sam-scrub-rg",
    "sam-revert-germline",
    "vcf-scrub-header",
    "vcf-drop-rare",
    "vcf-drop-rare --population",
    "vcf-drop-regions",
    "sam-mask-regions",
]


def invoke(case: Case, data: bytes) -> tuple[int, str]:
    app = importlib.import_module(case.module).app
    result = CliRunner().invoke(app, list(case.args), input=data)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{type(result.exception).__name__} on input {data!r}") from result.exception
    return result.exit_code, result.output


def check_outcome(case: Case, data: bytes) -> None:
    status, output = invoke(case, data)
    assert status in (0, 1), (status, data, output)
    assert "Traceback" not in output
    if status == 1:
        last_line = output.rstrip("\n").rsplit("\n", 1)[-1]
        assert ": " in last_line, output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_prefix_gives_records_or_a_clean_error(command: str, cases: dict[str, Case]) -> None:
    case = cases[command]
    for end in range(len(case.sample) + 1):
        check_outcome(case, case.sample[:end])


@pytest.mark.parametrize("command", COMMANDS)
def test_mutated_bytes_give_records_or_a_clean_error(command: str, cases: dict[str, Case]) -> None:
    case = cases[command]
    rng = random.Random(20261123)
    alphabet = b"@+\n\r\t :/ACGTN!I#\x00\xff"
    for _ in range(150):
        data = bytearray(case.sample)
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(len(data))
            action = rng.random()
            if action < 0.4:
                data[position] = rng.choice(alphabet)
            elif action < 0.7:
                del data[position]
            else:
                data.insert(position, rng.choice(alphabet))
        check_outcome(case, bytes(data))


@pytest.mark.parametrize("command", COMMANDS)
def test_the_unmutated_sample_is_accepted(command: str, cases: dict[str, Case]) -> None:
    """Otherwise the fuzz tests above would only ever exercise the error path."""
    status, output = invoke(cases[command], cases[command].sample)
    assert status == 0, output
    if command in ("fastq-scrub-names", "sam-scrub-rg", "vcf-scrub-header"):
        assert "S2301217" not in output and "kimjh" not in output and "M04123" not in output
