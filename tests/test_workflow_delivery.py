"""What the cohort workflow delivers and leaves behind, beyond the data files (workflow/Snakefile).

A privacy red-team of the workflow's delivery found: each sample's gate forbade only its own
IDs, so a VCF naming another patient of the sheet was delivered; the delivered audit report
named the staged paths (the config's work folder); MultiQC wrote the run's absolute folder into
its report, data and log; bcftools' warnings quoted the raw input's names into work/logs and,
through show-failed-logs, onto the terminal; the key, the map and the site's forbid lists were
accepted inside results/ or work/; work/ followed the umask; a group-readable map was read; a
second key silently gave the same patients second pseudonyms; and the forbid list named a
symlinked input by its target only. Each is held here.

One Snakemake run (module fixture) on two VCF-only samples, small and fast: the first sample's
germline VCF reaches the sheet through a symlink named after the patient and carries an INFO key
and a FILTER that its header does not define (bcftools warns about both, quoting them); the
second's names the first patient's sheet ID in INFO/MOTHER. The first also has a somatic VCF
holding germline alleles of its germline VCF written as somatic, some absent from the population. The run folder's name is planted too
(``KimJihoonStudy``), to find it wherever a path of the site is written. Config errors are
`snakemake -n` runs; the rest are the workflow scripts' functions, as tests/test_workflow.py
loads them.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import load_workflow_script, run_snakemake
from tools.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = ROOT / "workflow" / "Snakefile"
EXAMPLE_CONFIG = ROOT / "workflow" / "config.example.yaml"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
FIRST, SECOND = "S2301217", "S2301388"
PATIENT = "KIMJIHOON"  # planted as an undefined INFO key and in the symlink's name: only bcftools' warnings quote it
UNDEFINED_FILTER = f"LOWQ_{FIRST}N"
RUN_FOLDER = "KimJihoonStudy"  # a folder of the analysis server named after a patient
SYMLINK = f"{PATIENT}_germline.vcf"
TARGET = "germline.planted.vcf"
SOMATIC = "patient1/germline_as_somatic.vcf.gz"  # a tumour-only style call set: germline alleles written as somatic


gate = load_workflow_script("gate")
reports = load_workflow_script("reports")


def snakemake(folder: Path, *args: str, config: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """Snakemake in ``folder`` (conftest.run_snakemake: a dry run forked from a preloaded Snakemake)."""
    command = ["--snakefile", str(SNAKEFILE), "--configfile", str(EXAMPLE_CONFIG), "--cores", "2", *args]
    # a later key=value wins; the germline VCFs delivered, as the checks of them here need
    command += ["--config", f"work={folder / 'work'}", "multiqc=content", "deliver_germline_vcf=true", *(config or [])]
    return run_snakemake(command, cwd=folder)


def shown(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def vcf_text(path: Path) -> str:
    return subprocess.run(["bcftools", "view", "--no-version", str(path)], capture_output=True, text=True, check=True).stdout


def planted_first(text: str) -> str:
    """Every 5th record gains an INFO key named after the patient, every 7th an undefined FILTER."""
    lines = []
    for number, line in enumerate(text.splitlines()):
        fields = line.split("\t")
        if not line.startswith("#"):
            if number % 5 == 0:
                fields[7] += f";{PATIENT}=1"
            if number % 7 == 0:
                fields[6] = UNDEFINED_FILTER
        lines.append("\t".join(fields))
    return "\n".join(lines) + "\n"


def second_naming_the_first(text: str) -> str:
    """The same patient's calls under the second sample's IDs, every 4th record with INFO/MOTHER
    naming the first patient's sheet ID (a family's LIMS field)."""
    lines = []
    for number, line in enumerate(text.replace(FIRST, SECOND).splitlines()):
        if line.startswith("#CHROM"):
            lines.append('##INFO=<ID=MOTHER,Number=1,Type=String,Description="Sample of the mother">')
        fields = line.split("\t")
        if not line.startswith("#") and number % 4 == 0:
            fields[7] += f";MOTHER={FIRST}"
        lines.append("\t".join(fields))
    return "\n".join(lines) + "\n"


def planted_right_shifted_rare_deletion(folder: Path, patient: Path) -> int:
    """Red team 17 F3: a deletion of one base of a homopolymer (``XAAAAY``) that the population
    lists rare, left-aligned as gnomAD writes it (``POS X XA``), planted in the population, and the
    same deletion written at the run's right end (``POS+3 AA A``, as a caller that does not
    left-align writes it) planted in the somatic VCF, 300 bases or more from every other record
    and region. Returns the somatic record's POS."""
    sequence = "".join(line.strip() for line in (patient / "ref.fa").read_text().split(">chr1", 1)[1].split(">", 1)[0].splitlines()[1:])
    taken = [int(line.split("\t")[1]) for name in ("population.vcf.gz", "germline.vcf.gz", "germline_as_somatic.vcf.gz")
             for line in vcf_text(patient / name).splitlines() if line.startswith("chr1\t")]  # fmt: skip
    bed = [line.split("\t") for line in (patient / "repeats.bed").read_text().splitlines() if line.startswith("chr1\t")]
    taken += [int(edge) for fields in bed for edge in fields[1:3]]
    for found in re.finditer(r"(?=([ACGT])(A{4}|C{4}|G{4}|T{4})([ACGT]))", sequence):
        pos = found.start() + 1  # the base before the run, 1-based
        if found.group(1) != found.group(2)[0] != found.group(3) and all(abs(pos - other) > 300 for other in taken):
            break
    run = found.group(2)
    population = vcf_text(folder / "population.vcf.gz").splitlines()
    population.append(f"chr1\t{pos}\t.\t{found.group(1)}{run[0]}\t{found.group(1)}\t.\tPASS\tAF=0.00001;AF_eas=0.00001")
    lines = [line for line in population if line.startswith("#")] + sorted(
        (line for line in population if not line.startswith("#")), key=lambda line: (line.split("\t")[0], int(line.split("\t")[1]))
    )
    plain = folder / "population.vcf"
    plain.write_text("\n".join(lines) + "\n")
    subprocess.run(["bgzip", "-f", str(plain)], check=True)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(folder / "population.vcf.gz")], check=True)
    somatic = vcf_text(patient / "germline_as_somatic.vcf.gz").splitlines()
    columns = len(somatic[-1].split("\t")) - 9
    record = f"chr1\t{pos + 3}\t.\t{run[:2]}\t{run[0]}\t50\tPASS\tSOMATIC\tGT:AF" + "\t0/1:0.300" * columns
    body = sorted([*(line for line in somatic if not line.startswith("#")), record], key=lambda line: int(line.split("\t")[1]))
    body = [line for line in body if line.startswith("chr1\t")] + [line for line in body if not line.startswith("chr1\t")]
    text = "\n".join([*(line for line in somatic if line.startswith("#")), *body]) + "\n"
    written = subprocess.run(["bgzip", "-c"], input=text.encode(), capture_output=True, check=True).stdout
    (patient / "germline_as_somatic.vcf.gz").write_bytes(written)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(patient / "germline_as_somatic.vcf.gz")], check=True)
    return pos + 3


