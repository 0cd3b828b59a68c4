"""Stream faults, for every command (the man pages, BAD INPUT and EXIT STATUS).

- empty stdin: FASTQ and SAM are valid empty files for the commands that need
  no genome (exit 0); a VCF needs a header, and a command that checks the
  genome needs ``@SQ`` lines (exit 1, one line);
- a truncated gzip, BGZF or BAM stream is an error, never a short output;
- a stream cut inside a record is an error naming the line (sam-scrub-rg too:
  it must locate every record's tags by column);
- no final newline and CRLF line ends read like the plain file;
- a header-only SAM or VCF is valid;
- a closed downstream pipe ends quietly with 141;
- a full disk, on stdout or with ``-o``, is exit 1 with one line.

``-o`` is pointed at a symlink to /dev/full, never at /dev/full itself: a command
that removes its partial ``-o`` file would otherwise delete the device node of
the whole machine when the tests run as root (it happened once).
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pysam
import pytest

from tests.conftest import BIN, slow_but
from tools.small_inputs import SAM, VCF, write_side_files

FASTQ = b"@M04123:1:FC:1:1101:5:7 1:N:0:ACGT\nACGTN\n+M04123\nII#II\n@M04123:1:FC:1:1101:5:8/2\nAC\n+\nII\n"
FORMATS = {
    "fastq-scrub-names": "fastq",
    "sam-scrub-rg": "sam",
    "sam-revert-germline": "sam",
    "sam-mask-regions": "sam",
    "vcf-scrub-header": "vcf",
    "vcf-drop-rare": "vcf",
    "vcf-drop-regions": "vcf",
}
COMMANDS = sorted(FORMATS)
SAM_COMMANDS = [command for command in COMMANDS if FORMATS[command] == "sam"]
HEADER_COMMANDS = [command for command in COMMANDS if FORMATS[command] != "fastq"]
SAMPLES = {"fastq": FASTQ, "sam": SAM, "vcf": VCF}
# The sweeps below that start a command on a stream it fails or stops on (several tenths of a
# second each) run one command of each format in make test and every command in make test-slow.
FIRST_OF_FORMAT = {"fastq-scrub-names", "sam-scrub-rg", "vcf-scrub-header"}


def one_of_each_format(cases: list[Any]) -> list[Any]:
    """``cases`` (a command, or a tuple starting with one) for ``parametrize``, those of the
    other commands marked slow."""
    commands = [case[0] if isinstance(case, tuple) else case for case in cases]
    return slow_but(cases, {index for index, command in enumerate(commands) if command in FIRST_OF_FORMAT})
# An empty stream is a valid empty FASTQ, and a valid SAM for a command that needs no genome.
EMPTY_STATUS = {"fastq-scrub-names": 0, "sam-scrub-rg": 0}
# Compressed output written through htslib (BGZF), where a write error surfaces in pysam.
COMPRESSED_OUTPUT = {
    "sam-scrub-rg": ["-O", "bam"],
    "sam-revert-germline": ["-O", "bam"],
    "sam-mask-regions": ["-O", "bam"],
    "vcf-scrub-header": ["-O", "z"],
    "vcf-drop-rare": ["-O", "z"],
}


@pytest.fixture(scope="module")
def side_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference, germline sites and regions the genome-checking commands join with."""
    return write_side_files(tmp_path_factory.mktemp("stream-faults"))


def argv(command: str, folder: Path, *extra: str) -> list[str]:
    arguments = {
        "sam-scrub-rg": ["--names"],
        "sam-revert-germline": ["-r", str(folder / "ref.fa"), "-v", str(folder / "germline.vcf.gz")],
        "sam-mask-regions": ["--bed", str(folder / "regions.bed"), "--flank", "2", "-r", str(folder / "ref.fa")],
        "vcf-drop-rare": ["--af-key", "AF"],
        "vcf-drop-regions": ["--bed", str(folder / "regions.bed"), "--flank", "2"],
    }
    return [str(BIN / command), "-q", *arguments.get(command, []), *extra]


def run(command: str, folder: Path, data: bytes, *extra: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv(command, folder, *extra), input=data, capture_output=True, timeout=120)


