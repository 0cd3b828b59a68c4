"""CPU seconds of every process a shell command starts, from the kernel's process accounting.

    python tools/process_cpu.py 'COMMAND'

``getrusage(RUSAGE_CHILDREN)`` gives a run's CPU as one sum; a workflow run is ~100 processes
(Snakemake, samtools, the filters, the audit), and the sum alone cannot say which of them grew.
Linux writes one record per exiting process (user and system CPU, pid, parent pid, name: acct(5),
version 3) to the file acct(2) names; this module switches it on around one command, keeps the
records of the command's descendants (other work on the machine is recorded too), and labels
each by the command line a sampler of /proc saw for its pid, since the record's name is cut to 15
characters and is ``python`` for every filter. acct(2) needs root (CAP_SYS_PACCT) and accounts the
whole machine while on: only one run at a time should use it.

A process's CPU is counted in ticks (1/100 s) in the record, so a process under 10 ms counts
nothing: hundreds of short ones (``dirname`` in a wrapper) are lost, a few tenths of a second.
"""

from __future__ import annotations

import ctypes
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

RECORD = 64  # sizeof(struct acct_v3)
AHZ = 100  # the records' ticks a second (acct(5): AHZ)
SAMPLE_EVERY = 0.01


@dataclass(frozen=True)
class Process:
    pid: int
    parent: int
    name: str  # acct's ac_comm: at most 15 characters
    cpu: float  # user + system seconds
    command: str  # the command line the sampler saw, else the name


def expand(value: int) -> int:
    """acct's comp_t: a 13-bit mantissa and a 3-bit base-8 exponent."""
    return (value & 0x1FFF) << (3 * (value >> 13))


def read_records(data: bytes) -> list[tuple[int, int, str, float]]:
    """(pid, parent pid, name, CPU s) of each acct_v3 record."""
    records = []
    for offset in range(0, len(data) - RECORD + 1, RECORD):
        version = data[offset + 1] & 0x7F
        if version != 3:
            raise ValueError(f"process accounting record version {version}, not 3")
        pid, parent = struct.unpack_from("<II", data, offset + 16)
        user, system = struct.unpack_from("<HH", data, offset + 32)
        name = data[offset + 48 : offset + 64].split(b"\0")[0].decode(errors="replace")
        records.append((pid, parent, name, (expand(user) + expand(system)) / AHZ))
    return records


class CommandLines:
    """pid -> (parent pid, command line) of every process seen under /proc while running."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[int, str]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    self._look(int(entry))
            time.sleep(SAMPLE_EVERY)

    def _look(self, pid: int) -> None:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return
        if command:  # the last one seen: a wrapper's exec replaces it
            self.seen[pid] = (parent, command)

    def __enter__(self) -> CommandLines:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def accounted(command: str) -> tuple[int, list[Process]]:
    """Run ``command`` in a shell with process accounting on; its exit status and its processes
    (the shell's descendants). Raises PermissionError where acct(2) is not allowed."""
    libc = ctypes.CDLL(None, use_errno=True)
    with tempfile.TemporaryDirectory(prefix="process_cpu.") as folder:
        path = Path(folder) / "pacct"
        path.touch(mode=0o600)
        with CommandLines() as lines:
            if libc.acct(os.fsencode(path)) != 0:
                error = ctypes.get_errno()
                raise PermissionError(error, f"acct(2): {os.strerror(error)} (process accounting needs root)")
            try:
                shell = subprocess.Popen(command, shell=True)
                status = shell.wait()
            finally:
                libc.acct(None)
        records = read_records(path.read_bytes())
    parents = {pid: parent for pid, parent, _, _ in records}
    parents.update({pid: parent for pid, (parent, _) in lines.seen.items()})  # the parent while it ran

    def descends(pid: int) -> bool:
        for _ in range(64):
            if pid == shell.pid:
                return True
            if pid not in parents or pid <= 1:
                return False
            pid = parents[pid]
        return False

    processes = [
        Process(pid, parent, name, cpu, lines.seen.get(pid, (parent, name))[1])
        for pid, parent, name, cpu in records
        if descends(pid)
    ]
    return status, processes


def by_label(processes: list[Process], label: Callable[[Process], str]) -> dict[str, float]:
    """CPU seconds summed by ``label(process)``."""
    totals: dict[str, float] = {}
    for process in processes:
        totals[label(process)] = totals.get(label(process), 0.0) + process.cpu
    return totals


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    try:
        status, processes = accounted(sys.argv[1])
    except PermissionError as error:
        print(f"process_cpu: {error.strerror}", file=sys.stderr)
        return 1
    totals = by_label(processes, lambda process: " ".join(process.command.split()[:4])[:80])
    print(f"{sum(totals.values()):.2f} CPU s in {len(processes)} processes (exit status {status})")
    for label, seconds in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"{seconds:>8.2f}  {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
