"""genoscrub-audit on SAM text: the fields htslib reads without keeping their text are found.

htslib makes an RNAME or RNEXT that no @SQ declares ``*``, keeps the number an ``i``/``f``
aux value starts with and the first character of an ``A`` value, does not read an aux
field's colons, and reads a SEQ letter that is not a base code as ``N``. Each case plants a
sample name and a path there, runs the audit as a user would (a path, stdin, gzip, BGZF) and
expects a metadata finding, a forbidden finding, and neither value in stdout, stderr or the
report. A BAM made from the same records by samtools
holds none of that text and gives none of these findings. The bulk check is held to the
one-record reference (``line_findings``) by hypothesis.
"""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import pysam
import pytest
from genoscrub import audit_sam_text
from genoscrub.audit_forbid import ForbidList, entry
from genoscrub.audit_sam_text import SamTextAudit, aux_value_whole, line_findings
from genoscrub.one_by_one import ENVIRONMENT
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run_command

SAMPLE = "KIMJ"
PATH = "/home/kim/x"
FORBID = f"{SAMPLE}\n{PATH}\n"
HEADER = "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:c1\tLN:60\n"
CLEAN = ["READ1", "0", "c1", "1", "60", "4M", "*", "0", "0", "ACGT", "IIII", "NM:i:0"]


def record(column: int | None = None, value: str = "", aux: str | None = None) -> str:
    fields = list(CLEAN)
    if column is not None:
        fields[column] = value
    if aux is not None:
        fields[-1] = aux
    return "\t".join(fields) + "\n"


# (case, header, record with {} where the planted value goes, metadata key)
GAPS = [
    ("rname", HEADER, record(2, "{}"), "RNAME not declared by @SQ"),
    ("rnext", HEADER, record(6, "{}"), "RNEXT not declared by @SQ"),
    ("rname-no-sq", "@HD\tVN:1.6\n", record(2, "{}"), "RNAME not declared by @SQ"),
    ("rname-no-header", "", record(2, "{}"), "RNAME not declared by @SQ"),
    ("integer-after-number", HEADER, record(aux="NM:i:0{}"), "aux value does not parse NM"),
    ("integer-no-number", HEADER, record(aux="NM:i:{}"), "aux value does not parse NM"),
    ("float-after-number", HEADER, record(aux="de:f:0.5{}"), "aux value does not parse de"),
    ("float-nan-text", HEADER, record(aux="de:f:nan({})"), "aux value does not parse de"),
    ("letter-after-letter", HEADER, record(aux="XT:A:U{}"), "aux value does not parse XT"),
    ("seq", HEADER, "READ1\t4\t*\t0\t0\t*\t*\t0\t0\t{}\t*\n", "SEQ holds a character that is not a base"),
    ("qual", HEADER, record(10, "\x01{}\x7f"), "QUAL holds a byte outside ! to ~"),
]
WAYS = ["path", "gzip", "bgzip", "stdin", "stdin-gzip"]


def audit(tmp_path: Path, text: str, way: str) -> tuple[subprocess.CompletedProcess[bytes], str]:
    """Run the audit on ``text`` delivered ``way``; the result and the report's text."""
    forbid = tmp_path / "forbid.txt"
    forbid.write_text(FORBID)
    report = tmp_path / "report.json"
    data = text.encode()
    if way in ("gzip", "stdin-gzip"):
        data = gzip.compress(data, mtime=0)  # as gzip writes a pipe: a time in the header is a finding of its own
    target = tmp_path / "in.sam"
    if way == "bgzip":
        target.write_bytes(data)
        pysam.tabix_compress(str(target), str(tmp_path / "in.sam.gz"), force=True)
        target = tmp_path / "in.sam.gz"
    else:
        target.write_bytes(data)
    if way.startswith("stdin"):
        result = run_command("genoscrub-audit", "--forbid", str(forbid), "--report", str(report), "-", input=data)
    else:
        result = run_command("genoscrub-audit", "--forbid", str(forbid), "--report", str(report), str(target))
    return result, report.read_text() if report.exists() else ""


