"""fastq-scrub-names: names replaced, read numbers kept, nothing else touched."""

from __future__ import annotations

import gzip
import json
import os
import pty
import stat
import subprocess
from pathlib import Path

import dnaio
import pysam
import pytest
import xopen
from genoscrub.fastq_scrub_names import HeaderSplitter, split_name
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import BIN, run_command

BASES = "ACGTN"
QUALITIES = "".join(chr(c) for c in range(33, 75))


@pytest.mark.parametrize(
    ("header", "name", "suffix"),
    [
        (b"@M04123:123:000000000-ABCDE:1:1101:15589:1331 1:N:0:ATCACGAT+GTACTGCA", b"M04123:123:000000000-ABCDE:1:1101:15589:1331", b" 1:N:0"),  # noqa: E501
        (b"@M04123:1:FC:1:1:1:1\t2:Y:18:ACGT", b"M04123:1:FC:1:1:1:1", b"\t2:Y:18"),
        (b"@HWUSI-EAS100R:6:73:941:1973#0/1", b"HWUSI-EAS100R:6:73:941:1973#0", b"/1"),
        (b"@read/2 some comment", b"read", b"/2"),
        (b"@a/b/1", b"a/b", b"/1"),
        (b"@read/5", b"read/5", b""),
        (b"@plain", b"plain", b""),
        (b"@name 1:N:x", b"name", b""),
        (b"@M04123:1:FC:1:1:1:1 1:N:19900101:ACGTAC", b"M04123:1:FC:1:1:1:1", b""),  # a control number that long holds anything
        (b"@S2301217N_20231029/1 1:Y:9001011234567", b"S2301217N_20231029", b"/1"),
        (b"@r 1:N:2:ACGT", b"r", b" 1:N:2"),
        (b"@", b"", b""),
    ],
)
def test_split_name_keeps_only_the_read_number(header: bytes, name: bytes, suffix: bytes) -> None:
    assert split_name(header) == (name, suffix)


def fastq_records(count: int, draw: st.DrawFn, mate: int) -> list[tuple[str, str, str]]:
    records = []
    for index in range(count):
        sequence = draw(st.text(BASES, min_size=0, max_size=30))
        quality = draw(st.text(QUALITIES, min_size=len(sequence), max_size=len(sequence)))
        records.append((f"M04123:9:FC{index}:1:1101:{index}:7 {mate}:N:0:ACGTACGT", sequence, quality))
    return records


@st.composite
def read_pairs(draw: st.DrawFn) -> tuple[bytes, bytes]:
    count = draw(st.integers(min_value=0, max_value=12))
    r1 = fastq_records(count, draw, 1)
    r2 = fastq_records(count, draw, 2)
    as_bytes = [
        "".join(f"@{name}\n{seq}\n+{name if i % 2 else ''}\n{qual}\n" for i, (name, seq, qual) in enumerate(records)).encode()
        for records in (r1, r2)
    ]
    return as_bytes[0], as_bytes[1]


def records_of(data: bytes, tmp_path: Path, label: str) -> list[tuple[str, str, str]]:
    path = tmp_path / f"{label}.fastq"
    path.write_bytes(data)
    with dnaio.open(path) as reader:
        return [(record.name, record.sequence, record.qualities) for record in reader]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("keys")
    paths = []
    for index, key in enumerate((b"first key, thirty-two bytes long", b"second key, also long enough!!!!")):
        path = folder / f"site{index}.key"
        path.write_bytes(key)
        path.chmod(0o600)
        paths.append(path)
    return paths[0], paths[1]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pair=read_pairs())
def test_sequences_unchanged_and_mates_in_sync(pair: tuple[bytes, bytes], tmp_path: Path, keys: tuple[Path, Path]) -> None:
    """Checked by dnaio, an independent FASTQ parser, in every scheme."""
    for options in ([], ["--key-file", str(keys[0])]):
        outputs = []
        for label, data in zip(("r1", "r2"), pair, strict=True):
            result = run_command("fastq-scrub-names", "-q", *options, input=data)
            assert result.returncode == 0, result.stderr
            before, after = records_of(data, tmp_path, label), records_of(result.stdout, tmp_path, label + "out")
            assert [(s, q) for _, s, q in before] == [(s, q) for _, s, q in after]
            assert b"M04123" not in result.stdout and b"ACGTACGT" not in result.stdout
            outputs.append(after)
        assert [n.split()[0] for n, _, _ in outputs[0]] == [n.split()[0] for n, _, _ in outputs[1]]
        assert all(n.endswith(" 1:N:0") for n, _, _ in outputs[0]) and all(n.endswith(" 2:N:0") for n, _, _ in outputs[1])


