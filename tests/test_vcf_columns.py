"""vcf_columns.RecordColumns: CHROM, REF, ALT and QUAL as every VCF command reads them.

The bulk check of a block must refuse exactly the blocks the one-record check refuses, and
name the same line with the same message; the three VCF commands refuse a planted value in
each column alike, and the value appears in no output.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from genoscrub.report import InputError
from genoscrub.vcf import RecordBlock
from genoscrub.vcf_columns import (
    ALT_OFF_GRAMMAR,
    ALT_UNDECLARED,
    CHROM_OFF_GRAMMAR,
    CHROM_PERSONAL,
    QUAL_OFF_GRAMMAR,
    REF_OFF_GRAMMAR,
    UNDECLARED_CHROM,
    RecordColumns,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run_command

DECLARED = [b"chr1", b"chr2", b"1", b"HLA-A*01:01:01:01"]
CHROMS = st.sampled_from([*DECLARED, b"chr3", b"KIMJ", b"*bad", b"chr1 ", b"ctg_19900101", b"tig00000001", b"<ctg_19900101>"])
REFS = st.sampled_from([b"A", b"ACGT", b"acgtn", b"M", b"RYKM", b"", b"KIMJ", b"A,C", b"N*", b"."])
ALTS = st.sampled_from([
    b".", b"G", b"G,T", b"*", b"A,*", b"<DEL>", b"<NON_REF>", b"A,<*>", b"G]chr2:321682]", b"]chr1:100]T", b"C.", b".C",
    b"G]KIMJ:5]", b"G]<ctg1>:5]", b"KIMJ", b"G,,T", b",G", b"G,", b"", b"<>", b"]chr1:100]", b"G]chr1:100]T", b"..", b"<DEL",
    b"acgtRYKM", b"G,KIMJ", b"G]ctg_19900101:5]",
])  # fmt: skip
QUALS = st.sampled_from([
    b".", b"50", b"3.5", b"0", b"1e5", b"-1.5e-3", b"+3", b".5", b"5.", b"inf", b"-inf", b"nan", b"Inf", b"NaN", b"infinity",
    b"KIMJ", b"", b"1.2.3", b"1e", b"0x10", b"1_0", b"e5", b"..",
])  # fmt: skip


def record(chrom: bytes, ref: bytes, alt: bytes, qual: bytes) -> bytes:
    return b"\t".join([chrom, b"100", b".", ref, alt, qual, b"PASS", b"DP=1", b"GT", b"0/1"])


@st.composite
def blocks(draw: st.DrawFn) -> list[bytes]:
    good = st.builds(record, st.sampled_from(DECLARED[:2]), st.just(b"A"), st.sampled_from([b"G", b"<DEL>", b"."]), st.just(b"50"))
    anything = st.builds(record, CHROMS, REFS, ALTS, QUALS)
    return draw(st.lists(st.one_of(good, good, anything), min_size=1, max_size=12))


def one_record_error(lines: list[bytes], columns: RecordColumns) -> tuple[int, str] | None:
    for index, line in enumerate(lines):
        if message := columns.fault(line.split(b"\t")):
            return index, message
    return None


@settings(max_examples=400, deadline=None)
@given(lines=blocks(), declared=st.booleans())
def test_the_bulk_check_refuses_what_the_one_record_check_refuses(lines: list[bytes], declared: bool) -> None:
    text = b"\n".join(lines) + b"\n"
    columns = RecordColumns(DECLARED if declared else [])
    expected = one_record_error(lines, RecordColumns(DECLARED if declared else []))
    block = RecordBlock(10, text, "x.vcf", 10)
    try:
        columns.check(block)
    except InputError as error:
        assert expected is not None
        assert (error.line, error.message) == (10 + expected[0], expected[1])
        return
    assert expected is None


@pytest.mark.parametrize(
    ("fields", "declared", "message"),
    [
        ((b"chr1", b"A", b"G", b"50"), True, None),
        ((b"chr3", b"A", b"G", b"50"), True, UNDECLARED_CHROM),
        ((b"chr3", b"A", b"G", b"50"), False, None),  # no ##contig lines: nothing declares, the grammar decides
        ((b"*chr3", b"A", b"G", b"50"), False, CHROM_OFF_GRAMMAR),
        ((b"chr1", b"M", b"G", b"50"), True, None),  # hg19 holds IUPAC codes in REF
        ((b"chr1", b"KIMJ", b"G", b"50"), True, REF_OFF_GRAMMAR),
        ((b"chr1", b"", b"G", b"50"), True, REF_OFF_GRAMMAR),
        ((b"chr1", b"A", b"KIMJ", b"50"), True, ALT_OFF_GRAMMAR),
        ((b"chr1", b"A", b"G,", b"50"), True, ALT_OFF_GRAMMAR),
        ((b"chr1", b"A", b"G]chr2:5]", b"50"), True, None),
        ((b"chr1", b"A", b"G]KIMJ:5]", b"50"), True, ALT_UNDECLARED),
        ((b"chr1", b"A", b"G]KIMJ:5]", b"50"), False, None),
        ((b"chr1", b"A", b"]chr2:5]", b"50"), True, ALT_OFF_GRAMMAR),  # a breakend has bases on one side
        ((b"chr1", b"A", b"<DEL>,*", b"50"), True, None),
        ((b"chr1", b"A", b"G", b"inf"), True, None),
        ((b"chr1", b"A", b"G", b"-inf"), True, None),
        ((b"chr1", b"A", b"G", b"nan"), True, None),
        ((b"chr1", b"A", b"G", b"Infinity"), True, None),  # bcftools reads it (writes inf)
        ((b"chr1", b"A", b"G", b"infinit"), True, QUAL_OFF_GRAMMAR),
        ((b"<2>", b"A", b"G", b"50"), False, None),  # VCF 4.3: a contig of an assembly file
        # no ##contig lines: CHROM and a breakend's contig held to a ##contig ID's rule too
        ((b"ctg_19900101", b"A", b"G", b"50"), False, CHROM_PERSONAL),
        ((b"<ctg_19900101>", b"A", b"G", b"50"), False, CHROM_PERSONAL),
        ((b"ctg_kim@snuh.org", b"A", b"G", b"50"), False, CHROM_PERSONAL),
        ((b"tig00000001", b"A", b"G", b"50"), False, None),  # Canu's: six significant digits at most
        ((b"chr1_KI270706v1_random", b"A", b"G", b"50"), False, None),
        ((b"chr1", b"A", b"G]ctg_19900101:5]", b"50"), False, ALT_UNDECLARED),
        ((b"chr1", b"A", b"G", b"KIMJ"), True, QUAL_OFF_GRAMMAR),
        ((b"chr1", b"A", b"G", b"1_0"), True, QUAL_OFF_GRAMMAR),
    ],
)
def test_one_record(fields: tuple[bytes, ...], declared: bool, message: str | None) -> None:
    assert RecordColumns(DECLARED if declared else []).fault(record(*fields).split(b"\t")) == message


def test_the_contigs_seen_lately_are_tried_first_and_stay_few() -> None:
    many = [b"c%d" % number for number in range(30)]
    columns = RecordColumns(many)
    for number, name in enumerate(many):
        columns.check(RecordBlock(number + 1, record(name, b"A", b"G", b"1") + b"\n", "x.vcf", 10))
    assert len(columns.recent) == RecordColumns.RECENT and columns.recent[0] == many[-1]


# --- the three commands ------------------------------------------------------------------------

HEADER = [
    "##fileformat=VCFv4.2",
    "##contig=<ID=chr1,length=100000>",
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">',
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1",
]
GOOD = ["chr1", "100", ".", "A", "G", "50", "PASS", "DP=10", "GT", "0/1"]
COMMANDS = {
    "vcf-scrub-header": [],
    "vcf-drop-rare": ["--af-key", "DP", "--min-af", "0"],
    "vcf-drop-regions": ["--bed", "{bed}"],
}
PLANTED = {0: ("KIMJ", UNDECLARED_CHROM), 3: ("KIMJ", REF_OFF_GRAMMAR), 4: ("G,KIMJ", ALT_OFF_GRAMMAR), 5: ("KIMJ", QUAL_OFF_GRAMMAR)}


@pytest.mark.parametrize("one_by_one", [False, True], ids=["bulk", "one-by-one"])
def test_without_contig_lines_every_vcf_command_refuses_a_personal_chrom(tmp_path: Path, one_by_one: bool) -> None:
    """Without ##contig lines nothing declares CHROM: ``ctg_19900101`` is refused by the rule a
    ##contig ID is held to, at its line (vcf-drop-regions needs ##contig lines and says so first)."""
    header = [line for line in HEADER if not line.startswith("##contig")]
    planted = ["ctg_19900101", *GOOD[1:]]
    vcf = tmp_path / "in.vcf"
    vcf.write_text("\n".join([*header, "\t".join(GOOD), "\t".join(planted)]) + "\n")
    env = {"GENOSCRUB_ONE_BY_ONE": "1" if one_by_one else "0"}
    for command in ("vcf-scrub-header", "vcf-drop-rare"):
        result = run_command(command, *COMMANDS[command], str(vcf), env=env)
        assert result.returncode == 1, (command, result.stderr)
        assert result.stderr.decode() == f"{command}: {vcf}:6: {CHROM_PERSONAL}\n"
        assert b"19900101" not in result.stdout


