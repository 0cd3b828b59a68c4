"""The cohort workflow's bookkeeping steps: linkage table, per-sample report, cohort summary,
MultiQC, and the guard on the stderr of the tools that read the raw inputs.

Called by the rules of workflow/rules/report.smk as ``python workflow/reports.py STEP ...``
(``stderr-count`` by the data rules, rules/bam.smk and rules/vcf.smk). A script and not
``run:`` blocks: Snakemake starts a whole new Snakemake process (about two CPU seconds, most of
a small sample's fixed cost) for every ``run:`` job, and runs a shell job itself. The functions
are pure over file contents and tested without Snakemake (tests/test_workflow.py,
tests/test_workflow_delivery.py). Nothing here prints a value read from the files: errors name
what is wrong, never an ID.
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
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


# What the delivered sample report keeps of each step's report: an allowlist, so a count a
# command adds later stays private until it is judged here. Most counts describe the person:
# how many rare, private or listed germline variants vcf-drop-rare removed, how many variants
# lay in the masked regions, how many bases and reads the germline reversion changed or dropped
# (on a gene panel, carrier status the delivered VCF no longer shows). Even a step's records in
# is one: in minus out is what it dropped. So the recipient gets what a file shows itself (its
# record count, from the file's last step only; its read groups and sample columns), whether
# each step ran with which settings, and the gate's verdict. The full reports stay in work/
# (gate.py writes work/<p>/<p>.report.json, the cohort_summary rule work/cohort_summary.tsv).
DELIVERED_COUNTS = {
    "sam-scrub-rg": {"read_groups"},  # the delivered header's @RG lines
    "vcf-scrub-header": {"samples_renamed"},  # the delivered VCF's sample columns
}
OUTPUT_COUNTS = {
    "gather": "records_written",
    "vcf-drop-rare": "kept",
    "vcf-drop-regions": "records_out",
    "fastq-scrub-names": "records",
    "fastq-from-reverted-bam": "reads_written",
}
"""A step's records out: the delivered file's own record count, delivered when the step is the
file's last (before a later step that drops records, out minus the later out is that drop)."""
DELIVERED_FIELDS = {
    "parts",
    "version",
    "scheme",
    "mode",
    "min_af",
    "af_key",
    "genome_check",
    "germline_genome_check",
    "regions",
    "flank",
    "md_nm",
    "gathered_by",
    "indexed_by",
}
"""Fields of a step's report that are settings or how it ran, never counts of the person's data
(not ``germline_records``, ``germline_alleles``: the size of the patient's germline list)."""
PRIVATE_NOTE = "counts that describe the person's genotype are not delivered; the site keeps them in its work folder"


def delivered_report(full: dict[str, Any]) -> dict[str, Any]:
    """The delivered form of a sample report (:func:`sample_report`): per file and step only the
    allowlisted fields and counts (:data:`DELIVERED_COUNTS`, :data:`OUTPUT_COUNTS`,
    :data:`DELIVERED_FIELDS`); a step is listed, so it ran. Fail closed: an unknown step keeps
    its settings fields and no count."""
    files: dict[str, dict[str, Any]] = {}
    for name, steps in full["files"].items():
        last = list(steps)[-1] if steps else None
        files[name] = {}
        for step, data in steps.items():
            allowed = DELIVERED_COUNTS.get(step, set()) | ({OUTPUT_COUNTS[step]} if step == last and step in OUTPUT_COUNTS else set())
            kept = {key: value for key, value in data.items() if key in DELIVERED_FIELDS}
            kept["counts"] = {key: value for key, value in data.get("counts", {}).items() if key in allowed}
            files[name][step] = kept
    return {"sample": full["sample"], "files": files, "settings": full["settings"], "counts_delivered": PRIVATE_NOTE}


