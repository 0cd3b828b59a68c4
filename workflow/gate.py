"""The cohort workflow's final gate: audit a sample's outputs, deliver them only if nothing is found.

Called by the rule `gate` (workflow/rules/gate.smk) as ``python workflow/gate.py --spec JSON``.
The data rules write a sample's BAMs, VCFs and FASTQs to ``work/<p>/staged/``; this step

1. builds the sample's forbid list privately, beside the linkage table (mode 0600): the
   originals of its linkage fragments (the sheet's sample ID, the read group, library and
   VCF sample IDs the commands replaced), the paths and names of its input files (read from
   the links the workflow made to them at parse time: no job names them on its command
   line), then the whole cohort's (``<linkage>.forbid/cohort.txt``, below), and the site's own
   lists (config ``audit_forbid``);
2. runs ``genoscrub-audit`` on every staged output with the checks the config implies
   (germline list and reference for the BAMs, population for the VCFs, region lists), one
   run per set of checks, and merges the reports;
3. links the outputs into ``results/<p>/`` and writes the sample report and the audit report
   beside them when the verdict is pass; otherwise exits 1 with one line naming the sample by
   its pseudonym and each class found, by count, and leaves the outputs in
   ``work/<p>/staged/``, undelivered (the audit's report in ``work/<p>/audit.failed.json``).
   The delivered reports keep only allowlisted counts and settings (``reports.delivered_report``,
   :func:`delivered_audit`): most counts of the steps describe the person's genotype. The full
   ones are the site's: ``work/<p>/<p>.report.json`` (written whatever the verdict) and
   ``work/<p>/<p>.audit.json``, mode 0600.

Before any of it, the sample's BAMs were checked against the sheet's pairing (workflow/pairing.py:
one @RG sample, the germline VCF's alleles in the reads): a sample whose verdicts are not all
``pass`` or ``unchecked`` is refused here too, whether or not it is audited.

The cohort's list (``<linkage>.forbid/cohort.txt``, written by the Snakefile when it reads
the sheet: ``cohort_list_text``) holds every sample ID of the sheet and every input path as
the sheet writes it and as it resolves (a symlink's name and its target's). A VCF that names
another patient of the cohort (``INFO/MOTHER=S2301388``, a family's second sample column)
then fails its sample, as its own ID would.

A script, not a ``run:`` block (a whole Snakemake process per job). Nothing here prints a value
read from the files or the forbid list: messages name pseudonyms, classes and counts.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

try:
    from reports import delivered_report, owner_only, sample_report, write_private
except ModuleNotFoundError:  # loaded by file path (tests): the script's folder is not on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from reports import delivered_report, owner_only, sample_report, write_private

CLASSES = ("forbidden", "metadata", "germline", "population", "regions")
MIN_LENGTH = 3  # genoscrub-audit refuses shorter strings: they occur everywhere by chance
PLAIN_WORD = re.compile(r"[A-Za-z]+")
COMPRESSION = (".gz", ".bgz", ".bz2", ".xz", ".zst")
FORMATS = (".bam", ".cram", ".sam", ".bai", ".csi", ".crai", ".vcf", ".bcf", ".tbi", ".fastq", ".fq")
READ_NUMBER = re.compile(r"([._-](R?[12])(_001)?)$")
SAMPLE_NUMBER = re.compile(r"_S[0-9]+(?:_L[0-9]{3})?$|_L[0-9]{3}$")
"""What bcl2fastq and BCL Convert put after the sample name, before the read number
(``Kim_Jihoon_S1_L001_R1_001.fastq.gz``): the sample number and the lane."""
PUBLIC_FOLDERS = frozenset({
    "grch37", "grch38", "hg18", "hg19", "hg38", "b36", "b37", "hs37d5", "hs38dh", "chm13", "t2t-chm13", "chm13v2",
})  # fmt: skip
"""Folder names that are builds of the reference: the outputs' headers hold them (``AS:GRCh38``)."""
BARE_READ_NUMBER = re.compile(r"R?[12](_001)?", re.IGNORECASE)
INDEXES = (".bai", ".csi", ".crai", ".tbi")
SCOPE_SEPARATOR = "@"  # genoscrub.pseudonyms.SCOPE_SEPARATOR (this script loads no genoscrub module; a test compares them)


