"""sam-mask-regions: no base inside a region survives, nothing outside changes, output stays valid."""

from __future__ import annotations

import dataclasses
import json
import random
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pysam
import pytest
from genoscrub.cigar import CigarShape, md_and_nm, parse_cigar
from genoscrub.regions import build_contig_lengths, merged, preset_path, read_bed
from genoscrub.sam_mask_regions import KEPT_WHEN_MASKED, RegionMasker, mask_bases, only_tags, reveals_length, tag_value, without_tags
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.conftest import run_command

GRCH38 = build_contig_lengths("GRCh38")


# --- what "masked" means -------------------------------------------------------


def cigar_shape(cigar: bytes) -> CigarShape:
    shape = parse_cigar(cigar)
    assert shape is not None
    return shape


def masked(cigar: str, position: int, windows: list[tuple[int, int]], sequence: str) -> str:
    text = bytearray(sequence.encode())
    quality = bytearray(b"I" * len(sequence))
    count = mask_bases(cigar_shape(cigar.encode()), position, windows, text, quality)
    assert count == text.count(b"N") == quality.count(b"#")
    return text.decode()


def test_partial_overlap_masks_only_bases_inside() -> None:
    assert masked("10M", 100, [(105, 120)], "ACGTACGTAC") == "ACGTANNNNN"
    assert masked("10M", 100, [(90, 103)], "ACGTACGTAC") == "NNNTACGTAC"
    assert masked("10M", 100, [(102, 104), (107, 108)], "ACGTACGTAC") == "ACNNACGNAC"


def test_soft_clip_that_would_reach_a_region_is_masked_whole() -> None:
    # trailing clip lies virtually at 108..111, the region starts at 110
    assert masked("8M4S", 100, [(110, 130)], "ACGTACGTTTTT") == "ACGTACGTNNNN"
    # leading clip at 96..99 virtually, region ends at 97
    assert masked("4S8M", 100, [(80, 97)], "TTTTACGTACGT") == "NNNNACGTACGT"
    # a clip that cannot reach the region is left alone
    assert masked("8M4S", 100, [(120, 130)], "ACGTACGTTTTT") == "ACGTACGTTTTT"


@pytest.mark.parametrize(
    ("cigar", "window", "expected"),
    [
        ("5M4I5M", (100, 110), True),  # insertion inside: the allele is longer
        ("5M4D5M", (100, 110), True),  # deletion inside: shorter
        ("5M4I5M", (105, 110), True),  # insertion just before the region's first base
        ("5M4I5M", (90, 100), False),  # insertion 5 bases after the region: more than its 4 bases
        ("5M4I5M", (90, 101), True),  # 4 bases after it: an aligner may place it there from the repeat's end
        ("5M4I5M", (109, 120), True),  # 4 bases before it: or from the repeat's start
        ("5M4I5M", (110, 120), False),
        ("5M4D5M", (114, 130), False),  # deletion of 105-108 ends 5 bases before the region
        ("5M4D5M", (113, 130), True),  # 4 bases before it
        ("5M1I5M", (90, 104), True),  # widened by at least one base: an insertion that meets the region's end
        ("5M200N5M", (310, 320), False),  # a skip is an intron, not a length: not widened
        ("5M200N5M", (150, 160), True),  # skip across the region
        ("6M6S", (104, 110), True),  # alignment ends inside at a clip: the junction shows where the allele diverged
        ("6S6M", (80, 99), False),  # clip junction outside
        ("12M", (104, 106), False),  # plain match: masked, not dropped
    ],
)
def test_cigar_that_reveals_a_length_is_recognised(cigar: str, window: tuple[int, int], expected: bool) -> None:
    assert reveals_length(cigar_shape(cigar.encode()), 100, [window]) is expected


def test_md_nm_count_masked_bases_as_mismatches() -> None:
    shape = cigar_shape(b"3M1I2M2D3M")
    md, distance = md_and_nm(0, shape.operations, b"ACNTGAACG", b"ACGGAGGACG", 0)
    assert (md, distance) == (b"2G2^GG3", 4)


def test_tag_helpers() -> None:
    tags = b"NM:i:1\tMC:Z:10M\tOQ:Z:IIII\tRG:Z:x"
    assert tag_value(tags, b"MC") == b"10M"
    assert tag_value(tags, b"SA") is None
    assert without_tags(tags, [b"OQ", b"MC"]) == (b"NM:i:1\tRG:Z:x", 2)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["MC:Z:10M", "MD:Z:10", "NM:i:0", "RG:Z:g", "M", "", "MCx", "mc:Z:1", "XA:Z:c,+5,4M,0;", "AS:i:3", "R", "RG"])
        | st.text("MCRGDN:Z\r", max_size=5),
        max_size=6,
    )
)
def test_only_tags_and_without_tags_keep_what_the_field_rule_keeps(fields: list[str]) -> None:
    """The patterns of ``only_tags`` and ``without_tags`` (one ``subn``) keep exactly the fields
    ``tag[:2] in names`` (or ``not in``) keeps, empty fields and fields of one byte included, and
    count the others."""
    tags = "\t".join(fields).encode()
    for names in (KEPT_WHEN_MASKED, frozenset([b"MC"]), frozenset([b"SA", b"XA", b"XB"]), frozenset([b"RG", b"M:"])):
        kept = [tag for tag in tags.split(b"\t") if tag[:2] in names] if tags else []
        assert only_tags(tags, names) == (b"\t".join(kept), tags.count(b"\t") + 1 - len(kept) if tags else 0)
        others = [tag for tag in tags.split(b"\t") if tag[:2] not in names] if tags else []
        assert without_tags(tags, list(names)) == (b"\t".join(others), tags.count(b"\t") + 1 - len(others) if tags else 0)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 12), st.sampled_from("MIDNSHP=X")), min_size=1, max_size=6),
    st.integers(0, 60),
    st.lists(st.tuples(st.integers(0, 80), st.integers(0, 12)), max_size=3),
)
def test_a_cigar_without_clip_indel_or_skip_shows_no_length(
    operations: list[tuple[int, str]], position: int, windows: list[tuple[int, int]]
) -> None:
    """``reveals_length``'s shortcut (no clip, indel or skip: False at once) gives what its walk over
    the operations gives."""
    shape = parse_cigar("".join(f"{length}{op}" for length, op in operations).encode())
    if shape is None:
        return
    spans = [(start, start + size) for start, size in windows]
    plain = not (shape.has_clip or shape.has_indel or shape.has_skip)
    walked = reveals_length(dataclasses.replace(shape, has_clip=True), position, spans)  # the shortcut not taken
    assert reveals_length(shape, position, spans) == walked
    assert not (plain and walked)


@settings(max_examples=200, deadline=None)
@given(
    position=st.integers(0, 200),
    length=st.integers(1, 60),
    windows=st.lists(st.tuples(st.integers(0, 300), st.integers(1, 30)), max_size=4),
)
def test_masking_is_exactly_the_bases_inside(position: int, length: int, windows: list[tuple[int, int]]) -> None:
    """Property: a base becomes N iff its reference position is in a window; all others are untouched."""
    starts, ends = merged([(start, start + size) for start, size in windows], 0)  # windows come merged
    spans = list(zip(starts.tolist(), ends.tolist(), strict=True))
    rng = random.Random(position * 1000 + length)
    sequence = "".join(rng.choice("ACGT") for _ in range(length))
    result = masked(f"{length}M", position, spans, sequence)
    for offset, (before, after) in enumerate(zip(sequence, result, strict=True)):
        inside = any(start <= position + offset < end for start, end in spans)
        assert after == ("N" if inside else before)


# --- end to end on the simulator --------------------------------------------------


SIMULATION = {"pairs": 1500}