def summary_rows(reports: list[dict[str, Any]]) -> list[str]:
    """One TSV row per sample, file, step and count, under a header row; samples sorted by their
    pseudonym, never in the sheet's order (a sheet sorted by registration number or enrolment
    date would give the order of the IDs behind the pseudonyms)."""
    rows = ["sample\tfile\tstep\tcount\tvalue"]
    for report in sorted(reports, key=lambda report: str(report["sample"])):
        for name, steps in report["files"].items():
            for step, data in steps.items():
                rows += [f"{report['sample']}\t{name}\t{step}\t{key}\t{value}" for key, value in sorted(data["counts"].items())]
    return rows


class LinkageError(ValueError):
    """The fragments disagree: a table that is not one-to-one links the wrong people."""


def linkage_rows(fragments: list[str]) -> list[tuple[str, str]]:
    """The union of the commands' --map-out fragments, sorted, checked one-to-one. The rows of
    earlier deliveries come first (:func:`linkage_text` of the table as the run found it): a row
    never changes, and one a fragment would give another pseudonym stops the merge."""
    rows: dict[str, str] = {}
    for text in fragments:
        for line in text.splitlines():
            original, pseudonym = line.split("\t")
            if rows.setdefault(original, pseudonym) != pseudonym:
                raise LinkageError("an original got two pseudonyms (map and key disagree?)")
    if len(set(rows.values())) != len(rows):
        raise LinkageError("two originals share a pseudonym; refusing to write the linkage table")
    return sorted(rows.items())


def linkage_text(rows: list[tuple[str, str]]) -> str:
    """The linkage table as it is written: one ``original<TAB>pseudonym`` line a row."""
    return "".join(f"{original}\t{pseudonym}\n" for original, pseudonym in rows)


def linkage_disagreements(table: bytes, pseudonym_of: Callable[[str], str]) -> tuple[int, int]:
    """(rows whose pseudonym ``pseudonym_of`` no longer gives, rows) of an existing linkage
    table or fragment. Every row is one a command's --map-out wrote for an ID (read names are
    never in it), so the key and map the table was written with give each row again: a row that
    differs means another key or map, and a run with it would deliver the same person under a
    second pseudonym and write a table without the first. A row is read as the commands write
    it, bytes (an ID that is not UTF-8 keeps its bytes, as ``Pseudonyms.for_id_bytes`` reads it)."""
    rows = differ = 0
    for number, line in enumerate(table.split(b"\n"), start=1):
        if not line:
            continue
        fields = line.split(b"\t")
        if len(fields) != 2:
            raise LinkageError(f"line {number} of the linkage table is not original<TAB>pseudonym")
        original, pseudonym = (field.decode("utf-8", "surrogateescape") for field in fields)
        rows += 1
        differ += pseudonym_of(original) != pseudonym
    return differ, rows


def write_private(path: Path, text: str) -> None:
    """Write ``path`` mode 0600, atomically: a reader sees the old table or the new one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


OPEN_BITS = 0o077  # group and others


def owner_only(path: Path) -> None:
    """Close ``path`` to group and others (0600 a file, 0700 a folder, read-only kept), whatever
    the umask made it: results/ holds a person's genome under a pseudonym (with `fastq: rename`
    every germline allele), which no other account of a shared file system may read; the site
    opens it for the transfer only (README, *Pseudonymizing a cohort*)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & OPEN_BITS:
        path.chmod(mode & ~OPEN_BITS)


def owner_only_tree(folder: Path) -> None:
    """:func:`owner_only` on ``folder`` and everything under it (symlinks are not followed)."""
    owner_only(folder)
    for path in folder.rglob("*"):
        if not path.is_symlink():
            owner_only(path)


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


