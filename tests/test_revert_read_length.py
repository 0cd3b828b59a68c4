"""sam-revert-germline keeps every read's length: a filled deletion or a removed insertion must not
show in how many bases a read has, nor in its TLEN, or the read tells the germline indel genotype."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import random
from collections import Counter
from pathlib import Path

import pysam
import pytest
from genoscrub.cigar import format_cigar, match_op, parse_cigar, query_length, reference_length
from genoscrub.record_reverter import fitted_template_length
from genoscrub.revert import (
    CLIP_MARGIN,
    MASKED_QUALITY,
    MAX_SHIFT,
    MOVED_TOO_FAR,
    Reverted,
    Windows,
    borrowed_qualities,
    keyed_sha256,
    moved_start,
    revert_alignment,
    rewrite_mate_cigar,
)
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.conftest import run_command
from tests.test_sam_revert_germline import REFERENCE, alignments, build_read, ops

KEY = b"a draw key for the tests, 32 b!!"
OTHER_KEY = b"another draw key for the tests!!"


def drawn_one_by_one(qualities: bytes, start: int, end: int, count: int, key: bytes) -> bytes:
    """borrowed_qualities' draw written out: HMAC-SHA-256(key, place as 8 bytes little-endian +
    QUAL), then SHAKE-256 of that digest, read a byte at a time (two for a pool of more than 255,
    little-endian), each masked to the bits of the pool's size; one below the size picks a quality."""
    pool = qualities[max(0, start) : max(0, end)]
    if not pool:
        return bytes((MASKED_QUALITY,)) * count
    seed = hmac.new(key, max(0, start).to_bytes(8, "little") + qualities, hashlib.sha256).digest()
    stream = seed + hashlib.shake_256(seed).digest(4096)
    step = 1 if len(pool) < 256 else 2
    chosen = bytearray()
    for at in range(0, len(stream), step):
        if len(chosen) == count:
            break
        draw = int.from_bytes(stream[at : at + step], "little") % (1 << len(pool).bit_length())
        if draw < len(pool):
            chosen.append(pool[draw])
    return bytes(chosen)


@settings(max_examples=300, deadline=None)
@example(bytes(range(256)) * 2, 0, 300, 40, b"a pool of 300 qualities")
@given(st.binary(max_size=300), st.integers(-5, 300), st.integers(0, 300), st.integers(0, 300), st.binary(min_size=16, max_size=40))
def test_borrowed_qualities_are_drawn_by_the_keyed_hash(qualities: bytes, start: int, end: int, count: int, key: bytes) -> None:
    """borrowed_qualities draws by HMAC-SHA-256 of the place and QUAL with the key, and past its 32
    bytes by SHAKE-256 of it (``count`` up to 300: a deletion of 300 bases needs about 600 bytes),
    two bytes a draw from a pool of more than 255."""
    assert borrowed_qualities(qualities, start, end, count, key) == drawn_one_by_one(qualities, start, end, count, key)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=150), st.binary(max_size=300))
def test_the_keyed_hash_of_the_pads_worked_out_once_is_hmac_sha256(key: bytes, message: bytes) -> None:
    """keyed_sha256 (the key's padded hashes worked out once, copied per message) is
    ``hmac.digest``: keys shorter than SHA-256's block, as long, and longer (hashed first)."""
    assert keyed_sha256(key).digest(message) == hmac.digest(key, message, "sha256")
    assert keyed_sha256(key).digest(message) == hmac.digest(key, message, "sha256")  # the pads are copied, not used up


