"""The cohort workflow's bookkeeping steps: linkage table, per-sample report, cohort summary, MultiQC.

Called by the rules of workflow/rules/report.smk as ``python workflow/reports.py STEP ...``.
A script and not ``run:`` blocks: Snakemake starts a whole new Snakemake process (about two CPU
seconds, most of a small sample's fixed cost) for every ``run:`` job, and runs a shell job
itself. The functions are pure over file contents and tested without Snakemake
(tests/test_workflow.py). Nothing here prints a value read from the files: errors name what
is wrong, never an ID.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[1]

# Counts of the header, which every part of a BAM carries whole: taken once, not summed.
HEADER_COUNTS = {"header_lines", "header_tags_removed", "pg_header_lines_removed", "co_header_lines_removed", "read_groups"}


def merge_reports(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """One step's reports over its parts: counts summed (header counts taken once), other
    fields kept (a list where parts differ)."""
    merged: dict[str, Any] = {"parts": len(reports)}
    counts: Counter[str] = Counter()
    fields: dict[str, list[Any]] = {}
    for data in reports:
        part_counts = data.get("counts", {})
        counts.update({key: value for key, value in part_counts.items() if key not in HEADER_COUNTS})
        for key in sorted(HEADER_COUNTS & part_counts.keys()):
            counts[key] = max(counts[key], part_counts[key])
        for key, value in data.items():
            if key not in ("command", "counts"):
                fields.setdefault(key, [])
                if value not in fields[key]:
                    fields[key].append(value)
    merged["counts"] = dict(sorted(counts.items()))  # the same bytes whatever the hash seed of the process
    merged.update({key: values[0] if len(values) == 1 else values for key, values in fields.items()})
    return merged


def sample_report(sample: str, files: dict[str, list[tuple[str, str]]], settings: dict[str, Any]) -> dict[str, Any]:
    """{"sample", "files": {output name: {step: merged report}}, "settings"} from the step
    reports named in ``files`` ({output name: [(step, report path), ...]})."""
    merged: dict[str, dict[str, Any]] = {}
    for name, steps in files.items():
        by_step: dict[str, list[dict[str, Any]]] = {}
        for step, path in steps:
            by_step.setdefault(step, []).append(json.loads(Path(path).read_text()))
        merged[name] = {step: merge_reports(reports) for step, reports in by_step.items()}
    return {"sample": sample, "files": merged, "settings": settings}


def summary_rows(reports: list[dict[str, Any]]) -> list[str]:
    """One TSV row per sample, file, step and count, under a header row."""
    rows = ["sample\tfile\tstep\tcount\tvalue"]
    for report in reports:
        for name, steps in report["files"].items():
            for step, data in steps.items():
                rows += [f"{report['sample']}\t{name}\t{step}\t{key}\t{value}" for key, value in sorted(data["counts"].items())]
    return rows


class LinkageError(ValueError):
    """The fragments disagree: a table that is not one-to-one links the wrong people."""


def linkage_rows(fragments: list[str]) -> list[tuple[str, str]]:
    """The union of the commands' --map-out fragments, sorted, checked one-to-one."""
    rows: dict[str, str] = {}
    for text in fragments:
        for line in text.splitlines():
            original, pseudonym = line.split("\t")
            if rows.setdefault(original, pseudonym) != pseudonym:
                raise LinkageError("an original got two pseudonyms (map and key disagree?)")
    if len(set(rows.values())) != len(rows):
        raise LinkageError("two originals share a pseudonym; refusing to write the linkage table")
    return sorted(rows.items())


def write_private(path: Path, text: str) -> None:
    """Write ``path`` mode 0600, atomically: a reader sees the old table or the new one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def load_genoscrub(repository: Path = REPOSITORY) -> ModuleType:
    """This checkout's filters/ as the package ``genoscrub``, as bin/ loads it (ARCHITECTURE.md,
    *Layout*), whatever else the interpreter has installed; once per process."""
    if "genoscrub" in sys.modules:
        return sys.modules["genoscrub"]
    package = repository / "filters"
    spec = importlib.util.spec_from_file_location("genoscrub", package / "__init__.py", submodule_search_locations=[str(package)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["genoscrub"] = module
    spec.loader.exec_module(module)
    return module


def multiqc_program(python: str = sys.executable) -> str | None:
    """The ``multiqc`` program: beside this interpreter (the checkout's .venv), else on PATH."""
    beside = Path(python).parent / "multiqc"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else shutil.which("multiqc")


def write_multiqc(out: Path, reports: list[Path], program: str | None) -> None:
    """MultiQC custom content (genoscrub.multiqc) from the sample and audit reports into ``out``;
    with ``program``, MultiQC's own report of that content beside it (multiqc_report.html,
    multiqc_data/). Only the content files are given to MultiQC: not the BAMs beside them."""
    load_genoscrub()
    from genoscrub.multiqc import write_custom_content

    written = write_custom_content(reports, out)
    if program is not None:
        command = [program, "--quiet", "--force", "--no-version-check", "--outdir", str(out), *map(str, written)]
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if result.returncode != 0:
            lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
            raise SystemExit(f"genoscrub workflow: multiqc failed (status {result.returncode}): {lines[-1] if lines else ''}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reports.py", description="bookkeeping steps of the cohort workflow")
    steps = parser.add_subparsers(dest="step", required=True)
    linkage = steps.add_parser("linkage", help="merge --map-out fragments into the linkage table (0600)")
    linkage.add_argument("--out", type=Path, required=True)
    linkage.add_argument("fragments", nargs="*", type=Path)
    summary = steps.add_parser("cohort-summary", help="one TSV over the sample reports")
    summary.add_argument("--out", type=Path, required=True)
    summary.add_argument("reports", nargs="*", type=Path)
    multiqc = steps.add_parser("multiqc", help="MultiQC custom content from the sample and audit reports")
    multiqc.add_argument("--out", type=Path, required=True)
    multiqc.add_argument("--run", action="store_true", help="also run the multiqc program on the content")
    multiqc.add_argument("reports", nargs="+", type=Path)
    options = parser.parse_args(argv)
    if options.step == "linkage":
        try:
            table = linkage_rows([path.read_text(encoding="utf-8") for path in options.fragments])
        except LinkageError as error:
            raise SystemExit(f"genoscrub workflow: {error}") from None
        write_private(options.out, "".join(f"{original}\t{pseudonym}\n" for original, pseudonym in table))
    elif options.step == "multiqc":
        program = multiqc_program() if options.run else None
        if options.run and program is None:
            raise SystemExit("genoscrub workflow: multiqc: report needs the multiqc program (pip install multiqc)")
        write_multiqc(options.out, options.reports, program)
    else:
        rows = summary_rows([json.loads(path.read_text()) for path in options.reports])
        options.out.write_text("\n".join(rows) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
