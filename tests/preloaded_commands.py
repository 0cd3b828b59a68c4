"""A command started as bin/ starts it, once, then forked for every run (the golden tests and
``conftest.run_command``).

bin/<command> starts an interpreter, loads the checkout's filters/ as ``genoscrub``, imports the
command's module and calls its ``app``: some 0.25 CPU s, nearly all of it the imports, against a
few hundredths for a golden case's input. Here a process does the same loading once (run as
``python tests/preloaded_commands.py FILTERS COMMAND FD``, with the environment a run gets: what
the modules read when imported, such as GENOSCRUB_PURE_PYTHON, is read then) and waits on a
socket; for each run it forks a child that takes the run's pipes as its stdin, stdout and stderr,
moves to the run's folder, and calls the command's ``app`` with the run's arguments, as bin/'s
last line does. The child ends the way that process would: through the command's own exit, then
the interpreter's shutdown. Each run is its own process, forked from one that has run nothing;
the runs' stdio are pipes, as under ``subprocess.run``, and so were the preloaded process's own
when Python built ``sys.stdin``/``sys.stdout``/``sys.stderr`` over them (their buffering and
seekability are decided then). ``snakemake`` is preloaded the same way, for the tests' dry runs of
the cohort workflow (``conftest.run_snakemake``). The bin/ launcher itself is run by test_cli and by the tests that
start a command themselves (pipes, signals, killed runs), and by every test under
GENOSCRUB_TEST_LAUNCHER=1.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import json
import os
import select
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

FDS = 3  # the run's stdin, stdout and stderr
SNAKEMAKE = "snakemake"  # the name that preloads the snakemake program beside this Python, not a command of bin/


class PreloadedCommand:
    """One preloaded command (``name`` from bin/); ``run`` is ``subprocess.run`` of it, captured."""

    def __init__(self, filters: Path, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [sys.executable, __file__, str(filters), name, str(theirs.fileno())]
        self.process = subprocess.Popen(
            command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=[theirs.fileno()]
        )
        theirs.close()

    def run(self, args: list[str], cwd: Path, input: bytes | None, timeout: float) -> subprocess.CompletedProcess[bytes]:
        stdin, feed = os.pipe()
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        try:
            request = json.dumps({"argv": [self.name, *args], "cwd": str(cwd)}).encode()
            socket.send_fds(self.channel, [request], [stdin, out_write, err_write])
        finally:
            for fd in (stdin, out_write, err_write):
                os.close(fd)
        pid = self._receive()["pid"]
        try:
            stdout, stderr = communicate(feed, out_read, err_read, input or b"", time.monotonic() + timeout)
        except subprocess.TimeoutExpired:
            os.kill(pid, signal.SIGKILL)
            self._receive()
            raise subprocess.TimeoutExpired([self.name, *args], timeout) from None
        return subprocess.CompletedProcess([self.name, *args], self._receive()["status"], stdout, stderr)

    def _receive(self) -> dict[str, int]:
        message = self.channel.recv(1 << 12)
        if not message:
            _, stderr = self.process.communicate(timeout=60)
            raise RuntimeError(f"the preloaded {self.name} ended: {stderr.decode(errors='replace')[-2000:]}")
        reply: dict[str, int] = json.loads(message)
        return reply

    def close(self) -> None:
        self.channel.close()
        self.process.communicate(timeout=60)


class PreloadedCommands:
    """Preloaded commands by name and environment, started when first asked for; the ``keep`` last
    asked for stay (each holds an interpreter's memory), the one asked for least recently ends.
    PYTEST_CURRENT_TEST, set anew for every test, is the one variable that may differ: a run sees
    it as it was when its command was started."""

    def __init__(self, filters: Path, keep: int) -> None:
        self.filters, self.keep = filters, keep
        self.started: dict[tuple[str, tuple[tuple[str, str], ...]], PreloadedCommand] = {}

    def command(self, name: str, env: dict[str, str]) -> PreloadedCommand:
        key = (name, tuple(sorted((variable, value) for variable, value in env.items() if variable != "PYTEST_CURRENT_TEST")))
        if key not in self.started:
            while len(self.started) >= self.keep:
                self.started.pop(next(iter(self.started))).close()
            self.started[key] = PreloadedCommand(self.filters, name, env)
        self.started[key] = self.started.pop(key)  # the most recent last
        return self.started[key]

    def close(self) -> None:
        while self.started:
            self.started.popitem()[1].close()


def communicate(feed: int, out: int, err: int, data: bytes, deadline: float) -> tuple[bytes, bytes]:
    """Write ``data`` to ``feed`` (then close it) while reading ``out`` and ``err`` to their ends,
    as ``subprocess`` does; TimeoutExpired after ``deadline``."""
    received: dict[int, list[bytes]] = {out: [], err: []}
    offset = 0
    with selectors.DefaultSelector() as selector:
        for fd in (out, err):
            selector.register(fd, selectors.EVENT_READ)
        if data:
            selector.register(feed, selectors.EVENT_WRITE)
        else:
            os.close(feed)
        try:
            while selector.get_map():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise subprocess.TimeoutExpired("", 0)
                for key, _ in selector.select(left):
                    fd = key.fd
                    if fd == feed:
                        try:
                            offset += os.write(feed, data[offset : offset + select.PIPE_BUF])
                        except BrokenPipeError:
                            offset = len(data)  # the command stopped reading: as subprocess, no error
                        if offset >= len(data):
                            selector.unregister(feed)
                            os.close(feed)
                    elif chunk := os.read(fd, 1 << 16):
                        received[fd].append(chunk)
                    else:
                        selector.unregister(fd)
                        os.close(fd)
        finally:
            for key in list(selector.get_map().values()):
                os.close(key.fd)
    return b"".join(received[out]), b"".join(received[err])


def serve(channel: socket.socket) -> dict[str, Any] | None:
    """Fork a child for each request: the child returns its request (to run it), this process
    returns None once the channel closes."""
    gc.freeze()  # what was loaded stays out of every child's collections, so its exit neither walks nor copies it: 0.05 CPU s a run
    while True:
        message, fds, _, _ = socket.recv_fds(channel, 1 << 16, FDS)
        if not message:
            return None
        request: dict[str, Any] = json.loads(message)
        pid = os.fork()
        if pid == 0:
            channel.close()
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
                os.close(fd)
            return request
        for fd in fds:
            os.close(fd)
        channel.send(json.dumps({"pid": pid}).encode())
        _, status = os.waitpid(pid, 0)
        channel.send(json.dumps({"status": os.waitstatus_to_exitcode(status)}).encode())


def load_command(package: str, name: str) -> Callable[[], object]:
    """bin/<name>'s loading, word for word; its last line, to call in each run."""
    sys.path[0] = ""  # as under bin/'s python -c: the current folder, not tests/
    spec = importlib.util.spec_from_file_location("genoscrub", package + "/__init__.py", submodule_search_locations=[package])
    assert spec is not None and spec.loader is not None
    genoscrub = importlib.util.module_from_spec(spec)
    sys.modules["genoscrub"] = genoscrub
    spec.loader.exec_module(genoscrub)
    module = importlib.import_module("genoscrub." + name.replace("-", "_"))
    return lambda: module.app(prog_name=name)


def load_snakemake() -> Callable[[], object]:
    """The snakemake program beside this Python (its console script: ``sys.exit(main())``), its
    imports done and the plugin registries its argument parser fills (importing every installed
    plugin) filled once here: ~1.9 of the ~2.2 CPU s of a ``snakemake -n`` of the cohort workflow.
    The Snakefile and what it imports (genoscrub, workflow/) are read by each run."""
    program = Path(sys.executable).parent / SNAKEMAKE
    sys.path[0] = str(program.parent)  # as under the console script: its folder
    from snakemake.cli import get_argument_parser, main

    get_argument_parser()
    importlib.import_module("smart_open")  # imported when the Snakefile's path is first opened: ~0.35 CPU s

    def run() -> object:
        sys.argv[0] = str(program)
        return sys.exit(main())

    return run


def main() -> None:
    package, name, channel = sys.argv[1:4]
    run = load_snakemake() if name == SNAKEMAKE else load_command(package, name)
    request = serve(socket.socket(fileno=int(channel)))
    if request is None:
        return
    os.chdir(request["cwd"])
    sys.argv[:] = request["argv"]
    run()


if __name__ == "__main__":
    main()