def test_borrowed_qualities_are_a_uniform_draw_and_another_key_draws_others() -> None:
    """Each quality of the pool is drawn as often as the others (40 values, 20,000 draws: each
    within 30 % of 500), and a second key draws other values (the draws of two keys agree about as
    often as two independent draws from 40 values do, 1 in 40)."""
    pool = bytes(range(40, 80))
    drawn = Counter[int]()
    agree = 0
    for number in range(2000):
        qualities = pool + number.to_bytes(4, "little")
        one = borrowed_qualities(qualities, 0, 40, 10, KEY)
        assert borrowed_qualities(qualities, 0, 40, 10, KEY) == one  # the same read, the same draw
        drawn.update(one)
        agree += sum(a == b for a, b in zip(one, borrowed_qualities(qualities, 0, 40, 10, OTHER_KEY), strict=True))
    assert set(drawn) == set(pool) and all(350 <= drawn[value] <= 650 for value in pool), drawn
    assert agree < 2 * 20000 / 40, agree


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
    out = run_command("sam-revert-germline", "-q", "-r", "ref.fa", "-v", "germ.vcf", "-o", "out.sam", "in.sam", cwd=tmp_path)
    assert out.returncode == 0, out.stderr.decode()
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


CLIPS = st.lists(st.tuples(st.sampled_from(b"SSH"), st.integers(1, 12)), max_size=2).map(
    lambda parts: sorted(parts, key=lambda part: part[0] != ord("H"))  # a hard clip outside a soft one
)


@settings(max_examples=300, deadline=None)
@given(alignments, CLIPS, CLIPS, st.lists(st.tuples(st.integers(0, 90), st.integers(1, 8)), max_size=4), st.integers(0, 1000))
def test_a_clip_at_a_window_becomes_reference_bases_and_the_mate_sees_the_same_cigar(
    alignment: tuple[int, list[tuple[int, int]]], leading: list[tuple[int, int]], trailing: list[tuple[int, int]],
    spans: list[tuple[int, int]], seed: int,
) -> None:
    """A clip whose projection (plus ``CLIP_MARGIN``) touches a germline window goes, soft and hard
    alike, and the length rule gives the read as many reference bases after its end: the read keeps
    its length, hard clips counted (what a non-carrier's read has), no clip left touches a window,
    a second run changes nothing, and the mate computes the same CIGAR from ``MC`` alone. A removed
    left clip is aligned before POS, across the windows taken as germline deletions, and the mate
    computes the same new POS from ``MC`` and PNEXT (``moved_start``)."""
    start, parts = alignment
    rng = random.Random(seed)
    body, _ = build_read(start, [part for part in parts if part[0] != ord("S")] or [(ord("M"), 5)], rng)
    operations = [*leading, *body, *reversed(trailing)]
    soft = sum(length for op, length in operations if op == ord("S"))
    hard = sum(length for op, length in operations if op == ord("H"))
    sequence = bytes(rng.choice(b"ACGT") for _ in range(sum(length for op, length in operations if op in b"MIS")))
    qualities = bytes(rng.randrange(33, 74) for _ in sequence)
    windows = sorted((a, a + b) for a, b in spans)
    cigar = format_cigar(operations)
    reference = REFERENCE + b"N" * 64
    changes = sorted(((a, b, 0) for a, b in windows), key=lambda change: change[1], reverse=True)
    result = revert_alignment(start, operations, sequence, qualities, reference, 0, windows, clip_windows=windows, changes=changes)
    mate_view = rewrite_mate_cigar(start, cigar, windows, clip_windows=windows, changes=changes)
    if not isinstance(result, Reverted):
        assert mate_view == result
        return
    assert mate_view == format_cigar(result.operations)
    original, start = start, result.position if result.position >= 0 else start  # a removed left clip moves POS
    assert moved_start(original, operations, windows, changes) == start
    left_hard = sum(length for op, length in result.operations if op == ord("H"))
    assert len(result.sequence) == len(result.qualities) == len(sequence) + hard - left_hard
    assert result.clip_bases_aligned == soft + hard - sum(length for op, length in result.operations if op in b"SH")
    shape = parse_cigar(format_cigar(result.operations))
    assert shape is not None
    touches = Windows(windows).touches
    leading_left = sum(length for _, length in itertools.takewhile(lambda item: item[0] in b"SH", result.operations))
    trailing_left = sum(length for _, length in itertools.takewhile(lambda item: item[0] in b"SH", reversed(result.operations)))
    end = start + shape.reference_length
    assert not (leading_left and touches(start - leading_left - CLIP_MARGIN, start))
    assert not (trailing_left and touches(end, end + trailing_left + CLIP_MARGIN))
    again = revert_alignment(
        start, result.operations, result.sequence, result.qualities, reference, 0, windows, clip_windows=windows
    )
    assert isinstance(again, Reverted) and again.operations == result.operations and not again.clip_bases_aligned


