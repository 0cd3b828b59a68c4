"""tools/process_cpu.py: the kernel's accounting records read back, and the workflow bench's steps."""

from __future__ import annotations

import os
import struct
import sys

import pytest

from tools.bench_workflow import workflow_step
from tools.process_cpu import Process, accounted, expand, read_records


def record(pid: int, parent: int, user: int, system: int, name: bytes) -> bytes:
    """One acct_v3 record (acct(5)): flag, version 3, tty, exit code, uid, gid, pid, ppid, ..."""
    head = struct.pack("<BBHIIIIII", 0, 3, 0, 0, 0, 0, pid, parent, 0) + struct.pack("<f", 0.0)
    times = struct.pack("<HHHHHHHH", user, system, 0, 0, 0, 0, 0, 0)
    return head + times + name.ljust(16, b"\0")


def test_comp_t_is_a_mantissa_and_a_base_8_exponent() -> None:
    assert expand(0) == 0
    assert expand(100) == 100
    assert expand((1 << 13) | 5) == 40  # 5 x 8
    assert expand((2 << 13) | 0x1FFF) == 0x1FFF * 64


def test_records_give_pid_parent_name_and_seconds() -> None:
    data = record(10, 1, 150, 50, b"samtools") + record(11, 10, (1 << 13) | 100, 0, b"python")
    assert read_records(data) == [(10, 1, "samtools", 2.0), (11, 10, "python", 8.0)]


def test_a_record_of_another_version_is_refused() -> None:
    data = bytearray(record(10, 1, 0, 0, b"x"))
    data[1] = 2
    with pytest.raises(ValueError, match="version 2"):
        read_records(bytes(data))


@pytest.mark.skipif(os.geteuid() != 0, reason="process accounting (acct(2)) needs root")
def test_a_commands_processes_are_found_with_their_cpu() -> None:
    burn = f"{sys.executable} -c 'sum(range(3 * 10**7))'"
    status, processes = accounted(f"{burn} && {burn} && true")
    assert status == 0
    burners = [process for process in processes if process.command.startswith(f"{sys.executable} -c")]
    assert len(burners) == 2
    assert all(process.cpu > 0.1 for process in burners)
    assert not any(process.pid == os.getpid() for process in processes)  # only the command's descendants


@pytest.mark.parametrize(
    ("command", "step"),
    [
        ("/r/.venv/bin/python /r/workflow/sam_chain.py sam-scrub-rg -q", "SAM filters (workflow/sam_chain.py)"),
        ("/r/.venv/bin/python -c import importlib /r/filters genoscrub-audit --report x", "genoscrub-audit (the gate)"),
        ("/r/.venv/bin/python -c import importlib /r/filters vcf-drop-rare -q", "VCF filters (vcf-*)"),
        ("/r/.venv/bin/python -c import importlib /r/filters fastq-scrub-names -q", "fastq-scrub-names"),
        ("samtools view -b --no-PG -@ 1 --write-index -o x.bam", "samtools view -b: BAM encoding"),
        ("samtools view --no-PG -T ref.fa -h x.bam", "samtools view: BAM decoding"),
        ("/r/.venv/bin/python /r/.venv/bin/snakemake -q --snakefile S", "Snakemake: planning, scheduling"),
        ("/r/.venv/bin/python /r/workflow/pairing.py --bam x", "workflow/pairing.py"),
        ("bgzip -c -l 1", "bgzip, tabix, bcftools"),
        ("dirname", "shells and the rest"),
    ],
)
def test_each_process_of_the_workflow_has_its_step(command: str, step: str) -> None:
    assert workflow_step(Process(1, 0, "x", 0.0, command)) == step
