"""sam-scrub-rg: identifiers out of headers, read groups and names; records otherwise unchanged.

Results are checked with samtools (``pysam.samtools``, the htslib CLI) and by
comparing bytes, not only with this command's own parser.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import pysam
import pytest
from genoscrub.audit_checksums import SequenceDictionary
from genoscrub.aux_tags import TagPolicy, parse_tag_list
from genoscrub.identifiers import personal_reference_name
from genoscrub.pseudonyms import Pseudonyms
from genoscrub.report import InputError, Report
from genoscrub.sam_scrub_rg import (
    OUTSIDE_PHRED_33,
    BlockEdits,
    HeaderScrubber,
    ReadNamer,
    RecordScrubber,
    scrub_stream,
    supplementary_count,
)
from genoscrub.sequence_dict import read_sequence_dict
from genoscrub.streams import whole_line_blocks
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import BIN, run_command

COMMAND = "sam-scrub-rg"
KEY = b"test key for sam-scrub-rg, 32 b!"
OTHER_KEY = b"another key, also 32 bytes long!"


# --- helpers -----------------------------------------------------------------


def write_key(folder: Path, name: str, key: bytes) -> Path:
    path = folder / name
    path.write_bytes(key)
    path.chmod(0o600)
    return path


def samtools_text(path: Path, *options: str) -> str:
    """``samtools view -h --no-PG`` of a file: the independent decoder."""
    return str(pysam.samtools.view("-h", "--no-PG", *options, str(path)))


def header_and_records(sam: bytes) -> tuple[list[bytes], list[bytes]]:
    lines = sam.splitlines()
    return [line for line in lines if line.startswith(b"@")], [line for line in lines if not line.startswith(b"@")]


def samtools_count(sam: bytes, tmp_path: Path, name: str = "out.sam") -> int:
    """``samtools view -c`` of SAM text: it parses, and how many records it holds."""
    path = tmp_path / name
    path.write_bytes(sam)
    return int(str(pysam.samtools.view("-c", str(path))).strip())


def read_group_ids(sam: bytes) -> set[bytes]:
    header, _ = header_and_records(sam)
    return {m.group(1) for line in header if line.startswith(b"@RG") for m in [re.search(rb"\tID:([^\t]+)", line)] if m}


def rg_values(sam: bytes) -> Counter[bytes]:
    _, records = header_and_records(sam)
    return Counter(tag[5:] for line in records for tag in line.split(b"\t")[11:] if tag.startswith(b"RG:Z:"))


def scrub_in_process(sam: bytes, pseudonyms: Pseudonyms | None = None, chunk: int = 1 << 20, report: Report | None = None) -> bytes:
    """The transform without argv or files, with small chunks to cross chunk edges."""
    report = report or Report(COMMAND)
    pseudonyms = pseudonyms or Pseudonyms()
    header = HeaderScrubber(pseudonyms, "NGS", "-", report)
    records = RecordScrubber(None, "-", report)
    blocks = [sam[i : i + chunk] for i in range(0, len(sam), chunk)]
    return b"".join(scrub_stream(whole_line_blocks(blocks, "-"), header, records))


# --- the simulator's sample ----------------------------------------------------


@pytest.fixture(scope="module")
def keyed(simulated: Path) -> Path:
    """The shared simulated set with this module's two key files beside it."""
    write_key(simulated, "site.key", KEY)
    write_key(simulated, "other.key", OTHER_KEY)
    return simulated


def scrub_simulated(simulated: Path, sample: str, *options: str) -> bytes:
    """``samtools view -h --no-PG x.bam | sam-scrub-rg OPTIONS`` as the man page runs it."""
    text = samtools_text(simulated / f"{sample}.bam").encode()
    result = run_command(COMMAND, *options, input=text, cwd=simulated)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def test_simulated_output_keeps_no_planted_identifier(keyed: Path) -> None:
    out = scrub_simulated(keyed, "tumour", "--map", "ids.tsv", "--names", "--key-file", "site.key", "-q")
    forbidden = [line for line in (keyed / "forbidden.txt").read_text().splitlines() if line]
    assert forbidden
    leaked = [word for word in forbidden if word.encode() in out]
    assert leaked == []


def test_simulated_header_is_what_the_guideline_asks(simulated: Path) -> None:
    out = scrub_simulated(simulated, "tumour", "--map", "ids.tsv", "-q")
    header, _ = header_and_records(out)
    read_groups = [line for line in header if line.startswith(b"@RG")]
    assert read_groups == [
        b"@RG\tID:CMT001_00.L1\tSM:CMT001_00\tLB:CMT001_LIB\tPU:NGS\tPL:ILLUMINA",
        b"@RG\tID:CMT001_00.L2\tSM:CMT001_00\tLB:CMT001_LIB\tPU:NGS\tPL:ILLUMINA",
    ]
    assert [line for line in header if line.startswith(b"@PG")] == [
        b"@PG\tID:sam-scrub-rg\tPN:genoscrub\tVN:" + __import__("genoscrub").__version__.encode()
    ]
    assert not [line for line in header if line.startswith(b"@CO")]
    assert all(b"UR:" not in line for line in header if line.startswith(b"@SQ"))
    assert all(b"M5:" in line for line in header if line.startswith(b"@SQ"))


def hits_within_references(tag: bytes, lengths: dict[bytes, int]) -> bool:
    """An ``XA:Z`` tag whose every hit lies on a reference of the header (the simulator draws
    XA positions up to 1,000,000 on references of 20 kb: most lie past the end)."""
    hits = [hit.split(b",") for hit in tag[5:].split(b";")[:-1]]
    return all(name in lengths and 1 <= int(position[1:]) <= lengths[name] for name, position, *_ in hits)


def test_simulated_records_pass_unchanged_but_for_rg_and_pg(simulated: Path, tmp_path: Path) -> None:
    """RG:Z rewritten, PG:Z removed, and XA:Z removed where a hit lies past its reference's end;
    every other tag as it was."""
    original = samtools_text(simulated / "tumour.bam").encode()
    out = scrub_simulated(simulated, "tumour", "--map", "ids.tsv", "-q")
    header, before = header_and_records(original)
    _, after = header_and_records(out)
    assert len(after) == len(before)
    lengths = {m.group(1): int(m.group(2)) for line in header for m in [re.search(rb"\tSN:([^\t]+)\tLN:([0-9]+)", line)] if m}
    table = dict(line.split("\t") for line in (simulated / "ids.tsv").read_text().splitlines())
    changed = 0
    for old, new in zip(before, after, strict=True):
        fields = old.split(b"\t")
        expected_tags = [
            b"RG:Z:" + table[tag[5:].decode()].encode() if tag.startswith(b"RG:Z:") else tag
            for tag in fields[11:]
            if not tag.startswith(b"PG:Z:") and (not tag.startswith(b"XA:Z:") or hits_within_references(tag, lengths))
        ]
        assert new == b"\t".join(fields[:11] + expected_tags)
        changed += old != new
    assert changed == len(before)  # every simulated record has an RG:Z
    # independent: samtools parses it, same count, every RG:Z value has its @RG
    assert samtools_count(out, tmp_path) == len(before)
    assert set(rg_values(out)) <= read_group_ids(out)


def test_sample_name_equals_the_vcf_pseudonym(keyed: Path) -> None:
    """SM here must be the VCF sample name vcf-scrub-header gives with the same map or key."""
    for options in (["--map", "ids.tsv"], ["--key-file", "site.key"]):
        out = scrub_simulated(keyed, "tumour", *options, "-q")
        samples = {m.group(1) for m in re.finditer(rb"\tSM:([^\t\n]+)", out)}
        pseudonyms = Pseudonyms(
            map_path=keyed / "ids.tsv" if "--map" in options else None,
            key_path=keyed / "site.key" if "--key-file" in options else None,
        )
        assert samples == {pseudonyms.for_id("S2301217T_20231029").encode()}
        vcf = run_command("vcf-scrub-header", *options, "somatic.vcf.gz", cwd=keyed)
        if vcf.returncode == 0:  # the VCF command may land after this one
            columns = next(line for line in vcf.stdout.splitlines() if line.startswith(b"#CHROM")).split(b"\t")
            assert next(iter(samples)) in columns[9:]


def test_fastq_and_bam_scrubbed_with_one_key_stay_joinable(keyed: Path) -> None:
    """fastq-scrub-names and --names hash the same template name: the key holder can join them."""
    bam = scrub_simulated(keyed, "tumour", "--names", "--key-file", "site.key", "-q")
    bam_names = {line.split(b"\t", 1)[0] for line in header_and_records(bam)[1]}
    fastq = run_command("fastq-scrub-names", "--key-file", "site.key", "-q", "tumour_R1.fastq.gz", cwd=keyed)
    assert fastq.returncode == 0, fastq.stderr.decode()
    fastq_names = {line[1:].split(b" ")[0] for line in fastq.stdout.splitlines()[0::4]}
    assert fastq_names and fastq_names <= bam_names
    other = scrub_simulated(keyed, "tumour", "--names", "--key-file", "other.key", "-q")
    assert fastq_names.isdisjoint(line.split(b"\t", 1)[0] for line in header_and_records(other)[1])


@pytest.mark.parametrize("scheme", [["--key-file", "site.key"], []], ids=["key", "counter"])
def test_names_are_one_to_one_with_templates(keyed: Path, scheme: list[str], tmp_path: Path) -> None:
    """Both mates, supplementary records, far apart in a sorted file: one new name per template."""
    original = samtools_text(keyed / "tumour.bam").encode()
    out = scrub_simulated(keyed, "tumour", "--names", *scheme, "--report", str(tmp_path / "r.json"), "-q")
    pairs = set(
        zip(
            (line.split(b"\t", 1)[0] for line in header_and_records(original)[1]),
            (line.split(b"\t", 1)[0] for line in header_and_records(out)[1]),
            strict=True,
        )
    )
    old_names = {old for old, _ in pairs}
    new_names = {new for _, new in pairs}
    assert len(pairs) == len(old_names) == len(new_names)
    assert old_names.isdisjoint(new_names)
    report = json.loads((tmp_path / "r.json").read_text())
    if not scheme:
        # the table of open templates stays small and ends empty: every mate was seen
        assert report["open_templates_at_end"] == 0
        assert report["open_templates_peak"] < len(old_names) // 4


def test_bam_in_bam_out(simulated: Path, tmp_path: Path) -> None:
    """BAM on stdin is detected by its magic bytes; --output-fmt bam writes a BAM samtools accepts."""
    out = tmp_path / "out.bam"
    bam = (simulated / "normal.bam").read_bytes()
    result = run_command(COMMAND, "-q", "--map", "ids.tsv", "-O", "bam", "-o", str(out), input=bam, cwd=simulated)
    assert result.returncode == 0, result.stderr.decode()
    pysam.samtools.quickcheck(str(out))
    as_sam = scrub_simulated(simulated, "normal", "--map", "ids.tsv", "-q")
    assert header_and_records(samtools_text(out).encode())[1] == header_and_records(as_sam)[1]
    assert b"CMN001_00" in samtools_text(out, "-H").encode()


