"""Identifiers written into VCF records: vcf-scrub-header removes them, keeps what the format writes.

Planted in every record place the scrubber reads (a String INFO value, an undefined
key's value, a sample's String value, a FILTER ID, an INFO key, a FORMAT key, a
symbolic allele), each personal form must be gone from the bytes written, on the bulk
path and the one-record path alike, and bcftools must read the output. The numbers
annotations write on purpose (dbSNP, Ensembl and RefSeq IDs, positions, ranges, gene
IDs, and the large numbers of the keys known to hold them) must stay byte for byte; a
personal number written as an Integer or Float of any other key goes. The C loop that
picks the records worth splitting is a superset of the rules: whatever the rules change,
it picked.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from genoscrub import large_numbers, scan
from genoscrub.audit_vcf_columns import gt_value_fault
from genoscrub.record_values import (
    RecordDefinitions,
    RecordValues,
    escaped_rows,
    genotype_off_grammar,
    missing_genotype,
    unchecked_keys,
)
from genoscrub.vcf_scrub_header import app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import ROOT, run_command

# form -> (planted value, what must not survive of it)
FORMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "rrn": ("900101-1234567", ("1234567", "900101")),
    "rrn-without-hyphen": ("9001011234567", ("1234567",)),
    "mrn": ("MRN_12345678", ("12345678",)),
    "hospital-number": ("H-2023-000123", ("000123",)),
    "birth-date": ("1990-01-01", ("1990-01-01",)),
    "birth-date-compact": ("19900101", ("19900101",)),
    "birth-date-dots": ("1990.01.01", ("1990.01.01",)),
    "birth-date-slashes": ("01/02/1990", ("01/02/1990",)),
    "birth-date-day-first-dots": ("29.10.2023", ("29.10.2023",)),
    "birth-date-underscores": ("2023_10_29", ("2023_10_29",)),
    "birth-date-colons": ("1990:01:01", ("1990:01:01",)),
    "birth-date-day-first-underscores": ("01_01_1990", ("01_01_1990",)),
    "phone-dots": ("010.1234.5678", ("1234.5678",)),
    "phone": ("010-1234-5678", ("1234-5678",)),
    "email": ("kimjh@snuh.org", ("kimjh",)),
    "windows-path": ("C:\\Users\\kimjh", ("kimjh",)),
    "unix-path": ("/home/kimjh/run1", ("kimjh",)),
    "relative-path": ("data/kimjh/run1", ("kimjh",)),
    "home-path": ("~kimjh", ("kimjh",)),
    "url": ("https://x.org/kimjh", ("kimjh",)),
    "percent-encoded": ("%EA%B9%80", ("%EA",)),
    "html-entities": ("&#44608", ("44608",)),
    "hangul": ("김지현", ("김지현",)),
}
PLANTED = {name: value for name, (value, _) in FORMS.items()}
PLACES = {
    "INFO String value": "chr1\t{pos}\t.\tA\tG\t50\tPASS\tNOTE={X};DP=3\tGT:NM\t0/1:ok",
    "undefined INFO key's value": "chr1\t{pos}\t.\tA\tG\t50\tPASS\tDP=3;WHO={X}\tGT:NM\t0/1:ok",
    "sample String value": "chr1\t{pos}\t.\tA\tG\t50\tPASS\tDP=3\tGT:NM\t0/1:{X}",
    "FILTER ID": "chr1\t{pos}\t.\tA\tG\t50\tq10;f{X}\tDP=3\tGT:NM\t0/1:ok",
    "INFO key": "chr1\t{pos}\t.\tA\tG\t50\tPASS\tDP=3;K{X}=1\tGT:NM\t0/1:ok",
    "FORMAT key": "chr1\t{pos}\t.\tA\tG\t50\tPASS\tDP=3\tGT:K{X}:NM\t0/1:1:ok",
    "symbolic allele": "chr1\t{pos}\t.\tA\t<DEL:{X}>\t50\tPASS\tDP=3\tGT:NM\t0/1:ok",
}
HEADER = [
    "##fileformat=VCFv4.3",
    "##contig=<ID=chr1,length=100000000>",
    '##FILTER=<ID=q10,Description="Quality below 10">',
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">',
    '##INFO=<ID=END,Number=1,Type=Integer,Description="End">',
    '##INFO=<ID=AF,Number=.,Type=Float,Description="Frequency">',
    '##INFO=<ID=NOTE,Number=.,Type=String,Description="A note">',
    '##INFO=<ID=CAF,Number=.,Type=String,Description="Allele frequencies">',
    '##INFO=<ID=GENEINFO,Number=1,Type=String,Description="Genes">',
    '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequences. Format: Allele|Consequence|Gene|Feature|cDNA_position|'
    'Amino_acids|Codons|HGVSp|Existing_variation">',
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=NM,Number=1,Type=String,Description="A note">',
    '##FORMAT=<ID=PID,Number=1,Type=String,Description="Phasing ID">',
    '##FORMAT=<ID=K1,Number=1,Type=Integer,Description="A count">',
    '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">',
    '##INFO=<ID=BIRTH,Number=.,Type=Integer,Description="A site\'s own number">',
]
COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS2301217T"
KEPT = [  # what the format writes on purpose: every record must come out as it went in
    "chr1\t100\trs76717221\tA\tG\t50\tPASS\tDP=3;NOTE=rs76717221,ENSG00000227232,LOC100506134\tGT:NM\t0/1:ENST00000456328.2",
    "chr1\t101\t.\tA\tG\t50\tPASS\tCAF=0.9998,0.0001997;GENEINFO=DDX11L1:100287102\tGT:PID\t0|1:16050036_A_C",
    "chr1\t102\t.\tA\tG\t50\tPASS\tNOTE=chr1:12345678,1:12345679,chr1_12345678_A_G,1-55516888-G-GA,NM_001009931.2,GCA_000001405.15\tGT\t0/1",
    "chr1\t103\t.\tAC\tA\t50\tPASS\tCSQ=-|frameshift_variant|102723996|NM_001363770.2|1234567-1234570|R/W|Cgg/Tgg|"
    "NP_001350699.1:p.Ser12%3D|rs1\tGT\t0/1",
    "chr1\t104\t.\tA\tG\t50\tPASS\tEND=12345678;DP=19900101\tGT:PS:K1\t0/1:12345678:999999",
    "chr1\t105\t.\tA\t<DUP:TANDEM>\t50\tq10\tNOTE=c.1234567A>G,g.12345678del,1/4,0.5%\tGT:NM\t0/1:.",
    "chr1\t106\t.\tA\tG\t50\t.\tDP=3\tGT:NM\t./.:.",
    "chr1\t107\t.\tA\tG\t50\tPASS\tDP=12;AF=1e-05,.,NaN,-3;NOTE=OMIM:600101,4.2.10,v4.2.10\tGT:K1\t0/1:-3",
    "chr1\t108\t.\tA\tG\t50\tPASS\tDP=.;AF=inf;NOTE=1990\tGT:K1\t0|1:.",
]


def scrub(text: str | bytes, tmp_path: Path, one_by_one: bool) -> tuple[bytes, dict[str, int]]:
    """The installed command on ``text``: its output and its report's counts; bcftools must read the output."""
    (tmp_path / "in.vcf").write_bytes(text.encode() if isinstance(text, str) else text)
    report = tmp_path / "report.json"
    environment = {"GENOSCRUB_ONE_BY_ONE": "1"} if one_by_one else None
    result = run_command("vcf-scrub-header", "-q", "--report", str(report), str(tmp_path / "in.vcf"), env=environment)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""
    read = subprocess.run(["bcftools", "view", "-"], input=result.stdout, capture_output=True)
    assert read.returncode == 0, read.stderr.decode()
    counts: dict[str, int] = json.loads(report.read_text())["counts"]
    return result.stdout, counts


