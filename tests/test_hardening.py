"""Hostile input for every command: truncations and mutated bytes end in exit 0 or 1.

Runs in-process (typer's CliRunner) so that hundreds of inputs take seconds. A
command may accept a prefix (a shorter valid file) or reject it with one line;
it may never raise, hang or print a traceback.
"""

from __future__ import annotations

import importlib
import random
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

from tests.conftest import slow_but
from tools.small_inputs import SAM, VCF, write_side_files


@dataclass(frozen=True)
class Case:
    module: str
    args: tuple[str, ...]
    sample: bytes


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    folder = write_side_files(tmp_path_factory.mktemp("hostile"))
    regions = str(folder / "regions.bed")
    germline = str(folder / "germline.vcf.gz")
    reference = str(folder / "ref.fa")
    return {
        "fastq-scrub-names": Case(
            "genoscrub.fastq_scrub_names",
            ("-q",),
            b"@M04123:1:FC:1:1101:5:7 1:N:0:ACGT\nACGTN\n+M04123\nII#II\n@M04123:1:FC:1:1101:5:8/2\nAC\n+\nII\n",
        ),
        "sam-scrub-rg": Case("genoscrub.sam_scrub_rg", ("-q", "--names"), SAM),
        "sam-revert-germline": Case("genoscrub.sam_revert_germline", ("-q", "-r", reference, "-v", germline), SAM),
        "vcf-scrub-header": Case("genoscrub.vcf_scrub_header", ("-q",), VCF),
        "vcf-drop-rare": Case("genoscrub.vcf_drop_rare", ("-q", "--af-key", "AF"), VCF),
        "vcf-drop-regions": Case("genoscrub.vcf_drop_regions", ("-q", "--bed", regions, "--flank", "2"), VCF),
        "sam-mask-regions": Case("genoscrub.sam_mask_regions", ("-q", "--bed", regions, "--flank", "2", "-r", reference), SAM),
        "vcf-drop-rare --population": Case("genoscrub.vcf_drop_rare", ("-q", "--population", germline, "--af-key", "AF"), VCF),
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


ONE_OF_EACH_FORMAT = {COMMANDS.index(name) for name in ("fastq-scrub-names", "sam-scrub-rg", "vcf-scrub-header")}


# One command of each format in make test, every command in make test-slow.
@pytest.mark.parametrize("command", slow_but(COMMANDS, ONE_OF_EACH_FORMAT))
def test_every_prefix_gives_records_or_a_clean_error(command: str, cases: dict[str, Case]) -> None:
    case = cases[command]
    for end in range(len(case.sample) + 1):
        check_outcome(case, case.sample[:end])


@pytest.mark.slow  # random mutations: make test-slow (every prefix above of one command of each format stays in make test)
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
