"""Identifiers in the forms a Korean hospital's data carries, planted in every text field.

A privacy reviewer of a Korean biobank delivery plants, in every field a command reads
or writes, the values a hospital's systems actually write: names in Hangul (UTF-8) and
romanised, a resident registration number with and without its hyphen, record numbers,
dates of birth, phone numbers, e-mail addresses, Windows and UNC paths, URLs with
credentials, and the same values percent-encoded or escaped. Each test runs a command
and searches the bytes it wrote (output decoded by samtools or bcftools where it is
binary, stderr, the ``--report`` JSON) for the distinctive part of each value, as
plain bytes: no parser of ours decides what "gone" means.

The audit (``genoscrub-audit``) is the safety net when a scrubber is bypassed: it must
find each value in the spellings a system writes it in, given the value once in its
forbid list, and never print it.

Two places keep such values on purpose or by a documented limit: a romanised name in
free text (no pattern tells it from other words; ``--descriptions drop`` removes it),
and read names without ``--names``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from genoscrub.audit_forbid import MIN_LENGTH, SPREAD, ForbidList, entry, spellings, without_separators
from genoscrub.vcf_scrub_header import app
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import run_command
from tests.identifier_forms import FORMS

ROMANISED: dict[str, tuple[str, tuple[str, ...]]] = {
    "romanised": ("KIM JIHYUN", ("JIHYUN",)),
    "romanised-hyphen": ("Kim Ji-hyun", ("Ji-hyun",)),
}


def survivors(data: bytes, forms: dict[str, tuple[str, tuple[str, ...]]] = FORMS) -> list[str]:
    """The forms of which something distinctive is in ``data`` (plain bytes, any ASCII case)."""
    folded = data.lower()
    return [name for name, (_, needles) in forms.items() if any(needle.encode().lower() in folded for needle in needles)]


# --- vcf-scrub-header ------------------------------------------------------------------------------

COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS2301217T_20231029"
RECORD = "chr1\t10\t.\tA\tG\t50\tPASS\tDP=3\tGT\t0/1"
BASE = ["##fileformat=VCFv4.3", "##contig=<ID=chr1,length=1000>", '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">']  # fmt: skip
# place -> (header line with {X}, options)
VCF_PLACES: dict[str, tuple[str, tuple[str, ...]]] = {
    "INFO Description": ('##INFO=<ID=X1,Number=1,Type=String,Description="from {X} run">', ()),
    "FORMAT Description": ('##FORMAT=<ID=X2,Number=1,Type=String,Description="{X}">', ()),
    "FILTER Description": ('##FILTER=<ID=q10,Description="patient {X}">', ()),
    "ALT Description": ('##ALT=<ID=DEL,Description="{X}, deletion">', ()),
    "SAMPLE Description (kept)": ('##SAMPLE=<ID=S2301217T_20231029,Assay=WGS,Description="{X}">', ("--keep", "SAMPLE")),
    "plain value (kept)": ("##tumor_sample=sample of {X}", ("--keep", "tumor_sample")),
    "structured value (kept)": ('##lab=<ID=run,Path="{X}",Host=x>', ("--keep", "lab")),
    "reference base name": ("##reference=file:///data/ref_{X}.fa", ()),
}
MAP = "S2301217T_20231029\tCMT7777777_00\n"


def scrub_vcf(text: str, options: tuple[str, ...], folder: Path) -> tuple[bytes, bytes]:
    """vcf-scrub-header in process: its output and its report."""
    (folder / "ids.tsv").write_text(MAP)
    report = folder / "report.json"
    result = CliRunner().invoke(app, ["-q", "--map", str(folder / "ids.tsv"), "--report", str(report), *options], input=text.encode())
    assert result.exit_code == 0, result.output
    return result.stdout_bytes, report.read_bytes()


def bcftools_reads(vcf: bytes) -> None:
    result = subprocess.run(["bcftools", "view", "-"], input=vcf, capture_output=True)
    assert result.returncode == 0, result.stderr.decode()


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("place", list(VCF_PLACES))
def test_vcf_header_text_keeps_no_form(place: str, form: str, tmp_path: Path) -> None:
    line, options = VCF_PLACES[place]
    text = "\n".join([*BASE, line.replace("{X}", FORMS[form][0]), COLUMNS, RECORD]) + "\n"
    out, report = scrub_vcf(text, options, tmp_path)
    assert survivors(out + report, {form: FORMS[form]}) == [], out.decode(errors="replace")
    bcftools_reads(out)


def test_vcf_every_form_everywhere_at_once_nothing_on_stderr(tmp_path: Path) -> None:
    """Every place and form in one file, through the installed command: output, stderr and report."""
    lines = [line.replace("{X}", value).replace("X1", f"X{number}") for number, (value, _) in enumerate(FORMS.values())
             for line, _ in list(VCF_PLACES.values())[:4]]  # fmt: skip
    kept = [line.replace("{X}", value) for value, _ in FORMS.values() for line in ("##tumor_sample={X}",)]
    (tmp_path / "in.vcf").write_text("\n".join([*BASE, *lines, *kept, COLUMNS, RECORD]) + "\n")
    (tmp_path / "ids.tsv").write_text(MAP)
    report = tmp_path / "report.json"
    result = run_command("vcf-scrub-header", "--map", str(tmp_path / "ids.tsv"), "--keep", "tumor_sample", "--report", str(report),
                         str(tmp_path / "in.vcf"))  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    assert survivors(result.stdout + result.stderr + report.read_bytes()) == []
    bcftools_reads(result.stdout)


def test_vcf_pseudonyms_accessions_and_ordinary_descriptions_are_kept(tmp_path: Path) -> None:
    """Numbers go only where they could be someone's: a pseudonym's digits stay (names are replaced
    before numbers are removed), an assembly accession stays, ordinary numbers stay."""
    lines = [
        '##INFO=<ID=X1,Number=1,Type=String,Description="Tumour S2301217T_20231029 of 1990-01-01">',
        '##INFO=<ID=X2,Number=1,Type=Float,Description="Phred-scaled p-value, 95% CI, gnomAD v4.1, 141456 samples">',
        "##reference=file:///ref/GCA_000001405.15_GRCh38_no_alt_analysis_set.fna",
    ]
    out, _ = scrub_vcf("\n".join([*BASE, *lines, COLUMNS, RECORD]) + "\n", (), tmp_path)
    assert b'Description="Tumour CMT7777777_00 of [removed]"' in out
    assert b'Description="Phred-scaled p-value, 95% CI, gnomAD v4.1, 141456 samples"' in out
    assert b"##reference=GCA_000001405.15_GRCh38_no_alt_analysis_set.fna\n" in out


@pytest.mark.parametrize("form", list(ROMANISED))
def test_vcf_romanised_name_in_free_text_goes_with_descriptions_drop(form: str, tmp_path: Path) -> None:
    """A romanised name in a Description is words like any other (the man page says so); the
    documented remedy, ``--descriptions drop``, removes it."""
    text = "\n".join([*BASE, f'##INFO=<ID=X1,Number=1,Type=String,Description="from {ROMANISED[form][0]}">', COLUMNS, RECORD]) + "\n"
    scrubbed, _ = scrub_vcf(text, (), tmp_path)
    assert survivors(scrubbed, ROMANISED) == [form]  # the documented limit: still there
    dropped, _ = scrub_vcf(text, ("--descriptions", "drop"), tmp_path)
    assert survivors(dropped, ROMANISED) == []


def record_values(forms: list[str]) -> list[bytes]:
    """Records holding each form as an INFO string value, a sample's FORMAT value and a FILTER."""
    lines = [f"chr1\t{10 + index}\t.\tA\tG\t50\tq{{X}}\tNOTE={{X}};DP=3\tGT:NM\t0/1:{{X}}" for index in range(len(forms))]
    return [
        line.encode().replace(b"{X}", value if isinstance(value, bytes) else value.encode().replace(b" ", b"_"))
        for line, value in zip(lines, [FORMS[form][0] if form in FORMS else "김지현".encode("cp949") for form in forms], strict=True)
    ]