def one_clean_line(stderr: bytes, command: str) -> bool:
    lines = stderr.decode().splitlines()
    return len(lines) == 1 and lines[0].startswith(f"{command}: ") and "Traceback" not in lines[0]


def header_of(sample: bytes) -> bytes:
    return b"".join(line for line in sample.splitlines(keepends=True) if line.startswith((b"@", b"#")))


def bgzf(data: bytes, folder: Path) -> bytes:
    (folder / "input.txt").write_bytes(data)
    pysam.tabix_compress(str(folder / "input.txt"), str(folder / "input.bgz"), force=True)
    return (folder / "input.bgz").read_bytes()


def bam(data: bytes, folder: Path) -> bytes:
    (folder / "input.sam").write_bytes(data)
    pysam.view("-b", "--no-PG", "-o", str(folder / "input.bam"), str(folder / "input.sam"), catch_stdout=False)
    return (folder / "input.bam").read_bytes()


BGZF_EOF_BLOCK = 28  # the empty block that marks the end of a complete BGZF file (SAM spec, 4.1.2)


@pytest.mark.parametrize("command", COMMANDS)
def test_empty_stdin(command: str, side_files: Path) -> None:
    result = run(command, side_files, b"")
    assert result.returncode == EMPTY_STATUS.get(command, 1)
    if result.returncode:
        assert one_clean_line(result.stderr, command) and result.stdout == b""


def truncations(command: str) -> list[str]:
    return ["gzip", "bgzf", "bam", "bam-header"] if FORMATS[command] == "sam" else ["gzip", "bgzf"]


TRUNCATIONS = [(command, kind) for command in COMMANDS for kind in truncations(command)]


@pytest.mark.parametrize(("command", "kind"), one_of_each_format(TRUNCATIONS))
def test_truncated_compressed_input_is_an_error(command: str, kind: str, side_files: Path, tmp_path: Path) -> None:
    sample = SAMPLES[FORMATS[command]]
    cut = {
        "gzip": lambda: gzip.compress(sample)[:-12],
        "bgzf": lambda: bgzf(sample, tmp_path)[: -BGZF_EOF_BLOCK - 10],
        "bam": lambda: bam(sample, tmp_path)[: -BGZF_EOF_BLOCK - 10],
        "bam-header": lambda: bam(sample, tmp_path)[:30],
    }[kind]()
    result = run(command, side_files, cut)
    assert result.returncode == 1 and result.stdout == b""
    assert one_clean_line(result.stderr, command) and b"truncated" in result.stderr


@pytest.mark.parametrize(
    ("command", "kind"), [("fastq-scrub-names", "bgzf"), ("vcf-scrub-header", "bgzf"), ("sam-scrub-rg", "bgzf"), ("sam-scrub-rg", "bam")]
)
def test_bgzf_without_its_end_of_file_block_is_an_error(command: str, kind: str, side_files: Path, tmp_path: Path) -> None:
    """A writer killed between blocks leaves whole blocks and no EOF block; BAM records
    do not straddle blocks, so such a file gives a short output that looks complete.
    One command per reader (text through xopen, BAM through htslib)."""
    sample = SAMPLES[FORMATS[command]]
    compressed = bgzf(sample, tmp_path) if kind == "bgzf" else bam(sample, tmp_path)
    result = run(command, side_files, compressed[:-BGZF_EOF_BLOCK])
    assert result.returncode == 1 and one_clean_line(result.stderr, command)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_path_to_bgzf_without_its_end_of_file_block_is_an_error(command: str, side_files: Path, tmp_path: Path) -> None:
    """The same cut file named by path, not piped: each reader checks a path's end block too."""
    cut = tmp_path / "cut.gz"
    cut.write_bytes(bgzf(SAMPLES[FORMATS[command]], tmp_path)[:-BGZF_EOF_BLOCK])
    result = subprocess.run(argv(command, side_files, str(cut)), capture_output=True, timeout=120)
    assert result.returncode == 1 and result.stdout == b""
    assert one_clean_line(result.stderr, command) and b"end-of-file block" in result.stderr


