"""genoscrub-audit --germline reads an alignment as htslib's readers do (red teams 5a and 5b).

- a CIGAR of more than 65535 operations, stored as ``<l_seq>S<n>N`` and ``CG:B:I`` (SAM 1.6,
  section 4.2.2), is read from CG, by the C walk and its numpy twin, in BAM and SAM;
- a CIGAR operation none of ``MIDNSHP=X`` (``B``) is a finding, as every scrubber refuses it;
- an SNV written as an insertion beside the deletion or skip of its base (``1I1D``, ``1D1I``,
  ``1N1I``) is carried, and so is an ``X`` at its position, in the read's CIGAR, its mate's ``MC``
  or its ``cg``, whatever the bases;
- a record without SEQ shows what its CIGAR and MD write;
- a deletion written as mismatches after one match is carried;
- an indel allele is judged by the read's alignment: a gap that writes it anywhere along its
  repeat is carried whatever the bases, and another indel nearby (a long read's errors, a
  somatic indel) neither hides a carried allele nor makes one of a reference read.

Inputs are built here with pysam; the findings are compared with what bcftools mpileup reads.
"""

from __future__ import annotations

import gzip
import json
import random
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pysam
import pytest
from genoscrub import audit_bam, audit_reads, scan
from genoscrub.audit_bam import CIGAR_OFF_GRAMMAR, MD_AT_SITE, BamAudit, CountedBlocks, RecordChecks, bgzf_blocks, read_header
from genoscrub.audit_findings import Findings
from genoscrub.audit_mates import EQUALS_BASE, MATE_ABSENT, MATE_PLACE, MATE_SUM, TEMPLATE_LENGTH
from genoscrub.audit_sites import STRUCTURAL_LIMIT, GermlineSites, Reference, read_variants
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run_command

Cigar = list[tuple[int, int]]
M, I, D, N, S = 0, 1, 2, 3, 4  # noqa: E741 - the CIGAR letters
REPEAT = "TAGA" * 8
REPEAT_AT = 2000  # 0-based start of the repeat


def reference_bases(length: int) -> str:
    rng = random.Random(3)
    bases = [rng.choice("ACGT") for _ in range(length)]
    if length > REPEAT_AT + len(REPEAT) + 10:
        bases[REPEAT_AT - 1] = "C"  # no TAGA before the repeat, nor after it
        bases[REPEAT_AT : REPEAT_AT + len(REPEAT)] = REPEAT
        bases[REPEAT_AT + len(REPEAT)] = "C"
    return "".join(bases)


def write_inputs(folder: Path, reference: str, sites: list[tuple[int, str, str]]) -> None:
    """ref.fa and germline.vcf: ``sites`` are (0-based position, REF, ALT)."""
    (folder / "ref.fa").write_text(">chr1\n" + "\n".join(reference[i : i + 60] for i in range(0, len(reference), 60)) + "\n")
    pysam.faidx(str(folder / "ref.fa"))
    lines = "".join(f"chr1\t{position + 1}\t.\t{ref}\t{alt}\t50\tPASS\t.\n" for position, ref, alt in sites)
    header = f"##fileformat=VCFv4.2\n##contig=<ID=chr1,length={len(reference)}>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    (folder / "germline.vcf").write_text(header + lines)


def write_bam(path: Path, length: int, reads: list[tuple[int, Cigar, str]]) -> Path:
    """One read a record (pysam, so htslib's own encoding: a CIGAR of more than 65535
    operations goes to CG), sorted."""
    header = pysam.AlignmentHeader.from_dict({"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr1", "LN": length}]})
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for number, (position, cigar, sequence) in enumerate(sorted(reads, key=lambda read: read[0])):
            read = pysam.AlignedSegment(header)
            read.query_name, read.reference_id, read.reference_start, read.mapping_quality = f"READ{number}", 0, position, 60
            read.cigartuples = cigar
            read.query_sequence = sequence
            read.query_qualities = pysam.qualitystring_to_array("I" * len(sequence))
            out.write(read)
    return path


def audited(path: Path, folder: Path, pure: bool = False, all_below_mapq: int = 0) -> dict[str, Any]:
    """The findings of --germline on ``path``, in one process, with the C walk or its numpy twin
    (with ``all_below_mapq``, reads of a lower MAPQ held to the reference, ``--all-below-mapq``)."""
    reference = Reference(str(folder / "ref.fa"))
    variants = read_variants(str(folder / "germline.vcf"), "germline list")
    with pytest.MonkeyPatch.context() as monkeypatch:
        if pure:
            monkeypatch.setattr(audit_bam.scan, "bam_records", scan.python.bam_records)
        with open(path, "rb") as stream:
            blocks = CountedBlocks(bgzf_blocks(stream, str(path)))
            header, rest = read_header(blocks, str(path))
            names = {name: length for name, length in header.references}
            low = audit_bam.LowMappingQuality(all_below_mapq, reference, list(names)) if all_below_mapq else None
            checks = RecordChecks(str(path), list(names), germline=GermlineSites(variants, "germline", names, reference), low_mapq=low)
            findings = Findings()
            BamAudit(checks, findings, 1).run(blocks, rest)
    return findings.as_dict()


def germline_keys(found: dict[str, Any]) -> dict[str, int]:
    return dict(found["germline"].get("by_key", {}))


def test_a_read_of_more_than_65535_cigar_operations_is_read_from_cg(tmp_path: Path) -> None:
    """An ultra-long read (1M1I 33000 times) carrying a germline SNV: htslib writes its CIGAR
    to CG; the audit finds the allele in the BAM, by either walk, and in the SAM text."""
    reference = reference_bases(40000)
    site = 20000
    alt = "A" if reference[site] != "A" else "C"
    write_inputs(tmp_path, reference, [(site, reference[site], alt)])
    start, pairs = 5000, 33000
    sequence = "".join((alt if position == site else reference[position]) + "G" for position in range(start, start + pairs))
    path = write_bam(tmp_path / "long.bam", len(reference), [(start, [(M, 1), (I, 1)] * pairs, sequence)])
    with gzip.open(path) as stream:
        assert b"CGBI" in stream.read()  # stored as the placeholder and CG, as every BAM writer stores it
    for pure in (False, True):
        found = audited(path, tmp_path, pure)
        assert germline_keys(found) == {f"chr1:{site + 1}": 1}
        assert "aux tag CG" not in found["metadata"].get("by_key", {})  # htslib's CG is the CIGAR to a reader, not a tag
    cigar_tag = tmp_path / "cg.sam"  # beside a CIGAR of its own, a CG is free numbers (KIMJ as I numbers here)
    cigar_tag.write_text(f"@SQ\tSN:chr1\tLN:{len(reference)}\nREAD1\t0\tchr1\t100\t60\t4M\t*\t0\t0\tACGT\tIIII\tCG:B:I,75,73,77,74\n")
    pysam.view("-b", "-o", str(tmp_path / "cg.bam"), str(cigar_tag), catch_stdout=False)
    assert audited(tmp_path / "cg.bam", tmp_path)["metadata"]["by_key"] == {"aux tag CG": 1}
    sam = tmp_path / "long.sam"
    sam.write_text(str(pysam.view("-h", str(path))))
    report = tmp_path / "report.json"
    germline, fasta = str(tmp_path / "germline.vcf"), str(tmp_path / "ref.fa")
    result = run_command("genoscrub-audit", "-q", "-j", "1", "--report", str(report), "--germline", germline, "-r", fasta, str(sam))
    assert result.returncode == 1, result.stderr
    assert germline_keys(json.loads(report.read_text())["files"][0]["findings"]) == {f"chr1:{site + 1}": 1}