def assert_unquoted(result: subprocess.CompletedProcess[bytes], report: str) -> None:
    for shown in (result.stdout.decode(), result.stderr.decode(), report):
        assert SAMPLE.lower() not in shown.lower()
        assert "/home" not in shown and "kim" not in shown.lower()


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize(("header", "line", "key"), [gap[1:] for gap in GAPS], ids=[gap[0] for gap in GAPS])
# a path planted: make test-slow (a sample ID runs in make test)
@pytest.mark.parametrize("planted", [pytest.param(SAMPLE, id="sample"), pytest.param(PATH, id="path", marks=pytest.mark.slow)])
def test_a_value_htslib_does_not_keep_is_found_unquoted(tmp_path: Path, header: str, line: str, key: str, planted: str, way: str) -> None:
    result, report = audit(tmp_path, header + line.format(planted), way)
    assert result.returncode == 1, result.stderr
    assert result.stderr == b""
    findings = json.loads(report)["files"][0]["findings"]
    assert findings["metadata"]["by_key"][key] == 1
    assert findings["metadata"]["examples"][key] == ["line " + str(header.count("\n") + 1)]
    field = key.split()[-1] if key.startswith("aux") else key.split()[0]  # RNAME, RNEXT, SEQ
    label = f"aux {field}" if key.startswith("aux") else field
    assert sum(count for name, count in findings["forbidden"]["by_key"].items() if name.startswith(label + " (list line")) == 1
    assert_unquoted(result, report)


@pytest.mark.parametrize("way", ["path", "stdin-gzip"])
def test_the_same_records_with_their_names_declared_pass(tmp_path: Path, way: str) -> None:
    """No finding where every name is declared or ``*``/``=`` and every aux value is read whole."""
    lines = [
        record(),
        record(6, "="),
        "\t".join(["READ2", "99", "c1", "1", "60", "4M", "c1", "5", "8", "ACGT", "IIII", "NM:i:-0", "AS:i:+7", "de:f:1e-2"]) + "\tXT:A:U\n",
        record(2, "*"),
        record(9, "acgN").replace("NM:i:0", "XS:i:1"),
        record(9, "MRWS"),
        "READ3\t4\t*\t0\t0\t*\t*\t0\t0\t*\t*\n",
    ]
    result, report = audit(tmp_path, HEADER + "".join(lines), way)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert json.loads(report)["verdict"] == "pass"


@pytest.mark.parametrize("header", ["@HD\tVN:1.6\n", ""], ids=["no-sq", "no-header"])
def test_unaligned_sam_without_sq_lines_is_audited(tmp_path: Path, header: str) -> None:
    """Unaligned reads need no @SQ line: such a SAM is read (pysam's iterator refused it) and passes."""
    result, report = audit(tmp_path, header + "READ1\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII\n", "stdin")
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert json.loads(report)["files"][0]["records"] == 1


def test_a_bam_of_the_same_records_holds_nothing_of_it(tmp_path: Path) -> None:
    """samtools makes a BAM of a SAM that declares the contig: no text is left to find, and the
    audit (which reads BAM without this module) finds none of these keys."""
    header = HEADER + "@SQ\tSN:c2\tLN:60\n"
    lines = [record(2, "c2"), record(6, "c2"), record(aux="NM:i:0" + SAMPLE), record(aux="XT:A:U" + SAMPLE)]
    sam = tmp_path / "declared.sam"
    sam.write_text(header + "".join(lines))
    bam = tmp_path / "declared.bam"
    subprocess.run(["samtools", "view", "-b", "--no-PG", "-o", str(bam), str(sam)], check=True, capture_output=True)
    forbid = tmp_path / "forbid.txt"
    forbid.write_text(FORBID)
    report = tmp_path / "report.json"
    result = run_command("genoscrub-audit", "--forbid", str(forbid), "--report", str(report), str(bam))
    assert result.returncode == 0, result.stdout.decode()
    assert json.loads(report.read_text())["verdict"] == "pass"
    text_result = run_command("genoscrub-audit", "--forbid", str(forbid), "--report", str(report), str(sam))
    found = json.loads(report.read_text())["files"][0]["findings"]
    assert text_result.returncode == 1
    assert set(found["metadata"]["by_key"]) == {"aux value does not parse NM", "aux value does not parse XT"}


