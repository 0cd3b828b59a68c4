"""The SAM header model (filters/sam_header.py): grammar, errors, and output samtools reads."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from genoscrub import __version__
from genoscrub.report import InputError
from genoscrub.sam_header import parse_header, program_line, sequence_dictionary
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def lines(text: str) -> list[bytes]:
    return [line.encode() for line in text.strip("\n").split("\n")]


def test_hd_always_has_a_valid_version() -> None:
    header = parse_header(lines("@HD\tSO:coordinate\tXY:x"), "-")
    assert header.text() == b"@HD\tVN:1.6\tSO:coordinate\n"
    assert header.rebuilt == {"@HD VN": 1} and header.removed_tags == {"@HD XY": 1}
    assert parse_header(lines("@HD\tVN:one.six"), "-").text() == b"@HD\tVN:1.6\n"


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("@HD\tVN:1.6\tSO:Coordinate", "@HD\tVN:1.6"),  # the enums are case-sensitive
        ("@HD\tVN:1.6\tGO:reference", "@HD\tVN:1.6\tGO:reference"),
        ("@HD\tVN:1.6\tSS:queryname:natural", "@HD\tVN:1.6\tSS:queryname:natural"),
        ("@HD\tVN:1.6\tSS:coordinate:run 7 of Kim", "@HD\tVN:1.6"),
        ("@HD\tVN:1.6\tSS:coordinate", "@HD\tVN:1.6"),
        ("@SQ\tSN:c\tLN:5\tM5:ABCDEF0123456789ABCDEF0123456789", "@SQ\tSN:c\tLN:5\tM5:abcdef0123456789abcdef0123456789"),
        ("@SQ\tSN:c\tLN:5\tM5:abc", "@SQ\tSN:c\tLN:5"),
        ("@SQ\tSN:c\tLN:5\tAS:hg38\tSP:HOMO SAPIENS\tTP:circular", "@SQ\tSN:c\tLN:5\tAS:hg38\tSP:Homo sapiens\tTP:circular"),
        ("@SQ\tSN:c\tLN:5\tAS:GRCh38 (Kim lab build)\tSP:Homo sapiens Kim", "@SQ\tSN:c\tLN:5"),
        ("@SQ\tSN:c\tLN:05\tUR:file:///home/kim/ref.fa\tDS:x", "@SQ\tSN:c\tLN:5"),
        ("@SQ\tSN:chrM\tLN:5\tAN:MT,M,NC_012920.1", "@SQ\tSN:chrM\tLN:5\tAN:MT,M,NC_012920.1"),
        ("@SQ\tSN:chrM\tLN:5\tAN:MT,S2301217T", "@SQ\tSN:chrM\tLN:5"),
        ("@SQ\tSN:alt\tLN:5\tAH:*", "@SQ\tSN:alt\tLN:5\tAH:*"),
        ("@SQ\tSN:alt\tLN:5\tAH:alt:1-5", "@SQ\tSN:alt\tLN:5\tAH:alt:1-5"),
        ("@SQ\tSN:alt\tLN:5\tAH:alt:1-6", "@SQ\tSN:alt\tLN:5"),
        ("@SQ\tSN:alt\tLN:5\tAH:chr6", "@SQ\tSN:alt\tLN:5"),
        ("@RG\tID:a\tPL:illumina", "@RG\tID:a\tPL:ILLUMINA"),
        ("@RG\tID:a\tPL:ILLUMINA_M04123\tPM:MiSeq\tCN:SNUH", "@RG\tID:a"),
        # red team 7a F2: a version, an accession and an MD5 in shape, holding a date and a registration number
        ("@HD\tVN:19900101.9001011234567", "@HD\tVN:1.6"),
        ("@HD\tVN:1.9001011234567", "@HD\tVN:1.6"),
        ("@HD\tVN:1.10", "@HD\tVN:1.10"),
        ("@SQ\tSN:chr1\tLN:5\tAN:KJ_19900101.1,1", "@SQ\tSN:chr1\tLN:5"),
        ("@SQ\tSN:chr1\tLN:5\tAN:1,CM000663.2,NC_000001.11", "@SQ\tSN:chr1\tLN:5\tAN:1,CM000663.2,NC_000001.11"),
        ("@SQ\tSN:chr1\tLN:5\tAN:1,KJ_900101-1234567.1", "@SQ\tSN:chr1\tLN:5"),
        # red team 9 A3: names judged alone spelled a number together (900101-1234567), or a count
        ("@SQ\tSN:chr1\tLN:5\tAN:1,AB900101.1,CM123456.7", "@SQ\tSN:chr1\tLN:5"),
        ("@SQ\tSN:chr1\tLN:5\tAN:NC_900101.1,NC_123456.7", "@SQ\tSN:chr1\tLN:5"),
        ("@SQ\tSN:chr1\tLN:5\tAN:NC_900101.1,A1234567.1", "@SQ\tSN:chr1\tLN:5"),
        ("@SQ\tSN:chr1\tLN:5\tAN:1,1,1", "@SQ\tSN:chr1\tLN:5"),
        ("@SQ\tSN:chr1\tLN:5\tAN:1,NC_000001.11,CM000663.2", "@SQ\tSN:chr1\tLN:5\tAN:1,NC_000001.11,CM000663.2"),
        ("@SQ\tSN:chr1_KI270706v1_random\tLN:5\tAN:KI270706.1,NT_187361.1", "@SQ\tSN:chr1_KI270706v1_random\tLN:5\tAN:KI270706.1,NT_187361.1"),  # noqa: E501
        ("@SQ\tSN:chr1\tLN:5\tM5:19900101900101123456701012345678", "@SQ\tSN:chr1\tLN:5\tM5:19900101900101123456701012345678"),
    ],
)
def test_kept_values_follow_the_grammar(line: str, kept: str) -> None:
    assert parse_header(lines(line), "-").text() == kept.encode() + b"\n"


def test_an_md5_is_kept_only_where_it_is_the_reference_sequences() -> None:
    """32 hex digits may hold any digits: given the reference, an M5 stays only where it is its
    sequence's MD5 (a number in its place, or a contig the reference lacks, goes and is counted)."""
    sequences = {"chr1": "0123456789abcdef0123456789abcdef", "chr2": "f" * 32}
    header = parse_header(
        lines(
            "@SQ\tSN:chr1\tLN:5\tM5:0123456789ABCDEF0123456789ABCDEF\n"
            "@SQ\tSN:chr2\tLN:5\tM5:19900101900101123456701012345678\tTP:linear\n"
            "@SQ\tSN:chr3\tLN:5\tM5:0123456789abcdef0123456789abcdef\n@SQ\tSN:chr4\tLN:5"
        ),
        "-",
    )
    header.keep_checksums_of(sequences.get)
    assert header.text() == (
        b"@SQ\tSN:chr1\tLN:5\tM5:0123456789abcdef0123456789abcdef\n@SQ\tSN:chr2\tLN:5\tTP:linear\n"
        b"@SQ\tSN:chr3\tLN:5\n@SQ\tSN:chr4\tLN:5\n"
    )
    assert header.removed_tags == {"@SQ M5": 2}