MULTIQC_SETTINGS = (
    "{show_analysis_paths: false, show_analysis_time: false, title: null, subtitle: null, intro_text: null, report_comment: null,"
    " report_header_info: null, custom_logo: null, custom_logo_dark: null, custom_logo_url: null, custom_logo_title: null}"
)
"""Its report's "based on data in" (every input's absolute path) and "generated on" (the minute) off, and the free text a lab's own
MultiQC settings put in every report (a comment, header lines, a title, a logo: a host, a user, a
patient's folder) none: read after every config file MultiQC finds, so they win."""
MULTIQC_LOG = Path("multiqc_data") / "multiqc.log"  # its working folder, each search path, its command line
MULTIQC_DATA = Path("multiqc_data") / "multiqc_data.json"
MULTIQC_PARQUET = Path("multiqc_data") / "multiqc.parquet"  # a creation time on every row: not delivered
MULTIQC_REPORT = Path("multiqc_report.html")
CREATION_DATE = re.compile(r'configCreationDate = "[^"]*"')
COMPRESSED_PLOT_DATA = re.compile(r'(<script type="text/plain" id="mqc_compressed_plotdata">)([A-Za-z0-9+/=]*)(</script>)')


def write_multiqc(out: Path, reports: list[Path], program: str | None) -> None:
    """MultiQC custom content (genoscrub.multiqc) from the sample and audit reports into ``out``;
    with ``program``, MultiQC's own report of that content beside it (multiqc_report.html,
    multiqc_data/). Only the content files are given to MultiQC: not the BAMs beside them.

    MultiQC writes where it ran and what it read into its report: the analysis paths into the
    HTML, the working folder and search paths into multiqc.log, the output folder, the inputs'
    absolute paths, the program's path and its installation folder into multiqc_data.json. A
    folder of the analysis server is metadata of the delivery (a name, a user, a project), so
    MultiQC runs inside ``out`` on the content files' names, without the analysis paths in its
    HTML; its log is not delivered, and multiqc_data.json is written back without those paths
    (:func:`without_site_paths`). Then no delivered file may hold the folder ``out`` lies in.

    MultiQC also dates what it writes, to the minute (``report_creation_date``, the report's
    header and the date its AI prompts quote, the time in the gzip header of its plot data, a
    creation time on every row of ``multiqc.parquet``), which ``tar --mtime=@0`` does not remove
    and which dates the samples (README, *When it was made*). So the header's date is off
    (``show_analysis_time``), the others are blanked (:func:`undated_report`, ``report_creation_date``
    empty), the parquet table is not delivered, and no delivered file may hold the day it ran."""
    load_genoscrub()
    from genoscrub.multiqc import write_custom_content

    written = write_custom_content(reports, out)
    if program is None:
        return
    command = [program, "--quiet", "--force", "--no-version-check", "--cl-config", MULTIQC_SETTINGS, "--outdir", "."]
    days = run_days(datetime.now().astimezone())
    with tempfile.TemporaryDirectory(prefix="genoscrub-multiqc.") as home:
        result = subprocess.run(
            [*command, *(path.name for path in written)], cwd=out, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=neutral_environment(home),
        )  # fmt: skip
    if result.returncode != 0:
        lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SystemExit(f"genoscrub workflow: multiqc failed (status {result.returncode}): {lines[-1] if lines else ''}")
    (out / MULTIQC_LOG).unlink(missing_ok=True)
    (out / MULTIQC_PARQUET).unlink(missing_ok=True)
    data = out / MULTIQC_DATA
    if data.is_file():
        clean = without_site_paths(json.loads(data.read_text()), out.resolve(), program)
        data.write_text(json.dumps(clean | ({"report_creation_date": ""} if "report_creation_date" in clean else {}), indent=4) + "\n")
    report = out / MULTIQC_REPORT
    if report.is_file():
        report.write_text(undated_report(report.read_text(encoding="utf-8")), encoding="utf-8")
    found = files_naming(out, [out.resolve().parent, Path.cwd().resolve()])
    if found:
        raise SystemExit(f"genoscrub workflow: multiqc wrote a folder of this machine into {found[0]}; not delivered")
    dated = files_holding(out, days | run_days(datetime.now().astimezone()))
    if dated:
        raise SystemExit(f"genoscrub workflow: multiqc wrote the day it ran into {dated[0]}; not delivered")
    owner_only_tree(out)