@pytest.fixture(scope="module")
def masked_simulation(simulated: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("masked") / "masked.sam"
    sam = subprocess.run(["samtools", "view", "-h", "--no-PG", str(simulated / "normal.bam")], check=True, capture_output=True).stdout
    result = run_command(
        "sam-mask-regions", "--bed", str(simulated / "repeats.bed"), "-r", str(simulated / "ref.fa"), "-o", str(out), input=sam
    )
    assert result.returncode == 0, result.stderr
    return out


def windows(simulated: Path, flank: int = 100) -> dict[str, list[tuple[int, int]]]:
    return {c: [(max(0, s - flank), e + flank) for s, e in found] for c, found in read_bed(str(simulated / "repeats.bed")).items()}


def key(read: pysam.AlignedSegment) -> tuple[str, int]:
    return read.query_name or "", read.flag


def test_no_base_inside_a_planted_repeat_survives(simulated: Path, masked_simulation: Path) -> None:
    """Checked with pysam, not our parser: every aligned base in a repeat is N."""
    repeats = read_bed(str(simulated / "repeats.bed"))
    looked = 0
    with pysam.AlignmentFile(str(masked_simulation)) as reads:
        for read in reads:
            if read.is_unmapped or read.query_sequence is None:
                continue
            for query, ref in read.get_aligned_pairs(matches_only=True):
                if any(s <= ref < e for s, e in repeats.get(read.reference_name or "", [])):
                    assert read.query_sequence[query] == "N"
                    looked += 1
    assert looked > 1000


def test_no_read_keeps_an_indel_or_clip_junction_in_a_region(simulated: Path, masked_simulation: Path) -> None:
    wide = windows(simulated)
    with pysam.AlignmentFile(str(masked_simulation)) as reads:
        for read in reads:
            if read.is_unmapped or read.cigartuples is None:
                continue
            spans = wide.get(read.reference_name or "", [])
            position = read.reference_start
            for op, length in read.cigartuples:
                if op in (1,) and any(s <= position + length and position - length <= e for s, e in spans):
                    pytest.fail("an insertion in a region or within its length of one survived")
                if op == 2:
                    assert not any(position - length <= e and position + 2 * length >= s for s, e in spans)
                if op == 3:
                    assert not any(position <= e and position + length >= s for s, e in spans)
                if op in (0, 2, 3, 7, 8):
                    position += length


def shows_mate_in_region(read: pysam.AlignedSegment, wide: dict[str, list[tuple[int, int]]]) -> bool:
    """Whether the read's TLEN, as pysam reads it, ends the template past the read's own end, on a
    mate whose span from its start to that end, widened on each side by one more than the larger of
    that span and the read's own length (how far the mate's indels and clips may reach), overlaps a
    window (the SAM spec's TLEN, worked out here from pysam's fields rather than from the command's
    code)."""
    if not read.template_length or read.next_reference_id != read.reference_id or read.reference_id < 0:
        return False
    start = min(read.reference_start, read.next_reference_start)
    reach = start + abs(read.template_length)
    own_end = read.reference_start + 1
    if read.reference_end is not None and read.reference_end > read.reference_start:
        own_end = read.reference_end
    spans = wide.get(read.reference_name or "", [])
    widen = max(reach - read.next_reference_start, read.infer_query_length() or 0, read.query_length) + 1
    low, high = read.next_reference_start - widen, reach + widen
    return reach > own_end and any(s < high and low < e for s, e in spans)


def shows_mate_start_in_region(read: pysam.AlignedSegment, wide: dict[str, list[tuple[int, int]]], kept: pysam.AlignedSegment) -> bool:
    """Whether the read's PNEXT, as pysam reads it, lies in a window or at its edge on the mate's
    contig, where the MC the read keeps (``kept``: the output record) does not start with an
    aligned base: the mate's clip junction may lie there."""
    if read.next_reference_id < 0 or read.next_reference_start < 0:
        return False
    mate_cigar = kept.get_tag("MC") if kept.has_tag("MC") else None
    if isinstance(mate_cigar, str) and re.match(r"[0-9]+[MIDNP=X]", mate_cigar):
        return False
    start = read.next_reference_start
    return any(s <= start <= e for s, e in wide.get(read.next_reference_name or "", []))


def test_no_template_length_shows_a_mate_end_in_a_region(simulated: Path, masked_simulation: Path) -> None:
    """A read outside the regions whose mate carries an indel inside one: TLEN and PNEXT would give
    the mate's reference span, so its indel's length, though the mate itself was dropped."""
    wide = windows(simulated)
    cleared = 0
    with pysam.AlignmentFile(str(simulated / "normal.bam")) as reads:
        before = {key(read): read for read in reads}
    with pysam.AlignmentFile(str(masked_simulation)) as reads:
        for read in reads:
            assert not shows_mate_in_region(read, wide)
            cleared += read.template_length == 0 and before[key(read)].template_length != 0
    assert cleared > 20


def test_outside_bases_untouched_and_other_reads_same_bytes(simulated: Path, masked_simulation: Path) -> None:
    wide = windows(simulated)
    with pysam.AlignmentFile(str(simulated / "normal.bam")) as reads:
        original = {key(read): read for read in reads}
    unchanged = 0
    with pysam.AlignmentFile(str(masked_simulation)) as reads:
        for read in reads:
            before = original[key(read)]
            if read.is_unmapped:
                continue
            assert read.reference_start == before.reference_start and read.cigarstring == before.cigarstring
            inside = {
                q
                for q, r in read.get_aligned_pairs(matches_only=True)
                if any(s <= r < e for s, e in wide.get(read.reference_name or "", []))
            }
            clipped = set()
            if read.query_sequence != before.query_sequence:
                cigar = read.cigartuples or []
                if cigar and cigar[0][0] == 4:
                    clipped |= set(range(cigar[0][1]))
                if cigar and cigar[-1][0] == 4:
                    clipped |= set(range(read.query_length - cigar[-1][1], read.query_length))
            for index, (now, then) in enumerate(zip(read.query_sequence or "", before.query_sequence or "", strict=True)):
                if index not in inside and index not in clipped:
                    assert now == then
            if shows_mate_start_in_region(before, wide, read):
                assert (read.next_reference_id, read.next_reference_start, read.template_length) == (-1, -1, 0)
            else:
                assert read.template_length == (0 if shows_mate_in_region(before, wide) else before.template_length)
                assert (read.next_reference_id, read.next_reference_start) == (before.next_reference_id, before.next_reference_start)
            if read.query_sequence == before.query_sequence:
                # MC goes where the mate touches a region (the mate may have been dropped), TLEN where it shows such a
                # mate's end, RNEXT and PNEXT where they may show its clip junction; R2, Q2, OA, OC and OP from every read
                before.template_length = read.template_length
                before.next_reference_id, before.next_reference_start = read.next_reference_id, read.next_reference_start
                copies = r"\t(?:R2|Q2|OA|OC|OP):[^\t]*"
                assert not re.search(copies, read.to_string())
                assert re.sub(r"\tMC:Z:[^\t]*|" + copies, "", before.to_string()) == re.sub(r"\tMC:Z:[^\t]*", "", read.to_string())
                unchanged += 1
    assert unchanged > 1000


def test_output_is_valid_and_md_nm_agree_with_samtools_calmd(simulated: Path, masked_simulation: Path) -> None:
    assert subprocess.run(["samtools", "quickcheck", str(masked_simulation)]).returncode == 0
    ours = subprocess.run(["samtools", "view", str(masked_simulation)], check=True, capture_output=True, text=True).stdout
    theirs = subprocess.run(
        ["samtools", "calmd", str(masked_simulation), str(simulated / "ref.fa")], check=True, capture_output=True, text=True
    ).stdout

    def tags(text: str) -> list[list[str]]:
        return [
            sorted(field for field in line.split("\t")[11:] if field[:2] in ("MD", "NM"))
            for line in text.splitlines()
            if not line.startswith("@")
        ]

    assert tags(ours) == tags(theirs)
    assert b"@PG\tID:sam-mask-regions\tPN:genoscrub" in masked_simulation.read_bytes()


def test_drop_mode_removes_reads_and_their_mates_and_writes_bam(simulated: Path, tmp_path: Path) -> None:
    out = tmp_path / "dropped.bam"
    result = run_command(
        "sam-mask-regions", "--drop", "--bed", str(simulated / "repeats.bed"), "-O", "bam", "-o", str(out), str(simulated / "normal.bam")
    )
    assert result.returncode == 0, result.stderr
    assert subprocess.run(["samtools", "quickcheck", str(out)]).returncode == 0
    wide = tmp_path / "wide.bed"
    wide.write_text("".join(f"{c}\t{s}\t{e}\n" for c, found in windows(simulated).items() for s, e in found))
    count = subprocess.run(
        ["samtools", "view", "-c", "-F", "4", "-L", str(wide), str(out)], check=True, capture_output=True, text=True
    ).stdout
    assert count.strip() == "0"
    with pysam.AlignmentFile(str(out)) as reads:
        primaries: dict[str, int] = {}
        for read in reads:
            if not read.is_secondary and not read.is_supplementary:
                primaries[read.query_name or ""] = primaries.get(read.query_name or "", 0) + 1
    assert set(primaries.values()) == {2}


# --- CODIS preset on GRCh38 coordinates -----------------------------------------------


def codis_sam(tmp_path: Path) -> tuple[Path, dict[str, list[tuple[int, int]]]]:
    """Reads over every CODIS locus (contigs named without chr, GRCh38 lengths)."""
    rng = random.Random(3)
    loci = read_bed(str(preset_path("codis-str", "GRCh38")))
    header = ["@HD\tVN:1.6\tSO:unsorted"] + [f"@SQ\tSN:{name.removeprefix('chr')}\tLN:{GRCH38[name]}" for name in sorted(loci)]
    lines = []
    for contig, found in sorted(loci.items()):
        name = contig.removeprefix("chr")
        for number, (start, end) in enumerate(found):
            for offset, cigar in (
                (start - 160, "150M"),
                (start - 40, "150M"),
                (end - 60, "150M"),
                (start - 5000, "150M"),
                (start - 30, "70M4I76M"),
            ):
                sequence = "".join(rng.choice("ACGT") for _ in range(150))
                qualities = "I" * 150
                fields = [f"r{contig}_{number}_{offset - start}", "0", name, str(offset + 1), "60", cigar, "*", "0", "0"]
                lines.append("\t".join([*fields, sequence, qualities, "NM:i:0", f"OQ:Z:{qualities}"]))
    path = tmp_path / "codis.sam"
    path.write_text("\n".join(header + lines) + "\n")
    return path, loci


def test_codis_preset_leaves_no_base_in_a_codis_locus(tmp_path: Path) -> None:
    source, loci = codis_sam(tmp_path)
    result = run_command("sam-mask-regions", "--preset", "codis-str", "--report", str(tmp_path / "r.json"), str(source))
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out.sam"
    out.write_bytes(result.stdout)
    assert subprocess.run(["samtools", "quickcheck", str(out)]).returncode == 0
    before = {read.query_name: read for read in pysam.AlignmentFile(str(source))}
    seen = 0
    with pysam.AlignmentFile(str(out)) as reads:
        for read in reads:
            spans = loci["chr" + (read.reference_name or "")]
            for query, ref in read.get_aligned_pairs(matches_only=True):
                if any(s <= ref < e for s, e in spans):
                    assert read.query_sequence is not None and read.query_sequence[query] == "N"
                    seen += 1
            if (read.query_name or "").endswith("_-5000"):
                assert read.to_string() == before[read.query_name].to_string()
            assert "I" not in (read.cigarstring or "")
            if "N" in (read.query_sequence or ""):
                assert not read.has_tag("OQ") and not read.has_tag("NM")
    assert seen > 2000
    report = (tmp_path / "r.json").read_text()
    assert '"reads_dropped_length_revealing": 20' in report


def test_errors(tmp_path: Path) -> None:
    unaligned = b"@HD\tVN:1.6\nr1\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII\n"
    result = run_command("sam-mask-regions", "--preset", "codis-str", input=unaligned)
    assert result.returncode == 1 and b"no @SQ" in result.stderr
    grch37 = b"@SQ\tSN:13\tLN:115169878\nr1\t0\t13\t82722200\t60\t4M\t*\t0\t0\tACGT\tIIII\n"
    result = run_command("sam-mask-regions", "--preset", "codis-str", "--build", "GRCh38", input=grch37)
    assert result.returncode == 1 and result.stdout == b"" and b"another genome build" in result.stderr
    assert run_command("sam-mask-regions", input=grch37).returncode == 2


def test_a_nul_byte_in_a_record_is_an_error_naming_it(tmp_path: Path) -> None:
    """Found by tools/fuzz_parsers.py: a CIGAR ending in NUL bytes read as valid across the
    block (NUL-padded column arrays) and raised ValueError when the read was masked."""
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t6\t10\n")
    sam = b"@SQ\tSN:chr1\tLN:100\nr1\t0\tchr1\t80\t60\t4M\t*\t0\t0\tACGT\tIIII\nr2\t0\tchr1\t5\t60\t4M\0\0\t*\t0\t0\tACGT\tIIII\n"
    result = run_command("sam-mask-regions", "-q", "--bed", str(bed), input=sam)
    assert result.returncode == 1 and result.stderr == b"sam-mask-regions: <stdin>:3: record holds a NUL byte\n"


cigar_operations = st.lists(st.tuples(st.integers(1, 12), st.sampled_from("MMMID=X")), min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    operations=cigar_operations,
    lead=st.integers(0, 8),
    trail=st.integers(0, 8),
    position=st.integers(20, 80),
    window=st.tuples(st.integers(0, 150), st.integers(1, 40)),
)
def test_any_cigar_is_either_dropped_or_masked_exactly(
    operations: list[tuple[int, str]], lead: int, trail: int, position: int, window: tuple[int, int]
) -> None:
    """Property over CIGARs with clips and indels: a kept read has N at every base aligned in the
    window, unchanged aligned bases outside it, and clips either untouched or wholly N."""
    parts = ([(lead, "S")] if lead else []) + operations + ([(trail, "S")] if trail else [])
    cigar = "".join(f"{length}{op}" for length, op in parts).encode()
    shape = cigar_shape(cigar)
    windows = [(window[0], window[0] + window[1])]
    sequence = bytearray(b"A" * shape.query_length)
    quality = bytearray(b"I" * shape.query_length)
    if reveals_length(shape, position, windows):
        assert any(op in "IDN" for _, op in operations) or lead or trail
        return
    mask_bases(shape, position, windows, sequence, quality)
    query, reference = 0, position
    for length, op in parts:
        if op in "M=X":
            for k in range(length):
                inside = windows[0][0] <= reference + k < windows[0][1]
                assert sequence[query + k] == (ord("N") if inside else ord("A"))
            query += length
            reference += length
        elif op == "S":
            assert len(set(sequence[query : query + length])) == 1
            query += length
        elif op == "I":
            assert not windows[0][0] <= reference <= windows[0][1], "an insertion at a window is dropped, not kept"
            assert sequence[query : query + length] == b"A" * length
            query += length
        else:
            reference += length


def test_scored_alternative_hits_are_judged_as_alternative_hits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """bwa mem -u writes XA's hits as XB, each with its score and MAPQ: a hit in a region masks
    the read whole and XB goes; a hit elsewhere leaves the read as it was (read by pysam)."""
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t100\t120\n")
    sam = (
        b"@SQ\tSN:chr1\tLN:1000\n"
        b"r1\t0\tchr1\t500\t60\t4M\t*\t0\t0\tACGT\tIIII\tXB:Z:chr1,+103,2M2D2M,2,-4,60;\tRG:Z:g\n"
        b"r2\t0\tchr1\t500\t60\t4M\t*\t0\t0\tACGT\tIIII\tXB:Z:chr1,+700,4M,0,4,60;\n"
    )
    for one_by_one in ("0", "1"):
        monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
        result = run_command("sam-mask-regions", "--flank", "0", "--bed", str(bed), input=sam)
        assert result.returncode == 0, result.stderr
        out = tmp_path / "out.sam"
        out.write_bytes(result.stdout)
        with pysam.AlignmentFile(str(out), "r") as reads:
            records = list(reads)
        assert records[0].query_sequence == "NNNN" and not records[0].has_tag("XB")
        assert records[1].query_sequence == "ACGT" and records[1].get_tag("XB") == "chr1,+700,4M,0,4,60;"


def test_alternative_hits_into_a_region_are_removed_and_the_read_masked(tmp_path: Path) -> None:
    """An XA hit in a region: the read may come from there as well, so XA goes and every base is masked."""
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t100\t120\n")
    sam = (
        b"@SQ\tSN:chr1\tLN:1000\n"
        b"r1\t0\tchr1\t500\t60\t4M\t*\t0\t0\tACGT\tIIII\tXA:Z:chr1,-105,4M,0;\tRG:Z:g\n"
        b"r2\t0\tchr1\t500\t60\t4M\t*\t0\t0\tACGT\tIIII\tXA:Z:chr1,+700,4M,0;\n"
    )
    result = run_command("sam-mask-regions", "--flank", "0", "--bed", str(bed), input=sam)
    assert result.returncode == 0, result.stderr
    records = result.stdout.decode().splitlines()[2:]
    assert records[0] == "r1\t0\tchr1\t500\t60\t4M\t*\t0\t0\tNNNN\t####\tRG:Z:g"
    assert records[1] == sam.decode().splitlines()[2]


def test_alignment_lists_naming_a_contig_in_another_spelling_are_judged_through_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``samtools reheader`` renames @SQ (``1`` to ``chr1``) but no tag: a hit naming ``1`` lies on
    ``chr1`` and is judged there (the read masked whole, the clip masked, the tag gone); a hit on a
    contig the header cannot place counts as touching a region (fail closed); one on the same
    contig away from the region leaves the read as it was. Both paths alike."""
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t100\t120\n")
    sam = (
        b"@SQ\tSN:chr1\tLN:1000\n@SQ\tSN:chr2\tLN:1000\n"
        b"xa\t0\tchr2\t500\t3\t4M\t*\t0\t0\tACGT\tIIII\tXA:Z:1,-105,4M,0;\n"
        b"sa\t2048\tchr2\t500\t60\t2M2S\t*\t0\t0\tACGT\tIIII\tSA:Z:1,104,+,2S2M,60,0;\n"
        b"xb\t0\tchr2\t500\t3\t4M\t*\t0\t0\tACGT\tIIII\tXB:Z:chrUnknown,+700,4M,0,4,60;\n"
        b"away\t0\tchr2\t500\t3\t4M\t*\t0\t0\tACGT\tIIII\tXA:Z:1,+700,4M,0;\n"
    )
    outputs = set()
    for one_by_one in ("0", "1"):
        monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
        result = run_command("sam-mask-regions", "--flank", "0", "--bed", str(bed), input=sam)
        assert result.returncode == 0, result.stderr
        outputs.add(result.stdout)
    records = [line.split("\t") for line in result.stdout.decode().splitlines() if not line.startswith("@")]
    assert [record[9] for record in records] == ["NNNN", "ACNN", "NNNN", "ACGT"]
    assert [record[11:] for record in records] == [[], [], [], ["XA:Z:1,+700,4M,0;"]]
    assert len(outputs) == 1


def test_reference_of_another_build_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "ref.fa").write_text(">chr1\n" + "ACGT" * 10 + "\n")
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t0\t10\n")
    sam = b"@SQ\tSN:chr1\tLN:120\nr1\t0\tchr1\t1\t60\t4M\t*\t0\t0\tACGT\tIIII\n"
    result = run_command("sam-mask-regions", "--bed", str(bed), "-r", str(tmp_path / "ref.fa"), input=sam)
    assert result.returncode == 1
    assert b"another genome build" in result.stderr and result.stdout == b""


def test_blocks_are_streamed_not_collected(tmp_path: Path) -> None:
    """Memory stays flat: the first reads are written before later blocks are read."""
    from genoscrub.regions import RegionRequest
    from genoscrub.report import Report
    from genoscrub.sam_mask_regions import mask_regions

    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t100\t110\n")
    read: list[int] = []

    def blocks() -> Iterator[tuple[int, bytes]]:
        yield 1, b"@SQ\tSN:chr1\tLN:1000\n"
        for number in range(1000):
            read.append(number)
            yield 2 + number, b"r%d\t0\tchr1\t%d\t60\t4M\t*\t0\t0\tACGT\tIIII\n" % (number, number % 900 + 1)

    chunks = mask_regions(blocks(), RegionRequest(beds=[str(bed)]), None, False, "-", Report("sam-mask-regions"))
    next(chunks)
    next(chunks)
    assert len(read) < 5


# --- one input, one answer: paths, contig names, a second run ---------------------------


TEMPLATE_LENGTHS = st.sampled_from(["0", "0", "30", "-30", "95", "-95", "250", "-250", "007", "-", "12345678901"])
"""TLENs that end a template before, inside and past the regions, and some that are not numbers."""


@st.composite
def small_alignments(draw: st.DrawFn) -> list[bytes]:
    """Records near a region at 100-120 of a 300-base chr1: clips, indels, unmapped and
    secondary records, mates with MC, SA and XA tags pointing in or out of the region."""
    lines = [b"@SQ\tSN:chr1\tLN:300"]
    for number in range(draw(st.integers(1, 8))):
        parts = draw(cigar_operations)
        lead, trail = draw(st.integers(0, 5)), draw(st.integers(0, 5))
        position = draw(st.integers(1, 250))
        if not draw(st.integers(0, 2)):  # an indel a few bases outside the region, about its own length away
            size, before, after = draw(st.integers(1, 12)), draw(st.integers(0, 10)), draw(st.integers(0, 10))
            parts = [(before, "M")] * bool(before) + [(size, draw(st.sampled_from("ID")))] + [(after, "M")] * bool(after)
            point = draw(st.sampled_from([100, 120])) + draw(st.integers(-size - 3, size + 3))  # 0-based, where the indel starts
            position = max(1, point - before + 1)
        cigar = "".join(f"{length}{op}" for length, op in ([(lead, "S")] if lead else []) + parts + ([(trail, "S")] if trail else []))
        shape = parse_cigar(cigar.encode())
        assert shape is not None
        flag = draw(st.sampled_from([0, 0, 16, 256, 2048, 4, 65, 129]))
        tags = []
        if flag & 1:
            tags.append(f"MC:Z:{draw(st.sampled_from(['10M', '5S5M', '3M2I3M', '4M4D4M']))}")
        if draw(st.booleans()):
            tags.append(f"SA:Z:chr1,{draw(st.integers(1, 250))},+,{draw(st.sampled_from(['10M', '5H5M']))},60,0;")
        if draw(st.booleans()):
            tags.append(f"XA:Z:chr1,{draw(st.sampled_from(['+', '-']))}{draw(st.integers(1, 250))},10M,0;")
        if draw(st.booleans()):  # bwa mem -u: XA's hits with their scores
            tags.append(f"XB:Z:chr1,{draw(st.sampled_from(['+', '-']))}{draw(st.integers(1, 250))},10M,0,10,60;")
        given_twice = draw(st.booleans())
        if tags and given_twice:  # a second copy, pointing elsewhere: only the first is read, so it goes
            copied = draw(st.sampled_from(tags))
            tags.append(copied[:5] + draw(st.sampled_from(["4M4D4M", "chr1,110,+,4M4D4M,60,0;", "chr1,+105,4M4D4M,0;"])))
        sequence = "".join(random.Random(number).choice("ACGT") for _ in range(shape.query_length))
        mate = ["=", str(draw(st.integers(1, 250))), draw(TEMPLATE_LENGTHS)] if flag & 1 else ["*", "0", "0"]
        fields = [f"r{number}", str(flag), "chr1", str(position), "60", cigar, *mate, sequence, "I" * len(sequence), *tags, "RG:Z:g"]
        lines.append("\t".join(fields).encode())
    return lines


def whole_lines(lines: list[bytes]) -> bytes:
    """A block as ``mask_regions`` takes it: whole lines, each ending in a newline."""
    return b"".join(line + b"\n" for line in lines)


def masked_text(lines: list[bytes], bed: Path, drop: bool, one_by_one: bool) -> tuple[bytes, dict[str, int]]:
    from genoscrub.regions import RegionRequest
    from genoscrub.report import InputError, Report
    from genoscrub.sam_mask_regions import mask_regions

    report = Report("sam-mask-regions")
    try:
        text = b"".join(mask_regions([(1, whole_lines(lines))], RegionRequest(beds=[str(bed)], flank=0), None, drop, "in.sam", report,
                                     one_by_one=one_by_one))
    except InputError as error:
        return f"{error.line}: {error.message}".encode(), dict(report.counts)
    return text, dict(report.counts)


def indel_touches_region(line: bytes) -> bool:
    """Whether a mapped record has an insertion or deletion of L bases whose span, widened by L on
    each side, overlaps or meets the region at 100-120 (0-based, half-open) of the property
    tests: the rule, written out here apart from ``cigar``'s own."""
    fields = line.split(b"\t")
    if line.startswith(b"@") or len(fields) < 11 or int(fields[1]) & 4 or fields[5] == b"*":
        return False
    reference = int(fields[3]) - 1
    for length, op in re.findall(rb"(\d+)([MIDNSHP=X])", fields[5]):
        size = int(length)
        if op == b"I" and reference - size <= 120 and reference + size >= 100:
            return True
        if op == b"D" and reference - size <= 120 and reference + 2 * size >= 100:
            return True
        if op in b"MDN=X":
            reference += size
    return False


@settings(max_examples=200, deadline=None)
@given(small_alignments(), st.booleans())
def test_bulk_and_one_record_paths_agree_whatever_the_contig_names(lines: list[bytes], drop: bool) -> None:
    """The same bytes and counts from the bulk path and the one-record path, with the BED
    naming the contig chr1 or 1; and a second run changes no record."""
    import tempfile

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "chr.bed").write_text("chr1\t100\t120\n")
        (folder / "plain.bed").write_text("1\t100\t120\n")
        bulk = masked_text(lines, folder / "chr.bed", drop, one_by_one=False)
        assert masked_text(lines, folder / "chr.bed", drop, one_by_one=True) == bulk
        assert not any(map(indel_touches_region, bulk[0].splitlines()))
        plain = masked_text(lines, folder / "plain.bed", drop, one_by_one=False)
        assert plain[0].splitlines()[1:] == bulk[0].splitlines()[1:] and plain[1] == bulk[1]
        if bulk[0].startswith(b"@"):
            again, _ = masked_text(bulk[0].splitlines(), folder / "chr.bed", drop, one_by_one=False)
            assert [line for line in again.splitlines() if not line.startswith(b"@")] == [
                line for line in bulk[0].splitlines() if not line.startswith(b"@")
            ]