RECORD_HEADER = [*BASE, '##INFO=<ID=NOTE,Number=1,Type=String,Description="x">', '##FORMAT=<ID=NM,Number=1,Type=String,Description="x">']
SCRIPTS = ["hangul", "hangul-2", "cp949"]
"""Forms in another script, which records lose (the CP949 bytes of a Hangul name included)."""


@pytest.mark.parametrize("one_record_path", [False, True], ids=["bulk", "one-by-one"])
def test_vcf_record_values_in_another_script_are_removed(one_record_path: bool, tmp_path: Path) -> None:
    """Hangul in a record's ALT, FILTER, FORMAT or sample values becomes ``.`` (an INFO item holding it goes
    whole), in UTF-8 or CP949,
    counted; bcftools reads the output; both record paths agree."""
    text = b"\n".join([*(line.encode() for line in RECORD_HEADER), COLUMNS.encode(), *record_values(SCRIPTS), RECORD.encode()]) + b"\n"
    (tmp_path / "in.vcf").write_bytes(text)
    (tmp_path / "ids.tsv").write_text(MAP)
    report = tmp_path / "report.json"
    environment = {"GENOSCRUB_ONE_BY_ONE": "1"} if one_record_path else None
    result = run_command("vcf-scrub-header", "-q", "--map", str(tmp_path / "ids.tsv"), "--report", str(report), str(tmp_path / "in.vcf"),
                         env=environment)  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.isascii() and survivors(result.stdout + report.read_bytes()) == []
    # FILTER q<hangul> would be q. by the value rule; no ##FILTER declares it, so it leaves the list
    assert result.stdout.splitlines()[-2] == b"chr1\t12\t.\tA\tG\t50\t.\tDP=3\tGT:NM\t0/1:."
    assert result.stdout.splitlines()[-1] == RECORD.encode()
    assert json.loads(report.read_text())["counts"]["records_with_other_scripts_removed"] == len(SCRIPTS)
    bcftools_reads(result.stdout)