def test_a_cigar_operation_off_midnshpx_is_a_finding(tmp_path: Path) -> None:
    """``B`` (htslib's code 9), which every scrubber refuses: a metadata finding, by either walk;
    the same read without it is none."""
    reference = reference_bases(3000)
    write_inputs(tmp_path, reference, [(1518, reference[1518], "A" if reference[1518] != "A" else "C")])
    back = write_bam(
        tmp_path / "back.bam", len(reference), [(1479, [(M, 39), (9, 5), (M, 66)], reference[1479:1518] + reference[1513:1579])]
    )
    for pure in (False, True):
        found = audited(back, tmp_path, pure)
        assert found["metadata"]["by_key"] == {CIGAR_OFF_GRAMMAR: 1}, found["metadata"]
    plain = write_bam(tmp_path / "plain.bam", len(reference), [(1479, [(M, 105)], reference[1479:1584])])
    assert audited(plain, tmp_path)["metadata"]["count"] == 0


@pytest.mark.parametrize("order", ["1I1D", "1D1I", "1N1I", "1I1N"])
def test_an_snv_written_as_an_insertion_beside_its_deleted_base_is_carried(tmp_path: Path, order: str) -> None:
    """``82M1I1D17M`` and ``82M1D1I17M`` with the ALT base inserted where the site's base is
    deleted (how some aligners score a mismatch), and so with the base skipped (``1N1I``, a skip
    counting as a deletion): carried; with another base inserted, not."""
    reference = reference_bases(3000)
    site = 1889
    alt = "A" if reference[site] != "A" else "C"
    other = next(base for base in "ACGT" if base not in (alt, reference[site]))
    write_inputs(tmp_path, reference, [(site, reference[site], alt)])
    gap = [({"I": I, "D": D, "N": N}[order[at]], 1) for at in (1, 3)]
    for inserted, carried in ((alt, True), (other, False)):
        sequence = reference[site - 82 : site] + inserted + reference[site + 1 : site + 18]
        path = write_bam(tmp_path / f"{inserted}.bam", len(reference), [(site - 82, [(M, 82), *gap, (M, 17)], sequence)])
        assert germline_keys(audited(path, tmp_path)) == ({f"chr1:{site + 1}": 1} if carried else {})


def indel_reads(reference: str, site: int) -> dict[str, tuple[int, Cigar, str, bool]]:
    """The red team's reads at the deletion of ``reference[site + 1]``: (start, CIGAR, bases,
    carries it)."""
    start = site - 89

    def bases(first: int, count: int) -> str:
        return reference[first : first + count]

    after = site + 2  # the first base after the deleted one
    return {
        "plain carrier": (start, [(M, 90), (D, 1), (M, 93)], bases(start, 90) + bases(after, 93), True),
        "carrier, an insertion each side": (
            start, [(M, 77), (I, 1), (M, 13), (D, 1), (M, 12), (I, 1), (M, 80)],
            bases(start, 77) + "A" + bases(start + 77, 13) + bases(after, 12) + "G" + bases(after + 12, 80), True,
        ),
        "carrier, an insertion 5 right": (
            start, [(M, 77), (I, 1), (M, 13), (D, 1), (M, 5), (I, 1), (M, 87)],
            bases(start, 77) + "A" + bases(start + 77, 13) + bases(after, 5) + "G" + bases(after + 5, 87), True,
        ),
        "reference, a deletion 13 right": (start, [(M, 103), (D, 1), (M, 80)], bases(start, 103) + bases(start + 104, 80), False),
        "reference, a deletion 31 right": (start, [(M, 121), (D, 1), (M, 80)], bases(start, 121) + bases(start + 122, 80), False),
    }  # fmt: skip


def test_another_indel_beside_a_germline_deletion_does_not_decide_it(tmp_path: Path) -> None:
    """A germline 1-base deletion outside any repeat: reads that carry it with error insertions
    a few bases away are found, reads of the reference with a deletion 13 or 31 bases away are
    not (each as bcftools mpileup reads it)."""
    reference = reference_bases(3000)
    site = next(at for at in range(938, 1100) if len({reference[at], reference[at + 1], reference[at + 2]}) == 3)
    write_inputs(tmp_path, reference, [(site, reference[site : site + 2], reference[site])])
    for name, (start, cigar, sequence, carried) in indel_reads(reference, site).items():
        path = write_bam(tmp_path / "read.bam", len(reference), [(start, cigar, sequence)])
        pysam.index(str(path))
        region, fasta = f"chr1:{site + 1}", str(tmp_path / "ref.fa")
        pileup = subprocess.run(
            ["bcftools", "mpileup", "--min-ireads", "1", "-f", fasta, "-r", region, str(path)], capture_output=True, text=True, check=True
        ).stdout
        called = any(line.split("\t")[4].startswith(reference[site]) for line in pileup.splitlines() if not line.startswith("#"))
        assert called == carried, name  # the independent reading
        assert germline_keys(audited(path, tmp_path)) == ({f"chr1:{site + 1}": 1} if carried else {}), name