def records(output: bytes) -> list[bytes]:
    return [line for line in output.splitlines() if not line.startswith(b"#")]


@pytest.mark.parametrize("one_by_one", [False, True], ids=["bulk", "one-by-one"])
@pytest.mark.parametrize("place", list(PLACES))
def test_each_form_in_each_record_place_is_removed(place: str, one_by_one: bool, tmp_path: Path) -> None:
    lines = [PLACES[place].replace("{pos}", str(10 + index)).replace("{X}", value) for index, value in enumerate(PLANTED.values())]
    output, counts = scrub("\n".join([*HEADER, COLUMNS, *lines]) + "\n", tmp_path, one_by_one)
    survived = [name for name in PLANTED if any(needle.encode().lower() in output.lower() for needle in FORMS[name][1])]
    assert survived == []
    removed = counts.get("records_with_identifiers_removed", 0) + counts.get("records_with_other_scripts_removed", 0)
    undefined = counts.get("record_info_keys_undefined_removed", 0) + counts.get("record_format_keys_undefined_removed", 0)
    assert removed + undefined >= len(PLANTED)  # an undefined key goes whole (1990:01:01 in FORMAT is three keys)


@pytest.mark.parametrize("one_by_one", [False, True], ids=["bulk", "one-by-one"])
def test_what_annotations_write_on_purpose_stays(one_by_one: bool, tmp_path: Path) -> None:
    output, counts = scrub("\n".join([*HEADER, COLUMNS, *KEPT]) + "\n", tmp_path, one_by_one)
    assert records(output) == [line.encode() for line in KEPT]
    assert "records_with_identifiers_removed" not in counts


def test_a_number_is_public_only_where_the_annotation_says_so(tmp_path: Path) -> None:
    """An Entrez ID stays in CSQ's Gene subfield; the same number in its Feature subfield, or in a
    note, goes; a date goes from the Gene subfield too."""
    lines = [
        "chr1\t10\t.\tA\tG\t50\tPASS\tCSQ=G|missense_variant|102723996|NM_1|1|R/W|Cgg/Tgg|.|.\tGT\t0/1",
        "chr1\t11\t.\tA\tG\t50\tPASS\tCSQ=G|missense_variant|ENSG1|102723996|1|R/W|Cgg/Tgg|.|.\tGT\t0/1",
        "chr1\t12\t.\tA\tG\t50\tPASS\tCSQ=G|missense_variant|1990-01-01|NM_1|1|R/W|Cgg/Tgg|.|.\tGT\t0/1",
        "chr1\t13\t.\tA\tG\t50\tPASS\tNOTE=102723996\tGT\t0/1",
    ]
    output, counts = scrub("\n".join([*HEADER, COLUMNS, *lines]) + "\n", tmp_path, False)
    assert [line.split(b"\t")[7] for line in records(output)] == [lines[0].split("\t")[7].encode(), b".", b".", b"."]
    assert counts["records_with_identifiers_removed"] == 3


@pytest.mark.parametrize("declared", ["chr1", "1"])
def test_contig_positions_give_one_answer_in_either_naming(declared: str, tmp_path: Path) -> None:
    """``chr1:12345678`` and ``1:12345678`` are positions whichever of the two names the header declares;
    a number after another word's colon is not."""
    header = [line.replace("ID=chr1,", f"ID={declared},") for line in HEADER]
    lines = [f"{declared}\t10\t.\tA\tG\t50\tPASS\tNOTE=chr1:12345678,1:12345678\tGT\t0/1",
             f"{declared}\t11\t.\tA\tG\t50\tPASS\tNOTE=MRN:12345678\tGT\t0/1"]  # fmt: skip
    output, _ = scrub("\n".join([*header, COLUMNS, *lines]) + "\n", tmp_path, False)
    assert [line.split(b"\t")[7] for line in records(output)] == [b"NOTE=chr1:12345678,1:12345678", b"."]


def test_keys_go_with_their_values_and_values_without_a_key_go(tmp_path: Path) -> None:
    lines = [
        "chr1\t10\t.\tA\tG\t50\tPASS\tDP=3;K19900101=5;NOTE=x\tGT:K19900101:NM\t0/1:7:ok",
        "chr1\t11\t.\tA\tG\t50\tPASS\tDP=3\tGT:NM\t0/1:ok:12345678:extra",
    ]
    output, counts = scrub("\n".join([*HEADER, COLUMNS, *lines]) + "\n", tmp_path, False)
    assert records(output) == [
        b"chr1\t10\t.\tA\tG\t50\tPASS\tDP=3;NOTE=x\tGT:NM\t0/1:ok",
        b"chr1\t11\t.\tA\tG\t50\tPASS\tDP=3\tGT:NM\t0/1:ok",
    ]
    assert counts["records_with_identifiers_removed"] == 2


def test_a_numeric_key_holding_text_and_a_flag_holding_a_value_are_checked(tmp_path: Path) -> None:
    """The values of a key known to hold large numbers (DP, END, PS) go unchecked only while they are
    numbers that fit (no run of 11+ digits but a fraction's: a 32-bit Integer has 10 at most); any
    other Integer's (K1) are held to the value rule; a Flag has no value (one written with a value goes
    whole, as every INFO item holding an identifier does)."""
    header = [*HEADER, '##INFO=<ID=SOMATIC,Number=0,Type=Flag,Description="Somatic">',
              '##INFO=<ID=AF,Number=A,Type=Float,Description="Frequency">']  # fmt: skip
    lines = ["chr1\t10\t.\tA\tG\t50\tPASS\tDP=kimjh@snuh.org;SOMATIC=19900101;END=12345678\tGT:K1\t0/1:900101-1234567x",
             "chr1\t11\t.\tA\tG\t50\tPASS\tDP=12345678;SOMATIC;AF=0.000123456789012\tGT:K1\t0/1:12345678",
             "chr1\t12\t.\tA\tG\t50\tPASS\tDP=9001011234567;AF=1.5e-05\tGT:K1:PS\t0/1:1,01012345678:2147483647"]  # fmt: skip
    for one_by_one in (False, True):
        output, _ = scrub("\n".join([*header, COLUMNS, *lines]) + "\n", tmp_path, one_by_one)
        assert [line.split(b"\t", 7)[7] for line in records(output)] == [
            b"END=12345678\tGT:K1\t0/1:.",
            b"DP=12345678;SOMATIC;AF=0.000123456789012\tGT:K1\t0/1:.",
            b"AF=1.5e-05\tGT:K1:PS\t0/1:.:2147483647",
        ]