def without_extensions(name: str) -> str:
    """A file name without its format and compression extensions (``x.vcf.gz`` -> ``x``)."""
    stem = name
    changed = True
    while changed:
        changed = False
        for suffix in COMPRESSION + FORMATS:
            if stem.lower().endswith(suffix) and len(stem) > len(suffix):
                stem = stem[: -len(suffix)]
                changed = True
    return stem


def name_variants(name: str) -> list[str]:
    """The forms a file name takes in other files: as is, without its format and compression
    extensions, before its first dot, without a read number (``_R1``, ``_2``, ``_R1_001``), and
    then without an Illumina sample number and lane (``_S1_L001``: the sample name alone)."""
    stem = without_extensions(name)
    forms = [name, stem, stem.split(".")[0]]
    forms += [READ_NUMBER.sub("", form) for form in forms]
    forms += [SAMPLE_NUMBER.sub("", form) for form in forms]
    return list(dict.fromkeys(forms))


PLATE_WELL = re.compile(r"[A-Pa-p][0-9]{1,2}")
"""A well of a 96- or 384-well plate (``C10``, ``P24``): where a lab stores a sample, never who it is."""
SHORT_HEX = re.compile(r"[0-9A-Fa-f]{3,4}")
"""A hex word of three or four digits (``b44``, ``3f2a``): a run's or a box's label."""


def identifying_folder(text: str) -> bool:
    """Whether a folder's name goes on the forbid list: as a file name does (:func:`identifying`),
    but not a number of fewer than seven digits (a year, a run: every VCF's numbers hold them),
    a build's name (:data:`PUBLIC_FOLDERS`), a plate well (:data:`PLATE_WELL`) nor a hex word
    of three or four digits (:data:`SHORT_HEX`). Every folder of an input's path is one: a
    patient's folder often lies above the run's (``/data/KIMJH0042/wgs/x.bam``). The delivered
    files spell the well and hex words by chance: ``C10`` is an MD tag's C mismatch before 10
    matches, and a 3-digit hex word sits in one ``@SQ M5`` of 140 (a GRCh38 header of 195 would
    fail ~3 BAMs of 4), so a sample stored as ``plate3/C10/normal.bam`` was held back clean."""
    return (
        identifying(text)
        and not (text.isdigit() and len(text) < 7)
        and text.lower() not in PUBLIC_FOLDERS
        and not PLATE_WELL.fullmatch(text)
        and not SHORT_HEX.fullmatch(text)
    )


# Labels a lab gives a sample or a read group that name no one and that the outputs' own
# headers hold (descriptions, program names): forbidding them would fail every sample.
STOCK_WORDS = frozenset({
    "tumour", "tumor", "normal", "germline", "somatic", "sample", "samples", "unknown", "none", "null",
    "control", "case", "blood", "tissue", "reads", "library", "genoscrub", "samtools", "bcftools",
})  # fmt: skip


def identifying(text: str) -> bool:
    """Whether a string derived from a file name can go on the forbid list: three characters
    at least, and not a plain word (``tumour``, ``normal``, ``germline``, ``data``: folder and
    file names are full of them and the outputs' own header descriptions hold such words, so
    the gate would fail every sample), nor a stock label or a read number with extensions
    (``tumour.bam``, ``normal_R1.fastq.gz``, ``R1.fastq.gz``): genoscrub-audit searches the
    delivered files' own names, and the outputs are named ``<pseudonym>.tumour.bam``."""
    if len(text) < MIN_LENGTH or PLAIN_WORD.fullmatch(text):
        return False
    stem = without_extensions(text)
    stem = "" if BARE_READ_NUMBER.fullmatch(stem) else READ_NUMBER.sub("", stem)
    return stem != "" and stem.lower() not in STOCK_WORDS


def identifying_original(text: str) -> bool:
    """Whether an ID the commands replaced goes on the forbid list: three characters at least
    and not a stock label (:data:`STOCK_WORDS`). A plain word stays on it: an ``SM`` written
    ``KimJiHoon`` is a name, and a gate that fails on a rare word is the safe side."""
    return len(text) >= MIN_LENGTH and text.lower() not in STOCK_WORDS


