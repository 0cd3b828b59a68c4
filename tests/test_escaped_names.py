"""Known names percent-encoded (``KIM%5FJIHYUN``, ``KIM%255FJIHYUN``, ``%4B%49%4D...``): VCF 4.3 (1.2)
makes percent-encoding a legal spelling of any value, so vcf-scrub-header replaces a name the decoded
text shows, and genoscrub-audit judges the ``#CHROM`` sample names decoded too."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pysam.bcftools
import pytest
from genoscrub.genoscrub_audit import app as audit_app
from genoscrub.identifiers import IdentifierScrub, NameReplacement, escapes_of, percent_decodings
from genoscrub.vcf_scrub_header import app, block_decodings
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

NAME = b"KIM_JIHYUN"
SAMPLE = b"S2301217N_20231029"
MAP = b"KIM_JIHYUN\tCMN009_00\nS2301217N_20231029\tCMN001_00\n"
REPLACEMENTS = {NAME: b"CMN009_00", SAMPLE: b"CMN001_00", b"S2301217N": b"CMN001_00"}
SPELLINGS = [
    b"KIM%5FJIHYUN",
    b"KIM%5fJIHYUN",
    b"kim%5fjihyun",
    b"KIM%255FJIHYUN",  # encoded twice
    b"KIM%25255FJIHYUN",  # three times
    b"%4B%49%4D%5F%4A%49%48%59%55%4E",  # every byte
    b"%4b%49%4d%5f%4a%49%48%59%55%4e",
    b"%254B%49M_JIHYUN",  # one escape of an escape
]


def every_form(text: bytes) -> list[bytes]:
    """``text`` and its decodings, by the standard library (independent of ``identifiers``)."""
    forms = [text]
    while b"%" in forms[-1] and len(forms) < 6:
        forms.append(unquote_to_bytes(forms[-1]))
    return [form.lower() for form in forms]


def holds_name(text: bytes) -> bool:
    return any(NAME.lower() in form or SAMPLE.lower() in form or b"s2301217n" in form for form in every_form(text))


@pytest.mark.parametrize("spelled", SPELLINGS)
@pytest.mark.parametrize("with_number", [False, True], ids=["header", "records"])
def test_a_percent_encoded_name_becomes_its_pseudonym(spelled: bytes, with_number: bool) -> None:
    names = NameReplacement(REPLACEMENTS, with_number)
    assert names(b"N=" + spelled) == b"N=CMN009_00"
    assert names(b"from%20" + spelled + b"%2C%20ward 3") == b"from%20CMN009_00%2C%20ward 3"  # escapes around it stay


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"S2301217N%5F20231029", b"CMN001_00"),  # the whole sample, not its stem and a date
        (b"S2301217N%2ET", b"CMN001_00%2ET"),  # the stem
        (b"XKIM%5FJIHYUN", b"XKIM%5FJIHYUN"),  # a name without a digit: a whole token only, decoded too
        (b"50%25 of KIM%5FJIHYUN", b"50%25 of CMN009_00"),
        (b"p.Leu10%3D", b"p.Leu10%3D"),
    ],
)
def test_decoded_text_is_read_first_and_token_rules_hold(text: bytes, expected: bytes) -> None:
    assert NameReplacement(REPLACEMENTS, with_number=True)(text) == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from([0, 1, 2, 3]), min_size=len(NAME), max_size=len(NAME)), st.booleans())
def test_any_mix_of_escaped_bytes_is_replaced(levels: list[int], lower: bool) -> None:
    """Each byte of the name plain, or encoded once, twice or three times: the whole spelling goes."""
    spelled = b""
    for byte, level in zip(NAME.lower() if lower else NAME, levels, strict=True):
        text = bytes([byte])
        for _ in range(level):
            text = b"".join(b"%%%02X" % character for character in text)
        spelled += text
    for with_number in (False, True):
        assert NameReplacement(REPLACEMENTS, with_number)(b"N=" + spelled + b";") == b"N=CMN009_00;"


def test_descriptions_and_kept_lines_get_the_pseudonym() -> None:
    scrub = IdentifierScrub(REPLACEMENTS)
    assert scrub.scrub(b"tumour of KIM%5FJIHYUN (S2301217N%5F20231029)") == b"tumour of CMN009_00 (CMN001_00)"
    assert scrub.scrub(b"from %2Fhome%2FKIM%5FJIHYUN%2Fx.bam") == b"from [removed]"  # a path goes whole, as before


def test_name_escapes_are_those_of_the_names_bytes() -> None:
    """A block is decoded for names only where it holds an escape of a byte some name has (either case) or of ``%``."""
    pattern = escapes_of([b"kim_jihyun"])
    assert pattern is not None
    assert all(pattern.search(escape) for escape in (b"%4B", b"%4b", b"%6B", b"%5f", b"%25", b"%4A"))
    assert not any(pattern.search(escape) for escape in (b"%3D", b"%3A", b"%2C", b"%41", b"%20"))
    assert escapes_of([]) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40) | st.text("%25aAfFgG4\t\n_x", max_size=40).map(str.encode))
def test_a_block_is_decoded_as_each_value_is(text: bytes) -> None:
    """The bulk path's numpy decoding of a block gives the forms ``percent_decodings`` gives (the
    standard library's decoding), so that it finds every name the one-record path finds."""
    assert block_decodings(text) == percent_decodings(text)


