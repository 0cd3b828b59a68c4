"""genoscrub-audit: VCF columns off their grammar (CHROM, REF, ALT, QUAL, FILTER, GT).

A sample name (``KIMJ``) and a path (``/home/kim/x``) are planted in each column: each is a
metadata finding of its column, located by position (by line where CHROM is the planted
value), and a forbidden-string finding with ``--forbid``, by path, gzipped and on stdin; the
value is printed or reported nowhere. The forms the format allows are no finding. The block
path and the one-record path (``GENOSCRUB_ONE_BY_ONE=1``) find the same. BCF keeps REF and
ALT as text, and they are found there too (htslib refuses to write a BCF with an undeclared
CHROM or FILTER, and keeps QUAL and GT as numbers).
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from genoscrub.audit_record_traces import MATE_FINDING
from genoscrub.audit_vcf_columns import FAULTS
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run_command
from tests.test_audit_record_values import audited

HEADER = (
    "##fileformat=VCFv4.2\n"
    "##contig=<ID=chr1,length=1000>\n"
    "##contig=<ID=chr2,length=1000>\n"
    '##FILTER=<ID=PASS,Description="All filters passed">\n'
    '##FILTER=<ID=q10,Description="Quality below 10">\n'
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\n"
)
FIRST_LINE = HEADER.count("\n") + 1
CLEAN = ["chr1", "100", ".", "A", "G", "50", "PASS", "DP=10", "GT:DP", "0/1:5", "1|1:7"]
VALUES = ["KIMJ", "/home/kim/x"]
PLACES: dict[str, tuple[int, str, str]] = {
    # column planted: (index, how the value is written there, the forbidden finding's field name)
    "CHROM": (0, "{}", "CHROM"),
    "REF": (3, "{}", "REF"),
    "ALT": (4, "G,{}", "ALT"),
    "QUAL": (5, "{}", "QUAL"),
    "FILTER": (6, "q10;{}", "FILTER"),
    "GT": (10, "{}:7", "sample 2 FORMAT/GT"),
}


def record(column: str, value: str) -> str:
    index, shape, _ = PLACES[column]
    fields = list(CLEAN)
    fields[index] = shape.format(value)
    return "\t".join(fields)


def vcf_text(records: list[str], header: str = HEADER) -> bytes:
    return (header + "".join(line + "\n" for line in records)).encode()


def run_audit(tmp_path: Path, data: bytes, how: str, *options: str) -> tuple[subprocess.CompletedProcess[bytes], dict[str, Any]]:
    """The CLI over ``data``: by path, gzipped by path, or on stdin."""
    report = tmp_path / "report.json"
    report.unlink(missing_ok=True)
    command = ["--report", str(report), *options]
    if how == "stdin":
        done = run_command("genoscrub-audit", *command, "-", input=data)
    else:
        path = tmp_path / ("in.vcf.gz" if how == "gzip" else "in.vcf")
        path.write_bytes(gzip.compress(data) if how == "gzip" else data)
        done = run_command("genoscrub-audit", *command, str(path))
    return done, json.loads(report.read_text()) if report.exists() else {}


def file_findings(report: dict[str, Any], kind: str) -> tuple[dict[str, int], dict[str, list[str]]]:
    (found,) = report["files"]
    return found["findings"][kind].get("by_key", {}), found["findings"][kind].get("examples", {})


@pytest.mark.parametrize("how", ["path", "gzip", "stdin"])
@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("column", list(PLACES))
def test_a_value_planted_in_a_column_is_found_never_quoted(column: str, value: str, how: str, tmp_path: Path) -> None:
    forbid = tmp_path / "forbid.txt"
    forbid.write_text(value + "\n")
    data = vcf_text(["\t".join(CLEAN), record(column, value)])
    done, report = run_audit(tmp_path, data, how, "--forbid", str(forbid))
    assert done.returncode == 1, done.stderr.decode()
    where = f"line {FIRST_LINE + 1}" if column == "CHROM" else "chr1:100"
    counts, examples = file_findings(report, "metadata")
    assert counts[FAULTS[column]] == 1
    assert examples[FAULTS[column]] == [where]
    forbidden, places = file_findings(report, "forbidden")
    key = f"{PLACES[column][2]} (list line 1)"
    assert forbidden == {key: 1}
    assert places[key] == [where]
    shown = done.stdout + done.stderr + json.dumps(report).encode()
    assert value.encode() not in shown
    assert b"kim" not in shown.lower()
    assert f"{FAULTS[column]} 1 ({where})".encode() in done.stdout


@pytest.mark.parametrize("column", list(PLACES))
def test_a_column_off_its_grammar_is_found_without_a_forbid_list(column: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for one_by_one in (False, True):
        findings = audited(vcf_text(["\t".join(CLEAN), record(column, "KIMJ")]), one_by_one, monkeypatch)
        assert findings.metadata.counts[FAULTS[column]] == 1
        assert sum(findings.metadata.counts[fault] for fault in FAULTS.values()) == 1


ACCEPTED = [
    ["chr2", "1", ".", "AC", "A", ".", ".", "DP=1", "GT:DP", "0/1:5", "0/1:7"],  # the deletion the `*` below lies in
    ["chr2", "2", ".", "acgtn", "G,*,<DEL>,<INS:ME:ALU>,<*>", ".", ".", "DP=1", "GT:DP", "0/1:5", "1|2:7"],
    ["chr1", "2", ".", "N", "A[chr2:40[,]chr1:5]A,.A,A.,[<ctg1>:7[A", "inf", "q10", "DP=1", "GT:DP", "1:5", ".:7"],
    ["chr1", "3", ".", "RYKMSWBDHVU", ".", "-NaN", "q10;PASS", "DP=1", "GT:DP", "./.:5", ".|.:7"],
    ["chr1", "4", ".", "A", "C,G,T,CA,CC,CG,CT,GA,GC,GG,GT,<NON_REF>", "1e+06", "PASS", "DP=1", "GT:DP", "|0/1:5", "10/12:7"],
    ["chr1", "5", ".", "A", "C,G", "Infinity", "PASS", "DP=1", "DP:GT", "5:0/1/2", "7"],
    ["chr1", "6", ".", "A", "C", ".5", "PASS", "DP=1", "GT:DP", ".", "0/1"],
    ["chr1", "7", ".", "A", "C", "5.", "PASS", "DP=1", "DP", "5", "7"],
]
"""Forms the format allows: IUPAC codes either case, *, symbolic alleles, breakends, missing
values, bcftools' QUAL spellings, declared FILTERs, haploid, phased, VCF 4.4's phase marker,
polyploid and multi-digit GTs, GT elsewhere or absent, a sample without values."""


@pytest.mark.parametrize("one_by_one", [False, True])
def test_the_forms_the_format_allows_are_no_finding(one_by_one: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    findings = audited(vcf_text(["\t".join(fields) for fields in ACCEPTED]), one_by_one, monkeypatch)
    assert findings.total == findings.metadata.counts[MATE_FINDING] == 1, findings.as_dict()  # its mates are not here (test_audit.py)


@pytest.mark.parametrize(
    ("column", "value"),
    [("REF", "A-C"), ("REF", ""), ("ALT", "G,,T"), ("ALT", "<a b>"), ("ALT", "A[chr9:5["), ("ALT", "A[chr1:5]"), ("ALT", "X"),
     ("QUAL", "1.2.3"), ("QUAL", "0x10"), ("QUAL", ""), ("FILTER", "LowQual"), ("GT", "0//1"), ("GT", "0/"), ("GT", ".0"), ("GT", "")],
)  # fmt: skip
def test_near_misses_are_findings(column: str, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for one_by_one in (False, True):
        findings = audited(
            vcf_text([record(column, value).replace("G,", "") if column == "ALT" else record(column, value)]), one_by_one, monkeypatch
        )
        assert findings.metadata.counts[FAULTS[column]] == 1, (column, value, one_by_one)


def test_without_contig_lines_chrom_is_not_judged_and_records_are_located_by_line(monkeypatch: pytest.MonkeyPatch) -> None:
    header = "".join(line + "\n" for line in HEADER.splitlines() if not line.startswith("##contig"))
    data = vcf_text([record("CHROM", "KIMJ"), record("REF", "KIMJ")], header)
    for one_by_one in (False, True):
        findings = audited(data, one_by_one, monkeypatch)
        assert findings.metadata.counts == {FAULTS["REF"]: 1}
        assert findings.metadata.examples[FAULTS["REF"]] == [f"line {header.count(chr(10)) + 2}"]


# --- the block path as the one-record path ------------------------------------------------------

COLUMN_TEXTS = {
    0: ["chr1", "chr2", "chr3", "KIMJ", "KIM_19900101", "/home/kimjh/asm.fa", "NC_000001.11"],
    3: ["A", "ACGT", "acgtn", "N", "KIMJ", "A-C", "A C", "*"],
    4: ["G", "G,T", "*", ".", "<DEL>", "<*>", "A[chr1:5[", "A[chr9:5[", ".A", "A.", "G,,T", "KIMJ", "X", "g", "", "A[<ctg1>:5[",
        "A[<KIM_19900101>:5[", "A[kim@snuh.org:5[", "]chrUn_JTFH01000001v1_decoy:5]A"],
    5: ["50", "0", ".", "29.6", "1e+06", "inf", "nan", "-NaN", "1.2.3", "..", "5.", ".5", "KIMJ", "", "+3", "19850314", "1234567.5",
        "123456.75", "1000000", "1.9850314e7", "9001011234567"],
    6: ["PASS", ".", "q10", "q10;PASS", "LowQual", "q10;KIMJ", ""],
    8: ["GT:DP", "GT", "DP:GT", "DP", "GT:DP:XX"],
    9: ["0/1", "1|1", ".", "./.", "1", "10/12", "|0/1", "0//1", "0/", "KIMJ", "", "0/1/2", ".|.", "0:5", "0/1:5:6"],
}


@st.composite
def vcf_files(draw: st.DrawFn) -> bytes:
    """Records whose columns are drawn from accepted forms and near misses, most clean."""
    lines = []
    for position in range(draw(st.integers(0, 12))):
        fields = [*CLEAN[:9], "0/1:5", "1|1:7"]
        fields[1] = str(position + 1)
        for column in draw(st.lists(st.sampled_from(sorted(COLUMN_TEXTS)), max_size=3)):
            text = draw(st.sampled_from(COLUMN_TEXTS[column]))
            if column == 9:
                fields[draw(st.sampled_from([9, 10]))] = text
            else:
                fields[column] = text
        lines.append("\t".join(fields))
    if draw(st.booleans()):  # without ##contig lines: CHROM and mates held to the contig rule alone
        return vcf_text(lines, "".join(line + "\n" for line in HEADER.splitlines() if not line.startswith("##contig")))
    return vcf_text(lines)


@pytest.mark.slow  # a long sweep of the bulk path against the one-record path: make test-slow (CI runs it after make test)
@settings(max_examples=300, deadline=None)
@given(data=vcf_files(), size=st.sampled_from([40, 200, 1 << 20]))
def test_columns_judged_by_block_as_record_by_record(data: bytes, size: int) -> None:
    """The block path (byte classes over column spans, then the selected records) finds the
    findings and positions of reading every record (GENOSCRUB_ONE_BY_ONE=1), however the
    blocks are cut."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        by_block = audited(data, False, monkeypatch, size).as_dict()
        one_by_one = audited(data, True, monkeypatch, size).as_dict()
    assert by_block == one_by_one


