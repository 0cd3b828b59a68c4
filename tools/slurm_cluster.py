"""Start and stop a one-node SLURM cluster on this machine, for `make test-cluster`.

    python tools/slurm_cluster.py start [--state DIR]
    python tools/slurm_cluster.py stop [--state DIR]

``start`` installs Debian's ``slurmctld``, ``slurmd``, ``slurm-client`` and ``munge`` with apt-get
where they are missing, starts ``munged`` (unless one already answers), writes a ``slurm.conf``
and starts ``slurmctld`` and ``slurmd`` as root from it, without systemd, and waits until the
node takes a job. The configuration is what works on a machine like the development one
(SLURM 22.05): ``ProctrackType=proctrack/linuxproc`` and ``TaskPlugin=task/none`` (no cgroups),
no accounting database, and ``MinJobAge`` of ten minutes, because without ``sacct`` the
executor polls ``squeue``, which forgets a job ``MinJobAge`` seconds after it ends. The node
declares at least 4 CPUs (``SlurmdParameters=config_overrides``) so that a sample's group job
fits on a 2-core machine; the jobs then share the cores.

Job steps (``srun``, which the executor's jobs call) read the default ``/etc/slurm/slurm.conf``,
not ``$SLURM_CONF``; so the file is written there, marked as ours, and ``start`` refuses to
replace a ``slurm.conf`` that is not. ``stop`` ends the daemons ``start`` started (by the
process IDs it recorded, never by name), removes that file and the state folder.

Where SLURM cannot start, ``start`` prints one line saying why, stops what it started and exits 1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
MARKER = "# genoscrub test cluster, written by tools/slurm_cluster.py; removed by its stop"
MUNGE_KEY = Path("/etc/munge/munge.key")
MUNGE_RUN = Path("/run/munge")
PACKAGES = ["slurmctld", "slurmd", "slurm-client", "munge"]
PROGRAMS = ["slurmctld", "slurmd", "munged", "sbatch", "squeue", "sinfo", "srun", "scontrol"]
DEFAULT_STATE = Path(tempfile.gettempdir()) / "genoscrub-slurm"
PARTITION = "genoscrub"
READY_SECONDS = 90


class ClusterError(RuntimeError):
    """Why the cluster cannot start: one line for the user."""


def run(command: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def last_line(result: subprocess.CompletedProcess[str], otherwise: str = "no message") -> str:
    return (result.stderr.strip().splitlines() or [otherwise])[-1]


def install_packages() -> None:
    missing = [program for program in PROGRAMS if shutil.which(program) is None and not Path("/usr/sbin", program).exists()]
    if not missing:
        return
    if shutil.which("apt-get") is None:
        raise ClusterError(f"{', '.join(missing)} not installed and no apt-get to install them (Debian's {' '.join(PACKAGES)})")
    print(f"installing {' '.join(PACKAGES)} (apt-get)", file=sys.stderr)
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *PACKAGES]):
        if subprocess.run(command, env=environment, capture_output=True, timeout=900).returncode != 0:
            raise ClusterError(f"apt-get could not install {' '.join(PACKAGES)}")


def program(name: str) -> str:
    found = shutil.which(name) or (f"/usr/sbin/{name}" if Path("/usr/sbin", name).exists() else None)
    if found is None:
        raise ClusterError(f"{name} not found after installing {' '.join(PACKAGES)}")
    return found


def munge_answers() -> bool:
    try:
        return run(["munge", "-n"], timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def start_munge(state: Path) -> None:
    """Start munged as the munge user unless one already answers; record its process ID."""
    if munge_answers():
        return
    if not MUNGE_KEY.exists():
        MUNGE_KEY.parent.mkdir(parents=True, exist_ok=True)
        MUNGE_KEY.write_bytes(os.urandom(1024))
        shutil.chown(MUNGE_KEY, "munge", "munge")
        MUNGE_KEY.chmod(0o400)
    MUNGE_RUN.mkdir(parents=True, exist_ok=True)
    shutil.chown(MUNGE_RUN, "munge", "munge")
    pid_file = MUNGE_RUN / "munged.pid"
    result = run(["runuser", "-u", "munge", "--", program("munged")])
    if result.returncode != 0:
        raise ClusterError("munged did not start: " + last_line(result))
    for _ in range(50):
        if munge_answers() and pid_file.exists():
            (state / "munged.pid").write_text(pid_file.read_text())
            return
        time.sleep(0.2)
    raise ClusterError("munged started but does not answer (munge -n)")


def memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 4096


def slurm_conf(state: Path, host: str) -> str:
    cpus = max(os.cpu_count() or 1, 4)
    memory = int(memory_mb() * 0.8)
    return f"""{MARKER}
