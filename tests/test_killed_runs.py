"""A killed run never looks finished, in every command and every output kind.

The OOM killer or a preempted cluster job ends a command with SIGKILL: nothing of
it runs after. Each command here is fed some megabytes of records through a pipe
that then stalls open (so the command is certainly mid-stream), is killed once its
output has started, and then:

- ``-o PATH``: nothing is under PATH (the command writes a temporary name beside
  it and renames it only on success); a leftover temporary file is unfinished;
- ``-O bam``/``cram``/``z`` to stdout: what reached stdout lacks the end-of-file
  block (BGZF) or container (CRAM), so ``samtools quickcheck`` fails on it, as
  it does on samtools' own output killed the same way.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import BIN, slow_but
from tools.small_inputs import SAM, VCF, write_side_files

FASTQ_RECORD = b"@M04123:1:FC:1:1101:5:7 1:N:0:ACGT\nACGTNACGTA\n+\nII#IIIIIII\n"
BGZF_EOF_BLOCK = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
CRAM_EOF_CONTAINER_TAIL = bytes.fromhex("01000000ee630100")  # the last 8 bytes of a CRAM 3 EOF container

# (command, output options, name of the -o file or None for stdout, input kind)
CASES = [
    ("fastq-scrub-names", [], "out.fastq", "fastq"),
    ("fastq-scrub-names", [], "out.fastq.gz", "fastq"),
    ("vcf-scrub-header", [], "out.vcf", "vcf"),
    ("vcf-scrub-header", ["-O", "z"], "out.vcf.gz", "vcf"),
    ("vcf-scrub-header", ["-O", "z"], None, "vcf"),
    ("vcf-drop-rare", ["--af-key", "AF", "--keep-missing"], "out.vcf", "vcf"),
    ("vcf-drop-rare", ["--af-key", "AF", "--keep-missing", "-O", "z"], None, "vcf"),
    ("vcf-drop-regions", ["--bed", "{side}/far.bed", "--flank", "0"], "out.vcf", "vcf"),
    ("sam-scrub-rg", [], "out.sam", "sam"),
    ("sam-scrub-rg", ["-O", "bam"], "out.bam", "sam"),
    ("sam-scrub-rg", ["-O", "bam"], None, "sam"),
    ("sam-scrub-rg", ["-O", "cram", "-T", "{side}/ref.fa"], "out.cram", "sam"),
    ("sam-scrub-rg", ["-O", "cram", "-T", "{side}/ref.fa"], None, "sam"),
    ("sam-revert-germline", ["-r", "{side}/ref.fa", "-v", "{side}/germline.vcf.gz"], "out.sam", "sam"),
    ("sam-revert-germline", ["-r", "{side}/ref.fa", "-v", "{side}/germline.vcf.gz", "-O", "bam"], "out.bam", "sam"),
    ("sam-revert-germline", ["-r", "{side}/ref.fa", "-v", "{side}/germline.vcf.gz", "-O", "bam"], None, "sam"),
    ("sam-mask-regions", ["--bed", "{side}/far.bed", "--flank", "0"], "out.sam", "sam"),
    ("sam-mask-regions", ["--bed", "{side}/far.bed", "--flank", "0", "-O", "bam"], "out.bam", "sam"),
    ("sam-mask-regions", ["--bed", "{side}/far.bed", "--flank", "0", "-O", "bam"], None, "sam"),
]


def header_and_record(kind: str) -> tuple[bytes, bytes]:
    if kind == "fastq":
        return b"", FASTQ_RECORD
    sample = SAM if kind == "sam" else VCF
    lines = sample.splitlines(keepends=True)
    header = b"".join(line for line in lines if line.startswith((b"@", b"#")))
    records = b"".join(line for line in lines if not line.startswith((b"@", b"#")))
    return header, records


QUALITIES = b"#+5?AFIJ"


def records_block(kind: str, record: bytes, size: int = 1 << 20) -> bytes:
    """About ``size`` bytes of copies of ``record``, each with other base qualities (SAM, FASTQ)
    or QUAL (VCF): output that compresses like real data's, so BGZF or CRAM output starts after
    a few megabytes of input; of one record repeated it took up to ~90 MB."""
    rng = random.Random(kind)
    copies = []
    for _ in range(max(1, size // len(record))):
        for number, line in enumerate(record.splitlines(keepends=True)):
            if kind == "fastq":
                copies.append(bytes(rng.choices(QUALITIES, k=len(line) - 1)) + b"\n" if number % 4 == 3 else line)
                continue
            fields = line.split(b"\t")
            if kind == "sam":
                fields[10] = bytes(rng.choices(QUALITIES, k=len(fields[10])))
            else:
                fields[5] = b"%d" % rng.randrange(10000)
            copies.append(b"\t".join(fields))
    return b"".join(copies)


@pytest.fixture(scope="module")
def side(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The side files, and a region no record touches (so the region commands write every record)."""
    folder = write_side_files(tmp_path_factory.mktemp("killed-runs"))
    (folder / "far.bed").write_bytes(b"chr1\t90\t95\tfar\n")
    return folder