def test_vcf_record_string_values_keep_no_form(tmp_path: Path) -> None:
    """Every ASCII form as a String INFO value, a sample's String value and a FILTER ID: removed
    (the value rule and the ID rule of ``record_values``; tests/test_record_values.py holds the rest)."""
    forms = [form for form in FORMS if form not in SCRIPTS]
    text = b"\n".join([*(line.encode() for line in RECORD_HEADER), COLUMNS.encode(), *record_values(forms)]) + b"\n"
    out, report = scrub_vcf(text.decode(), (), tmp_path)
    assert survivors(out + report) == []
    assert json.loads(report)["counts"]["records_with_identifiers_removed"] == len(forms)
    bcftools_reads(out)


# --- sam-scrub-rg ----------------------------------------------------------------------------------

HEADER_TAGS = {
    "HD": ("GO", "SS", "XY"),
    "SQ": ("AH", "AN", "AS", "DS", "M5", "SP", "TP", "UR"),
    "RG": ("BC", "CN", "DS", "DT", "FO", "KS", "LB", "PG", "PI", "PL", "PM", "PU", "SM"),
    "PG": ("PN", "CL", "PP", "DS", "VN"),
}
# Record tags that are kept (each checked against its grammar) and some that are not.
# MI, a molecular identifier, is a number by its grammar: any number passes there (the man page says so).
Z_TAGS = ("CC", "MC", "MD", "SA", "OA", "OC", "OQ", "R2", "BQ", "RX", "QX", "OX", "BZ", "CB", "CR", "XA", "XB", "YT", "UB",
          "DT", "CO", "XX", "zz", "PU", "LB")  # fmt: skip