# --- the bulk selection against the one-record path, on the edges of its shortcuts ---------

EDGE_TAGS = [
    "MC:Z:10M",
    "MC:Z:200M",  # a mate reaching far
    "MC:Z:5S5M",
    "MC:Z:xyz",  # unreadable: the read is looked at, and its mate judged to touch (fail closed)
    "MC:Z:",  # empty
    "mc:Z:10M",  # not an MC tag (names are case-sensitive)
    "MC:Zx10M",  # nor this
    "XX:Z:MC:Z:10M",  # an MC look-alike inside another tag's value
    "SA:Z:chr1,110,+,10M,60,0;",
    "SA:Z:chr2,5,+,10M,60,0;",
    "SA:Z:chr1,oops;",  # unreadable: fail closed
    "XA:Z:chr1,-105,10M,0;",
    "XA:Z:chr2,+5,10M,0;",
    "XB:Z:chr1,-105,10M,0,10,60;",
    "XB:Z:chr2,+5,10M,0,10,60;",
    "XB:Z:chr1,oops;",  # unreadable: fail closed
    "XA:Z:1,+5,10M,0;",  # another spelling of chr1 (samtools reheader)
    "XA:Z:chrZ,+5,10M,0;",  # a contig the header cannot place: fail closed
    "XA:i:5",  # a list of another type: --drop-alignment-lists removes it too
    "NM:i:0",
    "MD:Z:10",
    "OQ:Z:IIIIIIIIII",
    "vA:B:c,2",  # STAR's allele at a variant site: goes with the masked bases
    "AS:i:-6",  # scored on the bases: goes with them
    "YS:i:-6",  # scored on the mate's bases: goes where the mate touches a region
    "ms:i:1200",  # samtools fixmate -m: the sum of the mate's qualities, which masking may change
    "nM:i:1",
    "YSx:i:1",  # a field whose first two bytes are YS: removed as YS is
    "RG:Z:g",
    "R2:Z:ACGTACGTAC",  # the mate's bases, OA/OC/OP the original alignment: removed from every record
    "OA:Z:chr1,105,+,10M,60,0;",
    "OC:Z:3M2I5M",
    "OP:i:105",
    "CP:i:105",  # the next hit's position, on the contig: kept
    "CP:i:19900101",  # past twice the contig and a read: goes, as sam-scrub-rg removes it
    "CP:Z:105",  # not an integer: goes
]