@pytest.mark.parametrize("one_by_one", [False, True], ids=["bulk", "one-by-one"])
def test_a_numeric_value_off_the_number_grammar_is_held_to_the_value_rule(one_by_one: bool, tmp_path: Path) -> None:
    """A value of a key known to hold large numbers (DP, END) goes unchecked only while each element is
    ``.`` or a VCF number without a leading zero: a date, a registration number or a phone number
    written as one (or as counts, 010,1234,5678) is removed;
    numbers of the grammar stay, large ones too (DP=19900101). The small numbers of any other Integer
    or Float key (AF, PH, DB) stay."""
    header = [*HEADER, '##INFO=<ID=PH,Number=.,Type=Integer,Description="Phone">',
              '##FORMAT=<ID=DB,Number=1,Type=Integer,Description="Birth">']  # fmt: skip
    lines = ["chr1\t10\t.\tA\tC\t50\tPASS\tDP=1990-01-01;END=900101-1234567;AF=1990.01.01;PH=010-1234-5678\tGT:DB\t0/1:01/01/1990",
             "chr1\t11\t.\tA\tC\t50\tPASS\tDP=19900101;END=9001011234567;AF=29.10.2023;PH=12,-3,.\tGT:DB\t0/1:900101-1234567",
             "chr1\t12\t.\tA\tC\t50\tPASS\tDP=12;AF=1e-05,NaN,-Inf,.,.5,5.;PH=1/2/3\tGT:DB\t1|0:+7",
             "chr1\t13\t.\tA\tC\t50\tPASS\tDP=010;END=010,1234,5678\tGT:DB\t0/1:0"]  # fmt: skip
    output, counts = scrub("\n".join([*header, COLUMNS, *lines]) + "\n", tmp_path, one_by_one)
    assert [line.split(b"\t", 7)[7] for line in records(output)] == [
        b".\tGT:DB\t0/1:.",
        b"DP=19900101;PH=12,-3,.\tGT:DB\t0/1:.",
        b"DP=12;AF=1e-05,NaN,-Inf,.,.5,5.\tGT:DB\t1|0:+7",
        b"DP=010\tGT:DB\t0/1:0",  # a leading zero: read by the value rule, a phone number written as counts goes
    ]
    assert counts["records_with_identifiers_removed"] == 4


NUMERIC_HEADER = [
    *HEADER,
    '##INFO=<ID=RRNI,Number=2,Type=Integer,Description="A registration number in two">',
    '##INFO=<ID=PHONE,Number=1,Type=Integer,Description="A phone number">',
    '##INFO=<ID=BIRTHF,Number=.,Type=Float,Description="A birth date">',
    '##INFO=<ID=AN,Number=1,Type=Integer,Description="Allele number">',
    '##INFO=<ID=RS,Number=1,Type=Integer,Description="dbSNP ID">',
    '##INFO=<ID=AC_afr,Number=A,Type=Integer,Description="Allele count, African">',
    '##INFO=<ID=nhomalt_grpmax,Number=A,Type=Integer,Description="Homozygous individuals">',
    '##FORMAT=<ID=AGE,Number=1,Type=Integer,Description="Age">',
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
]


@pytest.mark.parametrize("one_by_one", [False, True], ids=["bulk", "one-by-one"])
def test_personal_numbers_written_as_numbers_of_a_sites_own_keys_go(one_by_one: bool, tmp_path: Path) -> None:
    """The red team's cases: a date of birth as an Integer (INFO and FORMAT), a registration number
    cut in two (Number=2), a mobile number that lost its leading 0; and the other spellings of a
    number of seven digits (a sign, a fraction, a list, an exponent). Each value goes, counted."""
    lines = ["chr1\t10\t.\tA\tC\t50\tPASS\tBIRTH=19900101\tGT:AGE\t0/1:19900101",
             "chr1\t11\t.\tA\tC\t50\tPASS\tRRNI=900101,1234567;PHONE=1012345678\tGT:AGE\t0/1:-1234567",
             "chr1\t12\t.\tA\tC\t50\tPASS\tBIRTH=12,3456789;BIRTHF=1234567.5\tGT:AGE\t0/1:+1990010",
             "chr1\t13\t.\tA\tC\t50\tPASS\tBIRTHF=1.9900101e7;PHONE=1e+06\tGT:AGE\t0/1:2E7"]  # fmt: skip
    output, counts = scrub("\n".join([*NUMERIC_HEADER, COLUMNS, *lines]) + "\n", tmp_path, one_by_one)
    assert [line.split(b"\t", 7)[7] for line in records(output)] == [
        b".\tGT:AGE\t0/1:.",
        b".\tGT:AGE\t0/1:.",
        b".\tGT:AGE\t0/1:.",
        b".\tGT:AGE\t0/1:.",
    ]
    assert counts["records_with_identifiers_removed"] == 4
    for number in (b"19900101", b"1234567", b"1012345678", b"3456789", b"1990010", b"9900101"):
        assert number not in output.split(b"#CHROM")[1]


@pytest.mark.parametrize("one_by_one", [False, True], ids=["bulk", "one-by-one"])
def test_known_keys_keep_their_large_numbers_and_other_keys_their_small_ones(one_by_one: bool, tmp_path: Path) -> None:
    """Positions, depths, a cohort's counts, dbSNP's rs number and gnomAD's families keep numbers of
    any size; a site's own Integer and Float keys keep numbers below 1,000,000, fractions of any
    length, ``1e-05``, ``NaN``. Six digits before the point pass whatever the fraction holds: a YYMMDD
    date with a registration number's second half as its fraction stays (the man page's limit)."""
    lines = ["chr1\t10\t.\tA\tC\t50\tPASS\tEND=123456789;DP=12345678;AN=1500000;RS=1234567890;AC_afr=2000000;"
             "nhomalt_grpmax=2147483647\tGT:PS:AD\t0|1:123456789:1500000,2500000",
             "chr1\t11\t.\tA\tC\t50\tPASS\tEND=1.5e+08;BIRTH=999999,-3,.;BIRTHF=1e-05,NaN,-Inf,0.123456789,999999.5,1.5e5,.5e5"
             "\tGT:AGE\t0/1:999999",
             "chr1\t12\t.\tA\tC\t50\tPASS\tBIRTHF=900101.1234567\tGT:AGE\t0/1:12"]  # fmt: skip
    output, counts = scrub("\n".join([*NUMERIC_HEADER, COLUMNS, *lines]) + "\n", tmp_path, one_by_one)
    assert records(output) == [line.encode() for line in lines]
    assert "records_with_identifiers_removed" not in counts