def planted_sam(value: str) -> bytes:
    """``value`` in every header tag and line type, as a read group's ID and in every Z tag listed."""
    single = value.replace(" ", "_")
    lines = [
        "@HD\tVN:1.6\tSO:coordinate" + "".join(f"\t{tag}:{value}" for tag in HEADER_TAGS["HD"]),
        "@SQ\tSN:chr1\tLN:100" + "".join(f"\t{tag}:{value}" for tag in HEADER_TAGS["SQ"]),
        "@RG\tID:rg1" + "".join(f"\t{tag}:{value}" for tag in HEADER_TAGS["RG"]),
        f"@RG\tID:{single}\tSM:x",
        "@PG\tID:bwa" + "".join(f"\t{tag}:{value}" for tag in HEADER_TAGS["PG"]),
        f"@PG\tID:{value}\tPN:x",
        f"@CO\t{value}",
    ]
    fixed = ["0", "chr1", "1", "60", "4M", "*", "0", "0", "ACGT", "IIII"]
    lines.append("\t".join([f"r1_{single}", *fixed, "RG:Z:rg1", *(f"{tag}:Z:{value}" for tag in Z_TAGS)]))
    lines.append("\t".join([f"{single}:1:FC:1:2:3", *fixed, f"RG:Z:{single}"]))
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("key") / "site.key"
    path.write_bytes(b"0123456789abcdef0123456789abcdef")
    os.chmod(path, 0o600)
    return path


@pytest.mark.parametrize("input_format", ["sam", pytest.param("bam", marks=pytest.mark.slow)])  # BAM input: make test-slow
@pytest.mark.parametrize("form", list(FORMS) + list(ROMANISED))
def test_sam_scrub_rg_keeps_no_form_in_any_field(form: str, input_format: str, key_file: Path, tmp_path: Path) -> None:
    forms = FORMS | ROMANISED
    source = tmp_path / "in.sam"
    source.write_bytes(planted_sam(forms[form][0]))
    if input_format == "bam":
        encoded = subprocess.run(["samtools", "view", "--no-PG", "-b", "-o", str(tmp_path / "in.bam"), str(source)], capture_output=True)
        assert encoded.returncode == 0, encoded.stderr.decode()
        source = tmp_path / "in.bam"
    out, report = tmp_path / "out.bam", tmp_path / "report.json"
    result = run_command("sam-scrub-rg", "--names", "--key-file", str(key_file), "-O", "bam", "-o", str(out), "--report", str(report),
                         str(source))  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    decoded = subprocess.run(["samtools", "view", "-h", "--no-PG", str(out)], capture_output=True, check=True).stdout
    assert survivors(decoded + result.stderr + report.read_bytes(), {form: forms[form]}) == [], decoded.decode(errors="replace")


@pytest.mark.parametrize("tag", ["MQ:i", "AM:i", "SM:i", "NM:i", "AS:i", "XS:i", "HI:i", "NH:i", "UQ:i", "DS:i", "de:f", "dv:f"])
@pytest.mark.parametrize("number", ["19900101", "9001011234567", "-19900101", "1990010"])
def test_sam_scrub_rg_keeps_no_identifier_number_in_a_count_score_or_quality(tag: str, number: str) -> None:
    """A count, a score or a mapping quality has no room for a date of birth or a record number:
    the tag goes (counted by value), the record stays, a tag of a plausible value stays."""
    fixed = ["r1", "0", "chr1", "1", "60", "4M", "*", "0", "0", "ACGT", "IIII"]
    sam = ("@SQ\tSN:chr1\tLN:100\n" + "\t".join([*fixed, f"{tag}:{number}", "NM:i:1"]) + "\n").encode()
    result = run_command("sam-scrub-rg", "-q", "--report", "/dev/stdout", input=sam)
    assert result.returncode == 0, result.stderr.decode()
    output, _, report = result.stdout.partition(b"{")
    assert number.lstrip("-").encode() not in output
    assert output.rstrip(b"\n").endswith(b"\tNM:i:1") or tag == "NM:i"
    assert json.loads(b"{" + report)["aux_tags_removed_by_value"] == {tag[:2]: 1}