def output_started(folder: Path, name: str | None, received: bytearray) -> bool:
    if name is None:
        return len(received) > 0
    return any(path.stat().st_size > 0 for path in folder.iterdir() if path.name != "input")


def hangup(disposition: signal.Handlers) -> None:
    """In the child before it runs: SIGHUP as a terminal's session leaves it (SIG_DFL) or as
    ``nohup`` does (SIG_IGN), whatever the tests' own process inherited (a suite started under
    nohup would otherwise pass its SIG_IGN on)."""
    signal.signal(signal.SIGHUP, disposition)


def stop_mid_stream(
    command: str,
    options: list[str],
    name: str | None,
    kind: str,
    side: Path,
    folder: Path,
    signum: int,
    hangup_ignored: bool = False,
) -> tuple[int, bytes, bytes]:
    """Run ``command`` on records that keep coming through a pipe left open, send ``signum``
    once its output has begun; its exit status, stderr and what reached stdout. With
    ``hangup_ignored`` the command starts with SIGHUP ignored (``nohup``): ``signum`` must not
    stop it, and a SIGTERM a second later does."""
    header, record = header_and_record(kind)
    block = records_block(kind, record)
    arguments = [str(BIN / command), "-q", *(option.replace("{side}", str(side)) for option in options)]
    if name is not None:
        arguments += ["-o", str(folder / name)]
    upstream_out, upstream_in = os.pipe()
    received = bytearray()
    errors = folder.parent / f"{folder.name}.stderr"
    with open(errors, "wb") as stderr:
        disposition = signal.SIG_IGN if hangup_ignored else signal.SIG_DFL
        process = subprocess.Popen(
            arguments, stdin=upstream_out, stdout=subprocess.PIPE, stderr=stderr, preexec_fn=lambda: hangup(disposition)
        )
    os.close(upstream_out)
    assert process.stdout is not None
    stdout = process.stdout

    def collect() -> None:
        while data := stdout.read1(1 << 16):  # type: ignore[attr-defined]
            received.extend(data)

    reader = threading.Thread(target=collect, daemon=True)
    reader.start()
    try:
        os.write(upstream_in, header)
        deadline = time.monotonic() + 60
        while not output_started(folder, name, received):  # more input until the output has begun
            os.write(upstream_in, block)
            assert process.poll() is None, "the command ended before it was stopped"
            assert time.monotonic() < deadline, "no output after a minute"
            time.sleep(0.05)
        os.write(upstream_in, block)  # mid-stream now; the pipe stays open: the input never ends
        process.send_signal(signum)
        if hangup_ignored:
            time.sleep(1)
            assert process.poll() is None, "an ignored signal stopped the command"
            os.write(upstream_in, block)
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        reader.join(timeout=60)  # stdout ends once the encoder child, if any, has gone too
        assert not reader.is_alive()
    finally:
        with contextlib.suppress(OSError):
            os.close(upstream_in)
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(timeout=60)
        stdout.close()
    return process.returncode, errors.read_bytes(), bytes(received)