def forbid_strings(
    originals: Iterable[str], input_paths: Iterable[str], extra_lines: Iterable[str], cohort: Iterable[str] = ()
) -> list[str]:
    """The forbid list of one sample, in a fixed order, each string once (whatever its case).

    ``originals``: IDs the commands replaced (linkage fragments), kept unless shorter than
    three characters or a stock label; ``input_paths``: the sample's input files (absolute),
    as the full path, each of its folders' names (:func:`identifying_folder`) and the file's
    name in :func:`name_variants` forms;
    ``cohort``: the cohort's list (:func:`cohort_forbid_strings`, chosen by these rules already),
    after the sample's own, so a finding of the sample's own ID names the same list line as
    before; ``extra_lines``: the site's own lists, kept as they are (blank lines, strings under
    three characters and strings holding a NUL byte skipped, which genoscrub-audit would refuse)."""
    chosen: dict[str, str] = {}

    def add(text: str, rule: Callable[[str], bool] | None = identifying) -> None:
        text = text.strip()
        if len(text) >= MIN_LENGTH and "\0" not in text and (rule is None or rule(text)):
            chosen.setdefault(text.lower(), text)

    for original in originals:
        add(original, identifying_original)
    for path in input_paths:
        add(path)
        pure = Path(path)
        for folder in pure.parents:
            add(folder.name, identifying_folder)
        for form in name_variants(pure.name):
            add(form)
    for text in cohort:
        add(text, None)
    for line in extra_lines:
        add(line, None)
    return list(chosen.values())


class SiteListError(ValueError):
    """A site's forbid list that cannot be read line by line as text (said without its content)."""


def site_list_lines(path: Path) -> list[str]:
    """The lines of a site's own forbid list (``audit_forbid``), read as UTF-8 with or without the
    byte-order mark Windows editors write first (``\\ufeff``, which would else be part of the first
    string, so that string would never match). A list it cannot read so is refused, never read in
    part: UTF-16 (Notepad's "Unicode", PowerShell's ``>``), whose every line holds NUL bytes and
    was skipped whole, or bytes that are no UTF-8."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\0" in data:
        raise SiteListError("is UTF-16 or holds NUL bytes: save it as UTF-8 text, one string a line")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SiteListError("is not UTF-8 text: save it as UTF-8, one string a line") from None
    return text.splitlines()


def cohort_forbid_strings(sheet_inputs: dict[str, list[str]]) -> list[str]:
    """The forbid list of the whole cohort, shared by every sample's: every sample ID of the sheet
    and every input path (as written in the sheet, as joined to the sheet's folder, and resolved;
    indexes too), by the rules of :func:`forbid_strings`. Known when the workflow parses the sheet,
    so no sample's gate waits for another sample's jobs; the IDs only another sample's files hold
    (its read groups, its VCF's sample names) are in that sample's own list, and most hold the
    sheet's ID (``S2301388N_20231029`` holds ``S2301388``), which the audit finds inside them."""
    return forbid_strings(sheet_inputs.get("ids", []), sheet_inputs.get("paths", []), [])


def cohort_list_text(sheet_inputs: dict[str, list[str]]) -> str:
    """The cohort's list as its file holds it, one string a line."""
    return "".join(f"{text}\n" for text in cohort_forbid_strings(sheet_inputs))


def fragment_originals(paths: Iterable[Path]) -> list[str]:
    """The original column of the commands' --map-out fragments (original<TAB>pseudonym), and
    what comes before each ``@`` in it: a read group's ID or library is written ``ID@S...``
    (scoped to its sample's pseudonym, ``Pseudonyms.for_sample_member``), and the ID alone is
    what could leak. The pseudonym after the ``@`` is never listed: the delivery holds it."""
    originals = [line.split("\t", 1)[0] for path in paths for line in path.read_text(encoding="utf-8").splitlines() if "\t" in line]
    return [part for original in originals for part in [original, *member_ids(original)]]


def member_ids(original: str) -> list[str]:
    """What comes before each ``@`` of an original (``HK2VMDSXY.2@S3F...`` -> ``HK2VMDSXY.2``);
    an ID holding an ``@`` itself gives its pieces too, which only makes the list stricter."""
    pieces = original.split(SCOPE_SEPARATOR)
    return [SCOPE_SEPARATOR.join(pieces[:end]) for end in range(1, len(pieces))]


def staged_input_paths(folder: Path) -> list[str]:
    """Where the links made at parse time point: the sample's input files and their indexes."""
    return sorted(os.readlink(link) for link in folder.iterdir() if link.is_symlink()) if folder.is_dir() else []


# --- audit runs and their reports -----------------------------------------------------------


def own_message(stderr: bytes, prefix: str) -> str | None:
    """The last line of ``stderr`` that a genoscrub command wrote (``genoscrub-audit: FILE:LINE:
    what``, never a value), or None. The audit reads the sample's raw germline VCF, and htslib's
    warnings about it quote the input (``[W::vcf_parse] Contig 'chrKIMJIHOON' is not defined``):
    such a line is never repeated."""
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.startswith(prefix)]
    return lines[-1].strip() if lines else None


