"""genoscrub-audit --forbid: separator spellings, and strings held by aux values that are not text.

A listed string is found with any run of separators (blanks, underscores, dots, colons, slashes,
hyphens) where it has one, or none, and, when it is long enough, with separators it does not
have between bytes that are not both digits (``KIM_JIHOON`` for ``KIMJIHOON``); never across
separators between two digits it does not have there (VCF sample columns and FASTQ headers put
numbers side by side). A B array is searched as the bytes it stores and, one byte a number, as
the bytes its numbers spell; an integer as its decimal text when it is as long as a listed number.
"""

from __future__ import annotations

import io
import json
import random
import re
from array import array
from pathlib import Path

import pysam
import pytest
from genoscrub import audit_fastq, scan
from genoscrub.audit_findings import Findings
from genoscrub.audit_forbid import SPREAD, ForbidList, entry, spread_fits
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run_command

REFERENCE = "".join("ACGT"[(at * 7 + at // 5) % 4] for at in range(1000))


def listed(tmp_path: Path, *strings: str) -> Path:
    path = tmp_path / "forbid.txt"
    path.write_text("".join(f"{text}\n" for text in strings))
    return path


def found_lines(forbid: Path, text: str) -> list[int]:
    return [entry.line for entry, _ in ForbidList.read(forbid).search(text.encode())]


@pytest.mark.parametrize(
    ("strings", "written"),
    [
        (("KIM JIHOON",), "KIM:JIHOON"),
        (("KIM JIHOON",), "KIM/JIHOON"),
        (("KIM JIHOON",), "KIM::JIHOON"),
        (("KIM JIHOON",), "kim__jihoon"),
        (("KIM JIHOON",), "KIM_-JIHOON"),
        (("KIM JIHOON",), "KIM.-JIHOON"),
        (("KIM JIHOON",), "KIMJIHOON"),
        (("KIMJIHOON",), "KIM_JIHOON"),
        (("KIMJIHOON",), "KIM-JIHOON"),
        (("KIMJIHOON",), "K.I.M.J.I.H.O.O.N"),
        (("S2301217",), "S_2301217"),
        (("S2301217",), "SM:S-2301217N"),
        (("20231029",), "2023:10:29"),
        (("20231029",), "2023 - 10 - 29"),
        (("900101-1234567",), "900101:1234567"),
        (("010-1234-5678",), "010/1234/5678"),
        (("20231029",), "COLL=29-OCT-2023"),  # a listed date with its month's name, as LIMS and Oracle write it
        (("20231029",), "29oct2023"),
        (("2023-10-29",), "Oct 29, 2023"),
        (("19900101",), "born 1 January 1990"),
        (("19900101",), "DOB=01-JAN-90"),  # Oracle's DD-MON-RR
        (("19900101",), "jan_01_1990"),
        (("1990-01-01",), "DOB 1990-Jan-01"),  # the year first
        (("1990-01-01",), "1990 Jan 01"),
        (("19900101",), "0/1:1990JAN01"),
        (("19900101",), "1990_january_1"),
        (("19900101",), "born 1st January 1990"),  # the day as an ordinal
        (("19900101",), "1st Jan, 1990"),
        (("20231022",), "October 22nd, 2023"),
        (("20231013",), "13th-Oct-2023"),
        (("19901201",), "seen Dec. 1, 1990"),  # the abbreviation with a period
        (("19900901",), "Sept. 1st, 1990"),
        (("19900101",), "the 1st of January 1990"),
        (("19900101",), "DOB01JAN1990"),  # written onto letters
        (("1990-01-01",), "Jan-01-90"),  # the month first, the year's last two digits
        (("1990-01-01",), "JAN_01_90"),
        (("1990-01-01",), "Jan 1st, 90"),
        (("19901201",), "Dec 1 '90"),
        (("19900101",), "01+Jan+1990"),  # + and ~ between the parts
        (("19900101",), "1990~jan~01"),
        (("KIMJIHOON",), "A|missense|KIM|JIHOON|x"),  # the other punctuation between words: ANN's sub-fields,
        (("KIMJIHOON",), "KIM~JIHOON"),
        (("KIMJIHOON",), "KIM+JIHOON"),  # a form's blank
        (("KIMJIHOON",), "KIM,JIHOON"),
        (("KIMJIHOON",), "KIM(JIHOON)"),
        (("KIMJIHOON",), "KIM'JIHOON"),
        (("KIMJIHOON",), "KIM*JIHOON"),
        (("KIMJIHOON",), "missense&KIM&JIHOON"),  # VEP's list
        (("KIM JIHOON",), "KIM|JIHOON"),
        (("KIMJIHOON",), "JIHOON KIM"),  # the parts in the other order
        (("KIMJIHOON",), "Jihoon_Kim"),
        (("KIM JIHOON",), "JIHOON_KIM"),
        (("KIM JI HOON",), "HOON-JI-KIM"),
        (("KIMJIHOON",), "NOTE=4b494d4a49484f4f4e"),  # hexadecimal, of the upper-case name
        (("KIMJIHOON",), "NOTE=6B696D6A69686F6F6E"),  # of the lower-case one, in upper-case digits
        (("Kim Jihoon",), "NOTE=4b696d204a69686f6f6e"),  # of the name with its words' first letters in upper case
        (("KIMJIHOON",), "NOTE=S0lNSklIT09O"),  # base64 at each of its three alignments
        (("KIMJIHOON",), "NOTE=eEtJTUpJSE9PTg=="),
        (("KIMJIHOON",), "NOTE=eHhLSU1KSUhPT04="),
        (("KIMJIHOON",), "NOTE=NOOHIJMIK"),  # reversed
        (("S2301217",), "NOTE=7121032S"),
    ],
)
def test_separator_spellings_are_found(strings: tuple[str, ...], written: str, tmp_path: Path) -> None:
    assert found_lines(listed(tmp_path, *strings), f"x\t{written}\ty") == [1]


@pytest.mark.parametrize(
    ("strings", "written"),
    [
        (("20231029",), "@READ2023102 1:N:0"),  # a read counter and its read number side by side
        (("12345678",), "0/1:1234:5678:99"),  # numbers of a VCF sample column
        (("12345678",), "1234.5678"),
        (("S2301217",), "S2301_217"),  # separators within a number: not looked for (a listed spelling finds them)
        (("KIM",), "K_IM"),  # too short to be looked for with separators it does not have
        (("KIMJIHOON",), "KIM;JIHOON"),  # not a separator
        (("KIMJIHOON",), "KIM%JIHOON"),
        (("KIMJIHOON",), "NOHIJ MIK"),  # not a cut of the name's letters in other order
        (("ABC",), "NOTE=616263"),  # too short a hexadecimal spelling: a number any file may hold
        (("12345678",), "1234|5678"),  # nor between digits for any separator
        (("19900101",), "NOTE=10100991"),  # a number is not searched reversed: one more number positions hold by chance
    ],
)
def test_separators_between_digits_or_in_short_strings_are_not_looked_for(strings: tuple[str, ...], written: str, tmp_path: Path) -> None:
    assert found_lines(listed(tmp_path, *strings), written) == []


def test_separator_spellings_are_found_in_a_sam_header_and_a_vcf_value(tmp_path: Path) -> None:
    sam = tmp_path / "in.sam"
    sam.write_text("@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:1000\n@RG\tID:rg1\tSM:KIM:JIHOON\tPL:ILLUMINA\n")
    vcf = tmp_path / "in.vcf"
    vcf.write_text(
        '##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000>\n##INFO=<ID=NOTE,Number=1,Type=String,Description="A note">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr1\t100\t.\tA\tC\t50\tPASS\tNOTE=KIM/JIHOON\n"
    )
    report = tmp_path / "report.json"
    forbid = listed(tmp_path, "KIM JIHOON")
    result = run_command("genoscrub-audit", "--forbid", str(forbid), "--report", str(report), str(sam), str(vcf))
    assert result.returncode == 1, result.stderr.decode()
    forbidden = {Path(file["file"]).name: file["findings"]["forbidden"]["by_key"] for file in json.loads(report.read_text())["files"]}
    assert forbidden == {"in.sam": {"header @RG SM (list line 1)": 1}, "in.vcf": {"INFO/NOTE (list line 1)": 1}}
    assert b"jihoon" not in (result.stdout + result.stderr + report.read_bytes()).lower()


def test_a_listed_hex_string_inside_the_references_md5_is_not_found(tmp_path: Path) -> None:
    """Red team 11 F10: a folder ``C10`` on the list was found inside an ``@SQ M5`` (32 hex digits
    hold a 3-digit hex string with a chance of 0.7 %: ~3 GRCh38 BAMs of 4). With -r or --dict an M5
    that is its sequence's MD5 is the reference's and is not searched; one that is not (it may hold
    any digits), every M5 without them, and the string in any other field still are."""
    fasta = tmp_path / "ref.fa"
    fasta.write_text(f">chr1\n{REFERENCE}\n>chr2\n{REFERENCE[:500]}\n")
    dictionary = tmp_path / "ref.dict"
    pysam.samtools.dict("-o", str(dictionary), str(fasta))
    right = dict(re.findall(r"SN:(\S+)\tLN:[0-9]+\tM5:([0-9a-f]{32})", dictionary.read_text()))
    listed_hex = next(right["chr1"][at : at + 3] for at in range(30) if not right["chr1"][at : at + 3].isdigit())
    assert listed_hex not in right["chr2"]
    wrong = right["chr2"][:20] + listed_hex + right["chr2"][23:]
    header = f"@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:1000\tM5:{right['chr1'].upper()}\n@SQ\tSN:chr2\tLN:500\tM5:{{}}\n"
    clean, planted = tmp_path / "clean.sam", tmp_path / "planted.sam"
    clean.write_text(header.format(right["chr2"]))
    planted.write_text(header.format(wrong) + f"@RG\tID:rg1\tSM:S{listed_hex}\n")
    forbid = listed(tmp_path, listed_hex)
    for option in (["-r", str(fasta)], ["--dict", str(dictionary)]):
        report = tmp_path / "report.json"
        run_command("genoscrub-audit", "-q", "--forbid", str(forbid), *option, "--report", str(report), str(clean), str(planted))
        forbidden = [file["findings"]["forbidden"].get("by_key", {}) for file in json.loads(report.read_text())["files"]]
        assert forbidden == [{}, {"header @SQ M5 (list line 1)": 1, "header @RG SM (list line 1)": 1}], option
    assert forbidden_found(tmp_path, clean, listed_hex) == {"header @SQ M5 (list line 1)": 1}  # no reference: searched as written


def bam_with_tags(path: Path, tags: list[tuple[str, object, str | None]]) -> Path:
    """A BAM of two reads, the first with ``tags`` (name, value, type; an ``array`` value is a B array)."""
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr1", "LN": len(REFERENCE)}]}
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for number in range(2):
            read = pysam.AlignedSegment(out.header)
            read.query_name = f"READ{number + 1}"
            read.reference_id, read.reference_start, read.mapping_quality = 0, 100 + number, 60
            read.cigarstring = "50M"
            read.query_sequence = REFERENCE[100 + number : 150 + number]
            read.query_qualities = pysam.qualitystring_to_array("I" * 50)
            read.set_tag("NM", 0, "i")
            if number == 0:
                for tag, value, kind in tags:
                    read.set_tag(tag, value, kind)  # type: ignore[arg-type]
            out.write(read)
    return path


def forbidden_found(tmp_path: Path, bam: Path, *strings: str) -> dict[str, int]:
    report = tmp_path / "report.json"
    result = run_command("genoscrub-audit", "--forbid", str(listed(tmp_path, *strings)), "--report", str(report), str(bam))
    assert result.returncode in (0, 1), result.stderr.decode()
    [file] = json.loads(report.read_text())["files"]
    assert not any(text.lower().encode() in (result.stdout + report.read_bytes()).lower() for text in strings)
    return dict(file["findings"]["forbidden"].get("by_key", {}))


def test_a_listed_string_in_an_md_of_plain_bases_is_not_found(tmp_path: Path) -> None:
    """Red team 11 F10: a folder ``C10`` on the list was found in the MD of every read with a C
    mismatch before 10 matches. An MD on its grammar, describing the CIGAR's bases, of digits,
    ACGTN and ``^`` holds no name and is not searched; one off its grammar or its CIGAR's length
    (``C10`` spelled where no MD is), one naming other base codes (a deletion ``^KANGDAHYANG``)
    and the string in any other tag still are."""
    clean = bam_with_tags(tmp_path / "clean.bam", [("MD", "10C10C10C17", "Z")])
    assert forbidden_found(tmp_path, clean, "C10", "10C17") == {}
    planted: list[tuple[list[tuple[str, object, str | None]], str]] = [
        ([("MD", "C10A39", "Z")], "aux MD (list line 1)"),  # off the grammar (starts with a base)
        ([("MD", "10C10A30", "Z")], "aux MD (list line 1)"),  # 52 bases for a 50M
        ([("MD", "10C10C10C17", "Z"), ("XS", "xC10", "Z")], "aux XS (list line 1)"),
    ]
    for tags, key in planted:
        assert forbidden_found(tmp_path, bam_with_tags(tmp_path / "planted.bam", tags), "C10") == {key: 1}, tags
    deleted = bam_with_tags(tmp_path / "deleted.bam", [("MD", "25^KANGDAHYANG25", "Z")])
    assert forbidden_found(tmp_path, deleted, "KANGDAHYANG") == {"aux MD (list line 1)": 1}


POSITION_VCF = (
    "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=248956422>\n"
    '##INFO=<ID=END,Number=1,Type=Integer,Description="End">\n##INFO=<ID=NOTE,Number=1,Type=String,Description="x">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n##FORMAT=<ID=PS,Number=1,Type=Integer,Description="p">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
    "chr1\t100\trs2301217;rs12301217\tA\t<NON_REF>\t50\t.\tEND=2301217\tGT:PS\t0|1:2301217\n"
    "chr1\t2301300\tS2301217;xrs2301217\tA\tG\t50\t.\tNOTE=2301217;END=KIM2301217\tGT:PS\t0|1:2301217x\n"
)


@pytest.mark.parametrize("one_by_one", ["0", "1"], ids=["bulk", "one-by-one"])
def test_a_listed_number_is_found_as_a_number_of_its_own_not_as_a_dbsnp_id_or_a_position(
    one_by_one: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listed number is not found inside a longer number (``rs12301217``), as a dbSNP ID
    (``rs2301217``), nor as the number a position key holds (``END=2301217``, ``PS``), as POS is not
    searched: a genome's records hold every such number somewhere. It is found as a number of its
    own anywhere else (``S2301217``, ``xrs2301217``, ``NOTE=2301217``) and in a position key's value
    that is no number (``END=KIM2301217``, a PS of ``2301217x``)."""
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
    vcf = tmp_path / "positions.vcf"
    vcf.write_text(POSITION_VCF)
    found = forbidden_found(tmp_path, vcf, "2301217")
    expected = {"ID (list line 1)": 2, "INFO/NOTE (list line 1)": 1, "INFO/END (list line 1)": 1, "sample 1 FORMAT/PS (list line 1)": 1}
    assert found == expected


@pytest.mark.parametrize(
    ("tag", "value", "kind", "found"),
    [
        ("MI", "2301217/A", "Z", False), ("MI", "2301217", "Z", False), ("MI", 2301217, "i", False), ("DI", 2301217, "i", False),
        ("MI", "KIM2301217", "Z", True), ("MI", "2301217/KIM", "Z", True), ("XI", 2301217, "i", True),
    ],
)  # fmt: skip
def test_a_counter_tags_number_is_not_searched(tag: str, value: object, kind: str, found: bool, tmp_path: Path) -> None:
    """fgbio's MI and Picard's DI number molecules and duplicate sets through the file: a 30x UMI
    file holds every listed number of 7 or 8 digits as one, naming a molecule and nothing else. Their
    numbers are searched as positions are, not at all; other text there is searched."""
    bam = bam_with_tags(tmp_path / "counted.bam", [(tag, value, kind)])
    assert forbidden_found(tmp_path, bam, "2301217") == ({f"aux {tag} (list line 1)": 1} if found else {})


def test_a_hex_string_inside_a_keyed_pseudonym_is_not_found(tmp_path: Path) -> None:
    """A keyed pseudonym (``S`` and 16 upper-case hex digits, a word of its own) holds a listed
    3-character hex string with a chance of 14 in 4096: not a finding there, in the header, the
    read groups or the records; elsewhere, and in a token of another shape, it is."""
    sam = tmp_path / "keyed.sam"
    sam.write_bytes(
        b"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:100\n@RG\tID:S00E99D0000000001\tSM:SE99D696530A2F91C\n"
        b"r1\t0\tchr1\t1\t60\t4M\t*\t0\t0\tACGT\tIIII\tRG:Z:S00E99D0000000001\n"
        b"r2\t0\tchr1\t2\t60\t4M\t*\t0\t0\tACGT\tIIII\tRG:Z:S00E99D0000000001\tCO:Z:SE99D696530A2F91CX\n"
        b"r3\t0\tchr1\t3\t60\t4M\t*\t0\t0\tACGT\tIIII\tRG:Z:S00E99D0000000001\tCO:Z:se99d696530a2f91c e99d\n"
    )
    assert forbidden_found(tmp_path, sam, "e99d") == {"aux CO (list line 1)": 3}


NAME = [*b"KIMJIHOON"]


@pytest.mark.parametrize(
    ("tag", "value", "string"),
    [
        ("jI", array("B", NAME), "KIMJIHOON"),  # B:C, the name verbatim in the record
        ("vG", array("b", NAME), "KIMJIHOON"),
        ("CG", array("I", NAME), "KIMJIHOON"),  # wider numbers, each a byte
        ("jI", array("i", [1000, *NAME, -5]), "KIMJIHOON"),  # a number that is no byte does not hide the rest
        ("vG", array("H", [ord(character) for character in "김지훈"]), "김지훈"),  # stored as UTF-16
    ],
)
def test_an_array_spelling_a_listed_string_is_found(tag: str, value: array, string: str, tmp_path: Path) -> None:  # type: ignore[type-arg]
    bam = bam_with_tags(tmp_path / "planted.bam", [(tag, value, None)])
    assert forbidden_found(tmp_path, bam, string) == {f"aux {tag} (list line 1)": 1}


@pytest.mark.parametrize(
    ("tag", "value", "kind"),
    [("XI", 20231029, "i"), ("CP", 12345678, "I"), ("OP", 12345678, "i"), ("DI", -12345678, "i"), ("jI", array("i", [5, 12345678]), None)],
)
def test_a_listed_number_held_as_an_integer_is_found(tag: str, value: object, kind: str | None, tmp_path: Path) -> None:
    bam = bam_with_tags(tmp_path / "planted.bam", [(tag, value, kind)])
    found = forbidden_found(tmp_path, bam, "20231029", "12345678")
    assert found == {f"aux {tag} (list line {2 if '1234' in str(value) else 1})": 1}


def test_small_numbers_and_other_numbers_pass(tmp_path: Path) -> None:
    """A listed number inside a longer one is another number (``112345678``, ``202310291``):
    positions and counters hold every short run of digits somewhere in a genome."""
    bam = bam_with_tags(
        tmp_path / "clean.bam",
        [("MI", 2023102, "i"), ("CP", 987654321, "I"), ("AS", 20, "C"), ("jI", array("i", [120, 180]), None), ("OP", 112345678, "i"),
         ("XN", 202310291, "i")],
    )  # fmt: skip
    assert forbidden_found(tmp_path, bam, "20231029", "12345678", "S2301217") == {}


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(st.sampled_from(["KIM", "JI", "HOON", "S23", "01217", "2023", "10", "29", "_", ":", "/", "-", " ", "9"]), max_size=14),
    strings=st.lists(st.sampled_from(["KIM JIHOON", "KIMJIHOON", "S2301217", "20231029", "2023-10-29", "HOON"]), min_size=1, max_size=3),
)
def test_spread_hits_are_judged_in_bulk_as_one_by_one(pieces: list[str], strings: list[str]) -> None:
    """The occurrences holding separators, judged as arrays, are those ``spread_fits`` accepts one at a time."""
    listing = ForbidList([entry(text.encode(), line) for line, text in enumerate(strings, start=1)], "list", other_spellings=True)
    text = "".join(pieces).encode()
    indexes, starts, ends = scan.find_spread_strings(text, listing.needles, SPREAD)
    bulk = listing.spread_hits_fit(text, indexes, starts, ends).tolist()
    hits = zip(indexes.tolist(), starts.tolist(), ends.tolist(), strict=True)
    one_by_one = [spread_fits(text, start, end, listing.allowed[index]) for index, start, end in hits]
    assert bulk == one_by_one


def test_a_list_saved_with_a_byte_order_mark_finds_its_first_string(tmp_path: Path) -> None:
    """Red team 7c F2: Notepad and Excel write UTF-8 with a mark first, which became part of the
    first string, so it never matched; a list in UTF-16 holds NUL bytes and is refused."""
    (tmp_path / "list.txt").write_bytes(b"\xef\xbb\xbfKim_Jihoon\nhpc-node07\n")
    found = list(ForbidList.read(tmp_path / "list.txt").search(b"by Kim_Jihoon on hpc-node07"))
    assert sorted(hit.line for hit, _ in found) == [1, 2]
    (tmp_path / "utf16.txt").write_bytes("Kim_Jihoon\n".encode("utf-16"))
    with pytest.raises(Exception, match="NUL byte"):
        ForbidList.read(tmp_path / "utf16.txt")


def bam_of_reads(path: Path, reads: list[tuple[str, str]]) -> Path:
    """A BAM of reads of 50 bases, one after another, each with its (bases, qualities)."""
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr1", "LN": len(REFERENCE)}]}
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for number, (bases, qualities) in enumerate(reads):
            read = pysam.AlignedSegment(out.header)
            read.query_name = f"READ{number + 1}"
            read.reference_id, read.reference_start, read.mapping_quality = 0, 100 + number, 60
            read.cigarstring = f"{len(bases)}M"
            read.query_sequence = bases
            read.query_qualities = pysam.qualitystring_to_array(qualities)
            out.write(read)
    return path


PLANTED_PATH = "/data/KIMJH0042/wgs/x.bam"


def test_listed_strings_spelled_in_qual_and_seq_are_found(tmp_path: Path) -> None:
    """Red team 10 F1: QUAL is printable text and SEQ spells a name of base codes. A listed string of
    eight bytes or more in QUAL (the input's path, a name, a date) is found beyond chance; a listed
    name of base codes with a letter other than ACGTN in SEQ is found; a listed string found nowhere
    else passes."""
    bases = REFERENCE[100:150]
    reads = [(bases, PLANTED_PATH + "I" * 25), (bases, "KIMJIHOON_DOB_19900101" + "I" * 28),
             (bases[:20] + "KANGDAHYANG" + bases[31:], "I" * 50), (bases, "I" * 50)]  # fmt: skip
    bam = bam_of_reads(tmp_path / "planted.bam", reads)
    found = forbidden_found(tmp_path, bam, "KIMJIHOON", "19900101", PLANTED_PATH, "KANGDAHYANG", "ACGTACGTAC", "HWANGSUNGHUN")
    assert found == {"QUAL (list line 1)": 1, "QUAL (list line 2)": 1, "QUAL (list line 3)": 1, "SEQ (list line 4)": 1}


def test_original_qualities_are_searched_as_qual_is(tmp_path: Path) -> None:
    """Red team 11 F10: a folder ``C10`` on the list was found in OQ (Q34, Q16, Q15), as text. The
    quality tags as long as SEQ (``OQ``, ``U2``, ``BQ``, ``BD``) are searched as QUAL: for listed
    strings of eight bytes or more, beyond chance; an OQ off its grammar (not as long as SEQ) is
    searched as text."""
    qualities = "C10" + "I" * 47
    clean = bam_with_tags(tmp_path / "clean.bam", [("OQ", qualities, "Z"), ("BQ", qualities, "Z")])
    assert forbidden_found(tmp_path, clean, "C10") == {}
    planted = bam_with_tags(tmp_path / "planted.bam", [("OQ", PLANTED_PATH + "I" * 25, "Z"), ("U2", "KIMJIHOON" + "I" * 41, "Z")])
    assert forbidden_found(tmp_path, planted, PLANTED_PATH, "KIMJIHOON") == {"aux OQ (list line 1)": 1, "aux U2 (list line 2)": 1}
    short = bam_with_tags(tmp_path / "short.bam", [("OQ", "C10", "Z")])
    assert forbidden_found(tmp_path, short, "C10") == {"aux OQ (list line 1)": 1}


def test_listed_strings_that_chance_spells_in_qualities_pass(tmp_path: Path) -> None:
    """Qualities are no random text: a listed string their own bytes spell about as often as chance
    would (``ABABBABA`` among random A and B) is no finding; the same string in qualities of another
    kind is one."""
    rng = random.Random(7)
    random_reads = [(REFERENCE[100:150], "".join(rng.choice("AB") for _ in range(50))) for _ in range(200)]
    assert forbidden_found(tmp_path, bam_of_reads(tmp_path / "chance.bam", random_reads), "ABABBABA") == {}
    planted = [(REFERENCE[100:150], "ABABBABA" + "I" * 42)] + [(REFERENCE[100:150], "I" * 50)] * 10
    assert forbidden_found(tmp_path, bam_of_reads(tmp_path / "planted.bam", planted), "ABABBABA") == {"QUAL (list line 1)": 1}


@pytest.mark.parametrize("one_by_one", ["0", "1"], ids=["bulk", "one-by-one"])
def test_listed_strings_in_fastq_qualities_and_sequences_are_found(
    one_by_one: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The FASTQ twin of the BAM's: the quality line's path and name, the sequence's name of base codes
    (``U`` too), on both paths; a sequence of ACGTN passes."""
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
    bases = REFERENCE[100:150]
    data = (f"@READ1\n{bases}\n+\n{PLANTED_PATH}{'I' * 25}\n@READ2\n{bases}\n+\nKIMJIHOON_DOB_19900101{'I' * 28}\n"
            f"@READ3\n{bases[:20]}HWANGSUNGHUN{bases[32:]}\n+\n{'I' * 50}\n@READ4\n{bases}\n+\n{'I' * 50}\n").encode()  # fmt: skip
    forbid = ForbidList.read(listed(tmp_path, "KIMJIHOON", "19900101", PLANTED_PATH, "KANGDAHYANG", "ACGTACGTAC", "HWANGSUNGHUN"))
    findings = Findings()
    audit_fastq.FastqAudit("R1.fastq", forbid, findings).run(io.BytesIO(data))
    assert dict(findings.forbidden.counts) == {
        "quality (list line 1)": 1, "quality (list line 2)": 1, "quality (list line 3)": 1, "sequence (list line 6)": 1
    }  # fmt: skip
    assert findings.forbidden.examples["sequence (list line 6)"] == ["record 3"]
