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
from genoscrub.identifiers import IdentifierScrub
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


def test_names_stems_and_paths_replaced_in_kept_text() -> None:
    scrub = IdentifierScrub(name_replacements([b"S2301217N_20231029"], [b"CMN001_00"], {"LIB-S2301217N": "CMN001_LIB"}))
    text = b"run on s2301217n_20231029 (S2301217N) lib LIB-S2301217N from /home/kimjh/a/b.bam"
    scrubbed = scrub.scrub(text)
    assert b"2301217" not in scrubbed and b"kimjh" not in scrubbed
    assert scrubbed == b"run on CMN001_00 (CMN001_00) lib CMN001_LIB from [removed]"


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


public_ids = st.from_regex(r"(rs|COSV|COSM)[0-9]{1,9}", fullmatch=True)
private_ids = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,12}", fullmatch=True).filter(lambda s: not re.fullmatch(r"(rs|COSV|COSM)[0-9]+", s))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.one_of(public_ids, private_ids), min_size=0, max_size=3), min_size=1, max_size=20))
def test_id_column_keeps_public_ids_only_and_nothing_else_changes(id_lists: list[list[str]]) -> None:
    lines = [f"chr1\t{i + 1}\t{';'.join(ids) or '.'}\tA\tG\t.\tPASS\tDP=1\tGT\t0/1".encode() for i, ids in enumerate(id_lists)]
    out = IdScrubber().scrub(RecordBlock(1, b"".join(line + b"\n" for line in lines), "-", 10)).split(b"\n")[:-1]
    assert len(out) == len(lines)
    for before, after, ids in zip(lines, out, id_lists, strict=True):
        old, new = before.split(b"\t"), after.split(b"\t")
        assert old[:2] + old[3:] == new[:2] + new[3:]
        public = [i for i in ids if re.fullmatch(r"(rs|COSV|COSM)[0-9]+", i)]
        assert new[2] == (";".join(public) or ".").encode()


# The regex substitution the block-wise scrubber replaced: the reference for the test below.
PRIVATE_ID_COLUMN = re.compile(
    rb"(\n[^\t\n]*\t[^\t\n]*\t)(?!(?:\.|(?:(?:rs|COSV|COSM)[0-9]+;)*(?:rs|COSV|COSM)[0-9]+)\t)([^\t\n]*)"
)


def reference_scrub(text: bytes) -> bytes:
    def replace(match: re.Match[bytes]) -> bytes:
        prefix, column = match.groups()
        if b"rs" not in column and b"COS" not in column:
            return prefix + b"."
        return prefix + IdScrubber.public_ids(column)

    return PRIVATE_ID_COLUMN.sub(replace, b"\n" + text)[1:]


odd_ids = st.sampled_from(["", ".", "rs", "rs1", "rs1a", "rsx", "r", "s1", "..", "rs1;", ";rs1", "COSV", "COSM12;rs3", "rs" + "9" * 30,
                           "rs1;HOSP_1", "HOSP;COSV7", "rs12345678901234567890", "x" * 40, "rs1.2", "RS12"])


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
        # map knows) becomes its pseudonym, the date goes.
        query = "%CHROM\t%POS\t%REF\t%ALT\t%QUAL\t%FILTER\t%INFO[\t%GT]\n"
        pseudonym = dict(line.split("\t") for line in (simulated / "ids.tsv").read_text().splitlines())["S2301217N_20231029"]
        planted = b"SPECIMEN=S2301217N_20231029;CALLED=2023-10-29"
        expected = bcftools("query", "-f", query, str(source)).replace(planted, f"SPECIMEN={pseudonym};CALLED=.".encode())
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


