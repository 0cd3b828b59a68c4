"""genoscrub-audit without a forbid list: identifier shapes in VCF record values, keys and IDs,
and places (paths, URLs, addresses, hosts) in header Descriptions.

Each form a Korean hospital's systems write (a name in Hangul, a resident registration
number, a record or phone number, a date, an e-mail address, a path, the same percent-encoded
or as HTML references) is planted in an INFO String value, a FORMAT String sample value, a
FILTER ID, an INFO key and a symbolic ALT: each record is a finding, and the form is never
printed or reported. The public shapes of annotations (dbSNP, Ensembl, VEP, GATK, gnomAD) are
no finding. The block search and the record-by-record path find the same records.
"""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from genoscrub import audit_vcf
from genoscrub.audit_findings import Findings
from genoscrub.audit_record_traces import MATE_FINDING
from genoscrub.audit_record_values import INFO_COLUMN, KIND, id_fails, value_holds_identifier
from genoscrub.record_values import RecordValues
from genoscrub.scan_python import in_column
from genoscrub.streams import line_blocks
from genoscrub.vcf_header import ALT_ID, FIELD_ID, FILTER_ID
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run_command
from tests.identifier_forms import FORMS

SIMULATION = {"pairs": 1500}


HEADER = (
    "##fileformat=VCFv4.2\n"
    "##contig=<ID=chr1,length=248956422>\n"
    '##FILTER=<ID=q10,Description="Quality below 10">\n'
    '##INFO=<ID=NOTE,Number=1,Type=String,Description="A note">\n'
    '##INFO=<ID=CODE,Number=1,Type=Character,Description="A code">\n'
    '##INFO=<ID=END,Number=1,Type=Integer,Description="End position">\n'
    '##INFO=<ID=CAF,Number=.,Type=String,Description="dbSNP allele frequencies">\n'
    '##INFO=<ID=GENEINFO,Number=1,Type=String,Description="dbSNP gene">\n'
    '##INFO=<ID=CSQ,Number=.,Type=String,Description="VEP consequences">\n'
    '##INFO=<ID=GENE,Number=1,Type=String,Description="A gene">\n'
    '##INFO=<ID=DB,Number=0,Type=Flag,Description="In dbSNP">\n'
    '##INFO=<ID=BIRTH,Number=.,Type=Integer,Description="A count">\n'
    '##INFO=<ID=FL,Number=1,Type=Float,Description="A fraction">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=NM,Number=1,Type=String,Description="A sample note">\n'
    '##FORMAT=<ID=PID,Number=1,Type=String,Description="Phasing ID">\n'
    '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">\n'
    '##FORMAT=<ID=DB,Number=1,Type=Integer,Description="A count">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tSAMPLE1\n"
)
CLEAN = ["chr1", "1000", "rs76717221", "A", "G", "50", "PASS", "NOTE=fine", "GT:NM", "0/1:fine"]


def planted(form: str) -> list[str]:
    """Five records, the form in one place each: INFO String value, FORMAT String sample value,
    FILTER ID, INFO key, symbolic ALT."""
    value = FORMS[form][0]
    records = []
    for column, text in ((7, f"NOTE={value}"), (9, f"0/1:{value}"), (6, f"q10;{value}"), (7, f"DB;{value}=1"), (4, f"<{value}>")):
        fields = list(CLEAN)
        fields[column] = text
        records.append("\t".join(fields))
    return records


EXCEPTIONS = [
    "NOTE=rs76717221",
    "NOTE=ENSG00000227232",
    "GENE=LOC100506134",
    "CAF=0.9998,0.0001997",
    "GENEINFO=DDX11L1:100287102",
    "NOTE=chr1:12345678",
    "NOTE=chr1:12345678-12345999",
    "NOTE=NM_001009931",
    "NOTE=GCA_000001405.15",
    "NOTE=1-55516888-G-GA",
    "NOTE=c.1234567A>G",
    "CSQ=A|missense_variant|MODERATE|DDX11L1|ENSG00000223972|Transcript|ENST00000456328|1234567-1234570|p.Ser12%3D|R/W|Cgg/Tgg|1/4",
    "END=12345678",
    "CODE=A",
    "DB",
]
"""INFO items that are no finding (the contract's exceptions and public annotation shapes)."""
SAMPLE_EXCEPTIONS = [("GT:PID:PS", "0|1:16050036_A_C:12345678"), ("GT:NM", "0/1:NM_001009931"), ("GT:NM", "./.:.")]


def vcf_text(records: list[str], header: str = HEADER) -> bytes:
    return (header + "".join(record + "\n" for record in records)).encode()


def audited(data: bytes, one_by_one: bool, monkeypatch: pytest.MonkeyPatch, block_size: int = 1 << 20) -> Findings:
    """The audit's VCF reader over ``data`` in process, without a forbid list."""
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", "1" if one_by_one else "0")
    monkeypatch.setattr(audit_vcf, "line_blocks", lambda stream, path: line_blocks(stream, path, block_size))
    findings = Findings()
    audit_vcf.VcfAudit(audit_vcf.VcfChecks("x.vcf", None, frozenset(), None, None), findings).run(io.BytesIO(data))
    return findings


