"""How a command ends when it has a bug (filters/cli.py ``run``)."""

from __future__ import annotations

import pytest

from filters.cli import run
from filters.report import Report


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