class Delivery:
    def __init__(self, path: Path, result: subprocess.CompletedProcess[str]) -> None:
        self.path = path
        self.returncode = result.returncode
        self.messages = result.stdout + result.stderr
        self.private = path / "private"
        self.linkage = dict(line.split("\t") for line in (self.private / "links.tsv").read_text().splitlines())
        self.first, self.second = self.linkage[FIRST], self.linkage[SECOND]
        self.forbidden = [line for line in (path / "patient1" / "forbidden.txt").read_text().splitlines() if line]
        self.forbidden += [PATIENT, UNDEFINED_FILTER, FIRST, SECOND]  # not RUN_FOLDER: Snakemake prints the config's paths
        self.right_shifted = 0  # the POS of the planted deletion the population lists rare elsewhere (red team 17 F3)

    def forbid_list(self, name: str) -> list[str]:
        return (self.private / "links.tsv.forbid" / f"{name}.txt").read_text().splitlines()


@pytest.fixture(scope="module")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> Delivery:
    if not SNAKEMAKE.exists():
        pytest.skip("snakemake not installed: pip install -e '.[test]'")
    for tool in ("bcftools", "bgzip", "tabix"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed")
    folder = tmp_path_factory.mktemp("delivery") / RUN_FOLDER
    patient = folder / "patient1"
    simulate(patient, seed=1, pairs=300)
    for name in ("ref.fa", "ref.fa.fai", "population.vcf.gz", "population.vcf.gz.tbi", "repeats.bed", "ids.tsv"):
        shutil.copyfile(patient / name, folder / name)
    (folder / "ids.tsv").chmod(0o600)  # the map links pseudonyms to people: private, like the key
    (folder / "private").mkdir(mode=0o700)
    key = folder / "private" / "site.key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o600)
    (patient / TARGET).write_text(planted_first(vcf_text(patient / "germline.vcf.gz")))
    right_shifted = planted_right_shifted_rare_deletion(folder, patient)
    (folder / "links").mkdir()
    (folder / "links" / SYMLINK).symlink_to(Path("..") / "patient1" / TARGET)
    second = folder / SECOND / f"{SECOND}N_20231029.germline.vcf.gz"
    second.parent.mkdir()
    second.write_bytes(subprocess.run(["bgzip", "-c"], input=second_naming_the_first(vcf_text(patient / "germline.vcf.gz")).encode(),
                                      capture_output=True, check=True).stdout)  # fmt: skip
    sheet = f"sample\tgermline_vcf\tsomatic_vcf\n{FIRST}\tlinks/{SYMLINK}\t{SOMATIC}\n{SECOND}\t{second.relative_to(folder)}\t.\n"
    (folder / "samples.tsv").write_text(sheet)
    (folder / "work").mkdir(mode=0o755)
    (folder / "work").chmod(0o755)  # made by hand, open to the group: the workflow closes it
    (folder / "results").mkdir(mode=0o755)
    (folder / "results").chmod(0o755)  # the same for results/ (red team 14 F3)
    result = snakemake(folder, "--keep-going")
    assert (folder / "private" / "links.tsv").is_file(), result.stdout + result.stderr
    planted = Delivery(folder, result)
    planted.right_shifted = right_shifted
    return planted


def files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def readable(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("latin-1")


# --- finding 1: every sample's gate forbids the whole cohort's originals ---------------------


def test_a_vcf_naming_another_patient_of_the_sheet_fails_its_sample(delivery: Delivery) -> None:
    staged = delivery.path / "work" / delivery.second / "staged" / f"{delivery.second}.germline.vcf.gz"
    named = sum(f"MOTHER={FIRST}" in line for line in vcf_text(staged).splitlines() if not line.startswith("#"))
    assert named > 0  # control: the scrubbers leave another patient's bare sheet ID in an INFO value
    assert delivery.returncode != 0
    line = f"sample {delivery.second} held back: genoscrub-audit found forbidden {named} ({delivery.second}.germline.vcf.gz {named})"
    assert line in delivery.messages
    assert not (delivery.path / "results" / delivery.second).exists()
    assert (delivery.path / "results" / delivery.first / f"{delivery.first}.germline.vcf.gz").is_file()  # the other passed
    failed = json.loads((delivery.path / "work" / delivery.second / "audit.failed.json").read_text())
    [(where, count)] = failed["files"][0]["findings"]["forbidden"]["by_key"].items()
    assert where.startswith("INFO/MOTHER (list line ") and count == named
    # control: the sample's own list, all the gate held before, does not hold the other patient's ID
    own = gate.forbid_strings(
        gate.fragment_originals(sorted((delivery.private / "links.tsv.parts").glob(f"{delivery.second}.*.tsv"))),
        gate.staged_input_paths(delivery.private / "links.tsv.inputs" / delivery.second),
        [],
    )
    assert own and not [text for text in own if FIRST in text]
    assert not [word for word in delivery.forbidden if word in delivery.messages]


def test_every_forbid_list_holds_the_whole_cohort_privately(delivery: Delivery) -> None:
    folder = delivery.private / "links.tsv.forbid"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in ("cohort", "sheet", delivery.first, delivery.second):
        path = folder / (f"{name}.json" if name == "sheet" else f"{name}.txt")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    first, second = delivery.forbid_list(delivery.first), delivery.forbid_list(delivery.second)
    assert first[0] == FIRST and second[0] == SECOND  # the sample's own ID first: its findings keep list line 1
    cohort = {FIRST, SECOND, f"{SECOND}N_20231029", f"{SECOND}/{SECOND}N_20231029.germline.vcf.gz", SOMATIC}
    assert cohort <= set(first) and cohort <= set(second)
    assert f"{FIRST}N_20231029" in first  # the first's VCF sample name, from its fragments: its own list (it holds FIRST)
    assert set(delivery.forbid_list("cohort")) <= set(first) and set(delivery.forbid_list("cohort")) <= set(second)


def test_a_symlinked_input_is_forbidden_by_its_name_as_written_and_by_its_target(delivery: Delivery) -> None:
    strings = set(delivery.forbid_list(delivery.second))  # the other sample's list too: the whole cohort's
    assert {SYMLINK, f"{PATIENT}_germline", f"links/{SYMLINK}", str(delivery.path / "links" / SYMLINK)} <= strings
    assert {TARGET, str((delivery.path / "patient1" / TARGET).resolve())} <= strings
    assert "links" not in strings  # a plain word, as every folder name
    sheet = json.loads((delivery.private / "links.tsv.forbid" / "sheet.json").read_text())
    assert sheet["ids"] == [FIRST, SECOND]


def test_forbid_strings_put_the_cohort_after_the_samples_own_and_before_the_sites() -> None:
    sheet = {"ids": ["S2301217", "S2301388"], "paths": ["a/KIM_link.vcf", "/data/S2301388/S2301388N.vcf.gz", "/data/x/tumour.bam"]}
    cohort = gate.cohort_forbid_strings(sheet)
    assert cohort == [
        "S2301217", "S2301388", "a/KIM_link.vcf", "KIM_link.vcf", "KIM_link",
        "/data/S2301388/S2301388N.vcf.gz", "S2301388N.vcf.gz", "S2301388N", "/data/x/tumour.bam",
    ]  # fmt: skip
    assert gate.cohort_list_text(sheet) == "".join(f"{text}\n" for text in cohort)
    strings = gate.forbid_strings(["S2301388"], ["/data/S2301388/S2301388N.vcf.gz"], ["Kim J.H."], cohort)
    assert strings[:4] == ["S2301388", "/data/S2301388/S2301388N.vcf.gz", "S2301388N.vcf.gz", "S2301388N"]
    assert strings[4] == "S2301217" and strings[-1] == "Kim J.H." and len(strings) == len(set(strings))


def test_every_folder_of_an_input_and_an_illumina_sample_name_are_forbidden() -> None:
    """Red team 7c F1: a patient's folder two levels above the file (``KIMJH0042``) and the sample
    name in an Illumina FASTQ name (``Kim_Jihoon`` of ``Kim_Jihoon_S1_L001_R1_001``) were on no
    list, and a germline VCF naming them was delivered. A build's folder and a short number (a
    year, a run) stay off: the outputs' headers and numbers hold them."""
    inputs = ["/data/KIMJH0042/wgs/2023/GRCh38/germline.vcf.gz", "/nfs/run_07/Kim_Jihoon_S1_L001_R1_001.fastq.gz"]
    strings = gate.forbid_strings([], inputs, [])
    assert {"KIMJH0042", "run_07", "Kim_Jihoon", "Kim_Jihoon_S1_L001"} <= set(strings)
    assert not {"data", "wgs", "2023", "GRCh38", "nfs"} & set(strings)
    assert "12345678" in gate.forbid_strings([], ["/data/12345678/x/tumour.bam"], [])  # a record number: seven digits or more


def test_a_plate_well_or_short_hex_folder_is_not_forbidden() -> None:
    """Red team 11 F10: inputs stored by plate well (``plate3/C10/normal.bam``) put ``C10`` on every
    sample's list, and the audit found it in MD tags (a C mismatch before 10 matches) and inside an
    ``@SQ M5``: clean samples were held back. A well (A1-P24) and a hex word of three or four digits
    name where a sample lies, not who it is; the patient's folder and the plate's stay listed."""
    inputs = ["/data/KIMJH0042/plate3/C10/normal.bam", "/runs/b44/p24/3f2a/x.vcf.gz", "/data/Q10/AB12C/x.vcf.gz"]
    strings = set(gate.forbid_strings([], inputs, []))
    assert {"KIMJH0042", "plate3", "Q10", "AB12C"} <= strings
    assert not {"C10", "b44", "p24", "3f2a"} & strings
    assert "C10" in gate.forbid_strings([], [], ["C10"])  # a site's own list is kept as it is


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("Kim_Jihoon\nhpc-node07\n".encode("utf-16"), "is UTF-16 or holds NUL bytes"),
        ("Kim_Jihoon\n".encode("utf-16-le"), "is UTF-16 or holds NUL bytes"),
        ("Kim Jihoon\n".encode("cp949") + "김지훈\n".encode("cp949"), "is not UTF-8 text"),
    ],
)
def test_a_site_list_not_in_utf_8_is_refused_not_emptied(delivery: Delivery, tmp_path: Path, data: bytes, message: str) -> None:
    """Red team 7c F2: a list saved as UTF-16 (Notepad's "Unicode") had every line skipped for its
    NUL bytes, and its names were delivered; with the mark UTF-8 editors write first, its first
    string never matched. The mark is read as none; a list that is not UTF-8 stops the run."""
    site = tmp_path / "site-forbid.txt"
    site.write_bytes(data)
    site.chmod(0o600)
    result = snakemake(delivery.path, "-n", config=[f"audit_forbid=[{site}]"])
    assert result.returncode != 0 and f"genoscrub workflow: config: 'audit_forbid' file 1 {message}" in shown(result)
    assert "Kim" not in shown(result)
    site.write_bytes(b"\xef\xbb\xbfKim_Jihoon\n")
    assert gate.site_list_lines(site) == ["Kim_Jihoon"]