class GateError(Exception):
    """The audit could not check the outputs (bad input, bad usage): not a verdict."""


def run_audit(
    command: str, forbid: Path | None, options: list[str], files: list[str], threads: int, report: Path, log: Path
) -> dict[str, Any]:
    """One genoscrub-audit run; its report, whatever the verdict. Its per-class lines go to the
    log (they name the staged files, classes, field names and positions, never a value)."""
    arguments = [command, "--report", str(report), "-j", str(threads)]
    arguments += ["--forbid", str(forbid)] if forbid is not None else []
    report.unlink(missing_ok=True)
    with open(log, "ab") as out:
        try:
            result = subprocess.run([*arguments, *options, *files], stdout=out, stderr=subprocess.PIPE)
        except OSError as error:
            raise GateError(f"cannot start genoscrub-audit ({error.strerror}; is `bin` in the config right?)") from None
    if result.returncode not in (0, 1) or not report.is_file():
        raise GateError(own_message(result.stderr, "genoscrub-audit:") or f"genoscrub-audit exited with status {result.returncode}")
    data: dict[str, Any] = json.loads(report.read_text())
    report.unlink()
    return data


DELIVERED_AUDIT_SETTINGS = {
    "germline_in_vcf", "germline_markers", "population", "population_missing", "af_key", "min_af", "max_samples",
    "presets", "beds", "flank", "only_tags", "forbid_contigs", "all_below_mapq",
}  # fmt: skip
"""The settings of an audit run the delivered audit report keeps (an allowlist): what was checked
and how. Not ``germline_records`` (the size of the patient's germline list: how many germline
variants the person has) nor ``forbid_strings`` (how many identifiers and paths the site holds)."""


DELIVERED_FILE_KEYS = ("file", "format", "records", "verdict", "findings")
"""What the delivered report keeps of each file's entry (an allowlist). Not ``keyed_names``: the
forbid list's line numbers whose strings turned up in keyed read names within chance, with their
hit counts and expected counts, which tell how long each listed string is and which are digits (a
4-digit patient number narrowed to a few hundred), for every patient of the cohort."""
DELIVERED_FINDING_KEYS = ("checked", "count", "reason")
"""...and of each class of findings: whether it was checked, how many, why not (never examples)."""


def delivered_audit(report: dict[str, Any]) -> dict[str, Any]:
    """The merged audit report as delivered: each run's settings cut to :data:`DELIVERED_AUDIT_SETTINGS`,
    each file's entry to :data:`DELIVERED_FILE_KEYS` and its findings to :data:`DELIVERED_FINDING_KEYS`;
    the verdicts, the findings per class and each file's record count (the file's own) stay."""
    runs = [
        {**run, "settings": {key: value for key, value in run.get("settings", {}).items() if key in DELIVERED_AUDIT_SETTINGS}}
        for run in report.get("runs", [])
    ]
    files = [
        {key: entry[key] for key in DELIVERED_FILE_KEYS if key in entry}
        | {
            "findings": {
                name: {key: found[key] for key in DELIVERED_FINDING_KEYS if key in found}
                for name, found in entry.get("findings", {}).items()
            }
        }
        for entry in report.get("files", [])
    ]
    return {**report, "runs": runs, "files": files}