def test_a_deletion_written_anywhere_along_its_repeat_is_carried_whatever_the_bases(tmp_path: Path) -> None:
    """One TAGA of (TAGA)8 deleted: the read's 4D at the repeat's left end, one unit in, at its
    right end, or at its left end with the read clipped inside the repeat (its bases fit both
    haplotypes, its CIGAR shows the deletion) is carried; a read of the reference across the
    repeat with a 1-base deletion 13 bases past it is not."""
    reference = reference_bases(3000)
    site = REPEAT_AT - 1  # the base before the repeat, and the first TAGA
    write_inputs(tmp_path, reference, [(site, reference[site : site + 5], reference[site])])
    haplotype = reference[:REPEAT_AT] + reference[REPEAT_AT + 4 :]
    start = REPEAT_AT - 100
    reads = {
        f"4D at repeat offset {offset}": (start, [(M, 100 + offset), (D, 4), (M, 80 - offset)], haplotype[start : start + 180], True)
        for offset in (0, 4, len(REPEAT) - 4)
    }
    clipped_at = REPEAT_AT + 4
    reads["clipped inside the repeat"] = (
        start,
        [(M, 100), (D, 4), (S, 10)],
        reference[start:REPEAT_AT] + reference[clipped_at : clipped_at + 10],
        True,
    )
    end = REPEAT_AT + len(REPEAT)
    reads["reference, a deletion past the repeat"] = (
        start,
        [(M, end - start + 13), (D, 1), (M, 40)],
        reference[start : end + 13] + reference[end + 14 : end + 54],
        False,
    )
    for name, (position, cigar, sequence, carried) in reads.items():
        path = write_bam(tmp_path / "read.bam", len(reference), [(position, cigar, sequence)])
        assert germline_keys(audited(path, tmp_path)) == ({f"chr1:{site + 1}": 1} if carried else {}), name


def spliced_error(cigar: Cigar, position: int, sequence: str, away: tuple[int, int], rng: random.Random) -> tuple[Cigar, str] | None:
    """The read with a 1-base error insertion spliced into an aligned run, at a reference
    position a few bases more than ``away[1]`` from ``away[0]``; None where it has no such place."""
    query, reference = 0, position
    for index, (op, length) in enumerate(cigar):
        for step in range(2, length - 2) if op == M else ():
            if away[1] < abs(reference + step - away[0]) < away[1] + 6:
                changed = [*cigar[:index], (M, step), (I, 1), (M, length - step), *cigar[index + 1 :]]
                return changed, sequence[: query + step] + rng.choice("ACGT") + sequence[query + step :]
        query += length if op in (M, I, S) else 0
        reference += length if op in (M, D) else 0
    return None