def test_a_site_list_readable_by_others_is_refused(delivery: Delivery, tmp_path: Path) -> None:
    """Red team 7c F5: the lists of patient and host names are private as the map is."""
    site = tmp_path / "site-forbid.txt"
    site.write_text("Kim_Jihoon\n")
    site.chmod(0o644)
    result = snakemake(delivery.path, "-n", config=[f"audit_forbid=[{site}]"])
    assert result.returncode != 0 and "'audit_forbid' file 1 is readable by group or others" in shown(result)
    site.chmod(0o600)
    assert snakemake(delivery.path, "-n", config=[f"audit_forbid=[{site}]"]).returncode == 0


def test_a_germline_vcf_alone_is_refused_when_it_is_not_delivered(delivery: Delivery) -> None:
    """Red team 11 F11: with deliver_germline_vcf false the germline VCF is an input only, so a row
    holding nothing else would deliver nothing: one line naming the sheet line, never the sample."""
    result = snakemake(delivery.path, "-n", config=["deliver_germline_vcf=false"])
    assert result.returncode != 0 and "sample sheet line 3: nothing to deliver" in shown(result)
    assert SECOND not in shown(result) and PATIENT not in shown(result)


def test_a_sheet_input_that_cannot_be_read_is_named_by_its_line_not_its_path(delivery: Delivery, tmp_path: Path) -> None:
    """Red team 7c F4: a symlink loop (and a folder the user may not enter) made Python's own error
    quote the input's path, a patient's folder, on the terminal and in .snakemake/log."""
    sheet = (delivery.path / "samples.tsv").read_text().splitlines()
    folder = tmp_path / "KIM_JIHOON_19800101"
    folder.mkdir()
    (folder / "loop.vcf.gz").symlink_to(folder / "loop.vcf.gz")
    columns = sheet[0].split("\t")
    row = sheet[1].split("\t")
    row[columns.index("germline_vcf")] = str(folder / "loop.vcf.gz")
    (tmp_path / "samples.tsv").write_text("\n".join([sheet[0], "\t".join(row)]) + "\n")
    result = snakemake(delivery.path, "-n", config=[f"samples={tmp_path / 'samples.tsv'}"])
    assert result.returncode != 0 and "sample sheet line 2: germline_vcf is a symlink loop" in shown(result)
    assert "KIM_JIHOON" not in shown(result)