def merge_audits(sample: str, runs: list[tuple[dict[str, Any], dict[str, str]]]) -> dict[str, Any]:
    """One report over the runs: every file once, counts summed, each run's settings kept.
    Each run comes with why the workflow left a class unchecked in its files ({class: why}),
    which replaces the audit's own reason (``no --population``)."""
    files = []
    for data, reasons in runs:
        for entry in data.get("files", []):
            for name, why in reasons.items():
                found = entry["findings"].get(name, {})
                if not found.get("checked") and str(found.get("reason", "")).startswith("no --"):  # an option not given, not "not a VCF"
                    found["reason"] = why
            files.append({**entry, "file": Path(entry["file"]).name})  # delivered: the staged path names the site's work folder
    counts = {name: sum(int(entry["findings"][name]["count"]) for entry in files) for name in CLASSES}
    return {
        "command": "genoscrub-audit",
        "version": runs[0][0].get("version") if runs else None,
        "sample": sample,
        "verdict": "fail" if any(entry["verdict"] == "fail" for entry in files) else "pass",
        "counts": counts,
        "runs": [
            {"files": [Path(entry["file"]).name for entry in data.get("files", [])], "settings": data.get("settings", {})}
            for data, _ in runs
        ],
        "files": files,
    }


def failure_line(report: dict[str, Any]) -> str:
    """``sample P held back: genoscrub-audit found forbidden 3 (P.germline.vcf.gz 3), ...``: classes by count."""
    parts = []
    for name in CLASSES:
        per_file = [(Path(entry["file"]).name, int(entry["findings"][name]["count"])) for entry in report["files"]]
        found = [(file, count) for file, count in per_file if count]
        if found:
            where = ", ".join(f"{file} {count}" for file, count in found)
            parts.append(f"{name} {sum(count for _, count in found)} ({where})")
    return f"sample {report['sample']} held back: genoscrub-audit found {'; '.join(parts)}"


# --- the sheet's pairing -------------------------------------------------------------------

PAIRING_PASSED = ("pass", "unchecked")
"""workflow/pairing.py's verdicts that let a sample on (``unchecked``: a germline VCF with too few
homozygous ALT SNVs to tell, said in the log); a verdict file missing or unread is a fail."""


def pairing_refusal(paths: Iterable[str]) -> str | None:
    """Why the sample is refused by the check of its BAMs' pairing (one @RG sample, the germline
    VCF's alleles in the reads), or None. The rule runs before any part of a BAM and stops the
    sample when it fails; the gate holds the delivery to its verdicts as well."""
    for path in paths:
        kind = Path(path).name.split(".")[0]
        try:
            verdict = json.loads(Path(path).read_text(encoding="utf-8")).get("verdict")
        except (OSError, ValueError, AttributeError):
            verdict = None
        if verdict not in PAIRING_PASSED:
            return f"the check that its {kind} BAM is one person, the germline VCF's, did not pass (workflow/pairing.py)"
    return None


# --- delivery -------------------------------------------------------------------------------


def deliver(pairs: list[tuple[Path, Path]]) -> None:
    """Link each staged output to its place under results/ (a copy across file systems), data
    files before their indexes, each 0600 in a 0700 folder whatever the umask made it (no other
    account reads, and none swaps an audited file: :func:`reports.owner_only`), each touched as
    it lands: an index never older than its data,
    and no output older than the gate's inputs (Snakemake would rerun it). SIGTERM, SIGHUP and
    SIGINT are held until all have landed, so a stopped job never leaves a hidden copy behind."""
    ordered = sorted(pairs, key=lambda pair: str(pair[1]).endswith(INDEXES))
    with stops_held():
        for staged, target in ordered:
            target.parent.mkdir(parents=True, exist_ok=True)
            for folder in (target.parent.parent, target.parent):
                owner_only(folder)
            temporary = target.with_name(f".{target.name}.{os.getpid()}")
            temporary.unlink(missing_ok=True)
            try:
                try:
                    os.link(staged, temporary)
                except OSError:
                    shutil.copyfile(staged, temporary)
                owner_only(temporary)  # a hard link: the staged file's mode, whatever umask made it
                os.replace(temporary, target)
            finally:
                temporary.unlink(missing_ok=True)  # a failed copy leaves no hidden file under results/
            os.utime(target)


