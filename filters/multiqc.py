"""MultiQC custom content from genoscrub's reports: what each step did per sample, and the audit's verdicts.

Labs read MultiQC reports beside their other QC, so the counts the commands write with
``--report`` (and the cohort workflow gathers per sample, ``results/<p>/<p>.report.json``)
and the verdicts of ``genoscrub-audit --report`` are turned into MultiQC custom content
files (``*_mqc.yaml``): a table with a row per sample (totals removed, reverted, dropped
and renamed; the audit's verdict and findings per class), and a bar plot per step (its
counts per sample). ``multiqc DIR`` then shows a genoscrub section.

    python -m genoscrub.multiqc -o DIR REPORT.json...

Only counts and sample pseudonyms go in: a report's file paths are never copied, and a
sample is named by the workflow's pseudonym (or, for an audit report, by the first
dot-separated part of its files' names, which the workflow gives as
``<pseudonym>.<kind>...``). The files are JSON, which is YAML too: no YAML library is
needed to write them.

It shows the counts the reports hold. The cohort workflow gives it the reports it delivers,
which keep only counts that do not describe the person's genotype (workflow/reports.py,
``delivered_report``): no column or plot of what was removed, reverted or dropped then.
A column no report counts is left out rather than shown as 0.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

SECTION = "genoscrub"
ACTIONS = {
    "removed": ("removed",),
    "reverted": ("reverted", "masked"),
    "dropped": ("dropped",),
    "renamed": ("renamed", "replaced", "rewritten", "cleared"),
}
"""Which count keys of the commands' reports say that something was removed, reverted or
masked, dropped, or renamed (``header_lines_removed``, ``bases_reverted``, ``dropped_rare``)."""
AUDIT_CLASSES = ("forbidden", "metadata", "germline", "population", "regions")
SAMPLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def action(key: str) -> str | None:
    """The action a count key reports, or None for a total (``records``, ``reads_in``)."""
    for name, words in ACTIONS.items():
        if any(word in key for word in words):
            return name
    return None


def step_counts(report: Mapping[str, Any]) -> dict[str, Counter[str]]:
    """Counts per step of one report: a workflow sample report (files -> steps) or one command's."""
    steps: dict[str, Counter[str]] = {}
    if "files" in report and isinstance(report["files"], dict):
        for file_steps in report["files"].values():
            for step, data in file_steps.items():
                steps.setdefault(step, Counter()).update(_numbers(data.get("counts", {})))
    elif "command" in report and "counts" in report:
        steps[str(report["command"])] = Counter(_numbers(report["counts"]))
    return steps


def _numbers(counts: Mapping[str, Any]) -> dict[str, int]:
    return {str(key): int(value) for key, value in counts.items() if isinstance(value, (int, float)) and not isinstance(value, bool)}


def audit_sample(report: Mapping[str, Any], path: Path) -> str:
    """The sample an audit report is about: its files' common first name part, or the report's."""
    firsts = {Path(str(entry.get("file", ""))).name.split(".")[0] for entry in report.get("files", [])}
    if len(firsts) == 1:
        (name,) = firsts
        if SAMPLE_NAME.fullmatch(name):
            return name
    return path.name.split(".")[0]


class Collected:
    """Reports gathered per sample."""

    def __init__(self) -> None:
        self.steps: dict[str, dict[str, Counter[str]]] = {}  # step -> sample -> counts
        self.audits: dict[str, dict[str, Any]] = {}  # sample -> verdict and findings per class

    def add(self, path: Path) -> None:
        try:
            report = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise ValueError(f"{path.name}: not a genoscrub report ({type(error).__name__})") from None
        if report.get("command") == "genoscrub-audit":
            self.add_audit(audit_sample(report, path), report)
            return
        sample = str(report.get("sample") or path.name.split(".")[0])
        if not SAMPLE_NAME.fullmatch(sample):
            raise ValueError(f"{path.name}: the sample name is not a pseudonym")
        for step, counts in step_counts(report).items():
            self.steps.setdefault(step, {}).setdefault(sample, Counter()).update(counts)

    def add_audit(self, sample: str, report: Mapping[str, Any]) -> None:
        entry = self.audits.setdefault(sample, {"verdict": "pass", "files": 0, **{name: 0 for name in AUDIT_CLASSES}})
        for file in report.get("files", []):
            entry["files"] += 1
            for name in AUDIT_CLASSES:
                found = file.get("findings", {}).get(name, {})
                entry[name] += int(found.get("count", 0))
            if file.get("verdict") == "fail":
                entry["verdict"] = "fail"

    def samples(self) -> list[str]:
        names = set(self.audits)
        for by_sample in self.steps.values():
            names.update(by_sample)
        return sorted(names)