@pytest.mark.parametrize("tag", ["CP:i", "OP:i", "DI:i", "MI:i", "MI:Z"])
def test_positions_and_numbers_through_a_file_keep_any_number(tag: str) -> None:
    """A position, Picard's duplicate set index and a molecule number are numbered through the file:
    eight digits are real values there (the man page says a date passes in them). A position is
    held to its contig (chr1 of GRCh38 here; on a contig of 100 bases CP and OP of 19900101 go)."""
    fixed = ["r1", "0", "chr1", "1", "60", "4M", "*", "0", "0", "ACGT", "IIII"]
    sam = ("@SQ\tSN:chr1\tLN:248956422\n" + "\t".join([*fixed, f"{tag}:19900101"]) + "\n").encode()
    result = run_command("sam-scrub-rg", "-q", input=sam)
    assert result.returncode == 0, result.stderr.decode()
    assert f"\t{tag}:19900101\n".encode() in result.stdout


# --- fastq-scrub-names -----------------------------------------------------------------------------


@pytest.mark.parametrize("keyed", [False, True], ids=["counter", "key"])
def test_fastq_scrub_names_keeps_no_form(keyed: bool, key_file: Path, tmp_path: Path) -> None:
    """Each form in a name, a comment after the space and after a tab, and a repeated ``+`` line."""
    records = []
    for value, _ in (FORMS | ROMANISED).values():
        single = value.replace(" ", "_")
        records += [f"@{single} 1:N:0:ACGT\nACGT\n+\nIIII\n", f"@r2 {value}\nACGT\n+r2 {value}\nIIII\n",
                    f"@r3/1\t{value}\nACGT\n+\nIIII\n", f"@M1:2:FC:{single}:1:2:3 1:N:0:1\nACGT\n+\nIIII\n"]  # fmt: skip
    (tmp_path / "in.fastq").write_text("".join(records))
    report = tmp_path / "report.json"
    options = ["--key-file", str(key_file)] if keyed else []
    result = run_command("fastq-scrub-names", *options, "--report", str(report), str(tmp_path / "in.fastq"))
    assert result.returncode == 0, result.stderr.decode()
    assert survivors(result.stdout + result.stderr + report.read_bytes(), FORMS | ROMANISED) == []


# --- the audit ---------------------------------------------------------------------------------------

# The forbid list holds each value once, as the site writes it; the file holds another spelling.
SPELLINGS: dict[str, tuple[str, str | bytes]] = {
    "hangul as UTF-8": ("김지현", "김지현"),
    "hangul percent-encoded": ("김지현", "%EA%B9%80%EC%A7%80%ED%98%84"),
    "hangul percent-encoded, lower case": ("김지현", "%ea%b9%80%ec%a7%80%ed%98%84"),
    "hangul as \\x escapes": ("김지현", "\\xea\\xb9\\x80\\xec\\xa7\\x80\\xed\\x98\\x84"),
    "hangul as octal escapes": ("김지현", "\\352\\271\\200\\354\\247\\200\\355\\230\\204"),
    "hangul as \\u escapes": ("김지현", "\\uAE40\\uC9C0\\uD604"),
    "hangul as HTML references": ("김지현", "&#44608;&#51648;&#54788;"),
    "hangul decomposed (macOS)": ("김지현", "\u1100\u1175\u11b7\u110c\u1175\u1112\u1167\u11ab"),
    "hangul in CP949 (Korean Windows)": ("김지현", "김지현".encode("cp949")),
    "hangul in UTF-16": ("김지현", "김지현".encode("utf-16-le")),
    "rrn with hyphen": ("900101-1234567", "900101-1234567"),
    "rrn without hyphen": ("900101-1234567", "9001011234567"),
    "rrn listed without hyphen": ("9001011234567", "900101-1234567"),
    "romanised, other case": ("KIM JIHYUN", "kim jihyun"),
    "romanised with underscore": ("KIM JIHYUN", "KIM_JIHYUN"),
    "romanised run together": ("Kim Ji-hyun", "KIMJIHYUN"),
    "mrn without colon": ("MRN:12345678", "MRN12345678"),
    "phone without hyphens": ("010-1234-5678", "01012345678"),
    "phone with dots": ("010-1234-5678", "010.1234.5678"),
    "phone kept as a number (no leading 0)": ("010-1234-5678", "1012345678"),
    "rrn as a VCF list": ("900101-1234567", "900101,1234567"),
    "date as a VCF list": ("1990-01-01", "1990,01,01"),
    "e-mail percent-encoded": ("kimjh@snuh.org", "kimjh%40snuh.org"),
    # VCF 4.3 writes a value's , : ; = percent-encoded (and a writer may escape any separator so)
    "sample ID, underscore percent-encoded": ("S2301217N_20231029", "S2301217N%5F20231029"),
    "rrn as a VCF list, comma percent-encoded": ("900101-1234567", "900101%2C1234567"),
    "rrn, hyphen percent-encoded": ("900101-1234567", "900101%2D1234567"),
    "romanised, comma percent-encoded": ("KIM JIHYUN", "KIM%2CJIHYUN"),
    "romanised, underscore percent-encoded in lower case": ("KIM JIHYUN", "KIM%5fJIHYUN"),
    "date, one hyphen percent-encoded": ("1990-01-01", "1990%2D01-01"),
}