def test_the_man_page_lists_every_key_known_to_hold_large_numbers() -> None:
    """A user must know which numbers pass: NUMBERS IN RECORDS names every key of the list and family."""
    section = (ROOT / "man" / "vcf-scrub-header.md").read_text().split("## NUMBERS IN RECORDS", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"[A-Za-z0-9_]+", section))
    assert {key.decode() for key in large_numbers.LARGE_NUMBER_KEYS | large_numbers.LARGE_NUMBER_WORDS} <= named
    assert all(ending.decode() in named for ending in large_numbers.LARGE_NUMBER_ENDINGS)


@pytest.mark.parametrize("one_by_one", [False, True], ids=["bulk", "one-by-one"])
def test_dates_and_phone_numbers_with_blanks_leave_string_values(one_by_one: bool, tmp_path: Path) -> None:
    """VCF 4.3 lets an INFO String hold blanks: the Korean written date and a phone number go; six
    digits alone stay in a record (ClinVar's OMIM IDs)."""
    lines = ["chr1\t10\t.\tA\tC\t50\tPASS\tNOTE=born 1990. 01. 01.\tGT:NM\t0/1:02 1234 5678",
             "chr1\t11\t.\tA\tC\t50\tPASS\tNOTE=1990 01 01\tGT:NM\t0/1:01 01 1990",
             "chr1\t12\t.\tA\tC\t50\tPASS\tNOTE=OMIM:600101,900101,1 2 3\tGT:NM\t0/1:v 4.2.10"]  # fmt: skip
    output, _ = scrub("\n".join([*HEADER, COLUMNS, *lines]) + "\n", tmp_path, one_by_one)
    assert [line.split(b"\t", 7)[7] for line in records(output)] == [
        b".\tGT:NM\t0/1:.", b".\tGT:NM\t0/1:.", lines[2].split("\t", 7)[7].encode()
    ]


@pytest.mark.parametrize("one_by_one", [False, True], ids=["bulk", "one-by-one"])
def test_phone_numbers_with_parentheses_mixed_separators_or_the_country_code_leave_values(one_by_one: bool, tmp_path: Path) -> None:
    """Red team 10 F4: the area code in parentheses, separators of two kinds and the +82 form go, on
    both paths (the bulk path reads a block holding ``0NN)`` or ``+82`` record by record); a
    parenthesised HGVS protein change and a VEP count list stay."""
    lines = ["chr1	10	.	A	C	50	PASS	NOTE=(02) 1234 5678	GT:NM	0/1:(02)123 4567",
             "chr1	11	.	A	C	50	PASS	NOTE=010.1234-5678	GT:NM	0/1:02)1234-5678",
             "chr1	12	.	A	C	50	PASS	NOTE=+82(0)10.1234.5678	GT:NM	0/1:+82 2 123 4567",
             "chr1	13	.	A	C	50	PASS	NOTE=p.(Arg12Cys)|(0)|12	GT:NM	0/1:1,0,12"]  # fmt: skip
    output, _ = scrub("\n".join([*HEADER, COLUMNS, *lines]) + "\n", tmp_path, one_by_one)
    assert [line.split(b"\t", 7)[7] for line in records(output)] == [b".\tGT:NM\t0/1:."] * 3 + [lines[3].split("\t", 7)[7].encode()]


@pytest.mark.parametrize("one_by_one", [False, True], ids=["bulk", "one-by-one"])
def test_phone_numbers_and_dates_joined_by_a_lists_separator_leave_values(one_by_one: bool, tmp_path: Path) -> None:
    """Red team 9 B1 to B3: a phone number with ``~``, ``+``, ``|``, ``,`` or `` - `` between its
    parts, a date whose parts one list separator joins, a month's name written onto letters and an
    invisible HTML reference without its ``;`` go, on both paths; VEP's positions, a list of four
    counts, a PL with its 0 and VEP's ``&regulatory_region_variant`` stay."""
    lines = ["chr1	10	.	A	C	50	PASS	NOTE=010~1234~5678	GT:NM	0/1:010 - 1234 - 5678",
             "chr1	11	.	A	C	50	PASS	NOTE=tel|010|1234|5678	GT:NM	0/1:02+123+4567",
             "chr1	12	.	A	C	50	PASS	NOTE=1990|01|01	GT:NM	0/1:01;01;1990",
             "chr1	13	.	A	C	50	PASS	NOTE=1990,01,01	GT:NM	0/1:ctgJAN011990",
             "chr1	14	.	A	C	50	PASS	NOTE=KIM&shyJIHYUN	GT:NM	0/1:&nbspKIM",
             "chr1	15	.	A	C	50	PASS	NOTE=DOBJan-01-1990	GT:NM	0/1:KIM&#173J",
             "chr1	16	.	A	C	50	PASS	NOTE=C|regulatory_region_variant&regulatory_region_amplification|2000|10|12|15	GT:NM"
             "	0/1:1990,0,12",
             "chr1	17	.	A	C	50	PASS	NOTE=2000,10,12,15	GT:NM	0/1:Jan2020|1990|1234"]  # fmt: skip
    output, counts = scrub("\n".join([*HEADER, COLUMNS, *lines]) + "\n", tmp_path, one_by_one)
    assert [line.split(b"\t", 7)[7] for line in records(output)] == [b".\tGT:NM\t0/1:."] * 6 + [
        line.split("\t", 7)[7].encode() for line in lines[6:]
    ]
    assert counts["records_with_identifiers_removed"] == 6


@pytest.mark.parametrize("one_by_one", [False, True], ids=["bulk", "one-by-one"])
def test_dates_with_a_two_digit_year_leave_values(one_by_one: bool, tmp_path: Path) -> None:
    """A date with a two-digit year written alone, the day, the month or the year first, by dots,
    blanks or underscores, goes on both paths, as ``29.10.2023`` does; a version (``v2.10.23``,
    ``1.10.23``), a time (``12:13:49``), counts joined by a list's separator (``10,12,15``,
    ``29|10|23``) and HGVS's intronic offsets (``c.10-12_10-10del``) stay."""
    lines = ["chr1	10	.	A	C	50	PASS	NOTE=29.10.23	GT:NM	0/1:23.10.29",
             "chr1	11	.	A	C	50	PASS	NOTE=taken_10.29.23	GT:NM	0/1:29_10_23",
             "chr1	12	.	A	C	50	PASS	NOTE=29 10 23	GT:NM	0/1:23. 10. 29.",
             "chr1	13	.	A	C	50	PASS	NOTE=DOB%3A29%2E10%2E23	GT:NM	0/1:x|29.10.23",
             "chr1	14	.	A	C	50	PASS	NOTE=v2.10.23|1.10.23|12:13:49	GT:NM	0/1:10,12,15",
             "chr1	15	.	A	C	50	PASS	NOTE=c.10-12_10-10del|29|10|23	GT:NM	0/1:p.10.12.15"]  # fmt: skip
    output, counts = scrub("\n".join([*HEADER, COLUMNS, *lines]) + "\n", tmp_path, one_by_one)
    assert [line.split(b"\t", 7)[7] for line in records(output)] == [b".\tGT:NM\t0/1:."] * 4 + [
        line.split("\t", 7)[7].encode() for line in lines[4:]
    ]
    assert counts["records_with_identifiers_removed"] == 4