def record_value_findings(findings: Findings) -> tuple[int, list[str]]:
    return findings.metadata.counts[KIND], findings.metadata.examples.get(KIND, [])


def run_audit(path: Path, *options: str) -> tuple[subprocess.CompletedProcess[bytes], dict[str, Any]]:
    report = path.with_name(path.name + ".audit.json")
    done = run_command("genoscrub-audit", "--report", str(report), *options, str(path))
    return done, json.loads(report.read_text()) if report.exists() else {}


def metadata_keys(report: dict[str, Any]) -> dict[str, int]:
    (found,) = report["files"]
    return dict(found["findings"]["metadata"].get("by_key", {}))


# --- the rules, one value at a time ----------------------------------------------------------


@pytest.mark.parametrize("form", list(FORMS))
def test_every_form_fails_the_value_rule_and_the_id_rule(form: str) -> None:
    value = FORMS[form][0].encode()
    assert value_holds_identifier(value, frozenset({b"chr1"}))
    for grammar in (FIELD_ID, FILTER_ID, ALT_ID):
        assert id_fails(value, grammar)


SCRUBBER_RULE = RecordValues(frozenset(), frozenset(), frozenset({b"chr1"}))
"""vcf-scrub-header's value rule (``record_values``), beside the audit's: the two give one answer."""


@pytest.mark.parametrize(
    "value",
    ["19900101", "MRN:12345678", "900101-1234567", "010-1234-5678", "H-2023-000123", "PT_12345678", "chr2:12345678",
     "1234570-1234567", "0123456-0123457", "12345678-123456789", "1990.1.1", "01/01/1990", "x=/home/kim", "a|~kim", "a/b/c",
     "%C3%A9", "&#x44;", "kim@lab", "s3://x", "1234567a", "29-OCT-2023", "29OCT2023", "01-Jan-90", "1 January 1990",
     "Oct 29 2023", "October 29th, 2023", "born_29_oct_2023", "SEP-1-2023", "1990-Jan-01", "1990 Jan 01", "1990JAN01",
     "DOB_1990jan1", "1st January 1990", "22nd Oct, 2023", "12th-OCT-2023", "Dec. 1, 1990", "Sept. 1st, 1990",
     "the 1st of January 1990", "DOB01JAN1990", "xx01Jan1990xx", "DOB1990Jan01", "Jan-01-90", "Dec-1-90", "JAN_01_90",
     "01+Jan+1990", "01~Jan~1990"],
)  # fmt: skip
def test_the_contracts_failing_shapes_are_identifiers(value: str) -> None:
    assert value_holds_identifier(value.encode(), frozenset({b"chr1"}))
    assert SCRUBBER_RULE.holds_identifier(value.encode(), b"NOTE")  # the scrubber's rule, its own code


@pytest.mark.parametrize(
    "value",
    ["rs76717221", "ENSG00000227232", "LOC100506134", "0.0001997", "c.1234567A>G", "1234567-1234570", "16050036_A_C",
     "1-55516888-G-GA", "chr1:12345678", "chr1_12345678", "NM_001009931", "XP_011544380.1", "GCA_000001405", "p.Ser12%3D",
     "R/W", "Cgg/Tgg", "1/4", "MRN12345678", "lab/x.bam", "seq01.hospital.local", "gnomAD_Oct2020", "1000g2015aug_all",
     "MARCH5", "SEPTIN9", "dbSNP_Jan_2021", "Dec1", "novel_12", "2020Oct", "dbSNP_2021Jan", "MARCHF5", "1st_Jan", "Dec.1", "x1Jan1990",
     "rs12Dec"],
)  # fmt: skip
def test_the_contracts_public_shapes_and_documented_limits_pass(value: str) -> None:
    """Public annotation shapes pass; so do the documented limits (a number written onto a word,
    one relative path, a host name) and a month without a day (a release): the scrubber keeps
    them, so the audit must not flag them."""
    assert not value_holds_identifier(value.encode(), frozenset({b"chr1"}))
    assert not SCRUBBER_RULE.holds_identifier(value.encode(), b"NOTE")


def test_geneinfo_may_hold_numbers_but_not_other_shapes() -> None:
    assert not value_holds_identifier(b"DDX11L1:100287102|WASH7P:653635", frozenset(), numbers_allowed=True)
    assert value_holds_identifier(b"DDX11L1:100287102", frozenset())
    assert value_holds_identifier(b"kim@lab", frozenset(), numbers_allowed=True)


# --- the audit over planted files ------------------------------------------------------------