def audit_files(value: bytes, folder: Path) -> list[Path]:
    """``value`` in a SAM (a Z tag, a read name, @CO), a FASTQ (a comment) and a VCF (an INFO value, a
    sample value, a Description): files a scrubber was bypassed for."""
    single = value.replace(b" ", b"_")
    sam = folder / "planted.sam"
    sam.write_bytes(
        b"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:100\n@RG\tID:rg1\tSM:S1\tPL:ILLUMINA\n"
        b"@CO\t%s\nr1\t0\tchr1\t1\t60\t4M\t*\t0\t0\tACGT\tIIII\tRG:Z:rg1\tCO:Z:%s\n"
        b"%s\t0\tchr1\t1\t60\t4M\t*\t0\t0\tACGT\tIIII\tRG:Z:rg1\n" % (value, value, single)
    )
    fastq = folder / "planted.fastq"
    fastq.write_bytes(b"@r1 %s\nACGT\n+\nIIII\n" % value)
    vcf = folder / "planted.vcf"
    header = [*BASE[:2], '##INFO=<ID=NOTE,Number=1,Type=String,Description="{X}">', *BASE[3:], COLUMNS.rsplit("\t", 1)[0] + "\tS1"]
    text = "\n".join([*header, "chr1\t10\t.\tA\tG\t50\tPASS\tNOTE={S}\tGT\t0/1"]) + "\n"
    vcf.write_bytes(text.encode().replace(b"{X}", value).replace(b"{S}", single))
    return [sam, fastq, vcf]


@pytest.mark.parametrize("spelling", list(SPELLINGS))
def test_audit_finds_each_spelling_of_a_listed_value(spelling: str, tmp_path: Path) -> None:
    listed, written = SPELLINGS[spelling]
    planted = written if isinstance(written, bytes) else written.encode()
    forbid = tmp_path / "forbid.txt"
    forbid.write_text(f"{listed}\n")
    files = audit_files(planted, tmp_path)
    report = tmp_path / "report.json"
    result = run_command("genoscrub-audit", "--forbid", str(forbid), "--report", str(report), *map(str, files))
    assert result.returncode == 1, result.stderr.decode()
    found = {Path(entry["file"]).name: entry["findings"]["forbidden"]["count"] for entry in json.loads(report.read_text())["files"]}
    assert found == {"planted.sam": 3, "planted.fastq": 1, "planted.vcf": 2}
    said = (result.stdout + result.stderr + report.read_bytes()).lower()
    assert planted.lower() not in said and listed.lower().encode() not in said