@contextlib.contextmanager
def stops_held() -> Iterator[None]:
    """SIGTERM, SIGHUP and SIGINT noted while the block runs, and raised again once it is done."""
    received: list[int] = []
    stops = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
    previous = {stop: signal.signal(stop, lambda signum, frame: received.append(signum)) for stop in stops}
    try:
        yield
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)
        if received:
            signal.raise_signal(received[0])


def audit_outputs(sample: str, audit: dict[str, Any], staged_folder: Path) -> dict[str, Any] | None:
    """Build the forbid list, run the audits, merge their reports: the report when the verdict is
    pass; None (and one line on stderr) when anything was found or the audit could not check."""
    forbid = Path(audit["forbid_list"])
    extra = [line for path in audit["extra_forbid"] for line in site_list_lines(Path(path))]
    cohort = Path(audit["cohort_forbid"]).read_text(encoding="utf-8").splitlines() if audit.get("cohort_forbid") else []
    strings = forbid_strings(
        fragment_originals(Path(path) for path in audit["fragments"]), staged_input_paths(Path(audit["inputs"])), extra, cohort
    )
    forbid.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_private(forbid, "".join(f"{text}\n" for text in strings))
    log = Path(audit["log"])
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(b"")
    failed = Path(audit["failed_report"])
    failed.unlink(missing_ok=True)
    scratch = failed.with_name("audit.run.json")
    try:
        runs = [
            (
                run_audit(audit["command"], forbid if strings else None, run["options"], run["files"], audit["threads"], scratch, log),
                run.get("reasons", {}),
            )
            for run in audit["runs"]
        ]
    except GateError as error:
        print(f"genoscrub workflow: sample {sample}: genoscrub-audit could not check its outputs: {error}", file=sys.stderr)
        return None
    report = merge_audits(sample, runs)
    if report["verdict"] == "pass":
        return report
    failed.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"genoscrub workflow: {failure_line(report)}. Not delivered: its outputs stay in {staged_folder}/;"
        f" the audit's report is {failed}, its lines {log}, its forbid list {forbid}",
        file=sys.stderr,
    )
    return None


def gate(spec: dict[str, Any]) -> int:
    """Audit (unless the spec has none), then deliver the outputs, the sample report and the audit's."""
    sample = spec["sample"]
    pairs = [(Path(staged), Path(target)) for staged, target in spec["deliver"]]
    report = None
    summary = spec["sample_report"]
    files = {name: [(step, path) for step, path in steps] for name, steps in summary["files"].items()}
    full = sample_report(sample, files, summary["settings"])
    if summary.get("private"):  # the site's, every count, whatever the verdict (work/ is 0700)
        write_private(Path(summary["private"]), json.dumps(full, indent=2) + "\n")
    refusal = pairing_refusal(spec.get("pairing", []))
    if refusal:
        print(f"genoscrub workflow: sample {sample} held back: {refusal}. Not delivered", file=sys.stderr)
        return 1
    if spec.get("audit"):
        report = audit_outputs(sample, spec["audit"], pairs[0][0].parent if pairs else Path("."))
        if report is None:
            return 1
        if spec["audit"].get("private_report"):
            write_private(Path(spec["audit"]["private_report"]), json.dumps(report, indent=2) + "\n")
    deliver(pairs)
    target = Path(summary["out"])
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_private(target, json.dumps(delivered_report(full), indent=2) + "\n")
    if report is not None:
        write_private(Path(spec["audit"]["report"]), json.dumps(delivered_audit(report), indent=2) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gate.py", description="audit a sample's outputs and deliver them if nothing is found")
    parser.add_argument(
        "--spec",
        required=True,
        help='JSON: {"sample", "deliver": [[staged, target], ...], "sample_report": {"out", "files", "settings"}, '
        '"audit": null or {"command", "threads", "forbid_list", "fragments", "inputs", "cohort_forbid" (optional), '
        '"extra_forbid", "runs": [{"options", "files", "reasons"}], "log", "report", "failed_report"}, '
        '"pairing": [workflow/pairing.py verdict files, optional]}',
    )
    options = parser.parse_args(argv)
    return gate(json.loads(options.spec))


if __name__ == "__main__":
    raise SystemExit(main())
