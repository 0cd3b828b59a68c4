"""sam-mask-regions: reads whose only change is the loss of their mate's CIGAR (``MC``).

The bulk path settles those reads for a whole block (``RegionMasker.mate_cigar_cuts``)
instead of rewriting each one; these tests hold it to the one-record path's bytes and
report counts, on blocks built to reach its edges.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import genoscrub.sam_mask_regions as module
import pytest
from genoscrub import scan
from genoscrub.regions import RegionRequest
from genoscrub.report import InputError, Report
from genoscrub.sam_mask_regions import RegionMasker, mask_regions
from hypothesis import example, given, settings
from hypothesis import strategies as st

HEADER = [b"@SQ\tSN:chr1\tLN:300", b"@SQ\tSN:chr2\tLN:300"]
REGIONS = "chr1\t100\t120\nchr2\t0\t3\n"

MATE_TAGS = [
    [],
    ["MC:Z:10M"],
    ["MC:Z:5S5M"],
    ["MC:Z:3M2I3M"],
    ["MC:Z:4M4D4M5S"],
    ["MC:Z:60M"],
    ["MC:Z:xyz"],  # unreadable
    ["MC:Z:"],  # empty
    ["MC:i:10"],  # another type
    ["MC:Z:10M", "MC:Z:10M"],  # twice
    ["MC:Z:60M", "MC:Z:1M"],  # twice, the first reaching further
    ["MC:Z:10M", "MC:i:3"],
    ["MCX:Z:1", "MC:Z:10M"],  # a field named MC* that is not MC
    ["MC:Z:10M", ""],  # an empty optional field
]
OTHER_TAGS = ["RG:Z:g", "NM:i:0", "MD:Z:10", "XX:Z:MC:Z:10M", "SA:Z:chr1,110,+,10M,60,0;", "SA:Z:chr2,200,+,10M,60,0;",
              "XA:Z:chr1,-105,10M,0;", "XA:Z:chr1,+250,10M,0;", "OQ:Z:IIIIIIIIII"]
# Mates near the edges of chr1's region (100-120, 0-based) and on chr2's (0-3).
MATE_POSITIONS = [0, 1, 3, 4, 80, 90, 91, 95, 100, 101, 110, 120, 121, 150, 250]


@st.composite
def paired_blocks(draw: st.DrawFn) -> list[bytes]:
    """Paired reads, most outside the regions, whose mates lie in or out of them, with
    ``MC`` absent, plain, unreadable, empty, of type ``i`` or twice, among other tags
    (``SA``/``XA`` too) in any order; a QUAL that reads ``MC:Z:...``; a CR before the newline."""
    lines = list(HEADER)
    for number in range(draw(st.integers(1, 14))):
        flag = draw(st.sampled_from([1, 1 | 16, 1 | 32 | 64, 1 | 16 | 128, 1 | 8, 1 | 4, 1 | 256, 0]))
        contig = draw(st.sampled_from(["chr1", "chr1", "chr2"]))
        position = draw(st.sampled_from([20, 60, 200, 240, 105]))
        cigar = "*" if flag & 4 else draw(st.sampled_from(["10M", "10M", "2S8M"]))
        mate = [draw(st.sampled_from(["=", "=", "chr1", "chr2", "*"])), str(draw(st.sampled_from(MATE_POSITIONS)) + 1), "0"]
        sequence = draw(st.sampled_from(["ACGTACGTAC", "*"]))
        quality = draw(st.sampled_from(["IIIIIIIIII", "MC:Z:10M:I", "*"])) if sequence != "*" else "*"
        tags = draw(st.sampled_from(MATE_TAGS)) + draw(st.lists(st.sampled_from(OTHER_TAGS), max_size=3))
        tags = draw(st.permutations(tags))
        fields = [f"r{number}", str(flag), contig, str(position), "60", cigar, *mate, sequence, quality, *tags]
        ending = draw(st.sampled_from(["", "", "", "\r"]))
        lines.append(("\t".join(fields) + ending).encode())
    return lines


def masked(lines: list[bytes], bed: Path, drop: bool, one_by_one: bool) -> tuple[bytes, list[tuple[str, int]]]:
    """Output text and report counts (in their order) of ``mask_regions`` over ``lines`` cut into three blocks."""
    report = Report("sam-mask-regions")
    parts = [(1, lines[:3]), (4, lines[3:7]), (8, lines[7:])]
    blocks = [(first, b"".join(line + b"\n" for line in part)) for first, part in parts if part]
    try:
        text = b"".join(mask_regions(blocks, RegionRequest(beds=[str(bed)], flank=0), None, drop, "in.sam", report, one_by_one=one_by_one))
    except InputError as error:
        return f"{error.line}: {error.message}".encode(), list(report.counts.items())
    return text, list(report.counts.items())


@settings(max_examples=400, deadline=None)
@given(paired_blocks(), st.booleans())
@example([*HEADER, b"a\t65\tchr1\t20\t60\t10M\t=\t81\t0\tACGTACGTAC\tIIIIIIIIII\tMC:Z:60M\tMC:Z:1M"], False)  # the first MC decides
def test_mate_cigar_removal_in_bulk_agrees_with_the_one_record_path(lines: list[bytes], drop: bool) -> None:
    """Same bytes and counts, in the same order, from the bulk path (compiled and
    pure-Python splice) and from the one-record path."""
    with tempfile.TemporaryDirectory() as name:
        bed = Path(name) / "r.bed"
        bed.write_text(REGIONS)
        one = masked(lines, bed, drop, one_by_one=True)
        bulk = masked(lines, bed, drop, one_by_one=False)
        assert bulk == one
        compiled = module.scan
        module.scan = scan.python  # type: ignore[assignment]
        try:
            assert masked(lines, bed, drop, one_by_one=False) == bulk
        finally:
            module.scan = compiled


def test_plain_mate_cigar_reads_are_settled_without_a_rewrite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reads whose only change is the loss of ``MC`` never reach ``rewrite``; the ``MC``
    fields go wherever they stand, a QUAL reading ``MC:Z:...`` stays, and the reads that
    are not plain (two ``MC``, ``MC:i``, an unreadable one, ``SA``) are rewritten one by one."""
    bed = tmp_path / "r.bed"
    bed.write_text(REGIONS)
    plain = [
        b"a\t65\tchr1\t20\t60\t10M\t=\t106\t0\tACGTACGTAC\tMC:Z:10M:I\tMC:Z:10M\tRG:Z:g",
        b"b\t129\tchr1\t200\t60\t10M\tchr2\t2\t0\t*\t*\tRG:Z:g\tMC:Z:5S5M",
        b"c\t65\tchr1\t20\t60\t10M\t=\t92\t0\tACGTACGTAC\tIIIIIIIIII\tNM:i:0\tMC:Z:10M\tRG:Z:g",  # 91-101: touches
        b"d\t65\tchr1\t20\t60\t10M\t=\t200\t0\tACGTACGTAC\tIIIIIIIIII\tMC:Z:10M",  # mate far: unchanged
    ]
    unusual = [
        b"e\t65\tchr1\t20\t60\t10M\t=\t106\t0\tACGTACGTAC\tIIIIIIIIII\tMC:Z:10M\tMC:Z:10M",
        b"f\t65\tchr1\t20\t60\t10M\t=\t106\t0\tACGTACGTAC\tIIIIIIIIII\tMC:i:1\tMC:Z:10M",
        b"g\t65\tchr1\t20\t60\t10M\t=\t200\t0\tACGTACGTAC\tIIIIIIIIII\tMC:Z:xyz",
        b"h\t65\tchr1\t20\t60\t10M\t=\t106\t0\tACGTACGTAC\tIIIIIIIIII\tMC:Z:10M\tSA:Z:chr1,250,+,10M,60,0;",
    ]
    rewritten: list[bytes] = []
    original = RegionMasker.rewrite

    def counting(self: RegionMasker, line: bytes, *rest: object) -> bytes | None:
        rewritten.append(line.split(b"\t", 1)[0])
        return original(self, line, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(RegionMasker, "rewrite", counting)
    text, counts = masked([*HEADER, *plain, *unusual], bed, drop=False, one_by_one=False)
    assert sorted(rewritten) == [b"e", b"f", b"g", b"h"]
    records = text.splitlines()[len(HEADER) + 1 :]
    assert records[:4] == [
        b"a\t65\tchr1\t20\t60\t10M\t=\t106\t0\tACGTACGTAC\tMC:Z:10M:I\tRG:Z:g",
        b"b\t129\tchr1\t200\t60\t10M\tchr2\t2\t0\t*\t*\tRG:Z:g",
        b"c\t65\tchr1\t20\t60\t10M\t=\t92\t0\tACGTACGTAC\tIIIIIIIIII\tNM:i:0\tRG:Z:g",
        plain[3],
    ]
    assert dict(counts)["mate_cigar_tags_removed"] == 3 + 2 + 2 + 1 + 1
    monkeypatch.setattr(RegionMasker, "rewrite", original)
    assert (text, counts) == masked([*HEADER, *plain, *unusual], bed, drop=False, one_by_one=True)