def run_days(moment: datetime) -> set[bytes]:
    """The day of ``moment`` as MultiQC writes it (``2026-12-07``, ``07 Dec 2026``), local and UTC."""
    days = (moment, moment.astimezone(timezone.utc))
    return {day.strftime(form).encode() for day in days for form in ("%Y-%m-%d", "%d %b %Y")}


def undated_report(html: str) -> str:
    """MultiQC's HTML report without the time it was made: the date its AI prompts quote
    (``configCreationDate``) blanked, and the time in the gzip header of its plot data (bytes
    4 to 7, seconds since 1970) zeroed, as ``gzip -n`` writes it; the plot data itself is the same."""

    def zeroed(match: re.Match[str]) -> str:
        data = bytearray(base64.b64decode(match.group(2)))
        if data[:2] == b"\x1f\x8b":
            data[4:8] = bytes(4)
        return match.group(1) + base64.b64encode(bytes(data)).decode("ascii") + match.group(3)

    return COMPRESSED_PLOT_DATA.sub(zeroed, CREATION_DATE.sub('configCreationDate = ""', html))


def neutral_environment(home: str) -> dict[str, str]:
    """This process's environment for MultiQC without the lab's own MultiQC settings: an empty home
    and config folder (``~/.multiqc_config.yaml``, ``$XDG_CONFIG_HOME/multiqc_config.yaml``) and no
    ``MULTIQC_*`` variable (``MULTIQC_CONFIG_PATH``, or a setting of its own such as
    ``MULTIQC_REPORT_COMMENT``), which would put their text into every delivered report."""
    environment = {name: value for name, value in os.environ.items() if not name.upper().startswith("MULTIQC")}
    return environment | {"HOME": home, "XDG_CONFIG_HOME": home}


def without_site_paths(data: Any, folder: Path, program: str) -> Any:
    """multiqc_data.json as MultiQC wrote it in ``folder``, without a path of this machine: the
    output folder as ``.``, the inputs by name, the program and its installation as ``multiqc``
    (``config_output_dir``, ``config_analysis_dir[_abs]``, ``config_script_path``,
    ``report_multiqc_command``); then every other string with the same paths replaced."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    replacements = [(program, "multiqc"), (f"{folder}/", ""), (str(folder), ".")]
    script = data.get("config_script_path")
    if isinstance(script, str) and script:
        replacements.insert(0, (script, "multiqc"))
        data["config_script_path"] = "multiqc"
    if "config_output_dir" in data:
        data["config_output_dir"] = "."
    for key in ("config_analysis_dir", "config_analysis_dir_abs"):
        value = data.get(key)
        if isinstance(value, list):
            data[key] = [Path(path).name if isinstance(path, str) else path for path in value]
        elif isinstance(value, str):
            data[key] = Path(value).name

    def replaced(value: Any) -> Any:
        if isinstance(value, str):
            for path, instead in replacements:
                value = value.replace(path, instead)
            return value
        if isinstance(value, list):
            return [replaced(item) for item in value]
        if isinstance(value, dict):
            return {key: replaced(item) for key, item in value.items()}
        return value

    return replaced(data)


def files_naming(folder: Path, paths: list[Path]) -> list[str]:
    """The files under ``folder`` (as paths relative to it) whose bytes hold one of ``paths``;
    the root folder and one-component paths are left out (they are in every text)."""
    return files_holding(folder, {str(path).encode() for path in paths if len(path.parts) > 2})


def files_holding(folder: Path, needles: set[bytes]) -> list[str]:
    """The files under ``folder`` (as paths relative to it) whose bytes hold one of ``needles``."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if any(needle in data for needle in needles):
                found.append(str(path.relative_to(folder)))
    return found