# --- BCF, the corpus ---------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("bcftools") is None, reason="bcftools not installed")
def test_bcf_keeps_ref_and_alt_as_text_and_they_are_found(tmp_path: Path) -> None:
    source = tmp_path / "in.vcf"
    source.write_bytes(vcf_text(["\t".join(CLEAN), record("REF", "KIMJ"), record("ALT", "KIMJ")]))
    bcf = tmp_path / "in.bcf"
    subprocess.run(["bcftools", "view", "--no-version", "-Ob", "-o", str(bcf), str(source)], check=True, capture_output=True)
    forbid = tmp_path / "forbid.txt"
    forbid.write_text("KIMJ\n")
    report = tmp_path / "report.json"
    done = run_command("genoscrub-audit", "--report", str(report), "--forbid", str(forbid), str(bcf))
    assert done.returncode == 1
    (found,) = json.loads(report.read_text())["files"]
    metadata = found["findings"]["metadata"]["by_key"]
    assert metadata[FAULTS["REF"]] == 1 and metadata[FAULTS["ALT"]] == 1
    assert found["findings"]["forbidden"]["by_key"] == {"REF (list line 1)": 1, "ALT (list line 1)": 1}
    assert b"KIMJ" not in done.stdout + done.stderr


def test_corpus_vcfs_off_the_column_grammars(corpus: Path, tmp_path: Path) -> None:
    """Every corpus VCF is read to its end; two hold an ALT off the grammar: bcftools' mpileup
    test writes samtools' old unseen allele ``X`` (7 records), its norm test an ``I`` (1)."""
    paths = sorted((corpus / "vcf").iterdir())
    report_path = tmp_path / "audit.json"
    done = run_command("genoscrub-audit", "-q", "--report", str(report_path), *map(str, paths))
    assert done.returncode in (0, 1) and b"Traceback" not in done.stderr
    files = json.loads(report_path.read_text())["files"]
    found = {}
    for entry in files:
        counts = entry["findings"]["metadata"].get("by_key", {})
        faults = {key: count for key, count in counts.items() if key in FAULTS.values()}
        if faults:
            found[Path(entry["file"]).name] = faults
    assert found == {"bcftools__mpileup.vcf": {FAULTS["ALT"]: 7}, "bcftools__norm.vcf": {FAULTS["ALT"]: 1}}