@pytest.mark.parametrize(
    ("text", "message", "number"),
    [
        ("@HD\tVN:1.6\n@SQ\tSN:c", "@SQ line without LN", 2),
        ("@SQ\tSN:c\tLN:0", "@SQ LN is not a length of 1 or more", 1),
        ("@SQ\tSN:c\tLN:-5", "@SQ LN is not a length of 1 or more", 1),
        ("@SQ\tSN:c\tLN:12x", "@SQ LN is not a length of 1 or more", 1),
        ("@SQ\tSN:*c\tLN:5", "@SQ SN is not a reference name (printable, not starting with * or =)", 1),
        ("@SQ\tSN:c\tLN:5\n@SQ\tSN:c\tLN:5", "@SQ SN given twice", 2),
        ("@RG\tSM:x", "@RG line without ID", 1),
        ("@RG\tID:a\n@RG\tID:a", "@RG ID given twice", 2),
        ("@SQ\tSN:c\tLN:5\tLN:6", "header line gives a tag twice", 1),
        ("@SQ\tSN:c\tLN", "malformed header line (expected TAG:VALUE fields)", 1),
        ("@S\tSN:c", "malformed header line (expected @ and a two-letter record type)", 1),
    ],
)
def test_structural_faults_are_errors_with_the_line(text: str, message: str, number: int) -> None:
    with pytest.raises(InputError) as caught:
        parse_header(lines(text), "in.sam")
    assert (caught.value.message, caught.value.line) == (message, number)


