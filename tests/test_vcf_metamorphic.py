"""The same answer on every path, for the VCF commands: runs that must agree, compared.

- the bulk and compiled paths against the one-record path (``GENOSCRUB_ONE_BY_ONE=1``):
  the same bytes and the same report counts, on the simulated set and on hypothesis-made
  records (multi-allelic, symbolic, ``*``, lower case, repeated keys, breakends, names);
- side files with contig names spelled ``chr1``/``1`` and ``chrM``/``MT`` (the population
  file, the BED): the same records out;
- CRLF line ends: the same output as LF;
- a scrubbed file scrubbed again: nothing changes (the counter scheme gives the same
  pseudonyms; a command's provenance line is replaced, not added).
"""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import pysam
import pytest
from genoscrub.vcf_drop_rare import app as drop_rare
from genoscrub.vcf_drop_regions import app as drop_regions
from genoscrub.vcf_scrub_header import app as scrub_header
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import run_command

SIMULATION = {"pairs": 300}
ONE_BY_ONE = {"GENOSCRUB_ONE_BY_ONE": "1"}


def run_with_report(
    command: str, args: list[str], folder: Path, env: dict[str, str] | None = None, input: bytes | None = None
) -> tuple[bytes, dict]:
    report = folder / f"report-{len(list(folder.iterdir()))}.json"
    result = run_command(command, "-q", "--report", str(report), *args, input=input, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout, json.loads(report.read_text())["counts"]


def rename_contigs(source: Path, target: Path, names: dict[str, str]) -> Path:
    """``source`` (bgzipped VCF) with its contigs renamed (records and ##contig), bgzipped and indexed."""
    table = target.with_suffix(".chrs")
    table.write_text("".join(f"{old}\t{new}\n" for old, new in names.items()))
    subprocess.run(["bcftools", "annotate", "--rename-chrs", str(table), "-Oz", "-o", str(target), str(source)], check=True)
    pysam.tabix_index(str(target), preset="vcf", force=True)
    return target


def cases(simulated: Path) -> dict[str, tuple[str, list[str]]]:
    """Each VCF command as the pipelines run it on the simulated set."""
    germline, somatic = str(simulated / "germline.vcf.gz"), str(simulated / "somatic.vcf.gz")
    population = str(simulated / "population.vcf.gz")
    return {
        "scrub-header germline": ("vcf-scrub-header", ["--map", str(simulated / "ids.tsv"), germline]),
        "scrub-header somatic": ("vcf-scrub-header", ["--map", str(simulated / "ids.tsv"), "--keep", "PEDIGREE", somatic]),
        "drop-rare af-key": ("vcf-drop-rare", ["--af-key", "AF_eas", "--drop-germline", population]),
        "drop-rare population": ("vcf-drop-rare", ["--population", population, "--af-key", "AF_eas", germline]),
        "drop-rare population keep-missing": ("vcf-drop-rare", ["--population", population, "--af-key", "AF", "--keep-missing", somatic]),
        "drop-regions": ("vcf-drop-regions", ["--bed", str(simulated / "repeats.bed"), germline]),
    }


@pytest.mark.parametrize("case", ["scrub-header germline", "scrub-header somatic", "drop-rare af-key", "drop-rare population",
                                  "drop-rare population keep-missing", "drop-regions"])
def test_one_record_path_gives_the_same_bytes_and_counts(simulated: Path, tmp_path: Path, case: str) -> None:
    command, args = cases(simulated)[case]
    bulk, bulk_counts = run_with_report(command, args, tmp_path)
    single, single_counts = run_with_report(command, args, tmp_path, ONE_BY_ONE)
    assert bulk == single
    assert bulk_counts == single_counts
    assert bulk_counts.get("records", bulk_counts.get("records_in", 0)) > 5


def test_population_contig_names_do_not_change_a_decision(simulated: Path, tmp_path: Path) -> None:
    population = simulated / "population.vcf.gz"
    renamed = rename_contigs(population, tmp_path / "population.1.vcf.gz", {"chr1": "1", "chr2": "2", "chrM": "MT"})
    for source in ("germline.vcf.gz", "somatic.vcf.gz"):
        args = ["--af-key", "AF_eas", "--keep-missing", str(simulated / source)]
        chr_named = run_command("vcf-drop-rare", "-q", "--population", str(population), *args)
        number_named = run_command("vcf-drop-rare", "-q", "--population", str(renamed), *args)
        assert chr_named.returncode == number_named.returncode == 0, number_named.stderr
        assert chr_named.stdout == number_named.stdout


def test_bed_contig_names_do_not_change_a_decision(simulated: Path, tmp_path: Path) -> None:
    regions = (simulated / "repeats.bed").read_text()
    number_named = tmp_path / "repeats.1.bed"
    number_named.write_text(regions.replace("chr1\t", "1\t").replace("chr2\t", "2\t").replace("chrM\t", "MT\t"))
    mixed = tmp_path / "repeats.mixed.bed"
    mixed.write_text("".join(line.removeprefix("chr") + "\n" if index % 2 else line + "\n"
                             for index, line in enumerate(regions.splitlines())).replace("M\t", "MT\t", 1))
    source = str(simulated / "germline.vcf.gz")
    beds = (simulated / "repeats.bed", number_named, mixed)
    outputs = {bed.name: run_command("vcf-drop-regions", "-q", "--bed", str(bed), source) for bed in beds}
    assert all(result.returncode == 0 for result in outputs.values()), [result.stderr for result in outputs.values()]
    assert len({result.stdout for result in outputs.values()}) == 1


@pytest.mark.parametrize("case", ["scrub-header germline", "drop-rare af-key", "drop-rare population", "drop-regions"])
def test_crlf_input_gives_the_same_output(simulated: Path, tmp_path: Path, case: str) -> None:
    command, args = cases(simulated)[case]
    text = gzip.decompress(Path(args[-1]).read_bytes())
    crlf = tmp_path / "crlf.vcf"
    crlf.write_bytes(text.replace(b"\n", b"\r\n"))
    plain = run_command(command, "-q", *args)
    windows = run_command(command, "-q", *args[:-1], str(crlf))
    assert plain.returncode == windows.returncode == 0, windows.stderr
    assert plain.stdout == windows.stdout


@pytest.mark.parametrize(
    "case", ["scrub-header germline", "scrub-header somatic", "drop-rare af-key", "drop-rare population", "drop-regions"]
)
def test_a_scrubbed_file_scrubbed_again_is_unchanged(simulated: Path, tmp_path: Path, case: str) -> None:
    command, args = cases(simulated)[case]
    if command == "vcf-scrub-header":  # the counter scheme: SAMPLE1, SAMPLE2 stay SAMPLE1, SAMPLE2
        args = [arg for arg in args if arg not in ("--map", str(simulated / "ids.tsv"))]
    once = run_command(command, "-q", *args)
    assert once.returncode == 0, once.stderr
    first = tmp_path / "once.vcf"
    first.write_bytes(once.stdout)
    twice = run_command(command, "-q", *args[:-1], str(first))
    assert twice.returncode == 0, twice.stderr
    assert twice.stdout == once.stdout


# --- small records, every odd shape, both paths -------------------------------------------------

ALLELES = ["A", "C", "G", "T", "a", "g", "AT", "ACG", "<DEL>", "<INS:ME>", "*", "<NON_REF>", "G]chr1:50]", ".", "G]<ctg1>:50]",
           "[<KIM_19900101>:5[C"]
AF_TEXT = ["0.5", "0.005", "0.3", ".", "0.995", "1e-05"]


@st.composite
def record(draw: st.DrawFn, position: int) -> str:
    alts = draw(st.lists(st.sampled_from(ALLELES), min_size=1, max_size=3, unique=True))
    if "." in alts:
        alts = ["."]
    values = ",".join(draw(st.sampled_from(AF_TEXT)) for _ in alts)
    info = [f"AF={values}"]
    if draw(st.integers(0, 5)) == 0:
        info.append(f"AF={','.join(draw(st.sampled_from(AF_TEXT)) for _ in alts)}")  # the key twice
    if draw(st.integers(0, 5)) == 0:
        info.append(draw(st.sampled_from(["MATEID=bnd_2", "EVENT=ev1", "SAMPLE=S2301217T_20231029", "SAO=1", "END=900", "",
                                          "SAMPLE=1990 01 01", "SAO=1990-01-01", "SAO=NaN"])))  # "": an empty item
    identifier = draw(st.sampled_from([".", "rs12", "HOSP_1", "rs1;HOSP_2", "bnd_1"]))
    filter_value = draw(st.sampled_from(["PASS", "germline", "s2301217t_artifact"]))
    ref = draw(st.sampled_from(["A", "AT", "GCA", "c"]))
    return f"chr1\t{position}\t{identifier}\t{ref}\t{','.join(alts)}\t50\t{filter_value}\t{';'.join(info)}\tGT\t0/1"


@st.composite
def small_vcf(draw: st.DrawFn) -> bytes:
    positions = sorted(draw(st.lists(st.integers(1, 990), min_size=1, max_size=25)))
    lines = [draw(record(position)) for position in positions]
    header = [
        "##fileformat=VCFv4.3", "##contig=<ID=chr1,length=1000>",
        '##INFO=<ID=AF,Number=A,Type=Float,Description="AF">', '##INFO=<ID=SAMPLE,Number=1,Type=String,Description="x">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS2301217T_20231029",
    ]
    return ("\n".join(header + lines) + "\n").encode()


def invoke_both(app: object, args: list[str], data: bytes, folder: Path) -> None:
    outputs = []
    for index, env in enumerate(({}, ONE_BY_ONE)):
        report = folder / f"r{index}.json"
        result = CliRunner().invoke(app, ["-q", "--report", str(report), *args], input=data, env=env)  # type: ignore[arg-type]
        counts = json.loads(report.read_text())["counts"] if result.exit_code == 0 else None
        outputs.append((result.exit_code, result.stdout_bytes, result.output if result.exit_code else "", counts))
    assert outputs[0] == outputs[1]


@pytest.mark.slow  # a long sweep of the bulk path against the one-record path: make test-slow (CI runs it after make test)
@settings(max_examples=48, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(small_vcf())
def test_small_records_take_the_same_decision_on_both_paths(tmp_path: Path, data: bytes) -> None:
    folder = tmp_path / "runs"
    folder.mkdir(exist_ok=True)
    bed = folder / "regions.bed"
    bed.write_text("1\t100\t300\nchr1\t600\t650\n")
    invoke_both(scrub_header, [], data, folder)
    invoke_both(drop_rare, ["--af-key", "AF", "--drop-germline"], data, folder)
    invoke_both(drop_rare, ["--af-key", "AF", "--keep-missing"], data, folder)
    invoke_both(drop_regions, ["--bed", str(bed), "--flank", "0"], data, folder)
    invoke_both(drop_regions, ["--bed", str(bed), "--flank", "0"], data.replace(b"\n", b"\r\n"), folder)