# --- contig names, sample names, linked IDs, empty INFO items -------------------------------------

PUBLIC_CONTIGS = [
    "1", "22", "X", "Y", "MT", "chr1", "chrX", "chrM", "chrEBV", "hs37d5", "NC_007605", "GL000192.1", "GL000220.1",
    "NC_000001.11", "NC_012920.1", "CM000663.2", "JTFH01000001.1", "chrUn_JTFH01000001v1_decoy", "chrUn_JTFH01001998v1_decoy",
    "chrUn_KN707606v1_decoy", "chr1_KI270706v1_random", "chr6_GL000250v2_alt", "chr22_KI270879v1_alt", "chrUn_GL000195v1",
    "chrY_KI270740v1_random", "HLA-A*01:01:01:01", "HLA-DRB1*15:01:01:01", "HLA-A*01:01:38L", "HLA-DQA1*01:01:02",
    "HLA-A*02:101:01", "HLA-B*44:02:01:02S", "NW_003315905.1", "NT_187361.1", "J01415.2",
]  # fmt: skip
"""Contigs of GRCh37, GRCh38, hs38DH and T2T-CHM13, the list of the shared rules and more."""
PERSONAL_CONTIGS = ["KIM_19900101", "900101-1234567", "/home/kimjh/asm.fa", "kimjh@snuh.org", "%EA%B9%80", "ctg_01.01.1990",
                    "HLA-KIM*900101:1234567", "HLA-A*19900101", "NC_19900101", "KIMJ19900101", "asm_1990-Jan-01"]  # fmt: skip


