"""A tag given twice in one record: the commands keep the first copy, the audit finds the others.

SAM allows a tag once a record, but htslib stores every copy it reads from SAM text and tools
read the first (``bam_aux_get``), so a second copy rides along unseen and is held to nothing
that holds the first: the allowlist's ties (``MD`` to the CIGAR, ``QX`` to ``RX``), a rewrite
(sam-revert-germline's ``MC`` of a mate with a germline deletion, sam-mask-regions' ``MC`` or
``SA`` reaching into a region). Copies of tied and untied tags, of each type, are planted
here; each command must give a record with a copy what it gives the record without it (but for
the count of copies removed), on the block path and the one-record path, and pysam must read
one copy of each tag in what it writes.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import pysam
import pytest
from genoscrub import scan
from genoscrub.aux_tags import without_repeats
from genoscrub.sam_columns import lines_with_repeated_tags
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run_command

HEADER = ["@HD\tVN:1.6\tSO:coordinate", "@SQ\tSN:chr1\tLN:400", "@RG\tID:g\tSM:s\tPL:ILLUMINA"]
RECORD = "r{index}\t99\tchr1\t{position}\t60\t4M\t=\t300\t300\tACGT\tIIII"
FIRST_COPIES = [
    "NM:i:0", "MD:Z:4", "MC:Z:4M", "MQ:i:60", "AS:i:4", "RG:Z:g", "OQ:Z:IIII", "RX:Z:AC-GT", "QX:Z:II II", "MM:Z:C+m,0;",
    "ML:B:C,200", "SA:Z:chr1,30,+,4M,60,0;", "XA:Z:chr1,+40,4M,0;", "tp:A:P", "de:f:0.1", "jM:B:c,1", "MI:i:3", "PG:Z:bwa",
    "BC:Z:ACGT", "QT:Z:IIII", "XZ:Z:lab",
]  # fmt: skip
"""A record's tags, each given once: tied to SEQ, the CIGAR or a partner tag, untied, rewritten
(RG), removed (PG), dropped (BC, QT, XZ), of types i, Z, A, f and B."""
SECOND_COPIES = [
    "NM:i:900101", "NM:Z:x", "MD:Z:1A2", "MD:i:4", "MC:Z:19M900101N1M", "MQ:i:19", "AS:i:1", "RG:Z:S2301217T", "RG:Z:g",
    "OQ:Z:####", "RX:Z:TT-AA", "QX:Z:## ##", "MM:Z:C+m,0;", "ML:B:C,9", "SA:Z:chr1,300,+,4M,60,0;", "XA:Z:chr1,+50,4M,0;",
    "tp:A:S", "de:f:0.2", "jM:B:c,2", "MI:Z:900101", "PG:Z:MarkDuplicates", "BC:Z:TTTT", "QT:Z:####", "XZ:Z:S2301217T",
]  # fmt: skip
"""Second copies: valid values a tool could write (held to the same ties: MD:Z:1A2 to the 4M, OQ
to SEQ), values that hold an identifier, another type of the same tag, an RG naming no read group."""
PLANTED = (b"900101", b"S2301217T")


def sam_text(records: list[str]) -> bytes:
    return "".join(line + "\n" for line in [*HEADER, *records]).encode()


def planted_records() -> tuple[list[str], list[str], Counter[str]]:
    """Records with a second copy of one tag each (after the first copy, or last), the same
    records without it, and the copies by tag name."""
    with_copies, without = [], []
    names: Counter[str] = Counter()
    for index, copy in enumerate(SECOND_COPIES * 2):
        tags = list(FIRST_COPIES)
        first = next(place for place, tag in enumerate(tags) if tag[:2] == copy[:2])
        at = first + 1 if index < len(SECOND_COPIES) else len(tags)
        head = RECORD.format(index=index, position=10 + index)
        without.append("\t".join([head, *tags]))
        with_copies.append("\t".join([head, *tags[:at], copy, *tags[at:]]))
        names[copy[:2]] += 1
    return with_copies, without, names


def run(command: str, path: Path, *options: str, one_by_one: bool, folder: Path) -> tuple[bytes, dict[str, object]]:
    """The command's output and report for a file, on the block path or the one-record path."""
    report = folder / f"{command}.{path.stem}.{int(one_by_one)}.json"
    environment = {"GENOSCRUB_ONE_BY_ONE": "1" if one_by_one else "0"}
    done = run_command(command, "-q", "--report", str(report), *options, str(path), env=environment)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr == b""
    data = json.loads(report.read_text())
    data.pop("chunks_checked_field_by_field", None)
    return done.stdout, data