@settings(max_examples=200, deadline=None)
@given(st.text("%25aAfFgG4\t_x", max_size=60).map(str.encode), st.integers(0, 4200))
def test_the_audit_decodes_a_block_as_a_value(text: bytes, padding: int) -> None:
    """The audit decodes long text (a block) with numpy, short text (a value) with a regular
    expression: the two give the standard library's forms."""
    from genoscrub.audit_header import decoded_forms

    for written in (text, b"x" * padding + text):
        assert decoded_forms(written) == percent_decodings(written)


HEADER = (
    b"##fileformat=VCFv4.3\n##contig=<ID=chr1,length=100000>\n"
    b'##INFO=<ID=N,Number=1,Type=String,Description="tumour of KIM%5FJIHYUN, normal %4B%49%4D%5F%4A%49%48%59%55%4E">\n'
    b'##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence. Format: Allele|HGVSp">\n'
    b'##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    b'##FORMAT=<ID=RG,Number=1,Type=String,Description="read group">\n'
    b"##note=called for KIM%255FJIHYUN\n"
    b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + SAMPLE + b"\n"
)


def records_with(spellings: list[bytes]) -> bytes:
    """A block of ordinary records (VEP's ``%3D`` in most), one escaped name every 50 records, in INFO,
    a sample's value and a symbolic ALT in turn."""
    lines = []
    for position in range(1, 1201):
        info, sample, alt = b"CSQ=C|p.Leu10%3D", b"0/1:rg1", b"C"
        if position % 50 == 0:
            spelled = spellings[(position // 50) % len(spellings)]
            place = (position // 50) % 3
            if place == 0:
                info = b"N=" + spelled
            elif place == 1:
                sample = b"0/1:" + spelled + b".L1"
            else:
                alt = b"<INS:" + spelled + b">"
        lines.append(b"chr1\t%d\t.\tA\t%s\t5\tPASS\t%s\tGT:RG\t%s\n" % (position, alt, info, sample))
    return b"".join(lines)


def scrubbed(tmp_path: Path, text: bytes, one_by_one: str, monkeypatch: pytest.MonkeyPatch) -> bytes:
    (tmp_path / "map.tsv").write_bytes(MAP)
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
    result = CliRunner().invoke(app, ["-q", "--keep", "note", "--map", str(tmp_path / "map.tsv")], input=text)
    assert result.exit_code == 0
    return result.stdout_bytes


def test_records_and_header_lose_every_spelling_in_both_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No spelling survives, anywhere in the output (read as written and decoded by the standard
    library); the bulk path gives the one-record path's bytes; bcftools reads the output."""
    text = HEADER + records_with(SPELLINGS)
    bulk = scrubbed(tmp_path, text, "0", monkeypatch)
    assert bulk == scrubbed(tmp_path, text, "1", monkeypatch)
    assert not any(holds_name(line) for line in bulk.split(b"\n"))
    assert b'Description="tumour of CMN009_00, normal CMN009_00"' in bulk
    assert b"##note=called for CMN009_00\n" in bulk
    body = [line.split(b"\t") for line in bulk.splitlines() if not line.startswith(b"#")]
    assert sum(b"CMN009_00" in b"\t".join(fields) for fields in body) == 1200 // 50
    assert all(fields[7] == b"CSQ=C|p.Leu10%3D" for fields in body if b"CMN009_00" not in b"\t".join(fields))  # VEP's escape stays
    (tmp_path / "out.vcf").write_bytes(bulk)
    assert pysam.bcftools.view("-H", str(tmp_path / "out.vcf")).count("\n") == 1200


def test_a_block_with_only_escaped_names_is_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A block holding a name only percent-encoded (no plain name, no other reason to split a record)
    still goes record by record: the name in a FORMAT value of an ordinary record goes."""
    body = b"chr1\t7\t.\tA\tC\t5\tPASS\tCSQ=C|p.Leu10%3D\tGT:RG\t0/1:KIM%5fJIHYUN\n"
    output = scrubbed(tmp_path, HEADER + body, "0", monkeypatch)
    assert output.endswith(b"\tGT:RG\t0/1:CMN009_00\n")


# --- genoscrub-audit: the #CHROM line's sample names ------------------------------------------------


AUDIT_HEADER = (
    b"##fileformat=VCFv4.3\n##contig=<ID=chr1,length=1000>\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
    b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"
)


def audit(tmp_path: Path, samples: list[bytes], forbid: bytes | None = None) -> str:
    path = tmp_path / "in.vcf"
    path.write_bytes(AUDIT_HEADER + b"\t".join(samples) + b"\nchr1\t1\t.\tA\tC\t5\tPASS\t.\tGT" + b"\t0/1" * len(samples) + b"\n")
    args = [str(path)]
    if forbid is not None:
        (tmp_path / "forbid.txt").write_bytes(forbid)
        args = ["--forbid", str(tmp_path / "forbid.txt"), *args]
    result = CliRunner().invoke(audit_app, args)
    return result.stderr + result.stdout


@pytest.mark.parametrize("spelled", SPELLINGS)
def test_audit_finds_a_forbidden_sample_name_percent_encoded(tmp_path: Path, spelled: bytes) -> None:
    report = audit(tmp_path, [b"CMN001_00", spelled], forbid=b"KIM_JIHYUN\n")
    assert "sample name 2 (list line 1)" in report
    assert "kim" not in report.lower()  # never printed


@pytest.mark.parametrize(
    "spelled",
    [b"S%2F1", b"x%40host", b"KIM%2519900101", b"S2301217N%5F19900101", b"P%2D900101%2D1234567", b"%C2%A0x"],
)
def test_audit_judges_decoded_sample_names_by_the_sample_rule(tmp_path: Path, spelled: bytes) -> None:
    """A path, an address, a date, a registration number or text outside ASCII, percent-encoded."""
    assert re.search(r"sample name \(holds personal data\) 1 \(header line 4 sample 2\)", audit(tmp_path, [b"CMN001_00", spelled]))


def test_audit_passes_pseudonyms_and_harmless_escapes(tmp_path: Path) -> None:
    report = audit(tmp_path, [b"CMN001_00", b"S0123456789abcdef", b"tumour%2D1"], forbid=b"KIM_JIHYUN\n")
    assert "sample name" not in report


def test_audit_finds_forbidden_strings_percent_decoded_in_records_and_meta_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each spelling, in an INFO value, a sample's FORMAT value and a meta line, is a forbidden finding
    named by its field, the same record by record as over a block; VEP's ``%3D`` is none."""
    header = (b"##fileformat=VCFv4.3\n##contig=<ID=chr1,length=100000>\n"
              b'##INFO=<ID=N,Number=1,Type=String,Description="of KIM%255FJIHYUN">\n'
              b'##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence. Format: Allele|HGVSp">\n'
              b'##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
              b'##FORMAT=<ID=RG,Number=1,Type=String,Description="read group">\n'
              b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tCMN001_00\tCMN002_00\n")  # fmt: skip
    lines = []
    for position in range(1, 601):
        info, second = b"CSQ=C|p.Leu10%3D", b"0/1:rg2"
        if position % 100 == 0:
            spelled = SPELLINGS[(position // 100) % len(SPELLINGS)]
            info, second = (b"N=a%3B" + spelled + b";CSQ=C|p.Leu10%3D", second) if position % 200 else (info, b"0/1:" + spelled)
        lines.append(b"chr1\t%d\t.\tA\tC\t5\tPASS\t%s\tGT:RG\t0/1:rg1\t%s\n" % (position, info, second))
    path = tmp_path / "in.vcf"
    path.write_bytes(header + b"".join(lines))
    (tmp_path / "forbid.txt").write_bytes(b"KIM_JIHYUN\n")
    reports = []
    for one_by_one in ("0", "1"):
        monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
        result = CliRunner().invoke(audit_app, ["--forbid", str(tmp_path / "forbid.txt"), str(path)])
        reports.append(result.stderr + result.stdout)
    assert reports[0] == reports[1]
    report = reports[0]
    assert "kim" not in report.lower()
    assert "header ##INFO (list line 1) 1 (header line 3)" in report
    assert "INFO/N (list line 1) 3 (chr1:100, chr1:300, chr1:500)" in report
    assert "sample 2 FORMAT/RG (list line 1) 3 (chr1:200, chr1:400, chr1:600)" in report
    assert "forbidden: 7:" in report  # nothing else: the CSQ values with VEP's %3D are none


def test_a_contig_named_after_a_sample_percent_encoded_gets_its_pseudonym(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As ``S2301217N_20231029`` would: the sample's date is not read as personal data in the contig ID."""
    text = (b"##fileformat=VCFv4.3\n##contig=<ID=S2301217N%5F20231029,length=1000>\n"
            b'##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
            b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + SAMPLE + b"\n"
            b"S2301217N%5F20231029\t5\t.\tA\tC\t5\tPASS\t.\tGT\t0/1\n")  # fmt: skip
    for one_by_one in ("0", "1"):
        output = scrubbed(tmp_path, text, one_by_one, monkeypatch)
        assert b"##contig=<ID=CMN001_00,length=1000>\n" in output
        assert output.endswith(b"\nCMN001_00\t5\t.\tA\tC\t5\tPASS\t.\tGT\t0/1\n")