def test_report_counts_and_no_identifiers(simulated: Path, tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    scrub_simulated(simulated, "tumour", "--map", "ids.tsv", "--report", str(report_path), "-q")
    text = report_path.read_text()
    report = json.loads(text)
    records = int(str(pysam.samtools.view("-c", str(simulated / "tumour.bam"))).strip())
    assert report["counts"]["records"] == records
    assert report["counts"]["rg_tags_rewritten"] == records
    assert report["counts"]["pg_header_lines_removed"] >= 2
    assert report["counts"]["co_header_lines_removed"] == 1
    assert "S2301217" not in text and "kimjh" not in text


def test_closed_pipe_ends_quietly(simulated: Path, tmp_path: Path) -> None:
    """``| head -1`` on more output than a pipe holds: exit 141, nothing on stderr."""
    header, records = header_and_records(samtools_text(simulated / "tumour.bam").encode())
    big = tmp_path / "big.sam"
    big.write_bytes(b"\n".join(header + records * 20) + b"\n")
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    with big.open("rb") as source, subprocess.Popen([str(BIN / COMMAND)], stdin=source, **pipes) as process:  # type: ignore[call-overload]
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline().startswith(b"@HD")
        process.stdout.close()
        stderr = process.stderr.read()
        assert process.wait(timeout=120) == 141
    assert stderr == b""


def test_output_file_gzip(simulated: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.sam.gz"
    result = run_command(COMMAND, "-q", "-o", str(out), str(simulated / "normal.bam"))
    assert result.returncode == 0, result.stderr.decode()
    assert gzip.decompress(out.read_bytes()).startswith(b"@HD")


# --- corpus: real files, read in place ------------------------------------------


def manifest(corpus: Path) -> dict[str, dict[str, str]]:
    lines = (corpus / "MANIFEST.tsv").read_text().splitlines()
    names = lines[0].split("\t")
    return {row["file"]: row for row in (dict(zip(names, line.split("\t"), strict=False)) for line in lines[1:])}


def alignment_files(category: str) -> list[str]:
    from tests.conftest import corpus_dir

    folder = corpus_dir()
    if folder is None:
        return []
    return sorted(
        f"{category}/{path.name}"
        for path in (folder / category).iterdir()
        if path.suffix in (".sam", ".bam", ".cram", ".gz") or path.name.endswith(".donottest")
    )


def reference_options(corpus: Path, row: dict[str, str]) -> list[str]:
    matched = row.get("matched_reference", "").split("|")[0]
    return ["-T", str(corpus / "ref" / matched)] if matched else []


def independent_text(corpus: Path, name: str, options: list[str]) -> bytes | None:
    """The input as samtools decodes it, or None if samtools cannot."""
    try:
        return str(pysam.samtools.view("-h", "--no-PG", *options, str(corpus / name), catch_stdout=True)).encode()
    except pysam.utils.SamtoolsError:
        return None


def undeclared_read_group(text: bytes) -> bool:
    return not set(rg_values(text)) <= read_group_ids(text)


def scrub_or_error(text: bytes, report: Report | None = None) -> bytes | InputError:
    try:
        return scrub_in_process(text, report=report)
    except InputError as error:
        return error


@pytest.mark.parametrize("one_by_one", ["", "1"])
@pytest.mark.parametrize("columns", [3, 11, 14])
def test_a_header_line_among_records_is_refused_with_its_line(columns: int, one_by_one: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found from the located line starts (a line with the 11 columns) or by the search (fewer): the same line."""
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
    record = b"r1\t0\tchr1\t1\t60\t1M\t*\t0\t0\tA\t@"
    stray = b"\t".join([b"@CO"] + [b"x"] * (columns - 1))
    text = b"@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:100\n" + record + b"\n" + record + b"\n" + stray + b"\n" + record + b"\n"
    error = scrub_or_error(text)
    assert isinstance(error, InputError)
    assert (error.message, error.line) == ("header line after the first record", 5)


@pytest.mark.parametrize("one_by_one", ["", "1"])
@pytest.mark.parametrize(("column", "name"), [(9, "SEQ"), (10, "QUAL")])
def test_a_seq_or_qual_holding_bytes_outside_ascii_is_refused_with_its_line(
    column: int, name: str, one_by_one: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Red team 7 F8: a BAM's qualities over 93 print as bytes outside ASCII, which spelled a name
    in UTF-8 (``김지현``) copied into the SAM text; no base code or Phred+33 quality is one. A UTF-8
    value of an aux tag is no error here (its rules remove it)."""
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
    record = [b"r1", b"0", b"chr1", b"1", b"60", b"4M", b"*", b"0", b"0", b"ACGT", b"IIII", "CO:Z:김".encode()]
    planted = list(record)
    planted[column] = "A김".encode() if column == 9 else "I김".encode()
    text = b"@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:100\n" + b"\t".join(record) + b"\n" + b"\t".join(planted) + b"\n"
    error = scrub_or_error(text)
    assert isinstance(error, InputError)
    assert (error.message, error.line) == (f"{name} {OUTSIDE_PHRED_33}", 4)
    assert not isinstance(scrub_or_error(text.rsplit(b"\n", 2)[0] + b"\n"), InputError)


@pytest.mark.parametrize("one_by_one", ["", "1"])
@pytest.mark.parametrize(("column", "name"), [(9, "SEQ"), (10, "QUAL")])
@pytest.mark.parametrize("planted", [b"\x01", b"\x1f", b"\x7f", b"\x0b", b"\r", b"\x00"], ids=repr)
def test_a_seq_or_qual_holding_a_control_byte_is_refused_with_its_line(
    column: int, name: str, planted: bytes, one_by_one: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Red team 9 A1: a BAM's qualities 224 to 254 print as control bytes (0x01 to 0x1F) and 94 as
    0x7F; they passed into output samtools cannot read. SEQ and QUAL hold printable ASCII only, on
    both paths, whatever tags the line has (``*`` passes; a blank, which hts-specs' qual.fail1.sam
    holds, passes too, and the audit finds it)."""
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
    record = [b"r1", b"0", b"chr1", b"1", b"60", b"4M", b"*", b"0", b"0", b"ACGT", b"!I~I"]
    planted_record = list(record)
    planted_record[column] = record[column][:2] + planted + record[column][3:]
    header = b"@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:100\n"
    for tags in ([], [b"NM:i:0"]):
        text = header + b"\t".join(record + tags) + b"\n" + b"\t".join(planted_record + tags) + b"\n"
        error = scrub_or_error(text)
        assert isinstance(error, InputError)
        assert (error.message, error.line) == (f"{name} {OUTSIDE_PHRED_33}", 4)
    blank = list(record)
    blank[column] = record[column][:2] + b" " + record[column][3:]
    assert not isinstance(scrub_or_error(header + b"\t".join(blank) + b"\n"), InputError)
    unplaced = [b"r2", b"4", b"*", b"0", b"0", b"*", b"*", b"0", b"0", b"*", b"*"]
    assert not isinstance(scrub_or_error(header + b"\t".join(record) + b"\n" + b"\t".join(unplaced) + b"\n"), InputError)


MATE_HEADER = b"@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:5000\n@SQ\tSN:chr2\tLN:5000\n@SQ\tSN:big\tLN:3000000\n"


@pytest.mark.parametrize("one_by_one", ["", "1"])
def test_a_mate_placed_past_its_contig_loses_its_place(one_by_one: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 9 A2: PNEXT was held to nothing (htslib's range.bam, its header cut, names mates
    far past it), so ``PNEXT 19900101`` on a contig of 5000 passed. A PNEXT past twice its contig's
    LN (RNEXT's; ``=`` the record's own) and a read makes the mate's place unavailable (``*``, 0, 0)
    and its MC goes, on both paths, in a block of records that pass as they were; OP and CP past
    twice RNAME's LN and a read go as values off their grammar."""
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
    records = [
        b"r1\t97\tchr1\t100\t60\t10M\t=\t19900101\t19900011\tACGTACGTAC\tIIIIIIIIII\tMC:Z:10M\tNM:i:0",
        b"r2\t97\tchr1\t100\t60\t10M\tchr2\t10010\t0\tACGTACGTAC\tIIIIIIIIII",  # at the bound: kept
        b"r3\t97\tchr1\t100\t60\t10M\tchr2\t10011\t0\tACGTACGTAC\tIIIIIIIIII",
        b"r4\t97\tchr1\t100\t60\t10M\tbig\t2894519\t0\tACGTACGTAC\tIIIIIIIIII\tMC:Z:10M",
        b"r5\t0\tchr1\t100\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\tOP:i:19900101\tOC:Z:10M\tCP:i:10010",
        b"r6\t0\tchr1\t100\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\tOP:i:10010\tCP:i:10011",
    ]
    report = Report(COMMAND)
    out = scrub_or_error(MATE_HEADER + b"".join(record + b"\n" for record in records), report)
    assert isinstance(out, bytes)
    lines = [line.split(b"\t") for line in out.splitlines() if not line.startswith(b"@")]
    assert lines[0][6:9] == [b"*", b"0", b"0"] and lines[0][11:] == [b"NM:i:0"]
    assert lines[1][6:8] == [b"chr2", b"10010"]
    assert lines[2][6:9] == [b"*", b"0", b"0"]
    assert lines[3][6:8] == [b"big", b"2894519"] and lines[3][11:] == [b"MC:Z:10M"]
    assert lines[4][11:] == [b"OC:Z:10M", b"CP:i:10010"]
    assert lines[5][11:] == [b"OP:i:10010"]
    assert report.counts["mate_places_cleared"] == 2
    assert b"19900101" not in out


def test_htslibs_range_bam_passes_with_its_far_mates_unplaced(corpus: Path) -> None:
    """The corpus file whose header was cut to 5000 bases per contig: its three mates placed at 1.1
    and 2.9 million lose their place, on both paths alike, and nothing is refused."""
    outputs = []
    for one_by_one in ("", "1"):
        result = subprocess.run(
            [str(BIN / "sam-scrub-rg"), str(corpus / "sam/htslib__range.bam")],
            capture_output=True, env={**os.environ, "GENOSCRUB_ONE_BY_ONE": one_by_one}, timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr.decode()
        assert b"mate places cleared 3" in result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]


@settings(max_examples=60, deadline=None)
@given(quality=st.binary(min_size=4, max_size=4), tags=st.booleans())
def test_the_block_and_one_record_paths_refuse_the_same_qualities(quality: bytes, tags: bool) -> None:
    """Any four QUAL bytes: refused alike in bulk and one record at a time, exactly when one is a
    control byte or outside ASCII (a tab or newline among them makes another field or record: left
    to the other checks)."""
    if b"\t" in quality or b"\n" in quality:
        return
    record = b"r1\t0\tchr1\t1\t60\t4M\t*\t0\t0\tACGT\t" + quality + (b"\tNM:i:0" if tags else b"") + b"\n"
    text = b"@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:100\n" + record
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", "")
        bulk = scrub_or_error(text)
        monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", "1")
        single = scrub_or_error(text)
    refused = any(byte < ord(" ") or byte > ord("~") for byte in quality)
    assert isinstance(bulk, InputError) is refused and isinstance(single, InputError) is refused
    if refused:
        assert isinstance(bulk, InputError) and isinstance(single, InputError)
        assert (bulk.message, bulk.line) == (single.message, single.line) == (f"QUAL {OUTSIDE_PHRED_33}", 3)


def parses(sam: bytes, tmp_path: Path) -> int | None:
    """``samtools view -c`` of SAM text, or None when samtools rejects it."""
    try:
        return samtools_count(sam, tmp_path)
    except pysam.utils.SamtoolsError:
        return None


@pytest.mark.parametrize("name", alignment_files("sam"))
def test_corpus_file_scrubbed_and_parses(corpus: Path, name: str, tmp_path: Path) -> None:
    """Each real file, as samtools decodes it: scrubbed, still parses, same records, RG:Z declared.

    In process (the command's own I/O is covered by the golden cases and the
    BAM/CRAM tests below), so 180 files take seconds.
    """
    original = independent_text(corpus, name, reference_options(corpus, manifest(corpus)[name]))
    if original is None:
        pytest.skip("samtools cannot decode this file either")
    out = scrub_or_error(original)
    if isinstance(out, InputError):
        # the refusals of a file samtools reads: an RG:Z naming no @RG line, and an @SQ name holding
        # a path or an address (hts-specs' name of every character the grammar allows: / and @)
        if out.message.startswith("@SQ SN holds"):
            names = [field[3:] for line in original.splitlines() if line.startswith(b"@SQ") for field in line.split(b"\t")]
            assert any(personal_reference_name(name) for name in names if name)
            return
        assert out.message == "RG:Z names a read group with no @RG header line"
        assert undeclared_read_group(original)
        return
    header, records = header_and_records(out)
    assert [line for line in header if line.startswith((b"@PG", b"@CO"))] == [header[-1]]
    assert set(rg_values(out)) <= read_group_ids(out)
    assert len(records) == len(header_and_records(original)[1])
    expected = parses(original, tmp_path)
    if expected is not None:  # htslib may not read its own text back (e.g. a negative PNEXT)
        assert parses(out, tmp_path) == expected


# The kept tag values of the corpus that are off their grammar, by file and tag, and why: every
# other value of a kept tag in the corpus is kept.
CORPUS_VALUES_OFF_GRAMMAR = {
    # MD strings written wrong on purpose ("MD incorrect fields"): they do not describe the alignment
    "sam/htslib__xx#MD2.sam": {"MD": 6},
    # reference excerpts: @SQ LN cut to 686 bp (and to 5000 bp for range), hits kept at their
    # original positions, past the cut; the CRAM's MD is rebuilt by htslib against the cut
    # reference and no longer describes its CIGAR
    "sam/bcftools__indel-AD.1.bam": {"SA": 2},
    "sam/bcftools__indel-AD.1.sam": {"SA": 2},
    "sam/bcftools__indel-AD.1.cram": {"SA": 2, "MD": 1},
    "sam/htslib__range.bam": {"XA": 11},
    # an excerpt cut to 147 bp: mates at PNEXT 90 to 119 whose MC runs past the cut (MC is held
    # within LN, as SA and XA hits are)
    "sam/bcftools__annot-NMBZ.1.bam": {"MC": 6},
    "sam/htslib__range.cram": {"XA": 11},
    # an excerpt cut to 757 bp: OP keeps the reads' original places on the whole chromosome
    # (129,697,611), past twice the cut (OP and CP are held as POS is)
    "sam/htslib__small.bam": {"OP": 2},
    # samtools' merge tests write XA:Z:abc, no aligner's form
    "sam/samtools__test_input_1_a.bam": {"XA": 1},
    "sam/samtools__test_input_1_a.sam": {"XA": 1},
    "sam/samtools__test_input_1_b.sam": {"XA": 1},
    "sam/samtools__test_no_pg_rg_co.sam": {"XA": 1},
}


@pytest.mark.parametrize("name", alignment_files("sam"))
def test_corpus_tag_values_are_kept_but_the_known_off_grammar(corpus: Path, name: str) -> None:
    """Real files lose no value of a kept tag that is on its grammar: the ones they lose are
    those listed, each for its reason (the grammars were fixed where the corpus showed a
    legal form: TMAP's XA:Z:map2-1, Picard's OA with an empty NM, samtools' one-letter MI)."""
    original = independent_text(corpus, name, reference_options(corpus, manifest(corpus)[name]))
    if original is None:
        pytest.skip("samtools cannot decode this file either")
    report = Report(COMMAND)
    out = scrub_or_error(original, report)
    if isinstance(out, InputError):
        return  # an undeclared read group: test_corpus_file_scrubbed_and_parses
    assert dict(report.notes["aux_tags_removed_by_value"]) == CORPUS_VALUES_OFF_GRAMMAR.get(name, {})


@pytest.mark.parametrize(
    "name", ["sam/htslib__small.bam", "sam/bcftools__indel-AD.1.cram", "sam/pysam__ex1.sam.gz", "sam/samtools__split.sam"]
)
def test_corpus_file_through_the_command(corpus: Path, name: str, tmp_path: Path) -> None:
    """The command itself on BAM, CRAM (with -T), headerless gzip SAM and an undeclared read group.
    Headerless SAM names contigs no @SQ declares: refused on its first record, as samtools
    refuses it ("no SQ lines present in the header"), without quoting the name."""
    options = reference_options(corpus, manifest(corpus)[name])
    result = run_command(COMMAND, "-q", *options, str(corpus / name))
    assert b"Traceback" not in result.stderr
    if name.endswith("ex1.sam.gz"):
        assert result.returncode == 1
        assert result.stdout == b""
        assert re.fullmatch(rb"sam-scrub-rg: \S+:1: record on a contig the header does not declare \(@SQ\)\n", result.stderr)
        return
    if name.endswith("split.sam"):
        assert result.returncode == 1
        assert result.stdout == b""
        assert re.fullmatch(rb"sam-scrub-rg: \S+:\d+: RG:Z names a read group with no @RG header line\n", result.stderr)
        return
    assert result.returncode == 0, result.stderr.decode()
    decoded = independent_text(corpus, name, options)
    expected = scrub_in_process(unset_negative_positions(decoded)) if decoded is not None else None
    if expected is not None:
        assert header_and_records(result.stdout)[1] == header_and_records(expected)[1]
    if name.endswith((".bam", ".cram")):  # decoded by our child: what it writes, samtools reads back
        assert parses(result.stdout, tmp_path) == len(header_and_records(result.stdout)[1])


def unset_negative_positions(sam: bytes) -> bytes:
    """samtools' text of a BAM, with a negative POS/PNEXT of no reference written as 0, as
    the decoder writes it (htslib cannot read such text back: htslib__small.bam has two)."""
    lines = []
    for line in sam.split(b"\n"):
        fields = line.split(b"\t")
        if len(fields) >= 11 and not line.startswith(b"@"):
            for position, reference in ((3, 2), (7, 6)):
                if fields[position].startswith(b"-") and fields[reference] == b"*":
                    fields[position] = b"0"
        lines.append(b"\t".join(fields))
    return b"\n".join(lines)


@pytest.mark.parametrize("name", alignment_files("sam-bad"))
def test_corpus_bad_file_never_passes_silently(corpus: Path, name: str, tmp_path: Path) -> None:
    """A file samtools rejects never comes out valid; one samtools reads comes out whole or is refused."""
    row = manifest(corpus)[name]
    if not name.endswith(".sam"):
        result = run_command(COMMAND, "-q", str(corpus / name))
        assert b"Traceback" not in result.stderr
        assert result.returncode in (0, 1)
        if result.returncode == 1:
            assert len(result.stderr.splitlines()) == 1
        return
    report = Report(COMMAND)
    out = scrub_or_error((corpus / name).read_bytes(), report)
    if isinstance(out, InputError):
        return  # refused with a line number: never a silent success
    htslib_rejects = row["cli_parse"].startswith("samtools view: ERROR")
    count = parses(out, tmp_path)
    if htslib_rejects and (report.counts["aux_tags_removed"] or report.counts["aux_values_removed"]):
        return  # the fault was in a tag off the allowlist or a value off its grammar: dropped and counted
    if htslib_rejects:
        assert count is None, "a file samtools rejects came out valid"
    elif count is not None:
        assert count == len(header_and_records((corpus / name).read_bytes())[1])


# --- units and properties ------------------------------------------------------


def test_header_lines_after_records_are_refused_across_chunks() -> None:
    sam = b"@RG\tID:a\tSM:s\n" + b"r\t4\t*\t0\t0\t*\t*\t0\t0\tA\tI\tRG:Z:a\n" * 50 + b"@CO\tlate\n"
    with pytest.raises(InputError) as caught:
        scrub_in_process(sam, chunk=37)
    assert caught.value.line == 52


def test_unknown_read_group_found_in_any_chunk() -> None:
    sam = b"@RG\tID:a\tSM:s\n" + b"r\t4\t*\t0\t0\t*\t*\t0\t0\tA\tI\tRG:Z:a\n" * 40 + b"r\t4\t*\t0\t0\t*\t*\t0\t0\tA\tI\tRG:Z:ab\n"
    with pytest.raises(InputError) as caught:
        scrub_in_process(sam, chunk=64)
    assert caught.value.line == 42
    assert "ab" not in caught.value.message


def test_tag_like_reference_name_takes_the_exact_path() -> None:
    """An @SQ name such as ``RG:Z:a`` must not be rewritten as if it were a tag."""
    sam = b"@SQ\tSN:RG:Z:a\tLN:10\n@RG\tID:a\tSM:s\nr\t0\tRG:Z:a\t1\t0\t1M\t*\t0\t0\tA\tI\tRG:Z:a\n"
    out = scrub_in_process(sam)
    assert out.splitlines()[-1] == b"r\t0\tRG:Z:a\t1\t0\t1M\t*\t0\t0\tA\tI\tRG:Z:SAMPLE1"


MANDATORY_AFTER_QNAME = b"0\tchr1\t1\t60\t4M\t*\t0\t0\tACGT\tIIII"


@pytest.mark.parametrize(
    ("tags", "count"),
    [
        (b"", 0),
        (b"\tSA:Z:chr2,5,+,2S2M,60,0;", 1),
        (b"\tSA:Z:chr2,5,+,2S2M,60,0;chr3,9,-,2M2S,60,1;\tNM:i:0", 2),
        (b"\tNM:i:0\tSA:Z:chr2,5,+,2S2M,60,0", 1),
    ],
)
def test_supplementary_count(tags: bytes, count: int) -> None:
    assert supplementary_count(MANDATORY_AFTER_QNAME + tags) == count


def test_supplementary_count_never_reads_qual() -> None:
    """A QUAL that reads ``SA:Z:...`` is not a tag."""
    assert supplementary_count(b"0\tchr1\t1\t60\t5M\t*\t0\t0\tACGTA\tSA:Z:") == 0


def test_public_key_file_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "public.key"
    key.write_bytes(KEY)
    key.chmod(0o644)
    result = run_command(COMMAND, "--key-file", str(key), input=b"@HD\tVN:1.6\n")
    assert result.returncode == 2
    assert b"chmod 600" in result.stderr


def test_map_out_links_every_assigned_pseudonym(tmp_path: Path) -> None:
    links = tmp_path / "links.tsv"
    sam = b"@RG\tID:L1\tSM:PATIENT\tLB:LIB\nr1\t4\t*\t0\t0\t*\t*\t0\t0\tA\tI\tRG:Z:L1\n"
    result = run_command(COMMAND, "-q", "--names", "--map-out", str(links), input=sam)
    assert result.returncode == 0
    assert links.read_text().splitlines() == ["L1\tSAMPLE1", "PATIENT\tSAMPLE2", "LIB\tSAMPLE3", "r1\tREAD1"]
    assert links.stat().st_mode & 0o077 == 0


def test_map_out_without_read_names_links_the_header_ids_as_a_header_alone_does(tmp_path: Path) -> None:
    """--no-map-out-read-names: the IDs only, the rows the header alone gives, whatever the records."""
    key = tmp_path / "site.key"
    key.write_bytes(KEY)
    key.chmod(0o600)
    header = b"@RG\tID:L1\tSM:PATIENT\tLB:LIB\n"
    records = b"".join(b"r%d\t4\t*\t0\t0\t*\t*\t0\t0\tA\tI\tRG:Z:L1\n" % number for number in range(3))
    tables = []
    for name, sam, options in (("all", header + records, ["--no-map-out-read-names"]), ("header", header, [])):
        links = tmp_path / f"{name}.tsv"
        result = run_command(COMMAND, "-q", "--names", "--key-file", str(key), "--map-out", str(links), *options, input=sam)
        assert result.returncode == 0
        assert links.stat().st_mode & 0o077 == 0
        tables.append(links.read_text())
    assert tables[0] == tables[1]
    sample = tables[0].splitlines()[0].split("\t")[1]
    # the read group's ID and library are scoped to their sample's pseudonym (a lane is shared by patients)
    assert [line.split("\t")[0] for line in tables[0].splitlines()] == ["PATIENT", f"L1@{sample}", f"LIB@{sample}"]


READ_GROUPS = [b"rg1", b"rg10", b"HD753_S1.L001", b"x"]
KEPT = [b"NM:i:0", b"XA:Z:chr1,+5,1M,0;", b"SA:Z:RG:Z:rg1,5,+,1M,60,0;", b"tp:A:P", b"MI:i:3", b"MI:Z:7", b"MC:Z:4M"]
DROPPED = [b"XP:Z:PG:Z:bwa", b"CO:Z:RG:Z:rg1", b"XR:Z:RG", b"zz:i:1", b"SM:Z:S2301217T", b"MD:i:4", b"A!:A:!"]
VALUES_DROPPED = [b"XA:Z:RG:Z:rg1", b"SA:Z:PG:Z:bwa", b"MC:Z:S2301217T", b"NM:i:x1", b"tp:A:Q", b"OQ:Z:PG:Z:bwa"]
MD_TAGS = [b"MD:Z:%d" % length for length in range(1, 7)]  # kept where the CIGAR aligns as many bases
PROGRAM_TAGS = [b"PG:Z:bwa", b"PG:Z:MarkDuplicates", b"PG:Z:undeclared"]
TAG = st.one_of(
    st.sampled_from(READ_GROUPS).map(lambda rg: b"RG:Z:" + rg),
    st.sampled_from(PROGRAM_TAGS),
    st.sampled_from(KEPT + DROPPED + VALUES_DROPPED + MD_TAGS),
)
EVERY_TAG = [b"RG:Z:" + rg for rg in READ_GROUPS] + PROGRAM_TAGS + KEPT + DROPPED + VALUES_DROPPED + MD_TAGS + [b"RG:Z:unknown"]
"""...and a second copy of a drawn tag's name may be any of these with that name (of another type
too: MI:i and MI:Z, MD:i and MD:Z), an RG naming no read group among them (only a copy may)."""
# QUAL and RNAME that read like tags: a QUAL ``RG:Z:g`` is no tag.
QUALS = [b"I", b"RG:Z:g", b"PG:Z:b", b"CO:Z:x", b"NM:i:0"]


@st.composite
def sam_files(draw: st.DrawFn) -> bytes:
    header = [b"@HD\tVN:1.6", b"@SQ\tSN:chr1\tLN:100", b"@SQ\tSN:RG:Z:rg1\tLN:100"]
    header += [b"@RG\tID:%s\tSM:s%d\tPU:X" % (rg, i) for i, rg in enumerate(READ_GROUPS)]
    header += [b"@PG\tID:bwa\tPN:bwa", b"@PG\tID:MarkDuplicates\tPN:md"]
    records = []
    for index in range(draw(st.integers(0, 30))):
        tags = draw(st.lists(TAG, max_size=4))
        given_twice = draw(st.booleans())
        if tags and given_twice:  # a tag given twice, anywhere after its first copy
            first = draw(st.integers(0, len(tags) - 1))
            copy = draw(st.sampled_from([tag for tag in EVERY_TAG if tag[:2] == tags[first][:2]]))
            tags.insert(draw(st.integers(first + 1, len(tags))), copy)
        name = b"r%d" % draw(st.integers(0, 9))
        quality = draw(st.sampled_from(QUALS))
        sequence = b"A" * len(quality)
        contig = draw(st.sampled_from([b"chr1", b"RG:Z:rg1"]))
        fields = [name, b"0", contig, b"%d" % (index + 1), b"0", b"%dM" % len(quality), b"*", b"0", b"0", sequence, quality]
        records.append(b"\t".join([*fields, *tags]))
    return b"\n".join(header + records) + b"\n"


def reference_scrub(sam: bytes, table: dict[bytes, bytes]) -> list[bytes]:
    """What the records must become, written the slow, obvious way."""
    _, records = header_and_records(sam)
    result = []
    for line in records:
        fields = line.split(b"\t")
        aligned = b"MD:Z:" + fields[5][:-1]  # the CIGAR is nM
        first_copies = [t for i, t in enumerate(fields[11:]) if t[:2] not in [u[:2] for u in fields[11 : 11 + i]]]
        kept = [t for t in first_copies if t in KEPT or t == aligned or t.startswith(b"RG:Z:")]
        tags = [b"RG:Z:" + table[t[5:]] if t.startswith(b"RG:Z:") else t for t in kept]
        result.append(b"\t".join(fields[:11] + tags))
    return result


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sam=sam_files(), chunk=st.integers(1, 400))
def test_records_change_only_in_rg_and_pg_tags(sam: bytes, chunk: int) -> None:
    """Any chunking, any tag order, tags that look like others: same result as the obvious code."""
    out = scrub_in_process(sam, chunk=chunk)
    table = {rg: b"SAMPLE%d" % (2 * i + 1) for i, rg in enumerate(READ_GROUPS)}
    assert header_and_records(out)[1] == reference_scrub(sam, table)


@settings(max_examples=100, deadline=None)
@given(sam=sam_files(), extra=st.sampled_from([0, 12, 40]))
def test_fast_path_agrees_with_exact_path_however_many_read_groups(sam: bytes, extra: int) -> None:
    """RG:Z tags matched against a few @RG lines' tags one by one, or by their distinct values
    with many @RG lines: the exact path's bytes and counts, tag by tag, either way."""
    head, records = header_and_records(sam)
    head += [b"@RG\tID:extra%d\tSM:e%d" % (i, i) for i in range(extra)]
    report = Report(COMMAND)
    header = HeaderScrubber(Pseudonyms(), "NGS", "-", report)
    header.scrub(head)
    chunk = b"".join(line + b"\n" for line in records)
    outputs = []
    for fast in (True, False):
        report = Report(COMMAND)
        scrubber = RecordScrubber(None, "-", report)
        scrubber.use_header(header)
        out = scrubber.scrub_block(chunk) if fast else scrubber.scrub_by_field(chunk, 1)
        if out is None:
            return
        outputs.append((out, report.as_dict()))
    assert outputs[0] == outputs[1]


# Names the block path must rename as the one-record path does: unnamed (``*``, empty),
# planted identifiers, mates sharing a name, bytes that are not UTF-8, one the map lists.
QNAMES = [b"r1", b"r2", b"*", b"", b"S2301217T", b"HD753_S1:1:FC:7", b"r\xff", b"mapped"]


@pytest.mark.slow  # a long sweep of the bulk path against the one-record path: make test-slow (CI runs it after make test)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sam=sam_files(), names=st.lists(st.sampled_from(QNAMES), min_size=30, max_size=30), crlf=st.booleans(),
       chunk=st.integers(1, 400), mapped=st.booleans())  # fmt: skip
def test_block_path_with_names_agrees_with_the_one_record_path(
    sam: bytes, names: list[bytes], crlf: bool, chunk: int, mapped: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keyed (and mapped) read names with the tags edited in the same splice: the bytes, the
    report and the --map-out lines of the one-record path, on records with and without tags."""
    head, records = header_and_records(sam)
    records = [name + line[line.index(b"\t") :] for name, line in zip(names, records, strict=False)]
    end = b"\r\n" if crlf else b"\n"
    sam = b"".join(line + end for line in head + records)
    key = write_key(tmp_path, "site.key", KEY)
    table = tmp_path / "ids.tsv"
    table.write_text("mapped\tREADMAPPED\nrg1\tRGONE\n")
    results = []
    for switch in ("", "1"):
        monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", switch)
        map_out = tmp_path / f"links{switch}.tsv"
        pseudonyms = Pseudonyms(table if mapped else None, key, map_out)
        report = Report(COMMAND)
        header = HeaderScrubber(pseudonyms, "NGS", "-", report)
        scrubber = RecordScrubber(ReadNamer(pseudonyms, "-", report), "-", report)
        blocks = [sam[i : i + chunk] for i in range(0, len(sam), chunk)]
        out = b"".join(scrub_stream(whole_line_blocks(blocks, "-"), header, scrubber))
        pseudonyms.close()
        data = report.as_dict()
        exact = data.pop("chunks_checked_field_by_field", 0)
        assert (exact > 0) == (switch == "1" and bool(records))  # the block path took every block
        results.append((out, data, map_out.read_bytes()))
    assert results[0] == results[1]
    assert b"S2301217T" not in results[0][0] and b"HD753_S1:1" not in results[0][0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sam=sam_files())
def test_output_parses_with_samtools(sam: bytes, tmp_path: Path) -> None:
    out = scrub_in_process(sam)
    assert samtools_count(out, tmp_path) == len(header_and_records(sam)[1])
    assert set(rg_values(out)) <= read_group_ids(out)


@st.composite
def shuffled_templates(draw: st.DrawFn) -> tuple[list[bytes], int]:
    """Records of several templates (mates, supplementary records listed in SA:Z) in any order."""
    lines = []
    count = draw(st.integers(1, 12))
    for template in range(count):
        name = b"M04123:1:FC:1:1101:%d:7" % template
        paired = draw(st.booleans())
        for mate in range(2 if paired else 1):
            supplementaries = draw(st.integers(0, 2))
            flag = (0x1 | (0x40 if mate == 0 else 0x80)) if paired else 0
            sa = b"\tSA:Z:" + b"chr1,5,+,2S2M,60,0;" * supplementaries if supplementaries else b""
            lines.append(b"%s\t%d\tchr1\t1\t60\t4M\t*\t0\t0\tACGT\tIIII%s" % (name, flag, sa))
            lines += [b"%s\t%d\tchr1\t9\t60\t2H2M\t*\t0\t0\tGT\tII\tSA:Z:chr1,1,+,4M,60,0;" % (name, flag | 0x800)] * supplementaries
    return draw(st.permutations(lines)), count


@settings(max_examples=100, deadline=None)
@given(records=shuffled_templates(), chunk=st.integers(1, 5))
def test_counter_names_follow_templates_in_any_order(records: tuple[list[bytes], int], chunk: int) -> None:
    from genoscrub.sam_scrub_rg import CountingReadNamer

    lines, templates = records
    namer = CountingReadNamer(Pseudonyms(), "-", Report(COMMAND))
    renamed: list[bytes] = []
    for start in range(0, len(lines), chunk):
        block = b"".join(line + b"\n" for line in lines[start : start + chunk])
        renamed += namer.rename(block, start + 1).splitlines()
    pairs = {(old.split(b"\t")[0], new.split(b"\t")[0]) for old, new in zip(lines, renamed, strict=True)}
    assert len(pairs) == len({old for old, _ in pairs}) == len({new for _, new in pairs}) == templates
    assert all(old.split(b"\t", 1)[1] == new.split(b"\t", 1)[1] for old, new in zip(lines, renamed, strict=True))
    assert namer.open_templates == {}


@pytest.mark.parametrize(
    ("sam", "secret"),
    [
        (b"@RG\tID:rg1\tSM:PATIENT_KIM\nr\t4\t*\t0\t0\t*\t*\t0\t0\tA\tI\tRG:Z:PATIENT_KIM_RG\n", b"PATIENT_KIM"),
        (b"@RG\tID:PATIENT_KIM\tSM:x\n@RG\tID:PATIENT_KIM\tSM:y\n", b"PATIENT_KIM"),
        (b"@SQ\tSN:PATIENT_KIM\tLN:1\tLN:2\n", b"PATIENT_KIM"),
        (b"@RG\tID:x\tSM:S1\nPATIENT_KIM\t4\t*\t0\t0\t*\t*\t0\t0\tA\tI\n@CO\tPATIENT_KIM\n", b"PATIENT_KIM"),
    ],
)
def test_errors_never_quote_identifiers(sam: bytes, secret: bytes) -> None:
    result = run_command(COMMAND, input=sam)
    assert result.returncode == 1
    assert secret not in result.stderr
    assert result.stderr.count(b"\n") == 1


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b"")), max_size=20),
    crlf=st.booleans(),
    final_newline=st.booleans(),
    sizes=st.lists(st.integers(1, 50), min_size=1, max_size=10),
)
def test_whole_line_chunks_rejoin_to_the_input(lines: list[bytes], crlf: bool, final_newline: bool, sizes: list[int]) -> None:
    """Any block boundaries: whole lines, LF line ends, a last newline added, line numbers that add up."""
    end = b"\r\n" if crlf else b"\n"
    data = end.join(lines) + (end if final_newline and lines else b"")
    blocks, position, index = [], 0, 0
    while position < len(data):
        size = sizes[index % len(sizes)]
        blocks.append(data[position : position + size])
        position, index = position + size, index + 1
    chunks = list(whole_line_blocks(blocks, "-"))
    expected = data.replace(b"\r\n", b"\n")
    expected += b"\n" if expected and not expected.endswith(b"\n") else b""
    assert b"".join(chunk for _, _, chunk in chunks) == expected
    line = 1
    for first, count, chunk in chunks:
        assert chunk.endswith(b"\n") and first == line and count == chunk.count(b"\n")
        line += count


def test_the_fast_path_takes_ordinary_blocks_and_counts_like_the_exact_path() -> None:
    """Tags located by column for the whole block: no block of ordinary records needs the exact path."""
    head = [b"@SQ\tSN:chr1\tLN:100", b"@RG\tID:a\tSM:s", b"@PG\tID:bwa\tPN:bwa"]
    body = b"r\t0\tchr1\t1\t60\t1M\t*\t0\t0\tA\tI\tNM:i:0\tRG:Z:a\tPG:Z:bwa\tXY:Z:lab\tCO:Z:Kim\n" * 50
    reports = []
    for fast in (True, False):
        report = Report(COMMAND)
        header = HeaderScrubber(Pseudonyms(), "NGS", "-", report)
        header.scrub(head)
        scrubber = RecordScrubber(None, "-", report)
        scrubber.use_header(header)
        out = scrubber.scrub_block(body) if fast else scrubber.scrub_by_field(body, 1)
        assert out == b"r\t0\tchr1\t1\t60\t1M\t*\t0\t0\tA\tI\tNM:i:0\tRG:Z:SAMPLE1\n" * 50
        reports.append(report.as_dict())
    assert reports[0] == reports[1]
    assert reports[0]["aux_tags_removed_by_tag"] == {"XY": 50, "CO": 50}
    assert reports[0]["counts"]["pg_tags_removed"] == 50 and reports[0]["counts"]["aux_tags_removed"] == 100


# --- read-group IDs shared by samples (a lane, a pool) ----------------------------------------

LANE = b"HK2VMDSXY.2"  # GATK's FLOWCELL.LANE: every patient pooled on the lane has this @RG ID


def lane_sam(sample: bytes, lane: bytes = LANE, library: bytes | None = None, reads: range = range(4)) -> bytes:
    header = b"@SQ\tSN:chr1\tLN:1000\n@RG\tID:%s\tSM:%s\tLB:%s\tPU:%s.ACGT\tPL:ILLUMINA\n" % (lane, sample, library or b"POOL7", lane)
    records = b"".join(b"r%d\t0\tchr1\t%d\t60\t4M\t*\t0\t0\tACGT\tIIII\tRG:Z:%s\n" % (n, 10 + n, lane) for n in reads)
    return header + records


def scrubbed_rg(sam: bytes, *options: str) -> dict[str, bytes]:
    result = run_command(COMMAND, "-q", *options, input=sam)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith(b"@RG"))
    return {field[:2].decode(): field[3:] for field in line.split(b"\t")[1:]}


def test_two_samples_on_one_lane_get_two_read_group_pseudonyms(tmp_path: Path) -> None:
    """F9 (red team 4): a keyed @RG ID pseudonym of the ID alone was one for every patient of a lane,
    linking them across deliveries; scoped to the sample, patients (and a tumour and its normal)
    differ, and the same sample scrubbed again gives the same."""
    key = write_key(tmp_path, "site.key", KEY)
    first = scrubbed_rg(lane_sam(b"S2301217T_20231029"), "--key-file", str(key))
    second = scrubbed_rg(lane_sam(b"S2301388T_20231029"), "--key-file", str(key))
    normal = scrubbed_rg(lane_sam(b"S2301217N_20231029"), "--key-file", str(key))
    assert len({first["ID"], second["ID"], normal["ID"]}) == 3
    assert len({first["LB"], second["LB"], normal["LB"]}) == 3  # one pool's library: scoped too
    assert first["PU"] == second["PU"] == b"NGS" and first["PL"] == b"ILLUMINA"  # PU is a constant, PL a platform of a list
    assert scrubbed_rg(lane_sam(b"S2301217T_20231029"), "--key-file", str(key)) == first
    # the sample pseudonym stays the ID's own (it is the VCF's sample column)
    assert first["SM"] == Pseudonyms(key_path=key).for_id("S2301217T_20231029").encode()


def test_parts_of_one_bam_scrubbed_apart_get_one_read_group_and_tags_match_it(tmp_path: Path) -> None:
    """The workflow scrubs a BAM's parts in separate processes and joins them with samtools cat:
    every part (the same header) gives the same @RG ID, and every RG:Z tag names it (samtools)."""
    key = write_key(tmp_path, "site.key", KEY)
    parts = []
    for number, reads in enumerate((range(0, 3), range(3, 6))):
        result = run_command(COMMAND, "-q", "--key-file", str(key), "--names", input=lane_sam(b"S2301217T", reads=reads))
        assert result.returncode == 0, result.stderr
        path = tmp_path / f"part{number}.sam"
        path.write_bytes(result.stdout)
        parts.append(path)
    headers = [str(pysam.samtools.view("-H", "--no-PG", str(path))) for path in parts]
    assert headers[0] == headers[1]
    (identifier,) = re.findall(r"@RG\tID:(\S+)", headers[0])
    for path in parts:
        assert set(str(pysam.samtools.view("--no-PG", "--keep-tag", "RG", str(path))).split()) >= {f"RG:Z:{identifier}"}
        tags = [line.split("\t")[11:] for line in str(pysam.samtools.view("--no-PG", str(path))).splitlines()]
        assert tags and all(row == [f"RG:Z:{identifier}"] for row in tags)
        assert int(str(pysam.samtools.view("-c", "-r", identifier, str(path))).strip()) == 3  # samtools selects them by the new ID


def test_a_read_group_without_sample_is_refused_with_a_key_and_numbered_without(tmp_path: Path) -> None:
    key = write_key(tmp_path, "site.key", KEY)
    sam = b"@RG\tID:HK2VMDSXY.2\tLB:POOL7\nr1\t4\t*\t0\t0\t*\t*\t0\t0\tA\tI\tRG:Z:HK2VMDSXY.2\n"
    result = run_command(COMMAND, "--key-file", str(key), input=sam)
    assert result.returncode == 1 and result.stdout == b""
    assert result.stderr.decode().strip() == (
        "sam-scrub-rg: <stdin>:1: @RG without SM: with a key its ID needs the sample, or samples sharing it would share its pseudonym"
    )
    assert b"HK2VMDSXY" not in result.stderr
    assert scrubbed_rg(sam)["ID"] == b"SAMPLE1"  # a number of this file's order: it links nothing


def test_a_map_row_for_the_read_group_id_is_the_tables_choice(tmp_path: Path) -> None:
    """A --map row naming the ID itself is used as written (the table's author chose it); an ID the
    map lacks is hashed scoped to the sample when a key is given."""
    key = write_key(tmp_path, "site.key", KEY)
    table = tmp_path / "ids.tsv"
    table.write_text("HK2VMDSXY.2\tRUN1\nS2301217T\tCMT001_00\nS2301388T\tCMT002_00\n")
    assert scrubbed_rg(lane_sam(b"S2301217T"), "--map", str(table), "--key-file", str(key))["ID"] == b"RUN1"
    other = [
        scrubbed_rg(lane_sam(sample, lane=b"HJ7TT.1"), "--map", str(table), "--key-file", str(key))
        for sample in (b"S2301217T", b"S2301388T")
    ]
    assert other[0]["ID"] != other[1]["ID"] and other[0]["SM"] == b"CMT001_00"
    assert other[0]["ID"] == Pseudonyms(key_path=key).for_id("HJ7TT.1@CMT001_00").encode()  # the linkage row re-derives it


def test_scoped_originals_go_to_the_map_out_one_to_one(tmp_path: Path) -> None:
    key = write_key(tmp_path, "site.key", KEY)
    rows: dict[str, str] = {}
    for sample in (b"S2301217T", b"S2301388T"):
        links = tmp_path / f"{sample.decode()}.tsv"
        result = run_command(COMMAND, "-q", "--key-file", str(key), "--map-out", str(links), input=lane_sam(sample))
        assert result.returncode == 0
        for line in links.read_text().splitlines():
            original, pseudonym = line.split("\t")
            assert rows.setdefault(original, pseudonym) == pseudonym
    assert len(set(rows.values())) == len(rows) == 6  # two samples, two IDs, two libraries: no original twice
    assert sum(original.startswith("HK2VMDSXY.2@S") for original in rows) == 2


@pytest.mark.parametrize("one_by_one", ["0", "1"])
def test_a_hit_on_another_spelling_of_a_header_contig_is_kept(one_by_one: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``samtools reheader`` renames @SQ but no tag: ``SA``/``XA`` hits on ``1`` and ``MT`` in a
    ``chr1``/``chrM`` header are kept (within that contig's length), so the region and clip rules
    after this command judge them as they judge a hit on ``chr1``; a hit on a contig no spelling
    places, or past the contig's end, goes as before."""
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
    header = b"@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:20000\n@SQ\tSN:chrM\tLN:16569\n"
    values = [b"XA:Z:1,+14170,100M,0;", b"SA:Z:MT,100,+,60S40M,60,0;", b"XA:Z:chrZ,+14170,100M,0;", b"XA:Z:1,+20001,100M,0;"]
    body = b"".join(b"r%d\t0\tchr1\t100\t60\t100M\t*\t0\t0\t%s\t*\t%s\n" % (index, b"A" * 100, value) for index, value in enumerate(values))
    _, records = header_and_records(scrub_in_process(header + body))
    kept = [line.split(b"\t")[11:] for line in records]
    assert kept == [[values[0]], [values[1]], [], []]


@pytest.mark.parametrize(
    ("tags", "options"),
    [
        ("MC:Z:10M75N10M\tjI:B:i,1210,1284", ["--drop-tag", "MC"]),
        ("MC:Z:10M75N10M\tvG:B:i,1250", ["--drop-tag", "MC"]),
        ("MC:i:5\tMC:Z:10M75N10M\tjI:B:i,1210,1284", []),  # the MC:Z is a second copy of MC: it goes first
    ],
)
def test_star_junctions_are_held_to_the_mate_cigar_the_record_keeps(
    tags: str, options: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Red team 6 F4: ``jI``/``vG`` naming the mate's skip or place are tied to the ``MC`` the
    record keeps; one the command removes (``--drop-tag MC``, a later copy) ties them to nothing,
    on the bulk path as on the one-record path, and the audit accepts what is written."""
    sequence = "ACGT" * 25 + "A"
    header = "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:20000\n@RG\tID:x\tSM:S1\n"
    (tmp_path / "in.sam").write_text(header + f"q\t1\tchr1\t1000\t60\t101M\t=\t1200\t0\t{sequence}\t{'I' * 101}\tRG:Z:x\t{tags}\n")
    outputs = []
    for one_by_one in ("", "1"):
        monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
        result = run_command("sam-scrub-rg", "-q", *options, str(tmp_path / "in.sam"))
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    record = outputs[0].decode().splitlines()[-1].split("\t")
    assert not any(field.startswith(("jI:", "vG:")) for field in record[11:])
    (tmp_path / "out.sam").write_bytes(outputs[0])
    run_command("genoscrub-audit", "-q", "--report", str(tmp_path / "audit.json"), str(tmp_path / "out.sam"))
    metadata = json.loads((tmp_path / "audit.json").read_text())["files"][0]["findings"]["metadata"]
    assert not [key for key in metadata.get("by_key", {}) if " jI" in key or " vG" in key], metadata


@pytest.mark.parametrize(
    ("name", "refused"),
    [
        ("asm_KIM_19900101_ctg1", True),  # a date of birth in an assembly's contig names
        ("/home/jihoon/denovo/ctg2", True),  # a path
        ("ctg%2Fhome%2Fkimjh", True),  # the same percent-encoded
        ("S_29-OCT-2023_ctg", True),  # a date with a month's name
        ("asm&amp;ctg1", True),  # an HTML reference, as the audit finds it
        ("patient_900101-1234567", True),  # a registration number
        ("asm_900101_1234567", True),  # the same with an underscore, a dot or a colon between its halves
        ("asm_900101.1234567", True),
        ("HLA-KIM*900101:1234567", True),  # no HLA allele: its fields have 2 or 3 digits
        ("asm_1990-Jan-01", True),  # a date with a month's name, the year first
        ("asm_1990jan01", True),
        ("ctg_02-123-4567", True),  # a landline number
        ("ctg_010_1234_5678", True),  # a mobile number with underscores
        ("ctg_010~1234~5678", True),  # red team 9 B1: with tildes or bars
        ("ctg_010|1234|5678", True),
        ("ctg_1990|01|01", True),  # red team 9 B2: a date joined by a list's separator
        ("ctg_29.10.23", True),  # a date with a two-digit year
        ("asm_23_10_29", True),
        ("ctgJAN011990", True),  # a month's name written onto letters
        ("ctg_10.0.0.1", True),  # red team 9 B4: an IP address or a host, alone or written onto letters
        ("chr10.0.0.1", True),
        ("10.0.0.1", True),
        ("ctg.snuh.ac.kr", True),
        ("asm_seq01.hospital.local", True),
        ("KIM&shyJ_ctg", True),  # red team 9 B3: an invisible HTML reference without its ;
        ("KIMJ19900101", True),  # no WGS accession: its digits start with a date
        ("NC_19900101", True),  # no RefSeq accession: 8 digits
        ("contig_000000008", False),  # assemblers number contigs: leading zeros and six significant digits or fewer
        ("tig00000001", False),  # Canu's tig%08d
        ("contig_021234567", True),  # eight significant digits: a record number, as vcf-scrub-header judges a ##contig ID
        ("tig0019900101", True),  # a date behind zeros
        ("HLA-A*02:101:01", False),
        ("HLA-A*01:01:01:02N", False),
        ("NW_003315905.1", False),
        ("chrUn_JTFH01000001v1_decoy", False),
        ("HLA-DRB1*15:01:01:01", False),
        ("NC_000001.11", False),
        ("chr6_GL000251v2_alt", False),
        ("chr10", False),
        ("chrUn_KI270302v1", False),
        ("ctg_2000|10|12|15", False),
    ],
)
def test_a_reference_name_holding_personal_data_is_refused_and_found(name: str, refused: bool, tmp_path: Path) -> None:
    """Red team 6 F5: an @SQ name is copied into every record's RNAME, so sam-scrub-rg cannot drop
    it; one holding a path, an address or personal data stops the command, naming the header line
    (samtools reheader renames a BAM's references), and the audit finds it. The assemblies' and
    assemblers' names pass both."""
    sam = tmp_path / "in.sam"
    sam.write_text(f"@HD\tVN:1.6\n@SQ\tSN:{name}\tLN:1000\nREAD1\t0\t{name}\t1\t60\t4M\t*\t0\t0\tACGT\tIIII\n")
    result = run_command("sam-scrub-rg", "-q", str(sam))
    assert (result.returncode == 1) is refused, result.stderr
    if refused:
        assert len(result.stderr.splitlines()) == 1 and b":2: @SQ SN holds" in result.stderr and name.encode() not in result.stderr
    run_command("genoscrub-audit", "-q", "--report", str(tmp_path / "audit.json"), str(sam))
    metadata = json.loads((tmp_path / "audit.json").read_text())["files"][0]["findings"]["metadata"]
    assert ("reference name (holds personal data)" in metadata.get("by_key", {})) is refused, metadata


def audit_metadata(path: Path, folder: Path, *options: str) -> dict[str, int]:
    """The audit's metadata findings of a file, by key."""
    report = folder / f"{path.name}.audit.json"
    run_command("genoscrub-audit", "-q", "--report", str(report), *options, str(path))
    return dict(json.loads(report.read_text())["files"][0]["findings"]["metadata"].get("by_key", {}))


def test_a_header_version_and_accession_holding_personal_data_go_and_an_md5_is_checked_against_the_reference(tmp_path: Path) -> None:
    """Red team 7a F2: @HD VN held to a version's digits, each @SQ AN name to SN's rules (an
    accession's shape, KJ_19900101.1, holds a date of birth), and with --reference an @SQ M5 kept
    only where it is the MD5 samtools dict computes for that sequence (upper case, no line ends:
    soft-masked bases and 60-base lines here); without one, an M5 is kept by its shape. The audit
    finds each in the input (the M5 with -r) and passes what the command writes."""
    fasta = tmp_path / "ref.fa"
    bases = "ACGTacgtNNacgtACGT" * 8
    fasta.write_text(">chr1\n" + "\n".join(bases[at : at + 60] for at in range(0, len(bases), 60)) + "\n>chr2\nACGTACGTAC\n")
    dictionary = subprocess.run(["samtools", "dict", str(fasta)], capture_output=True, check=True, text=True).stdout
    right = re.search(r"SN:chr1\t.*M5:([0-9a-f]{32})", dictionary).group(1)  # type: ignore[union-attr]
    wrong = "19900101900101123456701012345678"
    sam = tmp_path / "in.sam"
    sam.write_text(
        f"@HD\tVN:19900101.9001011234567\tSO:coordinate\n@SQ\tSN:chr1\tLN:{len(bases)}\tM5:{right.upper()}\tAN:1,KJ_19900101.1\n"
        f"@SQ\tSN:chr2\tLN:10\tM5:{wrong}\tAN:2\n@SQ\tSN:chr3\tLN:10\tM5:{right}\n"
        "READ1\t0\tchr1\t1\t60\t4M\t*\t0\t0\tACGT\tIIII\n"
    )
    found = audit_metadata(sam, tmp_path, "-r", str(fasta))
    assert found == {
        "header value @HD VN": 1,
        "header value @SQ AN (holds personal data)": 1,
        "header value @SQ M5 (not the reference's MD5)": 2,  # chr2's number, and chr3 the reference lacks
        "reference name (a contig the reference or dictionary lacks)": 1,  # chr3: nothing on it can be checked
    }, found
    out = tmp_path / "out.sam"
    assert run_command(COMMAND, "-q", "-T", str(fasta), "--report", str(tmp_path / "r.json"), "-o", str(out), str(sam)).returncode == 0
    header = samtools_text(out).splitlines()
    assert header[:4] == [
        "@HD\tVN:1.6\tSO:coordinate",
        f"@SQ\tSN:chr1\tLN:{len(bases)}\tM5:{right}",
        "@SQ\tSN:chr2\tLN:10\tAN:2",
        "@SQ\tSN:chr3\tLN:10",
    ]
    notes = json.loads((tmp_path / "r.json").read_text())
    assert notes["header_tags_removed_by_tag"] == {"@HD VN": 1, "@SQ AN": 1, "@SQ M5": 2}
    assert audit_metadata(out, tmp_path, "-r", str(fasta)) == {"reference name (a contig the reference or dictionary lacks)": 1}
    unchecked = tmp_path / "unchecked.sam"
    assert run_command(COMMAND, "-q", "-o", str(unchecked), str(sam)).returncode == 0  # no reference: an MD5's shape
    assert f"\tM5:{wrong}\t".encode() in unchecked.read_bytes()
    assert audit_metadata(unchecked, tmp_path) == {}


def test_a_sequence_dictionary_checks_md5_as_the_reference_does(tmp_path: Path) -> None:
    """--dict (a `samtools dict` file, written once per cohort by the workflow) gives the bytes -T
    gives, without hashing the reference, and the audit's --dict the findings of its -r, the
    file's contigs spelled `1` where the dictionary says `chr1` (the audit joins the spellings; the
    scrubber looks an M5 up by its own SN, as with -T, and removes what it cannot find)."""
    fasta = tmp_path / "ref.fa"
    bases = "ACGTacgtNNacgtACGT" * 8
    fasta.write_text(">chr1\n" + "\n".join(bases[at : at + 60] for at in range(0, len(bases), 60)) + "\n>chr2\nACGTACGTAC\n")
    dictionary = tmp_path / "ref.dict"
    subprocess.run(["samtools", "dict", "-o", str(dictionary), str(fasta)], check=True)
    right = re.search(r"SN:chr1\t.*M5:([0-9a-f]{32})", dictionary.read_text()).group(1)  # type: ignore[union-attr]
    wrong = "19900101900101123456701012345678"
    for first in ("chr1", "1"):
        sam = tmp_path / f"in.{first}.sam"
        sam.write_text(
            f"@HD\tVN:1.6\n@SQ\tSN:{first}\tLN:{len(bases)}\tM5:{right.upper()}\n@SQ\tSN:chr2\tLN:10\tM5:{wrong}\n"
            f"@SQ\tSN:chr3\tLN:10\tM5:{right}\nREAD1\t0\t{first}\t1\t60\t4M\t*\t0\t0\tACGT\tIIII\n"
        )
        outputs = []
        for option in (["-T", str(fasta)], ["--dict", str(dictionary)]):
            result = run_command(COMMAND, "-q", *option, str(sam))
            assert result.returncode == 0, result.stderr
            outputs.append(result.stdout)
        assert outputs[0] == outputs[1]
        assert (f"M5:{right}".encode() in outputs[0]) is (first == "chr1") and wrong.encode() not in outputs[0]
        assert audit_metadata(sam, tmp_path, "--dict", str(dictionary)) == audit_metadata(sam, tmp_path, "-r", str(fasta))
        assert audit_metadata(sam, tmp_path, "--dict", str(dictionary)) == {
            "header value @SQ M5 (not the reference's MD5)": 2,
            "reference name (a contig the reference or dictionary lacks)": 1,  # chr3
        }


def test_picard_and_samtools_dictionaries_read_alike_and_check_as_the_reference_does(corpus: Path, tmp_path: Path) -> None:
    """Picard's CreateSequenceDictionary files of the corpus are read by both readers to the same
    MD5s (their @HD and UR fields set aside); a corpus SAM whose @SQ carry M5 (htslib's ce_m5)
    gives the same header with --dict (samtools dict of its FASTA) as with -T, and the audit the
    same findings."""
    for dictionary in sorted((corpus / "ref").glob("*.dict")):
        checksums = read_sequence_dict(str(dictionary))
        assert checksums and checksums == SequenceDictionary.read(str(dictionary)).checksums
    fasta, sam = corpus / "ref" / "htslib__ce.fa", corpus / "sam" / "htslib__ce_m5.sam"
    dictionary = tmp_path / "ce.dict"
    subprocess.run(["samtools", "dict", "-o", str(dictionary), str(fasta)], check=True)
    options = (["-T", str(fasta)], ["--dict", str(dictionary)])
    headers = [run_command(COMMAND, "-q", *option, str(sam)).stdout.split(b"\n@PG")[0] for option in options]
    assert headers[0] == headers[1] and b"M5:" in headers[0]
    assert audit_metadata(sam, tmp_path, "--dict", str(dictionary)) == audit_metadata(sam, tmp_path, "-r", str(fasta))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("@SQ\tSN:chr1\tLN:10\tM5:19900101\n", ":1: @SQ M5 is not 32 hexadecimal digits"),
        ("@SQ\tSN:chr1\tLN:10\n@SQ\tSN:chr1\tLN:10\n", ":2: @SQ SN given twice"),
        ("@HD\tVN:1.6\n", ": holds no @SQ line: not a sequence dictionary"),
        ("@SQ\tSN:chr1\tLN:10\n>chr1\n", ":2: a sequence dictionary holds header lines only"),
        ("@SQ\tLN:10\tM5:KIM_JIHOON\n", ":1: @SQ without a valid SN"),
    ],
)
def test_a_bad_sequence_dictionary_stops_both_commands(text: str, message: str, tmp_path: Path) -> None:
    """A dictionary read wrong would keep M5s nobody checked: one line naming the file and line,
    never the value, exit 1, from sam-scrub-rg and from the audit."""
    dictionary = tmp_path / "ref.dict"
    dictionary.write_text(text)
    sam = tmp_path / "in.sam"
    sam.write_text("@SQ\tSN:chr1\tLN:10\nREAD1\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII\n")
    for command in (COMMAND, "genoscrub-audit"):
        result = run_command(command, "--dict", str(dictionary), str(sam))
        assert result.returncode == 1, (command, result.stderr)
        lines = result.stderr.decode().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"{command}: {dictionary}{message}"), lines
        assert b"KIM" not in result.stderr and b"19900101" not in result.stderr


@pytest.mark.parametrize(
    ("pseudonym", "refused"),
    [("P_19900101", True), ("KIM/S1", True), ("CMT_900101-1234567", True), ("CMT001_00", False), ("S4903134303289D62", False)],
)
def test_a_map_pseudonym_holding_personal_data_is_refused(pseudonym: str, refused: bool, tmp_path: Path) -> None:
    """The map's author chooses the pseudonyms: one holding a date, a registration number or a path
    stops the command, naming the line and never the value, as the audit would find it in @RG (a
    keyed pseudonym's hex digits, which may read as a number, are set aside by both)."""
    (tmp_path / "ids.tsv").write_text(f"S2301217N\t{pseudonym}\nL1\tCMT001_00.L1\n")
    sam = tmp_path / "in.sam"
    sam.write_text("@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:100\n@RG\tID:L1\tSM:S2301217N\n")
    result = run_command(COMMAND, "-q", "--map", str(tmp_path / "ids.tsv"), "-o", str(tmp_path / "out.sam"), str(sam))
    assert (result.returncode == 1) is refused, result.stderr
    if refused:
        message = b":3: the pseudonym of @RG SM holds a path, an address or personal data (check the map)\n"
        assert result.stderr == b"sam-scrub-rg: " + str(sam).encode() + message
    else:
        assert audit_metadata(tmp_path / "out.sam", tmp_path) == {}


@pytest.mark.parametrize(("unit", "refused"), [("RUN_19900101", True), ("/data/kimjh", True), ("HK2VMDSXY.2", False), ("NGS-run-7", False)])
def test_a_platform_unit_holding_personal_data_is_a_usage_error(unit: str, refused: bool) -> None:
    """``--platform-unit`` is written into every read group: a date or a path there was a finding of
    the audit in every delivery (red team 7a, noticed beside F3); it is refused, never quoted."""
    result = run_command("sam-scrub-rg", "-q", "--platform-unit", unit, input=b"@HD\tVN:1.6\n")
    if refused:
        assert result.returncode == 2 and (b"--platform-unit holds a path, an address or personal data" in result.stderr
                                           or b"--platform-unit must be letters, digits" in result.stderr)  # fmt: skip
        assert unit.encode() not in result.stderr
    else:
        assert result.returncode == 0, result.stderr


PAST_LN_HEADER = "@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:2000\n"


def named_findings(path: Path, tmp_path: Path) -> dict[str, int]:
    """``audit_metadata`` but for the read names (the names here are no instrument's)."""
    return {key: count for key, count in audit_metadata(path, tmp_path, "-j", "1").items() if key != "read name"}


@pytest.mark.parametrize(
    ("record", "message", "finding"),
    [
        ("r\t1\tchr1\t100\t60\t10M\t=\t150\t19900101\tACGTACGTAC\tIIIIIIIIII", "TLEN is longer than twice", "TLEN longer"),
        ("r\t0\tchr1\t100\t60\t5M19900101N5M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII", "POS and CIGAR place the read", "POS and CIGAR"),
        ("r\t0\tchr1\t19900101\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII", "POS and CIGAR place the read", "POS and CIGAR"),
    ],
)
def test_positions_far_past_the_contig_end_are_refused_and_found(
    record: str, message: str, finding: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Red team 8 F8: a TLEN, a CIGAR skip or a POS of 19900101 on a contig of LN 2000 is bad input
    (named by line, on both paths) and a metadata finding of the audit; a read a little past the end
    (a circular contig's) is neither."""
    (tmp_path / "in.sam").write_text(PAST_LN_HEADER + "ok\t0\tchr1\t1995\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\n" + record + "\n")
    errors = []
    for one_by_one in ("", "1"):
        monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
        result = run_command("sam-scrub-rg", "-q", str(tmp_path / "in.sam"))
        assert result.returncode == 1
        errors.append(result.stderr)
    assert errors[0] == errors[1] and b":4: " + message.encode() in errors[0]
    assert any(key.startswith(finding) for key in named_findings(tmp_path / "in.sam", tmp_path))
    (tmp_path / "ok.sam").write_text(PAST_LN_HEADER + "ok\t0\tchr1\t1995\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\n")
    assert run_command("sam-scrub-rg", "-q", str(tmp_path / "ok.sam")).returncode == 0
    assert not named_findings(tmp_path / "ok.sam", tmp_path)


@pytest.mark.parametrize(
    ("record", "finding"),
    [
        ("r\t97\tchr1\t100\t60\t10M\t=\t19900101\t0\tACGTACGTAC\tIIIIIIIIII", "PNEXT past its contig's end"),
        ("r\t0\tchr1\t100\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\tOP:i:19900101\tOC:Z:10M", "aux value off its grammar OP"),
        ("r\t0\tchr1\t100\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\tCP:i:19900101", "aux value off its grammar CP"),
        ("r\t0\tchr1\t100\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\tCP:i:4011", "aux value off its grammar CP"),
    ],
)
def test_a_mate_or_position_past_the_contig_is_found_and_scrubbed_away(record: str, finding: str, tmp_path: Path) -> None:
    """Red team 9 A2: PNEXT, OP and CP of 19900101 on a contig of LN 2000 are metadata findings of
    the audit; sam-scrub-rg's output (the mate's place unavailable, the value removed) has none.
    ``CP:i:4010`` (twice the LN and the read) is neither."""
    (tmp_path / "in.sam").write_text(PAST_LN_HEADER + record + "\n")
    assert any(key.startswith(finding) for key in named_findings(tmp_path / "in.sam", tmp_path))
    result = run_command("sam-scrub-rg", "-q", "-o", str(tmp_path / "out.sam"), str(tmp_path / "in.sam"))
    assert result.returncode == 0, result.stderr
    assert not named_findings(tmp_path / "out.sam", tmp_path)
    (tmp_path / "ok.sam").write_text(PAST_LN_HEADER + "r\t0\tchr1\t100\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\tCP:i:4010\n")
    assert not named_findings(tmp_path / "ok.sam", tmp_path)


@pytest.mark.parametrize(
    ("mate", "kept"),
    [
        ("=\t100\t0", False),  # MC:Z:5M19900101N5M from PNEXT 100 ends far past LN 2000
        ("chr1\t100\t0", False),
        ("*\t0\t0", True),  # no mate placed: nothing to hold it to
    ],
)
def test_a_mate_cigar_past_the_contig_end_goes_with_its_junctions(
    mate: str, kept: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Red team 8 F4: ``MC`` is held within the contig of RNEXT from PNEXT, and ``jI``/``jM`` that
    name its skip (``jI:B:i,105,19900205``) go with it, on both paths; the audit finds all three in
    the input and nothing in the output. A mate's CIGAR within the contig keeps its junctions."""
    tags = "MC:Z:5M19900101N5M\tjI:B:i,105,19900205\tjM:B:c,1"
    record = f"r\t65\tchr1\t100\t60\t10M\t{mate}\tACGTACGTAC\tIIIIIIIIII\t{tags}\n"
    good = "g\t65\tchr1\t100\t60\t10M\t=\t100\t0\tACGTACGTAC\tIIIIIIIIII\tMC:Z:5M100N5M\tjI:B:i,105,204\tjM:B:c,1\n"
    (tmp_path / "in.sam").write_text(PAST_LN_HEADER + record + good)
    outputs = []
    for one_by_one in ("", "1"):
        monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
        result = run_command("sam-scrub-rg", "-q", str(tmp_path / "in.sam"))
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    first, second = outputs[0].decode().splitlines()[-2:]
    assert ("MC:Z:5M19900101N5M" in first) == kept
    if not kept:
        assert "jI:" not in first and "jM:" not in first
        found = named_findings(tmp_path / "in.sam", tmp_path)
        assert {"aux value off its grammar MC", "aux value off its grammar jI"} <= {key.split(" (")[0] for key in found}, found
    assert second.endswith("MC:Z:5M100N5M\tjI:B:i,105,204\tjM:B:c,1")
    (tmp_path / "out.sam").write_bytes(outputs[0])
    assert not named_findings(tmp_path / "out.sam", tmp_path)


# --- --only-tags -------------------------------------------------------------------------------

ONLY = "RG,MD,NM,MC,MQ"


@pytest.mark.parametrize("one_by_one", ["", "1"])
def test_only_tags_leaves_the_listed_tags_alone_on_every_record(
    simulated: Path, tmp_path: Path, one_by_one: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Red team 11 F3: sam-revert-germline keeps a few tags on reads over a germline window, so a
    run of reads without AS or XS marked a site. With ``--only-tags`` every record keeps the listed
    ones alone: the output is the allowlist's with the others cut out, and what goes is counted by
    tag as the tags off the allowlist are."""
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
    plain = scrub_simulated(simulated, "tumour", "--map", "ids.tsv", "-q", "--report", str(tmp_path / "plain.json"))
    only = scrub_simulated(simulated, "tumour", "--map", "ids.tsv", "-q", "--only-tags", ONLY, "--report", str(tmp_path / "only.json"))
    listed = set(ONLY.encode().split(b","))
    header, before = header_and_records(plain)
    assert header_and_records(only)[0] == header
    after = header_and_records(only)[1]
    assert after == [b"\t".join(line.split(b"\t")[:11] + [tag for tag in line.split(b"\t")[11:] if tag[:2] in listed]) for line in before]
    cut = Counter(tag[:2].decode() for line in before for tag in line.split(b"\t")[11:] if tag[:2] not in listed)
    assert {"AS", "OQ"} <= set(cut)  # the simulator's aligner writes them
    plain_report, only_report = (json.loads((tmp_path / f"{name}.json").read_text()) for name in ("plain", "only"))
    off_value = Counter(plain_report["aux_tags_removed_by_value"])  # an XA hit past its contig: an unlisted tag goes unread
    unlisted = Counter({tag: count for tag, count in off_value.items() if tag.encode() not in listed})
    assert Counter(only_report["aux_tags_removed_by_tag"]) == Counter(plain_report["aux_tags_removed_by_tag"]) + cut + unlisted
    assert Counter(only_report["aux_tags_removed_by_value"]) == off_value - unlisted
    assert samtools_count(only, tmp_path) == len(before)


def test_only_tags_without_rg_removes_it_and_pg_always_goes() -> None:
    """A list without RG removes every RG:Z (counted); PG:Z goes whatever the list holds; an empty
    list keeps no tag."""
    sam = b"@SQ\tSN:chr1\tLN:100\n@RG\tID:a\tSM:s\nr\t0\tchr1\t1\t60\t1M\t*\t0\t0\tA\tI\tNM:i:0\tRG:Z:a\tPG:Z:bwa\tAS:i:1\n"
    for listed, kept, removed in (("NM,PG", [b"NM:i:0"], {"RG": 1, "AS": 1}), ("", [], {"NM": 1, "RG": 1, "AS": 1})):
        for fast in (True, False):
            report = Report(COMMAND)
            header = HeaderScrubber(Pseudonyms(), "NGS", "-", report)
            header.scrub(sam.splitlines()[:2])
            scrubber = RecordScrubber(None, "-", report, TagPolicy(only=parse_tag_list(listed, "--only-tags")))
            scrubber.use_header(header)
            body = sam.splitlines(keepends=True)[2]
            out = scrubber.scrub_block(body) if fast else scrubber.scrub_by_field(body, 3)
            assert out is not None and out.rstrip(b"\n").split(b"\t")[11:] == kept
            assert report.as_dict()["aux_tags_removed_by_tag"] == removed and report.counts["pg_tags_removed"] == 1


@pytest.mark.parametrize("value", ["RG,MD,N", "RG;MD", "RG,,MD", "R!"])
def test_only_tags_refuses_what_is_not_a_list_of_tag_names(value: str, tmp_path: Path) -> None:
    (tmp_path / "in.sam").write_text("@SQ\tSN:chr1\tLN:100\n")
    result = run_command(COMMAND, "--only-tags", value, str(tmp_path / "in.sam"))
    assert result.returncode == 2 and result.stdout == b""
    assert result.stderr.decode().strip() == (
        "sam-scrub-rg: --only-tags takes two-character SAM tag names (a letter, then a letter or digit) separated by commas"
    )


@settings(max_examples=200, deadline=None)
@given(
    offsets=st.lists(st.integers(0, 400), min_size=0, max_size=60, unique=True),
    names=st.lists(st.integers(0, 400), min_size=0, max_size=20, unique=True),
)
def test_names_merge_into_the_edits_as_a_stable_sort_places_them(offsets: list[int], names: list[int]) -> None:
    """``BlockEdits.with_names`` places each QNAME among the tag edits (both lists in text order)
    where a stable sort of the two joined, QNAMEs first, puts it: a QNAME before an edit at its start."""
    offsets.sort()
    names.sort()
    starts, name_starts = np.array(offsets, dtype=np.int64), np.array(names, dtype=np.int64)
    edits = BlockEdits(starts, starts + 1, [b"", b"x"], np.arange(len(offsets), dtype=np.int64) % 2)
    merged = edits.with_names(name_starts, name_starts + 2, [b"n%d" % index for index in range(len(names))])
    joined = np.concatenate([name_starts, starts])
    order = np.argsort(joined, kind="stable")
    choices = np.concatenate([np.arange(2, 2 + len(names), dtype=np.int64), edits.choices])
    assert merged.starts.tolist() == joined[order].tolist()
    assert merged.ends.tolist() == np.concatenate([name_starts + 2, starts + 1])[order].tolist()
    assert merged.choices.tolist() == choices[order].tolist()
    assert merged.pieces == [b"", b"x", *(b"n%d" % index for index in range(len(names)))]