@pytest.mark.parametrize("one_by_one", [False, True])
def test_each_place_of_each_form_is_a_finding(one_by_one: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every record holding a form is one finding, located by line, whichever path reads it."""
    records = [record for form in FORMS for record in planted(form)]
    findings = audited(vcf_text(records), one_by_one, monkeypatch)
    count, examples = record_value_findings(findings)
    assert count == len(records)
    first_line = HEADER.count("\n") + 1
    assert examples == [
        f"line {first_line} INFO/NOTE",
        f"line {first_line + 1} FORMAT/NM",
        f"line {first_line + 2} FILTER",
    ]


@pytest.mark.parametrize("form", list(FORMS))
def test_a_form_is_never_printed_or_reported(form: str, tmp_path: Path) -> None:
    path = tmp_path / "planted.vcf"
    path.write_bytes(vcf_text(planted(form)))
    done, report = run_audit(path)
    assert done.returncode == 1, done.stderr.decode()
    assert metadata_keys(report)[KIND] == 5
    assert f"identifier in record value 5 (line {HEADER.count(chr(10)) + 1} INFO/" in done.stdout.decode()
    shown = (done.stdout + done.stderr + json.dumps(report, ensure_ascii=False).encode()).lower()
    for needle in FORMS[form][1]:
        assert needle.encode().lower() not in shown
    assert b"INFO/(a key)" in done.stdout  # the planted INFO key is named as a key, never spelled out


@pytest.mark.parametrize("one_by_one", [False, True])
def test_public_annotation_shapes_are_no_finding(one_by_one: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    records = []
    for item in EXCEPTIONS:
        fields = list(CLEAN)
        fields[7] = item
        records.append("\t".join(fields))
    for format_column, sample in SAMPLE_EXCEPTIONS:
        records.append("\t".join([*CLEAN[:8], format_column, sample]))
    records.append("\t".join(["chr1", "100", ".", "A", "<DEL>,<INS:ME:ALU>,<*>", "50", "q10", "END=1234567", "GT:PS", "0|1:1234567"]))
    records.append("\t".join(["chr1", "100", ".", "A", "A[chr1:12345678[", "50", ".", ".", "GT", "0/1"]))
    findings = audited(vcf_text(records), one_by_one, monkeypatch)
    assert record_value_findings(findings) == (0, [])
    # no identifier; GATK's PID, a CSQ entry of an allele not the record's, a PS naming no record and
    # a breakend whose mate is not delivered are findings of their own (they point at another record:
    # test_audit_allele_fields.py, test_audit.py)
    others = {"FORMAT/PID", "INFO/CSQ (another allele)", "FORMAT/PS (names no delivered record of its set)", MATE_FINDING}
    assert set(findings.metadata.counts) == others
    assert findings.total == sum(findings.metadata.counts[key] for key in others)


def test_undeclared_keys_are_read_as_strings_integers_are_not(monkeypatch: pytest.MonkeyPatch) -> None:
    """An INFO or FORMAT key the header does not declare is read as a String (and is its own
    finding, not in the header); the value of an Integer known to hold large numbers (a position:
    END, PS) is not read while it is of the number grammar."""
    records = [
        "\t".join([*CLEAN[:7], "SEEN=19900101", *CLEAN[8:]]),
        "\t".join([*CLEAN[:8], "GT:XS", "0/1:19900101"]),
        "\t".join([*CLEAN[:8], "GT:PS", "0/1:19900101"]),
        "\t".join([*CLEAN[:7], "END=19900101", *CLEAN[8:]]),
        "\t".join([*CLEAN[:8], "NM:GT", "19900101:0/1"]),  # the first sample value, after a tab
        "\t".join([*CLEAN[:8], "GT:NM", "0/1:x:19900101"]),  # a value without a key
    ]
    count, examples = record_value_findings(audited(vcf_text(records), False, monkeypatch))
    first_line = HEADER.count("\n") + 1
    assert count == 4
    assert examples == [f"line {first_line} INFO/SEEN", f"line {first_line + 1} FORMAT/XS", f"line {first_line + 4} FORMAT/NM"]


@pytest.mark.parametrize(
    ("description", "found"),
    [
        ("from /data/kimjh/run1", True),
        ("by kimjh@snuh.org", True),
        ("see https://lab.example/x", True),
        ("on seq01.hospital.local", True),
        ("C:\\\\Users\\\\kimjh", True),
        ("Ref/Alt depth", True),  # a relative path's shape: removed by the scrubber too (fail closed)
        ("born 1990.01.01", True),
        ("Allelic depths for the ref and alt alleles in the order listed", False),
        ("Phred-scaled p-value (0.05 or less), [removed] run", False),
    ],
)
def test_a_description_naming_a_place_is_a_metadata_finding(description: str, found: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    header = HEADER.replace('Description="A note"', f'Description="{description}"')
    findings = audited(vcf_text(["\t".join(CLEAN)], header), False, monkeypatch)
    assert findings.metadata.counts["header value ##INFO Description"] == (1 if found else 0)
    assert findings.total == (1 if found else 0)


# --- the block search as the record-by-record path ---------------------------------------------

FRAGMENTS = [
    "x", "A", "chr1", "chr2", "NM", "PT", "MRN", "_", "-", ".", ":", "|", ",", "&", "=", "(", " ", "/", "//", "~", "@", "\\",
    "%3D", "%EA", "&#1;", "&#x4;", "1", "12", "123", "1234", "1234567", "12345678", "1990", "01", "_A", "-G", "김",
    "e", "E+", "e7", "e-", "%3A", "%5F", "%2D", "%2d", "%2C", "%2F", "%20", "%31", "%253A", "%3B", "%09", "%40",
    "Jan", "oct", "st", "12th ", " of ", "Dec.", "'", "+", "~",
]  # fmt: skip
SHAPES = [
    "1990.01.01", "1990.1.1", "1990/01.01", "01/01/1990", "1/2/33", "1/2-33", "123456-7", "12-34-567", "1234567-1234570",
    "1234570-1234567", "0123456-0123457", "16050036_A_C", "1-55516888-G-GA", "chr1:1234567", "NM_1234567", "PT_1234567",
    "a/b/c", " /x", "(~x", "|/x", "%C3", "%80", "x@y", "a\\b", "&#12;", "~", "/x", "1234.5",
    "01.01.1990", "29.10.2023", "1990. 01. 01.", "1990 01 01", "2023_10_29", "1990:01:01", "01 01 1990", "01_01_1990",
    "02 1234 5678", "010.1234.5678", "&#44608", "1990- 01- 01", "4.2.10", "0.5 1234", "1.5:12:1234", "12,1990-01-01",
    "1e-05", "NaN", "-Inf", "-3", "9001011234567", "0.12345678901", "OMIM:600101", "900101",
    "-1234567", "1234567.5", "12,3456789", "1012345678", "900101.1234567", "999999.5", "1.9900101e7", "1e+06", "2E7", "1.5e5",
    ".5e7", "1.E7", "x1e9", "1e-9", "(02) 1234 5678", "(02)123 4567", "02)1234-5678", "+82(0)10.1234.5678", "+82 2 123 4567",
    "p.(Arg12Cys)", "(0)", "+8",
    "DOB%3A19900101", "MRN%5F12345678", "born%3A1990-01-01", "DOB%3D19900101", "900101%2D1234567", "900101%2C1234567",
    "2023%2D10%2D29", "x%3A%2Fhome", "%2Fhome%2Fkimjh", "%31%39%39%30%30%31%30%31", "DOB%253A19900101", "kimjh%40snuh.org",
    "02%201234%205678", "p.Leu10%3D", "p.Leu1234567%3D", "chr1%3A12345678", "NM%5F1234567",
    "&shy;", "S2301217&ZeroWidthSpace;N", "&shy%3B", "x&amp%3bN", "missense_variant&splice_region_variant", "&1;", "a&b_c;",
    "29-OCT-2023", "Oct 29 2023", "1990-Jan-01", "1990 Jan 01", "1990JAN01", "1st January 1990", "12th-Oct, 2023", "2020Oct",
    "1990Jan", "1000g2015aug_all", "Dec. 1, 1990", "1st of January 1990", "DOB01JAN1990", "Jan-01-90", "Dec 1 '90",
    "010~1234~5678", "010|1234|5678", "010 - 1234 - 5678", "02+123+4567", "010,1234,5678", "1990|01|01", "01;01;1990",
    "1990,01,01", "01~01~1990", "2000,10,12,15", "1990,0,12", "ctgJAN011990", "DOBJan-01-1990", "&shyJ", "&nbsp", "&#173",
    "&regulatory_region_variant", "29.10.23", "23. 10. 29.", "29_10_23", "10 29 23", "v2.10.23", "1.10.23", "12:13:49",
    "c.10-12_10-10del", "29|10|23",
]  # fmt: skip
"""Whole shapes and near misses, planted alone as often as fragments are strung together; the
same percent-encoded as VCF 4.3 writes a value's ``:;=,`` (VEP's ``%3D`` among them)."""


PLACES = [
    "NOTE", "END", "CAF", "GENEINFO", "UNDECLARED", "BIRTH", "FL", "info key", "NM", "PS", "DB", "extra", "format key", "first",
    "first number", "FILTER", "ALT", "mate",
]  # fmt: skip


@st.composite
def record_lines(draw: st.DrawFn) -> bytes:
    """Clean records with up to two texts made of the fragments the rules look at planted in any
    place: INFO String, Integer and undeclared values and keys, sample values (the first, after
    a tab, too), FORMAT keys, FILTER, symbolic ALTs. Most lines hold nothing or one shape, so a
    block search that missed a shape would leave a finding out."""
    text = st.one_of(st.sampled_from(SHAPES), st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=4).map("".join))
    lines = []
    for _ in range(draw(st.integers(0, 10))):
        info = {"NOTE": "x", "END": "5"}
        keys, samples = ["GT", "NM", "PS"], [["0/1", "x", "5"], ["1/1", "y", "6"]]
        alt, filters, key_text = "G", "PASS", ""
        for place in draw(st.lists(st.sampled_from(PLACES), max_size=2)):
            planted = draw(text).replace(";", "")
            if place in ("NOTE", "END", "CAF", "GENEINFO", "UNDECLARED", "BIRTH", "FL"):
                info[place] = planted
            elif place == "DB":
                keys, samples[1] = ["GT", "NM", "DB"], ["1/1", "y", planted]
            elif place == "first number":
                keys, samples[0][0] = ["DB", "GT", "PS"], planted
            elif place == "mate":
                alt = "A[<" + planted.replace(",", "").replace(">", "").replace("<", "") + ">:5["
            elif place == "info key":
                key_text = ";" + planted
            elif place in ("NM", "PS"):
                samples[draw(st.integers(0, 1))][1 if place == "NM" else 2] = planted
            elif place == "extra":
                samples[draw(st.integers(0, 1))].append(planted)
            elif place == "format key":
                keys[1] = planted
            elif place == "first":
                keys = ["NM", "GT", "PS"]
                samples[0][0] = planted
            elif place == "FILTER":
                filters = "q10;" + planted
            else:
                alt = draw(st.sampled_from(["<", "A,<"])) + planted + ">"
        info_column = ";".join(f"{key}={value}" for key, value in info.items()) + key_text
        pos = draw(st.sampled_from(["100", "12345678"]))
        fields = ["chr1", pos, ".", "A", alt, "50", filters, info_column, ":".join(keys), *(":".join(sample) for sample in samples)]
        lines.append("\t".join(fields))
    header = HEADER.replace("\tSAMPLE1\n", "\tSAMPLE1\tSAMPLE2\n")
    return (header + "".join(line + "\n" for line in lines)).encode()


def planted_alone(place: str, text: str) -> str:
    """A clean record with ``text`` in one place (one of ``PLACES``)."""
    info, key_text = {"NOTE": "x", "END": "5"}, ""
    keys, samples = ["GT", "NM", "PS"], [["0/1", "x", "5"], ["1/1", "y", "6"]]
    alt, filters = "G", "PASS"
    if place in ("NOTE", "END", "CAF", "GENEINFO", "UNDECLARED", "BIRTH", "FL"):
        info[place] = text
    elif place == "DB":
        keys, samples[1] = ["GT", "NM", "DB"], ["1/1", "y", text]
    elif place == "first number":
        keys, samples[0][0] = ["DB", "GT", "PS"], text
    elif place == "mate":
        alt = "A[<" + text.replace(",", "") + ">:5["
    elif place == "info key":
        key_text = ";" + text
    elif place in ("NM", "PS"):
        samples[1][1 if place == "NM" else 2] = text
    elif place == "extra":
        samples[1].append(text)
    elif place == "format key":
        keys[1] = text
    elif place == "first":
        keys, samples[0][0] = ["NM", "GT", "PS"], text
    elif place == "FILTER":
        filters = "q10;" + text
    else:
        alt = "<" + text + ">"
    info_column = ";".join(f"{key}={value}" for key, value in info.items()) + key_text
    return "\t".join(["chr1", "100", ".", "A", alt, "50", filters, info_column, ":".join(keys), *(":".join(sample) for sample in samples)])


@pytest.mark.parametrize("place", PLACES)
def test_every_shape_alone_in_every_place_found_by_block_as_record_by_record(place: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each shape (and near miss) alone in a clean record, in each place: the block search selects
    every record the rules find something in."""
    header = HEADER.replace("\tSAMPLE1\n", "\tSAMPLE1\tSAMPLE2\n")
    data = vcf_text([planted_alone(place, text) for text in SHAPES], header)
    one_by_one = audited(data, True, monkeypatch)
    assert audited(data, False, monkeypatch).as_dict() == one_by_one.as_dict()
    assert one_by_one.metadata.counts[KIND] > 0  # an Integer's or Float's dates too