@st.composite
def edge_case_alignments(draw: st.DrawFn) -> list[bytes]:
    """Records that reach the bulk path's shortcuts: unnamed (``*``) and unplaced reads, no
    tags at all, a QUAL that reads like a tag, unreadable or look-alike ``MC``/``SA``/``XA``,
    two contigs in one block, mates on the other contig, and a block whose first record
    has a rare CIGAR (the common one is then found from another row)."""
    lines = [b"@SQ\tSN:chr1\tLN:300", b"@SQ\tSN:chr2\tLN:300"]
    common = draw(st.sampled_from(["10M", "2S8M", "*"]))
    for number in range(draw(st.integers(1, 12))):
        name = draw(st.sampled_from(["*", f"r{number}", "MC:Z:10M"]))
        flag = draw(st.sampled_from([0, 16, 1 | 32, 1 | 16, 1 | 8, 1 | 4, 4, 256, 2048]))
        contig = draw(st.sampled_from(["chr1", "chr1", "chr2", "*"]))
        position = 0 if contig == "*" else draw(st.integers(1, 250))
        cigar = "*" if flag & 4 or contig == "*" else draw(st.sampled_from([common, common, "10M", "3M2I5M", "4M4D6M", "10M"]))
        length = 10 if cigar == "*" else cigar_shape(cigar.encode()).query_length
        sequence = draw(st.sampled_from(["ACGTACGTAC"[:length], "*"])) if length else "*"
        quality = draw(st.sampled_from(["I" * length, "MC:Z:10M11"[:length].ljust(length, "I"), "*"])) if sequence != "*" else "*"
        mate = (
            [draw(st.sampled_from(["=", "chr1", "chr2", "*"])), str(draw(st.integers(0, 250) | st.just(19900101))), draw(TEMPLATE_LENGTHS)]
            if flag & 1
            else ["*", "0", "0"]
        )
        tags = draw(st.lists(st.sampled_from(EDGE_TAGS), max_size=4))
        fields = [name, str(flag), contig, str(position), "60", cigar, *mate, sequence, quality, *tags]
        lines.append("\t".join(fields).encode())
    return lines


def masked_with(
    lines: list[bytes], bed: Path, drop: bool, one_by_one: bool, reference: str | None = None, drop_lists: bool = False
) -> tuple[bytes, dict[str, int]]:
    from genoscrub.regions import RegionRequest
    from genoscrub.report import InputError, Report
    from genoscrub.sam_mask_regions import mask_regions

    report = Report("sam-mask-regions")
    try:
        parts = [(1, lines[:2]), (3, lines[2:5]), (6, lines[5:])] if len(lines) > 5 else [(1, lines)]
        blocks = [(first, whole_lines(part)) for first, part in parts]
        request = RegionRequest(beds=[str(bed)], flank=0)
        text = b"".join(
            mask_regions(blocks, request, reference, drop, "in.sam", report, one_by_one=one_by_one, drop_alignment_lists=drop_lists)
        )
    except InputError as error:
        return f"{error.line}: {error.message}".encode(), dict(report.counts)
    return text, dict(report.counts)


def assert_every_path_agrees(lines: list[bytes], regions: str, drop: bool, drop_lists: bool = False) -> None:
    """Same bytes and counts (the report's key order included) from the bulk path, with the
    compiled and the pure-Python splice, and from the one-record path."""
    import tempfile

    import genoscrub.sam_mask_regions as module
    from genoscrub import scan

    with tempfile.TemporaryDirectory() as name:
        bed = Path(name) / "r.bed"
        bed.write_text(regions)
        one = masked_with(lines, bed, drop, one_by_one=True, drop_lists=drop_lists)
        bulk = masked_with(lines, bed, drop, one_by_one=False, drop_lists=drop_lists)
        assert bulk == one and list(bulk[1]) == list(one[1])
        if drop_lists:
            assert not re.search(rb"\t(?:SA|XA|XB)", bulk[0]), "--drop-alignment-lists leaves no list"
        compiled = module.scan
        module.scan = scan.python  # type: ignore[assignment]
        try:
            assert masked_with(lines, bed, drop, one_by_one=False, drop_lists=drop_lists) == bulk
        finally:
            module.scan = compiled


@settings(max_examples=180, deadline=None)
@given(edge_case_alignments(), st.booleans(), st.booleans())
def test_bulk_selection_agrees_with_the_one_record_path_on_edge_cases(lines: list[bytes], drop: bool, drop_lists: bool) -> None:
    assert_every_path_agrees(lines, "chr1\t100\t120\nchr2\t0\t3\n", drop, drop_lists)