def test_clips_beside_a_deletion_become_the_reference_a_non_carrier_reads() -> None:
    """bwa mem clips a deletion a few bases from a read's end: the carrier's ``17M3S`` ending where
    the deletion starts and ``3S17M`` starting where it ends, against a non-carrier's ``20M``. Both
    become ``20M``: the right clip's bases replaced by the reference after the alignment's end,
    their qualities borrowed; the left clip's aligned before POS across the deletion, where a
    non-carrier's read of the fragment starts (``3S17M`` at 50 becomes ``20M`` at 37), and with
    no deletion there (an SNV's window) only by its own length; a clip away from the window only
    keeps the mask rule."""
    window = [(40, 50)]  # a germline deletion of 40-49
    clipped = REFERENCE[20:40] + REFERENCE[50:53]
    right = revert_alignment(20, ops(b"20M3S"), clipped, b"ABCDEFGHIJKLMNOPQRSTUVW", REFERENCE, 0, window, clip_windows=window)
    assert isinstance(right, Reverted) and format_cigar(right.operations) == b"23M"
    assert right.sequence == REFERENCE[20:43] and right.clip_bases_aligned == 3 and right.bases_added_to_length == 3
    assert set(right.qualities[20:]) <= set(b"ABCDEFGHIJKLMNOPQRST")
    deletion = [(40, 50, 0)]
    carrier = REFERENCE[37:40] + REFERENCE[50:67]
    left = revert_alignment(50, ops(b"3S17M"), carrier, b"I" * 20, REFERENCE, 0, window, clip_windows=window, changes=deletion)
    assert isinstance(left, Reverted) and format_cigar(left.operations) == b"20M" and left.sequence == REFERENCE[37:57]
    assert left.position == 37 == moved_start(50, ops(b"3S17M"), window, deletion)
    assert rewrite_mate_cigar(50, b"3S17M", window, clip_windows=window, changes=deletion) == b"20M"
    snv = revert_alignment(50, ops(b"3S17M"), carrier, b"I" * 20, REFERENCE, 0, window, clip_windows=window)
    assert isinstance(snv, Reverted) and format_cigar(snv.operations) == b"20M" and snv.sequence == REFERENCE[47:67]
    assert snv.position == 47 == moved_start(50, ops(b"3S17M"), window)
    hard = revert_alignment(
        50, ops(b"5H3S12M"), REFERENCE[37:40] + REFERENCE[50:62], b"I" * 15, REFERENCE, 0, window, clip_windows=window, changes=deletion
    )
    assert isinstance(hard, Reverted) and format_cigar(hard.operations) == b"20M" and hard.clip_bases_aligned == 8
    assert hard.position == 32 and hard.sequence == REFERENCE[32:52]
    assert rewrite_mate_cigar(50, b"5H3S12M", window, clip_windows=window, changes=deletion) == b"20M"
    far_window, long_deletion = [(5000 - MAX_SHIFT - 10, 5000)], [(5000 - MAX_SHIFT - 10, 5000, 0)]  # a move past MAX_SHIFT: removed
    moved = revert_alignment(
        5000, ops(b"3S17M"), b"A" * 20, b"I" * 20, b"A" * 6000, 0, far_window, clip_windows=far_window, changes=long_deletion
    )
    assert moved == MOVED_TOO_FAR == rewrite_mate_cigar(5000, b"3S17M", far_window, clip_windows=far_window, changes=long_deletion)
    far = revert_alignment(70, ops(b"3S17M"), REFERENCE[67:87], b"I" * 20, REFERENCE, 0, window, clip_windows=window)
    assert isinstance(far, Reverted) and format_cigar(far.operations) == b"3S17M" and not far.changed
    masked = revert_alignment(50, ops(b"3S17M"), REFERENCE[37:40] + REFERENCE[50:67], b"I" * 20, REFERENCE, 0, window)
    assert isinstance(masked, Reverted) and format_cigar(masked.operations) == b"3S17M"  # no clip windows: masked
    assert masked.sequence[:3] == b"NNN"