def test_an_error_indel_away_from_a_repeat_neither_hides_nor_makes_its_indel(tmp_path: Path) -> None:
    """A seeded sweep: an insertion or deletion of one or two units at a repeat; reads of its ALT
    haplotype spelled by the test aligner under random scorings (gaps at either end of the
    repeat, mismatches, clips), each also with a 1-base error insertion spliced in away from the
    repeat, and reads of the reference with a 1-base error indel away from it. A read found
    without the error is found with it; no reference read is found."""
    from tests.spelling import Scoring, align

    rng = random.Random(20261206)
    letters = {"M": M, "I": I, "D": D, "S": S}
    for case in range(15):
        unit = rng.choice(["A", "CA", "AGC", "ATCT", "TTTG"])
        reference = "".join(rng.choice("ACGT") for _ in range(300)) + unit * rng.randint(2, 8)
        repeat_end = len(reference)
        reference += "".join(rng.choice("ACGT") for _ in range(300))
        anchor = 299
        if case % 2:
            ref, alt = reference[anchor : anchor + 1 + min(len(unit) * rng.randint(1, 2), repeat_end - anchor - 1)], reference[anchor]
        else:
            ref, alt = reference[anchor], reference[anchor] + unit * rng.randint(1, 2)
        folder = tmp_path / f"case{case}"
        folder.mkdir()
        write_inputs(folder, reference, [(anchor, ref, alt)])
        haplotype = reference[:anchor] + alt + reference[anchor + len(ref) :]
        away = ((anchor + repeat_end) // 2, (repeat_end - anchor) // 2 + 2 * len(unit) * 2 + 12)
        for number in range(6):
            position = anchor - rng.randint(5, 40)  # the site near the read's start, the error just past the repeat
            edge = away[0] + rng.choice([-1, 1, 1, 1]) * (away[1] + rng.randint(1, 6)) - position
            if rng.random() < 0.5:
                bases = reference[position : position + edge] + reference[position + edge + 1 : position + 101]
                cigar = [(M, edge), (D, 1), (M, 100 - edge)]
            else:
                bases = reference[position : position + edge] + rng.choice("ACGT") + reference[position + edge : position + 99]
                cigar = [(M, edge), (I, 1), (M, 99 - edge)]
            if 3 < edge < 96:
                path = write_bam(folder / "ref.bam", len(reference), [(position, cigar, bases)])
                assert germline_keys(audited(path, folder)) == {}, (case, cigar)
            start = max(0, anchor + rng.randint(-30, 5))
            read = haplotype[start : start + 100]
            scoring = Scoring(mismatch=rng.randint(1, 20), gap_open=rng.randint(1, 8), gap_extend=rng.randint(1, 3),
                              gap_bar=rng.choice([0, 0, 4]), clip=rng.choice([None, 2, 6]), gaps_right=rng.random() < 0.5)  # fmt: skip
            window = max(0, start - 12)
            offset, operations = align(read, reference[window : start + 140], scoring)
            cigar = [(letters[op], length) for op, length in operations]
            spliced = spliced_error(cigar, window + offset, read, away, rng)
            if M not in [op for op, _ in cigar] or spliced is None:
                continue
            found = germline_keys(audited(write_bam(folder / "alt.bam", len(reference), [(window + offset, cigar, read)]), folder))
            with_error = germline_keys(audited(write_bam(folder / "err.bam", len(reference), [(window + offset, *spliced)]), folder))
            assert not found or with_error, (case, number, cigar, spliced[0])


@pytest.mark.parametrize("pure", [False, True])
def test_a_clip_over_a_germline_site_is_a_finding_whatever_its_bases(tmp_path: Path, pure: bool) -> None:
    """A soft or hard clip at either end (both together, ``5H3S``, laid beside the alignment) that
    covers a germline deletion's REF span is ``clip at a germline site``, even with the reference's
    bases in it (an aligner clipped there: the clip's edge marks the carrier); one that stops short
    of the span, or lies within ``CLIP_MARGIN`` of it (what sam-revert-germline removes too), is not."""
    reference = reference_bases(3000)
    write_inputs(tmp_path, reference, [(999, reference[999:1010], reference[999])])  # deletes 1000-1009
    H = 5
    reads = {
        "right soft clip over it": (850, [(M, 150), (S, 3)], reference[850:1003], True),
        "left soft clip over it": (1010, [(S, 3), (M, 147)], reference[1007:1157], True),
        "hard then soft clip over it": (1012, [(H, 5), (S, 3), (M, 142)], reference[1009:1154], True),
        "supplementary part": (1010, [(H, 90), (M, 60)], reference[1010:1070], True),
        "clip short of it": (1020, [(S, 3), (M, 147)], reference[1017:1167], False),
        "no clip": (1010, [(M, 150)], reference[1010:1160], False),
    }
    for name, (position, cigar, sequence, found) in reads.items():
        path = write_bam(tmp_path / "one.bam", len(reference), [(position, cigar, sequence)])
        keys = germline_keys(audited(path, tmp_path, pure))
        assert (keys.get(audit_bam.CLIP_AT_SITE) == 1) is found, (name, keys)


def write_sam_as_bam(path: Path, length: int, lines: list[str]) -> Path:
    """SAM records written as they are (SEQ ``*``, tags), turned into BAM by htslib."""
    sam = path.with_suffix(".sam")
    sam.write_text(f"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:{length}\n" + "".join(lines))
    pysam.view("-b", "-o", str(path), str(sam), catch_stdout=False)
    return path


@pytest.mark.parametrize("pure", [False, True])
def test_a_record_without_seq_shows_what_its_cigar_and_md_write(tmp_path: Path, pure: bool) -> None:
    """SEQ ``*`` (bwa's and minimap2's secondary alignments, and every secondary sam-revert-germline
    writes): a CIGAR that writes the listed deletion is carried, a secondary, supplementary or
    primary alike, and an MD naming a mismatch at the listed SNV is ``aux MD (a mismatch at a
    germline site SEQ does not show)``; the same records written ``50M`` and MD ``50`` are clean."""
    reference = reference_bases(3000)
    snv, deletion = 999, 1999
    alt = "A" if reference[snv] != "A" else "C"
    write_inputs(tmp_path, reference, [(snv, reference[snv], alt), (deletion, reference[deletion : deletion + 4], reference[deletion])])
    for flag in (256, 2048, 0):
        gapped = write_sam_as_bam(tmp_path / "gap.bam", len(reference), [f"R\t{flag}\tchr1\t1981\t60\t20M3D30M\t*\t0\t0\t*\t*\n"])
        assert germline_keys(audited(gapped, tmp_path, pure)) == {f"chr1:{deletion + 1}": 1}, flag
    md = write_sam_as_bam(tmp_path / "md.bam", len(reference), [f"R\t256\tchr1\t980\t60\t50M\t*\t0\t0\t*\t*\tMD:Z:20{reference[snv]}29\n"])
    assert germline_keys(audited(md, tmp_path, pure)) == {MD_AT_SITE: 1}
    gapped_md = write_sam_as_bam(
        tmp_path / "gmd.bam", len(reference), [f"R\t256\tchr1\t980\t60\t10M2I40M\t*\t0\t0\t*\t*\tMD:Z:20{reference[snv]}29\n"]
    )
    assert germline_keys(audited(gapped_md, tmp_path, pure)) == {MD_AT_SITE: 1}
    clean = [
        "R\t256\tchr1\t1981\t60\t50M\t*\t0\t0\t*\t*\tMD:Z:50\n",
        "S\t256\tchr1\t1981\t60\t10M2I40M\t*\t0\t0\t*\t*\tMD:Z:50\n",
    ]
    assert germline_keys(audited(write_sam_as_bam(tmp_path / "clean.bam", len(reference), clean), tmp_path, pure)) == {}


@pytest.mark.parametrize("pure", [False, True])
def test_an_x_at_a_germline_snv_is_carried_whatever_the_bases(tmp_path: Path, pure: bool) -> None:
    """An ``X`` (a base that differs from the reference: minimap2 ``--eqx``) over a listed SNV marks
    the carrier, as a clip's edge does, with SEQ all the reference's: in the read's own CIGAR
    (``20=1X29=``, ``20M1X29M``, beside a deletion elsewhere), its mate's ``MC`` (keyed ``(aux MC)``)
    or minimap2's ``cg`` (keyed ``(aux cg)``, which also writes indels as ``MC`` does); counted once
    with the ALT base there too. An ``X`` beside the site, or ``=`` over it, is nothing."""
    reference = reference_bases(3000)
    snv, deletion = 999, 1999
    alt = "A" if reference[snv] != "A" else "C"
    write_inputs(tmp_path, reference, [(snv, reference[snv], alt), (deletion, reference[deletion : deletion + 4], reference[deletion])])
    bases = reference[979:1029]
    carried = reference[979:999] + alt + reference[1000:1029]

    def found(lines: list[str]) -> dict[str, int]:
        return germline_keys(audited(write_sam_as_bam(tmp_path / "x.bam", len(reference), lines), tmp_path, pure))

    site = f"chr1:{snv + 1}"
    for cigar, sequence in (("20=1X29=", bases), ("20M1X29M", bases), ("20=1X29=", carried), ("5M2D13M1X29M", bases[:5] + bases[7:])):
        assert found([f"R\t0\tchr1\t980\t60\t{cigar}\t*\t0\t0\t{sequence}\t*\n"]) == {site: 1}, cigar
    assert found([f"R\t0\tchr1\t980\t60\t1X49M\t*\t0\t0\t{bases}\t*\n", f"S\t0\tchr1\t980\t60\t50=\t*\t0\t0\t{bases}\t*\n"]) == {}
    assert found([f"R\t0\tchr1\t980\t60\t19=1X30=\t*\t0\t0\t{bases}\t*\n"]) == {}
    mate = f"R\t163\tchr1\t980\t60\t50M\t=\t2500\t1570\t{bases}\t*\tMC:Z:50M\n"
    read = f"R\t83\tchr1\t2500\t60\t50M\t=\t980\t-1570\t{reference[2499:2549]}\t*\tMC:Z:20=1X29=\n"
    assert found([mate, read]) == {f"{site} (aux MC)": 1}
    assert found([f"R\t0\tchr1\t980\t60\t50M\t*\t0\t0\t{bases}\t*\tcg:Z:20=1X29=\n"]) == {f"{site} (aux cg)": 1}
    gapped = reference[1950:1955] + reference[1958:2003]
    cg = f"R\t0\tchr1\t1951\t60\t5M3D45M\t*\t0\t0\t{gapped}\t*\tcg:Z:50M3D\n"
    assert found([cg]) == {f"chr1:{deletion + 1} (aux cg)": 1}
    assert found([f"R\t0\tchr1\t980\t60\t50M\t*\t0\t0\t{bases}\t*\tcg:Z:50=\n"]) == {}


@pytest.mark.parametrize("pure", [False, True])
def test_a_deletion_written_as_mismatches_after_one_match_is_carried(tmp_path: Path, pure: bool) -> None:
    """A read of a listed deletion's haplotype aligned as one match (``50M``, the bases after the
    deletion shifted against the reference: an aligner writes an indel near a read's end so) is
    carried, as the same read written ``41M3D9M`` is; a read of the reference with a sequencing
    error after the site is not, nor one without SEQ."""
    reference = reference_bases(3000)
    deletion = next(at for at in range(1999, 2100) if reference[at + 4 : at + 13] != reference[at + 1 : at + 10])
    write_inputs(tmp_path, reference, [(deletion, reference[deletion : deletion + 4], reference[deletion])])
    start = deletion - 40
    haplotype = reference[start : deletion + 1] + reference[deletion + 4 : deletion + 13]
    error = reference[start : deletion + 5] + ("A" if reference[deletion + 5] != "A" else "C") + reference[deletion + 6 : start + 50]
    site = {f"chr1:{deletion + 1}": 1}
    for cigar, sequence, expected in (("50M", haplotype, site), ("41M3D9M", haplotype, site), ("50M", error, {}), ("50M", "*", {})):
        path = write_sam_as_bam(tmp_path / "d.bam", len(reference), [f"R\t0\tchr1\t{start + 1}\t60\t{cigar}\t*\t0\t0\t{sequence}\t*\n"])
        assert germline_keys(audited(path, tmp_path, pure)) == expected, (cigar, sequence)


class FixedReference:
    """A reference of one contig, ``c``, held in memory (``audit_sites.Reference.fetch``'s clipping)."""

    def __init__(self, bases: bytes) -> None:
        self.bases = bases

    def fetch(self, contig: str, start: int, end: int) -> bytes:
        return self.bases[max(0, start) : max(0, min(end, len(self.bases)))]


@settings(max_examples=500, deadline=None)
@given(
    st.integers(0, 2**32),
    st.sampled_from([40, 300, 1500]),
    st.sampled_from(["deletion", "insertion", "complex"]),
    st.booleans(),
    st.lists(st.tuples(st.integers(0, 200), st.sampled_from(b"ACGTN=")), max_size=6),
)
def test_a_read_of_one_match_settled_in_bulk_fits_no_allele_one_by_one(
    seed: int, size: int, kind: str, carrier: bool, errors: list[tuple[int, int]]
) -> None:
    """``audit_reads.alternate_may_fit``, which lets the bulk path settle a read of one match whose
    bases differ from the reference's in a few places, says False only where the one-by-one rule
    (``supports_alternate``) finds no allele: a read of either haplotype, over a repeat, with
    errors and Ns, at any place over the site."""
    generator = random.Random(seed)
    bases = bytearray(generator.choice(b"ACGT") for _ in range(size))
    unit = bytes(generator.choice(b"ACGT") for _ in range(generator.randint(1, 3)))
    at = generator.randrange(size)
    repeat = (unit * generator.randint(1, 10))[: size - at]
    bases[at : at + len(repeat)] = repeat
    reference = bytes(bases)
    start = generator.randrange(size - 1)
    if kind == "deletion":
        ref = reference[start : start + generator.randint(2, 6)]
        alt = ref[:1]
    elif kind == "insertion":
        ref = reference[start : start + 1]
        alt = ref + (unit * 4)[: generator.randint(1, 6)]
    else:
        ref = reference[start : start + generator.randint(1, 3)]
        alt = bytes(generator.choice(b"ACGT") for _ in range(len(ref) + 2))
    haplotype = reference[:start] + alt + reference[start + len(ref) :] if carrier else reference
    read_start = generator.randint(max(0, start - 150), start + len(ref))
    length = min(generator.randint(1, 150), size - read_start)
    sequence = bytearray(haplotype[read_start : read_start + length].ljust(length, b"A"))
    for offset, base in errors:
        sequence[offset % length] = base
    fixed = FixedReference(reference)
    read = audit_reads.equals_resolved(
        audit_reads.AlignedRead.from_cigar("c", read_start, [(0, length)], bytes(sequence)), fixed, "c"  # type: ignore[arg-type]
    )
    laid = reference[read_start : read_start + length]
    differing = sum(base != expected and base != ord("N") for base, expected in zip(read.sequence, laid, strict=True))
    bound = 2 * differing + read.sequence.count(b"N")
    carried = audit_reads.supports_alternate(read, "c", fixed, start, ref, alt)  # type: ignore[arg-type]
    if carried:
        assert differing and audit_reads.alternate_may_fit(fixed, "c", (start, ref, alt), read_start, length, bound)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 5), st.integers(1, 12))