def test_audit_finds_a_spelling_of_a_listed_value_in_a_name_shaped_like_a_keyed_pseudonym(tmp_path: Path) -> None:
    """Names of 24 lower-case hex digits (keyed pseudonyms) are searched only for the strings that can
    occur in them: an RRN listed with its hyphen occurs there as digits only, one of its spellings."""
    sam = tmp_path / "hashed.sam"
    sam.write_bytes(b"@SQ\tSN:chr1\tLN:100\n9001011234567abcdef01234\t0\tchr1\t1\t60\t4M\t*\t0\t0\tACGT\tIIII\n")
    forbid = tmp_path / "forbid.txt"
    forbid.write_text("900101-1234567\n")
    report = tmp_path / "report.json"
    result = run_command("genoscrub-audit", "--forbid", str(forbid), "--report", str(report), str(sam))
    assert result.returncode == 1, result.stderr.decode()
    assert json.loads(report.read_text())["files"][0]["findings"]["forbidden"]["by_key"] == {"QNAME (list line 1)": 1}


def test_audit_prints_no_key_holding_a_date_or_a_number(tmp_path: Path) -> None:
    """Keys off the allowlist are named in findings; one that holds a date or a record number is
    someone's data (``##KIM_19900101``), named ``(a key)`` even without a forbid list."""
    vcf = tmp_path / "keys.vcf"
    vcf.write_text(
        "\n".join(["##fileformat=VCFv4.3", "##contig=<ID=chr1,length=100>", "##KIM_19900101=x", "##MRN-1234-5678=x",
                   '##INFO=<ID=H2023000123,Number=1,Type=String,Description="x">', "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
                   "chr1\t10\t.\tA\tG\t50\tPASS\tH2023000123=x;P01012345678=1"]) + "\n"  # fmt: skip
    )
    report = tmp_path / "report.json"
    result = run_command("genoscrub-audit", "--report", str(report), str(vcf))
    assert result.returncode == 1
    said = result.stdout + result.stderr + report.read_bytes()
    for number in (b"19900101", b"1234-5678", b"2023000123", b"01012345678"):
        assert number not in said
    assert b"(a key)" in said


@settings(max_examples=200, deadline=None)
@given(text=st.binary(max_size=200), word=st.text(alphabet="abcXYZ019/-_ 김", min_size=3, max_size=8), spelled=st.integers(min_value=0))
def test_forbid_search_finds_every_spelling_and_the_plain_matches(text: bytes, word: str, spelled: int) -> None:
    """With other spellings, a list finds all that the plain case-folded search finds, and each spelling,
    at its first byte that is not a separator (where it is searched spread: long enough without them),
    or an overlapping spelling of the same line there; a spelling of digits only as a number of its
    own, not inside a longer run of digits."""
    needle = word.lower().encode()
    forms = [needle, *spellings(needle)]
    form = forms[spelled % len(forms)]
    planted = text + form + text[:5]
    listing = ForbidList([entry(word.encode(), 1)], "list", other_spellings=True)
    found = {at for _, at in listing.search_text(planted)}
    folded = planted.lower()
    plain = range(len(folded))
    expected = {at + leading_separators(needle) for at in plain if folded.startswith(needle, at) and not glued(folded, needle, at)}
    if not glued(planted, form, len(text)):
        expected.add(len(text) + leading_separators(form))
    # each found where it starts, or where an overlapping spelling of the same line starts (the
    # reversed `x00` of `00x` at 0 in `X00xX`: one hit of the line, the overlapping one not again)
    reach = max(len(spelled_form) for spelled_form in forms)
    assert all(any(abs(at - hit) < reach for hit in found) for at in expected), (expected, found)


def leading_separators(form: bytes) -> int:
    """Where a form's occurrence is reported from its start: past its separators when it is searched spread."""
    return len(form) - len(form.lstrip(SPREAD)) if len(without_separators(form)[0]) >= MIN_LENGTH else 0


