"""Stops and dead children: SIGTERM ends a command as Ctrl-C does, and a child process that
dies is an error, never a hang or the quiet status of a closed pipe (red team 4: F1, F3, F8, F11).

Each test starts the command, waits until it is mid-stream (its temporary file exists, its
children run, its output has begun), signals it, and checks the exit status, the one line on
stderr and that nothing is left behind. SIGTERM of ``-o`` commands: test_killed_runs.py.
"""

from __future__ import annotations

import contextlib
import gzip
import multiprocessing
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from genoscrub import audit_bam, audit_sites, signals
from genoscrub.audit_bam import BamAudit, CountedBlocks, RecordChecks, bgzf_blocks, read_header
from genoscrub.audit_findings import Findings
from genoscrub.report import WorkerFailed

from tests.conftest import BIN
from tests.test_killed_runs import FASTQ_RECORD, records_block
from tools.small_inputs import write_side_files


def wait_for(condition: object, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


def running(pid: int | None) -> bool:
    """Whether ``pid`` is a process still running (not gone, not a zombie waiting to be reaped)."""
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    return False


def no_worker_left(earlier: set[multiprocessing.process.BaseProcess]) -> bool:
    """The pool's workers have ended: the broken pool's own thread may still be reaping them."""
    return not any(running(child.pid) for child in multiprocessing.active_children() if child not in earlier)


def children(pid: int) -> list[int]:
    with contextlib.suppress(OSError):
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return []


def alive(pid: int) -> bool:
    """Running (a zombie left to a container's init that does not reap is gone too)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def feeding(stream: int, first: bytes, more: bytes) -> threading.Thread:
    """Write ``first``, then ``more`` again and again until the reader is gone (a pipe left open)."""

    def feed() -> None:
        with contextlib.suppress(OSError):
            os.write(stream, first)
            while True:
                os.write(stream, more)

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    return thread


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads /proc")
def test_audit_stopped_while_copying_a_germline_list_leaves_nothing_in_tmpdir(tmp_path: Path) -> None:
    """A plain gzip list through a FIFO is copied decompressed; the copy has no name (0600), and
    SIGTERM leaves nothing in $TMPDIR and exits 143 with one line."""
    (tmp_path / "side").mkdir()
    side = write_side_files(tmp_path / "side")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    fifo = tmp_path / "list.fifo"
    os.mkfifo(fifo)
    with gzip.open(side / "germline.vcf.gz", "rb") as source:
        header = b"".join(line for line in source.read().splitlines(keepends=True) if line.startswith(b"#"))
    record = b"chr1\t5\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n"
    arguments = [str(BIN / "genoscrub-audit"), "-q", "--germline", str(fifo), "-r", str(side / "ref.fa"), str(side / "germline.vcf.gz")]
    process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "TMPDIR": str(temporary)})
    writer = os.open(fifo, os.O_WRONLY)
    compressor = gzip.compress  # whole members: the audit's reader takes them one after another
    feeder = feeding(writer, compressor(header), compressor(record * 20000))
    try:

        def copy_open() -> list[Path]:
            links = [Path(f"/proc/{process.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{process.pid}/fd")]
            return [link for link in links if os.readlink(link).startswith(str(temporary))]

        wait_for(copy_open, "the audit holds its copy of the list")
        for link in copy_open():
            assert os.readlink(link).endswith("(deleted)")  # no name in $TMPDIR, even for SIGKILL
            assert stat.S_IMODE(os.stat(link).st_mode) == 0o600
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        os.close(writer)
        if process.poll() is None:
            process.kill()
            process.wait()
        feeder.join(timeout=10)
    assert process.returncode == 143
    assert stderr == b"genoscrub-audit: stopped by SIGTERM: the output is incomplete\n"
    assert list(temporary.iterdir()) == []


def test_without_proc_the_copy_is_private_and_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where /proc/self/fd is missing: list.vcf 0600 in a 0700 folder, gone after, error or not."""
    monkeypatch.setattr(audit_sites, "PROC_FD", str(tmp_path / "no-proc"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    listing = tmp_path / "list.vcf.gz"
    listing.write_bytes(gzip.compress(b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"))
    with pytest.raises(KeyboardInterrupt), audit_sites.private_copy(str(listing)) as plain:
        assert stat.S_IMODE(os.stat(plain).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(os.path.dirname(plain)).st_mode) == 0o700
        assert Path(plain).read_bytes().startswith(b"##fileformat")
        raise signals.Stopped(signal.SIGTERM)
    assert not os.path.exists(plain) and not os.path.exists(os.path.dirname(plain))


def test_a_stop_waits_for_the_outputs_to_be_renamed() -> None:
    """A stop inside ``deferred`` (cli.run renaming finished outputs) is raised at its end."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, *signals.STOPPING)}
    signals.install()
    try:
        with pytest.raises(signals.Stopped) as stop, signals.deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.01)  # the handler has run: nothing raised here
            finished = True
        assert finished and stop.value.signum == signal.SIGTERM
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


@pytest.mark.parametrize("to_file", [True, False], ids=["o", "stdout"])
def test_a_killed_hashing_child_is_an_error(to_file: bool, tmp_path: Path) -> None:
    """Not exit 141 (a closed downstream pipe), and nothing under -o's name."""
    key = tmp_path / "site.key"
    key.write_bytes(b"k" * 32)
    key.chmod(0o600)
    out = tmp_path / "out" / "reads.fastq.gz"
    out.parent.mkdir()
    arguments = [str(BIN / "fastq-scrub-names"), "-q", "--key-file", str(key)] + (["-o", str(out)] if to_file else [])
    upstream_out, upstream_in = os.pipe()
    process = subprocess.Popen(arguments, stdin=upstream_out, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(upstream_out)
    received = bytearray()
    assert process.stdout is not None
    stdout = process.stdout

    def collect() -> None:
        while data := stdout.read1(1 << 16):  # type: ignore[attr-defined]
            received.extend(data)

    reader = threading.Thread(target=collect, daemon=True)
    reader.start()
    feeder = feeding(upstream_in, b"", records_block("fastq", FASTQ_RECORD))
    try:
        started = (lambda: any(p.stat().st_size for p in out.parent.iterdir())) if to_file else (lambda: len(received) > 0)
        wait_for(lambda: len(children(process.pid)) == 2 and started(), "two hashing children and some output")
        os.kill(children(process.pid)[-1], signal.SIGKILL)
        process.wait(timeout=30)
        reader.join(timeout=30)
        assert process.stderr is not None
        stderr = process.stderr.read()
    finally:
        os.close(upstream_in)
        if process.poll() is None:
            process.kill()
            process.wait()
        feeder.join(timeout=10)
        stdout.close()
        assert process.stderr is not None
        process.stderr.close()
    assert process.returncode == 1
    assert stderr == b"fastq-scrub-names: the renaming process was killed by SIGKILL: the output is incomplete\n"
    assert list(out.parent.iterdir()) == []


def test_a_killed_audit_worker_ends_the_audit(simulated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """multiprocessing.Pool waited for ever for a lost chunk; the executor's broken pool is an
    error, and no worker is left."""
    monkeypatch.setattr(audit_bam, "CHUNK_BYTES", 40_000)
    path = str(simulated / "tumour.bam")

    earlier = set(multiprocessing.active_children())  # children of other tests in this process are not the pool's

    def killing_one_worker(chunks: Iterator[bytes]) -> Iterator[bytes]:
        for number, chunk in enumerate(chunks):
            if number == 6:
                worker = next(child for child in multiprocessing.active_children() if child not in earlier)
                os.kill(worker.pid, signal.SIGKILL)  # type: ignore[arg-type]
                worker.join(10)
            yield chunk

    with open(path, "rb") as stream:
        blocks = CountedBlocks(bgzf_blocks(stream, path))
        header, rest = read_header(blocks, path)
        checks = RecordChecks(path, [name for name, _ in header.references])
        with pytest.raises(WorkerFailed, match="a worker process was killed"):
            BamAudit(checks, Findings(), 2).run_chunks(killing_one_worker(audit_bam.chunks(blocks)), rest)
    wait_for(lambda: no_worker_left(earlier), "the pool's workers ended", seconds=10)


def test_the_audit_workers_go_with_a_stopped_audit(simulated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stop (or any error) in the parent ends the workers at once, without waiting for their chunks."""
    monkeypatch.setattr(audit_bam, "CHUNK_BYTES", 40_000)
    path = str(simulated / "tumour.bam")

    earlier = set(multiprocessing.active_children())

    def stopping(chunks: Iterator[bytes]) -> Iterator[bytes]:
        for number, chunk in enumerate(chunks):
            if number == 6:
                raise signals.Stopped(signal.SIGTERM)
            yield chunk

    with open(path, "rb") as stream:
        blocks = CountedBlocks(bgzf_blocks(stream, path))
        header, rest = read_header(blocks, path)
        checks = RecordChecks(path, [name for name, _ in header.references])
        with pytest.raises(signals.Stopped):
            BamAudit(checks, Findings(), 2).run_chunks(stopping(audit_bam.chunks(blocks)), rest)
    wait_for(lambda: no_worker_left(earlier), "the pool's workers ended", seconds=10)


ORPHAN_PROBE = """
import sys, time
from genoscrub import audit_bam
from genoscrub.audit_bam import BamAudit, CountedBlocks, RecordChecks, bgzf_blocks, read_header
from genoscrub.audit_findings import Findings
audit_bam.CHUNK_BYTES = 40_000
path = sys.argv[1]

def then_wait(chunks):
    for number, chunk in enumerate(chunks):
        if number == 6:
            print("ready", flush=True)
            time.sleep(600)
        yield chunk

with open(path, "rb") as stream:
    blocks = CountedBlocks(bgzf_blocks(stream, path))
    header, rest = read_header(blocks, path)
    checks = RecordChecks(path, [name for name, _ in header.references])
    BamAudit(checks, Findings(), 2).run_chunks(then_wait(audit_bam.chunks(blocks)), rest)
"""


def test_audit_workers_die_with_a_killed_parent(simulated: Path) -> None:
    """An executor's worker whose parent was SIGKILLed waited on its queue for ever (Pool's did not)."""

    process = subprocess.Popen([sys.executable, "-c", ORPHAN_PROBE, str(simulated / "tumour.bam")], stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == b"ready\n"
        workers = children(process.pid)
        assert len(workers) == 2
        process.kill()
        process.wait(timeout=10)
        wait_for(lambda: not any(alive(worker) for worker in workers), "the workers are gone", 10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stdout is not None
        process.stdout.close()
