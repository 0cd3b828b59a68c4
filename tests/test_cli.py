"""How a command ends: with a bug, or with its reading and writing threads still busy (filters/cli.py ``run``)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import threading
import time

import pytest
from genoscrub.cli import run
from genoscrub.report import Report
from genoscrub.streams import background_reads, workers

from tests.conftest import BIN


def broken_job(report: Report) -> None:
    raise KeyError("S2301217N_20231029")  # an exception quoting the identifier that broke the code


def test_an_internal_error_is_one_line_that_quotes_no_data(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("GENOSCRUB_TRACEBACKS", raising=False)
    with pytest.raises(SystemExit) as ended:
        run("vcf-scrub-header", broken_job)
    assert ended.value.code == 1
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1 and stderr.startswith("vcf-scrub-header: internal error (KeyError)")
    assert "S2301217" not in stderr and "Traceback" not in stderr


def test_tests_see_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENOSCRUB_TRACEBACKS", "1")
    with pytest.raises(KeyError):
        run("vcf-scrub-header", broken_job)


def test_settle_stops_a_reader_waiting_on_a_full_queue() -> None:
    """A consumer that stops early (an error, a closed pipe) leaves the reading thread
    waiting to hand over its next block; ``run`` must be able to end it."""
    blocks = background_reads(io.BytesIO(bytes(16 << 20)), size=1 << 20, depth=2)
    assert len(next(blocks)) == 1 << 20
    time.sleep(0.2)  # the thread reads ahead until the queue is full, then waits on it
    assert workers.settle(timeout=30.0)  # False if the thread were still waiting: stop() freed it


STALLED_INPUTS = {  # (header, a record repeated)
    "sam-scrub-rg": (b"@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:100000\n", b"r1\t0\tchr1\t100\t60\t4M\t*\t0\t0\tACGT\tIIII\n"),
    "fastq-scrub-names": (b"", b"@read\nACGTACGT\n+\nIIIIIIII\n"),
    "vcf-scrub-header": (
        b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n",
        b"chr1\t100\t.\tA\tC\t.\tPASS\t.\n",
    ),
}


@pytest.mark.parametrize("command", sorted(STALLED_INPUTS))
def test_a_closed_pipe_with_a_stalled_upstream_still_ends_quietly(command: str) -> None:
    """``producer | command | head -1`` where the producer then stalls with its pipe
    open. When the command next writes, a reading thread may be stuck in a read of
    stdin (which closing the input waits on, and interpreter shutdown aborts on:
    SIGABRT) or waiting to hand over a block; either way the command must exit 141
    at once, as a C tool killed by SIGPIPE would."""
    header, record = STALLED_INPUTS[command]
    chunk = record * ((1 << 20) // len(record))
    upstream_out, upstream_in = os.pipe()
    closed = threading.Event()

    def produce() -> None:  # 16 MiB more once the command's output is closed, then stall with the pipe open
        with contextlib.suppress(BrokenPipeError):
            os.write(upstream_in, header)
            extra = 0
            while extra < 16:
                os.write(upstream_in, chunk)
                extra += closed.is_set()

    with subprocess.Popen([str(BIN / command)], stdin=upstream_out, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        os.close(upstream_out)
        producer = threading.Thread(target=produce, daemon=True)
        producer.start()
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline()
        process.stdout.close()
        closed.set()
        stderr = process.stderr.read()
        status = process.wait(timeout=60)
    producer.join(timeout=60)  # ended by the closed pipe, or stalled after its 16 MiB
    os.close(upstream_in)
    assert (status, stderr) == (141, b"")
