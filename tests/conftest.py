"""Shared fixtures: where the commands and the shared corpus are."""

from __future__ import annotations

import atexit
import importlib.util
import locale
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import settings

from tests.preloaded_commands import PreloadedCommand, PreloadedCommands

# CI (.ci/run) sets GENOSCRUB_HYPOTHESIS=ci: the property tests then try the same examples on every
# run (derived from each test's name), so a landing never fails on a draw no one can repeat; a
# developer's `make test` draws new ones each run and keeps a failing one in .hypothesis/ to replay,
# and `make fuzz` searches further. A failure found either way becomes an @example.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.load_profile(os.environ.get("GENOSCRUB_HYPOTHESIS", "default"))

os.environ.setdefault("GENOSCRUB_TRACEBACKS", "1")  # an internal error shows its traceback to the tests (filters/cli.py)

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / "bin"
SITE_KEY = b"the tests' site key, 32 bytes!!!"


def site_key_file(folder: Path) -> Path:
    """``folder/site.key``, private, holding ``SITE_KEY``: sam-revert-germline draws the qualities
    of the bases a reverted indel adds by it (``--key-file``), so runs that must write the same
    bytes give it (without a key each run draws with a secret of its own)."""
    path = folder / "site.key"
    path.write_bytes(SITE_KEY)
    path.chmod(0o600)
    return path


def load_workflow_script(name: str) -> Any:
    """A script of workflow/ as a module (``workflow_<name>``), loaded once per test process and
    registered so that dataclasses and pickling find it; the scripts import each other by their
    own names from workflow/, which they put on sys.path when loaded this way."""
    module_name = f"workflow_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "workflow" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def slow_but(cases: list[Any], kept: set[int], ids: list[str] | None = None) -> list[Any]:
    """A sweep's cases for ``parametrize``, all but the ``kept`` indices marked slow: make test runs
    one case of each kind the sweep covers, make test-slow (which CI runs after it) the rest, so
    make test stays under its 10 minutes."""
    marked = []
    for index, case in enumerate(cases):
        values = case if isinstance(case, tuple) else (case,)
        marks = () if index in kept else (pytest.mark.slow,)
        marked.append(pytest.param(*values, marks=marks, id=None if ids is None else ids[index]))
    return marked


def corpus_dir() -> Path | None:
    """The shared corpus, read in place ($GENOSCRUB_CORPUS, default ../shared/corpus)."""
    path = Path(os.environ.get("GENOSCRUB_CORPUS", ROOT.parent / "shared" / "corpus"))
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def corpus() -> Path:
    path = corpus_dir()
    if path is None:
        pytest.skip("shared corpus not found: set GENOSCRUB_CORPUS to run the corpus tests")
    return path