# --- findings 5 and 4: nothing of the site's folders in what is delivered -----------------------


def test_delivered_audit_report_names_files_not_the_work_folder(delivery: Delivery) -> None:
    path = delivery.path / "results" / delivery.first / f"{delivery.first}.audit.json"
    report = json.loads(path.read_text())
    germline, somatic = f"{delivery.first}.germline.vcf.gz", f"{delivery.first}.somatic.vcf.gz"
    assert [entry["file"] for entry in report["files"]] == [germline, f"{germline}.tbi", f"{somatic}.tbi", somatic]  # indexes too
    assert [run["files"] for run in report["runs"]] == [[germline, f"{germline}.tbi", f"{somatic}.tbi"], [somatic]]
    assert str(delivery.path) not in path.read_text() and RUN_FOLDER not in path.read_text()


def test_the_somatic_vcf_delivered_holds_no_allele_of_the_germline_vcf(delivery: Delivery) -> None:
    """A private germline variant called as somatic (absent from the population, so kept by
    somatic_keep_missing) is dropped by vcf-drop-rare --germline, and the gate checked it
    (--germline-in-vcf) in the somatic VCF's run only: bcftools finds none of the germline
    VCF's alleles in what was delivered, as it finds some in the input."""
    germline = delivery.path / "patient1" / "germline.vcf.gz"

    def shared(path: Path) -> int:
        command = ["bcftools", "isec", "-n=2", "-w1", "-c", "none", str(path), str(germline)]
        isec = subprocess.run(command, capture_output=True, text=True, check=True)
        return sum(1 for line in isec.stdout.splitlines() if line and not line.startswith("#"))

    delivered = delivery.path / "results" / delivery.first / f"{delivery.first}.somatic.vcf.gz"
    assert shared(delivery.path / SOMATIC) > 0 and shared(delivered) == 0
    assert subprocess.run(["bcftools", "view", "-H", str(delivered)], capture_output=True, check=True).stdout  # somatic calls stay
    sample_report = json.loads((delivery.path / "work" / delivery.first / f"{delivery.first}.report.json").read_text())  # the site's
    assert sample_report["files"][f"{delivery.first}.somatic.vcf.gz"]["vcf-drop-rare"]["counts"]["dropped_germline_listed"] > 0
    delivered = json.loads((delivery.path / "results" / delivery.first / f"{delivery.first}.report.json").read_text())
    assert "dropped_germline_listed" not in delivered["files"][f"{delivery.first}.somatic.vcf.gz"]["vcf-drop-rare"]["counts"]
    audit = json.loads((delivery.path / "results" / delivery.first / f"{delivery.first}.audit.json").read_text())
    checked = {entry["file"].split(".", 1)[1]: entry["findings"]["germline"]["checked"] for entry in audit["files"]}
    # the germline VCF is checked for records on a drop_contigs contig (--forbid-contigs), not for germline alleles
    assert checked == {"germline.vcf.gz": True, "somatic.vcf.gz": True, "germline.vcf.gz.tbi": False, "somatic.vcf.gz.tbi": False}
    assert [run["settings"]["germline_in_vcf"] for run in audit["runs"]] == [False, True]


def test_a_rare_deletion_written_at_the_other_end_of_its_repeat_is_not_delivered(delivery: Delivery) -> None:
    """Red team 17 F3: the somatic VCF's deletion of one base of a homopolymer, written at the run's
    right end, is the population's rare deletion left-aligned (as gnomAD writes it). Read as written,
    it was absent from the population, kept by somatic_keep_missing and passed by the gate (its
    --population-missing ok); the VCF step now passes the scrubbed VCF through bcftools norm -f, which
    left-aligns it onto the rare record: vcf-drop-rare drops it. The planted record is in the input,
    and no record of the delivered somatic VCF lies within 5 bases of it."""
    assert delivery.right_shifted > 0
    raw = [int(line.split("\t")[1]) for line in vcf_text(delivery.path / SOMATIC).splitlines() if line.startswith("chr1\t")]
    assert delivery.right_shifted in raw
    delivered = delivery.path / "results" / delivery.first / f"{delivery.first}.somatic.vcf.gz"
    positions = [int(line.split("\t")[1]) for line in vcf_text(delivered).splitlines() if line.startswith("chr1\t")]
    assert positions and not [pos for pos in positions if abs(pos - delivery.right_shifted) <= 5]


def test_merged_audit_keeps_file_names_only() -> None:
    findings = {klass: {"checked": True, "count": 0} for klass in gate.CLASSES}
    entry = {"file": "/site/KIM/work/P1/staged/P1.R1.fastq.gz", "verdict": "pass", "findings": findings}
    report = gate.merge_audits("P1", [({"version": "x", "settings": {}, "files": [entry]}, {})])
    assert report["files"][0]["file"] == "P1.R1.fastq.gz" and "/site" not in json.dumps(report)
    assert entry["file"] == "/site/KIM/work/P1/staged/P1.R1.fastq.gz"  # the audit's own report is left as it was


def multiqc_text(path: Path) -> str:
    if path.suffix == ".parquet":
        import polars

        return polars.read_parquet(path).write_csv()
    return path.read_bytes().decode("latin-1")