@pytest.mark.parametrize("one_by_one", [False, True], ids=["bulk", "one-by-one"])
def test_a_breakend_mate_written_as_an_id_is_held_to_the_symbolic_and_contig_rules(one_by_one: bool, tmp_path: Path) -> None:
    """``A[<ctg>:5[``: a mate on an assembly file's contig; one holding personal data, a path or text
    off the ALT grammar becomes ``<*>``, counted as a symbolic allele is; an assembly's name stays."""
    lines = ["chr1\t10\t.\tA\tA[<KIM_19900101>:5[\t5\tPASS\tDP=1\tGT\t0/1",
             "chr1\t11\t.\tA\tA[<ctg/home/kimjh>:5[\t5\tPASS\tDP=1\tGT\t0/1",
             "chr1\t12\t.\tA\t]<900101-1234567>:5]A,<DEL:2023_10_29>\t5\tPASS\tDP=1\tGT\t0/1",
             "chr1\t13\t.\tA\tA[<ctg1>:5[,]<chr6_GL000250v2_alt>:7]A,A[<HLA-A*01:01:01:01>:9[\t5\tPASS\tDP=1\tGT\t0/1",
             "chr1\t14\t.\tA\tG]chr1:5]\t5\tPASS\tDP=1\tGT\t0/1"]  # fmt: skip
    output, counts = scrub("\n".join([*HEADER, COLUMNS, *lines]) + "\n", tmp_path, one_by_one)
    assert [line.split(b"\t")[4] for line in records(output)] == [
        b"<*>", b"<*>", b"<*>,<*>", b"A[<ctg1>:5[,]<chr6_GL000250v2_alt>:7]A,A[<HLA-A*01:01:01:01>:9[", b"G]chr1:5]"
    ]
    assert counts["records_with_identifiers_removed"] == 3


@pytest.mark.parametrize("one_by_one", [False, True], ids=["bulk", "one-by-one"])
def test_a_symbolic_allele_naming_a_place_goes(one_by_one: bool, tmp_path: Path) -> None:
    """A host name, an IP address or a scheme in a symbolic allele's ID (``<DEL:kim.snuh.ac.kr>``) was
    kept, its grammar allowing dots and colons: it becomes ``<*>`` in records, and its ``##ALT`` line
    goes; the structural variant types stay, dotted or not."""
    header = [*HEADER, '##ALT=<ID=DEL:seq01.snuh.ac.kr,Description="x">', '##ALT=<ID=DUP:TANDEM,Description="Tandem duplication">']
    lines = ["chr1\t10\t.\tA\t<DEL:kim.snuh.ac.kr>\t5\tPASS\tDP=1\tGT\t0/1",
             "chr1\t11\t.\tA\t<INS:10.0.0.1>,<DEL:KIM.SNUH.AC.KR>\t5\tPASS\tDP=1\tGT\t0/1",
             "chr1\t12\t.\tA\t<INS:http:kimjh>\t5\tPASS\tDP=1\tGT\t0/1",
             "chr1\t13\t.\tA\tA[<asm.snuh.org>:5[\t5\tPASS\tDP=1\tGT\t0/1",
             "chr1\t14\t.\tA\t<DUP:TANDEM>,<INS:ME:L1.HS>,<CN0>\t5\tPASS\tDP=1\tGT\t0/1"]  # fmt: skip
    output, counts = scrub("\n".join([*header, COLUMNS, *lines]) + "\n", tmp_path, one_by_one)
    assert [line.split(b"\t")[4] for line in records(output)] == [b"<*>", b"<*>,<*>", b"<*>", b"<*>", b"<DUP:TANDEM>,<INS:ME:L1.HS>,<CN0>"]
    assert counts["records_with_identifiers_removed"] == 4
    assert b"snuh" not in output.lower() and b"##ALT=<ID=DUP:TANDEM," in output


@pytest.mark.parametrize("one_by_one", [False, True], ids=["bulk", "one-by-one"])
def test_an_empty_info_item_goes(one_by_one: bool, tmp_path: Path) -> None:
    """The VCF has no empty INFO item: a ``;`` at the end, ``;;`` or a lone ``;`` go, counted."""
    lines = ["chr1\t10\t.\tA\tC\t50\tPASS\tDP=3;\tGT\t0/1",
             "chr1\t11\t.\tA\tC\t50\tPASS\tDP=3;;NOTE=.\tGT\t0/1",
             "chr1\t12\t.\tA\tC\t50\tPASS\t;\tGT\t0/1",
             "chr1\t13\t.\tA\tC\t50\tPASS\tNOTE=.;\tGT\t0/1",
             "chr1\t14\t.\tA\tC\t50\tPASS\tDP=3\tGT\t0/1"]  # fmt: skip
    output, counts = scrub("\n".join([*HEADER, COLUMNS, *lines]) + "\n", tmp_path, one_by_one)
    assert [line.split(b"\t")[7] for line in records(output)] == [b"DP=3", b"DP=3;NOTE=.", b".", b"NOTE=.", b"DP=3"]
    assert counts["record_info_empty_items_removed"] == 5
    assert "records_with_identifiers_removed" not in counts


@pytest.mark.parametrize("one_by_one", [False, True], ids=["bulk", "one-by-one"])
def test_a_named_html_reference_goes_and_vep_ampersands_stay(one_by_one: bool, tmp_path: Path) -> None:
    """``S2301217&ZeroWidthSpace;N`` in a FORMAT value (where a ``;`` may stand) renders as the sample ID
    and stayed: a named reference goes as a numeric one does, and so does one whose ``;`` is
    percent-encoded in an INFO value; the ``&`` VEP and SnpEff join terms with stays."""
    lines = ["chr1\t10\t.\tA\tC\t50\tPASS\tNOTE=KIM&shy%3BJIHYUN\tGT:NM\t0/1:x",
             "chr1\t11\t.\tA\tC\t50\tPASS\tNOTE=x\tGT:NM\t0/1:S2301217&ZeroWidthSpace;N",
             "chr1\t12\t.\tA\tC\t50\tPASS\tNOTE=x\tGT:NM\t0/1:1990&ndash;01&ndash;01",
             "chr1\t13\t.\tA\tC\t50\tPASS\tCSQ=C|missense_variant&splice_region_variant|ENSG1|ENST1|1|R/W|Cgg/Tgg|.|.\tGT:NM"
             "\t0/1:intron_variant&non_coding_transcript_variant;x&y"]  # fmt: skip
    output, counts = scrub("\n".join([*HEADER, COLUMNS, *lines]) + "\n", tmp_path, one_by_one)
    assert [line.split(b"\t", 7)[7] for line in records(output)] == [
        b".\tGT:NM\t0/1:x", b"NOTE=x\tGT:NM\t0/1:.", b"NOTE=x\tGT:NM\t0/1:.", lines[3].split("\t", 7)[7].encode()
    ]
    assert counts["records_with_identifiers_removed"] == 3