def run_command(
    command: str, *args: str, input: bytes | None = None, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run a command as bin/ runs it, capturing everything: forked from a process that loaded it
    as bin/ does, once per environment (tests/preloaded_commands.py; the imports are ~0.25 CPU s
    of a run, and the tests run commands thousands of times). ``input=None`` is an empty stdin;
    ``env`` adds variables to the tests' environment (GENOSCRUB_ONE_BY_ONE=1: a preloaded process
    of its own). GENOSCRUB_TEST_LAUNCHER=1 runs bin/ itself, as test_cli and the tests of pipes,
    signals and killed runs always do."""
    environment = {**os.environ, **(env or {})}
    if os.environ.get("GENOSCRUB_TEST_LAUNCHER") == "1":
        return subprocess.run(
            [str(BIN / command), *args], input=input or b"", capture_output=True, cwd=cwd, env=environment, timeout=300
        )
    return preloaded(command, environment).run(list(args), cwd=cwd or Path.cwd(), input=input, timeout=300)


def run_snakemake(args: list[str], cwd: Path, timeout: float = 600, program: bool = False) -> subprocess.CompletedProcess[str]:
    """``snakemake ARGS`` (the program beside this Python) in ``cwd``, captured as text. A dry run
    (``-n``: the tests of the workflow's config checks and plans) is forked from a process that
    imported Snakemake and its plugins (tests/preloaded_commands.py; ~1 of its ~1.2 CPU s); a run
    that does the work, a dry run asked for with ``program=True`` and every run under
    GENOSCRUB_TEST_LAUNCHER=1 start the program itself."""
    command = [str(SNAKEMAKE), *args]
    if program or "-n" not in args or os.environ.get("GENOSCRUB_TEST_LAUNCHER") == "1":
        return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    result = preloaded(SNAKEMAKE.name).run(args, cwd=cwd, input=None, timeout=timeout)
    return subprocess.CompletedProcess(command, result.returncode, text(result.stdout), text(result.stderr))


def text(data: bytes) -> str:
    """``data`` as ``subprocess.run(text=True)`` gives it: the locale's encoding, universal newlines."""
    return data.decode(locale.getpreferredencoding(False)).replace("\r\n", "\n").replace("\r", "\n")


def preloaded(name: str, env: dict[str, str] | None = None) -> PreloadedCommand:
    global _PRELOADED
    if _PRELOADED is None:
        _PRELOADED = PreloadedCommands(ROOT / "filters", keep=PRELOADED_KEPT)
        atexit.register(_PRELOADED.close)
    return _PRELOADED.command(name, dict(os.environ) if env is None else env)


SNAKEMAKE = Path(sys.executable).parent / "snakemake"
_PRELOADED: PreloadedCommands | None = None
PRELOADED_KEPT = 6
"""Preloaded commands kept by each test process (an interpreter's memory each, some 50 MB): a module
runs one to three commands, in one or two environments (GENOSCRUB_ONE_BY_ONE); fewer than their
product started a command again for nearly every run of test_sam_chain's refusals."""


def simulated_set(tmp_path_factory: pytest.TempPathFactory, pairs: int, **options: int) -> Path:
    """A simulated tumour/normal set (tools/simulate.py; seed 1 unless ``options`` say
    otherwise, with contig_length and read_length), made once per test process for
    each set of options and shared by the modules that ask for the same one."""
    key = (pairs, *sorted(options.items()))
    if key not in _SIMULATED_SETS:
        from tools.simulate import simulate

        out = tmp_path_factory.mktemp("simulated")
        simulate(out, pairs=pairs, **options)  # type: ignore[arg-type]
        _SIMULATED_SETS[key] = out
    return _SIMULATED_SETS[key]


_SIMULATED_SETS: dict[tuple[object, ...], Path] = {}
DEFAULT_SIMULATION = {"pairs": 1500}


@pytest.fixture(scope="module")
def simulated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one simulated set fixture: a module picks its size with ``SIMULATION = {...}``
    (the options of ``tools.simulate.simulate``), default 1500 pairs. Modules asking
    for the same options share the folder: a test may add files of its own names
    there, never change the simulator's."""
    return simulated_set(tmp_path_factory, **getattr(request.module, "SIMULATION", DEFAULT_SIMULATION))


def bam_block(sam_text: str, folder: Path) -> tuple[bytes, Any, list[tuple[str, int]], bytes]:
    """The records of a SAM text as BAM (written by pysam, as htslib encodes them), inflated
    into one block and walked as genoscrub-audit walks it: ``(data, walked, references,
    header text)``. ValueError or OSError when htslib refuses a record."""
    import pysam
    from genoscrub import audit_bam

    sam, bam = folder / "block.sam", folder / "block.bam"
    sam.write_text(sam_text, encoding="utf-8")
    with pysam.AlignmentFile(str(sam)) as source, pysam.AlignmentFile(str(bam), "wb", template=source) as target:
        for read in source:
            target.write(read)
    path = str(bam)
    with open(path, "rb") as stream:
        blocks = audit_bam.CountedBlocks(audit_bam.bgzf_blocks(stream, path))
        header, rest = audit_bam.read_header(blocks, path)
        data = rest + b"".join(audit_bam.inflate(block, path) for block in blocks)
    return data, audit_bam.walk(data, 0), header.references, header.text


HEAVIEST_FIRST = ("test_workflow.py", "test_workflow_delivery.py", "test_stream_faults.py", "test_killed_runs.py", "test_golden.py")
"""Modules run before the others, in this order: make test's ``--dist loadfile`` hands each worker
a whole module, in the order collected, and test_workflow.py (its cohort runs, some 2.5 minutes
on one worker) collected last left the other worker idle at the end; the heaviest first, the
small modules fill in after."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: index for index, name in enumerate(HEAVIEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order
