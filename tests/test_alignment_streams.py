"""outputs.py and alignments.py: outputs complete or absent, CRAM without paths, no network, what SAM text cannot hold.

Checked with samtools and pysam, and a local HTTP server that must never be asked.
"""

from __future__ import annotations

import http.server
import os
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pysam
import pytest
from genoscrub.alignments import CramHeaderRewrite, local_reference_environment

from tests.conftest import run_command
from tools.small_inputs import SAM, VCF, write_side_files

BGZF_EOF_BLOCK = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


@pytest.fixture(scope="module")
def side(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_side_files(tmp_path_factory.mktemp("alignment-streams"))


def samtools(*arguments: str) -> bytes:
    result = subprocess.run(["samtools", *arguments], capture_output=True)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


# --- CRAM ---------------------------------------------------------------------


@pytest.mark.parametrize("command", ["sam-scrub-rg", "sam-revert-germline"])
@pytest.mark.parametrize("where", ["-o", "stdout"])
def test_cram_output_names_no_path(command: str, where: str, side: Path, tmp_path: Path) -> None:
    """htslib writes UR:<absolute path of the reference> on every @SQ, and the output's
    file name as the CRAM file ID: neither may reach the output (M5 only)."""
    options = {"sam-scrub-rg": ["-T"], "sam-revert-germline": ["-v", str(side / "germline.vcf.gz"), "-r"]}[command]
    out = tmp_path / "out.cram"
    arguments = ["-q", "-O", "cram", *options, str(side / "ref.fa")]
    if where == "-o":
        result = run_command(command, *arguments, "-o", str(out), input=SAM)
    else:
        result = run_command(command, *arguments, input=SAM)
        out.write_bytes(result.stdout)
    assert result.returncode == 0, result.stderr.decode()
    data = out.read_bytes()
    assert str(side).encode() not in data and str(tmp_path).encode() not in data and b"UR:" not in data
    header = samtools("view", "-H", "--no-PG", str(out)).decode()
    assert all("M5:" in line for line in header.splitlines() if line.startswith("@SQ"))
    samtools("quickcheck", str(out))
    assert len(samtools("view", "-T", str(side / "ref.fa"), str(out)).splitlines()) == 2


def test_cram_header_of_many_sequences(tmp_path: Path) -> None:
    """A header larger than a pipe's buffer (htslib compresses it): rewritten, every record kept."""
    names = [f"contig{index}" for index in range(3000)]
    reference = tmp_path / "ref.fa"
    reference.write_text("".join(f">{name}\nACGTACGTAC\n" for name in names))
    pysam.faidx(str(reference))
    sam = "@HD\tVN:1.6\n" + "".join(f"@SQ\tSN:{name}\tLN:10\n" for name in names)
    sam += "".join(f"r{index}\t0\t{name}\t1\t60\t4M\t*\t0\t0\tACGT\tIIII\n" for index, name in enumerate(names[::100]))
    out = tmp_path / "out.cram"
    result = run_command("sam-scrub-rg", "-q", "-O", "cram", "-T", str(reference), "-o", str(out), input=sam.encode())
    assert result.returncode == 0, result.stderr.decode()
    assert b"UR:" not in samtools("view", "-H", str(out))
    assert len(samtools("view", "-T", str(reference), str(out)).splitlines()) == 30


def test_cram_rewrite_waits_for_the_whole_header(tmp_path: Path, side: Path) -> None:
    """Fed one byte at a time, the rewrite gives the same stream as fed at once."""
    path = tmp_path / "x.cram"
    (tmp_path / "x.sam").write_bytes(SAM)
    samtools("view", "-C", "--no-PG", "-T", str(side / "ref.fa"), "-o", str(path), str(tmp_path / "x.sam"))
    data = path.read_bytes()
    whole = CramHeaderRewrite().feed(data)
    rewrite = CramHeaderRewrite()
    pieces = b"".join(rewrite.feed(data[index : index + 1]) for index in range(len(data)))
    assert pieces == whole
    rewritten = tmp_path / "y.cram"
    rewritten.write_bytes(whole)
    assert b"UR:" not in samtools("view", "-H", str(rewritten))
    assert samtools("view", "-T", str(side / "ref.fa"), str(rewritten)) == samtools("view", "-T", str(side / "ref.fa"), str(path))


# --- no network ---------------------------------------------------------------


def test_reference_urls_are_never_used() -> None:
    local = local_reference_environment({"REF_PATH": "/refs/%2s/%s:http://host/%s", "REF_CACHE": "/cache/%s", "HOME": "/root"})
    assert local == {"REF_PATH": os.devnull, "REF_CACHE": "/cache/%s", "HOME": "/root"}
    assert local_reference_environment({})["REF_PATH"] == os.devnull
    assert local_reference_environment({"REF_PATH": "URL=https://x"})["REF_PATH"] == os.devnull


@pytest.fixture
def listening() -> Iterator[tuple[str, list[str]]]:
    """A web server on the loopback address that records every request it gets."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/%s", requests
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("variable", ["REF_PATH", "REF_CACHE"])
def test_a_cram_without_its_reference_is_refused_without_asking_the_network(
    variable: str, listening: tuple[str, list[str]], side: Path, tmp_path: Path
) -> None:
    url, requests = listening
    cram = tmp_path / "in.cram"  # without UR (htslib would read a local reference it names): only M5 to look up
    assert run_command("sam-scrub-rg", "-q", "-O", "cram", "-T", str(side / "ref.fa"), "-o", str(cram), input=SAM).returncode == 0
    environment = dict(os.environ, **{variable: url})
    command = [str(Path(__file__).resolve().parents[1] / "bin" / "sam-scrub-rg"), "-q", str(cram)]
    result = subprocess.run(command, capture_output=True, env=environment, timeout=120)
    assert result.returncode == 1 and result.stdout == b""
    assert len(result.stderr.splitlines()) == 1 and b"no reference is fetched over the network" in result.stderr
    assert requests == []


# --- what SAM text cannot hold -------------------------------------------------


def test_a_bam_read_name_with_a_tab_is_refused(tmp_path: Path) -> None:
    header = {"HD": {"VN": "1.6"}, "SQ": [{"SN": "chr1", "LN": 100}]}
    path = tmp_path / "in.bam"
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        read = pysam.AlignedSegment(out.header)
        read.query_name = "r1\tRG:Z:S2301217T"
        read.flag = 4
        read.query_sequence = "ACGT"
        out.write(read)
    result = run_command("sam-scrub-rg", "-q", "--names", str(path))
    assert result.returncode == 1 and result.stdout == b""
    assert result.stderr.count(b"\n") == 1 and b"S2301217T" not in result.stderr


# --- outputs complete or absent -------------------------------------------------


def test_an_output_gets_the_mode_of_a_new_file_or_of_the_file_it_replaces(tmp_path: Path) -> None:
    fresh, kept = tmp_path / "fresh.sam", tmp_path / "kept.sam"
    kept.write_bytes(b"old")
    kept.chmod(0o640)
    for path in (fresh, kept):
        assert run_command("sam-scrub-rg", "-q", "-o", str(path), input=SAM).returncode == 0
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~mask
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    assert kept.read_bytes().startswith(b"@HD")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["fresh.sam", "kept.sam"]


def test_a_symlinked_output_stays_a_link(tmp_path: Path) -> None:
    target = tmp_path / "real.sam"
    link = tmp_path / "link.sam"
    link.symlink_to(target)
    assert run_command("sam-scrub-rg", "-q", "-o", str(link), input=SAM).returncode == 0
    assert link.is_symlink() and target.read_bytes().startswith(b"@HD")


@pytest.mark.parametrize("command", ["sam-scrub-rg", "vcf-scrub-header", "fastq-scrub-names"])
def test_a_failed_run_leaves_the_old_output_as_it_was(command: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_bytes(b"the previous run's output")
    bad = {"sam-scrub-rg": SAM + b"@CO\tlate\n", "vcf-scrub-header": VCF + b"chr1\tx\n", "fastq-scrub-names": b"@r\nACGT\n-\nIIII\n"}
    result = run_command(command, "-q", "-o", str(out), input=bad[command])
    assert result.returncode == 1
    assert out.read_bytes() == b"the previous run's output"
    assert [path.name for path in tmp_path.iterdir()] == ["out"]


def test_a_failed_bgzf_run_on_stdout_lacks_the_end_of_file_block() -> None:
    """-O z to stdout: records already written go out, but never the block that says the file is complete."""
    records = b"".join(line + b"\n" for line in VCF.splitlines() if not line.startswith(b"#"))
    header = b"".join(line + b"\n" for line in VCF.splitlines() if line.startswith(b"#"))
    result = run_command("vcf-scrub-header", "-q", "-O", "z", input=header + records * 100_000 + b"chr1\tx\n")
    assert result.returncode == 1
    assert not result.stdout.endswith(BGZF_EOF_BLOCK)