def glued(text: bytes, form: bytes, at: int) -> bool:
    """Whether ``form`` at ``at`` is a number inside a longer run of digits or a dbSNP ID's: searched digits
    only (spread: without its separators), with a digit before its first searched byte or after its last,
    or ``rs`` starting a word before it."""
    spread = len(without_separators(form)[0]) >= MIN_LENGTH
    searched = without_separators(form)[0] if spread else form
    start = at + leading_separators(form)
    end = at + len(form.rstrip(SPREAD)) if spread else at + len(form)
    before = text[start - 1 : start] if start else b""
    dbsnp = start >= 2 and text[start - 2 : start].lower() == b"rs" and not (start > 2 and text[start - 3 : start - 2].isalnum())
    return searched.isdigit() and (before.isdigit() or text[end : end + 1].isdigit() or dbsnp)


AUDITED_IN_DESCRIPTIONS = ["hangul", "hangul-2", "rrn", "rrn-without-hyphen", "mrn", "mrn-hospital", "birth-date", "birth-date-compact",
                           "phone", "percent-encoded", "html-entities"]  # fmt: skip


def test_audit_finds_personal_data_in_descriptions_without_a_forbid_list(tmp_path: Path) -> None:
    """A Description or ##reference holding what vcf-scrub-header removes (text outside ASCII, seven
    digits or more, encoded text) is a metadata finding with no forbid list; the scrubbed file passes."""
    lines = [f'##INFO=<ID=X{number},Number=1,Type=String,Description="of {FORMS[form][0]}">'
             for number, form in enumerate(AUDITED_IN_DESCRIPTIONS)]  # fmt: skip
    planted = tmp_path / "planted.vcf"
    planted.write_text("\n".join([*BASE, *lines, "##reference=ref_19900101.fa", COLUMNS, RECORD]) + "\n")
    report = tmp_path / "report.json"
    result = run_command("genoscrub-audit", "--report", str(report), str(planted))
    assert result.returncode == 1
    counts = json.loads(report.read_text())["files"][0]["findings"]["metadata"]["by_key"]
    assert counts == {
        "header value ##INFO Description": len(AUDITED_IN_DESCRIPTIONS),
        "header value ##reference": 1,
        "sample name (holds personal data)": 1,  # the column's S2301217N_20231029 holds a date
    }
    assert survivors(result.stdout + result.stderr + report.read_bytes()) == []
    (tmp_path / "ids.tsv").write_text(MAP)
    scrubbed = tmp_path / "scrubbed.vcf"
    result = run_command("vcf-scrub-header", "-q", "--map", str(tmp_path / "ids.tsv"), "-o", str(scrubbed), str(planted))
    assert result.returncode == 0, result.stderr.decode()
    result = run_command("genoscrub-audit", str(scrubbed))
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


@pytest.mark.parametrize("kind", ["INFO", "FORMAT", "FILTER", "ALT"])
@pytest.mark.parametrize("form", ["rrn", "phone", "birth-date-compact", "mrn-hospital"])
def test_vcf_definition_id_holding_a_number_is_removed(kind: str, form: str, tmp_path: Path) -> None:
    """A definition whose ID is a registration, phone or record number or a date is removed from the
    header (records lose their use of it: tests/test_record_values.py)."""
    value = FORMS[form][0]
    line = {"INFO": f'##INFO=<ID={value},Number=1,Type=String,Description="x">',
            "FORMAT": f'##FORMAT=<ID={value},Number=1,Type=String,Description="x">',
            "FILTER": f'##FILTER=<ID={value},Description="x">', "ALT": f'##ALT=<ID=DEL:{value},Description="x">'}[kind]  # fmt: skip
    out, report = scrub_vcf("\n".join([*BASE, line, COLUMNS, RECORD]) + "\n", (), tmp_path)
    assert survivors(out + report, {form: FORMS[form]}) == [], out.decode(errors="replace")
    assert json.loads(report)["counts"][f"header_lines_unparseable_{kind}"] == 1
