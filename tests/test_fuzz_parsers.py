"""A short coverage-guided run of every fuzz target (tools/fuzz_parsers.py), so the
harness cannot rot between ``make fuzz`` runs and a crash it once found stays fixed.

150 inputs per target (about 1 s each with the interpreter start), run by ``make test-slow``
(which CI runs after ``make test``); the long runs (``make fuzz``, 20,000 inputs per target) take
minutes and stay out of both.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytest.importorskip("atheris", reason="atheris is not installed (pip install atheris)")

HARNESS = ROOT / "tools" / "fuzz_parsers.py"
TARGETS = [
    "fastq",
    "sam-scrub-rg",
    "sam-mask-regions",
    "sam-revert-germline",
    "vcf-scrub-header",
    "vcf-drop-rare",
    "vcf-drop-regions",
    "bed",
    "audit-fastq",
    "audit-sam",
    "audit-vcf",
    "audit-bam",
]


@pytest.mark.slow  # every fuzz target run: make test-slow (CI runs it after make test)
def test_every_target_is_run() -> None:
    listed = subprocess.run([sys.executable, str(HARNESS), "--list"], capture_output=True, text=True, check=True, timeout=120)
    assert listed.stdout.split() == TARGETS


@pytest.mark.slow  # make test-slow, which CI runs after make test
@pytest.mark.parametrize("target", TARGETS)
def test_fuzz_target_survives_a_short_run(target: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(HARNESS), target, "-runs=150", "-seed=1", "-max_len=1024", "-timeout=20", f"-artifact_prefix={tmp_path}/"],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done 150 runs" in result.stderr