def tag_names_by_pysam(sam: bytes, folder: Path) -> list[list[str]]:
    """The tag names of each record as pysam (htslib) reads them, every copy included."""
    path = folder / "read.sam"
    path.write_bytes(sam)
    with pysam.AlignmentFile(str(path)) as alignments:
        return [[name for name, _ in read.get_tags()] for read in alignments]


def records_of(sam: bytes) -> list[bytes]:
    return [line for line in sam.splitlines() if line and not line.startswith(b"@")]


def without_count(report: dict[str, object]) -> dict[str, object]:
    """A report without what the copies add: their count and their tags."""
    counts = dict(report["counts"])  # type: ignore[call-overload]
    counts.pop("aux_repeats_removed", None)
    return {**report, "counts": counts, "aux_tags_removed_by_repeat": {}}


# --- the block path finds the copies the one-record rule leaves out --------------------------

MANDATORY = b"r\t0\tchr1\t1\t60\t4M\t*\t0\t0\tACGT\tIIII"
FIELD = st.one_of(
    st.sampled_from([b"NM:i:0", b"NM:Z:x", b"MD:Z:4", b"MC:Z:4M", b"RG:Z:g", b"", b"N", b"NM", b"NMx", b"\r", b"N\r", b"NM:i:1\r"]),
    st.binary(max_size=3).filter(lambda field: b"\t" not in field and b"\n" not in field),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(FIELD, max_size=6), max_size=8))
def test_the_block_path_finds_the_lines_whose_copies_the_one_record_rule_leaves_out(lines: list[list[bytes]]) -> None:
    """Fields of any bytes, empty or of one byte (which name nothing), a CR at the end: the lines
    ``lines_with_repeated_tags`` finds are those ``without_repeats`` takes a copy from."""
    text = b"".join(b"\t".join([MANDATORY, *fields]) + b"\n" for fields in lines)
    located = scan.line_fields(text, 10)
    expected = [row for row, fields in enumerate(lines) if without_repeats(list(fields))[1]]
    assert lines_with_repeated_tags(text, located).tolist() == expected
    for fields in lines:
        kept, repeated = without_repeats(list(fields))
        names = [field[:2] for field in kept if len(field) >= 2]
        assert len(set(names)) == len(names) and len(kept) + len(repeated) == len(fields)


# --- sam-scrub-rg -----------------------------------------------------------------------------


@pytest.mark.parametrize("one_by_one", [False, True], ids=["block", "one-record"])
def test_sam_scrub_rg_keeps_the_first_copy_and_counts_the_others(tmp_path: Path, one_by_one: bool) -> None:
    with_copies, without, names = planted_records()
    planted, plain = tmp_path / "planted.sam", tmp_path / "plain.sam"
    planted.write_bytes(sam_text(with_copies))
    plain.write_bytes(sam_text(without))
    out, report = run("sam-scrub-rg", planted, one_by_one=one_by_one, folder=tmp_path)
    expected, expected_report = run("sam-scrub-rg", plain, one_by_one=one_by_one, folder=tmp_path)
    assert records_of(out) == records_of(expected)
    assert without_count(report) == without_count(expected_report)
    assert report["counts"]["aux_repeats_removed"] == len(with_copies)  # type: ignore[index]
    assert report["aux_tags_removed_by_repeat"] == dict(sorted(names.items()))
    assert not any(value in out for value in PLANTED)
    for tags in tag_names_by_pysam(out, tmp_path):
        assert len(tags) == len(set(tags)) and "NM" in tags and "MC" in tags