def test_htslib_hides_these_values_from_the_bam_it_makes(tmp_path: Path) -> None:
    """The premise, by samtools: each planted value is gone from the records htslib reads (a QUAL
    with a control byte: htslib refuses the file, and the rest of it would go unread)."""
    for _, header, line, key in GAPS[:2] + GAPS[4:]:
        if key.startswith("QUAL"):
            refused = subprocess.run(["samtools", "view", "-"], input=(header + line.format(SAMPLE)).encode(), capture_output=True)
            assert refused.returncode != 0
            continue
        sam = tmp_path / "planted.sam"
        sam.write_text(header + line.format(SAMPLE))
        shown = subprocess.run(["samtools", "view", str(sam)], capture_output=True, check=True)
        assert SAMPLE.encode() not in shown.stdout
        assert SAMPLE.encode() in sam.read_bytes()


@pytest.mark.parametrize("way", ["path", "stdin-gzip"])
def test_a_nul_byte_in_a_header_line_is_found(tmp_path: Path, way: str) -> None:
    """htslib keeps a header line's text up to a NUL byte: the planted name after it was never checked."""
    header = HEADER + "@RG\tID:g1\tSM:CMT001_00\0" + SAMPLE + "\tPL:ILLUMINA\n"
    result, report = audit(tmp_path, header + record(aux="RG:Z:g1"), way)
    assert result.returncode == 1, result.stderr
    findings = json.loads(report)["files"][0]["findings"]
    assert findings["metadata"]["by_key"]["line holds a NUL byte"] == 1
    assert findings["metadata"]["examples"]["line holds a NUL byte"] == ["line 3"]
    assert findings["forbidden"]["by_key"] == {"line with a NUL byte (list line 1)": 1}
    assert_unquoted(result, report)


def test_htslib_warnings_never_reach_stderr(tmp_path: Path) -> None:
    """htslib warns "unrecognized reference name X" with the name; the audit's stderr stays empty."""
    result, report = audit(tmp_path, HEADER + record(2, SAMPLE) + record(6, SAMPLE), "path")
    assert result.returncode == 1
    assert result.stderr == b""
    assert_unquoted(result, report)


def test_a_line_htslib_refuses_is_still_an_error(tmp_path: Path) -> None:
    """Lines of fewer than 11 columns are left to htslib, which refuses the file: exit 1, one line, no value."""
    result, report = audit(tmp_path, HEADER + record(2, SAMPLE) + "READ9\t0\t" + SAMPLE + "\n", "path")
    assert result.returncode == 1
    assert result.stderr.count(b"\n") == 1 and b"htslib cannot read this SAM input" in result.stderr
    assert_unquoted(result, report)