@pytest.mark.slow  # a long sweep of the bulk path against the one-record path: make test-slow (CI runs it after make test)
@settings(max_examples=360, deadline=None)
@given(data=record_lines(), size=st.sampled_from([64, 1 << 20]))
def test_record_values_searched_by_block_as_record_by_record(data: bytes, size: int) -> None:
    """The block search, then the rules only in the lines it selects, finds the records and
    positions of applying the rules to every record (GENOSCRUB_ONE_BY_ONE=1)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        by_block = audited(data, False, monkeypatch, size).as_dict()
        one_by_one = audited(data, True, monkeypatch, size).as_dict()
    assert by_block == one_by_one


# --- the simulated set and the corpus ---------------------------------------------------------


def test_the_simulated_vcfs_hold_identifiers_in_record_values_until_scrubbed(simulated: Path, tmp_path: Path) -> None:
    """The simulated germline VCF plants the specimen ID and the date of the call in its first
    records' INFO (as a LIMS writes them); the other VCFs' record values are annotations only.
    After vcf-scrub-header, no finding of the new kind in any, nor a planted string."""
    for name in ("germline.vcf.gz", "somatic.vcf.gz", "germline_as_somatic.vcf.gz"):
        _, report = run_audit(simulated / name)
        assert (KIND in metadata_keys(report)) == (name == "germline.vcf.gz"), name
        scrubbed = tmp_path / name.replace(".vcf.gz", ".scrubbed.vcf")
        done = run_command("vcf-scrub-header", "-q", "--map", str(simulated / "ids.tsv"), "-o", str(scrubbed), str(simulated / name))
        assert done.returncode == 0, done.stderr.decode()
        done, report = run_audit(scrubbed, "--forbid", str(simulated / "forbidden.txt"))
        assert done.returncode == 0, done.stdout.decode()


def test_corpus_vcfs_audited_for_record_values(corpus: Path, tmp_path: Path) -> None:
    """Every corpus VCF is read to its end (a finding or a clean pass, never a crash); the counts
    of the new kind are printed (``pytest -s``) for the record. Files that hold one: ANNOVAR (a
    date), the VCF 4.3 test of symbols in a symbolic ALT, htslib's test of positions past
    32 bits (an Integer END of 11 digits) and bcftools' tests of Number=A, G and R, whose Float
    test keys (XRF, XAF, XGF, FRF, FAF, FGF: no key known to hold large numbers) hold ``1e+06``
    and ``9e+09``. Not findings: VEP with RefSeq (an Entrez gene ID in the Gene subfield its
    Description names), picard (an undeclared PS, a numeric key of the specification), dbSNP's
    Integer RS."""
    paths = sorted((corpus / "vcf").iterdir())
    report_path = tmp_path / "audit.json"  # one audit of every file: a process start each would cost 20 s
    done = run_command("genoscrub-audit", "-q", "--report", str(report_path), *map(str, paths))
    assert done.returncode in (0, 1) and b"Traceback" not in done.stderr
    files = json.loads(report_path.read_text())["files"]
    assert [Path(found["file"]).name for found in files] == [path.name for path in paths]
    counts = {Path(found["file"]).name: found["findings"]["metadata"].get("by_key", {}).get(KIND, 0) for found in files}
    print({name: count for name, count in counts.items() if count})
    assert counts["bcftools__view.filter.annovar.vcf"] == 3
    assert counts["htsspecs__43_passed_body_alt.vcf"] == 1
    assert counts["htslib__index.vcf"] == 1  # END=10010001000: 11 digits, more than an Integer holds
    assert counts["bcftools__norm.vcf"] == 2  # XRF=1e+06,2e+06,500000 and the like
    assert counts["bcftools__view.vectors.vcf"] == 1
    assert counts["bcftools__atomize.split.1.vcf"] == 1
    assert sum(1 for count in counts.values() if count) == 6


def test_a_type_off_the_grammar_reads_the_values_as_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Type the header's grammar does not know (here not even ASCII: a metadata finding of its
    own) makes its key's values read as String's, and is no error."""
    data = vcf_text(["\t".join([*CLEAN[:7], "END=19900101", *CLEAN[8:]])]).replace(
        b"END,Number=1,Type=Integer", b"END,Number=1,Type=In\xeaeger"
    )
    findings = audited(data, False, monkeypatch)
    assert findings.metadata.counts[KIND] == 1
    assert findings.metadata.counts["header value ##INFO Type"] == 1


