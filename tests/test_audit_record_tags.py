"""What a record keeps beside its own alignment and bases, held to the germline list and the
regions: an unmapped read's bases, MD and NM at a germline site, and the alignments MC, SA, XA,
XB, OA, OC/OP and R2 place on the reference (``audit_edit_tags``, ``audit_alignment_tags``)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pysam
import pytest
from genoscrub import scan
from genoscrub.audit_edit_tags import MD_LETTERS

from tests.conftest import run_command
from tests.test_audit import audit

random.seed(5)
REFERENCE = "".join(random.choice("ACGT") for _ in range(2000))
SITE = 1000  # 0-based: the germline SNV, REF the reference's base there
REF_BASE = REFERENCE[SITE]
ALT_BASE = "G" if REF_BASE != "G" else "T"
NAME = "0123456789abcdef01234567"
NM_KEY = "aux NM (more edits than MD, CIGAR and SEQ show)"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "ref.fa").write_text(f">chr1\n{REFERENCE}\n")
    pysam.faidx(str(tmp_path / "ref.fa"))
    (tmp_path / "germline.vcf").write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=2000>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        f"chr1\t{SITE + 1}\t.\t{REF_BASE}\t{ALT_BASE}\t.\t.\t.\n"
    )
    (tmp_path / "str.bed").write_text("chr1\t1400\t1420\tSTR\n")
    return tmp_path


def bam(folder: Path, *records: str) -> str:
    sam = folder / "in.sam"
    sam.write_text("@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:chr1\tLN:2000\n@RG\tID:CMT001_00.L1\tSM:CMT001_00\n" + "".join(records))
    path = folder / "in.bam"
    pysam.view("-b", "--no-PG", "-o", str(path), str(sam), catch_stdout=False)
    return str(path)


def line(flag: int, pos: int, cigar: str, sequence: str, tags: str = "", mate: str = "*\t0\t0") -> str:
    return f"{NAME}\t{flag}\tchr1\t{pos + 1}\t60\t{cigar}\t{mate}\t{sequence}\t*\tRG:Z:CMT001_00.L1{tags}\n"


def findings(folder: Path, path: str, *options: str) -> tuple[int, dict[str, Any]]:
    result, report = audit("-j", "1", *options, path, cwd=folder)
    return result.returncode, report["files"][0]["findings"]  # type: ignore[index]


def germline(folder: Path, path: str) -> dict[str, int]:
    by_class = {}
    for switch in ("0", "1"):  # the bulk path and the one-record path agree
        with pytest.MonkeyPatch.context() as monkeypatch:
            monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", switch)
            _, found = findings(folder, path, "--germline", str(folder / "germline.vcf"), "-r", str(folder / "ref.fa"))
        by_class[switch] = found["germline"].get("by_key", {})
    assert by_class["0"] == by_class["1"]
    return by_class["0"]


def test_an_unmapped_read_keeping_bases_is_a_germline_finding(files: Path) -> None:
    """sam-revert-germline makes every base of an unmapped read N: one that keeps a base (its
    germline allele among them, placed or not) is a finding; one of N only is not."""
    bases = REFERENCE[SITE - 50 : SITE] + ALT_BASE + REFERENCE[SITE + 1 : SITE + 50]
    for flag, pos, sequence, expected in (
        (4, SITE - 50, bases, {"unmapped read (keeps bases)": 1}),
        (4, -1, bases[:99], {"unmapped read (keeps bases)": 1}),
        (4, SITE - 50, "N" * 99 + "A", {"unmapped read (keeps bases)": 1}),  # one base in the odd last half
        (4, SITE - 50, "N" * 101, {}),
    ):
        record = line(flag, pos, "*", sequence).replace("\tchr1\t0\t", "\t*\t0\t") if pos < 0 else line(flag, pos, "*", sequence)
        assert germline(files, bam(files, record)) == expected


def test_md_and_nm_at_a_germline_site_are_held_to_seq(files: Path) -> None:
    """A read reverted to REF that keeps the aligner's MD (a mismatch at the site) or an NM
    counting it says it carried the ALT; recomputed ones pass. Also with a deletion elsewhere
    (the one-record path)."""
    read = REFERENCE[SITE - 82 : SITE + 18]
    before, after = 82, 17
    stale = f"{before}{REF_BASE}{after}"
    gapped = REFERENCE[SITE - 82 : SITE - 40] + REFERENCE[SITE - 38 : SITE + 18]
    for cigar, sequence, tags, expected in (
        ("100M", read, "\tMD:Z:100\tNM:i:0", {}),
        ("100M", read, f"\tMD:Z:{stale}\tNM:i:1", {"aux MD (a mismatch at a germline site SEQ does not show)": 1}),
        ("100M", read, "\tMD:Z:100\tNM:i:1", {NM_KEY: 1}),
        ("100M", read, "\tMD:Z:50^AC50\tNM:i:2", {"aux MD (a deletion its CIGAR does not have)": 1}),
        ("100M", read[:before] + "N" + read[before + 1 :], f"\tMD:Z:{stale}\tNM:i:1", {}),  # an N: MD's mismatch is right
        ("42M2D56M", gapped, f"\tMD:Z:42^{REFERENCE[SITE - 40 : SITE - 38]}56\tNM:i:2", {}),
        ("42M2D56M", gapped, f"\tMD:Z:42^{REFERENCE[SITE - 40 : SITE - 38]}38{REF_BASE}17\tNM:i:3",
         {"aux MD (a mismatch at a germline site SEQ does not show)": 1}),
        ("42M2D56M", gapped, f"\tMD:Z:42^{REFERENCE[SITE - 40 : SITE - 38]}56\tNM:i:3", {NM_KEY: 1}),
        ("100M", read, "\tNM:i:1", {NM_KEY: 1}),  # NM alone, held to SEQ and the reference
        ("100M", read[:10] + "N" + read[11:], "\tNM:i:1", {}),
        ("100M", read[:10] + "N" + read[11:], f"\tMD:Z:10{REFERENCE[SITE - 72]}89\tNM:i:0", {}),  # fewer: an aligner may leave N out
        ("42M2D56M", gapped, "\tNM:i:2", {}),
        ("42M2D56M", gapped, "\tNM:i:3", {NM_KEY: 1}),
    ):  # fmt: skip
        assert germline(files, bam(files, line(0, SITE - 82, cigar, sequence, tags))) == expected, (cigar, tags)
    deleting = REFERENCE[SITE - 42 : SITE] + REFERENCE[SITE + 2 : SITE + 58]  # its CIGAR deletes the site: MD's ^ says so
    tags = f"\tMD:Z:42^{REFERENCE[SITE : SITE + 2]}56\tNM:i:2"
    assert germline(files, bam(files, line(0, SITE - 42, "42M2D56M", deleting, tags))) == {}


@pytest.mark.parametrize(
    ("tags", "mate", "key"),
    [
        ("\tMC:Z:20M4I76M", "=\t1390\t0", "aux MC"),  # the mate over the repeat with 4 more bases
        ("\tSA:Z:chr1,1391,+,20M4I76M,60,4;", "*\t0\t0", "aux SA"),
        ("\tXA:Z:chr1,+1391,20M4I76M,4;", "*\t0\t0", "aux XA"),
        ("\tXB:Z:chr1,+1391,20M4I76M,4,90,60;", "*\t0\t0", "aux XB"),
        ("\tOA:Z:chr1,1391,+,20M4I76M,60,4;", "*\t0\t0", "aux OA"),
        ("\tOC:Z:20M4I76M\tOP:i:1391", "*\t0\t0", "aux OC"),
        ("\tOP:i:1391", "*\t0\t0", "aux OP"),
        ("\tR2:Z:" + REFERENCE[1390:1490], "=\t1390\t0", "aux R2"),
    ],
)
def test_alignments_tags_place_in_a_region_are_region_findings(files: Path, tags: str, mate: str, key: str) -> None:
    """With regions, a tag placing an alignment (or the mate's bases) over a region is a finding,
    as sam-mask-regions removes it; the same tag placed away from the region is not."""
    flag = 65 if mate.startswith("=") else 0
    record = line(flag, 100, "100M", REFERENCE[100:200], tags, mate)
    code, found = findings(files, bam(files, record), "--bed", str(files / "str.bed"))
    assert found["regions"].get("by_key") == {f"chr1:1401-1420 STR ({key})": 1}, found["regions"]
    away = record.replace("1391", "391").replace("=\t1390", "=\t390")
    _, found = findings(files, bam(files, away), "--bed", str(files / "str.bed"))
    assert found["regions"]["count"] == 0


@pytest.mark.parametrize(
    ("tags", "key"),
    [
        ("\tcg:Z:15M4D81M4I", "aux cg"),  # minimap2's CIGAR: an indel pair keeps the read's lengths, not the STR's
        ("\tcs:Z::15-acgt:81+acgt", "aux cs"),  # the same as differences
        ("\tcs:Z::15*na*nc*ng:82", "aux cs"),  # the bases SEQ's N hide
        ("\tE2:Z:" + REFERENCE[1390:1490], "aux E2"),  # the second calls: the region's bases
        ("\tCS:Z:T" + "0123" * 25, "aux CS"),  # the read in colour space
    ],
)
def test_the_reads_own_cigar_and_bases_in_tags_are_region_findings(files: Path, tags: str, key: str) -> None:
    """A masked read (every base N) in a region holds none of it in ``cg`` (judged as its CIGAR at
    POS, by the length rule), ``cs``, ``E2`` or ``CS`` (the read's bases beside SEQ: a finding where
    the read's place meets a region), with or without ``--germline``; the same read far away does not."""
    record = line(0, 1390, "100M", "N" * 100, tags)
    for options in ([], ["--germline", str(files / "germline.vcf"), "-r", str(files / "ref.fa")]):
        _, found = findings(files, bam(files, record), "--bed", str(files / "str.bed"), *options)
        assert found["regions"].get("by_key") == {f"chr1:1401-1420 STR ({key})": 1}, found["regions"]
    _, found = findings(files, bam(files, record.replace("\t1391\t", "\t191\t")), "--bed", str(files / "str.bed"))
    assert found["regions"]["count"] == 0


def test_the_mates_bases_without_the_mates_place_are_a_region_finding(files: Path) -> None:
    """An R2 on a read whose mapped mate's place is not given (sam-mask-regions clears it in a
    region) cannot be placed: a finding, fail closed."""
    record = line(65, 100, "100M", REFERENCE[100:200], "\tR2:Z:" + REFERENCE[1390:1490])
    _, found = findings(files, bam(files, record), "--bed", str(files / "str.bed"))
    assert found["regions"].get("by_key") == {"aux R2 (no place for the mate)": 1}


def test_md_bases_at_compiled_equals_python() -> None:
    if scan.compiled is None:
        pytest.skip("the C build of _scan is absent")
    values = [b"82C17", b"10^AC5G0T3", b"100", b"1x", b"0A0", b"5^A", b"3^ACG0c2", b"", b"^A1"]
    text = b"".join(values)
    bounds = np.cumsum([0, *map(len, values)])
    offsets = np.arange(-1, 102)
    starts = np.repeat(bounds[:-1], len(offsets)).astype(np.int64)
    ends = np.repeat(bounds[1:], len(offsets)).astype(np.int64)
    every = np.tile(offsets, len(values)).astype(np.int64)
    compiled = scan.compiled.md_bases_at(text, starts, ends, MD_LETTERS, every)
    assert compiled.tolist() == scan.python.md_bases_at(text, starts, ends, MD_LETTERS, every).tolist()
    said = dict(zip(every[: len(offsets)].tolist(), compiled[: len(offsets)].tolist(), strict=True))
    assert said[81] == 0 and said[82] == ord("C") and said[99] == 0 and said[100] == -1


@pytest.mark.parametrize(
    ("mate_cigar", "expected"),
    [("40M2D60M", {"chr1:600 (aux MC)": 1}), ("38M2D62M", {}), ("40M3D60M", {}), ("100M", {}), ("40M2N60M", {"chr1:600 (aux MC)": 1})],
)
def test_a_mate_cigar_writing_a_germline_indel_is_a_germline_finding(files: Path, mate_cigar: str, expected: dict[str, int]) -> None:
    """An ``MC`` left from before the mate was reverted (``MC:Z:40M2D60M`` beside a mate now
    ``100M``) still says the mate deletes the germline allele's bases: laid at PNEXT, it is held
    to the list's indels as a read's own CIGAR is (the same kind and length along the repeat)."""
    deleted = REFERENCE[599:602]
    (files / "germline.vcf").write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=2000>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        f"chr1\t600\t.\t{deleted}\t{deleted[0]}\t.\t.\t.\n"
    )
    record = line(97, 300, "100M", REFERENCE[300:400], f"\tMC:Z:{mate_cigar}", mate="=\t561\t360")
    found = germline(files, bam(files, record))
    # the mate record is not in this file: its absence (and so TLEN) are findings of their own (audit_mates)
    assert {key: count for key, count in found.items() if "(aux MC)" in key} == expected
    mates = {"paired read whose mate record is absent", "TLEN (not the outer span of the read and its mate's MC)"}
    assert set(found) - set(expected) <= mates


@pytest.mark.parametrize("tags", ["\tSA:Z:1,1391,+,20M4I76M,60,4;", "\tXA:Z:1,+1391,20M4I76M,4;", "\tXB:Z:1,+1391,20M4I76M,4,90,60;"])
def test_a_listed_alignment_on_another_spelling_of_a_contig_is_placed_there(files: Path, tags: str) -> None:
    """``samtools reheader`` renames @SQ but no tag: a hit on ``1`` in a ``chr1`` header is read
    through the spellings (as the scrubbers read it), and one on a contig the header cannot place
    under any spelling is a finding of its own (fail closed)."""
    key = tags[1:3]
    record = line(0, 100, "100M", REFERENCE[100:200], tags)
    _, found = findings(files, bam(files, record), "--bed", str(files / "str.bed"))
    assert found["regions"].get("by_key") == {f"chr1:1401-1420 STR (aux {key})": 1}
    _, found = findings(files, bam(files, record.replace(":1,", ":chrZ,")), "--bed", str(files / "str.bed"))
    assert found["regions"].get("by_key") == {f"aux {key} (a contig the header lacks)": 1}


@pytest.mark.parametrize("tag", ["\tXA:Z:chr1,+1391,100M,4;", "\tXB:Z:chr1,-1391,100M,4,90,60;", "\tXA:Z:1,+1391,100M,4;"])
def test_a_read_whose_alternative_hit_lies_in_a_region_keeps_no_base(files: Path, tag: str) -> None:
    """bwa's XA/XB hit over a region (no indel in it) says the read may come from there:
    sam-mask-regions masks every base of such a read, so one that keeps a base is a finding;
    all N, or the hit away from the region, is none; and the masker's output passes."""
    key = {"chr1:1401-1420 STR (aux " + tag[1:3] + ", bases kept)": 1}
    kept = line(0, 100, "100M", REFERENCE[100:200], tag)
    _, found = findings(files, bam(files, kept), "--bed", str(files / "str.bed"))
    assert found["regions"].get("by_key") == key
    masked = line(0, 100, "100M", "N" * 100, tag)
    away = kept.replace("1391", "391")
    for record in (masked, away):
        _, found = findings(files, bam(files, record), "--bed", str(files / "str.bed"))
        assert found["regions"]["count"] == 0, found["regions"]
    source = files / "kept.sam"
    source.write_text("@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:chr1\tLN:2000\n@RG\tID:CMT001_00.L1\tSM:CMT001_00\n" + kept)
    output = files / "masked.bam"
    result = run_command("sam-mask-regions", "-q", "--bed", str(files / "str.bed"), "-O", "bam", "-o", str(output), str(source))
    assert result.returncode == 0, result.stderr
    _, found = findings(files, str(output), "--bed", str(files / "str.bed"))
    assert found["regions"]["count"] == 0, found["regions"]


def test_only_tags_makes_every_other_tag_a_finding_counted_by_tag(files: Path) -> None:
    """Red team 11 F3: reads over a germline window kept fewer tags than the others, so the reads
    without AS marked the sites. ``--only-tags`` names the tags a delivery may carry: any other
    allowlisted tag on any record is a metadata finding, counted by tag, its value never shown; a
    tag off the allowlist stays one finding (``aux tag CO``), not two."""
    sequence = REFERENCE[SITE - 50 : SITE + 50]
    path = bam(
        files,
        line(0, SITE - 50, "100M", sequence, "\tMD:Z:100\tNM:i:0\tAS:i:100\tOQ:Z:" + "I" * 100),
        line(0, SITE - 40, "100M", REFERENCE[SITE - 40 : SITE + 60], "\tMD:Z:100\tNM:i:0\tAS:i:97\tCO:Z:lab-note"),
        line(0, SITE + 400, "100M", REFERENCE[SITE + 400 : SITE + 500], "\tMD:Z:100\tNM:i:0"),
    )
    status, found = findings(files, path)
    assert status == 1 and found["metadata"]["by_key"] == {"aux tag CO": 1}
    status, found = findings(files, path, "--only-tags", "RG,MD,NM")
    off_list = {"aux tag AS (off --only-tags)": 2, "aux tag OQ (off --only-tags)": 1}
    assert status == 1 and found["metadata"]["by_key"] == {"aux tag CO": 1, **off_list}
    assert found["metadata"]["examples"]["aux tag AS (off --only-tags)"] == [f"chr1:{SITE - 49}", f"chr1:{SITE - 39}"]
    _, found = findings(files, path, "--only-tags", "MD,NM,AS,OQ")  # RG unlisted too: every record carries it
    assert found["metadata"]["by_key"] == {"aux tag CO": 1, "aux tag RG (off --only-tags)": 3}
    listed = bam(files, line(0, SITE + 400, "100M", REFERENCE[SITE + 400 : SITE + 500], "\tMD:Z:100"))
    _, found = findings(files, listed, "--only-tags", "RG,MD")
    assert found["metadata"]["count"] == 0


@pytest.mark.parametrize("value", ["RG,MD,N", "RG;MD", "RG,,MD"])
def test_only_tags_refuses_what_is_not_a_list_of_tag_names(files: Path, value: str) -> None:
    path = bam(files, line(0, SITE + 400, "100M", REFERENCE[SITE + 400 : SITE + 500]))
    result = run_command("genoscrub-audit", "--only-tags", value, path)
    assert result.returncode == 2 and result.stderr.decode().strip() == (
        "genoscrub-audit: --only-tags: each aux tag is two letters or digits, the tags separated by commas"
    )