@pytest.mark.parametrize("one_by_one", [False, True], ids=["bulk", "one-by-one"])
@pytest.mark.parametrize("column", sorted(PLANTED))
def test_every_vcf_command_refuses_a_planted_column_alike(tmp_path: Path, column: int, one_by_one: bool) -> None:
    value, message = PLANTED[column]
    planted = list(GOOD)
    planted[column] = value
    lines = [*HEADER, "\t".join(GOOD), "\t".join(planted), "\t".join(GOOD)]
    vcf = tmp_path / "in.vcf"
    vcf.write_text("\n".join(lines) + "\n")
    bed = tmp_path / "regions.bed"
    bed.write_text("chr1\t5000\t6000\n")
    env = {"GENOSCRUB_ONE_BY_ONE": "1" if one_by_one else "0"}
    for command, options in COMMANDS.items():
        arguments = [option.format(bed=bed) for option in options]
        output = tmp_path / f"{command}.vcf"
        report = tmp_path / f"{command}.json"
        result = run_command(command, *arguments, "-o", str(output), "--report", str(report), str(vcf), env=env)
        assert result.returncode == 1, (command, result.stderr)
        assert result.stderr.decode() == f"{command}: {vcf}:7: {message}\n"
        assert b"KIMJ" not in result.stdout
        assert not output.exists()
        assert not report.exists() or b"KIMJ" not in report.read_bytes()