# state: {state}
ClusterName=genoscrub
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation={state}/slurmctld
SlurmdSpoolDir={state}/slurmd
SlurmctldPidFile={state}/slurmctld.pid
SlurmdPidFile={state}/slurmd.pid
SlurmctldLogFile={state}/slurmctld.log
SlurmdLogFile={state}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MinJobAge=600
SlurmdParameters=config_overrides
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory} State=UNKNOWN
PartitionName={PARTITION} Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def ours(path: Path) -> bool:
    try:
        return path.read_text().startswith(MARKER)
    except OSError:
        return False


def wait_for_node() -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        state = run(["sinfo", "-h", "-p", PARTITION, "-o", "%T"], timeout=10)
        if state.returncode == 0 and state.stdout.strip() in ("idle", "mixed", "allocated"):
            probe = run(["srun", "-p", PARTITION, "-N1", "-n1", "-t", "1", "true"], timeout=60)
            if probe.returncode == 0:
                return
            raise ClusterError("the node is up but srun cannot run a job step: " + last_line(probe))
        time.sleep(1)
    raise ClusterError(f"slurmd did not register with slurmctld within {READY_SECONDS} s (see the logs in the state folder)")


def start(state: Path) -> None:
    if os.geteuid() != 0:
        raise ClusterError("slurmctld and slurmd must be started as root here (no systemd): run make test-cluster as root")
    install_packages()
    if SYSTEM_CONF.exists() and not ours(SYSTEM_CONF):
        raise ClusterError(f"{SYSTEM_CONF} exists and is not the test cluster's; refusing to replace a real SLURM configuration")
    if SYSTEM_CONF.exists():
        stop(state)  # a cluster of an earlier run, left behind: start afresh
    if run(["scontrol", "ping"], timeout=10).stdout.count("UP"):
        raise ClusterError("a slurmctld is already running on this machine; stop it first")
    shutil.rmtree(state, ignore_errors=True)
    for folder in (state, state / "slurmctld", state / "slurmd"):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    start_munge(state)
    text = slurm_conf(state, socket.gethostname().split(".")[0])
    (state / "slurm.conf").write_text(text)
    SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
    SYSTEM_CONF.write_text(text)
    for daemon in ("slurmctld", "slurmd"):
        result = run([program(daemon)])
        if result.returncode != 0:
            raise ClusterError(f"{daemon} did not start: " + last_line(result, f"see its log in {state}"))
    wait_for_node()


def end_process(pid_file: Path) -> None:
    """End the process whose ID ``pid_file`` holds, and wait for it (10 s, then SIGKILL)."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def stop(state: Path, keep_logs: bool = False) -> None:
    """End what ``start`` started, found by the process IDs it recorded in ``state``."""
    if ours(SYSTEM_CONF):
        for line in SYSTEM_CONF.read_text().splitlines():
            if line.startswith("# state: "):
                state = Path(line.removeprefix("# state: "))
        if shutil.which("scancel"):
            run(["scancel", "--partition", PARTITION], timeout=30)
    for name in ("slurmd.pid", "slurmctld.pid", "munged.pid"):
        end_process(state / name)
    if ours(SYSTEM_CONF):
        SYSTEM_CONF.unlink()
    if not keep_logs:
        shutil.rmtree(state, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE, help=f"state and log folder (default {DEFAULT_STATE})")
    options = parser.parse_args(argv)
    if options.action == "stop":
        stop(options.state)
        return 0
    try:
        start(options.state)
    except (ClusterError, OSError, subprocess.TimeoutExpired) as error:
        message = str(error) if isinstance(error, ClusterError) else f"{type(error).__name__}: {error}"
        print(f"test-cluster: SLURM cannot start here: {message}", file=sys.stderr)
        stop(options.state, keep_logs=True)
        return 1
    print(f"test-cluster: one-node SLURM cluster up (partition {PARTITION}; state and logs in {options.state})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
