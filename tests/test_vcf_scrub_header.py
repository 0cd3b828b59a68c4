"""vcf-scrub-header: unit, property, corpus and end-to-end tests.

Golden cases in tests/golden/vcf-scrub-header/ pin exact outputs and every bad-input
message; here the results are checked with bcftools, on the real corpus files (read
in place) and on the simulator's planted identifiers.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from pathlib import Path

import pysam
import pytest
from genoscrub.audit_header import contig_holds_personal, reference_holds_personal
from genoscrub.identifiers import IdentifierScrub, personal_contig, personal_reference_name
from genoscrub.pseudonyms import Pseudonyms
from genoscrub.report import Report
from genoscrub.vcf import RecordBlock, VcfHeader
from genoscrub.vcf_header import contig
from genoscrub.vcf_scrub_header import (
    IdScrubber,
    app,
    name_replacements,
    sample_stem,
    scrub_header,
    scrub_reference,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import ROOT, corpus_dir, run_command

COMMAND = "vcf-scrub-header"
FIXED = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"


SIMULATION = {"pairs": 300}


def invoke(*args: str, input: bytes | None = None) -> tuple[int, bytes, bytes]:
    """Run the command in this process (the corpus has hundreds of files): status, stdout, stderr."""
    result = CliRunner().invoke(app, list(args), input=input)
    return result.exit_code, result.stdout_bytes, result.stderr_bytes


def bcftools(*args: str, input: bytes | None = None) -> bytes:
    return subprocess.run(["bcftools", *args], input=input, capture_output=True, check=True).stdout


def records(vcf_text: bytes) -> list[list[bytes]]:
    return [line.split(b"\t") for line in vcf_text.splitlines() if not line.startswith(b"#")]


# --- header pieces ---------------------------------------------------------------------------


def test_contig_keeps_only_id_and_length() -> None:
    value = b'<ID=chr1,length=248956422,assembly=GRCh38,md5=abc,URL=file:///data/hospital/ref.fa,species="Homo sapiens">'
    found = contig(value)
    assert found is not None and found.line() == b"##contig=<ID=chr1,length=248956422>" and found.dropped_fields == 4
    assert contig(b"not structured") is None
    assert contig(b"<length=100,ID=chr1>") == contig(b"<ID=chr1,length=100>")  # any order
    text_after_length = contig(b"<ID=chr1,length=100 S2301217T>")
    assert text_after_length is not None and text_after_length.line() == b"##contig=<ID=chr1>"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"file:///data/hospital/ref/GRCh38.fa", b"GRCh38.fa"),
        (b"/home/kimjh/refs/hg19.fasta", b"hg19.fasta"),
        (b"GRCh38", b"GRCh38"),
        (b"C:\\refs\\b37.fa", b"b37.fa"),
        (b"https://example.org/x/GRCh37/", b"GRCh37"),
        (b"/data/ref/GRCh38.fa S2301217T run", None),  # free text after the path
        (b"<ID=GRCh38,Source=/home/kimjh>", None),  # a structured value
        (b"/data/S2301217T_ref.fa", b"CMT001_00_ref.fa"),  # a name in the base name
        (b"/home/kimjh/notes", None),  # not a FASTA file name, not a build
    ],
)
def test_reference_reduced_to_base_name(value: bytes, expected: bytes | None) -> None:
    assert scrub_reference(value, IdentifierScrub({b"S2301217T": b"CMT001_00"})) == expected


def test_stems_need_a_digit_and_some_length() -> None:
    assert sample_stem(b"S2301217N_20231029") == b"S2301217N"
    assert sample_stem(b"NA12878.bam") == b"NA12878"
    assert sample_stem(b"tumour_1") is None
    assert sample_stem(b"NA00001") is None
    assert sample_stem(b"S2301217N-T") == b"S2301217N"  # a hyphen separates a stem too
    assert sample_stem(b"tumour-1") is None


@pytest.mark.parametrize("one_by_one", ["0", "1"], ids=["bulk", "one-by-one"])
def test_a_hyphenated_pair_loses_its_stem_everywhere(one_by_one: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Samples ``S2301217N-T`` and ``S2301217N-N``: the stem ``S2301217N`` a lab writes alone goes from a
    Description, an INFO value and a read group, not only the two full names."""
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
    text = (b"##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000>\n"
            b'##INFO=<ID=N,Number=1,Type=String,Description="tumour of S2301217N, normal S2301217N-N">\n'
            b'##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
            b'##FORMAT=<ID=RG,Number=1,Type=String,Description="rg">\n'
            + FIXED.encode() + b"\tFORMAT\tS2301217N-T\tS2301217N-N\n"
            b"chr1\t1\t.\tA\tC\t5\tPASS\tN=S2301217N\tGT:RG\t0/1:S2301217N.L1\t0/0:S2301217N-N.L1\n")  # fmt: skip
    status, output, _ = invoke("-q", input=text)
    assert status == 0
    assert b"2301217" not in output
    assert b'Description="tumour of SAMPLE1, normal SAMPLE2"' in output
    assert records(output)[0][7:] == [b"N=SAMPLE1", b"GT:RG", b"0/1:SAMPLE1.L1", b"0/0:SAMPLE2.L1"]


NAME_WITH_NUMBER = {
    b"S2301217N20231029": b"SAMPLE1",  # the sample ID without its separator
    b"S2301217N.20231029": b"SAMPLE1",  # with another one
    b"s2301217n:19900101": b"SAMPLE1",  # the stem and a birth date, in any case
    b"S2301217N-900101": b"SAMPLE1",  # six digits: a date YYMMDD
    b"S2301217N20231029X": b"SAMPLE1X",
    b"KIMJIHOON19900101": b"SAMPLE2",  # a name without a digit: a token, or one with a number written on
    b"KIMJIHOON_19900101": b"SAMPLE2",
    b"S2301217N.L1": b"SAMPLE1.L1",  # not a number: a lane stays
    b"S2301217N_12345": b"SAMPLE1_12345",  # five digits stay (a lab's counter, not a date)
    b"XKIMJIHOON19900101": b"XKIMJIHOON19900101",  # inside a longer word: not the name
}