def test_side_files_cut_between_blocks_are_refused(side_files: Path, tmp_path: Path) -> None:
    """A germline list or a population file cut between blocks (an interrupted copy) would read
    short and drop too little: a private germline call kept, a rare allele kept as missing."""
    cut = tmp_path / "list.vcf.gz"
    cut.write_bytes(bgzf(VCF, tmp_path)[:-BGZF_EOF_BLOCK])
    population = tmp_path / "population.vcf.gz"
    population.write_bytes(cut.read_bytes())
    pysam.tabix_index(str(population), preset="vcf", force=True)  # indexed again after the cut
    for extra in (["--germline", str(cut)], ["--population", str(population), "--keep-missing"]):
        result = run("vcf-drop-rare", side_files, VCF, *extra)
        assert result.returncode == 1 and result.stdout == b"", extra
        assert one_clean_line(result.stderr, "vcf-drop-rare") and b"end-of-file block" in result.stderr, extra


@pytest.mark.parametrize("command", ["sam-revert-germline", "sam-mask-regions", "genoscrub-audit"])
def test_a_reference_cut_short_beside_its_old_index_is_one_line(command: str, side_files: Path, tmp_path: Path) -> None:
    """An interrupted copy of ref.fa beside the .fai of the whole file: the index's offsets
    point past its end. One line naming the reference, not an internal error."""
    folder = tmp_path / "cut"
    shutil.copytree(side_files, folder)
    reference = folder / "ref.fa"
    reference.write_bytes(reference.read_bytes()[: len(reference.read_bytes()) // 2])
    if command == "genoscrub-audit":
        (folder / "x.sam").write_bytes(SAM)
        arguments = [str(BIN / command), "-q", "--germline", str(folder / "germline.vcf.gz"), "-r", str(reference), str(folder / "x.sam")]
        result = subprocess.run(arguments, capture_output=True, timeout=120)
    else:
        result = run(command, folder, SAM)
    assert result.returncode == 1 and result.stdout == b""
    assert one_clean_line(result.stderr, command) and b"shorter than its .fai" in result.stderr, result.stderr


def cut_inside_last_record(sample: bytes, fmt: str) -> tuple[bytes, int]:
    """The sample cut where a reader can tell (a missing FASTQ line or SAM/VCF column), and the cut line's number."""
    last = sample.rstrip(b"\n").rfind(b"\n") + 1
    number = sample[:last].count(b"\n") + 1
    if fmt == "fastq":
        return sample[: sample.rfind(b"\n+")], number - 2  # the last record loses its + and quality lines
    if fmt == "sam":
        return sample[: last + sample[last:].index(b"\t=\t")], number  # inside the 11 mandatory columns
    return sample[: sample.rfind(b"\t")], number  # the last sample column is gone


@pytest.mark.parametrize("command", COMMANDS)
def test_a_stream_cut_inside_a_record_names_the_line(command: str, side_files: Path) -> None:
    data, number = cut_inside_last_record(SAMPLES[FORMATS[command]], FORMATS[command])
    result = run(command, side_files, data)
    assert result.returncode == 1
    assert one_clean_line(result.stderr, command) and f"<stdin>:{number}:".encode() in result.stderr


@pytest.mark.parametrize("command", one_of_each_format(COMMANDS))
def test_missing_final_newline_and_crlf_read_like_the_plain_file(command: str, side_files: Path) -> None:
    sample = SAMPLES[FORMATS[command]]
    plain = run(command, side_files, sample)
    assert plain.returncode == 0 and plain.stdout
    assert run(command, side_files, sample[:-1]).stdout == plain.stdout
    assert run(command, side_files, sample.replace(b"\n", b"\r\n")).stdout == plain.stdout


@pytest.mark.parametrize("command", HEADER_COMMANDS)
def test_a_header_only_file_is_valid(command: str, side_files: Path, tmp_path: Path) -> None:
    result = run(command, side_files, header_of(SAMPLES[FORMATS[command]]))
    assert result.returncode == 0 and result.stdout.endswith(b"\n")
    assert all(line.startswith((b"@", b"#")) for line in result.stdout.splitlines())
    output = tmp_path / ("out.sam" if FORMATS[command] == "sam" else "out.vcf")
    output.write_bytes(result.stdout)
    if FORMATS[command] == "sam":
        with pysam.AlignmentFile(str(output), "r", check_sq=False) as parsed:
            assert sum(1 for _ in parsed) == 0
            assert any(program.get("ID") == command for program in parsed.header.to_dict()["PG"])
    else:
        with pysam.VariantFile(str(output)) as parsed:
            assert sum(1 for _ in parsed) == 0
            assert "chr1" in parsed.header.contigs


def large(command: str) -> bytes:
    """Enough output (some 4 MB, beyond the 1 MiB pipe buffer) that the pipe closes while records are written."""
    sample = SAMPLES[FORMATS[command]]
    if FORMATS[command] == "fastq":
        return sample * 50_000
    header = header_of(sample)
    return header + sample[len(header) :] * (20_000 if FORMATS[command] == "sam" else 60_000)


@pytest.mark.parametrize("command", one_of_each_format(COMMANDS))
def test_closed_pipe_ends_quietly(command: str, side_files: Path) -> None:
    script = " ".join(argv(command, side_files)) + " | head -c 10 > /dev/null; echo ${PIPESTATUS[0]}"
    result = subprocess.run(["bash", "-c", script], input=large(command), capture_output=True, timeout=120)
    assert result.stdout.strip() == b"141"
    assert result.stderr == b""


@pytest.mark.parametrize("command", one_of_each_format(sorted(COMPRESSED_OUTPUT)))
def test_closed_pipe_ends_quietly_with_compressed_output(command: str, side_files: Path) -> None:
    """The htslib encoder sees the closed pipe first; the command then ends with 0 or 141, never a message."""
    script = " ".join(argv(command, side_files, *COMPRESSED_OUTPUT[command])) + " | head -c 10 > /dev/null; echo ${PIPESTATUS[0]}"
    result = subprocess.run(["bash", "-c", script], input=large(command), capture_output=True, timeout=120)
    assert result.stdout.strip() in (b"0", b"141")
    assert result.stderr == b""


def full_disk(command: str, side_files: Path, where: str, link: Path, *extra: str) -> subprocess.CompletedProcess[bytes]:
    """Run into a full disk on stdout (while records are written) or through ``-o``
    (a symlink to /dev/full, see the module docstring; when the file is closed)."""
    link.symlink_to("/dev/full")
    if where == "-o":  # a small input: the error comes when the file is closed
        return run(command, side_files, SAMPLES[FORMATS[command]], *extra, "-o", str(link))
    with open(link, "wb") as full:
        return subprocess.run(argv(command, side_files, *extra), input=large(command), stdout=full, stderr=subprocess.PIPE, timeout=120)


@pytest.mark.parametrize("where", ["stdout", "-o"])
@pytest.mark.parametrize("command", one_of_each_format(COMMANDS))
def test_full_disk_is_one_line_and_exit_1(command: str, where: str, side_files: Path, tmp_path: Path) -> None:
    result = full_disk(command, side_files, where, tmp_path / "full")
    assert result.returncode == 1
    assert one_clean_line(result.stderr, command) and b"no space left on device" in result.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_a_failed_output_never_removes_what_the_command_did_not_create(command: str, side_files: Path, tmp_path: Path) -> None:
    """``-o /dev/null`` (or ``/dev/stdout``) run as root on bad input must not delete the device node."""
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    bad = {"fastq": b"@r\nACGT\n-\nIIII\n", "sam": b"@HD\tVN:1.6\nr\t4\t*\t0\t0\t*\t*\t0\t0\tA\tI\n@CO\tlate\n", "vcf": b"not a VCF\n"}
    result = run(command, side_files, bad[FORMATS[command]], "-o", str(link))
    assert result.returncode == 1
    assert link.is_symlink()


@pytest.mark.parametrize("command", one_of_each_format(sorted(COMPRESSED_OUTPUT)))
def test_full_disk_with_compressed_output_is_one_line_and_exit_1(command: str, side_files: Path, tmp_path: Path) -> None:
    result = full_disk(command, side_files, "stdout", tmp_path / "full", *COMPRESSED_OUTPUT[command])
    assert result.returncode == 1
    assert one_clean_line(result.stderr, command) and b"no space left on device" in result.stderr