def carrier_and_non_carrier_reads(contig: str, point: int, length: int, read_length: int, spans: bool = True) -> dict[str, list[str]]:
    """SAM records of a carrier of a germline deletion of ``contig[point:point + length]`` and of a
    non-carrier, one read each at every POS an aligner gives a read near the deletion: the
    carrier's read as bwa mem writes it (``xM yS`` for a read ending up to 5 bases past the
    deletion, ``yS xM`` starting at its end for a read starting up to 5 bases before it, else
    ``xM<length>DyM``), the non-carrier's read of the reference at the same POS, or for ``yS xM``
    where its read of the fragment starts, ``y`` bases before the deletion (without ``spans``,
    the deletion's exact span unknown as with ``--all``: ``y`` bases before POS)."""
    records: dict[str, list[str]] = {"carrier": [], "non-carrier": []}
    after = point + length
    places = [*range(point - read_length + 1, point - read_length + 12), *range(point - 40, point - 30), after, after, after]
    clips = iter(range(1, 6))
    for number, start in enumerate(places):
        if start == after:  # a read whose first bases lie before the deletion, clipped
            left = next(clips)
            cigar, bases = f"{left}S{read_length - left}M", contig[point - left : point] + contig[after : after + read_length - left]
        else:
            inside = point - start
            rest = read_length - inside
            bases = contig[start:point] + contig[after : after + rest]
            cigar = f"{inside}M{rest}S" if rest <= 5 else f"{inside}M{length}D{rest}M"
        quality = "".join(chr(33 + (number * 7 + index * 13) % 40) for index in range(read_length))
        fragment_start = (point if spans else after) - left if start == after else start
        reference_read = (f"{read_length}M", contig[fragment_start : fragment_start + read_length])
        for kind, (written, sequence) in {"carrier": (cigar, bases), "non-carrier": reference_read}.items():
            place = start if kind == "carrier" else fragment_start
            records[kind].append(f"r{number}\t0\tchr1\t{place + 1}\t60\t{written}\t*\t0\t0\t{sequence}\t{quality}\tRG:Z:g")
    return records


@pytest.mark.parametrize("mode", [["-v", "germ.vcf"], ["--all"]])
@pytest.mark.parametrize("one_by_one", [False, True])
def test_a_carrier_and_a_non_carrier_give_reads_of_the_same_cigars_and_places(tmp_path: Path, one_by_one: bool, mode: list[str]) -> None:
    """Reads at the same places of a carrier of a germline 10-base deletion (clipped at its edges
    or spanning it) and of a non-carrier: after sam-revert-germline, the same POS, CIGAR and SEQ,
    so no clip edge piles up at the deletion's two edges (``97M3S`` ending where it starts,
    ``3S97M`` starting where it ends) where a non-carrier's reads have none, with the germline
    list and with ``--all`` (which fills every deletion, so only such clips would still show it);
    the carrier's ``3S97M`` starts where the non-carrier's read of the fragment does, 3 bases
    before the deletion (with ``--all``, which knows no deletion's span, 3 bases before POS);
    and genoscrub-audit --germline finds nothing in the carrier's output."""
    rng = random.Random(11)
    contig = "".join(rng.choice("ACGT") for _ in range(1500))
    (tmp_path / "ref.fa").write_text(">chr1\n" + contig + "\n")
    pysam.faidx(str(tmp_path / "ref.fa"))
    point, length, read_length = 700, 10, 100
    (tmp_path / "germ.vcf").write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1500>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        f"chr1\t{point}\t.\t{contig[point - 1 : point + length]}\t{contig[point - 1]}\t50\tPASS\t.\n"
    )
    header = "@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:chr1\tLN:1500\n@RG\tID:g\tSM:s\n"
    placed = {}
    environment = {"GENOSCRUB_ONE_BY_ONE": "1"} if one_by_one else None
    for kind, lines in carrier_and_non_carrier_reads(contig, point, length, read_length, spans=mode[0] == "-v").items():
        (tmp_path / f"{kind}.sam").write_text(header + "\n".join(lines) + "\n")
        done = run_command("sam-revert-germline", "-q", "-r", "ref.fa", *mode, "-o", f"{kind}.out.sam", f"{kind}.sam", cwd=tmp_path,
                           env=environment)  # fmt: skip
        assert done.returncode == 0, done.stderr.decode()
        with pysam.AlignmentFile(str(tmp_path / f"{kind}.out.sam")) as reads:
            placed[kind] = [(read.reference_start, read.cigarstring, read.query_sequence) for read in reads.fetch(until_eof=True)]
    assert placed["carrier"] == placed["non-carrier"]
    assert {cigar for _, cigar, _ in placed["carrier"]} == {f"{read_length}M"}
    report = tmp_path / "audit.json"
    run_command("genoscrub-audit", "-q", "--germline", "germ.vcf", "-r", "ref.fa", "--report", str(report), "carrier.out.sam", cwd=tmp_path)
    assert json.loads(report.read_text())["files"][0]["findings"]["germline"].get("by_key", {}) == {}