def test_multiqc_report_holds_no_folder_of_the_site(delivery: Delivery, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The rule's own step (reports.py multiqc --run), as Snakemake runs it: from the run folder,
    by a user whose own MultiQC settings (``~/.multiqc_config.yaml``, ``MULTIQC_*``: red team 7c F3)
    put a host, an address and a patient's folder into every report."""
    program = reports.multiqc_program()
    if program is None:
        pytest.skip("multiqc not installed: pip install -e '.[test]'")
    sample = delivery.path / "results" / delivery.first
    out = delivery.path / "delivered-report" / "multiqc"
    monkeypatch.chdir(delivery.path)
    settings = 'report_comment: "on hpc-node07 by kimjh"\nreport_header_info:\n  - Folder: "/home/kimjh/KIM_JIHOON_19800101"\n'
    (tmp_path / ".multiqc_config.yaml").write_text(settings + 'title: "KIM JIHOON"\n')
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("MULTIQC_SUBTITLE", "seoulhospital.kr")
    reports.main(["multiqc", "--run", "--out", str(out.relative_to(delivery.path)),
                  str(sample / f"{delivery.first}.report.json"), str(sample / f"{delivery.first}.audit.json")])  # fmt: skip
    written = files_under(out)
    assert (out / "multiqc_report.html").is_file() and not (out / "multiqc_data" / "multiqc.log").exists()
    data = json.loads((out / "multiqc_data" / "multiqc_data.json").read_text())
    assert data["config_output_dir"] == "." and data["config_script_path"] == "multiqc"
    assert all("/" not in name for name in data["config_analysis_dir_abs"] + data["config_analysis_dir"])
    assert data["report_multiqc_command"].startswith("multiqc ")
    assert delivery.first in data["report_saved_raw_data"]["multiqc_genoscrub_summary_table"]  # the content is there
    planted = (str(delivery.path), RUN_FOLDER, str(Path(program).parent), "hpc-node07", "KIM_JIHOON", "KIM JIHOON", "seoulhospital")
    leaks = [f"{path.relative_to(out)}: {word}" for path in written for word in planted if word in multiqc_text(path)]
    assert len(written) > 5 and not leaks
    # red team 14 F6: nor the day it ran, which tar --mtime=@0 does not remove
    assert data["report_creation_date"] == "" and not (out / "multiqc_data" / "multiqc.parquet").exists()
    now = datetime.now().astimezone()
    days = {day.strftime(form) for day in (now, now.astimezone(timezone.utc)) for form in ("%Y-%m-%d", "%d %b %Y")}
    assert not [f"{path.relative_to(out)}: {day}" for path in written for day in days if day in multiqc_text(path)]
    html = (out / "multiqc_report.html").read_text()
    [plot_data] = re.findall(r'id="mqc_compressed_plotdata">([^<]*)<', html)
    assert base64.b64decode(plot_data)[4:8] == bytes(4)  # the gzip header's time: none
    assert {stat.S_IMODE(path.stat().st_mode) for path in written} == {0o600}


def test_multiqc_report_is_undated_and_its_plot_data_the_same() -> None:
    plot_data = gzip.compress(b'{"plot": [1, 2]}', mtime=1796652407)
    html = (
        '<script type="text/plain" id="mqc_compressed_plotdata">' + base64.b64encode(plot_data).decode() + "</script>\n"
        'configCreationDate = "07 Dec 2026, 14:06 UTC";\n'
    )
    undated = reports.undated_report(html)
    assert 'configCreationDate = "";' in undated and "2026" not in undated
    [encoded] = re.findall(r'id="mqc_compressed_plotdata">([^<]*)<', undated)
    assert base64.b64decode(encoded)[4:8] == bytes(4) and gzip.decompress(base64.b64decode(encoded)) == b'{"plot": [1, 2]}'


def test_multiqc_data_is_written_back_without_the_sites_paths(tmp_path: Path) -> None:
    folder = tmp_path / RUN_FOLDER / "results" / "multiqc"
    data = {
        "report_multiqc_command": f"/opt/{RUN_FOLDER}/.venv/bin/multiqc --outdir . genoscrub_summary_mqc.yaml",
        "config_output_dir": str(folder),
        "config_analysis_dir": ["genoscrub_summary_mqc.yaml"],
        "config_analysis_dir_abs": [f"{folder}/genoscrub_summary_mqc.yaml"],
        "config_script_path": f"/opt/{RUN_FOLDER}/.venv/lib/python3.11/site-packages/multiqc",
        "report_data_sources": {"custom": {"all_sections": {"P1": f"{folder}/genoscrub_summary_mqc.yaml"}}},
        "report_saved_raw_data": {"table": {"P1": {"findings": 0}}},
    }
    clean = reports.without_site_paths(data, folder, f"/opt/{RUN_FOLDER}/.venv/bin/multiqc")
    assert clean["config_output_dir"] == "." and clean["config_script_path"] == "multiqc"
    assert clean["config_analysis_dir_abs"] == ["genoscrub_summary_mqc.yaml"]
    assert clean["report_multiqc_command"] == "multiqc --outdir . genoscrub_summary_mqc.yaml"
    assert clean["report_data_sources"]["custom"]["all_sections"]["P1"] == "genoscrub_summary_mqc.yaml"
    assert clean["report_saved_raw_data"] == data["report_saved_raw_data"] and RUN_FOLDER not in json.dumps(clean)
    (folder / "multiqc_data").mkdir(parents=True)
    (folder / "multiqc_data" / "multiqc_data.json").write_text(json.dumps(data))
    (folder / "multiqc_report.html").write_text("<p>genoscrub</p>")
    assert reports.files_naming(folder, [folder.parent, Path("/")]) == ["multiqc_data/multiqc_data.json"]


# --- finding 6: bcftools and samtools on raw inputs: counted, never quoted --------------------


def test_bcftools_warnings_about_a_raw_input_are_counted_not_logged(delivery: Delivery) -> None:
    warned = subprocess.run(["bcftools", "view", str(delivery.path / "patient1" / TARGET)], capture_output=True, text=True)
    assert PATIENT in warned.stderr and UNDEFINED_FILTER in warned.stderr  # control: htslib quotes the input
    log = (delivery.path / "work" / "logs" / delivery.first / "germline.vcf.log").read_text()
    assert log.startswith("bcftools view: ") and "lines on stderr not kept" in log and "exit status 0" in log
    leaks = []
    for folder in ("work", ".snakemake", "results"):
        for path in files_under(delivery.path / folder):
            if folder == "work" and "staged" in path.parts:
                continue  # the held-back sample's outputs: the gate found what they hold
            text = readable(path) + str(path.relative_to(delivery.path))
            leaks += [f"{path.relative_to(delivery.path)}: {word}" for word in (PATIENT, UNDEFINED_FILTER, "vcf_parse") if word in text]
    assert not leaks and PATIENT not in delivery.messages and UNDEFINED_FILTER not in delivery.messages


def count_stderr(tmp_path: Path, script: str, *options: str) -> tuple[subprocess.CompletedProcess[bytes], str]:
    log = tmp_path / "step.log"
    log.unlink(missing_ok=True)
    command = [sys.executable, str(ROOT / "workflow" / "reports.py"), "stderr-count", "--name", "bcftools view", "--log", str(log)]
    result = subprocess.run([*command, *options, "--", "sh", "-c", script], input=b"in\n", capture_output=True, timeout=60)
    return result, log.read_text() if log.exists() else ""


def test_stderr_count_keeps_stdin_stdout_and_status_and_no_word_of_stderr(tmp_path: Path) -> None:
    warning = f"[W::vcf_parse_info] INFO '{PATIENT}' is not defined in the header"
    result, log = count_stderr(tmp_path, f"cat; echo \"{warning}\" >&2; echo '[E::x] {FIRST}' >&2; exit 3")
    assert (result.returncode, result.stdout, result.stderr) == (3, b"in\n", b"")
    assert log == "bcftools view: 2 lines on stderr not kept (they can quote names and header lines of the input); exit status 3\n"
    result, log = count_stderr(tmp_path, "cat")
    assert (result.returncode, result.stdout, log) == (0, b"in\n", "")  # nothing to say: nothing written
    result, log = count_stderr(tmp_path, f"echo 'scatter: samtools idxstats failed' >&2; echo '{PATIENT}' >&2; kill -PIPE $$",
                               "--own", "scatter:")  # fmt: skip
    lines = log.splitlines()
    assert result.returncode == 141 and PATIENT not in log and len(lines) == 2
    assert lines[0] == "scatter: samtools idxstats failed" and lines[1].startswith("bcftools view: 1 line on stderr not kept")


def test_data_rules_run_raw_input_readers_through_the_count() -> None:
    """The commands that read an input as the sheet gave it (its link in <linkage>.inputs/):
    bcftools view of the VCF, samtools view of the BAM/CRAM (scatter.py extract)."""
    for rule, reader in (("vcf.smk", "bcftools view --no-version"), ("bam.smk", "extract --bam")):
        text = (ROOT / "workflow" / "rules" / rule).read_text()
        lines = [line for line in text.splitlines() if reader in line]
        assert lines and "stderr_counted(" in text and not [line for line in lines if "2>>" in line], rule


def audit_that_fails(tmp_path: Path, stderr_lines: list[str]) -> dict[str, Any]:
    audit = tmp_path / "genoscrub-audit"
    audit.write_text("#!/bin/sh\n" + "".join(f"echo '{line}' >&2\n" for line in stderr_lines) + "exit 2\n")
    audit.chmod(0o755)
    staged = tmp_path / "work" / "P1" / "staged" / "P1.germline.vcf.gz"
    staged.parent.mkdir(parents=True, exist_ok=True)
    staged.write_bytes(b"VCF")
    return {
        "sample": "P1",
        "deliver": [[str(staged), str(tmp_path / "results" / "P1" / staged.name)]],
        "sample_report": {"out": str(tmp_path / "results" / "P1" / "P1.report.json"), "files": {}, "settings": {}},
        "audit": {
            "command": str(audit), "threads": 1, "forbid_list": str(tmp_path / "private" / "P1.txt"), "fragments": [],
            "inputs": str(tmp_path / "no-links"), "extra_forbid": [], "runs": [{"files": [str(staged)], "options": [], "reasons": {}}],
            "log": str(tmp_path / "audit.log"), "report": str(tmp_path / "results" / "P1" / "P1.audit.json"),
            "failed_report": str(tmp_path / "work" / "P1" / "audit.failed.json"),
        },
    }  # fmt: skip


def test_gate_repeats_the_audits_own_line_never_htslibs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The audit reads the raw germline VCF: htslib's warnings about it come after its own line."""
    htslib = f"[W::vcf_parse] Contig 'chr{PATIENT}' is not defined in the header. (Quick workaround: index the file.)"
    assert gate.gate(audit_that_fails(tmp_path, ["genoscrub-audit: germline.vcf:7: cannot read the germline VCF", htslib])) == 1
    err = capsys.readouterr().err
    assert "could not check its outputs: genoscrub-audit: germline.vcf:7: cannot read the germline VCF\n" in err and PATIENT not in err
    assert gate.gate(audit_that_fails(tmp_path, [htslib])) == 1
    err = capsys.readouterr().err
    assert err.endswith("could not check its outputs: genoscrub-audit exited with status 2\n") and PATIENT not in err


# --- findings 7 and 10: private files outside what is shared; modes --------------------------


def test_work_folder_is_private(delivery: Delivery) -> None:
    assert stat.S_IMODE((delivery.path / "work").stat().st_mode) == 0o700  # made 0755 by hand before the run
    inputs = delivery.private / "links.tsv.inputs"
    assert {stat.S_IMODE(path.stat().st_mode) for path in [inputs, *inputs.iterdir()]} == {0o700}


@pytest.mark.parametrize("where", ["results", "work", ".snakemake"])
@pytest.mark.parametrize("label", ["key_file", "map", "audit_forbid"])
def test_private_files_inside_shared_folders_are_refused(delivery: Delivery, tmp_path: Path, where: str, label: str) -> None:
    shared = {"results": tmp_path / "results", "work": tmp_path / "work", ".snakemake": delivery.path / ".snakemake"}
    source = {"key_file": delivery.private / "site.key", "map": delivery.path / "ids.tsv", "audit_forbid": delivery.path / "ids.tsv"}
    folder = shared[where] / "private-copy"
    folder.mkdir(parents=True)
    try:
        copy = folder / source[label].name
        shutil.copyfile(source[label], copy)
        copy.chmod(0o600)
        value = f"[{copy}]" if label == "audit_forbid" else str(copy)
        result = snakemake(delivery.path, "-n", config=[f"results={tmp_path / 'results'}", f"work={tmp_path / 'work'}", f"{label}={value}"])
        assert result.returncode != 0
        assert f"genoscrub workflow: config: '{label}' must lie outside the results, work and .snakemake folders (" in shown(result)
    finally:
        shutil.rmtree(folder)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ({"results": "delivery", "work": "delivery/work"}, "'results' and 'work' must not lie inside one another"),
        ({"results": "delivery/out", "work": "delivery"}, "'results' and 'work' must not lie inside one another"),
        ({"results": ".", "work": "{tmp}/work"}, "'results' must not hold the folder the workflow runs in"),
        ({"results": "..", "work": "{tmp}/work"}, "'results' must not hold the folder the workflow runs in"),
    ],
)
def test_results_hold_nothing_the_workflow_keeps_back(delivery: Delivery, tmp_path: Path, where: dict, message: str) -> None:
    """results/ is what a site ships whole (red team 4, F2): work/ (a held-back sample's outputs
    and what the gate found in them) or the run folder (.snakemake/, the inputs) inside it would ship too."""
    config = [f"{name}={value.format(tmp=tmp_path)}" for name, value in where.items()]
    result = snakemake(delivery.path, "-n", config=config)
    assert result.returncode != 0 and f"genoscrub workflow: config: {message}" in shown(result)