def contig_header(names: list[str]) -> str:
    return HEADER.replace("##contig=<ID=chr2,length=1000>\n", "".join(f"##contig=<ID={name},length=1000>\n" for name in names))


@pytest.mark.parametrize("one_by_one", [False, True])
def test_public_assembly_contigs_pass(one_by_one: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    records = ["\t".join([name, *CLEAN[1:]]) for name in PUBLIC_CONTIGS]
    records.append("\t".join([*CLEAN[:4], "A[HLA-A*01:01:01:01:5[", *CLEAN[5:]]))
    findings = audited(vcf_text(records, contig_header(PUBLIC_CONTIGS)), one_by_one, monkeypatch)
    assert findings.total == findings.metadata.counts[MATE_FINDING] == 1, findings.as_dict()  # its mate is not here
    no_contigs = "".join(line + "\n" for line in HEADER.splitlines() if not line.startswith("##contig"))
    findings = audited(vcf_text(records, no_contigs), one_by_one, monkeypatch)
    assert findings.total == findings.metadata.counts[MATE_FINDING] == 1, findings.as_dict()


@pytest.mark.parametrize("name", PERSONAL_CONTIGS)
def test_a_contig_holding_personal_data_is_found_and_never_printed(name: str, tmp_path: Path) -> None:
    """In ``##contig``: a header finding, and the records on it are located by line, not by the
    name. Without ``##contig`` lines: a CHROM finding, and a breakend mate an ALT finding."""
    data = vcf_text(["\t".join([name, *CLEAN[1:]])], contig_header([name]))
    done, report = run_audit(tmp_path, data, "path")
    assert done.returncode == 1
    counts, examples = file_findings(report, "metadata")
    assert counts == {"header value ##contig ID": 1}
    assert name.encode() not in done.stdout + done.stderr + json.dumps(report).encode()
    no_contigs = "".join(line + "\n" for line in HEADER.splitlines() if not line.startswith("##contig"))
    records = ["\t".join([name, *CLEAN[1:]]), "\t".join([*CLEAN[:4], f"A[{name}:5[", *CLEAN[5:]])]
    done, report = run_audit(tmp_path, vcf_text(records, no_contigs), "path")
    counts, examples = file_findings(report, "metadata")
    assert counts == {FAULTS["CHROM_NAME"]: 1, FAULTS["ALT"]: 1, MATE_FINDING: 1}
    assert examples[FAULTS["CHROM_NAME"]] == [f"line {no_contigs.count(chr(10)) + 1}"]
    assert name.encode() not in done.stdout + done.stderr + json.dumps(report).encode()


@pytest.mark.parametrize(
    ("sample", "found"),
    [("900101-1234567", True), ("S2301217N_20231029", True), ("/home/kimjh/x.bam", True), ("kim@snuh.org", True),
     ("https://x.org/s", True), ("김지현", True), ("S2301217N", False), ("CMN001_00", False), ("S0123456789ABCDEF", False),
     ("S1234567890ABCDEF", False), ("S4903134303289D62", False), ("SD7A7020612292303", False), ("S4903134303289d62", True),
     ("X4903134303289D62", True), ("SAMPLE1", False), ("NA12878", False), ("HG00096", False), ("CMT7777777_00", False),
     ("9001011234567", True), ("01012345678", True), ("KIM_1990.01.01", True)],
)  # fmt: skip
def test_sample_names_are_held_to_the_personal_data_rule(sample: str, found: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    header = HEADER.replace("\tS1\tS2\n", f"\tS1\t{sample}\n")
    findings = audited(vcf_text(["\t".join(CLEAN)], header), False, monkeypatch)
    assert findings.metadata.counts["sample name (holds personal data)"] == (1 if found else 0)
    assert findings.total == (1 if found else 0)


@pytest.mark.parametrize("one_by_one", ["0", "1"])
@pytest.mark.parametrize(("qual", "found"), [("1.9900101e7", 1), ("1.9900101E+07", 1), ("19900101e0", 1), ("1.99001e+07", 0), ("2e7", 0)])
def test_a_qual_with_an_exponent_is_searched_as_the_number_it_stands_for(
    qual: str, found: int, one_by_one: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader takes ``1.9900101e7`` as 19900101: a listed number is found in QUAL written so
    (``1.99001e+07``, bcftools' six digits, no longer holds it)."""
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
    forbid = tmp_path / "forbid.txt"
    forbid.write_text("KIMJ\n19900101\n")
    fields = list(CLEAN)
    fields[5] = qual
    done, report = run_audit(tmp_path, vcf_text(["\t".join(CLEAN), "\t".join(fields)]), "path", "--forbid", str(forbid))
    forbidden, places = file_findings(report, "forbidden")
    assert forbidden == ({"QUAL (list line 2)": 1} if found else {}), done.stdout.decode()
    assert b"19900101" not in done.stdout + done.stderr + json.dumps(report).encode()


def test_keyed_sample_pseudonyms_pass_whatever_their_digits(tmp_path: Path) -> None:
    """vcf-scrub-header's keyed pseudonyms are upper-case hex; ~3 in 1,000 hold digits that read as
    a registration number (``S4903134303289D62``): the audit knows the shape and does not hold them to the rule."""
    key = tmp_path / "site.key"
    key.write_bytes(b"a key of thirty-two bytes, or so")
    key.chmod(0o600)
    names = [f"PATIENT{number:04d}" for number in range(2000)]
    header = HEADER.replace("\tS1\tS2\n", "\t" + "\t".join(names) + "\n")
    data = vcf_text(["\t".join(CLEAN[:9] + ["0/1:5"] * len(names))], header)
    source = tmp_path / "in.vcf"
    source.write_bytes(data)
    done = run_command("vcf-scrub-header", "-q", "--key-file", str(key), str(source))
    assert done.returncode == 0, done.stderr.decode()
    scrubbed = done.stdout
    written = scrubbed.split(b"\n#CHROM")[1].split(b"\n")[0].split(b"\t")[9:]
    assert len(written) == len(names) and not any(name.encode() in scrubbed for name in names)
    done, report = run_audit(tmp_path, scrubbed, "path")
    counts, _ = file_findings(report, "metadata")
    assert done.returncode == 0 and counts == {}, counts


@pytest.mark.parametrize(("column", "found"), [("id1", False), ("id12;rs123", False), ("bnd1", True), ("ID1", True), ("id", True)])
def test_linked_record_ids_as_the_scrubber_numbers_them_pass(column: str, found: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    fields = list(CLEAN)
    fields[2] = column
    for one_by_one in (False, True):
        assert audited(vcf_text(["\t".join(fields)]), one_by_one, monkeypatch).metadata.counts["ID column"] == (1 if found else 0)


@pytest.mark.parametrize("info", ["DP=10;", "DP=10;;DP=3", ";DP=10"])
def test_an_empty_info_item_is_its_own_finding(info: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fields = list(CLEAN)
    fields[7] = info
    for one_by_one in (False, True):
        findings = audited(vcf_text(["\t".join(fields)]), one_by_one, monkeypatch)
        assert findings.metadata.counts == {"INFO (an empty item)": 1}, findings.as_dict()


@pytest.mark.parametrize("one_by_one", [False, True])
def test_a_sample_with_more_values_than_format_keys_is_found(one_by_one: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 9 B (left): `0/1:5:01:1990` under `GT:DP` holds values no key names, which no check
    reads as what they are (a date in three pieces); vcf-scrub-header removes them, so the audit
    finds each such record, in bulk as one by one, among records the block path settles."""
    planted = list(CLEAN)
    planted[10] = "0/1:5:01:1990"
    lines = ["\t".join(CLEAN)] * 50 + ["\t".join(planted)] + ["\t".join(CLEAN)] * 50
    findings = audited(vcf_text(lines), one_by_one, monkeypatch)
    assert findings.metadata.counts == {FAULTS["VALUES"]: 1}, findings.as_dict()


@pytest.mark.parametrize("one_by_one", [False, True])
@pytest.mark.parametrize(
    ("alt", "gt", "found"),
    [("G", "0/19850314", True), ("G", "900101/1234567", True), ("G", "0|10|1234|5678", True), ("G", "0/2", True), ("G", "2", True),
     (".", "0/2", True), ("G", "01/1", True), (".", "0/1", False), ("G,T", "0/1/0/1/0/1/0/1/0", True), ("G,T", "0/2", False),
     ("G", "1/1", False),
     (".", "0/0", False), ("G,T", "0/1/0/1/0/1/0/1", False), ("G", "./.", False)],
)  # fmt: skip
def test_a_gt_naming_an_allele_the_record_lacks_is_found(
    alt: str, gt: str, found: bool, one_by_one: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rt10b F10: a GT's allele numbers index the record's alleles; a number past its ALT count (or
    with a leading zero), or more than MAX_PLOIDY of them, is free digits (a date, a registration
    number in two pieces, a phone number as four alleles): one finding, in bulk (one-digit alleles
    among records the block path settles) as one by one."""
    planted = list(CLEAN)
    planted[4], planted[10] = alt, gt + ":7"
    lines = ["\t".join(CLEAN)] * 30 + ["\t".join(planted)] + ["\t".join(CLEAN)] * 30
    findings = audited(vcf_text(lines), one_by_one, monkeypatch)
    assert findings.metadata.counts == ({FAULTS["GT_ALLELE"]: 1} if found else {}), findings.as_dict()


@pytest.mark.parametrize("one_by_one", [False, True])
def test_a_format_key_given_twice_is_found(one_by_one: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """rt10b F10: ``GT:GT`` with ``0/1:19850314``: a reader of the text takes the first GT and
    prints the second as written (htslib refuses the key twice in BCF): one finding a record,
    however many such records follow (such a FORMAT is never settled in bulk)."""
    planted = list(CLEAN)
    planted[8:11] = ["GT:GT", "0/1:19850314", "0/1:1"]
    lines = ["\t".join(CLEAN)] * 30 + ["\t".join(planted)] * 3
    findings = audited(vcf_text(lines), one_by_one, monkeypatch)
    assert findings.metadata.counts == {FAULTS["FORMAT_TWICE"]: 3}, findings.as_dict()


@pytest.mark.parametrize("one_by_one", [False, True])
@pytest.mark.parametrize(
    ("qual", "found"),
    [("9001011234567", True), ("19850314", True), ("1012345678", True), ("1234567.5", True), ("1.9850314e7", True),
     ("1e+06", False), ("1.23457e+06", False), ("10000000", False), ("123456.789", False), ("999999", False), ("3456.75", False)],
)  # fmt: skip
def test_a_qual_of_a_million_or_more_holds_at_most_six_significant_digits(
    qual: str, found: bool, one_by_one: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rt10b F11: a QUAL of 13 digits (a registration number), a date or a mobile number is no
    caller's: a QUAL of a million or more has at most 6 significant digits, as bcftools prints it."""
    planted = list(CLEAN)
    planted[5] = qual
    lines = ["\t".join(CLEAN)] * 30 + ["\t".join(planted)] + ["\t".join(CLEAN)] * 30
    findings = audited(vcf_text(lines), one_by_one, monkeypatch)
    assert findings.metadata.counts == ({FAULTS["QUAL_DIGITS"]: 1} if found else {}), findings.as_dict()


@pytest.mark.parametrize(
    ("column", "found"),
    [("rs9001011234567", True), ("COSV9001011234567", True), ("COSM1234567890", True), ("rs01012345678", True), ("rs0", True),
     ("id9001011234567", True), ("id33", True), ("rs1234567890", False), ("COSV123456789", False), ("id1;rs12", False), ("id32", False)],
)  # fmt: skip
def test_an_id_past_its_database_numbers_is_found(column: str, found: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """rt10b F11: dbSNP's rs numbers have at most 10 digits, COSMIC's at most 9, none a leading zero,
    and vcf-scrub-header numbers linked records from id1, a few a record: a longer number there is a
    personal number (here the fourth of 4 records: id32 is the most it may have given)."""
    fields = list(CLEAN)
    fields[2] = column
    lines = ["\t".join(CLEAN)] * 3 + ["\t".join(fields)]
    for one_by_one in (False, True):
        counts = audited(vcf_text(lines), one_by_one, monkeypatch).metadata.counts
        assert counts.get("ID column (a number past its database's)", 0) == (1 if found else 0), counts


@pytest.mark.parametrize("one_by_one", [False, True])
def test_what_htslib_refuses_is_found_an_empty_record_line_and_a_sample_named_twice(
    one_by_one: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rt10b F6: bcftools stops at an empty line between records ("Broken VCF record") and refuses a
    header naming one sample twice ("Duplicated sample name"): the recipient could not read what the
    gate delivered, and the audit's reader would differ from htslib's; each is one finding."""
    clean = "\t".join(CLEAN)
    findings = audited(vcf_text([clean, "", clean, "  ", clean]), one_by_one, monkeypatch)
    assert findings.metadata.counts == {"record line (empty)": 2}, findings.as_dict()
    twice = HEADER.replace("\tS1\tS2\n", "\tS1\tS1\n")
    findings = audited(vcf_text([clean], twice), one_by_one, monkeypatch)
    assert findings.metadata.counts == {"sample name (given twice)": 1}, findings.as_dict()