# --- the C loop is a superset of the rules; the bulk path gives the one-record path's bytes -------

PIECES = st.sampled_from(
    ["1990-01-01", "19900101", "900101-1234567", "1234567-1234570", "1234567-1234560", "16050036_A_C", "chr1:12345678", "2:12345678",
     "-1234567", "1234567.5", "12,3456789", "1012345678", "900101.1234567", "999999.5", "1.9900101e7", "1e+06", "2E7", "1.5e5",
     ".5e7", "1e", "e+", "e-05", "E",
     "MRN:12345678", "NM_001009931", "PT_12345678", "rs76717221", "0.0001997", "a/b", "a/b/c", "/x", "~x", "x@y", "%3D", "%EA", "&#1",
     "\\x", "s3://b", "12", "0", "9001011234567", "0.00012345678901", "-", "|", ",", ":", "=", "(", ")", " ", "&", "G", "ENSG1",
     "1.2.3", "01/02/1990", "102723996", ".", "1990 01 01", "1990. 01. 01.", "2023_10_29", "1990:01:01", "29.10.2023",
     "01_01_1990", "02 1234 5678", "010.1234.5678", "4.2.10", "OMIM:600101", "NaN", "-Inf", "1e-05", "-3", "+7", "5.",
     "kim.snuh.ac.kr", "http:", "HTTPS:", "10.0.0.1", "L1.HS",
     "%3A", "%5F", "%2D", "%2c", "%2F", "%20", "%31", "%253A", "%3B", "%40", "DOB%3A19900101", "1990%2D01%2D01", "p.Leu10%3D",
     "29-OCT-2023", "29oct2023", "Oct 29 2023", "1 January 1990", "01-Jan-90", "Sept", "oct", "DEC", "MARCHF5", "novel", "Dec1",
     "%4FCT", "-2023", "29-", "_", "Jan_", "Jan 12023", "3 Sept 23", "Oct 29th, 2023", "oct4", "1Jan", "Dec 2023", "2,",
     "&shy;", "&ZeroWidthSpace;", "&shy%3B", "&x1", "&1;", "&;", ";", "missense_variant&splice_region_variant", "&amp%3b",
     "1990-Jan-01", "1990JAN01", "1990 jan 1", "1st January 1990", "22nd-Oct, 2023", "1990", "1990-", "1st", "3rd ", "Oct2020",
     "1000g2015aug_all", "2015aug", "Dec. 1, 1990", "Sept. 1st, 1990", "1st of January 1990", " of ", "DOB01JAN1990",
     "xx01Jan1990", "DOB1990Jan01", "Jan-01-90", "Dec-1-90", "JAN_01_90", "Dec 1 '90", "'", "Dec.", "ab12",
     "01+Jan+1990", "01~Jan~1990", "+", "~", "0/1", "01/1", "1|0", "0|10|1234|5678", "1/1/1/1/1/1/1/1", "/", "/0/1/0/1/0/1/0/1",
     "010~1234~5678", "010|1234|5678", "010 - 1234 - 5678", "02+123+4567", "010,1234,5678", " - ", "010", "1234", "5678", ";",
     "1990|01|01", "01;01;1990", "1990,01,01", "01~01~1990", "2000,10,12,15", "1990,0,12", "|01", "1990|", "ctgJAN011990",
     "DOBJan-01-1990", "Jan01", "Dec.", "xDec.25,1990", "&shy", "&nbsp", "&NBSP", "&#173", "&#xad", "&regulatory_region_variant",
     "10.0.0.1", "ctg_10.0.0.1", "29.10.23", "23. 10. 29.", "29_10_23", "10 29 23", "v2.10.23", "12:13:49", "c.10-12_10-10"]
)  # fmt: skip
VALUES = st.lists(PIECES, min_size=1, max_size=6).map("".join)
IDS = st.sampled_from(["q10", "PASS", "f19900101", "f1-2-3", "a%2", "x.y", "", "Z*", "1000G"])
KEYS = st.sampled_from(
    ["NOTE", "WHO", "CSQ", "GENEINFO", "DP", "END", "K19900101", "", "a/b", "PS", "DB", "MATEID", "EVENT", "BIRTH", "AF"]
)
FORMAT_KEYS = st.lists(st.sampled_from(["GT", "NM", "PID", "K1", "PS", "K900101-1234567", "X"]), min_size=1, max_size=4, unique=True)


@st.composite
def record_lines(draw: st.DrawFn) -> str:
    alt = draw(st.sampled_from(["G", "<DEL>", "<DEL:{v}>", "G,<INS:ME:{v}>", "<>", "G]chr1:5]", "G]<{v}>:5]", "[<ctg1>:5[A,G"]))
    alt = alt.replace("{v}", draw(VALUES).replace(",", ".").replace(" ", "_"))
    filters = ";".join(draw(st.lists(IDS, min_size=1, max_size=3)))
    info = ";".join(f"{key}={draw(VALUES).replace(';', '')}" if key not in ("", "DB") else key for key in draw(st.lists(KEYS, max_size=4)))
    keys = draw(FORMAT_KEYS)
    if draw(st.integers(0, 4)) == 0:  # a key given twice (GT:PS:PS): its later copy goes
        keys.insert(draw(st.integers(1, len(keys))), draw(st.sampled_from(keys)))
    samples = [":".join(draw(VALUES).replace(":", "").replace("\t", "") for _ in range(len(keys) + draw(st.integers(-1, 1)))) or "."
               for _ in range(2)]  # fmt: skip
    format_column = ":".join(keys)
    if draw(st.integers(0, 9)) == 0:  # no FORMAT: the samples are not looked at
        format_column, samples = ".", [draw(VALUES).replace("\t", "") or "." for _ in range(2)]
    identifier = draw(st.sampled_from([".", "rs12", "bnd_1", "bnd_2", "HOSP_7;rs3"]))
    return "\t".join(["chr1", "10", identifier, "A", alt, "50", filters or ".", info or ".", format_column, *samples])