def test_an_input_or_the_sheet_inside_results_is_refused(delivery: Delivery, tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    sheet = (delivery.path / "samples.tsv").read_text()
    first_input = next(value for value in sheet.splitlines()[1].split("\t")[1:] if value.strip())
    source = (delivery.path / first_input).resolve()
    (results / "raw").symlink_to(source.parent, target_is_directory=True)  # the raw folder linked in
    moved = sheet.replace(first_input, str(results / "raw" / source.name), 1)
    (tmp_path / "samples.tsv").write_text(moved)
    result = snakemake(delivery.path, "-n", config=[f"results={results}", f"samples={tmp_path / 'samples.tsv'}"])
    assert result.returncode != 0 and "lies inside the results folder (the raw input would ship with the delivery)" in shown(result)
    (results / "samples.tsv").write_text(sheet)
    result = snakemake(delivery.path, "-n", config=[f"results={results}", f"samples={results / 'samples.tsv'}"])
    assert result.returncode != 0 and "the sample sheet must lie outside the results folder" in shown(result)


def test_a_symlink_inside_results_is_refused_whatever_it_points_to(delivery: Delivery, tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "site.key").symlink_to(delivery.private / "site.key")
    result = snakemake(delivery.path, "-n", config=[f"results={tmp_path / 'results'}", f"key_file={tmp_path / 'results' / 'site.key'}"])
    assert result.returncode != 0 and "'key_file' must lie outside the results" in shown(result)


def test_a_map_readable_by_others_is_refused(delivery: Delivery, tmp_path: Path) -> None:
    public = tmp_path / "ids.tsv"
    shutil.copyfile(delivery.path / "ids.tsv", public)
    public.chmod(0o644)
    result = snakemake(delivery.path, "-n", config=[f"map={public}"])
    lines = [line for line in shown(result).splitlines() if "'map'" in line]
    assert result.returncode != 0
    assert lines == [
        "genoscrub workflow: config: the 'map' file is readable by group or others (it links pseudonyms to people); run: chmod 600 on it"
    ]
    public.chmod(0o600)
    assert snakemake(delivery.path, "-n", config=[f"map={public}"]).returncode == 0


def test_an_open_linkage_folder_is_refused_not_changed(delivery: Delivery, tmp_path: Path) -> None:
    folder = tmp_path / "site-private"
    folder.mkdir()
    folder.chmod(0o755)
    result = snakemake(delivery.path, "-n", config=[f"linkage={folder / 'links.tsv'}"])
    assert result.returncode != 0 and "the folder of 'linkage' is open to group or others" in shown(result)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755 and not list(folder.iterdir())
    made = tmp_path / "made-here" / "links.tsv"
    assert snakemake(delivery.path, "-n", config=[f"linkage={made}"]).returncode == 0
    assert stat.S_IMODE(made.parent.stat().st_mode) == 0o700


# --- finding 8: another key stops the run ----------------------------------------------------


def test_a_run_with_another_key_stops_before_anything_is_written(delivery: Delivery, tmp_path: Path) -> None:
    other = tmp_path / "other.key"
    other.write_bytes(os.urandom(32))
    other.chmod(0o600)
    parts = delivery.private / "links.tsv.parts"
    before = sorted(path.name for path in parts.iterdir())
    result = snakemake(delivery.path, "-n", config=[f"key_file={other}"])
    assert result.returncode != 0
    assert "genoscrub workflow: config: the linkage table was written with another key or map: " in shown(result)
    assert "run with the key and map it was written with, or give a new 'linkage'" in shown(result)
    assert sorted(path.name for path in parts.iterdir()) == before  # no fragment under the new pseudonyms
    assert not [word for word in delivery.forbidden if word in shown(result)]
    assert snakemake(delivery.path, "-n").returncode == 0  # the key it was written with


def test_linkage_rows_are_derived_again_with_the_current_key() -> None:
    def pseudonym_of(original: str) -> str:
        return {"S2301217": "P1", "b\udcff": "P2"}.get(original, "P?")

    assert reports.linkage_disagreements(b"S2301217\tP1\nb\xff\tP2\n", pseudonym_of) == (0, 2)  # not UTF-8: its bytes
    assert reports.linkage_disagreements(b"S2301217\tP1\nS2301388\tP3\n\n", pseudonym_of) == (1, 2)
    with pytest.raises(reports.LinkageError, match="line 2 of the linkage table"):
        reports.linkage_disagreements(b"S2301217\tP1\nS2301388\n", pseudonym_of)


# --- the cohort list does not make delivered samples run again --------------------------------


def test_a_sample_added_later_reruns_neither_the_delivered_ones_nor_their_data_jobs(delivery: Delivery) -> None:
    sheet = delivery.path / "more-samples.tsv"
    rows = (delivery.path / "samples.tsv").read_text()
    sheet.write_text(rows + f"S2309999\t{SECOND}/{SECOND}N_20231029.germline.vcf.gz\t.\n")
    lists = [delivery.private / "links.tsv.forbid" / name for name in ("sheet.json", "cohort.txt")]
    kept = [(path.read_bytes(), path.stat().st_mtime_ns) for path in lists]
    parts = set((delivery.private / "links.tsv.parts").iterdir())
    inputs = set((delivery.private / "links.tsv.inputs").iterdir())
    try:
        result = snakemake(delivery.path, "-n", config=[f"samples={sheet}"])
        assert result.returncode == 0, shown(result)
        jobs = {line.split()[0]: int(line.split()[-1]) for line in result.stdout.splitlines() if line.split()[:1] and line.split()[-1:]
                and line.split()[-1].isdigit() and len(line.split()) == 2}  # fmt: skip
        assert (jobs["vcf"], jobs["gate"]) == (1, 2)  # the new sample's; the held-back one's gate again
        assert "cohort_forbid" not in jobs  # the cohort's list is written while the sheet is read: no job
    finally:
        for path, (data, mtime) in zip(lists, kept, strict=True):
            path.write_bytes(data)
            os.utime(path, ns=(mtime, mtime))
        for path in set((delivery.private / "links.tsv.parts").iterdir()) - parts:
            path.unlink()
        for path in set((delivery.private / "links.tsv.inputs").iterdir()) - inputs:
            shutil.rmtree(path)


def test_slurm_profile_runs_the_gate_inside_the_sample_groups() -> None:
    """The cohort's list is made before any job, so a sample's gate waits for no other sample and
    runs in its sample's SLURM job."""
    profile = (ROOT / "workflow" / "profiles" / "slurm" / "config.yaml").read_text()
    groups = [line.strip() for line in profile.splitlines() if line.strip().startswith("- ") and "=sample_{sample}" in line]
    assert "- vcf=sample_{sample}" in groups and "- gate=sample_{sample}" in groups


def test_what_the_gate_delivers_is_its_owners_only_whatever_the_umask(tmp_path: Path) -> None:
    """Under umask 000 (red team 4) results/ was 0777 and its files 0666: an audited file could
    be swapped after the gate; under 022 (red team 14 F3) every account read them. The gate
    makes what it delivers 0600 in 0700 folders."""
    staged = tmp_path / "work" / "staged"
    staged.mkdir(parents=True)
    data = staged / "x.bam"
    data.write_bytes(b"data")
    data.chmod(0o666)
    results = tmp_path / "results"
    results.mkdir(mode=0o777)
    results.chmod(0o777)
    previous = os.umask(0)
    try:
        gate.deliver([(data, results / "SAMPLE" / "SAMPLE.tumour.bam")])
    finally:
        os.umask(previous)
    assert stat.S_IMODE((results / "SAMPLE" / "SAMPLE.tumour.bam").stat().st_mode) == 0o600
    assert stat.S_IMODE((results / "SAMPLE").stat().st_mode) == 0o700
    assert stat.S_IMODE(results.stat().st_mode) == 0o700


def test_a_stop_during_delivery_waits_until_every_output_has_landed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A SIGTERM between the hidden link and its rename left the hidden copy in results/ (red
    team 4's notes); the gate holds the stop until every output has its name, then stops."""
    staged = tmp_path / "staged"
    staged.mkdir()
    pairs = []
    for name in ("S.tumour.bam", "S.tumour.bam.bai"):
        (staged / name).write_bytes(name.encode())
        pairs.append((staged / name, tmp_path / "results" / "S" / name))

    class Stopped(Exception):
        pass

    def stop(signum: int, frame: object) -> None:
        raise Stopped

    replace = os.replace

    def replace_then_stop(source: Path, target: Path) -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # held: delivered after the last output lands
        replace(source, target)

    previous = signal.signal(signal.SIGTERM, stop)
    monkeypatch.setattr(gate.os, "replace", replace_then_stop)
    try:
        with pytest.raises(Stopped):
            gate.deliver(pairs)
    finally:
        signal.signal(signal.SIGTERM, previous)
    landed = sorted(path.name for path in (tmp_path / "results" / "S").iterdir())
    assert landed == ["S.tumour.bam", "S.tumour.bam.bai"]  # both, and no hidden .name.pid


# --- red team 14: later deliveries from the same folder, key and linkage table ------------------


@pytest.fixture(scope="module")
def later(delivery: Delivery, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the delivery's run folder (its key, map, linkage table and fragments; not its
    .snakemake), for runs that change them."""
    folder = tmp_path_factory.mktemp("later") / RUN_FOLDER
    shutil.copytree(delivery.path, folder, symlinks=True, ignore=shutil.ignore_patterns(".snakemake"))
    return folder


def test_a_later_sheet_keeps_every_row_of_the_linkage_table_and_its_guard(delivery: Delivery, later: Path, tmp_path: Path) -> None:
    """Red team 14 F1: the rule `linkage` wrote the table from the current sheet's fragments only,
    so a second delivery with a new sheet dropped the first's rows (18 -> 9), and with them the
    guard against a map giving those people second pseudonyms. The table only grows."""
    table = later / "private" / "links.tsv"
    before = table.read_text().splitlines()
    assert any(line.startswith(f"{SECOND}\t") for line in before)
    sheet = (later / "samples.tsv").read_text().splitlines()
    (later / "samples_2027.tsv").write_text("\n".join(sheet[:2]) + "\n")  # the first patient only
    result = snakemake(later, config=["samples=samples_2027.tsv", f"results={tmp_path / 'results_2027'}", f"work={tmp_path / 'work_2027'}"])
    assert result.returncode == 0, shown(result)
    assert (tmp_path / "results_2027" / delivery.first).is_dir() and not (tmp_path / "results_2027" / delivery.second).exists()
    assert sorted(table.read_text().splitlines()) == sorted(before)  # the second patient's rows stay
    assert stat.S_IMODE(table.stat().st_mode) == 0o600
    changed = later / "ids_2028.tsv"  # a map giving the second patient another pseudonym
    changed.write_text((later / "ids.tsv").read_text() + f"{SECOND}\tCMT002_99\n")
    changed.chmod(0o600)
    refused = snakemake(later, "-n", config=[f"map={changed}", f"results={tmp_path / 'results_2028'}", f"work={tmp_path / 'work_2028'}"])
    assert refused.returncode != 0
    assert "genoscrub workflow: config: the linkage table was written with another key or map: 1 of the " in shown(refused)
    assert not [word for word in delivery.forbidden if word in shown(result) + shown(refused)]


def test_the_linkage_step_keeps_the_earlier_rows_and_changes_none(tmp_path: Path) -> None:
    earlier, fragment, out = tmp_path / "earlier.tsv", tmp_path / "P3.sample.tsv", tmp_path / "links.tsv"
    earlier.write_text("S2301217\tP1\nS2301388\tP2\n")
    fragment.write_text("S2309999\tP3\nS2301217\tP1\n")
    assert reports.main(["linkage", "--earlier", str(earlier), "--out", str(out), str(fragment)]) == 0
    assert out.read_text() == "S2301217\tP1\nS2301388\tP2\nS2309999\tP3\n" and stat.S_IMODE(out.stat().st_mode) == 0o600
    fragment.write_text("S2301388\tP9\n")  # a row of an earlier delivery under another pseudonym
    with pytest.raises(SystemExit, match="an original got two pseudonyms") as stop:
        reports.main(["linkage", "--earlier", str(earlier), "--out", str(out), str(fragment)])
    assert SECOND not in str(stop.value) and "P9" not in out.read_text()
    assert reports.main(["linkage", "--earlier", str(tmp_path / "absent.tsv"), "--out", str(out), str(fragment)]) == 0


def test_results_holding_an_earlier_deliverys_samples_are_refused(delivery: Delivery, later: Path, tmp_path: Path) -> None:
    """Red team 14 F7: a second run from the same folder with another study's sheet left the first
    study's sample folders in results/, which a site ships whole. Refused, by count, never by name;
    a sheet that grows (the cohort's next samples) still runs."""
    assert (later / "results" / delivery.first).is_dir()  # delivered by the first run; the second sample was held back
    sheet = (later / "samples.tsv").read_text().splitlines()
    (later / "study_b.tsv").write_text("\n".join([sheet[0], sheet[2]]) + "\n")  # the second patient only
    result = snakemake(later, "-n", config=["samples=study_b.tsv"])
    assert result.returncode != 0
    lines = [line for line in shown(result).splitlines() if "results folder holds" in line]
    assert lines == [
        "genoscrub workflow: config: the results folder holds 1 entry of no sample on this sheet (an earlier delivery's?),"
        " which would ship with this one: move them out of it, or name another 'results'"
    ]
    assert delivery.first not in shown(result) and not [word for word in delivery.forbidden if word in shown(result)]
    assert snakemake(later, "-n", config=["samples=study_b.tsv", f"results={tmp_path / 'study_b'}"]).returncode == 0
    (later / "grown.tsv").write_text("\n".join([*sheet, f"S2309999\t{SECOND}/{SECOND}N_20231029.germline.vcf.gz\t."]) + "\n")
    assert snakemake(later, "-n", config=["samples=grown.tsv"]).returncode == 0  # the cohort grows: its own folders only


def test_results_are_readable_by_their_owner_only_whatever_the_umask(delivery: Delivery) -> None:
    """Red team 14 F3: results/ was left at the umask (0755/0644): any account of a shared cluster
    read the delivered reads (with `fastq: rename`, every germline allele). The fixture made it
    0755 before the run; the workflow closes it, and everything in it is its owner's only."""
    results = delivery.path / "results"
    entries = [results, *results.rglob("*")]
    assert {stat.S_IMODE(path.stat().st_mode) for path in entries if path.is_dir()} == {0o700}
    assert {stat.S_IMODE(path.stat().st_mode) for path in entries if path.is_file()} == {0o600}
    assert len([path for path in entries if path.is_file()]) > 5