def test_same_key_same_names_across_files_different_key_different_names(keys: tuple[Path, Path]) -> None:
    r1 = b"@M1:1:FC:1:1:5:5 1:N:0:AC\nACGT\n+\nIIII\n@M1:1:FC:1:1:6:6 1:N:0:AC\nGG\n+\nII\n"
    other_file = b"@M1:1:FC:1:1:6:6/2\nTT\n+\nII\n"
    first = run_command("fastq-scrub-names", "-q", "--key-file", str(keys[0]), input=r1).stdout.split(b"\n")
    again = run_command("fastq-scrub-names", "-q", "--key-file", str(keys[0]), input=other_file).stdout.split(b"\n")
    other_key = run_command("fastq-scrub-names", "-q", "--key-file", str(keys[1]), input=r1).stdout.split(b"\n")
    assert first[4].split()[0] == again[0][:-2]
    assert first[0] != first[4]
    assert {first[0].split()[0], first[4].split()[0]}.isdisjoint({other_key[0].split()[0], other_key[4].split()[0]})


def test_output_parses_with_htslib(tmp_path: Path) -> None:
    """samtools reads FASTQ through htslib: an independent check of the format."""
    data = b"".join(b"@M1:1:FC:1:1:%d:5 1:N:0:ACGT\nACGTACGT\n+M1\nIIIIIIII\n" % i for i in range(50))
    result = run_command("fastq-scrub-names", "-q", input=data)
    out = tmp_path / "out.fastq"
    out.write_bytes(result.stdout)
    view = subprocess.run(["samtools", "view", "-c", str(out)], capture_output=True, text=True, check=True)
    assert view.stdout.strip() == "50"


def test_key_file_must_be_private(tmp_path: Path) -> None:
    key = tmp_path / "site.key"
    key.write_bytes(b"x" * 32)
    key.chmod(0o644)
    result = run_command("fastq-scrub-names", "--key-file", str(key), input=b"@r\nA\n+\nI\n")
    assert result.returncode == 2
    assert b"readable by group or others" in result.stderr and result.stdout == b""


def test_short_key_refused(tmp_path: Path) -> None:
    key = tmp_path / "site.key"
    key.write_bytes(b"short")
    key.chmod(0o600)
    assert run_command("fastq-scrub-names", "--key-file", str(key), input=b"@r\nA\n+\nI\n").returncode == 2


@pytest.mark.parametrize(
    ("key", "refused"),
    [
        (b"SNUH-biobank2026", True),  # typed: one delivered pseudonym and the ID format give it away
        (b"correct horse battery staple 26\n", True),  # 31 characters of text
        (b"0123456789abcdef0123456789abcdef", False),  # 16 random bytes written as hex
        (bytes(range(0x80, 0x90)), False),  # 16 bytes that are no text
    ],
    ids=["passphrase", "text-31", "hex-32", "binary-16"],
)
def test_a_key_of_short_text_is_refused_naming_the_private_recipe(tmp_path: Path, key: bytes, refused: bool) -> None:
    """A key typed as a passphrase can be found by trying passphrases and the hospital's ID format
    against one delivered pseudonym; a key of text must be 32 characters or more. The error gives
    the recipe that makes the file private from its first byte (umask 077), never the key."""
    path = tmp_path / "site.key"
    path.write_bytes(key)
    path.chmod(0o600)
    result = run_command("fastq-scrub-names", "-q", "--key-file", str(path), input=b"@r\nA\n+\nI\n")
    if refused:
        assert result.returncode == 2 and result.stdout == b""
        assert f"make a random key with: (umask 077; head -c 32 /dev/urandom > {path})".encode() in result.stderr
        assert key.strip() not in result.stderr
    else:
        assert result.returncode == 0


@pytest.mark.parametrize(
    ("pseudonym", "refused"),
    [("P2301217T", True), ("CMT_20231", True), ("S01388-1", True), ("CMT001_00", False), ("STUDY2023_0001", False)],
)
def test_a_map_pseudonym_keeping_five_digits_of_an_original_is_refused(tmp_path: Path, pseudonym: str, refused: bool) -> None:
    """A prefix swapped (``S2301217T_20231029`` to ``P2301217T``) keeps the hospital's number: five
    digits in a row shared with any original of the map (here a date's ``20231``, another sample's
    ``S2301388N``'s ``01388``) stop every command at the map's line, naming no ID; four
    (a year) are allowed."""
    table = tmp_path / "ids.tsv"
    table.write_text(f"S2301388N_20231029\tCMN002_00\nS2301217T_20231029\t{pseudonym}\n")
    table.chmod(0o600)
    result = run_command("fastq-scrub-names", "-q", "--map", str(table), input=b"@S2301388N_20231029\nA\n+\nI\n")
    if refused:
        assert result.returncode == 1, result.stderr
        assert result.stderr.decode().rstrip().endswith("ids.tsv:2: pseudonym keeps 5 or more digits of an original in a row")
        assert b"2301217" not in result.stderr and pseudonym.encode() not in result.stderr
    else:
        assert result.returncode == 0, result.stderr