def test_the_pairs_of_read_and_allele_are_judged_at_once_as_one_by_one(seed: int, allele_count: int, read_count: int) -> None:
    """``audit_reads.alternates_may_fit_pairs``, which ``audit_bam.alternates_may_fit`` asks for
    every pair of read and allele of a block at once, says for each pair what
    ``alternate_may_fit`` says of it alone: alleles of every kind, near either end of the
    reference too (where the reference ends before REF: always True), reads at any place over
    them, any bound."""
    generator = random.Random(seed)
    size = generator.choice([30, 300, 1200])
    reference = bytes(generator.choice(b"ACGT") for _ in range(size))
    fixed = FixedReference(reference)
    alleles = []
    for _ in range(allele_count):
        start = generator.randrange(size + 3)  # past the end too: REF then runs off the reference
        ref = (reference[start : start + generator.randint(1, 6)] or b"A").ljust(generator.randint(1, 6), b"C")
        alt = generator.choice([ref[:1], ref[:1] + bytes(generator.choice(b"ACGT") for _ in range(generator.randint(1, 8))),
                                bytes(generator.choice(b"ACGT") for _ in range(len(ref) + generator.randint(1, 3)))])  # fmt: skip
        alleles.append((fixed, "c", (start, ref, alt)))
    pairs = [
        (generator.randrange(allele_count), generator.randint(-20, size), generator.randint(0, 600), generator.randint(0, 40))
        for _ in range(read_count)
    ]
    allele, read_starts, lengths, bounds = (np.array(column, dtype=np.int64) for column in zip(*pairs, strict=True))
    judged = audit_reads.alternates_may_fit_pairs(alleles, allele, read_starts, lengths, bounds)  # type: ignore[arg-type]
    one_by_one = [
        audit_reads.alternate_may_fit(fixed, "c", alleles[which][2], read_start, length, bound)  # type: ignore[arg-type]
        for which, read_start, length, bound in pairs
    ]
    assert judged.tolist() == one_by_one