@pytest.mark.parametrize("one_by_one", ["0", "1"], ids=["bulk", "one-by-one"])
def test_a_number_written_onto_a_sample_name_goes_with_it(one_by_one: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``S2301217N20231029`` (the ID without its separator) or the stem and a date became the pseudonym
    followed by the date (``SAMPLE120231029``), which reads as an accession; now the number goes with
    the name, in records of both paths."""
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
    header = (b"##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000>\n"
              b'##INFO=<ID=N,Number=1,Type=String,Description="n">\n##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
              + FIXED.encode() + b"\tFORMAT\tS2301217N_20231029\tKIMJIHOON\n")  # fmt: skip
    body = b"".join(b"chr1\t%d\t.\tA\tC\t5\tPASS\tN=%s\tGT\t0/1\t0/0\n" % (position, value)
                    for position, value in enumerate(NAME_WITH_NUMBER, start=1))  # fmt: skip
    status, output, _ = invoke("-q", input=header + body)
    assert status == 0
    assert [line[7] for line in records(output)] == [b"N=" + expected for expected in NAME_WITH_NUMBER.values()]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"born 01.01.1990 or 29.10.2023", b"born [removed] or [removed]"),
        (b"born 1990. 01. 01.", b"born [removed]."),
        (b"born 1990 01 01, 2023_10_29 or 1990:01:01", b"born [removed], [removed] or [removed]"),
        (b"born 01 01 1990 or 01_01_1990", b"born [removed] or [removed]"),
        (b"tel 02 1234 5678, 010 1234 5678, 010.1234.5678", b"tel [removed], [removed], [removed]"),
        (b"tel 010~1234~5678, 010|1234|5678 or 010 - 1234 - 5678", b"tel [removed], [removed] or [removed]"),  # red team 9 B1
        (b"born 1990|01|01, 01;01;1990 or 1990,01,01", b"born [removed], [removed] or [removed]"),  # red team 9 B2
        # a two-digit year: the day, the month or the year first, by dots, blanks or underscores (and - or /)
        (b"taken 29.10.23, 10.29.23, 23.10.29 or 29_10_23", b"taken [removed], [removed], [removed] or [removed]"),
        (b"born 29 10 23, 23. 10. 29., 29/10/23 or 10-29-23", b"born [removed], [removed]., [removed] or [removed]"),
        # versions, a time, counts joined by a list's separator and HGVS offsets are no such date
        (b"v2.10.23, 1.10.23, GATK 4.2.10, at 12:13:49, AD 10,12,15, 29|10|23 and c.10-12_10-10del", None),
        (b"DOBJan011990 ctgJAN-01-1990", b"DOB[removed] ctg[removed]"),
        (b"SB 2000,10,12,15 and PL 1990,0,12", None),  # counts: no leading zero, or more than three
        (b"KIM&shyJIHYUN at&nbsp;10 &#173x", b"[removed] [removed] [removed]"),  # red team 9 B3
        (b"DOB 900101 sex 1", b"DOB [removed] sex 1"),
        (b"DP=12, AF=1e-05, -3, NaN, version 4.2.10, build 151, 100000 reads, 141456 samples", None),
        (b"v900101 and 1.900101 and x900101 are not dates alone", None),
    ],
)
def test_descriptions_lose_dates_phone_numbers_and_yymmdd(text: bytes, expected: bytes | None) -> None:
    assert IdentifierScrub({}).scrub(text) == (text if expected is None else expected)


# Public assembly names, by family: every one must pass the contig rule (GRCh37, GRCh38 in UCSC,
# NCBI and Ensembl naming, hs37d5, hs38DH with its decoys and HLA alleles, T2T-CHM13).
PRIMARY = [str(n) for n in range(1, 23)] + ["X", "Y"]
ASSEMBLY_CONTIGS = (
    PRIMARY + ["MT", "hs37d5", "NC_007605"]
    + [f"chr{name}" for name in PRIMARY] + ["chrM", "chrEBV", "chrUn_KN707606v1_decoy", "chr6_apd_hap1", "chr17_ctg5_hap1"]
    + [f"GL{number:06d}.1" for number in range(191, 250)] + ["chrUn_gl000211", "chr1_gl000191_random"]
    + [f"CM{number:06d}.2" for number in range(663, 687)]
    + [f"NC_{number:06d}.{version}" for number in range(1, 25) for version in (10, 11)]
    + ["NC_012920.1", "J01415.2", "KI270706.1", "KI270728.1", "KN707606.1"]
    + [f"chr1_KI{number}v1_random" for number in (270706, 270707, 270708, 270709, 270710, 270711, 270712, 270713, 270714)]
    + [f"chrUn_KI{number}v1" for number in range(270302, 270600, 7)] + [f"chrUn_GL{number:06d}v1" for number in (195, 213, 214, 216, 218)]
    + ["chr6_GL000250v2_alt", "chr22_KI270879v1_alt", "chr19_GL949746v1_alt", "chr1_KI270762v1_alt", "chr6_GL000256v2_alt"]
    + [f"chrUn_JTFH{number:08d}v1_decoy" for number in range(1, 2502)] + ["JTFH01000001.1", "JTFH01002501.1"]
    + ["HLA-A*01:01:01:01", "HLA-A*01:01:01:02N", "HLA-A*02:01:01:02L", "HLA-B*07:02:01", "HLA-C*01:02:01", "HLA-DQA1*01:01:02",
       "HLA-DQB1*02:01:01", "HLA-DRB1*15:01:01:01", "HLA-DRB1*04:03:01", "HLA-DPB1*04:01:01:01", "HLA-DRB3*01:01:02:01"]
    + [f"CP{number:06d}.2" for number in range(68255, 68278)] + ["CP086569.2"] + [f"NC_{number:06d}.1" for number in range(60925, 60949)]
    + [f"chrUn_JTFH01{number:06d}v1_decoy" for number in range(1, 2387, 11)]  # hs38DH's decoys as bwa-kit names them
    + ["HLA-A*02:101:01", "HLA-A*01:01:38L", "HLA-A*24:02:03Q", "HLA-B*44:02:01:02S", "HLA-C*07:149", "HLA-DQB1*03:01:01:01"]
    + ["NW_003315905.1", "NT_187361.1", "NT_113889.1", "JAAGAR010000001.1"]  # GRCh38 patches and unlocalised scaffolds; a 6-letter WGS
)  # fmt: skip
HS38DH_HLA = [line for line in (Path(__file__).parent / "data" / "hs38DH_hla_contigs.txt").read_text().splitlines() if line[:1] != "#"]
"""Every HLA allele contig of hs38DH (525: fields of 2 or 3 digits, expression letters N, L, Q, S)."""
PERSONAL_CONTIGS = ["KIM_19900101", "900101-1234567", "/home/kimjh/asm.fa", "kimjh@snuh.org", "%EA%B9%80", "ctg_1990-01-01",
                    "asm_2023_10_29", "ctg_900101", "https://x.org/a", "ctg.snuh.ac.kr", "chrUn_010.1234.5678",
                    # shaped like accessions: fields of more than 3 digits, a RefSeq number of 8, a WGS name's digits a date
                    "HLA-KIM*900101:1234567", "HLA-A*19900101", "NC_19900101", "KIMJ19900101", "NC_000001.19900101",
                    "HLA-19900101*01:01", "asm_1990-Jan-01", "asm_1990jan01",
                    # red team 9 B4: an IP address or a host written onto letters; B1 to B3
                    "ctg_10.0.0.1", "chr10.0.0.1", "ctg10.0.0.1:8080", "ctg_kim.snuh.ac.kr", "asm_seq01.hospital.local",
                    "ctg_010~1234~5678", "ctg_1990|01|01", "ctgJAN011990", "KIM&shyJ", "ctg_29.10.23", "asm_23_10_29"]  # fmt: skip


def test_public_assembly_contigs_pass_and_personal_ones_fail() -> None:
    assert len(HS38DH_HLA) == 525
    assert [name for name in ASSEMBLY_CONTIGS + HS38DH_HLA if personal_contig(name.encode())] == []
    assert [name for name in PERSONAL_CONTIGS if not personal_contig(name.encode())] == []


def test_public_assembly_contigs_pass_the_audit_and_the_reference_name_rules() -> None:
    """The audit's copy of the contig rule, and sam-scrub-rg's and the audit's reference-name rules,
    set aside the same accessions: every contig of the assemblies passes them all."""
    names = ASSEMBLY_CONTIGS + HS38DH_HLA
    assert [name for name in names if contig_holds_personal(name)] == []
    assert [name for name in names if personal_reference_name(name.encode()) or reference_holds_personal(name)] == []
    for place in ("ctg.snuh.ac.kr", "kim.hosp.local", "10.0.0.1", "ctg_10.0.0.1", "chr10.0.0.1", "asm_kim.hosp.local"):
        assert personal_contig(place.encode()) and contig_holds_personal(place), place


def test_assembly_contigs_are_kept_with_their_records() -> None:
    names = ASSEMBLY_CONTIGS[::25] + ["HLA-DRB1*15:01:01:01", "chrUn_JTFH01000001v1_decoy"]
    header = b"".join(b"##contig=<ID=%s,length=1000>\n" % name.encode() for name in names)
    body = b"".join(b"%s\t5\t.\tA\tC\t5\tPASS\t.\n" % name.encode() for name in names)
    status, output, _ = invoke("-q", input=b"##fileformat=VCFv4.2\n" + header + FIXED.encode() + b"\n" + body)
    assert status == 0
    assert [line[0] for line in records(output)] == [name.encode() for name in names]
    assert [line[0] for line in records(bcftools("view", "-", input=output))] == [name.encode() for name in names]


@pytest.mark.parametrize("name", PERSONAL_CONTIGS[:4])
def test_a_contig_holding_personal_data_stops_naming_the_line_not_the_id(name: str, tmp_path: Path) -> None:
    path = tmp_path / "in.vcf"
    path.write_bytes(f"##fileformat=VCFv4.2\n##contig=<ID=chr1,length=9>\n##contig=<ID={name},length=1000>\n{FIXED}\n"
                     f"chr1\t5\t.\tA\tC\t5\tPASS\t.\n".encode())  # fmt: skip
    out = tmp_path / "out.vcf"
    status, output, error = invoke("-q", "-o", str(out), str(path))
    assert status == 1
    assert error == f"vcf-scrub-header: {path}:3: contig ID holds a path or personal data; rename the contig before scrubbing\n".encode()
    assert output == b"" and not out.exists()


def test_a_contig_named_after_a_sample_gets_its_pseudonym() -> None:
    text = (b"##fileformat=VCFv4.2\n##contig=<ID=chrUn_S2301217N_20231029,length=9>\n"
            + FIXED.encode() + b"\tFORMAT\tS2301217N_20231029\nchrUn_S2301217N_20231029\t5\t.\tA\tC\t5\tPASS\t.\t.\t.\n")  # fmt: skip
    status, output, _ = invoke("-q", input=text)
    assert status == 0
    assert records(output)[0][0] == b"chrUn_SAMPLE1"


@pytest.mark.parametrize("one_by_one", ["0", "1"], ids=["bulk", "one-by-one"])
@pytest.mark.parametrize("name", PERSONAL_CONTIGS[:4])
def test_without_contig_lines_a_chrom_holding_personal_data_stops_as_a_contig_id_does(
    name: str, one_by_one: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A header without ##contig lines declares nothing, so CHROM is held to a ##contig ID's rule
    itself: ``ctg_19900101`` in CHROM stops the command at its line, never quoted (it passed)."""
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
    path = tmp_path / "in.vcf"
    path.write_bytes(f"##fileformat=VCFv4.2\n{FIXED}\nchr1\t5\t.\tA\tC\t5\tPASS\t.\n{name}\t5\t.\tA\tC\t5\tPASS\t.\n".encode())
    out = tmp_path / "out.vcf"
    status, output, error = invoke("-q", "-o", str(out), str(path))
    assert status == 1
    message = "CHROM holds a path or personal data (no ##contig line declares it); rename the contig before scrubbing"
    assert error == f"vcf-scrub-header: {path}:4: {message}\n".encode()
    assert output == b"" and not out.exists()


def test_without_contig_lines_a_chrom_named_after_a_sample_gets_its_pseudonym() -> None:
    """The sample names set aside first, as for a ##contig ID: the assembly's contig passes."""
    text = (b"##fileformat=VCFv4.2\n" + FIXED.encode() + b"\tFORMAT\tS2301217N_20231029\n"
            b"chrUn_S2301217N_20231029\t5\t.\tA\tC\t5\tPASS\t.\t.\t.\n")  # fmt: skip
    status, output, _ = invoke("-q", input=text)
    assert status == 0
    assert records(output)[0][0] == b"chrUn_SAMPLE1"


def test_names_stems_and_paths_replaced_in_kept_text() -> None:
    scrub = IdentifierScrub(name_replacements([b"S2301217N_20231029"], [b"CMN001_00"], {"LIB-S2301217N": "CMN001_LIB"}))
    text = b"run on s2301217n_20231029 (S2301217N) lib LIB-S2301217N from /home/kimjh/a/b.bam"
    scrubbed = scrub.scrub(text)
    assert b"2301217" not in scrubbed and b"kimjh" not in scrubbed
    assert scrubbed == b"run on CMN001_00 (CMN001_00) lib CMN001_LIB from [removed]"


# What keeps a sample ID readable but unmatched: an invisible character (a zero-width space, joiner and
# non-joiner, a soft hyphen, a byte order mark, a word joiner) inside it, a look-alike letter instead of
# one of its own, or either spelled percent-encoded, twice, or as an HTML reference.
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u00ad", "\ufeff", "\u2060"]
HIDING = {
    **{f"U+{ord(mark):04X}": (9 - 5, mark.encode()) for mark in INVISIBLE},
    "Greek Nu for N": (-1, "\u039d".encode()),  # replaces the last letter
    "Cyrillic Dze for S": (0, "\u0405".encode()),  # replaces the first
    "percent-encoded": (4, b"%E2%80%8B"),
    "percent-encoded twice": (4, b"%25E2%2580%258B"),
    "numeric HTML reference": (4, b"&#8203;"),
    "named HTML reference": (8, b"&ZeroWidthSpace;"),
    "soft hyphen as a named reference": (3, b"&shy;"),
}


def hidden(name: bytes, form: str) -> bytes:
    """``name`` with ``HIDING[form]`` inside it (at an offset) or instead of a letter (at -1 and 0)."""
    at, mark = HIDING[form]
    if at == -1:
        return name[:-1] + mark
    if at == 0:
        return mark + name[1:]
    return name[:at] + mark + name[at:]


@pytest.mark.parametrize("form", list(HIDING))
@pytest.mark.parametrize("one_by_one", ["0", "1"], ids=["bulk", "one-by-one"])
def test_a_sample_id_hidden_by_an_invisible_or_look_alike_character_goes_whole(
    form: str, one_by_one: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``S230`` U+200B ``1217N`` became ``S230.1217N`` in records and ``S230[removed]1217N`` in a
    Description (the names are matched before other scripts go), ``S2301217&shy;N`` stayed as it was:
    now the word holding such text goes whole, in a Description, an INFO value and a FORMAT value,
    on both record paths; the words beside it stay."""
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
    value = hidden(b"S2301217N", form)
    text = (b"##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000>\n"
            b'##INFO=<ID=NOTE,Number=.,Type=String,Description="tumour of %s, see below">\n'
            b'##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
            b'##FORMAT=<ID=TXT,Number=1,Type=String,Description="text">\n'
            + FIXED.encode() + b"\tFORMAT\tS2301217N_20231029\n"
            b"chr1\t1\t.\tA\tC\t5\tPASS\tNOTE=of_%s,x\tGT:TXT\t0/1:%s\n"
            b"chr1\t2\t.\tA\tC\t5\tPASS\tNOTE=x\tGT:TXT\t0/1:x\n") % (value, value, value)  # fmt: skip
    status, output, _ = invoke("-q", input=text)
    assert status == 0
    assert b'Description="tumour of [removed], see below"' in output
    first, second = records(output)
    assert first[9] == b"0/1:."
    # the word, or the value (an encoding: the value rule); a named reference's ; ends the INFO item, the rest is no key
    assert first[7] in (b".", b"NOTE=of_S2301217&ZeroWidthSpace", b"NOTE=of_S23&shy")  # the item goes whole
    assert second[7:] == [b"NOTE=x", b"GT:TXT", b"0/1:x"]
    assert output.isascii() and b"1217N" not in output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"patient KIM&shy;JIHYUN born 1990&ndash;01&ndash;01", b"patient [removed] born [removed]"),
        (b"AF &gt; 0.5 in R&amp;D", b"AF [removed] 0.5 in [removed]"),  # fail closed: any named reference goes
        (b"S2301217N&#8203; and x", b"[removed] and x"),  # beside a known name: the pseudonym goes too
        (b"missense_variant&splice_region_variant, A&B", None),  # an ampersand without a reference's ; stays
        (b"50%25 of reads, p.Leu10%3D", None),
    ],
)
def test_descriptions_lose_words_with_html_references(text: bytes, expected: bytes | None) -> None:
    scrub = IdentifierScrub(name_replacements([b"S2301217N_20231029"], [b"CMN001_00"], {"KIM_JIHYUN": "CMN009_00"}))
    assert scrub.scrub(text) == (text if expected is None else expected)


@settings(max_examples=300, deadline=None)
@given(
    before=st.text(alphabet=" ,.:;()|-_abcXYZ/", max_size=10),
    after=st.text(alphabet=" ,.:;()|-_abcXYZ/", max_size=10),
    at=st.integers(1, 8),
    mark=st.sampled_from([*INVISIBLE, "\u039d", "\u0405", "%E2%80%8B", "&shy;", "&#173;", "&#xAD;", "&NoBreak;"]),
)
def test_no_digit_of_a_hidden_sample_id_survives_the_identifier_scrub(before: str, after: str, at: int, mark: str) -> None:
    """Text without digits around ``S2301217N`` with an invisible or look-alike character (or an
    encoding of one) at any place inside it: no digit of the ID is left but the pseudonym's."""
    text = (before + "S2301217N"[:at] + mark + "S2301217N"[at:] + after).encode()
    scrub = IdentifierScrub(name_replacements([b"S2301217N_20231029"], [b"CMN001_00"], None))
    assert re.search(rb"[0-9]", scrub.scrub(text).replace(b"CMN001_00", b"")) is None


def scrubbed_header(
    meta: list[bytes], samples: list[bytes], keep: frozenset[bytes] = frozenset(), descriptions: str = "scrub"
) -> tuple[bytes, Report]:
    header = VcfHeader(meta, FIXED.encode().split(b"\t") + [b"FORMAT", *samples], len(meta) + 1)
    pseudonyms = Pseudonyms()
    new_samples = [pseudonyms.for_id_bytes(sample) for sample in samples]
    report = Report(COMMAND)
    text, _ = scrub_header(header, new_samples, pseudonyms, keep, descriptions, report)
    return text, report


def test_short_sample_names_never_touch_keys_ids_or_words() -> None:
    meta = [
        b"##fileformat=VCFv4.2",
        b'##FORMAT=<ID=DP,Number=A,Type=Integer,Description="Depth of A and DP; not DPX or AB">',
        b"##tumor_sample=DP",
        b'##SAMPLE=<ID=DP,Description="x">',
    ]
    text, _ = scrubbed_header(meta, [b"A", b"DP"], frozenset({b"tumor_sample", b"SAMPLE"}))
    lines = text.splitlines()
    assert lines[1] == b'##FORMAT=<ID=DP,Number=A,Type=Integer,Description="Depth of SAMPLE1 and SAMPLE2; not DPX or AB">'
    assert lines[2] == b"##tumor_sample=SAMPLE2"
    assert lines[3] == b'##SAMPLE=<ID=SAMPLE2,Description="x">'  # --keep SAMPLE: the ID is a sample


def test_header_allowlist_fails_closed() -> None:
    meta = [
        b"##fileformat=VCFv4.3",
        b"##fileDate=20231029",
        b"##source=DRAGEN",
        b"##DRAGENCommandLine=<ID=dragen,CommandLine=x>",
        b"##bcftools_viewCommand=view x.vcf",
        b"##INFO=<ID=DP,Number=1,Type=Integer,Description=\"Depth\">",
        b"##someVendorKey=anything",
        b"##PEDIGREE=<ID=a>",
    ]
    text, report = scrubbed_header(meta, [b"S1"])
    assert text.splitlines()[:2] == [b"##fileformat=VCFv4.3", meta[5]]
    assert report.counts["header_lines_removed"] == 6 == report.counts["header_lines_not_allowlisted"]
    assert text.splitlines()[-1].endswith(b"\tFORMAT\tSAMPLE1")


PUBLIC = r"rs[1-9][0-9]{0,9}|COS[VM][1-9][0-9]{0,8}"
"""A public ID as its database numbers it (rt10b F11: ``rs9001011234567``, ``rs01012345678`` are not)."""
public_ids = st.from_regex(PUBLIC, fullmatch=True)
private_ids = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,12}", fullmatch=True).filter(lambda s: not re.fullmatch(PUBLIC, s))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.one_of(public_ids, private_ids), min_size=0, max_size=3), min_size=1, max_size=20))
def test_id_column_keeps_public_ids_only_and_nothing_else_changes(id_lists: list[list[str]]) -> None:
    lines = [f"chr1\t{i + 1}\t{';'.join(ids) or '.'}\tA\tG\t.\tPASS\tDP=1\tGT\t0/1".encode() for i, ids in enumerate(id_lists)]
    out = IdScrubber().scrub(RecordBlock(1, b"".join(line + b"\n" for line in lines), "-", 10)).split(b"\n")[:-1]
    assert len(out) == len(lines)
    for before, after, ids in zip(lines, out, id_lists, strict=True):
        old, new = before.split(b"\t"), after.split(b"\t")
        assert old[:2] + old[3:] == new[:2] + new[3:]
        public = [i for i in ids if re.fullmatch(PUBLIC, i)]
        assert new[2] == (";".join(public) or ".").encode()


# The regex substitution the block-wise scrubber replaced: the reference for the test below.
PRIVATE_ID_COLUMN = re.compile(
    rb"(\n[^\t\n]*\t[^\t\n]*\t)(?!(?:\.|(?:(?:" + PUBLIC.encode() + rb");)*(?:" + PUBLIC.encode() + rb"))\t)([^\t\n]*)"
)


def reference_scrub(text: bytes) -> bytes:
    def replace(match: re.Match[bytes]) -> bytes:
        prefix, column = match.groups()
        if b"rs" not in column and b"COS" not in column:
            return prefix + b"."
        return prefix + IdScrubber.public_ids(column)

    return PRIVATE_ID_COLUMN.sub(replace, b"\n" + text)[1:]


odd_ids = st.sampled_from(["", ".", "rs", "rs1", "rs1a", "rsx", "r", "s1", "..", "rs1;", ";rs1", "COSV", "COSM12;rs3", "rs" + "9" * 30,
                           "rs1;HOSP_1", "HOSP;COSV7", "rs12345678901234567890", "x" * 40, "rs1.2", "RS12", "rs9001011234567",
                           "rs01012345678", "rs0", "rs1234567890", "rs12345678901", "COSV123456789", "COSV9001011234567", "rs1;rs012"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(odd_ids, public_ids, private_ids), min_size=1, max_size=30))
def test_block_id_scrubber_matches_the_regex_it_replaced(ids: list[str]) -> None:
    text = b"".join(f"chr1\t{i + 1}\t{column}\tA\tG\t.\tPASS\tDP=1\n".encode() for i, column in enumerate(ids))
    scrubber = IdScrubber()
    assert scrubber.scrub(RecordBlock(1, text, "-", 8)) == reference_scrub(text)
    assert scrubber.removed == sum(1 for a, b in zip(text.split(b"\n"), reference_scrub(text).split(b"\n"), strict=True) if a != b)


# --- the command -------------------------------------------------------------------------------


def test_pseudonyms_are_the_shared_scheme(tmp_path: Path) -> None:
    key = tmp_path / "site.key"
    key.write_bytes(b"k" * 32)
    key.chmod(0o600)
    vcf = f"##fileformat=VCFv4.2\n{FIXED}\tFORMAT\tS2301217N_20231029\tS2301217T_20231029\n".encode()
    result = run_command(COMMAND, "--key-file", str(key), "-q", input=vcf)
    assert result.returncode == 0, result.stderr
    expected = Pseudonyms(key_path=key)
    samples = bcftools("query", "-l", input=result.stdout).decode().split()
    assert samples == [expected.for_id("S2301217N_20231029"), expected.for_id("S2301217T_20231029")]


def test_simulated_calls_leak_no_planted_identifier(simulated: Path, tmp_path: Path) -> None:
    forbidden = [line for line in (simulated / "forbidden.txt").read_text().splitlines() if line]
    for name in ("germline.vcf.gz", "somatic.vcf.gz", "germline_as_somatic.vcf.gz"):
        source = simulated / name
        report_path = tmp_path / "report.json"
        result = run_command(COMMAND, "--map", str(simulated / "ids.tsv"), "--report", str(report_path), "-q", str(source))
        assert result.returncode == 0, result.stderr
        text = result.stdout.decode()
        leaked = [word for word in forbidden if word in text]
        assert not leaked, f"{name}: {len(leaked)} planted identifiers survive"
        assert "HOSP_VAR" not in text
        # bcftools reads it; same records, same positions and alleles; only the ID column changed,
        # and the values a LIMS wrote into the germline records' INFO: the specimen (a name the
        # map knows) becomes its pseudonym, the date goes with its key.
        query = "%CHROM\t%POS\t%REF\t%ALT\t%QUAL\t%FILTER\t%INFO[\t%GT]\n"
        pseudonym = dict(line.split("\t") for line in (simulated / "ids.tsv").read_text().splitlines())["S2301217N_20231029"]
        planted = b"SPECIMEN=S2301217N_20231029;CALLED=2023-10-29"
        expected = bcftools("query", "-f", query, str(source)).replace(planted, f"SPECIMEN={pseudonym}".encode())
        assert bcftools("query", "-f", query, "-", input=result.stdout) == expected
        report = json.loads(report_path.read_text())
        assert report["counts"]["records"] == len(records(gzip.decompress(source.read_bytes())))
        assert report["counts"].get("records_with_identifiers_removed", 0) == (3 if name == "germline.vcf.gz" else 0)
        assert report["counts"]["header_lines_removed"] > 0
        assert report["scheme"] == "map"


def test_bgzf_output_is_indexable_and_equal_to_text(simulated: Path, tmp_path: Path) -> None:
    source = str(simulated / "germline.vcf.gz")
    out = tmp_path / "x.vcf.gz"
    assert run_command(COMMAND, "--map", str(simulated / "ids.tsv"), "-O", "z", "-o", str(out), "-q", source).returncode == 0
    text = run_command(COMMAND, "--map", str(simulated / "ids.tsv"), "-q", source).stdout
    assert gzip.decompress(out.read_bytes()) == text
    pysam.tabix_index(str(out), preset="vcf", force=True)  # fails on plain gzip
    streamed = run_command(COMMAND, "--map", str(simulated / "ids.tsv"), "-O", "z", "-q", source).stdout
    assert streamed[:4] == b"\x1f\x8b\x08\x04" and gzip.decompress(streamed) == text  # BGZF on stdout too


def test_closed_pipe_ends_quietly(simulated: Path) -> None:
    pipe = f"{ROOT}/bin/{COMMAND} --map {simulated}/ids.tsv {simulated}/germline.vcf.gz | head -c 10 > /dev/null"
    command = pipe + "; echo ${PIPESTATUS[0]}"
    result = subprocess.run(["bash", "-c", command], capture_output=True, timeout=60)
    assert result.stdout.strip() in (b"0", b"141") and b"Traceback" not in result.stderr


# --- the real corpus, read in place ------------------------------------------------------------


def corpus_files(category: str) -> list[Path]:
    root = corpus_dir()
    return sorted((root / category).glob("*.vcf*")) if root else []


REFUSED_CORPUS = {
    # ALT alleles of letters that are no IUPAC code (mpileup's old "X", a test's "I"): off the VCF
    # grammar; htslib copies them unread, the VCF commands refuse them (vcf_columns).
    "bcftools__mpileup.vcf": b":25: ALT holds an allele that is not bases",
    "bcftools__norm.vcf": b":60: ALT holds an allele that is not bases",
}


@pytest.mark.parametrize("path", corpus_files("vcf"), ids=lambda p: p.name)
def test_corpus_vcf_scrubbed_and_readable(path: Path) -> None:
    status, stdout, stderr = invoke("-q", str(path))
    if path.name in REFUSED_CORPUS:
        assert status == 1 and REFUSED_CORPUS[path.name] in stderr, stderr
        return
    assert status == 0, stderr
    samples_in = bcftools("query", "-l", str(path)).split()
    samples_out = bcftools("query", "-l", "-", input=stdout).split()
    assert samples_out == [f"SAMPLE{i}".encode() for i in range(1, len(samples_in) + 1)]
    header_values = b"\n".join(line.split(b"=", 1)[-1] for line in stdout.splitlines() if line.startswith(b"##"))
    for sample in samples_in:
        if len(sample) >= 4:
            assert not re.search(rb"(?<![A-Za-z0-9])" + re.escape(sample) + rb"(?![A-Za-z0-9])", header_values)
    query = "%CHROM\t%POS\t%REF\t%ALT\n"
    # A symbolic allele off the ALT ID grammar (``<validIdWithSymbols!"#$...@[\\]...>``: a path's and an
    # e-mail's bytes) becomes <*>; everything else of the sites stays.
    expected = re.sub(rb"<(?![A-Za-z0-9_.*+-]+(?::[A-Za-z0-9_.*+-]+)*>)[^\t\n,]*>", b"<*>", bcftools("query", "-f", query, str(path)))
    assert bcftools("query", "-f", query, "-", input=stdout) == expected
    for line in stdout.splitlines():
        if line.startswith(b"##"):
            key = line[2:].split(b"=", 1)[0]
            assert key in {b"fileformat", b"INFO", b"FORMAT", b"FILTER", b"ALT", b"contig", b"reference", b"genoscrub_vcf-scrub-header"}
            assert b"/" not in line.split(b"Description=", 1)[0] or key in {b"INFO", b"FORMAT", b"FILTER", b"ALT"}


@pytest.mark.parametrize("path", corpus_files("vcf-bad"), ids=lambda p: p.name)
def test_corpus_bad_vcf_never_crashes(path: Path) -> None:
    status, stdout, stderr = invoke("-q", str(path))
    assert status in (0, 1), stderr
    if status == 1:
        assert re.fullmatch(rb"vcf-scrub-header: \S+(:\d+)?: [^\n]+\n", stderr)
    elif subprocess.run(["bcftools", "view", str(path)], capture_output=True).returncode == 0:
        bcftools("view", "-", input=stdout)  # what bcftools read before it still reads


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("htsspecs__43_failed_body_pos_000.vcf", 4),
        ("htsspecs__43_failed_body_pos_001.vcf", 4),
        ("htsspecs__43_failed_body_format_000.vcf", 5),
        ("pysam__24.vcf", None),
        ("pysam__issue85.vcf", None),
    ],
)
def test_corpus_malformed_files_exit_1_with_location(corpus: Path, name: str, line: int | None) -> None:
    path = corpus / "vcf-bad" / name
    status, _, stderr = invoke("-q", str(path))
    assert status == 1
    if line is not None:
        assert stderr.startswith(f"{COMMAND}: {path}:{line}: ".encode())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="ab\t", max_size=6), min_size=1, max_size=12), st.booleans(), st.booleans(), st.integers(1, 9))
