"""Stream faults, the same for every command (DESIGN.md, *Errors*; man pages, BAD INPUT).

- empty stdin: FASTQ and SAM are valid empty files (exit 0); a VCF needs a header (exit 1);
- a truncated gzip is an error, never a short output;
- no final newline and CRLF line ends read like the plain file;
- a VCF cut inside a record is an error naming the line;
- a header-only VCF is valid;
- a closed downstream pipe ends quietly with 141; a full disk is exit 1 with one line.
"""

from __future__ import annotations

import gzip
import subprocess

import pytest

from tests.conftest import BIN
from tests.test_hardening import SAM, VCF

FASTQ = b"@M04123:1:FC:1:1101:5:7 1:N:0:ACGT\nACGTN\n+M04123\nII#II\n@M04123:1:FC:1:1101:5:8/2\nAC\n+\nII\n"
SAMPLES = {"fastq-scrub-names": FASTQ, "sam-scrub-rg": SAM, "vcf-scrub-header": VCF, "vcf-drop-rare": VCF}
EXTRA_ARGS = {"vcf-drop-rare": ["--af-key", "AF"]}
EMPTY_STATUS = {"fastq-scrub-names": 0, "sam-scrub-rg": 0, "vcf-scrub-header": 1, "vcf-drop-rare": 1}


def run(command: str, data: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(BIN / command), "-q", *EXTRA_ARGS.get(command, [])], input=data, capture_output=True, timeout=120)


def one_clean_line(stderr: bytes, command: str) -> bool:
    lines = stderr.decode().splitlines()
    return len(lines) == 1 and lines[0].startswith(f"{command}: ") and "Traceback" not in lines[0]


@pytest.mark.parametrize("command", sorted(SAMPLES))
def test_empty_stdin(command: str) -> None:
    result = run(command, b"")
    assert result.returncode == EMPTY_STATUS[command]
    if result.returncode:
        assert one_clean_line(result.stderr, command) and result.stdout == b""


@pytest.mark.parametrize("command", sorted(SAMPLES))
def test_truncated_gzip_is_an_error(command: str) -> None:
    result = run(command, gzip.compress(SAMPLES[command])[:-12])
    assert result.returncode == 1 and result.stdout == b""
    assert one_clean_line(result.stderr, command) and b"truncated" in result.stderr


@pytest.mark.parametrize("command", sorted(SAMPLES))
def test_missing_final_newline_and_crlf_read_like_the_plain_file(command: str) -> None:
    plain = run(command, SAMPLES[command])
    assert plain.returncode == 0
    assert run(command, SAMPLES[command][:-1]).stdout == plain.stdout
    assert run(command, SAMPLES[command].replace(b"\n", b"\r\n")).stdout == plain.stdout


@pytest.mark.parametrize("command", ["vcf-scrub-header", "vcf-drop-rare"])
def test_vcf_cut_inside_a_record_names_the_line(command: str) -> None:
    result = run(command, VCF[: VCF.rfind(b"\t")])
    assert result.returncode == 1
    assert one_clean_line(result.stderr, command) and b"<stdin>:9:" in result.stderr


@pytest.mark.parametrize("command", ["vcf-scrub-header", "vcf-drop-rare"])
def test_header_only_vcf_is_valid(command: str) -> None:
    header = b"".join(line for line in VCF.splitlines(keepends=True) if line.startswith(b"#"))
    result = run(command, header)
    assert result.returncode == 0 and result.stdout.endswith(b"\n") and b"\n#CHROM" in result.stdout


def large(command: str) -> bytes:
    sample = SAMPLES[command]
    if command == "fastq-scrub-names":
        return sample * 400_000
    header = b"".join(line for line in sample.splitlines(keepends=True) if line.startswith(b"@") or line.startswith(b"#"))
    body = sample[len(header) :]
    return header + body * 40_000


@pytest.mark.parametrize("command", sorted(SAMPLES))
def test_closed_pipe_ends_quietly(command: str) -> None:
    extra = " ".join(EXTRA_ARGS.get(command, []))
    script = f"{BIN / command} -q {extra} | head -c 10 > /dev/null; echo ${{PIPESTATUS[0]}}"
    result = subprocess.run(["bash", "-c", script], input=large(command), capture_output=True, timeout=120)
    assert result.stdout.strip() == b"141"
    assert result.stderr == b""


@pytest.mark.parametrize("command", sorted(SAMPLES))
def test_full_disk_is_one_line_and_exit_1(command: str) -> None:
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [str(BIN / command), "-q", *EXTRA_ARGS.get(command, [])], input=large(command), stdout=full, stderr=subprocess.PIPE, timeout=120
        )
    assert result.returncode == 1
    assert one_clean_line(result.stderr, command) and b"no space left on device" in result.stderr