@pytest.mark.parametrize(("pure", "declared"), [(False, True), (True, True), (False, False)])
def test_a_symbolic_germline_deletion_or_insertion_is_held_to_reads(tmp_path: Path, pure: bool, declared: bool) -> None:
    """A germline list's ``<DEL>`` (END, or SVLEN alone) and ``<INS>`` (SVLEN) are held to reads
    as the deletion and insertion of their length: a gap that writes one, a clip where the
    deletion starts; a read of the reference across them, or such a gap 500 bases away, is clean.
    A symbolic allele of more than ``STRUCTURAL_LIMIT`` bases is held to reads by a clip over its
    breakpoints alone. END and SVLEN are read where the header does not declare them too (htslib
    then keeps END out of INFO)."""
    reference = reference_bases(12000)
    write_inputs(tmp_path, reference, [])
    records = [
        f"chr1\t3000\t.\t{reference[2999]}\t<DEL>\t50\tPASS\tSVTYPE=DEL;SVLEN=-41;END=3041\n",
        f"chr1\t5000\t.\t{reference[4999]}\t<DEL>\t50\tPASS\tSVTYPE=DEL;SVLEN=-30\n",
        f"chr1\t7000\t.\t{reference[6999]}\t<INS>\t50\tPASS\tSVTYPE=INS;SVLEN=60\n",
        f"chr1\t9000\t.\t{reference[8999]}\t<DEL>\t50\tPASS\tSVTYPE=DEL;END={9000 + STRUCTURAL_LIMIT + 1}\n",
    ]
    header = (
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=12000>\n##ALT=<ID=DEL,Description=\"Deletion\">\n"
        "##ALT=<ID=INS,Description=\"Insertion\">\n##INFO=<ID=END,Number=1,Type=Integer,Description=\"End\">\n"
        "##INFO=<ID=SVLEN,Number=.,Type=Integer,Description=\"Length\">\n##INFO=<ID=SVTYPE,Number=1,Type=String,Description=\"Type\">\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    )
    if not declared:
        header = "".join(line + "\n" for line in header.splitlines() if not line.startswith("##INFO"))
    (tmp_path / "germline.vcf").write_text(header + "".join(records))
    clip = audit_bam.CLIP_AT_SITE
    reads = {
        "the <DEL> by END": ((2980, [(M, 20), (D, 41), (M, 30)], reference[2980:3000] + reference[3041:3071]), {"chr1:3000": 1}),
        "clipped where it starts": (
            (2970, [(M, 30), (S, 20)], reference[2970:3000] + reference[3041:3061]), {"chr1:3000": 1, audit_bam.CLIP_AT_SITE: 1}
        ),
        "the <DEL> by SVLEN": ((4980, [(M, 20), (D, 30), (M, 30)], reference[4980:5000] + reference[5030:5060]), {"chr1:5000": 1}),
        "the <INS>": ((6980, [(M, 20), (I, 60), (M, 30)], reference[6980:7000] + "ACGT" * 15 + reference[7000:7030]), {"chr1:7000": 1}),
        "a deletion of its length elsewhere": ((3480, [(M, 20), (D, 41), (M, 30)], reference[3480:3500] + reference[3541:3571]), {}),
        "the reference": ((2980, [(M, 100)], reference[2980:3080]), {}),
        "past the limit": ((8980, [(M, 20), (D, STRUCTURAL_LIMIT + 1), (M, 30)], reference[8980:9000] + reference[10001:10031]), {}),
        "past the limit, clipped at its end": ((10001, [(S, 20), (M, 30)], reference[8980:9000] + reference[10001:10031]), {clip: 1}),
        "past the limit, clipped inside": ((9500, [(S, 20), (M, 30)], reference[9480:9530]), {}),
    }
    for name, (read, expected) in reads.items():
        path = write_bam(tmp_path / "sv.bam", len(reference), [read])
        assert germline_keys(audited(path, tmp_path, pure)) == expected, name


@pytest.mark.parametrize("pure", [False, True])
def test_a_clip_in_a_mates_cigar_or_in_cg_at_a_germline_site_is_carried(tmp_path: Path, pure: bool) -> None:
    """A clip whose bases, laid beside the alignment, cover a listed site marks a carrier whoever
    writes it: the read's own CIGAR, its mate's ``MC`` (the mate's record may have left the file;
    keyed ``(aux MC)``) or minimap2's ``cg`` (keyed ``(aux cg)``). A clip at the other end, or an
    ``MC`` without one, is nothing. Both passed: only indels and ``X`` in them were read. (The
    mate's record is left out, its own clip aside: its absence is a finding of its own, set apart.)"""
    reference = reference_bases(3000)
    snv = 999
    write_inputs(tmp_path, reference, [(snv, reference[snv], "A" if reference[snv] != "A" else "C")])

    def found(lines: list[str]) -> dict[str, int]:
        keys = germline_keys(audited(write_sam_as_bam(tmp_path / "c.bam", len(reference), lines), tmp_path, pure))
        assert keys.pop(MATE_ABSENT, 0) == sum(" MC:Z:" in line.replace("\t", " ") for line in lines)
        return keys

    far = reference[2499:2549]
    for mate_cigar, expected in (("5S45M", {"clip at a germline site (aux MC)": 1}), ("45M5S", {}), ("50M", {})):
        read = f"R\t83\tchr1\t2500\t60\t50M\t=\t1001\t-1549\t{far}\t*\tMC:Z:{mate_cigar}\n"
        assert found([read]) == expected, mate_cigar
    bases = reference[1000:1045]
    assert found([f"R\t0\tchr1\t1001\t60\t45M\t*\t0\t0\t{bases}\t*\tcg:Z:5H45M\n"]) == {"clip at a germline site (aux cg)": 1}
    assert found([f"R\t0\tchr1\t1001\t60\t45M\t*\t0\t0\t{bases}\t*\tcg:Z:45M5H\n"]) == {}


def test_forbid_contigs_finds_reads_on_allele_contigs_and_mates_pointing_there(tmp_path: Path) -> None:
    """``--forbid-contigs 'HLA-*'``: a record on a matching @SQ contig, a record whose mate is there
    (RNEXT) and one whose ``XA`` names it are germline findings, counted by kind and placed by the
    @SQ rank only (the contig's name is the genotype); the same file without them passes, and so
    does the first one when no pattern matches."""
    contig, chr1 = "HLA-A*02:01:01:01", reference_bases(400)
    allele = reference_bases(300)[::-1]
    header = f"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:400\n@SQ\tSN:{contig}\tLN:300\n"
    kept = [
        f"READ1\t99\tchr1\t11\t60\t20M\t=\t61\t70\t{chr1[10:30]}\t*\n",
        f"READ1\t147\tchr1\t61\t60\t20M\t=\t11\t-70\t{chr1[60:80]}\t*\n",
    ]
    pointing = [
        f"READ2\t65\tchr1\t101\t60\t20M\t{contig}\t5\t0\t{chr1[100:120]}\t*\n",
        f"READ4\t0\tchr1\t151\t60\t20M\t*\t0\t0\t{chr1[150:170]}\t*\tXA:Z:{contig},+31,20M,0;\n",
    ]
    placed = [
        f"READ2\t129\t{contig}\t5\t60\t20M\tchr1\t101\t0\t{allele[4:24]}\t*\n",
        f"READ3\t0\t{contig}\t41\t60\t20M\t*\t0\t0\t{allele[40:60]}\t*\n",
    ]

    def audit(name: str, lines: list[str], *patterns: str) -> tuple[dict[str, int], bytes]:
        sam = tmp_path / f"{name}.sam"
        sam.write_text(header + "".join(lines))
        pysam.sort("-o", str(tmp_path / f"{name}.bam"), str(sam), catch_stdout=False)
        options = [option for pattern in patterns for option in ("--forbid-contigs", pattern)]
        result = run_command("genoscrub-audit", "--report", str(tmp_path / f"{name}.json"), *options, str(tmp_path / f"{name}.bam"))
        files = json.loads((tmp_path / f"{name}.json").read_text())["files"]
        assert result.returncode == (1 if files[0]["verdict"] == "fail" else 0), result.stderr.decode()
        return dict(files[0]["findings"]["germline"].get("by_key", {})), result.stdout

    found, stdout = audit("leaky", kept + pointing + placed, "HLA-*", "*_alt")
    assert found == {audit_bam.LISTED_CONTIG: 2, audit_bam.LISTED_MATE: 1, audit_bam.LISTED_ALIGNMENT: 1}
    assert b"HLA" not in stdout and b"reference 2:" in stdout
    assert audit("clean", kept + [pointing[0].replace(f"{contig}\t5", "*\t0").replace("\t65\t", "\t0\t")], "HLA-*")[0] == {}
    assert audit("unlisted", kept + pointing + placed, "*_alt")[0] == {}


def mate_lines(reference: str) -> dict[str, str]:
    """Records of pairs on ``reference`` (chr1) and a second contig (chr2, its first 1000 bases),
    their mate fields as the reverter leaves them; the name is the pair's key."""

    def record(name: str, flag: int, place: str, cigar: str, mate: str, tlen: int, tags: str = "") -> str:
        contig, position = place.split(":")
        length = sum(int(part) for part in cigar.replace("M", " ").replace("S", " ").split())
        bases = reference[int(position) - 1 : int(position) - 1 + length]
        fields = [name, str(flag), contig, position, "60", cigar, *mate.split(":"), str(tlen), bases, "*", tags]
        return "\t".join(fields).rstrip("\t") + "\n"

    return {
        "pair": record("P", 99, "chr1:101", "50M", "=:301", 250, "MC:Z:50M")
        + record("P", 147, "chr1:301", "50M", "=:101", -250, "MC:Z:50M"),
        "clipped": record("C", 99, "chr1:401", "5S45M", "=:601", 250, "MC:Z:50M")
        + record("C", 147, "chr1:601", "50M", "=:401", -250, "MC:Z:5S45M"),
        "dovetail": record("D", 99, "chr1:720", "50M", "=:700", 30, "MC:Z:50M")
        + record("D", 147, "chr1:700", "50M", "=:720", -30, "MC:Z:50M"),
        "far": record("F", 97, "chr1:801", "50M", "chr2:11", 0, "MC:Z:50M")
        + record("F", 145, "chr2:11", "50M", "chr1:801", 0, "MC:Z:50M"),
        "cleared": record("U", 97, "chr1:901", "50M", "*:0", 0) + record("U", 145, "chr1:1101", "50M", "=:901", -250, "MC:Z:50M"),
        "without MC": record("W", 99, "chr1:1201", "50M", "=:1401", 250),
        "unmapped mate": record("N", 73, "chr1:1501", "50M", "=:1501", 0) + f"N\t133\tchr1\t1501\t0\t*\t=\t1501\t0\t{'N' * 50}\t*\n",
    }


def test_tlen_pnext_and_the_mates_presence_are_held_to_the_mate(tmp_path: Path) -> None:
    """A pair's mate fields as sam-revert-germline leaves them pass: TLEN the outer span (or, for
    a dovetailed pair, the distance of the 5' ends, as bwa writes it), PNEXT the mate's POS, a
    mate on another contig, a mate's place made unavailable (RNEXT ``*``), a read without ``MC``
    left paired, an unmapped mate. A TLEN still counting a removed insertion, a PNEXT at the mate's
    old clipped start, a read with ``MC`` whose mate record is gone, and a mate on another contig
    at another place or gone, are each a germline finding, counted, placed at the record (the last
    at its two contigs, as such records are summed), unless the file holds no record on the mate's
    contig (a BAM cut to one chromosome)."""
    reference = reference_bases(3000)
    write_inputs(tmp_path, reference, [(2500, reference[2500], "A" if reference[2500] != "A" else "C")])
    lines = mate_lines(reference)

    def found(records: list[str]) -> dict[str, int]:
        sam = tmp_path / "m.sam"
        header = f"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:{len(reference)}\n@SQ\tSN:chr2\tLN:1000\n"
        sam.write_text(header + "".join(records))
        pysam.sort("-o", str(tmp_path / "m.bam"), str(sam), catch_stdout=False)
        return germline_keys(audited(tmp_path / "m.bam", tmp_path))

    assert found(list(lines.values())) == {}
    assert found([lines["pair"].replace("\t250\t", "\t248\t").replace("\t-250\t", "\t-248\t")]) == {TEMPLATE_LENGTH: 2}
    assert found([lines["clipped"].replace("\t=\t401\t", "\t=\t396\t")]) == {MATE_PLACE: 1, TEMPLATE_LENGTH: 1}
    assert found([lines["pair"].splitlines(keepends=True)[0]]) == {MATE_ABSENT: 1}
    assert found([lines["far"].replace("\tchr2\t11\t", "\tchr2\t15\t", 1)]) == {MATE_PLACE: 1}
    far_read, far_mate = lines["far"].splitlines(keepends=True)
    assert found([lines["pair"], far_mate]) == {MATE_SUM: 1}  # summed over its contig and its mate's
    assert found([lines["pair"], far_read]) == {}  # a file cut to chr1: the mates on chr2 are elsewhere
    assert found([lines["cleared"].replace("\t=\t901\t", "\t=\t905\t")]) == {MATE_PLACE: 1, TEMPLATE_LENGTH: 1}


@pytest.mark.parametrize("jobs", [1, 2])
def test_mates_in_other_blocks_are_joined_however_the_file_is_cut(tmp_path: Path, jobs: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two thousand pairs, a chunk every BGZF block, so that many pairs lie across two chunks (one
    process, or workers whose tables the parent merges): the clean file passes; one PNEXT moved and
    one mate removed are found once each, wherever the cut falls."""
    reference = reference_bases(30000)
    write_inputs(tmp_path, reference, [(2500, reference[2500], "A" if reference[2500] != "A" else "C")])
    rng = random.Random(5)
    lines = []
    for number in range(2000):
        left = rng.randrange(1, 29000)
        right = left + rng.randrange(0, 700)
        span = right + 100 - left
        lines.append(f"K{number}\t99\tchr1\t{left}\t60\t100M\t=\t{right}\t{span}\t{reference[left - 1 : left + 99]}\t*\tMC:Z:100M\n")
        lines.append(f"K{number}\t147\tchr1\t{right}\t60\t100M\t=\t{left}\t{-span}\t{reference[right - 1 : right + 99]}\t*\tMC:Z:100M\n")
    monkeypatch.setattr(audit_bam, "CHUNK_BYTES", 1)

    def found(records: list[str]) -> dict[str, int]:
        sam = tmp_path / "k.sam"
        sam.write_text(f"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:{len(reference)}\n" + "".join(records))
        pysam.sort("-o", str(tmp_path / "k.bam"), str(sam), catch_stdout=False)
        path = tmp_path / "k.bam"
        variants = read_variants(str(tmp_path / "germline.vcf"), "germline list")
        with open(path, "rb") as stream:
            blocks = CountedBlocks(bgzf_blocks(stream, str(path)))
            header, rest = read_header(blocks, str(path))
            names = dict(header.references)
            sites = GermlineSites(variants, "germline", names, Reference(str(tmp_path / "ref.fa")))
            findings = Findings()
            BamAudit(RecordChecks(str(path), list(names), germline=sites), findings, jobs).run(blocks, rest)
        return germline_keys(findings.as_dict())

    assert found(lines) == {}
    moved = lines[:]
    fields = moved[1001].split("\t")
    fields[7], fields[8] = str(int(fields[7]) + 3), str(int(fields[8]) + 3)  # TLEN held to the place given
    moved[1001] = "\t".join(fields)
    assert found(moved[:1500] + moved[1501:]) == {MATE_PLACE: 1, MATE_ABSENT: 1}


def test_a_base_written_equals_is_a_finding(tmp_path: Path) -> None:
    """sam-revert-germline writes every read plain; a SEQ with ``=`` (a read away from the sites left
    as ``samtools calmd -e`` wrote it) would mark the reads it rewrote: a finding per read, the
    last base of an odd length included."""
    reference = reference_bases(3000)
    write_inputs(tmp_path, reference, [(2500, reference[2500], "A" if reference[2500] != "A" else "C")])
    bases = reference[100:151]
    lines = [
        f"A\t0\tchr1\t101\t60\t51M\t*\t0\t0\t{bases[:10]}={bases[11:]}\t*\n",
        f"B\t0\tchr1\t101\t60\t51M\t*\t0\t0\t{bases[:50]}=\t*\n",
        f"C\t0\tchr1\t101\t60\t51M\t*\t0\t0\t{bases}\t*\n",
    ]
    assert germline_keys(audited(write_sam_as_bam(tmp_path / "e.bam", len(reference), lines), tmp_path)) == {EQUALS_BASE: 2}


@pytest.mark.parametrize("pure", [False, True])
def test_a_read_of_low_mapq_showing_any_difference_is_a_finding(tmp_path: Path, pure: bool) -> None:
    """sam-revert-germline -v reverts a read of MAPQ below --all-below-mapq (or 255) whole, wherever
    it lies (a listed allele may have sent it to a paralogous copy), its soft clips masked: with
    --germline -r the audit holds such a read to the reference, away from every site, by its own
    copy of the rule. A mismatch, an insertion and a clip with bases are findings at MAPQ 5, 255 and
    10; the reference's bases, a clip of N and a hard clip are none, nor is a mismatch at MAPQ 30,
    nor anything with --all-below-mapq 0. The CLI refuses a threshold off 0 to 256 (exit 2)."""
    reference = reference_bases(3000)
    write_inputs(tmp_path, reference, [(2800, reference[2800], "A" if reference[2800] != "A" else "C")])
    at = 1000
    plain = reference[at : at + 50]
    mismatched = plain[:20] + ("A" if plain[20] != "A" else "C") + plain[21:]
    lines = {
        "mismatch": f"A\t0\tchr1\t{at + 1}\t5\t50M\t*\t0\t0\t{mismatched}\t*\n",
        "insertion": f"B\t0\tchr1\t{at + 1}\t255\t20M2I28M\t*\t0\t0\t{plain[:20]}GG{plain[20:48]}\t*\n",
        "clip": f"C\t0\tchr1\t{at + 6}\t10\t5S45M\t*\t0\t0\t{plain}\t*\n",
        "masked clip": f"D\t0\tchr1\t{at + 6}\t10\t5S45M\t*\t0\t0\tNNNNN{plain[5:]}\t*\n",
        "hard clip": f"E\t0\tchr1\t{at + 6}\t10\t5H45M\t*\t0\t0\t{plain[5:]}\t*\n",
        "placed well": f"F\t0\tchr1\t{at + 1}\t30\t50M\t*\t0\t0\t{mismatched}\t*\n",
    }
    expected = {
        "mismatch": {audit_bam.LOW_MAPQ_BASE: 1}, "insertion": {audit_bam.LOW_MAPQ_GAP: 1}, "clip": {audit_bam.LOW_MAPQ_CLIP: 1},
        "masked clip": {}, "hard clip": {}, "placed well": {},
    }  # fmt: skip
    for name, line in lines.items():
        bam = write_sam_as_bam(tmp_path / "low.bam", len(reference), [line])
        for threshold in (30, 0):
            found = germline_keys(audited(bam, tmp_path, pure, all_below_mapq=threshold))
            assert found == (expected[name] if threshold else {}), (name, threshold)
    for bad in ("-1", "257"):
        result = run_command("genoscrub-audit", "--germline", str(tmp_path / "germline.vcf"), "-r", str(tmp_path / "ref.fa"),
                             "--all-below-mapq", bad, str(tmp_path / "low.bam"))  # fmt: skip
        assert result.returncode == 2 and b"--all-below-mapq" in result.stderr