def test_text_blocks_read_the_lines_line_blocks_reads(lines: list[str], crlf: bool, final_newline: bool, size: int) -> None:
    """The record commands read whole-line text blocks; the lines must be those of streams.line_blocks."""
    import io

    from genoscrub.streams import line_blocks
    from genoscrub.vcf import text_blocks

    end = "\r\n" if crlf else "\n"
    data = (end.join(lines) + (end if final_newline else "")).encode()
    expected = [(number, line) for first, block in line_blocks(io.BytesIO(data), "-", size) for number, line in enumerate(block, first)]
    found = [
        (number, line)
        for first, text in text_blocks(io.BytesIO(data), "-", size)
        for number, line in enumerate(text.split(b"\n")[:-1], first)
    ]
    assert found == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.from_regex(r"[A-Za-z0-9_.-]{4,20}", fullmatch=True), min_size=1, max_size=6))
def test_case_free_anchors_cover_every_name(names: list[str]) -> None:
    """A block is searched for the names only where an anchor is found: every name must hold one."""
    from genoscrub.vcf_scrub_header import case_free_anchors

    needles = [name.encode().lower() for name in names]
    anchors = case_free_anchors(needles)
    if anchors is not None:
        assert all(any(anchor in needle for anchor in anchors) for needle in needles)
        assert all(not any(c.isalpha() for c in anchor.decode()) for anchor in anchors)


