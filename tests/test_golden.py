"""Golden-file tests: ``tests/golden/<command>/<case>/`` holds what a reviewer reads.

A case folder holds ``args`` (shell words, relative paths resolve inside the
case; the input is added last, or put where the word ``{input}`` stands, for a
command of several FILE arguments), ``input``, ``expected`` (stdout, byte for
byte), ``status`` and optionally ``stderr``. Every case runs three ways: input as a path, on stdin,
and gzipped on stdin (``modes`` lists fewer where a way makes no sense, e.g. an
input that is itself a broken gzip), and once more, in the case's first way,
with GENOSCRUB_PURE_PYTHON=1: the pure-Python twins of the C loops
(filters/scan.py) must give the same bytes. On a mismatch ``expected.new`` (or
``stderr.new``) is written beside it, one ``diff -u`` away. ``make golden``
rewrites the expected files on purpose (GENOSCRUB_GOLDEN_UPDATE=1).

Each run is a process of its own, with its own pipes, folder and arguments, forked from one
that loaded the command as bin/ does (tests/preloaded_commands.py): some 1,100 runs, each of
which spent 0.25 CPU s starting the interpreter and importing the command before.
"""

from __future__ import annotations

import gzip
import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from genoscrub import __version__

from tests.preloaded_commands import PreloadedCommands

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
MODES = ("path", "stdin", "gzip-stdin")
PURE = "pure-python"  # the case's first mode, without the C loops
UPDATE = os.environ.get("GENOSCRUB_GOLDEN_UPDATE") == "1"
CASES = sorted(path.parent for path in GOLDEN.glob("*/*/args"))
INPUT_PLACE = "{input}"


def normalise(data: bytes) -> bytes:
    """Version strings become a placeholder so a release rewrites no golden."""
    return re.sub(rb"(VN:|genoscrub_[\w-]+=|\"version\": \")" + re.escape(__version__.encode()), rb"\1{VERSION}", data)


@pytest.fixture(scope="module")
def commands() -> Iterator[PreloadedCommands]:
    """Two kept: the cases come command by command, each run with the C loops and without."""
    preloaded = PreloadedCommands(ROOT / "filters", keep=2)
    yield preloaded
    preloaded.close()


def run_case(commands: PreloadedCommands, case: Path, mode: str, pure: bool = False) -> subprocess.CompletedProcess[bytes]:
    command = case.parent.name
    for key in case.glob("*.key"):
        key.chmod(0o600)  # git keeps no modes but 644/755; key files must be private
    args = shlex.split((case / "args").read_text())
    data = (case / "input").read_bytes()
    stdin: bytes | None = None
    if INPUT_PLACE in args:  # a command of several FILE arguments: the input goes where the case says
        args[args.index(INPUT_PLACE)] = "input" if mode == "path" else "-"
    elif mode == "path":
        args.append("input")
    if mode == "stdin":
        stdin = data
    elif mode != "path":
        stdin = gzip.compress(data, mtime=0)
    env = dict(os.environ, COLUMNS="80")
    if pure:
        env["GENOSCRUB_PURE_PYTHON"] = "1"
        env.pop("GENOSCRUB_REQUIRE_SCAN", None)
    return commands.command(command, env).run(args, cwd=case, input=stdin, timeout=120)


def expected_stderr(case: Path, mode: str, stderr: bytes) -> bytes:
    """Messages name the input; on stdin it is ``<stdin>``, as a path ``input``."""
    if mode == "path":
        stderr = stderr.replace(b": input:", b": <stdin>:")
    return stderr


def expected_stdout(case: Path, mode: str, stdout: bytes) -> bytes:
    """A command whose output names its files (a case with ``{input}`` in its args) names
    the input ``input`` as a path and ``<stdin>`` on stdin: compared as ``input``."""
    if mode != "path" and INPUT_PLACE in (case / "args").read_text():
        stdout = stdout.replace(b"<stdin>", b"input")
    return stdout


@pytest.mark.parametrize("mode", (*MODES, PURE))
@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_golden(case: Path, mode: str, commands: PreloadedCommands) -> None:
    modes = (case / "modes").read_text().split() if (case / "modes").exists() else MODES
    pure = mode == PURE
    if pure:
        if UPDATE:
            pytest.skip("make golden writes the expected files from the C loops")
        mode = modes[0]
    elif mode not in modes:
        pytest.skip(f"case runs only as {', '.join(modes)}")
    result = run_case(commands, case, mode, pure)
    stdout = expected_stdout(case, mode, normalise(result.stdout))
    stderr = expected_stderr(case, mode, normalise(result.stderr))
    if UPDATE and mode == modes[0]:
        (case / "expected").write_bytes(stdout)
        (case / "status").write_text(f"{result.returncode}\n")
        if result.returncode != 0 or (case / "stderr").exists():
            (case / "stderr").write_bytes(stderr)
        return
    assert "Traceback" not in result.stderr.decode(errors="replace"), result.stderr.decode(errors="replace")
    status = int((case / "status").read_text())
    assert result.returncode == status, result.stderr.decode(errors="replace")
    expected = (case / "expected").read_bytes()
    if stdout != expected:
        (case / "expected.new").write_bytes(stdout)
        pytest.fail(f"stdout differs: diff -u {case}/expected {case}/expected.new")
    if (case / "stderr").exists() and stderr != (case / "stderr").read_bytes():
        (case / "stderr.new").write_bytes(stderr)
        pytest.fail(f"stderr differs: diff -u {case}/stderr {case}/stderr.new")