def test_a_mate_cigar_of_another_type_is_judged_as_touching_and_removed(tmp_path: Path) -> None:
    """``MC:i:5`` holds no CIGAR: the mate's span is unknown, so it is judged as touching a region
    (fail closed) and the field goes, wherever the mate lies, on the bulk and one-record paths."""
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t100\t120\n")
    record = b"r1\t65\tchr1\t10\t60\t10M\t=\t250\t0\tACGTACGTAC\tIIIIIIIIII\tMC:i:5\tRG:Z:g"
    for one_by_one in (False, True):
        text, counts = masked_with([b"@SQ\tSN:chr1\tLN:300", record], bed, drop=False, one_by_one=one_by_one)
        assert text.splitlines()[-1] == record.replace(b"\tMC:i:5", b"") and counts["mate_cigar_tags_removed"] == 1


def test_a_qual_reading_like_a_mate_cigar_is_never_taken_for_one(tmp_path: Path) -> None:
    """Only the optional fields hold tags: a read whose mate lies in a region keeps a QUAL
    that begins ``MC:Z:`` (it once went as if it were the mate's CIGAR tag)."""
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t100\t120\n")
    record = b"r1\t65\tchr1\t10\t60\t10M\t=\t105\t0\tACGTACGTAC\tMC:Z:10MII\tMC:Z:10M\tRG:Z:g"
    text, counts = masked_with([b"@SQ\tSN:chr1\tLN:300", record], bed, drop=False, one_by_one=False)
    # the mate starts in the region and its MC goes: RNEXT and PNEXT go too (a clip junction may lie there)
    assert text.splitlines()[-1] == (record.rsplit(b"\tMC:Z:10M\t", 1)[0] + b"\tRG:Z:g").replace(b"\t=\t105\t", b"\t*\t0\t")
    assert counts["mate_cigar_tags_removed"] == 1
    bare = b"r1\t65\tchr1\t10\t60\t10M\t=\t105\t0\tACGTACGTAC\tMC:Z:10MII"
    text, counts = masked_with([b"@SQ\tSN:chr1\tLN:300", bare], bed, drop=False, one_by_one=False)
    # no MC: the mate's start in the region may be a clip junction, so RNEXT and PNEXT go (fail closed)
    assert text.splitlines()[-1] == bare.replace(b"\t=\t105\t", b"\t*\t0\t") and "mate_cigar_tags_removed" not in counts


def test_crlf_input_gives_the_same_bytes_on_every_path(tmp_path: Path) -> None:
    """CRLF input, on the bulk path, the one-record path and without the C loops."""

    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t100\t120\n")
    records = [
        b"@SQ\tSN:chr1\tLN:300",
        b"*\t0\tchr1\t95\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII",
        b"r2\t65\tchr1\t10\t60\t10M\t=\t110\t0\tACGTACGTAC\tIIIIIIIIII\tMC:Z:10M",
        b"r3\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII",
    ]
    crlf = b"\r\n".join(records) + b"\r\n"
    outputs = []
    for switch in ({}, {"GENOSCRUB_ONE_BY_ONE": "1"}, {"GENOSCRUB_PURE_PYTHON": "1"}):
        result = run_command("sam-mask-regions", "-q", "--bed", str(bed), "--flank", "0", input=crlf, env=switch)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    assert b"\r" not in outputs[0] and b"\tACGTACNNNN\tIIIIII####\n" in outputs[0] and b"MC:Z" not in outputs[0]


# --- reads whose only change is the loss of their mate's CIGAR (MC), settled in bulk ----------

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
              "XA:Z:chr1,-105,10M,0;", "XA:Z:chr1,+250,10M,0;", "XB:Z:chr1,-105,10M,0,10,60;", "XB:Z:chr1,+250,10M,0,10,60;",
              "OQ:Z:IIIIIIIIII", "YS:i:0", "ms:i:400", "nM:i:2", "jI:B:i,-1", "jM:B:c,0", "AS:i:0", "R2:Z:ACGT", "Q2:Z:IIII", "OC:Z:10M",
              "OP:i:105", "OPx:i:1", "CP:i:105", "CP:i:19900101"]
# Mates near the edges of chr1's region (100-120, 0-based) and on chr2's (0-3).
MATE_POSITIONS = [0, 1, 3, 4, 80, 90, 91, 95, 100, 101, 110, 120, 121, 150, 250, 19900100]  # the last past every contig


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
        mate_place = str(draw(st.sampled_from(MATE_POSITIONS)) + 1)
        mate = [draw(st.sampled_from(["=", "=", "chr1", "chr2", "*"])), mate_place, draw(TEMPLATE_LENGTHS)]
        sequence = draw(st.sampled_from(["ACGTACGTAC", "*"]))
        quality = draw(st.sampled_from(["IIIIIIIIII", "MC:Z:10M:I", "*"])) if sequence != "*" else "*"
        tags = draw(st.sampled_from(MATE_TAGS)) + draw(st.lists(st.sampled_from(OTHER_TAGS), max_size=3))
        tags = draw(st.permutations(tags))
        fields = [f"r{number}", str(flag), contig, str(position), "60", cigar, *mate, sequence, quality, *tags]
        ending = draw(st.sampled_from(["", "", "", "\r"]))
        lines.append(("\t".join(fields) + ending).encode())
    return lines


@pytest.mark.slow  # a long sweep of the bulk path against the one-record path: make test-slow (CI runs it after make test)
@settings(max_examples=240, deadline=None)
@given(paired_blocks(), st.booleans(), st.booleans())
@example([*HEADER, b"a\t65\tchr1\t20\t60\t10M\t=\t81\t0\tACGTACGTAC\tIIIIIIIIII\tMC:Z:60M\tMC:Z:1M"], False, False)  # the first MC decides
@example(
    [*HEADER, b"a\t65\tchr1\t20\t60\t10M\t=\t106\t0\tACGTACGTAC\tIIIIIIIIII\tMC:Z:10M\t"], False, False
)  # the tags go, with the empty one
@example([*HEADER, b"r0\t1\tchr1\t20\t60\t10M\tchr2\t1\t0\t*\t*\tYS:i:0"], False, False)  # no MC in the block: YS still goes
@example([*HEADER, b"a\t0\tchr1\t20\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\tXA:Z:chr1,+250,10M,0;\tRG:Z:g\r"], False, True)
def test_mate_cigar_removal_in_bulk_agrees_with_the_one_record_path(lines: list[bytes], drop: bool, drop_lists: bool) -> None:
    """Paired reads whose mates lie in or out of a region: the bulk path's ``MC`` removal
    (``mate_cigar_tags_removed`` counts tags) equals the one-record path's; with
    ``--drop-alignment-lists``, so do the lists cut from reads settled in bulk."""
    assert_every_path_agrees(lines, REGIONS, drop, drop_lists)


def test_a_masked_read_keeps_no_tag_scored_on_its_bases_nor_its_mate_a_score_of_them(tmp_path: Path) -> None:
    """A score tells how many masked bases differed from the reference (an identity SNP's allele):
    the masked read keeps only the tags blind to its bases, and its mate loses YS and nM (scored on
    the masked read's bases too), samtools fixmate's ms (the sum of its qualities) and STAR's
    jI and jM (the junctions of the pair, the masked read's skips among them) as it loses MC,
    on every path."""
    reference = "ACGT" * 50
    sequence = reference[90:100]
    lines = [
        f"a\t99\tchr1\t91\t60\t10M\t=\t151\t70\t{sequence}\tIIIIIIIIII\tAS:i:-6\tcs:Z::10\tnM:i:1\tRG:Z:g\tMC:Z:10M\tYS:i:0".encode(),
        f"a\t147\tchr1\t151\t60\t10M\t=\t91\t-70\t{reference[150:160]}\tIIIIIIIIII\tAS:i:0\tnM:i:1\tYS:i:-6\tms:i:400\tMC:Z:10M"
        "\tjM:B:c,-1\tjI:B:i,-1".encode(),  # STAR's junctions of the pair: they name the mate's skips too
    ]
    header = [b"@HD\tVN:1.6\tSO:coordinate", b"@SQ\tSN:chr1\tLN:200"]
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t92\t95\n")
    text, counts = masked_with(header + lines, bed, drop=False, one_by_one=False)
    records = [line.split(b"\t") for line in text.splitlines() if not line.startswith(b"@")]
    assert records[0][9] == b"GTNNNTACGT" and records[0][11:] == [b"RG:Z:g", b"MC:Z:10M"]
    assert records[1][11:] == [b"AS:i:0"]
    assert counts["tags_removed"] == 3 and counts["copying_tags_removed"] == 1  # cs goes from every record
    assert counts["mate_score_tags_removed"] == 5 and counts["mate_cigar_tags_removed"] == 1
    assert_every_path_agrees(header + lines, "chr1\t92\t95\n", drop=False)