def run_counting_stderr(command: list[str], name: str, log: Path, own: str | None = None) -> int:
    """Run ``command`` (stdin and stdout its own) and keep its stderr out of the job's log:
    htslib's warnings quote what they read (``[W::vcf_parse_info] INFO 'S2301217N' is not
    defined in the header``, a malformed header line whole), and the profiles show a failed
    job's log on the terminal (show-failed-logs). The log gets one line, when there was any
    stderr or the exit status is not 0: ``NAME: N lines on stderr not kept ...; exit status S``.
    Lines that start with ``own`` (the workflow's own script's messages, which name no value)
    pass as they are. Returns the command's exit status (128 + the signal when it was killed,
    as the shell reports it)."""
    try:
        process = subprocess.Popen(command, stderr=subprocess.PIPE)
    except OSError as error:
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"{name}: cannot start ({error.strerror})\n")
        return 127
    assert process.stderr is not None
    counted = 0
    own_prefix = own.encode() if own else None
    with open(log, "ab") as out:
        for line in process.stderr:
            if own_prefix is not None and line.startswith(own_prefix):
                out.write(line if line.endswith(b"\n") else line + b"\n")
            else:
                counted += 1
        status = process.wait()
        status = status if status >= 0 else 128 - status
        if counted or status:
            what = "line" if counted == 1 else "lines"
            out.write(
                f"{name}: {counted} {what} on stderr not kept (they can quote names and header lines of the input);"
                f" exit status {status}\n".encode()
            )
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reports.py", description="bookkeeping steps of the cohort workflow")
    steps = parser.add_subparsers(dest="step", required=True)
    linkage = steps.add_parser("linkage", help="merge --map-out fragments into the linkage table (0600)")
    linkage.add_argument("--out", type=Path, required=True)
    linkage.add_argument("--earlier", type=Path, help="the rows of earlier deliveries, kept whatever the sheet (absent: none)")
    linkage.add_argument("fragments", nargs="*", type=Path)
    summary = steps.add_parser("cohort-summary", help="one TSV over the sample reports")
    summary.add_argument("--out", type=Path, required=True)
    summary.add_argument("reports", nargs="*", type=Path)
    multiqc = steps.add_parser("multiqc", help="MultiQC custom content from the sample and audit reports")
    multiqc.add_argument("--out", type=Path, required=True)
    multiqc.add_argument("--run", action="store_true", help="also run the multiqc program on the content")
    multiqc.add_argument("reports", nargs="+", type=Path)
    counted = steps.add_parser("stderr-count", help="run a command reading a raw input; its stderr counted into --log, not kept")
    counted.add_argument("--name", required=True, help="the command as the log line names it (bcftools view)")
    counted.add_argument("--log", type=Path, required=True)
    counted.add_argument("--own", help="lines starting with this pass as they are (the workflow script's own messages)")
    counted.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command and its arguments")
    options = parser.parse_args(argv)
    if options.step == "stderr-count":
        command = options.command[1:] if options.command[:1] == ["--"] else options.command
        if not command:
            parser.error("stderr-count: no command after --")
        return run_counting_stderr(command, options.name, options.log, options.own)
    if options.step == "linkage":
        try:
            earlier = [options.earlier.read_text(encoding="utf-8")] if options.earlier and options.earlier.is_file() else []
            table = linkage_rows(earlier + [path.read_text(encoding="utf-8") for path in options.fragments])
        except LinkageError as error:
            raise SystemExit(f"genoscrub workflow: {error}") from None
        write_private(options.out, linkage_text(table))
    elif options.step == "multiqc":
        program = multiqc_program() if options.run else None
        if options.run and program is None:
            raise SystemExit("genoscrub workflow: multiqc: report needs the multiqc program (pip install multiqc)")
        write_multiqc(options.out, options.reports, program)
    else:
        rows = summary_rows([json.loads(path.read_text()) for path in options.reports])
        write_private(options.out, "\n".join(rows) + "\n")  # 0600: the site's in work/, and the delivered one as results/ is
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