def quadratic_anchors(needles: list[bytes]) -> list[bytes] | None:
    """``case_free_anchors`` as it was first written: each round counts every candidate run over
    every name not yet covered (27 CPU s for a VCF of 2,000 samples)."""
    import re as regex

    from genoscrub.vcf_scrub_header import substrings

    runs = {needle: set(substrings(regex.findall(rb"[^a-z]{3,}", needle))) for needle in needles}
    if not all(runs.values()):
        return None
    anchors: list[bytes] = []
    uncovered = set(needles)
    while uncovered:
        candidates = {run for needle in uncovered for run in runs[needle]}
        best = max(candidates, key=lambda run: (sum(run in runs[needle] for needle in uncovered), len(run), run))
        anchors.append(best)
        uncovered = {needle for needle in uncovered if best not in runs[needle]}
    return anchors


@settings(max_examples=200, deadline=None)
@given(st.lists(st.from_regex(r"[a-z]{0,3}[0-9_.-]{3,9}[a-z0-9]{0,3}", fullmatch=True), min_size=1, max_size=40))
def test_case_free_anchors_are_the_greedy_cover_counted_once(names: list[str]) -> None:
    """The anchors, counted as names are covered, are those of the first writing, which counted
    every run over every name each round: the same runs in the same order."""
    from genoscrub.vcf_scrub_header import case_free_anchors

    needles = [name.encode() for name in names]
    assert case_free_anchors(needles) == quadratic_anchors(needles)