# --- Integer and Float values, the new date and phone shapes, breakend mates ---------------------


@pytest.mark.parametrize(
    ("item", "found"),
    [("BIRTH=1990-01-01", True), ("BIRTH=12,1990-01-01", True), ("BIRTH=010-1234-5678", True), ("FL=1990.01.01", True),
     ("BIRTH=9001011234567", True), ("FL=01.01.1990", True), ("BIRTH=12", False), ("BIRTH=-3,.", False), ("FL=1e-05", False),
     ("FL=.", False), ("FL=NaN", False), ("FL=-Inf", False), ("FL=0.12345678901", False), ("BIRTH=19900101", True),
     ("END=1990-01-01", True), ("DP=12", False), ("AF=1e-05", False), ("DB=1990-01-01", True), ("END=19900101", False),
     ("DP=12345678", False), ("AF=19900101", True), ("BIRTH=900101,1234567", True), ("BIRTH=1012345678", True),
     ("BIRTH=-1234567", True), ("FL=1234567.5", True), ("BIRTH=12,3456789", True), ("FL=1.9900101e7", True), ("FL=1e+06", True),
     ("FL=2E7", True), ("FL=999999.5", False), ("FL=1.5e5", False), ("FL=900101.1234567", False), ("BIRTH=999999", False),
     ("DP=010,1234,5678", True), ("DP=0,12", False), ("DP=010", False), ("END=-0", False)],
)  # fmt: skip
def test_integer_and_float_values_follow_the_number_grammar(item: str, found: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """An Integer or Float of a key known to hold large numbers (END; DP undeclared, the
    specification's) is read only when an element is off the VCF number grammar (or 11 digits in a
    row); any other numeric key's values (BIRTH, FL; AF undeclared) by the value rule: a number of 7
    digits, or of 1,000,000 or more with an exponent, is found, smaller ones pass (six digits before
    the point with a fraction of seven pass: a documented limit)."""
    for one_by_one in (False, True):
        findings = audited(vcf_text(["\t".join([*CLEAN[:7], item, *CLEAN[8:]])]), one_by_one, monkeypatch)
        assert findings.metadata.counts[KIND] == (1 if found else 0), (item, one_by_one)


@pytest.mark.parametrize(
    ("sample", "found"),
    [("0/1:x:01/01/1990", True), ("0/1:x:900101-1234567", True), ("0/1:x:12", False), ("0/1:x:19900101", True), ("0/1:x:1e+06", True)],
)
def test_an_integer_format_value_follows_the_number_grammar(sample: str, found: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    for one_by_one in (False, True):
        findings = audited(vcf_text(["\t".join([*CLEAN[:8], "GT:NM:DB", sample])]), one_by_one, monkeypatch)
        assert findings.metadata.counts[KIND] == (1 if found else 0), (sample, one_by_one)


def test_personal_numbers_of_numeric_keys_are_found_large_numbers_of_known_keys_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """The red team's records: a date of birth of Type Integer (INFO and FORMAT), a registration number
    cut in two, a phone number without its leading 0 are findings, located by key and never printed;
    a position, a depth, an allele number, an rs number and a phase set of any size are not."""
    header = HEADER.replace(
        "##FORMAT=<ID=GT,",
        '##INFO=<ID=RRNI,Number=2,Type=Integer,Description="x">\n##INFO=<ID=PHONE,Number=1,Type=Integer,Description="x">\n'
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="x">\n##INFO=<ID=AN,Number=1,Type=Integer,Description="x">\n'
        '##INFO=<ID=RS,Number=1,Type=Integer,Description="x">\n##FORMAT=<ID=AGE,Number=1,Type=Integer,Description="x">\n##FORMAT=<ID=GT,',
    )
    records = [
        "\t".join([*CLEAN[:7], "BIRTH=19900101", *CLEAN[8:]]),
        "\t".join([*CLEAN[:7], "RRNI=900101,1234567;PHONE=1012345678", *CLEAN[8:]]),
        "\t".join([*CLEAN[:8], "GT:AGE", "0/1:19900101"]),
        "\t".join([*CLEAN[:7], "END=123456789;DP=12345678;AN=1500000;RS=1234567890", "GT:PS", "0|1:123456789"]),
    ]
    first_line = header.count("\n") + 1
    for one_by_one in (False, True):
        count, examples = record_value_findings(audited(vcf_text(records, header), one_by_one, monkeypatch))
        assert count == 3
        assert examples == [f"line {first_line} INFO/BIRTH", f"line {first_line + 1} INFO/RRNI and INFO/PHONE",
                            f"line {first_line + 2} FORMAT/AGE"]  # fmt: skip


@pytest.mark.parametrize(
    "value",
    ["01.01.1990", "29.10.2023", "1990. 01. 01.", "1990 01 01", "2023_10_29", "1990:01:01", "01 01 1990", "01_01_1990",
     "02 1234 5678", "010 1234 5678", "010.1234.5678", "&#44608", "&#xAE40",
     "010~1234~5678", "010|1234|5678", "010 - 1234 - 5678", "010+1234+5678", "010,1234,5678", "1990|01|01", "01;01;1990",
     "1990,01,01", "01|01|1990", "ctgJAN011990", "DOBJan011990", "KIM&shyJ", "&nbspKIM", "&NBSPKIM",
     "29.10.23", "10.29.23", "23.10.29", "29_10_23", "29 10 23", "23. 10. 29.", "x|29.10.23",
     "(02) 1234 5678", "(02)123 4567", "02)1234-5678", "010.1234-5678", "+82(0)10.1234.5678", "+82 2 123 4567", "+82-10-1234-5678"],
)  # fmt: skip
def test_the_new_shapes_are_identifiers_in_values_and_ids(value: str) -> None:
    assert value_holds_identifier(value.encode(), frozenset())
    if "&" not in value and " " not in value:
        assert id_fails(("DEL:" + value.replace(" ", "")).encode(), ALT_ID)


@pytest.mark.parametrize(
    "value", ["4.2.10", "OMIM:600101", "900101", "1.2.3", "0.5", "1e-05", "v2.10.23", "1.10.23", "12:13:49", "10,12,15", "c.10-12_10-10del"]
)
def test_versions_and_six_digits_pass_in_values(value: str) -> None:
    """Six digits that read as a date are a header text shape only: ClinVar's ``OMIM:600101`` passes."""
    assert not value_holds_identifier(value.encode(), frozenset())


@pytest.mark.parametrize(("alt", "found"), [("<DEL:kim.snuh.ac.kr>", True), ("<DEL:KIM.SNUH.AC.KR>", True), ("<INS:10.0.0.1>", True),
                                            ("<INS:http:kimjh>", True), ("A[<asm.snuh.org>:5[", True), ("<DUP:TANDEM>", False),
                                            ("<INS:ME:L1.HS>", False), ("<CN0>", False)])  # fmt: skip
def test_a_symbolic_allele_naming_a_place_is_found(alt: str, found: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A host name, an IP address or a scheme in a symbolic allele's ID, in a record and in an
    ``##ALT`` line: the Description's place rule (vcf-scrub-header makes the allele ``<*>``)."""
    for one_by_one in (False, True):
        findings = audited(vcf_text(["\t".join([*CLEAN[:4], alt, *CLEAN[5:]])]), one_by_one, monkeypatch)
        assert findings.metadata.counts[KIND] == (1 if found else 0), (alt, one_by_one)
    if alt.startswith("<"):
        header = HEADER.replace("#CHROM", f'##ALT=<ID={alt[1:-1]},Description="An allele">\n#CHROM', 1)
        findings = audited(vcf_text(["\t".join(CLEAN)], header), False, monkeypatch)
        assert findings.metadata.counts.get("header value ##ALT ID", 0) == (1 if found else 0), alt


@pytest.mark.parametrize(("alt", "found"), [("A[<KIM_19900101>:5[", True), ("]<ctg/home/kimjh>:5]A", True),
                                            ("A[<900101-1234567>:5[", True), ("A[<ctg1>:5[", False),
                                            ("A[<chrUn_JTFH01000001v1_decoy>:5[", True), ("A[<HLA-A*01:01:01:01>:5[", False)])  # fmt: skip
def test_a_breakend_mate_id_is_held_to_the_id_and_contig_rules(alt: str, found: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both rules, as for a symbolic allele: a decoy's WGS accession passes the contig rule but its
    eight digits fail the ID rule (the scrubber makes it ``<*>`` too)."""
    for one_by_one in (False, True):
        findings = audited(vcf_text(["\t".join([*CLEAN[:4], alt, *CLEAN[5:]])]), one_by_one, monkeypatch)
        assert findings.metadata.counts[KIND] == (1 if found else 0), (alt, one_by_one)
        assert (findings.metadata.examples.get(KIND, [""])[0].endswith("ALT")) == found


def test_an_html_reference_without_its_semicolon_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    records = ["\t".join([*CLEAN[:7], "NOTE=&#44608;DB", *CLEAN[8:]]), "\t".join([*CLEAN[:8], "GT:NM", "0/1:&#44608"])]
    for one_by_one in (False, True):
        assert audited(vcf_text(records), one_by_one, monkeypatch).metadata.counts[KIND] == 2


def test_a_named_html_reference_is_found_and_vep_ampersands_are_not(monkeypatch: pytest.MonkeyPatch) -> None:
    """``S2301217&ZeroWidthSpace;N`` in a sample value (which may hold a ``;``) renders as the sample ID:
    a named reference is found as a numeric one is, also with its ``;`` percent-encoded in an INFO
    value; the ``&`` VEP joins terms with, before no ``;``, is not."""
    records = ["\t".join([*CLEAN[:8], "GT:NM", "0/1:S2301217&ZeroWidthSpace;N"]),
               "\t".join([*CLEAN[:7], "NOTE=KIM&shy%3BJIHYUN", *CLEAN[8:]]),
               "\t".join([*CLEAN[:7], "NOTE=missense_variant&splice_region_variant", "GT:NM",
                          "0/1:intron_variant&non_coding_transcript_variant;x&y"])]  # fmt: skip
    for one_by_one in (False, True):
        findings = audited(vcf_text(records), one_by_one, monkeypatch)
        assert findings.metadata.counts[KIND] == 2
        assert findings.total == 2


@pytest.mark.parametrize(
    ("description", "found"),
    [("Called from C:\\Users\\kimjh\\SNUH\\run1.bam", True), ("DOB 1990\\-01\\-01", True), ("born 1\\9\\9\\0\\0\\1\\0\\1", True),
     ("born 01.01.1990", True), ("born 1990. 01. 01.", True), ("born 1990 01 01", True), ("on 2023_10_29", True),
     ("at 1990:01:01", True), ("tel 02 1234 5678", True), ("DOB 900101 sex 1", True), ("born 01 01 1990", True),
     ("see OMIM:600101", True), ("version 4.2.10", False), ('quoted \\"text\\" and \\\\share', True),
     ('quoted \\"text\\"', False), ("gnomAD v2.1.1 1000 Genomes", False), ("patient KIM&shy;JIHYUN", True),
     ("born 1990&ndash;01&ndash;01", True), ("KIM&shy%3BJIHYUN", True), ("of S230\u200b1217N", True),
     ("missense_variant&splice_region_variant", False), ("contact (02) 1234 5678", True), ("call +82 2 123 4567", True),
     ("tel 010.1234-5678", True), ("p.(Arg12Cys) (0) 12", False)],
)  # fmt: skip
def test_description_escapes_and_new_shapes(description: str, found: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only ``\\"`` and ``\\\\`` are escapes (VCF 4.4, 1.4): any other backslash stays, a finding;
    the new date and phone shapes, six digits read as a date among them, are header text findings."""
    header = HEADER.replace('Description="A note"', f'Description="{description}"')
    findings = audited(vcf_text(["\t".join(CLEAN)], header), False, monkeypatch)
    assert findings.metadata.counts["header value ##INFO Description"] == (1 if found else 0)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789:\t\n .-_/ab", max_size=80))
def test_the_info_column_is_after_the_seventh_tab_of_a_line(text: str) -> None:
    """``scan_python.in_column`` (where the date search lets a ``:`` separate a date's parts) is
    "that many tabs before it in its line"; the block search as a whole is held to the
    record-by-record reading by the tests above, its C loop to its twin in ``test_scan``."""
    block = text.encode()
    columns = [block[:offset].rsplit(b"\n", 1)[-1].count(b"\t") for offset in range(len(block))]
    found = in_column(np.frombuffer(block, dtype=np.uint8), np.arange(len(block)), INFO_COLUMN)
    assert found.tolist() == [column == INFO_COLUMN for column in columns]