def test_removed_lines_are_counted_by_type_and_programs_remembered() -> None:
    header = parse_header(lines("@HD\tVN:1.6\n@PG\tID:bwa\tCL:bwa mem /home/kim\n@CO\tKim\n@XY\tx\n@lo\ty\n@HD\tVN:1.5"), "-")
    assert header.removed_lines == {"@PG": 1, "@CO": 1, "@XY": 1, "@lo": 1, "@HD": 1}
    assert header.programs == [b"bwa"]
    assert header.text() == b"@HD\tVN:1.6\n"


def test_hd_is_written_first_and_other_lines_keep_their_order() -> None:
    header = parse_header(lines("@RG\tID:a\n@SQ\tSN:c2\tLN:5\n@HD\tVN:1.6\n@SQ\tSN:c1\tLN:5"), "-")
    assert header.text() == b"@HD\tVN:1.6\n@RG\tID:a\n@SQ\tSN:c2\tLN:5\n@SQ\tSN:c1\tLN:5\n"


def test_the_sequence_dictionary_is_the_same_for_every_command() -> None:
    assert sequence_dictionary(lines("@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:0100\n@SQ\tSN:chrM\tLN:16569"), "-") == {"chr1": 100, "chrM": 16569}
    with pytest.raises(InputError):
        sequence_dictionary(lines("@SQ\tSN:chr1\tLN:x"), "-")


def test_program_line_never_reuses_an_id() -> None:
    assert program_line("sam-scrub-rg") == b"@PG\tID:sam-scrub-rg\tPN:genoscrub\tVN:" + __version__.encode()
    taken = [b"sam-revert-germline", b"sam-revert-germline.1"]
    assert program_line("sam-revert-germline", taken).startswith(b"@PG\tID:sam-revert-germline.2\t")


VALUE = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=12)
TAGS = {
    "HD": ["VN", "SO", "GO", "SS", "XY"],
    "SQ": ["M5", "AS", "SP", "TP", "AH", "AN", "UR", "DS", "zz"],
    "RG": ["PL", "PU", "SM", "LB", "DS", "CN", "PM"],
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.dictionaries(st.sampled_from([(kind, tag) for kind, tags in TAGS.items() for tag in tags]), VALUE, max_size=12))
def test_any_values_give_a_header_samtools_reads(values: dict[tuple[str, str], str], tmp_path: Path) -> None:
    """Whatever the tags hold, the written header parses with samtools, and a value it
    keeps unchanged is one a list or grammar allows."""
    fields: dict[str, dict[str, str]] = {"HD": {}, "SQ": {"SN": "chr1", "LN": "100"}, "RG": {"ID": "rg1"}}
    for (kind, tag), value in values.items():
        fields[kind][tag] = value
    text = [("@" + kind + "".join(f"\t{tag}:{value}" for tag, value in tags.items())).encode() for kind, tags in fields.items() if tags]
    out = parse_header(text, "-").text()
    path = tmp_path / "h.sam"
    path.write_bytes(out)
    assert subprocess.run(["samtools", "view", "-H", str(path)], capture_output=True).returncode == 0
    for (kind, tag), value in values.items():
        if (kind != "RG" or tag == "PL") and f"\t{tag}:{value}".encode() in out:
            assert tag in ("VN", "SO", "GO", "SS", "M5", "AS", "SP", "TP", "AH", "AN", "PL"), (tag, value)


def test_program_ids_of_a_header_passed_on_as_text() -> None:
    """The one-line switch of a command that keeps its header as text (sam-revert-germline, sam-mask-regions)."""
    from genoscrub.sam_header import program_ids

    header = lines("@HD\tVN:1.6\n@PG\tID:sam-mask-regions\tPN:genoscrub\n@PG\tPN:no-id\n@CO\tID:x")
    assert program_ids(header) == [b"sam-mask-regions"]
    assert program_line("sam-mask-regions", program_ids(header)).startswith(b"@PG\tID:sam-mask-regions.1\t")