def test_a_truncated_gzip_sam_is_an_error(tmp_path: Path) -> None:
    data = gzip.compress((HEADER + record() * 2000).encode())
    cut = tmp_path / "cut.sam.gz"
    cut.write_bytes(data[: len(data) // 2])
    result = run_command("genoscrub-audit", str(cut))
    assert result.returncode == 1
    assert b"truncated or corrupt compressed input" in result.stderr


@pytest.mark.parametrize(
    ("field", "whole"),
    [
        ("NM:i:0", True), ("NM:i:-12", True), ("NM:i:+7", True), ("NM:i:4294967295", True),
        ("NM:i:", False), ("NM:i:0x10", False), ("NM:i:1 2", False), ("NM:i:12-34-56", False), ("NM:i:+", False),
        ("de:f:0.5", True), ("de:f:-.5", True), ("de:f:1e-2", True), ("de:f:3.", True),
        ("de:f:nan", False), ("de:f:inf", False), ("de:f:1.5.5", False), ("de:f:", False),
        ("de:f:0.123456789", True), ("de:f:19900101e-8", True), ("de:f:3.4028235e+38", True), ("de:f:0.000000", True),
        ("dv:f:0.9001011234567", False), ("de:f:1e-19900101", False), ("de:f:1e-005", False), ("de:f:0.00000000001", False),
        ("ML:B:f,0.5,1e-05", True), ("ML:B:f,0.5,0.9001011234567", False), ("ML:B:f,1e+123", False),
        ("XT:A:U", True), ("XT:A:UU", False), ("XT:A:", False), ("XT:A: ", False),
        ("ML:B:C,1,255", True), ("ML:B:C", True), ("jM:B:f,1.5,-2e3", True), ("ML:B:C,1x", False), ("ML:B:Z,1", False),
        ("XZ:Z:anything at all", True), ("XH:H:0A1B", True),
        ("NMXiX0", False), ("NM:i", False),
    ],
)  # fmt: skip
def test_aux_value_whole(field: str, whole: bool) -> None:
    assert aux_value_whole(field.encode()) is whole


NAMES = [b"c1", b"c2", b"*", b"=", b"KIMJ", b"/home/kim/x", b"", b"c1 "]
AUX = [
    b"XZ:Z:a\0b", b"NM:i:0", b"NM:i:0KIMJ", b"NM:i:-3", b"NM:i:", b"XT:A:U", b"XT:A:UK", b"de:f:0.5", b"de:f:nan",
    b"ML:B:C,1,2", b"ML:B:C,1K", b"dv:f:0.19900101", b"de:f:1e-19900101", b"dv:f:0.9001011234567", b"de:f:2.1234567",
    b"xx:f:0.19900101", b"XZ:Z:KIMJ", b"", b"N", b"NMXiX0", b"RG:Z:g1",
]  # fmt: skip


SEQS = [b"ACGT", b"acgt", b"*", b"KIMJ", b"AC.=", b"A1CT", b"NNNN", b"AC-T", b"RYKM", b"ACGU"]
QUALS = [b"IIII", b"*", b"!!~~", b"I\x01II", b"II I", b"\x7fIII", b"II\x1f\x1f", "I김".encode(), b"KIMJ"]
BASE_CODES = b"=ACMGRSVTWYHKDBNacmgrsvtwyhkdbn.Uu"


def sam_line(rname: bytes, rnext: bytes, aux: list[bytes], seq: bytes = b"ACGT", qual: bytes = b"IIII") -> bytes:
    return b"\t".join([b"READ1", b"0", rname, b"1", b"60", b"4M", rnext, b"0", b"0", seq, qual, *aux]) + b"\n"


def checked(text: bytes, monkeypatch: pytest.MonkeyPatch, every_record: bool, size: int) -> tuple[bytes, dict[str, object]]:
    monkeypatch.setenv(ENVIRONMENT, "1" if every_record else "0")
    audit = SamTextAudit("in.sam", ForbidList([entry(b"KIMJ", 1), entry(b"/home/kim/x", 2)], "forbid", other_spellings=True))
    blocks = [text[at : at + size] for at in range(0, len(text), size)]
    out = b"".join(audit.checked_blocks(blocks))
    return out, audit.findings.as_dict()


lines_strategy = st.lists(
    st.one_of(
        st.builds(
            sam_line,
            st.sampled_from(NAMES),
            st.sampled_from(NAMES),
            st.lists(st.sampled_from(AUX), max_size=4),
            st.sampled_from(SEQS),
            st.sampled_from(QUALS),
        ),
        st.sampled_from([b"READ9\t0\tKIMJ\n", b"\n"]),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(lines=lines_strategy, size=st.integers(1, 400), declared=st.booleans())
def test_bulk_and_one_record_paths_agree(lines: list[bytes], size: int, declared: bool) -> None:
    """Same findings and same text for htslib, a block at a time or a line at a time, however the text is cut."""
    text = (b"@SQ\tSN:c1\tLN:60\n@SQ\tSN:c2\tLN:60\n" if declared else b"") + b"".join(lines)
    with pytest.MonkeyPatch.context() as monkeypatch:
        bulk = checked(text, monkeypatch, False, size)
        single = checked(text, monkeypatch, True, size)
    assert bulk == single


@settings(max_examples=100, deadline=None)
@given(
    rname=st.sampled_from(NAMES[:-2]),
    rnext=st.sampled_from(NAMES[:-2]),
    aux=st.lists(st.sampled_from(AUX[:16]), max_size=3),
    seq=st.sampled_from(SEQS),
    qual=st.sampled_from(QUALS),
)
def test_the_one_record_reference_reads_each_field(
    rname: bytes, rnext: bytes, aux: list[bytes], seq: bytes, qual: bytes
) -> None:
    """``line_findings`` against the rules stated plainly: an undeclared name, a SEQ with a
    character that is no base code, a QUAL with a byte outside ``!`` to ``~``, an aux value not
    read whole, a de or dv read whole but written with more than 6 significant digits while it
    lies from 0 to 1."""
    names = frozenset({b"c1", b"c2"})
    found, spans = line_findings(sam_line(rname, rnext, aux, seq, qual)[:-1], names)
    expected = []
    if rname not in names | {b"*"}:
        expected.append(("RNAME", rname))
    if rnext not in names | {b"*", b"="}:
        expected.append(("RNEXT", rnext))
    if seq != b"*" and any(base not in BASE_CODES for base in seq):
        expected.append(("SEQ", seq))
    if any(byte < ord("!") or byte > ord("~") for byte in qual):
        expected.append(("QUAL", qual))
    for field in aux:
        if field and not aux_value_whole(field):
            expected.append(("aux", field))
        elif field[:5] in (b"de:f:", b"dv:f:") and 0 <= float(field[5:]) <= 1 and len(field[5:].replace(b".", b"").lstrip(b"0")) > 6:
            expected.append(("digits", field))
    assert [(kind, text) for kind, _, text in found] == expected
    assert len(spans) == sum(kind in ("RNAME", "RNEXT", "QUAL") for kind, _ in expected)


def test_undeclared_names_reach_htslib_as_a_star() -> None:
    text = HEADER.encode() + sam_line(b"KIMJ", b"/home/kim/x", [b"NM:i:0"]) + sam_line(b"c1", b"=", [])
    out = b"".join(SamTextAudit("in.sam", None).checked_blocks([text]))
    assert out == HEADER.encode() + sam_line(b"*", b"*", [b"NM:i:0"]) + sam_line(b"c1", b"=", [])


@pytest.mark.parametrize("every_record", [False, True])
def test_a_qual_htslib_refuses_reaches_it_as_a_star(every_record: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 9 A1: a QUAL with control bytes (a BAM's qualities 224 to 254 print so) made htslib
    refuse the file, an error rather than a finding; it is a finding at its line, handed on as ``*``,
    and the lines after it are read."""
    text = HEADER.encode() + sam_line(b"c1", b"*", [b"NM:i:0"], qual=b"I\x01\x1f\x7f") + sam_line(b"KIMJ", b"*", [], qual=b"I II")
    out, findings = checked(text, monkeypatch, every_record, 1 << 16)
    assert out == HEADER.encode() + sam_line(b"c1", b"*", [b"NM:i:0"], qual=b"*") + sam_line(b"*", b"*", [], qual=b"*")
    metadata = findings["metadata"]
    assert isinstance(metadata, dict)
    assert metadata["by_key"] == {"QUAL holds a byte outside ! to ~": 2, "RNAME not declared by @SQ": 1}
    assert metadata["examples"]["QUAL holds a byte outside ! to ~"] == ["line 3", "line 4"]
    assert audit_sam_text.MANDATORY_TABS == 10


def test_the_corpus_seq_conformance_cases(corpus: Path, tmp_path: Path) -> None:
    """hts-specs' SEQ cases: ``Uu`` (read as T) passes, the whole alphabet (most of it read as N)
    is a finding at its line; htslib's ``xx#u.sam`` (a SEQ with U) has no SEQ finding."""
    report = tmp_path / "report.json"
    expected = {
        "sam/htsspecs__seq.warn.sam": ["line 5"],
        "sam-bad/htsspecs__seq.fail2.sam": ["line 3", "line 4", "line 5"],
        "sam/htslib__xx#u.sam": [],
    }
    for name, lines in expected.items():
        run_command("genoscrub-audit", "--report", str(report), str(corpus / name))
        findings = json.loads(report.read_text())["files"][0]["findings"]["metadata"]
        key = "SEQ holds a character that is not a base"
        assert findings["by_key"].get(key, 0) == len(lines), name
        assert findings["examples"].get(key, []) == lines[: len(findings["examples"].get(key, []))], name


@pytest.mark.parametrize("way", ["path", "stdin-gzip"])
def test_a_divergence_written_with_a_date_in_its_digits_is_found(tmp_path: Path, way: str) -> None:
    """htslib keeps ``de:f:19900101e-8`` as the float 0.19900101, which the BAM's value check passes:
    the text's 8 significant digits, more than de's 6, are "aux value off its grammar de" at their
    line, and with the date on the forbid list a forbidden finding too. A value off the number
    grammar (more digits than a float holds) is one finding, not two."""
    forbid = tmp_path / "forbid.txt"
    forbid.write_text("19900101\n900101-1234567\n")
    lines = [record(aux="de:f:19900101e-8"), record(aux="dv:f:0.123457"), record(aux="dv:f:0.9001011234567"), record(aux="de:f:2.12345678")]
    data = (HEADER + "".join(lines)).encode()
    target = tmp_path / "in.sam"
    target.write_bytes(gzip.compress(data, mtime=0) if way == "stdin-gzip" else data)
    report = tmp_path / "report.json"
    arguments = ["--forbid", str(forbid), "--report", str(report)]
    result = run_command("genoscrub-audit", *arguments, "-", input=target.read_bytes()) if way == "stdin-gzip" else run_command(
        "genoscrub-audit", *arguments, str(target)
    )
    assert result.returncode == 1
    findings = json.loads(report.read_text())["files"][0]["findings"]
    assert findings["metadata"]["by_key"] == {"aux value off its grammar de": 2, "aux value does not parse dv": 1}
    assert sorted(findings["metadata"]["examples"]["aux value off its grammar de"]) == ["c1:1", "line 3"]  # the BAM's range; the text's
    assert findings["forbidden"]["by_key"] == {"aux de (list line 1)": 1, "aux dv (list line 2)": 1}
    for shown in (result.stdout, result.stderr, report.read_bytes()):
        assert b"19900101" not in shown and b"9001011234567" not in shown
    allowed = run_command("genoscrub-audit", "--allow-tag", "de", "--allow-tag", "dv", "--report", str(report), str(tmp_path / "in.sam"))
    by_key = json.loads(report.read_text())["files"][0]["findings"]["metadata"]["by_key"]
    assert allowed.returncode == 1 and by_key == {"aux value does not parse dv": 1}  # --allow-tag: the tag's grammar is not read


def test_sam_scrub_rg_output_of_long_floats_passes(tmp_path: Path) -> None:
    """sam-scrub-rg removes what the audit finds in SAM text: its output passes."""
    planted = tmp_path / "planted.sam"
    planted.write_text(HEADER + record(aux="de:f:19900101e-8") + record(aux="dv:f:0.9001011234567") + record(aux="de:f:1e-19900101"))
    scrubbed = tmp_path / "scrubbed.sam"
    assert run_command("sam-scrub-rg", "-q", "-o", str(scrubbed), str(planted)).returncode == 0
    assert [row.count("\t") for row in scrubbed.read_text().splitlines() if not row.startswith("@")] == [10, 10, 10]
    report = tmp_path / "report.json"
    assert run_command("genoscrub-audit", "--report", str(report), str(scrubbed)).returncode == 0