KILLED_IDS = [f"{c[0]}-{c[2] or 'stdout'}{'-' + c[1][-1] if c[1] else ''}" for c in CASES]
# make test kills sam-scrub-rg writing BAM to -o and vcf-scrub-header writing BGZF to stdout; the
# other commands and output kinds (several seconds each) run in make test-slow.
KILLED_KEPT = {CASES.index(("sam-scrub-rg", ["-O", "bam"], "out.bam", "sam")), CASES.index(("vcf-scrub-header", ["-O", "z"], None, "vcf"))}


@pytest.mark.parametrize(("command", "options", "name", "kind"), slow_but(CASES, KILLED_KEPT, KILLED_IDS))
def test_a_killed_run_leaves_no_finished_output(
    command: str, options: list[str], name: str | None, kind: str, side: Path, tmp_path: Path
) -> None:
    _, _, received = stop_mid_stream(command, options, name, kind, side, tmp_path, signal.SIGKILL)
    if name is not None:
        assert not (tmp_path / name).exists()
        for leftover in tmp_path.iterdir():
            assert leftover.name.startswith(".genoscrub-")
            assert not finished(leftover.read_bytes(), name)
    else:
        assert received and not finished(received, "x.bam" if "bam" in options else "x.cram" if "cram" in options else "x.gz")


# SIGTERM (a cluster's time limit, Snakemake or ``timeout`` stopping a job) and SIGHUP end a
# command as Ctrl-C does: the temporary -o file is removed, 128 + the signal, one line.
STOPPED = [case for case in CASES if case[2] is not None and case[0] in ("fastq-scrub-names", "vcf-scrub-header", "sam-scrub-rg")]
STOPPED_KEPT = {STOPPED.index(("sam-scrub-rg", [], "out.sam", "sam"))}  # the others: make test-slow


@pytest.mark.parametrize(("command", "options", "name", "kind"), slow_but(STOPPED, STOPPED_KEPT, [f"{c[0]}-{c[2]}" for c in STOPPED]))
def test_sigterm_removes_the_unfinished_output(command: str, options: list[str], name: str, kind: str, side: Path, tmp_path: Path) -> None:
    status, stderr, _ = stop_mid_stream(command, options, name, kind, side, tmp_path, signal.SIGTERM)
    assert status == 128 + signal.SIGTERM
    assert stderr == f"{command}: stopped by SIGTERM: the output is incomplete\n".encode()
    assert list(tmp_path.iterdir()) == []


def test_sighup_is_a_stop_too(side: Path, tmp_path: Path) -> None:
    options = ["-r", "{side}/ref.fa", "-v", "{side}/germline.vcf.gz", "-O", "bam"]
    status, stderr, _ = stop_mid_stream("sam-revert-germline", options, "out.bam", "sam", side, tmp_path, signal.SIGHUP)
    assert status == 128 + signal.SIGHUP
    assert stderr == b"sam-revert-germline: stopped by SIGHUP: the output is incomplete\n"
    assert list(tmp_path.iterdir()) == []


def test_under_nohup_sighup_is_ignored(side: Path, tmp_path: Path) -> None:
    """``nohup`` ignores SIGHUP so a closed terminal leaves the run going: the command keeps it
    ignored (filters/signals.py), and still stops on SIGTERM."""
    options = ["-r", "{side}/ref.fa", "-v", "{side}/germline.vcf.gz", "-O", "bam"]
    status, stderr, _ = stop_mid_stream("sam-revert-germline", options, "out.bam", "sam", side, tmp_path, signal.SIGHUP, True)
    assert status == 128 + signal.SIGTERM
    assert stderr == b"sam-revert-germline: stopped by SIGTERM: the output is incomplete\n"
    assert list(tmp_path.iterdir()) == []


def finished(data: bytes, name: str) -> bool:
    """Whether ``data`` ends as a complete file of its kind does (text always might)."""
    if name.endswith(".cram"):
        return data.endswith(CRAM_EOF_CONTAINER_TAIL)
    if name.endswith((".bam", ".gz")):
        return data.endswith(BGZF_EOF_BLOCK) or (name.endswith(".fastq.gz") and _gzip_complete(data))
    return False


def _gzip_complete(data: bytes) -> bool:
    import gzip
    import zlib

    try:
        gzip.decompress(data)
    except (EOFError, OSError, zlib.error):
        return False
    return True