def test_sam_scrub_rg_gives_the_same_bytes_on_both_paths_and_from_bam(tmp_path: Path) -> None:
    """A BAM written by samtools from the planted SAM keeps every copy (htslib accepts them):
    the same records out as from the text, on either path."""
    with_copies, _, _ = planted_records()
    planted = tmp_path / "planted.sam"
    planted.write_bytes(sam_text(with_copies))
    bam = tmp_path / "planted.bam"
    subprocess.run(["samtools", "view", "-b", "--no-PG", "-o", str(bam), str(planted)], check=True)
    assert [len(tags) for tags in tag_names_by_pysam(planted.read_bytes(), tmp_path)] == [len(FIRST_COPIES) + 1] * len(with_copies)
    outputs = {run("sam-scrub-rg", source, one_by_one=switch, folder=tmp_path)[0] for source in (planted, bam) for switch in (False, True)}
    assert len(outputs) == 1


# --- the audit ----------------------------------------------------------------------------------


def audit(path: Path, folder: Path) -> tuple[bytes, dict[str, int]]:
    """The audit's stdout and its metadata findings by key."""
    report = folder / f"audit.{path.name}.json"
    done = run_command("genoscrub-audit", "--report", str(report), str(path))
    assert done.returncode in (0, 1), done.stderr.decode()
    assert not any(value in done.stdout + done.stderr for value in PLANTED)
    (found,) = json.loads(report.read_text())["files"]
    return done.stdout, found["findings"]["metadata"].get("by_key", {})


def repeats(by_key: dict[str, int]) -> dict[str, int]:
    return {key: count for key, count in by_key.items() if key.endswith("(repeated)")}


def test_the_audit_finds_each_copy_in_sam_text_and_bam_and_none_after_sam_scrub_rg(tmp_path: Path) -> None:
    with_copies, without, names = planted_records()
    planted = tmp_path / "planted.sam"
    planted.write_bytes(sam_text(with_copies))
    bam = tmp_path / "planted.bam"
    subprocess.run(["samtools", "view", "-b", "--no-PG", "-o", str(bam), str(planted)], check=True)
    expected = {f"aux tag {name} (repeated)": count for name, count in names.items()}
    for path in (planted, bam):
        stdout, by_key = audit(path, tmp_path)
        assert repeats(by_key) == expected, path.name
        assert b"aux tag NM (repeated) 4 (chr1:" in stdout  # located by position, never by value
    plain = tmp_path / "plain.sam"
    plain.write_bytes(sam_text(without))
    assert repeats(audit(plain, tmp_path)[1]) == {}
    scrubbed = tmp_path / "scrubbed.sam"
    scrubbed.write_bytes(run("sam-scrub-rg", planted, one_by_one=False, folder=tmp_path)[0])
    assert repeats(audit(scrubbed, tmp_path)[1]) == {}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from([0x4E4D, 0x4D44, 0x4D43, 0x5247, 7]), max_size=40), min_size=1, max_size=6))
def test_the_audit_compares_every_field_with_those_before_it_in_its_record(records: list[list[int]]) -> None:
    """Records of a few fields (compared as arrays) and of more than ``MANY_TAGS`` (one by one)."""
    from genoscrub.audit_aux import repeated_fields

    codes = np.array([code for record in records for code in record], dtype=np.int64)
    owners = np.array([row for row, record in enumerate(records) for _ in record], dtype=np.int64)
    expected = [code in record[:place] for record in records for place, code in enumerate(record)]
    assert repeated_fields(owners, codes).tolist() == expected


# --- sam-revert-germline and sam-mask-regions: a copy that a rewrite would not reach ---------------

