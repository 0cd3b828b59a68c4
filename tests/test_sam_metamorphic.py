"""One input, one answer: sam-revert-germline and sam-mask-regions on inputs that differ only
in how they are written, on the simulated tumour/normal set.

Each test compares two runs that must agree:

- side files (reference, germline VCF, keep list, population, BED) with contigs named
  ``1``/``MT`` instead of ``chr1``/``chrM``: the same records out;
- the bulk and compiled paths against the one-record path (``GENOSCRUB_ONE_BY_ONE=1``):
  the same bytes and report counts;
- SAM text, BAM and CRAM input; optional tags shuffled; CRLF line ends; records in the
  opposite order (each read after its mate): the same records (up to tag order where the
  input's tag order differs);
- the output run again: no record changes.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import subprocess
from pathlib import Path

import pysam
import pytest

from tests.conftest import run_command, site_key_file

PLAIN_NAMES = {"chr1": "1", "chr2": "2", "chrM": "MT"}


def renamed_text(text: str) -> str:
    """``chr1``/``chr2``/``chrM`` written ``1``/``2``/``MT`` in FASTA headers, ##contig lines,
    VCF records and BED lines."""
    for old, new in PLAIN_NAMES.items():
        text = re.sub(rf"(?m)^>{old}\b", f">{new}", text)
        text = text.replace(f"##contig=<ID={old},", f"##contig=<ID={new},")
        text = re.sub(rf"(?m)^{old}\t", f"{new}\t", text)
    return text


def read_text(path: Path) -> str:
    with open(path, "rb") as handle:
        data = handle.read()
    return (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode()


@pytest.fixture(scope="module")
def sides(simulated: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The simulated set's side files as written, and copies with the contigs named 1, 2, MT."""
    folder = tmp_path_factory.mktemp("plain_names")
    files = {
        "ref": simulated / "ref.fa",
        "germline": simulated / "germline.vcf.gz",
        "keep": simulated / "germline_as_somatic.vcf.gz",
        "population": simulated / "population.vcf.gz",
        "bed": simulated / "repeats.bed",
    }
    plain = folder / "ref.fa"
    plain.write_text(renamed_text(read_text(files["ref"])))
    pysam.faidx(str(plain))
    files["plain_ref"] = plain
    for name in ("germline", "keep"):
        files[f"plain_{name}"] = folder / f"{name}.vcf"
        files[f"plain_{name}"].write_text(renamed_text(read_text(files[name])))
    population = folder / "population.vcf"
    population.write_text(renamed_text(read_text(files["population"])))
    pysam.tabix_index(str(population), preset="vcf", force=True)
    files["plain_population"] = Path(str(population) + ".gz")
    files["plain_bed"] = folder / "repeats.bed"
    files["plain_bed"].write_text(renamed_text(read_text(files["bed"])))
    sam = folder / "tumour.sam"
    sam.write_bytes(subprocess.run(["samtools", "view", "-h", "--no-PG", str(simulated / "tumour.bam")], capture_output=True,
                                   check=True).stdout)
    files["sam"] = sam
    files["folder"] = folder
    return files


def run(command: str, arguments: list[str], input_path: Path, env: dict[str, str] | None = None) -> tuple[bytes, dict[str, int]]:
    """The command's stdout (SAM text) and its report's counts."""
    report = input_path.parent / f"report.{os.getpid()}.json"
    if command == "sam-revert-germline":  # the qualities of the bases a reverted indel adds are drawn by the key
        arguments = [*arguments, "--key-file", str(site_key_file(input_path.parent))]
    result = run_command(command, "-q", *arguments, "--report", str(report), str(input_path), env=env)
    assert result.returncode == 0, result.stderr.decode()
    counts = json.loads(report.read_text())["counts"]
    report.unlink()
    return result.stdout, counts


def records(text: bytes) -> list[bytes]:
    return [line for line in text.splitlines() if line and not line.startswith(b"@")]


def tags_sorted(line: bytes) -> bytes:
    fields = line.split(b"\t")
    return b"\t".join(fields[:11] + sorted(fields[11:]))


def configurations(sides: dict[str, Path], plain: bool) -> dict[str, tuple[str, list[str]]]:
    """The runs compared, with the side files as written or with plain contig names."""
    prefix = "plain_" if plain else ""
    reference, germline = str(sides[f"{prefix}ref"]), str(sides[f"{prefix}germline"])
    keep, population, bed = str(sides[f"{prefix}keep"]), str(sides[f"{prefix}population"]), str(sides[f"{prefix}bed"])
    return {
        "revert -v": ("sam-revert-germline", ["-r", reference, "-v", germline]),
        "revert --all": ("sam-revert-germline", ["-r", reference, "--all"]),
        "revert --all --keep": ("sam-revert-germline", ["-r", reference, "--all", "--keep", keep, "--population", population]),
        "mask -r": ("sam-mask-regions", ["--bed", bed, "-r", reference]),
        "mask --drop": ("sam-mask-regions", ["--bed", bed, "--drop"]),
    }