def summary_table(collected: Collected) -> dict[str, Any]:
    """A row per sample: totals per action over every step, and the audit's verdict."""
    data: dict[str, dict[str, Any]] = {}
    reported = {action(key) for by_sample in collected.steps.values() for counts in by_sample.values() for key in counts}
    columns = [name for name in ACTIONS if name in reported]  # a column no report counts is left out, not shown as 0
    for sample in collected.samples():
        row: dict[str, Any] = dict.fromkeys(columns, 0)
        for by_sample in collected.steps.values():
            for key, value in by_sample.get(sample, Counter()).items():
                name = action(key)
                if name in row:
                    row[name] += value
        audit = collected.audits.get(sample)
        if audit is not None:
            row["audit"] = audit["verdict"].upper()
            row["findings"] = sum(audit[name] for name in AUDIT_CLASSES)
            row.update({f"audit_{name}": audit[name] for name in AUDIT_CLASSES})
        data[sample] = row
    headers: dict[str, Any] = {
        "removed": {"title": "Removed", "description": "Header lines, tags and IDs removed (all steps)", "format": "{:,.0f}"},
        "reverted": {"title": "Reverted/masked", "description": "Bases reverted or masked (all steps)", "format": "{:,.0f}"},
        "dropped": {"title": "Dropped", "description": "Reads and records dropped (all steps)", "format": "{:,.0f}"},
        "renamed": {"title": "Renamed", "description": "Names and IDs replaced by pseudonyms (all steps)", "format": "{:,.0f}"},
    }
    headers = {name: header for name, header in headers.items() if name in columns}
    if collected.audits:
        headers["audit"] = {"title": "Audit", "description": "genoscrub-audit verdict on the sample's outputs"}
        headers["findings"] = {"title": "Findings", "description": "genoscrub-audit findings, all classes", "format": "{:,.0f}"}
        for name in AUDIT_CLASSES:
            headers[f"audit_{name}"] = {"title": f"Audit: {name}", "description": f"Audit findings: {name}", "hidden": True}
    return section(
        "genoscrub_summary",
        "Pseudonymization summary",
        "What the genoscrub steps removed, reverted, dropped and renamed per sample, and the audit's verdict.",
        {"plot_type": "table", "pconfig": {"id": "genoscrub_summary_table", "title": "genoscrub: summary", "col1_header": "Sample"},
         "headers": headers, "data": data},
    )  # fmt: skip


def step_plot(step: str, by_sample: Mapping[str, Counter[str]]) -> dict[str, Any] | None:
    """A bar per sample of one step's actions (its counts of things removed, reverted, dropped, renamed)."""
    keys = sorted({key for counts in by_sample.values() for key in counts if action(key) is not None})
    if not keys:
        return None
    data = {sample: {key: counts.get(key, 0) for key in keys} for sample, counts in sorted(by_sample.items())}
    name = re.sub(r"[^A-Za-z0-9]+", "_", step).strip("_")
    return section(
        f"genoscrub_{name}",
        step,
        f"What {step} did per sample (counts from its --report).",
        {"plot_type": "bargraph", "pconfig": {"id": f"genoscrub_{name}_plot", "title": f"genoscrub: {step}", "ylab": "Count"},
         "categories": {key: {"name": key.replace("_", " ")} for key in keys}, "data": data},
    )  # fmt: skip


def section(identifier: str, name: str, description: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": identifier,
        "section_name": name,
        "description": description,
        "parent_id": SECTION,
        "parent_name": "genoscrub",
        "parent_description": "Pseudonymization of sequencing files (genoscrub): counts from the commands' reports.",
        **content,
    }


def write_custom_content(reports: Iterable[Path], out_dir: Path) -> list[Path]:
    """Read the reports, write the ``*_mqc.yaml`` files into ``out_dir``; returns their paths."""
    collected = Collected()
    for path in reports:
        collected.add(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    sections = [summary_table(collected)]
    for step in sorted(collected.steps):
        plot = step_plot(step, collected.steps[step])
        if plot is not None:
            sections.append(plot)
    written = []
    for content in sections:
        target = out_dir / f"{content['id']}_mqc.yaml"
        target.write_text(json.dumps(content, indent=1, sort_keys=False) + "\n")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genoscrub.multiqc", description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--out", type=Path, required=True, help="folder for the *_mqc.yaml files (created)")
    parser.add_argument("reports", nargs="+", type=Path, help="per-sample report JSONs and genoscrub-audit --report JSONs")
    options = parser.parse_args(argv)
    try:
        written = write_custom_content(options.reports, options.out)
    except ValueError as error:
        print(f"genoscrub.multiqc: {error}", file=sys.stderr)
        return 1
    print(f"genoscrub.multiqc: {len(written)} files in {options.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