@pytest.mark.parametrize(
    ("operations", "windows"), [([(ord("S"), 12), (ord("M"), 1)], [(0, 1)]), ([(ord("M"), 1), (ord("S"), 12)], [(20, 21)])]
)
def test_one_base_left_with_quality_nine_keeps_its_qualities(operations: list[tuple[int, int]], windows: list[tuple[int, int]]) -> None:
    """A clip removed at a window leaves one aligned base whose quality is Phred 9, written ``*``:
    that is a quality, not an absent QUAL, so the read keeps a quality a base (a QUAL of ``*`` on
    a read of 13 bases would mark the one read reverted). Found by the clip property test above."""
    reference = REFERENCE + b"N" * 64
    length = sum(length for op, length in operations if op in b"MIS")
    at = 12 if operations[0][0] == ord("S") else 0
    qualities = bytes(ord("*") if index == at else ord("(") for index in range(length))
    result = revert_alignment(10, operations, reference[100 : 100 + length], qualities, reference, 0, windows,
                              clip_windows=windows, changes=[(a, b, 0) for a, b in windows])  # fmt: skip
    assert isinstance(result, Reverted) and result.operations == [(ord("M"), 13)]
    assert len(result.qualities) == len(result.sequence) == 13 and b"*" in result.qualities


OPERATIONS = st.lists(st.tuples(st.sampled_from(b"MIDNSHP=X"), st.integers(0, 30)), max_size=8)


@given(OPERATIONS)
def test_the_loops_over_a_cigar_give_what_their_definitions_say(operations: list[tuple[int, int]]) -> None:
    """match_op, query_length and reference_length, loops over the operations (read for every
    record the one-record path rewrites), as the SAM specification defines them."""
    spelled = {op for op, _ in operations}
    assert match_op(operations) == (ord("=") if ord("=") in spelled or (ord("M") not in spelled and ord("X") in spelled) else ord("M"))
    assert query_length(operations) == sum(length for op, length in operations if op in b"MIS=X")
    assert reference_length(operations) == sum(length for op, length in operations if op in b"MDN=X")
    shape = parse_cigar(format_cigar(operations))
    if shape is not None:  # a CIGAR of runs of 0 bases and more
        assert shape.has_clip == bool(spelled & set(b"SH"))
        assert shape.inserted == sum(length for op, length in operations if op == ord("I"))
        assert shape.clipped == sum(length for op, length in operations if op in b"SH")
        assert shape.match_op == match_op(operations)