NAMES = ["revert -v", "revert --all", "revert --all --keep", "mask -r", "mask --drop"]


@pytest.fixture(scope="module")
def baseline(sides: dict[str, Path]) -> dict[str, tuple[bytes, dict[str, int]]]:
    return {name: run(command, arguments, sides["sam"]) for name, (command, arguments) in configurations(sides, False).items()}


@pytest.mark.parametrize("name", NAMES)
def test_side_files_with_plain_contig_names_give_the_same_records(
    name: str, sides: dict[str, Path], baseline: dict[str, tuple[bytes, dict[str, int]]]
) -> None:
    command, arguments = configurations(sides, True)[name]
    output, counts = run(command, arguments, sides["sam"])
    assert records(output) == records(baseline[name][0])
    assert counts == baseline[name][1]


def test_germline_sites_named_plainly_alone_give_the_same_records(
    sides: dict[str, Path], baseline: dict[str, tuple[bytes, dict[str, int]]]
) -> None:
    """The germline VCF named 1, 2, MT, reference and reads chr1, chr2, chrM: the indel windows
    are widened on the reference through the contig map, so nothing reverts less."""
    output, counts = run("sam-revert-germline", ["-r", str(sides["ref"]), "-v", str(sides["plain_germline"])], sides["sam"])
    assert records(output) == records(baseline["revert -v"][0])
    assert counts == baseline["revert -v"][1]


@pytest.mark.parametrize("name", NAMES)
def test_one_record_path_gives_the_same_bytes_and_counts(
    name: str, sides: dict[str, Path], baseline: dict[str, tuple[bytes, dict[str, int]]]
) -> None:
    command, arguments = configurations(sides, False)[name]
    assert run(command, arguments, sides["sam"], {"GENOSCRUB_ONE_BY_ONE": "1"}) == baseline[name]


@pytest.mark.parametrize("name", NAMES)
def test_bam_and_cram_input_give_the_same_records(
    name: str, sides: dict[str, Path], simulated: Path, baseline: dict[str, tuple[bytes, dict[str, int]]]
) -> None:
    command, arguments = configurations(sides, False)[name]
    cram = sides["folder"] / "tumour.cram"
    if not cram.exists():
        subprocess.run(["samtools", "view", "-C", "--no-PG", "-T", str(sides["ref"]), "-o", str(cram), str(simulated / "tumour.bam")],
                       check=True)
    expected = [tags_sorted(line) for line in records(baseline[name][0])]
    for path in (simulated / "tumour.bam", cram):
        extra = ["-r", str(sides["ref"])] if path == cram and command == "sam-mask-regions" and "-r" not in arguments else []
        output, counts = run(command, [*arguments, *extra], path)
        assert [tags_sorted(line) for line in records(output)] == expected, path.name
        assert counts == baseline[name][1]


def shuffled_tags(text: bytes, seed: int) -> bytes:
    rng = random.Random(seed)
    lines = []
    for line in text.splitlines():
        if line.startswith(b"@"):
            lines.append(line)
            continue
        fields = line.split(b"\t")
        tags = fields[11:]
        rng.shuffle(tags)
        lines.append(b"\t".join(fields[:11] + tags))
    return b"\n".join(lines) + b"\n"


def mates_swapped(text: bytes) -> bytes:
    """The records in the opposite order: every read after its mate."""
    lines = text.splitlines()
    header = [line for line in lines if line.startswith(b"@")]
    return b"\n".join(header + [line for line in reversed(lines) if not line.startswith(b"@")]) + b"\n"


@pytest.mark.parametrize("name", NAMES)
def test_tag_order_crlf_and_mate_order_give_the_same_records(
    name: str, sides: dict[str, Path], baseline: dict[str, tuple[bytes, dict[str, int]]]
) -> None:
    command, arguments = configurations(sides, False)[name]
    text = sides["sam"].read_bytes()
    variants = {
        "crlf": text.replace(b"\n", b"\r\n"),
        "shuffled": shuffled_tags(text, 7),
        "swapped": mates_swapped(text),
    }
    expected = records(baseline[name][0])
    for variant, data in variants.items():
        path = sides["folder"] / f"{variant}.sam"
        path.write_bytes(data)
        output, counts = run(command, arguments, path)
        if variant == "crlf":
            assert output == baseline[name][0]
        elif variant == "shuffled":
            assert sorted(map(tags_sorted, records(output))) == sorted(map(tags_sorted, expected))
        else:
            assert sorted(records(output)) == sorted(expected)
        assert counts == baseline[name][1], variant


@pytest.mark.parametrize("name", NAMES)
def test_a_second_run_changes_no_record(name: str, sides: dict[str, Path], baseline: dict[str, tuple[bytes, dict[str, int]]]) -> None:
    command, arguments = configurations(sides, False)[name]
    first = sides["folder"] / f"once.{name.replace(' ', '_')}.sam"
    first.write_bytes(baseline[name][0])
    output, _ = run(command, arguments, first)
    assert records(output) == records(baseline[name][0])
