"""sam-revert-germline keeps every read's length: a filled deletion or a removed insertion must not
show in how many bases a read has, nor in its TLEN, or the read tells the germline indel genotype."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pysam
from genoscrub.cigar import format_cigar, parse_cigar
from genoscrub.record_reverter import fitted_template_length
from genoscrub.revert import Reverted, revert_alignment, rewrite_mate_cigar
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.test_sam_revert_germline import REFERENCE, alignments, build_read


def outer_template_length(position: int, end: int, mate_position: int, mate_end: int) -> int:
    """TLEN by the SAM specification's outer-coordinate rule, for the record at ``position``."""
    span = max(end, mate_end) - min(position, mate_position)
    return span if position <= mate_position else -span


@settings(max_examples=200, deadline=None)
@given(alignments, st.lists(st.tuples(st.integers(0, 90), st.integers(1, 8)), max_size=4), st.integers(0, 1000), st.integers(0, 60))
def test_reverted_read_keeps_its_length_and_its_mate_sees_its_cigar(
    alignment: tuple[int, list[tuple[int, int]]], spans: list[tuple[int, int]], seed: int, mate_position: int
) -> None:
    start, parts = alignment
    operations, sequence = build_read(start, parts, random.Random(seed))
    windows = sorted((a, a + b) for a, b in spans)
    cigar = format_cigar(operations)
    result = revert_alignment(start, operations, sequence, b"I" * len(sequence), REFERENCE + b"N" * 64, 0, windows)
    mate_view = rewrite_mate_cigar(start, cigar, windows)
    if not isinstance(result, Reverted):
        assert mate_view == result  # the mate learns it from MC
        return
    new_cigar = format_cigar(result.operations)
    assert len(result.sequence) == len(result.qualities) == len(sequence)
    assert mate_view == new_cigar  # MC equals the mate's final CIGAR
    record = pysam.AlignedSegment()  # an independent reader of the CIGAR
    record.cigarstring = new_cigar.decode()
    record.query_sequence = result.sequence.decode()
    assert record.infer_query_length() == len(sequence)
    if result.bases_trimmed_to_length:  # no D, N or P left at the end with no base after it
        assert record.cigartuples and record.cigartuples[-1][0] not in (2, 3, 6)
    # TLEN: both records give the outer-coordinate rule's answer when they did before
    before, after = parse_cigar(cigar), parse_cigar(new_cigar)
    assert before is not None and after is not None
    old_end, new_end = start + before.reference_length, start + after.reference_length
    mate_end = mate_position + 20  # a mate of 20M that nothing changed
    tlen = outer_template_length(start, old_end, mate_position, mate_end)
    mate_tlen = outer_template_length(mate_position, mate_end, start, old_end)
    if tlen and mate_tlen:
        assert fitted_template_length(tlen, start, old_end, new_end, mate_position, mate_end, mate_end) == outer_template_length(
            start, new_end, mate_position, mate_end
        )
        assert fitted_template_length(mate_tlen, mate_position, mate_end, mate_end, start, old_end, new_end) == (
            outer_template_length(mate_position, mate_end, start, new_end)
        )


def test_het_deletion_and_insertion_carriers_look_like_reference_reads(tmp_path: Path) -> None:
    """Pairs from one fragment set, read from the reference haplotype and from haplotypes with a
    germline 10-base deletion or 4-base insertion: after reverting, every read (read by pysam) has
    its input length, carrier or not, and TLEN is the outer-coordinate span of the pair's final
    places. (A fragment that spans a deletion still measures it by its mates' places, as in any
    aligned file: that is the positions, not the reads.)"""
    rng = random.Random(7)
    contig = "".join(rng.choice("ACGT") for _ in range(3000))
    (tmp_path / "ref.fa").write_text(">chr1\n" + contig + "\n")
    pysam.faidx(str(tmp_path / "ref.fa"))
    deletion, insertion = 1200, 1800  # 0-based: 10 bases deleted after 1200, ACGT inserted after 1800
    (tmp_path / "germ.vcf").write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=3000>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        f"chr1\t{deletion + 1}\t.\t{contig[deletion:deletion + 11]}\t{contig[deletion]}\t50\tPASS\t.\n"
        f"chr1\t{insertion + 1}\t.\t{contig[insertion]}\t{contig[insertion]}ACGT\t50\tPASS\t.\n"
    )
    haplotypes = {
        "ref": (contig, None),
        "del": (contig[: deletion + 1] + contig[deletion + 11 :], (deletion + 1, -10)),
        "ins": (contig[: insertion + 1] + "ACGT" + contig[insertion + 1 :], (insertion + 1, 4)),
    }
    read_length, lines = 100, []
    for number in range(120):
        site = deletion if number % 2 else insertion
        left = site - rng.randint(20, 280)
        fragment = rng.randint(250, 400)
        for kind, (haplotype, variant) in haplotypes.items():
            records = []
            for first, start in ((True, left), (False, left + fragment - read_length)):
                bases = haplotype[start : start + read_length]
                cigar, reference_start = f"{read_length}M", start
                if variant is not None:
                    point, change = variant
                    if start >= point:  # wholly after the variant: placed by the reference's coordinates
                        reference_start = start - change
                    elif start < point < start + read_length:
                        inside = point - start
                        if change < 0:
                            cigar = f"{inside}M{-change}D{read_length - inside}M"
                        elif inside + change < read_length:
                            cigar = f"{inside}M{change}I{read_length - inside - change}M"
                        else:  # the insertion runs into the read's end: clipped
                            cigar = f"{inside}M{read_length - inside}S"
                records.append((first, reference_start, cigar, bases))
            spans = []
            for _, start, cigar, _ in records:
                shape = parse_cigar(cigar.encode())
                assert shape is not None
                spans.append((start, start + shape.reference_length))
            tlen = max(spans[0][1], spans[1][1]) - min(spans[0][0], spans[1][0])
            for index, (first, start, cigar, bases) in enumerate(records):
                mate_start, mate_cigar = records[1 - index][1], records[1 - index][2]
                flag = 99 if first else 147
                lines.append(
                    f"{kind}-{number}\t{flag}\tchr1\t{start + 1}\t60\t{cigar}\t=\t{mate_start + 1}\t{tlen if first else -tlen}\t"
                    f"{bases}\t{'I' * read_length}\tMC:Z:{mate_cigar}"
                )
    lines.sort(key=lambda line: int(line.split("\t")[3]))
    (tmp_path / "in.sam").write_text("@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:3000\n" + "\n".join(lines) + "\n")
    out = subprocess.run(
        [str(ROOT / "bin" / "sam-revert-germline"), "-q", "-r", "ref.fa", "-v", "germ.vcf", "-o", "out.sam", "in.sam"],
        cwd=tmp_path, capture_output=True, check=True,
    )
    assert out.returncode == 0
    ends: dict[str, list[tuple[int, int, int]]] = {}
    reads = 0
    with pysam.AlignmentFile(str(tmp_path / "out.sam")) as alignments_out:
        for read in alignments_out.fetch(until_eof=True):
            assert read.query_name is not None and read.reference_end is not None
            assert read.query_length == read.infer_query_length() == read_length  # no carrier is longer or shorter
            ends.setdefault(read.query_name, []).append((read.reference_start, read.reference_end, read.template_length))
            reads += 1
    assert reads == 120 * 3 * 2
    # TLEN is the outer-coordinate rule's answer from both records' final places, as in the input
    for pair in ends.values():
        (start1, end1, tlen1), (start2, end2, tlen2) = pair
        span = max(end1, end2) - min(start1, start2)
        assert abs(tlen1) == abs(tlen2) == span