@pytest.mark.parametrize(
    ("pseudonym", "refused"), [("P_19900101", True), ("/home/kimjh", True), ("CMT-001", False), ("CMN001_00", False)]
)
def test_a_map_pseudonym_holding_personal_data_is_refused(pseudonym: str, refused: bool, tmp_path: Path) -> None:
    """A site's map giving a sample a pseudonym that holds a date or a path: written as the column's
    name it was a finding of the audit's sample rule in every delivery; it stops the command, as
    sam-scrub-rg stops on such a pseudonym of a read group, naming the column, never the value."""
    (tmp_path / "map.tsv").write_text(f"S2301217N\t{pseudonym}\n")
    (tmp_path / "map.tsv").chmod(0o600)
    header = b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS2301217N\n"
    status, output, error = invoke("-q", "--map", str(tmp_path / "map.tsv"), input=header)
    if refused:
        assert status == 1 and b"the pseudonym of sample 1 holds a path, an address or personal data (check the map)" in error
        assert pseudonym.encode() not in error
    else:
        assert status == 0 and output.splitlines()[-1].endswith(pseudonym.encode())


@pytest.mark.parametrize("one", ["0", "1"])
def test_a_qual_or_id_holding_a_personal_number_goes_and_the_audit_passes_the_output(
    one: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rt10b F11: a QUAL of a million or more with more than 6 significant digits (a 13-digit
    registration number, a date: no caller writes one; bcftools prints QUAL with %g) becomes ``.``,
    and an ID past its database's digits (rs of 11 digits or more, COSV of 10, a leading zero) goes;
    genoscrub-audit passes what is left, bulk and one by one."""
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one)
    records = [("rs9001011234567", "9001011234567"), ("COSV9001011234567", "19850314"), ("rs01012345678", "1.9850314e7"),
               ("rs1234567890", "1e+06"), ("COSV123456789", "10000000"), ("rs5", "1234.56")]  # fmt: skip
    body = "".join(f"chr1\t{i + 1}\t{id_}\tA\tG\t{qual}\tPASS\tDP=1\tGT\t0/1\n" for i, (id_, qual) in enumerate(records))
    vcf = f"##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000>\n##INFO=<ID=DP,Number=1,Type=Integer,Description=\"Depth\">\n" \
          f"##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n{FIXED}\tFORMAT\tS1\n{body}"  # fmt: skip
    result = run_command(COMMAND, "-q", input=vcf.encode())
    assert result.returncode == 0, result.stderr
    columns = [line.split(b"\t")[2:6:3] for line in result.stdout.splitlines() if not line.startswith(b"#")]
    kept = [[b"rs1234567890", b"1e+06"], [b"COSV123456789", b"10000000"], [b"rs5", b"1234.56"]]
    assert columns == [[b".", b"."], [b".", b"."], [b".", b"."], *kept]
    (tmp_path / "out.vcf").write_bytes(result.stdout)
    audit = run_command("genoscrub-audit", "-q", "--report", str(tmp_path / "audit.json"), str(tmp_path / "out.vcf"))
    assert audit.returncode == 0, audit.stderr


@pytest.mark.parametrize("one", ["0", "1"])
def test_a_format_key_given_twice_keeps_its_first_copy_and_a_gt_naming_no_allele_goes(
    one: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rt10b F10 and rt10 F10: a FORMAT key's later copies go with every sample's value (``GT:GT``
    with ``0/1:19850314``, ``GT:PS:PS``), as a reader takes the first; a GT naming an allele the
    record lacks (past its ALTs, a leading zero) or more than 8 becomes missing (``./.``, or ``.``
    past 8); genoscrub-audit passes what is left, bulk and one by one."""
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one)
    records = [("GT:GT", "0/1:19850314", "1/1:0"), ("GT:PS:PS", "0|1:2:19850314", "0|1:2"), ("DP:GT:DP:GT", "5:0/1:7:1/1", "6"),
               ("GT:DP", "0/19850314:5", "900101/1234567:3"), ("GT:DP", "01/1:5", "0|10|1234|5678:3"),
               ("GT:DP", "0/1/0/1/0/1/0/1/0:5", "0/1/0/1/0/1/0/1:3"), ("GT:PS", "0|1:7", "1|0:7")]  # fmt: skip
    body = "".join(
        f"chr1\t{i + 1}\t.\tA\tG\t50\tPASS\tDP=1\t{keys}\t{first}\t{second}\n" for i, (keys, first, second) in enumerate(records)
    )
    vcf = "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000>\n##INFO=<ID=DP,Number=1,Type=Integer,Description=\"Depth\">\n" \
          "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n" \
          "##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"Depth\">\n" \
          "##FORMAT=<ID=PS,Number=1,Type=Integer,Description=\"Phase set\">\n" \
          f"{FIXED}\tFORMAT\tS1\tS2\n{body}"  # fmt: skip
    report = tmp_path / "report.json"
    result = run_command(COMMAND, "-q", "--report", str(report), input=vcf.encode())
    assert result.returncode == 0, result.stderr
    columns = [line.split(b"\t")[8:] for line in result.stdout.splitlines() if not line.startswith(b"#")]
    assert columns == [[b"GT", b"0/1", b"1/1"], [b"GT:PS", b"0|1:2", b"0|1:2"], [b"DP:GT", b"5:0/1", b"6"],
                       [b"GT:DP", b"./.:5", b"./.:3"], [b"GT:DP", b"./.:5", b".|.|.|.:3"],
                       [b"GT:DP", b".:5", b"0/1/0/1/0/1/0/1:3"], [b"GT:PS", b"0|1:7", b"1|0:7"]]  # fmt: skip
    counts = json.loads(report.read_text())["counts"]
    assert counts["record_format_keys_repeated_removed"] == 4
    assert counts["record_genotypes_off_grammar_removed"] == 5
    assert b"19850314" not in result.stdout and b"1234567" not in result.stdout
    (tmp_path / "out.vcf").write_bytes(result.stdout)
    audit = run_command("genoscrub-audit", "-q", "--report", str(tmp_path / "audit.json"), str(tmp_path / "out.vcf"))
    assert audit.returncode == 0, audit.stderr


