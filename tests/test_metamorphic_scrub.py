"""Two runs that must agree, for the name and metadata scrubbers (sam-scrub-rg, fastq-scrub-names).

Each test runs a command on two inputs that differ only in how the same data is
written (SAM, BAM or CRAM; CRLF; tag order; which mate comes first) or on its own
output, and compares: the same records (up to tag order where the input's order
differed), or the same bytes but for the pseudonyms themselves. The record
commands' own metamorphic tests live beside them (sam-revert-germline,
sam-mask-regions, the VCF commands).
"""

from __future__ import annotations

import gzip
import json
import random
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_command

SIMULATION = {"pairs": 300}
KEY = b"metamorphic test key, 32 bytes!!"


def run(command: str, *args: str, input: bytes | None = None, env: dict[str, str] | None = None, cwd: Path | None = None) -> bytes:
    done = run_command(command, "-q", *args, input=input, cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr == b""
    return done.stdout


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("key") / "site.key"
    path.write_bytes(KEY)
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def sam_text(simulated: Path) -> bytes:
    return subprocess.run(["samtools", "view", "-h", "--no-PG", str(simulated / "tumour.bam")], capture_output=True, check=True).stdout


def records(sam: bytes, sort_tags: bool = False) -> list[bytes]:
    """The record lines (no header); with ``sort_tags`` each record's optional fields in name order."""
    lines = [line for line in sam.splitlines() if line and not line.startswith(b"@")]
    if not sort_tags:
        return lines
    return [b"\t".join(fields[:11] + sorted(fields[11:])) for fields in (line.split(b"\t") for line in lines)]


def header(sam: bytes) -> list[bytes]:
    return [line for line in sam.splitlines() if line.startswith(b"@")]


SAM_OPTIONS = ("--names", "--key-file")


@pytest.mark.parametrize("encoding", ["bam", "cram"])
def test_sam_bam_and_cram_input_give_the_same_records(simulated: Path, sam_text: bytes, key: Path, tmp_path: Path, encoding: str) -> None:
    """The same alignments as SAM text, BAM or CRAM (reference embedded): the same header and
    records out, up to the tag order CRAM does not keep."""
    encoded = tmp_path / f"tumour.{encoding}"
    command = ["samtools", "view", "--no-PG", "-o", str(encoded), str(simulated / "tumour.bam")]
    if encoding == "cram":
        command[2:2] = ["-C", "-T", str(simulated / "ref.fa"), "--output-fmt-option", "embed_ref=1"]
    else:
        command[2:2] = ["-b"]
    subprocess.run(command, check=True)
    from_text = run("sam-scrub-rg", *SAM_OPTIONS, str(key), input=sam_text)
    from_binary = run("sam-scrub-rg", *SAM_OPTIONS, str(key), input=encoded.read_bytes())
    assert header(from_binary) == header(from_text)
    assert records(from_binary, sort_tags=True) == records(from_text, sort_tags=True)


def test_crlf_input_gives_the_output_of_lf_input(sam_text: bytes, key: Path) -> None:
    assert run("sam-scrub-rg", *SAM_OPTIONS, str(key), input=sam_text.replace(b"\n", b"\r\n")) == run(
        "sam-scrub-rg", *SAM_OPTIONS, str(key), input=sam_text
    )


def test_tag_order_does_not_change_what_is_kept(sam_text: bytes, key: Path) -> None:
    """Optional fields shuffled in every record (planted ones among them): the same records up to tag order."""
    rng = random.Random(7)
    shuffled = []
    for line in sam_text.splitlines():
        if line.startswith(b"@"):
            shuffled.append(line)
            continue
        fields = line.split(b"\t")
        tags = [*fields[11:], b"CO:Z:patient S2301217T", b"zz:Z:/home/kimjh"]
        rng.shuffle(tags)
        shuffled.append(b"\t".join(fields[:11] + tags))
    planted = b"\n".join(shuffled) + b"\n"
    out = run("sam-scrub-rg", *SAM_OPTIONS, str(key), input=planted)
    assert b"S2301217T" not in out and b"kimjh" not in out
    assert records(out, sort_tags=True) == records(run("sam-scrub-rg", *SAM_OPTIONS, str(key), input=sam_text), sort_tags=True)


def test_mates_in_either_order_give_the_same_records(sam_text: bytes, tmp_path: Path) -> None:
    """Name-collated input, each pair's two records swapped: the same records, counter names included."""
    sort_by_name = ["samtools", "sort", "-n", "--no-PG", "-O", "sam", "-"]
    collated = subprocess.run(sort_by_name, input=sam_text, capture_output=True, check=True).stdout
    lines = collated.splitlines()
    head = [line for line in lines if line.startswith(b"@")]
    body = [line for line in lines if not line.startswith(b"@")]
    swapped: list[bytes] = []
    index = 0
    while index < len(body):
        if index + 1 < len(body) and body[index].split(b"\t", 1)[0] == body[index + 1].split(b"\t", 1)[0]:
            swapped += [body[index + 1], body[index]]
            index += 2
        else:
            swapped.append(body[index])
            index += 1
    assert swapped != body
    first = run("sam-scrub-rg", "--names", input=b"\n".join(head + body) + b"\n")
    second = run("sam-scrub-rg", "--names", input=b"\n".join(head + swapped) + b"\n")
    assert sorted(records(second)) == sorted(records(first))


def pseudonyms_in_order(sam: bytes) -> list[bytes]:
    """Every value a scrub replaces by a pseudonym, in order: @RG ID/SM/LB, QNAME, RG:Z."""
    found = []
    for line in sam.splitlines():
        fields = line.split(b"\t")
        if line.startswith(b"@RG"):
            found += [field[3:] for field in fields[1:] if field[:3] in (b"ID:", b"SM:", b"LB:")]
        elif not line.startswith(b"@"):
            found.append(fields[0])
            found += [field[5:] for field in fields[11:] if field.startswith(b"RG:Z:")]
    return found


def with_placeholders(text: bytes, values: list[bytes]) -> bytes:
    """``text`` with each distinct value of ``values`` replaced by its order of first appearance."""
    numbered: dict[bytes, bytes] = {}
    for value in values:
        numbered.setdefault(value, b"<P%d>" % len(numbered))
    for value in sorted(numbered, key=len, reverse=True):
        text = text.replace(value, numbered[value])
    return text


@pytest.mark.parametrize("scheme", ["counter", "key"])
def test_scrubbing_a_scrubbed_sam_changes_only_the_pseudonyms(sam_text: bytes, key: Path, scheme: str) -> None:
    options = ["--names"] + (["--key-file", str(key)] if scheme == "key" else [])
    once = run("sam-scrub-rg", *options, input=sam_text)
    twice = run("sam-scrub-rg", *options, input=once)
    if scheme == "counter":
        assert twice == once  # names and IDs given in order of appearance: the same ones again
        return
    first, second = pseudonyms_in_order(once), pseudonyms_in_order(twice)
    assert len(set(first)) == len(set(second)) == len(set(zip(first, second, strict=True)))  # one to one
    assert with_placeholders(twice, second) == with_placeholders(once, first)


def fastq_names(fastq: bytes) -> list[bytes]:
    """Template names (read numbers cut) of a 4-line FASTQ."""
    return [line[1:].split(b" ", 1)[0].rsplit(b"/", 1)[0] for line in fastq.splitlines()[0::4]]


@pytest.mark.parametrize("scheme", ["counter", "key"])
def test_scrubbing_a_scrubbed_fastq_changes_only_the_names(simulated: Path, key: Path, scheme: str) -> None:
    options = ["--key-file", str(key)] if scheme == "key" else []
    original = gzip.decompress((simulated / "tumour_R1.fastq.gz").read_bytes())
    once = run("fastq-scrub-names", *options, input=original)
    twice = run("fastq-scrub-names", *options, input=once)
    if scheme == "counter":
        assert twice == once
        return
    first, second = fastq_names(once), fastq_names(twice)
    assert len(set(first)) == len(set(second)) == len(set(zip(first, second, strict=True)))
    assert with_placeholders(twice, second) == with_placeholders(once, first)


def test_fastq_crlf_input_gives_the_output_of_lf_input(simulated: Path, key: Path) -> None:
    original = gzip.decompress((simulated / "tumour_R1.fastq.gz").read_bytes())
    lf = run("fastq-scrub-names", "--key-file", str(key), input=original)
    assert run("fastq-scrub-names", "--key-file", str(key), input=original.replace(b"\n", b"\r\n")) == lf


EXTRA_TAGS = [b"CO:Z:S2301217T", b"PG:Z:bwa", b"XZ:Z:x", b"zz:i:1", b"XS:i:2", b"BC:Z:ACGT"]
# Kept tags with values off their grammar or their ties, and a few on them.
EXTRA_VALUES = [
    b"XA:Z:S2301217T", b"MD:Z:/home/kimjh", b"SA:Z:patient Kim", b"MC:Z:S2301217T", b"GN:Z:S2301217T",
    b"SA:Z:chr9,5,+,4M,60,0;", b"XA:Z:chr1,+5,150M,1;", b"OQ:Z:II", b"Q2:Z:IIII", b"RX:Z:AC-GT", b"QX:Z:II II",
    b"QX:Z:IIIII", b"MI:Z:12/A", b"MI:Z:S2301217T", b"CB:Z:ACGT-1", b"CB:Z:ACGT-S2301217T", b"NM:i:x", b"de:f:0.01",
    b"de:f:nan", b"MD:Z:0S2301217T0", b"MM:Z:C+m,1;", b"YT:Z:UU", b"tp:A:Q",
]  # fmt: skip


@pytest.mark.parametrize(
    "options", [[], ["--names"], ["--drop-tag", "MD", "--keep-tag", "XZ", "--keep-tag", "XA"]], ids=["default", "names", "tag-options"]
)
def test_block_path_and_one_record_path_agree(sam_text: bytes, tmp_path: Path, options: list[str]) -> None:
    """``GENOSCRUB_ONE_BY_ONE=1`` sends every record down the exact path: the same bytes and
    counts as the block path, on records whose tags need every kind of edit, and whose kept
    tags hold values on and off their grammars."""
    rng = random.Random(11)
    planted = []
    for line in sam_text.splitlines():
        if line.startswith(b"@"):
            planted.append(line)
            continue
        fields = line.split(b"\t")
        extra = rng.sample(EXTRA_TAGS, k=rng.randrange(4)) + rng.sample(EXTRA_VALUES, k=rng.randrange(4))
        tags = fields[11:] + extra
        rng.shuffle(tags)
        planted.append(b"\t".join(fields[:11] + tags))
    text = b"\n".join(planted) + b"\n"
    reports = []
    outputs = []
    for switch in ("", "1"):
        report = tmp_path / f"report{switch}.json"
        outputs.append(run("sam-scrub-rg", *options, "--report", str(report), input=text, env={"GENOSCRUB_ONE_BY_ONE": switch}))
        data = json.loads(report.read_text())
        assert ("chunks_checked_field_by_field" in data) == (switch == "1")  # the switch took effect
        data.pop("chunks_checked_field_by_field", None)  # how the work was split, not what was done
        reports.append(data)
    assert outputs[0] == outputs[1]
    assert reports[0] == reports[1]
    assert reports[0]["counts"]["aux_values_removed"] > 0
    assert (b"S2301217T" in outputs[0]) == ("XA" in options)  # --keep-tag XA vouches for XA:Z:S2301217T