@settings(max_examples=300, deadline=None)
@given(alignments, st.lists(st.tuples(st.integers(0, 90), st.integers(1, 8)), max_size=4), st.integers(0, 1000), st.booleans())
def test_a_cigar_without_a_clip_gets_the_same_answer_without_clip_windows(
    alignment: tuple[int, list[tuple[int, int]]], spans: list[tuple[int, int]], seed: int, deletions: bool
) -> None:
    """The one-record path gives revert_alignment and rewrite_mate_cigar no clip windows for a CIGAR
    without a soft or hard clip (``CigarShape.has_clip``): clips_aligned removes none there,
    before the rules or after them, so the answer is the same, record and mate alike."""
    start, parts = alignment
    rng = random.Random(seed)
    operations, sequence = build_read(start, [part for part in parts if part[0] != ord("S")] or [(ord("M"), 5)], rng)
    cigar = format_cigar(operations)
    shape = parse_cigar(cigar)
    assert shape is not None and not shape.has_clip
    qualities = bytes(rng.randrange(33, 74) for _ in sequence)
    windows = sorted((a, a + b) for a, b in spans)
    changes = sorted(((a, b, 0) for a, b in windows), key=lambda change: change[1], reverse=True)
    reference = REFERENCE + b"N" * 64
    germline = windows if deletions else None
    with_clips = revert_alignment(
        start, operations, sequence, qualities, reference, 0, windows, deletions=germline, clip_windows=windows, changes=changes
    )
    without = revert_alignment(start, operations, sequence, qualities, reference, 0, windows, deletions=germline, changes=changes)
    assert with_clips == without
    assert rewrite_mate_cigar(start, cigar, windows, deletions=germline, clip_windows=windows, changes=changes) == rewrite_mate_cigar(
        start, cigar, windows, deletions=germline, changes=changes
    )


@settings(max_examples=300, deadline=None)
@given(
    alignments, CLIPS, CLIPS, st.lists(st.tuples(st.integers(0, 90), st.integers(1, 8)), max_size=4), st.integers(0, 1000),
    st.sampled_from(b"M=X"), st.lists(st.integers(0, 8), max_size=2),
)
def test_what_the_caller_knows_of_the_cigar_gives_the_same_read(
    alignment: tuple[int, list[tuple[int, int]]], leading: list[tuple[int, int]], trailing: list[tuple[int, int]],
    spans: list[tuple[int, int]], seed: int, spelling: int, pads: list[int],
) -> None:
    """``revert_alignment`` given the shape's ``match_op`` and ``query_length`` (the one-record path
    passes them) returns what it returns counting them itself, whatever the spelling of the matches
    (``M``, ``=``, ``X``), clips, and ``P`` runs (which ``without_padding`` is now skipped without);
    the mate's view from ``MC`` still agrees."""
    start, parts = alignment
    rng = random.Random(seed)
    body, _ = build_read(start, [part for part in parts if part[0] != ord("S")] or [(ord("M"), 5)], rng)
    body = [(spelling if op == ord("M") and rng.random() < 0.5 else op, length) for op, length in body]
    for at in pads:  # a P between two operations
        body.insert(min(at, len(body)), (ord("P"), 1 + at % 3))
    operations = [*leading, *body, *reversed(trailing)]
    cigar = format_cigar(operations)
    shape = parse_cigar(cigar)
    assert shape is not None
    operations = list(shape.operations)  # P beside P merged, as a CIGAR string reads
    sequence = bytes(rng.choice(b"ACGT") for _ in range(query_length(operations)))
    qualities = bytes(rng.randrange(33, 74) for _ in sequence)
    windows = sorted((a, a + b) for a, b in spans)
    reference = REFERENCE + b"N" * 64
    changes = sorted(((a, b, 0) for a, b in windows), key=lambda change: change[1], reverse=True)
    counted = revert_alignment(
        start, operations, sequence, qualities, reference, 0, windows, clip_windows=windows, changes=changes, quality_key=KEY,
    )
    known = revert_alignment(
        start, operations, sequence, qualities, reference, 0, windows, clip_windows=windows, changes=changes, quality_key=KEY,
        match=shape.match_op, query_bases=shape.query_length,
    )
    assert known == counted
    mate_view = rewrite_mate_cigar(start, cigar, windows, clip_windows=windows, changes=changes)
    if isinstance(counted, Reverted):
        assert mate_view == format_cigar(counted.operations)
    else:
        assert mate_view == counted