def test_plain_mate_cigar_reads_are_settled_without_a_rewrite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reads whose only change is the loss of ``MC`` never reach ``rewrite``; the ``MC``
    fields go wherever they stand, a QUAL reading ``MC:Z:...`` stays, and the reads that
    are not plain (two ``MC``, ``MC:i``, an unreadable one, ``SA``) are rewritten one by one.
    The mates start before the regions (a PNEXT inside one is ``rewrite``'s too)."""
    bed = tmp_path / "r.bed"
    bed.write_text(REGIONS)
    plain = [
        b"a\t65\tchr1\t20\t60\t10M\t=\t95\t0\tACGTACGTAC\tMC:Z:10M:I\tMC:Z:10M\tRG:Z:g",
        b"b\t129\tchr1\t200\t60\t10M\tchr2\t5\t0\t*\t*\tRG:Z:g\tMC:Z:5S5M",
        b"c\t65\tchr1\t20\t60\t10M\t=\t92\t0\tACGTACGTAC\tIIIIIIIIII\tNM:i:0\tMC:Z:10M\tRG:Z:g",  # 91-101: touches
        b"d\t65\tchr1\t20\t60\t10M\t=\t200\t0\tACGTACGTAC\tIIIIIIIIII\tMC:Z:10M",  # mate far: unchanged
    ]
    unusual = [
        b"e\t65\tchr1\t20\t60\t10M\t=\t95\t0\tACGTACGTAC\tIIIIIIIIII\tMC:Z:10M\tMC:Z:10M",
        b"f\t65\tchr1\t20\t60\t10M\t=\t95\t0\tACGTACGTAC\tIIIIIIIIII\tMC:i:1\tMC:Z:10M",
        b"g\t65\tchr1\t20\t60\t10M\t=\t200\t0\tACGTACGTAC\tIIIIIIIIII\tMC:Z:xyz",
        b"h\t65\tchr1\t20\t60\t10M\t=\t95\t0\tACGTACGTAC\tIIIIIIIIII\tMC:Z:10M\tSA:Z:chr1,250,+,10M,60,0;",
    ]
    rewritten: list[bytes] = []
    original = RegionMasker.rewrite

    def counting(self: RegionMasker, line: bytes, *rest: object) -> bytes | None:
        rewritten.append(line.split(b"\t", 1)[0])
        return original(self, line, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(RegionMasker, "rewrite", counting)
    text, counts = masked_with([*HEADER, *plain, *unusual], bed, drop=False, one_by_one=False)
    assert sorted(rewritten) == [b"e", b"f", b"g", b"h"]
    records = text.splitlines()[len(HEADER) + 1 :]
    assert records[:4] == [
        b"a\t65\tchr1\t20\t60\t10M\t=\t95\t0\tACGTACGTAC\tMC:Z:10M:I\tRG:Z:g",
        b"b\t129\tchr1\t200\t60\t10M\tchr2\t5\t0\t*\t*\tRG:Z:g",
        b"c\t65\tchr1\t20\t60\t10M\t=\t92\t0\tACGTACGTAC\tIIIIIIIIII\tNM:i:0\tRG:Z:g",
        plain[3],
    ]
    assert records[4:6] == [  # the second copy goes first (as a repeat); then the first is judged alone
        b"e\t65\tchr1\t20\t60\t10M\t=\t95\t0\tACGTACGTAC\tIIIIIIIIII",
        b"f\t65\tchr1\t20\t60\t10M\t=\t95\t0\tACGTACGTAC\tIIIIIIIIII",  # MC:i alone: no CIGAR, judged as touching, removed
    ]
    assert dict(counts)["mate_cigar_tags_removed"] == 3 + 1 + 1 + 1 + 1 and dict(counts)["aux_repeats_removed"] == 2
    monkeypatch.setattr(RegionMasker, "rewrite", original)
    one = masked_with([*HEADER, *plain, *unusual], bed, drop=False, one_by_one=True)
    assert (text, counts) == one and list(counts) == list(one[1])


def test_an_insertion_placed_just_before_a_repeat_is_dropped_with_flank_0(tmp_path: Path) -> None:
    """The red team's reads: a repeat at 14201-14232 (BED 14200-14232), an insertion of three
    CTTT units placed after 14199, as bwa and ``bcftools norm`` place it. With ``--flank 0``
    the insertion's point lies one base before the region, but widened by its 12 bases it
    reaches in: ``80M12I8M`` and ``80M12I`` (which ends there) are dropped, not masked, on
    both paths; their mate loses ``MC``, which spells the insertion's length; a read whose
    clip would reach the region is masked, and a read ending 13 bases before it passes."""
    rng = random.Random(3)
    left = "".join(rng.choice("ACGT") for _ in range(80))
    insertion, right = "TCTTTCTTTCTT", "CTTTCTTT"
    records = [
        f"insedge\t0\tchr1\t14120\t60\t80M12I8M\t*\t0\t0\t{left + insertion + right}\t{'I' * 100}",
        f"insend\t0\tchr1\t14120\t60\t80M12I\t*\t0\t0\t{left + insertion}\t{'I' * 92}",
        f"clipedge\t0\tchr1\t14120\t60\t80M20S\t*\t0\t0\t{left + insertion + right}\t{'I' * 100}",
        f"far\t0\tchr1\t14107\t60\t80M12I\t*\t0\t0\t{left + insertion}\t{'I' * 92}",
        "mate\t65\tchr1\t13900\t60\t10M\t=\t14120\t0\tACGTACGTAC\tIIIIIIIIII\tMC:Z:80M12I8M",
    ]
    sam = "@SQ\tSN:chr1\tLN:20000\n" + "".join(record + "\n" for record in records)
    bed = tmp_path / "str.bed"
    bed.write_text("chr1\t14200\t14232\tSTR_CTTTx8\n")
    outputs = []
    for switch in ("0", "1"):
        with pytest.MonkeyPatch.context() as monkeypatch:
            monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", switch)
            result = run_command("sam-mask-regions", "-q", "--flank", "0", "--bed", str(bed), input=sam.encode())
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    kept = {line.split(b"\t")[0]: line.split(b"\t") for line in outputs[0].splitlines() if not line.startswith(b"@")}
    assert sorted(kept) == [b"clipedge", b"far", b"mate"]
    assert kept[b"clipedge"][9].endswith(b"N" * 20) and kept[b"far"][9] == (left + insertion).encode()
    assert kept[b"mate"][11:] == []
    default = run_command("sam-mask-regions", "-q", "--bed", str(bed), input=sam.encode())  # flank 100: the clip junction is in it too
    assert [line.split(b"\t")[0] for line in default.stdout.splitlines() if not line.startswith(b"@")] == [b"mate"]


def test_a_kept_read_does_not_show_its_dropped_mates_deletion_placed_past_a_region(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The mate carries a 20-base deletion just past a region: widened by its length it meets the
    region, so the mate is dropped, though its aligned span does not reach the region. Its kept
    read's TLEN and PNEXT would still give the mate's span, 170 bases for 150 read bases: the
    deletion's length. TLEN becomes 0 (read by pysam), in bulk and one record at a time; a pair
    far from the region keeps its TLEN."""
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t1000\t1020\n")
    bases, qualities = "A" * 150, "I" * 150
    sam = (
        "@SQ\tSN:chr1\tLN:5000\n"
        f"near\t99\tchr1\t601\t60\t150M\t=\t1031\t600\t{bases}\t{qualities}\n"
        f"near\t147\tchr1\t1031\t60\t5M20D145M\t=\t601\t-600\t{bases}\t{qualities}\n"
        f"far\t99\tchr1\t3001\t60\t150M\t=\t3431\t600\t{bases}\t{qualities}\n"
        f"far\t147\tchr1\t3431\t60\t5M20D145M\t=\t3001\t-600\t{bases}\t{qualities}\n"
    ).encode()
    for one_by_one in ("0", "1"):
        monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
        result = run_command("sam-mask-regions", "--flank", "0", "--bed", str(bed), input=sam)
        assert result.returncode == 0, result.stderr
        out = tmp_path / "out.sam"
        out.write_bytes(result.stdout)
        with pysam.AlignmentFile(str(out), "r") as reads:
            kept = {(read.query_name, read.reference_start): read.template_length for read in reads}
        assert kept == {("near", 600): 0, ("far", 3000): 600, ("far", 3430): -600}


def test_a_mate_start_in_a_region_that_may_be_a_clip_junction_goes(tmp_path: Path) -> None:
    """A mate dropped for a clip junction in a region would show the junction in its kept read's
    PNEXT; junctions pile up at the repeat allele's end. RNEXT, PNEXT and TLEN become ``*``, 0
    and 0 where PNEXT lies in a region or at its edge and the read keeps no ``MC`` that starts
    with no clip (an ``MC`` whose mate touches the region goes): on the bulk and one-record
    paths alike, read by pysam."""
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t100\t120\n")
    bases, qualities = "A" * 10, "I" * 10
    reads = [  # name, PNEXT (1-based), MC, kept place
        ("clipped", 111, "MC:Z:5S5M", False),  # the dropped mate's junction at 111
        ("no-mate-cigar", 111, "", False),  # nothing tells it was no junction
        ("aligned-inside", 111, "MC:Z:10M", False),  # its MC goes (the mate touches): then as above
        ("at-the-edge", 121, "MC:Z:10M", True),  # starts just past the region, touching nothing: MC and place kept
        ("clip-at-the-edge", 121, "MC:Z:3S7M", False),  # a junction at the region's edge
        ("before", 90, "", True),
    ]
    lines = [b"@SQ\tSN:chr1\tLN:300"] + [
        f"{name}\t65\tchr1\t20\t60\t10M\t=\t{mate}\t{mate + 9 - 20}\t{bases}\t{qualities}{chr(9) + tag if tag else ''}".encode()
        for name, mate, tag, _ in reads
    ]
    results = [masked_with(lines, bed, drop=False, one_by_one=one_by_one) for one_by_one in (False, True)]
    assert results[0] == results[1]
    out = tmp_path / "out.sam"
    out.write_bytes(results[0][0])
    with pysam.AlignmentFile(str(out), "r") as kept:
        places = {read.query_name: (read.next_reference_id, read.next_reference_start, read.template_length) for read in kept}
    for name, mate, _, keeps in reads:
        # a kept place keeps PNEXT; its TLEN goes by the TLEN rule (the mate's span, widened, meets the region)
        assert places[name] == ((0, mate - 1, 0) if keeps else (-1, -1, 0)), name
    assert results[0][1]["mate_positions_cleared"] == 4


def test_an_unmapped_read_written_unplaced_lies_at_its_mates_place(tmp_path: Path) -> None:
    """An unmapped read is placed at its mate (SAM's rule, what bwa writes) or written unplaced
    (RNAME ``*``) with its mate's place in RNEXT and PNEXT: the same read either way. Near a
    region it is masked whole, in it dropped, on the bulk and one-record paths; with RNEXT
    ``*`` it cannot be placed and passes. The audit finds its bases in the input either way,
    and nothing in the output (read by pysam)."""
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t1000\t1056\n")
    repeat, qualities = "GATA" * 10, "I" * 40
    lines = [b"@SQ\tSN:chr1\tLN:3000"]
    for name, mate in (("near", 700), ("inside", 1010)):
        lines += [
            f"{name}-placed\t133\tchr1\t{mate}\t0\t*\t=\t{mate}\t0\t{repeat}\t{qualities}".encode(),
            f"{name}-unplaced\t133\t*\t0\t0\t*\tchr1\t{mate}\t0\t{repeat}\t{qualities}".encode(),
        ]
    lines.append(f"nowhere\t141\t*\t0\t0\t*\t*\t0\t0\t{repeat}\t{qualities}".encode())
    results = [masked_with(lines, bed, drop=False, one_by_one=one_by_one) for one_by_one in (False, True)]
    assert results[0] == results[1]
    text, counts = results[0]
    out = tmp_path / "out.sam"
    out.write_bytes(text)
    with pysam.AlignmentFile(str(out), "r") as reads:
        kept = {read.query_name: read.query_sequence for read in reads}
    assert kept == {"near-placed": "N" * 40, "near-unplaced": "N" * 40, "nowhere": repeat}
    assert counts["reads_dropped_placed_unmapped"] == 2 and counts["unplaced_reads_passed"] == 1
    source = tmp_path / "in.sam"
    source.write_bytes(b"\n".join(lines) + b"\n")
    for path, found in ((source, True), (out, False)):
        report = tmp_path / "audit.json"
        run_command("genoscrub-audit", "-q", "--flank", "0", "--bed", str(bed), "--report", str(report), str(path))
        keys = json.loads(report.read_text())["files"][0]["findings"]["regions"].get("by_key", {})
        # in the input: the two spellings' bases in the region alike, both PNEXTs, the placed one's
        # place, and the two near it, which keep their bases (the masker masks them: within 1000 bases)
        expected = {"chr1:1001-1056": 2, "chr1:1001-1056 (PNEXT)": 2, "chr1:1001-1056 (placed unmapped)": 1}
        expected["chr1:1001-1056 (unmapped near)"] = 2
        assert keys == (expected if found else {})


def test_mate_bases_and_original_alignments_go_from_every_record(tmp_path: Path) -> None:
    """``R2``/``Q2`` (the mate's bases: here a mate dropped for a 12-base insertion in the region)
    and ``OA``/``OC``/``OP`` (the alignment before realignment, here inside the region with the
    insertion) go from every record, the reads far from the region too, in both modes and on
    every path; the other tags stay."""
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t100\t120\n")
    lines = [
        *HEADER,
        b"p\t99\tchr1\t21\t60\t10M\t=\t96\t0\tACGTACGTAC\tIIIIIIIIII\tR2:Z:ACGTACGTACACGTACGTAC\tQ2:Z:IIIIIIIIIIIIIIIIIIII\tRG:Z:g",
        b"o\t0\tchr1\t201\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\tOA:Z:chr1,96,+,4M12I4M,60,3;\tOC:Z:4M12I4M\tOP:i:96\tNM:i:0",
        b"r\t0\tchr2\t101\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\tOP:i:96\r",
        b"e\t0\tchr2\t151\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\t\tOC:Z:4M12I4M",
    ]
    for drop in (False, True):
        text, counts = masked_with(lines, bed, drop=drop, one_by_one=False)
        records = text.splitlines()[len(HEADER) + 1 :]
        assert [record.split(b"\t")[11:] for record in records] == [[b"RG:Z:g"], [b"NM:i:0"], [], [b""]]
        assert counts["copying_tags_removed"] == 7
        assert_every_path_agrees(lines, "chr1\t100\t120\n", drop)


def test_the_reads_own_cigar_and_bases_beside_seq_go_from_every_record(tmp_path: Path) -> None:
    """minimap2's ``cg`` (the CIGAR again: ``20M4D26M4I`` keeps a 50M read's lengths and writes a
    4-base indel), ``cs`` and ``ds``, ``E2``/``U2`` and ``CS``/``CQ`` (the read's bases beside SEQ)
    go from every record, far from the region too, as ``R2`` and ``OC`` do: no rule here judges
    them, and the audit places them at the read (an indel's length reaches past the read's span)."""
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t100\t120\n")
    lines = [
        *HEADER,
        b"g\t0\tchr1\t201\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\tcg:Z:2M1D7M1I\tcs:Z::10\tNM:i:0",
        b"e\t0\tchr2\t151\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\tE2:Z:ACGTACGTAC\tU2:Z:IIIIIIIIII\tRG:Z:g",
        b"c\t0\tchr2\t301\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\tCS:Z:T012301230\tCQ:Z:IIIIIIIIII\tds:Z::10",
    ]
    for drop in (False, True):
        text, counts = masked_with(lines, bed, drop=drop, one_by_one=False)
        records = text.splitlines()[len(HEADER) + 1 :]
        assert [record.split(b"\t")[11:] for record in records] == [[b"NM:i:0"], [b"RG:Z:g"], []]
        assert counts["copying_tags_removed"] == 7
        assert_every_path_agrees(lines, "chr1\t100\t120\n", drop)


FAR_PLACES = [
    b"@HD\tVN:1.6\tSO:coordinate",
    b"@SQ\tSN:chr1\tLN:5000",
    b"far\t97\tchr1\t100\t60\t10M\t=\t19900101\t0\tACGTACGTAC\tIIIIIIIIII\tMC:Z:10M\tRG:Z:g",
    b"edge\t97\tchr1\t100\t60\t10M\t=\t10010\t0\tACGTACGTAC\tIIIIIIIIII\tMC:Z:10M",  # twice LN 5000 and a read: a place
    b"hit\t0\tchr1\t100\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\tCP:i:19900101\tOP:i:19900101",
    b"near\t0\tchr1\t100\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\tCP:i:10010",
    b"gone\t77\t*\t0\t0\t*\t*\t19900101\t0\tACGTACGTAC\tIIIIIIIIII\tCP:i:19900101",  # RNEXT '*': the longest contig
]


@pytest.mark.parametrize("drop", [False, True])
def test_a_mate_placed_past_its_contig_loses_its_place_and_a_far_hit_its_position(tmp_path: Path, drop: bool) -> None:
    """Red team 9's leftover (H1): the masker copied a PNEXT past its contig (``RNEXT =``, ``PNEXT
    19900101`` on a contig of 5000) and a ``CP`` there as it read them (run sam-scrub-rg first,
    the page said). As sam-scrub-rg does, through the same check (``sam_columns.ReadPlaces``), on
    both paths and from a BAM: the mate's place becomes unavailable (``*``, 0, 0) and its ``MC``
    goes, a ``CP`` past twice RNAME's LN and a read goes; at the bound both stay."""
    (tmp_path / "r.bed").write_text("chr1\t3000\t3100\n")
    one = masked_with(FAR_PLACES, tmp_path / "r.bed", drop, one_by_one=True)
    assert masked_with(FAR_PLACES, tmp_path / "r.bed", drop, one_by_one=False) == one
    text, counts = one
    assert b"19900101" not in text
    records = {line.split(b"\t")[0]: line.split(b"\t") for line in text.splitlines() if not line.startswith(b"@")}
    assert records[b"far"][6:] == [b"*", b"0", b"0", b"ACGTACGTAC", b"IIIIIIIIII", b"RG:Z:g"]
    assert records[b"edge"][6:8] == [b"=", b"10010"]
    assert records[b"hit"][11:] == [] and records[b"near"][11:] == [b"CP:i:10010"]
    assert records[b"gone"][6:8] == [b"*", b"0"] and records[b"gone"][11:] == []
    assert (counts["mate_places_cleared"], counts["mate_cigar_tags_removed"], counts["aux_values_removed"]) == (2, 1, 2)
    (tmp_path / "in.sam").write_bytes(whole_lines(FAR_PLACES))
    subprocess.run(["samtools", "view", "-b", "-o", str(tmp_path / "in.bam"), str(tmp_path / "in.sam")], check=True)
    drop_option = ["--drop"] if drop else []
    result = run_command("sam-mask-regions", "-q", "--bed", str(tmp_path / "r.bed"), *drop_option, str(tmp_path / "in.bam"))
    assert result.returncode == 0 and b"19900101" not in result.stdout
    assert [line for line in result.stdout.splitlines() if not line.startswith(b"@")] == [
        line for line in text.splitlines() if not line.startswith(b"@")
    ]


def test_a_chimeric_part_in_a_region_leaves_the_clip_masked_and_the_audit_agrees(tmp_path: Path) -> None:
    """A primary read whose ``SA`` part spans a region holds that part's bases in its soft clip
    (50M60S at 2000, its part 50S60M at 985 across 1001-1040): the masker masks the clip, and the
    audit finds the unmasked input (``(aux SA, clip bases kept)``) and passes the masker's output.
    The audit passed the input: it read SA only for the lengths its CIGAR shows in a region."""
    rng = random.Random(1)
    reference = "".join(rng.choice("ACGT") for _ in range(3000))
    fasta = tmp_path / "ref.fa"
    fasta.write_text(">chr1\n" + "\n".join(reference[i : i + 60] for i in range(0, 3000, 60)) + "\n")
    pysam.faidx(str(fasta))
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t1000\t1040\tSTR1\n")
    sequence = reference[1999:2049] + reference[984:1044]
    source = tmp_path / "in.sam"
    source.write_text(
        "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:3000\n"
        f"5f41d027eec5a148221936fc\t0\tchr1\t2000\t60\t50M60S\t*\t0\t0\t{sequence}\t{'I' * 110}\tSA:Z:chr1,985,+,50S60M,60,0;\n"
    )
    out = tmp_path / "out.sam"
    assert run_command("sam-mask-regions", "-q", "--flank", "0", "--bed", str(bed), "-o", str(out), str(source)).returncode == 0
    masked = [line.split("\t") for line in out.read_text().splitlines() if not line.startswith("@")]
    assert masked[0][9] == sequence[:50] + "N" * 60
    for path, found in ((source, {"chr1:1001-1040 STR1 (aux SA, clip bases kept)": 1}), (out, {})):
        report = tmp_path / "audit.json"
        run_command("genoscrub-audit", "-q", "--flank", "0", "--bed", str(bed), "--report", str(report), str(path))
        keys = json.loads(report.read_text())["files"][0]["findings"]["regions"].get("by_key", {})
        assert keys == found, keys


def test_a_mate_cigar_beside_a_mate_flagged_unmapped_is_judged_all_the_same(tmp_path: Path) -> None:
    """FLAG 0x8 says the mate is unmapped, yet ``MC:Z:10S30M`` places its clip junction in the
    region (inconsistent input, after re-pairing tools): ``MC`` goes as any such ``MC``, on both
    paths, and the audit, which reads MC whatever 0x8 says, passes the output. It was kept, and the
    gate failed the masker's own output."""
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t1000\t1040\tSTR1\n")
    bases = "ACGT" * 10
    lines = [b"@SQ\tSN:chr1\tLN:3000"]
    for name, cigar in (("r1", "10S30M"), ("r2", "40M")):
        lines.append(f"{name}\t137\tchr1\t2000\t60\t40M\t=\t1018\t0\t{bases}\t{'I' * 40}\tMC:Z:{cigar}".encode())
    lines.append(f"r3\t137\tchr1\t2000\t60\t40M\t=\t1500\t0\t{bases}\t{'I' * 40}\tMC:Z:10S30M".encode())  # far: kept
    for drop in (False, True):
        results = [masked_with(lines, bed, drop=drop, one_by_one=one_by_one) for one_by_one in (False, True)]
        assert results[0] == results[1]
    text, counts = masked_with(lines, bed, drop=False, one_by_one=False)
    kept = {line.split(b"\t")[0]: line for line in text.splitlines() if not line.startswith(b"@")}
    assert b"MC:Z:" not in kept[b"r1"] and b"MC:Z:" not in kept[b"r2"] and kept[b"r3"].endswith(b"MC:Z:10S30M")
    assert counts["mate_cigar_tags_removed"] == 2
    out = tmp_path / "out.sam"
    out.write_bytes(text)
    report = tmp_path / "audit.json"
    run_command("genoscrub-audit", "-q", "--flank", "0", "--bed", str(bed), "--report", str(report), str(out))
    assert json.loads(report.read_text())["files"][0]["findings"]["regions"].get("by_key", {}) == {}


def test_reference_bases_cut_from_a_chunk_equal_fetch_exact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The masked reads' reference, cut from the last chunk read (``RegionMasker.reference_bases``),
    is ``fetch_exact``'s for every span: within a chunk and across its end, before the contig's
    start and past its end, empty, on the other contig and back, on a name the reference lacks,
    with lines of 60 bases and a chunk of 100, in the order reads come and out of it."""
    import genoscrub.sam_mask_regions as masker_module
    from genoscrub.contigs import ContigMap
    from genoscrub.fasta import Fasta
    from genoscrub.regions import RegionIndex
    from genoscrub.report import Report

    rng = random.Random(7)
    lengths = {"chr1": 1000, "chr2": 250}
    fasta = tmp_path / "ref.fa"
    with fasta.open("w") as out:
        for name, length in lengths.items():
            bases = "".join(rng.choice("ACGTacgtN") for _ in range(length))
            out.write(f">{name}\n" + "\n".join(bases[i : i + 60] for i in range(0, length, 60)) + "\n")
    pysam.faidx(str(fasta))
    reference = Fasta(str(fasta)).through(ContigMap(lengths, Fasta(str(fasta)).lengths, "reference", str(fasta)))
    monkeypatch.setattr(masker_module, "REFERENCE_CHUNK", 100)
    masker = RegionMasker(RegionIndex({}), {name.encode(): length for name, length in lengths.items()}, reference, False, "-", Report("t"))
    spans = [(b"chr1", start, start + span) for start in range(-5, 1010, 7) for span in (0, 1, 30, 99, 100, 101, 150)]
    spans += [(b"chr2", 240, 250), (b"chr2", 245, 251), (b"chr1", 3, 40), (b"chr3", 0, 10), (b"chr1", 950, 1000), (b"chr1", 950, 1001)]
    for contig, start, end in spans + rng.sample(spans, len(spans)):
        assert masker.reference_bases(contig, start, end) == reference.fetch_exact(contig.decode(), start, end), (contig, start, end)


# --- reads in a region masked for the whole block (RegionMasker.plain_masks) ---------------

PLAIN_TAGS = ["RG:Z:g", "MQ:i:60", "AS:i:95", "XS:i:0", "MD:Z:10", "NM:i:0", "YS:i:-6", "OQ:Z:IIIII", "BC:Z:ACGT", "RGx:Z:1", "R"]
"""Tags of the plain reads: kept when masked (RG, MQ, BC and a field named RG), scored on the bases
(AS, XS, MD, NM, OQ: they go), a mate's score (YS), and a field too short to name anything."""


@st.composite
def plain_alignments(draw: st.DrawFn) -> list[bytes]:
    """Mostly reads of one aligned run (``NM``, ``N=``, ``NX``) beside and inside the regions at 100-120
    and 130-131 of a 300-base chr1 (and chr2, without regions), as pairs with mates and ``MC`` in and
    out of them (clipped, with indels, unreadable, of another type), TLENs reaching them, QUAL ``*``,
    SEQ ``*``, lengths that disagree, CR line ends and empty fields: the reads ``plain_masks``
    settles and those it leaves to ``rewrite``."""
    lines = [b"@SQ\tSN:chr1\tLN:300", b"@SQ\tSN:chr2\tLN:300"]
    for number in range(draw(st.integers(1, 12))):
        length = draw(st.integers(1, 40))
        cigar = f"{length}{draw(st.sampled_from('MMM=X'))}" if draw(st.integers(0, 5)) else draw(st.sampled_from(["3S10M", "5M2I5M", "*"]))
        contig = draw(st.sampled_from(["chr1", "chr1", "chr1", "chr2"]))
        position = draw(st.integers(60, 160))
        flag = draw(st.sampled_from([0, 16, 65, 129, 97, 73, 4]))
        tags = [tag for tag in PLAIN_TAGS if draw(st.booleans())]
        if flag & 1 and draw(st.integers(0, 4)):
            mate_cigar = draw(st.sampled_from(["10M", "5S10M", "3M2I5M", "8M3D4M", "2H8M", "xyz", ""]))
            tags.insert(draw(st.integers(0, len(tags))), f"MC:Z:{mate_cigar}")
        elif flag & 1 and not draw(st.integers(0, 5)):
            tags.append(draw(st.sampled_from(["MC:i:5", "MCx:Z:10M"])))
        if not draw(st.integers(0, 15)):
            tags.append("")  # an empty optional field
        shape = parse_cigar(cigar.encode()) if cigar != "*" else None
        bases = shape.query_length if shape is not None else length
        sequence = "".join(random.Random(number).choice("ACGTN") for _ in range(bases))
        if not draw(st.integers(0, 10)):
            sequence = "*" if draw(st.booleans()) else sequence + "A"
        quality = "*" if not draw(st.integers(0, 4)) else "I" * len(sequence)
        mate = ["*", "0", "0"]
        if flag & 1:
            mate = [draw(st.sampled_from(["=", "=", "chr2", "*"])), str(draw(st.integers(0, 200))), draw(TEMPLATE_LENGTHS)]
        fields = [f"r{number}", str(flag), contig, str(position), "60", cigar, *mate, sequence, quality, *tags]
        lines.append("\t".join(fields).encode() + (b"\r" if not draw(st.integers(0, 15)) else b""))
    return lines


@pytest.mark.slow  # a long sweep of the bulk path against the one-record path: make test-slow (CI runs it after make test)
@settings(max_examples=200, deadline=None)
@given(plain_alignments(), st.booleans())
def test_reads_masked_in_bulk_agree_with_the_one_record_path(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], drop: bool
) -> None:
    """``plain_masks`` gives the bytes and the counts, in the order their keys first appear, of
    ``rewrite`` (``GENOSCRUB_ONE_BY_ONE=1``), with ``-r`` (``MD``/``NM`` recomputed) and without, on
    reads it settles and on those beside them that it leaves to ``rewrite``."""
    from genoscrub.regions import RegionRequest
    from genoscrub.report import InputError, Report
    from genoscrub.sam_mask_regions import mask_regions

    folder = tmp_path_factory.mktemp("plain")
    (folder / "regions.bed").write_text("chr1\t100\t120\nchr1\t130\t131\n")
    fasta = folder / "ref.fa"
    if not fasta.exists():
        rng = random.Random(3)
        fasta.write_text("".join(f">{name}\n{''.join(rng.choice('ACGT') for _ in range(300))}\n" for name in ("chr1", "chr2")))
        pysam.faidx(str(fasta))
    request = RegionRequest(beds=[str(folder / "regions.bed")], flank=0)
    for reference in (str(fasta), None):
        results: list[tuple[bytes, list[tuple[str, int]] | None]] = []
        for one_by_one in (False, True):
            report = Report("sam-mask-regions")
            try:
                text = b"".join(mask_regions([(1, whole_lines(lines))], request, reference, drop, "in.sam", report, one_by_one=one_by_one))
            except InputError as error:  # the same line and words; a run that fails writes no report
                results.append((f"{error.line}: {error.message}".encode(), None))
                continue
            results.append((text, list(report.counts.items())))
        assert results[0] == results[1]


def test_reads_masked_in_bulk_are_settled_without_a_rewrite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read of one aligned run in a region, its mate's ``MC`` touching it too, is settled by
    ``plain_masks``: ``rewrite`` never sees it, and the output is the one-record path's."""
    from genoscrub.regions import RegionRequest
    from genoscrub.report import Report
    from genoscrub.sam_mask_regions import mask_regions

    (tmp_path / "regions.bed").write_text("chr1\t100\t120\n")
    lines = [
        b"@SQ\tSN:chr1\tLN:300",
        b"r1\t97\tchr1\t91\t60\t20M\t=\t105\t34\t" + b"A" * 20 + b"\t" + b"I" * 20 + b"\tMC:Z:20M\tAS:i:20\tRG:Z:g",
        b"r1\t145\tchr1\t105\t60\t20M\t=\t91\t-34\t" + b"C" * 20 + b"\t*\tRG:Z:g\tMC:Z:20M",
    ]
    outputs = []
    original = RegionMasker.rewrite
    calls: list[bytes] = []

    def counted(self: RegionMasker, line: bytes, *rest: object, **named: object) -> bytes | None:
        calls.append(line)
        return original(self, line, *rest, **named)  # type: ignore[arg-type]

    monkeypatch.setattr(RegionMasker, "rewrite", counted)
    request = RegionRequest(beds=[str(tmp_path / "regions.bed")], flank=0)
    for one_by_one in (False, True):
        calls.clear()
        report = Report("sam-mask-regions")
        text = b"".join(mask_regions([(1, whole_lines(lines))], request, None, False, "in.sam", report, one_by_one=one_by_one))
        outputs.append((text, list(report.counts.items())))
        assert len(calls) == (2 if one_by_one else 0)
    assert outputs[0] == outputs[1]
    masked = outputs[0][0].splitlines()[-2:]
    assert masked[0].split(b"\t")[9] == b"A" * 10 + b"N" * 10 and masked[0].split(b"\t")[10] == b"I" * 10 + b"#" * 10
    assert masked[0].split(b"\t")[11:] == [b"RG:Z:g"]  # AS scored on the bases, MC of a mate in the region: gone
    assert masked[1].split(b"\t")[9:] == [b"N" * 16 + b"C" * 4, b"*", b"RG:Z:g"]