@pytest.mark.slow  # a long sweep of the C against its Python twin: make test-slow (CI runs it after make test)
@settings(max_examples=240, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(record_lines(), min_size=1, max_size=6))
def test_candidates_are_a_superset_and_both_loops_agree(lines: list[str]) -> None:
    """The C loop and its twin pick the same records, and every record a rule changes (with and
    without the header's definitions); BIRTH, AF and K1 are numeric keys not known to hold large
    numbers, held to the value rule as String keys are."""
    info = unchecked_keys(b"INFO", {b"DP": {b"Integer"}, b"END": {b"Integer"}, b"BIRTH": {b"Integer"}, b"AF": {b"Float"}})
    format_keys = unchecked_keys(b"FORMAT", {b"PS": {b"Integer"}, b"K1": {b"Integer"}, b"NM": {b"String"}})
    assert (info, format_keys) == ({b"DP", b"END"} | {b"AC", b"AN", b"MQ0", b"NS", b"SB", b"SVLEN", b"AD", b"ADF", b"ADR"},
                                   {b"PS", b"AD", b"ADF", b"ADR", b"DP"})  # fmt: skip
    values = RecordValues(info, format_keys, frozenset({b"chr1"}), {b"CSQ": frozenset({2})})
    text = ("\n".join(lines) + "\n").encode()
    encoded = [line.encode() for line in lines]
    ends = np.cumsum([len(line) + 1 for line in encoded], dtype=np.int64) - 1
    starts = np.array([end - len(line) for end, line in zip(ends.tolist(), encoded, strict=True)], dtype=np.int64)
    alt_offsets = [start + len(b"\t".join(line.split(b"\t")[:4])) + 1 for start, line in zip(starts.tolist(), encoded, strict=True)]
    alt_starts = np.array(alt_offsets, dtype=np.int64)
    keys = (sorted(values.numeric_info), sorted(values.numeric_format), values.layout_keys, values.layout_masks)
    arguments = (text, alt_starts, ends, *keys, sorted(values.contigs), sorted(values.underscore_names), [b"EVENT", b"MATEID"])
    found = scan.python.vcf_identifier_candidates(*arguments)
    if scan.compiled is not None:
        assert scan.compiled.vcf_identifier_candidates(*arguments).tolist() == found.tolist()
    escaped = escaped_rows(text, ends)  # what an escape may hide, which the C loop does not decode
    for line, candidate, hidden in zip(encoded, found.tolist(), escaped.tolist(), strict=True):
        fields = line.split(b"\t")
        if values.scrub(fields):
            assert candidate or hidden, line
    definitions = RecordDefinitions(frozenset({b"DP", b"NOTE", b"CSQ", b"MATEID"}), frozenset({b"GT", b"NM", b"K1"}), frozenset({b"q10"}))
    defined = RecordValues(values.numeric_info, values.numeric_format - {b"GT"}, frozenset({b"chr1"}), {b"CSQ": frozenset({2})},
                           definitions=definitions)  # fmt: skip
    lists = (*defined.loop_lists[:6], [b"EVENT", b"MATEID"], *defined.definition_lists)
    found = scan.python.vcf_identifier_candidates(text, alt_starts, ends, *lists)
    if scan.compiled is not None:
        assert scan.compiled.vcf_identifier_candidates(text, alt_starts, ends, *lists).tolist() == found.tolist()
    for line, candidate, hidden in zip(encoded, found.tolist(), escaped.tolist(), strict=True):
        fields = line.split(b"\t")
        if defined.scrub(fields) or b"\t".join(fields) != line:
            assert candidate or hidden, line


@pytest.mark.parametrize(
    ("value", "candidate"),
    [("29-OCT-2023", True), ("29OCT2023", True), ("01-Jan-90", True), ("Oct 29 2023", True), ("October 29th, 2023", True),
     ("Jan 12023", True), ("3 Sept 23", True), ("1Jan90", True), ("Jan 1, 23", True),  # a superset: no year of four digits, nor separators
     ("1990-Jan-01", True), ("1990 Jan 01", True), ("1990JAN01", True), ("1st January 1990", True), ("22nd Oct, 2023", True),
     ("1990Jan123", True),  # a superset: a day of three digits
     ("Dec. 1, 1990", True), ("Sept. 1st, 1990", True), ("the 1st of January 1990", True), ("DOB01JAN1990", True),
     ("xx01Jan1990xx", True), ("DOB1990Jan01", True), ("Jan-01-90", True), ("Dec-1-90", True), ("JAN_01_90", True),
     ("Dec 1 '90", True), ("ab1Jan", False), ("x123Jan1990", False), ("x1Jan1990", True),  # a superset: a day of one digit onto letters
     ("01+Jan+1990", True), ("1990~Jan~01", True), ("Dec+1", False),
     ("Dec1", False), ("SEPT9", False), ("Oct4|1Jan", False), ("Dec 2023", False), ("MARCHF5", False), ("Dec.1", False), ("SEPT9.1", False),
     ("Oct2020", False), ("2020Oct", False), ("1000g2015aug_all", False), ("19900Jan01", False), ("1st Jan", False)],
)  # fmt: skip
def test_a_month_beside_a_lone_number_sends_no_record_to_the_one_record_path(value: str, candidate: bool) -> None:
    """Gene aliases (``Dec1``, ``Sept9``) in every record of an annotated VCF once sent each to the
    one-record path (30x the block's cost); a month's name is a candidate with a day and a year,
    in either order or the year first (``1990-Jan-01``), the day perhaps an ordinal (``1st``)."""
    line = f"chr1\t10\t.\tA\tG\t50\tPASS\tNOTE={value}\tGT:NM\t0/1:{value}\n".encode()
    arguments = (line, np.array([len(b"chr1\t10\t.\tA\t")], dtype=np.int64), np.array([len(line) - 1], dtype=np.int64),
                 *RecordValues(frozenset(), frozenset(), frozenset({b"chr1"})).loop_lists)  # fmt: skip
    for implementation in (scan.python, scan.compiled):
        if implementation is not None:
            assert implementation.vcf_identifier_candidates(*arguments).tolist() == [candidate]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="0129.eE+-,|x_ ", max_size=14), min_size=1, max_size=5))
def test_numbers_of_a_numeric_key_both_loops_agree_and_pick_what_the_rule_removes(texts: list[str]) -> None:
    """Numbers in every spelling (signs, fractions, exponents, lists, near misses) as the values of a
    site's own Integer key (BIRTH, K1) and a known one (DP, PS): the C loop and its twin pick the same
    records, and every record the rule changes."""
    values = RecordValues(frozenset({b"DP"}), frozenset({b"PS"}), frozenset({b"chr1"}))
    lines = [f"chr1\t10\t.\tA\tG\t50\tPASS\tBIRTH={text};DP={text}\tGT:K1:PS\t0/1:{text}:{text}".encode() for text in texts]
    text = b"\n".join(lines) + b"\n"
    ends = np.cumsum([len(line) + 1 for line in lines], dtype=np.int64) - 1
    alt_starts = np.array([end - len(line) + len(b"chr1\t10\t.\tA\t") for end, line in zip(ends.tolist(), lines, strict=True)])
    arguments = (text, alt_starts.astype(np.int64), ends, *values.loop_lists)
    found = scan.python.vcf_identifier_candidates(*arguments)
    if scan.compiled is not None:
        assert scan.compiled.vcf_identifier_candidates(*arguments).tolist() == found.tolist()
    for line, candidate in zip(lines, found.tolist(), strict=True):
        if values.scrub(line.split(b"\t")):
            assert candidate, line