REFERENCE = "".join("ACGT"[(index * 7 + index // 5) % 4] for index in range(400))


def write_reference(folder: Path) -> Path:
    fasta = folder / "ref.fa"
    fasta.write_text(f">chr1\n{REFERENCE}\n")
    pysam.faidx(str(fasta))
    return fasta


def revert_records() -> tuple[list[str], list[str]]:
    """Reads and their copies around a germline deletion at 201-203 and an SNV at 101."""
    snv_read = REFERENCE[90:100] + ("A" if REFERENCE[100] != "A" else "C") + REFERENCE[101:110]
    md_snv = f"10{REFERENCE[100]}9"
    cases = [  # (read, its tags, the copy)
        ((91, "20M", snv_read, "=", 150), ["NM:i:1", f"MD:Z:{md_snv}", "MC:Z:20M", "RG:Z:g"], f"MD:Z:{md_snv}"),  # a stale MD
        ((91, "20M", snv_read, "=", 150), ["NM:i:1", f"MD:Z:{md_snv}", "MC:Z:20M", "RG:Z:g"], "NM:i:1"),
        ((20, "20M", REFERENCE[19:39], "=", 191), ["MC:Z:20M", "MQ:i:60", "RG:Z:g"], "MC:Z:10M3D10M"),  # the mate's deletion
        ((20, "20M", REFERENCE[19:39], "=", 191), ["MC:Z:10M3D10M", "MQ:i:60", "RG:Z:g"], "MC:Z:20M"),
        ((20, "20M", REFERENCE[19:39], "=", 191), ["MQ:i:60", "RG:Z:g"], "MQ:i:19"),
        ((20, "20M", REFERENCE[19:39], "=", 191), ["MQ:i:60", "RG:Z:g"], "RG:Z:S2301217T"),
    ]
    with_copies, without = [], []
    for index, ((position, cigar, bases, mate, mate_position), tags, copy) in enumerate(cases):
        head = f"r{index}\t99\tchr1\t{position}\t60\t{cigar}\t{mate}\t{mate_position}\t0\t{bases}\t{'I' * len(bases)}"
        without.append("\t".join([head, *tags]))
        with_copies.append("\t".join([head, *tags, copy]))
    return with_copies, without


@pytest.mark.parametrize("one_by_one", [False, True], ids=["block", "one-record"])
def test_sam_revert_germline_leaves_no_copy_a_revert_would_not_reach(tmp_path: Path, one_by_one: bool) -> None:
    """A second MC showing the mate's germline deletion (the first says 20M) went through
    untouched; a second MD describing the germline base did not (MD is recomputed once)."""
    fasta = write_reference(tmp_path)
    sites = tmp_path / "germline.vcf"
    sites.write_text("##fileformat=VCFv4.2\n##contig=<ID=chr1,length=400>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                     f"chr1\t101\t.\t{REFERENCE[100]}\t{'A' if REFERENCE[100] != 'A' else 'C'}\t50\tPASS\t.\n"
                     f"chr1\t200\t.\t{REFERENCE[199:203]}\t{REFERENCE[199]}\t50\tPASS\t.\n")  # fmt: skip
    with_copies, without = revert_records()
    planted, plain = tmp_path / "planted.sam", tmp_path / "plain.sam"
    planted.write_bytes(sam_text(with_copies))
    plain.write_bytes(sam_text(without))
    options = ("-r", str(fasta), "-v", str(sites))
    out, report = run("sam-revert-germline", planted, *options, one_by_one=one_by_one, folder=tmp_path)
    expected, expected_report = run("sam-revert-germline", plain, *options, one_by_one=one_by_one, folder=tmp_path)
    assert records_of(out) == records_of(expected)
    assert without_count(report) == without_count(expected_report)
    assert report["counts"]["aux_repeats_removed"] == len(with_copies)  # type: ignore[index]
    assert b"3D" not in b"".join(record.split(b"\t", 11)[-1] for record in records_of(out))
    assert records_of(out)[0].endswith(b"MD:Z:20\tNM:i:0")  # reverted: MD and NM once, of the new bases
    for tags in tag_names_by_pysam(out, tmp_path):
        assert len(tags) == len(set(tags))


@pytest.mark.parametrize("one_by_one", [False, True], ids=["block", "one-record"])
def test_sam_mask_regions_leaves_no_copy_that_reaches_into_a_region(tmp_path: Path, one_by_one: bool) -> None:
    """A second MC, SA or XA placing an alignment with a deletion in the region went through
    when the first placed none there (only the first is read)."""
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t200\t220\n")
    head = "r{index}\t99\tchr1\t20\t60\t20M\t=\t185\t0\t" + REFERENCE[19:39] + "\t" + "I" * 20
    cases = [
        (["MC:Z:2M", "RG:Z:g"], "MC:Z:10M5D10M"),
        (["MC:Z:2M", "SA:Z:chr1,300,+,20M,60,0;", "RG:Z:g"], "SA:Z:chr1,205,+,5M5D15M,60,5;"),
        (["MC:Z:2M", "XA:Z:chr1,+300,20M,0;", "RG:Z:g"], "XA:Z:chr1,+205,5M5D15M,5;"),
        (["MC:Z:2M", "RG:Z:g", "NM:i:0"], "NM:i:900101"),
    ]
    with_copies = ["\t".join([head.format(index=index), *tags, copy]) for index, (tags, copy) in enumerate(cases)]
    without = ["\t".join([head.format(index=index), *tags]) for index, (tags, _) in enumerate(cases)]
    planted, plain = tmp_path / "planted.sam", tmp_path / "plain.sam"
    planted.write_bytes(sam_text(with_copies))
    plain.write_bytes(sam_text(without))
    for options in ((), ("--drop",)):
        out, report = run("sam-mask-regions", planted, "--bed", str(bed), "--flank", "0", *options, one_by_one=one_by_one, folder=tmp_path)
        expected, expected_report = run("sam-mask-regions", plain, "--bed", str(bed), "--flank", "0", *options, one_by_one=one_by_one,
                                        folder=tmp_path)  # fmt: skip
        assert records_of(out) == records_of(expected) == [line.encode() for line in without]
        assert without_count(report) == without_count(expected_report)
        assert report["counts"]["aux_repeats_removed"] == len(with_copies)  # type: ignore[index]
        assert not any(value in out for value in PLANTED) and b"5D" not in out
        for tags in tag_names_by_pysam(out, tmp_path):
            assert len(tags) == len(set(tags))


def test_sam_mask_regions_drops_copies_of_reads_far_from_any_region(tmp_path: Path) -> None:
    """Reads that the block path would pass as the same bytes (nothing near a region, no mate
    there) lose their copies too, as on the one-record path."""
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t300\t320\n")
    head = "r{index}\t99\tchr1\t20\t60\t20M\t=\t40\t0\t" + REFERENCE[19:39] + "\t" + "I" * 20
    copies = ["NM:i:900101", "RG:Z:S2301217T", "MD:Z:20", "MQ:i:1"]
    lines = ["\t".join([head.format(index=index), "NM:i:0", "MD:Z:20", "MC:Z:20M", "MQ:i:60", "RG:Z:g", copy])
             for index, copy in enumerate(copies)]  # fmt: skip
    planted = tmp_path / "planted.sam"
    planted.write_bytes(sam_text(lines + [RECORD.format(index=9, position=50) + "\tRG:Z:g"]))
    outputs = [run("sam-mask-regions", planted, "--bed", str(bed), one_by_one=switch, folder=tmp_path) for switch in (False, True)]
    assert outputs[0] == outputs[1]
    out, report = outputs[0]
    assert report["counts"]["aux_repeats_removed"] == len(copies)  # type: ignore[index]
    assert [record.count(b"\t") for record in records_of(out)] == [15] * len(copies) + [11]
    assert not any(value in out for value in PLANTED)