def test_map_out_is_private_appended_and_complete(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    links = tmp_path / "links.tsv"
    data = b"@M1:1:FC:1:1:1:1/1\nA\n+\nI\n@M1:1:FC:1:1:1:1/2\nC\n+\nI\n@M1:1:FC:1:1:2:2/1\nG\n+\nI\n"
    for _ in range(2):
        result = run_command("fastq-scrub-names", "-q", "--key-file", str(keys[0]), "--map-out", str(links), input=data)
        assert result.returncode == 0
    assert stat.S_IMODE(links.stat().st_mode) == 0o600
    rows = [line.split("\t") for line in links.read_text().splitlines()]
    assert len(rows) == 4 and rows[:2] == rows[2:]
    new_names = {line.split()[0][1:].rsplit("/", 1)[0] for line in result.stdout.decode().splitlines()[0::4]}
    assert {row[1] for row in rows} == new_names


def test_public_map_out_refused(tmp_path: Path) -> None:
    links = tmp_path / "links.tsv"
    links.write_text("")
    links.chmod(0o644)
    assert run_command("fastq-scrub-names", "--map-out", str(links), input=b"@r\nA\n+\nI\n").returncode == 2


def test_report_counts_without_identifiers(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    data = b"@SECRET_NAME 1:N:0:ACGT\nACGT\n+SECRET_NAME\nIIII\n" * 3
    result = run_command("fastq-scrub-names", "--report", str(report), input=data)
    assert result.returncode == 0
    summary = json.loads(report.read_text())
    assert summary["counts"] == {"records": 3, "plus_lines_cleared": 3}
    assert summary["command"] == "fastq-scrub-names" and summary["scheme"] == "counter"
    assert b"SECRET" not in report.read_bytes() and b"SECRET" not in result.stderr


def test_gzip_in_and_out(tmp_path: Path) -> None:
    source = tmp_path / "in.fastq.gz"
    source.write_bytes(gzip.compress(b"@r1 1:N:0:AC\nACGT\n+\nIIII\n"))
    target = tmp_path / "out.fastq.gz"
    assert run_command("fastq-scrub-names", "-q", "-o", str(target), str(source)).returncode == 0
    assert gzip.decompress(target.read_bytes()) == b"@READ1 1:N:0\nACGT\n+\nIIII\n"


def test_closed_pipe_ends_quietly() -> None:
    data = b"@r 1:N:0:AC\n" + b"A" * 100 + b"\n+\n" + b"I" * 100 + b"\n"
    pipeline = f"{BIN / 'fastq-scrub-names'} | head -1 >/dev/null; echo ${{PIPESTATUS[0]}}"
    result = subprocess.run(["bash", "-c", pipeline], input=data * 100_000, capture_output=True, timeout=120)
    assert result.stdout.strip() == b"141"
    assert result.stderr == b""


def test_full_disk_is_an_error() -> None:
    with open("/dev/full", "wb") as full:
        result = subprocess.run([str(BIN / "fastq-scrub-names")], input=b"@r\nA\n+\nI\n" * 10_000, stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == 1
    assert result.stderr == b"fastq-scrub-names: cannot write output: no space left on device\n"


def test_terminal_on_stdin_is_a_usage_error() -> None:
    controller, terminal = pty.openpty()
    try:
        result = subprocess.run([str(BIN / "fastq-scrub-names")], stdin=terminal, capture_output=True, timeout=60)
    finally:
        os.close(controller)
        os.close(terminal)
    assert result.returncode == 2
    assert b"stdin is a terminal" in result.stderr


def test_help_is_plain_text() -> None:
    result = run_command("fastq-scrub-names", "--help")
    assert result.returncode == 0
    assert b"\x1b[" not in result.stdout and "─".encode() not in result.stdout and b"--install-completion" not in result.stdout


def fastx_records(path: Path) -> list[tuple[str | None, str | None]]:
    """Sequence and qualities as htslib's kseq (pysam.FastxFile) reads them."""
    with pysam.FastxFile(str(path)) as reader:
        return [(record.sequence, record.quality) for record in reader]


def test_corpus_fastq_files(corpus: Path, tmp_path: Path) -> None:
    """Every real FASTQ: exit 0 with seq/qual unchanged as htslib reads them, or a one-line error."""
    failures = []
    for path in sorted((corpus / "fastq").iterdir()) + sorted((corpus / "fastq-bad").iterdir()):
        result = run_command("fastq-scrub-names", "-q", str(path))
        if result.returncode == 0:
            out = tmp_path / "out.fastq"
            out.write_bytes(result.stdout)
            plain = tmp_path / "in.fastq"  # htslib reads no bzip2 or xz; we do, by content
            with xopen.xopen(path, "rb") as source:
                plain.write_bytes(source.read())
            try:
                if fastx_records(out) != fastx_records(plain):
                    failures.append(f"{path.name}: sequence or qualities changed")
            except (OSError, ValueError):
                failures.append(f"{path.name}: accepted what htslib rejects, or wrote what it cannot read")
        else:
            lines = result.stderr.decode().splitlines()
            if result.returncode != 1 or len(lines) != 1 or "Traceback" in result.stderr.decode():
                failures.append(f"{path.name}: exit {result.returncode}, stderr {lines[:3]}")
    assert not failures, failures


HEADER_PARTS = st.sampled_from([b"M1:9:FC:1:1101:5:7", b"r", b"a/b", b"HWI:1:1:1#0", b"x/1", b"y/2", b"z/7", b""])
COMMENTS = st.sampled_from(
    [b"", b" 1:N:0:ACGT", b" 2:Y:18:AC+GT", b" 1:N:0", b" free text", b" 3:N:x", b"\t1:N:0:A", b" BC:Z:ACGT"]
    + [b" 1:N:19900101:AC", b" 1:N:123"]
)


def assert_split_agrees(heads: list[bytes]) -> None:
    expected = [split_name(head) for head in heads]
    split = HeaderSplitter().split(b"\n".join(heads))
    assert split is not None
    names, suffixes = split
    if isinstance(suffixes, bytes):  # one suffix for the whole block
        suffixes = [suffixes] * len(names)
    assert list(zip(names, suffixes, strict=True)) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(HEADER_PARTS, COMMENTS), min_size=1, max_size=8))
def test_block_splitting_agrees_with_the_per_record_rule(parts: list[tuple[bytes, bytes]]) -> None:
    """The fast whole-block split and the per-record regex must never disagree."""
    assert_split_agrees([b"@" + name + comment for name, comment in parts])


NAME_CHARS = st.sampled_from([b"M", b"1", b":", b"#", b"/", b"-", b"_", b" ", b"@", b"+"])
TAILS = st.sampled_from([b"", b" 1:N:0:ACGT", b"/1", b"/2 1:N:0:AC", b"/3 x", b" 2:Y:18", b" a b", b"/", b" /1", b"/1/2"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(NAME_CHARS, max_size=6).map(b"".join), min_size=1, max_size=6), TAILS, st.integers(0, 6), TAILS)
def test_same_tail_blocks_split_as_each_header_does(names: list[bytes], tail: bytes, odd_one: int, other_tail: bytes) -> None:
    """Blocks where every header has the same tail take the one-split path; one odd header must not fool it."""
    heads = [b"@" + name + tail for name in names]
    assert_split_agrees(heads)
    if odd_one < len(heads):
        heads[odd_one] = b"@" + names[odd_one] + other_tail
        assert_split_agrees(heads)


def test_failed_run_leaves_no_output_file(tmp_path: Path) -> None:
    target = tmp_path / "out.fastq.gz"
    result = run_command("fastq-scrub-names", "-o", str(target), input=b"@r1\nACGT\n+\nIIII\n@r2\nAC\n+\nI\n")
    assert result.returncode == 1
    assert not target.exists()


@pytest.mark.parametrize("compress", ["bgzip", "zstd"])
def test_compression_detected_by_content(tmp_path: Path, compress: str) -> None:
    data = b"@r1 1:N:0:AC\nACGT\n+\nIIII\n"
    if compress == "bgzip":
        packed = subprocess.run(["bgzip", "-c"], input=data, capture_output=True, check=True).stdout
    else:
        import zstandard

        packed = zstandard.ZstdCompressor().compress(data)
    source = tmp_path / "reads.bin"  # no telling suffix
    source.write_bytes(packed)
    for args, stdin in (([str(source)], None), ([], packed)):
        result = run_command("fastq-scrub-names", "-q", *args, input=stdin)
        assert result.returncode == 0 and result.stdout == b"@READ1 1:N:0\nACGT\n+\nIIII\n"