@settings(max_examples=60, deadline=None)
@given(st.lists(record_lines(), min_size=1, max_size=8))
def test_bulk_path_gives_the_one_record_path_bytes(lines: list[str]) -> None:
    text = "\n".join([*HEADER, COLUMNS + "\tS2", *lines]) + "\n"
    outputs = []
    for one_by_one in (False, True):
        os.environ["GENOSCRUB_ONE_BY_ONE"] = "1" if one_by_one else "0"
        try:
            result = CliRunner().invoke(app, ["-q"], input=text.encode())
        finally:
            del os.environ["GENOSCRUB_ONE_BY_ONE"]
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout_bytes)
    assert outputs[0] == outputs[1]


@pytest.mark.slow  # a long sweep of the bulk path against the one-record path: make test-slow (CI runs it after make test)
def test_corpus_vcfs_give_one_answer_on_both_paths(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every real VCF of the corpus: the bulk path (the C loop, then only its records split) writes the
    bytes and counts the one-record path writes."""
    compared = 0
    report = tmp_path / "report.json"
    for path in sorted((corpus / "vcf").glob("*.vcf*")):
        outputs = []
        for one_by_one in ("0", "1"):
            monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
            result = CliRunner().invoke(app, ["-q", "--report", str(report), str(path)])
            counts = json.loads(report.read_text())["counts"] if result.exit_code == 0 else None
            outputs.append((result.exit_code, result.stdout_bytes, counts))
        assert outputs[0] == outputs[1], path.name
        compared += outputs[0][0] == 0
    assert compared > 50


@pytest.mark.parametrize("value", ["%3BJan-01-90", "%2COct 29 2023", "x%3Adec.%201%2C%201990"])
def test_an_escape_before_a_months_name_sends_the_record_to_the_one_record_path(value: str) -> None:
    """Decoded, ``%3BJan-01-90`` is ``;Jan-01-90``, a date whose month starts a token; as written the
    month follows a letter, so the C loop's candidate missed it and the bulk path kept what the
    one-record path removed (found by the superset test's search)."""
    line = f"chr1\t10\t.\tA\tG\t50\tPASS\t.\tGT:NM\t0/1:{value}\n".encode()
    assert escaped_rows(line, np.array([len(line) - 1], dtype=np.int64)).tolist() == [True]
    assert RecordValues(frozenset(), frozenset(), frozenset({b"chr1"})).scrub(line[:-1].split(b"\t"))


GENOTYPE_TEXT = st.lists(st.sampled_from(["0", "1", "2", "01", "00", "10", "19850314", "1234567890", ".", "/", "|", "x"]), max_size=12)


@settings(max_examples=400, deadline=None)
@given(GENOTYPE_TEXT.map("".join), st.integers(0, 3))
def test_a_genotype_the_scrubber_writes_passes_the_audits_genotype_rule(value: str, alts: int) -> None:
    """The scrubber's GT rule (``genotype_off_grammar``, ``missing_genotype``) and the audit's own copy
    (``audit_vcf_columns.gt_value_fault``) agree: a GT the scrubber keeps, or writes in its place, is
    no finding of the audit (an allele past the ALTs, a leading zero, more than 8 alleles:
    ``0/19850314``, ``01/1``, ``0|10|1234|5678``); the C loop and its twin pick every GT it changes."""
    genotype = value.encode()
    off = genotype_off_grammar(genotype, alts)
    written = missing_genotype(genotype) if off else genotype
    assert gt_value_fault(written, max(alts, 1)) == ""
    if gt_value_fault(genotype, max(alts, 1)):
        assert off
    alt = ",".join("GCT"[:alts]) or "."
    line = f"chr1\t10\t.\tA\t{alt}\t50\tPASS\tDP=3\tGT\t{value or '.'}\n".encode()
    definitions = RecordDefinitions(frozenset({b"DP"}), frozenset({b"GT"}), frozenset())
    values = RecordValues(frozenset(), frozenset(), frozenset({b"chr1"}), definitions=definitions)
    arguments = (line, np.array([len(b"chr1\t10\t.\tA\t")], dtype=np.int64), np.array([len(line) - 1], dtype=np.int64),
                 *values.loop_lists, *values.definition_lists)  # fmt: skip
    found = scan.python.vcf_identifier_candidates(*arguments).tolist()
    if scan.compiled is not None:
        assert scan.compiled.vcf_identifier_candidates(*arguments).tolist() == found
    if genotype_off_grammar(value.encode() or b".", alts):
        assert found == [True]


@pytest.mark.parametrize("one_by_one", [False, True], ids=["bulk", "one-by-one"])
def test_an_info_item_holding_an_identifier_goes_whole(one_by_one: bool, tmp_path: Path) -> None:
    """Red team 16 F3: ``NOTE=reported_900101-1234567`` became ``NOTE=.``, so the records that held an
    identifier (the variant reported back to the patient) stayed marked beside those that never had
    a NOTE. The item goes whole, key and value, whatever removed it (the value rule, Hangul), and
    such a record reads as one without the key; a ``.`` the input wrote stays."""
    lines = ["chr1\t10\t.\tA\tC\t50\tPASS\tDP=3;NOTE=reported_900101-1234567\tGT:NM\t0/1:x",
             "chr1\t11\t.\tA\tC\t50\tPASS\tNOTE=\uae40\uc9c0\ud604;DP=3\tGT:NM\t0/1:x",
             "chr1\t12\t.\tA\tC\t50\tPASS\tDP=3\tGT:NM\t0/1:x",
             "chr1\t13\t.\tA\tC\t50\tPASS\tNOTE=reported;DP=3\tGT:NM\t0/1:x",
             "chr1\t14\t.\tA\tC\t50\tPASS\tNOTE=.;DP=3\tGT:NM\t0/1:x",
             "chr1\t15\t.\tA\tC\t50\tPASS\tNOTE=19900101\tGT:NM\t0/1:x"]  # fmt: skip
    output, counts = scrub("\n".join([*HEADER, COLUMNS, *lines]) + "\n", tmp_path, one_by_one)
    assert [line.split(b"\t")[7] for line in records(output)] == [b"DP=3", b"DP=3", b"DP=3", b"NOTE=reported;DP=3", b"NOTE=.;DP=3", b"."]
    assert counts["records_with_identifiers_removed"] == 2