def test_a_second_phase_set_copy_naming_a_dropped_record_leaves_with_its_key(tmp_path: Path) -> None:
    """rt10 F10: ``GT:PS:PS`` with ``0|1:1010:1000``, the rare record at 1000 dropped by vcf-drop-rare:
    vcf-scrub-header removes the second PS first, so vcf-drop-rare renames the one PS a reader sees
    and no copy names 1000; genoscrub-audit passes the pipe's output."""
    vcf = ("##fileformat=VCFv4.2\n##contig=<ID=chr1,length=20000>\n##INFO=<ID=AF,Number=A,Type=Float,Description=\"a\">\n"
           "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"g\">\n##FORMAT=<ID=PS,Number=1,Type=Integer,Description=\"p\">\n"
           f"{FIXED}\tFORMAT\tS\n"
           "chr1\t1000\t.\tA\tG\t50\tPASS\tAF=0.001\tGT:PS\t0|1:1000\n"
           "chr1\t1010\t.\tA\tG\t50\tPASS\tAF=0.3\tGT:PS:PS\t0|1:1010:1000\n"
           "chr1\t1020\t.\tA\tG\t50\tPASS\tAF=0.3\tGT:PS:PS\t0|1:1000:1010\n")  # fmt: skip
    scrubbed = run_command(COMMAND, "-q", input=vcf.encode())
    assert scrubbed.returncode == 0, scrubbed.stderr
    dropped = run_command("vcf-drop-rare", "--af-key", "AF", "-q", input=scrubbed.stdout)
    assert dropped.returncode == 0, dropped.stderr
    kept = [line.split(b"\t")[1::7] + line.split(b"\t")[9:] for line in dropped.stdout.splitlines() if not line.startswith(b"#")]
    assert kept == [[b"1010", b"GT:PS", b"0|1:1010"], [b"1020", b"GT:PS", b"0|1:1020"]]
    (tmp_path / "out.vcf").write_bytes(dropped.stdout)
    audit = run_command("genoscrub-audit", "-q", "--report", str(tmp_path / "audit.json"), str(tmp_path / "out.vcf"))
    assert audit.returncode == 0, audit.stderr


def test_max_samples_refuses_a_joint_called_vcf_without_naming_its_samples() -> None:
    """A family's or a cohort's joint-called VCF holds other people's genotypes: with
    ``--max-samples 1`` a VCF of two columns ends the run (exit 1, file and line, no sample
    name); one of one column, or of two with ``--max-samples 2``, passes."""
    header = (
        b"##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000>\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"g\">\n"
        b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS2301217N\tS2301388N"
    )
    joint = header + b"\nchr1\t5\t.\tA\tC\t.\t.\t.\tGT\t0/1\t1/1\n"
    code, _, err = invoke("--max-samples", "1", input=joint)
    assert code == 1 and err.strip() == (
        b"vcf-scrub-header: <stdin>:4: the #CHROM line has 2 sample columns, more than --max-samples 1 allows "
        b"(a joint-called VCF holds other people's genotypes: keep the sample's own with bcftools view -s)"
    )
    assert invoke("--max-samples", "2", input=joint)[0] == 0
    own = joint.replace(b"\tS2301388N", b"").replace(b"\t1/1", b"")
    assert invoke("--max-samples", "1", input=own)[0] == 0
